"""The gateway's tables, as SQLAlchemy 2 models. Alembic migrations in ./migrations create exactly these
(tests/test_migrations.py checks that the two never drift apart)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_account_id_type = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class ParticipantRow(Base):
    __tablename__ = "participants"

    bic: Mapped[str] = mapped_column(String(11), primary_key=True)
    name: Mapped[str] = mapped_column(String(140))
    role: Mapped[str] = mapped_column(String(16))
    clearing_code: Mapped[str | None] = mapped_column(String(35))
    rtgs_account: Mapped[str] = mapped_column(String(34))
    status: Mapped[str] = mapped_column(String(16))
    created_at_us: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("role IN ('central_bank', 'bank')", name="participant_role_known"),
        CheckConstraint("status IN ('active', 'suspended')", name="participant_status_known"),
    )


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(_account_id_type, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner_bic: Mapped[str] = mapped_column(String(11), ForeignKey("participants.bic"))
    status: Mapped[str] = mapped_column(String(16))
    transfer_max_kopecks: Mapped[int | None] = mapped_column(BigInteger)
    balance_max_kopecks: Mapped[int | None] = mapped_column(BigInteger)
    posted_kopecks: Mapped[int] = mapped_column(BigInteger)
    debits_pending_kopecks: Mapped[int] = mapped_column(BigInteger)
    credits_pending_kopecks: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("kind IN ('issuance', 'wallet', 'reserve')", name="account_kind_known"),
        CheckConstraint("status IN ('active', 'suspended')", name="account_status_known"),
        # The database refuses a negative wallet too, behind the ledger's own assertion.
        CheckConstraint("kind = 'issuance' OR posted_kopecks >= 0", name="account_not_negative"),
        Index("one_issuance_account", "kind", unique=True, sqlite_where="kind = 'issuance'",
              postgresql_where="kind = 'issuance'"),
        Index("one_reserve_account", "kind", unique=True, sqlite_where="kind = 'reserve'",
              postgresql_where="kind = 'reserve'"),
    )


class TransferRow(Base):
    """Append-only. No foreign keys to accounts: the ledger checks accounts under the batch lock, and `ledger verify`
    checks every reference; foreign-key triggers would cost a third of bulk-insert speed."""

    __tablename__ = "transfers"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    id: Mapped[object] = mapped_column(Uuid, unique=True)
    debit_account_id: Mapped[int] = mapped_column(BigInteger)
    credit_account_id: Mapped[int] = mapped_column(BigInteger)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    phase: Mapped[str] = mapped_column(String(16))
    pending_id: Mapped[object | None] = mapped_column(Uuid)
    reference: Mapped[str] = mapped_column(String(140))
    uetr: Mapped[object | None] = mapped_column(Uuid)
    timeout_seconds: Mapped[int] = mapped_column(BigInteger)
    created_at_us: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    # An account's transfers over a period, from either side: what a wallet's report or statement reads.
    __table_args__ = (
        Index("transfers_by_debit_account", "debit_account_id", "created_at_us"),
        Index("transfers_by_credit_account", "credit_account_id", "created_at_us"),
    )


class PendingTransferRow(Base):
    __tablename__ = "pending_transfers"

    id: Mapped[object] = mapped_column(Uuid, primary_key=True)
    debit_account_id: Mapped[int] = mapped_column(BigInteger)
    credit_account_id: Mapped[int] = mapped_column(BigInteger)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    expires_at_us: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("pending_transfers_by_expiry", "status", "expires_at_us"),)


class LedgerHeadRow(Base):
    """One row. Every batch locks it first: that is what serialises batches across gateway processes."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at_us: Mapped[int] = mapped_column(BigInteger)
    accounts_version: Mapped[int] = mapped_column(BigInteger)
    emission_cap_kopecks: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("id = 1", name="ledger_head_single_row"),)


class ChainSignatureRow(Base):
    __tablename__ = "chain_signatures"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(32))
    signed_at_us: Mapped[int] = mapped_column(BigInteger)


# --- the message journal (gateway.domain.journal) ---------------------------------------------------------------


class MessageRow(Base):
    """Every message in and out, as received or sent: raw bytes, their hash, parties and verdict."""

    __tablename__ = "messages"

    id: Mapped[object] = mapped_column(Uuid, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    sender_bic: Mapped[str | None] = mapped_column(String(11))
    receiver_bic: Mapped[str | None] = mapped_column(String(11))
    message_type: Mapped[str | None] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(35))
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[str] = mapped_column(String(24))
    answers_id: Mapped[object | None] = mapped_column(Uuid)
    created_at_us: Mapped[int] = mapped_column(BigInteger)
    # An inbound message refused as a whole: the reason code its answer leads with. NULL otherwise, also when its
    # transactions were judged one by one (each rejected one's code is on its payment row).
    reason_code: Mapped[str | None] = mapped_column(String(4))

    __table_args__ = (
        CheckConstraint("direction IN ('in', 'out')", name="message_direction_known"),
        Index("messages_by_reference", "sender_bic", "reference"),
        Index("messages_by_answered", "answers_id"),
        # The treasury page's reads (gateway_adapters.sql.figures): today's inbound messages, recent refusals.
        Index("messages_inbound_by_arrival", "created_at_us", "sender_bic", "message_type", "status",
              sqlite_where=text("direction = 'in'"), postgresql_where=text("direction = 'in'")),
        Index("messages_refused_by_arrival", "created_at_us",
              sqlite_where=text("reason_code IS NOT NULL"), postgresql_where=text("reason_code IS NOT NULL")),
    )


class PaymentRow(Base):
    """One transaction of a pacs.008, pacs.009 or pacs.004: the link from a ledger transfer to its message."""

    __tablename__ = "payments"

    id: Mapped[object] = mapped_column(Uuid, primary_key=True)
    transfer_id: Mapped[object] = mapped_column(Uuid)
    message_id: Mapped[object] = mapped_column(Uuid, ForeignKey("messages.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    debtor_bic: Mapped[str] = mapped_column(String(11))
    creditor_bic: Mapped[str] = mapped_column(String(11))
    group_message_id: Mapped[str] = mapped_column(String(35))  # GrpHdr/MsgId of the message that carried it
    uetr: Mapped[object] = mapped_column(Uuid)
    end_to_end_id: Mapped[str] = mapped_column(String(35))
    instruction_id: Mapped[str | None] = mapped_column(String(35))
    transaction_id: Mapped[str | None] = mapped_column(String(35))
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    settlement_date: Mapped[str] = mapped_column(String(10))  # ISO date: sorts and compares as text
    state: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(4))
    original_payment_id: Mapped[object | None] = mapped_column(Uuid)
    created_at_us: Mapped[int] = mapped_column(BigInteger)
    settled_at_us: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("state IN ('settled', 'rejected', 'warehoused', 'cancelled')", name="payment_state_known"),
        CheckConstraint("amount_kopecks > 0", name="payment_amount_positive"),
        Index("payments_by_message", "message_id", "position"),
        Index("payments_by_transfer", "transfer_id"),
        Index("payments_by_uetr", "uetr"),
        Index("payments_by_end_to_end_id", "debtor_bic", "end_to_end_id"),
        Index("payments_by_group_message_id", "debtor_bic", "group_message_id"),
        Index("payments_warehoused_by_date", "state", "settlement_date"),
        # Today's transactions by bank, type and outcome, read from this index alone.
        Index("payments_by_arrival", "created_at_us", "debtor_bic", "kind", "state", "amount_kopecks"),
        Index("payments_rejected_by_arrival", "created_at_us",
              sqlite_where=text("state = 'rejected'"), postgresql_where=text("state = 'rejected'")),
    )


class ClaimRow(Base):
    """Idempotency keys: (sender, MsgId), UETR, (instructing agent, TxId), returns, conversion steps. Claimed once,
    forever (gateway.domain.journal)."""

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    message_id: Mapped[object] = mapped_column(Uuid)
    created_at_us: Mapped[int] = mapped_column(BigInteger)


class MailboxRow(Base):
    """A bank's mailbox: outbound messages in commit order. `seq` is the cursor banks page with."""

    __tablename__ = "mailbox"

    seq: Mapped[int] = mapped_column(_account_id_type, primary_key=True, autoincrement=True)
    recipient_bic: Mapped[str] = mapped_column(String(11))
    message_id: Mapped[object] = mapped_column(Uuid, ForeignKey("messages.id"))
    created_at_us: Mapped[int] = mapped_column(BigInteger)
    # Push delivery to a participant's webhook (when configured): the outbox relay's progress.
    delivered_at_us: Mapped[int | None] = mapped_column(BigInteger)
    delivery_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at_us: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index("mailbox_by_recipient", "recipient_bic", "seq"),
        Index("mailbox_undelivered", "next_attempt_at_us"),
    )


# --- conversions between fiat and cryptoroubles (gateway.domain.conversion) -------------------------------------


class ConversionRow(Base):
    """One camt.050 conversion saga: its state is the step it has reached (see gateway.domain.conversion)."""

    __tablename__ = "conversions"

    id: Mapped[object] = mapped_column(Uuid, primary_key=True)
    message_id: Mapped[object] = mapped_column(Uuid, ForeignKey("messages.id"))
    bank_bic: Mapped[str] = mapped_column(String(11))
    direction: Mapped[str] = mapped_column(String(8))
    rtgs_account: Mapped[str] = mapped_column(String(34))
    wallet_account_id: Mapped[int] = mapped_column(BigInteger)
    wallet_code: Mapped[str] = mapped_column(String(64))
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    business_date: Mapped[str] = mapped_column(String(10))  # ISO date: sorts and compares as text
    state: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(4))
    reason_text: Mapped[str | None] = mapped_column(String(140))
    request_message_id: Mapped[str] = mapped_column(String(35))
    transaction_id: Mapped[str | None] = mapped_column(String(35))
    # The camt.050's other references (LqdtyTrfId), carried onto the ledger, the RTGS request and every report.
    end_to_end_id: Mapped[str | None] = mapped_column(String(35))
    uetr: Mapped[object | None] = mapped_column(Uuid)
    created_at_us: Mapped[int] = mapped_column(BigInteger)
    deadline_at_us: Mapped[int] = mapped_column(BigInteger)
    updated_at_us: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("direction IN ('mint', 'burn')", name="conversion_direction_known"),
        CheckConstraint(
            "state IN ('received', 'fiat_held', 'committing', 'crediting', 'unwinding', 'settled', 'rejected')",
            name="conversion_state_known",
        ),
        CheckConstraint("amount_kopecks > 0", name="conversion_amount_positive"),
        Index("conversions_by_message", "message_id"),
        Index("conversions_by_state", "state"),
        Index("conversions_by_bank_day", "bank_bic", "business_date"),
        Index("conversions_by_uetr", "uetr"),  # a conversion's ledger transfers carry its UETR: reports join on it
        Index("conversions_by_day", "business_date"),
    )


class ConversionLimitRow(Base):
    """The central bank's daily conversion limit per bank (both directions together). No row: no limit."""

    __tablename__ = "conversion_limits"

    bank_bic: Mapped[str] = mapped_column(String(11), ForeignKey("participants.bic"), primary_key=True)
    daily_kopecks: Mapped[int] = mapped_column(BigInteger)
    set_at_us: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[str] = mapped_column(String(140))


class EmissionControlChangeRow(Base):
    """Every change the central bank made to the emission cap or a daily limit: who, when, from what to what."""

    __tablename__ = "emission_control_changes"

    id: Mapped[int] = mapped_column(_account_id_type, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(24))  # "emission_cap" or "daily_limit:<BIC>"
    previous_kopecks: Mapped[int | None] = mapped_column(BigInteger)
    new_kopecks: Mapped[int | None] = mapped_column(BigInteger)
    set_at_us: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[str] = mapped_column(String(140))


def standard_uuid(value: Any) -> UUID:
    """A UUID column's value as the standard type: asyncpg returns its own UUID subclass, and values of the two
    types must compare and hash alike."""
    return value if type(value) is UUID else UUID(bytes=value.bytes)


class BusinessDayRow(Base):
    """A business day: open, closing (its boundary fixed, its statements being written) or closed. Its postings are
    the transfers with first_seq < seq <= last_seq; last_seq is fixed, under the ledger's head lock, as it closes."""

    __tablename__ = "business_days"

    business_date: Mapped[str] = mapped_column(String(10), primary_key=True)  # ISO date
    state: Mapped[str] = mapped_column(String(8))
    cutoff_at_us: Mapped[int] = mapped_column(BigInteger)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    opened_at_us: Mapped[int] = mapped_column(BigInteger)
    closed_at_us: Mapped[int | None] = mapped_column(BigInteger)
    closed_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("state IN ('open', 'closing', 'closed')", name="business_day_state_known"),
        CheckConstraint("(state = 'open') = (last_seq IS NULL)", name="business_day_bounded_once_closing"),
    )


class ReconciliationBreakRow(Base):
    """A break a reconciliation found: kept, so that a break found again the next day is the same break (its
    fingerprint), with how long it has been open."""

    __tablename__ = "reconciliation_breaks"

    id: Mapped[object] = mapped_column(Uuid, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    business_date: Mapped[str] = mapped_column(String(10))  # the day whose reconciliation first found it
    first_seen_date: Mapped[str] = mapped_column(String(10))
    last_seen_date: Mapped[str] = mapped_column(String(10))
    first_seen_at_us: Mapped[int] = mapped_column(BigInteger)
    last_seen_at_us: Mapped[int] = mapped_column(BigInteger)
    resolved_at_us: Mapped[int | None] = mapped_column(BigInteger)
    amount_kopecks: Mapped[int | None] = mapped_column(BigInteger)
    expected_kopecks: Mapped[int | None] = mapped_column(BigInteger)
    account: Mapped[str | None] = mapped_column(String(64))
    references_json: Mapped[str] = mapped_column(String(4000))
    description: Mapped[str] = mapped_column(String(1000))

    __table_args__ = (Index("reconciliation_breaks_open", "resolved_at_us", "business_date"),)


class ReconciliationRunRow(Base):
    """One reconciliation of a business day: when, and what it found."""

    __tablename__ = "reconciliation_runs"

    id: Mapped[int] = mapped_column(_account_id_type, primary_key=True, autoincrement=True)
    business_date: Mapped[str] = mapped_column(String(10))
    run_at_us: Mapped[int] = mapped_column(BigInteger)
    breaks_open: Mapped[int] = mapped_column(Integer)
    breaks_new: Mapped[int] = mapped_column(Integer)
    breaks_resolved: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("reconciliation_runs_by_date", "business_date", "run_at_us"),)
