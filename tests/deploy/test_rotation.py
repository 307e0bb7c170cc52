"""Rotations as docs/deploy.md describes them, on the compose deployment's twin: a new chain-signing key leaves a
chain signed by two keys, which `ledger verify` passes given both public keys and fails given the new one alone; a
client CA file holding the old and the new CA lets banks in with certificates from either during the overlap."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

from tests.deploy.twin import Twin, camt_050_mint, compose_dir, python_bin
from tests.settlement.builders import SBER, VTB, Tx, pacs_008, today_in_moscow

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _pay(twin: Twin, count: int) -> None:
    """Start gateway-a, convert and pay, stop it: chain heads signed with the key it was started with."""
    gateway = twin.start("gateway-a")
    assert b"<StsCd>ACSC</StsCd>" in twin.post(gateway, SBER, camt_050_mint())[1]
    for i in range(count):
        payment = Tx(SBER, VTB, 100_00 + i)
        message = pacs_008(SBER, f"ROTATE-{uuid.uuid4().hex[:12]}", [payment], today_in_moscow())
        answer = twin.post(gateway, SBER, message)[1]
        assert f"<OrgnlUETR>{payment.uetr}</OrgnlUETR><TxSts>ACSC</TxSts>".encode() in answer, answer
    assert twin.stop(gateway) == 0


def _key_id(printed: str) -> str:
    return printed.rsplit("key id ", 1)[1].strip()


def test_a_rotated_chain_signing_key_verifies_with_both_public_keys(twin: Twin) -> None:
    assert twin.run("migrate").returncode == 0
    _pay(twin, 2)

    # The rotation: a new key made beside the old one, then put where the secret is, and the gateway restarted.
    key_file = twin.secrets_dir / "cb-signing-key.pem"
    retired = twin.secrets_dir / "retired"
    retired.mkdir()
    shutil.copy(key_file.with_name(key_file.name + ".pub"), retired / "cb-signing-key-1.pem.pub")
    made = subprocess.run(
        [str(python_bin / "gateway"), "keys", "init", "--key-file", str(twin.secrets_dir / "new-key.pem")],
        env=twin.base_environment, capture_output=True, text=True, check=True,
    )
    new_key_id = _key_id(made.stdout)
    (twin.secrets_dir / "new-key.pem").replace(key_file)
    (twin.secrets_dir / "new-key.pem.pub").replace(key_file.with_name(key_file.name + ".pub"))
    _pay(twin, 2)

    old_public, new_public = retired / "cb-signing-key-1.pem.pub", key_file.with_name(key_file.name + ".pub")
    both = twin.run("gateway-a", "ledger", "verify", "--public-key", str(old_public), "--public-key", str(new_public))
    assert both.returncode == 0 and "ledger verified" in both.stdout, both.stdout + both.stderr
    by_key = next(line for line in both.stdout.splitlines() if line.startswith("signed chain heads by key id: "))
    assert new_key_id in by_key and len(by_key.split(",")) == 2, by_key

    new_only = twin.run("gateway-a", "ledger", "verify", "--public-key", str(new_public))
    assert new_only.returncode == 1, new_only.stdout
    assert "chain head signed with key id" in new_only.stdout and "not one of the keys given" in new_only.stdout


def test_a_client_ca_file_with_the_old_and_the_new_ca_admits_banks_of_both(twin: Twin) -> None:
    assert twin.run("migrate").returncode == 0
    old_pki, new_pki = twin.secrets_dir / "pki", twin.workdir / "new-pki"
    subprocess.run([str(python_bin / "gateway"), "--config", str(compose_dir / "gateway.toml"), "certs", "init",
                    str(new_pki)], env=twin.base_environment, capture_output=True, check=True)
    old_ca = (old_pki / "ca.pem").read_bytes()
    (old_pki / "ca.pem").unlink()  # the guide leaves it read-only
    (old_pki / "ca.pem").write_bytes(old_ca + (new_pki / "ca.pem").read_bytes())  # the overlap: both CAs
    gateway = twin.start("gateway-a")
    for pki in (old_pki, new_pki):
        context = ssl.create_default_context(cadata=old_ca.decode())  # the banks trust the server's issuer
        context.load_cert_chain(pki / f"{SBER}.pem", pki / f"{SBER}.key")
        with urllib.request.urlopen(f"https://localhost:{gateway.port}/v1/ledger/head", context=context,
                                    timeout=30) as response:
            assert response.status == 200, pki
    # A bank whose certificate comes from neither CA is still refused by the handshake.
    stranger_pki = twin.workdir / "stranger-pki"
    subprocess.run([str(python_bin / "gateway"), "--config", str(compose_dir / "gateway.toml"), "certs", "init",
                    str(stranger_pki)], env=twin.base_environment, capture_output=True, check=True)
    context = ssl.create_default_context(cadata=old_ca.decode())
    context.load_cert_chain(stranger_pki / f"{SBER}.pem", stranger_pki / f"{SBER}.key")
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        with urllib.request.urlopen(f"https://localhost:{gateway.port}/v1/ledger/head", context=context,
                                    timeout=30) as response:
            response.read()
    assert twin.stop(gateway) == 0
