"""Over real mutual TLS through the edge: slow headers, bodies and handshakes are cut without an answer, connections
are bounded in total and per client certificate, malformed requests and refused handshakes are one log line each
(no traceback), a client without a certificate from the gateway's CA gets no HTTP answer at all, and a certificate
from that CA naming no participant gets 401 with an admi.002."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.http.edge import EdgeLimits
from gateway.security.certs import Party, client_ssl_context, write_development_pki
from tests.edge.conftest import (
    CUT_WITHIN_SECONDS,
    FUNDING,
    UNKNOWN_BANK,
    EdgeFactory,
    EdgeGateway,
    close_quietly,
    read_until_closed,
    test_limits,
)
from tests.settlement.builders import SBER, VTB, Tx, pacs_008, today_in_moscow
from tests.settlement.conftest import message_reject, status_report

edge_logger = "gateway.http.edge"


def assert_cut_without_an_answer(result: bytes | BaseException) -> None:
    """The server closed the connection (or reset it) and sent no HTTP at all."""
    assert not (isinstance(result, bytes) and result), result


def edge_records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == edge_logger and r.levelno == level]


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait for something the server does right after the client has seen its effect (a log line, a slot freed)."""
    for _ in range(int(CUT_WITHIN_SECONDS / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    pytest.fail("the server never did it")


async def client_socket(gw: EdgeGateway) -> tuple[socket.socket, str]:
    """A connected TCP socket and the address the server sees it from, as the edge writes it in its log."""
    sock = socket.create_connection(("127.0.0.1", gw.port))
    sock.setblocking(False)
    host, port = sock.getsockname()[:2]
    return sock, f"{host}:{port}"


def one_payment(message_id: str) -> bytes:
    return pacs_008(SBER, message_id, [Tx(SBER, VTB, 100_00)], today_in_moscow())


def http_post(payload: bytes) -> tuple[bytes, bytes]:
    head = (
        "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head, payload


# --------------------------------------------------------------------------------------------------------------
# Slow clients
# --------------------------------------------------------------------------------------------------------------


async def test_a_request_whose_headers_stop_coming_is_cut_and_logged_once(
    edge_gateway: EdgeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=edge_logger)
    gw = await edge_gateway()
    reader, writer = await gw.connect(SBER)
    host, port = writer.get_extra_info("sockname")[:2]
    writer.write(b"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/xml\r\n")
    await writer.drain()
    assert_cut_without_an_answer(await read_until_closed(reader))
    await close_quietly(writer)
    [record] = [r for r in edge_records(caplog, logging.INFO) if "headers" in r.getMessage()]
    assert record.getMessage() == (
        f"cut the connection of {host}:{port}: request headers not complete within 1000 ms (header_timeout_ms)"
    )
    # Nobody else noticed.
    assert (await gw.request("GET", "/healthz", VTB))[0] == 200


async def test_headers_trickled_a_byte_at_a_time_are_cut_all_the_same(edge_gateway: EdgeFactory) -> None:
    # The bound runs from the request's first byte: bytes that keep coming, too slowly, do not extend it.
    gw = await edge_gateway()
    reader, writer = await gw.connect(SBER)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Trickle: ")

    async def trickle() -> None:
        while True:
            writer.write(b"a")
            await writer.drain()
            await asyncio.sleep(0.05)

    trickling = asyncio.create_task(trickle())
    try:
        assert_cut_without_an_answer(await read_until_closed(reader))
    finally:
        trickling.cancel()
        await asyncio.gather(trickling, return_exceptions=True)
        await close_quietly(writer)


async def test_a_request_whose_body_stops_coming_is_cut_and_settles_nothing(
    edge_gateway: EdgeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    gw = await edge_gateway()
    head, body = http_post(one_payment("EDGE-SLOW-BODY"))
    reader, writer = await gw.connect(SBER)
    writer.write(head + body[:100])  # the headers, and then a tenth of a kilobyte of the body
    await writer.drain()
    assert_cut_without_an_answer(await read_until_closed(reader))
    await close_quietly(writer)
    await eventually(lambda: any("went away" in r.getMessage() for r in caplog.records))
    assert any("request body not complete within 1000 ms" in r.getMessage() for r in edge_records(caplog, logging.INFO))
    # The handler saw its client go: no 500, no traceback.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
    assert await _balances(gw) == FUNDING


async def test_a_slow_client_within_the_bounds_is_served(edge_gateway: EdgeFactory) -> None:
    gw = await edge_gateway()
    head, body = http_post(one_payment("EDGE-SLOW-OK"))
    reader, writer = await gw.connect(SBER)
    for part in (head[:20], head[20:], body[:1000], body[1000:]):
        writer.write(part)
        await writer.drain()
        await asyncio.sleep(0.1)  # well within the 1,000 ms bounds, whatever the machine's load
    answer = await read_until_closed(reader)
    await close_quietly(writer)
    assert isinstance(answer, bytes) and answer.startswith(b"HTTP/1.1 200 "), answer
    assert status_report(answer.partition(b"\r\n\r\n")[2]).group_status == "ACSC"


async def test_a_tls_handshake_that_never_comes_is_cut_and_logged_once(
    edge_gateway: EdgeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=edge_logger)
    gw = await edge_gateway()
    sock, address = await client_socket(gw)
    reader, writer = await asyncio.open_connection(sock=sock)  # TCP only: not a byte of TLS
    assert_cut_without_an_answer(await read_until_closed(reader))
    await close_quietly(writer)
    await eventually(lambda: bool(edge_records(caplog, logging.WARNING)))
    [record] = edge_records(caplog, logging.WARNING)
    assert record.getMessage() == f"cut the TLS handshake of {address}: not finished within 1000 ms"


async def test_a_connection_idle_before_its_first_request_is_closed_after_idle_timeout_ms(
    edge_gateway: EdgeFactory,
) -> None:
    gw = await edge_gateway(limits_toml="idle_timeout_ms = 1000\n")
    reader, writer = await gw.connect(SBER)  # the handshake, and then nothing
    assert_cut_without_an_answer(await read_until_closed(reader))
    await close_quietly(writer)


async def test_in_the_plain_http_development_mode_the_same_time_bounds_hold(edge_gateway: EdgeFactory) -> None:
    gw = await edge_gateway(tls=False)
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    answer = await read_until_closed(reader)
    assert isinstance(answer, bytes) and answer.startswith(b"HTTP/1.1 200 "), answer
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
    assert_cut_without_an_answer(await read_until_closed(reader))
    await close_quietly(writer)


# --------------------------------------------------------------------------------------------------------------
# How many connections
# --------------------------------------------------------------------------------------------------------------


async def test_connections_beyond_connections_max_are_closed_as_they_are_accepted(
    edge_gateway: EdgeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=edge_logger)
    gw = await edge_gateway(EdgeLimits(4, 4, 1_000, 5_000, 5_000))
    held = [await gw.connect(bic) for bic in (SBER, SBER, VTB, VTB)]
    await eventually(lambda: gw.site.edge is not None and gw.site.edge.open_connections == 4)
    sock, address = await client_socket(gw)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await asyncio.open_connection(sock=sock, ssl=gw.context(VTB), server_hostname="localhost")
    await eventually(lambda: bool(edge_records(caplog, logging.WARNING)))
    assert [r.getMessage() for r in edge_records(caplog, logging.WARNING)] == [
        f"refused a connection from {address}: 4 connections open (connections_max)"
    ]
    # One goes: its place is free again.
    await close_quietly(held.pop()[1])
    await eventually(lambda: gw.site.edge is not None and gw.site.edge.open_connections == 3)
    assert (await gw.request("GET", "/healthz", VTB))[0] == 200
    for _, writer in held:
        await close_quietly(writer)


async def test_one_certificate_cannot_take_every_connection(
    edge_gateway: EdgeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=edge_logger)
    gw = await edge_gateway(EdgeLimits(16, 2, 1_000, 5_000, 5_000))
    held = [await gw.connect(SBER) for _ in range(2)]
    reader, writer = await gw.connect(SBER)  # the handshake completes; then the certificate is counted
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert_cut_without_an_answer(await read_until_closed(reader))
    await close_quietly(writer)
    await eventually(lambda: bool(edge_records(caplog, logging.WARNING)))
    [record] = edge_records(caplog, logging.WARNING)
    message = record.getMessage()
    assert "certificate SABRRUMMXXX already holds 2 connections (connections_per_certificate_max)" in message
    # Another bank is served while Sberbank holds its share.
    assert (await gw.request("GET", "/healthz", VTB))[0] == 200
    for _, held_writer in held:
        await close_quietly(held_writer)


# --------------------------------------------------------------------------------------------------------------
# Malformed requests: one line at INFO, never a traceback
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_bytes", "complaint"),
    [
        (b"\x00\x01\x02garbage that is not HTTP\r\n\r\n", "method"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "https"),  # a TLS ClientHello inside the TLS connection
        (b"GET /healthz HTTP/1.1 and more\r\nHost: localhost\r\n\r\n", "version"),
        (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 9_000 + b"\r\n\r\n", "8190"),
        (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nNo colon here\r\n\r\n", "header"),
    ],
    ids=["garbage", "tls-inside-tls", "bad-request-line", "oversized-header", "bad-header"],
)
async def test_a_malformed_request_gets_400_and_one_log_line(
    edge_gateway: EdgeFactory, caplog: pytest.LogCaptureFixture, request_bytes: bytes, complaint: str
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")  # aiohttp logs a connection's first bad bytes at DEBUG
    gw = await edge_gateway()
    reader, writer = await gw.connect(SBER)
    host, port = writer.get_extra_info("sockname")[:2]
    caplog.clear()
    writer.write(request_bytes)
    answer = await read_until_closed(reader)
    await close_quietly(writer)
    assert isinstance(answer, bytes) and answer.split(b"\r\n")[0].split(b" ")[1] == b"400", answer
    parser_lines = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(parser_lines) == 1, [r.getMessage() for r in parser_lines]
    [line] = parser_lines
    assert line.levelno == logging.INFO and line.exc_info is None
    message = line.getMessage()
    assert message.startswith(f"refused a malformed HTTP request from {host}: "), message
    assert complaint in message.lower() and "\n" not in message and len(message) < 300, message
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
    del port


# --------------------------------------------------------------------------------------------------------------
# Who may connect: a certificate from the gateway's CA, or no connection at all
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def foreign_certs(tmp_path: Path) -> Path:
    """Sberbank's BIC in a certificate from a CA the gateway does not trust."""
    folder = tmp_path / "foreign"
    write_development_pki(folder, Party("CBRFRUMMXXX", "Elsewhere"), [Party(SBER, "Not Sberbank")], force=False)
    return folder


@pytest.mark.parametrize("who", ["no certificate", "another CA's certificate"])
async def test_a_client_without_a_certificate_from_the_gateways_ca_gets_no_http_answer(
    edge_gateway: EdgeFactory, caplog: pytest.LogCaptureFixture, foreign_certs: Path, who: str
) -> None:
    caplog.set_level(logging.INFO)
    gw = await edge_gateway()
    context = gw.context(None) if who == "no certificate" else client_ssl_context(
        gw.certs / "ca.pem", foreign_certs / f"{SBER}.pem", foreign_certs / f"{SBER}.key"
    )
    sock, address = await client_socket(gw)
    result: bytes | BaseException
    try:
        reader, writer = await asyncio.open_connection(sock=sock, ssl=context, server_hostname="localhost")
    except (ssl.SSLError, ConnectionError) as error:  # TLS 1.2 fails here; TLS 1.3 at the first read
        result = error
    else:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        result = await read_until_closed(reader)
        await close_quietly(writer)
    assert_cut_without_an_answer(result)
    await eventually(lambda: bool(edge_records(caplog, logging.WARNING)))
    [record] = edge_records(caplog, logging.WARNING)
    reason = "PEER_DID_NOT_RETURN_A_CERTIFICATE" if who == "no certificate" else "CERTIFICATE_VERIFY_FAILED"
    assert record.getMessage().startswith(f"refused the TLS handshake of {address}: {reason}"), record.getMessage()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert await _balances(gw) == FUNDING


async def test_a_certificate_from_the_gateways_ca_naming_no_participant_gets_401_with_an_admi_002(
    edge_gateway: EdgeFactory,
) -> None:
    gw = await edge_gateway()
    payload = pacs_008(UNKNOWN_BANK, "EDGE-UNKNOWN", [Tx(UNKNOWN_BANK, VTB, 1_00)], today_in_moscow())
    status, body = await gw.request("POST", "/v1/messages", UNKNOWN_BANK, payload)
    assert status == 401
    reject = message_reject(body)
    assert reject.text("Rsn/RjctgPtyRsn") == "FF01"
    assert "certificate" in reject.text("Rsn/RsnDesc")
    assert (await gw.request("GET", "/v1/messages", UNKNOWN_BANK))[0] == 401
    assert await _balances(gw) == FUNDING


async def test_a_participants_certificate_settles_through_the_edge(edge_gateway: EdgeFactory) -> None:
    gw = await edge_gateway()
    status, body = await gw.request("POST", "/v1/messages", SBER, one_payment("EDGE-OK"))
    assert status == 200 and status_report(body).group_status == "ACSC"
    assert await _balances(gw) == {**FUNDING, SBER: FUNDING[SBER] - 100_00, VTB: FUNDING[VTB] + 100_00}


async def _balances(gw: EdgeGateway) -> dict[str, int]:
    from gateway.http.keys import gateway_key

    accounts = {a.code: a.posted_kopecks for a in await gw.app[gateway_key].store.accounts()}
    return {bic: accounts[f"{bic}/main"] for bic in FUNDING}


assert test_limits.header_timeout_ms == test_limits.body_timeout_ms == test_limits.tls_handshake_timeout_ms == 1_000
