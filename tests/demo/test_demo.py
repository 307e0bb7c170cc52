"""`gateway demo` as the README runs it: its day leaves the figures worked out by hand from its messages, closes with
every wallet's statement in the mailboxes, runs again in the same directory, serves the README's replay of the
examples after its day, and stops cleanly on SIGINT; bad input ends with a message and exit status 2."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from gateway.domain.calendar import business_zone
from gateway.replay.examples import examples_dir

root = Path(__file__).resolve().parents[2]
startup_seconds_max = 120  # a first run makes its key, its PKI and its database, then plays 15 messages
serving_marker = "goes on serving at"

# What the day does, from the messages of gateway/demo/script.py (amounts as their files say):
#   Sberbank  main     +250,000.00 (camt.050-mint) -120,000.00 (pacs.008-single) +120,000.00 (pacs.004 returns it)
#                      -250,000.00 (pacs.008-multi: 75,000.00 to VTB, 125,000.00 + 50,000.00 to Alfa-Bank) = 0.00
#             clients  +400,000.00 (camt.050-mint-sber-clients)                                         = 400,000.00
#   VTB       main   +1,000,000.00 (camt.050-mint-vtb) +120,000.00 -120,000.00 +75,000.00 (multi)
#                      -75,000.00 (pacs.009 to Alfa-Bank); 90 bn refused AM04                         = 1,000,000.00
#   Alfa-Bank main     +600,000.00 (camt.050-mint-alfa) +175,000.00 (multi) +75,000.00 (pacs.009)
#                      -250,000.00 (camt.050-burn)                                                      = 600,000.00
wallets_kopecks = {
    "SABRRUMMXXX/main": 0,
    "SABRRUMMXXX/clients": 400_000_00,
    "VTBRRUMMXXX/main": 1_000_000_00,
    "ALFARUMMXXX/main": 600_000_00,
}
# Supply: minted 250,000 + 400,000 + 1,000,000 + 600,000, burnt 250,000; the reserve holds the same fiat.
supply_kopecks = 2_000_000_00
# Fiat: each RTGS account opens with 100 bn (gateway/demo.toml); mints take from it, the burn gives back.
opening_kopecks = 100_000_000_000_00
rtgs_kopecks = {
    "30101810400000000225": opening_kopecks - 650_000_00,  # Sberbank: 250,000 + 400,000 minted
    "30101810700000000187": opening_kopecks - 1_000_000_00,  # VTB
    "30101810200000000593": opening_kopecks - 600_000_00 + 250_000_00,  # Alfa-Bank: minted, then burnt 250,000
    "30101810000000000001": supply_kopecks,  # the central bank's reserve account
}
banks = ("SABRRUMMXXX", "VTBRRUMMXXX", "ALFARUMMXXX")


def readme_command(marker: str) -> str:
    """The command on the line after `<!-- marker -->` in README.md, as .ci/run reads it."""
    lines = (root / "README.md").read_text(encoding="utf-8").splitlines()
    at = lines.index(f"<!-- {marker} -->")
    return next(line.strip() for line in lines[at + 1 :] if line.strip())


def as_run_here(command: str, port: int) -> list[str]:
    """A README command, run by this Python against this checkout's examples, on `port` instead of 8443."""
    words = shlex.split(command)
    assert words[0] == ".venv/bin/gateway", command
    words = [sys.executable, "-m", "gateway.cli.main", *words[1:]]
    words = [w.replace("gateway/examples", str(examples_dir)) for w in words]
    return [w.replace("https://127.0.0.1:8443", f"https://127.0.0.1:{port}") for w in words]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("GATEWAY_")}


def gateway(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli.main", *args], cwd=cwd, env=environment(),
                          capture_output=True, text=True, timeout=300, check=False)


def amount(text: str) -> int:
    """'1,000,000.00' or '1000000.00' in kopecks."""
    whole, _, fraction = text.replace(",", "").partition(".")
    return int(whole) * 100 + int(fraction)


def balances_table(output: str) -> dict[str, list[str]]:
    """The summary's balances, by wallet code or RTGS account: the cells of each row."""
    start = output.index("Balances after the day")
    section = output[start : output.index("\nsupply ", start)]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│|]", line)[1:-1]]
        if len(cells) == 5 and cells[1] != "wallet":
            key = cells[1] if "/" in cells[1] else cells[3]
            rows[key] = cells
    return rows


def check_summary(output: str, day: date, today: date) -> None:
    rows = balances_table(output)
    for code, kopecks in wallets_kopecks.items():
        assert amount(rows[code][2]) == kopecks, (code, rows[code])
    by_account = {cells[3]: cells[4] for cells in rows.values() if cells[3]}
    for account, kopecks in rtgs_kopecks.items():
        assert amount(by_account[account]) == kopecks, (account, by_account)
    assert f"supply {2_000_000:,}.00 = reserve {2_000_000:,}.00 RUB" in output
    assert f"reserve account at the RTGS: {2_000_000:,}.00" in output
    days = {cells[0]: cells for line in output[output.index("Business days") :].splitlines()
            if len(cells := [c.strip() for c in re.split(r"[│|]", line)[1:-1]]) == 5}
    assert days[str(day)][1] == "closed" and days[str(day)][4] == "gateway demo", days
    assert days[str(today)][1] == "open", days
    assert "NOT AS SCRIPTED" not in output


def tls_context(certs: Path, bic: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.load_cert_chain(certs / f"{bic}.pem", certs / f"{bic}.key")
    return context


def statements(url: str, certs: Path, bic: str) -> dict[str, tuple[str, int]]:
    """Each camt.053 in `bic`'s mailbox: wallet -> (the date of its closing balance, the closing balance)."""
    with urllib.request.urlopen(f"{url}/v1/messages?after=0&limit=100", context=tls_context(certs, bic),
                                timeout=30) as response:
        page = json.loads(response.read())
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    found = {}
    for item in page["messages"]:
        if item["message_type"] != "camt.053.001.08":
            continue
        document = etree.fromstring(base64.b64decode(item["payload_base64"]), parser)
        ns = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"}
        wallet = document.findtext(".//c:Stmt/c:Acct/c:Id/c:Othr/c:Id", namespaces=ns)
        closing = [b for b in document.iterfind(".//c:Stmt/c:Bal", ns)
                   if b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=ns) == "CLBD"]
        assert wallet is not None and len(closing) == 1, item["reference"]
        sign = -1 if closing[0].findtext("c:CdtDbtInd", namespaces=ns) == "DBIT" else 1
        found[wallet] = (closing[0].findtext("c:Dt/c:Dt", namespaces=ns) or "",
                         sign * amount(closing[0].findtext("c:Amt", namespaces=ns) or ""))
    return found


def wait_for(marker: str, log: Path, server: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + startup_seconds_max
    while True:
        text = log.read_text(encoding="utf-8", errors="replace")
        if marker in text:
            return text
        assert server.poll() is None, text[-3000:]
        assert time.monotonic() < deadline, text[-3000:]
        time.sleep(0.3)


@pytest.mark.slow
def test_the_demo_plays_its_day_runs_again_and_serves_the_readme_replay(tmp_path: Path) -> None:
    demo_command = readme_command("demo-command")
    assert demo_command == ".venv/bin/gateway demo", "the test runs the README's demo command; keep them in step"
    port = free_port()
    today = datetime.now(business_zone).date()  # the demo config's calendar: every day, until midnight
    day = today - timedelta(days=1)

    played = subprocess.run([*as_run_here(demo_command, port), "--no-serve", "--port", str(port)], cwd=tmp_path,
                            env=environment(), capture_output=True, text=True, timeout=300, check=False)
    assert played.returncode == 0, played.stdout[-4000:] + played.stderr[-4000:]
    check_summary(played.stdout, day, today)
    assert "4 end-of-day statements (camt.053)" in played.stdout

    # The same figures from the central bank's own commands, which read the ledger and the RTGS themselves.
    verify = gateway("ledger", "verify", cwd=tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "supply 2000000.00 RUB, fiat in the reserve account 2000000.00 RUB" in verify.stdout
    listed = gateway("participants", "list", cwd=tmp_path).stdout
    for code, kopecks in wallets_kopecks.items():
        assert re.search(rf"{re.escape(code)}\s+wallet\s+{kopecks // 100}\.{kopecks % 100:02d} RUB", listed), listed
    status = gateway("day", "status", cwd=tmp_path).stdout
    assert re.search(rf"closed\s+{day}.*closed by gateway demo", status), status
    assert re.search(rf"open\s+{today}", status), status

    # Again in the same directory, serving: a new ledger, the same day, the same figures.
    log = tmp_path / "demo.log"
    with log.open("wb") as output:
        server = subprocess.Popen([*as_run_here(demo_command, port), "--port", str(port)], cwd=tmp_path,
                                  env=environment(), stdout=output, stderr=subprocess.STDOUT)
    try:
        printed = wait_for(serving_marker, log, server)
        check_summary(printed, day, today)
        url, certs = f"https://127.0.0.1:{port}", tmp_path / "var" / "certs"
        # Every wallet's end-of-day statement, of the demo's day, in its owner's mailbox, closing as worked out.
        for bic in banks:
            for wallet, (closing_date, kopecks) in statements(url, certs, bic).items():
                assert wallet.startswith(bic) and closing_date == str(day), (wallet, closing_date)
                assert kopecks == wallets_kopecks[wallet], (wallet, kopecks)
        stated = {w for bic in banks for w in statements(url, certs, bic)}
        assert stated == set(wallets_kopecks)

        replay = subprocess.run(as_run_here(readme_command("replay-command"), port), cwd=tmp_path,
                                env=environment(), capture_output=True, text=True, timeout=300, check=False)
        assert replay.returncode == 0, replay.stdout[-4000:] + replay.stderr[-4000:]
        assert "every answer matched the goldens" in replay.stdout
    finally:
        server.send_signal(signal.SIGINT)
        stopped = server.wait(timeout=60)
    assert stopped == 0, log.read_text(errors="replace")[-3000:]


def test_a_port_in_use_is_refused_before_anything_is_touched(tmp_path: Path) -> None:
    ledger = tmp_path / "var" / "gateway.sqlite3"
    ledger.parent.mkdir()
    ledger.write_bytes(b"an earlier ledger")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = gateway("demo", "--no-serve", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert ledger.read_bytes() == b"an earlier ledger"


def test_certificates_missing_are_named_and_nothing_is_removed(tmp_path: Path) -> None:
    certs = tmp_path / "var" / "certs"
    certs.mkdir(parents=True)
    (certs / "ca.pem").write_text("left from an older run\n")
    ledger = tmp_path / "var" / "gateway.sqlite3"
    ledger.write_bytes(b"an earlier ledger")
    result = gateway("demo", "--no-serve", "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "certificates missing" in result.stderr and "server.pem" in result.stderr
    assert "gateway demo --fresh" in result.stderr
    assert "Traceback" not in result.stderr
    assert ledger.read_bytes() == b"an earlier ledger"


def test_a_signing_key_it_cannot_read_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "var" / "cb-signing-key.pem"
    key.parent.mkdir()
    key.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    result = gateway("demo", "--no-serve", "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cb-signing-key.pem" in result.stderr and "gateway demo --fresh" in result.stderr
    assert "Traceback" not in result.stderr
