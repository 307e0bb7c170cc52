"""docs/openapi.yaml is a valid OpenAPI 3.1 document naming exactly the routes make_app registers, and what the real
app answers over real HTTP (plain and mutual TLS) matches it: status codes, media types, headers and bodies."""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
import yaml
from aiohttp import web
from lxml import etree
from multidict import CIMultiDictProxy
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from gateway.app import make_app
from gateway.config import load_config
from gateway.conversion.ports import RtgsUnavailable
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from gateway.http.keys import gateway_key
from gateway.ledger.ports import StorageUnavailable
from gateway.messages.identity import supported_message_ids
from gateway.security.certs import (
    Party,
    client_ssl_context,
    development_ca,
    parties_of,
    server_ssl_context,
    write_development_pki,
)
from tests.conftest import write_config
from tests.conversion.conftest import receipt
from tests.settlement.builders import (
    ALFA,
    CBRF,
    SBER,
    VTB,
    Tx,
    camt_029,
    camt_050,
    camt_056,
    pacs_008,
    today_in_moscow,
)
from tests.settlement.conftest import FUNDING, GatewayUnderTest, Message, message_reject
from tests.signing.conftest import Pki as SigningPki
from tests.signing.conftest import message_signing_toml

document_path = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"
http_methods = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
xml_parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)

# Every request the tests send that touches the database waits at most 300 ms for a lock, and a ledger batch is not
# retried: a database another process holds locked is refused at once, with 503.
outage_limits = "db_statement_timeout_ms = 300\nbatch_retries_max = 0\n"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded = yaml.safe_load(document_path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


# --------------------------------------------------------------------------------------------------------------
# Holding an exchange to the document
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as observed on the wire."""

    method: str  # lower case, as the document spells it
    path: str  # the route, as documented (queries go in params)
    status: int
    headers: CIMultiDictProxy[str]
    media_type: str  # without parameters
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Contract:
    """Checks exchanges against the document and remembers which (method, path, status) it has seen."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.observed: set[tuple[str, str, str]] = set()

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            reference = node["$ref"]
            assert reference.startswith("#/"), reference
            target: Any = self.document
            for step in reference[2:].split("/"):
                target = target[step.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def documented(self, method: str, path: str) -> set[str]:
        return set(self.document["paths"][path][method]["responses"])

    def seen(self, method: str, path: str) -> set[str]:
        return {status for m, p, status in self.observed if (m, p) == (method, path)}

    def validate(self, instance: Any, schema: dict[str, Any]) -> None:
        """Validate against an OpenAPI 3.1 schema object (JSON Schema 2020-12), its $refs resolved in the document."""
        rooted = {**schema, "components": self.document["components"]}
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        jsonschema.Draft202012Validator(rooted, format_checker=checker).validate(instance)

    def check(self, exchange: Exchange) -> Message | None:
        """Assert the exchange is one the document describes; returns the gateway message of an XML answer."""
        operation = self.document["paths"][exchange.path][exchange.method]
        status = str(exchange.status)
        assert status in operation["responses"], (
            f"{exchange.method.upper()} {exchange.path} answered {status}, not documented: {exchange.body[:300]!r}"
        )
        self.observed.add((exchange.method, exchange.path, status))
        response = self.resolve(operation["responses"][status])
        for name, header in response.get("headers", {}).items():
            header = self.resolve(header)
            if name not in exchange.headers:
                assert not header.get("required", False), f"{status}: header {name} missing"
                continue
            value: Any = exchange.headers[name]
            schema = self.resolve(header["schema"])
            if schema.get("type") == "integer":
                value = int(value)
            self.validate(value, header["schema"])
        content = response.get("content", {})
        if not content:
            assert exchange.body == b""
            return None
        assert exchange.media_type in content, (status, exchange.media_type, sorted(content))
        media = content[exchange.media_type]
        schema = self.resolve(media["schema"])
        if exchange.media_type == "application/json":
            self.validate(exchange.json(), media["schema"])
            return None
        if exchange.media_type.endswith("/xml"):
            root = etree.fromstring(exchange.body, xml_parser)
            expected = schema["xml"]
            assert etree.QName(root) == etree.QName(expected.get("namespace"), expected["name"]), root.tag
            message = Message.read(exchange.body)
            assert message.kind in media["x-iso20022-documents"], (status, message.kind)
            assert message.sender == CBRF
            return message
        assert schema == {"type": "string"}, schema
        exchange.body.decode("utf-8")
        return None


async def exchange(client: Any, method: str, path: str, *, route: str | None = None, **kwargs: Any) -> Exchange:
    """Send through an aiohttp TestClient, or a ClientSession with a base_url; both take (method, path). `route` is
    the documented path when it differs from the one sent (a path parameter filled in)."""
    async with client.request(method, path, **kwargs) as response:
        body = await response.read()
        documented = path if route is None else route
        return Exchange(method.lower(), documented, response.status, response.headers, response.content_type, body)


@pytest.fixture
def contract(document: dict[str, Any]) -> Contract:
    return Contract(document)


Build = Callable[..., Awaitable[GatewayUnderTest]]


@pytest.fixture
def build_gateway(aiohttp_client, database_url: str, tmp_path: Path) -> Build:  # type: ignore[no-untyped-def]
    """make_app in the development mode on a real socket, wallets funded with FUNDING (three mints, one batch)."""

    async def build(limits_toml: str = "", rtgs_toml: str = "") -> GatewayUnderTest:
        path = write_config(tmp_path, database_url, limits_toml=limits_toml, rtgs_toml=rtgs_toml)
        config = load_config(path, environ={})
        client = await aiohttp_client(make_app(config, upgrade_database=True, plain_http=True))
        gateway = GatewayUnderTest(client, config)
        await gateway.mint(FUNDING)
        return gateway

    return build


@contextmanager
def write_locked(database_url: str) -> Iterator[None]:
    """Another process holds the SQLite file's write lock (every gateway transaction begins IMMEDIATE)."""
    other = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def one_payment(message_id: str, kopecks: int = 100_00) -> bytes:
    return pacs_008(SBER, message_id, [Tx(SBER, VTB, kopecks)], today_in_moscow())


xml_headers = {"Content-Type": "application/xml"}


# --------------------------------------------------------------------------------------------------------------
# The document itself
# --------------------------------------------------------------------------------------------------------------


def test_the_document_is_a_valid_openapi_3_1_document(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)
    # The validator is really looking: a response without its required description is refused.
    broken = copy.deepcopy(document)
    del broken["paths"]["/healthz"]["get"]["responses"]["200"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate(broken, cls=OpenAPIV31SpecValidator)
    # Every schema is a valid JSON Schema 2020-12 schema, and every ISO 20022 version an XML answer may hold is one
    # the gateway supports.
    contract = Contract(document)
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema({**schema, "components": document["components"]})
    supported = {str(message_id) for message_id in supported_message_ids}
    for item in [*document["paths"].values(), *document["webhooks"].values()]:
        for method, operation in item.items():
            if method not in http_methods:
                continue
            for response in operation["responses"].values():
                for media in contract.resolve(response).get("content", {}).values():
                    assert set(media.get("x-iso20022-documents", [])) <= supported


def test_the_document_names_exactly_the_routes_make_app_registers(document: dict[str, Any], tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'unopened.sqlite3'}"), environ={})
    app = make_app(config, upgrade_database=False)  # never started: the router alone is looked at
    registered = {(route.method.lower(), route.resource.canonical) for route in app.router.routes() if route.resource}
    gets = {path for method, path in registered if method == "get"}
    # aiohttp's add_get also answers HEAD on the same path, with the GET handler: implied by each GET, not documented.
    assert {path for method, path in registered if method == "head"} == gets
    served = {(method, path) for method, path in registered if method != "head"}
    assert served == {
        ("post", "/v1/messages"),
        ("get", "/v1/messages"),
        ("get", "/v1/signing-certificates"),
        ("get", "/v1/ledger/head"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/v1/admin/emission"),
        ("put", "/v1/admin/emission-cap"),
        ("put", "/v1/admin/conversion-limits/{bic}"),
        ("get", "/v1/treasury/overview"),
        ("get", "/v1/treasury/series"),
        ("get", "/v1/treasury/pending"),
        ("get", "/v1/treasury/rejects"),
        ("get", "/v1/treasury/breaks"),
        ("get", "/treasury"),
        ("get", "/treasury/static/{name}"),
    }
    documented = {
        (method, path) for path, item in document["paths"].items() for method in item if method in http_methods
    }
    assert documented == served


# --------------------------------------------------------------------------------------------------------------
# POST /v1/messages
# --------------------------------------------------------------------------------------------------------------


@sqlite_only
async def test_post_message_answers_as_documented(
    build_gateway: Build, contract: Contract, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = await build_gateway(limits_toml="request_bytes_max = 4096\n" + outage_limits)
    client, path = gw.client, "/v1/messages"

    payment = one_payment("OAS-ACCEPTED")
    assert len(payment) <= 4096
    accepted = await exchange(client, "POST", path, data=payment, headers=xml_headers)
    message = contract.check(accepted)
    assert accepted.status == 200 and accepted.headers["X-Gateway-Outcome"] == "accepted"
    assert message is not None and message.kind == "pacs.002.001.10"

    replayed = await exchange(client, "POST", path, data=payment, headers=xml_headers)
    contract.check(replayed)
    assert replayed.status == 200 and replayed.headers["X-Gateway-Outcome"] == "replayed"
    assert replayed.body == accepted.body  # the stored answer, byte for byte

    # A cancellation request for a settled payment goes on to its creditor agent, whose camt.029 the gateway takes
    # with 202 and routes back.
    settled = Tx(SBER, VTB, 1_00)
    assert (await exchange(client, "POST", path, data=pacs_008(SBER, "OAS-SETTLED", [settled], today_in_moscow()),
                           headers=xml_headers)).status == 200
    cancellation = await exchange(client, "POST", path, data=camt_056(SBER, "OAS-CXL", [settled]), headers=xml_headers)
    message = contract.check(cancellation)
    assert message is not None and message.kind == "camt.029.001.09"
    routed = await exchange(client, "POST", path, data=camt_029(VTB, "OAS-RSL", SBER, [settled]), headers=xml_headers)
    contract.check(routed)
    assert routed.status == 202 and routed.body == b""

    # Addressed to another bank instead of the gateway: refused as a whole at the business layer.
    misaddressed = pacs_008(SBER, "OAS-TO-VTB", [Tx(SBER, VTB, 1_00)], today_in_moscow(), to=VTB)
    rejected = await exchange(client, "POST", path, data=misaddressed, headers=xml_headers)
    message = contract.check(rejected)
    assert rejected.status == 200 and rejected.headers["X-Gateway-Outcome"] == "rejected"
    assert message is not None and message.kind == "admi.002.001.01"
    assert message_reject(rejected.body).text("Rsn/RjctgPtyRsn") == "RC02"

    unreadable = await exchange(client, "POST", path, data=b"this is not XML", headers=xml_headers)
    message = contract.check(unreadable)
    assert unreadable.status == 200 and unreadable.headers["X-Gateway-Outcome"] == "rejected"
    assert message is not None and message_reject(unreadable.body).text("Rsn/RjctgPtyRsn") == "FF01"

    text_headers = {"Content-Type": "text/plain"}
    text_typed = await exchange(client, "POST", path, data=one_payment("OAS-TEXT"), headers=text_headers)
    contract.check(text_typed)
    assert text_typed.status == 415 and "X-Gateway-Outcome" not in text_typed.headers

    empty = await exchange(client, "POST", path, data=b"", headers=xml_headers)
    contract.check(empty)
    assert empty.status == 400

    declared = await exchange(client, "POST", path, data=b"<" + b" " * 5_000, headers=xml_headers)
    contract.check(declared)
    assert declared.status == 413

    async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse it by
        for _ in range(10):
            yield b" " * 512

    streamed = await exchange(client, "POST", path, data=chunks(), headers=xml_headers)
    contract.check(streamed)
    assert streamed.status == 413

    with write_locked(database_url):
        unavailable = await exchange(client, "POST", path, data=one_payment("OAS-LOCKED"), headers=xml_headers)
    contract.check(unavailable)
    assert unavailable.status == 503 and unavailable.headers["Retry-After"] == "1"

    async def failing_receive(data: bytes, bic: str | None) -> None:
        raise RuntimeError("injected: settlement failed unexpectedly")

    monkeypatch.setattr(client.app[gateway_key].inbound, "receive", failing_receive)
    failed = await exchange(client, "POST", path, data=one_payment("OAS-FAILED"), headers=xml_headers)
    contract.check(failed)
    assert failed.status == 500 and failed.json()["error"] == "internal error"
    monkeypatch.undo()

    # 401 and 403 need mutual TLS: test_mutual_tls_answers_as_documented.
    assert contract.seen("post", path) == contract.documented("post", path) - {"401", "403"}
    # Moved: the accepted 100.00 and the 1.00 whose cancellation was asked; nothing else.
    assert await gw.balances() == {SBER: FUNDING[SBER] - 101_00, VTB: FUNDING[VTB] + 101_00, ALFA: FUNDING[ALFA]}


async def test_a_conversion_is_answered_as_documented(
    build_gateway: Build, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A camt.050 is answered with a camt.025 under each documented outcome: accepted (ACSC), replayed (the same
    receipt), rejected (its MsgId reused for other content, DUPL) and pending (PDNG while the RTGS does not answer)."""
    gw = await build_gateway(rtgs_toml='opening_balance_rub = "1000000.00"')
    client, path = gw.client, "/v1/messages"

    mint = camt_050(SBER, "LQ-1", 100_00)
    converted = await exchange(client, "POST", path, data=mint, headers=xml_headers)
    message = contract.check(converted)
    assert converted.status == 200 and converted.headers["X-Gateway-Outcome"] == "accepted"
    assert message is not None and receipt(converted.body).codes == ["ACSC"]
    assert receipt(converted.body).original_message_id == "LQ-1"

    replayed = await exchange(client, "POST", path, data=mint, headers=xml_headers)
    contract.check(replayed)
    assert replayed.headers["X-Gateway-Outcome"] == "replayed" and replayed.body == converted.body

    reused = camt_050(SBER, "LQ-1", 100_00)  # a fresh UETR: other bytes under the same MsgId
    assert reused != mint
    duplicate = await exchange(client, "POST", path, data=reused, headers=xml_headers)
    contract.check(duplicate)
    assert duplicate.status == 200 and duplicate.headers["X-Gateway-Outcome"] == "rejected"
    assert receipt(duplicate.body).codes == ["RJCT", "DUPL"]

    async def rtgs_down(*args: Any) -> None:
        raise RtgsUnavailable("injected: the RTGS does not answer")

    monkeypatch.setattr(gw.gateway.rtgs, "reserve", rtgs_down)
    waiting = await exchange(client, "POST", path, data=camt_050(SBER, "LQ-2", 50_00), headers=xml_headers)
    contract.check(waiting)
    assert waiting.status == 200 and waiting.headers["X-Gateway-Outcome"] == "pending"
    assert receipt(waiting.body).codes == ["PDNG"]

    # Converted once: the 100.00 of LQ-1; LQ-2 waits for the RTGS.
    assert (await gw.accounts())[f"{SBER}/main"] == FUNDING[SBER] + 100_00


# --------------------------------------------------------------------------------------------------------------
# GET /v1/messages
# --------------------------------------------------------------------------------------------------------------


@sqlite_only
async def test_get_mailbox_answers_as_documented(
    build_gateway: Build, contract: Contract, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = await build_gateway(limits_toml=outage_limits)
    client, path = gw.client, "/v1/messages"
    for n in (1, 2):
        await gw.settle(one_payment(f"OAS-MAILBOX-{n}"))

    first = await exchange(client, "GET", path, params={"participant": SBER, "after": "0", "limit": "1"})
    contract.check(first)
    assert first.status == 200
    page = first.json()
    assert page["participant"] == SBER and len(page["messages"]) == 1
    item = page["messages"][0]
    assert page["next_after"] == item["seq"]
    payload = base64.b64decode(item["payload_base64"], validate=True)
    assert item["sha256"] == hashlib.sha256(payload).hexdigest()
    message = Message.read(payload)
    assert (item["message_type"], item["reference"]) == (message.kind, message.app_hdr.text("BizMsgIdr"))
    assert message.app_hdr.text("Rltd/BizMsgIdr") == "OAS-MAILBOX-1"

    rest = await exchange(client, "GET", path, params={"participant": SBER, "after": str(page["next_after"])})
    contract.check(rest)
    last = rest.json()["messages"]
    assert [Message.read(base64.b64decode(m["payload_base64"])).app_hdr.text("Rltd/BizMsgIdr") for m in last] == [
        "OAS-MAILBOX-2"
    ]
    empty = await exchange(client, "GET", path, params={"participant": SBER, "after": str(last[0]["seq"])})
    contract.check(empty)
    assert empty.json() == {"participant": SBER, "messages": [], "next_after": last[0]["seq"]}

    # An 8-character BIC names the head office: the page names the 11-character form.
    short = await exchange(client, "GET", path, params={"participant": "VTBRRUMM", "limit": "500"})
    contract.check(short)
    assert short.json()["participant"] == VTB and len(short.json()["messages"]) == 2

    for params in ({"after": "-1"}, {"after": "seven"}, {"limit": "0"}, {"limit": "501"}, {"limit": "1.5"}):
        bad = await exchange(client, "GET", path, params={"participant": SBER, **params})
        contract.check(bad)
        assert bad.status == 400, params
    for params in ({}, {"participant": "not-a-bic"}):
        nobody = await exchange(client, "GET", path, params=params)
        contract.check(nobody)
        assert nobody.status == 401, params

    with write_locked(database_url):
        unavailable = await exchange(client, "GET", path, params={"participant": SBER})
    contract.check(unavailable)
    assert unavailable.status == 503

    async def failing_mailbox(*args: Any) -> None:
        raise RuntimeError("injected: the mailbox read failed unexpectedly")

    monkeypatch.setattr(client.app[gateway_key].journal, "mailbox", failing_mailbox)
    failed = await exchange(client, "GET", path, params={"participant": SBER})
    contract.check(failed)
    assert failed.status == 500

    assert contract.seen("get", path) == contract.documented("get", path)


async def test_a_cursor_beyond_the_documented_maximum_is_refused_400(
    build_gateway: Build, contract: Contract, document: dict[str, Any]
) -> None:
    """`after` is documented as an int64 (at most 2**63 - 1): one past it is a bad parameter, not a server fault."""
    gw = await build_gateway()
    after = next(p for p in document["paths"]["/v1/messages"]["get"]["parameters"] if p["name"] == "after")
    assert after["schema"]["maximum"] == 2**63 - 1
    largest = await exchange(gw.client, "GET", "/v1/messages", params={"participant": SBER, "after": str(2**63 - 1)})
    contract.check(largest)
    assert largest.json() == {"participant": SBER, "messages": [], "next_after": 2**63 - 1}
    beyond = await exchange(gw.client, "GET", "/v1/messages", params={"participant": SBER, "after": str(2**63)})
    assert beyond.status == 400, (beyond.status, beyond.body)
    contract.check(beyond)


# --------------------------------------------------------------------------------------------------------------
# Operations: /healthz, /readyz, /metrics, /v1/ledger/head
# --------------------------------------------------------------------------------------------------------------


@sqlite_only
async def test_operations_routes_answer_as_documented(
    build_gateway: Build, contract: Contract, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = await build_gateway(limits_toml=outage_limits)
    client = gw.client

    health = await exchange(client, "GET", "/healthz")
    contract.check(health)
    assert health.json() == {"status": "alive"}

    ready = await exchange(client, "GET", "/readyz")
    contract.check(ready)
    checks_ok = {"database": "ok", "ledger": "ok", "queue": "ok", "rtgs": "ok"}
    assert ready.json() == {"status": "ready", "checks": checks_ok, "ledger_seq": 3}  # the three mints of the funding

    head = await exchange(client, "GET", "/v1/ledger/head")
    contract.check(head)
    assert head.json() | {"hash": None} == {
        "seq": 3,
        "hash": None,
        "supply_rub": "6000000.00",  # 3,000,000 + 2,000,000 + 1,000,000 minted
        "reserve_rub": "6000000.00",
        "emission_cap_rub": "1000000000.00",
        "pending_mints_rub": "0.00",
    }

    metrics = await exchange(client, "GET", "/metrics")
    contract.check(metrics)
    names = {family.name for family in text_string_to_metric_families(metrics.body.decode("utf-8"))}
    assert {"gateway_messages", "gateway_settlement_seconds", "gateway_outbox_lag_seconds"} <= names

    with write_locked(database_url):
        not_ready = await exchange(client, "GET", "/readyz")
        head_unavailable = await exchange(client, "GET", "/v1/ledger/head")
    contract.check(not_ready)
    assert not_ready.status == 503 and not_ready.json()["status"] == "not ready"
    assert not_ready.json()["checks"]["database"] != "ok", not_ready.json()
    contract.check(head_unavailable)
    assert head_unavailable.status == 503 and head_unavailable.headers["Retry-After"] == "1"

    async def failing_head() -> None:
        raise RuntimeError("injected: the head read failed unexpectedly")

    monkeypatch.setattr(client.app[gateway_key].store, "head", failing_head)
    head_failed = await exchange(client, "GET", "/v1/ledger/head")
    contract.check(head_failed)
    assert head_failed.status == 500

    for error, status in ((RuntimeError("injected"), 500), (StorageUnavailable("injected"), 503)):

        async def failing_lag(recipients: list[str], error: Exception = error) -> None:
            raise error

        monkeypatch.setattr(client.app[gateway_key].journal, "oldest_undelivered_us", failing_lag)
        scraped = await exchange(client, "GET", "/metrics")
        contract.check(scraped)
        assert scraped.status == status

    for path in ("/healthz", "/readyz", "/v1/ledger/head", "/metrics"):
        assert contract.seen("get", path) == contract.documented("get", path), path



@sqlite_only
async def test_signing_certificates_answer_as_documented(
    aiohttp_client, build_gateway: Build, contract: Contract, database_url: str, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    path = signing_certificates_path
    unsigned = await exchange((await build_gateway()).client, "GET", path)
    assert contract.check(unsigned) is None and unsigned.status == 404

    pki_dir = tmp_path / "pki"
    pki_dir.mkdir()
    ca, ca_key = development_ca(Party(CBRF, "Bank of Russia"))
    pki = SigningPki(pki_dir, ca, ca_key)
    current, following = pki.signer(CBRF, "gateway"), pki.signer(CBRF, "gateway-next")
    config_path = write_config(tmp_path / "signing", database_url.replace(".sqlite3", "-signing.sqlite3"))
    config_path.write_text(config_path.read_text() + message_signing_toml(current, following.file))
    client = await aiohttp_client(make_app(load_config(config_path, environ={}), upgrade_database=True,
                                           plain_http=True))
    published = await exchange(client, "GET", path)
    assert contract.check(published) is None and published.status == 200
    assert published.body == current.file.read_bytes() + following.file.read_bytes()
    assert contract.seen("get", path) == contract.documented("get", path) - {"500"}


signing_certificates_path = "/v1/signing-certificates"

# --------------------------------------------------------------------------------------------------------------
# The central bank: /v1/admin/emission, /v1/admin/emission-cap, /v1/admin/conversion-limits/{bic}
# --------------------------------------------------------------------------------------------------------------

emission_path = "/v1/admin/emission"
cap_path = "/v1/admin/emission-cap"
limit_path = "/v1/admin/conversion-limits/{bic}"
as_central_bank = {"participant": CBRF}
json_headers = {"Content-Type": "application/json"}


def limit_of(bic: str) -> str:
    return limit_path.replace("{bic}", bic)


@sqlite_only
async def test_central_bank_routes_answer_as_documented(
    build_gateway: Build, contract: Contract, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = await build_gateway(limits_toml=outage_limits)

    async def send(method: str, route: str, url: str | None = None, **kwargs: Any) -> Exchange:
        kwargs.setdefault("params", as_central_bank)
        answer = await exchange(gw.client, method, url or route, route=route, **kwargs)
        contract.check(answer)
        return answer

    before = await send("GET", emission_path)
    assert before.status == 200
    assert before.json() == {
        "emission_cap_rub": "1000000000.00",
        "supply_rub": "6000000.00",  # FUNDING
        "pending_mints_rub": "0.00",
        "daily_limits_rub": {},
        "changes": [],
    }

    raised = await send("PUT", cap_path, json={"emission_cap_rub": "7000000.00"})
    assert raised.status == 200
    assert raised.json() == {"previous_rub": "1000000000.00", "emission_cap_rub": "7000000.00"}
    below = await send("PUT", cap_path, json={"emission_cap_rub": "5999999.99"})
    assert below.status == 409
    exact = await send("PUT", cap_path, json={"emission_cap_rub": "6000000"})  # exactly what is issued
    assert exact.status == 200 and exact.json()["emission_cap_rub"] == "6000000.00"

    limited = await send("PUT", limit_path, limit_of("SABRRUMM"), json={"daily_limit_rub": "300000.5"})
    assert limited.status == 200
    assert limited.json() == {"bank": SBER, "previous_rub": None, "daily_limit_rub": "300000.50"}
    assert (await send("PUT", limit_path, limit_of(VTB), json={"daily_limit_rub": "1.00"})).status == 200
    removed = await send("PUT", limit_path, limit_of(VTB), json={"daily_limit_rub": None})
    assert removed.json() == {"bank": VTB, "previous_rub": "1.00", "daily_limit_rub": None}

    bad_amounts: list[Any] = [5, 5.5, None, "0.00", "-1.00", "1.001", "1e6", "1,00", "", "99999999999999999.99"]
    for amount in bad_amounts:
        refused = await send("PUT", cap_path, json={"emission_cap_rub": amount})
        assert refused.status == 400, amount
    for amount in [amount for amount in bad_amounts if amount is not None]:
        refused = await send("PUT", limit_path, limit_of(ALFA), json={"daily_limit_rub": amount})
        assert refused.status == 400, amount
    puts = ((cap_path, cap_path, "emission_cap_rub"), (limit_path, limit_of(ALFA), "daily_limit_rub"))
    for route, url, key in puts:
        for body in (b"not JSON", b'["1.00"]', b"{}", json.dumps({key: "1.00", "note": "x"}).encode()):
            refused = await send("PUT", route, url, data=body, headers=json_headers)
            assert refused.status == 400, (route, body)
        for headers in ({"Content-Type": "text/plain"}, {}):  # none: aiohttp sends application/octet-stream
            unsupported = await send("PUT", route, url, data=json.dumps({key: "1.00"}).encode(), headers=headers)
            assert unsupported.status == 415, (route, headers)

    for bic in ("NOTABANKXXX", CBRF, "CBRFRUMM"):
        unknown = await send("PUT", limit_path, limit_of(bic), json={"daily_limit_rub": "1.00"})
        assert unknown.status == 404, bic
    unread = await send("PUT", limit_path, limit_of("NOTABANKXXX"), data=b"not JSON", headers=json_headers)
    assert unread.status == 404  # the bank is checked before the body is read

    for params, status in (({}, 401), ({"participant": "not-a-bic"}, 401), ({"participant": SBER}, 403)):
        assert (await send("GET", emission_path, params=params)).status == status, params
        for route, url, key in puts:
            answer = await send("PUT", route, url, params=params, json={key: "1.00"})
            assert answer.status == status, (route, params)

    with write_locked(database_url):
        unavailable = [
            await send("GET", emission_path),
            await send("PUT", cap_path, json={"emission_cap_rub": "8000000.00"}),
            await send("PUT", limit_path, limit_of(ALFA), json={"daily_limit_rub": "1.00"}),
        ]
    assert [(a.status, a.headers["Retry-After"]) for a in unavailable] == [(503, "1")] * 3

    async def failing(*args: Any) -> None:
        raise RuntimeError("injected: the emission controls failed unexpectedly")

    monkeypatch.setattr(gw.gateway.store, "head", failing)
    monkeypatch.setattr(gw.gateway.emission, "set_emission_cap", failing)
    monkeypatch.setattr(gw.gateway.emission, "set_daily_limit", failing)
    failed = [
        await send("GET", emission_path),
        await send("PUT", cap_path, json={"emission_cap_rub": "8000000.00"}),
        await send("PUT", limit_path, limit_of(ALFA), json={"daily_limit_rub": "1.00"}),
    ]
    assert [a.status for a in failed] == [500] * 3
    monkeypatch.undo()

    # 413 is exercised by test_admin_bodies_are_read_as_documented, with its own contract check.
    assert contract.seen("get", emission_path) == contract.documented("get", emission_path)
    for route in (cap_path, limit_path):
        assert contract.seen("put", route) == contract.documented("put", route) - {"413"}, route

    # Only the five changes that were answered 200 took effect, newest first, each with who made it.
    after = await send("GET", emission_path)
    controls = after.json()
    assert (controls["emission_cap_rub"], controls["daily_limits_rub"]) == ("6000000.00", {SBER: "300000.50"})
    assert [(c["subject"], c["previous_rub"], c["new_rub"]) for c in controls["changes"]] == [
        (f"daily_limit:{VTB}", "1.00", None),
        (f"daily_limit:{VTB}", None, "1.00"),
        (f"daily_limit:{SBER}", None, "300000.50"),
        ("emission_cap", "7000000.00", "6000000.00"),
        ("emission_cap", "1000000000.00", "7000000.00"),
    ]
    assert {c["set_by"] for c in controls["changes"]} == {f"{CBRF} over HTTP"}


# --------------------------------------------------------------------------------------------------------------
# Treasury: /v1/treasury/..., /treasury, /treasury/static/{name}
# --------------------------------------------------------------------------------------------------------------

treasury_api = ("/v1/treasury/overview", "/v1/treasury/series", "/v1/treasury/pending", "/v1/treasury/rejects",
                "/v1/treasury/breaks")


@sqlite_only
async def test_treasury_routes_answer_as_documented(
    build_gateway: Build, contract: Contract, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every treasury route after a morning of conversions, payments and rejects, as the central bank and as a bank:
    200 with bodies the schemas describe, 400, 401, 403, 404 for a file it does not serve, 500 and 503."""
    gw = await build_gateway(limits_toml="treasury_refresh_ms = 0\n" + outage_limits)
    today = today_in_moscow()
    tomorrow = today + timedelta(days=1)
    for payload in (
        one_payment("OAS-TRS-1"),
        pacs_008(ALFA, "OAS-TRS-2", [Tx(ALFA, SBER, 9_000_000_00)], today),  # AM04: a transaction rejected
        pacs_008(SBER, "OAS-TRS-3", [Tx(SBER, VTB, 1_00)], today, to=VTB),  # RC02: refused as a whole
        pacs_008(VTB, "OAS-TRS-4", [Tx(VTB, SBER, 5_00, settlement_date=tomorrow)], tomorrow),  # warehoused
    ):
        assert (await gw.post(payload)).status == 200
    async with gw.gateway.store.engine.begin() as connection:  # a break, as `gateway reconcile` records one
        await connection.execute(
            text(
                "INSERT INTO reconciliation_breaks (id, fingerprint, kind, business_date, first_seen_date,"
                " last_seen_date, first_seen_at_us, last_seen_at_us, resolved_at_us, amount_kopecks,"
                " expected_kopecks, account, references_json, description) VALUES (:id, 'oas', 'posting_without_message',"
                " :day, :day, :day, 1, 1, NULL, -100, NULL, :account, '{\"transfer\": \"x\"}', 'a break')"
            ),
            {"id": uuid.uuid4().hex, "day": today.isoformat(), "account": f"{SBER}/main"},
        )

    async def send(path: str, status: int, **params: str) -> Exchange:
        answer = await exchange(gw.client, "GET", path, params=params)
        contract.check(answer)
        assert answer.status == status, (path, params, answer.status, answer.body[:300])
        return answer

    for path in (*treasury_api, "/treasury"):
        for viewer in (CBRF, SBER):
            answer = await send(path, 200, participant=viewer)
            assert answer.headers["Cache-Control"] == "no-store"
        await send(path, 200, participant=CBRF, bank=SBER)
        await send(path, 401)
        await send(path, 401, participant="TESTRUMMXXX")
        await send(path, 403, participant=SBER, bank=VTB)
        await send(path, 400, participant=CBRF, bank="NOTABANKXXX")
    for path in ("/v1/treasury/pending", "/v1/treasury/rejects", "/v1/treasury/breaks"):
        await send(path, 200, participant=CBRF, limit="500")
        await send(path, 400, participant=CBRF, limit="501")
    await send("/v1/treasury/series", 200, participant=CBRF, days="62")
    await send("/v1/treasury/series", 400, participant=CBRF, days="0")

    static = "/treasury/static/{name}"
    for name in ("treasury.js", "treasury.css", "favicon.svg", "uPlot.iife.min.js", "uPlot.min.css", "uPlot.LICENSE"):
        await exchange(gw.client, "GET", static.replace("{name}", name), route=static)
        contract.check(await exchange(gw.client, "GET", static.replace("{name}", name), route=static))
    for name in ("treasury.html", "README.md", "..%2Ftreasury.py", "nothing.js"):
        missing = await exchange(gw.client, "GET", static.replace("{name}", name), route=static)
        contract.check(missing)
        assert missing.status == 404, name

    with write_locked(database_url):
        for path in treasury_api:
            await send(path, 503, participant=CBRF)

    async def failing(*args: Any) -> None:
        raise RuntimeError("injected: the treasury figures failed unexpectedly")

    for method in ("overview", "series", "pending", "rejects", "breaks"):
        monkeypatch.setattr(gw.gateway.treasury, method, failing)
    for path in treasury_api:
        await send(path, 500, participant=CBRF)
    def failing_viewer(bic: str) -> None:
        raise RuntimeError("injected: naming the viewer failed unexpectedly")

    monkeypatch.setattr(gw.gateway.treasury, "viewer", failing_viewer)
    await send("/treasury", 500, participant=CBRF)
    monkeypatch.undo()

    for path in (*treasury_api, "/treasury", static):
        assert contract.seen("get", path) == contract.documented("get", path), path


async def in_two_pieces(data: bytes) -> AsyncIterator[bytes]:
    """A chunked body whose second piece arrives a little after the first, as over a slow network."""
    yield data[:10]
    await asyncio.sleep(0.1)
    yield data[10:]


cap_body = b'{"emission_cap_rub": "7000000.00"}'


@sqlite_only
@pytest.mark.parametrize(
    ("body", "pieces", "status"),
    [
        pytest.param(cap_body, True, 200, id="valid, in two pieces"),
        pytest.param(cap_body + b" " * 4_096, False, 413, id="larger than 4096 bytes"),
        pytest.param(b"[" * 2_000, False, 400, id="nested 2000 deep"),
    ],
)
async def test_admin_bodies_are_read_as_documented(
    build_gateway: Build, contract: Contract, body: bytes, pieces: bool, status: int
) -> None:
    """The request bodies of the central bank's routes (both PUTs share admin._body): read whole however they
    arrive, a larger one refused 413, one nested deeper than the JSON parser goes 400."""
    gw = await build_gateway()
    data: Any = in_two_pieces(body) if pieces else body
    answer = await exchange(gw.client, "PUT", cap_path, params=as_central_bank, data=data, headers=json_headers)
    contract.check(answer)
    assert answer.status == status, answer.body


# --------------------------------------------------------------------------------------------------------------
# Mutual TLS, as the security scheme says
# --------------------------------------------------------------------------------------------------------------

unknown_bank = "TESTRUMMXXX"


@asynccontextmanager
async def tls_gateway(database_url: str, directory: Path) -> AsyncIterator[tuple[str, Path]]:
    """The app served over TLS with client certificates required; yields its URL and the development PKI."""
    config = load_config(write_config(directory, database_url), environ={})
    certs = directory / "certs"
    parties = parties_of(config)
    write_development_pki(certs, parties[0], [*parties, Party(unknown_bank, "Unknown Bank")], force=False)
    app = make_app(config, upgrade_database=True, plain_http=False)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        server_context = server_ssl_context(certs / "server.pem", certs / "server.key", certs / "ca.pem")
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ids = {a.code: a.id for a in await app[gateway_key].store.accounts()}
        issuance = ids[f"{CBRF}/issuance"]
        mints = [
            TransferRequest(uuid.uuid4(), issuance, ids[f"{bic}/main"], kopecks, TransferKind.MINT, "mint")
            for bic, kopecks in FUNDING.items()
        ]
        assert await app[gateway_key].batcher.submit(mints) == [TransferResult.OK] * 3
        yield f"https://localhost:{port}", certs
    finally:
        await runner.cleanup()


@sqlite_only
async def test_mutual_tls_answers_as_documented(contract: Contract, database_url: str, tmp_path: Path) -> None:
    async with tls_gateway(database_url, tmp_path) as (url, certs), aiohttp.ClientSession(base_url=url) as session:

        def as_bank(bic: str | None) -> Any:
            if bic is None:
                return client_ssl_context(certs / "ca.pem")
            return client_ssl_context(certs / "ca.pem", certs / f"{bic}.pem", certs / f"{bic}.key")

        # The handshake itself requires a certificate, on every route.
        with pytest.raises((aiohttp.ClientError, ConnectionError)):
            await exchange(session, "GET", "/healthz", ssl=as_bank(None))
        health = await exchange(session, "GET", "/healthz", ssl=as_bank(SBER))
        contract.check(health)
        assert health.status == 200

        payment = one_payment("OAS-TLS-1")
        accepted = await exchange(session, "POST", "/v1/messages", data=payment, headers=xml_headers, ssl=as_bank(SBER))
        contract.check(accepted)
        assert accepted.status == 200 and accepted.headers["X-Gateway-Outcome"] == "accepted"

        # The certificate names the mailbox; ?participant is ignored.
        mailbox = await exchange(session, "GET", "/v1/messages", params={"participant": VTB}, ssl=as_bank(SBER))
        contract.check(mailbox)
        assert mailbox.json()["participant"] == SBER and len(mailbox.json()["messages"]) == 1

        # VTB's certificate on Sberbank's message: 403.
        spoofed = one_payment("OAS-TLS-2")
        forbidden = await exchange(session, "POST", "/v1/messages", data=spoofed, headers=xml_headers, ssl=as_bank(VTB))
        message = contract.check(forbidden)
        assert forbidden.status == 403 and forbidden.headers["X-Gateway-Outcome"] == "rejected"
        assert message is not None and b"AG01" in forbidden.body

        # A certificate from the gateway's CA for a bank that is no participant: 401 on both message routes.
        stranger = pacs_008(unknown_bank, "OAS-TLS-3", [Tx(unknown_bank, VTB, 1_00)], today_in_moscow())
        refused = await exchange(session, "POST", "/v1/messages", data=stranger, headers=xml_headers,
                                 ssl=as_bank(unknown_bank))  # fmt: skip
        contract.check(refused)
        assert refused.status == 401 and "X-Gateway-Outcome" not in refused.headers
        no_mailbox = await exchange(session, "GET", "/v1/messages", ssl=as_bank(unknown_bank))
        contract.check(no_mailbox)
        assert no_mailbox.status == 401

        # The central bank's routes: its own certificate only; ?participant stands in for nobody here.
        for bic, status in ((CBRF, 200), (SBER, 403), (unknown_bank, 401)):
            controls = await exchange(session, "GET", emission_path, params=as_central_bank, ssl=as_bank(bic))
            contract.check(controls)
            assert controls.status == status, bic
        capped = await exchange(session, "PUT", cap_path, json={"emission_cap_rub": "7000000.00"}, ssl=as_bank(CBRF))
        contract.check(capped)
        assert capped.json() == {"previous_rub": "1000000000.00", "emission_cap_rub": "7000000.00"}

        # Treasury: the certificate names the viewer; ?participant stands in for nobody here either.
        for bic, status, role in ((CBRF, 200, "central_bank"), (SBER, 200, "bank"), (unknown_bank, 401, None)):
            overview = await exchange(session, "GET", "/v1/treasury/overview", params={"participant": CBRF},
                                      ssl=as_bank(bic))
            contract.check(overview)
            assert overview.status == status, bic
            assert role is None or overview.json()["viewer"] == {"bic": bic, "name": overview.json()["viewer"]["name"],
                                                                  "role": role}
            page = await exchange(session, "GET", "/treasury", ssl=as_bank(bic))
            contract.check(page)
            assert page.status == status, bic

    assert contract.seen("post", "/v1/messages") == {"200", "401", "403"}
    assert contract.seen("get", "/v1/messages") == {"200", "401"}
    assert contract.seen("get", emission_path) == {"200", "401", "403"}
    assert contract.seen("get", "/v1/treasury/overview") == contract.seen("get", "/treasury") == {"200", "401"}
