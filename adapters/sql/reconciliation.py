"""The three-way reconciliation on SQL (gateway.treasury.ports): a business day's ledger and journal records, read in
one snapshot (REPEATABLE READ on PostgreSQL; on SQLite the one transaction every connection begins, BEGIN IMMEDIATE,
see engine.py), and the store of the breaks it finds, through SQLAlchemy Core on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from gateway_adapters.sql.conversions import conversion_record
from gateway_adapters.sql.models import (
    AccountRow,
    ClaimRow,
    ConversionRow,
    MailboxRow,
    MessageRow,
    ParticipantRow,
    PaymentRow,
    ReconciliationBreakRow,
    ReconciliationRunRow,
    TransferRow,
    standard_uuid,
)
from gateway_adapters.sql.outages import outages_unavailable
from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway import bounds
from gateway.domain.conversion import (
    ConversionRecord,
    conversion_posting_ids,
    finished_states,
)
from gateway.domain.days import BusinessDay, statement_key
from gateway.domain.journal import PaymentKind, PaymentState
from gateway.domain.ledger import AccountKind, Phase, TransferKind
from gateway.domain.reconciliation import (
    Break,
    BreakKind,
    StoredBreak,
    references_json_chars_max,
)
from gateway.treasury.ports import (
    ClaimedStatement,
    DayRecords,
    LedgerAccount,
    Posting,
    RecordedRun,
    SettledPayment,
    TooManyPostings,
)

accounts_table = AccountRow.__table__
participants_table = ParticipantRow.__table__
transfers_table = TransferRow.__table__
payments_table = PaymentRow.__table__
messages_table = MessageRow.__table__
conversions_table = ConversionRow.__table__
claims_table = ClaimRow.__table__
mailbox_table = MailboxRow.__table__
breaks_table = ReconciliationBreakRow.__table__
runs_table = ReconciliationRunRow.__table__

# The phases that move a posted balance: a single-phase transfer, and the post of a pending one (its row carries the
# pending transfer's accounts, amount and kind). A pending transfer only reserves; a void releases the reservation.
_posting_phases = (Phase.SINGLE.value, Phase.POST_PENDING.value)
_chunk = bounds.sqlite_ids_per_query_max
# Runs of several processes take turns (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises them already), so that two
# runs finding one new break cannot both insert it.
_runs_lock_key = 0x5245434F4E43494C  # "RECONCIL"


@outages_unavailable
class SqlReconciliation:
    """Implements ReconciliationReads and BreakStore (gateway.treasury.ports)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    # --- reads ---------------------------------------------------------------------------------------------------

    async def day_records(
        self, day: BusinessDay, window_start_us: int, previous_business_date: date | None, postings_max: int
    ) -> DayRecords:
        async with self._snapshot() as connection:
            return await _DayReader(connection, day, window_start_us, previous_business_date).read(postings_max)

    async def following_pages(self, recipient_bic: str, after_mailbox_seq: int, pages_max: int) -> list[bytes]:
        m, mb = messages_table, mailbox_table
        query = (
            select(m.c.payload)
            .select_from(mb.join(m, m.c.id == mb.c.message_id))
            .where(mb.c.recipient_bic == recipient_bic, mb.c.seq > after_mailbox_seq)
            .order_by(mb.c.seq)
            .limit(pages_max)
        )
        async with self.engine.connect() as connection:
            return [bytes(row.payload) for row in await connection.execute(query)]

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as connection:
            if self._postgres:
                connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                yield connection

    # --- the break store -----------------------------------------------------------------------------------------

    async def open_breaks(self) -> list[StoredBreak]:
        query = (
            select(breaks_table)
            .where(breaks_table.c.resolved_at_us.is_(None))
            .order_by(breaks_table.c.first_seen_at_us, breaks_table.c.fingerprint)
        )
        async with self.engine.connect() as connection:
            return [_stored(row) for row in await connection.execute(query)]

    async def record_run(
        self, business_date: date, found: Sequence[Break], resolved: Sequence[str], run_at_us: int
    ) -> RecordedRun:
        b = breaks_table
        day = business_date.isoformat()
        async with self.engine.begin() as connection:
            if self._postgres:
                await connection.execute(select(func.pg_advisory_xact_lock(_runs_lock_key)))
            fingerprints = [item.fingerprint for item in found]
            existing = {
                row.fingerprint: row
                for row in await _rows_in(connection, select(b), b.c.fingerprint, fingerprints)
            }
            stored, new = [], set()
            for item in found:
                references = _references_json(item)
                row = existing.get(item.fingerprint)
                if row is None:
                    await connection.execute(insert(b).values(
                        id=uuid.uuid4(), fingerprint=item.fingerprint, kind=item.kind.value,
                        business_date=item.business_date.isoformat(), first_seen_date=day, last_seen_date=day,
                        first_seen_at_us=run_at_us, last_seen_at_us=run_at_us, resolved_at_us=None,
                        amount_kopecks=item.amount_kopecks, expected_kopecks=item.expected_kopecks,
                        account=item.account, references_json=references, description=item.description,
                    ))
                    new.add(item.fingerprint)
                    stored.append(StoredBreak(item, business_date, business_date, run_at_us, run_at_us, None))
                    continue
                last_seen_date = max(date.fromisoformat(row.last_seen_date), business_date)
                # Seen again: as it is now, first seen where it was, open again if a run had resolved it.
                await connection.execute(
                    update(b).where(b.c.fingerprint == item.fingerprint).values(
                        last_seen_date=last_seen_date.isoformat(), last_seen_at_us=max(row.last_seen_at_us, run_at_us),
                        resolved_at_us=None, amount_kopecks=item.amount_kopecks, expected_kopecks=item.expected_kopecks,
                        account=item.account, references_json=references, description=item.description,
                    )
                )
                stored.append(StoredBreak(
                    replace(item, business_date=date.fromisoformat(row.business_date)),
                    date.fromisoformat(row.first_seen_date), last_seen_date, row.first_seen_at_us,
                    max(row.last_seen_at_us, run_at_us), None,
                ))
            open_now = [
                row for row in await _rows_in(connection, select(b), b.c.fingerprint, list(resolved))
                if row.resolved_at_us is None
            ]
            for chunk in _chunks([row.fingerprint for row in open_now]):
                await connection.execute(
                    update(b).where(b.c.fingerprint.in_(chunk), b.c.resolved_at_us.is_(None)).values(
                        resolved_at_us=run_at_us
                    )
                )
            await connection.execute(insert(runs_table).values(
                business_date=day, run_at_us=run_at_us, breaks_open=len(stored), breaks_new=len(new),
                breaks_resolved=len(open_now),
            ))
        return RecordedRun(
            found=tuple(stored),
            new=frozenset(new),
            resolved=tuple(replace(_stored(row), resolved_at_us=run_at_us) for row in open_now),
        )


class _DayReader:
    """One day's records, every query on the one connection of the snapshot."""

    def __init__(
        self, connection: AsyncConnection, day: BusinessDay, window_start_us: int, previous_business_date: date | None
    ) -> None:
        assert day.last_seq is not None, "a day is reconciled once its last posting is fixed"
        self.connection = connection
        self.day = day
        self.first_seq = day.first_seq
        self.last_seq: int = day.last_seq
        self.window_start_us = window_start_us
        self.previous_business_date = previous_business_date
        self.codes: dict[int, str] = {}

    async def read(self, postings_max: int) -> DayRecords:
        accounts = await self._accounts()
        postings = await self._postings(postings_max)
        day_ids = {p.transfer_id for p in postings}
        payments = await self._payments(postings)
        conversions = await self._conversions(postings)
        named = {p.transfer_id for p in payments} | {
            transfer_id for c in conversions for transfer_id in conversion_posting_ids(c)
        }
        other_postings = await self._postings_by_id(sorted(named - day_ids, key=lambda i: i.hex))
        statements = await self._statements([a for a in accounts if a.kind is AccountKind.WALLET])
        return DayRecords(
            day=self.day,
            accounts=tuple(accounts),
            postings=tuple(postings),
            payments=tuple(payments),
            conversions=tuple(conversions),
            other_postings=tuple(other_postings),
            statements=tuple(statements),
        )

    async def _accounts(self) -> list[LedgerAccount]:
        """Every account with its posted balance after the day's first_seq and after its last_seq: the balance now,
        less what was posted since. The reserve mirror moves with posted mints and burns only."""
        a, p, t = accounts_table, participants_table, transfers_table
        rows = (
            await self.connection.execute(
                select(a.c.id, a.c.code, a.c.kind, a.c.owner_bic, a.c.posted_kopecks, p.c.created_at_us)
                .select_from(a.outerjoin(p, p.c.bic == a.c.owner_bic))
                .order_by(a.c.id)
            )
        ).all()
        self.codes = {row.id: row.code for row in rows}
        since_first: dict[int, int] = {}
        since_last: dict[int, int] = {}
        after_last = t.c.seq > self.last_seq
        for column, sign in ((t.c.credit_account_id, 1), (t.c.debit_account_id, -1)):
            sums = await self.connection.execute(
                select(column, func.sum(t.c.amount_kopecks),
                       func.sum(case((after_last, t.c.amount_kopecks), else_=0)))
                .where(t.c.seq > self.first_seq, t.c.phase.in_(_posting_phases))
                .group_by(column)
            )
            for account_id, moved_since_first, moved_since_last in sums:
                since_first[account_id] = since_first.get(account_id, 0) + sign * int(moved_since_first)
                since_last[account_id] = since_last.get(account_id, 0) + sign * int(moved_since_last)
        issued = case(
            (t.c.kind == TransferKind.MINT.value, t.c.amount_kopecks),
            (t.c.kind == TransferKind.BURN.value, -t.c.amount_kopecks),
            else_=0,
        )
        issued_since_first, issued_since_last = (
            await self.connection.execute(
                select(func.coalesce(func.sum(issued), 0), func.coalesce(func.sum(case((after_last, issued), else_=0)), 0))
                .where(t.c.seq > self.first_seq, t.c.phase.in_(_posting_phases))
            )
        ).one()
        accounts = []
        for row in rows:
            kind = AccountKind(row.kind)
            if kind is AccountKind.RESERVE:  # outside the double entry: it moves with posted mints and burns
                opening = row.posted_kopecks - int(issued_since_first)
                closing = row.posted_kopecks - int(issued_since_last)
            else:
                opening = row.posted_kopecks - since_first.get(row.id, 0)
                closing = row.posted_kopecks - since_last.get(row.id, 0)
            accounts.append(LedgerAccount(
                account_id=row.id, code=row.code, kind=kind, owner_bic=row.owner_bic,
                owner_registered_at_us=row.created_at_us,
                opening_kopecks=opening, closing_kopecks=closing,
            ))
        return accounts

    async def _postings(self, postings_max: int) -> list[Posting]:
        t = transfers_table
        rows = (
            await self.connection.execute(
                _posting_columns()
                .where(t.c.seq > self.first_seq, t.c.seq <= self.last_seq, t.c.phase.in_(_posting_phases))
                .order_by(t.c.seq)
                .limit(postings_max + 1)
            )
        ).all()
        if len(rows) > postings_max:
            raise TooManyPostings(
                f"{self.day.business_date} holds more than {postings_max} postings, more than one reconciliation reads"
                " at once (bounds.reconciliation_postings_max)"
            )
        return [self._posting(row) for row in rows]

    async def _postings_by_id(self, ids: Sequence[UUID]) -> list[Posting]:
        t = transfers_table
        query = _posting_columns().where(t.c.phase.in_(_posting_phases))
        return [self._posting(row) for row in await _rows_in(self.connection, query, t.c.id, ids)]

    def _posting(self, row: Any) -> Posting:
        return Posting(
            transfer_id=standard_uuid(row.id), seq=row.seq, kind=TransferKind(row.kind), phase=Phase(row.phase),
            debit_account=self.codes.get(row.debit_account_id, f"#{row.debit_account_id}"),
            credit_account=self.codes.get(row.credit_account_id, f"#{row.credit_account_id}"),
            amount_kopecks=row.amount_kopecks, reference=row.reference,
            uetr=None if row.uetr is None else standard_uuid(row.uetr), created_at_us=row.created_at_us,
        )

    async def _payments(self, postings: Sequence[Posting]) -> list[SettledPayment]:
        """Settled payments naming one of the day's transfers, dated in the day, or sharing a UETR with one of the
        day's payment postings that no payment names."""
        p, t = payments_table, transfers_table
        base = _payment_columns().where(p.c.state == PaymentState.SETTLED.value)
        day_transfers = select(t.c.id).where(t.c.seq > self.first_seq, t.c.seq <= self.last_seq)
        found = {
            standard_uuid(row.id): row
            for row in await self.connection.execute(base.where(p.c.transfer_id.in_(day_transfers)))
        }
        dated = base.where(p.c.settlement_date <= self.day.business_date.isoformat())
        if self.previous_business_date is not None:
            dated = dated.where(p.c.settlement_date > self.previous_business_date.isoformat())
        found.update((standard_uuid(row.id), row) for row in await self.connection.execute(dated))
        named = {standard_uuid(row.transfer_id) for row in found.values()}
        unnamed_uetrs = sorted(
            {
                posting.uetr for posting in postings
                if posting.kind in (TransferKind.PAYMENT, TransferKind.RETURN)
                and posting.uetr is not None and posting.transfer_id not in named
            },
            key=lambda u: u.hex,
        )
        found.update(
            (standard_uuid(row.id), row) for row in await _rows_in(self.connection, base, p.c.uetr, unnamed_uetrs)
        )
        return [_payment(row) for row in found.values()]

    async def _conversions(self, postings: Sequence[Posting]) -> list[ConversionRecord]:
        """Unfinished conversions, those alive during the day, and those a mint or burn of the day names by its
        reference (<BIC>:<camt.050 MsgId>)."""
        c = conversions_table
        alive = or_(
            c.c.state.not_in([state.value for state in finished_states]),
            and_(c.c.created_at_us < self.day.cutoff_at_us, c.c.updated_at_us >= self.window_start_us),
        )
        found = {standard_uuid(row.id): row for row in await self.connection.execute(select(c).where(alive))}
        named: dict[str, set[str]] = {}
        for posting in postings:
            if posting.kind in (TransferKind.MINT, TransferKind.BURN):
                bic, _, message_id = posting.reference.partition(":")
                named.setdefault(message_id, set()).add(bic)
        for row in await _rows_in(self.connection, select(c), c.c.request_message_id, sorted(named)):
            if row.bank_bic in named[row.request_message_id]:
                found[standard_uuid(row.id)] = row
        return [conversion_record(row) for row in found.values()]

    async def _statements(self, wallets: Sequence[LedgerAccount]) -> list[ClaimedStatement]:
        """The first page of each wallet's statement of the day, found by its claim, and where it is in the
        recipient's mailbox."""
        cl, m, mb = claims_table, messages_table, mailbox_table
        business_date = self.day.business_date
        wallet_of_key = {statement_key(business_date, wallet.code): wallet.code for wallet in wallets}
        claims = {
            standard_uuid(row.message_id): wallet_of_key[row.key]
            for row in await _rows_in(self.connection, select(cl.c.key, cl.c.message_id), cl.c.key, sorted(wallet_of_key))
        }
        ids = sorted(claims, key=lambda i: i.hex)
        query = select(m.c.id, m.c.receiver_bic, m.c.payload, mb.c.seq).select_from(
            m.outerjoin(mb, mb.c.message_id == m.c.id)
        )
        statements = []
        for row in await _rows_in(self.connection, query, m.c.id, ids):
            message_id = standard_uuid(row.id)
            statements.append(ClaimedStatement(
                wallet_code=claims[message_id], message_id=message_id, recipient_bic=row.receiver_bic or "",
                mailbox_seq=row.seq, payload=bytes(row.payload),
            ))
        return sorted(statements, key=lambda s: s.wallet_code)


def _posting_columns() -> Any:
    t = transfers_table
    return select(
        t.c.id, t.c.seq, t.c.kind, t.c.phase, t.c.debit_account_id, t.c.credit_account_id, t.c.amount_kopecks,
        t.c.reference, t.c.uetr, t.c.created_at_us,
    )


def _payment_columns() -> Any:
    p, m = payments_table, messages_table
    return select(
        p.c.id, p.c.transfer_id, p.c.kind, p.c.debtor_bic, p.c.creditor_bic, p.c.group_message_id, p.c.uetr,
        p.c.end_to_end_id, p.c.transaction_id, p.c.amount_kopecks, p.c.settlement_date, p.c.settled_at_us,
        m.c.sender_bic, m.c.reference.label("message_reference"),
    ).select_from(p.join(m, m.c.id == p.c.message_id))


def _payment(row: Any) -> SettledPayment:
    assert row.settled_at_us is not None, "a settled payment says when"
    return SettledPayment(
        payment_id=standard_uuid(row.id), transfer_id=standard_uuid(row.transfer_id), kind=PaymentKind(row.kind),
        debtor_bic=row.debtor_bic, creditor_bic=row.creditor_bic, sender_bic=row.sender_bic,
        message_reference=row.message_reference, group_message_id=row.group_message_id,
        uetr=standard_uuid(row.uetr), end_to_end_id=row.end_to_end_id, transaction_id=row.transaction_id,
        amount_kopecks=row.amount_kopecks, settlement_date=date.fromisoformat(row.settlement_date),
        settled_at_us=row.settled_at_us,
    )


def _references_json(item: Break) -> str:
    text = json.dumps(dict(item.references), ensure_ascii=False, separators=(",", ":"))
    assert len(text) <= references_json_chars_max, text
    return text


def _stored(row: Any) -> StoredBreak:
    references = json.loads(row.references_json)
    assert isinstance(references, dict), row.references_json
    found = Break(
        kind=BreakKind(row.kind), business_date=date.fromisoformat(row.business_date),
        identity=tuple(row.fingerprint.split("|")[1:]), amount_kopecks=row.amount_kopecks,
        expected_kopecks=row.expected_kopecks, account=row.account,
        references=tuple((str(name), str(value)) for name, value in references.items()), description=row.description,
    )
    assert found.fingerprint == row.fingerprint, (found.fingerprint, row.fingerprint)
    return StoredBreak(
        found, date.fromisoformat(row.first_seen_date), date.fromisoformat(row.last_seen_date), row.first_seen_at_us,
        row.last_seen_at_us, row.resolved_at_us,
    )


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _chunk):
        yield values[start : start + _chunk]


async def _rows_in(connection: AsyncConnection, query: Any, column: Any, values: Sequence[Any]) -> list[Any]:
    """query's rows where column is one of values, in chunks (SQLite caps bound parameters per statement)."""
    rows: list[Any] = []
    for chunk in _chunks(values):
        rows.extend(await connection.execute(query.where(column.in_(chunk))))
    return rows
