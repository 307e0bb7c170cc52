"""Every supported AppHdr and Document in the external sample corpus gets the official XSD's verdict from our schema."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from tests.schemas.harness import (
    Report,
    corpus_absent_messages,
    document_messages,
    element_children,
    iso_namespace_prefix,
    message_of,
    messages,
    namespace_of,
    official_schema,
    our_schema,
    parse_file,
    require_corpus,
    root_name,
    standalone,
)


@dataclass(frozen=True, slots=True)
class Unit:
    """One AppHdr or Document found in a sample file, as a document of its own."""

    file: Path
    message: str
    root: etree._Element
    # Taken from a wrapper that renamed the Document (TCH RTP: <CreditTransfer xmlns="urn:tch">) or the AppHdr (TCH
    # RTP, TKEY7: <AppHdr xmlns="urn:tch"> holding head.001.001.01 or .03 children).
    renamed: bool


@dataclass(frozen=True, slots=True)
class Scan:
    units: tuple[Unit, ...]
    files: int
    unparsable: tuple[Path, ...]


def _in_iso(element: etree._Element) -> bool:
    return (etree.QName(element).namespace or "").startswith(iso_namespace_prefix)


def units_in(path: Path) -> list[Unit]:
    """AppHdr and Document elements of a supported version, wherever the envelope put them (bare, SWIFT Envelope,
    DataPDU, BusMsg, FedNow wrappers...), found by local name and namespace; nested ISO content (e.g. inside
    SplmtryData) is part of its unit, not a unit of its own. A non-ISO wrapper whose children all sit in one
    supported Document namespace (TCH renames Document) is re-rooted under a Document of that namespace; a non-ISO
    AppHdr whose children all sit in one supported header namespace (TCH, TKEY7) under an AppHdr of it."""
    found: list[Unit] = []
    for element in parse_file(path).getroot().iter(etree.Element):
        if _in_iso(element) or any(_in_iso(ancestor) for ancestor in element.iterancestors()):
            message = message_of(etree.QName(element).namespace)
            outermost = not any(_in_iso(ancestor) for ancestor in element.iterancestors())
            if message is not None and outermost and etree.QName(element).localname == root_name(message):
                found.append(Unit(path, message, standalone(element), renamed=False))
            continue
        children = element_children(element)
        namespaces = {etree.QName(child).namespace for child in children}
        if len(namespaces) != 1:
            continue
        message = message_of(namespaces.pop())
        if message is None or any(etree.QName(child).localname in ("Document", "AppHdr") for child in children):
            continue
        if message in document_messages:
            name = "Document"
        elif etree.QName(element).localname == "AppHdr":  # a header's children, in a wrapper named as the header
            name = "AppHdr"
        else:
            continue
        unit = etree.Element(f"{{{namespace_of(message)}}}{name}", nsmap={None: namespace_of(message)})
        unit.extend(standalone(child) for child in children)
        found.append(Unit(path, message, standalone(unit), renamed=True))
    return found


@functools.cache
def scan(samples: Path) -> Scan:
    units: list[Unit] = []
    unparsable: list[Path] = []
    files = sorted(path for path in samples.rglob("*") if path.is_file())
    for path in files:
        try:
            units.extend(units_in(path))
        except etree.XMLSyntaxError:
            unparsable.append(path)
    return Scan(tuple(units), len(files), tuple(unparsable))


def _scan() -> Scan:
    samples = require_corpus() / "samples"
    if not samples.is_dir():
        pytest.fail(f"the corpus at {samples.parent} has no samples/ folder", pytrace=False)
    return scan(samples)


@pytest.mark.parametrize("message", messages)
def test_corpus_units_agree_with_official_xsd(message: str, report: Report) -> None:
    result = _scan()
    units = [unit for unit in result.units if unit.message == message]
    counts: Counter[str] = Counter(files=len({unit.file for unit in units}))
    disagreements: list[str] = []
    samples = require_corpus() / "samples"
    for unit in units:
        official_verdict = bool(official_schema(message).validate(unit.root))
        our_verdict = bool(our_schema(message).validate(unit.root))
        counts["found"] += 1
        counts["renamed"] += int(unit.renamed)
        counts["valid" if official_verdict else "invalid"] += 1
        if our_verdict == official_verdict:
            counts["agreed"] += 1
        else:
            disagreements.append(f"{unit.file.relative_to(samples)}: ours {our_verdict}, official {official_verdict}")
    report.corpus[message] = counts
    print(
        f"{message}: {counts['found']} found, {counts['valid']} valid, {counts['invalid']} invalid, "
        f"{counts['agreed']} agreed"
    )
    assert not disagreements, "\n".join(disagreements)
    if message in corpus_absent_messages:
        assert counts["found"] == 0, f"the corpus now has {message} units: remove it from corpus_absent_messages"
    else:
        assert counts["found"] > 0, f"no {message} unit found in {samples}: the corpus or the scanner changed"


def test_corpus_files_parse() -> None:
    """Every sample is well-formed XML: a file the scanner cannot read would hide its units."""
    result = _scan()
    assert result.files > 0
    assert not result.unparsable, [str(path) for path in result.unparsable]
