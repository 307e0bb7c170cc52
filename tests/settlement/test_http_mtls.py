"""Over real mutual TLS, the client certificate decides who is sending: each bank settles as itself, a message in
another bank's name is 403 and its answer says AG01 first, an AppHdr sender named without a BICFI is RC02, a
certificate of a bank the gateway does not know is 401, no certificate no connection; a bank configured for an AppHdr
version gets even these refusals in it."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from gateway.app import make_app
from gateway.config import load_config
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from gateway.http.keys import gateway_key
from gateway.security.certs import (
    Party,
    client_ssl_context,
    parties_of,
    server_ssl_context,
    write_development_pki,
)
from tests.conftest import write_config
from tests.settlement.builders import ALFA, SBER, VTB, Tx, pacs_004, pacs_008, today_in_moscow
from tests.settlement.conftest import (
    FUNDING,
    Message,
    message_reject,
    status_report,
)

unknown_bank = "TESTRUMMXXX"


@dataclass
class TlsGateway:
    url: str
    certs: Path
    app: web.Application

    def as_bank(self, bic: str | None, certs: Path | None = None) -> ssl.SSLContext:
        folder = certs or self.certs
        if bic is None:
            return client_ssl_context(self.certs / "ca.pem")
        return client_ssl_context(self.certs / "ca.pem", folder / f"{bic}.pem", folder / f"{bic}.key")

    async def post(
        self, bic: str | None, payload: bytes, certs: Path | None = None, content_type: str = "application/xml"
    ) -> tuple[int, bytes]:
        async with aiohttp.ClientSession() as session, session.post(
            f"{self.url}/v1/messages", data=payload, headers={"Content-Type": content_type},
            ssl=self.as_bank(bic, certs),
        ) as response:
            return response.status, await response.read()


@pytest.fixture
async def tls_gateway(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> AsyncIterator[TlsGateway]:
    """Parametrised indirectly, its parameter is write_config's participant_toml."""
    participant_toml = getattr(request, "param", None)
    config = load_config(write_config(tmp_path, database_url, participant_toml=participant_toml), environ={})
    certs = tmp_path / "certs"
    parties = parties_of(config)
    # One certificate more than the config has participants: a bank the gateway does not know.
    write_development_pki(certs, parties[0], [*parties, Party(unknown_bank, "Unknown Bank")], force=False)
    app = make_app(config, upgrade_database=True, plain_http=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl_context(
        certs / "server.pem", certs / "server.key", certs / "ca.pem"))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    gateway = TlsGateway(f"https://localhost:{port}", certs, app)
    await _mint(app, FUNDING)
    try:
        yield gateway
    finally:
        await runner.cleanup()


async def _mint(app: web.Application, amounts: dict[str, int]) -> None:
    ledger = app[gateway_key]
    ids = {a.code: a.id for a in await ledger.store.accounts()}
    mints = [
        TransferRequest(uuid.uuid4(), ids["CBRFRUMMXXX/issuance"], ids[f"{bic}/main"], kopecks, TransferKind.MINT, "mint")
        for bic, kopecks in amounts.items()
    ]
    assert await ledger.batcher.submit(mints) == [TransferResult.OK] * len(mints)


async def _balances(gateway: TlsGateway) -> dict[str, int]:
    accounts = {a.code: a.posted_kopecks for a in await gateway.app[gateway_key].store.accounts()}
    return {bic: accounts[f"{bic}/main"] for bic in (SBER, VTB, ALFA)}


async def test_each_bank_settles_as_the_bank_its_certificate_names(tls_gateway: TlsGateway) -> None:
    status, body = await tls_gateway.post(SBER, pacs_008(SBER, "TLS-1", [Tx(SBER, VTB, 5_00)], today_in_moscow()))
    assert status == 200
    assert status_report(body).group_status == "ACSC"
    status, body = await tls_gateway.post(VTB, pacs_008(VTB, "TLS-1", [Tx(VTB, ALFA, 3_00)], today_in_moscow()))
    assert status == 200 and status_report(body).group_status == "ACSC"
    assert await _balances(tls_gateway) == {
        SBER: FUNDING[SBER] - 5_00, VTB: FUNDING[VTB] + 5_00 - 3_00, ALFA: FUNDING[ALFA] + 3_00
    }


async def test_a_message_in_another_banks_name_is_forbidden_and_moves_nothing(tls_gateway: TlsGateway) -> None:
    # VTB's certificate, Sberbank's AppHdr and debtor agent: VTB trying to spend Sberbank's money.
    status, body = await tls_gateway.post(VTB, pacs_008(SBER, "TLS-2", [Tx(SBER, VTB, 5_00)], today_in_moscow()))
    assert status == 403
    assert Message.read(body).kind == "admi.002.001.01"
    assert message_reject(body).text("Rsn/RjctgPtyRsn") == "AG01"
    assert await _balances(tls_gateway) == FUNDING


async def test_a_payment_debiting_another_banks_wallet_is_forbidden(tls_gateway: TlsGateway) -> None:
    # VTB's certificate and VTB's AppHdr, but Sberbank as the debtor agent: 403 with an admi.002, nothing moves.
    document_sent_by_vtb = pacs_008(SBER, "TLS-5", [Tx(SBER, VTB, 5_00)], today_in_moscow()).replace(
        b"<Fr><FIId><FinInstnId><BICFI>SABRRUMMXXX</BICFI>", b"<Fr><FIId><FinInstnId><BICFI>VTBRRUMMXXX</BICFI>"
    ).replace(b"<InstgAgt><FinInstnId><BICFI>SABRRUMMXXX", b"<InstgAgt><FinInstnId><BICFI>VTBRRUMMXXX")
    assert b"<Fr><FIId><FinInstnId><BICFI>VTBRRUMMXXX</BICFI>" in document_sent_by_vtb
    status, body = await tls_gateway.post(VTB, document_sent_by_vtb)
    assert status == 403
    reject = message_reject(body)
    assert reject.text("Rsn/RjctgPtyRsn") == "AG01"
    assert "DbtrAgt" in reject.text("Rsn/ErrLctn")
    assert await _balances(tls_gateway) == FUNDING


async def test_a_message_in_another_banks_name_says_ag01_first_whatever_else_is_wrong(tls_gateway: TlsGateway) -> None:
    # VTB's certificate, Sberbank's AppHdr, and a return of nothing (AM01): the same layer finds both, and the one
    # reason an admi.002 carries is the authorisation failure that the 403 says.
    payload = pacs_004(SBER, "TLS-5", [(uuid.uuid4(), 0)], today_in_moscow())
    status, body = await tls_gateway.post(VTB, payload)
    assert status == 403
    Message.read(body).assert_official()
    reject = message_reject(body)
    assert reject.text("Rsn/RjctgPtyRsn") == "AG01"
    assert reject.text("Rsn/ErrLctn") == "/Envelope/AppHdr/Fr/FIId/FinInstnId/BICFI"


async def test_an_apphdr_sender_without_a_bicfi_is_rc02_not_forbidden(tls_gateway: TlsGateway) -> None:
    # Sberbank's certificate, an AppHdr naming the sender by its clearing code: not another bank's name, but not
    # how the scheme names a sender either. The pacs.002 refuses each transaction, to the authenticated bank.
    tx = Tx(SBER, VTB, 5_00)
    payload = pacs_008(SBER, "TLS-6", [tx], today_in_moscow()).replace(
        b"<Fr><FIId><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></FIId></Fr>",
        b"<Fr><FIId><FinInstnId><ClrSysMmbId><MmbId>044525225</MmbId></ClrSysMmbId></FinInstnId></FIId></Fr>",
    )
    status, body = await tls_gateway.post(SBER, payload)
    assert status == 200
    report = status_report(body)
    report.message.assert_official()
    assert report.message.receiver == SBER
    assert not report.message.app_hdr.has("Rltd")
    assert report.group_status == "RJCT" and "RC02" in report.group_reasons
    assert [t.status for t in report.transactions] == ["RJCT"]
    assert await _balances(tls_gateway) == FUNDING


async def test_a_certificate_for_a_bank_the_gateway_does_not_know_is_unauthorised(tls_gateway: TlsGateway) -> None:
    # Issued by the gateway's own CA (so the handshake succeeds) for a BIC that is no participant.
    status, body = await tls_gateway.post(
        unknown_bank, pacs_008(unknown_bank, "TLS-3", [Tx(unknown_bank, VTB, 1_00)], today_in_moscow())
    )
    assert status == 401
    assert message_reject(body).text("Rsn/RjctgPtyRsn") == "FF01"
    assert await _balances(tls_gateway) == FUNDING


async def test_no_client_certificate_no_connection(tls_gateway: TlsGateway) -> None:
    with pytest.raises((aiohttp.ClientError, ssl.SSLError, ConnectionError)):
        await tls_gateway.post(None, pacs_008(SBER, "TLS-4", [Tx(SBER, VTB, 1_00)], today_in_moscow()))
    assert await _balances(tls_gateway) == FUNDING


@pytest.mark.parametrize("tls_gateway", [{VTB: 'app_hdr_version = "head.001.001.01"\n'}], indirect=True)
async def test_a_bank_configured_for_an_app_hdr_version_is_refused_in_it(tls_gateway: TlsGateway) -> None:
    """VTB asked for head.001.001.01: its 403 for acting for Sberbank and a transport refusal (415) come in it."""
    payment = pacs_008(SBER, "TLS-6", [Tx(SBER, VTB, 5_00)], today_in_moscow())
    for content_type, expected_status in (("application/xml", 403), ("text/plain", 415)):
        status, body = await tls_gateway.post(VTB, payment, content_type=content_type)
        assert status == expected_status
        refusal = Message.read(body)
        assert (refusal.kind, refusal.receiver, str(refusal.app_hdr_version)) == (
            "admi.002.001.01", VTB, "head.001.001.01"
        )
        refusal.assert_official()
    # Sberbank asked for none: its own 415 comes in head.001.001.02.
    status, body = await tls_gateway.post(SBER, payment, content_type="text/plain")
    assert (status, str(Message.read(body).app_hdr_version)) == (415, "head.001.001.02")
    assert await _balances(tls_gateway) == FUNDING
