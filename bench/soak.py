"""Soak: many single payments through one gateway, watching its memory and its pace over the whole run.

Run (from the repository root, with the gateway installed):

    python bench/soak.py                    # 1,000,000 single-transaction pacs.008 (hours on 2 shared cores)
    python bench/soak.py --count 100000     # a shorter soak

The gateway is set up as bench/e2e.py sets it up (a scratch database on --pg-url, its own config, mutual TLS, the
gateway's default of one worker unless --workers). `--connections` keep-alive connections in `--load-processes` processes
send single-transaction pacs.008s, each built just before it is sent (a million prebuilt messages would not fit in
memory), until `--count` have been answered; every answer must be HTTP 200 with group status ACSC.

What it prints:
  RSS       every gateway process's resident set (VmRSS from /proc), sampled every --sample-seconds: at the start of
            the load, the largest of the first and of the last half of the run, and at the end.
  pace      payments/s over the first 10 % and the last 10 % of the payments (answers counted per 0.1 s).
  CPU       the gateway processes' CPU time per payment over the same two stretches: unlike the pace, it does not
            fall when other work on the machine takes the CPUs, so it tells a slower gateway from a busier machine.
Targets (issue 16): RSS <= 250 MB per process, no growth in the last half (its largest sample within 5 % of the
first half's), and the last 10 %'s pace >= 0.9 of the first 10 %'s. Exit status 0 when all three hold, 1 otherwise;
any unexpected answer stops the run with an error.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import os
import random
import ssl
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import e2e

rss_target_bytes = 250 * 1024 * 1024
rss_last_half_growth_max = 0.05
pace_ratio_target = 0.9
ticks_per_second = 10  # answers are counted per tenth of a second


class UnexpectedAnswer(Exception):
    """An answer other than HTTP 200 with a pacs.002 whose group status is ACSC."""


@dataclass(frozen=True)
class SoakPlan:
    port: int
    certs_dir: str | None
    connections: int
    payments: int  # this process's share
    seed: int
    today: str


async def _connection(plan: SoakPlan, number: int, payments: int, answered: Counter[int]) -> None:
    """Send `payments` single payments, one at a time, counting answers per tick of the wall clock in `answered`."""
    rng = random.Random(plan.seed * 1000 + number)
    all_banks = e2e.banks()
    bank = all_banks[(plan.seed * 7 + number) % len(all_banks)]
    others = [b for b in all_banks if b != bank]
    context = None
    if plan.certs_dir is not None:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=f"{plan.certs_dir}/ca.pem")
        context.load_cert_chain(f"{plan.certs_dir}/{bank}.pem", f"{plan.certs_dir}/{bank}.key")
    reader, writer = await asyncio.open_connection("127.0.0.1", plan.port, ssl=context)
    try:
        for i in range(payments):
            message_id = f"S-{plan.seed:02d}{number:03d}{i:08d}"
            body = e2e.pacs_008(bank, message_id, [rng.choice(others)], plan.today)
            writer.write(e2e.request_bytes("127.0.0.1", plan.port, body))
            status, answer = await e2e._read_answer(reader)
            if status != 200 or b"<GrpSts>ACSC</GrpSts>" not in answer:
                raise UnexpectedAnswer(f"{message_id} answered HTTP {status}: {answer[-700:]!r}")
            answered[int(time.time() * ticks_per_second)] += 1
    finally:
        writer.close()


def run_load(plan: SoakPlan, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    answered: Counter[int] = Counter()

    async def main() -> None:
        shares = [plan.payments // plan.connections + (c < plan.payments % plan.connections)
                  for c in range(plan.connections)]
        await asyncio.gather(*(_connection(plan, c, share, answered) for c, share in enumerate(shares)))

    try:
        asyncio.run(main())
        queue.put(("done", dict(answered)))
    except (UnexpectedAnswer, OSError, asyncio.IncompleteReadError) as error:  # the parent reports it, stops the run
        queue.put(("failed", f"{type(error).__name__}: {error}"))


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def gateway_processes(pid: int) -> list[int]:
    """The gateway's process and its children (with --workers N, a supervisor and its N workers)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone since the listing
            continue
        if int(fields[1]) == pid:  # the parent's pid, after the state
            children.append(int(stat.parent.name))
    return [pid, *sorted(children)]


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used (utime + stime from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_between(samples: list[tuple[float, float]], start: float, stop: float) -> float:
    """CPU seconds used between two wall-clock times, from (time, CPU seconds so far) samples, interpolated."""
    def at(moment: float) -> float:
        for (t0, c0), (t1, c1) in itertools.pairwise(samples):
            if t0 <= moment <= t1:
                return c0 + (c1 - c0) * (moment - t0) / (t1 - t0) if t1 > t0 else c0
        return samples[0][1] if moment < samples[0][0] else samples[-1][1]

    return at(stop) - at(start)


def window(answered: Counter[int], start: int, stop: int) -> tuple[float, float]:
    """The wall-clock times (start, end) over which the payments numbered start..stop, in the order answered, were
    answered, from the counts per tick."""
    done, first_tick, last_tick = 0, None, None
    for tick in sorted(answered):
        done += answered[tick]
        if first_tick is None and done > start:
            first_tick = tick
        if done >= stop:
            last_tick = tick
            break
    assert first_tick is not None and last_tick is not None
    return first_tick / ticks_per_second, (last_tick + 1) / ticks_per_second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=os.environ.get("GATEWAY_BENCH_PG_URL", e2e.pg_url_default))
    parser.add_argument("--count", type=int, default=1_000_000, help="single payments to send")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1,
                        help="gateway serve --workers (default: 1, the gateway's own)")
    parser.add_argument("--sample-seconds", type=float, default=1.0, help="RSS sampling interval")
    args = parser.parse_args()
    if args.count < 100:
        parser.error("--count must be at least 100")

    with e2e.bench_gateway(args.pg_url, args.workers, 1000, plain_http=False) as gateway:
        today = datetime.now(e2e.moscow).date().isoformat()
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        processes = []
        for p in range(args.load_processes):
            share = args.count // args.load_processes + (p < args.count % args.load_processes)
            plan = SoakPlan(gateway.port, str(gateway.certs_dir), args.connections // args.load_processes, share,
                            p + 1, today)
            process = multiprocessing.Process(target=run_load, args=(plan, queue))
            process.start()
            processes.append(process)
        pids = gateway_processes(gateway.process.pid)
        print(f"soak: {args.count:,} single payments, {args.connections} connections, gateway processes {pids}",
              flush=True)
        samples: list[tuple[float, dict[int, int]]] = []
        cpu: list[tuple[float, float]] = []  # (wall-clock time, CPU seconds of the gateway's processes so far)
        answered: Counter[int] = Counter()
        finished = 0
        started = time.monotonic()
        next_report = started + 60
        while finished < len(processes):
            samples.append((time.monotonic() - started, {pid: rss_bytes(pid) for pid in pids}))
            cpu.append((time.time(), sum(cpu_seconds(pid) for pid in pids)))
            while not queue.empty():
                kind, value = queue.get()
                if kind == "failed":
                    for process in processes:
                        process.terminate()
                    raise SystemExit(f"a load process failed: {value}")
                answered.update(value)
                finished += 1
            if time.monotonic() >= next_report:
                rss = ", ".join(f"{r / 2**20:.0f} MB" for r in samples[-1][1].values())
                print(f"  {samples[-1][0]:6.0f} s  RSS {rss}  gateway CPU {cpu[-1][1]:,.0f} s", flush=True)
                next_report += 60
            time.sleep(args.sample_seconds)
        for process in processes:
            process.join()
        seconds = time.monotonic() - started

    total = sum(answered.values())
    if total != args.count:
        raise SystemExit(f"{total:,} answers for {args.count:,} payments")
    tenth = args.count // 10
    first, last = window(answered, 0, tenth), window(answered, args.count - tenth, args.count)
    first_pace, last_pace = tenth / (first[1] - first[0]), tenth / (last[1] - last[0])
    # The gateway's CPU per payment does not depend on what else runs on the machine, as the pace does.
    first_cpu, last_cpu = cpu_between(cpu, *first) / tenth, cpu_between(cpu, *last) / tenth
    half = len(samples) // 2
    print(f"payments   {args.count:,} in {seconds:,.0f} s ({args.count / seconds:,.0f}/s)")
    verdicts = []
    for pid in pids:
        series = [rss[pid] for _, rss in samples]
        first_max, last_max = max(series[:half]), max(series[half:])
        print(f"RSS {pid:>7}  start {series[0] / 2**20:6.1f} MB  first half max {first_max / 2**20:6.1f} MB  "
              f"last half max {last_max / 2**20:6.1f} MB  end {series[-1] / 2**20:6.1f} MB "
              f"({len(series)} samples)")
        verdicts.append(("RSS <= 250 MB", max(series) <= rss_target_bytes))
        verdicts.append(("no growth in the last half (within 5 %)",
                         last_max <= first_max * (1 + rss_last_half_growth_max)))
    ratio = last_pace / first_pace
    print(f"pace       first 10 % {first_pace:,.0f}/s  last 10 % {last_pace:,.0f}/s  last/first {ratio:.2f}")
    print(f"CPU        the gateway's, per payment: first 10 % {first_cpu * 1000:.2f} ms  last 10 % "
          f"{last_cpu * 1000:.2f} ms  last/first {last_cpu / first_cpu:.2f}")
    verdicts.append((f"last/first pace >= {pace_ratio_target}", ratio >= pace_ratio_target))
    for what, ok in verdicts:
        print(f"{'PASS' if ok else 'MISS'}: {what}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
