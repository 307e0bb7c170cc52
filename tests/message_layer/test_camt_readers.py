"""The camt.056, camt.050 and camt.060 readers give exactly the values the team's fixtures state, and read-layer
rejections for what the typed values cannot hold."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.messages.commands import (
    Account,
    AccountReportingRequest,
    AccountRole,
    Agent,
    Amount,
    CancellationRequest,
    LiquidityDirection,
    LiquidityTransfer,
    OriginalMessage,
    Party,
)
from gateway.messages.intake import Accepted, Refused, intake
from gateway.messages.readers import command_readers, read_command
from gateway.messages.rejections import Layer
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

cancellation = "camt.056.001.08-gateway-envelope.xml"  # Alfa cancels two warehoused payments, 2026-05-12
burn = "camt.050.001.05-gateway-envelope-burn.xml"  # VTB, wallet -> RTGS, AmtWthtCcy
mint = "camt.050.001.05-gateway-envelope-mint.xml"  # Alfa, RTGS -> wallet, accounts only
reports = "camt.060.001.05-gateway-envelope.xml"  # Alfa asks a statement and an intraday report

cxl = "/Envelope/Document/FIToFIPmtCxlReq"
lqt = "/Envelope/Document/LqdtyCdtTrf/LqdtyCdtTrf"
rpt = "/Envelope/Document/AcctRptgReq"


def _command(name: str) -> object:
    return read_command(unwrapped(fixture(name)))


def _bics(agent: Agent | None) -> tuple[str | None, str | None] | None:
    return None if agent is None else (agent.bic, agent.clearing_system_member_id)


def _party_bic(party: Party | None) -> str | None:
    assert party is not None and party.agent is not None
    return party.agent.bic


def _canonical(xml: bytes) -> bytes:
    canonical: bytes = etree.tostring(etree.fromstring(xml), method="c14n2")
    return canonical


def test_the_three_camt_versions_are_read_as_commands() -> None:
    names = {str(message_id) for message_id in command_readers}
    assert {"camt.056.001.08", "camt.050.001.05", "camt.060.001.05"} <= names
    assert "camt.029.001.09" not in names  # an answer, not a request a bank sends the gateway


# camt.056 ------------------------------------------------------------------------------------------------------


def test_camt056_alfa_cancels_two_warehoused_payments() -> None:
    command = _command(cancellation)
    assert isinstance(command, CancellationRequest)
    assert command.path == cxl
    assignment = command.assignment
    assert assignment.assignment_id == "ALFA-CXL-20260512-0007"
    assert (_party_bic(assignment.assigner), _party_bic(assignment.assignee)) == (alfa, central_bank)
    assert assignment.assigner.path == f"{cxl}/Assgnmt/Assgnr"
    assert assignment.creation_time == datetime(2026, 5, 12, 16, 5, 41, tzinfo=msk)
    assert command.case is not None
    assert (command.case.case_id, _party_bic(command.case.creator), command.case.reopened) == (
        "ALFA-CASE-2026-000391",
        alfa,
        None,
    )
    assert (command.number_of_transactions, command.control_sum_kopecks) == (2, 312_050_075)  # 3120500.75
    (underlying,) = command.underlyings
    group = underlying.original_group
    assert group is not None
    assert group.original_message == OriginalMessage(
        "ALFA-20260512-001204", "pacs.008.001.08", datetime(2026, 5, 12, 11, 20, 3, tzinfo=msk)
    )
    assert (group.group_cancellation_id, group.case, group.number_of_transactions) == (None, None, None)
    assert (group.control_sum_kopecks, group.group_cancellation, group.reasons) == (None, None, ())
    withdrawn, wrong_amount = underlying.transactions
    assert command.transactions == (withdrawn, wrong_amount)
    assert (withdrawn.cancellation_id, withdrawn.original_instruction_id, withdrawn.original_end_to_end_id) == (
        "ALFA-CXL-0007-1",
        "ALFA-001204-1",
        "DOG-2026-117",
    )
    assert (withdrawn.original_transaction_id, withdrawn.original_clearing_system_reference) == (None, None)
    assert withdrawn.original_uetr == uuid.UUID("8d5c1f0a-3b2e-4c7d-9a61-0f4e2b7c9d13")
    assert withdrawn.original_amount == Amount(287_000_000, "RUB")  # 2870000.00
    assert withdrawn.original_settlement_date == date(2026, 5, 14)
    assert (withdrawn.original_message, withdrawn.case, withdrawn.assigner, withdrawn.assignee) == (
        None,
        None,
        None,
        None,
    )
    (reason,) = withdrawn.reasons
    assert (reason.code, reason.proprietary) == ("CUST", None)
    assert reason.additional_info == ("Клиент отозвал платёжное поручение № 117 от 12.05.2026",)
    assert reason.path == f"{cxl}/Undrlyg/TxInf/CxlRsnInf"
    assert wrong_amount.original_amount == Amount(25_050_075, "RUB")  # 250500.75: the kopecks survive
    assert wrong_amount.reasons[0].code == "AM09"
    assert wrong_amount.path == f"{cxl}/Undrlyg/TxInf[2]"


def test_camt056_vtb_recall_with_case_and_per_transaction_assignment() -> None:
    command = _command("camt.056.001.08-vtb-recalls-duplicate.xml")
    assert isinstance(command, CancellationRequest)
    assert command.path == "/Document/FIToFIPmtCxlReq"
    assert command.case is not None and command.case.creator.agent is not None
    assert _bics(command.case.creator.agent) == (vtb, "044525187")
    assert (command.number_of_transactions, command.control_sum_kopecks) == (1, 148_000_000)
    (tx,) = command.transactions
    assert tx.original_message == OriginalMessage(
        "VTBR20260420-0003157", "pacs.008.001.08", datetime(2026, 4, 20, 10, 58, 12, tzinfo=msk)
    )
    assert (tx.original_transaction_id, tx.original_clearing_system_reference) == (
        "VTBR20260420-0003157-001",
        "CRUB-0000000001204577",
    )
    assert (_bics(tx.assigner), _bics(tx.assignee)) == ((vtb, None), (alfa, None))
    assert tx.assigner is not None and tx.assigner.path == "/Document/FIToFIPmtCxlReq/Undrlyg/TxInf/Assgnr"
    assert tx.reasons[0].code == "DUPL"
    assert command.underlyings[0].original_group is None


def test_camt056_transaction_xml_is_the_element_as_sent() -> None:
    sent = fixture(cancellation).decode()
    command = read_command(unwrapped(sent.encode()))
    assert isinstance(command, CancellationRequest)
    pieces = sent.split("<TxInf>")[1:]
    assert len(pieces) == len(command.transactions) == 2
    namespace = "urn:iso:std:iso:20022:tech:xsd:camt.056.001.08"
    for piece, tx in zip(pieces, command.transactions, strict=True):
        as_sent = f'<TxInf xmlns="{namespace}">' + piece.split("</TxInf>")[0] + "</TxInf>"
        assert _canonical(tx.xml) == _canonical(as_sent.encode())
    group = command.underlyings[0].original_group
    assert group is not None and group.xml.startswith(b"<OrgnlGrpInfAndCxl")
    assert "ООО «Балтийская верфь-Сервис»".encode() in command.transactions[0].xml


def test_camt056_whole_message_cancellation_is_read() -> None:
    command = _command("camt.056.001.08-refused-whole-message.xml")
    assert isinstance(command, CancellationRequest)
    (underlying,) = command.underlyings
    assert underlying.transactions == ()
    group = underlying.original_group
    assert group is not None
    assert (group.number_of_transactions, group.control_sum_kopecks) == (3, 150_000_000_000)  # 1500000000.00
    assert group.group_cancellation is True
    assert [(reason.code, reason.additional_info) for reason in group.reasons] == [
        ("TECH", ("Сбой АБС: пакет межбанковских кредитов отправлен повторно",))
    ]
    assert (command.case, command.number_of_transactions, command.control_sum_kopecks) == (None, None, None)


def test_camt056_party_named_as_pty_is_read_without_an_agent() -> None:
    data = edited(
        fixture(cancellation),
        "<Cretr><Agt><FinInstnId><BICFI>ALFARUMMXXX</BICFI></FinInstnId></Agt></Cretr>",
        "<Cretr><Pty><Nm>ООО «Балтийская верфь-Сервис»</Nm></Pty></Cretr>",
    )
    command = read_command(unwrapped(data))
    assert isinstance(command, CancellationRequest) and command.case is not None
    assert command.case.creator == Party(agent=None, path="")
    assert command.case.creator.path == f"{cxl}/Case/Cretr"


# camt.050 ------------------------------------------------------------------------------------------------------


def test_camt050_vtb_burns_to_its_rtgs_account() -> None:
    command = _command(burn)
    assert isinstance(command, LiquidityTransfer)
    assert (command.message_id, command.creation_time) == (
        "VTBR-LQT-20260512-0003",
        datetime(2026, 5, 12, 18, 45, tzinfo=msk),
    )
    assert (command.instruction_id, command.end_to_end_id, command.transaction_id) == (
        "VTBR-LQT-0003",
        "LQT-20260512-EOD-VTB",
        None,
    )
    assert command.uetr == uuid.UUID("5b7e2c90-8d14-4f6a-a3e7-19c04d6f2b85")
    assert command.amount == Amount(75_000_000_000, "RUB")  # 750000000.00, AmtWthtCcy: the system's currency
    assert command.amount_path == f"{lqt}/TrfdAmt/AmtWthtCcy"
    assert (_bics(command.debtor), _bics(command.creditor)) == ((vtb, None), (vtb, None))
    assert command.debit_account == Account(
        iban=None,
        identification="VTBRRUMMXXX/main",
        scheme_code=None,
        scheme_proprietary="CRUB-WALLET",
        issuer=None,
        currency=None,
        path="",
    )
    assert command.credit_account == Account(None, "30101810700000000187", None, None, None, "RUB", path="")
    assert command.credit_account is not None and command.credit_account.path == f"{lqt}/CdtrAcct"
    assert command.settlement_date == date(2026, 5, 12)
    assert command.path == lqt
    assert command.direction is LiquidityDirection.BURN


def test_camt050_alfa_mints_naming_accounts_only() -> None:
    command = _command(mint)
    assert isinstance(command, LiquidityTransfer)
    assert (command.message_id, command.creation_time) == ("ALFA-LQT-20260512-0001", None)
    assert (command.instruction_id, command.end_to_end_id) == (None, "LQT-20260512-SOD-ALFA")
    assert command.amount == Amount(120_000_000_000, "RUB")  # 1200000000.00
    assert command.amount_path == f"{lqt}/TrfdAmt/AmtWthCcy"
    assert (command.debtor, command.creditor, command.settlement_date) == (None, None, None)
    assert command.credit_account == Account(None, "ALFARUMMXXX/main", None, "CRUB-WALLET", central_bank, None, "")
    assert command.debit_account == Account(None, "30101810200000000593", None, None, None, None, "")
    assert command.direction is LiquidityDirection.MINT


def test_camt050_sberbank_schema_fixture_mints() -> None:
    command = _command("camt.050.001.05-sberbank-rtgs-to-wallet.xml")
    assert isinstance(command, LiquidityTransfer)
    assert command.amount == Amount(500_000_000_000, "RUB")  # 5000000000.00
    assert _bics(command.creditor) == (sberbank, "044525225")
    assert command.transaction_id == "SABR-LQT-20260415-0001-1"
    assert command.direction is LiquidityDirection.MINT


@pytest.mark.parametrize(
    ("identification", "role"),
    [
        ("<Othr><Id>30101810400000000225</Id></Othr>", AccountRole.RTGS),
        ("<Othr><Id>SABRRUMMXXX/main</Id><SchmeNm><Prtry>CRUB-WALLET</Prtry></SchmeNm></Othr>", AccountRole.WALLET),
        ("<Othr><Id>SABRRUMMXXX/main</Id><SchmeNm><Prtry>WALLET</Prtry></SchmeNm></Othr>", None),
        ("<Othr><Id>30101810400000000225</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr>", None),
        ("<IBAN>RU0204452560040702810412345678901</IBAN>", None),
    ],
)
def test_account_role_follows_its_naming(identification: str, role: AccountRole | None) -> None:
    data = edited(
        fixture("camt.050.001.05-refused-wallet-to-wallet.xml"),
        "<Id><Othr><Id>SABRRUMMXXX/main</Id><SchmeNm><Prtry>CRUB-WALLET</Prtry></SchmeNm></Othr></Id>",
        f"<Id>{identification}</Id>",
    )
    command = read_command(unwrapped(data))
    assert isinstance(command, LiquidityTransfer) and command.debit_account is not None
    assert command.debit_account.role is role
    # The credit account is a wallet: from the RTGS account that is a mint; from anything else, no conversion.
    assert command.direction is (LiquidityDirection.MINT if role is AccountRole.RTGS else None)


# camt.060 ------------------------------------------------------------------------------------------------------


def test_camt060_alfa_asks_a_statement_and_an_intraday_report() -> None:
    command = _command(reports)
    assert isinstance(command, AccountReportingRequest)
    assert (command.message_id, command.creation_time, command.message_sender) == (
        "ALFA-ARQ-20260512-0004",
        datetime(2026, 5, 12, 10, 0, tzinfo=msk),
        None,
    )
    assert command.path == f"{rpt}/GrpHdr"
    statement, intraday = command.requests
    assert (statement.request_id, statement.requested_message_name_id) == ("ALFA-ARQ-0004-1", "camt.053.001.08")
    assert statement.account == Account(None, "ALFARUMMXXX/main", None, "CRUB-WALLET", None, "RUB", "")
    assert _party_bic(statement.account_owner) == alfa
    assert _bics(statement.account_servicer) == (central_bank, None)
    period = statement.period
    assert period is not None
    assert (period.from_date, period.to_date, period.from_time, period.to_time, period.query_type) == (
        date(2026, 5, 8),
        date(2026, 5, 11),
        None,
        None,
        "ALLL",
    )
    assert period.path == f"{rpt}/RptgReq/RptgPrd"
    assert statement.sequence_range_present is False
    assert statement.transaction_type is None
    assert [(balance.code, balance.proprietary, balance.path) for balance in statement.balance_types] == [
        ("OPBD", None, f"{rpt}/RptgReq/ReqdBalTp"),
        ("CLBD", None, f"{rpt}/RptgReq/ReqdBalTp[2]"),
    ]
    assert (intraday.request_id, intraday.requested_message_name_id, intraday.account) == (
        "ALFA-ARQ-0004-2",
        "camt.052.001.08",
        None,
    )
    assert intraday.path == f"{rpt}/RptgReq[2]"
    assert intraday.period is not None
    assert (intraday.period.from_date, intraday.period.to_date) == (date(2026, 5, 12), None)
    assert (intraday.period.from_time, intraday.period.to_time) == (time(9, 0, tzinfo=msk), None)
    assert intraday.period.from_time is not None and intraday.period.from_time.utcoffset() == timedelta(hours=3)
    assert intraday.transaction_type is not None
    kind = intraday.transaction_type
    assert (kind.status_code, kind.status_proprietary, kind.credit_debit, kind.floor_limits) == (
        "PDNG",
        None,
        "DBIT",
        (),
    )


def test_camt060_sberbank_schema_fixture_with_floor_limit_and_times() -> None:
    command = _command("camt.060.001.05-sberbank-asks-wallet-reports.xml")
    assert isinstance(command, AccountReportingRequest)
    assert command.message_sender is not None and _party_bic(command.message_sender) == sberbank
    intraday, statement = command.requests
    assert intraday.period is not None
    assert (intraday.period.from_time, intraday.period.to_time) == (time(0, 0, tzinfo=msk), time(12, 0, tzinfo=msk))
    assert intraday.transaction_type is not None
    (limit,) = intraday.transaction_type.floor_limits
    assert (limit.amount, limit.credit_debit) == (Amount(10_000_000, "RUB"), "CRED")  # 100000.00
    assert limit.path == "/Document/AcctRptgReq/RptgReq/ReqdTxTp/FlrLmt"
    assert intraday.transaction_type.credit_debit == "CRDT"
    assert [balance.code for balance in intraday.balance_types] == ["OPBD", "ITBD"]
    assert statement.account is not None and statement.account.currency is None


def test_camt060_sequence_range_is_noted() -> None:
    command = _command("camt.060.001.05-refused-sequence-and-notifications.xml")
    assert isinstance(command, AccountReportingRequest)
    (request,) = command.requests
    assert (request.sequence_range_present, request.period, request.requested_message_name_id) == (
        True,
        None,
        "camt.054.001.08",
    )


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("09:00:00", time(9, 0)),  # no offset: naive, as sent
        ("09:00:00Z", time(9, 0, tzinfo=UTC)),
        ("09:30:15.250-05:00", time(9, 30, 15, 250_000, tzinfo=timezone(-timedelta(hours=5)))),
        ("24:00:00+03:00", time.max.replace(tzinfo=msk)),  # XSD 1.0's end of the day
    ],
)
def test_camt060_times_of_day(sent: str, read: time) -> None:
    data = edited(fixture(reports), "<FrTm>09:00:00+03:00</FrTm>", f"<FrTm>{sent}</FrTm>")
    command = read_command(unwrapped(data))
    assert isinstance(command, AccountReportingRequest)
    period = command.requests[1].period
    assert period is not None and period.from_time == read
    assert period.from_time is not None
    assert period.from_time.utcoffset() == read.utcoffset()


# Schema-valid content that typed values cannot hold: the read layer refuses it, naming the element.


@pytest.mark.parametrize(
    ("name", "old", "new", "code", "path"),
    [
        (  # a kopeck is the smallest rouble unit (CH20 DecimalPointsNotCompatibleWithCurrency)
            cancellation,
            '<OrgnlIntrBkSttlmAmt Ccy="RUB">250500.75<',
            '<OrgnlIntrBkSttlmAmt Ccy="RUB">250500.755<',
            "CH20",
            f"{cxl}/Undrlyg/TxInf[2]/OrgnlIntrBkSttlmAmt",
        ),
        (cancellation, "<CtrlSum>3120500.75<", "<CtrlSum>3120500.755<", "CH20", f"{cxl}/CtrlData/CtrlSum"),
        (  # DT02 InvalidCreationDate: the assignment's CreDtTm dates the request
            cancellation,
            "<CreDtTm>2026-05-12T16:05:41+03:00</CreDtTm>",
            "<CreDtTm>12026-05-12T16:05:41+03:00</CreDtTm>",
            "DT02",
            f"{cxl}/Assgnmt/CreDtTm",
        ),
        (  # xs:date allows years beyond 9999 (DT01 InvalidDate)
            cancellation,
            "<OrgnlIntrBkSttlmDt>2026-05-14</OrgnlIntrBkSttlmDt>\n          <CxlRsnInf>\n            <Orgtr>",
            "<OrgnlIntrBkSttlmDt>12026-05-14</OrgnlIntrBkSttlmDt>\n          <CxlRsnInf>\n            <Orgtr>",
            "DT01",
            f"{cxl}/Undrlyg/TxInf/OrgnlIntrBkSttlmDt",
        ),
        (burn, "<AmtWthtCcy>750000000.00<", "<AmtWthtCcy>750000000.001<", "CH20", f"{lqt}/TrfdAmt/AmtWthtCcy"),
        (  # 18 digits pass the XSD, but are beyond int64 kopecks (AM02 NotAllowedAmount)
            mint,
            ">1200000000.00</AmtWthCcy>",
            ">123456789012345678</AmtWthCcy>",
            "AM02",
            f"{lqt}/TrfdAmt/AmtWthCcy",
        ),
        (burn, "<SttlmDt>2026-05-12<", "<SttlmDt>12026-05-12<", "DT01", f"{lqt}/SttlmDt"),
        (
            burn,
            "<CreDtTm>2026-05-12T18:45:00+03:00<",
            "<CreDtTm>12026-05-12T18:45:00+03:00<",
            "DT02",
            "/Envelope/Document/LqdtyCdtTrf/MsgHdr/CreDtTm",
        ),
        (reports, "<ToDt>2026-05-11<", "<ToDt>12026-05-11<", "DT01", f"{rpt}/RptgReq/RptgPrd/FrToDt/ToDt"),
        (
            "camt.060.001.05-sberbank-asks-wallet-reports.xml",
            '<Amt Ccy="RUB">100000.00<',
            '<Amt Ccy="RUB">100000.001<',
            "CH20",
            "/Document/AcctRptgReq/RptgReq/ReqdTxTp/FlrLmt/Amt",
        ),
    ],
)
def test_read_layer_refuses_what_typed_values_cannot_hold(name: str, old: str, new: str, code: str, path: str) -> None:
    result = refused(edited(fixture(name), old, new), context(date(2026, 5, 12)))
    assert [(r.code, r.path, r.layer) for r in result.rejections] == [(code, path, Layer.READ)]


# Schema-valid variants: values changed, structure kept. Whatever passes the schema is read and judged, never raised.

_camt_seeds = tuple(
    fixture(name)
    for name in (
        cancellation,
        burn,
        mint,
        reports,
        "camt.056.001.08-vtb-recalls-duplicate.xml",
        "camt.050.001.05-sberbank-rtgs-to-wallet.xml",
        "camt.060.001.05-sberbank-asks-wallet-reports.xml",
        "camt.060.001.05-refused-sequence-and-notifications.xml",
        "camt.056.001.08-refused-whole-message.xml",
    )
)
_values = (
    "0",
    "0.001",
    "0.00001",
    "999999999999999999",
    "1",
    "true",
    "false",
    "24:00:00",
    "23:59:59.999999999-14:00",
    "00:00:00Z",
    "2026-05-12",
    "2026-05-12+03:00",
    "12026-05-12",
    "-0001-05-12",
    "2026-05-12T24:00:00",
    "9999-12-31T23:59:59+14:00",
    "ALLL",
    "CHNG",
    "CRUB-WALLET",
    "SABRRUMM/main",
    "SABRRUMMXXX/clients",
    "1ABRRUMMXXX/main",
    "30101810400000000225",
    "CBR1RUMMXXX",
    "VTBRRUMMXXX",
    "camt.054.001.08",
    "pacs.004.001.09",
    "8d5c1f0a-3b2e-4c7d-9a61-0f4e2b7c9d13",
    "DUPL",
    " ",
    "RUB",
    "USD",
)


@st.composite
def _schema_shaped(draw: st.DrawFn) -> bytes:
    root = etree.fromstring(draw(st.sampled_from(_camt_seeds)))
    leaves = [element for element in root.iter(etree.Element) if len(element) == 0]
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        leaf = draw(st.sampled_from(leaves))
        value = draw(st.sampled_from(_values))
        if leaf.get("Ccy") is not None and draw(st.booleans()):
            leaf.set("Ccy", value)
        else:
            leaf.text = value
    serialised: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return serialised


@settings(max_examples=300, deadline=None)
@given(_schema_shaped(), st.sampled_from((date(2026, 4, 15), date(2026, 5, 12))))
def test_intake_of_camt_variants_never_raises(data: bytes, day: date) -> None:
    result = intake(data, allow_bare_document=True, context=context(day, authenticated=None))
    assert isinstance(result, Accepted | Refused)
    if isinstance(result, Refused):
        assert len({rejection.layer for rejection in result.rejections}) == 1
