"""The auto-batcher in front of the ledger.

Callers submit transfer requests concurrently and await their own results. One worker task drains the queue into
batches of at most batch_transfers_max transfers and settles each batch in one database transaction, so concurrent
messages share commits: the throughput of a batch, the latency of a short wait. A caller's requests stay together
and in order inside one batch (a submission larger than a batch is split into consecutive batches). Two batches
are handed to the ledger at once, so that it plans the next while PostgreSQL stores the one before; they still
settle strictly in queue order.

A caller that goes away does not cancel anything: once queued, its requests settle, and the results are simply
not delivered. A programmer error (a broken invariant) halts the batcher: nothing more is settled until restart.

A submission waits in the queue at most queue_wait_ms: one not taken into a batch by then is withdrawn, unsettled,
and its caller gets LedgerBusy (503), so that a ledger that stopped making progress (a database that no longer
answers) costs a caller a bounded wait, never a hang. Once taken into a batch it settles or fails with its batch,
whose every database wait is bounded too.

A submission may carry an attachment (the message journal's rows, gateway.ledger.ports.BatchAttachment): it then
settles whole in one batch, even beyond batch_transfers_max, because its journal rows describe all its results. When
an attachment conflicts with the journal, only that submission fails (with JournalConflict, for its caller to
prepare again); the rest of the batch is settled in the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gateway import bounds
from gateway.domain.ledger import TransferRequest, TransferResult
from gateway.ledger.ports import BatchAttachment, JournalConflict, StorageUnavailable
from gateway.ledger.service import Attached, Ledger

log = logging.getLogger(__name__)


class LedgerBusy(Exception):
    """The queue is full: the caller should answer 'try again later' (HTTP 503 with Retry-After)."""


class LedgerHalted(Exception):
    """The batcher stopped after a programmer error or a shutdown; nothing is being settled."""


@dataclass(slots=True, eq=False)  # compared by identity: the queue removes a withdrawn submission, not its equal
class _Submission:
    requests: Sequence[TransferRequest]
    future: asyncio.Future[list[TransferResult]] = field(repr=False)
    attachment: BatchAttachment | None = None
    withdrawal: asyncio.TimerHandle | None = field(default=None, repr=False)  # while queued: queue_wait_ms runs out

    @property
    def weight(self) -> int:
        """Its share of a batch: a journal-only submission (no transfers) still costs its rows."""
        return max(1, len(self.requests))


@dataclass(slots=True)
class _Deferred:
    after_batch: int  # released once the batch with this number (the retried rest of theirs) has settled
    submissions: list[_Submission]
    conflict: JournalConflict


class AutoBatcher:
    def __init__(
        self,
        ledger: Ledger,
        batch_transfers_max: int,
        batch_wait_us: int,
        queue_transfers_max: int,
        observe_batch: Callable[[int], None] | None = None,
        queue_wait_ms: int = bounds.tunable_limits["queue_wait_ms"].default,
    ) -> None:
        """`observe_batch` is told the number of transfers of every settled batch (for the metrics)."""
        assert batch_transfers_max >= 1 and queue_transfers_max >= 1 and queue_wait_ms >= 1
        self._queue_wait_ms = queue_wait_ms
        self._observe_batch = observe_batch
        self._ledger = ledger
        self._batch_transfers_max = batch_transfers_max
        self._batch_wait_seconds = batch_wait_us / 1_000_000
        self._queue_transfers_max = queue_transfers_max
        self._queue: deque[_Submission] = deque()
        self._queued_transfers = 0
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._halted: BaseException | None = None  # the programmer error that stopped settlement
        self._stopping = False
        self._batches_taken = 0  # batches handed to the ledger so far; numbers each batch
        self._deferred: list[_Deferred] = []  # conflicting submissions waiting for the batch retried after them
        self._take_now = False  # the retried part of a conflicting batch goes without lingering
        self.batches_settled = 0
        self.transfers_settled = 0

    async def start(self) -> None:
        assert self._worker is None
        self._worker = asyncio.create_task(self._run(), name="ledger-auto-batcher")

    async def stop(self) -> None:
        """Settle everything already queued, then stop."""
        if self._worker is None:
            return
        self._stopping = True
        self._wakeup.set()
        await self._worker
        self._worker = None

    async def ledger_unlocked(self) -> None:
        """Return once no batch of this process holds the ledger's chain-head lock (Ledger.head_unlocked)."""
        await self._ledger.head_unlocked()

    @property
    def queued_transfers(self) -> int:
        return self._queued_transfers

    @property
    def halted(self) -> BaseException | None:
        return self._halted

    async def submit(
        self, requests: Sequence[TransferRequest], attachment: BatchAttachment | None = None
    ) -> list[TransferResult]:
        """Settle the requests (and write the attachment's journal rows with them); raises JournalConflict when the
        attachment conflicts, LedgerBusy when the queue is full or the submission waited queue_wait_ms without being
        taken into a batch, LedgerHalted after a programmer error."""
        if self._halted is not None:
            raise LedgerHalted(f"the ledger halted after a programmer error: {self._halted!r}")
        if self._stopping:
            raise LedgerHalted("the ledger is shutting down")
        if not requests and attachment is None:
            return []
        if self._queued_transfers + len(requests) > self._queue_transfers_max:
            raise LedgerBusy(f"{self._queued_transfers} transfers already queued")
        loop = asyncio.get_running_loop()
        if attachment is not None:
            submission = _Submission(requests, loop.create_future(), attachment)
            self._enqueue(submission, loop)
            self._wakeup.set()
            return await submission.future
        submissions = []
        for start in range(0, len(requests), self._batch_transfers_max):
            submission = _Submission(requests[start : start + self._batch_transfers_max], loop.create_future())
            submissions.append(submission)
            self._enqueue(submission, loop)
        self._wakeup.set()
        # A caller that is cancelled cancels only its own futures: its requests stay queued and settle all the same.
        if len(submissions) == 1:
            return await submissions[0].future
        # A submission split over several batches may be partly settled when a later batch fails: the caller retries
        # with the same transfer ids, and the settled part answers EXISTS.
        parts = await asyncio.gather(*(s.future for s in submissions), return_exceptions=True)
        for part in parts:
            if isinstance(part, BaseException):
                raise part
        return [result for part in parts for result in part]  # type: ignore[union-attr]

    def _enqueue(self, submission: _Submission, loop: asyncio.AbstractEventLoop) -> None:
        self._queue.append(submission)
        self._queued_transfers += submission.weight
        submission.withdrawal = loop.call_later(self._queue_wait_ms / 1000, self._withdraw, submission)

    def _withdraw(self, submission: _Submission) -> None:
        """queue_wait_ms ran out before a batch took the submission: nothing of it was written, and nothing will be."""
        submission.withdrawal = None
        try:
            self._queue.remove(submission)
        except ValueError:  # taken (or failed with the whole queue) at the same moment
            return
        self._queued_transfers -= submission.weight
        log.warning("withdrew a submission of %d transfers that waited %d ms for a batch", len(submission.requests),
                    self._queue_wait_ms)
        _fail(submission.future, LedgerBusy(f"not taken into a ledger batch within {self._queue_wait_ms} ms"))

    async def _run(self) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        while True:
            if not self._queue:
                if self._stopping or self._halted is not None:
                    if in_flight:
                        await asyncio.wait(in_flight)
                    return
                await self._wakeup.wait()
                self._wakeup.clear()
                lingering = self._batch_wait_seconds and self._queued_transfers < self._batch_transfers_max
                if lingering and not self._take_now:
                    await asyncio.sleep(self._batch_wait_seconds)  # linger, to let a batch fill under light load
                self._take_now = False
                continue
            if len(in_flight) >= bounds.batches_in_flight_max:
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            # Tasks start in creation order, so the ledger receives batches in queue order.
            task = asyncio.create_task(self._settle(self._take_batch(), self._batches_taken))
            self._batches_taken += 1
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)

    def _take_batch(self) -> list[_Submission]:
        batch: list[_Submission] = []
        size = 0
        while self._queue and (not batch or size + self._queue[0].weight <= self._batch_transfers_max):
            submission = self._queue.popleft()
            if submission.withdrawal is not None:
                submission.withdrawal.cancel()
                submission.withdrawal = None
            batch.append(submission)
            size += submission.weight
        self._queued_transfers -= size
        return batch

    async def _settle(self, batch: list[_Submission], number: int) -> None:
        try:
            await self._settle_batch(batch)
        finally:
            self._release_deferred(settled_through=number)

    def _release_deferred(self, settled_through: int) -> None:
        """Tell conflicting callers, once every batch taken after their conflict has settled (or failed)."""
        waiting = []
        for deferred in self._deferred:
            if settled_through >= deferred.after_batch or self._halted is not None or self._stopping:
                for submission in deferred.submissions:
                    _fail(submission.future, deferred.conflict)
            else:
                waiting.append(deferred)
        self._deferred = waiting

    async def _settle_batch(self, batch: list[_Submission]) -> None:
        requests = [request for submission in batch for request in submission.requests]
        attached, attached_submissions, offset = [], [], 0
        for submission in batch:
            if submission.attachment is not None:
                attached.append(Attached(offset, offset + len(submission.requests), submission.attachment))
                attached_submissions.append(submission)
            offset += len(submission.requests)
        try:
            results = await self._ledger.apply(requests, attached)
        except JournalConflict as conflict:
            # Nothing was written. The others go first in the next batch. The conflicting callers are told only once
            # that batch has settled: a copy that lost to another copy in this same batch then finds the winner
            # committed, and is answered from the journal instead of conflicting with it again.
            conflicting = [attached_submissions[position] for position in conflict.positions]
            retried = [s for s in batch if all(s is not c for c in conflicting)]
            if not retried:
                for submission in conflicting:
                    _fail(submission.future, conflict)
                return
            self._queue.extendleft(reversed(retried))
            self._queued_transfers += sum(s.weight for s in retried)
            self._deferred.append(_Deferred(self._batches_taken, conflicting, conflict))
            self._take_now = True
            self._wakeup.set()
            return
        except StorageUnavailable as error:
            log.error("ledger batch of %d transfers not settled: %s", len(requests), error)
            for submission in batch:
                _fail(submission.future, error)
            return
        except BaseException as error:
            # A programmer error or an unexpected database refusal: stop settling rather than guess.
            log.critical("ledger halted on batch of %d transfers", len(requests), exc_info=error)
            self._halted = error
            for submission in batch + list(self._queue):
                if submission.withdrawal is not None:
                    submission.withdrawal.cancel()
                _fail(submission.future, LedgerHalted(f"the ledger halted after a programmer error: {error!r}"))
            self._queue.clear()
            self._queued_transfers = 0
            if not isinstance(error, Exception):
                raise
            return
        self.batches_settled += 1
        self.transfers_settled += len(requests)
        if self._observe_batch is not None:
            self._observe_batch(len(requests))
        offset = 0
        for submission in batch:
            count = len(submission.requests)
            if not submission.future.done():
                submission.future.set_result(results[offset : offset + count])
            offset += count


def _fail(future: asyncio.Future[list[TransferResult]], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
