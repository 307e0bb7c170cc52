"""Conversions and the central bank's emission controls on SQL (gateway.domain.conversion).

Conversion rows are written inside the ledger's batch transaction (journal.py calls `sqlalchemy_write` or
`pg_write`), and the daily limits are read there too, under the head lock. Emission-control changes take the head
lock themselves: the cap lives on the head row, and a cap must never be set below what is issued or pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from gateway_adapters.sql.models import (
    AccountRow,
    ConversionLimitRow,
    ConversionRow,
    EmissionControlChangeRow,
    LedgerHeadRow,
    standard_uuid,
)
from gateway_adapters.sql.outages import outages_unavailable
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.conversion.ports import CapBelowIssued, ControlChange
from gateway.domain.conversion import (
    ConversionDirection,
    ConversionRecord,
    ConversionState,
    ConversionUsage,
    finished_states,
)
from gateway.domain.journal import JournalRows

conversions_table = ConversionRow.__table__
limits_table = ConversionLimitRow.__table__
changes_table = EmissionControlChangeRow.__table__
_head_table = LedgerHeadRow.__table__
_accounts_table = AccountRow.__table__

_columns = tuple(c.name for c in conversions_table.columns)
emission_cap_subject = "emission_cap"


def daily_limit_subject(bic: str) -> str:
    return f"daily_limit:{bic}"


def _row(c: ConversionRecord) -> dict[str, Any]:
    return {
        "id": c.id,
        "message_id": c.message_id,
        "bank_bic": c.bank_bic,
        "direction": c.direction.value,
        "rtgs_account": c.rtgs_account,
        "wallet_account_id": c.wallet_account_id,
        "wallet_code": c.wallet_code,
        "amount_kopecks": c.amount_kopecks,
        "business_date": c.business_date.isoformat(),
        "state": c.state.value,
        "reason_code": c.reason_code,
        "reason_text": c.reason_text,
        "request_message_id": c.request_message_id,
        "transaction_id": c.transaction_id,
        "end_to_end_id": c.end_to_end_id,
        "uetr": c.uetr,
        "created_at_us": c.created_at_us,
        "deadline_at_us": c.deadline_at_us,
        "updated_at_us": c.updated_at_us,
    }


def conversion_record(row: Any) -> ConversionRecord:
    return ConversionRecord(
        id=standard_uuid(row.id),
        message_id=standard_uuid(row.message_id),
        bank_bic=row.bank_bic,
        direction=ConversionDirection(row.direction),
        rtgs_account=row.rtgs_account,
        wallet_account_id=row.wallet_account_id,
        wallet_code=row.wallet_code,
        amount_kopecks=row.amount_kopecks,
        business_date=date.fromisoformat(row.business_date),
        state=ConversionState(row.state),
        reason_code=row.reason_code,
        reason_text=row.reason_text,
        request_message_id=row.request_message_id,
        transaction_id=row.transaction_id,
        end_to_end_id=row.end_to_end_id,
        uetr=None if row.uetr is None else standard_uuid(row.uetr),
        created_at_us=row.created_at_us,
        deadline_at_us=row.deadline_at_us,
        updated_at_us=row.updated_at_us,
    )


def _updates(rows: Sequence[JournalRows]) -> list[dict[str, Any]]:
    return [
        {"conversion": u.conversion_id, "expected": u.expected_state.value, "new_state": u.new_state.value,
         "reason_code": u.reason_code, "reason_text": u.reason_text, "updated": u.updated_at_us}
        for journal in rows
        for u in journal.conversion_updates
    ]


# --- inside the batch transaction ----------------------------------------------------------------------------


async def sqlalchemy_write(connection: AsyncConnection, rows: Sequence[JournalRows]) -> None:
    new = [_row(c) for journal in rows for c in journal.conversions]
    if new:
        await connection.execute(insert(conversions_table), new)
    updates = _updates(rows)
    for u in updates:
        result = await connection.execute(
            update(conversions_table)
            .where(conversions_table.c.id == u["conversion"], conversions_table.c.state == u["expected"])
            .values(state=u["new_state"], reason_code=u["reason_code"], reason_text=u["reason_text"],
                    updated_at_us=u["updated"])
        )
        # The step's claim was checked under the head lock: the state cannot have moved since.
        assert result.rowcount == 1, f"conversion {u['conversion']} left {u['expected']} twice"


async def pg_write(connection: asyncpg.Connection, rows: Sequence[JournalRows]) -> None:
    new = [tuple(_row(c).values()) for journal in rows for c in journal.conversions]
    if new:
        await connection.copy_records_to_table("conversions", records=new, columns=_columns)
    for u in _updates(rows):
        status = await connection.execute(
            "UPDATE conversions SET state = $3, reason_code = $4, reason_text = $5, updated_at_us = $6"
            " WHERE id = $1 AND state = $2",
            u["conversion"], u["expected"], u["new_state"], u["reason_code"], u["reason_text"], u["updated"],
        )
        assert status == "UPDATE 1", f"conversion {u['conversion']} left {u['expected']} twice"


async def sqlalchemy_usage(
    connection: AsyncConnection, keys: Sequence[tuple[str, date]]
) -> dict[tuple[str, date], ConversionUsage]:
    usage = {}
    for bic, day in keys:
        used = await connection.scalar(
            select(func.coalesce(func.sum(conversions_table.c.amount_kopecks), 0)).where(
                conversions_table.c.bank_bic == bic,
                conversions_table.c.business_date == day.isoformat(),
                conversions_table.c.state != ConversionState.REJECTED.value,
            )
        )
        limit = await connection.scalar(select(limits_table.c.daily_kopecks).where(limits_table.c.bank_bic == bic))
        usage[(bic, day)] = ConversionUsage(int(used), limit)
    return usage


async def pg_usage(
    connection: asyncpg.Connection, keys: Sequence[tuple[str, date]]
) -> dict[tuple[str, date], ConversionUsage]:
    usage = {}
    for bic, day in keys:
        row = await connection.fetchrow(
            "SELECT (SELECT coalesce(sum(amount_kopecks), 0) FROM conversions"
            "        WHERE bank_bic = $1 AND business_date = $2 AND state <> 'rejected') AS used,"
            "       (SELECT daily_kopecks FROM conversion_limits WHERE bank_bic = $1) AS daily",
            bic, day.isoformat(),
        )
        usage[(bic, day)] = ConversionUsage(int(row["used"]), row["daily"])
    return usage


# --- reads and the central bank's controls, outside any batch ------------------------------------------------


@outages_unavailable
class SqlConversions:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def conversion(self, conversion_id: UUID) -> ConversionRecord | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(
                select(conversions_table).where(conversions_table.c.id == conversion_id)
            )).one_or_none()
        return None if row is None else conversion_record(row)

    async def conversion_of_message(self, message_id: UUID) -> ConversionRecord | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(
                select(conversions_table).where(conversions_table.c.message_id == message_id)
            )).one_or_none()
        return None if row is None else conversion_record(row)

    async def unfinished(self, limit: int) -> list[ConversionRecord]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(conversions_table)
                .where(conversions_table.c.state.not_in([s.value for s in finished_states]))
                .order_by(conversions_table.c.created_at_us)
                .limit(limit)
            )
            return [conversion_record(row) for row in rows]

    async def in_states(self, states: Sequence[ConversionState]) -> list[ConversionRecord]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(conversions_table).where(conversions_table.c.state.in_([s.value for s in states]))
            )
            return [conversion_record(row) for row in rows]

    async def daily_limits(self) -> dict[str, int]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(limits_table.c.bank_bic, limits_table.c.daily_kopecks))
            return {row.bank_bic: row.daily_kopecks for row in rows}

    async def changes(self, limit: int) -> list[ControlChange]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(changes_table).order_by(changes_table.c.id.desc()).limit(limit))
            return [ControlChange(r.subject, r.previous_kopecks, r.new_kopecks, r.set_at_us, r.set_by) for r in rows]

    async def set_emission_cap(self, cap_kopecks: int, set_by: str, now_us: int) -> int:
        """Set the cap; returns the previous one. Under the head lock, so no mint can slip in between the check and
        the change. Raises CapBelowIssued when supply plus pending mints exceed the new cap."""
        assert type(cap_kopecks) is int and cap_kopecks > 0, cap_kopecks
        async with self.engine.begin() as connection:
            head = (await connection.execute(
                select(_head_table.c.emission_cap_kopecks).where(_head_table.c.id == 1).with_for_update()
            )).one()
            issuance = (await connection.execute(
                select(_accounts_table.c.posted_kopecks, _accounts_table.c.debits_pending_kopecks)
                .where(_accounts_table.c.kind == "issuance")
            )).one()
            issued = -issuance.posted_kopecks + issuance.debits_pending_kopecks
            if cap_kopecks < issued:
                raise CapBelowIssued(f"{cap_kopecks} kopecks is below the {issued} issued or pending")
            await connection.execute(
                update(_head_table).where(_head_table.c.id == 1).values(emission_cap_kopecks=cap_kopecks)
            )
            await connection.execute(insert(changes_table).values(
                subject=emission_cap_subject, previous_kopecks=head.emission_cap_kopecks, new_kopecks=cap_kopecks,
                set_at_us=now_us, set_by=set_by,
            ))
        return head.emission_cap_kopecks

    async def set_daily_limit(self, bic: str, daily_kopecks: int | None, set_by: str, now_us: int) -> int | None:
        """Set (or with None remove) a bank's daily conversion limit; returns the previous one. Takes the head lock
        too, so that a conversion checked under it sees either the old limit or the new one, never half."""
        assert daily_kopecks is None or (type(daily_kopecks) is int and daily_kopecks > 0), daily_kopecks
        async with self.engine.begin() as connection:
            await connection.execute(select(_head_table.c.id).where(_head_table.c.id == 1).with_for_update())
            previous = await connection.scalar(
                select(limits_table.c.daily_kopecks).where(limits_table.c.bank_bic == bic)
            )
            await connection.execute(delete(limits_table).where(limits_table.c.bank_bic == bic))
            if daily_kopecks is not None:
                await connection.execute(insert(limits_table).values(
                    bank_bic=bic, daily_kopecks=daily_kopecks, set_at_us=now_us, set_by=set_by
                ))
            await connection.execute(insert(changes_table).values(
                subject=daily_limit_subject(bic), previous_kopecks=previous, new_kopecks=daily_kopecks,
                set_at_us=now_us, set_by=set_by,
            ))
        return previous

