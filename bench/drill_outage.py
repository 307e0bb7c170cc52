"""Fault drill (b): the gateway's database goes away (refused, then black-holed) and comes back, under load.

Run (from the repository root, with the gateway installed):

    python bench/drill_outage.py               # four phases of 10 s each
    python bench/drill_outage.py --short       # 4 s each, as CI runs it
    python bench/drill_outage.py --phase-seconds 30 --connections 16 --seed 3

One gateway (`gateway serve`, mutual TLS) reaches its scratch PostgreSQL database (drills_outage_<random>, dropped at
the end) only through a TCP proxy the drill runs and steers (bench/drills/tcp_proxy.py); its [limits] cut every wait
on the database at half a second and due every answer within two (request_timeout_ms = 2000), as
tests/edge/test_database_outage.py does. `--connections` senders post single-transaction pacs.008 through four
phases of `--phase-seconds` each:
  normal        the proxy forwards: every answer is ACSC;
  refused       the proxy cuts every connection and closes new ones at once (the server is down);
  black-holed   the proxy accepts connections and swallows their bytes, answering nothing (a hung server);
  recovered     the proxy forwards again: payments settle again.
During both outage phases every request sent and answered within the phase must get 503 with Retry-After, and no
request may go unanswered (a hang, a broken connection): the longest answer is printed. Afterwards every payment
without a final answer is re-sent, same bytes, until answered, and the checks of every drill follow (each
acknowledged payment settled exactly once, each re-sent one at most once, balances = model, `gateway ledger
verify`). The last line is the figure; the exit status is non-zero if any check failed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from urllib.parse import urlsplit

from drills.common import (
    Banks,
    Exchange,
    Payments,
    Site,
    arguments,
    closed_loop,
    report,
    resend_unanswered,
)
from drills.tcp_proxy import Mode, TcpProxy

funding_kopecks = 10**11
outage_limits = (
    "request_timeout_ms = 2000\ndb_statement_timeout_ms = 500\ndb_connect_timeout_ms = 500\n"
    "db_checkout_timeout_ms = 500\nqueue_wait_ms = 1000\nbatch_retries_max = 1\n"
)
phases: list[tuple[str, Mode]] = [
    ("normal", "forward"), ("refused", "refuse"), ("black-holed", "black_hole"), ("recovered", "forward"),
]


def judge(timeline: list[Exchange], bounds: list[tuple[str, float, float]]) -> tuple[list[str], list[str]]:
    """What each phase's answers say (for the figure line), and what broke the drill's promises (problems)."""
    figures, problems = [], []
    longest_outage_answer = 0.0
    for name, start, end in bounds:
        within = [e for e in timeline if start <= e.started and e.finished < end]
        kinds = [e.answer.kind for e in within]
        if name in ("refused", "black-holed"):
            unavailable = [e for e in within if e.answer.kind == "503"]
            other = [e.answer.describe() for e in within if e.answer.kind != "503"]
            without_retry_after = sum(not e.answer.retry_after for e in unavailable)
            longest_outage_answer = max([longest_outage_answer, *(e.finished - e.started for e in within)])
            figures.append(f"{name} {len(unavailable) - without_retry_after:,} x 503 with Retry-After")
            if not unavailable:
                problems.append(f"{name}: no 503 at all")
            if other:
                problems.append(f"{name}: {len(other)} answers other than 503, e.g. {other[:3]}")
            if without_retry_after:
                problems.append(f"{name}: {without_retry_after} answers 503 without Retry-After")
        else:
            settled = kinds.count("ACSC")
            figures.append(f"{name} {settled:,} ACSC")
            if not settled:
                problems.append(f"{name}: no payment settled")
            if name == "normal" and settled != len(kinds):
                problems.append(f"{name}: {len(kinds) - settled} answers other than ACSC")
    figures.append(f"longest answer in the outage {longest_outage_answer:.1f} s")
    return figures, problems


async def drill(site: Site, phase_seconds: float, connections: int, seed: int, port: int) -> int:
    server = urlsplit(site.database_url)
    proxy = TcpProxy(server.hostname or "127.0.0.1", server.port or 5432)
    await proxy.start(port + 1)
    proxied = site.write_config(site.workdir / "gateway-proxied.toml",
                                site.database_url.replace(server.netloc, f"{server.username}@127.0.0.1:{proxy.port}"))
    banks = Banks(site.certs_dir, site.banks)
    try:
        await asyncio.to_thread(site.start, port, 1, proxied)
        funding = await site.fund(banks, port, funding_kopecks)
        payments = Payments("outage", seed, site.banks, (1_00, 5_000_000_00))
        stop = asyncio.Event()
        load = asyncio.create_task(closed_loop(banks, payments, [port], connections, stop))
        bounds = []
        for name, mode in phases:
            proxy.set_mode(mode)
            start = time.monotonic()
            await asyncio.sleep(phase_seconds)
            bounds.append((name, start, time.monotonic()))
        stop.set()
        await load
        resent = await resend_unanswered(banks, payments.made, [port])
        figures, problems = judge(banks.timeline, bounds)
        verdict = await site.conclude(payments.made, resent, funding)
        verdict.problems += problems
    finally:
        await banks.close()
        await proxy.close()
    return report("outage", verdict, ", ".join(figures))


def main() -> int:
    args = arguments(__doc__, full={"phase_seconds": 10.0, "connections": 8},
                     short={"phase_seconds": 4.0, "connections": 4})
    with Site("outage", args.pg_url, bank_count=10, limits_toml=outage_limits) as site:
        return asyncio.run(drill(site, args.phase_seconds, args.connections, args.seed, args.port + 10))


if __name__ == "__main__":
    sys.exit(main())
