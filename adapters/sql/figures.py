"""Treasury figures on SQL (gateway.treasury.figures.FigureReads): read-only, each read one short transaction, every
list bounded by its caller, every scan over an index (migration 0007; bench/treasury.py measures them on a few
hundred thousand rows).

The reconciliation breaks are read here from the table `gateway reconcile` writes, and never written.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from gateway_adapters.sql.engine import is_postgres
from gateway_adapters.sql.models import (
    AccountRow,
    ConversionRow,
    LedgerHeadRow,
    MessageRow,
    PaymentRow,
    ReconciliationBreakRow,
    TransferRow,
)
from gateway_adapters.sql.outages import outages_unavailable
from sqlalchemy import BigInteger, String, Uuid, cast, func, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.domain.conversion import ConversionState, finished_states
from gateway.domain.figures import (
    MessageCount,
    Movements,
    OpenBreak,
    Outcome,
    PendingItem,
    PendingKind,
    PendingTotal,
    Posting,
    ReasonCount,
    Reject,
    RejectKind,
    TransactionTotal,
    hour_us,
)
from gateway.domain.journal import Direction, PaymentKind, PaymentState
from gateway.domain.ledger import AccountKind, Phase, TransferKind

messages_table = MessageRow.__table__
payments_table = PaymentRow.__table__
conversions_table = ConversionRow.__table__
transfers_table = TransferRow.__table__
accounts_table = AccountRow.__table__
head_table = LedgerHeadRow.__table__
breaks_table = ReconciliationBreakRow.__table__

# The phases that move a posted balance (as in reports.py): a single-phase transfer, and the post of a pending one,
# whose row carries the pending transfer's accounts and amount.
_posting_phases = (Phase.SINGLE.value, Phase.POST_PENDING.value)
_payment_outcomes = {
    PaymentState.SETTLED.value: Outcome.SETTLED,
    PaymentState.REJECTED.value: Outcome.REJECTED,
    PaymentState.WAREHOUSED.value: Outcome.PENDING,
    PaymentState.CANCELLED.value: Outcome.CANCELLED,
}
_message_type_of_kind = {kind.value: kind.message_name for kind in PaymentKind}
_unfinished_conversions = tuple(s.value for s in ConversionState if s not in finished_states)


@outages_unavailable
class SqlFigures:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = is_postgres(engine.url.render_as_string(hide_password=True))

    async def _snapshot(self) -> AsyncConnection:
        connection = await self._engine.connect()
        if self._postgres:  # the head, the supply and the postings of one read must belong together
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
        return connection

    # --- the ledger ------------------------------------------------------------------------------------------

    async def movements(self, after_seq: int, through_seq: int | None, hourly: bool) -> Movements:
        """Postings after `after_seq` up to `through_seq` (None: the head), summed by kind and accounts, and by the
        hour booked when `hourly`; with the head and the supply, in one snapshot. An index range of the chain."""
        t = transfers_table
        connection = await self._snapshot()
        try:
            async with connection.begin():
                head_seq = int((await connection.execute(select(head_table.c.seq))).scalar_one())
                supply = await connection.scalar(
                    select(-accounts_table.c.posted_kopecks).where(accounts_table.c.kind == AccountKind.ISSUANCE.value)
                )
                through = head_seq if through_seq is None else min(through_seq, head_seq)
                # The start of the hour: integer arithmetic on both databases (no division, which may be real).
                hour = literal(hour_us, BigInteger)
                bucket = (t.c.created_at_us - t.c.created_at_us % hour if hourly else literal(0, BigInteger)).label(
                    "bucket_us"
                )
                rows = (
                    await connection.execute(
                        select(bucket, t.c.kind, t.c.debit_account_id, t.c.credit_account_id,
                               func.sum(t.c.amount_kopecks).label("kopecks"))
                        .where(t.c.seq > after_seq, t.c.seq <= through, t.c.phase.in_(_posting_phases))
                        .group_by(bucket, t.c.kind, t.c.debit_account_id, t.c.credit_account_id)
                    )
                ).all()
        finally:
            await connection.close()
        postings = tuple(
            Posting(int(row.bucket_us), TransferKind(row.kind), row.debit_account_id, row.credit_account_id,
                    int(row.kopecks))
            for row in rows
        )
        return Movements(head_seq=head_seq, supply_kopecks=int(supply or 0), through_seq=through, postings=postings)

    # --- the journal: today's flows --------------------------------------------------------------------------

    async def inbound_counts(self, since_us: int) -> list[MessageCount]:
        """Inbound messages received since `since_us`, by sender, type and verdict."""
        m = messages_table
        query = (
            select(m.c.sender_bic, m.c.message_type, m.c.status, func.count().label("n"))
            .where(m.c.direction == Direction.INBOUND.value, m.c.created_at_us >= since_us)
            .group_by(m.c.sender_bic, m.c.message_type, m.c.status)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [MessageCount(row.sender_bic, row.message_type, row.status, int(row.n)) for row in rows]

    async def transaction_totals(self, since_us: int, business_date: date) -> list[TransactionTotal]:
        """The transactions of messages received since `since_us` (payments) or converting on `business_date`,
        by bank, message type and outcome: how many and how much."""
        p, c, m = payments_table, conversions_table, messages_table
        payments = (
            select(p.c.debtor_bic, p.c.kind, p.c.state, func.count().label("n"),
                   func.sum(p.c.amount_kopecks).label("kopecks"))
            .where(p.c.created_at_us >= since_us)
            .group_by(p.c.debtor_bic, p.c.kind, p.c.state)
        )
        conversions = (
            select(c.c.bank_bic, m.c.message_type, c.c.state, func.count().label("n"),
                   func.sum(c.c.amount_kopecks).label("kopecks"))
            .select_from(c.join(m, m.c.id == c.c.message_id))
            .where(c.c.business_date == business_date.isoformat())
            .group_by(c.c.bank_bic, m.c.message_type, c.c.state)
        )
        async with self._engine.connect() as connection:
            paid = (await connection.execute(payments)).all()
            converted = (await connection.execute(conversions)).all()
        totals = [
            TransactionTotal(row.debtor_bic, _message_type_of_kind[row.kind], _payment_outcomes[row.state],
                             int(row.n), int(row.kopecks))
            for row in paid
        ]
        totals += [
            TransactionTotal(row.bank_bic, row.message_type or "camt.050", _conversion_outcome(row.state), int(row.n),
                             int(row.kopecks))
            for row in converted
        ]
        return totals

    # --- rejects ---------------------------------------------------------------------------------------------

    def _rejects(self, since_us: int, business_date: date, bank_bic: str | None) -> Any:
        """One select of every reject since `since_us`: messages refused as a whole, rejected payments, conversions
        refused after they were accepted (those of `business_date`). Columns as Reject's."""
        m, p, c = messages_table, payments_table, conversions_table
        refused = select(
            literal(RejectKind.MESSAGE.value).label("kind"), m.c.sender_bic.label("bank_bic"), m.c.message_type,
            m.c.reference, cast(null(), String).label("end_to_end_id"), cast(null(), Uuid).label("uetr"),
            m.c.reason_code, cast(null(), BigInteger).label("kopecks"), m.c.created_at_us.label("at_us"),
        ).where(m.c.reason_code.is_not(None), m.c.created_at_us >= since_us)
        payments = select(
            literal(RejectKind.TRANSACTION.value), p.c.debtor_bic, p.c.kind, p.c.group_message_id, p.c.end_to_end_id,
            p.c.uetr, p.c.reason_code, p.c.amount_kopecks, p.c.created_at_us,
        ).where(p.c.state == PaymentState.REJECTED.value, p.c.created_at_us >= since_us)
        conversions = (
            select(
                literal(RejectKind.CONVERSION.value), c.c.bank_bic, m.c.message_type, c.c.request_message_id,
                c.c.end_to_end_id, c.c.uetr, c.c.reason_code, c.c.amount_kopecks, c.c.updated_at_us,
            )
            .select_from(c.join(m, m.c.id == c.c.message_id))
            .where(
                c.c.state == ConversionState.REJECTED.value, c.c.reason_code.is_not(None),
                c.c.business_date == business_date.isoformat(),
            )
        )
        if bank_bic is not None:
            refused = refused.where(m.c.sender_bic == bank_bic)
            payments = payments.where(p.c.debtor_bic == bank_bic)
            conversions = conversions.where(c.c.bank_bic == bank_bic)
        return union_all(refused, payments, conversions).subquery("rejects")

    async def reason_counts(self, since_us: int, business_date: date) -> list[ReasonCount]:
        rejects = self._rejects(since_us, business_date, None)
        query = select(rejects.c.bank_bic, rejects.c.reason_code, func.count().label("n")).group_by(
            rejects.c.bank_bic, rejects.c.reason_code
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [ReasonCount(row.bank_bic, row.reason_code, int(row.n)) for row in rows]

    async def recent_rejects(self, since_us: int, business_date: date, bank_bic: str | None, limit: int) -> list[Reject]:
        """The newest `limit` rejects since `since_us` (of `bank_bic` only, when given), newest first."""
        rejects = self._rejects(since_us, business_date, bank_bic)
        query = select(rejects).order_by(rejects.c.at_us.desc()).limit(limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            Reject(
                kind=RejectKind(row.kind),
                bank_bic=row.bank_bic,
                message_type=_message_type_of_kind.get(row.message_type, row.message_type),
                reference=row.reference,
                end_to_end_id=row.end_to_end_id,
                uetr=_uuid_text(row.uetr),
                reason_code=row.reason_code,
                kopecks=None if row.kopecks is None else int(row.kopecks),
                at_us=int(row.at_us),
            )
            for row in rows
        ]

    # --- pending and warehoused ------------------------------------------------------------------------------

    async def pending(self, bank_bic: str | None, limit: int) -> tuple[list[PendingItem], list[PendingTotal]]:
        """Warehoused payments (of which `bank_bic` is a party) and unfinished conversions (of `bank_bic`), the
        `limit` due soonest of each, and the totals of each by bank."""
        p, c, m = payments_table, conversions_table, messages_table
        warehoused = p.c.state == PaymentState.WAREHOUSED.value
        payments = select(p).where(warehoused)
        converting = c.c.state.in_(_unfinished_conversions)
        conversions = select(c, m.c.message_type).select_from(c.join(m, m.c.id == c.c.message_id)).where(converting)
        payment_totals = select(p.c.debtor_bic, func.count().label("n"), func.sum(p.c.amount_kopecks).label("kopecks"))
        payment_totals = payment_totals.where(warehoused).group_by(p.c.debtor_bic)
        conversion_totals = select(c.c.bank_bic, func.count().label("n"), func.sum(c.c.amount_kopecks).label("kopecks"))
        conversion_totals = conversion_totals.where(converting).group_by(c.c.bank_bic)
        if bank_bic is not None:
            payments = payments.where(or_(p.c.debtor_bic == bank_bic, p.c.creditor_bic == bank_bic))
            conversions = conversions.where(c.c.bank_bic == bank_bic)
            payment_totals = payment_totals.where(p.c.debtor_bic == bank_bic)
            conversion_totals = conversion_totals.where(c.c.bank_bic == bank_bic)
        payments = payments.order_by(p.c.settlement_date, p.c.created_at_us).limit(limit)
        conversions = conversions.order_by(c.c.created_at_us).limit(limit)
        async with self._engine.connect() as connection:
            payment_rows = (await connection.execute(payments)).all()
            conversion_rows = (await connection.execute(conversions)).all()
            totals = [
                PendingTotal(PendingKind.WAREHOUSED, row.debtor_bic, int(row.n), int(row.kopecks))
                for row in await connection.execute(payment_totals)
            ]
            totals += [
                PendingTotal(PendingKind.CONVERSION, row.bank_bic, int(row.n), int(row.kopecks))
                for row in await connection.execute(conversion_totals)
            ]
        items = [
            PendingItem(
                kind=PendingKind.WAREHOUSED, debtor_bic=row.debtor_bic, creditor_bic=row.creditor_bic,
                message_type=_message_type_of_kind[row.kind], reference=row.group_message_id,
                end_to_end_id=row.end_to_end_id, uetr=_uuid_text(row.uetr), kopecks=int(row.amount_kopecks),
                due_date=date.fromisoformat(row.settlement_date), state=row.state, since_us=int(row.created_at_us),
            )
            for row in payment_rows
        ]
        items += [
            PendingItem(
                kind=PendingKind.CONVERSION, debtor_bic=row.bank_bic, creditor_bic=row.bank_bic,
                message_type=row.message_type or "camt.050", reference=row.request_message_id,
                end_to_end_id=row.end_to_end_id, uetr=_uuid_text(row.uetr), kopecks=int(row.amount_kopecks),
                due_date=date.fromisoformat(row.business_date), state=row.state, since_us=int(row.created_at_us),
            )
            for row in conversion_rows
        ]
        return items, totals

    # --- reconciliation breaks (read only) -------------------------------------------------------------------

    async def open_breaks(self, accounts: frozenset[str] | None, limit: int) -> tuple[list[OpenBreak], int]:
        """Open breaks (on `accounts` only, when given), the `limit` oldest first, and how many are open in all."""
        b = breaks_table
        query = select(b).where(b.c.resolved_at_us.is_(None))
        count = select(func.count()).select_from(b).where(b.c.resolved_at_us.is_(None))
        if accounts is not None:
            query = query.where(b.c.account.in_(sorted(accounts)))
            count = count.where(b.c.account.in_(sorted(accounts)))
        query = query.order_by(b.c.first_seen_at_us, b.c.id).limit(limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
            total = int((await connection.execute(count)).scalar_one())
        return [_break(row) for row in rows], total

    async def open_break_kinds(self) -> dict[str, int]:
        """Open breaks by kind: what /metrics shows."""
        b = breaks_table
        query = select(b.c.kind, func.count().label("n")).where(b.c.resolved_at_us.is_(None)).group_by(b.c.kind)
        async with self._engine.connect() as connection:
            return {row.kind: int(row.n) for row in await connection.execute(query)}


def _conversion_outcome(state: str) -> Outcome:
    if state == ConversionState.SETTLED.value:
        return Outcome.SETTLED
    if state == ConversionState.REJECTED.value:
        return Outcome.REJECTED
    return Outcome.PENDING


def _uuid_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _break(row: Any) -> OpenBreak:
    try:
        references = json.loads(row.references_json)
    except ValueError:  # written by another program: shown as it is rather than not at all
        references = row.references_json
    return OpenBreak(
        id=str(row.id),
        kind=row.kind,
        business_date=date.fromisoformat(row.business_date),
        first_seen_date=date.fromisoformat(row.first_seen_date),
        first_seen_at_us=int(row.first_seen_at_us),
        last_seen_at_us=int(row.last_seen_at_us),
        amount_kopecks=row.amount_kopecks,
        expected_kopecks=row.expected_kopecks,
        account=row.account,
        references=references,
        description=row.description,
    )

