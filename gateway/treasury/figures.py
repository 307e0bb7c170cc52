"""What treasury watches, for the treasury page, its JSON API and /metrics: supply against the fiat reserve and the
emission cap, each bank's positions, today's flows by message type, supply and settled volume over time, pending
and warehoused payments, rejects by reason code, and open reconciliation breaks.

Who sees what (`Viewer`), decided here once:
  the central bank    everything, every bank's positions, flows, payments and rejects, and every open break;
  a bank              its own wallets, RTGS account, messages, payments (as debtor or creditor agent), rejects and
                      the open breaks on its own wallets or RTGS account; of the system only what /v1/ledger/head
                      already tells every participant (supply, the ledger's reserve, the cap). Never another bank's
                      figures, never the table of every bank, never the central bank's own RTGS reserve account.

Cheap to poll: the figures every viewer shares are read at most every `treasury_refresh_ms`, whoever asks, and the
RTGS balances every `bounds.treasury_rtgs_refresh_seconds`; a viewer's slice is cut from them. The chart's past is
read once: a closed business day never changes, and today's hours are read on from where the last read stopped
(the chain only grows). Lists (rejects, pending payments, breaks) are bounded queries over indexes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from gateway import bounds
from gateway.conversion.ports import FiatBalance, Rtgs, RtgsUnavailable
from gateway.domain.calendar import BusinessCalendar
from gateway.domain.days import BusinessDay, DayState
from gateway.domain.figures import (
    MessageCount,
    Movements,
    OpenBreak,
    Outcome,
    PendingItem,
    PendingTotal,
    ReasonCount,
    Reject,
    TransactionTotal,
    Volume,
)
from gateway.domain.journal import MessageStatus
from gateway.domain.ledger import Account, AccountKind
from gateway.ledger.ports import BusinessDayStore, LedgerStore, Participant, RegistryStore

log = logging.getLogger(__name__)


class FigureReads(Protocol):
    """The reads the figures need (gateway_adapters.sql.figures.SqlFigures)."""

    async def movements(self, after_seq: int, through_seq: int | None, hourly: bool) -> Movements: ...

    async def inbound_counts(self, since_us: int) -> list[MessageCount]: ...

    async def transaction_totals(self, since_us: int, business_date: date) -> list[TransactionTotal]: ...

    async def reason_counts(self, since_us: int, business_date: date) -> list[ReasonCount]: ...

    async def recent_rejects(
        self, since_us: int, business_date: date, bank_bic: str | None, limit: int
    ) -> list[Reject]: ...

    async def pending(self, bank_bic: str | None, limit: int) -> tuple[list[PendingItem], list[PendingTotal]]: ...

    async def open_breaks(self, accounts: frozenset[str] | None, limit: int) -> tuple[list[OpenBreak], int]: ...

    async def open_break_kinds(self) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: the central bank, or one bank (by canonical BIC)."""

    bic: str
    central_bank: bool

    def sees(self, bank_bic: str | None) -> bool:
        return self.central_bank or bank_bic == self.bic


# --- what the page shows ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Emission:
    supply_kopecks: int
    reserve_ledger_kopecks: int  # the ledger's mirror of the fiat reserve
    reserve_rtgs_kopecks: int | None  # the RTGS reserve account's booked balance; None: not shown, or not known
    emission_cap_kopecks: int
    pending_mints_kopecks: int

    @property
    def headroom_kopecks(self) -> int:
        """What may still be issued: the cap less the supply and the mints pending."""
        return self.emission_cap_kopecks - self.supply_kopecks - self.pending_mints_kopecks


@dataclass(frozen=True, slots=True)
class WalletPosition:
    code: str
    status: str
    posted_kopecks: int
    debits_pending_kopecks: int
    credits_pending_kopecks: int


@dataclass(frozen=True, slots=True)
class BankPosition:
    bic: str
    name: str
    status: str
    rtgs_account: str
    wallets: tuple[WalletPosition, ...]
    rtgs: FiatBalance | None  # None: the RTGS has not answered for it (yet), or knows no such account

    @property
    def wallets_kopecks(self) -> int:
        return sum(w.posted_kopecks for w in self.wallets)


@dataclass(slots=True)
class Flow:
    """Today's inbound messages of one type (the viewer's), and what became of their transactions."""

    message_type: str
    messages: dict[str, int] = field(default_factory=dict)  # by MessageStatus value
    transactions: dict[Outcome, tuple[int, int]] = field(default_factory=dict)  # outcome -> (count, kopecks)

    @property
    def received(self) -> int:
        return sum(self.messages.values())

    def add_transactions(self, outcome: Outcome, count: int, kopecks: int) -> None:
        before_count, before_kopecks = self.transactions.get(outcome, (0, 0))
        self.transactions[outcome] = (before_count + count, before_kopecks + kopecks)


@dataclass(frozen=True, slots=True)
class Overview:
    as_of_us: int  # when the shared figures were read
    viewer: Viewer
    viewer_name: str
    business_date: date
    day: BusinessDay | None  # the latest business day the ledger recorded (today's, unless it was not opened yet)
    cutoff_us: int  # when today's business day ends
    emission: Emission
    positions: tuple[BankPosition, ...]
    rtgs_as_of_us: int | None  # when the RTGS balances were read; None: never yet
    flows: tuple[Flow, ...]
    reasons: tuple[tuple[str, int], ...]  # today's rejects by reason code, most first


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    business_date: date
    hour_us: int | None  # the start of the hour, for today's points; None for a whole day
    supply_kopecks: int  # at the end of the period (now, for today's latest)
    settled_kopecks: int  # payments settled: all, for the central bank; the bank's sent plus received, for a bank
    sent_kopecks: int | None  # a bank's own payments out and in; None for the central bank
    received_kopecks: int | None


@dataclass(frozen=True, slots=True)
class Series:
    as_of_us: int
    days: tuple[SeriesPoint, ...]  # closed business days, oldest first, then today so far
    hours: tuple[SeriesPoint, ...]  # today by the hour


@dataclass(frozen=True, slots=True)
class PendingView:
    items: tuple[PendingItem, ...]
    totals: tuple[PendingTotal, ...]


@dataclass(frozen=True, slots=True)
class RejectsView:
    business_date: date
    since_us: int
    reasons: tuple[tuple[str, int], ...]
    recent: tuple[Reject, ...]


@dataclass(frozen=True, slots=True)
class BreaksView:
    open_total: int
    breaks: tuple[OpenBreak, ...]


@dataclass(frozen=True, slots=True)
class Gauges:
    """What /metrics shows of treasury: cheap reads, every scrape."""

    supply_kopecks: int
    reserve_ledger_kopecks: int
    emission_cap_kopecks: int
    open_breaks: dict[str, int]  # by kind
    day: BusinessDay | None


# --- the figures every viewer shares, read at most every refresh interval ------------------------------------------


@dataclass(frozen=True, slots=True)
class _Shared:
    taken_at_us: int
    business_date: date
    since_us: int  # when today's business day began: the previous business day's cut-off
    day: BusinessDay | None
    emission_cap_kopecks: int
    accounts: tuple[Account, ...]
    participants: tuple[Participant, ...]
    inbound: tuple[MessageCount, ...]
    transactions: tuple[TransactionTotal, ...]
    reasons: tuple[ReasonCount, ...]


@dataclass(slots=True)
class _Today:
    """Today's hours, read on from `cursor_seq` each time."""

    business_date: date
    first_seq: int
    cursor_seq: int
    supply_kopecks: int  # at cursor_seq
    hours: dict[int, Volume] = field(default_factory=dict)


class TreasuryFigures:
    def __init__(
        self,
        reads: FigureReads,
        ledger: LedgerStore,
        registry: RegistryStore,
        days: BusinessDayStore,
        rtgs: Rtgs,
        calendar: BusinessCalendar,
        central_bank_bic: str,
        refresh_us: int,
        clock_us: Callable[[], int],
    ) -> None:
        self._reads = reads
        self._ledger = ledger
        self._registry = registry
        self._days = days
        self._rtgs = rtgs
        self._calendar = calendar
        self.central_bank_bic = central_bank_bic
        self._refresh_us = refresh_us
        self._clock_us = clock_us
        self._shared: _Shared | None = None
        self._shared_lock = asyncio.Lock()
        self._rtgs_balances: dict[str, FiatBalance | None] = {}
        self._rtgs_read_at_us: int | None = None
        self._rtgs_lock = asyncio.Lock()
        self._closed: dict[date, Volume] = {}
        self._today: _Today | None = None
        self._series_lock = asyncio.Lock()

    def viewer(self, bic: str) -> Viewer:
        return Viewer(bic, bic == self.central_bank_bic)

    # --- overview ------------------------------------------------------------------------------------------------

    async def overview(self, viewer: Viewer) -> Overview:
        shared = await self._shared_figures()
        await self._refresh_rtgs(shared.participants)
        issuance = next(a for a in shared.accounts if a.kind is AccountKind.ISSUANCE)
        reserve = next(a for a in shared.accounts if a.kind is AccountKind.RESERVE)
        reserve_rtgs = self._rtgs_balances.get(self._rtgs.reserve_account) if viewer.central_bank else None
        emission = Emission(
            supply_kopecks=-issuance.posted_kopecks,
            reserve_ledger_kopecks=reserve.posted_kopecks,
            reserve_rtgs_kopecks=None if reserve_rtgs is None else reserve_rtgs.booked_kopecks,
            emission_cap_kopecks=shared.emission_cap_kopecks,
            pending_mints_kopecks=issuance.debits_pending_kopecks,
        )
        positions = tuple(
            self._position(participant, shared.accounts)
            for participant in shared.participants
            if participant.role == "bank" and viewer.sees(participant.bic)
        )
        names = {p.bic: p.name for p in shared.participants}
        return Overview(
            as_of_us=shared.taken_at_us,
            viewer=viewer,
            viewer_name=names.get(viewer.bic, viewer.bic),
            business_date=shared.business_date,
            day=shared.day,
            cutoff_us=self._calendar.cutoff_us(shared.business_date),
            emission=emission,
            positions=positions,
            rtgs_as_of_us=self._rtgs_read_at_us,
            flows=_flows(viewer, shared.inbound, shared.transactions),
            reasons=_reason_totals(viewer, shared.reasons),
        )

    def _position(self, participant: Participant, accounts: tuple[Account, ...]) -> BankPosition:
        wallets = tuple(
            WalletPosition(a.code, a.status.value, a.posted_kopecks, a.debits_pending_kopecks, a.credits_pending_kopecks)
            for a in sorted(accounts, key=lambda a: a.code)
            if a.kind is AccountKind.WALLET and a.owner_bic == participant.bic
        )
        return BankPosition(
            bic=participant.bic, name=participant.name, status=participant.status.value,
            rtgs_account=participant.rtgs_account, wallets=wallets,
            rtgs=self._rtgs_balances.get(participant.rtgs_account),
        )

    async def _shared_figures(self) -> _Shared:
        async with self._shared_lock:  # one read at a time: a crowd of pollers waits for it instead of repeating it
            now_us = self._clock_us()
            shared = self._shared
            if shared is not None and now_us - shared.taken_at_us < self._refresh_us:
                return shared
            business_date = self._calendar.business_date_at(now_us)
            since_us = self._calendar.cutoff_us(self._calendar.previous_business_day(business_date))
            head = await self._ledger.head()
            shared = _Shared(
                taken_at_us=now_us,
                business_date=business_date,
                since_us=since_us,
                day=await self._days.latest(),
                emission_cap_kopecks=head.emission_cap_kopecks,
                accounts=tuple(await self._ledger.accounts()),
                participants=tuple(sorted(await self._registry.participants(), key=lambda p: p.bic)),
                inbound=tuple(await self._reads.inbound_counts(since_us)),
                transactions=tuple(await self._reads.transaction_totals(since_us, business_date)),
                reasons=tuple(await self._reads.reason_counts(since_us, business_date)),
            )
            self._shared = shared
            return shared

    async def _refresh_rtgs(self, participants: tuple[Participant, ...]) -> None:
        """Every bank's RTGS account and the reserve account, at most every treasury_rtgs_refresh_seconds. An RTGS
        that does not answer keeps the last balances read (the page says when they were read)."""
        refresh_us = int(bounds.treasury_rtgs_refresh_seconds * 1_000_000)
        if self._rtgs_read_at_us is not None and self._clock_us() - self._rtgs_read_at_us < refresh_us:
            return
        async with self._rtgs_lock:
            if self._rtgs_read_at_us is not None and self._clock_us() - self._rtgs_read_at_us < refresh_us:
                return
            accounts = [self._rtgs.reserve_account, *(p.rtgs_account for p in participants if p.role == "bank")]
            in_flight = asyncio.Semaphore(bounds.treasury_rtgs_calls_in_flight_max)

            async def balance(account: str) -> FiatBalance | None:
                async with in_flight:
                    return await self._rtgs.balance(account)

            started_us = self._clock_us()
            try:
                balances = await asyncio.gather(*(balance(account) for account in accounts))
            except RtgsUnavailable as error:
                log.warning("treasury figures: the RTGS did not answer, balances of %s kept: %s",
                            self._rtgs_read_at_us, error)
                return
            self._rtgs_balances = dict(zip(accounts, balances, strict=True))
            self._rtgs_read_at_us = started_us

    # --- the chart: supply and settled volume ---------------------------------------------------------------

    async def series(self, viewer: Viewer, days_back: int) -> Series:
        assert 1 <= days_back <= bounds.treasury_series_days_max, days_back
        async with self._series_lock:
            latest = await self._days.latest()
            today = await self._read_today(latest)
            closed = await self._closed_days(latest, today.business_date, days_back)
            wallet_ids = await self._wallet_ids(viewer)
        hours_total = Volume()
        hours: list[SeriesPoint] = []
        supply = today.supply_kopecks - sum(v.supply_change_kopecks for v in today.hours.values())
        opening_supply = supply
        for hour_us in sorted(today.hours):
            volume = today.hours[hour_us]
            supply += volume.supply_change_kopecks
            hours.append(_point(viewer, wallet_ids, today.business_date, hour_us, supply, volume))
            _merge(hours_total, volume)
        points = [_point(viewer, wallet_ids, today.business_date, None, today.supply_kopecks, hours_total)]
        supply = opening_supply  # at the close of the newest closed day, going back one day at a time
        for day, volume in closed:
            points.append(_point(viewer, wallet_ids, day, None, supply, volume))
            supply -= volume.supply_change_kopecks
        return Series(as_of_us=self._clock_us(), days=tuple(reversed(points)), hours=tuple(hours))

    async def _read_today(self, latest: BusinessDay | None) -> _Today:
        """Today's postings by the hour, read on from the last read."""
        if latest is None:
            business_date, first_seq = self._calendar.business_date_at(self._clock_us()), 0
        elif latest.state is DayState.CLOSED:
            assert latest.last_seq is not None
            business_date, first_seq = self._calendar.next_business_day(latest.business_date), latest.last_seq
        else:
            business_date, first_seq = latest.business_date, latest.first_seq
        today = self._today
        if today is None or (today.business_date, today.first_seq) != (business_date, first_seq):
            today = _Today(business_date, first_seq, first_seq, 0)
        movements = await self._reads.movements(today.cursor_seq, None, hourly=True)
        for posting in movements.postings:
            today.hours.setdefault(posting.bucket_us, Volume()).add(posting)
        today.cursor_seq, today.supply_kopecks = movements.through_seq, movements.supply_kopecks
        self._today = today
        return today

    async def _closed_days(self, latest: BusinessDay | None, today: date, days_back: int) -> list[tuple[date, Volume]]:
        """The closed business days before today, newest first, at most `days_back`, each read once ever."""
        if latest is None:
            return []
        earliest = today
        for _ in range(days_back):
            earliest = self._calendar.previous_business_day(earliest)
        recorded = await self._days.days(earliest, today - timedelta(days=1))
        closed = [d for d in reversed(recorded) if d.state is DayState.CLOSED and d.business_date < today]
        found = []
        for day in closed[:days_back]:
            volume = self._closed.get(day.business_date)
            if volume is None:
                assert day.last_seq is not None
                movements = await self._reads.movements(day.first_seq, day.last_seq, hourly=False)
                volume = Volume()
                for posting in movements.postings:
                    volume.add(posting)
                if len(self._closed) >= bounds.treasury_closed_days_cached_max:
                    self._closed.pop(min(self._closed))
                self._closed[day.business_date] = volume
            found.append((day.business_date, volume))
        return found

    async def _wallet_ids(self, viewer: Viewer) -> frozenset[int]:
        if viewer.central_bank:
            return frozenset()
        return frozenset(
            a.id for a in await self._ledger.accounts() if a.kind is AccountKind.WALLET and a.owner_bic == viewer.bic
        )

    # --- lists ---------------------------------------------------------------------------------------------------

    async def pending(self, viewer: Viewer, limit: int) -> PendingView:
        items, totals = await self._reads.pending(None if viewer.central_bank else viewer.bic, limit)
        return PendingView(tuple(items), tuple(totals))

    async def rejects(self, viewer: Viewer, limit: int) -> RejectsView:
        shared = await self._shared_figures()
        bank = None if viewer.central_bank else viewer.bic
        recent = await self._reads.recent_rejects(shared.since_us, shared.business_date, bank, limit)
        return RejectsView(shared.business_date, shared.since_us, _reason_totals(viewer, shared.reasons), tuple(recent))

    async def breaks(self, viewer: Viewer, limit: int) -> BreaksView:
        accounts = None
        if not viewer.central_bank:
            own = [a.code for a in await self._ledger.accounts() if a.owner_bic == viewer.bic]
            own += [p.rtgs_account for p in await self._registry.participants() if p.bic == viewer.bic]
            accounts = frozenset(own)
        breaks, total = await self._reads.open_breaks(accounts, limit)
        return BreaksView(total, tuple(breaks))

    # --- metrics -------------------------------------------------------------------------------------------------

    async def gauges(self) -> Gauges:
        accounts = await self._ledger.accounts()
        issuance = next(a for a in accounts if a.kind is AccountKind.ISSUANCE)
        reserve = next(a for a in accounts if a.kind is AccountKind.RESERVE)
        head = await self._ledger.head()
        return Gauges(
            supply_kopecks=-issuance.posted_kopecks,
            reserve_ledger_kopecks=reserve.posted_kopecks,
            emission_cap_kopecks=head.emission_cap_kopecks,
            open_breaks=await self._reads.open_break_kinds(),
            day=await self._days.latest(),
        )


def _merge(total: Volume, volume: Volume) -> None:
    total.minted_kopecks += volume.minted_kopecks
    total.burned_kopecks += volume.burned_kopecks
    total.settled_kopecks += volume.settled_kopecks
    for account, kopecks in volume.sent_kopecks.items():
        total.sent_kopecks[account] = total.sent_kopecks.get(account, 0) + kopecks
    for account, kopecks in volume.received_kopecks.items():
        total.received_kopecks[account] = total.received_kopecks.get(account, 0) + kopecks


def _point(
    viewer: Viewer, wallet_ids: frozenset[int], business_date: date, hour_us: int | None, supply_kopecks: int,
    volume: Volume,
) -> SeriesPoint:
    if viewer.central_bank:
        return SeriesPoint(business_date, hour_us, supply_kopecks, volume.settled_kopecks, None, None)
    sent, received = volume.sent_by(wallet_ids), volume.received_by(wallet_ids)
    return SeriesPoint(business_date, hour_us, supply_kopecks, sent + received, sent, received)


def _flows(
    viewer: Viewer, inbound: tuple[MessageCount, ...], transactions: tuple[TransactionTotal, ...]
) -> tuple[Flow, ...]:
    flows: dict[str, Flow] = {}
    for count in inbound:
        if not viewer.sees(count.sender_bic):
            continue
        message_type = count.message_type or "unreadable"
        flow = flows.setdefault(message_type, Flow(message_type))
        flow.messages[count.status] = flow.messages.get(count.status, 0) + count.count
    for total in transactions:
        if viewer.sees(total.bank_bic):
            flows.setdefault(total.message_type, Flow(total.message_type)).add_transactions(
                total.outcome, total.count, total.kopecks
            )
    for flow in flows.values():
        assert set(flow.messages) <= {s.value for s in MessageStatus}, flow.messages
    return tuple(sorted(flows.values(), key=lambda f: f.message_type))


def _reason_totals(viewer: Viewer, reasons: tuple[ReasonCount, ...]) -> tuple[tuple[str, int], ...]:
    totals: dict[str, int] = {}
    for reason in reasons:
        if viewer.sees(reason.bank_bic):
            totals[reason.reason_code] = totals.get(reason.reason_code, 0) + reason.count
    return tuple(sorted(totals.items(), key=lambda item: (-item[1], item[0])))
