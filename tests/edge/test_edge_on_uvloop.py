"""The edge on uvloop's event loop, as `gateway serve` runs it when uvloop is installed
(gateway.http.listener.new_event_loop): the TLS handshake with a client certificate, a payment settled and
answered, a certificate naming no participant refused, and one access log line per request."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from gateway.http.listener import new_event_loop
from tests.edge.conftest import UNKNOWN_BANK, EdgeFactory
from tests.settlement.builders import SBER, VTB, Tx, pacs_008, today_in_moscow
from tests.settlement.conftest import status_report

uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed: gateway serve runs on asyncio's loop")


@pytest.fixture
def event_loop_policy() -> asyncio.AbstractEventLoopPolicy:
    return uvloop.EventLoopPolicy()


def test_serve_runs_on_uvloop_when_it_is_installed() -> None:
    loop = new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


async def test_a_payment_over_mutual_tls_is_settled_and_logged_on_uvloop(
    edge_gateway: EdgeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
    gateway = await edge_gateway()
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    payment = pacs_008(SBER, "EDGE-UVLOOP-1", [Tx(SBER, VTB, 100_00)], today_in_moscow())

    status, body = await gateway.request("POST", "/v1/messages", SBER, payment)

    assert status == 200, body
    assert status_report(body).group_status == "ACSC"
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 1, lines
    # peer, request line, status, bytes sent (the body, and the headers with it), milliseconds
    assert re.fullmatch(r'127\.0\.0\.1 "POST /v1/messages HTTP/1\.1" 200 [0-9]+ [0-9]+\.[0-9] ms', lines[0]), lines[0]
    assert int(lines[0].split()[5]) >= len(body)


async def test_a_certificate_naming_no_participant_is_refused_on_uvloop(edge_gateway: EdgeFactory) -> None:
    gateway = await edge_gateway()
    payment = pacs_008(SBER, "EDGE-UVLOOP-2", [Tx(SBER, VTB, 100_00)], today_in_moscow())

    status, _ = await gateway.request("POST", "/v1/messages", UNKNOWN_BANK, payment)

    assert status == 401
