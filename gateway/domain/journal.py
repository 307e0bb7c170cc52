"""The message journal's records: every message in and out, every payment it asked for, and every bank's mailbox.

The journal is what lets treasury trace any kopeck to the messages that moved it (payment -> transfer id ->
inbound message -> answer and forwarded copies), and what makes settlement exactly-once: a message's idempotency
key and its payments' keys are *claims* that commit in the same database transaction as the transfers, so a
message either settled and is journaled, or neither.

Row ids are UUIDs made before the rows are written, so that a batch can link its rows without a round trip.
Pure values: no I/O here.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from uuid import UUID

from gateway.domain.conversion import ConversionRecord, ConversionUpdate


class Direction(StrEnum):
    INBOUND = "in"  # from a bank to the gateway
    OUTBOUND = "out"  # from the gateway to a bank (an answer, a forwarded payment, a notification)


class MessageStatus(StrEnum):
    """What became of a message. Inbound: the gateway's verdict. Outbound: always DELIVERABLE (in a mailbox)."""

    ACCEPTED = "accepted"  # every transaction settled (or, for a request, answered)
    PARTIALLY_ACCEPTED = "partially_accepted"  # some transactions settled, some rejected
    WAREHOUSED = "warehoused"  # future-dated transactions held for their settlement date
    REJECTED = "rejected"  # nothing moved: refused at a validation layer, or every transaction rejected
    DELIVERABLE = "deliverable"


class PaymentState(StrEnum):
    SETTLED = "settled"  # the transfer stands in the ledger
    REJECTED = "rejected"  # refused; its UETR and EndToEndId stay free for a corrected resend
    WAREHOUSED = "warehoused"  # future-dated, waiting for its settlement date; may be cancelled until then
    CANCELLED = "cancelled"  # a warehoused payment cancelled at the debtor agent's request (camt.056)


class PaymentKind(StrEnum):
    CUSTOMER_CREDIT_TRANSFER = "pacs.008"
    INSTITUTION_CREDIT_TRANSFER = "pacs.009"
    RETURN = "pacs.004"

    @property
    def message_name(self) -> str:
        """The message name and version that carries this kind, as an OrgnlMsgNmId names it."""
        return _message_names[self]


_message_names = {
    PaymentKind.CUSTOMER_CREDIT_TRANSFER: "pacs.008.001.08",
    PaymentKind.INSTITUTION_CREDIT_TRANSFER: "pacs.009.001.08",
    PaymentKind.RETURN: "pacs.004.001.09",
}


# Idempotency keys. A key is claimed once and never again (except a rejected payment's, which is never claimed).
# EndToEndId is the debtor customer's reference, carried untouched: customers repeat it and NOTPROVIDED is a legal
# value, so it is never a key.
def message_key(sender_bic: str, message_id: str) -> str:
    """(sender, MsgId): a repeated message is answered from the journal and moves no money."""
    return f"msg|{sender_bic}|{message_id}"


def uetr_key(uetr: UUID) -> str:
    """A UETR is universally unique (a UUIDv4 by design): once any participant used it, it is a duplicate for every
    participant, so that nobody can settle a second payment under another bank's UETR."""
    return f"uetr|{uetr}"


def transaction_key(instructing_agent_bic: str, transaction_id: str) -> str:
    """(instructing agent, TxId): TxId is unique per instructing agent, as ISO 20022 defines it."""
    return f"txid|{instructing_agent_bic}|{transaction_id}"


def return_key(original_payment_id: UUID) -> str:
    """A settled payment is returned at most once (in full or in part)."""
    return f"return|{original_payment_id}"


_transfer_namespace = uuid.UUID("8f7f2b0c-33a4-4a8e-b1f5-4c0e1f6f5a21")


def payment_transfer_id(debtor_bic: str, uetr: UUID) -> UUID:
    """The ledger transfer id of a payment: derived from who pays and its UETR, so that the same payment sent twice,
    even under two message ids and through two gateway processes, can never make two transfers."""
    return uuid.uuid5(_transfer_namespace, f"{debtor_bic}|{uetr}")


def return_transfer_id(original_payment_id: UUID) -> UUID:
    """The ledger transfer id of the return of a payment (there is at most one)."""
    return uuid.uuid5(_transfer_namespace, f"return|{original_payment_id}")


def payload_digest(payload: bytes) -> bytes:
    return hashlib.sha256(payload).digest()


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: UUID
    direction: Direction
    sender_bic: str | None  # None for an inbound message too broken to name its sender
    receiver_bic: str | None
    message_type: str | None  # e.g. pacs.008.001.08; None when unreadable
    reference: str | None  # AppHdr/BizMsgIdr (or GrpHdr/MsgId of a bare Document)
    idempotency_key: str | None  # message_key(...) for an inbound message that was claimed; unique
    payload: bytes = field(repr=False)
    payload_sha256: bytes = field(repr=False)
    status: MessageStatus
    answers_id: UUID | None  # outbound: the inbound message it answers or forwards
    created_at_us: int
    # Inbound and refused as a whole: the ISO reason code its answer leads with (what the treasury page counts).
    # None for every other message, also one whose transactions were judged one by one: theirs are on the payments.
    reason_code: str | None = None

    def __post_init__(self) -> None:
        assert len(self.payload_sha256) == 32
        assert (self.direction is Direction.OUTBOUND) == (self.status is MessageStatus.DELIVERABLE), self.status
        assert self.reason_code is None or self.status is MessageStatus.REJECTED, (self.status, self.reason_code)
        assert self.reason_code is None or 1 <= len(self.reason_code) <= 4, self.reason_code


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """One transaction of a pacs.008, pacs.009 or pacs.004, and what became of it."""

    id: UUID  # this record's own id
    transfer_id: UUID  # the ledger transfer it settles (or would have settled) under; shared by resends of it
    message_id: UUID  # the inbound MessageRecord
    position: int  # 1-based index of the transaction in its message
    kind: PaymentKind
    debtor_bic: str  # whose wallet is debited
    creditor_bic: str  # whose wallet is credited
    group_message_id: str  # GrpHdr/MsgId of the message that carried it: a later OrgnlMsgId names it
    uetr: UUID
    end_to_end_id: str
    instruction_id: str | None  # a return's: its RtrId
    transaction_id: str | None
    amount_kopecks: int
    settlement_date: date
    state: PaymentState
    reason_code: str | None  # the ISO code of a rejection
    claim_keys: tuple[str, ...]  # the idempotency keys this payment holds (none when rejected)
    original_payment_id: UUID | None  # a return: the payment it returns
    created_at_us: int
    settled_at_us: int | None

    def __post_init__(self) -> None:
        assert self.amount_kopecks > 0, self.amount_kopecks
        assert self.position >= 1, self.position
        assert (self.state is PaymentState.REJECTED) == (self.reason_code is not None), (self.state, self.reason_code)
        assert (self.state is PaymentState.SETTLED) == (self.settled_at_us is not None), self.state
        assert self.state is not PaymentState.REJECTED or not self.claim_keys, "a rejected payment claims nothing"


@dataclass(frozen=True, slots=True)
class MailboxEntry:
    """An outbound message put in a bank's mailbox (an answer to a sender nobody can name has none). The mailbox's sequence number is given by the database, in
    commit order (batches serialise on the ledger head lock), so a cursor never skips a message."""

    recipient_bic: str
    message_id: UUID  # the outbound MessageRecord


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    """A stored payment changing state (a warehoused payment settling or being cancelled), guarded by the state it
    must still be in: if another process changed it first, the batch conflicts rather than overwrites."""

    payment_id: UUID
    expected_state: PaymentState
    new_state: PaymentState
    settled_at_us: int | None
    reason_code: str | None  # why, when the new state is REJECTED

    def __post_init__(self) -> None:
        assert (self.new_state is PaymentState.REJECTED) == (self.reason_code is not None), self
        assert (self.new_state is PaymentState.SETTLED) == (self.settled_at_us is not None), self


@dataclass(frozen=True, slots=True)
class JournalRows:
    """Everything one message adds to the journal, written in the same transaction as its transfers."""

    messages: tuple[MessageRecord, ...] = ()
    payments: tuple[PaymentRecord, ...] = ()
    mailbox: tuple[MailboxEntry, ...] = ()
    payment_updates: tuple[PaymentUpdate, ...] = ()
    conversions: tuple[ConversionRecord, ...] = ()
    conversion_updates: tuple[ConversionUpdate, ...] = ()
    # Claims beyond the messages' and payments' own, as (key, the inbound message's id): a conversion's steps.
    step_claims: tuple[tuple[str, UUID], ...] = ()
    # Claims given up: a warehoused payment refused on its settlement day frees its UETR and EndToEndId for a
    # corrected resend, as one refused on arrival never took them.
    released_claims: tuple[str, ...] = ()

    def claim_keys(self) -> list[str]:
        keys = [m.idempotency_key for m in self.messages if m.idempotency_key is not None]
        keys.extend(key for payment in self.payments for key in payment.claim_keys)
        keys.extend(key for key, _ in self.step_claims)
        return keys


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A journaled message as read back."""

    id: UUID
    direction: Direction
    sender_bic: str | None
    receiver_bic: str | None
    message_type: str | None
    reference: str | None
    payload: bytes
    payload_sha256: bytes
    status: MessageStatus
    answers_id: UUID | None
    created_at_us: int


@dataclass(frozen=True, slots=True)
class MailboxItem:
    seq: int
    message: StoredMessage
    delivery_attempts: int = 0  # failed pushes to the recipient's webhook so far
