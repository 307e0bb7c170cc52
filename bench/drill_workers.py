"""Fault drill (d): `kill -9` of single worker processes of `gateway serve --workers N` under load.

Run (from the repository root, with the gateway installed):

    python bench/drill_workers.py              # 4 workers, 10 kills
    python bench/drill_workers.py --short      # 3 workers, 2 kills, as CI runs it
    python bench/drill_workers.py --workers 8 --kills 30 --seed 2

One `gateway serve --workers N` (mutual TLS) on a scratch PostgreSQL database (drills_workers_<random>, dropped at
the end). Its workers share the port (SO_REUSEPORT): the serve process itself and its children. `--connections`
senders post single-transaction pacs.008; at `--kills` random moments (0.5 to 3 s apart, drawn from --seed) the
drill sends SIGKILL to one child of the serve process, chosen at random among those alive. Payments in flight on the
killed worker get no answer; the others keep serving.

Afterwards every payment without a final answer is re-sent, same bytes, until answered, and the checks of every
drill follow (each acknowledged payment settled exactly once, each re-sent one at most once, balances = model,
`gateway ledger verify`). The figure line also says how many children were alive at the end: N - 1 when the serve
process replaces a killed worker, fewer when it does not (a kill finding no child alive is counted as skipped). The
exit status is non-zero if any loss check failed; fewer workers alive alone does not fail it.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from pathlib import Path

from drills.common import (
    Banks,
    Payments,
    Site,
    arguments,
    closed_loop,
    report,
    resend_unanswered,
)

funding_kopecks = 10**11
listen_seconds_max = 60


def children_alive(parent: int) -> list[int]:
    """Processes whose parent is `parent` and that are not zombies (killed and not yet reaped), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended while we looked
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z":
            found.append(int(entry.name))
    return sorted(found)


def listening_sockets(port: int) -> int:
    """Sockets in LISTEN state on the port (one per worker), from /proc/net/tcp and tcp6."""
    count = 0
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if table.exists():
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                count += fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port
    return count


def wait_listening(port: int, workers: int) -> None:
    """The load's keep-alive connections go to the sockets listening when they open: wait for every worker's."""
    deadline = time.monotonic() + listen_seconds_max
    while listening_sockets(port) < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {listening_sockets(port)} of {workers} workers listen after {listen_seconds_max} s")
        time.sleep(0.1)


async def drill(site: Site, workers: int, kills: int, connections: int, seed: int, port: int) -> int:
    moments = random.Random(seed)
    serve = await asyncio.to_thread(site.start, port, workers)
    await asyncio.to_thread(wait_listening, port, workers)
    banks = Banks(site.certs_dir, site.banks)
    killed, skipped = 0, 0
    try:
        funding = await site.fund(banks, port, funding_kopecks)
        payments = Payments("workers", seed, site.banks, (1_00, 5_000_000_00))
        stop = asyncio.Event()
        load = asyncio.create_task(closed_loop(banks, payments, [port], connections, stop))
        for _ in range(kills):
            await asyncio.sleep(moments.uniform(0.5, 3.0))
            alive = children_alive(serve.pid)
            if not alive:
                skipped += 1
                continue
            os.kill(moments.choice(alive), signal.SIGKILL)
            killed += 1
        await asyncio.sleep(1.5)  # the load goes on; a supervising serve process has replaced the last one by now
        alive_at_end = len(children_alive(serve.pid))
        stop.set()
        await load
        if serve.poll() is not None:
            raise SystemExit(f"the serve process itself ended ({serve.returncode}): only workers were killed")
        resent = await resend_unanswered(banks, payments.made, [port])
        verdict = await site.conclude(payments.made, resent, funding)
    finally:
        await banks.close()
    figures = (f"--workers {workers}, {killed} workers killed ({skipped} kills skipped: no child alive), "
               f"{alive_at_end} of {workers - 1} children alive at the end")
    return report("workers", verdict, figures)


def main() -> int:
    args = arguments(__doc__, full={"workers": 4, "kills": 10, "connections": 8},
                     short={"workers": 3, "kills": 2, "connections": 4})
    if args.workers < 2:
        raise SystemExit("--workers must be at least 2: the drill kills the serve process's children")
    with Site("workers", args.pg_url, bank_count=10) as site:
        return asyncio.run(drill(site, args.workers, args.kills, args.connections, args.seed, args.port + 30))


if __name__ == "__main__":
    sys.exit(main())
