"""The ledger and registry stores on SQL: SQLite (embedded default) and PostgreSQL.

Registry changes and audit reads go through SQLAlchemy on both databases. The batch transaction, the settlement hot
path, has one implementation per database: SQLAlchemy Core on SQLite, and asyncpg with COPY on PostgreSQL, because
COPY is several times faster than multi-row INSERT there.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from gateway_adapters.sql import conversions, journal
from gateway_adapters.sql.engine import is_postgres, make_engine, postgres_session_settings
from gateway_adapters.sql.models import (
    AccountRow,
    ChainSignatureRow,
    LedgerHeadRow,
    ParticipantRow,
    PendingTransferRow,
    TransferRow,
    standard_uuid,
)
from gateway_adapters.sql.outages import outages_unavailable, transient_asyncpg_errors
from gateway_adapters.sql.unnest import columns_of, unnest_insert
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway import bounds
from gateway.config import Limits
from gateway.domain.batch import BatchPlan
from gateway.domain.conversion import ConversionUsage
from gateway.domain.journal import JournalRows, PaymentState
from gateway.domain.ledger import (
    Account,
    AccountKind,
    AccountStatus,
    ChainHead,
    PendingStatus,
    PendingTransfer,
    Phase,
    Transfer,
    TransferKind,
    genesis_hash,
)
from gateway.ledger.ports import (
    ChainSignature,
    DuplicateTransferId,
    LedgerTransaction,
    NewAccount,
    Participant,
    StorageUnavailable,
)

accounts_table = AccountRow.__table__
transfers_table = TransferRow.__table__
pending_table = PendingTransferRow.__table__
head_table = LedgerHeadRow.__table__
signatures_table = ChainSignatureRow.__table__
participants_table = ParticipantRow.__table__



def now_us() -> int:
    return time.time_ns() // 1_000


@outages_unavailable
class SqlStore:
    """Implements LedgerStore and RegistryStore (gateway.ledger.ports) on one database."""

    def __init__(self, engine: AsyncEngine, pg_pool: asyncpg.Pool | None, checkout_timeout_seconds: float) -> None:
        self.engine = engine
        self._pg_pool = pg_pool
        self._checkout_timeout_seconds = checkout_timeout_seconds

    @classmethod
    async def open(cls, url: str, limits: Limits) -> SqlStore:
        """The engine (gateway_adapters.sql.engine) and, on PostgreSQL, the batch transactions' own asyncpg pool,
        bounded the same way: connecting, checking a connection out (asyncpg waits forever by default), and each
        statement."""
        engine = make_engine(url, limits)
        pg_pool = None
        if is_postgres(url):
            pg_pool = await asyncpg.create_pool(
                url.replace("postgresql+asyncpg://", "postgresql://", 1),
                min_size=1,
                max_size=limits.db_pool_connections_max,
                timeout=limits.db_connect_timeout_ms / 1000,
                command_timeout=limits.db_statement_timeout_ms / 1000,
                server_settings=postgres_session_settings(limits, "cryptoruble-gateway-ledger"),
                reset=_ledger_connection_reset,
            )
        return cls(engine, pg_pool, limits.db_checkout_timeout_ms / 1000)

    async def close(self) -> None:
        if self._pg_pool is not None:
            await self._pg_pool.close()
        await self.engine.dispose()

    # --- the batch transaction -------------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[LedgerTransaction]:
        if self._pg_pool is not None:
            try:
                # The checkout timeout also bounds the connection's return to the pool (asyncpg uses it for both).
                checkout = self._pg_pool.acquire(timeout=self._checkout_timeout_seconds)
                async with checkout as connection, connection.transaction():
                    yield _PostgresTransaction(connection)
            except (OSError, TimeoutError, *transient_asyncpg_errors) as error:
                raise StorageUnavailable(str(error)) from error
        else:
            try:
                async with self.engine.begin() as connection:
                    yield _SqlAlchemyTransaction(connection)
            except OperationalError as error:
                raise StorageUnavailable(str(error.orig)) from error

    async def expired_pending_ids(self, now_us: int, limit: int) -> list[UUID]:
        query = (
            select(pending_table.c.id)
            .where(pending_table.c.status == PendingStatus.PENDING.value, pending_table.c.expires_at_us <= now_us)
            .order_by(pending_table.c.expires_at_us)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            return [standard_uuid(row.id) for row in await connection.execute(query)]

    # --- audit and reporting reads ---------------------------------------------------------------------------

    async def head(self) -> ChainHead:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(head_table).where(head_table.c.id == 1))).one_or_none()
        if row is None:
            raise LookupError("the ledger has no head row: run `gateway db upgrade`")
        return _head(row)

    async def accounts(self) -> list[Account]:
        async with self.engine.connect() as connection:
            return [_account(row) for row in await connection.execute(select(accounts_table).order_by("id"))]

    async def transfers_in_order(self, after_seq: int = 0, chunk: int = 10_000) -> AsyncIterator[Transfer]:
        while True:
            query = select(transfers_table).where(transfers_table.c.seq > after_seq).order_by("seq").limit(chunk)
            async with self.engine.connect() as connection:
                rows = (await connection.execute(query)).all()
            for row in rows:
                yield _transfer(row)
            if len(rows) < chunk:
                return
            after_seq = rows[-1].seq

    async def signatures(self) -> list[ChainSignature]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(signatures_table).order_by("seq"))
            return [ChainSignature(r.seq, bytes(r.hash), bytes(r.signature), r.key_id, r.signed_at_us) for r in rows]

    async def pending_transfers(self) -> list[PendingTransfer]:
        async with self.engine.connect() as connection:
            return [_pending(row) for row in await connection.execute(select(pending_table))]

    async def transfer_count(self) -> int:
        async with self.engine.connect() as connection:
            return (await connection.execute(select(func.count()).select_from(transfers_table))).scalar_one()

    # --- registry --------------------------------------------------------------------------------------------

    async def participants(self) -> list[Participant]:
        async with self.engine.connect() as connection:
            # The central bank first, then banks by BIC.
            rows = await connection.execute(select(participants_table).order_by(participants_table.c.role.desc(), "bic"))
            return [
                Participant(r.bic, r.name, r.role, r.clearing_code, r.rtgs_account, AccountStatus(r.status))
                for r in rows
            ]

    async def add_participant(self, participant: Participant, accounts: Sequence[NewAccount]) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(participants_table).values(
                    bic=participant.bic,
                    name=participant.name,
                    role=participant.role,
                    clearing_code=participant.clearing_code,
                    rtgs_account=participant.rtgs_account,
                    status=participant.status.value,
                    created_at_us=now_us(),
                )
            )
            await _insert_accounts(connection, accounts)

    async def add_accounts(self, accounts: Sequence[NewAccount]) -> None:
        async with self.engine.begin() as connection:
            await _insert_accounts(connection, accounts)

    async def set_participant_status(self, bic: str, status: AccountStatus) -> bool:
        """Suspending a participant suspends all its accounts at once, so no batch can see one without the other."""
        async with self.engine.begin() as connection:
            changed = await connection.execute(
                update(participants_table).where(participants_table.c.bic == bic).values(status=status.value)
            )
            if changed.rowcount == 0:
                return False
            await connection.execute(
                update(accounts_table).where(accounts_table.c.owner_bic == bic).values(status=status.value)
            )
            await _bump_accounts_version(connection)
            return True

    async def ensure_head(self, emission_cap_kopecks: int) -> None:
        async with self.engine.begin() as connection:
            exists = (await connection.execute(select(head_table.c.id).where(head_table.c.id == 1))).first()
            if exists is None:
                await connection.execute(
                    insert(head_table).values(
                        id=1,
                        seq=0,
                        hash=genesis_hash,
                        created_at_us=0,
                        accounts_version=0,
                        emission_cap_kopecks=emission_cap_kopecks,
                    )
                )


async def _insert_accounts(connection: AsyncConnection, accounts: Sequence[NewAccount]) -> None:
    if not accounts:
        return
    await connection.execute(
        insert(accounts_table),
        [
            {
                "code": a.code,
                "kind": a.kind.value,
                "owner_bic": a.owner_bic,
                "status": AccountStatus.ACTIVE.value,
                "transfer_max_kopecks": a.transfer_max_kopecks,
                "balance_max_kopecks": a.balance_max_kopecks,
                "posted_kopecks": 0,
                "debits_pending_kopecks": 0,
                "credits_pending_kopecks": 0,
            }
            for a in accounts
        ],
    )
    await _bump_accounts_version(connection)


async def _bump_accounts_version(connection: AsyncConnection) -> None:
    # Every batcher caches accounts between batches; this counter on the locked head row tells it to reload.
    await connection.execute(
        update(head_table).where(head_table.c.id == 1).values(accounts_version=head_table.c.accounts_version + 1)
    )


class _SqlAlchemyTransaction:
    """A batch transaction through SQLAlchemy Core: the SQLite path (BEGIN IMMEDIATE already holds the write lock)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def lock_head(self) -> ChainHead:
        row = (await self.connection.execute(select(head_table).where(head_table.c.id == 1))).one_or_none()
        if row is None:
            raise LookupError("the ledger has no head row: run `gateway db upgrade`")
        return _head(row)

    async def load_accounts(self) -> list[Account]:
        return [_account(row) for row in await self.connection.execute(select(accounts_table))]

    async def load_transfers(self, ids: Sequence[UUID]) -> list[Transfer]:
        found: list[Transfer] = []
        for chunk in _chunks(ids):
            rows = await self.connection.execute(select(transfers_table).where(transfers_table.c.id.in_(chunk)))
            found.extend(_transfer(row) for row in rows)
        return found

    async def load_pending(self, ids: Sequence[UUID]) -> list[PendingTransfer]:
        found: list[PendingTransfer] = []
        for chunk in _chunks(ids):
            rows = await self.connection.execute(select(pending_table).where(pending_table.c.id.in_(chunk)))
            found.extend(_pending(row) for row in rows)
        return found

    async def write_batch(self, plan: BatchPlan, signature: ChainSignature) -> None:
        if plan.transfers:
            try:
                await self.connection.execute(
                    insert(transfers_table),
                    [t._asdict() for t in plan.transfers],
                )
            except IntegrityError as error:
                if "transfers.id" in str(error.orig):
                    raise DuplicateTransferId(str(error.orig)) from error
                raise
        if plan.accounts:
            await self.connection.execute(
                update(accounts_table)
                .where(accounts_table.c.id == bindparam("account_id"))
                .values(
                    posted_kopecks=bindparam("posted"),
                    debits_pending_kopecks=bindparam("debits_pending"),
                    credits_pending_kopecks=bindparam("credits_pending"),
                ),
                [
                    {
                        "account_id": a.id,
                        "posted": a.posted_kopecks,
                        "debits_pending": a.debits_pending_kopecks,
                        "credits_pending": a.credits_pending_kopecks,
                    }
                    for a in plan.accounts
                ],
            )
        if plan.pending_created:
            await self.connection.execute(insert(pending_table), [_pending_record(p) for p in plan.pending_created])
        if plan.pending_resolved:
            await self.connection.execute(
                update(pending_table).where(pending_table.c.id == bindparam("pending")).values(status=bindparam("to")),
                [{"pending": pid, "to": status.value} for pid, status in plan.pending_resolved],
            )
        await self.connection.execute(
            update(head_table)
            .where(head_table.c.id == 1)
            .values(seq=plan.head.seq, hash=plan.head.hash, created_at_us=plan.head.created_at_us)
        )
        await self.connection.execute(insert(signatures_table).values(**_signature_record(signature)))

    async def taken_claims(self, keys: Sequence[str]) -> set[str]:
        return await journal.sqlalchemy_taken_claims(self.connection, keys)

    async def payment_states(self, ids: Sequence[UUID]) -> dict[UUID, PaymentState]:
        return await journal.sqlalchemy_payment_states(self.connection, ids)

    async def conversion_usage(self, keys: Sequence[tuple[str, date]]) -> dict[tuple[str, date], ConversionUsage]:
        return await conversions.sqlalchemy_usage(self.connection, keys)

    async def write_journal(self, rows: Sequence[JournalRows], now_us: int) -> None:
        await journal.sqlalchemy_write_journal(self.connection, rows, now_us)


# A batch's ledger rows in one statement. Every statement under the head lock is a round trip, and each one waits
# behind whatever else the event loop has to do (other requests being parsed), holding up every batch of every
# gateway process meanwhile: so the transfers go in with the balances, the head and its signature, from one array
# per column (a Transfer is a tuple in the table's column order).
_batch_write = (
    "WITH balances AS ("
    "  UPDATE accounts AS a SET posted_kopecks = v.posted, debits_pending_kopecks = v.debits_pending,"
    "  credits_pending_kopecks = v.credits_pending"
    "  FROM unnest($7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])"
    "  AS v(id, posted, debits_pending, credits_pending) WHERE a.id = v.id RETURNING a.id),"
    " moved AS (UPDATE ledger_head SET seq = $1, hash = $2, created_at_us = $3 WHERE id = 1 RETURNING id),"
    " signed AS (INSERT INTO chain_signatures (seq, hash, signature, key_id, signed_at_us)"
    "  SELECT $1, $2, $4, $5, $6 FROM moved RETURNING seq) "
    + unnest_insert(transfers_table, Transfer._fields, first_parameter=11)
)


class _PostgresTransaction:
    """A batch transaction on one asyncpg connection: COPY for transfers, one statement per other table."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def lock_head(self) -> ChainHead:
        # The row lock is held to commit: a second gateway process waits here, never interleaves.
        row = await self.connection.fetchrow(
            "SELECT seq, hash, created_at_us, accounts_version, emission_cap_kopecks"
            " FROM ledger_head WHERE id = 1 FOR UPDATE"
        )
        if row is None:
            raise LookupError("the ledger has no head row: run `gateway db upgrade`")
        return _head(row)

    async def load_accounts(self) -> list[Account]:
        return [_account(row) for row in await self.connection.fetch("SELECT * FROM accounts")]

    async def load_transfers(self, ids: Sequence[UUID]) -> list[Transfer]:
        # A join with unnest, not `id = ANY($1)`: see pg_taken_claims in adapters/sql/journal.py.
        rows = await self.connection.fetch(
            "SELECT t.* FROM unnest($1::uuid[]) AS wanted(id) JOIN transfers AS t ON t.id = wanted.id", list(ids)
        )
        return [_transfer(row) for row in rows]

    async def load_pending(self, ids: Sequence[UUID]) -> list[PendingTransfer]:
        rows = await self.connection.fetch(
            "SELECT p.* FROM unnest($1::uuid[]) AS wanted(id) JOIN pending_transfers AS p ON p.id = wanted.id",
            list(ids),
        )
        return [_pending(row) for row in rows]

    async def write_batch(self, plan: BatchPlan, signature: ChainSignature) -> None:
        # The transfers, the new balances, the new head and its signature: one statement, one round trip under
        # the head lock (see _batch_write). The transfers go first: a replayed id is caught by transfers_id_key
        # (DuplicateTransferId, and the batch is planned again), before a pending transfer's row could repeat it.
        try:
            await self.connection.execute(
                _batch_write,
                plan.head.seq,
                plan.head.hash,
                plan.head.created_at_us,
                signature.signature,
                signature.key_id,
                signature.signed_at_us,
                [a.id for a in plan.accounts],
                [a.posted_kopecks for a in plan.accounts],
                [a.debits_pending_kopecks for a in plan.accounts],
                [a.credits_pending_kopecks for a in plan.accounts],
                *columns_of(plan.transfers, len(Transfer._fields)),
            )
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name == "transfers_id_key":
                raise DuplicateTransferId(str(error)) from error
            raise
        if plan.pending_created:
            await self.connection.copy_records_to_table(
                "pending_transfers",
                records=[tuple(_pending_record(p).values()) for p in plan.pending_created],
                columns=tuple(_pending_record(plan.pending_created[0]).keys()),
            )
        if plan.pending_resolved:
            await self.connection.execute(
                "UPDATE pending_transfers AS p SET status = v.status"
                " FROM unnest($1::uuid[], $2::text[]) AS v(id, status) WHERE p.id = v.id",
                [pid for pid, _ in plan.pending_resolved],
                [status.value for _, status in plan.pending_resolved],
            )

    async def taken_claims(self, keys: Sequence[str]) -> set[str]:
        return await journal.pg_taken_claims(self.connection, keys)

    async def payment_states(self, ids: Sequence[UUID]) -> dict[UUID, PaymentState]:
        return await journal.pg_payment_states(self.connection, ids)

    async def conversion_usage(self, keys: Sequence[tuple[str, date]]) -> dict[tuple[str, date], ConversionUsage]:
        return await conversions.pg_usage(self.connection, keys)

    async def write_journal(self, rows: Sequence[JournalRows], now_us: int) -> None:
        await journal.pg_write_journal(self.connection, rows, now_us)


async def _ledger_connection_reset(connection: asyncpg.Connection) -> None:
    """What a ledger connection needs before reuse: nothing. Its only use is one batch transaction, which ends in
    COMMIT or ROLLBACK, and it never takes advisory locks, LISTENs, declares cursors or SETs session state, which
    asyncpg's default reset query undoes at the cost of a round trip per batch."""
    assert not connection.is_in_transaction(), "a ledger connection went back to the pool inside a transaction"


def _chunks(ids: Sequence[UUID]) -> list[Sequence[UUID]]:
    return [ids[i : i + bounds.sqlite_ids_per_query_max] for i in range(0, len(ids), bounds.sqlite_ids_per_query_max)]


def _optional_uuid(value: Any) -> UUID | None:
    return None if value is None else standard_uuid(value)


def _pending_record(p: PendingTransfer) -> dict[str, Any]:
    return {
        "id": p.id,
        "debit_account_id": p.debit_account_id,
        "credit_account_id": p.credit_account_id,
        "amount_kopecks": p.amount_kopecks,
        "kind": p.kind.value,
        "expires_at_us": p.expires_at_us,
        "status": p.status.value,
    }


def _signature_record(s: ChainSignature) -> dict[str, Any]:
    return {"seq": s.seq, "hash": s.hash, "signature": s.signature, "key_id": s.key_id, "signed_at_us": s.signed_at_us}


def _head(row: Any) -> ChainHead:
    return ChainHead(
        seq=_field(row, "seq"),
        hash=bytes(_field(row, "hash")),
        created_at_us=_field(row, "created_at_us"),
        accounts_version=_field(row, "accounts_version"),
        emission_cap_kopecks=_field(row, "emission_cap_kopecks"),
    )


def _field(row: Any, name: str) -> Any:
    # SQLAlchemy rows expose attributes, asyncpg records expose keys.
    return row[name] if isinstance(row, asyncpg.Record) else getattr(row, name)


def _account(row: Any) -> Account:
    return Account(
        id=_field(row, "id"),
        code=_field(row, "code"),
        kind=AccountKind(_field(row, "kind")),
        owner_bic=_field(row, "owner_bic"),
        status=AccountStatus(_field(row, "status")),
        transfer_max_kopecks=_field(row, "transfer_max_kopecks"),
        balance_max_kopecks=_field(row, "balance_max_kopecks"),
        posted_kopecks=_field(row, "posted_kopecks"),
        debits_pending_kopecks=_field(row, "debits_pending_kopecks"),
        credits_pending_kopecks=_field(row, "credits_pending_kopecks"),
    )


def _transfer(row: Any) -> Transfer:
    return Transfer(
        seq=_field(row, "seq"),
        id=standard_uuid(_field(row, "id")),
        debit_account_id=_field(row, "debit_account_id"),
        credit_account_id=_field(row, "credit_account_id"),
        amount_kopecks=_field(row, "amount_kopecks"),
        kind=TransferKind(_field(row, "kind")),
        phase=Phase(_field(row, "phase")),
        pending_id=_optional_uuid(_field(row, "pending_id")),
        reference=_field(row, "reference"),
        uetr=_optional_uuid(_field(row, "uetr")),
        timeout_seconds=_field(row, "timeout_seconds"),
        created_at_us=_field(row, "created_at_us"),
        hash=bytes(_field(row, "hash")),
    )


def _pending(row: Any) -> PendingTransfer:
    return PendingTransfer(
        id=standard_uuid(_field(row, "id")),
        debit_account_id=_field(row, "debit_account_id"),
        credit_account_id=_field(row, "credit_account_id"),
        amount_kopecks=_field(row, "amount_kopecks"),
        kind=TransferKind(_field(row, "kind")),
        expires_at_us=_field(row, "expires_at_us"),
        status=PendingStatus(_field(row, "status")),
    )
