"""Fault drill (c): two gateway instances on one PostgreSQL under conflicting load.

Run (from the repository root, with the gateway installed):

    python bench/drill_two_instances.py            # 60 s of load
    python bench/drill_two_instances.py --short    # 8 s, as CI runs it
    python bench/drill_two_instances.py --seconds 120 --connections 16 --seed 5

Two gateways (`gateway serve`, mutual TLS, each its own process and port) share a scratch PostgreSQL database
(drills_two_instances_<random>, dropped at the end). Every payment of the load, a single-transaction pacs.008, is sent
to both instances at once, the same bytes (same BizMsgIdr, same UETR): the two race to settle it, and the one that
loses must answer from the journal what the winner settled. The banks' wallets are funded with little (500,000.00
roubles each) and the payments are large (up to 300,000.00), all between the same few banks: the balance checks of
the two instances race too, and many payments are refused AM04 (insufficient funds).

Checked: the two answers to one payment agree (both ACSC, or both the same refusal); each payment settled at most
once and the acknowledged ones exactly once; no wallet below zero; every wallet's balance equals the model (funding
plus the payments answered ACSC); `gateway ledger verify` passes. Payments without a final answer (there should be
none) are re-sent first. The last line is the figure; the exit status is non-zero if any check failed.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter

from drills.common import (
    Banks,
    Payment,
    Payments,
    Site,
    arguments,
    closed_loop,
    report,
    resend_unanswered,
)

funding_kopecks = 500_000_00
payment_kopecks = (10_000_00, 300_000_00)


def disagreements(payments: list[Payment]) -> list[str]:
    """Payments the two instances answered differently (each instance's first final answer)."""
    found = []
    for payment in payments:
        finals = {a.instance: a.describe() for a in reversed(payment.answers) if a.final}
        if len(set(finals.values())) > 1:
            found.append(f"{payment.message_id}: {finals}")
    return found


async def drill(site: Site, seconds: float, connections: int, seed: int, ports: list[int]) -> int:
    for port in ports:
        await asyncio.to_thread(site.start, port)
    banks = Banks(site.certs_dir, site.banks)
    try:
        funding = await site.fund(banks, ports[0], funding_kopecks)
        payments = Payments("two", seed, site.banks, payment_kopecks)
        stop = asyncio.Event()
        load = asyncio.create_task(closed_loop(banks, payments, ports, connections, stop, both=True))
        await asyncio.sleep(seconds)
        stop.set()
        await load
        resent = await resend_unanswered(banks, payments.made, ports)
        verdict = await site.conclude(payments.made, resent, funding)
        conflicting = disagreements(payments.made)
        verdict.problems += [f"the instances disagree on {c}" for c in conflicting]
        outcomes = Counter(p.final.describe() for p in payments.made if p.final is not None)
        replayed = sum(a.outcome == "replayed" for p in payments.made for a in p.answers)
    finally:
        await banks.close()
    figures = (f"{len(ports)} instances, each payment sent to both, "
               + ", ".join(f"{n:,} {kind}" for kind, n in outcomes.most_common())
               + f", {replayed:,} answered from the journal by the instance that lost the race"
               + f", {len(conflicting)} disagreeing answers, {len(verdict.negative)} wallets below zero")
    return report("two instances", verdict, figures)


def main() -> int:
    args = arguments(__doc__, full={"seconds": 60.0, "connections": 8}, short={"seconds": 8.0, "connections": 4})
    with Site("two_instances", args.pg_url, bank_count=4) as site:
        return asyncio.run(drill(site, args.seconds, args.connections, args.seed, [args.port + 20, args.port + 21]))


if __name__ == "__main__":
    sys.exit(main())
