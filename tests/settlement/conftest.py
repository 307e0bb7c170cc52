"""Shared by the settlement-over-HTTP tests: a gateway built by make_app in the loopback development mode on each kind
of database, with funded wallets, and helpers to post messages, read mailboxes and answers, look at the ledger and the
journal, and check every message the gateway writes against the official ISO 20022 XSDs."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from lxml import etree
from sqlalchemy import text

from gateway.app import make_app
from gateway.config import Config, load_config
from gateway.domain.journal import PaymentRecord
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from gateway.handling.received import Environment
from gateway.http.keys import gateway_key
from gateway.messages.identity import MessageId, app_hdr_message_ids
from gateway.runtime import Gateway
from tests.conftest import write_config
from tests.message_layer.support import official_schema
from tests.settlement.builders import ALFA, CBRF, SBER, VTB

BANKS = (SBER, VTB, ALFA)
envelope_namespace = "urn:cryptoruble:gateway:envelope:1"

# What each bank's settlement wallet ("main") holds before a test's first message. Alfa's wallet ceiling is
# 5,000,000.00 and Sberbank's largest single payment 1,000,000.00 (tests.conftest.write_config).
FUNDING = {SBER: 3_000_000_00, VTB: 2_000_000_00, ALFA: 1_000_000_00}
FUNDED_TOTAL = sum(FUNDING.values())  # 6,000,000.00


# --------------------------------------------------------------------------------------------------------------
# Messages the gateway writes, read back
# --------------------------------------------------------------------------------------------------------------


class Xml:
    """An element with paths written without namespace prefixes: every step is in the element's own namespace."""

    def __init__(self, element: etree._Element) -> None:
        self.element = element
        self.namespace = etree.QName(element).namespace or ""

    def _path(self, path: str) -> str:
        return "/".join(f"{{{self.namespace}}}{step}" if step not in (".", "..") else step for step in path.split("/"))

    def all(self, path: str) -> list[Xml]:
        return [Xml(found) for found in self.element.findall(self._path(path))]

    def one(self, path: str) -> Xml:
        found = self.all(path)
        assert len(found) == 1, (path, len(found), self.xml())
        return found[0]

    def has(self, path: str) -> bool:
        return bool(self.all(path))

    def text(self, path: str) -> str:
        value = self.one(path).element.text
        assert value is not None, path
        return value

    def texts(self, path: str) -> list[str]:
        return [found.element.text or "" for found in self.all(path)]

    def attribute(self, path: str, name: str) -> str:
        value = self.one(path).element.get(name)
        assert value is not None, (path, name)
        return value

    def children(self) -> list[str]:
        return [etree.QName(child).localname for child in self.element if isinstance(child.tag, str)]

    def xml(self) -> str:
        return etree.tostring(self.element, encoding="unicode")


@dataclass
class Message:
    """One message in the gateway's envelope: its AppHdr and Document, and the Document's version."""

    payload: bytes
    app_hdr: Xml
    document: Xml
    message_id: MessageId

    @classmethod
    def read(cls, payload: bytes) -> Message:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        root = etree.fromstring(payload, parser)
        assert etree.QName(root) == etree.QName(envelope_namespace, "Envelope"), root.tag
        children = [child for child in root if isinstance(child.tag, str)]
        assert [etree.QName(c).localname for c in children] == ["AppHdr", "Document"], children
        app_hdr, document = children
        assert MessageId.from_namespace(etree.QName(app_hdr).namespace or "") in app_hdr_message_ids, app_hdr.tag
        message_id = MessageId.from_namespace(etree.QName(document).namespace or "")
        assert message_id is not None, etree.QName(document).namespace
        return cls(payload, Xml(app_hdr), Xml(document), message_id)

    @property
    def kind(self) -> str:
        """e.g. pacs.002.001.10"""
        return str(self.message_id)

    @property
    def app_hdr_version(self) -> MessageId:
        """The AppHdr's version, e.g. head.001.001.02."""
        version = MessageId.from_namespace(self.app_hdr.namespace)
        assert version is not None
        return version

    @property
    def sender(self) -> str:
        return self.app_hdr.text("Fr/FIId/FinInstnId/BICFI")

    @property
    def receiver(self) -> str:
        return self.app_hdr.text("To/FIId/FinInstnId/BICFI")

    def assert_official(self) -> None:
        """The AppHdr and the Document each valid by the official XSD of its version (skips without the corpus,
        fails under CI=true)."""
        units = ((self.app_hdr.element, self.app_hdr_version), (self.document.element, self.message_id))
        for element, message_id in units:
            standalone = etree.fromstring(etree.tostring(element))
            schema = official_schema(message_id)
            assert schema.validate(standalone), f"{message_id}: {schema.error_log}\n{self.payload.decode()}"


@dataclass(frozen=True)
class TxStatus:
    """One TxInfAndSts of a pacs.002."""

    uetr: str
    end_to_end_id: str | None
    status: str | None  # TxSts; None where the gateway knows no such payment
    reasons: tuple[str, ...]
    settled_at: str | None  # FctvIntrBkSttlmDt/DtTm
    clearing_reference: str | None  # ClrSysRef
    xml: Xml


@dataclass
class StatusReport:
    """A pacs.002.001.10 as the tests read it."""

    message: Message

    @property
    def body(self) -> Xml:
        return self.message.document.one("FIToFIPmtStsRpt")

    @property
    def group(self) -> Xml:
        return self.body.one("OrgnlGrpInfAndSts")

    @property
    def group_status(self) -> str | None:
        found = self.group.texts("GrpSts")
        return found[0] if found else None

    @property
    def group_reasons(self) -> list[str]:
        return self.group.texts("StsRsnInf/Rsn/Cd")

    @property
    def counts(self) -> dict[str, int]:
        return {
            item.text("DtldSts"): int(item.text("DtldNbOfTxs")) for item in self.group.all("NbOfTxsPerSts")
        }

    @property
    def transactions(self) -> list[TxStatus]:
        found = []
        for tx in self.body.all("TxInfAndSts"):
            settled = tx.texts("FctvIntrBkSttlmDt/DtTm")
            reference = tx.texts("ClrSysRef")
            end_to_end = tx.texts("OrgnlEndToEndId")
            status = tx.texts("TxSts")
            found.append(
                TxStatus(
                    uetr=tx.text("OrgnlUETR"),
                    end_to_end_id=end_to_end[0] if end_to_end else None,
                    status=status[0] if status else None,
                    reasons=tuple(tx.texts("StsRsnInf/Rsn/Cd")),
                    settled_at=settled[0] if settled else None,
                    clearing_reference=reference[0] if reference else None,
                    xml=tx,
                )
            )
        return found

    def by_uetr(self) -> dict[str, TxStatus]:
        transactions = self.transactions
        by_uetr = {tx.uetr: tx for tx in transactions}
        assert len(by_uetr) == len(transactions), "one status per UETR"
        return by_uetr


def status_report(payload: bytes) -> StatusReport:
    message = Message.read(payload)
    assert message.kind == "pacs.002.001.10", message.kind
    return StatusReport(message)


def message_reject(payload: bytes) -> Xml:
    """The admi.002 body of an answer; asserts that is what it is."""
    message = Message.read(payload)
    assert message.kind == "admi.002.001.01", message.kind
    return message.document.one("admi.002.001.01")


# --------------------------------------------------------------------------------------------------------------
# The gateway under test
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass
class MailboxPage:
    participant: str
    messages: list[dict[str, Any]]
    next_after: int

    def decoded(self) -> list[Message]:
        return [Message.read(base64.b64decode(item["payload_base64"])) for item in self.messages]


@dataclass
class GatewayUnderTest:
    client: TestClient
    config: Config

    @property
    def gateway(self) -> Gateway:
        return self.client.app[gateway_key]

    @property
    def environment(self) -> Environment:
        """The clock and directory every flow reads: tests move the clock to another day through it."""
        return self.gateway.environment

    async def post(self, payload: bytes, content_type: str = "application/xml") -> Answer:
        response = await self.client.post("/v1/messages", data=payload, headers={"Content-Type": content_type})
        body = await response.read()
        return Answer(response.status, body, dict(response.headers))

    async def settle(self, payload: bytes) -> StatusReport:
        """Post a pacs.008/009 and return its pacs.002, checked against the official XSDs."""
        answer = await self.post(payload)
        assert answer.status == 200, (answer.status, answer.body)
        report = status_report(answer.body)
        report.message.assert_official()
        return report

    async def mailbox(self, participant: str, after: int = 0, limit: int = 100) -> MailboxPage:
        response = await self.client.get(
            "/v1/messages", params={"participant": participant, "after": str(after), "limit": str(limit)}
        )
        assert response.status == 200, await response.text()
        page = await response.json()
        assert page["participant"] == participant
        return MailboxPage(page["participant"], page["messages"], page["next_after"])

    async def whole_mailbox(self, participant: str) -> list[Message]:
        messages: list[Message] = []
        after = 0
        while True:
            page = await self.mailbox(participant, after, 500)
            if not page.messages:
                return messages
            messages.extend(page.decoded())
            after = page.next_after

    async def accounts(self) -> dict[str, int]:
        """Posted balance of every account, by code."""
        return {a.code: a.posted_kopecks for a in await self.gateway.store.accounts()}

    async def balances(self) -> dict[str, int]:
        """Each bank's settlement wallet ("main"), by BIC."""
        accounts = await self.accounts()
        return {bic: accounts[f"{bic}/main"] for bic in BANKS}

    async def wallets_total(self) -> int:
        """All wallets together, "main" and "clients" of every bank."""
        accounts = await self.accounts()
        return sum(kopecks for code, kopecks in accounts.items() if not code.startswith(CBRF))

    async def payments_settled(self) -> dict[str, tuple[str, str, int]]:
        """Every PAYMENT transfer in the ledger, by id in hex (what a pacs.002's ClrSysRef says): (debtor BIC,
        creditor BIC, kopecks), read from the accounts it debits and credits."""
        owners = {a.id: a.owner_bic for a in await self.gateway.store.accounts()}
        found = {}
        async for transfer in self.gateway.store.transfers_in_order():
            if transfer.kind is TransferKind.PAYMENT:
                assert transfer.id.hex not in found
                found[transfer.id.hex] = (
                    owners[transfer.debit_account_id], owners[transfer.credit_account_id], transfer.amount_kopecks
                )
        return found

    async def rows(self, query: str, **parameters: Any) -> list[Any]:
        async with self.gateway.store.engine.connect() as connection:
            return list((await connection.execute(text(query), parameters)).all())

    async def payments(self, debtor: str, uetr: uuid.UUID) -> list[PaymentRecord]:
        """The journal's payments from `debtor` with this UETR, newest first."""
        return await self.gateway.journal.find_payments(debtor, [uetr])

    async def mint(self, amounts: dict[str, int]) -> None:
        """Issue cryptorubles straight into settlement wallets, through the ledger (as treasury would)."""
        ids = {a.code: a.id for a in await self.gateway.store.accounts()}
        mints = [
            TransferRequest(
                uuid.uuid4(), ids[f"{CBRF}/issuance"], ids[f"{bic}/main"], kopecks, TransferKind.MINT, f"{CBRF}:MINT"
            )
            for bic, kopecks in amounts.items()
            if kopecks
        ]
        assert await self.gateway.batcher.submit(mints) == [TransferResult.OK] * len(mints)


ClientFactory = Callable[..., Awaitable[GatewayUnderTest]]


@pytest.fixture
def make_gateway(aiohttp_client, database_url: str, tmp_path: Path) -> ClientFactory:  # type: ignore[no-untyped-def]
    """Builds the app with make_app (plain HTTP, migrating), serves it on a real socket, and funds the wallets."""

    async def build(
        limits_toml: str = "",
        funding: dict[str, int] | None = None,
        plain_http: bool = True,
        participant_toml: dict[str, str] | None = None,
        business_days_toml: str = "",
    ) -> GatewayUnderTest:
        path = write_config(
            tmp_path, database_url, limits_toml=limits_toml, participant_toml=participant_toml,
            business_days_toml=business_days_toml,
        )
        config = load_config(path, environ={})
        client = await aiohttp_client(make_app(config, upgrade_database=True, plain_http=plain_http))
        under_test = GatewayUnderTest(client, config)
        await under_test.mint(FUNDING if funding is None else funding)
        return under_test

    return build


@pytest.fixture
async def gw(make_gateway: ClientFactory) -> AsyncIterator[GatewayUnderTest]:
    """The gateway with FUNDING in the banks' settlement wallets, checked before the test starts."""
    under_test = await make_gateway()
    assert await under_test.balances() == FUNDING
    assert await under_test.wallets_total() == FUNDED_TOTAL
    yield under_test

