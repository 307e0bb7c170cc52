"""Business days: each opens as the one before it closes, and closes once, at its cut-off, by whichever gateway process
gets there first (or by `gateway day close`), coordinated through the database:

    OPEN --fix_boundary (under the ledger's head lock: its last posting)--> CLOSING
         --every wallet's camt.053 end-of-day statement into its owner's mailbox--> CLOSED --> the next day OPEN

A closed day never changes: its postings are the transfers up to the boundary fixed as it closed, and every later
transfer has a higher chain sequence. Each statement is claimed (`statement|<date>|<wallet>`) in the transaction
that journals it, so a close resumed after a crash, or run by two processes at once, writes each statement once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from gateway.domain.calendar import BusinessCalendar
from gateway.domain.conversion import ConversionUse
from gateway.domain.days import BusinessDay, DayState, statement_key
from gateway.domain.journal import JournalRows, PaymentState
from gateway.domain.ledger import AccountKind, TransferResult
from gateway.handling.journaling import Journaling, outbound_records
from gateway.ledger.ports import (
    BusinessDayStore,
    DayAlreadyClosing,
    JournalConflict,
    LedgerStore,
)
from gateway.messages.answers import Outbound
from gateway.reporting.service import AccountReports

log = logging.getLogger(__name__)


class DayNotClosable(Exception):
    """A day that cannot be closed as asked: not a business day, not yet over, already closed, before the first."""


@dataclass(slots=True)
class _StatementJournal:
    """The BatchAttachment of one wallet's end-of-day statement: its pages into the owner's mailbox, claimed once."""

    key: str
    gateway_bic: str
    pages: Sequence[Outbound]

    @property
    def claim_keys(self) -> Sequence[str]:
        return (self.key,)

    @property
    def expected_payment_states(self) -> Sequence[tuple[UUID, PaymentState]]:
        return ()

    @property
    def conversion_uses(self) -> Sequence[ConversionUse]:
        return ()

    def journal(self, results: Sequence[TransferResult], settled_at_us: int) -> JournalRows:
        assert not results, "a statement moves no money"
        messages, mailbox = outbound_records(self.gateway_bic, self.pages, None, settled_at_us)
        return JournalRows(messages=tuple(messages), mailbox=mailbox, step_claims=((self.key, messages[0].id),))


class BusinessDays:
    def __init__(
        self,
        calendar: BusinessCalendar,
        store: BusinessDayStore,
        ledger: LedgerStore,
        reports: AccountReports,
        journaling: Journaling,
        clock_us: Callable[[], int],
    ) -> None:
        self.calendar = calendar
        self.store = store
        self._ledger = ledger
        self._reports = reports
        self._journaling = journaling
        self._clock_us = clock_us

    async def open_first(self) -> BusinessDay:
        """The gateway's first business day is today's: opened on its first start (days before it have no record)."""
        latest = await self.store.latest()
        if latest is not None:
            return latest
        now_us = self._clock_us()
        today = self.calendar.business_date_at(now_us)
        return await self.store.open_day(today, self.calendar.cutoff_us(today), 0, now_us)

    async def close_due(self, closed_by: str = "gateway") -> list[BusinessDay]:
        """Close every day whose cut-off has passed, in order, and open the days after them up to today's.
        Returns the days closed. Safe to run in several processes at once."""
        return await self._close_through(self.calendar.business_date_at(self._clock_us()), closed_by, until=None)

    async def close(self, business_date: date, closed_by: str) -> list[BusinessDay]:
        """`gateway day close`: close `business_date` (and any open day before it). Raises DayNotClosable."""
        now_us = self._clock_us()
        if not self.calendar.is_business_day(business_date):
            raise DayNotClosable(f"{business_date} is not a business day")
        first = await self.store.first_date()
        if first is not None and business_date < first:
            raise DayNotClosable(f"{business_date} is before the first business day the gateway recorded, {first}")
        recorded = await self.store.day(business_date)
        if recorded is not None and recorded.state is DayState.CLOSED:
            raise DayNotClosable(
                f"{business_date} was closed already, by {recorded.closed_by}; a closed day never changes"
            )
        if now_us < self.calendar.cutoff_us(business_date):
            cutoff = self.calendar.cutoff_of(business_date)
            raise DayNotClosable(f"{business_date} runs until its cut-off, {cutoff:%Y-%m-%d %H:%M %Z}; it closes then")
        today = self.calendar.business_date_at(now_us)
        closed = await self._close_through(today, closed_by, until=business_date)
        day = await self.store.day(business_date)
        assert day is not None and day.state is DayState.CLOSED, day
        return closed

    async def day(self, business_date: date) -> BusinessDay | None:
        return await self.store.day(business_date)

    async def days(self, from_date: date, to_date: date) -> list[BusinessDay]:
        return await self.store.days(from_date, to_date)

    async def _close_through(self, today: date, closed_by: str, until: date | None) -> list[BusinessDay]:
        closed: list[BusinessDay] = []
        while True:
            latest = await self.store.latest()
            now_us = self._clock_us()
            if latest is None:
                await self.store.open_day(today, self.calendar.cutoff_us(today), 0, now_us)
                continue
            if latest.state is DayState.OPEN:
                if now_us < latest.cutoff_at_us or (until is not None and latest.business_date > until):
                    return closed
                try:
                    latest = await self.store.fix_boundary(latest.business_date, closed_by, now_us)
                except DayAlreadyClosing:
                    continue  # another process fixed it: finish (or find finished) what it started
            if latest.state is DayState.CLOSING:
                closed.append(await self._finish(latest))
                continue
            # The latest day is closed: open the next one, unless it lies beyond today.
            following = self.calendar.next_business_day(latest.business_date)
            if following > today:
                return closed
            assert latest.last_seq is not None
            await self.store.open_day(following, self.calendar.cutoff_us(following), latest.last_seq, now_us)

    async def _finish(self, day: BusinessDay) -> BusinessDay:
        """Every wallet's statement of a CLOSING day, then CLOSED."""
        wallets = [a for a in await self._ledger.accounts() if a.kind is AccountKind.WALLET]
        written = 0
        for account in sorted(wallets, key=lambda a: a.code):
            pages = await self._reports.day_statements(
                day, account.owner_bic, account.code, account.id, self._clock_us()
            )
            attachment = _StatementJournal(
                statement_key(day.business_date, account.code), self._journaling.gateway_bic, pages
            )
            try:
                await self._journaling.batcher.submit((), attachment)
                written += 1
            except JournalConflict:
                pass  # written before: by this close before a crash, or by another process closing it too
        closed = await self.store.mark_closed(day.business_date, self._clock_us())
        log.info("business day %s closed by %s: postings %d..%d, %d statements written",
                 day.business_date, day.closed_by, day.first_seq + 1, day.last_seq, written)
        return closed
