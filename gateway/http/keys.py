"""Typed keys of the resources the app holds (aiohttp AppKey), opened and closed in make_app's cleanup context."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from gateway.runtime import Gateway


@dataclass(frozen=True, slots=True)
class HttpSettings:
    plain_http: bool  # the loopback development mode: no TLS, the AppHdr's Fr is taken at its word
    request_bytes_max: int
    mailbox_retention_seconds: int
    request_timeout_seconds: float  # a message's answer is due this long after its body arrived, else 503


gateway_key = web.AppKey("gateway", Gateway)
settings_key = web.AppKey("settings", HttpSettings)
metrics_key = web.AppKey("metrics", "Metrics")
# Settlements whose senders were answered 503 because they ran past request_timeout_ms: they go on until done.
overdue_key = web.AppKey("overdue", set[asyncio.Future[object]])
