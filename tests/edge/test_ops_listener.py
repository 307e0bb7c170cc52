"""The ops listener (gateway.http.ops): /healthz, /readyz and /metrics in plain HTTP without a client certificate,
beside the banks' port, which keeps mutual TLS; and readiness that says which check failed."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import make_app
from gateway.config import load_config
from gateway.conversion.ports import RtgsUnavailable
from gateway.http.keys import gateway_key
from gateway.http.ops import make_ops_app
from gateway.ledger.batcher import AutoBatcher
from tests.conftest import write_config
from tests.edge.conftest import EdgeFactory, EdgeGateway, read_until_closed
from tests.settlement.builders import SBER
from bench.drills.tcp_proxy import TcpProxy


async def start_ops(app: web.Application) -> tuple[web.AppRunner, str]:
    """The ops listener of `app` (started) on a free loopback port, as `gateway serve` runs it."""
    runner = web.AppRunner(make_ops_app(app), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


@pytest.fixture
async def served(edge_gateway: EdgeFactory) -> AsyncIterator[tuple[EdgeGateway, str]]:
    gw = await edge_gateway()
    runner, ops_url = await start_ops(gw.app)
    yield gw, ops_url
    await runner.cleanup()


async def test_the_ops_port_answers_without_a_certificate_and_serves_nothing_else(
    served: tuple[EdgeGateway, str],
) -> None:
    _, ops = served
    assert await get(f"{ops}/healthz") == (200, '{"status": "alive"}')
    status, body = await get(f"{ops}/readyz")
    assert status == 200
    assert json.loads(body) == {
        "status": "ready", "checks": {"database": "ok", "ledger": "ok", "queue": "ok", "rtgs": "ok"}, "ledger_seq": 3,
    }
    status, body = await get(f"{ops}/metrics")
    assert status == 200
    assert "gateway_messages" in {family.name for family in text_string_to_metric_families(body)}
    # The banks' routes are not there: the ops port authenticates nobody.
    for path in ("/v1/messages", "/v1/ledger/head", "/v1/treasury/overview", "/treasury"):
        assert (await get(f"{ops}{path}"))[0] == 404, path


async def test_the_banks_port_still_refuses_a_connection_without_a_certificate(
    served: tuple[EdgeGateway, str],
) -> None:
    gw, _ = served
    result: bytes | BaseException
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", gw.port, ssl=gw.context(None),
                                                       server_hostname="localhost")
    except (ssl.SSLError, ConnectionError) as error:  # TLS 1.2 fails here; TLS 1.3 at the first read
        result = error
    else:
        writer.write(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        result = await read_until_closed(reader)
        writer.close()
    assert not (isinstance(result, bytes) and result.startswith(b"HTTP/")), result
    # With a bank's certificate the same route answers there too.
    assert (await gw.request("GET", "/readyz", SBER))[0] == 200


async def test_readiness_is_503_over_the_queue_high_water_mark_and_names_the_queue(
    served: tuple[EdgeGateway, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gw, ops = served
    queue_max = gw.app[gateway_key].config.limits.queue_transfers_max
    monkeypatch.setattr(AutoBatcher, "queued_transfers", property(lambda self: queue_max))
    status, body = await get(f"{ops}/readyz")
    answer = json.loads(body)
    assert status == 503 and answer["status"] == "not ready"
    high_water = queue_max * 80 // 100
    assert answer["checks"]["queue"] == f"{queue_max} transfers queued, over the high-water mark {high_water}"
    assert answer["checks"]["database"] == "ok"


async def test_an_rtgs_that_does_not_answer_is_reported_but_leaves_the_gateway_ready(
    served: tuple[EdgeGateway, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gw, ops = served

    async def unreachable(account: str) -> None:
        raise RtgsUnavailable("injected: the RTGS does not answer")

    monkeypatch.setattr(gw.app[gateway_key].rtgs, "balance", unreachable)
    status, body = await get(f"{ops}/readyz")
    answer = json.loads(body)
    assert status == 200 and answer["checks"]["rtgs"] == "unavailable: RtgsUnavailable", answer


@pytest.mark.postgres
async def test_readiness_is_503_naming_the_database_while_postgresql_is_down_and_ready_again_after(
    postgres_url: str, tmp_path: pytest.TempPathFactory
) -> None:
    server = urlsplit(postgres_url.replace("postgresql+asyncpg", "postgresql"))
    proxy = TcpProxy(server.hostname or "127.0.0.1", server.port or 5432)
    await proxy.start()
    proxied = postgres_url.replace(server.netloc, f"{server.username}@127.0.0.1:{proxy.port}", 1)
    limits = "db_connect_timeout_ms = 500\ndb_checkout_timeout_ms = 500\ndb_statement_timeout_ms = 500\n"
    config = load_config(write_config(tmp_path, proxied, limits_toml=limits), environ={})  # type: ignore[arg-type]
    app = make_app(config, upgrade_database=True, plain_http=True)
    banks = web.AppRunner(app)
    await banks.setup()  # starts the gateway
    ops_runner, ops = await start_ops(app)
    try:
        assert (await get(f"{ops}/readyz"))[0] == 200
        for mode in ("refuse", "black_hole"):
            proxy.set_mode(mode)  # type: ignore[arg-type]
            status, body = await get(f"{ops}/readyz")
            answer = json.loads(body)
            assert status == 503 and answer["status"] == "not ready", (mode, answer)
            assert answer["checks"]["database"] != "ok" and "ledger_seq" not in answer, (mode, answer)
            assert (await get(f"{ops}/healthz"))[0] == 200  # alive all the same: restarting it would not help
        proxy.set_mode("forward")
        for _ in range(50):
            if (await get(f"{ops}/readyz"))[0] == 200:
                break
            await asyncio.sleep(0.1)
        assert (await get(f"{ops}/readyz"))[0] == 200
    finally:
        proxy.set_mode("forward")
        await ops_runner.cleanup()
        await banks.cleanup()
        await proxy.close()
