"""What the ledger service needs from storage. `gateway_adapters.sql` implements these for SQLite and PostgreSQL,
and tests/test_store_contract.py holds both to the same contract."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from uuid import UUID

from gateway.domain.batch import BatchPlan
from gateway.domain.conversion import ConversionUsage, ConversionUse
from gateway.domain.days import BusinessDay
from gateway.domain.journal import JournalRows, PaymentState
from gateway.domain.ledger import (
    Account,
    AccountKind,
    AccountStatus,
    ChainHead,
    PendingTransfer,
    Transfer,
    TransferResult,
)


class DuplicateTransferId(Exception):
    """Raised by write_batch when a transfer id in the plan is already stored (the batch must be re-planned)."""


class JournalConflict(Exception):
    """Raised by Ledger.apply when some attachments' claims were taken, or their payments changed state, since the
    caller prepared them. Nothing of the batch was written; `positions` are indexes into the attachments passed."""

    def __init__(self, positions: frozenset[int]) -> None:
        super().__init__(f"{len(positions)} submissions conflict with the journal")
        self.positions = positions


class SchemaOutOfDate(Exception):
    """The database's schema is not the one this gateway needs: `gateway db upgrade` migrates it."""


class StorageUnavailable(Exception):
    """The database cannot be reached or refused the work for a transient reason; the caller may retry later."""


@dataclass(frozen=True, slots=True)
class ChainSignature:
    seq: int
    hash: bytes
    signature: bytes
    key_id: str
    signed_at_us: int


@dataclass(frozen=True, slots=True)
class Participant:
    bic: str
    name: str
    role: str  # "central_bank" or "bank"
    clearing_code: str | None
    rtgs_account: str
    status: AccountStatus


@dataclass(frozen=True, slots=True)
class NewAccount:
    code: str
    kind: AccountKind
    owner_bic: str
    transfer_max_kopecks: int | None
    balance_max_kopecks: int | None


class BatchAttachment(Protocol):
    """What a caller commits together with its transfers, in the same database transaction: the message journal.

    Checked under the chain-head lock before the batch is planned: every claim key must be free and every payment
    still in the state the caller saw, else the batch is not written and JournalConflict names the attachment.
    After planning, `journal` turns the transfers' results into the rows to write."""

    @property
    def claim_keys(self) -> Sequence[str]: ...

    @property
    def expected_payment_states(self) -> Sequence[tuple[UUID, PaymentState]]: ...

    @property
    def conversion_uses(self) -> Sequence[ConversionUse]:
        """New conversions, each of which must fit under its bank's daily limit with the day's others."""
        ...

    def journal(self, results: Sequence[TransferResult], settled_at_us: int) -> JournalRows: ...


class LedgerTransaction(Protocol):
    """One database transaction that settles one batch. Nothing is kept unless the context exits cleanly."""

    async def lock_head(self) -> ChainHead:
        """Lock the chain head for this transaction (serialising batches across processes) and return it."""
        ...

    async def load_accounts(self) -> list[Account]: ...

    async def load_transfers(self, ids: Sequence[UUID]) -> list[Transfer]: ...

    async def load_pending(self, ids: Sequence[UUID]) -> list[PendingTransfer]: ...

    async def write_batch(self, plan: BatchPlan, signature: ChainSignature) -> None:
        """Write the plan's transfers, balances, pending changes, the new head and its signature.
        Raises DuplicateTransferId if a transfer id already exists (nothing of the plan may then be kept)."""
        ...

    async def taken_claims(self, keys: Sequence[str]) -> set[str]:
        """Which of the keys are already claimed."""
        ...

    async def payment_states(self, ids: Sequence[UUID]) -> dict[UUID, PaymentState]: ...

    async def conversion_usage(self, keys: Sequence[tuple[str, date]]) -> dict[tuple[str, date], ConversionUsage]:
        """Per (bank, business date): the day's conversions so far and the bank's daily limit."""
        ...

    async def write_journal(self, rows: Sequence[JournalRows], now_us: int) -> None:
        """Write messages, payments, claims, mailbox entries and payment state changes."""
        ...


class LedgerStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[LedgerTransaction]: ...

    async def expired_pending_ids(self, now_us: int, limit: int) -> list[UUID]: ...

    # Reads for audit and reporting: straight from the tables, outside any batch.
    async def head(self) -> ChainHead: ...

    async def accounts(self) -> list[Account]: ...

    def transfers_in_order(self, after_seq: int, chunk: int) -> AsyncIterator[Transfer]: ...

    async def signatures(self) -> list[ChainSignature]: ...

    async def pending_transfers(self) -> list[PendingTransfer]: ...

    async def transfer_count(self) -> int: ...


class RegistryStore(Protocol):
    """Participants and their accounts: changed rarely, by operators, never on the settlement hot path."""

    async def participants(self) -> list[Participant]: ...

    async def add_participant(self, participant: Participant, accounts: Sequence[NewAccount]) -> None: ...

    async def add_accounts(self, accounts: Sequence[NewAccount]) -> None: ...

    async def set_participant_status(self, bic: str, status: AccountStatus) -> bool: ...

    async def ensure_head(self, emission_cap_kopecks: int) -> None: ...


class DayAlreadyClosing(Exception):
    """Another process (or an earlier call) fixed this day's boundary first: its close goes on from there."""


class BusinessDayStore(Protocol):
    async def day(self, business_date: date) -> BusinessDay | None: ...

    async def days(self, from_date: date, to_date: date) -> list[BusinessDay]:
        """The recorded days from `from_date` to `to_date`, both included, in date order."""
        ...

    async def latest(self) -> BusinessDay | None:
        """The most recent recorded day (the open one, when there is one)."""
        ...

    async def first_date(self) -> date | None:
        """The first business day the gateway recorded."""
        ...

    async def open_day(self, business_date: date, cutoff_at_us: int, first_seq: int, now_us: int) -> BusinessDay:
        """Record `business_date` as open (after the day before it closed, or as the first day), unless it is
        recorded already; returns the day as recorded."""
        ...

    async def fix_boundary(self, business_date: date, closed_by: str, now_us: int) -> BusinessDay:
        """Under the ledger's head lock, so that no batch commits meanwhile: the day's last posting is the last
        transfer made before its cut-off, and the day is CLOSING. Raises DayAlreadyClosing if it is not OPEN."""
        ...

    async def mark_closed(self, business_date: date, now_us: int) -> BusinessDay:
        """CLOSING -> CLOSED, once every statement is written."""
        ...
