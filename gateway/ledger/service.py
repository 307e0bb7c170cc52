"""The ledger service: settles one batch of transfer requests in one database transaction.

Under the chain-head lock it plans the batch in memory (gateway.domain.batch), signs the new head, and writes the
plan. Accounts are cached between batches; the cache is used only while the locked head still shows the sequence
number and accounts version this process last wrote, so a second gateway process on the same database is always
seen.

Planning ahead: with two batches in flight, the second is planned in memory against the state the first will leave,
while PostgreSQL stores the first (two cores: Python plans while the server works). The second batch starts
planning only once the first has reached its write: asyncpg sends all COPY rows before its first wait, so the
planning then runs exactly while the server processes them, instead of delaying the first batch's round trips. A
plan made ahead is used only if, under the lock, the head is exactly the one it was planned on; otherwise (the batch
before failed, or another process wrote) it is thrown away and the batch is planned again from the database.
Speculation never decides an outcome. The attachments' journal rows are written from the plan made ahead too, and
kept only if the plan under the lock has the same results.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from gateway import bounds
from gateway.config import Limits
from gateway.domain.batch import BatchPlan, assert_ledger_sane, plan_batch
from gateway.domain.journal import JournalRows
from gateway.domain.ledger import (
    Account,
    ChainHead,
    Phase,
    TransferKind,
    TransferRequest,
    TransferResult,
)
from gateway.ledger.ports import (
    BatchAttachment,
    DuplicateTransferId,
    JournalConflict,
    LedgerStore,
    LedgerTransaction,
    StorageUnavailable,
)
from gateway.ledger.signing import ChainSigner

log = logging.getLogger(__name__)

# Ids of the void transfers that release expired pending transfers derive from the pending id, so two gateway
# processes sweeping at once produce the same void and the second one is an idempotent EXISTS.
_expiry_namespace = uuid.UUID("5d6c1f0e-6a43-4c55-9a55-0b8a4f6f2c11")


@dataclass(frozen=True, slots=True)
class _Snapshot:
    head: ChainHead
    accounts: dict[int, Account]

    def after(self, plan: BatchPlan) -> _Snapshot:
        accounts = dict(self.accounts)
        for account in plan.accounts:
            accounts[account.id] = account
        return _Snapshot(plan.head, accounts)


@dataclass(frozen=True, slots=True)
class Attached:
    """An attachment and the slice of the batch's requests whose results it journals."""

    start: int
    stop: int
    attachment: BatchAttachment


@dataclass(frozen=True, slots=True)
class _PlanAhead:
    base: _Snapshot
    plan: BatchPlan
    planned_at_us: int


class Ledger:
    def __init__(
        self,
        store: LedgerStore,
        signer: ChainSigner,
        limits: Limits,
        clock_us: Callable[[], int],
        is_transient: Callable[[BaseException], bool],
    ) -> None:
        self.store = store
        self._signer = signer
        self._limits = limits
        self._clock_us = clock_us
        self._is_transient = is_transient
        self._committed: _Snapshot | None = None
        self._planned: _Snapshot | None = None  # what the newest batch planned ahead will leave, if it commits
        self._head_unlocked = asyncio.Event()  # set while no batch of this process holds the head lock
        self._head_unlocked.set()
        self._plan_order = asyncio.Lock()  # batches are planned, and then written, in the order apply() is called
        self._previous_written: asyncio.Future[None] | None = None  # the batch before: settled or failed
        self._previous_writing: asyncio.Event | None = None  # the batch before: has reached its write (or ended)  # the database as of this process's last commit

    async def apply(
        self, requests: Sequence[TransferRequest], attached: Sequence[Attached] = ()
    ) -> list[TransferResult]:
        """Apply the requests as one batch, with results exactly as if applied one by one in this order, and write
        the attachments' journal rows in the same transaction. Concurrent calls settle one after another, in call
        order. Raises JournalConflict (writing nothing) when an attachment's claims or expectations do not hold."""
        async with self._plan_order:
            if self._previous_writing is not None:
                await self._previous_writing.wait()
            ahead = self._plan_ahead(requests)
            previous, written = self._previous_written, asyncio.get_running_loop().create_future()
            writing = asyncio.Event()
            self._previous_written, self._previous_writing = written, writing
        try:
            # The journal rows (answers, forwards: the batch's heaviest Python work) are written from the plan
            # made ahead, while the batch before is still in PostgreSQL's hands, not under the head lock, where
            # they would hold up every batch of every gateway process. Under the lock they are used if the
            # results there are the same, and written again otherwise.
            if ahead is not None and attached:
                await self.head_unlocked()
            journal_ahead = None if ahead is None else _journal(attached, ahead.plan, ahead.planned_at_us)
            if previous is not None:
                await previous
            return await self._apply_with_retries(requests, attached, ahead, journal_ahead, writing)
        except BaseException:
            self._planned = None  # whatever was planned on top of this batch must be planned again
            raise
        finally:
            writing.set()
            written.set_result(None)
            if self._previous_written is written:
                self._previous_written = self._previous_writing = None
                self._planned = None

    @contextlib.contextmanager
    def _holding_head_lock(self) -> Iterator[None]:
        self._head_unlocked.clear()
        try:
            yield
        finally:
            self._head_unlocked.set()

    async def head_unlocked(self) -> None:
        """Return once no batch of this process holds the chain-head lock. Work that can wait, waits for this: the
        intake of a new message, the journal rows written ahead. While a batch holds the lock, the answer to each of
        its statements waits behind whatever else the event loop is running, and every other gateway process waits
        for the lock: measured with bench/e2e.py, two workers settled 1,214 single messages/s without this, 1,613
        with it."""
        await self._head_unlocked.wait()

    def _plan_ahead(self, requests: Sequence[TransferRequest]) -> _PlanAhead | None:
        base = self._planned or self._committed
        # Pending resolutions need the pending rows as they are under the lock: those batches are planned there.
        if base is None or any(r.pending_id is not None for r in requests):
            return None
        planned_at_us = self._clock_us()
        plan = self._plan(requests, base.accounts, base.head, {}, {}, planned_at_us)
        self._planned = base.after(plan)
        return _PlanAhead(base, plan, planned_at_us)

    async def _apply_with_retries(
        self,
        requests: Sequence[TransferRequest],
        attached: Sequence[Attached],
        ahead: _PlanAhead | None,
        journal_ahead: list[JournalRows] | None,
        writing: asyncio.Event,
    ) -> list[TransferResult]:
        look_up_all_ids = False
        backoff_seconds = bounds.batch_retry_backoff_seconds_first
        for attempt in range(self._limits.batch_retries_max + 1):
            try:
                return await self._apply_once(requests, attached, look_up_all_ids, ahead, journal_ahead, writing)
            except DuplicateTransferId:
                # Some id was already stored: plan again, this time reading every id of the batch first.
                look_up_all_ids = True
            except Exception as error:
                if not self._is_transient(error) or attempt == self._limits.batch_retries_max:
                    if self._is_transient(error):
                        raise StorageUnavailable(str(error)) from error
                    raise
                log.warning("ledger batch attempt %d failed, retrying: %s", attempt + 1, error)
                await asyncio.sleep(backoff_seconds)
                backoff_seconds *= 2
            ahead = journal_ahead = None  # a retry always plans from the database
        raise StorageUnavailable(f"batch not settled after {self._limits.batch_retries_max + 1} attempts")

    async def _apply_once(
        self,
        requests: Sequence[TransferRequest],
        attached: Sequence[Attached],
        look_up_all_ids: bool,
        ahead: _PlanAhead | None,
        journal_ahead: list[JournalRows] | None,
        writing: asyncio.Event,
    ) -> list[TransferResult]:
        with self._holding_head_lock():
            async with self.store.transaction() as transaction:
                head = await transaction.lock_head()
                if attached:
                    await _check_attachments(transaction, attached)
                if ahead is not None and not look_up_all_ids and ahead.base.head == head:
                    base, plan = ahead.base, ahead.plan
                else:
                    base = _Snapshot(head, await self._current_accounts(transaction, head))
                    stored = {}
                    if look_up_all_ids:
                        stored = {t.id: t for t in await transaction.load_transfers([r.id for r in requests])}
                    pending_ids = [r.pending_id for r in requests if r.pending_id is not None]
                    pending = {p.id: p for p in await transaction.load_pending(pending_ids)} if pending_ids else {}
                    plan = self._plan(requests, base.accounts, head, stored, pending, self._clock_us())
                if not look_up_all_ids and plan.failed:
                    # A failed request may be the replay of a stored transfer: that must answer EXISTS or ID_CONFLICT,
                    # as sequential application would. Successful ones are caught by the unique index instead.
                    found = await transaction.load_transfers([requests[i].id for i in plan.failed])
                    if found:
                        raise DuplicateTransferId(f"{len(found)} failed requests replay stored transfers")
                now_us = self._clock_us()
                if ahead is not None and journal_ahead is not None and plan.results == ahead.plan.results:
                    journal = journal_ahead
                else:
                    journal = _journal(attached, plan, now_us)
                if plan.transfers:
                    signature = self._signer.sign(plan.head, now_us)
                    writing.set()  # the next batch may plan now: it runs at our first wait, with the rows on the wire
                    await transaction.write_batch(plan, signature)
                if journal:
                    await transaction.write_journal(journal, now_us)
        # Committed: from here the snapshot matches the database as of plan.head.
        self._committed = base.after(plan)
        return list(plan.results)


    def _plan(self, requests, accounts, head, stored, pending, now_us) -> BatchPlan:  # type: ignore[no-untyped-def]
        return plan_batch(
            requests,
            accounts,
            head,
            stored,
            pending,
            now_us=now_us,
            pending_timeout_seconds_default=self._limits.pending_timeout_seconds_default,
            pending_timeout_seconds_max=self._limits.pending_timeout_seconds_max,
        )

    async def _current_accounts(self, transaction: LedgerTransaction, head: ChainHead) -> dict[int, Account]:
        snapshot = self._committed
        if snapshot is not None and snapshot.head == head:
            return snapshot.accounts
        accounts = {a.id: a for a in await transaction.load_accounts()}
        assert_ledger_sane(accounts, head.emission_cap_kopecks)
        return accounts

    async def void_expired(self, limit: int) -> int:
        """Release pending transfers whose timeout has passed. Returns how many this call voided."""
        expired = await self.store.expired_pending_ids(self._clock_us(), limit)
        if not expired:
            return 0
        requests = [void_request(pending_id) for pending_id in expired]
        results = await self.apply(requests)
        return sum(1 for result in results if result is TransferResult.OK)


def _journal(attached: Sequence[Attached], plan: BatchPlan, settled_at_us: int) -> list[JournalRows]:
    """Each attachment's journal rows for its slice of the plan's results."""
    return [a.attachment.journal(plan.results[a.start : a.stop], settled_at_us) for a in attached]


async def _check_attachments(transaction: LedgerTransaction, attached: Sequence[Attached]) -> None:
    """Under the head lock, so no other batch can claim a key, move a payment or use a bank's daily conversion limit
    between this check and the commit. A key claimed twice within the batch conflicts at its second claimant, which
    its caller prepares again; so does a conversion that would take its bank over the daily limit."""
    keys = [key for a in attached for key in a.attachment.claim_keys]
    taken = await transaction.taken_claims(keys) if keys else set()
    expected = [(payment_id, state) for a in attached for payment_id, state in a.attachment.expected_payment_states]
    states = await transaction.payment_states([payment_id for payment_id, _ in expected]) if expected else {}
    uses = [use for a in attached for use in a.attachment.conversion_uses]
    usage = await transaction.conversion_usage(sorted({(u.bank_bic, u.business_date) for u in uses})) if uses else {}
    used_here: dict[tuple[str, date], int] = {}
    conflicts = set()
    claimed_here: set[str] = set()
    for position, a in enumerate(attached):
        keys_here = set(a.attachment.claim_keys)
        # Two attachments moving the same payment in one batch: the second would see a state the first changes.
        keys_here.update(f"payment|{pid}" for pid, _ in a.attachment.expected_payment_states)
        adds = {}
        for use in a.attachment.conversion_uses:
            key = (use.bank_bic, use.business_date)
            adds[key] = adds.get(key, 0) + use.amount_kopecks
        over_limit = any(
            usage[key].limit_kopecks is not None
            and usage[key].used_kopecks + used_here.get(key, 0) + amount > usage[key].limit_kopecks
            for key, amount in adds.items()
        )
        if (
            keys_here & taken
            or keys_here & claimed_here
            or over_limit
            or any(states.get(pid) is not state for pid, state in a.attachment.expected_payment_states)
        ):
            conflicts.add(position)
        else:
            claimed_here |= keys_here
            for key, amount in adds.items():
                used_here[key] = used_here.get(key, 0) + amount
    if conflicts:
        raise JournalConflict(frozenset(conflicts))


def void_request(pending_id: UUID, reference: str = "timeout") -> TransferRequest:
    return TransferRequest(
        id=uuid.uuid5(_expiry_namespace, str(pending_id)),
        debit_account_id=0,
        credit_account_id=0,
        amount_kopecks=0,
        kind=TransferKind.PAYMENT,  # ignored for a resolution: the pending transfer's kind stands
        reference=reference,
        phase=Phase.VOID_PENDING,
        pending_id=pending_id,
    )
