"""`gateway serve --workers N` under its supervisor, as real processes on PostgreSQL: a worker killed with SIGKILL is
logged with its cause and replaced, readiness and metrics show the dip and the recovery, SIGTERM stops every worker
and the supervisor exits 0 leaving no process behind; a worker's configuration error stops the whole service."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway import bounds
from gateway.cli.supervise import _cause, restart_delay, worker_command
from tests.conftest import write_config
from tests.settlement.builders import SBER, VTB, Tx, pacs_008, today_in_moscow

T = TypeVar("T")
STARTUP_SECONDS = 90  # generous: two workers import, open the database and listen on a loaded machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gateway_command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gateway.cli.main", "--config", str(config), *args]


def children_of(pid: int) -> set[int]:
    """The processes whose parent is `pid` (zombies included), from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def is_gone(pid: int) -> bool:
    """Neither running nor a zombie waiting to be reaped."""
    return not Path(f"/proc/{pid}").exists()


def eventually(probe: Callable[[], T | None], seconds: float, what: str) -> T:
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.05)


@dataclass
class Supervised:
    process: subprocess.Popen[bytes]
    port: int
    ops_port: int
    log: Path

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ops_port}{path}", timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError as error:
            return 0, str(error)

    def readiness(self) -> tuple[int, dict[str, Any]]:
        status, body = self.get("/readyz")
        return status, (json.loads(body) if status in (200, 503) else {})

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        status, body = self.get("/metrics")
        assert status == 200, body
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name == name and (labels is None or sample.labels == labels):
                    return float(sample.value)
        return None

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text(errors="replace").splitlines()
                if line.startswith("{")]

    def post(self, body: bytes) -> tuple[int, dict[str, str]]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/v1/messages", data=body,
                                         headers={"Content-Type": "application/xml"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers)


@pytest.fixture
def migrated(postgres_url: str, tmp_path: Path) -> Path:
    config = write_config(tmp_path, postgres_url)
    upgrade = subprocess.run(gateway_command(config, "db", "upgrade"), capture_output=True, text=True, timeout=120,
                             check=False)
    assert upgrade.returncode == 0, upgrade.stderr
    return config


@pytest.fixture
def supervised(migrated: Path, tmp_path: Path) -> Iterator[Supervised]:
    port, ops_port = free_port(), free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            gateway_command(migrated, "serve", "--plain-http", "--port", str(port), "--workers", "2",
                            "--log-format", "json"),
            stdout=output, stderr=subprocess.STDOUT,
            env={**os.environ, "GATEWAY_HTTP__OPS_PORT": str(ops_port)},
        )
    running = Supervised(process, port, ops_port, log)
    yield running
    if process.poll() is None:
        workers = children_of(process.pid)
        process.kill()
        process.wait()
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.slow
@pytest.mark.postgres
def test_a_killed_worker_is_logged_and_replaced_and_sigterm_stops_them_all(supervised: Supervised) -> None:
    gw = supervised

    def ready() -> dict[str, Any] | None:
        assert gw.process.poll() is None, gw.log.read_text(errors="replace")[-3000:]
        status, answer = gw.readiness()
        return answer if status == 200 else None

    answer = eventually(ready, STARTUP_SECONDS, "both workers ready")
    assert answer["workers"] == {"configured": 2, "live": 2}
    assert set(answer["worker_checks"]) == {"0", "1"}
    assert gw.metric("gateway_workers_live") == 2 and gw.metric("gateway_workers_configured") == 2
    assert gw.metric("gateway_worker_restarts_total") == 0
    for worker in ("0", "1"):  # each worker's own metrics, scraped over its socket and labelled
        assert gw.metric("gateway_ledger_queued_transfers", {"worker": worker}) == 0
    originals = children_of(gw.process.pid)
    assert len(originals) == 2

    victim = min(originals)
    os.kill(victim, signal.SIGKILL)
    # The dip: not ready, one worker live, until the replacement serves.
    def dipped() -> dict[str, Any] | None:
        status, answer = gw.readiness()
        assert status == 503, answer  # from the kill until the replacement serves (a probe may come before the
        return answer if answer["workers"]["live"] == 1 else None  # supervisor saw the death: its socket is dead)

    answer = eventually(dipped, 10, "readiness 503 with one worker live")
    assert answer["checks"]["workers"] == "1 of 2 workers serving" and len(answer["worker_checks"]) == 1, answer
    assert gw.metric("gateway_workers_live") == 1
    assert eventually(lambda: is_gone(victim) or None, 5, "the killed worker reaped (no zombie)")
    recovered = eventually(ready, STARTUP_SECONDS, "the replacement ready")
    assert recovered["workers"] == {"configured": 2, "live": 2}
    replacement = (children_of(gw.process.pid) - originals).pop()
    assert gw.metric("gateway_workers_live") == 2
    assert gw.metric("gateway_worker_restarts_total") == 1
    assert gw.metric("gateway_worker_deaths_total", {"cause": "SIGKILL"}) == 1

    [death] = [line for line in gw.log_lines() if line["logger"] == "gateway.workers" and "died" in line["message"]]
    assert death["level"] == "WARNING" and death["cause"] == "SIGKILL" and death["pid"] == victim
    assert "SIGKILL" in death["message"] and death["restart_in_seconds"] == 0

    # The other original goes too: the replacement alone answers a bank's message on the shared port meanwhile.
    other = (originals - {victim}).pop()
    os.kill(other, signal.SIGKILL)
    eventually(lambda: is_gone(other) or None, 5, "the second killed worker reaped")
    status, headers = gw.post(pacs_008(SBER, "SUPERVISED-1", [Tx(SBER, VTB, 1_00)], today_in_moscow()))
    assert status == 200 and headers["X-Gateway-Outcome"] in ("accepted", "rejected")
    eventually(ready, STARTUP_SECONDS, "the second replacement ready")
    workers = children_of(gw.process.pid)
    assert replacement in workers and len(workers) == 2

    gw.process.send_signal(signal.SIGTERM)
    assert gw.process.wait(timeout=bounds.worker_stop_grace_seconds + 30) == 0
    assert all(is_gone(pid) for pid in workers), [pid for pid in workers if not is_gone(pid)]
    messages = [line["message"] for line in gw.log_lines() if line["logger"] == "gateway.workers"]
    assert messages[-1] == "every worker stopped"


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_that_cannot_start_for_its_configuration_stops_the_service_with_its_message(
    migrated: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            gateway_command(migrated, "serve", "--plain-http", "--port", str(port), "--workers", "2"),
            capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "GATEWAY_HTTP__OPS_PORT": str(free_port())},
        )
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}: in use by another process" in done.stderr
    assert "a usage or configuration error" in done.stderr and "Traceback" not in done.stderr


def test_an_unmigrated_database_stops_the_supervisor_before_any_worker_starts(
    postgres_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, postgres_url)
    done = subprocess.run(gateway_command(config, "serve", "--plain-http", "--port", str(free_port()), "--workers",
                                          "2"), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "run `gateway db upgrade`" in done.stderr, done.stderr
    assert "worker 0 started" not in done.stderr and "Traceback" not in done.stderr


def test_a_workers_part_given_by_hand_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3")
    done = subprocess.run(gateway_command(config, "serve", "--plain-http", "--worker", "0"), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2 and "by the supervisor of `serve --workers N` only" in done.stderr, done.stderr


def test_workers_dying_soon_after_their_start_are_restarted_ever_later() -> None:
    first, most = bounds.worker_restart_delay_seconds_first, bounds.worker_restart_delay_seconds_max
    assert [restart_delay(n) for n in range(5)] == [0, 0, first, 2 * first, 4 * first]
    assert restart_delay(100) == most


def test_a_death_is_named_by_its_signal_or_exit_status() -> None:
    assert _cause(-9) == "SIGKILL" and _cause(-15) == "SIGTERM" and _cause(3) == "exit_3" and _cause(0) == "exit_0"


def test_a_worker_runs_the_same_command_without_workers() -> None:
    argv = ["--config", "g.toml", "serve", "--workers", "4", "--port", "8443", "--workers=3", "--log-format", "json"]
    assert worker_command(argv)[1:] == ["-m", "gateway.cli.main", "--config", "g.toml", "serve", "--port", "8443",
                                        "--log-format", "json"]
