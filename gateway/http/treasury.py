"""The treasury page (/treasury) and its JSON API (/v1/treasury/...): the figures of gateway.treasury.figures, every
amount a rouble string ("1000000.00"), every time ISO 8601 with its offset (Moscow time).

Who: the client certificate names the viewer, who must be a registered participant (else 401; in the development
mode ?participant=BIC stands in for it). The central bank sees everything; a bank its own figures only
(gateway.treasury.figures says which). `?bank=BIC` narrows the central bank's view to what that bank sees; a bank
may name only itself (another bank: 403).

The page is HTML, a script and a stylesheet of its own and the vendored uPlot chart library (static/, shipped with
the package), served with a Content-Security-Policy that allows only this origin and no inline script or style.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway import bounds
from gateway.config import canonical_bic, is_bic
from gateway.domain.calendar import instant
from gateway.domain.figures import Outcome
from gateway.domain.journal import MessageStatus
from gateway.domain.money import text_from_kopecks
from gateway.http.auth import authenticated_bic, development_bic
from gateway.http.keys import gateway_key, settings_key
from gateway.treasury.figures import (
    BankPosition,
    Flow,
    SeriesPoint,
    Viewer,
)

static_dir = Path(__file__).with_name("static")
# The only files /treasury/static/ serves, with their media types: nothing else in the folder is reachable.
static_files = {
    "treasury.html": "text/html",
    "treasury.js": "text/javascript",
    "treasury.css": "text/css",
    "uPlot.iife.min.js": "text/javascript",
    "uPlot.min.css": "text/css",
    "uPlot.LICENSE": "text/plain",
    "favicon.svg": "image/svg+xml",
}
page_security_headers = {
    # Only this origin, and nothing inline: the page's script and styles are files of their own.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # figures of banks: never kept by a browser or a proxy
}


# --- who is asking ----------------------------------------------------------------------------------------------


def _error(kind: type[web.HTTPError], text: str) -> web.HTTPError:
    return kind(text=json.dumps({"error": text}), content_type="application/json", headers=page_security_headers)


def _viewer(request: web.Request) -> Viewer:
    gateway = request.app[gateway_key]
    bic = authenticated_bic(request)
    if bic is None and request.app[settings_key].plain_http:
        bic = development_bic(request)
        if bic is not None and not gateway.environment.directory.is_known(bic):
            bic = None
    if bic is None:
        raise _error(web.HTTPUnauthorized, "a client certificate naming a participant is required")
    viewer = gateway.treasury.viewer(bic)
    asked = request.query.get("bank")
    if asked is None:
        return viewer
    if not is_bic(asked) or not gateway.environment.directory.is_bank(canonical_bic(asked)):
        raise _error(web.HTTPBadRequest, f"bank: {asked[:20]!r} is not a registered bank")
    bank = canonical_bic(asked)
    if not viewer.central_bank and bank != viewer.bic:
        raise _error(web.HTTPForbidden, f"{viewer.bic} may see only its own figures, not {bank}'s")
    return Viewer(bank, central_bank=False)


def _count(request: web.Request, name: str, default: int, maximum: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not 1 <= int(text) <= maximum:
        raise _error(web.HTTPBadRequest, f"{name} must be a whole number from 1 to {maximum}")
    return int(text)


def _json(body: dict[str, Any]) -> web.Response:
    return web.json_response(body, headers=page_security_headers)


def _rub(kopecks: int | None) -> str | None:
    return None if kopecks is None else text_from_kopecks(kopecks)


def _time(at_us: int | None) -> str | None:
    return None if at_us is None else instant(at_us).isoformat()


def _viewer_json(viewer: Viewer, name: str) -> dict[str, Any]:
    return {"bic": viewer.bic, "name": name, "role": "central_bank" if viewer.central_bank else "bank"}


# --- the JSON API ------------------------------------------------------------------------------------------------


async def get_overview(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    overview = await request.app[gateway_key].treasury.overview(viewer)
    day = overview.day
    if day is not None and day.business_date == overview.business_date:
        state, opened, closed = day.state.value, day.opened_at_us, day.closed_at_us
    else:  # the day before is still closing (or nobody opened today yet): today has no record
        state, opened, closed = "not_opened", None, None
    emission = overview.emission
    return _json({
        "as_of": _time(overview.as_of_us),
        "refresh_seconds": bounds.treasury_poll_seconds,
        "viewer": _viewer_json(overview.viewer, overview.viewer_name),
        "business_day": {
            "date": overview.business_date.isoformat(),
            "state": state,
            "cutoff": _time(overview.cutoff_us),
            "opened_at": _time(opened),
            "closed_at": _time(closed),
        },
        "emission": {
            "supply_rub": _rub(emission.supply_kopecks),
            "reserve_ledger_rub": _rub(emission.reserve_ledger_kopecks),
            "reserve_rtgs_rub": _rub(emission.reserve_rtgs_kopecks),
            "emission_cap_rub": _rub(emission.emission_cap_kopecks),
            "pending_mints_rub": _rub(emission.pending_mints_kopecks),
            "headroom_rub": _rub(emission.headroom_kopecks),
        },
        "rtgs_as_of": _time(overview.rtgs_as_of_us),
        "positions": [_position(p) for p in overview.positions],
        "flows": [_flow(f) for f in overview.flows],
        "rejects_by_reason": [{"reason_code": code, "count": count} for code, count in overview.reasons],
    })


def _position(position: BankPosition) -> dict[str, Any]:
    rtgs = position.rtgs
    return {
        "bic": position.bic,
        "name": position.name,
        "status": position.status,
        "wallets_rub": _rub(position.wallets_kopecks),
        "wallets": [
            {
                "code": w.code,
                "status": w.status,
                "posted_rub": _rub(w.posted_kopecks),
                "debits_pending_rub": _rub(w.debits_pending_kopecks),
                "credits_pending_rub": _rub(w.credits_pending_kopecks),
            }
            for w in position.wallets
        ],
        "rtgs_account": position.rtgs_account,
        "rtgs_booked_rub": None if rtgs is None else _rub(rtgs.booked_kopecks),
        "rtgs_held_rub": None if rtgs is None else _rub(rtgs.held_kopecks),
    }


def _flow(flow: Flow) -> dict[str, Any]:
    return {
        "message_type": flow.message_type,
        "received": flow.received,
        "messages": {status.value: flow.messages.get(status.value, 0) for status in MessageStatus
                     if status is not MessageStatus.DELIVERABLE},
        "transactions": {
            outcome.value: {"count": count, "amount_rub": _rub(kopecks)}
            for outcome in Outcome
            for count, kopecks in [flow.transactions.get(outcome, (0, 0))]
        },
    }


async def get_series(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    days = _count(request, "days", bounds.treasury_series_days_default, bounds.treasury_series_days_max)
    series = await request.app[gateway_key].treasury.series(viewer, days)
    return _json({
        "as_of": _time(series.as_of_us),
        "days": [_day_point(p, today=i == len(series.days) - 1) for i, p in enumerate(series.days)],
        "hours": [_hour_point(p) for p in series.hours],
    })


def _volumes(point: SeriesPoint) -> dict[str, Any]:
    return {
        "supply_rub": _rub(point.supply_kopecks),
        "settled_rub": _rub(point.settled_kopecks),
        "sent_rub": _rub(point.sent_kopecks),
        "received_rub": _rub(point.received_kopecks),
    }


def _day_point(point: SeriesPoint, today: bool) -> dict[str, Any]:
    return {"date": point.business_date.isoformat(), "today": today, **_volumes(point)}


def _hour_point(point: SeriesPoint) -> dict[str, Any]:
    assert point.hour_us is not None
    return {"hour": _time(point.hour_us), **_volumes(point)}


async def get_pending(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    limit = _count(request, "limit", bounds.treasury_rows_default, bounds.treasury_rows_max)
    gateway = request.app[gateway_key]
    pending = await gateway.treasury.pending(viewer, limit)
    return _json({
        "as_of": _time(gateway.environment.clock_us()),
        "totals": [
            {"kind": t.kind.value, "bank": t.bank_bic, "count": t.count, "amount_rub": _rub(t.kopecks)}
            for t in pending.totals
        ],
        "items": [
            {
                "kind": item.kind.value,
                "debtor": item.debtor_bic,
                "creditor": item.creditor_bic,
                "message_type": item.message_type,
                "reference": item.reference,
                "end_to_end_id": item.end_to_end_id,
                "uetr": item.uetr,
                "amount_rub": _rub(item.kopecks),
                "due_date": item.due_date.isoformat(),
                "state": item.state,
                "since": _time(item.since_us),
            }
            for item in pending.items
        ],
    })


async def get_rejects(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    limit = _count(request, "limit", bounds.treasury_rows_default, bounds.treasury_rows_max)
    rejects = await request.app[gateway_key].treasury.rejects(viewer, limit)
    return _json({
        "business_date": rejects.business_date.isoformat(),
        "since": _time(rejects.since_us),
        "by_reason": [{"reason_code": code, "count": count} for code, count in rejects.reasons],
        "recent": [
            {
                "kind": r.kind.value,
                "bank": r.bank_bic,
                "message_type": r.message_type,
                "reference": r.reference,
                "end_to_end_id": r.end_to_end_id,
                "uetr": r.uetr,
                "reason_code": r.reason_code,
                "amount_rub": _rub(r.kopecks),
                "at": _time(r.at_us),
            }
            for r in rejects.recent
        ],
    })


async def get_breaks(request: web.Request) -> web.Response:
    viewer = _viewer(request)
    limit = _count(request, "limit", bounds.treasury_rows_default, bounds.treasury_rows_max)
    gateway = request.app[gateway_key]
    now_us = gateway.environment.clock_us()
    today = gateway.environment.calendar.business_date_at(now_us)
    view = await gateway.treasury.breaks(viewer, limit)
    return _json({
        "as_of": _time(now_us),
        "open_total": view.open_total,
        "breaks": [
            {
                "id": b.id,
                "kind": b.kind,
                "business_date": b.business_date.isoformat(),
                "first_seen": _time(b.first_seen_at_us),
                "last_seen": _time(b.last_seen_at_us),
                "age_days": _days_between(b.first_seen_date, today),
                "amount_rub": _rub(b.amount_kopecks),
                "expected_rub": _rub(b.expected_kopecks),
                "account": b.account,
                "references": b.references,
                "description": b.description,
            }
            for b in view.breaks
        ],
    })


def _days_between(first: date, today: date) -> int:
    return max(0, (today - first).days)


# --- the page ---------------------------------------------------------------------------------------------------


async def get_page(request: web.Request) -> web.Response:
    """The page itself holds no figures and no secrets: its script asks the API, as the same viewer."""
    _viewer(request)
    return _static("treasury.html")


async def get_static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in static_files or name == "treasury.html":
        raise web.HTTPNotFound(text="no such file", headers=page_security_headers)
    return _static(name)


def _static(name: str) -> web.Response:
    body = (static_dir / name).read_bytes()
    return web.Response(body=body, content_type=static_files[name], charset="utf-8", headers=page_security_headers)

