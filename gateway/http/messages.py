"""POST /v1/messages (a bank's message in, its answer out) and GET /v1/messages (the bank's mailbox).

Handlers are thin: authenticate, read bounded bytes, hand them to the settlement service, write its answer. What
goes wrong at the transport level (no certificate, wrong media type, body too large) is answered with an admi.002
and a 4xx status; a database that cannot be reached with 503 and Retry-After.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from datetime import datetime
from uuid import UUID

from aiohttp import web

from gateway import bounds
from gateway.domain.calendar import instant
from gateway.http.auth import authenticated_bic, development_bic
from gateway.http.errors import AnswerOverdue
from gateway.http.keys import gateway_key, metrics_key, overdue_key, settings_key
from gateway.messages import answers, codes
from gateway.messages.rejections import Layer, Rejection

log = logging.getLogger(__name__)
# One line at INFO for every POST /v1/messages answered (fields below); never the payload.
handled_log = logging.getLogger("gateway.messages.handled")

_started = web.RequestKey("started", float)  # perf_counter() when post_message began: the latency logged
xml_media_types = frozenset({"application/xml", "text/xml"})
_cursor = re.compile(r"[0-9]{1,19}")  # ASCII digits only: int() would also take "+5", " 5", "1_0" and other scripts


def log_handled(
    participant: str | None, started: float, http_status: int, outcome: str, message_type: str,
    reference: str | None = None, reason_code: str | None = None, transfer_ids: tuple[UUID, ...] = (),
) -> None:
    """The log line of one message answered: who sent it (the certificate's BIC), what it was, how it ended."""
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    handled_log.info(
        "%s %s from %s: %s %d in %.1f ms", message_type, reference or "-", participant or "-", outcome, http_status,
        latency_ms,
        extra={
            "participant": participant,
            "biz_msg_id": reference,
            "message_type": message_type,
            "outcome": outcome,
            "reason_code": reason_code,
            "http_status": http_status,
            "transfer_ids": [transfer_id.hex for transfer_id in transfer_ids],
            "latency_ms": latency_ms,
        },
    )


def admi_002_response(request: web.Request, status: int, code: str, text: str, receiver_bic: str | None) -> web.Response:
    """A transport-level refusal: an admi.002 naming the problem, with the HTTP status that fits it."""
    log_handled(receiver_bic, request.get(_started, time.perf_counter()), status, "refused", "unread", reason_code=code)
    gateway = request.app[gateway_key]
    now: datetime = instant(gateway.environment.clock_us())
    rejection = Rejection(code, "", text, Layer.WELL_FORMEDNESS)
    gateway_bic = gateway.config.central_bank.bic
    receiver = receiver_bic or gateway_bic
    configured = gateway.journaling.recipients.get(receiver)  # the receiver's AppHdr version, who signs
    answer = answers.message_rejected(gateway_bic, receiver, now, None, rejection, None, configured)
    return web.Response(status=status, body=answer.payload, content_type="application/xml", charset="utf-8")


async def post_message(request: web.Request) -> web.StreamResponse:
    request[_started] = time.perf_counter()
    settings = request.app[settings_key]
    bic = authenticated_bic(request)
    if bic is None and not settings.plain_http:
        return admi_002_response(request, 401, codes.invalid_file_format, "a client certificate naming a participant is required", None)
    if request.content_type not in xml_media_types:
        text = f"the body must be ISO 20022 XML (application/xml), not {request.content_type or 'untyped'}"
        return admi_002_response(request, 415, codes.invalid_file_format, text, bic)
    if request.content_length is not None and request.content_length > settings.request_bytes_max:
        text = f"the body is larger than {settings.request_bytes_max} bytes"
        return admi_002_response(request, 413, codes.invalid_file_format, text, bic)
    try:
        data = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return admi_002_response(request, 413, codes.invalid_file_format, f"the body is larger than {settings.request_bytes_max} bytes", bic)
    if not data:
        return admi_002_response(request, 400, codes.invalid_file_format, "the body is empty", bic)
    inbound = request.app[gateway_key].inbound
    # Shielded: a client that hangs up mid-request, or an answer overdue, must not cut settlement short. The answer
    # then waits in the journal, and the bank's retry of the same message is answered from there.
    started = request[_started]
    settling = asyncio.ensure_future(inbound.receive(data, bic))
    try:
        async with asyncio.timeout(settings.request_timeout_seconds):
            reply = await asyncio.shield(settling)
    except TimeoutError:
        overdue = request.app[overdue_key]  # held until done: the loop keeps only weak references to tasks
        overdue.add(settling)
        settling.add_done_callback(overdue.discard)
        settling.add_done_callback(_finished_overdue)
        raise AnswerOverdue(f"not settled within {settings.request_timeout_seconds * 1000:.0f} ms") from None
    metrics = request.app[metrics_key]
    metrics.settlement_seconds.observe(time.perf_counter() - started)
    metrics.messages.labels(reply.message_type, reply.outcome).inc()
    log_handled(bic, started, reply.http_status, reply.outcome, reply.message_type, reply.reference, reply.reason_code,
                reply.transfer_ids)
    return web.Response(
        status=reply.http_status,
        body=reply.body,
        content_type="application/xml",
        charset="utf-8",
        headers={"X-Gateway-Outcome": reply.outcome},
    )


def _finished_overdue(settling: asyncio.Future[object]) -> None:
    """The end of a message whose sender was answered 503 (AnswerOverdue), for the log."""
    if settling.cancelled():
        return
    error = settling.exception()
    if error is None:
        log.info("a message answered 503 as overdue has settled since; its retry is answered from the journal")
    else:
        log.warning("a message answered 503 as overdue failed: %s: %s", type(error).__name__, error)


async def get_mailbox(request: web.Request) -> web.StreamResponse:
    """The authenticated bank's messages after the cursor `after`, oldest first, as JSON: each with its sequence
    number (the next cursor), type, reference and the message itself (base64 of the envelope's bytes)."""
    settings = request.app[settings_key]
    bic = authenticated_bic(request)
    if bic is None:
        bic = development_bic(request) if settings.plain_http else None
    if bic is None:
        raise web.HTTPUnauthorized(text="a client certificate naming a participant is required")
    after_text = request.query.get("after", "0")
    limit_text = request.query.get("limit", str(bounds.mailbox_page_default))
    if not (_cursor.fullmatch(after_text) and _cursor.fullmatch(limit_text)):
        raise web.HTTPBadRequest(text="after and limit must be written in decimal digits")
    after, limit = int(after_text), int(limit_text)
    if after > bounds.mailbox_cursor_max or not 1 <= limit <= bounds.mailbox_page_max:
        raise web.HTTPBadRequest(text=f"after must be within 0..{bounds.mailbox_cursor_max} and limit within 1..{bounds.mailbox_page_max}")
    gateway = request.app[gateway_key]
    since_us = gateway.environment.clock_us() - settings.mailbox_retention_seconds * 1_000_000
    items = await gateway.journal.mailbox(bic, after, limit, since_us)
    return web.json_response(
        {
            "participant": bic,
            "messages": [
                {
                    "seq": item.seq,
                    "message_type": item.message.message_type,
                    "reference": item.message.reference,
                    "created_at_us": item.message.created_at_us,
                    "sha256": item.message.payload_sha256.hex(),
                    "payload_base64": base64.b64encode(item.message.payload).decode("ascii"),
                }
                for item in items
            ],
            "next_after": items[-1].seq if items else after,
        }
    )
