"""Three-way reconciliation of a closed business day: the RTGS's fiat statement of the central bank's reserve account,
the cryptorouble ledger's postings of the day, and the message journal, compared by gateway.treasury.comparison.
Every disagreement is a break (gateway.domain.reconciliation), stored so that a break found again on a later run is
the same break, with its age.

A run of day D also looks again at the breaks still open from earlier days (each of those days is compared again,
with what the journal and the RTGS hold now): one found again stays open and ages, one no longer found is resolved.
supply_not_reserve is a condition rather than an item: judged at D's close only, and one break for as long as it
lasts, resolved by the first day that closes clean. Nothing is stored unless every read succeeded: the run's breaks
are written in one transaction at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from gateway import bounds
from gateway.conversion.ports import Rtgs
from gateway.domain.calendar import BusinessCalendar, instant
from gateway.domain.conversion import ConversionRecord
from gateway.domain.days import BusinessDay, DayState
from gateway.domain.reconciliation import Break, StoredBreak, condition_kinds
from gateway.ledger.ports import BusinessDayStore
from gateway.messages.statement_pages import Unreadable, read_page
from gateway.treasury.comparison import DayFigures, DayFindings, DayWindow, StatedWallet, compare_day
from gateway.treasury.ports import BreakStore, DayRecords, ReconciliationReads

log = logging.getLogger(__name__)


class NotReconcilable(Exception):
    """A date that cannot be reconciled: not a business day, in the future, before the first recorded day, or a day
    not closed yet. The message says which and what to do."""


class ReserveAccountUnknown(Exception):
    """The RTGS does not know the reserve account the config names: a misconfiguration, not a break."""


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    """One run: the day's figures and every break open after it, oldest first."""

    day: BusinessDay
    run_at_us: int
    reserve_account: str  # at the RTGS
    figures: DayFigures
    breaks: tuple[StoredBreak, ...]  # found by this run (the day's, and earlier days' still open), oldest first
    new: frozenset[str]  # fingerprints of breaks first seen by this run
    resolved: tuple[StoredBreak, ...]  # breaks this run looked for and did not find again
    rechecked_days: tuple[date, ...]  # earlier days whose open breaks this run looked at again
    not_rechecked: tuple[StoredBreak, ...]  # open breaks of days too far back to look at again in one run

    @property
    def open_breaks(self) -> int:
        return len(self.breaks) + len(self.not_rechecked)


class Reconciliation:
    def __init__(
        self,
        calendar: BusinessCalendar,
        days: BusinessDayStore,
        reads: ReconciliationReads,
        breaks: BreakStore,
        rtgs: Rtgs,
        clock_us: Callable[[], int],
    ) -> None:
        self.calendar = calendar
        self._days = days
        self._reads = reads
        self._breaks = breaks
        self._rtgs = rtgs
        self._clock_us = clock_us

    async def open_breaks(self) -> list[StoredBreak]:
        """Every break not resolved, oldest first: what the treasury page shows."""
        return await self._breaks.open_breaks()

    async def latest_closed(self) -> date | None:
        """The most recent closed business day; None before the first closes."""
        latest, first = await self._days.latest(), await self._days.first_date()
        if latest is None or first is None:
            return None
        if latest.state is DayState.CLOSED:
            return latest.business_date
        closed = [d for d in await self._days.days(first, latest.business_date) if d.state is DayState.CLOSED]
        return closed[-1].business_date if closed else None

    async def reconcilable(self, business_date: date) -> BusinessDay:
        """The closed day to reconcile. Raises NotReconcilable, saying why not and what to do."""
        calendar = self.calendar
        if not calendar.is_business_day(business_date):
            raise NotReconcilable(
                f"{business_date} ({business_date:%A}) is not a business day: no postings belong to it (weekends and"
                " holidays are set in [business_days])"
            )
        first = await self._days.first_date()
        if first is None:
            raise NotReconcilable("the gateway has recorded no business day yet: there is nothing to reconcile")
        if business_date < first:
            raise NotReconcilable(
                f"{business_date} is before the first business day the gateway recorded, {first}: nothing to reconcile"
            )
        today = calendar.business_date_at(self._clock_us())
        if business_date > today:
            raise NotReconcilable(f"{business_date} is in the future: the business day now is {today}")
        day = await self._days.day(business_date)
        if day is None:
            raise NotReconcilable(f"{business_date} has no record of its own: `gateway day status` lists the days")
        if day.state is DayState.OPEN:
            cutoff = calendar.cutoff_of(business_date)
            raise NotReconcilable(
                f"{business_date} is still open: it closes at its cut-off, {cutoff:%Y-%m-%d %H:%M} Moscow time (or with"
                f" `gateway day close --date {business_date}` once that has passed); a day is reconciled once closed"
            )
        if day.state is DayState.CLOSING:
            raise NotReconcilable(
                f"{business_date} is closing: its end-of-day statements are being written; run again once it is closed"
            )
        return day

    async def run(self, business_date: date) -> ReconciliationReport:
        """Reconcile a closed day, look again at earlier days' open breaks, store the outcome. Raises
        NotReconcilable, ReserveAccountUnknown, RtgsUnavailable, StorageUnavailable and TooManyPostings; then
        nothing is stored."""
        day = await self.reconcilable(business_date)
        now_us = self._clock_us()
        open_before = await self._breaks.open_breaks()
        earlier = sorted({
            b.found.business_date for b in open_before
            if b.kind not in condition_kinds and b.found.business_date < business_date
        })
        rechecked = earlier[-bounds.reconciliation_days_rechecked_max :]
        found: dict[str, Break] = {}
        for earlier_date in rechecked:
            earlier_day = await self._days.day(earlier_date)
            assert earlier_day is not None and earlier_day.state is DayState.CLOSED, earlier_day
            findings = await self._compare(earlier_day, now_us)
            for item in findings.breaks:
                if item.kind not in condition_kinds:
                    found.setdefault(item.fingerprint, item)
        findings = await self._compare(day, now_us)
        for item in findings.breaks:
            found.setdefault(item.fingerprint, item)
        looked_at = set(rechecked) | {business_date}
        in_scope = [
            b for b in open_before
            if (b.kind in condition_kinds and b.last_seen_date <= business_date)
            or (b.kind not in condition_kinds and b.found.business_date in looked_at)
        ]
        resolved = [b.fingerprint for b in in_scope if b.fingerprint not in found]
        recorded = await self._breaks.record_run(business_date, list(found.values()), resolved, now_us)
        scope = {b.fingerprint for b in in_scope} | set(found)
        not_rechecked = tuple(
            b for b in open_before
            if b.fingerprint not in scope and b.found.business_date < business_date and b.kind not in condition_kinds
        )
        log.info("reconciled %s: %d breaks open (%d new), %d resolved", business_date, len(recorded.found),
                 len(recorded.new), len(recorded.resolved))
        return ReconciliationReport(
            day=day,
            run_at_us=now_us,
            reserve_account=self._rtgs.reserve_account,
            figures=findings.figures,
            breaks=tuple(sorted(recorded.found, key=_oldest_first)),
            new=recorded.new,
            resolved=tuple(sorted(recorded.resolved, key=_oldest_first)),
            rechecked_days=tuple(rechecked),
            not_rechecked=tuple(sorted(not_rechecked, key=_oldest_first)),
        )

    async def _compare(self, day: BusinessDay, now_us: int) -> DayFindings:
        """Read one closed day from the three systems and compare."""
        calendar = self.calendar
        first = await self._days.first_date()
        previous = calendar.previous_business_day(day.business_date)
        window = DayWindow(
            business_date=day.business_date,
            previous_business_date=None if first is None or day.business_date <= first else previous,
            start_us=calendar.cutoff_us(previous),
            end_us=day.cutoff_at_us,
        )
        records = await self._reads.day_records(
            day, window.start_us, window.previous_business_date, bounds.reconciliation_postings_max
        )
        from_date, to_date = fiat_period(window, records.conversions, instant(now_us).date())
        reserve_account = self._rtgs.reserve_account
        fiat = await self._rtgs.statement(reserve_account, from_date, to_date)
        if fiat is None:
            raise ReserveAccountUnknown(
                f"the RTGS does not know the reserve account {reserve_account} (central_bank.reserve_rtgs_account)"
            )
        stated = await self._stated(records)
        return compare_day(records, fiat, window, reserve_account, stated)

    async def _stated(self, records: DayRecords) -> dict[str, StatedWallet]:
        """Each claimed statement's pages as read back: the first page, then those that follow it in the mailbox
        until the one marked last (a statement longer than one page)."""
        business_date = records.day.business_date
        stated: dict[str, StatedWallet] = {}
        for claimed in records.statements:
            try:
                pages = [read_page(claimed.payload)]
            except Unreadable as error:
                stated[claimed.wallet_code] = error
                continue
            if not pages[0].last_page and claimed.mailbox_seq is not None:
                following = await self._reads.following_pages(
                    claimed.recipient_bic, claimed.mailbox_seq, bounds.report_pages_max - 1
                )
                for payload in following:
                    try:
                        page = read_page(payload)
                    except Unreadable:
                        break  # not a page of this statement: the statement ends short of its last page
                    if page.wallet_code != claimed.wallet_code or page.business_date != business_date:
                        break
                    pages.append(page)
                    if page.last_page:
                        break
            stated[claimed.wallet_code] = tuple(pages)
        return stated


def fiat_period(window: DayWindow, conversions: Sequence[ConversionRecord], today: date) -> tuple[date, date]:
    """The calendar days of the reserve account's statement a day's comparison reads: from the day before the day
    began (or the day its oldest conversion still in question began, if earlier) to the calendar day after its
    cut-off, never past today, and never longer than the RTGS gives in one statement."""
    from_date = instant(window.start_us).date() - timedelta(days=1)
    if conversions:
        from_date = min(from_date, min(instant(c.created_at_us).date() for c in conversions))
    to_date = min(instant(window.end_us - 1).date() + timedelta(days=1), today)
    from_date = max(from_date, to_date - timedelta(days=bounds.rtgs_statement_days_max - 1))
    assert from_date <= to_date, (from_date, to_date)
    return from_date, to_date


def _oldest_first(stored: StoredBreak) -> tuple[int, date, str]:
    return stored.first_seen_at_us, stored.found.business_date, stored.fingerprint
