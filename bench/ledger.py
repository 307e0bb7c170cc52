"""Ledger throughput on PostgreSQL, printed beside the raw limit of the same database in the same run.

Run (from the repository root, with the gateway installed):

    python bench/ledger.py                           # the full run: about 40 s on 2 cores
    python bench/ledger.py --quick                   # a tenth of the work: a smoke test of the bench itself
    python bench/ledger.py --scale 3                 # three times the work per measurement, for steadier figures
    python bench/ledger.py --pg-url postgresql://postgres@127.0.0.1:5432/postgres
    python bench/ledger.py --profile ledger.pstats   # also profile one extra ledger pass at batch 1,000

--pg-url (default $GATEWAY_BENCH_PG_URL, else the local trust-auth server) names a database to connect to as a
user allowed to CREATE DATABASE and CHECKPOINT. The bench creates a scratch database bench_ledger_<random> there,
migrates and bootstraps it through gateway.runtime.open_store with a config it writes itself (the central bank and
20 banks with one wallet each, a fresh Ed25519 signing key; GATEWAY_* variables are ignored), and drops it at the
end, also on failure.

What it measures, all on that one scratch database, at batch sizes 1, 100 and 1,000:
  raw COPY      the database's limit for this workload, with no ledger: per batch BEGIN; COPY of the batch's rows
                into raw_transfers (the transfers table's columns and indexes, via LIKE ... INCLUDING ALL); one
                UPDATE ... FROM unnest(...) of the changed balances in raw_accounts (a copy of accounts); COMMIT.
                One connection. The rows are what the ledger writes (Transfer tuples, chain hash included).
  ledger.apply  the ledger core: Ledger.apply(batch), one database transaction per batch (head lock, planning,
                hash chain, signature, COPY, balance and head updates). "in flight 1" awaits each batch before
                the next; "in flight 2" keeps two apply calls outstanding, as the auto-batcher does, so that the
                ledger plans a batch while PostgreSQL stores the one before. The target is judged on the latter.
  auto-batcher  (at batch 1,000 only) the ledger as the service drives it: 1,000 concurrent tasks each submitting
                one transfer at a time through the AutoBatcher (batch at most 1,000, no linger), timed from the first
                submission to the last answer.
"vs raw" is transfers/s divided by the raw COPY figure at the same batch size. "WAL B/tr" is write-ahead log bytes
per transfer; WAL is cluster-wide, so another writer on the server shows up there. The bench also warns when other
databases ran transactions during a measurement, or when other processes kept the CPUs busy just before it started.

Wallets are funded with MINT transfers first; every measured transfer is a PAYMENT between two random wallets, with
a uuid4 id and uetr and a reference like "BNKARUMMXXX:MSG-000001". Requests and raw rows are built before the clock
starts and then hidden from the garbage collector (gc.freeze), whose full passes over them would otherwise land in
the timing; only the apply calls, submissions or raw transactions are timed, and every result is checked to be OK.
At each batch size, after a CHECKPOINT and a warm-up of 5% of the work for each mode, the measured work is split
into 4 rounds, each running every mode once in an order rotated from round to round: the tables' growth and any
outside load then fall on all modes alike.

Exit status: 1 when ledger.apply at batch 1,000 with 2 in flight reaches less than 0.6 of the raw limit at batch 1,000 (the issue's
target), 0 otherwise; any failed transfer or error exits non-zero with a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import math
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from gateway.config import Config, load_config
from gateway.domain.chain import hash_of
from gateway.domain.ledger import Account, AccountKind, Phase, Transfer, TransferKind, TransferRequest, TransferResult
from gateway.ledger.batcher import AutoBatcher
from gateway.ledger.service import Ledger
from gateway.ledger.signing import ChainSigner, generate_key_file, load_private_key
from gateway.runtime import open_store
from gateway_adapters.sql.outages import is_transient
from gateway_adapters.sql.store import SqlStore, now_us

pg_url_default = "postgresql://postgres@127.0.0.1:5432/postgres"
pg_url_env = "GATEWAY_BENCH_PG_URL"

ratio_target = 0.6  # the target: the ledger at batch 1,000 against the raw limit at batch 1,000
gated_batch_transfers = 1_000

banks_count = 20
wallet_funding_kopecks = 10**12  # 10,000,000,000.00 roubles per wallet: no payment ever lacks funds
payment_kopecks_max = 100_000_00
emission_cap_rub = "1000000000000.00"  # 10**14 kopecks, five times the funding
submitters_count = 1_000
warm_up_share = 0.05
rounds_count = 4  # each measurement is split into this many rounds, interleaved with the other contenders'
busy_cpu_share_min = 0.25  # CPUs busier than this in the second before measuring: someone else is using them
statement_timeout_ms = 120_000  # generous: a COPY of 1,000 rows that takes this long means a broken server


@dataclass(frozen=True, slots=True)
class Workload:
    batch_transfers: int
    measured_transfers: int  # at scale 1

    def scaled(self, scale: float) -> tuple[int, int]:
        """(warm-up, measured) transfer counts at `scale`, each a whole number of batches, at least two."""
        measured = _whole_batches(self.measured_transfers * scale, self.batch_transfers)
        return _whole_batches(measured * warm_up_share, self.batch_transfers), measured


workloads = (Workload(1, 2_000), Workload(100, 50_000), Workload(1_000, 200_000))


def _whole_batches(transfers: float, batch_transfers: int) -> int:
    return max(2, math.ceil(transfers / batch_transfers)) * batch_transfers


@dataclass(frozen=True, slots=True)
class Wallet:
    account_id: int
    bic: str


@dataclass(slots=True)
class Observed:
    """What the server did while one measurement ran."""

    wal_bytes: int = 0  # WAL is cluster-wide: another writer shows up here too
    foreign_transactions: int = 0  # commits and rollbacks in other databases (their statistics lag by up to 1 s)


@dataclass(frozen=True, slots=True)
class Measurement:
    mode: str
    batch_transfers: int
    transfers: int
    seconds: float
    seen: Observed
    note: str = ""
    profiled: bool = False  # slowed down by the profiler: shown, never compared

    @property
    def rate(self) -> float:
        return self.transfers / self.seconds


class BenchError(Exception):
    """The bench could not measure what it claims to: a transfer failed, or the setup is not what it expects."""


# --- setup -----------------------------------------------------------------------------------------------------


def bank_bic(index: int) -> str:
    """BNKA..BNKT + RU + MM + XXX: valid, distinct BICs for the bench's banks."""
    return f"BNK{chr(ord('A') + index)}RUMMXXX"


def write_config(directory: Path, database_url: str) -> Config:
    """A gateway config for the scratch database: the central bank and `banks_count` banks, one wallet each, no
    per-wallet limits, and a fresh signing key. The environment is ignored: the figures must not depend on it."""
    key_file = directory / "cb-signing-key.pem"
    generate_key_file(key_file)
    participants = "".join(
        f'[[participants]]\nbic = "{bank_bic(i)}"\nname = "Bench bank {i + 1}"\nclearing_code = "0445{i:05d}"\n'
        f'rtgs_account = "3010181000000{i + 2:07d}"\nwallets = ["main"]\n\n'
        for i in range(banks_count)
    )
    text = (
        f'[database]\nurl = "{database_url}"\n\n'
        f'[central_bank]\nbic = "CBRFRUMMXXX"\nname = "Bank of Russia"\nsigning_key_file = "{key_file}"\n'
        f'emission_cap_rub = "{emission_cap_rub}"\nreserve_rtgs_account = "30101810000000000001"\n\n'
        f"{participants}"
        f"[limits]\nbatch_transfers_max = {gated_batch_transfers}\nbatch_wait_us = 0\n"
        f"queue_transfers_max = {10 * submitters_count}\ndb_statement_timeout_ms = {statement_timeout_ms}\n"
    )
    path = directory / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, environ={})


def with_database(url: str, database: str, scheme: str) -> str:
    """`url` pointing at `database`, with `scheme` (postgresql for asyncpg, postgresql+asyncpg for the gateway)."""
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


@asynccontextmanager
async def scratch_database(admin_url: str) -> AsyncIterator[str]:
    """Create an empty database for this run and yield its name; drop it afterwards whatever happened."""
    name = f"bench_ledger_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield name
    finally:
        admin = await asyncpg.connect(admin_url, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# --- the work --------------------------------------------------------------------------------------------------


class PaymentSource:
    """Payments between random wallets, each with fresh ids and a message reference numbered across the run."""

    def __init__(self, wallets: Sequence[Wallet], seed: int) -> None:
        assert len(wallets) >= 2
        self._wallets = wallets
        self._rng = random.Random(seed)
        self._message_number = 0

    def take(self, count: int) -> list[TransferRequest]:
        requests = []
        for _ in range(count):
            debit, credit = self._rng.sample(self._wallets, 2)
            self._message_number += 1
            requests.append(
                TransferRequest(
                    id=uuid.uuid4(),
                    debit_account_id=debit.account_id,
                    credit_account_id=credit.account_id,
                    amount_kopecks=self._rng.randint(1, payment_kopecks_max),
                    kind=TransferKind.PAYMENT,
                    reference=f"{debit.bic}:MSG-{self._message_number:06d}",
                    uetr=uuid.uuid4(),
                )
            )
        return requests


def in_batches(requests: Sequence[TransferRequest], batch_transfers: int) -> list[Sequence[TransferRequest]]:
    return [requests[start : start + batch_transfers] for start in range(0, len(requests), batch_transfers)]


def require_ok(results: Sequence[TransferResult], requests: Sequence[TransferRequest], mode: str) -> None:
    if len(results) != len(requests):
        raise BenchError(f"{mode}: {len(requests)} requests answered with {len(results)} results")
    for request, result in zip(requests, results, strict=True):
        if result is not TransferResult.OK:
            raise BenchError(f"{mode}: transfer {request.id} ({request.reference}) answered {result}, not ok")


async def fund_wallets(ledger: Ledger, issuance: Account, wallets: Sequence[Wallet]) -> None:
    mints = [
        TransferRequest(
            id=uuid.uuid4(),
            debit_account_id=issuance.id,
            credit_account_id=wallet.account_id,
            amount_kopecks=wallet_funding_kopecks,
            kind=TransferKind.MINT,
            reference=f"CBRFRUMMXXX:MINT-{number:06d}",
            uetr=uuid.uuid4(),
        )
        for number, wallet in enumerate(wallets, start=1)
    ]
    require_ok(await ledger.apply(mints), mints, "funding")


# --- the raw limit ---------------------------------------------------------------------------------------------

_raw_balances_update = (
    "UPDATE raw_accounts AS a SET posted_kopecks = v.posted, debits_pending_kopecks = v.debits_pending,"
    " credits_pending_kopecks = v.credits_pending"
    " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])"
    " AS v(id, posted, debits_pending, credits_pending) WHERE a.id = v.id"
)


@dataclass(frozen=True, slots=True)
class RawBatch:
    rows: list[Transfer]
    account_ids: list[int]
    posted: list[int]
    debits_pending: list[int]
    credits_pending: list[int]


class RawLedger:
    """The ledger's writes with none of its work: tables raw_transfers and raw_accounts beside the real ones, fed on
    one connection. Rows are hash-chained and balances tracked here, before any timing."""

    def __init__(self, connection: asyncpg.Connection, posted: dict[int, int]) -> None:
        self.connection = connection
        self._posted = posted
        self._seq = 0
        self._hash = bytes(32)

    @classmethod
    async def create(cls, connection: asyncpg.Connection) -> RawLedger:
        await connection.execute("CREATE TABLE raw_transfers (LIKE transfers INCLUDING ALL)")
        await connection.execute("CREATE TABLE raw_accounts (LIKE accounts INCLUDING ALL)")
        await connection.execute("INSERT INTO raw_accounts SELECT * FROM accounts")
        rows = await connection.fetch("SELECT id, posted_kopecks FROM raw_accounts")
        return cls(connection, {row["id"]: row["posted_kopecks"] for row in rows})

    def prepare(self, requests: Sequence[TransferRequest]) -> RawBatch:
        """The rows and new balances that one batch of single-phase payments writes."""
        created_at_us = now_us()
        rows = []
        changed: dict[int, int] = {}
        for request in requests:
            assert request.phase is Phase.SINGLE and request.kind is TransferKind.PAYMENT
            self._seq += 1
            row = Transfer(
                seq=self._seq,
                id=request.id,
                debit_account_id=request.debit_account_id,
                credit_account_id=request.credit_account_id,
                amount_kopecks=request.amount_kopecks,
                kind=request.kind,
                phase=request.phase,
                pending_id=None,
                reference=request.reference,
                uetr=request.uetr,
                timeout_seconds=0,
                created_at_us=created_at_us,
                hash=b"",
            )
            self._hash = hash_of(self._hash, row)
            rows.append(row._replace(hash=self._hash))
            self._posted[request.debit_account_id] -= request.amount_kopecks
            self._posted[request.credit_account_id] += request.amount_kopecks
            changed[request.debit_account_id] = self._posted[request.debit_account_id]
            changed[request.credit_account_id] = self._posted[request.credit_account_id]
        assert all(posted >= 0 for posted in changed.values())
        zeros = [0] * len(changed)
        return RawBatch(rows, list(changed), list(changed.values()), zeros, zeros)

    async def write(self, batch: RawBatch) -> None:
        async with self.connection.transaction(isolation="read_committed"):
            await self.connection.copy_records_to_table("raw_transfers", records=batch.rows, columns=Transfer._fields)
            await self.connection.execute(
                _raw_balances_update, batch.account_ids, batch.posted, batch.debits_pending, batch.credits_pending
            )


# --- measurements ----------------------------------------------------------------------------------------------


@contextmanager
def prebuilt_work_frozen() -> Iterator[None]:
    """Hide everything alive now, above all the prebuilt requests and rows, from the garbage collector until the
    block ends: its full passes over hundreds of thousands of objects that a running gateway does not hold would
    otherwise be timed as the ledger's (or the raw path's) cost."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class ServerWatch:
    """Reads the server's write-ahead log position and the transaction counts of the other databases, so that a
    measurement can tell how much it wrote and whether anyone else was using the server meanwhile."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def checkpoint(self) -> None:
        await self.connection.execute("CHECKPOINT")

    async def _wal_position(self) -> int:
        return int(await self.connection.fetchval("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"))

    async def _foreign_transactions(self) -> dict[int, int]:
        rows = await self.connection.fetch(
            "SELECT datid, xact_commit + xact_rollback AS transactions FROM pg_stat_database"
            " WHERE datname IS DISTINCT FROM current_database()"
        )
        return {row["datid"]: row["transactions"] for row in rows}

    @asynccontextmanager
    async def observing(self, seen: Observed) -> AsyncIterator[None]:
        """Add to `seen` what the server did during the block."""
        wal_before, foreign_before = await self._wal_position(), await self._foreign_transactions()
        yield
        seen.wal_bytes += await self._wal_position() - wal_before
        foreign_after = await self._foreign_transactions()
        # A database dropped meanwhile takes its counts with it: only growth counts.
        seen.foreign_transactions += sum(
            max(0, count - foreign_before.get(datid, 0)) for datid, count in foreign_after.items()
        )


class Contender(Protocol):
    """One way of writing the same payments, measured beside the others."""

    @property
    def mode(self) -> str: ...

    @property
    def note(self) -> str: ...

    def prepare(self, requests: list[TransferRequest], batch_transfers: int) -> Any:
        """Everything the timed part needs, built before the clock starts."""
        ...

    async def run(self, work: Any) -> float:
        """Write the prepared work; returns the seconds the timed part took."""
        ...


class RawContender:
    mode = "raw COPY"
    note = ""

    def __init__(self, raw: RawLedger) -> None:
        self._raw = raw

    def prepare(self, requests: list[TransferRequest], batch_transfers: int) -> list[RawBatch]:
        return [self._raw.prepare(batch) for batch in in_batches(requests, batch_transfers)]

    async def run(self, work: list[RawBatch]) -> float:
        started = time.perf_counter()
        for batch in work:
            await self._raw.write(batch)
        return time.perf_counter() - started


class LedgerContender:
    mode = "ledger.apply"

    def __init__(self, ledger: Ledger, in_flight: int) -> None:
        self._ledger = ledger
        self._in_flight = in_flight
        self.note = f"{in_flight} in flight"

    def prepare(self, requests: list[TransferRequest], batch_transfers: int) -> list[Sequence[TransferRequest]]:
        return in_batches(requests, batch_transfers)

    async def run(self, work: list[Sequence[TransferRequest]]) -> float:
        return await apply_in_flight(self._ledger, work, self._in_flight, self.mode)


class BatcherContender:
    """The AutoBatcher as the service configures it, fed by `submitters_count` concurrent tasks."""

    mode = "auto-batcher"

    def __init__(self, ledger: Ledger, config: Config) -> None:
        self._ledger = ledger
        self._limits = config.limits
        self._transfers = 0
        self._batches = 0

    @property
    def note(self) -> str:
        mean = self._transfers / self._batches if self._batches else 0
        return f"{submitters_count:,} submitters, mean batch {mean:,.0f}"

    def prepare(self, requests: list[TransferRequest], batch_transfers: int) -> tuple[list[TransferRequest], int]:
        return requests, batch_transfers

    async def run(self, work: tuple[list[TransferRequest], int]) -> float:
        requests, batch_transfers = work
        batcher = AutoBatcher(
            self._ledger,
            batch_transfers_max=batch_transfers,
            batch_wait_us=self._limits.batch_wait_us,
            queue_transfers_max=self._limits.queue_transfers_max,
        )
        await batcher.start()
        try:
            started = time.perf_counter()
            await submit_all(batcher, requests)
            seconds = time.perf_counter() - started
        finally:
            await batcher.stop()
        self._transfers += len(requests)
        self._batches += batcher.batches_settled
        return seconds


async def apply_in_flight(
    ledger: Ledger, batches: Sequence[Sequence[TransferRequest]], in_flight_max: int, mode: str
) -> float:
    """Apply the batches in order with up to `in_flight_max` apply calls outstanding; returns the seconds from the
    first call to the last result. Every result is checked afterwards, outside the timing."""
    answered: list[tuple[Sequence[TransferRequest], list[TransferResult]]] = []
    outstanding: list[tuple[Sequence[TransferRequest], asyncio.Task[list[TransferResult]]]] = []
    started = time.perf_counter()
    for batch in batches:
        if len(outstanding) == in_flight_max:
            done, task = outstanding.pop(0)
            answered.append((done, await task))
        # Tasks start in creation order, so the ledger receives the batches in this order.
        outstanding.append((batch, asyncio.create_task(ledger.apply(batch))))
    for done, task in outstanding:
        answered.append((done, await task))
    seconds = time.perf_counter() - started
    for batch, results in answered:
        require_ok(results, batch, mode)
    return seconds


async def submit_all(batcher: AutoBatcher, requests: Sequence[TransferRequest]) -> None:
    """`submitters_count` tasks, each submitting its share one transfer at a time and checking each answer."""

    async def submitter(own: Sequence[TransferRequest]) -> None:
        for request in own:
            require_ok(await batcher.submit((request,)), (request,), "auto-batcher")

    async with asyncio.TaskGroup() as group:
        for index in range(submitters_count):
            group.create_task(submitter(requests[index::submitters_count]))


async def measure(
    contenders: Sequence[Contender], source: PaymentSource, watch: ServerWatch, workload: Workload, scale: float
) -> list[Measurement]:
    """Measure the contenders at one batch size, fairly: after a CHECKPOINT and a warm-up each, the measured work
    is split into `rounds_count` rounds, and each round runs every contender once, in an order rotated from round
    to round, so that the tables' growth and any outside load fall on all of them alike."""
    warm_up, measured = workload.scaled(scale)
    batch_transfers = workload.batch_transfers
    rounds = _round_sizes(measured, batch_transfers)
    seconds = [0.0] * len(contenders)
    seen = [Observed() for _ in contenders]
    await watch.checkpoint()
    for contender in contenders:
        work = contender.prepare(source.take(warm_up), batch_transfers)
        with prebuilt_work_frozen():
            await contender.run(work)
    for round_number, round_transfers in enumerate(rounds):
        order = [(round_number + i) % len(contenders) for i in range(len(contenders))]
        works = {i: contenders[i].prepare(source.take(round_transfers), batch_transfers) for i in order}
        with prebuilt_work_frozen():
            for i in order:
                async with watch.observing(seen[i]):
                    seconds[i] += await contenders[i].run(works[i])
        del works
    return [
        Measurement(c.mode, batch_transfers, measured, seconds[i], seen[i], c.note) for i, c in enumerate(contenders)
    ]


def _round_sizes(measured: int, batch_transfers: int) -> list[int]:
    batches = measured // batch_transfers
    rounds = min(rounds_count, batches)
    return [(batches // rounds + (1 if r < batches % rounds else 0)) * batch_transfers for r in range(rounds)]


async def profile_ledger(
    ledger: Ledger,
    source: PaymentSource,
    watch: ServerWatch,
    workload: Workload,
    scale: float,
    path: Path,
) -> Measurement:
    """One extra ledger pass under cProfile, after the measured ones (the profiler slows everything down)."""
    _, measured = workload.scaled(scale)
    batches = in_batches(source.take(measured), workload.batch_transfers)
    profiler = cProfile.Profile()
    seen = Observed()
    with prebuilt_work_frozen():
        async with watch.observing(seen):
            profiler.enable()
            try:
                seconds = await apply_in_flight(ledger, batches, 2, "ledger.apply profiled")
            finally:
                profiler.disable()
    profiler.dump_stats(path)
    note = f"under cProfile, stats in {path}"
    return Measurement("ledger.apply", workload.batch_transfers, measured, seconds, seen, note, profiled=True)


# --- report ----------------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


async def cpu_busy_share(seconds: float = 1.0) -> float:
    """The share of all CPUs' time spent busy during the next `seconds`, from /proc/stat (0 where it is missing)."""

    def idle_and_total() -> tuple[int, int]:
        fields = [int(value) for value in Path("/proc/stat").read_text(encoding="ascii").split("\n")[0].split()[1:]]
        return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user..steal

    try:
        idle_before, total_before = idle_and_total()
        await asyncio.sleep(seconds)
        idle_after, total_after = idle_and_total()
    except OSError:
        return 0.0
    total = total_after - total_before
    return 1 - (idle_after - idle_before) / total if total else 0.0


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


async def describe_run(connection: asyncpg.Connection, config: Config, database: str, scale: float) -> list[str]:
    version = await connection.fetchval("SELECT version()")
    names = (
        "synchronous_commit", "fsync", "full_page_writes", "wal_level", "shared_buffers", "max_wal_size",
        "checkpoint_timeout", "wal_compression",
    )  # fmt: skip
    settings = [f"{name}={await connection.fetchval(f'SHOW {name}')}" for name in names]
    limits = config.limits
    return [
        f"machine     nproc={usable_cpus()} cpu={cpu_model()}",
        f"python      {platform.python_version()} ({platform.python_implementation()}), asyncpg {asyncpg.__version__}",
        f"postgresql  {version}",
        f"pg settings {' '.join(settings)}",
        f"ledger      batch_transfers_max={limits.batch_transfers_max} batch_wait_us={limits.batch_wait_us}"
        f" db_pool_connections_max={limits.db_pool_connections_max}",
        f"bench       database={database} scale={scale:g} banks={banks_count} wallets/bank=1 kind=payment"
        f" warm-up={warm_up_share:.0%} rounds={rounds_count}",
    ]


def print_table(measurements: Sequence[Measurement]) -> None:
    raw_rates = {m.batch_transfers: m.rate for m in measurements if m.mode == "raw COPY" and not m.profiled}
    print(
        f"{'mode':<14}{'batch':>6}{'transfers':>11}{'seconds':>9}{'transfers/s':>13}{'vs raw':>8}{'WAL B/tr':>10}  note"
    )
    for m in measurements:
        raw_rate = raw_rates.get(m.batch_transfers)
        ratio = f"{m.rate / raw_rate:.2f}" if raw_rate else "-"
        note = m.note
        if m.seen.foreign_transactions:
            note = (f"{note}; " if note else "") + f"other databases ran {m.seen.foreign_transactions:,} transactions"
        print(
            f"{m.mode:<14}{m.batch_transfers:>6,}{m.transfers:>11,}{m.seconds:>9.3f}{m.rate:>13,.0f}"
            f"{ratio:>8}{m.seen.wal_bytes / m.transfers:>10,.0f}  {note}".rstrip()
        )
    if any(m.seen.foreign_transactions for m in measurements):
        print("WARNING: other sessions used this server during the run; rerun on a quiet server to trust the figures")


def ratio_of(measurements: Sequence[Measurement], mode: str, note: str = "") -> float:
    def rate(mode: str, note: str) -> float:
        (found,) = [
            m
            for m in measurements
            if (m.mode, m.batch_transfers) == (mode, gated_batch_transfers) and m.note.startswith(note) and not m.profiled
        ]
        return found.rate

    return rate(mode, note) / rate("raw COPY", "")


# --- main ------------------------------------------------------------------------------------------------------


async def run(admin_url: str, scale: float, profile_path: Path | None) -> int:
    async with scratch_database(admin_url) as database:
        with tempfile.TemporaryDirectory(prefix="bench-ledger-") as directory:
            config = write_config(Path(directory), with_database(admin_url, database, "postgresql+asyncpg"))
            store = await open_store(config, upgrade=True)
            try:
                connection = await asyncpg.connect(with_database(admin_url, database, "postgresql"), timeout=10)
                try:
                    return await run_on(config, store, connection, database, scale, profile_path)
                finally:
                    await connection.close()
            finally:
                await store.close()


async def run_on(
    config: Config,
    store: SqlStore,
    connection: asyncpg.Connection,
    database: str,
    scale: float,
    profile_path: Path | None,
) -> int:
    signer = ChainSigner(load_private_key(config.central_bank.signing_key_file))
    ledger = Ledger(store, signer, config.limits, clock_us=now_us, is_transient=is_transient)
    accounts = await store.accounts()
    (issuance,) = [a for a in accounts if a.kind is AccountKind.ISSUANCE]
    wallets = [Wallet(a.id, a.owner_bic) for a in accounts if a.kind is AccountKind.WALLET]
    if len(wallets) != banks_count:
        raise BenchError(f"expected {banks_count} wallets after bootstrap, found {len(wallets)}")
    await fund_wallets(ledger, issuance, wallets)
    raw = await RawLedger.create(connection)
    watch = ServerWatch(connection)
    source = PaymentSource(wallets, seed=2026)

    for line in await describe_run(connection, config, database, scale):
        print(line)
    busy = await cpu_busy_share()
    print(f"cpu busy    {busy:.0%} of all CPUs in the second before measuring (the bench itself idle)")
    if busy > busy_cpu_share_min:
        print("WARNING: other processes are using the CPUs: expect lower, noisier figures")
    print(flush=True)

    measurements: list[Measurement] = []
    for workload in workloads:
        contenders: list[Contender] = [RawContender(raw)]
        contenders += [LedgerContender(ledger, 1), LedgerContender(ledger, 2)]
        if workload.batch_transfers == config.limits.batch_transfers_max:
            contenders.append(BatcherContender(ledger, config))
        measurements += await measure(contenders, source, watch, workload, scale)
    if profile_path is not None:
        measurements.append(await profile_ledger(ledger, source, watch, workloads[-1], scale, profile_path))

    print_table(measurements)
    print()
    ratio = ratio_of(measurements, "ledger.apply", "2 in flight")
    verdict = "PASS" if ratio >= ratio_target else "FAIL"
    print(
        f"{verdict}: ledger.apply at batch {gated_batch_transfers:,} with 2 in flight reaches {ratio:.2f} of the raw"
        f" limit (target >= {ratio_target}); 1 in flight {ratio_of(measurements, 'ledger.apply', '1 in flight'):.2f},"
        f" through the auto-batcher {ratio_of(measurements, 'auto-batcher'):.2f}"
    )
    return 0 if verdict == "PASS" else 1


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(pg_url_env, pg_url_default),
        help=f"a PostgreSQL database to connect to for CREATE DATABASE (default ${pg_url_env} or {pg_url_default})",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every transfer count (default 1)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the work (combines with --scale)")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="FILE",
        help="after measuring, run ledger.apply at batch 1,000 once more under cProfile and write its stats to FILE",
    )
    arguments = parser.parse_args(argv)
    if not arguments.scale > 0:
        parser.error("--scale must be positive")
    if arguments.quick:
        arguments.scale /= 10
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    admin_database = urlsplit(arguments.pg_url).path.lstrip("/") or "postgres"
    admin_url = with_database(arguments.pg_url, admin_database, "postgresql")
    return asyncio.run(run(admin_url, arguments.scale, arguments.profile))


if __name__ == "__main__":
    sys.exit(main())
