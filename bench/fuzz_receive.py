"""Fuzz the whole receive path: a million mutated messages through Inbound.receive, every answer checked.

Run (from the repository root, with the test extras installed):

    .venv/bin/python bench/fuzz_receive.py                       # 1,000,000 inputs, seed 1, every core
    .venv/bin/python bench/fuzz_receive.py --inputs 20000 --seed 7
    .venv/bin/python bench/fuzz_receive.py --seconds 60          # as many inputs as a minute holds
    .venv/bin/python bench/fuzz_receive.py --seed 7 --replay 1234   # input 1234 of seed 7 again, with its answer

What runs (tests/messages/fuzzing.py): gateway.inbound.path.Inbound with the real flows (payments, cancellations,
resolutions, status requests, conversions, reports) over in-memory stand-ins for the auto-batcher, the journal, the
RTGS and the ledger's history, so that intake (bounded parse, envelope, XSD, AppHdr, readers, usage guideline and
business rules), the AppHdr checks and every answer's writing and schema validation run as they do in the gateway;
only the database is missing. Input i of seed s is one of the seed messages in tests/messages/fuzz_seeds (every
inbound flow, in the gateway's envelope, SWIFT's and SAA's DataPDU) mutated by a generator seeded with (s, i): tree
mutations (elements deleted, repeated, swapped, moved; edge values; agents and AppHdr parties without a BICFI;
namespaces and versions flipped; another message's Document; foreign elements, deep nesting, many attributes;
other envelopes) and, for some, byte mutations (flips, truncations, fragments, other encodings). Each input meets
a transport that authenticated its sender, another bank or nobody, and now and then a journal conflict.

A failure is an exception escaping receive (other than the four the HTTP layer answers 503), or an answer that is
not a schema-valid ISO 20022 message of a kind that answers that message, carries a code the gateway does not name,
or is not journaled. Each failure is printed with its seed and index and saved under --failures (the input and
what went wrong); `--replay INDEX` runs one input again.

Prints one figure line at the end: inputs run, inputs per second, distinct answer kinds and codes seen, uncaught
exceptions, invalid answers, and the 503s receive documents (none expected: the stand-ins never raise them).
Exit status 1 on any failure, 0 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.messages.fuzzing, from the repository root

from tests.messages.fuzzing import (  # noqa: E402
    FuzzFailure,
    ReceiveTarget,
    Tally,
    make_case,
    save_failure,
    unavailable,
)

_progress_inputs = 50_000  # a worker says how far it got every this many inputs


def _work(seed: int, worker: int, workers: int, inputs: int, deadline: float | None, failures: str) -> Tally:
    """Inputs worker, worker + workers, ... below `inputs`, until the deadline."""
    logging.disable(logging.CRITICAL)  # the flows log refusals and RTGS outages: a million lines say nothing here
    target = ReceiveTarget()
    tally = Tally()
    try:
        for index in range(worker, inputs, workers):
            if deadline is not None and tally.inputs % 64 == 0 and time.monotonic() > deadline:
                break
            case = make_case(seed, index)
            tally.inputs += 1
            try:
                tally.labels |= target.run(case).labels()
            except unavailable:
                tally.unavailable += 1
            except FuzzFailure as failure:
                tally.count(failure)
                path = save_failure(Path(failures), case, failure)
                last = str(failure).strip().splitlines()[-1]
                print(f"FAILURE seed {seed} index {index}: {last} (saved as {path})", flush=True)
            if worker == 0 and tally.inputs % _progress_inputs == 0:
                print(f"... {tally.inputs * workers} inputs", flush=True)
    finally:
        target.close()
    return tally


def _replay(seed: int, index: int) -> int:
    case = make_case(seed, index)
    print(f"seed {seed} index {index}: authenticated {case.authenticated_bic}, journal {case.mode.value}")
    print(f"steps: {', '.join(case.steps)}")
    print(case.data.decode("utf-8", errors="replace"))
    target = ReceiveTarget()
    try:
        seen = target.run(case)
    except FuzzFailure as failure:
        print(f"FAILURE: {failure}")
        return 1
    finally:
        target.close()
    print(f"answered: HTTP {seen.http_status} {seen.outcome} {seen.kind or '(no body)'} {sorted(seen.codes)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1_000_000, help="inputs to run (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed (default 1)")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long, whatever --inputs says")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: every core)")
    parser.add_argument("--failures", default="var/fuzz-failures", help="where failing inputs are saved")
    parser.add_argument("--replay", type=int, default=None, metavar="INDEX", help="run input INDEX alone, verbosely")
    args = parser.parse_args()
    if args.inputs < 1 or args.workers < 1 or (args.seconds is not None and args.seconds <= 0):
        parser.error("--inputs, --workers and --seconds must be positive")
    if args.replay is not None:
        return _replay(args.seed, args.replay)
    started = time.monotonic()
    deadline = None if args.seconds is None else started + args.seconds
    jobs = [(args.seed, worker, args.workers, args.inputs, deadline, args.failures) for worker in range(args.workers)]
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        tallies = pool.starmap(_work, jobs)
    elapsed = time.monotonic() - started
    total = Tally()
    for tally in tallies:
        total.add(tally)
    print(
        f"fuzz_receive: {total.inputs:,} inputs in {elapsed:.1f} s, {total.inputs / elapsed:,.0f} inputs/s, "
        f"{len(total.labels)} distinct answer kinds/codes seen, uncaught exceptions = {total.escapes}, "
        f"invalid answers = {total.bad_answers}, 503s = {total.unavailable} (seed {args.seed}, {args.workers} workers)"
    )
    return 1 if total.failures else 0


if __name__ == "__main__":
    sys.exit(main())
