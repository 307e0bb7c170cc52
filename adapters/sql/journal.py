"""The message journal on SQL (gateway.domain.journal): written inside the ledger's batch transaction by
store.py's transaction classes, and read by the settlement service and the HTTP mailbox.

Like the ledger, the hot path has one implementation per database: SQLAlchemy Core on SQLite, asyncpg on
PostgreSQL (one statement for all of a batch's journal rows). Reads go through SQLAlchemy on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from gateway_adapters.sql import conversions
from gateway_adapters.sql.models import ClaimRow, MailboxRow, MessageRow, PaymentRow
from gateway_adapters.sql.outages import outages_unavailable
from gateway_adapters.sql.unnest import columns_of, unnest_insert
from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway import bounds
from gateway.domain.journal import (
    Direction,
    JournalRows,
    MailboxItem,
    MessageRecord,
    MessageStatus,
    PaymentKind,
    PaymentRecord,
    PaymentState,
    StoredMessage,
)

messages_table = MessageRow.__table__
payments_table = PaymentRow.__table__
claims_table = ClaimRow.__table__
mailbox_table = MailboxRow.__table__


_message_columns = tuple(c.name for c in messages_table.columns)
_payment_columns = tuple(c.name for c in payments_table.columns)


def _message_row(m: MessageRecord) -> dict[str, Any]:
    return {
        "id": m.id,
        "direction": m.direction.value,
        "sender_bic": m.sender_bic,
        "receiver_bic": m.receiver_bic,
        "message_type": m.message_type,
        "reference": m.reference,
        "idempotency_key": m.idempotency_key,
        "payload": m.payload,
        "payload_sha256": m.payload_sha256,
        "status": m.status.value,
        "answers_id": m.answers_id,
        "created_at_us": m.created_at_us,
        "reason_code": m.reason_code,
    }


def _payment_row(p: PaymentRecord) -> dict[str, Any]:
    return {
        "id": p.id,
        "transfer_id": p.transfer_id,
        "message_id": p.message_id,
        "position": p.position,
        "kind": p.kind.value,
        "debtor_bic": p.debtor_bic,
        "creditor_bic": p.creditor_bic,
        "group_message_id": p.group_message_id,
        "uetr": p.uetr,
        "end_to_end_id": p.end_to_end_id,
        "instruction_id": p.instruction_id,
        "transaction_id": p.transaction_id,
        "amount_kopecks": p.amount_kopecks,
        "settlement_date": p.settlement_date.isoformat(),
        "state": p.state.value,
        "reason_code": p.reason_code,
        "original_payment_id": p.original_payment_id,
        "created_at_us": p.created_at_us,
        "settled_at_us": p.settled_at_us,
    }


def _claims(rows: Sequence[JournalRows], now_us: int) -> list[dict[str, Any]]:
    claims = []
    for journal in rows:
        for message in journal.messages:
            if message.idempotency_key is not None:
                claims.append({"key": message.idempotency_key, "message_id": message.id, "created_at_us": now_us})
        for payment in journal.payments:
            claims.extend({"key": key, "message_id": payment.message_id, "created_at_us": now_us}
                          for key in payment.claim_keys)
        claims.extend({"key": key, "message_id": message_id, "created_at_us": now_us}
                      for key, message_id in journal.step_claims)
    return claims


def _mailbox(rows: Sequence[JournalRows], now_us: int) -> list[dict[str, Any]]:
    return [
        {
            "recipient_bic": entry.recipient_bic,
            "message_id": entry.message_id,
            "created_at_us": now_us,
            "delivered_at_us": None,
            "delivery_attempts": 0,
            "next_attempt_at_us": None,
        }
        for journal in rows
        for entry in journal.mailbox
    ]


# --- inside the batch transaction: SQLite through SQLAlchemy Core ------------------------------------------------


async def sqlalchemy_taken_claims(connection: AsyncConnection, keys: Sequence[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(keys), bounds.sqlite_keys_per_query_max):
        chunk = keys[start : start + bounds.sqlite_keys_per_query_max]
        rows = await connection.execute(select(claims_table.c.key).where(claims_table.c.key.in_(chunk)))
        taken.update(row.key for row in rows)
    return taken


async def sqlalchemy_payment_states(connection: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, PaymentState]:
    states: dict[UUID, PaymentState] = {}
    for start in range(0, len(ids), bounds.sqlite_keys_per_query_max):
        chunk = ids[start : start + bounds.sqlite_keys_per_query_max]
        rows = await connection.execute(
            select(payments_table.c.id, payments_table.c.state).where(payments_table.c.id.in_(chunk))
        )
        states.update((row.id, PaymentState(row.state)) for row in rows)
    return states


async def sqlalchemy_write_journal(connection: AsyncConnection, rows: Sequence[JournalRows], now_us: int) -> None:
    released = [key for journal in rows for key in journal.released_claims]
    for start in range(0, len(released), bounds.sqlite_keys_per_query_max):
        chunk = released[start : start + bounds.sqlite_keys_per_query_max]
        await connection.execute(claims_table.delete().where(claims_table.c.key.in_(chunk)))
    messages = [_message_row(m) for journal in rows for m in journal.messages]
    if messages:
        await connection.execute(insert(messages_table), messages)
    payments = [_payment_row(p) for journal in rows for p in journal.payments]
    if payments:
        await connection.execute(insert(payments_table), payments)
    claims = _claims(rows, now_us)
    if claims:
        await connection.execute(insert(claims_table), claims)
    mailbox = _mailbox(rows, now_us)
    if mailbox:
        await connection.execute(insert(mailbox_table), mailbox)
    updates = [u for journal in rows for u in journal.payment_updates]
    if updates:
        await connection.execute(
            update(payments_table)
            .where(payments_table.c.id == bindparam("payment"))
            .values(state=bindparam("new_state"), settled_at_us=bindparam("settled"), reason_code=bindparam("reason")),
            [
                {"payment": u.payment_id, "new_state": u.new_state.value, "settled": u.settled_at_us,
                 "reason": u.reason_code}
                for u in updates
            ],
        )
    if any(journal.conversions or journal.conversion_updates for journal in rows):
        await conversions.sqlalchemy_write(connection, rows)


# --- inside the batch transaction: PostgreSQL through asyncpg ----------------------------------------------------


# Lookups of a batch's thousands of keys join the table with unnest($1) rather than test `key = ANY($1)`. asyncpg
# prepares its statements, and after a few runs PostgreSQL may keep a generic plan made while the table was small:
# a sequential scan that compares every row with every key of the array, measured at 0.75 s per lookup of 3,000
# keys in 30,000 claims (bench/e2e.py, bulk after single). The join stays a few index probes per key.
async def pg_taken_claims(connection: asyncpg.Connection, keys: Sequence[str]) -> set[str]:
    rows = await connection.fetch(
        "SELECT c.key FROM unnest($1::text[]) AS wanted(key) JOIN claims AS c ON c.key = wanted.key", list(keys)
    )
    return {row["key"] for row in rows}


async def pg_payment_states(connection: asyncpg.Connection, ids: Sequence[UUID]) -> dict[UUID, PaymentState]:
    rows = await connection.fetch(
        "SELECT p.id, p.state FROM unnest($1::uuid[]) AS wanted(id) JOIN payments AS p ON p.id = wanted.id", list(ids)
    )
    return {row["id"]: PaymentState(row["state"]) for row in rows}


_claim_columns = ("key", "message_id", "created_at_us")
_mailbox_columns = ("recipient_bic", "message_id", "created_at_us", "delivered_at_us", "delivery_attempts",
                    "next_attempt_at_us")
# The journal rows of a batch in one statement, one array per column: one round trip under the head lock instead of
# a COPY per table. A COPY costs two round trips, and each is a wait in an event loop that has other requests to
# parse, so every one of them held the lock, and every other gateway process, a millisecond or more longer.
# Foreign keys (payments and mailbox rows name a message of the same batch) are checked at the end of the statement.
_journal_insert = (
    f"WITH written_messages AS ({unnest_insert(messages_table, _message_columns, 1)}),"
    f" written_payments AS ({unnest_insert(payments_table, _payment_columns, 1 + len(_message_columns))}),"
    " written_claims AS"
    f" ({unnest_insert(claims_table, _claim_columns, 1 + len(_message_columns) + len(_payment_columns))}) "
    + unnest_insert(
        mailbox_table, _mailbox_columns, 1 + len(_message_columns) + len(_payment_columns) + len(_claim_columns)
    )
)


async def pg_write_journal(connection: asyncpg.Connection, rows: Sequence[JournalRows], now_us: int) -> None:
    released = [key for journal in rows for key in journal.released_claims]
    if released:
        await connection.execute(
            "DELETE FROM claims AS c USING unnest($1::text[]) AS released(key) WHERE c.key = released.key", released
        )
    messages = [tuple(_message_row(m).values()) for journal in rows for m in journal.messages]
    payments = [tuple(_payment_row(p).values()) for journal in rows for p in journal.payments]
    claims = [tuple(c[name] for name in _claim_columns) for c in _claims(rows, now_us)]
    mailbox = [tuple(m[name] for name in _mailbox_columns) for m in _mailbox(rows, now_us)]
    if messages or payments or claims or mailbox:
        await connection.execute(
            _journal_insert,
            *columns_of(messages, len(_message_columns)),
            *columns_of(payments, len(_payment_columns)),
            *columns_of(claims, len(_claim_columns)),
            *columns_of(mailbox, len(_mailbox_columns)),
        )
    updates = [u for journal in rows for u in journal.payment_updates]
    if updates:
        await connection.execute(
            "UPDATE payments AS p SET state = v.state, settled_at_us = v.settled, reason_code = v.reason"
            " FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[]) AS v(id, state, settled, reason)"
            " WHERE p.id = v.id",
            [u.payment_id for u in updates],
            [u.new_state.value for u in updates],
            [u.settled_at_us for u in updates],
            [u.reason_code for u in updates],
        )
    if any(journal.conversions or journal.conversion_updates for journal in rows):
        await conversions.pg_write(connection, rows)


# --- reads, outside any batch --------------------------------------------------------------------------------


def _stored_message(row: Any) -> StoredMessage:
    return StoredMessage(
        id=row.id,
        direction=Direction(row.direction),
        sender_bic=row.sender_bic,
        receiver_bic=row.receiver_bic,
        message_type=row.message_type,
        reference=row.reference,
        payload=bytes(row.payload),
        payload_sha256=bytes(row.payload_sha256),
        status=MessageStatus(row.status),
        answers_id=row.answers_id,
        created_at_us=row.created_at_us,
    )


def _payment(row: Any) -> PaymentRecord:
    return PaymentRecord(
        id=row.id,
        transfer_id=row.transfer_id,
        message_id=row.message_id,
        position=row.position,
        kind=PaymentKind(row.kind),
        debtor_bic=row.debtor_bic,
        creditor_bic=row.creditor_bic,
        group_message_id=row.group_message_id,
        uetr=row.uetr,
        end_to_end_id=row.end_to_end_id,
        instruction_id=row.instruction_id,
        transaction_id=row.transaction_id,
        amount_kopecks=row.amount_kopecks,
        settlement_date=date.fromisoformat(row.settlement_date),
        state=PaymentState(row.state),
        reason_code=row.reason_code,
        claim_keys=(),  # not stored on the row; claims live in their own table
        original_payment_id=row.original_payment_id,
        created_at_us=row.created_at_us,
        settled_at_us=row.settled_at_us,
    )


@outages_unavailable
class JournalReader:
    """Reads of the journal, each in its own short transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def taken_claims(self, keys: Sequence[str]) -> set[str]:
        async with self.engine.connect() as connection:
            return await sqlalchemy_taken_claims(connection, keys)

    async def message_by_key(self, idempotency_key: str) -> StoredMessage | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(select(messages_table).where(messages_table.c.idempotency_key == idempotency_key))
            ).one_or_none()
        return None if row is None else _stored_message(row)

    async def answer_to(self, message_id: UUID, receiver_bic: str, newest: bool = False) -> StoredMessage | None:
        """The first (or, with `newest`, the latest) outbound message answering `message_id` that went to
        `receiver_bic`: the sender's answer. A conversion's latest answer is its final receipt, once it has one."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(messages_table)
                    .where(
                        messages_table.c.answers_id == message_id,
                        messages_table.c.receiver_bic == receiver_bic,
                        messages_table.c.direction == Direction.OUTBOUND.value,
                    )
                    .order_by(
                        messages_table.c.created_at_us.desc() if newest else messages_table.c.created_at_us
                    )
                    .limit(1)
                )
            ).one_or_none()
        return None if row is None else _stored_message(row)

    async def message(self, message_id: UUID) -> StoredMessage | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(messages_table).where(messages_table.c.id == message_id))).one_or_none()
        return None if row is None else _stored_message(row)

    async def mailbox(self, recipient_bic: str, after_seq: int, limit: int, since_us: int) -> list[MailboxItem]:
        """Messages for `recipient_bic` after the cursor, oldest first, no older than `since_us` (retention)."""
        query = (
            select(mailbox_table.c.seq, messages_table)
            .join(messages_table, messages_table.c.id == mailbox_table.c.message_id)
            .where(
                mailbox_table.c.recipient_bic == recipient_bic,
                mailbox_table.c.seq > after_seq,
                mailbox_table.c.created_at_us >= since_us,
            )
            .order_by(mailbox_table.c.seq)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [MailboxItem(row.seq, _stored_message(row)) for row in rows]

    async def payments_of_message(self, message_id: UUID) -> list[PaymentRecord]:
        query = select(payments_table).where(payments_table.c.message_id == message_id).order_by(payments_table.c.position)
        async with self.engine.connect() as connection:
            return [_payment(row) for row in await connection.execute(query)]

    async def payments_with_uetrs(self, uetrs: Sequence[UUID]) -> list[PaymentRecord]:
        """Every payment record under these UETRs, of any party, rejected attempts included, newest first: what a
        reference to an original is matched against in full (gateway.settlement.originals)."""
        if not uetrs:
            return []
        query = (
            select(payments_table)
            .where(payments_table.c.uetr.in_(list(uetrs)))
            .order_by(payments_table.c.created_at_us.desc(), payments_table.c.position)
        )
        async with self.engine.connect() as connection:
            return [_payment(row) for row in await connection.execute(query)]

    async def payments_of_groups(self, debtor_bic: str, group_message_ids: Sequence[str]) -> list[PaymentRecord]:
        """The payments `debtor_bic` sent in messages whose GrpHdr/MsgId is one of these, newest message first,
        each message's in message order."""
        if not group_message_ids:
            return []
        query = (
            select(payments_table)
            .where(
                payments_table.c.debtor_bic == debtor_bic,
                payments_table.c.group_message_id.in_(list(group_message_ids)),
            )
            .order_by(payments_table.c.created_at_us.desc(), payments_table.c.position)
        )
        async with self.engine.connect() as connection:
            return [_payment(row) for row in await connection.execute(query)]

    async def find_payments(
        self,
        debtor_bic: str,
        uetrs: Sequence[UUID] = (),
        end_to_end_ids: Sequence[str] = (),
    ) -> list[PaymentRecord]:
        """Payments `debtor_bic` sent with any of these UETRs or EndToEndIds, rejected ones included, newest first."""
        conditions = []
        if uetrs:
            conditions.append(payments_table.c.uetr.in_(list(uetrs)))
        if end_to_end_ids:
            conditions.append(payments_table.c.end_to_end_id.in_(list(end_to_end_ids)))
        if not conditions:
            return []
        query = (
            select(payments_table)
            .where(and_(payments_table.c.debtor_bic == debtor_bic, or_(*conditions)))
            .order_by(payments_table.c.created_at_us.desc())
        )
        async with self.engine.connect() as connection:
            return [_payment(row) for row in await connection.execute(query)]

    async def warehoused_due(self, business_date: date, limit: int) -> list[PaymentRecord]:
        query = (
            select(payments_table)
            .where(
                payments_table.c.state == PaymentState.WAREHOUSED.value,
                payments_table.c.settlement_date <= business_date.isoformat(),
            )
            .order_by(payments_table.c.settlement_date, payments_table.c.created_at_us)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            return [_payment(row) for row in await connection.execute(query)]

    # --- the outbox relay's view of the mailboxes ------------------------------------------------------------

    async def undelivered(self, recipients: Sequence[str], now_us: int, limit: int) -> list[MailboxItem]:
        """Mailbox entries of push recipients not yet delivered and due for an attempt, oldest first."""
        if not recipients:
            return []
        # A recipient with a failed message still waiting for its retry is left out entirely: its later messages
        # wait behind that one, so that it receives its mailbox in order.
        waiting = (
            select(mailbox_table.c.recipient_bic)
            .where(mailbox_table.c.delivered_at_us.is_(None), mailbox_table.c.next_attempt_at_us > now_us)
            .scalar_subquery()
        )
        query = (
            select(mailbox_table.c.seq, mailbox_table.c.delivery_attempts, messages_table)
            .join(messages_table, messages_table.c.id == mailbox_table.c.message_id)
            .where(
                mailbox_table.c.recipient_bic.in_(list(recipients)),
                mailbox_table.c.recipient_bic.not_in(waiting),
                mailbox_table.c.delivered_at_us.is_(None),
            )
            .order_by(mailbox_table.c.seq)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [MailboxItem(row.seq, _stored_message(row), row.delivery_attempts) for row in rows]

    async def delivery_attempted(self, seq: int, delivered_at_us: int | None, next_attempt_at_us: int | None) -> None:
        """Record one push attempt: delivered, or failed with the time of the next try."""
        async with self.engine.begin() as connection:
            await connection.execute(
                update(mailbox_table)
                .where(mailbox_table.c.seq == seq)
                .values(
                    delivered_at_us=delivered_at_us,
                    next_attempt_at_us=next_attempt_at_us,
                    delivery_attempts=mailbox_table.c.delivery_attempts + 1,
                )
            )

    async def oldest_undelivered_us(self, recipients: Sequence[str]) -> int | None:
        """When the oldest message still waiting for push delivery was put in its mailbox (the outbox lag)."""
        if not recipients:
            return None
        query = select(func.min(mailbox_table.c.created_at_us)).where(
            mailbox_table.c.recipient_bic.in_(list(recipients)), mailbox_table.c.delivered_at_us.is_(None)
        )
        async with self.engine.connect() as connection:
            value: int | None = (await connection.execute(query)).scalar()
        return value
