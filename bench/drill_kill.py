"""Fault drill (a): `kill -9` of the gateway at random moments during a load of single payments.

Run (from the repository root, with the gateway installed):

    python bench/drill_kill.py                 # 20 kills (the issue's size)
    python bench/drill_kill.py --short         # 3 kills, as CI runs it
    python bench/drill_kill.py --seed 7 --kills 50 --connections 16

One gateway (`gateway serve`, mutual TLS) on a scratch PostgreSQL database (drills_kill_<random>, created on the
server --pg-url names and dropped at the end), every bank's wallet funded by a camt.050 conversion. `--connections`
senders post single-transaction pacs.008 between random banks, each with its bank's client certificate, each sending
its next payment when the previous one was answered. At `--kills` random moments (0.3 to 2.5 s apart, drawn from
--seed) the gateway gets SIGKILL and is started again on the same port; payments in flight then get no answer, and
while it is down the senders retry their next payment until a connection opens (it never reached the gateway).

Afterwards every payment without a final answer is re-sent, the same bytes (same BizMsgIdr, same UETR), until the
gateway answers it: one that had settled before the kill is answered from the journal, one that had not settles now.
Checked against the ledger read from the database: every payment acknowledged (HTTP 200, pacs.002 ACSC) settled
exactly once, every re-sent one at most once, no transfer nobody was told of, every wallet's balance equals the
model (funding plus the payments answered ACSC), and `gateway ledger verify` passes. The last line is the figure;
the exit status is non-zero if any check failed.
"""

from __future__ import annotations

import asyncio
import random
import sys

from drills.common import (
    Banks,
    Payments,
    Site,
    arguments,
    closed_loop,
    report,
    resend_unanswered,
)

funding_kopecks = 10**11  # a billion roubles a bank: no payment of the drill runs short of funds


async def drill(site: Site, kills: int, connections: int, seed: int, port: int) -> int:
    moments = random.Random(seed)
    process = await asyncio.to_thread(site.start, port)
    banks = Banks(site.certs_dir, site.banks)
    try:
        funding = await site.fund(banks, port, funding_kopecks)
        payments = Payments("kill", seed, site.banks, (1_00, 5_000_000_00))
        stop = asyncio.Event()
        load = asyncio.create_task(closed_loop(banks, payments, [port], connections, stop))
        for _ in range(kills):
            await asyncio.sleep(moments.uniform(0.3, 2.5))
            process.kill()
            await asyncio.to_thread(process.wait)
            process = await asyncio.to_thread(site.start, port)
        await asyncio.sleep(1.0)  # a last stretch of load on the gateway that survived
        stop.set()
        await load
        resent = await resend_unanswered(banks, payments.made, [port])
        verdict = await site.conclude(payments.made, resent, funding)
    finally:
        await banks.close()
    return report("kill", verdict, f"{kills} kills")


def main() -> int:
    args = arguments(__doc__, full={"kills": 20, "connections": 8}, short={"kills": 3, "connections": 4})
    with Site("kill", args.pg_url, bank_count=10) as site:
        return asyncio.run(drill(site, args.kills, args.connections, args.seed, args.port))


if __name__ == "__main__":
    sys.exit(main())
