"""A wallet's history for account reports (gateway.reporting.ports.AccountHistory) on SQL, read outside the batch
path through SQLAlchemy on both databases, in one snapshot: REPEATABLE READ on PostgreSQL, and on SQLite the one
transaction every connection begins (BEGIN IMMEDIATE, see engine.py)."""

from __future__ import annotations

from typing import Any

from gateway_adapters.sql.engine import is_postgres
from gateway_adapters.sql.models import (
    AccountRow,
    ConversionRow,
    PaymentRow,
    PendingTransferRow,
    TransferRow,
)
from gateway_adapters.sql.outages import outages_unavailable
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy import false as sa_false
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.domain.journal import PaymentState
from gateway.domain.ledger import PendingStatus, Phase, TransferKind
from gateway.reporting.ports import WalletHistory, WalletHold, WalletMovement

accounts_table = AccountRow.__table__
transfers_table = TransferRow.__table__
pending_table = PendingTransferRow.__table__
payments_table = PaymentRow.__table__
conversions_table = ConversionRow.__table__
_conversion_kinds = (TransferKind.MINT.value, TransferKind.BURN.value)

# The phases that move a posted balance: a single-phase transfer, and the post of a pending one (its row carries
# the pending transfer's accounts and amount). A pending transfer only reserves; a void releases the reservation.
_posting_phases = (Phase.SINGLE.value, Phase.POST_PENDING.value)


@outages_unavailable
class SqlAccountHistory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = is_postgres(engine.url.render_as_string(hide_password=True))

    async def wallet_history_between(
        self, account_id: int, after_seq: int, through_seq: int, movements_max: int,
        booked_from_us: int | None = None, booked_to_us: int | None = None,
    ) -> WalletHistory | None:
        assert after_seq <= through_seq, (after_seq, through_seq)
        async with self._engine.connect() as connection:
            if self._postgres:
                connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                return await _history(
                    connection, account_id, after_seq, through_seq, movements_max, booked_from_us, booked_to_us
                )


async def _history(
    connection: AsyncConnection, account_id: int, after_seq: int, through_seq: int, movements_max: int,
    booked_from_us: int | None, booked_to_us: int | None,
) -> WalletHistory | None:
    """The wallet's movements with after_seq < seq <= through_seq (a business day's), narrowed to those booked in
    [booked_from_us, booked_to_us) when given, and its booked balances before and after them."""
    account = (
        await connection.execute(
            select(accounts_table.c.posted_kopecks, accounts_table.c.debits_pending_kopecks).where(
                accounts_table.c.id == account_id
            )
        )
    ).one()
    t, p, c = transfers_table, payments_table, conversions_table
    in_range = and_(t.c.seq > after_seq, t.c.seq <= through_seq)
    narrowed = in_range
    if booked_from_us is not None:
        narrowed = and_(narrowed, t.c.created_at_us >= booked_from_us)
    if booked_to_us is not None:
        narrowed = and_(narrowed, t.c.created_at_us < booked_to_us)
    booked_before = (
        and_(in_range, t.c.created_at_us < booked_from_us) if booked_from_us is not None else sa_false()
    )
    # Balances: the balance now, less what was posted since the range began, plus what of the range was booked
    # before the narrowed window; summed apart from the movements, so that WalletHistory's check means something.
    since_start, before, within = await _sums(connection, account_id, t.c.seq > after_seq, booked_before, narrowed)
    on_wallet = or_(t.c.debit_account_id == account_id, t.c.credit_account_id == account_id)
    rows = (
        await connection.execute(
            select(
                t.c.id, t.c.debit_account_id, t.c.amount_kopecks, t.c.kind, t.c.created_at_us, t.c.reference,
                t.c.uetr, p.c.instruction_id, p.c.debtor_bic, p.c.creditor_bic,
                # A payment's references are its message's; a conversion's, its camt.050's (joined by the UETR
                # the conversion's transfers carry).
                func.coalesce(p.c.end_to_end_id, c.c.end_to_end_id).label("end_to_end_id"),
                func.coalesce(p.c.transaction_id, c.c.transaction_id).label("transaction_id"),
                func.coalesce(p.c.group_message_id, c.c.request_message_id).label("message_reference"),
            )
            .select_from(
                t.outerjoin(p, and_(p.c.transfer_id == t.c.id, p.c.state == PaymentState.SETTLED.value))
                .outerjoin(c, and_(t.c.kind.in_(_conversion_kinds), c.c.uetr == t.c.uetr))
            )
            .where(on_wallet, t.c.phase.in_(_posting_phases), narrowed)
            .order_by(t.c.seq)
            .limit(movements_max + 1)
        )
    ).all()
    if len(rows) > movements_max:
        return None
    holds = (
        await connection.execute(
            select(pending_table, t.c.created_at_us)
            .select_from(pending_table.join(t, t.c.id == pending_table.c.id))
            .where(
                pending_table.c.status == PendingStatus.PENDING.value,
                or_(pending_table.c.debit_account_id == account_id, pending_table.c.credit_account_id == account_id),
            )
            .order_by(t.c.seq)
        )
    ).all()
    opening = account.posted_kopecks - since_start + before
    return WalletHistory(
        opening_kopecks=opening,
        closing_kopecks=opening + within,
        movements=tuple(_movement(row, account_id) for row in rows),
        holds=tuple(
            WalletHold(
                transfer_id=row.id,
                kind=TransferKind(row.kind),
                signed_kopecks=-row.amount_kopecks if row.debit_account_id == account_id else row.amount_kopecks,
                created_at_us=row.created_at_us,
            )
            for row in holds
        ),
        debits_pending_kopecks=account.debits_pending_kopecks,
    )


async def _sums(
    connection: AsyncConnection, account_id: int, since_start: Any, booked_before: Any, within: Any
) -> tuple[int, int, int]:
    """Net posted to the account (credits positive) where each condition holds, in one statement."""
    t = transfers_table
    signed = case((t.c.credit_account_id == account_id, t.c.amount_kopecks), else_=-t.c.amount_kopecks)
    row = (
        await connection.execute(
            select(
                func.coalesce(func.sum(case((since_start, signed), else_=0)), 0),
                func.coalesce(func.sum(case((booked_before, signed), else_=0)), 0),
                func.coalesce(func.sum(case((within, signed), else_=0)), 0),
            ).where(
                or_(t.c.debit_account_id == account_id, t.c.credit_account_id == account_id),
                t.c.phase.in_(_posting_phases),
                since_start,
            )
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _movement(row: Any, account_id: int) -> WalletMovement:
    debit = row.debit_account_id == account_id
    return WalletMovement(
        transfer_id=row.id,
        kind=TransferKind(row.kind),
        signed_kopecks=-row.amount_kopecks if debit else row.amount_kopecks,
        created_at_us=row.created_at_us,
        reference=row.reference,
        uetr=row.uetr,
        message_reference=row.message_reference,
        end_to_end_id=row.end_to_end_id,
        instruction_id=row.instruction_id,
        transaction_id=row.transaction_id,
        debtor_agent_bic=row.debtor_bic,
        creditor_agent_bic=row.creditor_bic,
    )
