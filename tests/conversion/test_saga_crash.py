"""A conversion whose gateway is killed with SIGKILL after any step of the saga, then restarted as `gateway serve`,
ends fully converted or fully unwound, never half, and `gateway ledger verify` finds supply = fiat reserve.

Restarted promptly, every conversion completes. Restarted after its deadline, one killed before its fiat was
committed unwinds (hold released, pending transfer voided, RJCT AB03), and one killed after goes forward."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.settlement.builders import RTGS_ACCOUNTS, SBER, camt_050
from tests.settlement.test_http_concurrency import free_port

pytestmark = pytest.mark.slow

OPENING = 1_000_000_00
MINTED = 300_000_00  # the conversion under test (a mint), or the funding before a burn
BURNED = 120_000_00
repo_root = Path(__file__).parents[2]


@dataclass(frozen=True)
class EndState:
    conversions: list[tuple[str, str | None]]  # (state, reason code), oldest first
    wallet: int  # SBER/main, posted
    supply: int
    pending_on_ledger: int  # pending transfers still open
    fiat_booked: int  # Sberbank's RTGS account
    fiat_held: int
    fiat_reserve: int


def _end_state(database: Path) -> EndState:
    with sqlite3.connect(database) as db:
        conversions = db.execute("SELECT state, reason_code FROM conversions ORDER BY created_at_us").fetchall()
        posted = dict(db.execute("SELECT code, posted_kopecks FROM accounts").fetchall())
        pending = db.execute("SELECT count(*) FROM pending_transfers WHERE status = 'pending'").fetchone()[0]
        fiat = {
            number: (booked, held)
            for number, booked, held in db.execute("SELECT number, booked_kopecks, held_kopecks FROM rtgs_accounts")
        }
    return EndState(
        conversions=[(state, reason) for state, reason in conversions],
        wallet=posted[f"{SBER}/main"],
        supply=-posted["CBRFRUMMXXX/issuance"],
        pending_on_ledger=pending,
        fiat_booked=fiat[RTGS_ACCOUNTS[SBER]][0],
        fiat_held=fiat[RTGS_ACCOUNTS[SBER]][1],
        fiat_reserve=fiat["30101810000000000001"][0],
    )


def _gateway(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gateway.cli.main", "--config", str(config), *args]


def _crash(tmp_path: Path, config: Path, step: str, messages: list[bytes]) -> None:
    files = []
    for i, message in enumerate(messages):
        path = tmp_path / f"message-{i}.xml"
        path.write_bytes(message)
        files.append(str(path))
    child = subprocess.run(
        [sys.executable, "-m", "tests.conversion.crash_child", str(config), step, *files],
        cwd=repo_root, capture_output=True, timeout=60, check=False,
    )
    assert child.returncode == -signal.SIGKILL, (step, child.returncode, child.stderr.decode()[-3000:])


def _restart_until_finished(tmp_path: Path, config: Path, database: Path) -> None:
    """`gateway serve` on the same database: its resumer finishes what the killed process left. Stopped (SIGTERM)
    once no conversion is left unfinished."""
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            _gateway(config, "serve", "--plain-http", "--host", "127.0.0.1", "--port", str(port)),
            cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 45
        while True:
            assert server.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    ready = response.status == 200
            except OSError:
                ready = False
            if ready:
                states = {state for state, _ in _end_state(database).conversions}
                if states <= {"settled", "rejected"}:
                    return
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _verify(config: Path) -> str:
    verify = subprocess.run(_gateway(config, "ledger", "verify"), cwd=repo_root, capture_output=True, timeout=60, check=False)
    output = verify.stdout.decode()
    assert verify.returncode == 0, output + verify.stderr.decode()[-2000:]
    assert "supply = fiat reserve" in output, output
    return output


def _setup(tmp_path: Path, timeout_seconds: int) -> tuple[Path, Path]:
    database = tmp_path / "gateway.sqlite3"
    rtgs = f'opening_balance_rub = "1000000.00"\nconversion_timeout_seconds = {timeout_seconds}'
    return write_config(tmp_path, f"sqlite+aiosqlite:///{database}", rtgs_toml=rtgs), database


mint_steps = ["mint.received", "mint.reserve.returned", "mint.fiat_held", "mint.committing", "mint.commit.returned",
              "mint.settled"]
burn_steps = ["burn.received", "burn.crediting", "burn.credit.returned", "burn.settled"]


@pytest.mark.parametrize("step", mint_steps)
def test_mint_killed_then_restarted_completes(tmp_path: Path, step: str) -> None:
    config, database = _setup(tmp_path, timeout_seconds=120)
    _crash(tmp_path, config, step, [camt_050(SBER, "LQ-KILL", MINTED)])
    _restart_until_finished(tmp_path, config, database)
    end = _end_state(database)
    assert end.conversions == [("settled", None)]
    assert (end.wallet, end.supply, end.pending_on_ledger) == (MINTED, MINTED, 0)
    assert (end.fiat_booked, end.fiat_held, end.fiat_reserve) == (OPENING - MINTED, 0, MINTED)
    _verify(config)


@pytest.mark.parametrize("step", burn_steps)
def test_burn_killed_then_restarted_completes(tmp_path: Path, step: str) -> None:
    config, database = _setup(tmp_path, timeout_seconds=120)
    _crash(tmp_path, config, step, [camt_050(SBER, "LQ-FUND", MINTED), camt_050(SBER, "LQ-KILL", BURNED, "burn")])
    _restart_until_finished(tmp_path, config, database)
    end = _end_state(database)
    assert end.conversions == [("settled", None), ("settled", None)]
    assert (end.wallet, end.supply, end.pending_on_ledger) == (MINTED - BURNED, MINTED - BURNED, 0)
    assert (end.fiat_booked, end.fiat_held, end.fiat_reserve) == (OPENING - MINTED + BURNED, 0, MINTED - BURNED)
    _verify(config)


# Restarted after the deadline: before the commit it unwinds, from the commit on it completes.
late_outcomes = {
    "mint.received": "rejected",
    "mint.reserve.returned": "rejected",
    "mint.fiat_held": "rejected",
    "mint.committing": "settled",
    "mint.commit.returned": "settled",
    "burn.received": "rejected",
    "burn.credit.returned": "settled",
}


@pytest.mark.parametrize("step", list(late_outcomes))
def test_killed_and_restarted_after_the_deadline(tmp_path: Path, step: str) -> None:
    config, database = _setup(tmp_path, timeout_seconds=3)
    burn = step.startswith("burn")
    messages = [camt_050(SBER, "LQ-FUND", MINTED)] if burn else []
    messages.append(camt_050(SBER, "LQ-KILL", BURNED if burn else MINTED, "burn" if burn else "mint"))
    _crash(tmp_path, config, step, messages)
    time.sleep(3.5)  # past the killed conversion's deadline
    _restart_until_finished(tmp_path, config, database)
    end = _end_state(database)
    outcome = late_outcomes[step]
    assert end.conversions[-1] == ((outcome, None) if outcome == "settled" else (outcome, "AB03"))
    assert (end.fiat_held, end.pending_on_ledger) == (0, 0)
    funded = MINTED if burn else 0
    moved = 0 if outcome == "rejected" else (-BURNED if burn else MINTED)
    assert (end.supply, end.wallet, end.fiat_reserve) == (funded + moved, funded + moved, funded + moved)
    assert end.fiat_booked == OPENING - funded - moved
    _verify(config)
