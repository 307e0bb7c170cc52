"""unwrap finds AppHdr and Document in each accepted envelope, checks MsgDefIdr, and rejects all else with FF01."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from gateway.messages.envelope import EnvelopeKind, Unwrapped, unwrap
from gateway.messages.identity import (
    MessageId,
    app_hdr_message_id_default,
    app_hdr_message_ids,
    supported_message_ids,
)
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.safe_xml import parse_bounded
from tests.corpus import require_corpus

fixtures = Path(__file__).parent / "fixtures"
gateway_pacs008 = fixtures / "pacs.008.001.08-gateway-envelope.xml"
swift_pacs009 = fixtures / "pacs.009.001.08-swift-envelope.xml"
saa_pacs002 = fixtures / "pacs.002.001.10-saa-datapdu.xml"
busmsg_camt056 = fixtures / "camt.056.001.08-busmsg.xml"
bare_pacs028 = fixtures / "pacs.028.001.03-bare-document.xml"


def _intake(data: bytes, allow_bare_document: bool = False) -> Unwrapped | Rejection:
    parsed = parse_bounded(data)
    if isinstance(parsed, Rejection):
        return parsed
    return unwrap(parsed, allow_bare_document=allow_bare_document)


def _accepted(data: bytes, allow_bare_document: bool = False) -> Unwrapped:
    result = _intake(data, allow_bare_document)
    assert isinstance(result, Unwrapped), result
    return result


def _rejected(data: bytes, allow_bare_document: bool = False) -> Rejection:
    result = _intake(data, allow_bare_document)
    assert isinstance(result, Rejection), result
    assert result.code == "FF01"
    return result


def _edit(path: Path, old: bytes, new: bytes) -> bytes:
    """The fixture with one piece replaced; fails loudly if the piece is not there, so no test edits nothing."""
    data = path.read_bytes()
    assert data.count(old) == 1, old
    return data.replace(old, new)


# The project's own fixtures: one per envelope kind.


@pytest.mark.parametrize(
    ("fixture", "kind", "message"),
    [
        (gateway_pacs008, EnvelopeKind.GATEWAY, "pacs.008.001.08"),
        (swift_pacs009, EnvelopeKind.SWIFT, "pacs.009.001.08"),
        (busmsg_camt056, EnvelopeKind.SWIFT, "camt.056.001.08"),
        (saa_pacs002, EnvelopeKind.SAA_DATA_PDU, "pacs.002.001.10"),
    ],
)
def test_each_envelope_kind_unwraps_to_apphdr_and_document(fixture: Path, kind: EnvelopeKind, message: str) -> None:
    unwrapped = _accepted(fixture.read_bytes())
    assert unwrapped.kind is kind
    assert str(unwrapped.message_id) == message
    assert unwrapped.app_hdr is not None
    assert unwrapped.app_hdr.tag == f"{{{app_hdr_message_id_default.namespace}}}AppHdr"
    assert unwrapped.app_hdr_version == app_hdr_message_id_default
    assert unwrapped.document.tag == f"{{urn:iso:std:iso:20022:tech:xsd:{message}}}Document"


def test_bare_document_is_refused_unless_the_caller_allows_it() -> None:
    rejection = _rejected(bare_pacs028.read_bytes())
    assert (rejection.path, rejection.layer) == ("/Document", Layer.SCHEMA)
    unwrapped = _accepted(bare_pacs028.read_bytes(), allow_bare_document=True)
    assert (unwrapped.kind, unwrapped.app_hdr) == (EnvelopeKind.BARE_DOCUMENT, None)
    assert unwrapped.message_id == MessageId.parse("pacs.028.001.03")


def test_swift_envelope_may_have_no_namespace() -> None:
    data = _edit(swift_pacs009, b'<Envelope xmlns="urn:swift:xsd:envelope" ', b"<Envelope ")
    assert _accepted(data).kind is EnvelopeKind.SWIFT


# AppHdr/MsgDefIdr must name the Document's message.


def test_msgdefidr_naming_another_message_is_refused_with_its_path() -> None:
    data = _edit(gateway_pacs008, b"<MsgDefIdr>pacs.008.001.08</MsgDefIdr>", b"<MsgDefIdr>pacs.009.001.08</MsgDefIdr>")
    rejection = _rejected(data)
    assert rejection.path == "/Envelope/AppHdr/MsgDefIdr"
    assert "pacs.009.001.08" in rejection.text and "pacs.008.001.08" in rejection.text


@pytest.mark.parametrize(
    "msg_def_idr",
    [
        b"<MsgDefIdr> pacs.008.001.08</MsgDefIdr>",
        b"<MsgDefIdr>pacs.008.001.08.ru.01</MsgDefIdr>",
        b"<MsgDefIdr/>",
        b"<MsgDefIdr>pacs.008.001.08</MsgDefIdr><MsgDefIdr>pacs.008.001.08</MsgDefIdr>",
        b"",
    ],
)
def test_msgdefidr_must_be_present_once_and_exact(msg_def_idr: bytes) -> None:
    data = _edit(gateway_pacs008, b"<MsgDefIdr>pacs.008.001.08</MsgDefIdr>", msg_def_idr)
    assert _rejected(data).path.startswith("/Envelope/AppHdr")


# Wrong or missing namespaces.


@pytest.mark.parametrize(
    ("document_namespace", "words"),
    [
        (b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.09", "not supported"),
        (b"urn:swift:xsd:pacs.008.001.08", "not an ISO 20022 message namespace"),
        (b"urn:iso:std:iso:20022:tech:xsd:head.001.001.02", "application header"),
    ],
)
def test_document_in_a_wrong_namespace_is_refused(document_namespace: bytes, words: str) -> None:
    data = _edit(gateway_pacs008, b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08", document_namespace)
    rejection = _rejected(data)
    assert rejection.path == "/Envelope/Document"
    assert words in rejection.text


@pytest.mark.parametrize(
    ("declaration", "words"),
    [(b' xmlns=""', "namespace ''"), (b"", "namespace 'urn:cryptoruble:gateway:envelope:1'")],  # none; inherited
)
def test_document_without_its_own_namespace_is_refused(declaration: bytes, words: str) -> None:
    data = _edit(gateway_pacs008, b' xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"', declaration)
    assert words in _rejected(data).text


def test_bare_document_without_namespace_is_refused_even_when_bare_documents_are_allowed() -> None:
    data = _edit(bare_pacs028, b' xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03"', b"")
    assert _rejected(data, allow_bare_document=True).path == "/Document"


@pytest.mark.parametrize("version", ["head.001.001.01", "head.001.001.02", "head.001.001.03"])
def test_apphdr_in_each_version_the_gateway_reads_is_unwrapped_with_its_version(version: str) -> None:
    data = _edit(gateway_pacs008, b"urn:iso:std:iso:20022:tech:xsd:head.001.001.02", _namespace(version))
    unwrapped = _accepted(data)
    assert unwrapped.app_hdr_version == MessageId.parse(version)
    assert unwrapped.app_hdr is not None and etree.QName(unwrapped.app_hdr).namespace == _namespace(version).decode()
    assert unwrapped.message_id == MessageId.parse("pacs.008.001.08")


@pytest.mark.parametrize("version", ["head.001.001.01", "head.001.001.03"])
def test_msgdefidr_is_checked_in_every_header_version(version: str) -> None:
    data = _edit(gateway_pacs008, b"urn:iso:std:iso:20022:tech:xsd:head.001.001.02", _namespace(version))
    other = data.replace(b"<MsgDefIdr>pacs.008.001.08</MsgDefIdr>", b"<MsgDefIdr>pacs.009.001.08</MsgDefIdr>")
    assert _rejected(other).path == "/Envelope/AppHdr/MsgDefIdr"
    # A MsgDefIdr in another header version's namespace is not this header's: the header holds none.
    foreign = data.replace(b"<MsgDefIdr>", b'<MsgDefIdr xmlns="' + _namespace("head.001.001.02") + b'">')
    assert foreign != data
    assert "exactly one MsgDefIdr; it holds 0" in _rejected(foreign).text


@pytest.mark.parametrize(
    ("header_namespace", "words"),
    [
        (b"urn:iso:std:iso:20022:tech:xsd:head.001.001.04", "head.001.001.04 is not supported"),
        (b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08", "must be one of head.001.001.01, head.001.001.02, head"),
        (b"urn:tch", "not an ISO 20022 message namespace"),
    ],
)
def test_apphdr_in_another_namespace_is_refused(header_namespace: bytes, words: str) -> None:
    data = _edit(gateway_pacs008, b"urn:iso:std:iso:20022:tech:xsd:head.001.001.02", header_namespace)
    rejection = _rejected(data)
    assert rejection.path == "/Envelope/AppHdr"
    assert words in rejection.text


@pytest.mark.parametrize("version", ["head.001.001.01", "head.001.001.02", "head.001.001.03"])
def test_a_document_in_any_header_version_namespace_is_refused(version: str) -> None:
    data = _edit(gateway_pacs008, b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08", _namespace(version))
    rejection = _rejected(data)
    assert rejection.path == "/Envelope/Document"
    assert "application header, not a message" in rejection.text


def _namespace(version: str) -> bytes:
    return f"urn:iso:std:iso:20022:tech:xsd:{version}".encode()


def test_gateway_envelope_in_another_version_is_not_ours() -> None:
    data = _edit(gateway_pacs008, b"urn:cryptoruble:gateway:envelope:1", b"urn:cryptoruble:gateway:envelope:2")
    assert _accepted(data).kind is EnvelopeKind.SWIFT  # any other namespace is SWIFT-style by definition


@pytest.mark.parametrize("root", [b"Message", b"BusMsg"])
def test_swift_names_in_our_own_namespace_are_refused(root: bytes) -> None:
    data = gateway_pacs008.read_bytes().replace(b"<Envelope ", b"<" + root + b" ")
    data = data.replace(b"</Envelope>", b"</" + root + b">")
    assert "not a supported envelope" in _rejected(data).text


# Envelope structure.


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<AppHdr ", b"<Extra/><AppHdr "),  # something before the AppHdr
        (b"</Envelope>", b"<Extra/></Envelope>"),  # something after the Document
        (b"</Document>\n", b"</Document><Document/>"),  # two Documents
        (b"</AppHdr>\n", b"</AppHdr>rogue text"),  # text a reader would silently drop
        (b"</AppHdr>\n", "</AppHdr>\u00a0".encode()),  # a no-break space is text, not XML whitespace
    ],
)
def test_envelope_holds_exactly_apphdr_then_document(old: bytes, new: bytes) -> None:
    assert _rejected(_edit(gateway_pacs008, old, new)).path == "/Envelope"


def test_document_before_apphdr_is_refused() -> None:
    data = gateway_pacs008.read_bytes()
    header = data[data.index(b"<AppHdr") : data.index(b"</AppHdr>") + len(b"</AppHdr>")]
    document = data[data.index(b"<Document") : data.index(b"</Document>") + len(b"</Document>")]
    swapped = data.replace(header, b"@@").replace(document, header).replace(b"@@", document)
    assert "expected exactly AppHdr then Document" in _rejected(swapped).text


def test_envelope_without_apphdr_is_refused() -> None:
    data = gateway_pacs008.read_bytes()
    without = data[: data.index(b"<AppHdr")] + data[data.index(b"</AppHdr>") + len(b"</AppHdr>") :]
    _rejected(without)


def test_datapdu_must_hold_exactly_one_body() -> None:
    data = _edit(saa_pacs002, b"</Saa:DataPDU>", b"<Saa:Body/></Saa:DataPDU>")
    assert _rejected(data).path == "/DataPDU"


def test_legacy_saa_datapdu_namespace_is_refused() -> None:
    data = _edit(saa_pacs002, b"urn:swift:saa:xsd:saa.2.0", b"urn:swift:xsd:saa.mxs.01")
    assert "not a supported envelope" in _rejected(data).text


def test_apphdr_alone_is_refused() -> None:
    data = gateway_pacs008.read_bytes()
    header = data[data.index(b"<AppHdr") : data.index(b"</AppHdr>") + len(b"</AppHdr>")]
    assert _rejected(header, allow_bare_document=True).path == "/AppHdr"


# The external corpus in ../shared/iso20022 (never copied into the project).


@pytest.fixture(scope="module")
def corpus() -> Path:
    return require_corpus()


@pytest.mark.parametrize("fixture", sorted(fixtures.glob("*.xml")), ids=lambda path: path.name)
def test_fixtures_are_valid_against_the_official_xsds(corpus: Path, fixture: Path) -> None:
    unwrapped = _accepted(fixture.read_bytes(), allow_bare_document=True)
    for element in (unwrapped.app_hdr, unwrapped.document):
        if element is None:
            continue
        message_id = MessageId.from_namespace(etree.QName(element).namespace)
        schema = etree.XMLSchema(etree.parse(str(corpus / "xsd" / f"{message_id}.xsd")))
        standalone = etree.fromstring(etree.tostring(element))  # validated as its own document, as the XSD expects
        assert schema.validate(standalone), [str(error) for error in schema.error_log]


def test_every_corpus_sample_unwraps_to_the_expected_document_or_is_rejected(corpus: Path) -> None:
    document_namespaces = {m.namespace for m in supported_message_ids if m not in app_hdr_message_ids}
    outcomes: Counter[tuple[str, str]] = Counter()
    accepted_kinds: Counter[EnvelopeKind] = Counter()
    samples = sorted(path for path in (corpus / "samples").rglob("*") if path.is_file())
    assert samples
    for sample in samples:
        data = sample.read_bytes()
        source = sample.relative_to(corpus / "samples").parts[0]
        # A sample is "of a supported version" when it mentions a supported message namespace anywhere.
        expected = {namespace for namespace in document_namespaces if namespace.encode() in data}
        result = _intake(data, allow_bare_document=True)  # never raises: that is the first thing checked
        if not expected:
            outcomes[source, "other versions: " + ("rejected" if isinstance(result, Rejection) else "accepted")] += 1
        elif isinstance(result, Rejection):
            assert result.code == "FF01"
            outcomes[source, "rejected: " + result.text.split(";")[0][:70]] += 1
        else:
            assert etree.QName(result.document).localname == "Document"
            assert result.message_id.namespace in expected, sample
            outcomes[source, f"accepted: {result.kind.value}"] += 1
            accepted_kinds[result.kind] += 1
    print()
    for (source, outcome), count in sorted(outcomes.items()):
        print(f"{count:4d}  {source:18}  {outcome}")
    # Fedwire's bare Documents and CBPR+'s SWIFT envelopes are valid samples: losing them would be a regression.
    assert accepted_kinds[EnvelopeKind.BARE_DOCUMENT] > 0
    assert accepted_kinds[EnvelopeKind.SWIFT] > 0
    assert not any(source == "wire20022" and outcome.startswith("rejected") for source, outcome in outcomes)
