"""Assembling the gateway's parts from a Config: the one place that knows which adapter implements which port.
The CLI, the HTTP app and the tests all build the gateway through here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from gateway_adapters.rtgs.simulator import RtgsSimulator
from gateway_adapters.sql.conversions import SqlConversions
from gateway_adapters.sql.journal import JournalReader
from gateway_adapters.sql.migrate import (
    current_revision,
    head_revision,
    upgrade_to_head,
)
from gateway_adapters.sql.store import SqlStore, is_transient, now_us

from gateway import bounds
from gateway.config import Config
from gateway.conversion.ports import Rtgs
from gateway.domain.ledger import AccountKind
from gateway.ledger.batcher import AutoBatcher
from gateway.ledger.service import Ledger
from gateway.ledger.signing import ChainSigner, load_private_key
from gateway.registry import bootstrap
from gateway.settlement.directory import Directory

log = logging.getLogger(__name__)


class SchemaOutOfDate(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Gateway:
    config: Config
    store: SqlStore
    ledger: Ledger
    batcher: AutoBatcher
    journal: JournalReader
    conversions: SqlConversions
    rtgs: Rtgs

    async def directory(self) -> Directory:
        """Participants and wallets as the database has them now."""
        return Directory.build(
            self.config.central_bank.bic,
            await self.store.participants(),
            await self.store.accounts(),
            bounds.settlement_days_ahead_max,
        )


async def open_store(config: Config, upgrade: bool) -> SqlStore:
    """Open the database; migrate it to the newest schema if `upgrade`, else insist that it already is."""
    if config.database.url.startswith("sqlite+aiosqlite:///"):
        Path(config.database.url.removeprefix("sqlite+aiosqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    store = await SqlStore.open(config.database.url, config.limits)
    try:
        if upgrade:
            await upgrade_to_head(store.engine)
        else:
            current, newest = await current_revision(store.engine), head_revision()
            if current != newest:
                raise SchemaOutOfDate(f"database schema is at {current}, the gateway needs {newest}: run `gateway db upgrade`")
        existing_codes = {a.code for a in await store.accounts()}
        for line in await bootstrap(store, existing_codes, config):
            log.info("created %s", line)
    except BaseException:
        await store.close()
        raise
    return store


@asynccontextmanager
async def running_gateway(
    config: Config, upgrade: bool, observe_batch: Callable[[int], None] | None = None
) -> AsyncIterator[Gateway]:
    signer = ChainSigner(load_private_key(config.central_bank.signing_key_file))
    store = await open_store(config, upgrade)
    try:
        ledger = Ledger(store, signer, config.limits, clock_us=now_us, is_transient=is_transient)
        batcher = AutoBatcher(
            ledger,
            batch_transfers_max=config.limits.batch_transfers_max,
            batch_wait_us=config.limits.batch_wait_us,
            queue_transfers_max=config.limits.queue_transfers_max,
            observe_batch=observe_batch,
        )
        await batcher.start()
        try:
            async with open_rtgs(config, store) as rtgs:
                yield Gateway(config, store, ledger, batcher, JournalReader(store.engine), SqlConversions(store.engine), rtgs)
        finally:
            await batcher.stop()
    finally:
        await store.close()


@asynccontextmanager
async def open_rtgs(config: Config, store: SqlStore) -> AsyncIterator[Rtgs]:
    """The central bank's RTGS as config.rtgs names it: the simulator embedded in the gateway's own database (its
    accounts opened for every registered bank on first sight), or an RTGS over ISO 20022 and HTTP."""
    cb = config.central_bank
    if config.rtgs.adapter == "http":
        from gateway_adapters.rtgs.http_client import HttpRtgs

        async with HttpRtgs.from_config(config) as client:
            yield client
        return
    # A simulator first opened beside a ledger that already issued (treasury minted directly) holds what the
    # ledger's reserve mirror says: the fiat such a ledger would have had at a real RTGS.
    mirror = next(a for a in await store.accounts() if a.kind is AccountKind.RESERVE)
    simulator = await RtgsSimulator.open(
        store.engine, cb.reserve_rtgs_account, cb.bic, reserve_opening_kopecks=mirror.posted_kopecks
    )
    for participant in await store.participants():
        if participant.bic != cb.bic:
            await simulator.open_account(participant.rtgs_account, participant.bic, config.rtgs.opening_balance_kopecks)
    yield simulator
