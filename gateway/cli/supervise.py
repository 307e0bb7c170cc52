"""`gateway serve --workers N` (N > 1): this process becomes the supervisor of N worker processes.

Each worker is this same command with one worker's part (`--worker I --ops-socket PATH`): it serves the banks' port
with SO_REUSEPORT (the kernel spreads connections over the workers), and its ops routes on a unix socket in a
private directory. The workers coordinate only through PostgreSQL, as separate gateway hosts would.

The supervisor
  - serves the ops listener ([http] ops_host:ops_port) for them all (gateway.http.workers);
  - logs each worker's death with its cause (the signal's name, or the exit status) and starts a replacement at
    once; a worker that keeps dying soon after its start is restarted with a growing delay (bounds.worker_*);
  - reaps every child (asyncio waits for each), so none is left a zombie;
  - on SIGTERM or SIGINT stops restarting, sends SIGTERM to every worker in order of their numbers (each stops
    listening and finishes its requests within limits.shutdown_timeout_ms), waits for each, and exits 0;
  - stops everything and exits 2 when a worker exits 2: a usage or configuration error no restart would cure.

Workers run in a session of their own (a terminal's Ctrl-C reaches the supervisor only, which stops them in order)
and ask the kernel for SIGTERM should the supervisor die without stopping them (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from gateway import bounds
from gateway.cli.usage import UsageError
from gateway.config import Config
from gateway.http.listener import CannotListen, bind_or_explain
from gateway.http.workers import (
    WorkerMetrics,
    WorkersView,
    ask_worker,
    make_supervisor_ops_app,
)

log = logging.getLogger("gateway.workers")

usage_exit_status = 2  # gateway.cli.main: bad usage or configuration


@dataclass(slots=True)
class Worker:
    number: int
    socket: Path
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    serving: bool = False  # its ops socket has answered since it started
    early_deaths: int = 0  # in a row, each within bounds.worker_stable_seconds of its start
    watcher: asyncio.Task[None] | None = field(default=None, repr=False)


def supervise(config: Config, workers: int, worker_argv: list[str]) -> int:
    """Run `workers` workers (each `worker_argv` plus its part) until SIGTERM or SIGINT; the exit status."""
    return asyncio.run(Supervisor(config, workers, worker_argv).run())


class Supervisor:
    def __init__(self, config: Config, workers: int, worker_argv: list[str]) -> None:
        self.config = config
        self.worker_argv = worker_argv
        self.directory = Path(tempfile.mkdtemp(prefix="gateway-workers-"))
        self.workers = [Worker(number, self.directory / f"worker-{number}.sock") for number in range(workers)]
        self.metrics = WorkerMetrics(workers)
        self.stopping = asyncio.Event()
        self.exit_status = 0

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signal_number, self.stopping.set)
        view = WorkersView(len(self.workers), self.serving_sockets, self.metrics)
        ops = web.AppRunner(make_supervisor_ops_app(view), access_log=None)
        await ops.setup()
        try:
            site = web.TCPSite(ops, self.config.http.ops_host, self.config.http.ops_port)
            try:
                await bind_or_explain(site, "[http] ops_port, or GATEWAY_HTTP__OPS_PORT")
            except CannotListen as error:
                raise UsageError(str(error)) from None
            host, port = ops.addresses[0][:2]
            log.info("supervising %d workers; ops listener (/healthz, /readyz, /metrics; no client certificate) on"
                     " http://%s:%d", len(self.workers), host, port)
            for worker in self.workers:
                worker.watcher = asyncio.create_task(self.watch(worker), name=f"worker-{worker.number}")
                worker.watcher.add_done_callback(self.watcher_done)
            await self.stopping.wait()
            await self.stop_all()
        finally:
            await ops.cleanup()
            shutil.rmtree(self.directory, ignore_errors=True)
        return self.exit_status

    def watcher_done(self, watcher: asyncio.Task[None]) -> None:
        """A watcher that failed (it could not start a process) leaves its worker unsupervised: stop them all."""
        if not watcher.cancelled() and watcher.exception() is not None:
            log.error("%s failed: %r; stopping every worker", watcher.get_name(), watcher.exception())
            self.exit_status = 1
            self.stopping.set()

    def serving_sockets(self) -> dict[int, Path]:
        return {w.number: w.socket for w in self.workers if w.serving and w.process and w.process.returncode is None}

    async def watch(self, worker: Worker) -> None:
        """Start the worker, wait for its end, log it, start the next; until the supervisor stops."""
        while not self.stopping.is_set():
            await self.start(worker)
            assert worker.process is not None
            if self.stopping.is_set():  # started while stop_all signalled the others: stopped the same way
                _terminate(worker)
            serving = asyncio.create_task(self.until_serving(worker))
            returncode = await worker.process.wait()  # reaps it
            serving.cancel()
            worker.serving = False
            self.metrics.live.set(len(self.serving_sockets()))
            if self.stopping.is_set():
                return
            cause = _cause(returncode)
            self.metrics.deaths.labels(cause).inc()
            if returncode == usage_exit_status:
                log.error("worker %d (pid %d) exited %d: a usage or configuration error (its message is above);"
                          " stopping every worker", worker.number, worker.process.pid, returncode,
                          extra={"worker": worker.number, "pid": worker.process.pid, "cause": cause})
                self.exit_status = usage_exit_status
                self.stopping.set()
                return
            lived = time.monotonic() - worker.started_at
            worker.early_deaths = worker.early_deaths + 1 if lived < bounds.worker_stable_seconds else 0
            delay = restart_delay(worker.early_deaths)
            log.warning("worker %d (pid %d) died: %s after %.1f s; its replacement starts %s", worker.number,
                        worker.process.pid, _cause_text(returncode), lived,
                        "now" if delay == 0 else f"in {delay:g} s ({worker.early_deaths} early deaths in a row)",
                        extra={"worker": worker.number, "pid": worker.process.pid, "cause": cause,
                               "restart_in_seconds": delay})
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self.stopping.wait()
            if not self.stopping.is_set():
                self.metrics.restarts.inc()

    async def start(self, worker: Worker) -> None:
        worker.socket.unlink(missing_ok=True)  # a killed worker leaves its socket file behind
        command = [*self.worker_argv, "--worker", str(worker.number), "--ops-socket", str(worker.socket),
                   "--supervisor-pid", str(os.getpid())]
        worker.process = await asyncio.create_subprocess_exec(*command, start_new_session=True)
        worker.started_at = time.monotonic()
        log.info("worker %d started (pid %d)", worker.number, worker.process.pid,
                 extra={"worker": worker.number, "pid": worker.process.pid})

    async def until_serving(self, worker: Worker) -> None:
        """Mark the worker serving once its ops socket answers (it has opened the database and listens)."""
        while True:
            await asyncio.sleep(bounds.worker_serving_poll_seconds)
            if worker.socket.exists() and (await ask_worker(worker.socket, "/healthz"))[0] == 200:
                worker.serving = True
                self.metrics.live.set(len(self.serving_sockets()))
                return

    async def stop_all(self) -> None:
        """SIGTERM to every worker in order of their numbers, then wait for each; SIGKILL after its grace. A worker
        started just as the supervisor began stopping is stopped by its watcher (see watch)."""
        running = [w for w in self.workers if w.process is not None and w.process.returncode is None]
        log.info("stopping %d workers: each finishes its requests within %d ms", len(running),
                 self.config.limits.shutdown_timeout_ms)
        for worker in running:
            _terminate(worker)
        grace = self.config.limits.shutdown_timeout_ms / 1000 + bounds.worker_stop_grace_seconds
        watchers = [w.watcher for w in self.workers if w.watcher is not None]
        late = (await asyncio.wait(watchers, timeout=grace))[1] if watchers else set()
        for worker in self.workers:
            if worker.process is not None and worker.process.returncode is None:
                log.warning("worker %d (pid %d) did not stop within %g s: killed", worker.number, worker.process.pid,
                            grace, extra={"worker": worker.number, "pid": worker.process.pid})
                with contextlib.suppress(ProcessLookupError):
                    worker.process.kill()
        if late:
            await asyncio.wait(late)  # each returns once its process, killed, is reaped
        log.info("every worker stopped")


def _terminate(worker: Worker) -> None:
    assert worker.process is not None
    with contextlib.suppress(ProcessLookupError):
        worker.process.send_signal(signal.SIGTERM)


def restart_delay(early_deaths: int) -> float:
    """Seconds before a replacement: none after a worker that ran a while, or after the first early death; then
    doubling from bounds.worker_restart_delay_seconds_first up to the maximum."""
    if early_deaths <= 1:
        return 0.0
    delay = bounds.worker_restart_delay_seconds_first * 2 ** (early_deaths - 2)
    return float(min(delay, bounds.worker_restart_delay_seconds_max))


def _cause(returncode: int) -> str:
    """A signal's name (SIGKILL), or exit_N."""
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal_{-returncode}"
    return f"exit_{returncode}"


def _cause_text(returncode: int) -> str:
    cause = _cause(returncode)
    return f"killed by {cause}" if returncode < 0 else f"exit status {returncode}"


def worker_command(argv: list[str]) -> list[str]:
    """This command as a worker runs it: `gateway ...` without --workers (the supervisor adds each worker's part)."""
    kept, skip_next = [], False
    for arg in argv:
        if skip_next:
            skip_next = False
        elif arg == "--workers":
            skip_next = True
        elif not arg.startswith("--workers="):
            kept.append(arg)
    return [sys.executable, "-m", "gateway.cli.main", *kept]


def die_with_supervisor(supervisor_pid: int) -> None:
    """In a worker: SIGTERM from the kernel when the supervisor dies, however it dies (Linux; elsewhere nothing)."""
    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != supervisor_pid:  # the supervisor died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)
