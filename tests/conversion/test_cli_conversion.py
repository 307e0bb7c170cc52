"""The central bank's operators at the command line: `gateway cb` sets and shows the emission cap and daily limits
with a record of who changed what, `gateway rtgs` shows the fiat side, and `gateway ledger verify` fails when the
fiat reserve and the cryptorouble supply part ways."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import write_config
from tests.test_cli import gateway


def _config(tmp_path: Path) -> Path:
    config = write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3", rtgs_toml='opening_balance_rub = "2500000.00"')
    assert gateway(config, "db", "upgrade").returncode == 0
    return config


def test_cb_sets_and_shows_the_emission_controls(tmp_path: Path) -> None:
    config = _config(tmp_path)
    shown = gateway(config, "cb", "show")
    assert shown.returncode == 0, shown.stderr
    assert "emission cap 1000000000.00 RUB; supply 0.00 RUB; pending mints 0.00 RUB" in shown.stdout
    assert "no daily conversion limits set" in shown.stdout

    capped = gateway(config, "cb", "set-cap", "5000.00")
    assert capped.returncode == 0 and "emission cap 1000000000.00 -> 5000.00 RUB" in capped.stdout
    limited = gateway(config, "cb", "set-limit", "SABRRUMM", "100.50")
    assert limited.returncode == 0 and "daily conversion limit of SABRRUMMXXX: none -> 100.50 RUB" in limited.stdout
    shown = gateway(config, "cb", "show").stdout
    assert "emission cap 5000.00 RUB" in shown and "daily conversion limit SABRRUMMXXX: 100.50 RUB" in shown
    assert "daily_limit:SABRRUMMXXX: none -> 100.50" in shown and "emission_cap: 1000000000.00 -> 5000.00" in shown

    removed = gateway(config, "cb", "set-limit", "SABRRUMMXXX", "none")
    assert removed.returncode == 0 and "100.50 -> none RUB" in removed.stdout
    assert gateway(config, "cb", "set-limit", "NOTABANKXXX", "1.00").returncode == 2
    assert gateway(config, "cb", "set-limit", "CBRFRUMMXXX", "1.00").returncode == 2
    assert gateway(config, "cb", "set-cap", "0.00").returncode == 2
    assert gateway(config, "cb", "set-cap", "1.001").returncode == 2


def test_rtgs_balances_statement_and_verify_of_the_reserve(tmp_path: Path) -> None:
    config = _config(tmp_path)
    balances = gateway(config, "rtgs", "balances")
    assert balances.returncode == 0, balances.stderr
    assert "SABRRUMMXXX  30101810400000000225  booked             2500000.00 RUB  held 0.00 RUB" in balances.stdout
    statement = gateway(config, "rtgs", "statement", "30101810400000000225")
    assert statement.returncode == 0, statement.stderr
    lines = statement.stdout.splitlines()
    assert lines[1].split() == ["opening", "0.00", "RUB"] and lines[-1].split() == ["closing", "2500000.00", "RUB"]
    assert "CRDT" in lines[2] and "OPENING" in lines[2] and "opening balance" in lines[2]
    assert gateway(config, "rtgs", "statement", "40702810000000000001").returncode == 1

    verified = gateway(config, "ledger", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "supply 0.00 RUB, fiat in the reserve account 0.00 RUB" in verified.stdout
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:  # fiat appears in the reserve behind everyone's back
        db.execute("UPDATE rtgs_accounts SET booked_kopecks = 100 WHERE number = '30101810000000000001'")
    broken = gateway(config, "ledger", "verify")
    assert broken.returncode == 1 and "RESERVE BROKEN" in broken.stdout, broken.stdout
