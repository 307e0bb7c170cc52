"""An embedded simulator of the central bank's fiat RTGS: the `Rtgs` port (gateway.conversion.ports) on its own
tables (./tables.py) in an SQL database, SQLite or PostgreSQL, through an engine from gateway_adapters.sql.engine.

Every port call is one database transaction: claim the request id, lock what the call changes, apply it, record the
outcome. A request has one outcome forever, refusals included: a reserve refused with INSUFFICIENT_FUNDS answers
INSUFFICIENT_FUNDS again when retried with its id after funds arrived, and a commit that found no hold stays
HOLD_NOT_FOUND; the caller asks again under a new request id. The same id with other content answers
REQUEST_CONFLICT and records nothing.

The camt.050's references (FiatReferences) are kept with a hold and with a credit's booking; a commit books with its
hold's, and statements give each booking's back. They are part of the request's content: the same id with other
references is REQUEST_CONFLICT. Tables from before the simulator kept references are evolved on open (tables.evolve);
their rows read as no references, and a request recorded then is matched on what it recorded (its id, account and
amount), so that a retry across the upgrade answers what it answered before.

Decisions the port leaves open:
- A commit of a hold already committed, under another request id, answers DONE and books nothing: the hold's money
  moved once, which is what the caller asks about.
- A hold commits even if an account was blocked after it was reserved: its money was set aside while it was open.
  Blocks stop new reserves and credits only.
- Reserving on, or crediting from the reserve to, the reserve account itself is a programmer error (ValueError).

Locking. SQLite: every transaction is BEGIN IMMEDIATE (make_engine), so writers run one at a time. PostgreSQL: READ
COMMITTED, and one lock order everywhere, so no deadlocks: the request id (its row, claimed with INSERT ... ON
CONFLICT DO NOTHING, which waits for a concurrent claim of the same id to commit), then the hold id (a transaction
advisory lock, since the hold may have no row yet, and its row FOR UPDATE), then accounts FOR UPDATE in sorted order.

Administration (open_account, set_blocked, accounts) is the simulator's own, not part of the port.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from gateway_adapters.rtgs.references import recorded
from gateway_adapters.rtgs.tables import (
    account_number_chars_max,
    accounts,
    bookings,
    evolve,
    holds,
    metadata,
    requests,
)
from gateway_adapters.sql.outages import is_transient
from gateway_adapters.sql.store import now_us
from sqlalchemy import BigInteger, case, cast, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway import bounds
from gateway.conversion.ports import (
    FiatBalance,
    FiatDirection,
    FiatEntry,
    FiatReferences,
    FiatStatement,
    RtgsOutcome,
    RtgsUnavailable,
)

moscow = timezone(timedelta(hours=3), "MSK")  # business days are Moscow days: UTC+3 all year since 2014
opening_account = "OPENING"  # the pseudo-account opening balances are booked from; it has no row
_epoch = datetime(1970, 1, 1, tzinfo=UTC)
_opening_request_ids = uuid.UUID("6f1c3a52-8d0e-4b7a-9c55-2e4f0a1d7b93")  # uuid5 namespace: one id per account

Row = Any  # a SQLAlchemy Row of one of the simulator's tables


class RtgsSimulator:
    """Implements gateway.conversion.ports.Rtgs. Build it with `open`."""

    def __init__(self, engine: AsyncEngine, reserve_account: str, clock_us: Callable[[], int]) -> None:
        self._engine = engine
        self._reserve_account = reserve_account
        self._clock_us = clock_us
        self._postgres = engine.dialect.name == "postgresql"

    @classmethod
    async def open(
        cls,
        engine: AsyncEngine,
        reserve_account: str,
        reserve_owner_bic: str,
        clock_us: Callable[[], int] = now_us,
        reserve_opening_kopecks: int = 0,
    ) -> RtgsSimulator:
        """Create the simulator's tables if missing and the reserve account if missing, opening with
        `reserve_opening_kopecks` (a simulator joining a ledger that already issued opens with what it holds)."""
        simulator = cls(engine, reserve_account, clock_us)
        async with simulator._transaction() as connection:
            if simulator._postgres:
                # Several gateway workers may open one empty database at once: one creates, the others then see.
                await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('rtgs simulator tables'))"))
            await connection.run_sync(_create_or_evolve)
        await simulator.open_account(reserve_account, reserve_owner_bic, reserve_opening_kopecks)
        return simulator

    # --- administration --------------------------------------------------------------------------------------------

    async def open_account(self, number: str, owner_bic: str, opening_kopecks: int) -> bool:
        """Create the account unless it exists, its opening balance booked from OPENING so that statements explain
        it. Returns whether it created the account; an existing account is left as it is."""
        _check_account_number(number)
        if len(owner_bic) not in (8, 11):
            raise ValueError(f"owner BIC {owner_bic!r} is not 8 or 11 characters")
        if type(opening_kopecks) is not int or not 0 <= opening_kopecks <= bounds.transfer_amount_kopecks_max:
            raise ValueError(f"opening balance {opening_kopecks!r} is not whole kopecks in range")
        async with self._transaction() as connection:
            now = self._clock_us()
            row = {"number": number, "owner_bic": owner_bic, "booked_kopecks": opening_kopecks, "held_kopecks": 0,
                   "blocked": False, "created_at_us": now}
            inserted = self._insert(accounts).values(row).on_conflict_do_nothing(index_elements=["number"])
            if (await connection.execute(inserted.returning(accounts.c.number))).first() is None:
                return False
            if opening_kopecks > 0:
                opening_request_id = uuid.uuid5(_opening_request_ids, number)
                await self._book(connection, opening_request_id, opening_account, number, opening_kopecks,
                                 "opening balance", now)
            return True

    async def set_blocked(self, number: str, blocked: bool) -> bool:
        """Block or unblock an account; False if there is no such account."""
        async with self._transaction() as connection:
            changed = update(accounts).where(accounts.c.number == number).values(blocked=blocked)
            return (await connection.execute(changed.returning(accounts.c.number))).first() is not None

    async def accounts(self) -> list[FiatBalance]:
        """Every account's balances, by number, for operators."""
        async with self._transaction() as connection:
            rows = (await connection.execute(select(accounts).order_by(accounts.c.number))).all()
        return [_balance(row) for row in rows]

    # --- the port --------------------------------------------------------------------------------------------------

    @property
    def reserve_account(self) -> str:
        return self._reserve_account

    async def balance(self, account: str) -> FiatBalance | None:
        async with self._transaction() as connection:
            row = (await connection.execute(select(accounts).where(accounts.c.number == account))).first()
        return None if row is None else _balance(row)

    async def reserve(
        self, hold_id: uuid.UUID, account: str, amount_kopecks: int, references: FiatReferences
    ) -> RtgsOutcome:
        _check_amount(amount_kopecks)
        self._check_bank_account(account)
        references = recorded(references)
        async with self._transaction() as connection:
            arguments = (hold_id, account, amount_kopecks)
            content = (*arguments, *_content(references))
            earlier = await self._claim(connection, hold_id, "reserve", content, arguments)
            if earlier is not None:
                return earlier
            hold = await self._lock_hold(connection, hold_id)
            if hold is not None:
                # Only a release mark can be here: a hold reserved under this id would have claimed the request id.
                assert hold.state == "released", hold
                assert hold.account is None, hold
                return await self._record(connection, hold_id, RtgsOutcome.HOLD_RELEASED)
            row = (await self._lock_accounts(connection, account)).get(account)
            if row is None:
                return await self._record(connection, hold_id, RtgsOutcome.UNKNOWN_ACCOUNT)
            if row.blocked:
                return await self._record(connection, hold_id, RtgsOutcome.ACCOUNT_BLOCKED)
            if row.booked_kopecks - row.held_kopecks < amount_kopecks:
                return await self._record(connection, hold_id, RtgsOutcome.INSUFFICIENT_FUNDS)
            await self._set_balance(connection, account, row.booked_kopecks, row.held_kopecks + amount_kopecks)
            await connection.execute(holds.insert().values(
                id=hold_id, account=account, amount_kopecks=amount_kopecks, state="held",
                created_at_us=self._clock_us(), resolved_at_us=None, **_columns(references),
            ))
            return await self._record(connection, hold_id, RtgsOutcome.DONE)

    async def commit(self, request_id: uuid.UUID, hold_id: uuid.UUID) -> RtgsOutcome:
        async with self._transaction() as connection:
            earlier = await self._claim(connection, request_id, "commit", (hold_id,))
            if earlier is not None:
                return earlier
            hold = await self._lock_hold(connection, hold_id)
            if hold is None:
                return await self._record(connection, request_id, RtgsOutcome.HOLD_NOT_FOUND)
            if hold.state == "released":
                return await self._record(connection, request_id, RtgsOutcome.HOLD_RELEASED)
            if hold.state == "committed":  # booked once, by the request that committed it
                return await self._record(connection, request_id, RtgsOutcome.DONE)
            assert hold.state == "held", hold
            rows = await self._lock_accounts(connection, hold.account, self._reserve_account)
            bank, reserve = rows[hold.account], rows[self._reserve_account]
            now = self._clock_us()
            await self._set_balance(connection, bank.number, bank.booked_kopecks - hold.amount_kopecks,
                                    bank.held_kopecks - hold.amount_kopecks)
            await self._set_balance(connection, reserve.number, reserve.booked_kopecks + hold.amount_kopecks,
                                    reserve.held_kopecks)
            await self._book(connection, request_id, bank.number, reserve.number, hold.amount_kopecks,
                             f"conversion hold {hold_id}", now, _references(hold))
            await self._end_hold(connection, hold_id, "committed", now)
            return await self._record(connection, request_id, RtgsOutcome.DONE)

    async def release(self, request_id: uuid.UUID, hold_id: uuid.UUID) -> RtgsOutcome:
        async with self._transaction() as connection:
            earlier = await self._claim(connection, request_id, "release", (hold_id,))
            if earlier is not None:
                return earlier
            hold = await self._lock_hold(connection, hold_id)
            now = self._clock_us()
            if hold is None:  # the mark that turns away a reserve with this id arriving later
                await connection.execute(holds.insert().values(
                    id=hold_id, account=None, amount_kopecks=0, state="released", created_at_us=now,
                    resolved_at_us=now,
                ))
                return await self._record(connection, request_id, RtgsOutcome.DONE)
            if hold.state == "committed":
                return await self._record(connection, request_id, RtgsOutcome.HOLD_COMMITTED)
            if hold.state == "released":
                return await self._record(connection, request_id, RtgsOutcome.DONE)
            assert hold.state == "held", hold
            bank = (await self._lock_accounts(connection, hold.account))[hold.account]
            await self._set_balance(connection, bank.number, bank.booked_kopecks,
                                    bank.held_kopecks - hold.amount_kopecks)
            await self._end_hold(connection, hold_id, "released", now)
            return await self._record(connection, request_id, RtgsOutcome.DONE)

    async def credit_from_reserve(
        self, request_id: uuid.UUID, account: str, amount_kopecks: int, references: FiatReferences
    ) -> RtgsOutcome:
        _check_amount(amount_kopecks)
        self._check_bank_account(account)
        references = recorded(references)
        async with self._transaction() as connection:
            arguments = (account, amount_kopecks)
            content = (*arguments, *_content(references))
            earlier = await self._claim(connection, request_id, "credit", content, arguments)
            if earlier is not None:
                return earlier
            rows = await self._lock_accounts(connection, account, self._reserve_account)
            bank, reserve = rows.get(account), rows[self._reserve_account]
            if bank is None:
                return await self._record(connection, request_id, RtgsOutcome.UNKNOWN_ACCOUNT)
            if bank.blocked or reserve.blocked:
                return await self._record(connection, request_id, RtgsOutcome.ACCOUNT_BLOCKED)
            if reserve.booked_kopecks - reserve.held_kopecks < amount_kopecks:
                return await self._record(connection, request_id, RtgsOutcome.INSUFFICIENT_FUNDS)
            await self._set_balance(connection, reserve.number, reserve.booked_kopecks - amount_kopecks,
                                    reserve.held_kopecks)
            await self._set_balance(connection, bank.number, bank.booked_kopecks + amount_kopecks, bank.held_kopecks)
            await self._book(connection, request_id, reserve.number, bank.number, amount_kopecks,
                             f"conversion {request_id}", self._clock_us(), references)
            return await self._record(connection, request_id, RtgsOutcome.DONE)

    async def statement(self, account: str, from_date: date, to_date: date) -> FiatStatement | None:
        if to_date < from_date:
            raise ValueError(f"statement period {from_date}..{to_date} ends before it begins")
        if (to_date - from_date).days + 1 > bounds.rtgs_statement_days_max:
            raise ValueError(f"statement period {from_date}..{to_date} is over {bounds.rtgs_statement_days_max} days")
        start_us, end_us = _day_start_us(from_date), _day_start_us(to_date + timedelta(days=1))
        on_account = or_(bookings.c.debit_account == account, bookings.c.credit_account == account)
        signed = case((bookings.c.credit_account == account, bookings.c.amount_kopecks),
                      else_=-bookings.c.amount_kopecks)
        async with self._transaction(snapshot=True) as connection:
            known = await connection.execute(select(accounts.c.number).where(accounts.c.number == account))
            if known.first() is None:
                return None
            # SUM of a bigint is numeric on PostgreSQL: cast it back so that kopecks stay int.
            opening_query = select(cast(func.coalesce(func.sum(signed), 0), BigInteger)).where(
                on_account, bookings.c.booked_at_us < start_us)
            opening_kopecks = (await connection.execute(opening_query)).scalar_one()
            rows = (await connection.execute(
                select(bookings)
                .where(on_account, bookings.c.booked_at_us >= start_us, bookings.c.booked_at_us < end_us)
                .order_by(bookings.c.id)
            )).all()
        entries = tuple(_entry(account, row) for row in rows)
        net = sum(e.kopecks if e.direction is FiatDirection.CREDIT else -e.kopecks for e in entries)
        return FiatStatement(account, from_date, to_date, opening_kopecks, opening_kopecks + net, entries)

    # --- inside one transaction ------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _transaction(self, snapshot: bool = False) -> AsyncIterator[AsyncConnection]:
        """One transaction, committed when the block ends normally. Database failures worth retrying, and a pool
        with no free connection in time, surface as RtgsUnavailable: the caller cannot know the outcome."""
        try:
            async with self._engine.connect() as connection:
                if self._postgres:
                    # Writes lock what they change; a statement reads its opening and entries from one snapshot.
                    isolation_level = "REPEATABLE READ" if snapshot else "READ COMMITTED"
                    await connection.execution_options(isolation_level=isolation_level)
                async with connection.begin():
                    yield connection
        except Exception as error:
            if is_transient(error) or isinstance(error, PoolTimeout):
                raise RtgsUnavailable(f"the RTGS simulator's database failed: {error}") from error
            raise

    def _insert(self, table: Any) -> Any:
        return postgres_insert(table) if self._postgres else sqlite_insert(table)

    async def _claim(
        self,
        connection: AsyncConnection,
        request_id: uuid.UUID,
        operation: str,
        arguments: tuple[object, ...],
        arguments_before_references: tuple[object, ...] | None = None,
    ) -> RtgsOutcome | None:
        """Claim the request id for this call (None), or answer what the earlier call with that id answered.
        `arguments_before_references`: what a request of this operation recorded before the simulator kept
        references; an earlier request recorded so is this one if those agree (it cannot have recorded more)."""
        fingerprint = _fingerprint(operation, arguments)
        claim = self._insert(requests).values(
            request_id=request_id, operation=operation, fingerprint=fingerprint, outcome=None,
            created_at_us=self._clock_us(),
        ).on_conflict_do_nothing(index_elements=["request_id"])
        if (await connection.execute(claim.returning(requests.c.request_id))).first() is not None:
            return None
        earlier = (await connection.execute(select(requests).where(requests.c.request_id == request_id))).one()
        recorded_before = None if arguments_before_references is None else _fingerprint(
            operation, arguments_before_references)
        if bytes(earlier.fingerprint) not in (fingerprint, recorded_before):
            return RtgsOutcome.REQUEST_CONFLICT
        assert earlier.outcome is not None, "a committed request has its outcome"
        return RtgsOutcome(earlier.outcome)

    async def _record(self, connection: AsyncConnection, request_id: uuid.UUID, outcome: RtgsOutcome) -> RtgsOutcome:
        recorded = update(requests).where(requests.c.request_id == request_id).values(outcome=outcome.value)
        assert (await connection.execute(recorded)).rowcount == 1, "the request was claimed in this transaction"
        return outcome

    async def _lock_hold(self, connection: AsyncConnection, hold_id: uuid.UUID) -> Row | None:
        if self._postgres:  # also serialises calls on a hold id that has no row yet
            key = int.from_bytes(hold_id.bytes[:8], "big", signed=True)
            await connection.execute(select(func.pg_advisory_xact_lock(key)))
        return (await connection.execute(select(holds).where(holds.c.id == hold_id).with_for_update())).first()

    async def _lock_accounts(self, connection: AsyncConnection, *numbers: str) -> dict[str, Row]:
        """Lock the accounts that exist among `numbers`, one at a time in sorted order (no deadlocks)."""
        rows = {}
        for number in sorted(set(numbers)):
            locked = select(accounts).where(accounts.c.number == number).with_for_update()
            row = (await connection.execute(locked)).first()
            if row is not None:
                rows[number] = row
        return rows

    async def _set_balance(
        self, connection: AsyncConnection, number: str, booked_kopecks: int, held_kopecks: int
    ) -> None:
        assert held_kopecks >= 0, (number, held_kopecks)
        assert booked_kopecks >= held_kopecks, (number, booked_kopecks, held_kopecks)
        changed = update(accounts).where(accounts.c.number == number).values(
            booked_kopecks=booked_kopecks, held_kopecks=held_kopecks)
        assert (await connection.execute(changed)).rowcount == 1, number

    async def _book(
        self, connection: AsyncConnection, request_id: uuid.UUID, debit_account: str, credit_account: str,
        amount_kopecks: int, reference: str, booked_at_us: int, references: FiatReferences | None = None,
    ) -> None:
        assert amount_kopecks > 0, amount_kopecks
        assert debit_account != credit_account, debit_account
        assert len(reference) <= bounds.reference_chars_max, reference
        await connection.execute(bookings.insert().values(
            request_id=request_id, debit_account=debit_account, credit_account=credit_account,
            amount_kopecks=amount_kopecks, booked_at_us=booked_at_us, reference=reference, **_columns(references),
        ))

    async def _end_hold(self, connection: AsyncConnection, hold_id: uuid.UUID, state: str, now: int) -> None:
        ended = update(holds).where(holds.c.id == hold_id, holds.c.state == "held").values(
            state=state, resolved_at_us=now)
        assert (await connection.execute(ended)).rowcount == 1, hold_id

    def _check_bank_account(self, account: str) -> None:
        if account == self._reserve_account:
            raise ValueError("the reserve account is not a bank's account")


def _check_amount(amount_kopecks: object) -> None:
    if type(amount_kopecks) is not int:  # not a bool, a float or a Decimal: the caller converted to kopecks
        raise ValueError(f"amount {amount_kopecks!r} is not whole kopecks")
    if not 0 < amount_kopecks <= bounds.transfer_amount_kopecks_max:
        raise ValueError(f"amount {amount_kopecks} kopecks is out of range")


def _check_account_number(number: str) -> None:
    if not 0 < len(number) <= account_number_chars_max or number == opening_account:
        raise ValueError(f"account number {number!r} is not usable")


def _fingerprint(operation: str, arguments: tuple[object, ...]) -> bytes:
    # The unit separator cannot occur in a UUID, an account number, an int or a reference (XML cannot carry it), and
    # None is the empty string, which no reference is (Max35Text is at least one character): no two lists collide.
    # A list without None hashes as before references were kept, which is what lets older requests still match.
    texts = ["" if argument is None else str(argument) for argument in arguments]
    return hashlib.sha256("\x1f".join([operation, *texts]).encode()).digest()


def _content(references: FiatReferences) -> tuple[object, ...]:
    """The references as part of a request's content, for its fingerprint."""
    return (references.message_id, references.end_to_end_id, references.transaction_id, references.uetr)


def _columns(references: FiatReferences | None) -> dict[str, object]:
    """The references as a hold's or a booking's columns (tables._camt_050_references)."""
    if references is None:
        return {"message_id": None, "end_to_end_id": None, "transaction_id": None, "uetr": None}
    assert references.end_to_end_id is not None, "recorded references have an EndToEndId, NOTPROVIDED at least"
    return {"message_id": references.message_id, "end_to_end_id": references.end_to_end_id,
            "transaction_id": references.transaction_id, "uetr": references.uetr}  # fmt: skip


def _references(row: Row) -> FiatReferences | None:
    """A hold's or a booking's references, as read back: None for a row no camt.050 caused, or from before."""
    if row.message_id is None:
        assert (row.end_to_end_id, row.transaction_id, row.uetr) == (None, None, None), row
        return None
    assert row.end_to_end_id is not None, row
    return FiatReferences(row.message_id, row.end_to_end_id, row.transaction_id, row.uetr)


def _create_or_evolve(connection: Connection) -> None:
    metadata.create_all(connection, checkfirst=True)
    evolve(connection)


def _balance(row: Row) -> FiatBalance:
    return FiatBalance(row.number, row.booked_kopecks, row.held_kopecks)


def _entry(account: str, row: Row) -> FiatEntry:
    credited = row.credit_account == account
    return FiatEntry(
        entry_id=row.id,
        request_id=row.request_id,
        kopecks=row.amount_kopecks,
        direction=FiatDirection.CREDIT if credited else FiatDirection.DEBIT,
        counter_account=row.debit_account if credited else row.credit_account,
        booked_at=(_epoch + timedelta(microseconds=row.booked_at_us)).astimezone(moscow),
        reference=row.reference,
        references=_references(row),
    )


def _day_start_us(day: date) -> int:
    return (datetime.combine(day, time(), tzinfo=moscow) - _epoch) // timedelta(microseconds=1)
