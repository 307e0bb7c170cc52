"""Assembling the gateway's parts from a Config: the one place that knows which adapter implements which port.
The CLI, the HTTP app and the tests all build the gateway through here.

    running_gateway(config)   storage, ledger and auto-batcher, the RTGS, and every service built on them
    background(gateway)       the work a serving process does besides answering: resuming conversions, releasing
                              warehoused payments, voiding expired holds, refreshing the directory, pushing webhooks
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from gateway_adapters.rtgs.simulator import RtgsSimulator
from gateway_adapters.sql.conversions import SqlConversions
from gateway_adapters.sql.days import SqlBusinessDays
from gateway_adapters.sql.engine import make_engine
from gateway_adapters.sql.figures import SqlFigures
from gateway_adapters.sql.journal import JournalReader
from gateway_adapters.sql.migrate import (
    current_revision,
    head_revision,
    upgrade_to_head,
)
from gateway_adapters.sql.outages import is_transient
from gateway_adapters.sql.reconciliation import SqlReconciliation
from gateway_adapters.sql.reports import SqlAccountHistory
from gateway_adapters.sql.store import SqlStore, now_us

from gateway import bounds
from gateway.config import Config
from gateway.conversion.controls import EmissionControls
from gateway.conversion.ports import Rtgs
from gateway.conversion.reserve import ReserveCheck, check_reserve
from gateway.conversion.service import Conversions
from gateway.domain.ledger import AccountKind
from gateway.handling.directory import Directory
from gateway.handling.journaling import Journaling
from gateway.handling.received import Environment, Flow
from gateway.inbound.path import Inbound
from gateway.ledger.batcher import AutoBatcher
from gateway.ledger.ports import SchemaOutOfDate
from gateway.ledger.service import Ledger
from gateway.ledger.signing import ChainSigner, load_private_key
from gateway.messages.commands import (
    AccountReportingRequest,
    CancellationRequest,
    CreditTransfer,
    FinancialInstitutionTransfer,
    LiquidityTransfer,
    PaymentReturn,
    StatusRequest,
)
from gateway.messages.reports import ResolutionOfInvestigation
from gateway.messages.signing import MessageSigning, load_message_signing
from gateway.messages.writers import check_one_in, configured_recipients
from gateway.registry import bootstrap
from gateway.reporting.service import ReportRequests
from gateway.settlement.investigations import Cancellations, Resolutions
from gateway.settlement.payments import Payments
from gateway.settlement.status import StatusRequests
from gateway.settlement.warehouse import Warehouse
from gateway.treasury.days import BusinessDays
from gateway.treasury.figures import TreasuryFigures
from gateway.treasury.reconciliation import Reconciliation

log = logging.getLogger(__name__)

clock_us = now_us  # the gateway's clock: microseconds since the epoch, as the ledger stamps its transfers
Store = SqlStore  # the storage that implements every storage port (gateway.ledger.ports), SQLite or PostgreSQL


@dataclass(frozen=True, slots=True)
class Gateway:
    """One process's gateway: storage, the ledger, the RTGS, and the services built on them."""

    config: Config
    store: SqlStore
    ledger: Ledger
    batcher: AutoBatcher
    journal: JournalReader
    conversion_records: SqlConversions
    rtgs: Rtgs
    environment: Environment
    signing: MessageSigning  # the gateway's message-signing key, and whose signatures it asks for and trusts
    journaling: Journaling
    inbound: Inbound
    warehouse: Warehouse
    conversions: Conversions
    reports: ReportRequests
    emission: EmissionControls
    days: BusinessDays
    treasury: TreasuryFigures

    async def directory(self) -> Directory:
        """Participants and wallets as the database has them now."""
        return await read_directory(self.config, self.store)


async def read_directory(config: Config, store: SqlStore) -> Directory:
    return Directory.build(
        config.central_bank.bic, await store.participants(), await store.accounts(), bounds.settlement_days_ahead_max
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
            if current is None:
                raise SchemaOutOfDate("the database holds no gateway schema yet: run `gateway db upgrade`")
            if current != newest:
                raise SchemaOutOfDate(
                    f"the database schema is at revision {current}, this gateway needs {newest}: run `gateway db upgrade`"
                )
        existing_codes = {a.code for a in await store.accounts()}
        for line in await bootstrap(store, existing_codes, config):
            log.info("created %s", line)
    except BaseException:
        await store.close()
        raise
    return store


async def schema_revisions(config: Config) -> tuple[str | None, str]:
    """The database's schema revision (None: no schema yet) and the newest this gateway knows."""
    engine = make_engine(config.database.url, config.limits)
    try:
        return await current_revision(engine), head_revision()
    finally:
        await engine.dispose()


async def check_fiat_reserve(store: SqlStore, rtgs: Rtgs, today: date) -> ReserveCheck:
    """Supply = fiat in the reserve account at the RTGS, counting conversions caught between their two legs."""
    return await check_reserve(store, SqlConversions(store.engine), rtgs, today)


def emission_controls(
    config: Config, store: SqlStore, clock: Callable[[], int] | None = None
) -> EmissionControls:
    return EmissionControls(SqlConversions(store.engine), store, store, config.central_bank.bic, clock or clock_us)


def reconciliation(config: Config, store: SqlStore, rtgs: Rtgs) -> Reconciliation:
    """The three-way reconciliation of this database's ledger and journal with the RTGS, and its stored breaks."""
    records = SqlReconciliation(store.engine)
    return Reconciliation(
        config.business_days.calendar, SqlBusinessDays(store.engine), records, records, rtgs, lambda: clock_us()
    )


@asynccontextmanager
async def running_gateway(
    config: Config,
    upgrade: bool,
    observe_batch: Callable[[int], None] | None = None,
    after_conversion_step: Callable[[str], None] | None = None,
    clock: Callable[[], int] | None = None,
) -> AsyncIterator[Gateway]:
    """`clock`: the time every part reads (the ledger's stamps, business dates, the RTGS simulator's bookings); None
    is this module's `clock_us`, read now (tests replace it), and only `gateway demo` gives one of its own: it plays
    yesterday's business day on it."""
    clock = clock or clock_us
    signer = ChainSigner(load_private_key(config.central_bank.signing_key_file))
    # Its key and certificates are checked before the database is opened, a bad one stopping the start with one line;
    # against the wall clock, as whoever verifies a certificate does, whatever business day `gateway demo` replays.
    signing = load_message_signing(config, datetime.now(UTC))
    store = await open_store(config, upgrade)
    check_one_in(config.limits.outbound_schema_check_every)
    try:
        ledger = Ledger(store, signer, config.limits, clock_us=clock, is_transient=is_transient)
        batcher = AutoBatcher(
            ledger,
            batch_transfers_max=config.limits.batch_transfers_max,
            batch_wait_us=config.limits.batch_wait_us,
            queue_transfers_max=config.limits.queue_transfers_max,
            observe_batch=observe_batch,
            queue_wait_ms=config.limits.queue_wait_ms,
        )
        await batcher.start()
        try:
            async with open_rtgs(config, store, clock) as rtgs:
                gateway = await _assemble(config, store, ledger, batcher, rtgs, signing, after_conversion_step, clock)
                await gateway.days.open_first()
                yield gateway
        finally:
            await batcher.stop()
    finally:
        check_one_in(1)  # the default again, for whatever runs in this process next (tests)
        await store.close()


async def _assemble(
    config: Config, store: SqlStore, ledger: Ledger, batcher: AutoBatcher, rtgs: Rtgs, signing: MessageSigning,
    after_conversion_step: Callable[[str], None] | None, clock: Callable[[], int],
) -> Gateway:
    """The services, and the table of which flow handles which command."""
    journal = JournalReader(store.engine)
    conversion_records = SqlConversions(store.engine)
    calendar = config.business_days.calendar
    environment = Environment(clock, await read_directory(config, store), calendar)
    day_store = SqlBusinessDays(store.engine)
    journaling = Journaling(config.central_bank.bic, batcher, journal, configured_recipients(config, signing))
    credit_notified = frozenset(p.bic for p in config.participants if p.credit_notifications)
    issuance = next(a for a in await store.accounts() if a.kind is AccountKind.ISSUANCE)
    payments = Payments(journaling, credit_notified)
    cancellations = Cancellations(journaling)
    conversions = Conversions(
        config, journaling, conversion_records, rtgs, issuance.id, clock, after_step=after_conversion_step
    )
    reports = ReportRequests(journaling, SqlAccountHistory(store.engine), day_store, calendar)
    flows: dict[type, Flow] = {
        CreditTransfer: payments,
        FinancialInstitutionTransfer: payments,
        PaymentReturn: payments,
        CancellationRequest: cancellations,
        ResolutionOfInvestigation: Resolutions(journaling),
        StatusRequest: StatusRequests(journaling),
        LiquidityTransfer: conversions,
        AccountReportingRequest: reports,
    }
    return Gateway(
        config=config,
        store=store,
        ledger=ledger,
        batcher=batcher,
        journal=journal,
        conversion_records=conversion_records,
        rtgs=rtgs,
        environment=environment,
        signing=signing,
        journaling=journaling,
        inbound=Inbound(journaling, environment, flows, signing),
        warehouse=Warehouse(journaling, credit_notified, environment),
        conversions=conversions,
        reports=reports,
        emission=emission_controls(config, store, clock),
        days=BusinessDays(calendar, day_store, store, reports.reports, journaling, lambda: environment.clock_us()),
        treasury=TreasuryFigures(
            SqlFigures(store.engine), store, store, day_store, rtgs, calendar, config.central_bank.bic,
            config.limits.treasury_refresh_ms * 1000, lambda: environment.clock_us(),
        ),
    )


@asynccontextmanager
async def open_rtgs(config: Config, store: SqlStore, clock: Callable[[], int] | None = None) -> AsyncIterator[Rtgs]:
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
    # The simulator books on the gateway's clock (`gateway demo` gives its own: yesterday's fiat, on yesterday).
    simulator = await RtgsSimulator.open(
        store.engine, cb.reserve_rtgs_account, cb.bic, clock_us=clock or clock_us,
        reserve_opening_kopecks=mirror.posted_kopecks,
    )
    for participant in await store.participants():
        if participant.bic != cb.bic:
            await simulator.open_account(participant.rtgs_account, participant.bic, config.rtgs.opening_balance_kopecks)
    yield simulator


# --------------------------------------------------------------------------------------------------------------
# Background work of a serving process
# --------------------------------------------------------------------------------------------------------------


@asynccontextmanager
async def background(gateway: Gateway) -> AsyncIterator[None]:
    """Runs the serving process's periodic work until the context exits. Each task survives its own failures:
    every one of them is idempotent, and the next pass finishes what this one did not."""
    tasks = [
        _every(bounds.conversion_resume_seconds, _resume_conversions(gateway),
               "conversion resume", "finished %d conversions left unfinished", at_once=True),
        _every(bounds.pending_sweep_seconds, _void_expired(gateway),
               "pending-transfer sweep", "voided %d expired pending transfers"),
        _every(bounds.directory_refresh_seconds, _refresh_directory(gateway), "directory refresh", ""),
        _every(bounds.warehouse_sweep_seconds, _release_warehoused(gateway),
               "warehouse release", "settled %d warehoused payments that came due"),
    ]
    if gateway.config.business_days.close_automatically:
        tasks.append(_every(bounds.day_close_check_seconds, _close_due_days(gateway),
                            "business day close", "closed %d business days at their cut-off", at_once=True))
    webhooks = {p.bic: p.webhook_url for p in gateway.config.participants if p.webhook_url is not None}
    session = None
    if webhooks:
        import aiohttp

        from gateway.delivery.relay import Relay

        session = aiohttp.ClientSession()
        relay = Relay(gateway.journal, webhooks, gateway.environment.clock_us, session)
        tasks.append(relay.run())
    running = [asyncio.create_task(task) for task in tasks]
    try:
        yield
    finally:
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if session is not None:
            await session.close()


async def _every(
    seconds: float, step: Callable[[], Awaitable[int]], what: str, done_format: str, *, at_once: bool = False
) -> None:
    """Run `step` every `seconds`; log how much it did (`done_format` takes the count) and what failed."""
    if not at_once:
        await asyncio.sleep(seconds)
    while True:
        try:
            done = await step()
            if done:
                log.info(done_format, done)
        except Exception:  # logged, and the next pass tries again; each step is one transaction, never half-done
            log.exception("%s failed", what)
        await asyncio.sleep(seconds)


def _resume_conversions(gateway: Gateway) -> Callable[[], Awaitable[int]]:
    """Conversions a crash left half-way, or whose RTGS call failed, are driven on (or unwound)."""
    return gateway.conversions.resume


def _void_expired(gateway: Gateway) -> Callable[[], Awaitable[int]]:
    """Two-phase transfers nobody resolved in time are voided, so the funds they hold are released."""
    return lambda: gateway.ledger.void_expired(bounds.pending_sweep_transfers_max)


def _release_warehoused(gateway: Gateway) -> Callable[[], Awaitable[int]]:
    """Future-dated payments settle as their business day starts."""
    return lambda: gateway.warehouse.settle_due(bounds.warehouse_sweep_payments_max)


def _close_due_days(gateway: Gateway) -> Callable[[], Awaitable[int]]:
    """Each business day closes at its cut-off, by whichever process gets there first: the others find it done."""

    async def close() -> int:
        return len(await gateway.days.close_due())

    return close


def _refresh_directory(gateway: Gateway) -> Callable[[], Awaitable[int]]:
    """Operators suspend and add participants through the database: picked up within seconds. On failure the last
    good snapshot stays; the ledger enforces suspensions itself."""

    async def refresh() -> int:
        gateway.environment.directory = await gateway.directory()
        return 0

    return refresh
