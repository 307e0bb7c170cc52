"""Headers, status reports, rejects and commands written to bytes read back equal; answers pass the official XSDs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.messages.commands import BusinessHeader, CreditTransfer
from gateway.messages.envelope import EnvelopeKind, Unwrapped, unwrap
from gateway.messages.identity import MessageId
from gateway.messages.readers import admi_002_001_01, pacs_002_001_10, read_app_hdr, read_command
from gateway.messages.rejections import Rejection
from gateway.messages.reports import MessageReject, StatusReport
from gateway.messages.safe_xml import parse_bounded
from gateway.messages.schemas import compiled
from gateway.messages.writers import admi_002_001_01 as admi_writer
from gateway.messages.writers import (
    envelope,
    message_reject_message,
    status_report_message,
)
from gateway.messages.writers import head_001_001_02 as head_writer
from gateway.messages.writers import pacs_002_001_10 as pacs_002_writer
from tests.message_layer import strategies
from tests.message_layer.support import (
    admi_002,
    assert_official,
    head_001,
    pacs_002,
    pacs_004,
    pacs_008,
    pacs_009,
    pacs_028,
)

round_trip = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _received(data: bytes) -> Unwrapped:
    """The bytes through the intake's first three layers: bounded parse, envelope, our schemas."""
    root = parse_bounded(data)
    assert not isinstance(root, Rejection), root
    message = unwrap(root)
    assert isinstance(message, Unwrapped), message
    assert message.kind is EnvelopeKind.GATEWAY
    assert compiled().validate(message) == []
    return message


def _header_back(message: Unwrapped) -> BusinessHeader:
    assert message.app_hdr is not None
    header = read_app_hdr(message)
    assert isinstance(header, BusinessHeader), header
    return header


@round_trip
@given(strategies.headers("pacs.002.001.10"), strategies.status_reports)
def test_status_report_round_trip(header: BusinessHeader, report: StatusReport) -> None:
    message = _received(status_report_message(header, report))
    assert _header_back(message) == header
    assert pacs_002_001_10.read(message) == report


@round_trip
@given(strategies.headers("admi.002.001.01"), strategies.message_rejects)
def test_message_reject_round_trip(header: BusinessHeader, reject: MessageReject) -> None:
    message = _received(message_reject_message(header, reject))
    assert _header_back(message) == header
    assert admi_002_001_01.read(message) == reject


@settings(max_examples=60, deadline=None)
@given(strategies.headers("pacs.002.001.10"), strategies.status_reports, strategies.message_rejects)
def test_writers_output_is_valid_against_the_official_xsds(
    header: BusinessHeader, report: StatusReport, reject: MessageReject
) -> None:
    assert_official(head_writer.write(header), head_001)
    assert_official(pacs_002_writer.write(report), pacs_002)
    assert_official(admi_writer.write(reject), admi_002)


def _command_round_trip(command: Any, message_id: MessageId, document: Callable[[Any], etree._Element]) -> None:
    header = BusinessHeader(
        from_bic="SABRRUMMXXX",
        to_bic="CBRFRUMMXXX",
        business_message_id="ROUND-TRIP",
        message_definition_id=str(message_id),
        business_service=None,
        creation_time=command.group.creation_time,
        copy_duplicate=None,
        possible_duplicate=None,
        related=(),
        version=head_001,
    )
    written = document(command)
    assert compiled().validate_element(written, message_id) == []
    data = envelope.to_bytes(envelope.envelope(head_writer.write(header), written))
    message = _received(data)
    assert _header_back(message) == header
    assert read_command(message) == command


@round_trip
@given(strategies.credit_transfers)
def test_pacs008_round_trip(command: Any) -> None:
    _command_round_trip(command, pacs_008, strategies.credit_transfer_document)


@round_trip
@given(strategies.institution_transfers)
def test_pacs009_round_trip(command: Any) -> None:
    _command_round_trip(command, pacs_009, strategies.institution_transfer_document)


@round_trip
@given(strategies.payment_returns)
def test_pacs004_round_trip(command: Any) -> None:
    _command_round_trip(command, pacs_004, strategies.payment_return_document)


@round_trip
@given(strategies.status_requests)
def test_pacs028_round_trip(command: Any) -> None:
    _command_round_trip(command, pacs_028, strategies.status_request_document)


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_transaction_xml_reads_back_as_the_same_transaction(data: st.DataObject) -> None:
    """The kept transaction XML, forwarded alone inside a Document, is read as the same transaction."""
    command = data.draw(strategies.credit_transfers)
    document = strategies.credit_transfer_document(command)
    message = Unwrapped(None, document, EnvelopeKind.BARE_DOCUMENT, pacs_008)
    read = read_command(message)
    assert isinstance(read, CreditTransfer) and read == command
    for tx in read.transactions:
        forwarded = etree.fromstring(etree.tostring(document))
        body = forwarded[0]
        for old in body.findall(f"{{{pacs_008.namespace}}}CdtTrfTxInf"):
            body.remove(old)
        body.append(etree.fromstring(tx.xml))
        again = read_command(Unwrapped(None, forwarded, EnvelopeKind.BARE_DOCUMENT, pacs_008))
        assert isinstance(again, CreditTransfer) and again.transactions == (tx,)
