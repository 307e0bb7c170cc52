"""The ledger service keeps one contract on SQLite and PostgreSQL alike: durable batches, exact idempotency,
two-phase transfers, registry changes seen at once, all-or-nothing writes, and a verifier that catches tampering."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest
from gateway_adapters.sql.store import SqlStore
from sqlalchemy import text

from gateway.domain.journal import JournalRows
from gateway.domain.ledger import (
    AccountStatus,
    Phase,
    TransferKind,
    TransferRequest,
    TransferResult,
)
from gateway.ledger import service as ledger_service
from gateway.ledger.service import Attached
from gateway.ledger.signing import generate_key_file, load_public_key
from gateway.ledger.verify import verify_ledger
from tests.conftest import LedgerUnderTest, open_ledger

R = TransferResult


def payment(debit: int, credit: int, amount: int, **kw: object) -> TransferRequest:
    return TransferRequest(
        id=kw.pop("id", None) or uuid.uuid4(),  # type: ignore[arg-type]
        debit_account_id=debit,
        credit_account_id=credit,
        amount_kopecks=amount,
        kind=kw.pop("kind", TransferKind.PAYMENT),  # type: ignore[arg-type]
        reference=kw.pop("reference", "SABRRUMMXXX:MSG-0001"),  # type: ignore[arg-type]
        uetr=kw.pop("uetr", uuid.uuid4()),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def mint(ledger: LedgerUnderTest, code: str, amount: int, **kw: object) -> TransferRequest:
    return payment(ledger.issuance, ledger.id_of(code), amount, kind=TransferKind.MINT, reference="CBRFRUMMXXX:MINT", **kw)


async def verify(ledger: LedgerUnderTest):  # type: ignore[no-untyped-def]
    return await verify_ledger(ledger.store, load_public_key(ledger.config.central_bank.signing_key_file))


async def test_settled_batches_survive_reopening_the_database(ledger: LedgerUnderTest) -> None:
    sber, vtb = ledger.id_of("SABRRUMMXXX/main"), ledger.id_of("VTBRRUMMXXX/main")
    results = await ledger.ledger.apply([mint(ledger, "SABRRUMMXXX/main", 500_000_00), payment(sber, vtb, 123_456_78)])
    assert results == [R.OK, R.OK]
    reopened = await open_ledger(ledger.config)
    try:
        balances = await reopened.balances()
    finally:
        await reopened.store.close()
    assert balances["SABRRUMMXXX/main"] == 500_000_00 - 123_456_78
    assert balances["VTBRRUMMXXX/main"] == 123_456_78
    assert balances["CBRFRUMMXXX/issuance"] == -500_000_00
    assert balances["CBRFRUMMXXX/reserve"] == 500_000_00
    assert await ledger.store.transfer_count() == 2


async def test_replays_across_batches_are_exists_or_conflict_and_write_nothing(ledger: LedgerUnderTest) -> None:
    sber, vtb = ledger.id_of("SABRRUMMXXX/main"), ledger.id_of("VTBRRUMMXXX/main")
    funding, pay = mint(ledger, "SABRRUMMXXX/main", 100_00), payment(sber, vtb, 100_00)
    assert await ledger.ledger.apply([funding, pay]) == [R.OK, R.OK]
    head_before, balances_before = await ledger.store.head(), await ledger.balances()
    # Sberbank is now empty: a fresh evaluation of `pay` would fail, but it is stored, so its replay is EXISTS.
    replays = [pay, funding, replace(pay, amount_kopecks=99_00), replace(funding, reference="CBRFRUMMXXX:OTHER")]
    assert await ledger.ledger.apply(replays) == [R.EXISTS, R.EXISTS, R.ID_CONFLICT, R.ID_CONFLICT]
    assert await ledger.store.head() == head_before
    assert await ledger.balances() == balances_before
    assert await ledger.store.transfer_count() == 2


async def test_a_stored_id_among_new_ones_is_found_and_the_new_ones_still_settle(ledger: LedgerUnderTest) -> None:
    funding = mint(ledger, "VTBRRUMMXXX/main", 300_00)
    assert await ledger.ledger.apply([funding]) == [R.OK]
    vtb, alfa = ledger.id_of("VTBRRUMMXXX/main"), ledger.id_of("ALFARUMMXXX/main")
    # The replay would succeed on its own merits, so only the unique index can reveal it: the batch is re-planned.
    results = await ledger.ledger.apply([payment(vtb, alfa, 10_00), funding, payment(vtb, alfa, 20_00)])
    assert results == [R.OK, R.EXISTS, R.OK]
    assert await ledger.store.transfer_count() == 3
    assert (await ledger.balances())["VTBRRUMMXXX/main"] == 270_00


async def test_pending_transfers_hold_funds_across_batches_and_expire(ledger: LedgerUnderTest) -> None:
    clock = {"now": 1_900_000_000_000_000}
    ledger.ledger._clock_us = lambda: clock["now"]  # the service's only clock
    sber, vtb = ledger.id_of("SABRRUMMXXX/main"), ledger.id_of("VTBRRUMMXXX/main")
    held = payment(sber, vtb, 60_00, phase=Phase.PENDING, timeout_seconds=10)
    expiring = payment(sber, vtb, 30_00, phase=Phase.PENDING, timeout_seconds=5)
    assert await ledger.ledger.apply([mint(ledger, "SABRRUMMXXX/main", 100_00), held, expiring]) == [R.OK] * 3
    assert await ledger.ledger.apply([payment(sber, vtb, 10_01)]) == [R.INSUFFICIENT_FUNDS]
    clock["now"] += 6_000_000
    assert await ledger.ledger.void_expired(limit=100) == 1
    assert await ledger.ledger.void_expired(limit=100) == 0
    post = payment(0, 0, 0, phase=Phase.POST_PENDING, pending_id=held.id, uetr=None)
    assert await ledger.ledger.apply([post, payment(sber, vtb, 40_00)]) == [R.OK, R.OK]
    balances = await ledger.balances()
    assert balances["SABRRUMMXXX/main"] == 0
    assert balances["VTBRRUMMXXX/main"] == 100_00
    accounts = {a.code: a for a in await ledger.store.accounts()}
    assert accounts["SABRRUMMXXX/main"].debits_pending_kopecks == 0
    assert accounts["VTBRRUMMXXX/main"].credits_pending_kopecks == 0
    statuses = sorted(p.status.value for p in await ledger.store.pending_transfers())
    assert statuses == ["posted", "voided"]
    assert (await verify(ledger)).ok


async def test_suspension_and_new_participants_are_seen_by_the_next_batch(ledger: LedgerUnderTest) -> None:
    sber, vtb = ledger.id_of("SABRRUMMXXX/main"), ledger.id_of("VTBRRUMMXXX/main")
    assert await ledger.ledger.apply([mint(ledger, "SABRRUMMXXX/main", 100_00)]) == [R.OK]  # caches the accounts
    assert await ledger.store.set_participant_status("VTBRRUMMXXX", AccountStatus.SUSPENDED)
    assert await ledger.ledger.apply([payment(sber, vtb, 1_00), payment(vtb, sber, 1_00)]) == [
        R.CREDIT_ACCOUNT_SUSPENDED,
        R.DEBIT_ACCOUNT_SUSPENDED,
    ]
    assert await ledger.store.set_participant_status("VTBRRUMMXXX", AccountStatus.ACTIVE)
    assert await ledger.ledger.apply([payment(sber, vtb, 1_00)]) == [R.OK]
    assert not await ledger.store.set_participant_status("NOSUCHBKXXX", AccountStatus.SUSPENDED)


async def test_a_failed_write_leaves_no_trace(ledger: LedgerUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    assert await ledger.ledger.apply([mint(ledger, "VTBRRUMMXXX/main", 100_00)]) == [R.OK]
    head_before, balances_before = await ledger.store.head(), await ledger.balances()
    real_transaction = SqlStore.transaction

    def failing_transaction(store: SqlStore):  # type: ignore[no-untyped-def]
        context = real_transaction(store)

        class Wrapped:
            async def __aenter__(self):  # type: ignore[no-untyped-def]
                transaction = await context.__aenter__()
                write = transaction.write_batch

                async def write_then_fail(plan, signature):  # type: ignore[no-untyped-def]
                    await write(plan, signature)  # everything is written ...
                    raise RuntimeError("disk on fire")  # ... and then the unit of work fails before commit

                transaction.write_batch = write_then_fail
                return transaction

            async def __aexit__(self, *exc):  # type: ignore[no-untyped-def]
                return await context.__aexit__(*exc)

        return Wrapped()

    monkeypatch.setattr(SqlStore, "transaction", failing_transaction)
    vtb, alfa = ledger.id_of("VTBRRUMMXXX/main"), ledger.id_of("ALFARUMMXXX/main")
    with pytest.raises(RuntimeError, match="disk on fire"):
        await ledger.ledger.apply([payment(vtb, alfa, 40_00)])
    monkeypatch.undo()
    assert await ledger.store.head() == head_before
    assert await ledger.balances() == balances_before
    assert await ledger.store.transfer_count() == 1
    # The service did not trust its cache past the failure: the next batch settles against the real state.
    assert await ledger.ledger.apply([payment(vtb, alfa, 100_00), payment(vtb, alfa, 1)]) == [R.OK, R.INSUFFICIENT_FUNDS]
    assert (await verify(ledger)).ok


async def test_two_ledger_instances_on_one_database_see_each_others_batches(ledger: LedgerUnderTest) -> None:
    other = await open_ledger(ledger.config)
    try:
        sber, vtb = ledger.id_of("SABRRUMMXXX/main"), ledger.id_of("VTBRRUMMXXX/main")
        assert await ledger.ledger.apply([mint(ledger, "SABRRUMMXXX/main", 100_00)]) == [R.OK]
        assert await other.ledger.apply([payment(sber, vtb, 70_00)]) == [R.OK]
        # `ledger` cached Sberbank at 100.00; it must notice the other instance's batch and refuse 40.00.
        assert await ledger.ledger.apply([payment(sber, vtb, 40_00), payment(sber, vtb, 30_00)]) == [
            R.INSUFFICIENT_FUNDS,
            R.OK,
        ]
        assert (await ledger.balances())["VTBRRUMMXXX/main"] == 100_00
        assert (await verify(ledger)).ok
    finally:
        await other.store.close()


async def test_every_batch_with_transfers_signs_its_head_and_verify_passes(ledger: LedgerUnderTest) -> None:
    sber, vtb = ledger.id_of("SABRRUMMXXX/main"), ledger.id_of("VTBRRUMMXXX/main")
    await ledger.ledger.apply([mint(ledger, "SABRRUMMXXX/main", 1_000_00), payment(sber, vtb, 1_00)])
    await ledger.ledger.apply([payment(vtb, sber, 5_00)])  # fails: writes nothing, signs nothing
    await ledger.ledger.apply([payment(sber, vtb, 2_00)])
    signatures = await ledger.store.signatures()
    assert [s.seq for s in signatures] == [2, 3]
    report = await verify(ledger)
    assert report.ok, report.breaks
    assert (report.transfers_checked, report.signatures_checked) == (3, 2)


async def _tampered(ledger: LedgerUnderTest, sql: str) -> object:
    async with ledger.store.engine.begin() as connection:
        await connection.execute(text(sql))
    return (await verify(ledger)).first_break


async def _three_transfers(ledger: LedgerUnderTest) -> list[TransferRequest]:
    sber, vtb = ledger.id_of("SABRRUMMXXX/main"), ledger.id_of("VTBRRUMMXXX/main")
    requests = [mint(ledger, "SABRRUMMXXX/main", 1_000_00), payment(sber, vtb, 250_00), payment(sber, vtb, 50_00)]
    for request in requests:  # three batches, three signed heads
        assert await ledger.ledger.apply([request]) == [R.OK]
    assert (await verify(ledger)).ok
    return requests


async def test_verify_names_the_transfer_whose_amount_was_edited(ledger: LedgerUnderTest) -> None:
    requests = await _three_transfers(ledger)
    broken = await _tampered(ledger, "UPDATE transfers SET amount_kopecks = 2500 WHERE seq = 2")
    assert broken is not None and broken.transfer_id == requests[1].id and broken.seq == 2
    assert "hash" in broken.what


async def test_verify_catches_a_rehashed_edit_by_its_signature(ledger: LedgerUnderTest) -> None:
    """An attacker who also recomputes the hashes still cannot forge the central bank's signature."""
    requests = await _three_transfers(ledger)
    from gateway.domain.chain import hash_of

    transfers = [t async for t in ledger.store.transfers_in_order()]
    edited = transfers[2]._replace(reference="SABRRUMMXXX:FORGED")
    new_hash = hash_of(transfers[1].hash, edited)
    async with ledger.store.engine.begin() as connection:
        await connection.execute(
            text("UPDATE transfers SET reference = :r, hash = :h WHERE seq = 3"), {"r": edited.reference, "h": new_hash}
        )
        await connection.execute(text("UPDATE ledger_head SET hash = :h"), {"h": new_hash})
    broken = (await verify(ledger)).first_break
    assert broken is not None and broken.transfer_id == requests[2].id
    assert "signed" in broken.what


async def test_verify_catches_edited_balances_deleted_transfers_and_a_foreign_key(
    ledger: LedgerUnderTest, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    await _three_transfers(ledger)
    broken = await _tampered(ledger, "UPDATE accounts SET posted_kopecks = posted_kopecks + 1 WHERE code = 'VTBRRUMMXXX/main'")
    assert broken is not None and "VTBRRUMMXXX/main" in broken.what
    await _tampered(ledger, "UPDATE accounts SET posted_kopecks = posted_kopecks - 1 WHERE code = 'VTBRRUMMXXX/main'")
    assert (await verify(ledger)).ok
    broken = await _tampered(ledger, "DELETE FROM transfers WHERE seq = 3")
    assert broken is not None and "chain head says seq 3" in broken.what
    stranger = tmp_path / "stranger.pem"
    report = await verify_ledger(ledger.store, generate_key_file(stranger))
    assert not report.ok


async def test_replayed_failures_and_rejections_store_nothing(ledger: LedgerUnderTest) -> None:
    sber, vtb = ledger.id_of("SABRRUMMXXX/main"), ledger.id_of("VTBRRUMMXXX/main")
    bad = [
        payment(sber, vtb, 0),
        payment(sber, sber, 1_00),
        payment(sber, 999_999, 1_00),
        payment(sber, vtb, 1_00),  # insufficient funds
        payment(ledger.reserve, vtb, 1_00),
    ]
    results = await ledger.ledger.apply(bad)
    assert results == [
        R.AMOUNT_MUST_BE_POSITIVE,
        R.ACCOUNTS_MUST_DIFFER,
        R.CREDIT_ACCOUNT_NOT_FOUND,
        R.INSUFFICIENT_FUNDS,
        R.KIND_NOT_ALLOWED_FOR_ACCOUNTS,
    ]
    assert await ledger.ledger.apply(bad) == results
    assert await ledger.store.transfer_count() == 0
    assert (await ledger.store.head()).seq == 0


async def test_a_batch_planned_ahead_on_a_failed_batch_is_planned_again(
    ledger: LedgerUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    vtb, alfa = ledger.id_of("VTBRRUMMXXX/main"), ledger.id_of("ALFARUMMXXX/main")
    assert await ledger.ledger.apply([mint(ledger, "ALFARUMMXXX/clients", 1_00)]) == [R.OK]  # warm the cache
    real_write = None
    calls = {"n": 0}

    def first_write_fails(transaction_type):  # type: ignore[no-untyped-def]
        nonlocal real_write
        real_write = transaction_type.write_batch

        async def write(self, plan, signature):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("write refused")
            await real_write(self, plan, signature)

        monkeypatch.setattr(transaction_type, "write_batch", write)

    from gateway_adapters.sql import store as sql_store

    first_write_fails(sql_store._PostgresTransaction if ledger.store._pg_pool else sql_store._SqlAlchemyTransaction)
    funding = [mint(ledger, "VTBRRUMMXXX/main", 100_00)]
    spending = [payment(vtb, alfa, 100_00)]  # planned ahead on the state `funding` would have left
    first, second = await asyncio.gather(
        ledger.ledger.apply(funding), ledger.ledger.apply(spending), return_exceptions=True
    )
    assert isinstance(first, RuntimeError)
    assert second == [R.INSUFFICIENT_FUNDS]
    assert (await ledger.balances())["ALFARUMMXXX/main"] == 0
    assert (await verify(ledger)).ok


class _RecordingAttachment:
    """A BatchAttachment that journals nothing and records the results it was asked to journal, in order."""

    claim_keys: tuple[str, ...] = ()
    expected_payment_states: tuple[tuple[uuid.UUID, object], ...] = ()
    conversion_uses: tuple[object, ...] = ()

    def __init__(self) -> None:
        self.journaled: list[tuple[R, ...]] = []

    def journal(self, results, settled_at_us: int) -> JournalRows:  # type: ignore[no-untyped-def]
        self.journaled.append(tuple(results))
        return JournalRows()


@pytest.mark.parametrize(("other_kopecks", "expected"), [(50_00, R.INSUFFICIENT_FUNDS), (10_00, R.OK)])
async def test_a_plan_made_ahead_is_dropped_when_another_process_moved_the_head(
    ledger: LedgerUnderTest, other_kopecks: int, expected: R
) -> None:
    """Planned ahead on a head another process then moved: planned again under the lock. Its journal rows, written
    ahead from the OK it expected, are written again only when the results under the lock differ."""
    sber, vtb = ledger.id_of("SABRRUMMXXX/main"), ledger.id_of("VTBRRUMMXXX/main")
    assert await ledger.ledger.apply([mint(ledger, "SABRRUMMXXX/main", 100_00)]) == [R.OK]
    spending = [payment(sber, vtb, 80_00)]
    ahead = ledger.ledger._plan_ahead(spending)  # as if planned while an earlier batch was being written
    assert ahead is not None and ahead.plan.results == (R.OK,)
    recording = _RecordingAttachment()
    attached = [Attached(0, 1, recording)]
    journal_ahead = ledger_service._journal(attached, ahead.plan, ahead.planned_at_us)
    other = await open_ledger(ledger.config)
    try:
        assert await other.ledger.apply([payment(sber, vtb, other_kopecks)]) == [R.OK]
    finally:
        await other.store.close()
    results = await ledger.ledger._apply_with_retries(spending, attached, ahead, journal_ahead, asyncio.Event())
    assert results == [expected]
    assert recording.journaled[-1] == (expected,)  # what was written journals what happened
    assert len(recording.journaled) == (2 if expected is R.INSUFFICIENT_FUNDS else 1)
    assert (await ledger.balances())["VTBRRUMMXXX/main"] == other_kopecks + (80_00 if expected is R.OK else 0)
