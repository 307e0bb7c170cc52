"""The message-signing key and certificates are checked once, at start-up: each problem is one ConfigError naming its
key (and `gateway serve` says it in one line), never a traceback and never a gateway that signs with the wrong key."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.config import Config, ConfigError, load_config
from gateway.messages.signing import load_message_signing, published_pem
from gateway.messages.writers import configured_recipients
from tests.conftest import write_config
from tests.settlement.builders import SBER, VTB
from tests.signing.conftest import (
    Pki,
    Signer,
    message_signing_toml,
    participant_signing_toml,
)

now = datetime.now(UTC)


def config_with(
    tmp_path: Path, gateway: Signer | None, participants: dict[str, str] | None = None, extra: str = ""
) -> Config:
    path = write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3", participant_toml=participants)
    path.write_text(path.read_text() + message_signing_toml(gateway) + extra)
    return load_config(path, environ={})


def refused_key(config: Config) -> ConfigError:
    with pytest.raises(ConfigError) as error:
        load_message_signing(config, now)
    assert "\n" not in str(error.value)
    return error.value


def test_a_sound_setup_loads(tmp_path: Path, pki: Pki, gateway_signer: Signer) -> None:
    sber, following = pki.signer(SBER, "sber"), pki.signer(SBER, "sber-next")
    config = config_with(tmp_path, gateway_signer, {SBER: participant_signing_toml("required", [sber, following])})
    signing = load_message_signing(config, now)
    assert signing.signer is not None and signing.signer.certificate == gateway_signer.certificate
    assert [t.der for t in signing.trusted] == [s.trusted().der for s in (sber, following)]
    assert (signing.policy(SBER), signing.policy(VTB)) == ("required", "optional")
    assert published_pem(signing.published) == gateway_signer.file.read_bytes()


def test_missing_and_unreadable_files(tmp_path: Path, pki: Pki, gateway_signer: Signer) -> None:
    gateway_signer.file.with_suffix(".key").write_text("not a key")
    assert refused_key(config_with(tmp_path, gateway_signer)).key == "message_signing.key_file"
    gateway_signer.file.with_suffix(".key").unlink()
    error = refused_key(config_with(tmp_path, gateway_signer))
    assert (error.key, "does not exist" in error.problem) == ("message_signing.key_file", True)


def test_a_key_and_certificate_that_do_not_match(tmp_path: Path, pki: Pki, gateway_signer: Signer) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    gateway_signer.file.with_suffix(".key").write_bytes(
        other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    )
    error = refused_key(config_with(tmp_path, gateway_signer))
    assert error.key == "message_signing.certificate_file" and "not the certificate" in error.problem


def test_an_expired_gateway_certificate(tmp_path: Path, pki: Pki) -> None:
    expired = pki.signer("CBRFRUMMXXX", "gateway-old", valid_from=-timedelta(days=40), lifetime=timedelta(days=30))
    error = refused_key(config_with(tmp_path, expired))
    assert error.key == "message_signing.certificate_file" and "not now" in error.problem


def test_a_gateway_certificate_naming_a_bank(tmp_path: Path, pki: Pki) -> None:
    error = refused_key(config_with(tmp_path, pki.signer(SBER, "sber-as-gateway")))
    assert error.key == "message_signing.certificate_file" and "SABRRUMMXXX" in error.problem


def test_a_participants_certificate_missing_or_for_another_bank(tmp_path: Path, pki: Pki) -> None:
    vtb = pki.signer(VTB, "vtb")
    error = refused_key(config_with(tmp_path, None, {SBER: participant_signing_toml("optional", [vtb])}))
    assert error.key == "participants[0].signing_certificates[0]" and "VTBRRUMMXXX" in error.problem
    vtb.file.unlink()
    error = refused_key(config_with(tmp_path, None, {VTB: participant_signing_toml("required", [vtb])}))
    assert error.key == "participants[1].signing_certificates[0]" and "does not exist" in error.problem


def test_serve_says_a_bad_signing_setup_in_one_line(tmp_path: Path, gateway_signer: Signer) -> None:
    gateway_signer.file.with_suffix(".key").unlink()
    path = write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3")
    path.write_text(path.read_text() + message_signing_toml(gateway_signer))
    command = [sys.executable, "-m", "gateway.cli.main", "--config", str(path), "serve", "--plain-http",
               "--port", "18417"]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=environment)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("gateway: config message_signing.key_file: "), result.stderr


def test_who_gets_signed_messages(tmp_path: Path, pki: Pki, gateway_signer: Signer) -> None:
    """Each participant as its policy says; a receiver the config does not name (a bank added with `participants
    add`) as the default policy, optional: signed. Without [message_signing], nobody."""
    participants = {SBER: participant_signing_toml("off"), VTB: 'app_hdr_version = "head.001.001.03"\n'}
    config = config_with(tmp_path, gateway_signer, participants)
    recipients = configured_recipients(config, load_message_signing(config, now))
    sber, vtb, added = recipients.get(SBER), recipients.get(VTB), recipients.get("TICSRUMMXXX")
    assert sber is not None and sber.signer is None
    assert vtb is not None and vtb.signer is not None and str(vtb.app_hdr_version) == "head.001.001.03"
    assert added is not None and added.signer is vtb.signer and added.app_hdr_version is None
    unsigned = config_with(tmp_path, None, participants)
    assert configured_recipients(unsigned, load_message_signing(unsigned, now)).get("TICSRUMMXXX") is None
