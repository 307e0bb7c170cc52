"""What the three-way reconciliation reads from the gateway's database (the ledger and the message journal, in one
consistent snapshot) and where it keeps the breaks it finds. gateway_adapters.sql.reconciliation implements both on
SQLite and PostgreSQL; the third system, the RTGS, is read through its own port (gateway.conversion.ports.Rtgs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from uuid import UUID

from gateway.domain.conversion import ConversionRecord
from gateway.domain.days import BusinessDay
from gateway.domain.journal import PaymentKind
from gateway.domain.ledger import AccountKind, Phase, TransferKind
from gateway.domain.reconciliation import Break, StoredBreak


@dataclass(frozen=True, slots=True)
class Posting:
    """A ledger transfer that moved posted balances: a single-phase transfer, or the post of a pending one (its row
    carries the pending transfer's accounts, amount and kind)."""

    transfer_id: UUID
    seq: int
    kind: TransferKind
    phase: Phase
    debit_account: str  # account code, e.g. SABRRUMMXXX/main
    credit_account: str
    amount_kopecks: int
    reference: str
    uetr: UUID | None
    created_at_us: int

    def __post_init__(self) -> None:
        assert self.phase in (Phase.SINGLE, Phase.POST_PENDING), self.phase
        assert type(self.amount_kopecks) is int and self.amount_kopecks > 0, self.amount_kopecks


@dataclass(frozen=True, slots=True)
class SettledPayment:
    """One SETTLED transaction of a pacs.008, pacs.009 or pacs.004 in the journal, with the message that carried it."""

    payment_id: UUID
    transfer_id: UUID  # the ledger transfer it says it settled by
    kind: PaymentKind
    debtor_bic: str
    creditor_bic: str
    sender_bic: str | None  # the message's sender (AppHdr Fr)
    message_reference: str | None  # the message's BizMsgIdr
    group_message_id: str  # GrpHdr/MsgId
    uetr: UUID
    end_to_end_id: str
    transaction_id: str | None
    amount_kopecks: int
    settlement_date: date
    settled_at_us: int


@dataclass(frozen=True, slots=True)
class LedgerAccount:
    """An account with its posted balance as the business day began and as it closed (by chain sequence)."""

    account_id: int
    code: str
    kind: AccountKind
    owner_bic: str
    owner_registered_at_us: int | None  # when its participant was registered (None: no participant row)
    opening_kopecks: int  # after the transfer with seq = the day's first_seq
    closing_kopecks: int  # after the transfer with seq = the day's last_seq


@dataclass(frozen=True, slots=True)
class ClaimedStatement:
    """The first page of the end-of-day statement a wallet was sent for a day (claim `statement|<date>|<wallet>`)."""

    wallet_code: str
    message_id: UUID  # the journal's id of the first page
    recipient_bic: str
    mailbox_seq: int | None  # where the first page is in the recipient's mailbox; the other pages follow it
    payload: bytes


@dataclass(frozen=True, slots=True)
class DayRecords:
    """What the ledger and the journal hold about one closed business day, read in one snapshot."""

    day: BusinessDay
    accounts: tuple[LedgerAccount, ...]  # every account, the reserve mirror included
    postings: tuple[Posting, ...]  # the day's, in chain order
    # Settled payments whose transfer is one of the day's postings, or that are dated in the day (settlement date
    # after the previous business day, up to the day), or that share a UETR with one of the day's payment postings.
    payments: tuple[SettledPayment, ...]
    # Conversions that could have moved money in the day: unfinished ones, ones alive during the day (created before
    # its cut-off, last changed after it began), and ones named by the reference of one of the day's postings.
    conversions: tuple[ConversionRecord, ...]
    # Postings outside the day that the payments and conversions above name (so that "no posting" means none at all).
    other_postings: tuple[Posting, ...]
    statements: tuple[ClaimedStatement, ...]  # the day's end-of-day statements that were claimed, by wallet


class TooManyPostings(Exception):
    """A day holds more postings than one reconciliation reads at once (bounds.reconciliation_postings_max)."""


class ReconciliationReads(Protocol):
    async def day_records(
        self, day: BusinessDay, window_start_us: int, previous_business_date: date | None, postings_max: int
    ) -> DayRecords:
        """The day's records (see DayRecords), in one snapshot. `window_start_us`: when the day began (the previous
        business day's cut-off); the day ends at its own. Raises TooManyPostings beyond `postings_max`."""
        ...

    async def following_pages(self, recipient_bic: str, after_mailbox_seq: int, pages_max: int) -> list[bytes]:
        """The payloads of the camt.053 messages that follow a statement's first page in its recipient's mailbox, in
        order, at most `pages_max`: the other pages of that statement come first (one journal write put them there
        together). The journal never changes a written message, so this needs no snapshot with day_records."""
        ...


@dataclass(frozen=True, slots=True)
class RecordedRun:
    """What one run changed in the store."""

    found: tuple[StoredBreak, ...]  # the breaks the run found, as stored now (first seen kept)
    new: frozenset[str]  # fingerprints of those first seen by this run
    resolved: tuple[StoredBreak, ...]  # open breaks the run looked for and did not find: resolved now


class BreakStore(Protocol):
    async def open_breaks(self) -> list[StoredBreak]:
        """Every break not resolved, oldest first."""
        ...

    async def record_run(
        self, business_date: date, found: Sequence[Break], resolved: Sequence[str], run_at_us: int
    ) -> RecordedRun:
        """In one transaction: each found break inserted, or (same fingerprint) updated as last seen now, first seen
        kept and reopened if it was resolved; the open breaks named by `resolved` (fingerprints) marked resolved;
        and a reconciliation_runs row. Runs of several processes are serialised."""
        ...
