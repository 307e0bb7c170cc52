"""camt writers' output is valid against the official ISO XSDs and ours, holds hand-checked figures that add up, and
reads back (camt.029) or decodes with xmlschema against the official XSD (camt.025/052/053/054) to what was written."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway import bounds
from gateway.messages.codes import (
    already_returned,
    legal_decision,
    no_original_transaction,
)
from gateway.messages.commands import Amount, BusinessHeader, OriginalMessage
from gateway.messages.envelope import EnvelopeKind
from gateway.messages.identity import MessageId
from gateway.messages.readers import camt_029_001_09 as camt_029_reader
from gateway.messages.readers import head_001_001_02 as head_reader
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.reports import (
    CancellationReason,
    CancellationStatus,
    CancellationTransactionStatus,
    CaseAssignment,
    InvestigationStatus,
    PaymentStatus,
    Receipt,
    ReceiptDetails,
    RequestHandling,
    ResolutionOfInvestigation,
    ResolvedCase,
    cancellation_reason,
    request_handling,
    request_handling_for,
)
from gateway.messages.safe_xml import parse_bounded
from gateway.messages.schemas import compiled
from gateway.messages.statements import (
    AccountId,
    AccountNotification,
    AccountStatement,
    Balance,
    BalanceType,
    BankToCustomerReport,
    BankTransactionCode,
    CreditDebit,
    DebitCreditNotification,
    Entry,
    EntryStatus,
    EntryTransaction,
    Pagination,
    PartyIdentification,
    Period,
    ReportedAccount,
    ReportHeader,
)
from gateway.messages.writers import (
    account_report_message,
    camt_025_001_05,
    camt_029_001_09,
    camt_052_001_08,
    camt_053_001_08,
    camt_054_001_08,
    notification_message,
    receipt_message,
    resolution_message,
    statement_message,
)
from tests.message_layer import strategies
from tests.message_layer.strategies import (
    bics,
    codes,
    dates,
    datetimes,
    optional,
    text,
    uetrs,
)
from tests.message_layer.support import (
    alfa,
    assert_official,
    camt_025,
    camt_029,
    camt_052,
    camt_053,
    camt_054,
    central_bank,
    head_001,
    sberbank,
    unwrapped,
    vtb,
)
from tests.schemas.harness import official_xmlschema

msk = timezone(timedelta(hours=3))


def _valid_everywhere(document: etree._Element, message_id: MessageId) -> None:
    assert compiled().validate_element(document, message_id) == []
    assert_official(document, message_id)


def _texts(document: etree._Element, path: str) -> list[str]:
    """The text of every element at `path`, written with the prefix d: for the Document's namespace."""
    namespace = etree.QName(document).namespace
    found = document.xpath(path, namespaces={"d": namespace})
    assert isinstance(found, list)
    return [element.text for element in found]


def _header(to_bic: str, definition: str) -> BusinessHeader:
    return BusinessHeader(
        from_bic=central_bank,
        to_bic=to_bic,
        business_message_id="CBRF-ANS-20260415-0000001",
        message_definition_id=definition,
        business_service="cbr.crub.01",
        creation_time=datetime(2026, 4, 15, 12, 0, 7, tzinfo=msk),
        copy_duplicate=None,
        possible_duplicate=False,
        related=(),
        version=head_001,
    )


# --------------------------------------------------------------------------------------------------------------
# camt.029: the gateway resolves a cancellation request itself
# --------------------------------------------------------------------------------------------------------------


def _cancelled_warehoused_payment() -> ResolutionOfInvestigation:
    """Sberbank asks to cancel a payment dated 20 April that the gateway still holds: the gateway cancels it."""
    return ResolutionOfInvestigation(
        assignment=CaseAssignment(
            assignment_id="CBRF-RSL-20260417-000012",
            assigner_bic=central_bank,
            assignee_bic=sberbank,
            creation_time=datetime(2026, 4, 17, 9, 14, 3, tzinfo=msk),
        ),
        resolved_case=ResolvedCase("SABR-CASE-2026-000391", sberbank),
        status=InvestigationStatus.CNCL,
        transactions=(
            CancellationTransactionStatus(
                cancellation_status_id="CBRF-RSL-000012-1",
                original_message=OriginalMessage(
                    "SABR20260417-0000802", "pacs.008.001.08", datetime(2026, 4, 17, 8, 51, 40, tzinfo=msk)
                ),
                original_instruction_id="SABR-PP-002231",
                original_end_to_end_id="PP2231-20260420",
                original_transaction_id="SABR20260417-0000802-001",
                original_clearing_system_reference=None,  # never settled: no ledger transfer to quote
                original_uetr=uuid.UUID("5f0c2a7e-8d3b-4c1e-9a6f-2b7d4e8c1a90"),
                status=CancellationStatus.ACCR,
                reasons=(),
                original_amount=Amount(31_245_075, "RUB"),
                original_settlement_date=date(2026, 4, 20),
            ),
        ),
    )


def test_cancelled_warehoused_payment_is_valid_everywhere() -> None:
    document = camt_029_001_09.write(_cancelled_warehoused_payment())
    _valid_everywhere(document, camt_029)
    resolution = "/d:Document/d:RsltnOfInvstgtn"
    assert _texts(document, f"{resolution}/d:Assgnmt/d:Assgnr/d:Agt/d:FinInstnId/d:BICFI") == ["CBRFRUMMXXX"]
    assert _texts(document, f"{resolution}/d:Assgnmt/d:Assgne/d:Agt/d:FinInstnId/d:BICFI") == ["SABRRUMMXXX"]
    assert _texts(document, f"{resolution}/d:Assgnmt/d:CreDtTm") == ["2026-04-17T09:14:03+03:00"]
    assert _texts(document, f"{resolution}/d:RslvdCase/d:Id") == ["SABR-CASE-2026-000391"]
    assert _texts(document, f"{resolution}/d:Sts/d:Conf") == ["CNCL"]
    tx = f"{resolution}/d:CxlDtls/d:TxInfAndSts"
    assert _texts(document, f"{tx}/d:OrgnlGrpInf/d:OrgnlMsgId") == ["SABR20260417-0000802"]
    assert _texts(document, f"{tx}/d:OrgnlUETR") == ["5f0c2a7e-8d3b-4c1e-9a6f-2b7d4e8c1a90"]
    assert _texts(document, f"{tx}/d:TxCxlSts") == ["ACCR"]
    assert _texts(document, f"{tx}/d:OrgnlIntrBkSttlmAmt") == ["312450.75"]
    assert document.xpath(f"{tx}/d:OrgnlIntrBkSttlmAmt/@Ccy", namespaces={"d": camt_029.namespace}) == ["RUB"]
    assert _texts(document, f"{tx}/d:OrgnlIntrBkSttlmDt") == ["2026-04-20"]
    assert _texts(document, f"{tx}/d:OrgnlClrSysRef") == []
    assert _texts(document, f"{tx}/d:CxlStsRsnInf") == []


@pytest.mark.parametrize(
    ("code", "expected", "text"),
    [
        (no_original_transaction, "NOOR", "Платёж с UETR 8c1f0e52-… шлюзу не поступал"),
        (already_returned, "ARDT", "Средства возвращены сообщением pacs.004 VTBR-RTR-20260414-000049"),
        (legal_decision, "LEGL", None),
    ],
)
def test_rejected_cancellation_carries_its_reason(code: str, expected: str, text: str | None) -> None:
    assert code == expected
    resolution = ResolutionOfInvestigation(
        assignment=CaseAssignment(
            "CBRF-RSL-20260417-000013", central_bank, alfa, datetime(2026, 4, 17, 6, 2, tzinfo=UTC)
        ),
        resolved_case=None,
        status=InvestigationStatus.RJCR,
        transactions=(
            CancellationTransactionStatus(
                cancellation_status_id=None,
                original_message=None,
                original_instruction_id=None,
                original_end_to_end_id="ALFA-E2E-77120",
                original_transaction_id=None,
                original_clearing_system_reference=None,
                original_uetr=None,
                status=CancellationStatus.RJCR,
                reasons=(cancellation_reason(code, text),),
                original_amount=None,
                original_settlement_date=None,
            ),
        ),
    )
    document = camt_029_001_09.write(resolution)
    _valid_everywhere(document, camt_029)
    tx = "/d:Document/d:RsltnOfInvstgtn/d:CxlDtls/d:TxInfAndSts"
    assert _texts(document, "/d:Document/d:RsltnOfInvstgtn/d:Sts/d:Conf") == ["RJCR"]
    assert _texts(document, f"{tx}/d:TxCxlSts") == ["RJCR"]
    assert _texts(document, f"{tx}/d:CxlStsRsnInf/d:Rsn/d:Cd") == [expected]
    assert _texts(document, f"{tx}/d:CxlStsRsnInf/d:AddtlInf") == ([] if text is None else [text])
    assert _texts(document, "/d:Document/d:RsltnOfInvstgtn/d:Assgnmt/d:CreDtTm") == ["2026-04-17T06:02:00Z"]


def test_cancellation_reason_is_trimmed_to_one_line_and_made_xml_safe() -> None:
    assert cancellation_reason("NOOR", "Я" * 200) == CancellationReason("NOOR", ("Я" * 105,))
    assert cancellation_reason("ARDT", "a\x00b") == CancellationReason("ARDT", ("a\ufffdb",))
    assert cancellation_reason("LEGL", "") == CancellationReason("LEGL", ())


def test_the_gateways_own_resolution_reads_back() -> None:
    resolution = _cancelled_warehoused_payment()
    message = unwrapped(resolution_message(_header(sberbank, "camt.029.001.09"), resolution))
    assert compiled().validate(message) == []
    assert camt_029_reader.read(message) == resolution


# --------------------------------------------------------------------------------------------------------------
# camt.025: the receipt for a liquidity transfer
# --------------------------------------------------------------------------------------------------------------


def test_receipt_for_a_settled_liquidity_transfer() -> None:
    receipt = Receipt(
        message_id="CBRF-RCT-20260415-0000044",
        creation_time=datetime(2026, 4, 15, 8, 30, 3, 114_000, tzinfo=msk),
        details=(
            ReceiptDetails(
                original_message_id="SABR-LQT-20260415-0001",
                original_message_name_id="camt.050.001.05",
                original_transaction_id="SABR-LQT-20260415-0001-1",
                handlings=(request_handling(PaymentStatus.ACSC, "Зачислено на кошелёк SABRRUMMXXX/main"),),
            ),
        ),
    )
    document = camt_025_001_05.write(receipt)
    _valid_everywhere(document, camt_025)
    details = "/d:Document/d:Rct/d:RctDtls"
    assert _texts(document, "/d:Document/d:Rct/d:MsgHdr/d:CreDtTm") == ["2026-04-15T08:30:03.114000+03:00"]
    assert _texts(document, f"{details}/d:OrgnlMsgId/d:MsgId") == ["SABR-LQT-20260415-0001"]
    assert _texts(document, f"{details}/d:OrgnlMsgId/d:MsgNmId") == ["camt.050.001.05"]
    assert _texts(document, f"{details}/d:OrgnlPmtId/d:TxId") == ["SABR-LQT-20260415-0001-1"]
    assert _texts(document, f"{details}/d:ReqHdlg/d:StsCd") == ["ACSC"]
    assert _texts(document, f"{details}/d:ReqHdlg/d:Desc") == ["Зачислено на кошелёк SABRRUMMXXX/main"]


def test_receipt_for_a_refused_liquidity_transfer_gives_status_then_reason() -> None:
    path = "/Envelope/Document/LqdtyCdtTrf/LqdtyCdtTrf/TrfdAmt/AmtWthCcy"
    text = "на корреспондентском счёте 30101810400000000225 доступно " + "9" * 80
    refusal = Rejection("AM04", path, text, Layer.BUSINESS)
    handling = request_handling_for(refusal)
    assert handling.status_code == "AM04"
    assert handling.description is not None and len(handling.description) == 140  # Max140Text, trimmed
    assert handling.description.startswith(f"{path}: на корреспондентском счёте")
    receipt = Receipt(
        "CBRF-RCT-20260415-0000045",
        None,
        (ReceiptDetails("VTBR-LQT-20260415-0007", None, None, (request_handling(PaymentStatus.RJCT), handling)),),
    )
    document = camt_025_001_05.write(receipt)
    _valid_everywhere(document, camt_025)
    assert _texts(document, "/d:Document/d:Rct/d:RctDtls/d:ReqHdlg/d:StsCd") == ["RJCT", "AM04"]
    assert _texts(document, "/d:Document/d:Rct/d:MsgHdr/d:CreDtTm") == []
    assert _texts(document, "/d:Document/d:Rct/d:RctDtls/d:OrgnlPmtId") == []


# --------------------------------------------------------------------------------------------------------------
# camt.052 / camt.053 / camt.054: reports on a wallet
# --------------------------------------------------------------------------------------------------------------

crub_wallet = "CRUB-WALLET"
sberbank_wallet = ReportedAccount(
    account=AccountId("SABRRUMMXXX/main", crub_wallet),
    name="Цифровой рубль: основной кошелёк",
    owner=PartyIdentification("ПАО Сбербанк", sberbank),
    servicer_bic=central_bank,
)
liquidity_in = BankTransactionCode("CAMT", "ACCB", "TOPG", "CRUB-LQT-IN", central_bank)
liquidity_out = BankTransactionCode("CAMT", "ACCB", "SWEP", "CRUB-LQT-OUT", central_bank)
payment_in = BankTransactionCode("PMNT", "RCDT", "DMCT", None, None)
payment_out = BankTransactionCode("PMNT", "ICDT", "DMCT", None, None)
return_in = BankTransactionCode("PMNT", "ICDT", "RRTN", None, None)


def _transaction(**fields: Any) -> EntryTransaction:
    values: dict[str, Any] = dict.fromkeys(EntryTransaction.__dataclass_fields__)
    values.update(fields)
    return EntryTransaction(**values)


def _booked(
    reference: str,
    kopecks: int,
    direction: CreditDebit,
    at: datetime,
    code: BankTransactionCode,
    *transactions: EntryTransaction,
) -> Entry:
    return Entry(
        reference=reference,
        kopecks=kopecks,
        direction=direction,
        status=EntryStatus.BOOK,
        booking_date=at,
        value_date=at.date(),
        account_servicer_reference=reference,
        bank_transaction_code=code,
        transactions=transactions,
        additional_info=None,
    )


def _day_of_sberbank_wallet(closing_kopecks: int) -> AccountStatement:
    """14 April 2026 on Sberbank's wallet: liquidity in, a payment to VTB, one from Alfa-Bank, a return from VTB, the
    evening sweep back to the RTGS account."""
    day = date(2026, 4, 14)
    return AccountStatement(
        statement_id="CBRF-STM-0000108-1",
        pagination=Pagination(1, True),
        electronic_sequence_number=103,
        creation_time=datetime(2026, 4, 14, 23, 59, 59, tzinfo=msk),
        period=Period(datetime(2026, 4, 14, 0, 0, tzinfo=msk), datetime(2026, 4, 14, 23, 59, 59, tzinfo=msk)),
        account=sberbank_wallet,
        opening=Balance(BalanceType.OPBD, 125_000_000_000, day),  # 1 250 000 000.00
        closing=Balance(BalanceType.CLBD, closing_kopecks, day),
        available=Balance(BalanceType.CLAV, closing_kopecks, day),
        entries=(
            _booked(
                "CRUB-0000000001161820",
                300_000_000_000,  # 3 000 000 000.00
                CreditDebit.CRDT,
                datetime(2026, 4, 14, 8, 30, 1, tzinfo=msk),
                liquidity_in,
                _transaction(message_id="SABR-LQT-20260414-0001", end_to_end_id="LQT-20260414-MAIN-01"),
            ),
            _booked(
                "CRUB-0000000001163377",
                1_248_000_000,  # 12 480 000.00
                CreditDebit.DBIT,
                datetime(2026, 4, 14, 11, 5, 52, tzinfo=msk),
                payment_out,
                _transaction(
                    message_id="SABR20260414-0001877",
                    end_to_end_id="PP1902-20260414",
                    uetr=uuid.UUID("7fd55263-a2a2-4698-8420-49bcf822c7d1"),
                    transaction_id="SABR20260414-0001877-001",
                    kopecks=1_248_000_000,
                    direction=CreditDebit.DBIT,
                    debtor=PartyIdentification("АО «Уралхимпром»", None),
                    creditor=PartyIdentification("ООО «ТехноПарк Инжиниринг»", None),
                    creditor_account=AccountId("40702810500000031337", None),
                    debtor_agent_bic=sberbank,
                    creditor_agent_bic=vtb,
                ),
            ),
            _booked(
                "CRUB-0000000001164051",
                39_450_000,  # 394 500.00
                CreditDebit.CRDT,
                datetime(2026, 4, 14, 13, 26, 9, tzinfo=msk),
                payment_in,
                _transaction(message_id="ALFA-20260414-001244", debtor_agent_bic=alfa, creditor_agent_bic=sberbank),
            ),
            _booked(
                "CRUB-0000000001165512",
                5_730_000,  # 57 300.00
                CreditDebit.CRDT,
                datetime(2026, 4, 14, 15, 40, 33, tzinfo=msk),
                return_in,
                _transaction(message_id="VTBR-RTR-20260414-000049", additional_info="Возврат: счёт получателя закрыт"),
            ),
            _booked(
                "CRUB-0000000001169004",
                200_000_000_000,  # 2 000 000 000.00
                CreditDebit.DBIT,
                datetime(2026, 4, 14, 19, 30, tzinfo=msk),
                liquidity_out,
            ),
        ),
        additional_info=None,
    )


def _statement_report(statement: AccountStatement) -> BankToCustomerReport:
    return BankToCustomerReport(
        header=ReportHeader(
            message_id="CBRF-STM-20260415-0000108",
            creation_time=datetime(2026, 4, 15, 12, 0, 9, tzinfo=msk),
            recipient=PartyIdentification(None, sberbank),
            original_query=OriginalMessage("SABR-ARQ-20260415-0012", "camt.060.001.05", None),
        ),
        statements=(statement,),
    )


def test_statement_balances_and_totals_add_up_to_the_kopeck() -> None:
    # Credits 3 000 000 000.00 + 394 500.00 + 57 300.00 = 3 000 451 800.00 (3 entries);
    # debits 12 480 000.00 + 2 000 000 000.00 = 2 012 480 000.00 (2 entries);
    # closing 1 250 000 000.00 + 3 000 451 800.00 - 2 012 480 000.00 = 2 237 971 800.00.
    document = camt_053_001_08.write(_statement_report(_day_of_sberbank_wallet(223_797_180_000)))
    _valid_everywhere(document, camt_053)
    stmt = "/d:Document/d:BkToCstmrStmt/d:Stmt"
    assert _texts(document, f"{stmt}/d:Bal/d:Tp/d:CdOrPrtry/d:Cd") == ["OPBD", "CLBD", "CLAV"]
    assert _texts(document, f"{stmt}/d:Bal/d:Amt") == ["1250000000.00", "2237971800.00", "2237971800.00"]
    assert _texts(document, f"{stmt}/d:Bal/d:CdtDbtInd") == ["CRDT", "CRDT", "CRDT"]
    assert _texts(document, f"{stmt}/d:Bal/d:Dt/d:Dt") == ["2026-04-14"] * 3
    summary = f"{stmt}/d:TxsSummry"
    assert _texts(document, f"{summary}/d:TtlNtries/d:NbOfNtries") == ["5"]
    assert _texts(document, f"{summary}/d:TtlNtries/d:Sum") == ["5012931800.00"]
    assert _texts(document, f"{summary}/d:TtlNtries/d:TtlNetNtry/d:Amt") == ["987971800.00"]
    assert _texts(document, f"{summary}/d:TtlNtries/d:TtlNetNtry/d:CdtDbtInd") == ["CRDT"]
    assert _texts(document, f"{summary}/d:TtlCdtNtries/d:NbOfNtries") == ["3"]
    assert _texts(document, f"{summary}/d:TtlCdtNtries/d:Sum") == ["3000451800.00"]
    assert _texts(document, f"{summary}/d:TtlDbtNtries/d:NbOfNtries") == ["2"]
    assert _texts(document, f"{summary}/d:TtlDbtNtries/d:Sum") == ["2012480000.00"]
    assert _texts(document, f"{stmt}/d:Ntry/d:Amt") == [
        "3000000000.00",
        "12480000.00",
        "394500.00",
        "57300.00",
        "2000000000.00",
    ]
    assert _texts(document, f"{stmt}/d:Acct/d:Ccy") == ["RUB"]
    assert _texts(document, f"{stmt}/d:Acct/d:Id/d:Othr/d:Id") == ["SABRRUMMXXX/main"]
    assert _texts(document, f"{stmt}/d:Acct/d:Id/d:Othr/d:SchmeNm/d:Prtry") == ["CRUB-WALLET"]
    assert _texts(document, f"{stmt}/d:Acct/d:Svcr/d:FinInstnId/d:BICFI") == ["CBRFRUMMXXX"]
    assert _texts(document, f"{stmt}/d:StmtPgntn/d:LastPgInd") == ["true"]
    tx = f"{stmt}/d:Ntry[2]/d:NtryDtls/d:TxDtls"
    assert _texts(document, f"{tx}/d:Refs/d:UETR") == ["7fd55263-a2a2-4698-8420-49bcf822c7d1"]
    assert _texts(document, f"{tx}/d:RltdPties/d:Cdtr/d:Pty/d:Nm") == ["ООО «ТехноПарк Инжиниринг»"]
    assert _texts(document, f"{tx}/d:RltdAgts/d:CdtrAgt/d:FinInstnId/d:BICFI") == ["VTBRRUMMXXX"]
    assert _texts(document, f"{stmt}/d:Ntry[5]/d:BkTxCd/d:Prtry/d:Cd") == ["CRUB-LQT-OUT"]
    assert _texts(document, "/d:Document/d:BkToCstmrStmt/d:GrpHdr/d:MsgRcpt/d:Id/d:OrgId/d:AnyBIC") == [sberbank]


@pytest.mark.parametrize("closing_kopecks", [223_797_180_001, 223_797_179_999, 223_797_180_000 + 2 * 1_248_000_000])
def test_a_statement_that_does_not_add_up_cannot_be_built(closing_kopecks: int) -> None:
    # One kopeck either way, or a debit counted as a credit.
    with pytest.raises(AssertionError, match="CBRF-STM-0000108-1"):
        _day_of_sberbank_wallet(closing_kopecks)


def test_intraday_report_leaves_the_pending_payment_out_of_booked_figures() -> None:
    # Interim booked = 2 237 971 800.00 + 5 000 000 000.00 + 730 000.00 - 2 150 000.00 = 7 236 551 800.00;
    # the queued 40 000 000.00 is in no booked figure, only in what is available: 7 196 551 800.00.
    noon = datetime(2026, 4, 15, 12, 0, tzinfo=msk)
    pending = Entry(
        reference=None,
        kopecks=4_000_000_000,
        direction=CreditDebit.DBIT,
        status=EntryStatus.PDNG,
        booking_date=None,
        value_date=date(2026, 4, 15),
        account_servicer_reference=None,
        bank_transaction_code=payment_out,
        transactions=(_transaction(message_id="SABR20260415-0002530", end_to_end_id="KD-2026-0311"),),
        additional_info="В очереди: превышен лимит на перевод для получателя",
    )
    statement = AccountStatement(
        statement_id="CBRF-RPT-0000391-1",
        pagination=None,
        electronic_sequence_number=3,
        creation_time=datetime(2026, 4, 15, 12, 0, 7, tzinfo=msk),
        period=Period(datetime(2026, 4, 15, 0, 0, tzinfo=msk), noon),
        account=sberbank_wallet,
        opening=Balance(BalanceType.OPBD, 223_797_180_000, date(2026, 4, 15)),
        closing=Balance(BalanceType.ITBD, 723_655_180_000, noon),
        available=Balance(BalanceType.ITAV, 719_655_180_000, noon),
        entries=(
            _booked("CRUB-0000000001187702", 500_000_000_000, CreditDebit.CRDT, noon.replace(hour=8), liquidity_in),
            _booked("CRUB-0000000001190115", 73_000_000, CreditDebit.CRDT, noon.replace(hour=9), payment_in),
            _booked("CRUB-0000000001191563", 215_000_000, CreditDebit.DBIT, noon.replace(hour=10), payment_out),
            pending,
        ),
        additional_info=None,
    )
    document = camt_052_001_08.write(_statement_report(statement))
    _valid_everywhere(document, camt_052)
    rpt = "/d:Document/d:BkToCstmrAcctRpt/d:Rpt"
    assert _texts(document, f"{rpt}/d:Bal/d:Tp/d:CdOrPrtry/d:Cd") == ["OPBD", "ITBD", "ITAV"]
    assert _texts(document, f"{rpt}/d:Bal/d:Amt") == ["2237971800.00", "7236551800.00", "7196551800.00"]
    assert _texts(document, f"{rpt}/d:Bal[2]/d:Dt/d:DtTm") == ["2026-04-15T12:00:00+03:00"]
    summary = f"{rpt}/d:TxsSummry"
    assert _texts(document, f"{summary}/d:TtlNtries/d:NbOfNtries") == ["3"]
    assert _texts(document, f"{summary}/d:TtlNtries/d:Sum") == ["5002880000.00"]
    assert _texts(document, f"{summary}/d:TtlNtries/d:TtlNetNtry/d:Amt") == ["4998580000.00"]
    assert _texts(document, f"{summary}/d:TtlCdtNtries/d:Sum") == ["5000730000.00"]
    assert _texts(document, f"{summary}/d:TtlDbtNtries/d:Sum") == ["2150000.00"]
    assert _texts(document, f"{rpt}/d:Ntry/d:Sts/d:Cd") == ["BOOK", "BOOK", "BOOK", "PDNG"]
    assert _texts(document, f"{rpt}/d:Ntry[4]/d:BookgDt") == []
    assert _texts(document, f"{rpt}/d:Ntry[4]/d:AddtlNtryInf") == [pending.additional_info]


def test_issuance_account_is_reported_below_zero_as_debit_balances() -> None:
    # The central bank's issuance account: -50 000 000 000.00 (the supply), a mint of 5 000 000 000.00 debits it,
    # closing -55 000 000 000.00.
    day = date(2026, 4, 15)
    statement = AccountStatement(
        statement_id="CBRF-STM-ISSUANCE-20260415",
        pagination=None,
        electronic_sequence_number=None,
        creation_time=None,
        period=None,
        account=ReportedAccount(
            AccountId("CBRFRUMMXXX/issuance", crub_wallet), None, PartyIdentification("Банк России", None), None
        ),
        opening=Balance(BalanceType.OPBD, -5_000_000_000_000, day),
        closing=Balance(BalanceType.CLBD, -5_500_000_000_000, day),
        available=None,
        entries=(
            _booked(
                "CRUB-0000000001187701",
                500_000_000_000,
                CreditDebit.DBIT,
                datetime(2026, 4, 15, 8, 30, 2, tzinfo=msk),
                BankTransactionCode("CAMT", "ACCB", "TOPG", "CRUB-MINT", central_bank),
            ),
        ),
        additional_info="Эмиссия цифрового рубля",
    )
    report = BankToCustomerReport(
        ReportHeader("CBRF-STM-20260416-0000001", datetime(2026, 4, 16, 0, 5, tzinfo=msk), None, None), (statement,)
    )
    document = camt_053_001_08.write(report)
    _valid_everywhere(document, camt_053)
    stmt = "/d:Document/d:BkToCstmrStmt/d:Stmt"
    assert _texts(document, f"{stmt}/d:Bal/d:Amt") == ["50000000000.00", "55000000000.00"]
    assert _texts(document, f"{stmt}/d:Bal/d:CdtDbtInd") == ["DBIT", "DBIT"]
    assert _texts(document, f"{stmt}/d:TxsSummry/d:TtlNtries/d:TtlNetNtry/d:CdtDbtInd") == ["DBIT"]
    assert _texts(document, f"{stmt}/d:TxsSummry/d:TtlCdtNtries/d:NbOfNtries") == ["0"]
    assert _texts(document, f"{stmt}/d:TxsSummry/d:TtlCdtNtries/d:Sum") == ["0.00"]
    assert _texts(document, f"{stmt}/d:AddtlStmtInf") == ["Эмиссия цифрового рубля"]


def test_entries_that_do_not_hold_together_cannot_be_built() -> None:
    at = datetime(2026, 4, 14, 11, 5, 52, tzinfo=msk)
    part = _transaction(kopecks=1_000_000, direction=CreditDebit.DBIT)
    with pytest.raises(AssertionError):  # two transactions of 10 000.00 are not an entry of 30 000.00
        _booked("CRUB-1", 3_000_000, CreditDebit.DBIT, at, payment_out, part, part)
    with pytest.raises(AssertionError):  # a debit transaction in a credit entry
        _booked("CRUB-1", 1_000_000, CreditDebit.CRDT, at, payment_in, part)
    assert _booked("CRUB-1", 2_000_000, CreditDebit.DBIT, at, payment_out, part, part).kopecks == 2_000_000
    with pytest.raises(AssertionError):  # booked, but not when
        Entry(None, 100, CreditDebit.CRDT, EntryStatus.BOOK, None, None, None, payment_in, (), None)
    with pytest.raises(AssertionError):  # money is never a float
        kopecks: Any = 100.0
        Entry(None, kopecks, CreditDebit.CRDT, EntryStatus.PDNG, None, None, None, payment_in, (), None)


def _vtb_credited() -> DebitCreditNotification:
    settled = datetime(2026, 3, 16, 10, 42, 9, tzinfo=msk)
    return DebitCreditNotification(
        header=ReportHeader("CBRF-NTF-20260316-0057120", settled, None, None),
        notifications=(
            AccountNotification(
                notification_id="CBRF-NTF-0057120-1",
                pagination=None,
                electronic_sequence_number=57120,
                creation_time=settled,
                period=None,
                account=ReportedAccount(
                    AccountId("VTBRRUMMXXX/main", crub_wallet),
                    None,
                    PartyIdentification("Банк ВТБ (ПАО)", vtb),
                    central_bank,
                ),
                entries=(
                    _booked(
                        "CRUB-0000000000871234",
                        25_000_000,  # 250 000.00
                        CreditDebit.CRDT,
                        settled,
                        payment_in,
                        _transaction(
                            message_id="SABR20260316-0000417",
                            instruction_id="SABR-PP-001523",
                            end_to_end_id="PP1523-20260316",
                            uetr=uuid.UUID("1edf9ec9-9cf3-437b-b270-1f6ccd9638c6"),
                            transaction_id="SABR20260316-0000417-001",
                            clearing_system_reference="CRUB-0000000000871234",
                            kopecks=25_000_000,
                            direction=CreditDebit.CRDT,
                            debtor_account=AccountId("SABRRUMMXXX/main", crub_wallet),
                            creditor_account=AccountId("VTBRRUMMXXX/main", crub_wallet),
                            instructing_agent_bic=sberbank,
                            instructed_agent_bic=vtb,
                        ),
                    ),
                ),
                additional_info=None,
            ),
        ),
    )


def test_notification_of_a_credit_to_vtbs_wallet() -> None:
    document = camt_054_001_08.write(_vtb_credited())
    _valid_everywhere(document, camt_054)
    ntfctn = "/d:Document/d:BkToCstmrDbtCdtNtfctn/d:Ntfctn"
    assert _texts(document, f"{ntfctn}/d:ElctrncSeqNb") == ["57120"]
    assert _texts(document, f"{ntfctn}/d:Acct/d:Ownr/d:Nm") == ["Банк ВТБ (ПАО)"]
    assert _texts(document, f"{ntfctn}/d:Acct/d:Ownr/d:Id/d:OrgId/d:AnyBIC") == [vtb]
    assert _texts(document, f"{ntfctn}/d:Ntry/d:Amt") == ["250000.00"]
    assert _texts(document, f"{ntfctn}/d:Ntry/d:CdtDbtInd") == ["CRDT"]
    assert _texts(document, f"{ntfctn}/d:Ntry/d:BookgDt/d:DtTm") == ["2026-03-16T10:42:09+03:00"]
    assert _texts(document, f"{ntfctn}/d:Ntry/d:ValDt/d:Dt") == ["2026-03-16"]
    assert _texts(document, f"{ntfctn}/d:Ntry/d:BkTxCd/d:Domn/d:Fmly/d:SubFmlyCd") == ["DMCT"]
    tx = f"{ntfctn}/d:Ntry/d:NtryDtls/d:TxDtls"
    assert _texts(document, f"{tx}/d:Refs/*") == [
        "SABR20260316-0000417",
        "SABR-PP-001523",
        "PP1523-20260316",
        "1edf9ec9-9cf3-437b-b270-1f6ccd9638c6",
        "SABR20260316-0000417-001",
        "CRUB-0000000000871234",
    ]
    assert _texts(document, f"{tx}/d:RltdPties/d:DbtrAcct/d:Id/d:Othr/d:Id") == ["SABRRUMMXXX/main"]
    assert _texts(document, f"{tx}/d:RltdAgts/*/d:FinInstnId/d:BICFI") == [sberbank, vtb]
    assert _texts(document, f"{ntfctn}/d:Bal") == []
    assert _texts(document, f"{ntfctn}/d:TxsSummry") == []


# --------------------------------------------------------------------------------------------------------------
# Envelopes and bounds
# --------------------------------------------------------------------------------------------------------------


def _balanced_day() -> AccountStatement:
    return _day_of_sberbank_wallet(223_797_180_000)


def _receipt() -> Receipt:
    return Receipt(
        "CBRF-RCT-20260415-0000046",
        None,
        (ReceiptDetails("SABR-LQT-20260415-0002", "camt.050.001.05", None, (RequestHandling("PDNG", None),)),),
    )


@pytest.mark.parametrize(
    ("message_id", "write"),
    [
        (camt_029, lambda header: resolution_message(header, _cancelled_warehoused_payment())),
        (camt_025, lambda header: receipt_message(header, _receipt())),
        (camt_052, lambda header: account_report_message(header, _statement_report(_balanced_day()))),
        (camt_053, lambda header: statement_message(header, _statement_report(_balanced_day()))),
        (camt_054, lambda header: notification_message(header, _vtb_credited())),
    ],
)
def test_envelope_helpers_wrap_each_answer_with_its_header(
    message_id: MessageId, write: Callable[[BusinessHeader], bytes]
) -> None:
    header = _header(sberbank, str(message_id))
    data = write(header)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    message = unwrapped(data)
    assert (message.kind, message.message_id) == (EnvelopeKind.GATEWAY, message_id)
    assert compiled().validate(message) == []
    assert message.app_hdr is not None
    assert head_reader.read(message.app_hdr) == header
    assert_official(message.app_hdr, head_001)
    assert_official(message.document, message_id)
    with pytest.raises(AssertionError):  # the header must name the message it travels with
        write(_header(sberbank, "pacs.002.001.10"))


def test_a_full_page_of_entries_is_a_message_the_gateway_could_read() -> None:
    """report_entries_max entries, each with every field the writer knows, parse within the intake's own bounds."""
    at = datetime(2026, 4, 14, 11, 5, 52, 123_456, tzinfo=msk)
    full = Entry(
        reference="CRUB-0000000001163377",
        kopecks=1_248_000_000,
        direction=CreditDebit.DBIT,
        status=EntryStatus.BOOK,
        booking_date=at,
        value_date=at.date(),
        account_servicer_reference="CRUB-0000000001163377",
        bank_transaction_code=BankTransactionCode("PMNT", "ICDT", "DMCT", "PLATEZHNOE-PORUCHENIE", central_bank),
        transactions=(
            EntryTransaction(
                message_id="SABR20260414-0001877",
                account_servicer_reference="CRUB-0000000001163377",
                instruction_id="SABR-PP-001902",
                end_to_end_id="PP1902-20260414",
                uetr=uuid.UUID("7fd55263-a2a2-4698-8420-49bcf822c7d1"),
                transaction_id="SABR20260414-0001877-001",
                clearing_system_reference="CRUB-0000000001163377",
                kopecks=1_248_000_000,
                direction=CreditDebit.DBIT,
                debtor=PartyIdentification("АО «Уралхимпром»", None),
                debtor_account=AccountId("40702810938000012345", None),
                creditor=PartyIdentification("ООО «ТехноПарк Инжиниринг»", None),
                creditor_account=AccountId("40702810500000031337", None),
                instructing_agent_bic=sberbank,
                instructed_agent_bic=vtb,
                debtor_agent_bic=sberbank,
                creditor_agent_bic=vtb,
                additional_info="Оплата по счёту № 3391 от 07.04.2026 за пусконаладочные работы",
            ),
        ),
        additional_info="Исходящий платёж",
    )
    day = date(2026, 4, 14)
    opening = 10**15
    statement = AccountStatement(
        statement_id="CBRF-STM-0000108-1",
        pagination=Pagination(1, False),
        electronic_sequence_number=103,
        creation_time=at,
        period=Period(at, at),
        account=sberbank_wallet,
        opening=Balance(BalanceType.OPBD, opening, day),
        closing=Balance(BalanceType.ITBD, opening - bounds.report_entries_max * full.kopecks, at),
        available=Balance(BalanceType.ITAV, opening - bounds.report_entries_max * full.kopecks, at),
        entries=(full,) * bounds.report_entries_max,
        additional_info=None,
    )
    with pytest.raises(AssertionError):  # one entry more is a programmer's error: report it in pages
        dataclasses.replace(
            statement,
            entries=(full,) * (bounds.report_entries_max + 1),
            closing=Balance(BalanceType.ITBD, opening - (bounds.report_entries_max + 1) * full.kopecks, at),
        )
    data = statement_message(_header(sberbank, "camt.053.001.08"), _statement_report(statement))
    assert len(data) < bounds.message_bytes_max
    root = parse_bounded(data)
    assert not isinstance(root, Rejection), root
    assert sum(1 for _ in root.iter(etree.Element)) < bounds.xml_elements_max


# --------------------------------------------------------------------------------------------------------------
# Properties: camt.029 reads back; camt.025/052/053/054 decode to the values written (xmlschema, official XSD)
# --------------------------------------------------------------------------------------------------------------

properties = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cancellation_reasons = st.builds(CancellationReason, optional(codes), st.lists(text(105), max_size=2).map(tuple))
cancellation_transactions = st.builds(
    CancellationTransactionStatus,
    cancellation_status_id=optional(text(35)),
    original_message=optional(strategies.original_messages),
    original_instruction_id=optional(text(35)),
    original_end_to_end_id=optional(text(35)),
    original_transaction_id=optional(text(35)),
    original_clearing_system_reference=optional(text(35)),
    original_uetr=optional(uetrs),
    status=st.sampled_from(CancellationStatus),
    reasons=st.lists(cancellation_reasons, max_size=2).map(tuple),
    original_amount=optional(strategies.amounts),
    original_settlement_date=optional(dates),
)
resolutions = st.builds(
    ResolutionOfInvestigation,
    assignment=st.builds(CaseAssignment, text(35), bics, bics, datetimes),
    resolved_case=optional(st.builds(ResolvedCase, text(35), bics)),
    status=st.sampled_from(InvestigationStatus),
    transactions=st.lists(cancellation_transactions, max_size=3).map(tuple),
)


@properties
@given(strategies.headers("camt.029.001.09"), resolutions)
def test_resolution_round_trip(header: BusinessHeader, resolution: ResolutionOfInvestigation) -> None:
    message = unwrapped(resolution_message(header, resolution))
    assert compiled().validate(message) == []
    assert message.app_hdr is not None
    assert head_reader.read(message.app_hdr) == header
    assert camt_029_reader.read(message) == resolution
    assert_official(message.document, camt_029)


receipts = st.builds(
    Receipt,
    message_id=text(35),
    creation_time=optional(datetimes),
    details=st.lists(
        st.builds(
            ReceiptDetails,
            original_message_id=text(35),
            original_message_name_id=optional(text(35)),
            original_transaction_id=optional(text(35)),
            handlings=st.lists(
                st.builds(RequestHandling, st.from_regex(r"[a-zA-Z0-9]{1,4}", fullmatch=True), optional(text(140))),
                max_size=3,
            ).map(tuple),
        ),
        min_size=1,
        max_size=3,
    ).map(tuple),
)


def _decoded(document: etree._Element, message_id: MessageId) -> dict[str, Any]:
    """The Document as the official XSD's decoder (xmlschema, not lxml) reads it."""
    decoded = official_xmlschema(str(message_id)).decode(document)
    assert isinstance(decoded, dict)
    return decoded


def _at(data: Any, *path: str | int) -> Any:
    """data[path[0]][path[1]]..., or None where a step is missing: what an optional element decodes to."""
    for step in path:
        if data is None:
            return None
        data = data.get(step) if isinstance(step, str) else data[step]
    return data


def _same_time(decoded: str | None, value: datetime | None) -> None:
    if value is None:
        assert decoded is None
        return
    assert decoded is not None
    read = datetime.fromisoformat(decoded)
    assert (read, read.utcoffset()) == (value, value.utcoffset())


def _same_date_or_time(decoded: dict[str, str] | None, value: date | datetime | None) -> None:
    if value is None:
        assert decoded is None
    elif isinstance(value, datetime):
        assert decoded is not None and set(decoded) == {"DtTm"}
        _same_time(decoded["DtTm"], value)
    else:
        assert decoded == {"Dt": value.isoformat()}


def _kopecks(decoded: Decimal) -> int:
    hundredths = decoded * 100
    assert hundredths == hundredths.to_integral_value(), decoded
    return int(hundredths)


def _rub_amount(decoded: dict[str, Any]) -> int:
    assert decoded["@Ccy"] == "RUB"
    return _kopecks(decoded["$"])


@properties
@given(receipts)
def test_receipt_decodes_to_what_was_written(receipt: Receipt) -> None:
    document = camt_025_001_05.write(receipt)
    assert_official(document, camt_025)
    decoded = _decoded(document, camt_025)["Rct"]
    assert decoded["MsgHdr"]["MsgId"] == receipt.message_id
    _same_time(_at(decoded, "MsgHdr", "CreDtTm"), receipt.creation_time)
    assert len(decoded["RctDtls"]) == len(receipt.details)
    for got, want in zip(decoded["RctDtls"], receipt.details, strict=True):
        assert got["OrgnlMsgId"]["MsgId"] == want.original_message_id
        assert _at(got, "OrgnlMsgId", "MsgNmId") == want.original_message_name_id
        assert _at(got, "OrgnlPmtId", "TxId") == want.original_transaction_id
        handlings = [(h["StsCd"], h.get("Desc")) for h in got.get("ReqHdlg", [])]
        assert handlings == [(h.status_code, h.description) for h in want.handlings]


# Statements: balances drawn so that they add up, by the test's own arithmetic.

_codes = st.from_regex(r"[A-Z]{4}", fullmatch=True)
parties = st.builds(PartyIdentification, text(140), optional(bics)) | st.builds(
    PartyIdentification, st.none(), bics
)
account_ids = st.builds(AccountId, text(34), optional(text(35)))
reported_accounts = st.builds(ReportedAccount, account_ids, optional(text(70)), optional(parties), optional(bics))
transaction_codes = st.builds(BankTransactionCode, _codes, _codes, _codes, st.none(), st.none()) | st.builds(
    BankTransactionCode, _codes, _codes, _codes, text(35), optional(text(35))
)
date_or_times = dates | datetimes
entry_kopecks = st.integers(min_value=1, max_value=10**16)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    kopecks = draw(entry_kopecks)
    direction = draw(st.sampled_from(CreditDebit))
    status = draw(st.sampled_from(EntryStatus))
    count = draw(st.integers(min_value=0, max_value=2))
    # Either no transaction states its amount, or each does and they share the entry's amount between them.
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=kopecks), min_size=count, max_size=count))[1:])
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, kopecks], strict=True)] if count else []
    with_amounts = draw(st.booleans())
    transactions = tuple(
        EntryTransaction(
            message_id=draw(optional(text(35))),
            account_servicer_reference=draw(optional(text(35))),
            instruction_id=draw(optional(text(35))),
            end_to_end_id=draw(optional(text(35))),
            uetr=draw(optional(uetrs)),
            transaction_id=draw(optional(text(35))),
            clearing_system_reference=draw(optional(text(35))),
            kopecks=share if with_amounts else None,
            direction=direction if with_amounts else None,
            debtor=draw(optional(parties)),
            debtor_account=draw(optional(account_ids)),
            creditor=draw(optional(parties)),
            creditor_account=draw(optional(account_ids)),
            instructing_agent_bic=draw(optional(bics)),
            instructed_agent_bic=draw(optional(bics)),
            debtor_agent_bic=draw(optional(bics)),
            creditor_agent_bic=draw(optional(bics)),
            additional_info=draw(optional(text(500))),
        )
        for share in shares
    )
    return Entry(
        reference=draw(optional(text(35))),
        kopecks=kopecks,
        direction=direction,
        status=status,
        booking_date=draw(date_or_times if status is EntryStatus.BOOK else optional(date_or_times)),
        value_date=draw(optional(date_or_times)),
        account_servicer_reference=draw(optional(text(35))),
        bank_transaction_code=draw(transaction_codes),
        transactions=transactions,
        additional_info=draw(optional(text(500))),
    )


@st.composite
def periods(draw: st.DrawFn) -> Period:
    minutes = draw(optional(st.integers(min_value=-14 * 60, max_value=14 * 60)))
    zone = None if minutes is None else timezone(timedelta(minutes=minutes))
    naive = st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30))
    first, second = sorted(draw(st.lists(naive, min_size=2, max_size=2)))
    return Period(first.replace(tzinfo=zone), second.replace(tzinfo=zone))


@st.composite
def account_statements(draw: st.DrawFn) -> AccountStatement:
    drawn = tuple(draw(st.lists(entries(), max_size=4)))
    opening = draw(st.integers(min_value=-(10**17), max_value=10**17))
    # The test's own sum, not the code's: booked credits in, booked debits out.
    moved = 0
    for entry in drawn:
        if entry.status is EntryStatus.BOOK:
            moved += entry.kopecks if entry.direction is CreditDebit.CRDT else -entry.kopecks
    return AccountStatement(
        statement_id=draw(text(35)),
        pagination=draw(optional(st.builds(Pagination, st.integers(min_value=1, max_value=99_999), st.booleans()))),
        electronic_sequence_number=draw(optional(st.integers(min_value=0, max_value=10**18 - 1))),
        creation_time=draw(optional(datetimes)),
        period=draw(optional(periods())),
        account=draw(reported_accounts),
        opening=Balance(draw(st.sampled_from((BalanceType.OPBD, BalanceType.ITBD))), opening, draw(date_or_times)),
        closing=Balance(
            draw(st.sampled_from((BalanceType.CLBD, BalanceType.ITBD))), opening + moved, draw(date_or_times)
        ),
        available=draw(
            optional(
                st.builds(
                    Balance,
                    st.sampled_from((BalanceType.ITAV, BalanceType.CLAV)),
                    st.integers(min_value=-(10**17), max_value=10**17),
                    date_or_times,
                )
            )
        ),
        entries=drawn,
        additional_info=draw(optional(text(500))),
    )


report_headers = st.builds(
    ReportHeader,
    message_id=text(35),
    creation_time=datetimes,
    recipient=optional(parties),
    original_query=optional(strategies.original_messages),
)
bank_reports = st.builds(
    BankToCustomerReport, report_headers, st.lists(account_statements(), min_size=1, max_size=2).map(tuple)
)


def _same_party(decoded: dict[str, Any] | None, party: PartyIdentification | None) -> None:
    if party is None:
        assert decoded is None
        return
    assert decoded is not None
    assert (decoded.get("Nm"), _at(decoded, "Id", "OrgId", "AnyBIC")) == (party.name, party.bic)


def _same_account(decoded: dict[str, Any] | None, account: AccountId | None) -> None:
    if account is None:
        assert decoded is None
        return
    assert decoded is not None
    other = decoded["Id"]["Othr"]
    assert (other["Id"], _at(other, "SchmeNm", "Prtry")) == (account.identification, account.scheme)


def _same_header(decoded: dict[str, Any], header: ReportHeader) -> None:
    assert decoded["MsgId"] == header.message_id
    _same_time(decoded["CreDtTm"], header.creation_time)
    _same_party(decoded.get("MsgRcpt"), header.recipient)
    query = decoded.get("OrgnlBizQry")
    if header.original_query is None:
        assert query is None
    else:
        assert (query["MsgId"], query["MsgNmId"]) == (
            header.original_query.message_id,
            header.original_query.message_name_id,
        )
        _same_time(query.get("CreDtTm"), header.original_query.creation_time)


def _same_frame(decoded: dict[str, Any], item: AccountStatement | AccountNotification, pagination: str) -> None:
    """Pagination, sequence number, creation time, period and account, as AccountReport25 and its kin hold them."""
    page = decoded.get(pagination)
    if item.pagination is None:
        assert page is None
    else:
        assert (int(page["PgNb"]), page["LastPgInd"]) == (item.pagination.page_number, item.pagination.last_page)
    number = decoded.get("ElctrncSeqNb")
    assert (None if number is None else int(number)) == item.electronic_sequence_number
    _same_time(decoded.get("CreDtTm"), item.creation_time)
    period = decoded.get("FrToDt")
    if item.period is None:
        assert period is None
    else:
        _same_time(period["FrDtTm"], item.period.from_time)
        _same_time(period["ToDtTm"], item.period.to_time)
    account = decoded["Acct"]
    _same_account(account, item.account.account)
    assert (account["Ccy"], account.get("Nm")) == ("RUB", item.account.name)
    _same_party(account.get("Ownr"), item.account.owner)
    assert _at(account, "Svcr", "FinInstnId", "BICFI") == item.account.servicer_bic


def _same_entry(decoded: dict[str, Any], entry: Entry) -> None:
    assert decoded.get("NtryRef") == entry.reference
    assert (_rub_amount(decoded["Amt"]), decoded["CdtDbtInd"]) == (entry.kopecks, entry.direction.value)
    assert decoded["Sts"] == {"Cd": entry.status.value}
    _same_date_or_time(decoded.get("BookgDt"), entry.booking_date)
    _same_date_or_time(decoded.get("ValDt"), entry.value_date)
    assert decoded.get("AcctSvcrRef") == entry.account_servicer_reference
    code = entry.bank_transaction_code
    assert decoded["BkTxCd"]["Domn"] == {"Cd": code.domain, "Fmly": {"Cd": code.family, "SubFmlyCd": code.sub_family}}
    proprietary = decoded["BkTxCd"].get("Prtry")
    if code.proprietary is None:
        assert proprietary is None
    else:
        assert (proprietary["Cd"], proprietary.get("Issr")) == (code.proprietary, code.proprietary_issuer)
    details = decoded.get("NtryDtls")
    transactions = [] if details is None else [tx for block in details for tx in block.get("TxDtls", [])]
    assert len(transactions) == len(entry.transactions)
    for decoded_transaction, want in zip(transactions, entry.transactions, strict=True):
        got = decoded_transaction or {}  # xmlschema decodes an empty <TxDtls/> to None
        refs = got.get("Refs", {})
        assert [refs.get(name) for name in ("MsgId", "AcctSvcrRef", "InstrId", "EndToEndId", "TxId", "ClrSysRef")] == [
            want.message_id,
            want.account_servicer_reference,
            want.instruction_id,
            want.end_to_end_id,
            want.transaction_id,
            want.clearing_system_reference,
        ]
        assert refs.get("UETR") == (None if want.uetr is None else str(want.uetr))
        if want.kopecks is None:
            assert "Amt" not in got and "CdtDbtInd" not in got
        else:
            assert want.direction is not None
            assert (_rub_amount(got["Amt"]), got["CdtDbtInd"]) == (want.kopecks, want.direction.value)
        _same_party(_at(got, "RltdPties", "Dbtr", "Pty"), want.debtor)
        _same_account(_at(got, "RltdPties", "DbtrAcct"), want.debtor_account)
        _same_party(_at(got, "RltdPties", "Cdtr", "Pty"), want.creditor)
        _same_account(_at(got, "RltdPties", "CdtrAcct"), want.creditor_account)
        agents = ("InstgAgt", "InstdAgt", "DbtrAgt", "CdtrAgt")
        assert [_at(got, "RltdAgts", name, "FinInstnId", "BICFI") for name in agents] == [
            want.instructing_agent_bic,
            want.instructed_agent_bic,
            want.debtor_agent_bic,
            want.creditor_agent_bic,
        ]
        assert got.get("AddtlTxInf") == want.additional_info
    assert decoded.get("AddtlNtryInf") == entry.additional_info


def _signed(amount: Decimal, indicator: str) -> int:
    assert indicator in ("CRDT", "DBIT"), indicator
    return _kopecks(amount) if indicator == "CRDT" else -_kopecks(amount)


def _same_statement(decoded: dict[str, Any], statement: AccountStatement, pagination: str, info: str) -> None:
    assert decoded["Id"] == statement.statement_id
    _same_frame(decoded, statement, pagination)
    expected = [b for b in (statement.opening, statement.closing, statement.available) if b is not None]
    assert len(decoded["Bal"]) == len(expected)
    for got, want in zip(decoded["Bal"], expected, strict=True):
        assert got["Tp"] == {"CdOrPrtry": {"Cd": want.type.value}}
        assert got["Amt"]["@Ccy"] == "RUB"
        assert _signed(got["Amt"]["$"], got["CdtDbtInd"]) == want.kopecks
        assert want.kopecks != 0 or got["CdtDbtInd"] == "CRDT"
        _same_date_or_time(got["Dt"], want.when)
    booked = [e for e in statement.entries if e.status is EntryStatus.BOOK]
    credits = [e.kopecks for e in booked if e.direction is CreditDebit.CRDT]
    debits = [e.kopecks for e in booked if e.direction is CreditDebit.DBIT]
    summary = decoded["TxsSummry"]
    assert (int(summary["TtlCdtNtries"]["NbOfNtries"]), _kopecks(summary["TtlCdtNtries"]["Sum"])) == (
        len(credits),
        sum(credits),
    )
    assert (int(summary["TtlDbtNtries"]["NbOfNtries"]), _kopecks(summary["TtlDbtNtries"]["Sum"])) == (
        len(debits),
        sum(debits),
    )
    everything = summary["TtlNtries"]
    assert (int(everything["NbOfNtries"]), _kopecks(everything["Sum"])) == (len(booked), sum(credits) + sum(debits))
    # The document adds up on its own figures: opening + net = closing, as a bank's reconciliation reads it.
    opening, closing, net = decoded["Bal"][0], decoded["Bal"][1], everything["TtlNetNtry"]
    assert _signed(opening["Amt"]["$"], opening["CdtDbtInd"]) + _signed(net["Amt"], net["CdtDbtInd"]) == _signed(
        closing["Amt"]["$"], closing["CdtDbtInd"]
    )
    assert len(decoded.get("Ntry", [])) == len(statement.entries)
    for got, want in zip(decoded.get("Ntry", []), statement.entries, strict=True):
        _same_entry(got, want)
    assert decoded.get(info) == statement.additional_info


@properties
@given(bank_reports)
def test_account_report_decodes_to_what_was_written(report: BankToCustomerReport) -> None:
    document = camt_052_001_08.write(report)
    assert_official(document, camt_052)
    decoded = _decoded(document, camt_052)["BkToCstmrAcctRpt"]
    _same_header(decoded["GrpHdr"], report.header)
    assert len(decoded["Rpt"]) == len(report.statements)
    for got, want in zip(decoded["Rpt"], report.statements, strict=True):
        _same_statement(got, want, "RptPgntn", "AddtlRptInf")


@properties
@given(bank_reports)
def test_statement_decodes_to_what_was_written(report: BankToCustomerReport) -> None:
    document = camt_053_001_08.write(report)
    assert_official(document, camt_053)
    decoded = _decoded(document, camt_053)["BkToCstmrStmt"]
    _same_header(decoded["GrpHdr"], report.header)
    assert len(decoded["Stmt"]) == len(report.statements)
    for got, want in zip(decoded["Stmt"], report.statements, strict=True):
        _same_statement(got, want, "StmtPgntn", "AddtlStmtInf")


account_notifications = st.builds(
    AccountNotification,
    notification_id=text(35),
    pagination=optional(st.builds(Pagination, st.integers(min_value=1, max_value=99_999), st.booleans())),
    electronic_sequence_number=optional(st.integers(min_value=0, max_value=10**18 - 1)),
    creation_time=optional(datetimes),
    period=optional(periods()),
    account=reported_accounts,
    entries=st.lists(entries(), min_size=1, max_size=3).map(tuple),
    additional_info=optional(text(500)),
)
notification_lists = st.lists(account_notifications, min_size=1, max_size=2).map(tuple)


@properties
@given(st.builds(DebitCreditNotification, report_headers, notification_lists))
def test_notification_decodes_to_what_was_written(notification: DebitCreditNotification) -> None:
    document = camt_054_001_08.write(notification)
    assert_official(document, camt_054)
    decoded = _decoded(document, camt_054)["BkToCstmrDbtCdtNtfctn"]
    _same_header(decoded["GrpHdr"], notification.header)
    assert len(decoded["Ntfctn"]) == len(notification.notifications)
    for got, want in zip(decoded["Ntfctn"], notification.notifications, strict=True):
        assert got["Id"] == want.notification_id
        _same_frame(got, want, "NtfctnPgntn")
        assert "Bal" not in got and "TxsSummry" not in got
        assert len(got["Ntry"]) == len(want.entries)
        for entry, expected in zip(got["Ntry"], want.entries, strict=True):
            _same_entry(entry, expected)
        assert got.get("AddtlNtfctnInf") == want.additional_info
