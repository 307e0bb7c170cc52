"""Each AppHdr version the gateway reads (head.001.001.01, .02, .03) reads to one BusinessHeader, is refused where the
standard refuses that version, and is written back equal and valid against our XSD and the official one."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from gateway.config import app_hdr_version_names
from gateway.messages.commands import BusinessHeader, RelatedHeader
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId, app_hdr_message_ids
from gateway.messages.intake import Refused, check_iso, intake
from gateway.messages.readers import app_hdr_readers, read_app_hdr
from gateway.messages.rejections import Layer
from gateway.messages.reports import StatusReport
from gateway.messages.schemas import compiled
from gateway.messages.writers import answer_app_hdr_version, app_hdr, app_hdr_writers, status_report_message
from tests.message_layer import strategies
from tests.message_layer.support import (
    accepted,
    assert_official,
    context,
    fixture,
    in_envelope,
    message_fixtures,
    official_schema,
    unwrapped,
)
from tests.corpus import require_corpus
from tests.schemas.test_corpus import scan

head_01, head_02, head_03 = (MessageId("head", "001", "001", version) for version in ("01", "02", "03"))
versions = (head_01, head_02, head_03)
msk = timezone(timedelta(hours=3))
cbrf, sberbank = "CBRFRUMMXXX", "SABRRUMMXXX"
invoice = "pacs.008.001.08-sberbank-to-vtb-invoice.xml"  # Sberbank's pacs.008 of 2026-03-16, SABR20260316-0000417
on_day = context(date(2026, 3, 16))
refused_fixtures = message_fixtures / "schema-refused"


def _in_version(app_hdr_xml: bytes, version: MessageId) -> bytes:
    """The AppHdr fixture with every element of its namespace moved into `version`'s."""
    root = etree.fromstring(app_hdr_xml)
    old = etree.QName(root).namespace
    moved = etree.Element(f"{{{version.namespace}}}AppHdr", nsmap={None: version.namespace})
    for child in root:
        moved.append(copy.deepcopy(child))
    for element in moved.iter(etree.Element):
        if etree.QName(element).namespace == old:
            element.tag = f"{{{version.namespace}}}{etree.QName(element).localname}"
    etree.cleanup_namespaces(moved)
    serialised: bytes = etree.tostring(moved)
    return serialised


def _header(data: bytes) -> BusinessHeader:
    header = read_app_hdr(unwrapped(data))
    assert isinstance(header, BusinessHeader), header
    return header


# --------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------


def test_the_first_version_reads_to_the_header_the_later_ones_read_to() -> None:
    header = app_hdr_readers[head_01](etree.fromstring(fixture("head.001.001.01-cbrf-status-related.xml")), None)
    assert header == BusinessHeader(
        from_bic=cbrf,  # Fr/FIId/FinInstnId/BICFI of a Party9Choice, beside its name, address and branch
        to_bic=sberbank,
        business_message_id="CBRF-STS-20260316-0193840",
        message_definition_id="pacs.002.001.10",
        business_service="cbr.crub.01",
        creation_time=datetime(2026, 3, 16, 7, 44, 14, 250_000, tzinfo=UTC),
        copy_duplicate="CODU",
        possible_duplicate=True,
        related=(
            RelatedHeader(
                sberbank, cbrf, "SABR20260316-0000418", "pacs.008.001.08", "cbr.crub.01",
                datetime(2026, 3, 16, 7, 44, 12, tzinfo=UTC),
            ),
        ),
        version=head_01,
    )
    assert isinstance(header, BusinessHeader) and header.path == "/AppHdr"


def test_the_third_version_reads_every_related_header_without_what_it_adds_to_them() -> None:
    header = app_hdr_readers[head_03](etree.fromstring(fixture("head.001.001.03-cbrf-status-related.xml")), None)
    assert isinstance(header, BusinessHeader) and header.version == head_03
    assert header.creation_time == datetime(2026, 3, 16, 10, 46, 3, tzinfo=msk)
    assert header.related == (
        RelatedHeader(
            sberbank, cbrf, "SABR20260316-0000419", "pacs.008.001.08", "cbr.crub.01",
            datetime(2026, 3, 16, 10, 46, 2, 118_000, tzinfo=msk),
        ),
        RelatedHeader(
            sberbank, cbrf, "SABR20260316-0000420", "pacs.028.001.03", None,
            datetime(2026, 3, 16, 10, 46, 2, 900_000, tzinfo=msk),
        ),
    )


# A header each version can carry: UTC time, banks by BICFI, one related header, nothing only one version has.
_common_header = b"""<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">
  <Fr><FIId><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></FIId></Fr>
  <To><FIId><FinInstnId><BICFI>CBRFRUMMXXX</BICFI></FinInstnId></FIId></To>
  <BizMsgIdr>SABR20260316-0000417</BizMsgIdr>
  <MsgDefIdr>pacs.008.001.08</MsgDefIdr>
  <CreDt>2026-03-16T07:42:07Z</CreDt>
  <PssblDplct>true</PssblDplct>
  <Rltd>
    <Fr><FIId><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></FIId></Fr>
    <To><FIId><FinInstnId><BICFI>CBRFRUMMXXX</BICFI></FinInstnId></FIId></To>
    <BizMsgIdr>SABR20260316-0000401</BizMsgIdr>
    <MsgDefIdr>pacs.008.001.08</MsgDefIdr>
    <CreDt>2026-03-16T07:30:00Z</CreDt>
  </Rltd>
</AppHdr>"""


@pytest.mark.parametrize("version", versions, ids=str)
def test_one_header_reads_to_one_value_in_every_version(version: MessageId) -> None:
    data = in_envelope(_in_version(_common_header, version), fixture(invoice))
    message = unwrapped(data)
    assert message.app_hdr_version == version
    assert compiled().validate(message) == []
    earlier = RelatedHeader(
        sberbank, cbrf, "SABR20260316-0000401", "pacs.008.001.08", None, datetime(2026, 3, 16, 7, 30, tzinfo=UTC)
    )
    created = datetime(2026, 3, 16, 7, 42, 7, tzinfo=UTC)
    expected = (sberbank, cbrf, "SABR20260316-0000417", "pacs.008.001.08", None, created, None, True, (earlier,))
    assert _header(data) == BusinessHeader(*expected, version=version)


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("head.001.001.01-sberbank-pacs008-signed.xml", head_01),
        ("head.001.001.02-vtb-pacs009-signed.xml", head_02),
        ("head.001.001.03-sberbank-pacs008-signed.xml", head_03),
    ],
)
def test_a_signed_header_passes_every_layer_in_each_version(name: str, version: MessageId) -> None:
    """Sgntr holds XMLDSig that no schema layer checks (lax, as the official XSDs have it): a signed message is
    accepted, and its signature is no part of the value read."""
    app_hdr_xml = fixture(name)
    if version == head_02:  # VTB's header names a pacs.009: beside Sberbank's pacs.008 it is Sberbank's, unsigned
        app_hdr_xml = app_hdr_xml.replace(b"VTBRRUMMXXX", sberbank.encode()).replace(b"pacs.009", b"pacs.008")
    data = in_envelope(app_hdr_xml, fixture(invoice))
    result = accepted(data, on_day)
    assert result.header is not None and result.header.version == version
    assert result.header.from_bic == sberbank
    assert b"ds:Signature" in data


# --------------------------------------------------------------------------------------------------------------
# Refused where the version's definition refuses it, accepted in a version that allows it
# --------------------------------------------------------------------------------------------------------------

# (fixture, where the schema layer refuses it, a version in which the same header is valid)
refusals = [
    ("head.001.001.01-refused-local-time.xml", "/Envelope/AppHdr/CreDt", head_02),
    ("head.001.001.01-refused-two-related.xml", "/Envelope/AppHdr/Rltd[2]", head_02),
    ("head.001.001.01-refused-market-practice.xml", "/Envelope/AppHdr/MktPrctc", head_03),
    ("head.001.001.01-refused-bic-of-2014.xml", "/Envelope/AppHdr/Fr/FIId/FinInstnId/BICFI", head_02),
    ("head.001.001.02-refused-related-market-practice.xml", "/Envelope/AppHdr/Rltd/MktPrctc", head_03),
    ("head.001.001.03-refused-older-address-type.xml", "/Envelope/AppHdr/Fr/FIId/FinInstnId/PstlAdr/AdrTp", head_01),
]


@pytest.mark.parametrize(("name", "path", "allowing"), refusals, ids=[name for name, _, _ in refusals])
def test_a_header_is_refused_for_what_its_version_lacks(name: str, path: str, allowing: MessageId) -> None:
    app_hdr_xml = (refused_fixtures / name).read_bytes()
    version = MessageId.parse(name.split("-")[0])
    assert version is not None
    result = intake(in_envelope(app_hdr_xml, fixture(invoice)), allow_bare_document=False, context=on_day)
    assert isinstance(result, Refused), result
    first = result.rejections[0]
    assert (first.code, first.layer, first.path) == ("FF01", Layer.SCHEMA, path), result.rejections
    assert result.message_id == MessageId.parse("pacs.008.001.08")
    assert result.reference == "SABR20260316-0000417"  # quoted from the invalid AppHdr all the same
    assert not official_schema(version).validate(etree.fromstring(app_hdr_xml)), "the standard refuses it too"
    moved = _in_version(app_hdr_xml, allowing)
    assert official_schema(allowing).validate(etree.fromstring(moved)), official_schema(allowing).error_log
    assert check_iso(in_envelope(moved, fixture(invoice))) == (MessageId.parse("pacs.008.001.08"), [])


# --------------------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------------------

round_trip = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _written_and_read(version: MessageId, header: BusinessHeader, report: StatusReport) -> Unwrapped:
    message = unwrapped(status_report_message(header, report))
    assert message.app_hdr is not None and message.app_hdr_version == version
    assert compiled().validate(message) == []  # our XSD (the writer asserted it as well)
    assert_official(message.app_hdr, version)  # the official XSD of the version
    assert read_app_hdr(message) == header
    return message


@round_trip
@given(strategies.headers("pacs.002.001.10", head_01), strategies.status_reports)
def test_first_version_round_trip(header: BusinessHeader, report: StatusReport) -> None:
    _written_and_read(head_01, header, report)


@round_trip
@given(strategies.headers("pacs.002.001.10", head_02), strategies.status_reports)
def test_second_version_round_trip(header: BusinessHeader, report: StatusReport) -> None:
    _written_and_read(head_02, header, report)


@round_trip
@given(strategies.headers("pacs.002.001.10", head_03), strategies.status_reports)
def test_third_version_round_trip(header: BusinessHeader, report: StatusReport) -> None:
    _written_and_read(head_03, header, report)


def _answer(version: MessageId, **changes: object) -> BusinessHeader:
    """The gateway's pacs.002 to Sberbank at 10:44:14 Moscow time, related to a pacs.008 sent without an offset."""
    sent = datetime(2026, 3, 16, 10, 42, 7)
    related = RelatedHeader(sberbank, cbrf, "SABR20260316-0000417", "pacs.008.001.08", None, sent)
    created = datetime(2026, 3, 16, 10, 44, 14, tzinfo=msk)
    header = BusinessHeader(cbrf, sberbank, "CR0f9e8d7c", "pacs.002.001.10", None, created, None, None, (related,), version)
    return replace(header, **changes)


def _texts(element: etree._Element, path: str) -> list[str]:
    namespace = etree.QName(element).namespace
    return [found.text or "" for found in element.xpath(path, namespaces={"h": namespace})]


def test_the_first_version_writes_every_time_in_utc() -> None:
    written = app_hdr(_answer(head_01))
    assert etree.QName(written).namespace == head_01.namespace
    assert _texts(written, "h:CreDt") == ["2026-03-16T07:44:14Z"]  # 10:44:14 in Moscow
    assert _texts(written, "h:Rltd/h:CreDt") == ["2026-03-16T10:42:07Z"]  # no offset sent: taken as UTC
    assert_official(written, head_01)
    later = app_hdr(_answer(head_02))
    assert _texts(later, "h:CreDt") == ["2026-03-16T10:44:14+03:00"]  # as given, where the version allows it
    assert _texts(later, "h:Rltd/h:CreDt") == ["2026-03-16T10:42:07"]


related_too = RelatedHeader(sberbank, cbrf, "SABR20260316-0000418", "pacs.028.001.03", None,
                            datetime(2026, 3, 16, 10, 43, tzinfo=msk))


@pytest.mark.parametrize(
    ("what", "changes"),
    [
        ("two related headers", {"related": (*_answer(head_01).related, related_too)}),
        ("a receiver's BIC of 2014", {"to_bic": "SABRRU0MXXX"}),
        ("a related sender's BIC with digits in the first six", {"related": (replace(related_too, from_bic="1ABRRUMMXXX"),)}),
        ("a time of year 1 that UTC cannot hold", {"creation_time": datetime(1, 1, 1, 1, 0, tzinfo=msk)}),
    ],
)
def test_what_the_first_version_cannot_say_is_written_in_the_second(what: str, changes: dict[str, object]) -> None:
    header = _answer(head_01, **changes)
    assert not app_hdr_writers[head_01].expresses(header), what
    written = app_hdr(header)
    assert etree.QName(written).namespace == head_02.namespace
    assert_official(written, head_02)
    assert app_hdr_writers[head_02].expresses(header) and app_hdr_writers[head_03].expresses(header)


def test_every_version_has_a_reader_and_a_writer() -> None:
    assert set(app_hdr_readers) == set(app_hdr_writers) == app_hdr_message_ids == set(versions)
    # and is one a participant may ask for by name in its config (app_hdr_version), each name one of them
    assert {MessageId.parse(name) for name in app_hdr_version_names} == app_hdr_message_ids


@pytest.mark.parametrize(
    ("answering", "configured", "expected"),
    [
        (None, None, head_02),  # nothing to go by: the default
        (head_01, None, head_01),  # the version the bank sent in
        (head_03, None, head_03),
        (head_01, head_03, head_03),  # the bank's configuration wins
        (None, head_01, head_01),
        (head_02, head_01, head_01),
    ],
)
def test_an_answer_is_written_in_the_configured_version_else_the_answered_one_else_the_second(
    answering: MessageId | None, configured: MessageId | None, expected: MessageId
) -> None:
    answered = None if answering is None else _answer(answering)
    assert answer_app_hdr_version(answered, configured) == expected


# --------------------------------------------------------------------------------------------------------------
# The external corpus
# --------------------------------------------------------------------------------------------------------------


def test_every_corpus_header_our_schema_accepts_is_read_by_its_versions_reader() -> None:
    """Every AppHdr in the samples, wherever the envelope put it (TKEY7 puts head.001.001.03 children in an AppHdr
    of its own namespace), read as the gateway reads it when our schema of its version accepts it."""
    read: dict[str, int] = dict.fromkeys(map(str, versions), 0)
    for unit in scan(require_corpus() / "samples").units:
        version = MessageId.parse(unit.message)
        if version not in app_hdr_message_ids or compiled().validate_element(unit.root, version):
            continue
        header = app_hdr_readers[version](unit.root, None)
        assert isinstance(header, BusinessHeader) and header.version == version, (unit.file, header)
        read[unit.message] += 1
    print(read)
    assert all(read.values()), f"a header version has no sample our schema accepts: {read}"
