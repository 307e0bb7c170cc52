"""`gateway reconcile` as an operator runs it (python -m gateway.cli.main, on SQLite and PostgreSQL): exit 0 for a clean
day, 1 with a break open, 2 for a date that cannot be reconciled, 3 when the RTGS does not answer; --output writes the
whole report or nothing, and a refused run stores nothing."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.domain.ledger import TransferKind
from tests.conftest import write_config
from tests.settlement.builders import SBER, VTB
from tests.treasury.test_reconciliation import (  # noqa: F401
    Treasury,
    calendar_toml,
    friday,
    runs_table,
    treasury,
    tuesday,
)

pytestmark = pytest.mark.slow


def gateway(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "--config", str(config), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_reconcile_exit_codes_output_and_refusals(treasury: Treasury, tmp_path: Path) -> None:  # noqa: F811
    # Friday: two conversions, nothing else (clean). Tuesday: a payment straight into the ledger (a break).
    await treasury.fund()
    await treasury.close(friday)
    await treasury.direct(f"{SBER}/main", f"{VTB}/main", 1_000_00, TransferKind.PAYMENT, f"{SBER}:ROGUE-1")
    await treasury.close(tuesday)  # Wednesday opens
    config = Path(treasury.gw.config.source)
    await treasury.gw.client.close()  # the gateway stops; the CLI runs against its database, on the wall clock

    clean = gateway(config, "reconcile", "--date", "2026-11-20")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "No open breaks" in clean.stdout and "800000.00 RUB" in clean.stdout

    report = tmp_path / "reports" / "tuesday.json"
    report.parent.mkdir()
    broken = gateway(config, "reconcile", "--date", "2026-11-24", "--format", "json", "--output", str(report))
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert broken.stdout == ""
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["business_date"] == "2026-11-24" and document["breaks_open"] == 1
    [found] = document["breaks"]
    assert (found["kind"], found["amount_rub"], found["account"]) == ("posting_without_message", "1000.00", f"{SBER}/main")
    assert [p.name for p in report.parent.iterdir()] == ["tuesday.json"]  # no temporary file left behind

    latest = gateway(config, "reconcile", "--format", "csv")  # no --date: the latest closed day, Tuesday
    assert latest.returncode == 1, latest.stderr
    assert latest.stdout.splitlines()[1].startswith("open,posting_without_message,2026-11-24,")

    runs = await treasury.scalar(select(func.count()).select_from(runs_table))
    assert runs == 3
    for asked, says in (
        ("2026-11-25", "2026-11-25 is still open"),
        ("2026-11-21", "2026-11-21 (Saturday) is not a business day"),
        ("2026-11-19", "before the first business day the gateway recorded, 2026-11-20"),
        ("2099-01-05", "2099-01-05 is in the future"),
    ):
        refused = gateway(config, "reconcile", "--date", asked)
        assert refused.returncode == 2 and says in refused.stderr, (asked, refused.stdout, refused.stderr)
        assert "Traceback" not in refused.stderr
    assert gateway(config, "reconcile", "--date", "20.11.2026").returncode == 2  # not an ISO date
    nowhere = gateway(config, "reconcile", "--date", "2026-11-20", "--output", str(tmp_path / "missing" / "r.txt"))
    assert nowhere.returncode == 2 and "no such directory" in nowhere.stderr, nowhere.stderr

    # The same database, with the RTGS reached over HTTP at a port where nothing listens.
    down_dir = tmp_path / "rtgs-down"
    down_dir.mkdir()
    down = write_config(
        down_dir, treasury.gw.config.database.url, business_days_toml=calendar_toml,
        rtgs_toml=f'adapter = "http"\nurl = "http://127.0.0.1:{_closed_port()}/rtgs"\ntimeout_ms = 1000',
    )
    silent = gateway(down, "reconcile", "--date", "2026-11-20", "--output", str(tmp_path / "never.txt"))
    assert silent.returncode == 3, silent.stdout + silent.stderr
    assert "the RTGS did not answer" in silent.stderr and "nothing was reconciled or stored" in silent.stderr
    assert "Traceback" not in silent.stderr and not (tmp_path / "never.txt").exists()
    assert await treasury.scalar(select(func.count()).select_from(runs_table)) == runs
