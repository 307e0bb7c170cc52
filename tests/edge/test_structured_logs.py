"""The gateway's log as an operations team searches it: one JSON line per message handled, with the participant its
certificate names, the BizMsgIdr, the message type, the outcome and reason code, the ledger transfers and the
latency; an incident id on every 5xx, the same as the answer's; never the payload. Refused connections are logged
with the peer, bounded per peer and in all."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest

from gateway.cli.logs import ConsoleFormatter, JsonFormatter
from gateway.http import edge
from gateway.http.edge import RefusalLog
from gateway.http.keys import gateway_key
from tests.edge.conftest import EdgeFactory
from tests.settlement.builders import SBER, VTB, Tx, pacs_008, today_in_moscow
from tests.settlement.conftest import status_report

handled_logger = "gateway.messages.handled"


def json_lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[dict[str, Any]]:
    """The records of `logger` as the json log format writes them, parsed back."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == logger]


async def test_each_message_handled_is_one_json_line_with_who_what_and_how_it_ended(
    edge_gateway: EdgeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    gw = await edge_gateway()
    settles, too_large = Tx(SBER, VTB, 12_34), Tx(SBER, VTB, 9_000_000_00)  # SBER holds 3,000,000.00
    payment = pacs_008(SBER, "LOG-MIXED-1", [settles, too_large], today_in_moscow())
    status, answer = await gw.request("POST", "/v1/messages", SBER, payment)
    assert status == 200
    report = {tx.end_to_end_id: tx for tx in status_report(answer).transactions}
    assert report[settles.end_to_end_id].status == "ACSC" and report[too_large.end_to_end_id].status == "RJCT"
    settled_reference = report[settles.end_to_end_id].clearing_reference
    assert settled_reference is not None

    [line] = json_lines(caplog, handled_logger)
    assert line["level"] == "INFO" and line["logger"] == handled_logger
    assert line["participant"] == SBER  # from the client certificate
    assert line["biz_msg_id"] == "LOG-MIXED-1"
    assert line["message_type"] == "pacs.008.001.08"
    assert line["outcome"] == "accepted" and line["http_status"] == 200
    assert line["reason_code"] == report[too_large.end_to_end_id].reasons[0]
    assert line["transfer_ids"] == [uuid.UUID(settled_reference).hex]
    assert isinstance(line["latency_ms"], int | float) and line["latency_ms"] > 0
    # Nothing of the payload: neither the transactions' ids nor any XML.
    text = json.dumps(line)
    assert settles.end_to_end_id not in text and "<" not in text

    caplog.clear()
    status, _ = await gw.request("POST", "/v1/messages", SBER, b"this is not XML")
    assert status == 200
    [refused] = json_lines(caplog, handled_logger)
    assert refused["participant"] == SBER and refused["outcome"] == "rejected"
    assert refused["reason_code"] == "FF01" and refused["transfer_ids"] == [] and refused["biz_msg_id"] is None


async def test_a_5xx_answer_and_its_log_line_carry_the_same_incident_id(
    edge_gateway: EdgeFactory, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    gw = await edge_gateway()

    async def failing_receive(data: bytes, bic: str | None) -> None:
        raise RuntimeError("injected: settlement failed unexpectedly")

    monkeypatch.setattr(gw.app[gateway_key].inbound, "receive", failing_receive)
    status, body = await gw.request("POST", "/v1/messages", VTB, pacs_008(VTB, "LOG-500", [Tx(VTB, SBER, 1_00)],
                                                                        today_in_moscow()))
    assert status == 500
    incident = json.loads(body)["incident"]
    [line] = json_lines(caplog, "gateway.http.errors")
    assert line["level"] == "ERROR" and line["http_status"] == 500
    assert line["incident"] == incident and line["participant"] == VTB
    assert "injected: settlement failed unexpectedly" in line["traceback"]


def test_the_console_format_shows_the_fields_after_the_message() -> None:
    record = logging.LogRecord("gateway.messages.handled", logging.INFO, __file__, 1, "handled %s", ("x",), None)
    record.participant, record.transfer_ids, record.reason_code = SBER, ["ab", "cd"], None
    line = ConsoleFormatter().format(record)
    assert line.endswith(f"INFO gateway.messages.handled: handled x [participant={SBER} transfer_ids=ab,cd"
                         " reason_code=-]"), line
    access = logging.LogRecord("aiohttp.access", logging.INFO, __file__, 1, '"GET /healthz HTTP/1.1" 200', (), None)
    access.first_request_line = "GET /healthz HTTP/1.1"
    assert ConsoleFormatter().format(access).endswith('INFO aiohttp.access: "GET /healthz HTTP/1.1" 200')


def test_refused_connections_are_logged_once_per_peer_per_interval_and_bounded_in_all(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger=edge.__name__)
    monkeypatch.setattr(edge.bounds, "refusal_log_interval_seconds", 60.0)
    monkeypatch.setattr(edge.bounds, "refusal_log_lines_max", 3)
    now = [1_000.0]
    refusals = RefusalLog(clock=lambda: now[0])

    def refuse(peer: str) -> None:
        refusals.refused(peer, "refused the TLS handshake of %s: %s", peer, "NO_CERTIFICATE", reason="NO_CERTIFICATE")

    for port in range(40_000, 40_050):  # a flood from one address, a new source port each time
        refuse(f"192.0.2.1:{port}")
    assert [r.getMessage() for r in caplog.records] == ["refused the TLS handshake of 192.0.2.1:40000: NO_CERTIFICATE"]
    assert caplog.records[0].peer == "192.0.2.1:40000"  # type: ignore[attr-defined]

    for host in range(2, 10):  # many addresses: at most refusal_log_lines_max lines an interval
        refuse(f"192.0.2.{host}:443")
    assert len(caplog.records) == 3

    caplog.clear()
    now[0] += 61.0
    refuse("192.0.2.1:40100")
    assert [r.getMessage() for r in caplog.records] == [  # 49 from the flood's address, 6 beyond the 3 lines
        "55 more refused connections were not logged (at most one line per peer per 60 s, 3 lines in all)",
        "refused the TLS handshake of 192.0.2.1:40100: NO_CERTIFICATE",
    ]
