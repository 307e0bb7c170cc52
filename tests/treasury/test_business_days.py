"""Business days on a real gateway and ledger (SQLite and PostgreSQL), on a clock the test moves: what arrives after
a day's cut-off belongs to the next business day, closing a day states every wallet once in its owner's mailbox, a
closed day never changes, and closing is safe twice at once and after a crash half-way.

The calendar: cut-off 18:00 Moscow time, Saturday and Sunday off, and Monday 23 November 2026 a holiday, so that
Friday the 20th is followed by Tuesday the 24th."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest

from gateway import runtime
from gateway.domain.calendar import BusinessCalendar, business_zone, microseconds
from gateway.domain.days import DayState
from gateway.treasury.days import DayNotClosable
from tests.settlement.builders import SBER, VTB, ReportAsk, Tx, camt_060, pacs_008
from tests.settlement.conftest import (
    FUNDING,
    ClientFactory,
    GatewayUnderTest,
    Message,
    Xml,
    status_report,
)

friday, tuesday, wednesday = date(2026, 11, 20), date(2026, 11, 24), date(2026, 11, 25)
calendar_toml = 'cutoff = "18:00"\nweekend = ["saturday", "sunday"]\nholidays = ["2026-11-23"]\nclose_automatically = false'


class Clock:
    """The gateway's one clock (ledger stamps, business dates, the days' closing, the embedded RTGS simulator), set
    by the test."""

    def __init__(self, moment: datetime) -> None:
        self.now_us = microseconds(moment)

    def set(self, day: date, hour: int, minute: int, second: int = 0) -> None:
        self.now_us = microseconds(datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=business_zone))

    def __call__(self) -> int:
        return self.now_us


@pytest.fixture
async def clocked(make_gateway: ClientFactory, monkeypatch: pytest.MonkeyPatch) -> tuple[GatewayUnderTest, Clock]:
    clock = Clock(datetime(2026, 11, 20, 10, 0, tzinfo=business_zone))
    monkeypatch.setattr(runtime, "clock_us", clock)  # before the gateway is built: every part of it reads this
    gw = await make_gateway(business_days_toml=calendar_toml)  # funds the wallets at Friday 10:00
    return gw, clock


def test_the_calendar_gives_what_comes_after_a_cutoff_or_on_a_day_off_to_the_next_business_day() -> None:
    calendar = BusinessCalendar(18 * 60, frozenset({6, 7}), frozenset({date(2026, 11, 23)}))

    def at(day: int, hour: int, minute: int) -> date:
        return calendar.business_date_of(datetime(2026, 11, day, hour, minute, tzinfo=business_zone))

    assert at(20, 17, 59) == friday
    assert at(20, 18, 0) == tuesday  # Saturday, Sunday and the Monday holiday are skipped
    assert at(21, 12, 0) == at(22, 23, 59) == at(23, 9, 0) == tuesday
    assert at(24, 0, 0) == tuesday
    # An instant in another offset is placed by its Moscow time: 15:30 UTC is 18:30 in Moscow.
    assert calendar.business_date_of(datetime(2026, 11, 20, 14, 59, tzinfo=timezone.utc)) == friday
    assert calendar.business_date_of(datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)) == tuesday
    assert calendar.cutoff_of(friday) == datetime(2026, 11, 20, 18, 0, tzinfo=business_zone)
    assert calendar.previous_business_day(tuesday) == friday
    assert calendar.business_days(friday, tuesday) == [friday, tuesday]
    midnight = BusinessCalendar(24 * 60, frozenset(), frozenset())
    assert midnight.business_date_of(datetime(2026, 11, 21, 23, 59, 59, tzinfo=business_zone)) == date(2026, 11, 21)
    assert midnight.cutoff_of(friday) == datetime(2026, 11, 21, 0, 0, tzinfo=business_zone)
    with pytest.raises(AssertionError):
        calendar.cutoff_of(date(2026, 11, 23))  # a holiday has no cut-off


def _statements(messages: list[Message], business_day: date) -> dict[str, Xml]:
    """The camt.053 statements of one business day among a mailbox's messages, by wallet."""
    found: dict[str, Xml] = {}
    for message in messages:
        if message.kind != "camt.053.001.08":
            continue
        statement = message.document.one("BkToCstmrStmt/Stmt")
        if statement.text("Bal[1]/Dt/Dt") == business_day.isoformat():
            wallet = statement.text("Acct/Id/Othr/Id")
            assert wallet not in found, f"two statements of {wallet} for {business_day}"
            found[wallet] = statement
    return found


def _amounts(statement: Xml) -> list[tuple[str, str]]:
    return [(entry.text("Amt"), entry.text("CdtDbtInd")) for entry in statement.all("Ntry")]


async def test_a_day_closes_with_what_came_before_its_cutoff_and_never_changes(
    clocked: tuple[GatewayUnderTest, Clock],
) -> None:
    gw, clock = clocked
    days = gw.gateway.days
    [first] = await days.days(friday, friday)
    assert first.state is DayState.OPEN and first.first_seq == 0
    assert (await gw.settle(pacs_008(SBER, "FRI-1", [Tx(SBER, VTB, 1_000_00)], friday))).group_status == "ACSC"
    clock.set(friday, 17, 59, 59)
    assert (await gw.settle(pacs_008(SBER, "FRI-2", [Tx(SBER, VTB, 2_00)], friday))).group_status == "ACSC"
    clock.set(friday, 18, 0)
    # After the cut-off the business day is Tuesday: a payment for Friday is too late, one for Tuesday settles.
    late = status_report((await gw.post(pacs_008(SBER, "FRI-3", [Tx(SBER, VTB, 4_00)], friday))).body)
    assert late.group_status == "RJCT" and "DT01" in late.group_reasons + [r for t in late.transactions for r in t.reasons]
    assert (await gw.settle(pacs_008(VTB, "TUE-1", [Tx(VTB, SBER, 3_00)], tuesday))).group_status == "ACSC"
    # Before it is closed, nobody may close a day still running, a day off, or a day before the first.
    clock.set(friday, 18, 5)
    for not_closable, says in (
        (tuesday, "runs until its cut-off, 2026-11-24 18:00"),
        (date(2026, 11, 23), "not a business day"),
        (date(2026, 11, 21), "not a business day"),
        (date(2026, 11, 19), "before the first business day"),
    ):
        with pytest.raises(DayNotClosable, match=says):
            await days.close(not_closable, "treasury")

    [closed] = await days.close(friday, "treasury")
    assert closed.business_date == friday and closed.state is DayState.CLOSED and closed.closed_by == "treasury"
    # Three funding mints and the two Friday payments; the opened day after it is Tuesday.
    assert (closed.first_seq, closed.last_seq) == (0, 5)
    assert [(d.business_date, d.state) for d in await days.days(friday, wednesday)] == [
        (friday, DayState.CLOSED), (tuesday, DayState.OPEN)
    ]  # fmt: skip
    with pytest.raises(DayNotClosable, match="closed already, by treasury"):
        await days.close(friday, "someone else")

    # Sberbank's end-of-day statements, one per wallet, in its mailbox: the funding and the two payments, not
    # Tuesday's; 3,000,000.00 - 1,000.00 - 2.00 = 2,998,998.00.
    statements = _statements(await gw.whole_mailbox(SBER), friday)
    assert sorted(statements) == [f"{SBER}/clients", f"{SBER}/main"]
    main = statements[f"{SBER}/main"]
    balances = {b.text("Tp/CdOrPrtry/Cd"): (b.text("Amt"), b.text("Dt/Dt")) for b in main.all("Bal")}
    assert balances == {"OPBD": ("0.00", "2026-11-20"), "CLBD": ("2998998.00", "2026-11-20")}
    assert _amounts(main) == [("3000000.00", "CRDT"), ("1000.00", "DBIT"), ("2.00", "DBIT")]
    assert {e.text("ValDt/Dt") for e in main.all("Ntry")} == {"2026-11-20"}
    assert _amounts(statements[f"{SBER}/clients"]) == []
    # VTB's statement of Friday shows the two payments it received, and not the one it sent on Tuesday.
    vtb_main = _statements(await gw.whole_mailbox(VTB), friday)[f"{VTB}/main"]
    assert _amounts(vtb_main) == [("2000000.00", "CRDT"), ("1000.00", "CRDT"), ("2.00", "CRDT")]

    # Tuesday, reported while it runs, opens where Friday closed and holds Tuesday's payment only.
    answer = await gw.post(camt_060(SBER, "REP-TUE", [ReportAsk("camt.052.001.08", f"{SBER}/main", tuesday, None)]))
    report = Message.read(answer.body).document.one("BkToCstmrAcctRpt/Rpt")
    assert report.text("Bal[1]/Amt") == "2998998.00" and _amounts(report) == [("3.00", "CRDT")]
    assert report.text("Ntry/ValDt/Dt") == "2026-11-24"
    # Friday's statement asked afterwards is the same day: same entries, same balances.
    answer = await gw.post(camt_060(SBER, "STM-FRI", [ReportAsk("camt.053.001.08", f"{SBER}/main", friday, friday)]))
    asked = Message.read(answer.body).document.one("BkToCstmrStmt/Stmt")
    assert _amounts(asked) == _amounts(main) and asked.text("Bal[2]/Amt") == "2998998.00"
    assert FUNDING[SBER] - 1_000_00 - 2_00 == 2_998_998_00


async def test_two_closers_at_once_and_a_close_resumed_after_a_crash_state_each_wallet_once(
    clocked: tuple[GatewayUnderTest, Clock],
) -> None:
    gw, clock = clocked
    days = gw.gateway.days
    assert (await gw.settle(pacs_008(SBER, "FRI-1", [Tx(SBER, VTB, 5_00)], friday))).group_status == "ACSC"
    clock.set(tuesday, 18, 0, 1)
    # Two processes' close passes at once (as two gateways at the cut-off): Friday, then Tuesday. Both may finish
    # a day the other began closing; what they write is claimed, and lands once (below).
    first, second = await asyncio.gather(days.close_due(), days.close_due())
    assert {d.business_date for d in first + second} == {friday, tuesday}
    [wednesday_open] = await days.days(wednesday, wednesday)
    assert wednesday_open.state is DayState.OPEN
    assert (await gw.settle(pacs_008(SBER, "WED-1", [Tx(SBER, VTB, 7_00)], wednesday))).group_status == "ACSC"
    # A crash right after Wednesday's boundary was fixed: the day is CLOSING, no statement written yet.
    clock.set(wednesday, 18, 0, 1)
    closing = await days.store.fix_boundary(wednesday, "gateway", clock())
    assert closing.state is DayState.CLOSING
    assert _statements(await gw.whole_mailbox(SBER), wednesday) == {}
    [resumed] = await days.close_due()  # the next pass, in any process, finishes it
    assert resumed.business_date == wednesday and resumed.state is DayState.CLOSED
    assert (await days.close_due()) == []  # and there is nothing more to do
    messages = await gw.whole_mailbox(SBER)
    expected = {
        friday: [("3000000.00", "CRDT"), ("5.00", "DBIT")],  # the funding mint and Friday's payment
        tuesday: [],
        wednesday: [("7.00", "DBIT")],
    }
    for business_day, entries in expected.items():
        statements = _statements(messages, business_day)  # raises on a wallet stated twice
        assert sorted(statements) == [f"{SBER}/clients", f"{SBER}/main"], business_day
        assert _amounts(statements[f"{SBER}/main"]) == entries, business_day


async def test_a_serving_gateway_closes_each_day_by_itself_at_its_cut_off(
    make_gateway: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """close_automatically = true: the serving process's background task closes the day once its cut-off passed,
    with nobody calling `day close`, and every wallet's statement reaches its owner."""
    from gateway import bounds

    clock = Clock(datetime(2026, 11, 20, 10, 0, tzinfo=business_zone))
    monkeypatch.setattr(runtime, "clock_us", clock)
    monkeypatch.setattr(bounds, "day_close_check_seconds", 0.05)  # read as the background task starts
    gw = await make_gateway(business_days_toml=calendar_toml.replace("close_automatically = false",
                                                                      "close_automatically = true"))
    assert (await gw.settle(pacs_008(SBER, "FRI-1", [Tx(SBER, VTB, 5_00)], friday))).group_status == "ACSC"
    await asyncio.sleep(0.3)  # several passes before the cut-off: Friday stays open
    [running] = await gw.gateway.days.days(friday, friday)
    assert running.state is DayState.OPEN
    clock.set(friday, 18, 0, 1)
    for _ in range(200):  # up to 10 s on a loaded machine; a pass comes every 0.05 s
        [friday_now] = await gw.gateway.days.days(friday, friday)
        if friday_now.state is DayState.CLOSED:
            break
        await asyncio.sleep(0.05)
    assert friday_now.state is DayState.CLOSED and friday_now.closed_by == "gateway"
    assert set(_statements(await gw.whole_mailbox(SBER), friday)) == {f"{SBER}/main", f"{SBER}/clients"}
