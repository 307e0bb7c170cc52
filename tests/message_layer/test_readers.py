"""Readers give exactly the values the team's fixtures state, and read-layer rejections for what types cannot hold."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from lxml import etree

from gateway.messages.commands import (
    Agent,
    Amount,
    BusinessHeader,
    CreditTransfer,
    FinancialInstitutionTransfer,
    OriginalGroupStatusRequest,
    OriginalMessage,
    PaymentReturn,
    RelatedHeader,
    ReturnReason,
    StatusRequest,
)
from gateway.messages.readers import (
    admi_002_001_01,
    head_001_001_02,
    pacs_002_001_10,
    read_command,
)
from gateway.messages.rejections import Layer
from gateway.messages.reports import (
    MessageReject,
    PaymentStatus,
    StatusReason,
    StatusReport,
)
from tests.message_layer.support import (
    alfa,
    central_bank,
    context,
    edited,
    fixture,
    refused,
    sberbank,
    unwrapped,
    vtb,
)

msk = timezone(timedelta(hours=3))


def _command(name: str) -> object:
    return read_command(unwrapped(fixture(name)))


def _bics(agent: Agent | None) -> tuple[str | None, str | None] | None:
    return None if agent is None else (agent.bic, agent.clearing_system_member_id)


def _canonical(xml: bytes) -> bytes:
    canonical: bytes = etree.tostring(etree.fromstring(xml), method="c14n2")
    return canonical


def test_pacs008_sberbank_invoice() -> None:
    command = _command("pacs.008.001.08-sberbank-to-vtb-invoice.xml")
    assert isinstance(command, CreditTransfer)
    group = command.group
    assert group.message_id == "SABR20260316-0000417"
    assert group.creation_time == datetime(2026, 3, 16, 10, 42, 7, tzinfo=msk)
    assert group.creation_time.utcoffset() == timedelta(hours=3)
    assert (group.number_of_transactions, group.control_sum_kopecks) == (1, None)
    assert group.total_amount == Amount(25_000_000, "RUB")  # 250000.00
    assert group.settlement_date == date(2026, 3, 16)
    assert group.settlement_method == "CLRG"
    assert (_bics(group.instructing_agent), _bics(group.instructed_agent)) == ((sberbank, None), (vtb, None))
    assert group.path == "/Document/FIToFICstmrCdtTrf/GrpHdr"
    (tx,) = command.transactions
    assert (tx.instruction_id, tx.end_to_end_id, tx.transaction_id) == (
        "SABR-PP-001523",
        "PP1523-20260316",
        "SABR20260316-0000417-001",
    )
    assert tx.uetr == uuid.UUID("1edf9ec9-9cf3-437b-b270-1f6ccd9638c6")
    assert tx.amount == Amount(25_000_000, "RUB")
    assert tx.settlement_date == date(2026, 3, 16)
    assert tx.charge_bearer == "SLEV"
    assert (tx.instructing_agent, tx.instructed_agent) == (None, None)
    assert _bics(tx.debtor_agent) == (sberbank, "044525225")
    assert _bics(tx.creditor_agent) == (vtb, "044525187")
    assert tx.path == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf"
    assert tx.debtor_agent.path == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/DbtrAgt"


def test_pacs008_alfa_batch_of_two() -> None:
    command = _command("pacs.008.001.08-alfa-tax-and-contractor.xml")
    assert isinstance(command, CreditTransfer)
    group = command.group
    assert group.message_id == "ALFA-20260325-000981"
    assert (group.number_of_transactions, group.control_sum_kopecks) == (2, 196_125_000)  # 1961250.00
    assert group.total_amount == Amount(196_125_000, "RUB")
    assert group.settlement_date == date(2026, 3, 25)
    assert _bics(group.instructed_agent) == (central_bank, None)
    tax, fee = command.transactions
    assert (tax.instruction_id, tax.end_to_end_id, tax.transaction_id) == (
        "ALFA-000981-1",
        "ENP-2026-03-7703123456",
        None,
    )
    assert tax.uetr == uuid.UUID("4b3dbf5c-13d8-40de-85b7-b6605bdbce6d")
    assert tax.amount == Amount(187_500_000, "RUB")  # 1875000.00
    assert tax.settlement_date is None  # only the group states it
    assert _bics(tax.debtor_agent) == (alfa, "044525593")
    assert _bics(tax.creditor_agent) == (central_bank, "017003983")  # the Treasury's account at the Bank of Russia
    assert (fee.end_to_end_id, fee.charge_bearer) == ("GPH-2026-014", "DEBT")
    assert fee.amount == Amount(8_625_000, "RUB")  # 86250.00
    assert _bics(fee.creditor_agent) == (sberbank, "044525225")
    assert fee.path == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]"
    assert fee.creditor_agent.path == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/CdtrAgt"


def test_pacs008_in_gateway_envelope_with_header() -> None:
    message = unwrapped(fixture("pacs.008.001.08-gateway-envelope.xml"))
    assert message.app_hdr is not None
    header = head_001_001_02.read(message.app_hdr)
    assert header == BusinessHeader(
        from_bic=sberbank,
        to_bic=vtb,
        business_message_id="SABR20250314-000117",
        message_definition_id="pacs.008.001.08",
        business_service=None,
        creation_time=datetime(2025, 3, 14, 9, 15, 2, tzinfo=UTC),
        copy_duplicate=None,
        possible_duplicate=None,
        related=(),
        version=head_001_001_02.message_id,
    )
    assert isinstance(header, BusinessHeader) and header.path == "/Envelope/AppHdr"
    command = read_command(message)
    assert isinstance(command, CreditTransfer)
    first, second = command.transactions
    assert first.amount == Amount(125_000_000, "RUB")  # 1250000.00
    assert second.amount == Amount(62_500_050, "RUB")  # 625000.50: the kopecks survive
    assert command.group.total_amount == Amount(187_500_050, "RUB")
    assert second.path == "/Envelope/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]"


def test_transaction_xml_is_the_element_as_sent() -> None:
    sent = fixture("pacs.008.001.08-alfa-tax-and-contractor.xml").decode()
    command = read_command(unwrapped(sent.encode()))
    assert isinstance(command, CreditTransfer)
    pieces = sent.split("<CdtTrfTxInf>")[1:]
    assert len(pieces) == len(command.transactions) == 2
    for piece, tx in zip(pieces, command.transactions, strict=True):
        # The transaction as it stands in the file, with the namespace it inherits there declared on it.
        as_sent = (
            '<CdtTrfTxInf xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">' + piece.split("</CdtTrfTxInf>")[0]
        )
        assert _canonical(tx.xml) == _canonical((as_sent + "</CdtTrfTxInf>").encode())
    assert "Единый налоговый платёж".encode() in command.transactions[0].xml  # UTF-8, not character references


def test_pacs009_interbank_loan() -> None:
    command = _command("pacs.009.001.08-alfa-interbank-loan-to-sberbank.xml")
    assert isinstance(command, FinancialInstitutionTransfer)
    assert command.group.message_id == "ALFA-MM-20260402-0031"
    assert command.group.settlement_method == "CLRG"
    assert command.group.total_amount == Amount(50_000_000_000, "RUB")  # 500000000.00
    (tx,) = command.transactions
    assert (tx.end_to_end_id, tx.transaction_id) == ("MBK-ON-20260402-17", "ALFA-MM-20260402-0031-1")
    assert tx.uetr == uuid.UUID("3e30b5d4-66c5-4a3f-881a-404fa1d8bc8f")
    assert tx.amount == Amount(50_000_000_000, "RUB")
    assert tx.settlement_date == date(2026, 4, 2)
    assert _bics(tx.debtor) == (alfa, "044525593")
    assert _bics(tx.creditor) == (sberbank, "044525225")
    assert (tx.debtor_agent, tx.creditor_agent, tx.is_cover) == (None, None, False)


def test_pacs009_cover_payment() -> None:
    command = _command("pacs.009.001.08-sberbank-cover-via-cbrf.xml")
    assert isinstance(command, FinancialInstitutionTransfer)
    group = command.group
    assert group.creation_time == datetime(2026, 4, 10, 11, 2, 19, tzinfo=UTC)
    assert (group.settlement_method, group.settlement_date, group.instructing_agent) == ("INDA", None, None)
    (tx,) = command.transactions
    assert tx.is_cover
    assert tx.amount == Amount(340_000_000, "RUB")  # 3400000.00
    assert (_bics(tx.instructing_agent), _bics(tx.instructed_agent)) == ((sberbank, None), (central_bank, None))
    assert (_bics(tx.debtor), _bics(tx.creditor_agent), _bics(tx.creditor)) == (
        (sberbank, None),
        (central_bank, None),
        (vtb, None),
    )


def test_pacs009_with_prefixes_in_swift_envelope() -> None:
    command = _command("pacs.009.001.08-swift-envelope.xml")
    assert isinstance(command, FinancialInstitutionTransfer)
    (tx,) = command.transactions
    assert tx.amount == Amount(5_000_000_000, "RUB")  # 50000000.00
    assert tx.uetr == uuid.UUID("0c6f2b8e-7d41-4f3a-a5c9-3e2d1b0a9f87")
    assert tx.path == "/Envelope/Document/FICdtTrf/CdtTrfTxInf"
    assert tx.xml.startswith(b"<pacs:CdtTrfTxInf xmlns:pacs=")


def test_pacs004_return_of_closed_account() -> None:
    command = _command("pacs.004.001.09-vtb-returns-closed-account.xml")
    assert isinstance(command, PaymentReturn)
    group = command.group
    assert (group.message_id, group.number_of_transactions) == ("VTBR-RTR-20260317-000052", 1)
    assert group.total_returned_amount == Amount(25_000_000, "RUB")
    assert (group.settlement_date, group.settlement_method) == (date(2026, 3, 17), "CLRG")
    assert (_bics(group.instructing_agent), _bics(group.instructed_agent)) == ((vtb, None), (sberbank, None))
    assert (group.original_message, group.reasons) == (None, ())
    (tx,) = command.transactions
    assert tx.return_id == "VTBR-RTR-000052-1"
    assert tx.original_message == OriginalMessage(
        "SABR20260316-0000417", "pacs.008.001.08", datetime(2026, 3, 16, 10, 42, 7, tzinfo=msk)
    )
    assert (tx.original_instruction_id, tx.original_end_to_end_id, tx.original_transaction_id) == (
        "SABR-PP-001523",
        "PP1523-20260316",
        "SABR20260316-0000417-001",
    )
    assert tx.original_uetr == uuid.UUID("1edf9ec9-9cf3-437b-b270-1f6ccd9638c6")
    assert tx.original_amount == tx.returned_amount == Amount(25_000_000, "RUB")
    assert (tx.settlement_date, tx.charge_bearer) == (date(2026, 3, 17), "SLEV")
    assert (_bics(tx.debtor_agent), _bics(tx.creditor_agent)) == ((vtb, None), (sberbank, None))
    assert tx.reasons == (ReturnReason("AC04", None, ("Счёт получателя 40702810700000004567 закрыт 13.03.2026",)),)


def test_pacs028_status_requests() -> None:
    command = _command("pacs.028.001.03-sberbank-asks-cover-status.xml")
    assert isinstance(command, StatusRequest)
    assert command.group.message_id == "SABR-STSREQ-20260410-0002"
    assert command.group.creation_time == datetime(2026, 4, 10, 11, 32, tzinfo=msk)
    assert command.original_groups == (
        OriginalGroupStatusRequest(
            OriginalMessage("SABR-COV-20260410-0007", "pacs.009.001.08", datetime(2026, 4, 10, 11, 2, 19, tzinfo=UTC)),
            1,
            path="",
        ),
    )
    (request,) = command.transactions
    assert (request.status_request_id, request.original_instruction_id, request.original_end_to_end_id) == (
        "SABR-STSREQ-0002-1",
        "SABR-COV-0007",
        "KONTRAKT-2026-031",
    )
    assert request.original_uetr == uuid.UUID("935d2afa-5071-450e-9932-4fca06c9e692")
    assert (_bics(request.instructing_agent), _bics(request.instructed_agent)) == (
        (sberbank, None),
        (central_bank, None),
    )

    bare = _command("pacs.028.001.03-bare-document.xml")
    assert isinstance(bare, StatusRequest)
    (request,) = bare.transactions
    assert request.original_message == OriginalMessage("ALFA-FI-20250314-0042", "pacs.009.001.08", None)
    assert request.original_uetr == uuid.UUID("0c6f2b8e-7d41-4f3a-a5c9-3e2d1b0a9f87")
    assert request.path == "/Document/FIToFIPmtStsReq/TxInf"


def test_app_headers() -> None:
    header = head_001_001_02.read(etree.fromstring(fixture("head.001.001.02-cbrf-status-related.xml")))
    assert header == BusinessHeader(
        from_bic=central_bank,
        to_bic=sberbank,
        business_message_id="CBRF-STS-20260316-0193822",
        message_definition_id="pacs.002.001.10",
        business_service="cbr.crub.01",
        creation_time=datetime(2026, 3, 16, 7, 42, 9, tzinfo=UTC),
        copy_duplicate="DUPL",
        possible_duplicate=True,
        related=(
            RelatedHeader(
                sberbank,
                central_bank,
                "SABR20260316-0000417",
                "pacs.008.001.08",
                "cbr.crub.01",
                datetime(2026, 3, 16, 7, 42, 7, tzinfo=UTC),
            ),
        ),
        version=head_001_001_02.message_id,
    )
    plain = head_001_001_02.read(etree.fromstring(fixture("head.001.001.02-sberbank-pacs008.xml")))
    assert isinstance(plain, BusinessHeader)
    assert (plain.from_bic, plain.to_bic, plain.possible_duplicate, plain.related) == (
        sberbank,
        central_bank,
        False,
        (),
    )


def test_pacs002_reports() -> None:
    settled = pacs_002_001_10.read(unwrapped(fixture("pacs.002.001.10-cbrf-settled.xml")))
    assert isinstance(settled, StatusReport)
    assert settled.creation_time == datetime(2026, 3, 16, 10, 42, 9, 318_000, tzinfo=msk)
    assert (settled.instructing_agent_bic, settled.instructed_agent_bic, settled.groups) == (central_bank, sberbank, ())
    (tx,) = settled.transactions
    assert (tx.status_id, tx.status, tx.reasons) == ("CBRF-STS-0193822-1", PaymentStatus.ACSC, ())
    assert tx.original_uetr == uuid.UUID("1edf9ec9-9cf3-437b-b270-1f6ccd9638c6")
    assert tx.acceptance_time == datetime(2026, 3, 16, 10, 42, 8, tzinfo=msk)
    assert tx.settlement == datetime(2026, 3, 16, 10, 42, 9, tzinfo=msk)
    assert tx.clearing_system_reference == "CRUB-0000000000871234"

    rejected = pacs_002_001_10.read(unwrapped(fixture("pacs.002.001.10-cbrf-rejects-insufficient-funds.xml")))
    assert isinstance(rejected, StatusReport)
    (group,) = rejected.groups
    assert (group.original_message.message_id, group.original_number_of_transactions) == ("ALFA-20260325-000981", 2)
    assert (group.original_control_sum_kopecks, group.status) == (196_125_000, PaymentStatus.RJCT)
    assert group.reasons == (
        StatusReason("AM04", ("Недостаточно средств на кошельке ALFARUMMXXX/main: доступно 1200000.00 RUB",)),
    )
    assert [(c.status, c.number_of_transactions, c.control_sum_kopecks) for c in group.counts] == [
        (PaymentStatus.RJCT, 2, 196_125_000)
    ]
    assert [(t.original_end_to_end_id, t.status, t.original_amount) for t in rejected.transactions] == [
        ("ENP-2026-03-7703123456", PaymentStatus.RJCT, Amount(187_500_000, "RUB")),
        ("GPH-2026-014", PaymentStatus.RJCT, Amount(8_625_000, "RUB")),
    ]


def test_admi002_reject() -> None:
    reject = admi_002_001_01.read(unwrapped(fixture("admi.002.001.01-cbrf-rejects-unreadable-message.xml")))
    assert reject == MessageReject(
        reference="VTBR20260318-0004410",
        reason_code="FF01",
        rejection_time=datetime(2026, 3, 18, 14, 7, 51, tzinfo=msk),
        error_location="/Envelope/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt",
        description="RUB amounts have at most 2 decimals; 120000.005 has 3",
        additional_data="Сообщение отклонено шлюзом до обработки. Исправьте сумму и отправьте сообщение повторно с новым MsgId.",
    )


# Schema-valid content that typed values cannot hold: the read layer refuses it, naming the element.

invoice = "pacs.008.001.08-sberbank-to-vtb-invoice.xml"
invoice_tx = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf"
invoice_group = "/Document/FIToFICstmrCdtTrf/GrpHdr"


@pytest.mark.parametrize(
    ("old", "new", "count", "code", "path"),
    [
        (  # the XSD allows 5 decimals; a kopeck is the smallest RUB unit (CH20 DecimalPointsNotCompatibleWithCurrency)
            '<IntrBkSttlmAmt Ccy="RUB">250000.00</IntrBkSttlmAmt>',
            '<IntrBkSttlmAmt Ccy="RUB">250000.005</IntrBkSttlmAmt>',
            1,
            "CH20",
            f"{invoice_tx}/IntrBkSttlmAmt",
        ),
        (  # 18 digits pass the XSD, but 10^17 roubles are beyond int64 kopecks (AM02 NotAllowedAmount)
            '<IntrBkSttlmAmt Ccy="RUB">250000.00</IntrBkSttlmAmt>',
            '<IntrBkSttlmAmt Ccy="RUB">123456789012345678</IntrBkSttlmAmt>',
            1,
            "AM02",
            f"{invoice_tx}/IntrBkSttlmAmt",
        ),
        (  # xs:date allows years beyond 9999 and before 1 (DT01 InvalidDate)
            "<IntrBkSttlmDt>2026-03-16</IntrBkSttlmDt>\n      <SttlmPrty>",
            "<IntrBkSttlmDt>12026-03-16</IntrBkSttlmDt>\n      <SttlmPrty>",
            1,
            "DT01",
            f"{invoice_tx}/IntrBkSttlmDt",
        ),
        (  # DT02 InvalidCreationDate
            "<CreDtTm>2026-03-16T10:42:07+03:00</CreDtTm>",
            "<CreDtTm>-0001-03-16T10:42:07+03:00</CreDtTm>",
            1,
            "DT02",
            f"{invoice_group}/CreDtTm",
        ),
        (  # a control sum finer than a kopeck
            "<NbOfTxs>1</NbOfTxs>",
            "<NbOfTxs>1</NbOfTxs><CtrlSum>250000.001</CtrlSum>",
            1,
            "CH20",
            f"{invoice_group}/CtrlSum",
        ),
        (  # DecimalNumber, unlike an amount, allows a sign
            "<NbOfTxs>1</NbOfTxs>",
            "<NbOfTxs>1</NbOfTxs><CtrlSum>-250000.00</CtrlSum>",
            1,
            "CH16",
            f"{invoice_group}/CtrlSum",
        ),
    ],
)
def test_read_layer_refuses_what_typed_values_cannot_hold(old: str, new: str, count: int, code: str, path: str) -> None:
    result = refused(edited(fixture(invoice), old, new, count), context(date(2026, 3, 16)))
    assert [(r.code, r.path, r.layer) for r in result.rejections] == [(code, path, Layer.READ)]


def test_reader_finds_every_problem_in_one_pass() -> None:
    data = fixture("pacs.008.001.08-alfa-tax-and-contractor.xml")
    for amount in (
        "1961250.00</CtrlSum>",
        "1961250.00</TtlIntrBkSttlmAmt>",
        "1875000.00</IntrBkSttlmAmt>",
        "86250.00</IntrBkSttlmAmt>",
    ):
        data = edited(data, amount, amount.replace(".00<", ".001<"))
    result = refused(data, context(date(2026, 3, 25)))
    assert [(r.code, r.path) for r in result.rejections] == [
        ("CH20", "/Document/FIToFICstmrCdtTrf/GrpHdr/CtrlSum"),
        ("CH20", "/Document/FIToFICstmrCdtTrf/GrpHdr/TtlIntrBkSttlmAmt"),
        ("CH20", "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmAmt"),
        ("CH20", "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt"),
    ]


def test_unaccepted_message_version_is_refused_at_the_read_layer() -> None:
    result = refused(fixture("pacs.002.001.10-saa-datapdu.xml"), context(date(2025, 3, 14)))
    assert [(r.code, r.path, r.layer) for r in result.rejections] == [("FF01", "/DataPDU/Body/Document", Layer.READ)]
