"""The ops listener of a supervisor (`gateway serve --workers N`, gateway.cli.supervise): it serves no banks itself,
so its /readyz and /metrics are its workers'. Each worker serves its own ops routes on a unix socket only the
supervisor knows; the supervisor asks every serving worker at each probe and scrape.

  /healthz   the supervisor runs
  /readyz    every configured worker lives and is ready by its own checks (gateway.http.ops); 503 otherwise, with
             the count of live workers and each worker's checks
  /metrics   the supervisor's (gateway_workers_live, gateway_workers_configured, gateway_worker_restarts_total,
             gateway_worker_deaths_total{cause}), then each worker's, labelled worker="0" .. "N-1"
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from gateway import bounds
from gateway.http.ops import healthz


class WorkerMetrics:
    """The supervisor's own metrics, one registry (no process-wide globals)."""

    def __init__(self, configured: int) -> None:
        self.registry = CollectorRegistry()
        self.configured = Gauge("gateway_workers_configured", "Worker processes serve --workers asks for",
                                registry=self.registry)
        self.configured.set(configured)
        self.live = Gauge("gateway_workers_live", "Worker processes running and serving (their ops socket answers)",
                          registry=self.registry)
        self.restarts = Counter("gateway_worker_restarts", "Worker processes started to replace one that died",
                                registry=self.registry)
        self.deaths = Counter("gateway_worker_deaths", "Worker processes that died, by cause (a signal's name or "
                              "exit_N)", ["cause"], registry=self.registry)


@dataclass(frozen=True, slots=True)
class WorkersView:
    """What the supervisor's ops routes read of its workers."""

    configured: int
    serving: Callable[[], Mapping[int, Path]]  # the ops socket of every worker serving now, by worker number
    metrics: WorkerMetrics


workers_key = web.AppKey("workers", WorkersView)


def make_supervisor_ops_app(view: WorkersView) -> web.Application:
    app = web.Application()
    app[workers_key] = view
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", supervisor_readyz)
    app.router.add_get("/metrics", supervisor_metrics)
    return app


async def supervisor_readyz(request: web.Request) -> web.Response:
    view = request.app[workers_key]
    serving = dict(view.serving())
    answers = await asyncio.gather(*(ask_worker(socket, "/readyz") for socket in serving.values()))
    worker_checks: dict[str, dict[str, str]] = {}
    ready_workers = 0
    for number, (status, text) in zip(serving, answers, strict=True):
        checks = _checks_of(text) if status in (200, 503) else {"ops": text}
        worker_checks[str(number)] = checks
        ready_workers += status == 200
    live = len(serving)
    ready = live == view.configured and ready_workers == live
    if live < view.configured:
        workers_check = f"{live} of {view.configured} workers serving"
    elif ready_workers < live:
        workers_check = f"{live - ready_workers} of {live} workers not ready"
    else:
        workers_check = "ok"
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {"workers": workers_check},
        "workers": {"configured": view.configured, "live": live},
        "worker_checks": dict(sorted(worker_checks.items(), key=lambda item: int(item[0]))),
    }
    return web.json_response(body, status=200 if ready else 503)


async def supervisor_metrics(request: web.Request) -> web.Response:
    view = request.app[workers_key]
    serving = dict(view.serving())
    view.metrics.live.set(len(serving))
    scraped = await asyncio.gather(*(ask_worker(socket, "/metrics") for socket in serving.values()))
    merged: dict[str, Metric] = {}
    for number, (status, text) in zip(serving, scraped, strict=True):
        if status != 200:
            continue  # a worker that did not answer is missing from this scrape; readiness says why
        for family in text_string_to_metric_families(text):
            labelled = merged.setdefault(family.name, Metric(family.name, family.documentation, family.type))
            for sample in family.samples:
                labelled.add_sample(sample.name, {**sample.labels, "worker": str(number)}, sample.value,
                                    sample.timestamp, sample.exemplar)
    workers = CollectorRegistry()
    workers.register(_Families(list(merged.values())))
    body = generate_latest(view.metrics.registry) + generate_latest(workers)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


class _Families:
    """A collector of metric families already read (a scrape of the workers)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


def _checks_of(text: str) -> dict[str, str]:
    try:
        checks = json.loads(text)["checks"]
    except (ValueError, KeyError, TypeError):
        return {"ops": "unreadable answer"}
    return {str(name): str(value) for name, value in checks.items()}


async def ask_worker(socket: Path, path: str) -> tuple[int, str]:
    """GET `path` on a worker's ops socket: its status and body, or (0, what went wrong) within a few seconds."""
    timeout = aiohttp.ClientTimeout(total=bounds.worker_ops_timeout_seconds)
    try:
        async with (
            aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(socket)), timeout=timeout) as session,
            session.get(f"http://worker{path}") as response,
        ):
            return response.status, await response.text()
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return 0, f"no answer: {type(error).__name__}"
