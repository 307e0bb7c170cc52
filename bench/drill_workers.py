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
`gateway ledger verify`). The figure line also says how many killed workers were replaced before the next kill
(the serve process had as many children alive again) and the slowest replacement, and how many children were alive
at the end: N - 1 when the serve process replaces killed workers, fewer when it does not (a kill finding no child
alive is counted as skipped). The exit status is non-zero if any loss check failed; workers not replaced alone do
not fail it.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time

from drills.common import (
    Banks,
    Payments,
    Site,
    arguments,
    closed_loop,
    report,
    resend_unanswered,
)
from drills.processes import children_alive, replaced, wait_listening

funding_kopecks = 10**11


async def drill(site: Site, workers: int, kills: int, connections: int, seed: int, port: int) -> int:
    moments = random.Random(seed)
    serve = await asyncio.to_thread(site.start, port, workers)
    await asyncio.to_thread(wait_listening, port, workers)
    banks = Banks(site.certs_dir, site.banks)
    killed, skipped = 0, 0
    replacements: list[float] = []  # seconds from a kill until the serve process had as many children again
    try:
        funding = await site.fund(banks, port, funding_kopecks)
        payments = Payments("workers", seed, site.banks, (1_00, 5_000_000_00))
        stop = asyncio.Event()
        load = asyncio.create_task(closed_loop(banks, payments, [port], connections, stop))
        await asyncio.sleep(moments.uniform(0.5, 3.0))
        for _ in range(kills):
            gap = moments.uniform(0.5, 3.0)  # until the next kill
            alive = children_alive(serve.pid)
            if not alive:
                skipped += 1
                await asyncio.sleep(gap)
                continue
            victim = moments.choice(alive)
            os.kill(victim, signal.SIGKILL)
            killed += 1
            started = time.monotonic()
            if await replaced(serve.pid, victim, len(alive), gap):
                replacements.append(time.monotonic() - started)
            await asyncio.sleep(max(0.0, gap - (time.monotonic() - started)))
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
    replaced_figure = (f"{len(replacements)} replaced within {max(replacements):.2f} s" if replacements
                       else "none replaced")
    figures = (f"--workers {workers}, {killed} workers killed ({skipped} kills skipped: no child alive), "
               f"{replaced_figure}, {alive_at_end} of {workers - 1} children alive at the end")
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
