"""AccountReports on a wallet history and business days given by hand: pending conversions appear as PDNG entries
outside the booked balances, the available balance takes them off, a report covers each business day of the period
once, by the day's postings, and the report written is valid by the official schema."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from gateway.domain.calendar import BusinessCalendar, business_zone, microseconds
from gateway.domain.days import BusinessDay, DayState
from gateway.domain.ledger import TransferKind
from gateway.messages.commands import AccountReportingRequest, BusinessHeader
from gateway.messages.envelope import unwrap
from gateway.messages.identity import app_hdr_message_id_default
from gateway.messages.readers import camt_060_001_05
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import parse_bounded
from gateway.reporting.ports import WalletHistory, WalletHold, WalletMovement
from gateway.reporting.service import AccountReports
from tests.message_layer.support import official_schema
from tests.settlement.builders import CBRF, SBER, ReportAsk, camt_060
from tests.settlement.conftest import Message

now = datetime(2026, 11, 24, 15, 0, tzinfo=business_zone)
now_us = int(now.timestamp()) * 1_000_000
paid_in = WalletMovement(
    transfer_id=uuid.UUID(int=1), kind=TransferKind.PAYMENT, signed_kopecks=1_000_00,
    created_at_us=now_us - 3_600_000_000, reference="VTBRRUMMXXX:PAY-9", uetr=uuid.UUID("6f1c0d3e-2b7a-4c1e-9d4f-3a2b1c0d9e8f"),
    message_reference="PAY-9", end_to_end_id="E2E-9", instruction_id=None, transaction_id=None,
    debtor_agent_bic="VTBRRUMMXXX", creditor_agent_bic=SBER,
)
burning = WalletHold(transfer_id=uuid.UUID(int=2), kind=TransferKind.BURN, signed_kopecks=-200_00,
                     created_at_us=now_us - 60_000_000)


calendar = BusinessCalendar(18 * 60, frozenset({6, 7}), frozenset())  # 18:00 cut-off, Saturday and Sunday off
cutoff_20 = microseconds(datetime(2026, 11, 20, 18, 0, tzinfo=business_zone))  # a Friday
cutoff_23 = microseconds(datetime(2026, 11, 23, 18, 0, tzinfo=business_zone))
cutoff_24 = microseconds(datetime(2026, 11, 24, 18, 0, tzinfo=business_zone))
friday = BusinessDay(date(2026, 11, 20), DayState.CLOSED, cutoff_20, 0, 10, 0, cutoff_20, "gateway")
monday = BusinessDay(date(2026, 11, 23), DayState.CLOSED, cutoff_23, 10, 17, cutoff_20, cutoff_23, "gateway")
tuesday = BusinessDay(date(2026, 11, 24), DayState.OPEN, cutoff_24, 17, None, cutoff_23, None, None)


class _History:
    def __init__(self) -> None:
        self.asked: list[tuple[int, int, int, int, int | None, int | None]] = []

    async def wallet_history_between(
        self, account_id: int, after_seq: int, through_seq: int, movements_max: int,
        booked_from_us: int | None = None, booked_to_us: int | None = None,
    ) -> WalletHistory:
        self.asked.append((account_id, after_seq, through_seq, movements_max, booked_from_us, booked_to_us))
        return WalletHistory(500_00, 1_500_00, (paid_in,), (burning,), debits_pending_kopecks=200_00)


class _Days:
    async def days(self, from_date: date, to_date: date) -> list[BusinessDay]:
        return [day for day in (friday, monday, tuesday) if from_date <= day.business_date <= to_date]


def _request(message: str = "camt.052.001.08", from_date: date = now.date()) -> AccountReportingRequest:
    data = camt_060(SBER, "REP-U1", [ReportAsk(message, f"{SBER}/main", from_date, None)])
    parsed = parse_bounded(data)
    assert not isinstance(parsed, Rejection), parsed
    unwrapped = unwrap(parsed, allow_bare_document=False)
    assert not isinstance(unwrapped, Rejection), unwrapped
    request = camt_060_001_05.read(unwrapped)
    assert isinstance(request, AccountReportingRequest), request
    return request


async def test_pending_conversions_are_listed_but_kept_out_of_booked_balances() -> None:
    history = _History()
    reports = AccountReports(history, CBRF)
    wallets = {f"{SBER}/main": 41, f"{SBER}/clients": 42}
    outbound = await reports.answer(_request(), SBER, _header(), wallets, _Days(), calendar, now_us)
    assert len(outbound) == 1
    # The open day: every posting after Monday's last (17), none fixed yet, on wallet 41 only, not narrowed by time.
    assert history.asked == [(41, 17, 2**62, 20 * 2_000, None, None)]
    message = Message.read(outbound[0].payload)
    report = message.document.one("BkToCstmrAcctRpt/Rpt")
    # The day began at Monday's cut-off and runs until its own at 18:00; the report covers it up to now, 15:00.
    assert report.text("FrToDt/FrDtTm") == "2026-11-23T18:00:00+03:00"
    assert report.text("FrToDt/ToDtTm") == "2026-11-24T15:00:00+03:00"
    balances = {b.text("Tp/CdOrPrtry/Cd"): b.text("Amt") for b in report.all("Bal")}
    assert balances == {"OPBD": "500.00", "ITBD": "1500.00", "ITAV": "1300.00"}  # 1,500.00 less the 200.00 held
    entries = [(e.text("Amt"), e.text("CdtDbtInd"), e.text("Sts/Cd"), e.text("BkTxCd/Domn/Fmly/SubFmlyCd"))
               for e in report.all("Ntry")]
    assert entries == [("1000.00", "CRDT", "BOOK", "DMCT"), ("200.00", "DBIT", "PDNG", "SWEP")]
    assert report.text("TxsSummry/TtlNtries/NbOfNtries") == "1"  # totals count booked entries only
    schema = official_schema(message.message_id)
    assert schema.validate(message.document.element), schema.error_log


async def test_a_statement_covers_each_closed_day_of_the_period_by_its_postings() -> None:
    history = _History()
    reports = AccountReports(history, CBRF)
    request = _request("camt.053.001.08", date(2026, 11, 19))  # Thursday: before the first recorded day
    outbound = await reports.answer(request, SBER, _header(), {f"{SBER}/main": 41}, _Days(), calendar, now_us)
    # Friday and Monday, closed; Tuesday is open and has no statement yet; the weekend holds no business day.
    assert history.asked == [(41, 0, 10, 20 * 2_000, None, None), (41, 10, 17, 20 * 2_000, None, None)]
    assert len(outbound) == 2
    for payload, business_day in zip((o.payload for o in outbound), ("2026-11-20", "2026-11-23"), strict=True):
        statement = Message.read(payload).document.one("BkToCstmrStmt/Stmt")
        balances = {b.text("Tp/CdOrPrtry/Cd"): b.text("Dt/Dt") for b in statement.all("Bal")}
        assert balances == {"OPBD": business_day, "CLBD": business_day}
        assert [e.text("ValDt/Dt") for e in statement.all("Ntry")] == [business_day]  # booked entries only
        assert [e.text("Sts/Cd") for e in statement.all("Ntry")] == ["BOOK"]


def _header() -> BusinessHeader:
    return BusinessHeader(SBER, CBRF, "REP-U1", "camt.060.001.05", None, now, None, None, (), app_hdr_message_id_default)
