"""Shared by the message-layer tests: fixtures, rule contexts, the official XSDs (CI=true fails without them), helpers."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from lxml import etree

from gateway.messages.envelope import Unwrapped, unwrap
from gateway.messages.identity import MessageId
from gateway.messages.intake import Accepted, Refused, intake
from gateway.messages.rejections import Rejection
from gateway.messages.rules import RuleContext
from gateway.messages.safe_xml import parse_bounded
from tests.corpus import require_corpus

repo_root = Path(__file__).resolve().parents[2]
schema_fixtures = repo_root / "tests" / "schemas" / "fixtures"
message_fixtures = repo_root / "tests" / "messages" / "fixtures"


central_bank = "CBRFRUMMXXX"
sberbank, vtb, alfa = "SABRRUMMXXX", "VTBRRUMMXXX", "ALFARUMMXXX"
banks = frozenset({sberbank, vtb, alfa})

# The message versions of the payments family, as this layer reads or writes them.
pacs_008 = MessageId("pacs", "008", "001", "08")
pacs_009 = MessageId("pacs", "009", "001", "08")
pacs_004 = MessageId("pacs", "004", "001", "09")
pacs_028 = MessageId("pacs", "028", "001", "03")
pacs_002 = MessageId("pacs", "002", "001", "10")
admi_002 = MessageId("admi", "002", "001", "01")
head_001 = MessageId("head", "001", "001", "02")
payments_family = (pacs_008, pacs_009, pacs_004, pacs_028, pacs_002, admi_002, head_001)


def context(
    today: date,
    *,
    participants: frozenset[str] = banks,
    suspended: frozenset[str] = frozenset(),
    days_ahead: int = 0,
    authenticated: str | None = None,
) -> RuleContext:
    return RuleContext(
        today=today,
        central_bank_bic=central_bank,
        participants=participants - suspended,
        suspended_participants=suspended,
        settlement_days_ahead_max=days_ahead,
        authenticated_bic=authenticated,
    )


def fixture(name: str) -> bytes:
    for folder in (schema_fixtures, message_fixtures):
        if (folder / name).is_file():
            return (folder / name).read_bytes()
    raise AssertionError(f"no fixture {name}")


def edited(data: bytes, old: str, new: str, count: int = 1) -> bytes:
    """The fixture with a piece replaced exactly `count` times; fails if the piece is not there that often."""
    old_bytes, new_bytes = old.encode(), new.encode()
    assert data.count(old_bytes) == count, (old, data.count(old_bytes))
    return data.replace(old_bytes, new_bytes)


def unwrapped(data: bytes) -> Unwrapped:
    root = parse_bounded(data)
    assert not isinstance(root, Rejection), root
    result = unwrap(root, allow_bare_document=True)
    assert isinstance(result, Unwrapped), result
    return result


def accepted(data: bytes, rule_context: RuleContext) -> Accepted:
    result = intake(data, allow_bare_document=True, context=rule_context)
    assert isinstance(result, Accepted), result
    return result


def refused(data: bytes, rule_context: RuleContext) -> Refused:
    result = intake(data, allow_bare_document=True, context=rule_context)
    assert isinstance(result, Refused), result
    return result


def in_envelope(app_hdr: bytes, document: bytes) -> bytes:
    """A standalone AppHdr and Document fixture put together in the gateway's envelope."""
    parts = [etree.fromstring(data) for data in (app_hdr, document)]
    root = etree.Element(
        "{urn:cryptoruble:gateway:envelope:1}Envelope", nsmap={None: "urn:cryptoruble:gateway:envelope:1"}
    )
    root.extend(parts)
    serialised: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return serialised


# --------------------------------------------------------------------------------------------------------------
# The external corpus: official XSDs and samples, never copied into the project
# --------------------------------------------------------------------------------------------------------------


@functools.cache
def _official_schema_at(path: Path) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def official_schema(message_id: MessageId) -> etree.XMLSchema:
    return _official_schema_at(require_corpus() / "xsd" / f"{message_id}.xsd")


def assert_official(element: etree._Element, message_id: MessageId) -> None:
    schema = official_schema(message_id)
    assert schema.validate(element), f"{message_id}: {schema.error_log}"


def corpus_units(message_ids: tuple[MessageId, ...]) -> Iterator[tuple[Path, MessageId, etree._Element]]:
    """Every outermost AppHdr or Document of the given versions in the corpus samples, wherever the sample's
    envelope put it, as the root of a document of its own."""
    samples = require_corpus() / "samples"
    wanted = {message_id.namespace: message_id for message_id in message_ids}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    for path in sorted(item for item in samples.rglob("*") if item.is_file()):
        try:
            root = etree.parse(str(path), parser).getroot()
        except etree.XMLSyntaxError:
            continue
        for element in root.iter(etree.Element):
            name = etree.QName(element)
            message_id = wanted.get(name.namespace or "")
            if message_id is None or name.localname != ("AppHdr" if message_id == head_001 else "Document"):
                continue
            if any(
                (etree.QName(up).namespace or "").startswith("urn:iso:std:iso:20022") for up in element.iterancestors()
            ):
                continue
            yield path, message_id, etree.fromstring(etree.tostring(element))


# The camt answers the gateway writes; camt.029 it also reads (a creditor agent's answer, routed back).
camt_029 = MessageId("camt", "029", "001", "09")
camt_025 = MessageId("camt", "025", "001", "05")
camt_052 = MessageId("camt", "052", "001", "08")
camt_053 = MessageId("camt", "053", "001", "08")
camt_054 = MessageId("camt", "054", "001", "08")
