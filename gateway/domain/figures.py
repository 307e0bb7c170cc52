"""The figures treasury watches, as read from the ledger and the journal: pure values in integer kopecks and ledger
timestamps (microseconds since the epoch). gateway.treasury.figures assembles them for the treasury page and the
metrics; gateway_adapters.sql.figures reads them.

Who may see which figure is decided once, in gateway.treasury.figures (`Viewer`): the central bank everything, a
bank only what concerns its own wallets, RTGS account and messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from gateway.domain.ledger import TransferKind

hour_us = 3_600_000_000


@dataclass(frozen=True, slots=True)
class MessageCount:
    """Inbound messages of one sender and type that came to one verdict (a MessageStatus value)."""

    sender_bic: str | None  # None: a message too broken to name its sender
    message_type: str | None  # None: unreadable
    status: str
    count: int


class Outcome(StrEnum):
    """What became of one transaction (a payment of a pacs.008/009/004, or a camt.050's conversion)."""

    SETTLED = "settled"
    REJECTED = "rejected"
    PENDING = "pending"  # a warehoused payment, a conversion between its legs
    CANCELLED = "cancelled"  # a warehoused payment cancelled by camt.056


@dataclass(frozen=True, slots=True)
class TransactionTotal:
    """Transactions of one bank's messages of one type that came to one outcome: how many, how much."""

    bank_bic: str  # the debtor agent of a payment, the converting bank of a conversion
    message_type: str
    outcome: Outcome
    count: int
    kopecks: int


class RejectKind(StrEnum):
    MESSAGE = "message"  # refused as a whole: an admi.002, a pacs.002 refusing every transaction, a camt.025 RJCT
    TRANSACTION = "transaction"  # one payment of a message the gateway accepted (AM04, AM02, DUPL ...)
    CONVERSION = "conversion"  # a camt.050 accepted, then refused by the RTGS or the ledger (AM04, AM13, AB03 ...)


@dataclass(frozen=True, slots=True)
class ReasonCount:
    bank_bic: str | None
    reason_code: str
    count: int


@dataclass(frozen=True, slots=True)
class Reject:
    kind: RejectKind
    bank_bic: str | None  # who sent it; None when that could not be told
    message_type: str | None
    reference: str | None  # the message's BizMsgIdr, or the payment's GrpHdr/MsgId, or the camt.050's MsgId
    end_to_end_id: str | None
    uetr: str | None
    reason_code: str
    kopecks: int | None  # None for a message refused as a whole: its amount was not read
    at_us: int


class PendingKind(StrEnum):
    WAREHOUSED = "warehoused"  # a future-dated payment waiting for its settlement date
    CONVERSION = "conversion"  # a camt.050 between its fiat and its ledger leg


@dataclass(frozen=True, slots=True)
class PendingItem:
    kind: PendingKind
    debtor_bic: str
    creditor_bic: str
    message_type: str
    reference: str  # GrpHdr/MsgId of a payment, MsgId of a camt.050
    end_to_end_id: str | None
    uetr: str | None
    kopecks: int
    due_date: date  # a payment's settlement date, a conversion's business date
    state: str  # "warehoused", or the conversion's step
    since_us: int


@dataclass(frozen=True, slots=True)
class PendingTotal:
    kind: PendingKind
    bank_bic: str  # the debtor agent, or the converting bank
    count: int
    kopecks: int


@dataclass(frozen=True, slots=True)
class OpenBreak:
    """A reconciliation break not yet resolved (table reconciliation_breaks, written by `gateway reconcile`)."""

    id: str
    kind: str
    business_date: date
    first_seen_date: date
    first_seen_at_us: int
    last_seen_at_us: int
    amount_kopecks: int | None
    expected_kopecks: int | None
    account: str | None
    references: Any  # the break's references as the reconciliation stored them (parsed JSON)
    description: str


@dataclass(frozen=True, slots=True)
class Posting:
    """Postings of one kind from one account to another within one period, summed: what the ledger read returns."""

    bucket_us: int  # the start of the hour they were booked in, or 0 when read for a whole period
    kind: TransferKind
    debit_account_id: int
    credit_account_id: int
    kopecks: int


@dataclass(frozen=True, slots=True)
class Movements:
    """The postings with after_seq < seq <= through_seq, read in one snapshot with the head and the supply then."""

    head_seq: int
    supply_kopecks: int  # at head_seq
    through_seq: int  # the head, unless the read asked to stop earlier
    postings: tuple[Posting, ...]


@dataclass(slots=True)
class Volume:
    """Ledger movements of one period (a closed business day, or an hour of today), folded by what treasury asks:
    the change of supply, the settled payment volume, and each wallet's payments sent and received."""

    minted_kopecks: int = 0
    burned_kopecks: int = 0
    settled_kopecks: int = 0  # payments and returns, each counted once
    sent_kopecks: dict[int, int] = field(default_factory=dict)  # by debited wallet's account id
    received_kopecks: dict[int, int] = field(default_factory=dict)  # by credited wallet's account id

    @property
    def supply_change_kopecks(self) -> int:
        return self.minted_kopecks - self.burned_kopecks

    def add(self, posting: Posting) -> None:
        assert posting.kopecks > 0, posting
        if posting.kind is TransferKind.MINT:
            self.minted_kopecks += posting.kopecks
        elif posting.kind is TransferKind.BURN:
            self.burned_kopecks += posting.kopecks
        elif posting.kind in (TransferKind.PAYMENT, TransferKind.RETURN):
            self.settled_kopecks += posting.kopecks
            sent, received = self.sent_kopecks, self.received_kopecks
            sent[posting.debit_account_id] = sent.get(posting.debit_account_id, 0) + posting.kopecks
            received[posting.credit_account_id] = received.get(posting.credit_account_id, 0) + posting.kopecks

    def sent_by(self, account_ids: frozenset[int]) -> int:
        return sum(kopecks for account, kopecks in self.sent_kopecks.items() if account in account_ids)

    def received_by(self, account_ids: frozenset[int]) -> int:
        return sum(kopecks for account, kopecks in self.received_kopecks.items() if account in account_ids)
