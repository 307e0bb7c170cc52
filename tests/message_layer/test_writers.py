"""Writers' output for answers to real refusals validates against the official ISO XSDs and against ours."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from lxml import etree

from gateway.messages.commands import (
    Amount,
    BusinessHeader,
    CreditTransfer,
    OriginalMessage,
    RelatedHeader,
)
from gateway.messages.envelope import EnvelopeKind
from gateway.messages.iso_types import xml_safe
from gateway.messages.readers import head_001_001_02 as head_reader
from gateway.messages.reports import (
    GroupStatus,
    PaymentStatus,
    StatusCount,
    StatusReport,
    TransactionStatus,
    additional_info_chars_max,
    message_reject,
    no_reference,
    status_reason,
    status_reason_for,
)
from gateway.messages.schemas import compiled
from gateway.messages.writers import (
    admi_002_001_01,
    envelope,
    head_001_001_02,
    message_reject_message,
    pacs_002_001_10,
    status_report_message,
)
from tests.message_layer.support import (
    admi_002,
    alfa,
    assert_official,
    central_bank,
    context,
    edited,
    fixture,
    head_001,
    pacs_002,
    refused,
    unwrapped,
)

msk = timezone(timedelta(hours=3))
now = datetime(2026, 3, 25, 9, 5, 33, 120_000, tzinfo=msk)


def _answer_header(to_bic: str, definition: str, related: RelatedHeader | None = None) -> BusinessHeader:
    return BusinessHeader(
        from_bic=central_bank,
        to_bic=to_bic,
        business_message_id="CBRF-ANS-20260325-0000001",
        message_definition_id=definition,
        business_service="cbr.crub.01",
        creation_time=now,
        copy_duplicate=None,
        possible_duplicate=False,
        related=() if related is None else (related,),
        version=head_001,
    )


def _rejected_batch_report() -> StatusReport:
    """What the gateway answers Alfa's batch when the second transaction repeats the first's UETR."""
    data = edited(
        fixture("pacs.008.001.08-alfa-tax-and-contractor.xml"),
        "<UETR>46c41864-4fc5-4ba9-b330-54b2c7f45f7f<",
        "<UETR>4b3dbf5c-13d8-40de-85b7-b6605bdbce6d<",
    )
    refusal = refused(data, context(date(2026, 3, 25)))
    command = refusal.command
    assert isinstance(command, CreditTransfer)
    (duplicate,) = refusal.rejections
    failing = {tx.path for tx in command.transactions if duplicate.path.startswith(tx.path + "/")}
    return StatusReport(
        message_id="CBRF-STS-20260325-0208115",
        creation_time=now,
        instructing_agent_bic=central_bank,
        instructed_agent_bic=alfa,
        groups=(
            GroupStatus(
                original_message=OriginalMessage(
                    command.group.message_id, "pacs.008.001.08", command.group.creation_time
                ),
                original_number_of_transactions=command.group.number_of_transactions,
                original_control_sum_kopecks=command.group.control_sum_kopecks,
                status=PaymentStatus.RJCT,
                reasons=(status_reason_for(duplicate),),
                counts=(StatusCount(PaymentStatus.RJCT, 2, command.group.control_sum_kopecks),),
            ),
        ),
        transactions=tuple(
            TransactionStatus(
                status_id=None,
                original_message=None,
                original_instruction_id=tx.instruction_id,
                original_end_to_end_id=tx.end_to_end_id,
                original_transaction_id=tx.transaction_id,
                original_uetr=tx.uetr,
                status=PaymentStatus.RJCT,
                reasons=(status_reason_for(duplicate),)
                if tx.path in failing
                else (status_reason("NARR", "group rejected"),),
                acceptance_time=None,
                settlement=None,
                clearing_system_reference=None,
                original_amount=tx.amount,
                original_settlement_date=command.group.settlement_date,
            )
            for tx in command.transactions
        ),
    )


def test_status_report_for_a_refused_batch_is_valid_everywhere() -> None:
    report = _rejected_batch_report()
    document = pacs_002_001_10.write(report)
    assert compiled().validate_element(document, pacs_002) == []
    assert_official(document, pacs_002)
    (_, second) = report.transactions
    assert second.reasons[0].code == "DU03"
    # The reason in words first, then where: the element path on lines of its own.
    assert second.reasons[0].additional_info[0].startswith("UETR 4b3dbf5c-13d8-40de-85b7-b6605bdbce6d is also the UETR")
    assert "".join(second.reasons[0].additional_info[-1:]) == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/PmtId/UETR"


def test_settled_status_with_every_field_is_valid_everywhere() -> None:
    report = StatusReport(
        message_id="CBRF-STS-20260316-0193822",
        creation_time=datetime(2026, 3, 16, 10, 42, 9, 318_000, tzinfo=msk),
        instructing_agent_bic=central_bank,
        instructed_agent_bic="SABRRUMMXXX",
        groups=(),
        transactions=(
            TransactionStatus(
                status_id="CBRF-STS-0193822-1",
                original_message=OriginalMessage("SABR20260316-0000417", "pacs.008.001.08", None),
                original_instruction_id="SABR-PP-001523",
                original_end_to_end_id="PP1523-20260316",
                original_transaction_id="SABR20260316-0000417-001",
                original_uetr=uuid.UUID("1edf9ec9-9cf3-437b-b270-1f6ccd9638c6"),
                status=PaymentStatus.ACSC,
                reasons=(),
                acceptance_time=datetime(2026, 3, 16, 7, 42, 8, tzinfo=UTC),
                settlement=datetime(2026, 3, 16, 7, 42, 9, tzinfo=UTC),
                clearing_system_reference="CRUB-0000000000871234",
                original_amount=Amount(25_000_000, "RUB"),
                original_settlement_date=date(2026, 3, 16),
            ),
        ),
    )
    document = pacs_002_001_10.write(report)
    assert_official(document, pacs_002)
    text = etree.tostring(document).decode()
    assert "<CreDtTm>2026-03-16T10:42:09.318000+03:00</CreDtTm>" in text
    assert "<AccptncDtTm>2026-03-16T07:42:08Z</AccptncDtTm>" in text
    assert '<IntrBkSttlmAmt Ccy="RUB">250000.00</IntrBkSttlmAmt>' in text


def test_additional_info_is_spread_over_lines_of_105_characters_and_made_xml_safe() -> None:
    reason = status_reason("AM04", "Ж" * 300)
    assert reason.additional_info == ("Ж" * additional_info_chars_max, "Ж" * additional_info_chars_max, "Ж" * 90)
    reason = status_reason("FF01", "bad\x00byte\ud800here")
    assert reason.additional_info == ("bad\ufffdbyte\ufffdhere",)
    assert xml_safe(reason.additional_info[0]) == reason.additional_info[0]
    assert status_reason("AM04").additional_info == ()


def test_message_reject_for_unreadable_bytes_is_valid_everywhere() -> None:
    refusal = refused(b"<Envelope><AppHdr>", context(date(2026, 3, 18)))
    (rejection,) = refusal.rejections
    reject = message_reject(rejection, refusal.reference, now)
    assert (reject.reference, reject.reason_code) == (no_reference, "FF01")
    document = admi_002_001_01.write(reject)
    assert compiled().validate_element(document, admi_002) == []
    assert_official(document, admi_002)


def test_message_reject_quotes_the_reference_and_the_element_path() -> None:
    data = edited(
        fixture("pacs.008.001.08-gateway-envelope.xml"),
        '<IntrBkSttlmAmt Ccy="RUB">625000.50</IntrBkSttlmAmt>',
        '<IntrBkSttlmAmt Ccy="RUB">625000.505</IntrBkSttlmAmt>',
    )
    refusal = refused(data, context(date(2025, 3, 14)))
    (rejection,) = refusal.rejections
    reject = message_reject(rejection, refusal.reference, now)
    assert reject.reference == "SABR20250314-000117"  # the AppHdr's BizMsgIdr
    assert (reject.reason_code, reject.error_location) == (
        "CH20",
        "/Envelope/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt",
    )
    assert_official(admi_002_001_01.write(reject), admi_002)


def test_app_header_with_related_is_valid_everywhere() -> None:
    original = head_reader.read(etree.fromstring(fixture("head.001.001.02-sberbank-pacs008.xml")))
    assert isinstance(original, BusinessHeader)
    related = RelatedHeader(
        original.from_bic,
        original.to_bic,
        original.business_message_id,
        original.message_definition_id,
        original.business_service,
        original.creation_time,
    )
    app_hdr = head_001_001_02.write(_answer_header("SABRRUMMXXX", "pacs.002.001.10", related))
    assert compiled().validate_element(app_hdr, head_001) == []
    assert_official(app_hdr, head_001)


def test_envelope_is_valid_against_ours_and_each_part_against_the_official_xsds() -> None:
    data = status_report_message(_answer_header(alfa, "pacs.002.001.10"), _rejected_batch_report())
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(data)
    assert compiled().envelope.validate(root), compiled().envelope.error_log
    message = unwrapped(data)
    assert message.kind is EnvelopeKind.GATEWAY
    assert message.app_hdr is not None
    assert_official(message.app_hdr, head_001)
    assert_official(message.document, pacs_002)

    reject = message_reject(refused(b"\xff", context(date(2026, 3, 18))).rejections[0], None, now)
    data = message_reject_message(_answer_header(alfa, "admi.002.001.01"), reject)
    root = etree.fromstring(data)
    assert compiled().envelope.validate(root), compiled().envelope.error_log
    assert_official(root[1], admi_002)


def test_envelope_writer_moves_its_parts_in() -> None:
    app_hdr = head_001_001_02.write(_answer_header(alfa, "pacs.002.001.10"))
    document = pacs_002_001_10.write(_rejected_batch_report())
    root = envelope.envelope(app_hdr, document)
    assert list(root) == [app_hdr, document]


def test_envelope_writer_refuses_parts_out_of_place() -> None:
    """The envelope is no longer validated whole (its parts are, by their writers): its order and names are asserted."""
    app_hdr = head_001_001_02.write(_answer_header(alfa, "pacs.002.001.10"))
    document = pacs_002_001_10.write(_rejected_batch_report())
    with pytest.raises(AssertionError):
        envelope.envelope(document, app_hdr)
    with pytest.raises(AssertionError):
        envelope.envelope(app_hdr, etree.Element("{urn:example:not-iso}Document"))
