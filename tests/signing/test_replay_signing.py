"""`gateway replay --sign` signs each message with its sender's development signing key, so that a bank whose
signature_policy is required can be replayed; without it the same file is refused DS0A."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from gateway.app import make_app
from gateway.config import load_config
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from gateway.http.keys import gateway_key
from gateway.replay.client import Identities
from gateway.security.certs import (
    issue_signing_certificate,
    parties_of,
    write_development_pki,
)
from tests.conftest import write_config
from tests.replay.conftest import replay
from tests.settlement.builders import CBRF, SBER, VTB, Tx, pacs_008, today_in_moscow
from tests.signing.conftest import participant_signing_toml


@pytest.fixture
async def required_gateway(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """A plain-HTTP gateway where Sberbank must sign, its development signing certificate registered; and the
    certificates folder, as `gateway certs init` writes it, with Sberbank's signing key beside its client key."""
    certs = tmp_path / "certs"
    config = load_config(write_config(tmp_path, database_url), environ={})
    parties = parties_of(config)
    write_development_pki(certs, parties[0], parties, force=False)
    sber = next(party for party in parties if party.bic == SBER)
    issued = issue_signing_certificate(certs, sber, force=False)
    config = load_config(write_config(tmp_path, database_url, participant_toml={
        SBER: participant_signing_toml("required").replace("[]", f'["{issued.certificate}"]'),
    }), environ={})
    runner = web.AppRunner(make_app(config, upgrade_database=True, plain_http=True))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    gateway = runner.app[gateway_key]
    ids = {account.code: account.id for account in await gateway.store.accounts()}
    mint = TransferRequest(uuid.uuid4(), ids[f"{CBRF}/issuance"], ids[f"{SBER}/main"], 1_000_00, TransferKind.MINT,
                           f"{CBRF}:MINT")
    assert await gateway.batcher.submit([mint]) == [TransferResult.OK]
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", certs
    finally:
        await runner.cleanup()


async def test_replay_signs_with_sign_and_is_refused_without(
    required_gateway: tuple[str, Path], tmp_path: Path
) -> None:
    url, certs = required_gateway
    folder = tmp_path / "messages"
    folder.mkdir()
    (folder / "payment.xml").write_bytes(pacs_008(SBER, "SBER-REPLAY-SIGNED", [Tx(SBER, VTB, 10_00)], today_in_moscow()))

    unsigned = await replay(folder, url, certs, identities=Identities(ca_file=None, certs_dir=certs))
    assert "DS0A" in unsigned.output, unsigned.output

    signed = await replay(folder, url, certs, identities=Identities(ca_file=None, certs_dir=certs, signing_dir=certs))
    assert signed.status == 0, signed.output + signed.errors
    assert "ACSC" in signed.output and "DS0A" not in signed.output, signed.output

    vtb_only = tmp_path / "vtb"
    vtb_only.mkdir()
    (vtb_only / "payment.xml").write_bytes(pacs_008(VTB, "VTB-REPLAY-1", [Tx(VTB, SBER, 10_00)], today_in_moscow()))
    missing = await replay(vtb_only, url, certs, identities=Identities(ca_file=None, certs_dir=certs, signing_dir=certs))
    assert missing.status != 0 and "cannot sign as VTBRRUMMXXX" in missing.errors, missing.errors
