"""The `gateway` command works as an operator uses it: set-up, registry changes, and a verify that passes on a
clean ledger and fails, naming the transfer, once a row is edited behind the gateway's back."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys
import uuid
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.domain.calendar import business_zone
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from tests.conftest import open_ledger, write_config


def gateway(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "--config", str(config), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3")


def test_keys_init_writes_a_private_and_public_key_and_never_overwrites(tmp_path: Path, config_path: Path) -> None:
    key = tmp_path / "keys" / "cb.pem"
    done = gateway(config_path, "keys", "init", "--key-file", str(key))
    assert done.returncode == 0, done.stderr
    assert key.stat().st_mode & 0o777 == 0o600
    assert b"PUBLIC KEY" in (tmp_path / "keys" / "cb.pem.pub").read_bytes()
    again = gateway(config_path, "keys", "init", "--key-file", str(key))
    assert again.returncode == 2 and "refusing to replace" in again.stderr


def test_commands_refuse_an_unmigrated_database_and_db_upgrade_fixes_it(config_path: Path) -> None:
    listing = gateway(config_path, "participants", "list")
    assert listing.returncode == 2 and "gateway db upgrade" in listing.stderr
    assert gateway(config_path, "db", "status").returncode == 1
    upgrade = gateway(config_path, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    status = gateway(config_path, "db", "status")
    assert status.returncode == 0 and "up to date" in status.stdout


def test_participants_add_suspend_resume_and_list(config_path: Path) -> None:
    assert gateway(config_path, "db", "upgrade").returncode == 0
    added = gateway(config_path, "participants", "add", "GAZPRUMM", "--name", "Gazprombank",
                    "--rtgs-account", "30101810200000000823", "--clearing-code", "044525823",
                    "--wallet", "main", "--wallet", "treasury", "--transfer-max-rub", "2500000.00")  # fmt: skip
    assert added.returncode == 0, added.stderr
    # Its account at the embedded RTGS simulator is open at once, for gateways already running to convert for it.
    with sqlite3.connect(config_path.parent / "ledger.sqlite3") as database:
        opened = database.execute(
            "SELECT owner_bic FROM rtgs_accounts WHERE number = '30101810200000000823'"
        ).fetchall()
    assert opened == [("GAZPRUMMXXX",)]
    assert gateway(config_path, "participants", "add", "GAZPRUMMXXX", "--name", "Again",
                   "--rtgs-account", "1").returncode == 2  # fmt: skip
    assert gateway(config_path, "participants", "add", "not-a-bic", "--name", "X", "--rtgs-account", "1").returncode == 2
    # An RTGS account is its bank's own: never the reserve account, never another bank's.
    for account, owner in (("30101810000000000001", "the central bank's reserve account"),
                           ("30101810400000000225", "SABRRUMMXXX")):
        taken = gateway(config_path, "participants", "add", "MOSCRUMM", "--name", "X", "--rtgs-account", account)
        assert taken.returncode == 2 and f"RTGS account {account} is taken: {owner}" in taken.stderr, taken.stderr
    assert gateway(config_path, "participants", "suspend", "VTBRRUMMXXX").returncode == 0
    assert gateway(config_path, "participants", "suspend", "NOSUCHBKXXX").returncode == 2
    assert gateway(config_path, "participants", "suspend", "CBRFRUMMXXX").returncode == 2
    listing = gateway(config_path, "participants", "list").stdout
    assert "GAZPRUMMXXX  Gazprombank  [bank, active]" in listing
    assert "GAZPRUMMXXX/treasury" in listing
    assert "VTBRRUMMXXX  VTB Bank  [bank, suspended]" in listing
    assert listing.index("CBRFRUMMXXX") < listing.index("ALFARUMMXXX")  # the central bank comes first
    assert gateway(config_path, "participants", "resume", "VTBRRUMMXXX").returncode == 0
    assert "VTBRRUMMXXX  VTB Bank  [bank, active]" in gateway(config_path, "participants", "list").stdout
    # The bank added after `certs init` gets its client certificate from the same CA; an unregistered one none.
    certs = config_path.parent / "certs"
    assert gateway(config_path, "certs", "init", str(certs)).returncode == 0
    issued = gateway(config_path, "certs", "issue", str(certs), "GAZPRUMM")
    assert issued.returncode == 0, issued.stderr
    assert (certs / "GAZPRUMMXXX.pem").exists() and "urn:bic:GAZPRUMMXXX" in issued.stdout
    unknown = gateway(config_path, "certs", "issue", str(certs), "NOSUCHBKXXX")
    assert unknown.returncode == 2 and "not registered" in unknown.stderr


def _settle_some(config_path: Path) -> list[uuid.UUID]:
    async def run() -> list[uuid.UUID]:
        ledger = await open_ledger(load_config(config_path, environ={}))
        try:
            sber, vtb = ledger.id_of("SABRRUMMXXX/main"), ledger.id_of("VTBRRUMMXXX/main")
            requests = [
                TransferRequest(uuid.uuid4(), ledger.issuance, sber, 900_000_00, TransferKind.MINT, "CBRFRUMMXXX:M1"),
                TransferRequest(uuid.uuid4(), sber, vtb, 120_000_00, TransferKind.PAYMENT, "SABRRUMMXXX:P1"),
                TransferRequest(uuid.uuid4(), sber, vtb, 30_000_00, TransferKind.PAYMENT, "SABRRUMMXXX:P2"),
            ]
            assert await ledger.ledger.apply(requests) == [TransferResult.OK] * 3
            return [r.id for r in requests]
        finally:
            await ledger.store.close()

    return asyncio.run(run())


def test_ledger_verify_passes_clean_and_names_the_tampered_transfer(config_path: Path, tmp_path: Path) -> None:
    ids = _settle_some(config_path)
    clean = gateway(config_path, "ledger", "verify")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "checked 3 transfers, 1 signed chain heads" in clean.stdout
    status = gateway(config_path, "ledger", "status").stdout
    assert "supply 900000.00 RUB, reserve 900000.00 RUB" in status
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as connection:  # behind the gateway's back
        connection.execute("UPDATE transfers SET amount_kopecks = 12000001 WHERE seq = 2")
    broken = gateway(config_path, "ledger", "verify")
    assert broken.returncode == 1
    assert "LEDGER BROKEN" in broken.stdout and str(ids[1]) in broken.stdout and "seq 2" in broken.stdout


def test_a_bad_config_stops_every_command_naming_the_key(config_path: Path) -> None:
    config_path.write_text(config_path.read_text().replace('emission_cap_rub = "1000000000.00"', 'emission_cap_rub = 5'))
    done = gateway(config_path, "db", "upgrade")
    assert done.returncode == 2
    assert "central_bank.emission_cap_rub" in done.stderr


def test_serve_refuses_a_non_loopback_address_without_tls(config_path: Path) -> None:
    done = gateway(config_path, "serve", "--host", "0.0.0.0")
    assert done.returncode == 2 and "loopback" in done.stderr


FIXTURES = Path(__file__).parent / "schemas" / "fixtures"


def test_validate_reports_each_file_and_exits_zero_only_when_all_are_valid(config_path: Path, tmp_path: Path) -> None:
    invoice = FIXTURES / "pacs.008.001.08-sberbank-to-vtb-invoice.xml"  # settles on 2026-03-16
    on_its_date = gateway(config_path, "validate", "--business-date", "2026-03-16", str(invoice))
    assert on_its_date.returncode == 0, on_its_date.stdout
    assert on_its_date.stdout.strip() == f"{invoice}: pacs.008.001.08: valid"
    late = gateway(config_path, "validate", "--business-date", "2026-03-17", str(invoice))
    assert late.returncode == 1
    assert "DT01 business /Document/FIToFICstmrCdtTrf/GrpHdr/IntrBkSttlmDt" in late.stdout
    # The ISO profile checks the schema only, so the date does not matter there.
    assert gateway(config_path, "validate", "--profile", "iso", str(invoice)).returncode == 0
    broken = tmp_path / "broken.xml"
    unknown_element = invoice.read_bytes().replace(b"<MsgId>", b"<MsgIdentification>", 1)
    broken.write_bytes(unknown_element.replace(b"</MsgId>", b"</MsgIdentification>", 1))
    hostile = tmp_path / "hostile.xml"
    hostile.write_bytes(b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>')
    mixed = gateway(config_path, "validate", "--profile", "iso", str(invoice), str(broken), str(hostile))
    assert mixed.returncode == 1
    lines = mixed.stdout.splitlines()
    assert lines[0] == f"{invoice}: pacs.008.001.08: valid"
    assert lines[1].startswith(f"{broken}: pacs.008.001.08: ") and "FF01 schema /Document/FIToFICstmrCdtTrf/GrpHdr" in lines[2]
    assert lines[3].startswith(f"{hostile}: unknown message: 1 rejection") and "FF01 well_formedness" in lines[4]
    assert "root:" not in mixed.stdout  # the entity was never resolved


def _sql(database_url: str, statement: str, **parameters: object) -> list[tuple[object, ...]]:
    """One statement on the test's database (SQLite or PostgreSQL), committed; the rows it returns."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> list[tuple[object, ...]]:
        engine = create_async_engine(database_url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), parameters)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_day_close_states_a_past_day_once_and_refuses_what_cannot_close(tmp_path: Path, database_url: str) -> None:
    config_path = write_config(tmp_path, database_url)
    assert gateway(config_path, "db", "upgrade").returncode == 0
    # The gateway has run since yesterday (its day recorded as a serving process opens it), and never closed it.
    now = datetime.now(business_zone)
    yesterday, today = now.date() - timedelta(days=1), now.date()
    cutoff_us = int(datetime.combine(today, time(0, 0), business_zone).timestamp()) * 1_000_000  # "24:00"
    _sql(database_url, "INSERT INTO business_days (business_date, state, cutoff_at_us, first_seq, opened_at_us)"
                       " VALUES (:day, 'open', :cutoff, 0, :opened)",
         day=yesterday.isoformat(), cutoff=cutoff_us, opened=cutoff_us - 86_400_000_000)  # fmt: skip
    early = gateway(config_path, "day", "close", "--date", today.isoformat())
    assert early.returncode == 1 and f"{today} runs until its cut-off" in early.stdout, early.stdout + early.stderr
    closed = gateway(config_path, "day", "close", "--date", yesterday.isoformat())
    assert closed.returncode == 0, closed.stderr
    assert f"closed {yesterday}" in closed.stdout and f"open   {today}" in closed.stdout, closed.stdout
    again = gateway(config_path, "day", "close", "--date", yesterday.isoformat())
    assert again.returncode == 1 and "closed already" in again.stdout, again.stdout + again.stderr
    # One statement per wallet, into its owner's mailbox: three banks of two wallets each.
    stated = _sql(database_url,
                  "SELECT mailbox.recipient_bic, count(*) FROM mailbox JOIN messages ON messages.id = mailbox.message_id"
                  " WHERE messages.message_type = 'camt.053.001.08' GROUP BY mailbox.recipient_bic ORDER BY 1")
    assert stated == [("ALFARUMMXXX", 2), ("SABRRUMMXXX", 2), ("VTBRRUMMXXX", 2)]
    status = gateway(config_path, "day", "status")
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[1].startswith(f"open    {today}") and lines[2].startswith(f"closed  {yesterday}"), lines
    assert "no postings" in lines[2] and "with the CLI at" in lines[2]


def test_serve_on_a_port_in_use_says_so_and_exits_2(config_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = gateway(config_path, "serve", "--plain-http", "--port", str(port))
    assert refused.returncode == 2, refused.stderr
    assert f"cannot listen on 127.0.0.1:{port}: in use by another process" in refused.stderr
    assert "Traceback" not in refused.stderr


def _gateway_in(cwd: Path, *args: str, environ: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it in `cwd`, with no --config unless args give one."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")} | (environ or {})
    return subprocess.run([sys.executable, "-m", "gateway.cli.main", *args], capture_output=True, text=True,
                          timeout=120, check=False, cwd=cwd, env=env)


def test_the_config_is_found_by_flag_then_environment_then_the_working_directory_and_missing_ones_are_named(
    config_path: Path, tmp_path: Path
) -> None:
    assert gateway(config_path, "db", "upgrade").returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # No config anywhere: the packaged demo's, and its database is not here; nothing is created on the way.
    demo = _gateway_in(elsewhere, "participants", "list")
    assert demo.returncode == 2
    assert "no gateway database at" in demo.stderr and "the packaged demo" in demo.stderr
    assert "pass --config FILE" in demo.stderr and "Traceback" not in demo.stderr
    assert list(elsewhere.iterdir()) == []
    # $GATEWAY_CONFIG names the test config (its database URL is relative: run where it lies).
    named = _gateway_in(config_path.parent, "participants", "list", environ={"GATEWAY_CONFIG": str(config_path)})
    assert named.returncode == 0 and "SABRRUMMXXX" in named.stdout, named.stderr
    # ./gateway.toml in the working directory.
    (config_path.parent / "gateway.toml").write_text(config_path.read_text())
    local = _gateway_in(config_path.parent, "participants", "list")
    assert local.returncode == 0 and "SABRRUMMXXX" in local.stdout, local.stderr
    # --config wins over $GATEWAY_CONFIG; a file either names that does not exist is said, with who named it.
    flagged = _gateway_in(config_path.parent, "--config", str(config_path), "participants", "list",
                          environ={"GATEWAY_CONFIG": "/nonexistent/gateway.toml"})
    assert flagged.returncode == 0, flagged.stderr
    missing = _gateway_in(elsewhere, "--config", "nope.toml", "participants", "list")
    assert missing.returncode == 2 and "nope.toml (named by --config) does not exist" in missing.stderr
    missing = _gateway_in(elsewhere, "participants", "list", environ={"GATEWAY_CONFIG": "/nonexistent/x.toml"})
    assert missing.returncode == 2 and "/nonexistent/x.toml (named by $GATEWAY_CONFIG) does not exist" in missing.stderr


def test_participants_list_shows_pending_amounts_only_where_there_are_some(config_path: Path) -> None:
    assert gateway(config_path, "db", "upgrade").returncode == 0
    listing = gateway(config_path, "participants", "list")
    assert listing.returncode == 0, listing.stderr
    assert "SABRRUMMXXX/main" in listing.stdout
    assert "-0.00" not in listing.stdout and "+0.00" not in listing.stdout and "pending" not in listing.stdout


def test_validate_a_directory_validates_its_message_files_and_says_when_it_holds_none(
    config_path: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "messages"
    (folder / "nested").mkdir(parents=True)
    invoice = FIXTURES / "pacs.008.001.08-sberbank-to-vtb-invoice.xml"
    (folder / "nested" / "b.xml").write_bytes(invoice.read_bytes())
    (folder / "a.xml").write_bytes(invoice.read_bytes())
    (folder / "README.md").write_text("not a message")
    (folder / ".hidden.xml").write_text("<never-read/>")
    checked = gateway(config_path, "validate", "--business-date", "2026-03-16", str(folder))
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.splitlines() == [f"{folder / 'a.xml'}: pacs.008.001.08: valid",
                                           f"{folder / 'nested' / 'b.xml'}: pacs.008.001.08: valid"]
    # A file named on its own is validated whatever its name.
    named = gateway(config_path, "validate", str(folder / "README.md"))
    assert named.returncode == 1 and "FF01" in named.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = gateway(config_path, "validate", str(empty))
    assert nothing.returncode == 2 and f"no message files (*.xml) in {empty}" in nothing.stderr
