"""A pg_dump backup of a deployment's database holding settled payments, restored with pg_restore into another
database as docs/deploy.md says, holds the same balances and passes `gateway ledger verify` with the central bank's
public key alone; the restored copy altered by one kopeck fails it."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import create_pg_database, drop_pg_database
from tests.corpus import in_ci
from tests.deploy.twin import Twin, camt_050_mint
from tests.settlement.builders import SBER, VTB, Tx, pacs_008, today_in_moscow

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it (--dbname accepts a connection URI)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def client_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found (Debian: apt-get install -y postgresql-client)"
        if in_ci:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def test_a_restored_backup_holds_the_same_ledger_and_passes_verify(twin: Twin, tmp_path: Path) -> None:
    assert twin.run("migrate").returncode == 0
    gateway = twin.start("gateway-a")
    assert b"<StsCd>ACSC</StsCd>" in twin.post(gateway, SBER, camt_050_mint())[1]
    for i in range(5):
        payment = Tx(SBER, VTB, 10_000_00 + i)
        message = pacs_008(SBER, f"BACKUP-{i}-{uuid.uuid4().hex[:8]}", [payment], today_in_moscow())
        answer = twin.post(gateway, SBER, message)[1]
        assert f"<OrgnlUETR>{payment.uetr}</OrgnlUETR><TxSts>ACSC</TxSts>".encode() in answer, answer
    assert twin.stop(gateway) == 0
    original = asyncio.run(twin.balances_and_payments())
    assert sum(original[1].values()) == 5

    # docs/deploy.md, "Backup and restore": a custom-format dump, restored in one transaction into an empty database.
    dump = tmp_path / "gateway.dump"
    subprocess.run([client_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dump}",
                    f"--dbname={libpq_url(twin.database_url)}"], check=True, capture_output=True, timeout=120)
    restored_url = create_pg_database()
    try:
        subprocess.run([client_tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner",
                        f"--dbname={libpq_url(restored_url)}", str(dump)], check=True, capture_output=True,
                       timeout=120)
        twin.database_url = restored_url  # the same deployment, now on the restored copy
        assert asyncio.run(twin.balances_and_payments()) == original

        public_key = twin.secrets_dir / "cb-signing-key.pem.pub"  # what an auditor has: no private key
        verified = twin.run("gateway-a", "ledger", "verify", "--public-key", str(public_key))
        assert verified.returncode == 0 and "ledger verified" in verified.stdout, verified.stdout + verified.stderr

        asyncio.run(_add_a_kopeck_to_the_last_payment(restored_url))
        broken = twin.run("gateway-a", "ledger", "verify", "--public-key", str(public_key))
        assert broken.returncode == 1 and "LEDGER BROKEN: hash mismatch" in broken.stdout, broken.stdout
    finally:
        drop_pg_database(restored_url)


async def _add_a_kopeck_to_the_last_payment(url: str) -> None:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        changed = await connection.execute(
            "UPDATE transfers SET amount_kopecks = amount_kopecks + 1"
            " WHERE seq = (SELECT max(seq) FROM transfers WHERE kind = 'payment')"
        )
        assert changed == "UPDATE 1"
    finally:
        await connection.close()
