"""The auto-batcher shares database transactions among concurrent callers without losing, reordering or
double-applying a caller's transfers, bounds its queue in size and in waiting time, and settles the work of callers
that went away."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest

from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from gateway.ledger.batcher import AutoBatcher, LedgerBusy, LedgerHalted
from tests.conftest import LedgerUnderTest

R = TransferResult
WALLETS = ("SABRRUMMXXX/main", "VTBRRUMMXXX/main", "ALFARUMMXXX/clients", "VTBRRUMMXXX/clients")


def transfer(debit: int, credit: int, amount: int, kind: TransferKind = TransferKind.PAYMENT) -> TransferRequest:
    return TransferRequest(uuid.uuid4(), debit, credit, amount, kind, "SABRRUMMXXX:MSG")


async def test_concurrent_callers_share_batches_and_balances_match_a_model(ledger: LedgerUnderTest) -> None:
    ids = [ledger.id_of(code) for code in WALLETS]
    funding = [transfer(ledger.issuance, wallet, 10_000_00, TransferKind.MINT) for wallet in ids]
    assert await ledger.ledger.apply(funding) == [R.OK] * len(ids)
    batcher = ledger.batcher(batch_transfers_max=64)
    await batcher.start()
    rng = random.Random(7)
    submissions = []
    for _ in range(400):
        debit, credit = rng.sample(ids, 2)
        # Some callers send several transfers at once, as a multi-transaction message would.
        submissions.append([transfer(debit, credit, rng.randint(1, 900_00)) for _ in range(rng.choice((1, 1, 3)))])
    try:
        outcomes = await asyncio.gather(*(batcher.submit(s) for s in submissions))
    finally:
        await batcher.stop()
    assert [len(o) for o in outcomes] == [len(s) for s in submissions]
    assert batcher.batches_settled < len(submissions) / 4  # they really shared transactions
    # Model: apply what the batcher reported as settled; balances must match to the kopeck.
    model = dict.fromkeys(ids, 10_000_00)
    settled = 0
    for requests, results in zip(submissions, outcomes, strict=True):
        for request, result in zip(requests, results, strict=True):
            assert result in (R.OK, R.INSUFFICIENT_FUNDS, R.TRANSFER_ABOVE_LIMIT, R.BALANCE_ABOVE_LIMIT)
            if result is R.OK:
                model[request.debit_account_id] -= request.amount_kopecks
                model[request.credit_account_id] += request.amount_kopecks
                settled += 1
    balances = {a.id: a.posted_kopecks for a in await ledger.store.accounts()}
    assert {i: balances[i] for i in ids} == model
    assert await ledger.store.transfer_count() == len(funding) + settled


async def test_one_callers_transfers_stay_in_order_even_when_split_over_batches(ledger: LedgerUnderTest) -> None:
    vtb, alfa = ledger.id_of("VTBRRUMMXXX/main"), ledger.id_of("ALFARUMMXXX/main")
    batcher = ledger.batcher(batch_transfers_max=3)
    await batcher.start()
    try:
        # Each payment depends on the mint before it: any reordering would turn an OK into INSUFFICIENT_FUNDS.
        chain = []
        for _ in range(5):
            chain += [transfer(ledger.issuance, vtb, 1_00, TransferKind.MINT), transfer(vtb, alfa, 1_00)]
        results = await batcher.submit(chain)
    finally:
        await batcher.stop()
    assert results == [R.OK] * 10
    assert batcher.batches_settled == 4  # 10 transfers, at most 3 per batch


async def test_a_full_queue_refuses_instead_of_growing(ledger: LedgerUnderTest) -> None:
    batcher = ledger.batcher(batch_transfers_max=10, queue_transfers_max=5)
    await batcher.start()
    vtb = ledger.id_of("VTBRRUMMXXX/main")
    try:
        with pytest.raises(LedgerBusy):
            await batcher.submit([transfer(ledger.issuance, vtb, 1_00, TransferKind.MINT) for _ in range(6)])
        assert await batcher.submit([transfer(ledger.issuance, vtb, 1_00, TransferKind.MINT)]) == [R.OK]
    finally:
        await batcher.stop()


async def test_a_submission_no_batch_takes_within_queue_wait_ms_is_withdrawn_and_never_settles(
    ledger: LedgerUnderTest,
) -> None:
    # A ledger that has stopped making progress (as on a database that no longer answers): batches go in, none ends.
    gate = asyncio.Event()

    class StalledLedger:
        async def apply(self, requests, attached=()):  # type: ignore[no-untyped-def]
            await gate.wait()
            return await ledger.ledger.apply(requests, attached)

    batcher = AutoBatcher(StalledLedger(), 1, 0, 100, queue_wait_ms=200)  # type: ignore[arg-type]
    await batcher.start()
    vtb = ledger.id_of("VTBRRUMMXXX/main")
    try:
        # Two batches in flight take the first two; the third waits in the queue, and is given up after 200 ms.
        taken = [asyncio.create_task(batcher.submit([transfer(ledger.issuance, vtb, 1_00, TransferKind.MINT)]))
                 for _ in range(2)]
        for _ in range(100):  # until the worker has taken both
            await asyncio.sleep(0)
        assert batcher.queued_transfers == 0
        with pytest.raises(LedgerBusy, match="within 200 ms"):  # not a hang: given up on long before 10 s
            await asyncio.wait_for(batcher.submit([transfer(ledger.issuance, vtb, 5_00, TransferKind.MINT)]), 10)
        assert batcher.queued_transfers == 0
        gate.set()
        assert await asyncio.gather(*taken) == [[R.OK], [R.OK]]
    finally:
        gate.set()
        await batcher.stop()
    assert (await ledger.balances())["VTBRRUMMXXX/main"] == 2_00  # the withdrawn mint was never written


async def test_a_caller_that_goes_away_still_gets_its_transfer_settled(ledger: LedgerUnderTest) -> None:
    batcher = ledger.batcher()
    await batcher.start()
    vtb = ledger.id_of("VTBRRUMMXXX/main")
    request = transfer(ledger.issuance, vtb, 7_00, TransferKind.MINT)
    caller = asyncio.create_task(batcher.submit([request]))
    await asyncio.sleep(0)  # queued
    caller.cancel()
    await batcher.stop()  # drains the queue
    assert (await ledger.balances())["VTBRRUMMXXX/main"] == 7_00
    with pytest.raises(LedgerHalted):
        await batcher.submit([request])


async def test_a_broken_invariant_halts_the_batcher(ledger: LedgerUnderTest) -> None:
    from sqlalchemy import text

    async with ledger.store.engine.begin() as connection:  # money from nowhere, behind the ledger's back
        await connection.execute(text("UPDATE accounts SET posted_kopecks = 5 WHERE code = 'VTBRRUMMXXX/main'"))
        await connection.execute(text("UPDATE ledger_head SET accounts_version = accounts_version + 1"))
    batcher = ledger.batcher()
    await batcher.start()
    vtb, alfa = ledger.id_of("VTBRRUMMXXX/main"), ledger.id_of("ALFARUMMXXX/main")
    try:
        with pytest.raises(LedgerHalted, match="sum"):
            await batcher.submit([transfer(vtb, alfa, 1)])
        assert batcher.halted is not None
        with pytest.raises(LedgerHalted):
            await batcher.submit([transfer(vtb, alfa, 1)])
    finally:
        await batcher.stop()
    assert await ledger.store.transfer_count() == 0
