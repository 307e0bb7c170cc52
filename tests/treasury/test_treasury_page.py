"""The treasury page in headless Chromium (Debian's `chromium`, driven by Playwright, over real mutual TLS): after a
real morning of conversions and payments, the central bank's certificate sees supply, both reserves, a bank's wallet,
the count of a message type and a reject's reason code as the ledger and the journal hold them; a bank's certificate
sees only its own figures; the page runs under its Content-Security-Policy without a single console error. Each view
is saved as a screenshot under the test's output (the path is printed).

Without Chromium or Playwright the test skips saying what is missing, except under CI=true, where it fails."""

from __future__ import annotations

import os
import re
import shutil
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text

from gateway.app import make_app
from gateway.config import load_config
from gateway.http.keys import gateway_key
from gateway.runtime import Gateway
from gateway.security.certs import client_ssl_context, parties_of, server_ssl_context, write_development_pki
from tests.conftest import write_config
from tests.corpus import in_ci
from tests.settlement.builders import ALFA, CBRF, SBER, VTB
from tests.treasury import scenario

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
chromium_env_var = "GATEWAY_TEST_CHROMIUM"  # another Chromium binary than Debian's /usr/bin/chromium
page_timeout_ms = 20_000  # for the first figures to arrive: the page asks at once, then every few seconds


def _chromium() -> str:
    """The system Chromium, and Playwright to drive it; skip (fail under CI=true) saying which one is missing."""
    executable = os.environ.get(chromium_env_var) or shutil.which("chromium") or shutil.which("chromium-browser")
    problem = None
    if executable is None:
        problem = f"no chromium on PATH (apt-get install -y chromium, or set {chromium_env_var})"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            problem = "the Python package playwright is not installed (pip install -e '.[test]')"
    if problem is None:
        assert executable is not None
        return executable
    if in_ci:
        pytest.fail(problem + " -- under CI=true the treasury page's browser test must run", pytrace=False)
    pytest.skip(problem)


@dataclass
class TlsGateway:
    url: str
    certs: Path
    gateway: Gateway

    def ssl(self, bic: str) -> ssl.SSLContext:
        return client_ssl_context(self.certs / "ca.pem", self.certs / f"{bic}.pem", self.certs / f"{bic}.key")


@pytest.fixture
async def tls_gateway(database_url: str, tmp_path: Path) -> AsyncIterator[TlsGateway]:
    """The gateway as `gateway serve` runs it (mutual TLS, the development PKI of `gateway certs init`), the
    morning settled through it by each bank with its own certificate."""
    config = load_config(
        write_config(tmp_path, database_url, limits_toml="treasury_refresh_ms = 0",
                     rtgs_toml=f'opening_balance_rub = "{scenario.rtgs_opening_rub}"'),
        environ={},
    )
    certs = tmp_path / "certs"
    parties = parties_of(config)
    write_development_pki(certs, parties[0], parties, force=False)
    app = make_app(config, upgrade_database=True, plain_http=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl_context(
        certs / "server.pem", certs / "server.key", certs / "ca.pem"))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    gateway = TlsGateway(f"https://localhost:{port}", certs, app[gateway_key])
    try:
        async with aiohttp.ClientSession() as session:

            async def post(bank: str, payload: bytes) -> tuple[int, bytes]:
                async with session.post(f"{gateway.url}/v1/messages", data=payload, ssl=gateway.ssl(bank),
                                        headers={"Content-Type": "application/xml"}) as response:
                    return response.status, await response.read()

            await scenario.settle_the_morning(post)
        yield gateway
    finally:
        await runner.cleanup()


class Page:
    """One browser context with one client certificate, on the treasury page, its console watched."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    async def text(self, selector: str) -> str:
        return (await self.page.locator(selector).inner_text()).strip()

    async def rows(self, table: str) -> list[list[str]]:
        cells = await self.page.locator(f"#{table} tbody tr").evaluate_all(
            "rows => rows.map(row => Array.from(row.cells, cell => cell.textContent.trim()))"
        )
        return [list(row) for row in cells]


def kopecks(shown: str) -> int:
    """A figure as the page shows it ("1,234,567.89"), in kopecks: checked to have exactly two decimals."""
    whole, _, fraction = shown.replace(",", "").partition(".")
    assert whole.isdigit() and len(fraction) == 2 and fraction.isdigit(), shown
    return int(whole) * 100 + int(fraction)


async def open_page(browser: Any, gateway: TlsGateway, bic: str) -> tuple[Any, Page]:
    context = await browser.new_context(
        client_certificates=[{
            "origin": gateway.url,
            "certPath": str(gateway.certs / f"{bic}.pem"),
            "keyPath": str(gateway.certs / f"{bic}.key"),
        }],
        # The server certificate is from the development CA, which this browser profile does not know.
        ignore_https_errors=True,
        viewport={"width": 1440, "height": 900},
        timezone_id="Europe/Moscow",
    )
    page = Page(await context.new_page())
    response = await page.page.goto(f"{gateway.url}/treasury")
    assert response is not None and response.status == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    await page.page.wait_for_selector("body[data-refreshed=yes]", timeout=page_timeout_ms)
    return context, page


async def screenshot(page: Page, path: Path) -> None:
    await page.page.screenshot(path=str(path), full_page=True)
    print(f"\ntreasury page screenshot: {path}")


@sqlite_only
async def test_the_treasury_page_shows_the_ledger_to_each_viewer_as_far_as_it_may_see(
    tls_gateway: TlsGateway, tmp_path: Path
) -> None:
    executable = _chromium()
    from playwright.async_api import async_playwright

    gateway = tls_gateway.gateway
    accounts = {a.code: a.posted_kopecks for a in await gateway.store.accounts()}
    reserve = await gateway.rtgs.balance(gateway.rtgs.reserve_account)
    assert reserve is not None
    async with gateway.store.engine.connect() as connection:
        pacs_008_received = (await connection.execute(text(
            "SELECT count(*) FROM messages WHERE direction = 'in' AND message_type = 'pacs.008.001.08'"
        ))).scalar_one()
        refused = (await connection.execute(text(
            "SELECT reference, reason_code FROM messages WHERE reason_code IS NOT NULL"
        ))).all()
    assert pacs_008_received == 4 and [tuple(r) for r in refused] == [("TRS-PAY-3", "RC02")]

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            context, page = await open_page(browser, tls_gateway, CBRF)
            assert (await page.text("#viewer")).startswith("Bank of Russia (CBRFRUMMXXX)")
            assert (await page.text("#day-state")).lower() == "open"  # shown in capitals by its style
            today = gateway.environment.calendar.business_date_at(gateway.environment.clock_us()).isoformat()
            assert await page.text("#business-date") == today
            assert re.fullmatch(r"[0-2][0-9]:[0-5][0-9]:[0-5][0-9] MSK", await page.text("#as-of"))
            assert kopecks(await page.text("#supply")) == -accounts[f"{CBRF}/issuance"] == 700_000_00
            assert kopecks(await page.text("#reserve-ledger")) == accounts[f"{CBRF}/reserve"] == 700_000_00
            assert kopecks(await page.text("#reserve-rtgs")) == reserve.booked_kopecks == 700_000_00
            assert await page.text("#supply") == "700,000.00"  # with its thousands separator
            assert kopecks(await page.text("#cap")) == 1_000_000_000_00
            assert await page.text("#supply-check") == "equal to the reserve"
            positions = await page.rows("positions")
            sber_main = next(row for row in positions if row[1] == f"{SBER}/main")
            assert kopecks(sber_main[2]) == accounts[f"{SBER}/main"] == 399_000_00
            assert {row[1].split("/")[0] for row in positions} == {SBER, VTB, ALFA}
            flows = {row[0]: row for row in await page.rows("flows")}
            assert int(flows["pacs.008.001.08"][1]) == pacs_008_received
            assert kopecks(flows["pacs.008.001.08"][7]) == 101_000_00  # settled today
            reasons = dict(tuple(row) for row in await page.rows("reasons"))
            assert reasons == {"AM04": "2", "RC02": "1"}
            rejects = await page.rows("rejects")
            assert ["TRS-PAY-3", "RC02"] in [row[3:5] for row in rejects]
            assert [row[0] for row in await page.rows("pending")] == ["warehoused payment"]
            await screenshot(page, tmp_path / "treasury-central-bank.png")
            assert page.errors == []
            await context.close()

            context, page = await open_page(browser, tls_gateway, SBER)
            assert (await page.text("#viewer")).startswith("Sberbank (SABRRUMMXXX)")
            assert await page.text("#positions-title") == "Your positions"
            positions = await page.rows("positions")
            assert {row[1] for row in positions} == {f"{SBER}/clients", f"{SBER}/main"}
            assert kopecks(next(row for row in positions if row[1] == f"{SBER}/main")[2]) == 399_000_00
            assert await page.text("#reserve-rtgs") == "\u2014"  # the central bank's own account
            flows = {row[0]: row for row in await page.rows("flows")}
            assert int(flows["pacs.008.001.08"][1]) == 3  # its own three, not VTB's
            assert dict(tuple(row) for row in await page.rows("reasons")) == {"AM04": "1", "RC02": "1"}
            # No other bank anywhere, but as the debtor agent of the payment VTB owes Sberbank tomorrow.
            assert [row[1:4] for row in await page.rows("pending")] == [[VTB, SBER, "TRS-PAY-4"]]
            elsewhere = await page.page.evaluate(
                "() => { const main = document.querySelector('main').cloneNode(true);"
                " main.querySelector('#pending').remove(); return main.textContent; }"
            )
            assert VTB not in elsewhere and ALFA not in elsewhere and "Alfa" not in elsewhere
            await screenshot(page, tmp_path / "treasury-sberbank.png")
            assert page.errors == []
            await context.close()
        finally:
            await browser.close()
