"""The text writers (writers._text: every AppHdr, the pacs.002, the envelope) write byte for byte what their lxml
twins write, for generated values, and what they write passes the official XSDs."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.messages.commands import BusinessHeader
from gateway.messages.identity import MessageId
from gateway.messages.reports import StatusReport
from gateway.messages.writers import app_hdr, app_hdr_text, envelope, in_envelope
from gateway.messages.writers import pacs_002_001_10 as pacs_002_writer
from gateway.messages.writers._text import escaped
from gateway.messages.writers._writing import check_one_in
from tests.message_layer import strategies
from tests.message_layer.support import assert_official, pacs_002

differential = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text with what element content must escape, beside the strategies' own characters (which leave out controls: a
# parser reads \r back as \n, but a writer must still write one that a value holds, as libxml2 does).
_awkward = st.text(st.sampled_from("&<>\r\"'\t\n ]]>aЖ€𝄞"), min_size=1, max_size=12)


def _lxml_text(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode")


@pytest.fixture(autouse=True)
def _every_message_checked() -> None:
    """Every text the writers write here also passes our own schema (the writers assert it)."""
    check_one_in(1)


@pytest.mark.parametrize("text", ["plain", "a&b", "<tag>", "x > y", "line\r\nnext", "\"quoted\" 'too'", "]]>", "Ж"])
def test_content_is_escaped_as_libxml2_escapes_it(text: str) -> None:
    element = etree.Element("X")
    element.text = text
    assert f"<X>{escaped(text)}</X>" == _lxml_text(element)


@differential
@given(st.text(min_size=1).filter(lambda t: all(c in "\t\n\r" or (" " <= c and not 0xD800 <= ord(c) <= 0xDFFF and c not in "\ufffe\uffff") for c in t)))
def test_any_text_xml_carries_is_escaped_as_libxml2_escapes_it(text: str) -> None:
    element = etree.Element("X")
    element.text = text
    assert f"<X>{escaped(text)}</X>" == _lxml_text(element)


def _headers() -> st.SearchStrategy[BusinessHeader]:
    return st.one_of(
        *(strategies.headers("pacs.002.001.10", MessageId("head", "001", "001", v)) for v in ("01", "02", "03"))
    )


@differential
@given(_headers(), st.one_of(st.none(), _awkward))
def test_an_app_hdr_as_text_is_the_lxml_writers_app_hdr(header: BusinessHeader, awkward: str | None) -> None:
    if awkward is not None:
        header = replace(header, business_message_id=awkward[:35], business_service=awkward[-35:])
    assert app_hdr_text(header) == _lxml_text(app_hdr(header))


@differential
@given(strategies.headers("pacs.002.001.10", MessageId("head", "001", "001", "01")))
def test_a_header_head_001_001_01_cannot_express_is_written_in_head_001_001_02_by_both(header: BusinessHeader) -> None:
    three_related = replace(header, related=header.related * 3) if header.related else header
    assert app_hdr_text(three_related) == _lxml_text(app_hdr(three_related))


@differential
@given(strategies.status_reports, st.one_of(st.none(), _awkward))
def test_a_status_report_as_text_is_the_lxml_writers_status_report(report: StatusReport, awkward: str | None) -> None:
    if awkward is not None and report.transactions:
        first = replace(report.transactions[0], original_end_to_end_id=awkward[:35], original_transaction_id=awkward)
        report = replace(report, transactions=(first, *report.transactions[1:]))
    assert pacs_002_writer.write_text(report) == _lxml_text(pacs_002_writer.write(report))


@differential
@given(strategies.headers("pacs.002.001.10"), strategies.status_reports)
def test_a_status_report_in_its_envelope_is_what_the_tree_writers_make_of_it(
    header: BusinessHeader, report: StatusReport
) -> None:
    tree = envelope.to_bytes(envelope.envelope(app_hdr(header), pacs_002_writer.write(report)))
    assert in_envelope(header, pacs_002_writer.write_text(report)) == tree
    assert in_envelope(header, pacs_002_writer.write(report)) == tree


@settings(max_examples=100, deadline=None)
@given(_headers(), strategies.status_reports)
def test_the_text_writers_output_is_valid_against_the_official_xsds(header: BusinessHeader, report: StatusReport) -> None:
    written_header = etree.fromstring(app_hdr_text(header))
    assert_official(written_header, MessageId.from_namespace(etree.QName(written_header).namespace))
    assert_official(etree.fromstring(pacs_002_writer.write_text(report)), pacs_002)

