"""The access log (gateway.http.listener.AccessLog): one line per request, with the peer, the request line, the
status, the bytes sent and the milliseconds taken."""

from __future__ import annotations

import logging
import re

import pytest

from tests.edge.conftest import EdgeFactory
from tests.settlement.builders import SBER, VTB, Tx, pacs_008, today_in_moscow
from tests.settlement.conftest import status_report


async def test_a_settled_payment_is_one_access_log_line(
    edge_gateway: EdgeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = await edge_gateway()
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    payment = pacs_008(SBER, "EDGE-ACCESS-LOG-1", [Tx(SBER, VTB, 100_00)], today_in_moscow())

    status, body = await gateway.request("POST", "/v1/messages", SBER, payment)

    assert status == 200, body
    assert status_report(body).group_status == "ACSC"
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 1, lines
    assert re.fullmatch(r'127\.0\.0\.1 "POST /v1/messages HTTP/1\.1" 200 [0-9]+ [0-9]+\.[0-9] ms', lines[0]), lines[0]
    assert int(lines[0].split()[5]) > len(body)  # the headers were sent too

