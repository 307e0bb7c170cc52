"""The central bank's emission controls over HTTP: the emission cap and each bank's daily conversion limit.

Only the central bank's own client certificate may use these (in the loopback development mode, ?participant=
must name the central bank). Amounts are rouble strings ("1000000.00"), never JSON numbers, which would be floats.
Every change is recorded with who made it; `gateway cb show` and GET /v1/admin/emission list them.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gateway import bounds
from gateway.config import canonical_bic, is_bic
from gateway.conversion.controls import NotARegisteredBank
from gateway.conversion.ports import CapBelowIssued, ControlChange
from gateway.domain.money import AmountError, kopecks_from_text, text_from_kopecks
from gateway.http.auth import authenticated_bic, development_bic
from gateway.http.keys import gateway_key, settings_key


def _central_bank(request: web.Request) -> str:
    """The caller's BIC, which must be the central bank's; else 401 (no certificate) or 403 (a bank's)."""
    bic = authenticated_bic(request)
    if bic is None and request.app[settings_key].plain_http:
        bic = development_bic(request)
    if bic is None:
        raise _error(web.HTTPUnauthorized, "the central bank's client certificate is required")
    gateway_bic = request.app[gateway_key].config.central_bank.bic
    if bic != gateway_bic:
        raise _error(web.HTTPForbidden, f"{bic} may not change emission controls: only {gateway_bic} may")
    return bic


def _error(kind: type[web.HTTPError], text: str) -> web.HTTPError:
    return kind(text=json.dumps({"error": text}), content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise _error(web.HTTPUnsupportedMediaType, "the body must be application/json")
    data = b""
    while len(data) <= bounds.admin_body_bytes_max:  # read() returns what has arrived: read on to the end or the bound
        chunk = await request.content.read(bounds.admin_body_bytes_max + 1 - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) > bounds.admin_body_bytes_max:
        raise web.HTTPRequestEntityTooLarge(
            max_size=bounds.admin_body_bytes_max, actual_size=len(data),
            text=json.dumps({"error": f"the body is larger than {bounds.admin_body_bytes_max} bytes"}),
            content_type="application/json",
        )
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        raise _error(web.HTTPBadRequest, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise _error(web.HTTPBadRequest, "the body must be a JSON object")
    return body


def _roubles(body: dict[str, Any], key: str, allow_null: bool) -> int | None:
    if key not in body or set(body) != {key}:
        raise _error(web.HTTPBadRequest, f"the body must hold exactly {key!r}")
    value = body[key]
    if value is None and allow_null:
        return None
    if not isinstance(value, str):
        raise _error(web.HTTPBadRequest, f'{key} must be a rouble amount as a string, like "1000000.00"')
    try:
        kopecks = kopecks_from_text(value)
    except AmountError as error:
        raise _error(web.HTTPBadRequest, f"{key}: {error}") from None
    if kopecks <= 0:
        raise _error(web.HTTPBadRequest, f"{key} must be positive")
    return kopecks


def _change(change: ControlChange) -> dict[str, Any]:
    return {
        "subject": change.subject,
        "previous_rub": None if change.previous_kopecks is None else text_from_kopecks(change.previous_kopecks),
        "new_rub": None if change.new_kopecks is None else text_from_kopecks(change.new_kopecks),
        "set_at_us": change.set_at_us,
        "set_by": change.set_by,
    }


async def get_emission(request: web.Request) -> web.Response:
    _central_bank(request)
    overview = await request.app[gateway_key].emission.overview(bounds.emission_changes_listed_max)
    return web.json_response({
        "emission_cap_rub": text_from_kopecks(overview.emission_cap_kopecks),
        "supply_rub": text_from_kopecks(overview.supply_kopecks),
        "pending_mints_rub": text_from_kopecks(overview.pending_mints_kopecks),
        "daily_limits_rub": {bic: text_from_kopecks(kopecks) for bic, kopecks in overview.daily_limits_kopecks.items()},
        "changes": [_change(c) for c in overview.changes],
    })


async def put_emission_cap(request: web.Request) -> web.Response:
    caller = _central_bank(request)
    cap = _roubles(await _body(request), "emission_cap_rub", allow_null=False)
    assert cap is not None
    try:
        previous = await request.app[gateway_key].emission.set_emission_cap(cap, f"{caller} over HTTP")
    except CapBelowIssued as error:
        raise _error(web.HTTPConflict, f"the cap may not go below what is issued or pending: {error}") from None
    return web.json_response({"previous_rub": text_from_kopecks(previous), "emission_cap_rub": text_from_kopecks(cap)})


async def put_daily_limit(request: web.Request) -> web.Response:
    caller = _central_bank(request)
    text = request.match_info["bic"]
    gateway = request.app[gateway_key]
    if not is_bic(text) or not gateway.environment.directory.is_bank(canonical_bic(text)):
        raise _error(web.HTTPNotFound, f"{text} is not a registered bank")
    bic = canonical_bic(text)
    limit = _roubles(await _body(request), "daily_limit_rub", allow_null=True)
    try:
        previous = await gateway.emission.set_daily_limit(bic, limit, f"{caller} over HTTP")
    except NotARegisteredBank:
        raise _error(web.HTTPNotFound, f"{text} is not a registered bank") from None
    return web.json_response({
        "bank": bic,
        "previous_rub": None if previous is None else text_from_kopecks(previous),
        "daily_limit_rub": None if limit is None else text_from_kopecks(limit),
    })
