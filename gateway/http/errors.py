"""What the client sees when the gateway cannot do its job: 503 with Retry-After while the database or the ledger
is unavailable or busy, or when a message could not be settled within request_timeout_ms, and never a stack trace.
A client that went away before its request was read is no error of the gateway's: one line at INFO. Every 5xx
answer carries an incident id, and so does its log line."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway import bounds
from gateway.handling.received import JournalConflictsPersist
from gateway.http.auth import authenticated_bic
from gateway.http.keys import gateway_key
from gateway.ledger.batcher import LedgerBusy, LedgerHalted
from gateway.ledger.ports import StorageUnavailable

log = logging.getLogger(__name__)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AnswerOverdue(Exception):
    """A message was not settled within request_timeout_ms (a database that stopped answering, a ledger far
    behind). Its settlement goes on unseen: if it commits, the bank's retry of the same message is answered from the
    journal; if not, the retry settles it. Either way once."""


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every 5xx carries an incident id, the same in the answer and in the log line that says what happened."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except (StorageUnavailable, LedgerBusy, LedgerHalted, JournalConflictsPersist, AnswerOverdue) as error:
        incident = _incident()
        log.warning("%s %s: unavailable: %s (incident %s)", request.method, request.path, error, incident,
                    extra=_fields(request, 503, incident, type(error).__name__))
        return _unavailable(type(error).__name__, incident)
    except Exception as error:
        if isinstance(error, ConnectionResetError) and _client_gone(request):
            log.info("%s %s: %s went away before its request was read", request.method, request.path, request.remote)
            return web.Response(status=408)  # written nowhere: the connection is closed
        incident = _incident()
        log.exception("%s %s failed (incident %s)", request.method, request.path, incident,
                      extra=_fields(request, 500, incident, type(error).__name__))
        return web.json_response({"error": "internal error", "incident": incident}, status=500)


def _incident() -> str:
    return uuid.uuid4().hex[:12]


def _fields(request: web.Request, status: int, incident: str, reason: str) -> dict[str, object]:
    """The log fields of a 5xx: whose request (the certificate's BIC), which, and the incident id."""
    return {
        "participant": authenticated_bic(request) if request.app.get(gateway_key) is not None else None,
        "method": request.method,
        "path": request.path,
        "http_status": status,
        "incident": incident,
        "reason": reason,
    }


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _unavailable(reason: str, incident: str) -> web.Response:
    return web.json_response(
        {"error": "temporarily unavailable", "reason": reason, "incident": incident},
        status=503,
        headers={"Retry-After": str(bounds.retry_after_seconds)},
    )
