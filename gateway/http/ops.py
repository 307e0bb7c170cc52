"""The ops listener: /healthz, /readyz and /metrics in plain HTTP on [http] ops_host:ops_port, without a client
certificate, for a load balancer's health checks and Prometheus. It is its own aiohttp application beside the banks'
one (which keeps mutual TLS): nothing but these three routes is reachable on it.

Readiness is one set of checks, answered on both ports: the database (a real query within a short timeout), the
ledger (not halted), the auto-batcher's queue (under its high-water mark), and the RTGS. An RTGS that does not answer
is reported but leaves the gateway ready: payments settle without it, and every gateway shares the one RTGS, so taking
them all out of service would stop payments too."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from gateway import bounds
from gateway.http.keys import gateway_key
from gateway.http.metrics import metrics_response

banks_app_key = web.AppKey("banks_app", web.Application)


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    checks: dict[str, str]  # check name -> "ok" or what is wrong
    ledger_seq: int | None

    def response(self) -> web.Response:
        body: dict[str, object] = {"status": "ready" if self.ready else "not ready", "checks": self.checks}
        if self.ledger_seq is not None:
            body["ledger_seq"] = self.ledger_seq
        return web.json_response(body, status=200 if self.ready else 503)


async def readiness(app: web.Application) -> Readiness:
    """The checks of the gateway that `app` (the banks' application) runs."""
    gateway = app[gateway_key]
    checks: dict[str, str] = {}
    head_seq: int | None = None

    async def database() -> None:
        nonlocal head_seq
        try:
            async with asyncio.timeout(bounds.readiness_check_seconds):
                head_seq = (await gateway.store.head()).seq
            checks["database"] = "ok"
        except TimeoutError:
            checks["database"] = f"no answer within {bounds.readiness_check_seconds:g} s"
        except Exception as error:  # noqa: BLE001 - a probe answers "not ready" whatever kept it from reading the head
            checks["database"] = f"unavailable: {type(error).__name__}"

    async def rtgs() -> None:
        try:
            async with asyncio.timeout(bounds.readiness_check_seconds):
                await gateway.rtgs.balance(gateway.config.central_bank.reserve_rtgs_account)
            checks["rtgs"] = "ok"
        except TimeoutError:
            checks["rtgs"] = f"no answer within {bounds.readiness_check_seconds:g} s"
        except Exception as error:  # noqa: BLE001 - reported only: see the module docstring
            checks["rtgs"] = f"unavailable: {type(error).__name__}"

    await asyncio.gather(database(), rtgs())
    halted = gateway.batcher.halted
    checks["ledger"] = "ok" if halted is None else f"halted: {halted}"
    queued, high_water = gateway.batcher.queued_transfers, queue_high_water(gateway.config.limits.queue_transfers_max)
    checks["queue"] = "ok" if queued <= high_water else f"{queued} transfers queued, over the high-water mark {high_water}"
    ready = all(checks[name] == "ok" for name in ("database", "ledger", "queue"))
    return Readiness(ready, dict(sorted(checks.items())), head_seq)


def queue_high_water(queue_transfers_max: int) -> int:
    return queue_transfers_max * bounds.ready_queue_high_water_percent // 100


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    return (await readiness(request.app)).response()


def make_ops_app(banks_app: web.Application) -> web.Application:
    """The ops listener's application, answering about the gateway and metrics of `banks_app` (started first)."""
    ops = web.Application()
    ops[banks_app_key] = banks_app
    ops.router.add_get("/healthz", healthz)
    ops.router.add_get("/readyz", _ops_readyz)
    ops.router.add_get("/metrics", _ops_metrics)
    return ops


async def _ops_readyz(request: web.Request) -> web.Response:
    return (await readiness(request.app[banks_app_key])).response()


async def _ops_metrics(request: web.Request) -> web.Response:
    return await metrics_response(request.app[banks_app_key])
