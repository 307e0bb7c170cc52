"""Shared by the conversion tests: a gateway over real HTTP (make_app, loopback development mode) on each kind of
database, with the embedded RTGS simulator opening every bank's fiat account at 1,000,000.00 and no cryptoroubles
issued, and helpers that read camt.025 receipts and both systems' balances."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.app import make_app
from gateway.config import load_config
from gateway.conversion.reserve import check_reserve
from gateway.domain.calendar import instant
from tests.conftest import write_config
from tests.settlement.builders import RTGS_ACCOUNTS
from tests.settlement.conftest import GatewayUnderTest, Message

OPENING_FIAT = 1_000_000_00  # every bank's RTGS account, in kopecks
RESERVE_ACCOUNT = "30101810000000000001"


@dataclass(frozen=True)
class Receipt:
    """A camt.025.001.05 as the tests read it: the request it answers and its handling codes in order."""

    message: Message

    @property
    def codes(self) -> list[str]:
        return self.message.document.texts("Rct/RctDtls/ReqHdlg/StsCd")

    @property
    def descriptions(self) -> list[str]:
        return self.message.document.texts("Rct/RctDtls/ReqHdlg/Desc")

    @property
    def original_message_id(self) -> str:
        return self.message.document.text("Rct/RctDtls/OrgnlMsgId/MsgId")


def receipt(payload: bytes) -> Receipt:
    message = Message.read(payload)
    assert message.kind == "camt.025.001.05", message.kind
    message.assert_official()
    return Receipt(message)


class ConversionGateway(GatewayUnderTest):
    async def fiat(self, bic: str) -> tuple[int, int]:
        """(booked, held) on the bank's RTGS account."""
        balance = await self.gateway.rtgs.balance(RTGS_ACCOUNTS[bic])
        assert balance is not None
        return balance.booked_kopecks, balance.held_kopecks

    async def fiat_reserve(self) -> int:
        balance = await self.gateway.rtgs.balance(RESERVE_ACCOUNT)
        assert balance is not None and balance.held_kopecks == 0
        return balance.booked_kopecks

    async def supply(self) -> int:
        return -(await self.accounts())["CBRFRUMMXXX/issuance"]

    async def pending_mints(self) -> int:
        accounts = await self.gateway.store.accounts()
        return next(a.debits_pending_kopecks for a in accounts if a.code == "CBRFRUMMXXX/issuance")

    async def assert_reserve_equals_supply(self) -> None:
        today = instant(self.environment.clock_us()).date()
        check = await check_reserve(self.gateway.store, self.gateway.conversion_records, self.gateway.rtgs, today)
        assert check.ok and check.in_flight_conversions == 0, check
        assert await self.fiat_reserve() == await self.supply()
        assert (await self.accounts())["CBRFRUMMXXX/reserve"] == await self.supply()


@pytest.fixture
async def cgw(aiohttp_client, database_url: str, tmp_path: Path) -> ConversionGateway:  # type: ignore[no-untyped-def]
    config = load_config(
        write_config(tmp_path, database_url, rtgs_toml='opening_balance_rub = "1000000.00"'), environ={}
    )
    client = await aiohttp_client(make_app(config, upgrade_database=True, plain_http=True))
    return ConversionGateway(client, config)
