"""What the treasury page costs the database on a busy day: each read behind /v1/treasury/... and /metrics, timed on
PostgreSQL holding a few hundred thousand of today's payments.

Run (from the repository root, with the gateway installed):

    python bench/treasury.py                       # 300,000 payments today
    python bench/treasury.py --payments 1000000
    python bench/treasury.py --pg-url postgresql://postgres@127.0.0.1:5432/postgres

--pg-url (default $GATEWAY_BENCH_PG_URL, else the local trust-auth server) names a database to connect to as a user
allowed to CREATE DATABASE. The bench creates a scratch database bench_treasury_<random> there, migrates it through
gateway.runtime.open_store with a config it writes itself (the central bank and 20 banks, two wallets each), and
drops it at the end, also on failure.

The day it writes with COPY, all of it inside today's business day (the worst case: every query's window holds it
all): --payments inbound pacs.008 messages, each with its payment row, its pacs.002 answer and its ledger transfer
(97% settled, 2% rejected AM04, 1% warehoused for tomorrow); one refused message (admi.002, a reason code) per 200;
1,000 conversions; 200 open reconciliation breaks. Transfers are spread over the last eight hours. The chain hashes
are random: nothing here verifies them.

Then, after VACUUM ANALYZE, each read of gateway_adapters.sql.figures.SqlFigures (and the gauges /metrics reads) is run 7
times and its median printed, as the central bank and as one bank where the read filters by bank. "movements, the
whole day" is what a process reads once, on its first chart request of the day; "movements, 5 s of traffic" what each
later poll reads (1,000 transfers past the cursor). The overview, what the page polls, is timed end to end through
gateway.treasury.figures.TreasuryFigures with treasury_refresh_ms = 0 (no sharing between polls) and an RTGS that
answers at once, so that only the database's part is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from gateway.config import load_config
from gateway.conversion.ports import FiatBalance
from gateway.domain.calendar import BusinessCalendar
from gateway.ledger.signing import generate_key_file
from gateway.runtime import open_store
from gateway.treasury.figures import TreasuryFigures, Viewer
from gateway_adapters.sql.days import SqlBusinessDays
from gateway_adapters.sql.figures import SqlFigures
from gateway_adapters.sql.store import now_us

pg_url_default = "postgresql://postgres@127.0.0.1:5432/postgres"
pg_url_env = "GATEWAY_BENCH_PG_URL"
banks_count = 20
repeats = 7
hour_us = 3_600_000_000


class InstantRtgs:
    """An RTGS that answers every balance at once: the overview's timing is the database's."""

    reserve_account = "30101810000000000001"

    async def balance(self, account: str) -> FiatBalance:
        return FiatBalance(account, 0, 0)


def with_database(url: str, database: str, scheme: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def bank_bic(index: int) -> str:
    return f"BN{chr(65 + index // 26)}{chr(65 + index % 26)}RUMMXXX"


def write_config(directory: Path, database_url: str) -> Path:
    key_file = directory / "cb-key.pem"
    generate_key_file(key_file)
    banks = "".join(
        f'[[participants]]\nbic = "{bank_bic(i)}"\nname = "Bank {i}"\nrtgs_account = "3010181000000000{i:04d}"\n'
        'wallets = ["main", "clients"]\n'
        for i in range(banks_count)
    )
    path = directory / "gateway.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n[central_bank]\nbic = "CBRFRUMMXXX"\nname = "Bank of Russia"\n'
        f'signing_key_file = "{key_file}"\nemission_cap_rub = "1000000000000.00"\n'
        f'reserve_rtgs_account = "30101810000000000001"\n{banks}'
        '[limits]\ntreasury_refresh_ms = 0\ndb_statement_timeout_ms = 120000\n',
        encoding="utf-8",
    )
    return path


async def fill(connection: asyncpg.Connection, payments: int, today: date, start_us: int) -> None:
    """Today's traffic, written with COPY."""
    rng = random.Random(7)
    wallets = [
        (row["id"], row["owner_bic"])
        for row in await connection.fetch("SELECT id, owner_bic FROM accounts WHERE kind = 'wallet' ORDER BY id")
    ]
    span_us = 8 * hour_us
    messages, payment_rows, transfers = [], [], []
    digest = hashlib.sha256(b"").digest()
    for n in range(payments):
        at_us = start_us + span_us * n // payments
        (debit_id, debtor), (credit_id, creditor) = rng.sample(wallets, 2)
        inbound, answer, transfer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        refused = n % 200 == 199
        roll = rng.random()
        state = "warehoused" if roll < 0.01 else "rejected" if roll < 0.03 else "settled"
        status = {"settled": "accepted", "rejected": "rejected", "warehoused": "warehoused"}[state]
        if refused:
            messages.append((inbound, "in", debtor, "CBRFRUMMXXX", "pacs.008.001.08", f"R{n}", None, b"<x/>", digest,
                             "rejected", None, at_us, "RC02"))
            messages.append((answer, "out", "CBRFRUMMXXX", debtor, "admi.002.001.01", f"A{n}", None, b"<x/>", digest,
                             "deliverable", inbound, at_us, None))
            continue
        messages.append((inbound, "in", debtor, "CBRFRUMMXXX", "pacs.008.001.08", f"M{n}", f"msg|{debtor}|M{n}",
                         b"<x/>", digest, status, None, at_us, None))
        messages.append((answer, "out", "CBRFRUMMXXX", debtor, "pacs.002.001.10", f"A{n}", None, b"<x/>", digest,
                         "deliverable", inbound, at_us, None))
        amount = rng.randint(1, 10_000_000_00)
        settlement = today + timedelta(days=1) if state == "warehoused" else today
        payment_rows.append((
            uuid.uuid4(), transfer, inbound, 1, "pacs.008", debtor, creditor, f"M{n}", uuid.uuid4(), f"E{n}", None,
            None, amount, settlement.isoformat(), state, "AM04" if state == "rejected" else None, None, at_us,
            at_us if state == "settled" else None,
        ))
        if state == "settled":
            transfers.append((len(transfers) + 1, transfer, debit_id, credit_id, amount, "payment", "single", None,
                              f"{debtor}:M{n}", None, 0, at_us, os.urandom(32)))
    message_columns = ("id", "direction", "sender_bic", "receiver_bic", "message_type", "reference", "idempotency_key",
                       "payload", "payload_sha256", "status", "answers_id", "created_at_us", "reason_code")
    payment_columns = ("id", "transfer_id", "message_id", "position", "kind", "debtor_bic", "creditor_bic",
                       "group_message_id", "uetr", "end_to_end_id", "instruction_id", "transaction_id",
                       "amount_kopecks", "settlement_date", "state", "reason_code", "original_payment_id",
                       "created_at_us", "settled_at_us")
    transfer_columns = ("seq", "id", "debit_account_id", "credit_account_id", "amount_kopecks", "kind", "phase",
                        "pending_id", "reference", "uetr", "timeout_seconds", "created_at_us", "hash")
    await connection.copy_records_to_table("messages", records=messages, columns=message_columns)
    await connection.copy_records_to_table("payments", records=payment_rows, columns=payment_columns)
    await connection.copy_records_to_table("transfers", records=transfers, columns=transfer_columns)
    await connection.execute("UPDATE ledger_head SET seq = $1", len(transfers))
    await connection.execute(
        "INSERT INTO business_days (business_date, state, cutoff_at_us, first_seq, last_seq, opened_at_us)"
        " VALUES ($1, 'open', $2, 0, NULL, $3)", today.isoformat(), start_us + 24 * hour_us, start_us,
    )
    conversion_messages, conversions = [], []
    for n in range(1_000):
        wallet_id, bank = wallets[n % len(wallets)]
        inbound, at_us = uuid.uuid4(), start_us + span_us * n // 1_000
        conversion_messages.append((inbound, "in", bank, "CBRFRUMMXXX", "camt.050.001.05", f"C{n}",
                                    f"msg|{bank}|C{n}", b"<x/>", digest, "accepted", None, at_us, None))
        state = "rejected" if n % 50 == 0 else "fiat_held" if n % 97 == 0 else "settled"
        conversions.append((uuid.uuid4(), inbound, bank, "mint", "30101810000000000000", wallet_id, f"{bank}/main",
                            1_000_000_00, today.isoformat(), state, "AM04" if state == "rejected" else None, None,
                            f"C{n}", None, None, None, at_us, at_us + 30_000_000, at_us))
    await connection.copy_records_to_table("messages", records=conversion_messages, columns=message_columns)
    await connection.copy_records_to_table("conversions", records=conversions, columns=(
        "id", "message_id", "bank_bic", "direction", "rtgs_account", "wallet_account_id", "wallet_code",
        "amount_kopecks", "business_date", "state", "reason_code", "reason_text", "request_message_id",
        "transaction_id", "end_to_end_id", "uetr", "created_at_us", "deadline_at_us", "updated_at_us"))
    breaks = [
        (uuid.uuid4(), f"bench-{n}", "message_without_posting", today.isoformat(), today.isoformat(),
         today.isoformat(), start_us, start_us, None, 100, None, wallets[n % len(wallets)][1] + "/main", "{}", "bench")
        for n in range(200)
    ]
    await connection.copy_records_to_table("reconciliation_breaks", records=breaks, columns=(
        "id", "fingerprint", "kind", "business_date", "first_seen_date", "last_seen_date", "first_seen_at_us",
        "last_seen_at_us", "resolved_at_us", "amount_kopecks", "expected_kopecks", "account", "references_json",
        "description"))
    # As autovacuum leaves an insert-only table soon after (PostgreSQL 13 and later): statistics and the visibility
    # map, which lets a covering index answer without visiting the table.
    await connection.execute("VACUUM ANALYZE")


async def timed(read: Callable[[], Awaitable[object]]) -> float:
    """The median of `repeats` runs, in milliseconds."""
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        await read()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


async def run(admin_url: str, payments: int) -> int:
    name = f"bench_treasury_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as scratch:
            url = with_database(admin_url, name, "postgresql+asyncpg")
            config = load_config(write_config(Path(scratch), url), environ={})
            store = await open_store(config, upgrade=True)
            try:
                calendar = BusinessCalendar(24 * 60, frozenset(), frozenset())
                now = now_us()
                today = calendar.business_date_at(now)
                start_us = calendar.cutoff_us(calendar.previous_business_day(today))
                start_us = max(start_us, now - 8 * hour_us)
                filling = time.perf_counter()
                connection = await asyncpg.connect(with_database(admin_url, name, "postgresql"))
                try:
                    await fill(connection, payments, today, start_us)
                    sizes = {
                        table: await connection.fetchval(f"SELECT count(*) FROM {table}")
                        for table in ("messages", "payments", "transfers", "conversions")
                    }
                finally:
                    await connection.close()
                print(f"filled in {time.perf_counter() - filling:.1f} s: "
                      + ", ".join(f"{table} {rows:,} rows" for table, rows in sizes.items()))
                reads = SqlFigures(store.engine)
                days = SqlBusinessDays(store.engine)
                since_us = calendar.cutoff_us(calendar.previous_business_day(today))
                head = (await store.head()).seq
                bank = bank_bic(7)
                figures = TreasuryFigures(reads, store, store, days, InstantRtgs(), calendar,  # type: ignore[arg-type]
                                          "CBRFRUMMXXX", 0, now_us)
                rows: list[tuple[str, Callable[[], Awaitable[object]]]] = [
                    ("inbound messages by sender, type, verdict", lambda: reads.inbound_counts(since_us)),
                    ("transactions by bank, type, outcome", lambda: reads.transaction_totals(since_us, today)),
                    ("rejects by bank and reason code", lambda: reads.reason_counts(since_us, today)),
                    ("latest 50 rejects, central bank", lambda: reads.recent_rejects(since_us, today, None, 50)),
                    ("latest 50 rejects, one bank", lambda: reads.recent_rejects(since_us, today, bank, 50)),
                    ("pending and warehoused, central bank", lambda: reads.pending(None, 50)),
                    ("pending and warehoused, one bank", lambda: reads.pending(bank, 50)),
                    ("open breaks, central bank", lambda: reads.open_breaks(None, 50)),
                    ("open breaks by kind (/metrics)", reads.open_break_kinds),
                    ("gauges (/metrics: ledger rows, day, breaks)", figures.gauges),
                    ("movements, 5 s of traffic (1,000 transfers)",
                     lambda: reads.movements(max(0, head - 1_000), None, hourly=True)),
                    ("movements, the whole day (once a day)", lambda: reads.movements(0, None, hourly=True)),
                    ("overview, central bank (what the page polls)",
                     lambda: figures.overview(Viewer("CBRFRUMMXXX", True))),
                    ("overview, one bank", lambda: figures.overview(Viewer(bank, False))),
                ]
                print(f"{'read':<48} {'median ms':>10}   ({repeats} runs each)")
                for label, read in rows:
                    print(f"{label:<48} {await timed(read):>10.1f}")
            finally:
                await store.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get(pg_url_env, pg_url_default),
                        help=f"a database to connect to for CREATE DATABASE (default ${pg_url_env} or {pg_url_default})")
    parser.add_argument("--payments", type=int, default=300_000, help="today's payments (default 300,000)")
    arguments = parser.parse_args(argv)
    if arguments.payments < 1_000:
        parser.error("--payments must be at least 1,000")
    admin_database = urlsplit(arguments.pg_url).path.lstrip("/") or "postgres"
    return asyncio.run(run(with_database(arguments.pg_url, admin_database, "postgresql"), arguments.payments))


if __name__ == "__main__":
    sys.exit(main())
