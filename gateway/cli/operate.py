"""The operator's commands: database, keys, development PKI, participants, the ledger, emission controls and the
fiat side. Each opens what it needs through gateway.runtime and closes it before it returns."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from gateway.cli.usage import UsageError
from gateway.config import (
    Config,
    ParticipantConfig,
    canonical_bic,
    is_bic,
    signature_policy_default,
    status_reports_default,
)
from gateway.conversion.controls import NotARegisteredBank
from gateway.conversion.ports import CapBelowIssued, FiatReferences
from gateway.domain.calendar import instant
from gateway.domain.ledger import AccountKind, AccountStatus
from gateway.domain.money import AmountError, kopecks_from_text, text_from_kopecks
from gateway.ledger.ports import Participant, SchemaOutOfDate
from gateway.ledger.signing import (
    KeyFileError,
    generate_key_file,
    key_id_of,
    load_public_key,
    public_path,
)
from gateway.registry import wallet_accounts
from gateway.runtime import (
    Store,
    check_fiat_reserve,
    clock_us,
    emission_controls,
    open_rtgs,
    open_store,
    schema_revisions,
)


def require_database(config: Config) -> None:
    """An operator's command never creates a database by accident: a mistyped path or another working directory
    would otherwise start an empty ledger."""
    database = config.sqlite_path
    if database is not None and not database.exists():
        raise UsageError(
            f"no gateway database at {database} (config: {config.source}, found by {config.found_by}): run the"
            " command where the gateway runs, pass --config FILE, or create the database with `gateway db upgrade`"
        )


@asynccontextmanager
async def _store(config: Config) -> AsyncIterator[Store]:
    """The gateway's database, which must exist already and be at the newest schema."""
    require_database(config)
    try:
        store = await open_store(config, upgrade=False)
    except SchemaOutOfDate as error:
        raise UsageError(str(error)) from None
    try:
        yield store
    finally:
        await store.close()


def _bic(text: str) -> str:
    if not is_bic(text):
        raise UsageError(f"{text!r} is not a BIC (ISO 9362)")
    return canonical_bic(text)


def _roubles(text: str, what: str) -> int:
    try:
        kopecks = kopecks_from_text(text)
    except AmountError as error:
        raise UsageError(f"{what}: {error}") from None
    if kopecks <= 0:
        raise UsageError(f"{what} must be positive")
    return kopecks


def _today() -> date:
    return instant(clock_us()).date()


def operator() -> str:
    return f"{getpass.getuser()} with the CLI"


# --- db, keys, certs ------------------------------------------------------------------------------------------


def db_upgrade(config: Config, args: argparse.Namespace) -> int:
    async def run() -> None:
        store = await open_store(config, upgrade=True)
        await store.close()
        current, _ = await schema_revisions(config)
        print(f"database at schema {current}")

    asyncio.run(run())
    return 0


def db_status(config: Config, args: argparse.Namespace) -> int:
    database = config.sqlite_path
    if database is not None and not database.exists():
        print(f"no database at {database} yet: run gateway db upgrade")
        return 1
    current, newest = asyncio.run(schema_revisions(config))
    verdict = "up to date" if current == newest else "run gateway db upgrade"
    print(f"schema {current or 'none'}, newest {newest}: {verdict}")
    return 0 if current == newest else 1


def keys_init(config: Config, args: argparse.Namespace) -> int:
    path = args.key_file or config.central_bank.signing_key_file
    try:
        public_key = generate_key_file(path)
    except KeyFileError as error:
        raise UsageError(str(error)) from None
    print(f"wrote {path} (private, mode 0600) and {public_path(path)}; key id {key_id_of(public_key)}")
    return 0


def certs_init(config: Config, args: argparse.Namespace) -> int:
    """Client certificates for the central bank and the config's participants; banks added later with
    `participants add` get theirs from `certs issue`."""
    from gateway.security.certs import PkiError, parties_of, write_development_pki

    parties = parties_of(config)  # the central bank first
    try:
        pki = write_development_pki(args.directory, parties[0], parties, tuple(args.host), force=args.force)
    except PkiError as error:
        raise UsageError(str(error)) from None
    rows = [(pki.ca, "the CA that the gateway and every client trust")]
    rows.append((pki.server, f"the gateway: {', '.join(pki.server_names)}"))
    rows += [(files, f"client CN={bic}, SAN URI urn:bic:{bic}") for bic, files in pki.clients]
    print(f"wrote a development PKI to {pki.directory} (EC P-256; keys mode 0600; CA valid until"
          f" {pki.not_valid_after:%Y-%m-%d}):")
    width = max(len(f"{files.certificate.name}, {files.key.name}") for files, _ in rows)
    for files, what in rows:
        print(f"  {f'{files.certificate.name}, {files.key.name}':<{width}}  {what}")
    print("  <BIC>.p12, <BIC>.p12-password  each client certificate for a browser (the treasury page): import the .p12"
          " with the password beside it")
    return 0


def certs_issue(config: Config, args: argparse.Namespace) -> int:
    """A client certificate for a participant registered in the database, e.g. one added after `certs init`."""
    from gateway.security.certs import Party, PkiError, issue_client_certificate

    bic = _bic(args.bic)

    async def registered_name() -> str | None:
        async with _store(config) as store:
            return next((p.name for p in await store.participants() if p.bic == bic), None)

    name = asyncio.run(registered_name())
    if name is None:
        raise UsageError(f"{bic} is not registered: add it with `gateway participants add` first")
    try:
        files = issue_client_certificate(args.directory, Party(bic, name), force=args.force)
    except PkiError as error:
        raise UsageError(str(error)) from None
    print(f"wrote {files.certificate} and {files.key} (mode 0600): client CN={bic}, SAN URI urn:bic:{bic};"
          f" for a browser {bic}.p12 and its password {bic}.p12-password (mode 0600)")
    return 0


# --- participants ---------------------------------------------------------------------------------------------


def participants_list(config: Config, args: argparse.Namespace) -> int:
    async def run() -> None:
        async with _store(config) as store:
            accounts = await store.accounts()
            for participant in await store.participants():
                clearing = f" clearing {participant.clearing_code}" if participant.clearing_code else ""
                print(f"{participant.bic}  {participant.name}  [{participant.role}, {participant.status}]"
                      f"  rtgs {participant.rtgs_account}{clearing}")
                for account in accounts:
                    if account.owner_bic != participant.bic:
                        continue
                    pending = []
                    if account.debits_pending_kopecks:
                        pending.append(f"-{text_from_kopecks(account.debits_pending_kopecks)}")
                    if account.credits_pending_kopecks:
                        pending.append(f"+{text_from_kopecks(account.credits_pending_kopecks)}")
                    held = f"  pending {' '.join(pending)} RUB" if pending else ""
                    print(f"    {account.code:<28} {account.kind:<9}"
                          f" {text_from_kopecks(account.posted_kopecks):>22} RUB{held}")

    asyncio.run(run())
    return 0


def participants_add(config: Config, args: argparse.Namespace) -> int:
    participant = ParticipantConfig(
        bic=_bic(args.bic),
        name=args.name,
        clearing_code=args.clearing_code,
        rtgs_account=args.rtgs_account,
        wallets=tuple(args.wallet or ["main"]),
        transfer_max_kopecks=_roubles(args.transfer_max_rub, "--transfer-max-rub") if args.transfer_max_rub else None,
        balance_max_kopecks=_roubles(args.balance_max_rub, "--balance-max-rub") if args.balance_max_rub else None,
        webhook_url=None,  # push delivery is configured in the config file, where the relay reads it
        credit_notifications=False,
        app_hdr_version=None,  # like push delivery, configured in the config file, where the answers read it
        # Signing too: a bank added here has the default policy until its config entry registers certificates.
        signature_policy=signature_policy_default,
        signing_certificates=(),
        status_reports=status_reports_default,  # read only from the config file, like app_hdr_version
    )

    async def run() -> int:
        async with _store(config) as store:
            registered = await store.participants()
            if participant.bic in {p.bic for p in registered}:
                raise UsageError(f"{participant.bic} is already registered")
            # Each bank's RTGS account is its own, and never the reserve account (as config._check_rtgs_accounts).
            taken = {p.rtgs_account: p.bic for p in registered if p.rtgs_account}
            taken[config.central_bank.reserve_rtgs_account] = "the central bank's reserve account"
            if participant.rtgs_account in taken:
                raise UsageError(f"RTGS account {participant.rtgs_account} is taken: {taken[participant.rtgs_account]}")
            await store.add_participant(
                Participant(participant.bic, participant.name, "bank", participant.clearing_code,
                            participant.rtgs_account, AccountStatus.ACTIVE),
                wallet_accounts(participant, participant.wallets),
            )
            print(f"added {participant.bic} with wallets {', '.join(participant.wallets)}")
            if config.rtgs.adapter == "embedded":
                # The embedded RTGS keeps its accounts in this database: open the new bank's now, as a gateway
                # start would, so that gateways already running can convert for it at once.
                async with open_rtgs(config, store):
                    pass
                opening = text_from_kopecks(config.rtgs.opening_balance_kopecks)
                print(f"opened its RTGS account {participant.rtgs_account} at the embedded simulator with {opening} RUB")
        return 0

    return asyncio.run(run())


def participants_set_status(config: Config, args: argparse.Namespace) -> int:
    bic = _bic(args.bic)
    if bic == config.central_bank.bic:
        raise UsageError("the central bank cannot be suspended")
    status = AccountStatus.ACTIVE if args.active else AccountStatus.SUSPENDED

    async def run() -> int:
        async with _store(config) as store:
            changed = await store.set_participant_status(bic, status)
        if not changed:
            raise UsageError(f"{bic} is not a registered participant")
        print(f"{bic} is now {status}")
        return 0

    return asyncio.run(run())


# --- the ledger -----------------------------------------------------------------------------------------------


def ledger_verify(config: Config, args: argparse.Namespace) -> int:
    from gateway.ledger.verify import verify_ledger

    # After a key rotation, every key that signed part of the chain: each signature names its key by id.
    key_files = args.public_key or [config.central_bank.signing_key_file]
    try:
        public_keys = [load_public_key(key_file) for key_file in key_files]
    except KeyFileError as error:
        raise UsageError(str(error)) from None

    async def run() -> int:
        async with _store(config) as store:
            report = await verify_ledger(store, *public_keys)
            async with open_rtgs(config, store) as rtgs:
                reserve = await check_fiat_reserve(store, rtgs, _today())
        print(f"checked {report.transfers_checked} transfers, {report.signatures_checked} signed chain heads, "
              f"{report.accounts_checked} accounts")
        if report.signatures_by_key:
            print("signed chain heads by key id: "
                  + ", ".join(f"{key_id} {count}" for key_id, count in report.signatures_by_key.items()))
        print(f"fiat reserve at the RTGS: {reserve.describe()}")
        if report.ok and reserve.ok:
            print("ledger verified: chain, signatures, balances and invariants hold; supply = fiat reserve")
            return 0
        if not report.ok:
            print(f"LEDGER BROKEN: {report.first_break}")
            for extra in report.breaks[1:]:
                print(f"  also: {extra}")
        if not reserve.ok:
            print("RESERVE BROKEN: the fiat reserve does not equal the cryptorouble supply")
        return 1

    return asyncio.run(run())


def ledger_status(config: Config, args: argparse.Namespace) -> int:
    async def run() -> None:
        async with _store(config) as store:
            head, accounts = await store.head(), await store.accounts()
        issuance = next(a for a in accounts if a.kind is AccountKind.ISSUANCE)
        reserve = next(a for a in accounts if a.kind is AccountKind.RESERVE)
        print(f"chain head seq {head.seq} hash {head.hash.hex()}")
        print(f"supply {text_from_kopecks(-issuance.posted_kopecks)} RUB, "
              f"reserve {text_from_kopecks(reserve.posted_kopecks)} RUB, "
              f"emission cap {text_from_kopecks(head.emission_cap_kopecks)} RUB, "
              f"pending mints {text_from_kopecks(issuance.debits_pending_kopecks)} RUB")

    asyncio.run(run())
    return 0


# --- the central bank's emission controls ---------------------------------------------------------------------


def cb_show(config: Config, args: argparse.Namespace) -> int:
    async def run() -> None:
        async with _store(config) as store:
            overview = await emission_controls(config, store).overview(20)
        print(f"emission cap {text_from_kopecks(overview.emission_cap_kopecks)} RUB; supply "
              f"{text_from_kopecks(overview.supply_kopecks)} RUB; pending mints "
              f"{text_from_kopecks(overview.pending_mints_kopecks)} RUB")
        for bic, kopecks in overview.daily_limits_kopecks.items():
            print(f"daily conversion limit {bic}: {text_from_kopecks(kopecks)} RUB")
        if not overview.daily_limits_kopecks:
            print("no daily conversion limits set")
        for change in overview.changes:
            before = "none" if change.previous_kopecks is None else text_from_kopecks(change.previous_kopecks)
            after = "none" if change.new_kopecks is None else text_from_kopecks(change.new_kopecks)
            print(f"  {instant(change.set_at_us).isoformat()}  {change.subject}: {before} -> {after} RUB"
                  f"  by {change.set_by}")

    asyncio.run(run())
    return 0


def cb_set_cap(config: Config, args: argparse.Namespace) -> int:
    cap = _roubles(args.amount_rub, "the emission cap")

    async def run() -> int:
        async with _store(config) as store:
            controls = emission_controls(config, store)
            try:
                previous = await controls.set_emission_cap(cap, operator())
            except CapBelowIssued:
                overview = await controls.overview(0)
                issued = overview.supply_kopecks + overview.pending_mints_kopecks
                print(f"gateway: the cap may not go below what is issued or pending: {text_from_kopecks(cap)} RUB"
                      f" is below the {text_from_kopecks(issued)} RUB issued or pending", file=sys.stderr)
                return 1
        print(f"emission cap {text_from_kopecks(previous)} -> {text_from_kopecks(cap)} RUB")
        return 0

    return asyncio.run(run())


def cb_set_limit(config: Config, args: argparse.Namespace) -> int:
    bic = _bic(args.bic)
    limit = None if args.amount_rub.lower() == "none" else _roubles(args.amount_rub, "a daily limit")

    async def run() -> int:
        async with _store(config) as store:
            try:
                previous = await emission_controls(config, store).set_daily_limit(bic, limit, operator())
            except NotARegisteredBank as error:
                raise UsageError(str(error)) from None
        before = "none" if previous is None else text_from_kopecks(previous)
        after = "none" if limit is None else text_from_kopecks(limit)
        print(f"daily conversion limit of {bic}: {before} -> {after} RUB")
        return 0

    return asyncio.run(run())


# --- the fiat side ----------------------------------------------------------------------------------------------


def rtgs_balances(config: Config, args: argparse.Namespace) -> int:
    async def run() -> None:
        async with _store(config) as store, open_rtgs(config, store) as rtgs:
            for participant in await store.participants():
                balance = await rtgs.balance(participant.rtgs_account)
                if balance is None:
                    print(f"{participant.bic}  {participant.rtgs_account}  unknown to the RTGS")
                    continue
                print(f"{participant.bic}  {participant.rtgs_account}  booked "
                      f"{text_from_kopecks(balance.booked_kopecks):>22} RUB  held "
                      f"{text_from_kopecks(balance.held_kopecks)} RUB")

    asyncio.run(run())
    return 0


def rtgs_statement(config: Config, args: argparse.Namespace) -> int:
    from_date = args.from_date or _today()
    to_date = args.to_date or from_date

    async def run() -> int:
        async with _store(config) as store, open_rtgs(config, store) as rtgs:
            statement = await rtgs.statement(args.account, from_date, to_date)
        if statement is None:
            print(f"gateway: the RTGS does not know account {args.account}", file=sys.stderr)
            return 1
        print(f"{statement.account}  {statement.from_date} .. {statement.to_date}")
        print(f"  opening {text_from_kopecks(statement.opening_kopecks):>22} RUB")
        for entry in statement.entries:
            print(f"  {entry.booked_at.isoformat()}  {entry.direction.value}  {text_from_kopecks(entry.kopecks):>22} RUB"
                  f"  {entry.counter_account}  {entry.reference}  ({entry.request_id})")
            if entry.references is not None:  # the bank's camt.050 the booking is for: what ties it to the conversion
                print(f"      {_references_text(entry.references)}")
        print(f"  closing {text_from_kopecks(statement.closing_kopecks):>22} RUB")
        return 0

    return asyncio.run(run())


def _references_text(references: FiatReferences) -> str:
    fields = (("MsgId", references.message_id), ("EndToEndId", references.end_to_end_id),
              ("TxId", references.transaction_id), ("UETR", references.uetr))  # fmt: skip
    return "camt.050 " + "  ".join(f"{name} {'-' if value is None else value}" for name, value in fields)
