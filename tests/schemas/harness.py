"""Shared by the schema tests: paths, safe parsing, our schemas and the official oracle, and the mutation engine.

Nothing here derives a schema from the official XSDs. The official XSDs are read at test time, from the external
corpus, only to ask them for a verdict (and, in test_structure.py, to compare definitions).
"""

from __future__ import annotations

import copy
import functools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import xmlschema
from lxml import etree

from tests.corpus import require_corpus

repo_root = Path(__file__).resolve().parents[2]
xsd_dir = repo_root / "xsd"
iso_xsd_dir = xsd_dir / "iso"
common_xsd = iso_xsd_dir / "common.xsd"
envelope_xsd = xsd_dir / "gateway" / "envelope.xsd"
fixtures_dir = Path(__file__).resolve().parent / "fixtures"

iso_namespace_prefix = "urn:iso:std:iso:20022:tech:xsd:"
envelope_namespace = "urn:cryptoruble:gateway:envelope:1"

# The versions of the business application header the gateway reads (TARGET2/T2, the usual, CBPR+).
app_hdr_messages = ("head.001.001.01", "head.001.001.02", "head.001.001.03")
document_messages = (
    "pacs.008.001.08",
    "pacs.009.001.08",
    "pacs.004.001.09",
    "pacs.002.001.10",
    "pacs.028.001.03",
    "camt.056.001.08",
    "camt.029.001.09",
    "camt.050.001.05",
    "camt.025.001.05",
    "camt.060.001.05",
    "camt.052.001.08",
    "camt.053.001.08",
    "camt.054.001.08",
    "admi.002.001.01",
)
messages = (*document_messages, *app_hdr_messages)

# Supported versions of which the external corpus holds no sample at all (its SOURCES.md: "camt.050.001.05 samples:
# none found"; no camt.025.001.05 or camt.053.001.08 either). The corpus test expects none of them and fails when one
# appears, so that this table shrinks and the new units are checked.
corpus_absent_messages = frozenset({"camt.025.001.05", "camt.050.001.05", "camt.053.001.08"})



def namespace_of(message: str) -> str:
    return iso_namespace_prefix + message


def message_of(namespace: str | None) -> str | None:
    """`pacs.008.001.08` for a supported message's namespace; None for any other namespace."""
    if namespace is None or not namespace.startswith(iso_namespace_prefix):
        return None
    message = namespace[len(iso_namespace_prefix) :]
    return message if message in messages else None


def root_name(message: str) -> str:
    return "AppHdr" if message in app_hdr_messages else "Document"


# --------------------------------------------------------------------------------------------------------------
# Parsing and schemas
# --------------------------------------------------------------------------------------------------------------


def safe_parser() -> etree.XMLParser:
    """Every option that matters stated here: no entities, no DTD, no network, no huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
    )


def parse_file(path: Path) -> etree._ElementTree:
    return etree.parse(str(path), safe_parser())


def standalone(element: etree._Element) -> etree._Element:
    """A deep copy of `element` as the root of a document of its own (in-scope namespaces come along)."""
    return etree.ElementTree(copy.deepcopy(element)).getroot()


def _lxml_schema(path: Path) -> etree.XMLSchema:
    # Parsed from the file path so that relative xs:include/xs:import locations resolve next to the file.
    return etree.XMLSchema(parse_file(path))


@functools.cache
def our_schema(message: str) -> etree.XMLSchema:
    return _lxml_schema(iso_xsd_dir / f"{message}.xsd")


@functools.cache
def envelope_schema() -> etree.XMLSchema:
    return _lxml_schema(envelope_xsd)


@functools.cache
def our_xmlschema(message: str) -> xmlschema.XMLSchema10:
    return load_xmlschema(iso_xsd_dir / f"{message}.xsd")


def load_xmlschema(path: Path) -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(path), allow="local", defuse="always", validation="strict")


# --------------------------------------------------------------------------------------------------------------
# The external corpus (official XSDs and samples), never copied into the project
# --------------------------------------------------------------------------------------------------------------


def official_xsd_path(message: str) -> Path:
    return require_corpus() / "xsd" / f"{message}.xsd"


@functools.cache
def _official_schema_at(path: Path) -> etree.XMLSchema:
    return _lxml_schema(path)


def official_schema(message: str) -> etree.XMLSchema:
    return _official_schema_at(official_xsd_path(message))


@functools.cache
def _official_xmlschema_at(path: Path) -> xmlschema.XMLSchema10:
    return load_xmlschema(path)


def official_xmlschema(message: str) -> xmlschema.XMLSchema10:
    return _official_xmlschema_at(official_xsd_path(message))


# --------------------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fixture:
    path: Path
    message: str

    @property
    def name(self) -> str:
        return self.path.name

    def root(self) -> etree._Element:
        return parse_file(self.path).getroot()


def fixtures() -> tuple[Fixture, ...]:
    """Every team-written fixture; the message is the part of the file name before the first dash."""
    found = []
    for path in sorted(fixtures_dir.glob("*.xml")):
        message = path.name.split("-", 1)[0]
        assert message in messages, f"{path.name}: file name must start with a supported message version"
        found.append(Fixture(path, message))
    return tuple(found)


def fixture_named(name: str) -> Fixture:
    (match,) = [f for f in fixtures() if f.name == name]
    return match


# The pair the envelope tests wrap a mutated Document or AppHdr with.
envelope_app_hdr_fixture = "head.001.001.02-sberbank-pacs008.xml"
envelope_document_fixture = "pacs.008.001.08-sberbank-to-vtb-invoice.xml"


def envelope(app_hdr: etree._Element, document: etree._Element) -> etree._Element:
    root = etree.Element(f"{{{envelope_namespace}}}Envelope", nsmap={None: envelope_namespace})
    root.append(copy.deepcopy(app_hdr))
    root.append(copy.deepcopy(document))
    return root


# --------------------------------------------------------------------------------------------------------------
# Where each element of a valid instance sits in the schema
# --------------------------------------------------------------------------------------------------------------

ElementPath = tuple[int, ...]  # element-child indices from the root; () is the root


@dataclass(frozen=True, slots=True)
class Slot:
    """An element of a valid instance, with the declaration (in our schema) that it matched."""

    path: ElementPath
    type_name: str  # ISO type name, e.g. "Max35Text"
    min_occurs: int
    max_occurs: int | None  # None: unbounded
    leaf: bool  # simple content: text, perhaps with attributes
    max_length: int | None  # maxLength facet of a simple type


def element_children(element: etree._Element) -> list[etree._Element]:
    return list(element.iterchildren(etree.Element))


def at(root: etree._Element, path: ElementPath) -> etree._Element:
    element = root
    for index in path:
        element = element_children(element)[index]
    return element


def slots(root: etree._Element, schema: xmlschema.XMLSchema10) -> list[Slot]:
    """Walk a valid instance together with the schema's declarations; wildcard content is not entered."""
    found: list[Slot] = []
    declaration = schema.elements[etree.QName(root).localname]

    def walk(element: etree._Element, xsd_element: xmlschema.XsdElement, path: ElementPath) -> None:
        xsd_type = xsd_element.type
        leaf = xsd_type.is_simple() or xsd_type.has_simple_content()
        simple = xsd_type if xsd_type.is_simple() else None
        found.append(
            Slot(
                path,
                xsd_type.local_name or "",
                xsd_element.min_occurs,
                xsd_element.max_occurs,
                leaf,
                None if simple is None else simple.max_length,
            )
        )
        if leaf:
            return
        particles = {p.name: p for p in xsd_type.content.iter_elements() if isinstance(p, xmlschema.XsdElement)}
        for index, child in enumerate(element_children(element)):
            particle = particles.get(child.tag)
            if particle is not None:
                walk(child, particle, (*path, index))

    walk(root, declaration, ())
    return found


# --------------------------------------------------------------------------------------------------------------
# Mutations
# --------------------------------------------------------------------------------------------------------------

unknown_namespace = "urn:example:not-iso20022"
xsi = "http://www.w3.org/2001/XMLSchema-instance"
wide_char = "Ж"  # two bytes in UTF-8: length facets count characters, and this checks that they do

# Values tried in fields of a given ISO type, valid and invalid alike: the oracle decides which is which.
bic_values = (
    "SABRRUMM",  # 8 characters: valid
    "SABRRUMMXXX",
    "1ABRRUMMXXX",  # digits are allowed in the party prefix
    "SABRRUMMXX",  # 10 characters
    "SABRRUMMXXXX",  # 12 characters
    "sabrrummxxx",  # lower case
    "SABR1UMMXXX",  # digit in the country code
    "SABR RUMMXX",
    "SABRRU0MXXX",  # 0 as the location's first character: a test BIC, refused by the pattern of 2013
    "SABRRUMOXXX",  # O as the location's second character: refused by the pattern of 2013
    "",
)
lexical_values: dict[str, tuple[str, ...]] = {
    "BICFIDec2014Identifier": bic_values,
    "AnyBICDec2014Identifier": bic_values,
    "BICFIIdentifier": bic_values,  # head.001.001.01: the pattern of 2013, refusing some of them
    "AnyBICIdentifier": bic_values,
    "ISODate": ("2026-02-28", "2026-02-30", "2026-3-16", "16.03.2026", "2026-03-16T10:00:00", "2026-03-16+03:00"),
    "ISODateTime": (
        "2026-03-16T10:42:07",  # no time zone: the standard allows it
        "2026-03-16T10:42:07Z",
        "2026-03-16T10:42:07.318456+03:00",
        "2026-03-16",
        "2026-03-16 10:42:07",
        "2026-03-16T25:00:00Z",
        "2026-03-16T10:42:07+3:00",
    ),
    "ISONormalisedDateTime": (  # head.001.001.01: UTC only, with Z
        "2026-03-16T07:42:07Z",
        "2026-03-16T07:42:07.318Z",
        "2026-03-16T10:42:07+03:00",
        "2026-03-16T07:42:07+00:00",
        "2026-03-16T07:42:07",
        "2026-03-16Z",
        "2026-03-16T07:42:07z",
    ),
    "ISOTime": ("18:00:00", "18:00:00.5+03:00", "18:00", "25:00:00"),
    "UUIDv4Identifier": (
        "710f07fa-68d4-4e4f-8ead-ed71dcb8d0ad",
        "710F07FA-68D4-4E4F-8EAD-ED71DCB8D0AD",  # upper case
        "710f07fa-68d4-1e4f-8ead-ed71dcb8d0ad",  # version 1
        "710f07fa-68d4-4e4f-cead-ed71dcb8d0ad",  # wrong variant
        "710f07fa68d44e4f8eaded71dcb8d0ad",
    ),
    "CountryCode": ("RU", "ru", "RUS", "R"),
    "ActiveCurrencyCode": ("RUB", "CNY", "rub", "RUBL", "RU"),
    "ActiveOrHistoricCurrencyCode": ("RUB", "RUR", "rub", "RUBL", "RU"),
    "IBAN2007Identifier": ("RU0204452560040702810412345678901", "ru0204452560", "RU02" + "1" * 31, "RUAB1234"),
    "LEIIdentifier": ("253400ALFAMMRU7Q0088", "253400ALFAMMRU7Q008", "253400alfammru7q0088", "253400ALFAMMRU7Q00AB"),
    "PhoneNumber": ("+7-4951234567", "+7-(495)123-45-67", "84951234567", "+7 495 1234567", "+7-"),
    "TrueFalseIndicator": ("true", "false", "1", "0", "TRUE", "yes"),
    "BatchBookingIndicator": ("true", "0", "no"),
    "YesNoIndicator": ("false", "1", "Y"),
    "Max15NumericText": ("1" * 15, "1" * 16, "12a", "-1", ""),
    "Exact2NumericText": ("07", "7", "123", "ab"),
    "Exact4AlphaNumericText": ("AB12", "ABC", "ABCDE", "AB-1"),
    "DecimalNumber": (
        "123456789012345678",  # 18 digits
        "1234567890123456789",  # 19 digits
        "0.12345678901234567",  # 17 decimals
        "0.123456789012345678",  # 18 decimals
        "-5",
        "1e3",
        "1,5",
    ),
    "Number": ("0", "123456789012345678", "1234567890123456789", "1.5", "-1"),
    "PercentageRate": ("20", "0.0000000001", "12345678901", "123456789012", "1.12345678901"),
    "BaseOneRate": ("1", "0.0000000001", "12345678901", "123456789012", "1.12345678901"),
    "NonNegativeDecimalNumber": ("0", "987971800.00", "-1", "1234567890123456789", "0.123456789012345678"),
    "Max5NumericText": ("1", "12345", "123456", "1a", ""),
    "Max4AlphaNumericText": ("ACSC", "a1", "ACSCX", "AC-1", "", wide_char),
}
amount_values = (
    "0",
    "250000.00",
    "120000.005",  # 3 decimals: allowed by the standard (up to 5); RUB's 2 is a tier (b) rule
    "1.12345",
    "1.123456",  # 6 decimals
    "1234567890123.12345",  # 18 digits
    "123456789012345678",  # 18 digits
    "1234567890123456789",  # 19 digits
    "-1.00",
    "1,00",
    "1e5",
    " 100.00 ",
    "",
)
currency_attribute_values = ("RUB", "USD", "rub", "RUBL", None)  # None: the attribute removed
open_code_values = ("", wide_char * 300)  # codes the standard leaves as any string


@dataclass(frozen=True, slots=True)
class Mutant:
    kind: str
    label: str
    root: etree._Element


def _renamespaced(root: etree._Element, old: str, new: str | None) -> etree._Element:
    result = standalone(root)
    for element in result.iter(etree.Element):
        name = etree.QName(element)
        if name.namespace == old:
            element.tag = name.localname if new is None else f"{{{new}}}{name.localname}"
    return result


class Mutator:
    """Generates mutants of one valid instance. Each mutant changes one thing."""

    def __init__(self, root: etree._Element, message: str, enumerations: dict[str, frozenset[str]]) -> None:
        self.root = standalone(root)
        self.message = message
        self.namespace = namespace_of(message)
        self.slots = slots(self.root, our_xmlschema(message))
        self.enumerations = enumerations  # type name -> union of both schemas' values

    def _copy(self, path: ElementPath) -> tuple[etree._Element, etree._Element]:
        root = standalone(self.root)
        return root, at(root, path)

    def _text(self, slot: Slot, value: str, kind: str) -> Mutant:
        root, element = self._copy(slot.path)
        element.text = value
        return Mutant(kind, f"{self.where(slot.path)} = {value[:40]!r}{'...' if len(value) > 40 else ''}", root)

    def where(self, path: ElementPath) -> str:
        steps = []
        element = self.root
        for index in path:
            element = element_children(element)[index]
            steps.append(f"{etree.QName(element).localname}[{index}]")
        return "/" + "/".join([etree.QName(self.root).localname, *steps])

    def mutants(self) -> Iterator[Mutant]:
        yield from self.drops()
        yield from self.swaps()
        yield from self.repeats()
        yield from self.unknown_elements()
        yield from self.field_values()
        yield from self.xsi_types()
        yield from self.namespaces()

    def drops(self) -> Iterator[Mutant]:
        """Remove each element in turn, mandatory (minOccurs 1 in our schema) and optional alike."""
        for slot in self.slots[1:]:
            root, element = self._copy(slot.path)
            element.getparent().remove(element)
            kind = "drop-mandatory" if slot.min_occurs > 0 else "drop-optional"
            yield Mutant(kind, self.where(slot.path), root)

    def swaps(self) -> Iterator[Mutant]:
        for element in self.root.iter(etree.Element):
            children = element_children(element)
            for index in range(len(children) - 1):
                if children[index].tag == children[index + 1].tag:
                    continue
                path = (*self._path_of(element), index)
                root, first = self._copy(path)
                first.addprevious(element_children(first.getparent())[index + 1])
                yield Mutant("swap", f"{self.where(path)} <-> next", root)

    def repeats(self) -> Iterator[Mutant]:
        """Cardinality: one more occurrence, and exactly max and max+1 occurrences where max is bounded above 1."""
        seen: set[tuple[ElementPath, str]] = set()
        for slot in self.slots[1:]:
            element = at(self.root, slot.path)
            key = (slot.path[:-1], element.tag)
            if key in seen:
                continue
            seen.add(key)
            present = sum(1 for e in element_children(element.getparent()) if e.tag == element.tag)
            totals = {present + 1}
            if slot.max_occurs is not None and slot.max_occurs > 1:
                totals |= {slot.max_occurs, slot.max_occurs + 1}
            for total in sorted(totals):
                if total <= present:
                    continue
                root, target = self._copy(slot.path)
                for _ in range(total - present):
                    target.addnext(copy.deepcopy(target))
                yield Mutant("repeat", f"{self.where(slot.path)} x{total}", root)

    def unknown_elements(self) -> Iterator[Mutant]:
        for slot in self.slots:
            element = at(self.root, slot.path)
            namespace = etree.QName(element).namespace
            inserts = [("first", f"{{{namespace}}}Unknown")]
            if not slot.leaf:
                inserts += [("last", f"{{{namespace}}}Unknown"), ("last", f"{{{unknown_namespace}}}Unknown")]
            for position, tag in inserts:
                root, target = self._copy(slot.path)
                new = etree.Element(tag)
                new.text = "x"
                if position == "first":
                    target.insert(0, new)
                else:
                    target.append(new)
                yield Mutant("unknown-element", f"{self.where(slot.path)} +{position} {tag}", root)
            root, target = self._copy(slot.path)
            target.set("Unknown", "x")
            yield Mutant("unknown-attribute", f"{self.where(slot.path)} @Unknown", root)
        # Content under a lax wildcard (SplmtryData/Envlp, AppHdr/Sgntr) is open: both schemas must accept additions.
        declared = {slot.path for slot in self.slots}
        for element in self.root.iter(etree.Element):
            path = self._path_of(element)
            if path in declared:
                continue
            root, target = self._copy(path)
            target.append(etree.Element(f"{{{unknown_namespace}}}Unknown"))
            yield Mutant("unknown-element", f"{self.where(path)} +last inside wildcard content", root)

    def field_values(self) -> Iterator[Mutant]:
        for slot in self.slots:
            if not slot.leaf:
                continue
            name = slot.type_name
            if name.endswith("CurrencyAndAmount"):
                yield from (self._text(slot, value, "amount") for value in amount_values)
                # An ImpliedCurrencyAndAmount is a simple type: its currency is the context's, and a Ccy is refused.
                implied = name == "ImpliedCurrencyAndAmount"
                for currency in ("RUB",) if implied else currency_attribute_values:
                    root, element = self._copy(slot.path)
                    if currency is None:
                        del element.attrib["Ccy"]
                    else:
                        element.set("Ccy", currency)
                    yield Mutant("amount", f"{self.where(slot.path)} @Ccy={currency!r}", root)
            elif (length := re.fullmatch(r"Max(\d+)Text", name)) is not None:
                bound = int(length.group(1))
                assert slot.max_length == bound, (name, slot.max_length)
                for value in (wide_char * bound, wide_char * (bound + 1), ""):
                    yield self._text(slot, value, "text-length")
            elif name in self.enumerations:
                current = at(self.root, slot.path).text or ""
                values = sorted(self.enumerations[name]) + ["ZZZZ", current.lower(), ""]
                yield from (self._text(slot, value, "code") for value in values)
            elif name.startswith("External") and name.endswith("Code"):
                assert slot.max_length is not None, name
                for value in ("X" * slot.max_length, "X" * (slot.max_length + 1), ""):
                    yield self._text(slot, value, "code")
            elif name in lexical_values:
                kind = "bic" if "BIC" in name else "lexical"
                yield from (self._text(slot, value, kind) for value in lexical_values[name])
            elif name.endswith("Code"):
                yield from (self._text(slot, value, "code") for value in open_code_values)

    def xsi_types(self) -> Iterator[Mutant]:
        """xsi:type on declared elements: its own type, an unrelated type, and types that only common.xsd brings into
        some messages' namespaces. ISO types derive from no other type, so only the first may be valid."""
        names = ("Max140Text", "Party40Choice", "GroupHeader93")
        for slot in self.slots:
            for name in (slot.type_name, *(n for n in names if n != slot.type_name)):
                root, element = self._copy(slot.path)
                # Unprefixed: the QName resolves through the default namespace, which the fixtures set to theirs.
                assert element.nsmap.get(None) == self.namespace, "fixtures declare their namespace as default"
                element.set(f"{{{xsi}}}type", name)
                yield Mutant("xsi-type", f"{self.where(slot.path)} xsi:type={name}", root)

    def namespaces(self) -> Iterator[Mutant]:
        other_version = self.namespace[:-2] + ("07" if not self.namespace.endswith("07") else "06")
        other_message = namespace_of(next(m for m in document_messages if m != self.message))
        for new, label in (
            (other_version, "whole message in an older version's namespace"),
            (other_message, "whole message in another message's namespace"),
            (None, "whole message in no namespace"),
        ):
            yield Mutant("namespace", label, _renamespaced(self.root, self.namespace, new))
        if self.message in app_hdr_messages:  # a header in another version's namespace: the envelope judges it so
            for other in app_hdr_messages:
                if other != self.message:
                    label = f"whole header in {other}'s namespace"
                    yield Mutant("namespace", label, _renamespaced(self.root, self.namespace, namespace_of(other)))
        for slot in self.slots[1:]:
            if len(slot.path) > 2:
                continue
            root, element = self._copy(slot.path)
            element.tag = f"{{{other_version}}}{etree.QName(element).localname}"
            yield Mutant("namespace", f"{self.where(slot.path)} alone in {other_version}", root)

    def _path_of(self, element: etree._Element) -> ElementPath:
        path: list[int] = []
        while (parent := element.getparent()) is not None:
            path.append(element_children(parent).index(element))
            element = parent
        return tuple(reversed(path))


def enumeration_union(message: str) -> dict[str, frozenset[str]]:
    """For every enumerated simple type of the message: the values of our schema and of the official one."""
    union: dict[str, set[str]] = {}
    for schema in (our_xmlschema(message), official_xmlschema(message)):
        for name, xsd_type in schema.types.items():
            values = getattr(xsd_type, "enumeration", None)
            if values:
                union.setdefault(name, set()).update(str(v) for v in values)
    return {name: frozenset(values) for name, values in union.items()}


# --------------------------------------------------------------------------------------------------------------
# Counts, printed at the end of the run (see conftest.py)
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    cases: Counter[str] = field(default_factory=Counter)
    agreed: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)  # by the official schema

    def add(self, kind: str, agreed: bool, official_valid: bool) -> None:
        self.cases[kind] += 1
        self.agreed[kind] += int(agreed)
        self.rejected[kind] += int(not official_valid)


@dataclass
class Report:
    """What the differential and corpus tests found, by message version."""

    differential: dict[str, Tally] = field(default_factory=dict)
    corpus: dict[str, Counter[str]] = field(default_factory=dict)

    def tally(self, message: str) -> Tally:
        return self.differential.setdefault(message, Tally())

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.differential:
            out.append("differential mutations (our schema vs official XSD; 'invalid' = official verdict):")
            for message in sorted(self.differential):
                tally = self.differential[message]
                cases, agreed = sum(tally.cases.values()), sum(tally.agreed.values())
                kinds = ", ".join(
                    f"{kind} {tally.agreed[kind]}/{tally.cases[kind]} ({tally.rejected[kind]} invalid)"
                    for kind in sorted(tally.cases)
                )
                out.append(f"  {message}: {cases} cases, {agreed} agreed -- {kinds}")
        if self.corpus:
            out.append("corpus conformance (units: Document or AppHdr elements found in samples):")
            for message in sorted(self.corpus):
                counts = self.corpus[message]
                out.append(
                    f"  {message}: {counts['found']} found in {counts['files']} files, "
                    f"{counts['valid']} valid, {counts['invalid']} invalid, {counts['agreed']} agreed"
                    + (f" ({counts['renamed']} from renamed wrappers)" if counts["renamed"] else "")
                )
        return out
