"""The README's promise: a fresh demo gateway (`gateway serve`), then `gateway replay` of the shipped examples with
their shipped goldens passes, and passes again on the same gateway after a tester has posted examples of their own
(what a wallet held before a run is not the run's doing)."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gateway.replay.examples import examples_dir, goldens_folder_name

pytestmark = pytest.mark.slow
startup_seconds_max = 60  # a fresh demo creates its key, its PKI and its database first


def gateway(*args: str) -> list[str]:
    return [sys.executable, "-m", "gateway.cli.main", *args]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_bank(certs: Path, bic: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.load_cert_chain(certs / f"{bic}.pem", certs / f"{bic}.key")
    return context


def post(url: str, certs: Path, bic: str, body: bytes) -> bytes:
    request = urllib.request.Request(f"{url}/v1/messages", data=body, headers={"Content-Type": "application/xml"})
    with urllib.request.urlopen(request, context=as_bank(certs, bic), timeout=30) as response:
        return response.read()


def test_the_examples_replay_against_a_fresh_demo_and_again_after_other_traffic(tmp_path: Path) -> None:
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GATEWAY_")}
    environment["GATEWAY_HTTP__OPS_PORT"] = "0"  # the demo's ops listener on any free port, not the default 9464
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(gateway("serve", "--port", str(port)), cwd=tmp_path, env=environment,
                                  stdout=output, stderr=subprocess.STDOUT)
    certs = tmp_path / "var" / "certs"
    replay = gateway("replay", str(examples_dir), "--url", url, "--certs", "var/certs",
                     "--expect", str(examples_dir / goldens_folder_name))
    try:
        deadline = time.monotonic() + startup_seconds_max
        while True:
            assert server.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            try:
                with urllib.request.urlopen(f"{url}/readyz", context=as_bank(certs, "CBRFRUMMXXX"), timeout=2):
                    break
            except (OSError, ssl.SSLError):
                time.sleep(0.3)

        first = subprocess.run(replay, cwd=tmp_path, env=environment, capture_output=True, timeout=300, check=False)
        assert first.returncode == 0, first.stdout.decode() + first.stderr.decode()
        assert b"every answer matched the goldens" in first.stdout

        # A tester walks through the README by hand: a conversion and a payment of their own, as Sberbank.
        for name in ("camt.050-mint", "pacs.008-single"):
            printed = subprocess.run(gateway("example", name), env=environment, capture_output=True, check=True)
            post(url, certs, "SABRRUMMXXX", printed.stdout)

        second = subprocess.run(replay, cwd=tmp_path, env=environment, capture_output=True, timeout=300, check=False)
        assert second.returncode == 0, second.stdout.decode() + second.stderr.decode()
        assert b"every answer matched the goldens" in second.stdout
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
