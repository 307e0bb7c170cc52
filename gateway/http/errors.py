"""What the client sees when the gateway cannot do its job: 503 with Retry-After while the database or the ledger
is unavailable or busy, and never a stack trace."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from gateway_adapters.sql.store import is_transient
from sqlalchemy.exc import OperationalError

from gateway.ledger.batcher import LedgerBusy, LedgerHalted
from gateway.ledger.ports import StorageUnavailable
from gateway.settlement.service import JournalConflictsPersist

log = logging.getLogger(__name__)

retry_after_seconds = 1

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except (StorageUnavailable, LedgerBusy, LedgerHalted, JournalConflictsPersist) as error:
        log.warning("%s %s: unavailable: %s", request.method, request.path, error)
        return _unavailable(type(error).__name__)
    except Exception as error:
        if is_transient(error) or isinstance(error, OperationalError):
            log.warning("%s %s: database unavailable: %s", request.method, request.path, error)
            return _unavailable("database unavailable")
        incident = uuid.uuid4().hex[:12]
        log.exception("%s %s failed (incident %s)", request.method, request.path, incident)
        return web.json_response({"error": "internal error", "incident": incident}, status=500)


def _unavailable(reason: str) -> web.Response:
    return web.json_response(
        {"error": "temporarily unavailable", "reason": reason},
        status=503,
        headers={"Retry-After": str(retry_after_seconds)},
    )
