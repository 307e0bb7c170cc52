"""The central bank's fiat RTGS, as the conversion saga needs it: a port, implemented by the embedded simulator
(gateway_adapters.rtgs.simulator) and by the ISO 20022-over-HTTP client (gateway_adapters.rtgs.http_client);
tests/rtgs/test_rtgs_contract.py holds every implementation to the same contract.

Every call that changes something carries a request id and is idempotent by it: repeating a call with the same id
and the same content does nothing more and answers what the first call answered; the same id with other content
(another account, amount or FiatReferences) answers REQUEST_CONFLICT. That is what lets the saga retry a call whose
answer it never saw (a timeout, a crash).

A reserve and a credit carry the references of the bank's camt.050 they are for (FiatReferences); the RTGS keeps
them with the hold or the booking, books a commit with its hold's, and gives them back on every statement entry
(FiatEntry.references), so that a fiat booking can be matched to its conversion and its ledger posting.

Money is integer kopecks of RUB. A hold reserves part of a bank's RTGS account: its available balance falls, its
booked balance does not, until the hold is committed (the money moves to the central bank's cryptoruble reserve
account and is booked) or released.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from gateway.domain.conversion import ConversionRecord


class RtgsOutcome(enum.StrEnum):
    """What the RTGS did with one request. DONE is the only outcome that moved or reserved anything."""

    DONE = "done"  # took effect, now or on an earlier call with the same request id
    INSUFFICIENT_FUNDS = "insufficient_funds"  # reserve: the account's available balance is below the amount
    UNKNOWN_ACCOUNT = "unknown_account"  # no such RTGS account
    ACCOUNT_BLOCKED = "account_blocked"  # the account exists but may not be debited or credited
    HOLD_NOT_FOUND = "hold_not_found"  # commit of a hold id never reserved
    HOLD_RELEASED = "hold_released"  # commit of a released hold; reserve of a hold id already released
    HOLD_COMMITTED = "hold_committed"  # release of a committed hold
    REQUEST_CONFLICT = "request_conflict"  # the request id was used before for another operation or content


class RtgsUnavailable(Exception):
    """The RTGS could not be reached, failed, or did not answer in time: the outcome of the call is unknown.
    Retry it later with the same request id."""


@dataclass(frozen=True, slots=True)
class FiatBalance:
    account: str
    booked_kopecks: int  # what the account holds
    held_kopecks: int  # reserved by holds not yet committed or released

    @property
    def available_kopecks(self) -> int:
        return self.booked_kopecks - self.held_kopecks


class FiatDirection(enum.StrEnum):
    CREDIT = "CRDT"
    DEBIT = "DBIT"


@dataclass(frozen=True, slots=True)
class FiatReferences:
    """The references of the bank's camt.050 a fiat booking is for: what ties the booking to its conversion, to the
    conversion's ledger posting and to the bank's own books."""

    message_id: str  # the camt.050's MsgHdr/MsgId
    end_to_end_id: str | None  # LqdtyTrfId/EndToEndId
    transaction_id: str | None  # LqdtyTrfId/TxId
    uetr: UUID | None  # LqdtyTrfId/UETR


@dataclass(frozen=True, slots=True)
class FiatEntry:
    """One booking on an RTGS account."""

    entry_id: int  # the RTGS's own number for the booking, increasing in booking order
    request_id: UUID  # the request that booked it (for a commit: the commit's request id)
    kopecks: int  # positive
    direction: FiatDirection  # from the statement account's side
    counter_account: str  # the other account of the booking
    booked_at: datetime  # aware
    reference: str  # what the booking was for, e.g. "opening balance", "conversion <hold id>"
    references: FiatReferences | None = None  # the camt.050's, for a conversion's booking; None for an opening


@dataclass(frozen=True, slots=True)
class FiatStatement:
    """Bookings on one account over whole business days (Moscow time), from_date to to_date inclusive."""

    account: str
    from_date: date
    to_date: date
    opening_kopecks: int  # booked balance as from_date began
    closing_kopecks: int  # booked balance as to_date ended (or now, for today)
    entries: tuple[FiatEntry, ...]

    def __post_init__(self) -> None:
        net = sum(e.kopecks if e.direction is FiatDirection.CREDIT else -e.kopecks for e in self.entries)
        assert self.opening_kopecks + net == self.closing_kopecks, "a statement's entries explain its balances"


class Rtgs(Protocol):
    """The fiat side of a conversion. Every method raises RtgsUnavailable when the RTGS cannot answer."""

    @property
    def reserve_account(self) -> str:
        """The central bank's account that holds the fiat roubles issued cryptoroubles stand for."""
        ...

    async def balance(self, account: str) -> FiatBalance | None:
        """The account's balances now; None for an unknown account."""
        ...

    async def reserve(
        self, hold_id: UUID, account: str, amount_kopecks: int, references: FiatReferences
    ) -> RtgsOutcome:
        """Hold `amount_kopecks` of the account's available balance, keeping the camt.050's `references` with the
        hold. The hold id is the request id. An `end_to_end_id` of None is kept as NOTPROVIDED, as ISO 20022 writes
        an EndToEndId not given (a camt.050 must carry one). References no camt.050 could carry (an identifier over
        35 characters, a UETR that is not a version-4 UUID) are a programmer's error: ValueError."""
        ...

    async def commit(self, request_id: UUID, hold_id: UUID) -> RtgsOutcome:
        """Book the held amount from the bank's account to the reserve account, with the hold's references; the hold
        ends."""
        ...

    async def release(self, request_id: UUID, hold_id: UUID) -> RtgsOutcome:
        """End a hold without booking. Releasing a hold id never reserved is DONE and leaves a mark, so that a
        reserve with that id arriving later (a retried call overtaken by its release) answers HOLD_RELEASED."""
        ...

    async def credit_from_reserve(
        self, request_id: UUID, account: str, amount_kopecks: int, references: FiatReferences
    ) -> RtgsOutcome:
        """Book `amount_kopecks` from the reserve account to a bank's account (the fiat leg of a burn), with the
        camt.050's `references`, kept and checked as `reserve` does."""
        ...

    async def statement(self, account: str, from_date: date, to_date: date) -> FiatStatement | None:
        """The account's bookings over those days; None for an unknown account."""
        ...


class ConversionReads(Protocol):
    """What the saga reads of its own records (gateway_adapters.sql.conversions.SqlConversions)."""

    async def conversion(self, conversion_id: UUID) -> ConversionRecord | None: ...

    async def conversion_of_message(self, message_id: UUID) -> ConversionRecord | None: ...

    async def unfinished(self, limit: int) -> list[ConversionRecord]: ...


class CapBelowIssued(Exception):
    """The cap asked for is below the cryptoroubles issued plus the mints pending: it would break the ledger."""


@dataclass(frozen=True, slots=True)
class ControlChange:
    """One change of an emission control, as recorded: what, from and to what, when and by whom."""

    subject: str  # "emission_cap" or "daily_limit:<BIC>"
    previous_kopecks: int | None
    new_kopecks: int | None
    set_at_us: int
    set_by: str


class ControlsStore(Protocol):
    """Where the central bank's emission controls live: the cap on the ledger head, the banks' daily limits."""

    async def daily_limits(self) -> dict[str, int]: ...

    async def changes(self, limit: int) -> list[ControlChange]:
        """The latest changes, newest first."""
        ...

    async def set_emission_cap(self, cap_kopecks: int, set_by: str, now_us: int) -> int:
        """Set the cap; returns the previous one. Raises CapBelowIssued when supply plus pending mints exceed it."""
        ...

    async def set_daily_limit(self, bic: str, daily_kopecks: int | None, set_by: str, now_us: int) -> int | None:
        """Set (or with None remove) a bank's daily conversion limit; returns the previous one."""
        ...
