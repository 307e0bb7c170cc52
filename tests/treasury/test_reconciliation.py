"""Three-way reconciliation of the RTGS, the ledger and the message journal, on a real gateway over SQLite and
PostgreSQL on a clock the test moves: a clean day has no break and every format shows its figures; each kind of break,
made on purpose, is reported with its kind, amounts and references; a break found again is the same break, aging; a
fixed one is resolved; a conversion straddling the cut-off is no break; bad dates and a silent RTGS store nothing.

The calendar: cut-off 18:00 Moscow time, weekends off, Monday 23 November 2026 a holiday (Friday the 20th is followed
by Tuesday the 24th). Every bank's RTGS account opens with 1,000,000.00; no cryptorouble exists until a camt.050
converts fiat. Expected figures are worked out in the comments from the messages sent."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from gateway_adapters.rtgs.http_client import HttpRtgs
from gateway_adapters.rtgs.http_server import make_rtgs_app
from gateway_adapters.rtgs.tables import bookings
from gateway_adapters.sql.models import (
    ClaimRow,
    ConversionRow,
    MailboxRow,
    MessageRow,
    PaymentRow,
    ReconciliationBreakRow,
    ReconciliationRunRow,
    standard_uuid,
)
from lxml import etree
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import runtime
from gateway.app import make_app
from gateway.config import load_config
from gateway.conversion.ports import (
    FiatReferences,
    FiatStatement,
    RtgsOutcome,
    RtgsUnavailable,
)
from gateway.domain.calendar import business_zone, microseconds
from gateway.domain.conversion import ConversionRecord, step_id
from gateway.domain.days import statement_key
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from gateway.domain.reconciliation import BreakKind, StoredBreak, age_text
from gateway.treasury.reconciliation import NotReconcilable, ReconciliationReport
from gateway.treasury.report_formats import render
from tests.conftest import write_config
from tests.settlement.builders import (
    ALFA,
    CBRF,
    RTGS_ACCOUNTS,
    SBER,
    VTB,
    Returned,
    Tx,
    camt_050,
    pacs_004,
    pacs_008,
    pacs_009,
)
from tests.settlement.conftest import GatewayUnderTest, Message, status_report
from tests.treasury.test_business_days import Clock

friday, saturday, tuesday = date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 24)
calendar_toml = 'cutoff = "18:00"\nweekend = ["saturday", "sunday"]\nholidays = ["2026-11-23"]\nclose_automatically = false'
RESERVE = "30101810000000000001"
breaks_table = ReconciliationBreakRow.__table__
runs_table = ReconciliationRunRow.__table__


@dataclass
class Treasury:
    gw: GatewayUnderTest
    clock: Clock

    @property
    def engine(self) -> AsyncEngine:
        return self.gw.gateway.store.engine

    async def convert(self, bic: str, message_id: str, kopecks: int, direction: str = "mint") -> ConversionRecord:
        answer = await self.gw.post(camt_050(bic, message_id, kopecks, direction))
        codes = Message.read(answer.body).document.texts("Rct/RctDtls/ReqHdlg/StsCd")
        assert codes == ["ACSC"], answer.body
        return await self.conversion(message_id)

    async def conversion(self, message_id: str) -> ConversionRecord:
        async with self.engine.connect() as connection:
            row = (await connection.execute(
                select(ConversionRow.__table__.c.id).where(ConversionRow.__table__.c.request_message_id == message_id)
            )).one()
        found = await self.gw.gateway.conversion_records.conversion(standard_uuid(row.id))
        assert found is not None
        return found

    async def pay(self, payload: bytes) -> None:
        answer = await self.gw.post(payload)
        assert status_report(answer.body).group_status == "ACSC", answer.body

    async def close(self, day: date) -> None:
        self.clock.set(day, 18, 5)
        await self.gw.gateway.days.close(day, "treasury")

    async def reconcile(self, day: date, rtgs: Any = None) -> ReconciliationReport:
        gateway = self.gw.gateway
        return await runtime.reconciliation(gateway.config, gateway.store, rtgs or gateway.rtgs).run(day)

    async def execute(self, statement: Any) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(statement)

    async def scalar(self, statement: Any) -> Any:
        async with self.engine.connect() as connection:
            return await connection.scalar(statement)

    async def direct(self, debit: str, credit: str, kopecks: int, kind: TransferKind, reference: str,
                     uetr: uuid.UUID | None = None) -> uuid.UUID:
        """A transfer submitted to the ledger directly, with no message behind it."""
        ids = {a.code: a.id for a in await self.gw.gateway.store.accounts()}
        transfer_id = uuid.uuid4()
        request = TransferRequest(transfer_id, ids[debit], ids[credit], kopecks, kind, reference, uetr)
        assert await self.gw.gateway.batcher.submit([request]) == [TransferResult.OK]
        return transfer_id

    async def fund(self) -> tuple[ConversionRecord, ConversionRecord]:
        """Sberbank converts 500,000.00 fiat roubles, VTB 300,000.00: supply = reserve = 800,000.00."""
        return (
            await self.convert(SBER, "SBER-MINT-1", 500_000_00),
            await self.convert(VTB, "VTB-MINT-1", 300_000_00),
        )


@pytest.fixture
async def treasury(
    aiohttp_client, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> Treasury:
    clock = Clock(datetime(2026, 11, 20, 10, 0, tzinfo=business_zone))
    monkeypatch.setattr(runtime, "clock_us", clock)  # before the gateway is built: every part of it reads this
    config = load_config(
        write_config(tmp_path, database_url, rtgs_toml='opening_balance_rub = "1000000.00"',
                     business_days_toml=calendar_toml),
        environ={},
    )
    client = await aiohttp_client(make_app(config, upgrade_database=True, plain_http=True))
    return Treasury(GatewayUnderTest(client, config), clock)


def _kinds(report: ReconciliationReport) -> list[tuple[str, int | None, int | None]]:
    """(kind, amount, expected) of each break the run found, by kind, then amounts (none first)."""
    found = [(b.kind.value, b.found.amount_kopecks, b.found.expected_kopecks) for b in report.breaks]
    return sorted(found, key=lambda k: (k[0], -1 if k[1] is None else k[1], -1 if k[2] is None else k[2]))


def _one(report: ReconciliationReport, kind: BreakKind) -> StoredBreak:
    found = [b for b in report.breaks if b.kind is kind]
    assert len(found) == 1, (kind, [b.found.description for b in report.breaks])
    return found[0]


def _refs(stored: StoredBreak) -> dict[str, str]:
    return dict(stored.found.references)


def _totals(items: Sequence[Any]) -> dict[str, tuple[int, int]]:
    return {item.kind: (item.count, item.kopecks) for item in items}


# --------------------------------------------------------------------------------------------------------------------
# A clean day
# --------------------------------------------------------------------------------------------------------------------


async def test_a_clean_day_has_no_break_and_every_format_shows_its_figures(treasury: Treasury) -> None:
    await treasury.fund()
    invoice = Tx(SBER, VTB, 120_000_00)
    await treasury.pay(pacs_008(SBER, "FRI-PAY-1", [invoice], friday))
    await treasury.pay(pacs_009(VTB, "FRI-PAY-2", [Tx(VTB, SBER, 20_000_00)], friday))
    returned = Returned(invoice.uetr, 5_000_00, original_message_id="FRI-PAY-1", end_to_end_id=invoice.end_to_end_id)
    await treasury.pay(pacs_004(VTB, "FRI-RTN-1", [returned], friday))
    await treasury.convert(VTB, "VTB-BURN-1", 50_000_00, "burn")
    await treasury.close(friday)

    report = await treasury.reconcile(friday)
    assert report.breaks == () and report.resolved == () and report.open_breaks == 0, [
        b.found.description for b in report.breaks
    ]
    figures = report.figures
    # Postings: two mint posts (800,000.00), the pacs.008 and the pacs.009 (140,000.00), the return (5,000.00), the
    # burn's post (50,000.00). Pending and void transfers move no posted balance: they are not postings.
    assert _totals(figures.postings) == {
        "payment": (2, 140_000_00), "return": (1, 5_000_00), "mint": (2, 800_000_00), "burn": (1, 50_000_00),
    }
    assert _totals(figures.payments_settled) == {
        "pacs.008": (1, 120_000_00), "pacs.009": (1, 20_000_00), "pacs.004": (1, 5_000_00),
    }
    assert _totals(figures.conversions_settled) == {"mint": (2, 800_000_00), "burn": (1, 50_000_00)}
    assert (figures.fiat_legs_expected, figures.fiat_legs_matched) == (3, 3)
    assert (figures.reserve_bookings, figures.reserve_bookings_accounted) == (3, 3)
    # Supply 800,000.00 - 50,000.00 = 750,000.00 = the reserve at the RTGS (+500,000 +300,000 -50,000) = the mirror.
    assert figures.supply_kopecks == figures.fiat_reserve_kopecks == figures.reserve_mirror_kopecks == 750_000_00
    assert (figures.in_flight_kopecks, figures.in_flight_conversions) == (0, 0)
    # Six wallets (three banks, main and clients), each with its statement, each agreeing.
    assert (figures.statements_expected, figures.statements_agreeing) == (6, 6)

    text = render(report, "text")
    assert "Reconciliation of business day 2026-11-20" in text
    for line in ("Fiat legs matched", "3 of 3", "750000.00 RUB", "6 of 6", "No open breaks"):
        assert line in text, text
    document = json.loads(render(report, "json"))
    assert document["format"] == "gateway.reconciliation/1" and document["business_date"] == "2026-11-20"
    assert document["figures"]["supply_rub"] == document["figures"]["fiat_reserve_rub"] == "750000.00"
    assert document["figures"]["postings"]["count"] == 6
    assert document["figures"]["postings"]["by_kind"]["payment"] == {"count": 2, "amount_rub": "140000.00"}
    assert document["figures"]["fiat_legs"] == {"expected": 3, "matched": 3}
    assert document["breaks"] == [] and document["breaks_open"] == 0
    rows = list(csv.reader(io.StringIO(render(report, "csv"))))
    assert rows == [["status", "kind", "business_date", "first_seen", "last_seen", "age", "amount_rub",
                     "expected_rub", "account", "references", "description", "fingerprint"]]
    page = render(report, "html")
    assert page.startswith("<!DOCTYPE html>") and "750000.00" in page and "3 of 3" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page  # nothing fetched from anywhere
    # The run is recorded, and nothing is open.
    assert await treasury.scalar(select(func.count()).select_from(runs_table)) == 1
    assert await treasury.scalar(select(func.count()).select_from(breaks_table)) == 0


async def test_the_rtgs_over_http_gives_the_same_reconciliation(treasury: Treasury, aiohttp_server: Any) -> None:
    await treasury.fund()
    await treasury.convert(VTB, "VTB-BURN-1", 50_000_00, "burn")
    await treasury.close(friday)
    # The same RTGS behind its ISO 20022 interface (camt.060 asked, camt.053 answered), one entry a page, so that the
    # client pages through the reserve account's three bookings.
    app = make_rtgs_app(treasury.gw.gateway.rtgs, CBRF, "CBRFRUMMRTG", statement_page_entries_max=1)
    server = await aiohttp_server(app)
    async with HttpRtgs(str(server.make_url("")), CBRF, "CBRFRUMMRTG", RESERVE, 5_000) as rtgs:
        report = await treasury.reconcile(friday, rtgs)
    assert report.breaks == (), [b.found.description for b in report.breaks]
    figures = report.figures
    # 500,000.00 + 300,000.00 in, 50,000.00 out: three fiat legs, each matched; 750,000.00 on both sides.
    assert (figures.fiat_legs_expected, figures.fiat_legs_matched, figures.reserve_bookings) == (3, 3, 3)
    assert figures.supply_kopecks == figures.fiat_reserve_kopecks == 750_000_00


async def test_a_conversion_straddling_the_cutoff_is_in_flight_not_a_break(treasury: Treasury) -> None:
    await treasury.fund()
    clock, conversions = treasury.clock, treasury.gw.gateway.conversions
    inner = conversions.rtgs

    class CommitAtTheCutoff:
        """The RTGS books the commit at 17:59:59; the ledger posts the mint after 18:00, on the next business day."""

        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

        async def commit(self, request_id: uuid.UUID, hold_id: uuid.UUID) -> RtgsOutcome:
            clock.set(friday, 17, 59, 59)
            outcome = await inner.commit(request_id, hold_id)
            clock.set(friday, 18, 0, 1)
            return outcome

    conversions.rtgs = CommitAtTheCutoff()  # type: ignore[assignment]
    straddling = await treasury.convert(ALFA, "ALFA-MINT-1", 40_000_00)
    conversions.rtgs = inner
    await treasury.close(friday)
    # At Friday's close supply is 800,000.00; the RTGS reserve already holds Alfa's 40,000.00: in flight, no break.
    report = await treasury.reconcile(friday)
    assert report.breaks == (), [b.found.description for b in report.breaks]
    figures = report.figures
    assert (figures.supply_kopecks, figures.fiat_reserve_kopecks) == (800_000_00, 840_000_00)
    assert (figures.in_flight_kopecks, figures.in_flight_conversions) == (40_000_00, 1)
    assert (figures.reserve_bookings, figures.reserve_bookings_accounted) == (3, 3)
    # Tuesday holds the mint's post: its fiat leg, booked on Friday, matches; supply = reserve = 840,000.00.
    await treasury.close(tuesday)
    report = await treasury.reconcile(tuesday)
    assert report.breaks == (), [b.found.description for b in report.breaks]
    figures = report.figures
    assert _totals(figures.conversions_settled) == {"mint": (1, 40_000_00)}
    assert (figures.fiat_legs_expected, figures.fiat_legs_matched) == (1, 1)
    assert figures.supply_kopecks == figures.fiat_reserve_kopecks == 840_000_00
    assert (figures.in_flight_kopecks, figures.reserve_bookings) == (0, 0)
    assert straddling.amount_kopecks == 40_000_00


# --------------------------------------------------------------------------------------------------------------------
# Each kind of break, made on purpose
# --------------------------------------------------------------------------------------------------------------------


async def test_a_posting_without_a_message_is_one_break_found_again_and_aging(treasury: Treasury) -> None:
    await treasury.fund()
    rogue = await treasury.direct(f"{SBER}/main", f"{VTB}/main", 1_000_00, TransferKind.PAYMENT, f"{SBER}:ROGUE-1")
    await treasury.close(friday)
    first = await treasury.reconcile(friday)
    assert _kinds(first) == [("posting_without_message", 1_000_00, None)]
    found = _one(first, BreakKind.POSTING_WITHOUT_MESSAGE)
    assert found.fingerprint in first.new and found.found.account == f"{SBER}/main"
    assert _refs(found)["transfer_id"] == rogue.hex and _refs(found)["ledger_reference"] == f"{SBER}:ROGUE-1"
    assert "no settled pacs.008, pacs.009 or pacs.004" in found.found.description
    # The same day reconciled an hour later: the same break, first seen kept, an hour old.
    treasury.clock.set(friday, 19, 5)
    again = await treasury.reconcile(friday)
    [seen_again] = again.breaks
    assert seen_again.fingerprint == found.fingerprint and not again.new
    assert seen_again.first_seen_at_us == found.first_seen_at_us < seen_again.last_seen_at_us
    assert age_text(seen_again.age_us(again.run_at_us)) == "0d 1h"
    # Tuesday's reconciliation looks at Friday's open break again: still open, four days old (Fri 18:05 - Tue 18:05).
    await treasury.close(tuesday)
    tuesday_report = await treasury.reconcile(tuesday)
    assert tuesday_report.rechecked_days == (friday,)
    [still_open] = tuesday_report.breaks
    assert still_open.fingerprint == found.fingerprint and still_open.found.business_date == friday
    assert age_text(still_open.age_us(tuesday_report.run_at_us)) == "4d 0h"
    text = render(tuesday_report, "text")
    assert "posting_without_message" in text and "4d 0h" in text and "2026-11-20" in text
    assert await treasury.scalar(select(func.count()).select_from(breaks_table)) == 1
    assert await treasury.scalar(select(func.count()).select_from(runs_table)) == 3


async def test_a_message_without_a_posting_is_reported_and_resolved_once_fixed(treasury: Treasury) -> None:
    await treasury.fund()
    invoice = Tx(SBER, VTB, 10_000_00)
    await treasury.pay(pacs_008(SBER, "FRI-PAY-1", [invoice], friday))
    # A SETTLED payment row that names a transfer the ledger never made (written behind the gateway's back) ...
    payments = PaymentRow.__table__
    messages = MessageRow.__table__
    message_id = await treasury.scalar(
        select(messages.c.id).where(messages.c.reference == "FRI-PAY-1", messages.c.direction == "in")
    )
    ghost_id, ghost_transfer, ghost_uetr = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = treasury.clock()
    await treasury.execute(insert(payments).values(
        id=ghost_id, transfer_id=ghost_transfer, message_id=message_id, position=2, kind="pacs.008",
        debtor_bic=SBER, creditor_bic=VTB, group_message_id="FRI-PAY-1", uetr=ghost_uetr, end_to_end_id="E2E-GHOST",
        instruction_id=None, transaction_id=None, amount_kopecks=2_500_00, settlement_date=friday.isoformat(),
        state="settled", reason_code=None, original_payment_id=None, created_at_us=now, settled_at_us=now,
    ))
    # ... and a second transfer for the invoice that did settle: two postings for one message.
    twin = await treasury.direct(f"{SBER}/main", f"{VTB}/main", 10_000_00, TransferKind.PAYMENT, f"{SBER}:FRI-PAY-1",
                                 invoice.uetr)
    await treasury.close(friday)
    report = await treasury.reconcile(friday)
    assert _kinds(report) == [
        ("message_without_posting", None, 2_500_00), ("message_without_posting", 10_000_00, 10_000_00),
    ]
    missing = next(b for b in report.breaks if b.found.amount_kopecks is None)
    assert _refs(missing)["payment_id"] == ghost_id.hex and _refs(missing)["transfer_id"] == ghost_transfer.hex
    assert _refs(missing)["UETR"] == str(ghost_uetr) and _refs(missing)["EndToEndId"] == "E2E-GHOST"
    assert "nowhere in the ledger" in missing.found.description and missing.found.account == f"{SBER}/main"
    doubled = next(b for b in report.breaks if b.found.amount_kopecks is not None)
    assert _refs(doubled)["transfer_id"] == twin.hex and _refs(doubled)["UETR"] == str(invoice.uetr)
    assert _refs(doubled)["EndToEndId"] == invoice.end_to_end_id and "two postings" in doubled.found.description
    # The ghost row is taken out of the journal: Tuesday's run looks at Friday again and resolves that break only.
    await treasury.execute(delete(payments).where(payments.c.id == ghost_id))
    await treasury.close(tuesday)
    tuesday_report = await treasury.reconcile(tuesday)
    assert [b.fingerprint for b in tuesday_report.resolved] == [missing.fingerprint]
    assert [b.fingerprint for b in tuesday_report.breaks] == [doubled.fingerprint]
    resolved_at = await treasury.scalar(
        select(breaks_table.c.resolved_at_us).where(breaks_table.c.fingerprint == missing.fingerprint)
    )
    assert resolved_at == tuesday_report.run_at_us
    assert json.loads(render(tuesday_report, "json"))["resolved"][0]["status"] == "resolved"


async def test_an_amount_mismatch_names_the_posting_and_the_message(treasury: Treasury) -> None:
    await treasury.fund()
    invoice = Tx(SBER, VTB, 120_000_00)
    await treasury.pay(pacs_008(SBER, "FRI-PAY-1", [invoice], friday))
    payments = PaymentRow.__table__
    await treasury.execute(update(payments).where(payments.c.uetr == invoice.uetr).values(amount_kopecks=125_000_00))
    await treasury.close(friday)
    report = await treasury.reconcile(friday)
    # The ledger moved 120,000.00; the journal's message now says 125,000.00.
    assert _kinds(report) == [("amount_mismatch", 120_000_00, 125_000_00)]
    mismatch = _one(report, BreakKind.AMOUNT_MISMATCH)
    references = _refs(mismatch)
    assert references["UETR"] == str(invoice.uetr) and references["EndToEndId"] == invoice.end_to_end_id
    assert references["MsgId"] == "FRI-PAY-1" and references["ledger_reference"] == f"{SBER}:FRI-PAY-1"
    assert "moved 120000.00 RUB where the message says 125000.00 RUB" in mismatch.found.description
    row = [r for r in csv.DictReader(io.StringIO(render(report, "csv")))]
    assert [(r["kind"], r["amount_rub"], r["expected_rub"], r["status"]) for r in row] == [
        ("amount_mismatch", "120000.00", "125000.00", "new")
    ]


async def test_a_fiat_leg_missing_at_the_rtgs(treasury: Treasury) -> None:
    sber, _ = await treasury.fund()
    commit = step_id(sber.id, "commit")
    await treasury.execute(delete(bookings).where(bookings.c.request_id == commit))
    await treasury.close(friday)
    report = await treasury.reconcile(friday)
    # The reserve holds only VTB's 300,000.00 against a supply of 800,000.00.
    assert _kinds(report) == [("fiat_leg_missing", None, 500_000_00), ("supply_not_reserve", 300_000_00, 800_000_00)]
    missing = _one(report, BreakKind.FIAT_LEG_MISSING)
    assert missing.found.account == RTGS_ACCOUNTS[SBER]
    assert _refs(missing)["conversion_id"] == sber.id.hex and _refs(missing)["MsgId"] == "SBER-MINT-1"
    assert _refs(missing)["rtgs_request_id"] == commit.hex and _refs(missing)["UETR"] == str(sber.uetr)
    assert _one(report, BreakKind.SUPPLY_NOT_RESERVE).found.account == RESERVE


async def test_a_fiat_leg_different_in_amount_or_in_references(treasury: Treasury) -> None:
    sber, vtb = await treasury.fund()
    sber_commit, vtb_commit = step_id(sber.id, "commit"), step_id(vtb.id, "commit")
    await treasury.execute(update(bookings).where(bookings.c.request_id == sber_commit).values(amount_kopecks=499_999_00))
    await treasury.close(friday)
    inner = treasury.gw.gateway.rtgs
    other_uetr = uuid.uuid4()

    class WithReferences:
        """The RTGS port as the HTTP RTGS will answer soon: each conversion's booking with its camt.050's references
        (VTB's with a UETR that is not its camt.050's)."""

        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

        async def statement(self, account: str, from_date: date, to_date: date) -> FiatStatement | None:
            statement = await inner.statement(account, from_date, to_date)
            assert statement is not None
            references = {
                sber_commit: FiatReferences(sber.request_message_id, sber.end_to_end_id, sber.transaction_id, sber.uetr),
                vtb_commit: FiatReferences(vtb.request_message_id, vtb.end_to_end_id, vtb.transaction_id, other_uetr),
            }
            entries = tuple(replace(e, references=references.get(e.request_id)) for e in statement.entries)
            return replace(statement, entries=entries)

    report = await treasury.reconcile(friday, WithReferences())
    # Sberbank's leg booked 499,999.00 of 500,000.00 (the reserve is 1.00 short of supply); VTB's carries another UETR.
    assert _kinds(report) == [
        ("fiat_leg_different", 300_000_00, 300_000_00), ("fiat_leg_different", 499_999_00, 500_000_00),
        ("supply_not_reserve", 799_999_00, 800_000_00),
    ]
    by_amount = {b.found.amount_kopecks: b for b in report.breaks if b.kind is BreakKind.FIAT_LEG_DIFFERENT}
    short = by_amount[499_999_00]
    assert _refs(short)["conversion_id"] == sber.id.hex and _refs(short)["rtgs_request_id"] == sber_commit.hex
    assert "booked 499999.00 RUB where the camt.050 says 500000.00 RUB" in short.found.description
    renamed = by_amount[300_000_00]
    assert _refs(renamed)["rtgs_UETR"] == str(other_uetr) and _refs(renamed)["UETR"] == str(vtb.uetr)
    assert f"its UETR is {other_uetr} where the camt.050's is {vtb.uetr}" in renamed.found.description
    # With the right references throughout, only the amount remains.
    plain = await treasury.reconcile(friday)
    assert [b.found.amount_kopecks for b in plain.breaks if b.kind is BreakKind.FIAT_LEG_DIFFERENT] == [499_999_00]
    assert renamed.fingerprint in {b.fingerprint for b in plain.resolved}


async def test_fiat_on_the_reserve_account_that_no_conversion_asked_for(treasury: Treasury) -> None:
    await treasury.fund()
    request_id = uuid.uuid4()
    booked_at = microseconds(datetime(2026, 11, 20, 12, 0, tzinfo=business_zone))
    await treasury.execute(insert(bookings).values(
        request_id=request_id, debit_account=RTGS_ACCOUNTS[ALFA], credit_account=RESERVE, amount_kopecks=70_000_00,
        booked_at_us=booked_at, reference="manual top-up",
    ))
    await treasury.close(friday)
    report = await treasury.reconcile(friday)
    # 800,000.00 converted, 870,000.00 in the reserve account.
    assert _kinds(report) == [("fiat_without_conversion", 70_000_00, 0), ("supply_not_reserve", 870_000_00, 800_000_00)]
    unasked = _one(report, BreakKind.FIAT_WITHOUT_CONVERSION)
    assert unasked.found.account == RTGS_ACCOUNTS[ALFA]
    assert _refs(unasked)["rtgs_request_id"] == request_id.hex and _refs(unasked)["rtgs_reference"] == "manual top-up"
    assert "no conversion asked for it" in unasked.found.description
    assert (report.figures.reserve_bookings, report.figures.reserve_bookings_accounted) == (3, 2)


async def test_supply_not_reserve_lasts_until_a_day_closes_clean(treasury: Treasury) -> None:
    await treasury.fund()
    mint = await treasury.direct(f"{CBRF}/issuance", f"{SBER}/main", 10_000_00, TransferKind.MINT, f"{CBRF}:MINT")
    await treasury.close(friday)
    report = await treasury.reconcile(friday)
    # Supply 810,000.00 against 800,000.00 of fiat; the ledger's own mirror moved with the mint, so it agrees.
    assert _kinds(report) == [("posting_without_message", 10_000_00, None), ("supply_not_reserve", 800_000_00, 810_000_00)]
    condition = _one(report, BreakKind.SUPPLY_NOT_RESERVE)
    assert condition.fingerprint == "supply_not_reserve|rtgs"
    assert _refs(_one(report, BreakKind.POSTING_WITHOUT_MESSAGE))["transfer_id"] == mint.hex
    # On Tuesday treasury burns the 10,000.00 straight out again: Tuesday closes with supply = reserve, which resolves
    # the condition; Friday's mint stays a posting without a message, and Tuesday's burn is one too.
    burn = await treasury.direct(f"{SBER}/main", f"{CBRF}/issuance", 10_000_00, TransferKind.BURN, f"{CBRF}:BURN")
    await treasury.close(tuesday)
    tuesday_report = await treasury.reconcile(tuesday)
    assert [b.fingerprint for b in tuesday_report.resolved] == [condition.fingerprint]
    assert _kinds(tuesday_report) == [("posting_without_message", 10_000_00, None)] * 2
    assert {_refs(b)["transfer_id"] for b in tuesday_report.breaks} == {mint.hex, burn.hex}
    assert tuesday_report.figures.supply_kopecks == tuesday_report.figures.fiat_reserve_kopecks == 800_000_00


async def test_a_statement_that_disagrees_or_is_missing(treasury: Treasury) -> None:
    await treasury.fund()
    await treasury.close(friday)
    claims, messages = ClaimRow.__table__, MessageRow.__table__
    sber_statement = await treasury.scalar(
        select(claims.c.message_id).where(claims.c.key == statement_key(friday, f"{SBER}/main"))
    )
    payload = await treasury.scalar(select(messages.c.payload).where(messages.c.id == sber_statement))
    root = etree.fromstring(payload, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    namespace = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
    [closing] = [
        balance for balance in root.iter(f"{{{namespace}}}Bal")
        if balance.findtext(f"{{{namespace}}}Tp/{{{namespace}}}CdOrPrtry/{{{namespace}}}Cd") == "CLBD"
    ]
    amount = closing.find(f"{{{namespace}}}Amt")
    assert amount is not None and amount.text == "500000.00"
    amount.text = "499000.00"
    await treasury.execute(update(messages).where(messages.c.id == sber_statement).values(payload=etree.tostring(root)))
    # VTB's statement was never claimed (taken out of the journal's claims): as if it had not been sent.
    await treasury.execute(delete(claims).where(claims.c.key == statement_key(friday, f"{VTB}/main")))
    report = await treasury.reconcile(friday)
    assert _kinds(report) == [("statement_disagrees", None, 300_000_00), ("statement_disagrees", 499_000_00, 500_000_00)]
    by_wallet = {b.found.account: b for b in report.breaks}
    altered = by_wallet[f"{SBER}/main"]
    assert "closes at 499000.00 RUB where the ledger closed the day at 500000.00 RUB" in altered.found.description
    assert _refs(altered)["statement_message_id"] == standard_uuid(sber_statement).hex
    assert altered.fingerprint == f"statement_disagrees|2026-11-20|{SBER}/main"
    missing = by_wallet[f"{VTB}/main"]
    assert "no end-of-day camt.053" in missing.found.description and _refs(missing) == {"wallet": f"{VTB}/main"}
    assert (report.figures.statements_expected, report.figures.statements_agreeing) == (6, 4)


async def test_a_statement_of_several_pages_is_read_whole_and_a_page_missing_is_a_break(treasury: Treasury) -> None:
    await treasury.fund()
    await treasury.pay(pacs_008(SBER, "FRI-PAY-1", [Tx(SBER, VTB, 100_00)], friday))
    treasury.gw.gateway.reports.reports.page_entries_max = 1  # one entry a page: two pages for each main wallet
    await treasury.close(friday)
    report = await treasury.reconcile(friday)
    assert report.breaks == () and report.figures.statements_agreeing == 6, [b.found.description for b in report.breaks]
    # Sberbank's second page leaves its mailbox: the statement ends at a page not marked last, without the payment.
    claims, mailbox = ClaimRow.__table__, MailboxRow.__table__
    first_page = await treasury.scalar(
        select(claims.c.message_id).where(claims.c.key == statement_key(friday, f"{SBER}/main"))
    )
    first_seq = await treasury.scalar(select(mailbox.c.seq).where(mailbox.c.message_id == first_page))
    second_seq = await treasury.scalar(
        select(func.min(mailbox.c.seq)).where(mailbox.c.recipient_bic == SBER, mailbox.c.seq > first_seq)
    )
    await treasury.execute(delete(mailbox).where(mailbox.c.seq == second_seq))
    report = await treasury.reconcile(friday)
    # Page 1 holds the mint (+500,000.00) and an interim balance; the payment (-100.00) and the CLBD were on page 2.
    assert _kinds(report) == [("statement_disagrees", None, 499_900_00)]
    described = _one(report, BreakKind.STATEMENT_DISAGREES).found.description
    assert "ends at page 1, which is not marked last" in described
    assert "misses 1 of the day's postings on the wallet" in described and "-100.00 RUB" in described


# --------------------------------------------------------------------------------------------------------------------
# Bad input: a clear refusal, nothing stored
# --------------------------------------------------------------------------------------------------------------------


async def test_dates_that_cannot_be_reconciled_and_a_silent_rtgs_store_nothing(treasury: Treasury) -> None:
    await treasury.fund()
    treasury.clock.set(friday, 18, 5)
    refusals = {
        friday: "2026-11-20 is still open: it closes at its cut-off, 2026-11-20 18:00",
        saturday: "2026-11-21 (Saturday) is not a business day",
        date(2026, 11, 19): "before the first business day the gateway recorded, 2026-11-20",
        date(2026, 11, 25): "2026-11-25 is in the future: the business day now is 2026-11-24",
    }
    for asked, says in refusals.items():
        with pytest.raises(NotReconcilable, match=says.replace("(", r"\(").replace(")", r"\)")):
            await treasury.reconcile(asked)
    await treasury.close(friday)
    inner = treasury.gw.gateway.rtgs

    class Silent:
        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

        async def statement(self, account: str, from_date: date, to_date: date) -> FiatStatement | None:
            raise RtgsUnavailable("no answer from the RTGS")

    with pytest.raises(RtgsUnavailable):
        await treasury.reconcile(friday, Silent())
    assert await treasury.scalar(select(func.count()).select_from(runs_table)) == 0
    assert await treasury.scalar(select(func.count()).select_from(breaks_table)) == 0
