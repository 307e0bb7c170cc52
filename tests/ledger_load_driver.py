"""One gateway process for tests/test_ledger_two_processes.py: opens the ledger from a config file the way the
gateway does (gateway.runtime.running_gateway), waits at a start barrier, submits a deterministic workload of
payments through the auto-batcher from many concurrent submitters, and writes every result as JSON.

    python -m tests.ledger_load_driver CONFIG --process N --seed S --own K --shared M --submitters C \
        --barrier DIR --out FILE
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from gateway.config import load_config
from gateway.domain.ledger import TransferKind, TransferRequest
from gateway.runtime import running_gateway

_namespace = uuid.UUID("0b6f4a52-2f0e-4d8e-9a51-6c1d3f7e9b20")

# Shared payments leave one wallet that nothing else debits, funded with exactly their sum, towards wallets with no
# balance ceiling: they cannot fail, so between the two processes each must be OK once and EXISTS once.
shared_debit_code = "VTBRRUMMXXX/clients"
shared_credit_codes = ("SABRRUMMXXX/main", "SABRRUMMXXX/clients", "VTBRRUMMXXX/main")
# Each process's own payments move money among these; some fail for lack of funds or Alfa's balance ceiling.
own_wallet_codes = (
    "SABRRUMMXXX/main",
    "SABRRUMMXXX/clients",
    "VTBRRUMMXXX/main",
    "ALFARUMMXXX/main",
    "ALFARUMMXXX/clients",
)
own_amount_kopecks_max = 20_000_00  # far below Sberbank's 1,000,000.00 per-payment limit
# Doomed payments ask for more than the whole supply from a wallet without a per-payment limit.
doomed_debit_code, doomed_credit_code = "ALFARUMMXXX/main", "VTBRRUMMXXX/main"
doomed_amount_kopecks = 10**13
doomed_every = 50


@dataclass(frozen=True, slots=True)
class Planned:
    id: uuid.UUID
    debit_code: str
    credit_code: str
    amount_kopecks: int
    role: str  # "own", "shared" or "doomed"

    def request(self, account_ids: dict[str, int]) -> TransferRequest:
        bic = self.debit_code.partition("/")[0]
        return TransferRequest(
            id=self.id,
            debit_account_id=account_ids[self.debit_code],
            credit_account_id=account_ids[self.credit_code],
            amount_kopecks=self.amount_kopecks,
            kind=TransferKind.PAYMENT,
            reference=f"{bic}:LOAD-{self.id}",
        )


def shared_workload(seed: int, count: int) -> list[Planned]:
    rng = random.Random(f"{seed}:shared")
    return [
        Planned(
            uuid.uuid5(_namespace, f"{seed}:shared:{i}"),
            shared_debit_code,
            rng.choice(shared_credit_codes),
            rng.randint(1, 5_000_00),
            "shared",
        )
        for i in range(count)
    ]


def workload(seed: int, process: int, own_count: int, shared_count: int) -> list[Planned]:
    """What process `process` submits, in order: its own payments, with every doomed_every-th one doomed, and the
    shared payments spread evenly through them, in reverse order in even-numbered processes: two processes each
    settle the shared payments they reach first and race for those in the middle."""
    rng = random.Random(f"{seed}:{process}")
    own = []
    for i in range(own_count):
        transfer_id = uuid.uuid5(_namespace, f"{seed}:{process}:{i}")
        if i % doomed_every == doomed_every - 1:
            own.append(Planned(transfer_id, doomed_debit_code, doomed_credit_code, doomed_amount_kopecks, "doomed"))
            continue
        debit, credit = rng.sample(own_wallet_codes, 2)
        own.append(Planned(transfer_id, debit, credit, rng.randint(1, own_amount_kopecks_max), "own"))
    shared = shared_workload(seed, shared_count)
    if process % 2 == 0:
        shared.reverse()
    every = max(1, own_count // max(1, shared_count))  # one shared payment before each `every` own ones
    planned: list[Planned] = []
    for start in range(0, max(own_count, every * len(shared)), every):
        if start // every < len(shared):
            planned.append(shared[start // every])
        planned.extend(own[start : start + every])
    return planned


async def _wait_for(path: Path, timeout_seconds: float) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout_seconds} s")
        await asyncio.sleep(0.005)


async def drive(args: argparse.Namespace) -> dict[str, object]:
    config = load_config(Path(args.config))
    planned = workload(args.seed, args.process, args.own, args.shared)
    barrier = Path(args.barrier)
    async with running_gateway(config, upgrade=False) as gateway:
        account_ids = {a.code: a.id for a in await gateway.store.accounts()}
        requests = [p.request(account_ids) for p in planned]
        results: list[str | None] = [None] * len(requests)
        next_index = iter(range(len(requests)))  # shared by the submitters: each takes the next request

        async def submitter() -> None:
            for index in next_index:
                [result] = await gateway.batcher.submit([requests[index]])
                results[index] = result.value

        # Start barrier: say we are ready, then wait for the parent's go file, which names the common start time.
        (barrier / f"ready-{args.process}").write_text("ready", encoding="utf-8")
        go = barrier / "go"
        await _wait_for(go, 60)
        start_at = float(go.read_text(encoding="utf-8"))
        await asyncio.sleep(max(0.0, start_at - time.time()))
        started_at = time.time()
        await asyncio.gather(*(submitter() for _ in range(args.submitters)))
        finished_at = time.time()
        batches_settled, transfers_settled = gateway.batcher.batches_settled, gateway.batcher.transfers_settled
    return {
        "process": args.process,
        "start_at": start_at,
        "started_at": started_at,
        "finished_at": finished_at,
        "batches_settled": batches_settled,
        "transfers_settled": transfers_settled,
        "results": [[str(p.id), p.role, result] for p, result in zip(planned, results, strict=True)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config")
    parser.add_argument("--process", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--own", type=int, required=True)
    parser.add_argument("--shared", type=int, required=True)
    parser.add_argument("--submitters", type=int, required=True)
    parser.add_argument("--barrier", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    report = asyncio.run(drive(args))
    Path(args.out).write_text(json.dumps(report), encoding="utf-8")


if __name__ == "__main__":
    main()
