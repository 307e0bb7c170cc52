"""Two gateway processes sharing one PostgreSQL settle each transfer once: none lost, duplicated or double-applied."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from gateway.config import Config, load_config
from gateway.domain.ledger import (
    AccountKind,
    Phase,
    TransferKind,
    TransferRequest,
    TransferResult,
)
from gateway.ledger.signing import load_public_key
from gateway.ledger.verify import verify_ledger
from tests import ledger_load_driver as driver
from tests.conftest import open_ledger, write_config

R = TransferResult
repo_root = Path(__file__).resolve().parents[1]
seed = 20260214
own_per_process = 3_000
shared_count = 400
submitters_per_process = 48
own_funding_kopecks = 2_000_000_00  # per wallet; Alfa's ceiling is 5,000,000.00
process_timeout_seconds = 300


async def _fund(config: Config) -> list[uuid.UUID]:
    """Mint what the workload needs: every own wallet some money, the shared payments' wallet exactly their sum."""
    under_test = await open_ledger(config)
    try:
        shared_total = sum(p.amount_kopecks for p in driver.shared_workload(seed, shared_count))
        amounts = {code: own_funding_kopecks for code in driver.own_wallet_codes}
        amounts[driver.shared_debit_code] = shared_total
        mints = [
            TransferRequest(
                uuid.uuid4(), under_test.issuance, under_test.id_of(code), amount, TransferKind.MINT, "CB:MINT"
            )
            for code, amount in amounts.items()
        ]
        assert await under_test.ledger.apply(mints) == [R.OK] * len(mints)
        return [m.id for m in mints]
    finally:
        await under_test.store.close()


async def _read_back(config: Config):  # type: ignore[no-untyped-def]
    under_test = await open_ledger(config)
    try:
        transfers = [t async for t in under_test.store.transfers_in_order()]
        accounts = await under_test.store.accounts()
        report = await verify_ledger(under_test.store, load_public_key(config.central_bank.signing_key_file))
        return transfers, accounts, report
    finally:
        await under_test.store.close()


def _start(config_path: Path, process: int, barrier: Path, out: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "tests.ledger_load_driver", str(config_path), "--process", str(process),
        "--seed", str(seed), "--own", str(own_per_process), "--shared", str(shared_count),
        "--submitters", str(submitters_per_process), "--barrier", str(barrier), "--out", str(out),
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=repo_root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _run_two_drivers(config_path: Path, directory: Path) -> list[dict]:  # type: ignore[type-arg]
    """Start both drivers, release them together once both are ready, and return their reports."""
    barrier = directory / "barrier"
    barrier.mkdir()
    outs = [directory / f"results-{n}.json" for n in (1, 2)]
    processes = [_start(config_path, n, barrier, out) for n, out in zip((1, 2), outs, strict=True)]
    try:
        deadline = time.monotonic() + 60
        while not all((barrier / f"ready-{n}").exists() for n in (1, 2)):
            exited = [p.communicate() for p in processes if p.poll() is not None]
            assert not exited, exited
            assert time.monotonic() < deadline, "the drivers did not get ready within 60 s"
            time.sleep(0.01)
        # Both start at the same instant. Written aside and renamed, so a driver never reads a half-written file.
        (barrier / "go.tmp").write_text(repr(time.time() + 0.3), encoding="utf-8")
        (barrier / "go.tmp").rename(barrier / "go")
        for process in processes:
            _, stderr = process.communicate(timeout=process_timeout_seconds)
            assert process.returncode == 0, stderr.decode(errors="replace")[-4000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return [json.loads(out.read_text(encoding="utf-8")) for out in outs]


@pytest.mark.postgres
@pytest.mark.slow
def test_two_processes_on_one_database_settle_each_transfer_once(postgres_url: str, tmp_path: Path) -> None:
    config_path = write_config(tmp_path, postgres_url, limits_toml="batch_transfers_max = 256\n")
    config = load_config(config_path)
    mint_ids = asyncio.run(_fund(config))
    reports = _run_two_drivers(config_path, tmp_path)
    for report in reports:
        print(
            f"process {report['process']}: {report['batches_settled']} batches settled, "
            f"{report['transfers_settled']} transfers, {report['finished_at'] - report['started_at']:.2f} s"
        )

    # The two really ran at the same time, for most of the shorter run.
    first, second = reports
    overlap = min(first["finished_at"], second["finished_at"]) - max(first["started_at"], second["started_at"])
    shorter = min(r["finished_at"] - r["started_at"] for r in reports)
    print(f"the processes overlapped for {overlap:.2f} s")
    assert overlap > shorter / 2

    # Each process submitted exactly its workload and got one result per request.
    for report in reports:
        planned = driver.workload(seed, report["process"], own_per_process, shared_count)
        assert [(str(p.id), p.role) for p in planned] == [(i, role) for i, role, _ in report["results"]]

    transfers, accounts, verify_report = asyncio.run(_read_back(config))
    stored_ids = Counter(str(t.id) for t in transfers)
    assert all(n == 1 for n in stored_ids.values())
    reported_ok: Counter[str] = Counter()
    owner: dict[str, int] = {}
    for report in reports:
        for transfer_id, role, result in report["results"]:
            if role == "shared":
                assert result in (R.OK, R.EXISTS), (transfer_id, result)
            elif role == "doomed":
                assert result == R.INSUFFICIENT_FUNDS, (transfer_id, result)
            else:
                assert result in (R.OK, R.INSUFFICIENT_FUNDS, R.BALANCE_ABOVE_LIMIT), (transfer_id, result)
            if result in (R.OK, R.EXISTS):
                assert stored_ids[transfer_id] == 1, (transfer_id, result)
            else:
                assert transfer_id not in stored_ids, (transfer_id, result)
            if result == R.OK:
                reported_ok[transfer_id] += 1
                owner[transfer_id] = report["process"]
    shared_ids = {str(p.id) for p in driver.shared_workload(seed, shared_count)}
    shared_results = Counter(
        (transfer_id, result)
        for report in reports
        for transfer_id, role, result in report["results"]
        if role == "shared"
    )
    for transfer_id in shared_ids:  # one process settled it, the other was told it already stands
        assert (shared_results[(transfer_id, R.OK)], shared_results[(transfer_id, R.EXISTS)]) == (1, 1), transfer_id
    shared_won = Counter(owner[transfer_id] for transfer_id in shared_ids)
    print(f"shared transfers settled by process 1: {shared_won[1]}, by process 2: {shared_won[2]}")
    assert shared_won[1] > 0 and shared_won[2] > 0  # each process both settled and was refused shared transfers
    # Every stored transfer was reported OK by exactly one process (or is one of the parent's mints).
    mints = {str(i) for i in mint_ids}
    for transfer_id in stored_ids:
        assert transfer_id in mints or reported_ok[transfer_id] == 1, transfer_id
    assert set(stored_ids) == mints | set(reported_ok)
    for report in reports:  # the batchers counted what they settled, failures included
        assert report["transfers_settled"] == len(report["results"])

    # The batches of the two processes interleave in the chain, not one process's run after the other's.
    owners_in_seq_order = [owner.get(str(t.id)) for t in transfers if str(t.id) not in mints]
    switches = sum(1 for a, b in itertools.pairwise(owners_in_seq_order) if a != b)
    print(f"{len(transfers)} transfers stored; the settling process changes {switches} times along the chain")
    assert switches >= 10

    # Balances: replay the stored transfers in seq order, from zero (the mints are the first transfers).
    model: dict[int, int] = {a.id: 0 for a in accounts}
    kinds = {a.id: a.kind for a in accounts}
    reserve = next(a.id for a in accounts if a.kind is AccountKind.RESERVE)
    for transfer in transfers:
        assert transfer.phase is Phase.SINGLE
        model[transfer.debit_account_id] -= transfer.amount_kopecks
        model[transfer.credit_account_id] += transfer.amount_kopecks
        if transfer.kind is TransferKind.MINT:
            model[reserve] += transfer.amount_kopecks
        assert kinds[transfer.debit_account_id] is AccountKind.ISSUANCE or model[transfer.debit_account_id] >= 0, (
            transfer
        )
    assert {a.id: a.posted_kopecks for a in accounts} == model
    assert all(a.debits_pending_kopecks == a.credits_pending_kopecks == 0 for a in accounts)
    assert {a.code: a.posted_kopecks for a in accounts}[driver.shared_debit_code] == 0  # every shared payment settled
    assert verify_report.ok, verify_report.breaks
