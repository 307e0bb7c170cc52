"""Business days on SQL (gateway.treasury.ports.BusinessDayStore). A day's boundary is fixed in one transaction that
first locks the ledger's head row, as every ledger batch does: no batch commits between the reading of the last
transfer before the cut-off and the recording of it."""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway_adapters.sql.models import BusinessDayRow, LedgerHeadRow, TransferRow
from gateway_adapters.sql.outages import outages_unavailable
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain.days import BusinessDay, DayState
from gateway.ledger.ports import DayAlreadyClosing

days_table = BusinessDayRow.__table__
head_table = LedgerHeadRow.__table__
transfers_table = TransferRow.__table__


@outages_unavailable
class SqlBusinessDays:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def day(self, business_date: date) -> BusinessDay | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(select(days_table).where(days_table.c.business_date == business_date.isoformat()))
            ).one_or_none()
        return None if row is None else _day(row)

    async def days(self, from_date: date, to_date: date) -> list[BusinessDay]:
        query = (
            select(days_table)
            .where(days_table.c.business_date >= from_date.isoformat(), days_table.c.business_date <= to_date.isoformat())
            .order_by(days_table.c.business_date)
        )
        async with self.engine.connect() as connection:
            return [_day(row) for row in await connection.execute(query)]

    async def latest(self) -> BusinessDay | None:
        query = select(days_table).order_by(days_table.c.business_date.desc()).limit(1)
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).one_or_none()
        return None if row is None else _day(row)

    async def first_date(self) -> date | None:
        async with self.engine.connect() as connection:
            first = await connection.scalar(select(func.min(days_table.c.business_date)))
        return None if first is None else date.fromisoformat(first)

    async def open_day(self, business_date: date, cutoff_at_us: int, first_seq: int, now_us: int) -> BusinessDay:
        try:
            async with self.engine.begin() as connection:
                await connection.execute(insert(days_table).values(
                    business_date=business_date.isoformat(), state=DayState.OPEN.value, cutoff_at_us=cutoff_at_us,
                    first_seq=first_seq, last_seq=None, opened_at_us=now_us, closed_at_us=None, closed_by=None,
                ))
        except IntegrityError:
            pass  # another process opened it first: the same day, as it recorded it
        day = await self.day(business_date)
        assert day is not None
        return day

    async def fix_boundary(self, business_date: date, closed_by: str, now_us: int) -> BusinessDay:
        key = business_date.isoformat()
        async with self.engine.begin() as connection:
            # The head lock first, as a ledger batch takes it: no batch commits while the boundary is read.
            await connection.execute(select(head_table.c.id).where(head_table.c.id == 1).with_for_update())
            row = (
                await connection.execute(select(days_table).where(days_table.c.business_date == key).with_for_update())
            ).one_or_none()
            if row is None or row.state != DayState.OPEN.value:
                raise DayAlreadyClosing(f"{key} is {'not recorded' if row is None else row.state}")
            last_seq = await connection.scalar(
                select(func.coalesce(func.max(transfers_table.c.seq), row.first_seq)).where(
                    transfers_table.c.seq > row.first_seq, transfers_table.c.created_at_us < row.cutoff_at_us
                )
            )
            await connection.execute(
                update(days_table)
                .where(days_table.c.business_date == key, days_table.c.state == DayState.OPEN.value)
                .values(state=DayState.CLOSING.value, last_seq=int(last_seq), closed_by=closed_by)
            )
        day = await self.day(business_date)
        assert day is not None and day.state is DayState.CLOSING
        return day

    async def mark_closed(self, business_date: date, now_us: int) -> BusinessDay:
        key = business_date.isoformat()
        async with self.engine.begin() as connection:
            await connection.execute(
                update(days_table)
                .where(days_table.c.business_date == key, days_table.c.state == DayState.CLOSING.value)
                .values(state=DayState.CLOSED.value, closed_at_us=now_us)
            )
        day = await self.day(business_date)
        assert day is not None and day.state is DayState.CLOSED, day
        return day


def _day(row: Any) -> BusinessDay:
    return BusinessDay(
        business_date=date.fromisoformat(row.business_date),
        state=DayState(row.state),
        cutoff_at_us=row.cutoff_at_us,
        first_seq=row.first_seq,
        last_seq=row.last_seq,
        opened_at_us=row.opened_at_us,
        closed_at_us=row.closed_at_us,
        closed_by=row.closed_by,
    )
