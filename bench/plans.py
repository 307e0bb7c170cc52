"""The plans of every query on the single-payment path, on a ledger of millions of transfers.

Run (from the repository root, with the gateway installed):

    python bench/plans.py                        # 10,000,000 transfers of history (generating them takes a while)
    python bench/plans.py --transfers 1000000    # a smaller history

--pg-url (default $GATEWAY_BENCH_PG_URL, else the local trust-auth server) names a server where the bench may
CREATE DATABASE as a superuser (it loads auto_explain): it creates bench_plans_perf_<random>, migrates it, funds the
banks of bench/e2e.py's config, and drops it at the end.

History: --transfers rows in each of transfers, payments and mailbox, twice as many messages (each payment's
pacs.008 and its answer) and claims (each message's (sender, MsgId) and each payment's UETR), written by SQL
(generate_series) in a few minutes rather than settled one by one, then ANALYZEd. The history's transfers have
negative sequence numbers: they sit beside the real chain (which goes on from the head as usual) without being part
of it, so this is a database for reading plans, never for an audit.

Then the gateway runs in this process on that database, with PostgreSQL's auto_explain (ANALYZE, BUFFERS) on for
its sessions: every statement the real code sends while it settles --payments single-transaction pacs.008s, answers
a repeated one from the journal (duplicate detection), and pages mailboxes (a busy bank's, an empty one) is
explained as it runs. COPY has
no plan and is not shown. For each distinct statement it prints how often it ran, its plan's node types, the largest
execution time and the tables it scanned sequentially.

Exit status: 1 when any plan reads a big table (more than --big-rows rows) with a sequential scan, or has a node that
reads more than --big-rows rows only to drop them by a filter (an index walked in search of a rare value); 0
otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import e2e

from gateway.config import load_config
from gateway.ledger.signing import generate_key_file

big_rows_default = 100_000
explain_settings = {
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    "auto_explain.log_timing": "on",
    "auto_explain.log_nested_statements": "on",
    "auto_explain.log_format": "json",
    "client_min_messages": "log",  # auto_explain's LOG lines reach the client, where this bench collects them
}


# --- the history ---------------------------------------------------------------------------------------------------


def history_statements(transfers: int, wallets: list[int], banks: list[str]) -> list[tuple[str, str]]:
    """(what, SQL) that write the history: every id derived from its row number (md5 as a uuid), so the tables
    agree with one another (a payment names its transfer, its message, its UETR) without a join."""
    wallet_array = "ARRAY[" + ",".join(str(w) for w in wallets) + "]::bigint[]"
    bank_array = "ARRAY[" + ",".join(f"'{b}'" for b in banks) + "]::text[]"
    n = len(wallets)
    b = len(banks)
    series = f"generate_series(1, {transfers}) AS i"
    # Ids: transfer 't'||i, inbound message 'm'||i, answer 'a'||i, payment 'p'||i, UETR 'u'||i.
    return [
        ("transfers", f"""
            INSERT INTO transfers (seq, id, debit_account_id, credit_account_id, amount_kopecks, kind, phase,
                                   pending_id, reference, uetr, timeout_seconds, created_at_us, hash)
            SELECT -i, md5('t' || i)::uuid, ({wallet_array})[1 + i % {n}], ({wallet_array})[1 + (i + 1) % {n}],
                   1 + i % 100000, 'payment', 'single', NULL, ({bank_array})[1 + i % {b}] || ':H-' || i,
                   md5('u' || i)::uuid, 0, 1700000000000000 + i::bigint * 1000, decode(md5('h' || i) || md5('g' || i), 'hex')
            FROM {series}"""),
        ("messages", f"""
            INSERT INTO messages (id, direction, sender_bic, receiver_bic, message_type, reference, idempotency_key,
                                  payload, payload_sha256, status, answers_id, created_at_us, reason_code)
            SELECT md5('m' || i)::uuid, 'in', ({bank_array})[1 + i % {b}], 'CBRFRUMMXXX', 'pacs.008.001.08',
                   'H-' || i, 'msg|' || ({bank_array})[1 + i % {b}] || '|H-' || i,
                   convert_to(repeat(md5('m' || i), 40), 'UTF8'), decode(md5('m' || i) || md5('n' || i), 'hex'),
                   'accepted', NULL, 1700000000000000 + i::bigint * 1000, NULL
            FROM {series}
            UNION ALL
            SELECT md5('a' || i)::uuid, 'out', 'CBRFRUMMXXX', ({bank_array})[1 + i % {b}], 'pacs.002.001.10',
                   'A-' || i, NULL, convert_to(repeat(md5('a' || i), 25), 'UTF8'),
                   decode(md5('a' || i) || md5('b' || i), 'hex'), 'deliverable', md5('m' || i)::uuid,
                   1700000000000000 + i::bigint * 1000, NULL
            FROM {series}"""),
        ("payments", f"""
            INSERT INTO payments (id, transfer_id, message_id, position, kind, debtor_bic, creditor_bic,
                                  group_message_id, uetr, end_to_end_id, instruction_id, transaction_id,
                                  amount_kopecks, settlement_date, state, reason_code, original_payment_id,
                                  created_at_us, settled_at_us)
            SELECT md5('p' || i)::uuid, md5('t' || i)::uuid, md5('m' || i)::uuid, 1, 'pacs.008',
                   ({bank_array})[1 + i % {b}], ({bank_array})[1 + (i + 1) % {b}], 'H-' || i, md5('u' || i)::uuid,
                   'E-' || i, NULL, NULL, 1 + i % 100000, '2026-01-01', 'settled', NULL, NULL,
                   1700000000000000 + i::bigint * 1000, 1700000000000000 + i::bigint * 1000
            FROM {series}"""),
        ("claims", f"""
            INSERT INTO claims (key, message_id, created_at_us)
            SELECT 'msg|' || ({bank_array})[1 + i % {b}] || '|H-' || i, md5('m' || i)::uuid, 1700000000000000 + i
            FROM {series}
            UNION ALL
            SELECT 'uetr|' || md5('u' || i)::uuid, md5('m' || i)::uuid, 1700000000000000 + i FROM {series}"""),
        ("mailbox", f"""
            INSERT INTO mailbox (recipient_bic, message_id, created_at_us, delivered_at_us, delivery_attempts,
                                 next_attempt_at_us)
            SELECT ({bank_array})[1 + i % {b}], md5('a' || i)::uuid, 1700000000000000 + i::bigint * 1000, NULL, 0, NULL
            FROM {series}"""),
    ]


# --- what auto_explain reports ---------------------------------------------------------------------------------------

explained: list[tuple[str, dict[str, Any]]] = []  # (statement, plan) as the sessions report them


def _collect_explained(self: asyncpg.Connection, fields: Any, last_query: str | None) -> None:
    """Every session's server messages: auto_explain's are "duration: ... plan:" followed by the JSON plan. This
    replaces asyncpg's dispatcher for the whole process (the gateway's sessions included): a bench's shortcut."""
    text = fields.get("M", "") if isinstance(fields, dict) else ""
    if "plan:" in text:
        document = json.loads(text.split("plan:", 1)[1])
        explained.append((document.get("Query Text") or last_query or "?", document))


@dataclass
class Statement:
    text: str
    runs: int = 0
    slowest_ms: float = 0.0
    node_types: list[str] = field(default_factory=list)
    sequential: set[str] = field(default_factory=set)
    relations: set[str] = field(default_factory=set)
    filtered_out: int = 0  # the most rows one node read and threw away (an index walked for a rare value)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def summarise(reports: list[tuple[str, dict[str, Any]]]) -> dict[str, Statement]:
    statements: dict[str, Statement] = {}
    for text, document in reports:
        key = " ".join(text.split())
        statement = statements.setdefault(key, Statement(key))
        statement.runs += 1
        plan = document["Plan"]
        statement.slowest_ms = max(statement.slowest_ms, plan.get("Actual Total Time", 0.0))
        for node in nodes(plan):
            kind = node["Node Type"]
            if "Relation Name" in node:
                statement.relations.add(node["Relation Name"])
                kind += f" on {node['Relation Name']}"
                if node.get("Index Name"):
                    kind += f" using {node['Index Name']}"
            if kind not in statement.node_types:
                statement.node_types.append(kind)
            if node["Node Type"] == "Seq Scan":
                statement.sequential.add(node["Relation Name"])
            statement.filtered_out = max(statement.filtered_out, node.get("Rows Removed by Filter", 0))
    return statements


# --- main ------------------------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    database = f"bench_plans_perf_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.pg_url)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-plans-") as directory:
            return await run_on(args, database, Path(directory))
    finally:
        admin = await asyncpg.connect(args.pg_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()


async def run_on(args: argparse.Namespace, database: str, directory: Path) -> int:
    from gateway.runtime import open_store, running_gateway

    base = args.pg_url.rsplit("/", 1)[0]
    config_path = e2e.write_config(directory, base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + database,
                                   batch_transfers_max=1000)
    generate_key_file(directory / "cb-key.pem")
    config = load_config(config_path, environ={})
    store = await open_store(config, upgrade=True)
    await store.close()
    await e2e.fund(config_path)

    connection = await asyncpg.connect(f"{base}/{database}")
    try:
        wallets = [row["id"] for row in await connection.fetch(
            "SELECT id FROM accounts WHERE kind = 'wallet' AND owner_bic <> 'CBRFRUMMXXX' ORDER BY id")]
        print(f"history: {args.transfers:,} transfers, payments and mailbox rows; twice as many messages and claims",
              flush=True)
        for table, sql in history_statements(args.transfers, wallets, e2e.banks()):
            started = time.monotonic()
            await connection.execute(sql)
            print(f"  {table:<10} written in {time.monotonic() - started:6.1f} s", flush=True)
        started = time.monotonic()
        await connection.execute("ANALYZE")
        print(f"  ANALYZE    in {time.monotonic() - started:6.1f} s", flush=True)
        big = {row["relname"] for row in await connection.fetch(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples > $1", args.big_rows)}
        for name, value in explain_settings.items():
            await connection.execute(f'ALTER DATABASE "{database}" SET {name} = \'{value}\'')
    finally:
        await connection.close()

    asyncpg.Connection._process_log_message = _collect_explained  # type: ignore[method-assign]
    today = datetime.now(e2e.moscow).date().isoformat()
    banks = e2e.banks()
    rng = random.Random(16)
    async with running_gateway(config, upgrade=False) as gateway:
        explained.clear()  # the start-up's statements are not the payment path's
        first = None
        for number in range(args.payments):
            sender = rng.choice(banks)
            data = e2e.pacs_008(sender, f"PLAN-{number:06d}", [rng.choice([b for b in banks if b != sender])], today)
            first = first or (data, sender)
            reply = await gateway.inbound.receive(data, sender)
            if b"<GrpSts>ACSC</GrpSts>" not in reply.body:
                raise SystemExit(f"payment {number} was not settled: {reply.body[-500:]!r}")
        await gateway.inbound.receive(*first)  # a repeat: answered from the journal
        # A bank's mailbox from the start and from the middle, and one that holds nothing: the central bank's.
        for bank in banks[:3]:
            await gateway.journal.mailbox(bank, 0, 100, 0)
            await gateway.journal.mailbox(bank, args.transfers // 2, 100, 0)
        await gateway.journal.mailbox(e2e.central_bank, 0, 100, 0)

    # asyncpg's own catalog queries (type introspection) and session settings are not the path's: left out.
    statements = {text: s for text, s in summarise(explained).items()
                  if any(not relation.startswith("pg_") for relation in s.relations)}
    failed = False
    print(f"\n{len(statements)} distinct statements on the path (big tables: {', '.join(sorted(big))})")
    for statement in sorted(statements.values(), key=lambda s: -s.slowest_ms):
        scanned_big = statement.sequential & big
        failed = failed or bool(scanned_big) or statement.filtered_out > args.big_rows
        verdict = f"SEQUENTIAL SCAN OF {', '.join(sorted(scanned_big))}" if scanned_big else "ok"
        if statement.filtered_out > args.big_rows:
            verdict = f"READ AND DROPPED {statement.filtered_out:,} ROWS"
        print(f"\n{statement.runs:>5} x  slowest {statement.slowest_ms:8.3f} ms  {verdict}\n  {statement.text[:300]}")
        for node_type in statement.node_types:
            print(f"    {node_type}")
    print(f"\n{'FAIL' if failed else 'PASS'}: no sequential scan of a table of more than {args.big_rows:,} rows,"
          f" no node that reads and drops more rows than that")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=os.environ.get("GATEWAY_BENCH_PG_URL", e2e.pg_url_default))
    parser.add_argument("--transfers", type=int, default=10_000_000, help="transfers of history")
    parser.add_argument("--payments", type=int, default=50, help="single payments settled while explaining")
    parser.add_argument("--big-rows", type=int, default=big_rows_default,
                        help="a table with more rows than this is big: a sequential scan of it fails the bench")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
