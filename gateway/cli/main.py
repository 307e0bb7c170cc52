"""The `gateway` command.

  gateway serve                          run the gateway (the packaged demo config when no --config is given)
  gateway db upgrade | status            migrate the database / show its schema revision
  gateway keys init                      create the central bank's Ed25519 chain-signing key
  gateway certs init DIR [--host H]... [--force]   a development CA, server and participant certificates for mTLS
  gateway certs issue DIR BIC [--force]  a client certificate for a participant added later, from DIR's CA
  gateway participants list | add | suspend | resume
  gateway ledger verify | status         recompute the whole ledger from the raw tables / show supply and reserve
  gateway validate [--profile iso|gateway] [--fill] FILE...   check ISO 20022 message files, layer by layer
  gateway example NAME [--envelope KIND] | --list    print a shipped example message, placeholders filled
  gateway replay DIR --url URL [--certs DIR] [--expect DIR] [--record DIR]   send message files, check the answers
  gateway cb show | set-cap AMOUNT | set-limit BIC AMOUNT|none   the central bank's emission controls
  gateway rtgs balances | statement ACCOUNT [--from D] [--to D]  the fiat side, as config.rtgs names it
  gateway rtgs-sim [--host H] [--port P] [--database URL] [--tls-dir DIR]   a standalone RTGS simulator server

Exit status: 0 done, 1 the command ran and found a problem (e.g. a broken chain), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

from aiohttp import web
from gateway_adapters.rtgs.cli import add_rtgs_sim_command
from gateway_adapters.sql.conversions import CapBelowIssued, SqlConversions
from gateway_adapters.sql.migrate import current_revision, head_revision
from gateway_adapters.sql.store import now_us

from gateway import bounds
from gateway.config import (
    Config,
    ConfigError,
    ParticipantConfig,
    canonical_bic,
    is_bic,
    load_config,
)
from gateway.conversion.reserve import check_reserve
from gateway.domain.ledger import AccountKind, AccountStatus
from gateway.domain.money import AmountError, kopecks_from_text, text_from_kopecks
from gateway.ledger.ports import Participant
from gateway.ledger.signing import (
    KeyFileError,
    generate_key_file,
    key_id_of,
    load_public_key,
    public_path,
)
from gateway.ledger.verify import verify_ledger
from gateway.registry import account_code, wallet_accounts
from gateway.replay.commands import add_replay_commands
from gateway.runtime import SchemaOutOfDate, open_rtgs, open_store
from gateway.settlement.answers import instant

log = logging.getLogger("gateway")


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # it narrates every migration context at INFO
    try:
        config = load_config(args.config)
        return args.handler(config, args)
    except (ConfigError, KeyFileError, UsageError, SchemaOutOfDate, AmountError) as error:
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--config", type=Path, help="TOML config file (default: $GATEWAY_CONFIG, else the demo)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", help="listen address (default: http.host from the config)")
    serve.add_argument("--port", type=int, help="listen port (default: http.port from the config)")
    serve.add_argument("--tls-dir", type=Path,
                       help="server.pem, server.key and the client CA ca.pem (default: http.tls_dir from the config)")
    serve.add_argument("--plain-http", action="store_true",
                       help="DEVELOPMENT ONLY: no TLS, no client certificates, loopback addresses only")
    serve.add_argument("--workers", type=int, default=1,
                       help="serve from this many processes sharing the port (PostgreSQL only)")
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # set on the extra workers
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(required=True, metavar="ACTION")
    db.add_parser("upgrade", help="migrate to the newest schema and load the config's participants").set_defaults(
        handler=_db_upgrade
    )
    db.add_parser("status", help="show the schema revision").set_defaults(handler=_db_status)

    keys = commands.add_parser("keys", help="central bank signing key").add_subparsers(required=True, metavar="ACTION")
    keys_init = keys.add_parser("init", help="create the Ed25519 key named by central_bank.signing_key_file")
    keys_init.add_argument("--key-file", type=Path, help="write here instead of the configured path")
    keys_init.set_defaults(handler=_keys_init)

    certs = commands.add_parser("certs", help="development PKI for mutual TLS").add_subparsers(
        required=True, metavar="ACTION"
    )
    certs_init = certs.add_parser(
        "init", help="write a CA, the gateway's server certificate and a client certificate per configured bank"
    )
    certs_init.add_argument("directory", type=Path, metavar="DIR")
    certs_init.add_argument("--host", action="append", default=[],
                            help="a DNS name or IP address for the server certificate besides localhost and 127.0.0.1"
                            " (repeatable)")  # fmt: skip
    certs_init.add_argument("--force", action="store_true", help="replace files already in DIR (a new CA, too)")
    certs_init.set_defaults(handler=_certs_init)
    certs_issue = certs.add_parser(
        "issue", help="a client certificate for one registered participant, from the CA that `certs init` wrote"
    )
    certs_issue.add_argument("directory", type=Path, metavar="DIR")
    certs_issue.add_argument("bic", metavar="BIC")
    certs_issue.add_argument("--force", action="store_true", help="replace the participant's files already in DIR")
    certs_issue.set_defaults(handler=_certs_issue)

    participants = commands.add_parser("participants", help="the participants registry").add_subparsers(
        required=True, metavar="ACTION"
    )
    participants.add_parser("list", help="participants, their accounts and balances").set_defaults(
        handler=_participants_list
    )
    add = participants.add_parser("add", help="register a bank and its wallets")
    add.add_argument("bic")
    add.add_argument("--name", required=True)
    add.add_argument("--rtgs-account", required=True, help="its fiat account at the central bank's RTGS")
    add.add_argument("--clearing-code", help="national clearing code (BIK, 9 digits)")
    add.add_argument("--wallet", action="append", default=[], help="wallet name (repeatable; default: main)")
    add.add_argument("--transfer-max-rub", help="largest single payment, e.g. 1000000.00")
    add.add_argument("--balance-max-rub", help="largest wallet balance, e.g. 50000000.00")
    add.set_defaults(handler=_participants_add)
    for action, status in (("suspend", AccountStatus.SUSPENDED), ("resume", AccountStatus.ACTIVE)):
        command = participants.add_parser(action, help=f"{action} a bank: its wallets can{'not' if action == 'suspend' else ''} move money")
        command.add_argument("bic")
        command.set_defaults(handler=_participants_set_status, status=status)

    ledger = commands.add_parser("ledger", help="the cryptoruble ledger").add_subparsers(required=True, metavar="ACTION")
    verify = ledger.add_parser("verify", help="recompute every hash, signature and balance from the raw tables")
    verify.add_argument("--public-key", type=Path, help="the central bank's public key (default: from the key file)")
    verify.set_defaults(handler=_ledger_verify)
    ledger.add_parser("status", help="chain head, supply, reserve and emission cap").set_defaults(handler=_ledger_status)

    cb = commands.add_parser("cb", help="the central bank's emission controls").add_subparsers(
        required=True, metavar="ACTION"
    )
    cb.add_parser("show", help="emission cap, supply, daily conversion limits and their recent changes").set_defaults(
        handler=_cb_show
    )
    set_cap = cb.add_parser("set-cap", help="set the emission cap (total cryptorouble supply), e.g. 1000000000000.00")
    set_cap.add_argument("amount_rub", metavar="AMOUNT")
    set_cap.set_defaults(handler=_cb_set_cap)
    set_limit = cb.add_parser("set-limit", help="set a bank's daily conversion limit (both directions), or `none`")
    set_limit.add_argument("bic")
    set_limit.add_argument("amount_rub", metavar="AMOUNT|none")
    set_limit.set_defaults(handler=_cb_set_limit)

    rtgs = commands.add_parser("rtgs", help="the central bank's fiat RTGS, as config.rtgs names it").add_subparsers(
        required=True, metavar="ACTION"
    )
    rtgs.add_parser("balances", help="every registered bank's RTGS account and the reserve account").set_defaults(
        handler=_rtgs_balances
    )
    statement = rtgs.add_parser("statement", help="an RTGS account's bookings over whole business days")
    statement.add_argument("account")
    statement.add_argument("--from", dest="from_date", type=date.fromisoformat, help="first day (default: today)")
    statement.add_argument("--to", dest="to_date", type=date.fromisoformat, help="last day (default: --from)")
    statement.set_defaults(handler=_rtgs_statement)
    add_rtgs_sim_command(commands)

    validate = commands.add_parser("validate", help="check ISO 20022 message files (any envelope, or a bare Document)")
    validate.add_argument("--profile", choices=("iso", "gateway"), default="gateway",
                          help="iso: the ISO 20022 schema only; gateway (default): every layer, as the gateway would")
    validate.add_argument("--business-date", type=date.fromisoformat, default=None,
                          help="the business date settlement dates are judged against (default: today)")
    validate.add_argument("--fill", action="store_true",
                          help="fill the files' placeholders ({{today}}, {{id:NAME}} ...) first, one run for all files")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.set_defaults(handler=_validate)
    add_replay_commands(commands)
    return parser


def _is_demo(config: Config) -> bool:
    return config.source.endswith("demo.toml") and Path(config.source).parent == Path(__file__).parents[1]


def _serve(config: Config, args: argparse.Namespace) -> int:
    """TLS with client certificates by default; plain HTTP only with --plain-http, only on loopback. The packaged
    demo creates its own throw-away signing key and development PKI under ./var on first start."""
    from gateway.app import make_app
    from gateway.security.certs import (
        parties_of,
        server_ssl_context,
        write_development_pki,
    )

    host = args.host or config.http.host
    port = args.port or config.http.port
    if not 1 <= args.workers <= 64:
        raise UsageError("--workers must be within 1..64")
    if args.workers > 1 and config.database.url.startswith("sqlite"):
        raise UsageError("--workers needs PostgreSQL: SQLite has one writer, so more processes would only queue")
    key_file = config.central_bank.signing_key_file
    if _is_demo(config) and not key_file.exists():
        generate_key_file(key_file)
        log.warning("DEMO: generated a throw-away central bank signing key at %s", key_file)
    ssl_context = None
    if args.plain_http:
        if not ipaddress.ip_address(host if host != "localhost" else "127.0.0.1").is_loopback:
            raise UsageError(f"refusing plain HTTP on {host}: without TLS the gateway serves on a loopback address only")
        for _ in range(3):
            log.warning("PLAIN HTTP on %s:%d: NO TLS, NO CLIENT CERTIFICATES, the AppHdr sender is taken at its word."
                        " For development on this machine only, never for banks' traffic.", host, port)
    else:
        tls_dir = args.tls_dir or config.http.tls_dir
        files = [tls_dir / "server.pem", tls_dir / "server.key", tls_dir / "ca.pem"]
        if _is_demo(config) and not any(f.exists() for f in files):
            parties = parties_of(config)
            write_development_pki(tls_dir, parties[0], parties, force=False)
            log.warning("DEMO: created a development PKI in %s (client certificates for every participant)", tls_dir)
        missing = [str(f) for f in files if not f.exists()]
        if missing:
            raise UsageError(f"TLS files missing: {', '.join(missing)} (create a development set with"
                             f" `gateway certs init {tls_dir}`, or serve --plain-http on loopback for development)")
        ssl_context = server_ssl_context(*files)
    # The embedded SQLite default migrates itself; a shared PostgreSQL is migrated deliberately with `db upgrade`.
    upgrade = config.database.url.startswith("sqlite")
    scheme = "http" if ssl_context is None else "https (client certificates required)"
    log.info("config %s, database %s, %s on %s:%d", config.source, _redacted(config.database.url), scheme, host, port)
    workers = _start_extra_workers(args) if args.workers > 1 else []
    try:
        web.run_app(
            make_app(config, upgrade_database=upgrade, plain_http=args.plain_http),
            host=host,
            port=port,
            ssl_context=ssl_context,
            reuse_port=args.workers > 1 or args.reuse_port,
            shutdown_timeout=config.limits.shutdown_timeout_ms / 1000,
            print=lambda line: log.info("%s", line),
        )
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGINT)
        for worker in workers:
            try:
                worker.wait(timeout=config.limits.shutdown_timeout_ms / 1000 + 5)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def _start_extra_workers(args: argparse.Namespace) -> list[subprocess.Popen[bytes]]:
    """The other worker processes: this same command, one worker each, on the same port (SO_REUSEPORT lets the
    kernel spread connections). They coordinate only through PostgreSQL, as separate gateway hosts would."""
    argv, skip_next = [], False
    for arg in sys.argv[1:]:
        if skip_next:
            skip_next = False
        elif arg == "--workers":
            skip_next = True
        elif not arg.startswith("--workers="):
            argv.append(arg)
    command = [sys.executable, "-m", "gateway.cli.main", *argv, "--reuse-port"]
    return [subprocess.Popen(command) for _ in range(args.workers - 1)]


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    return f"{scheme}://***@{location}" if at else url


def _db_upgrade(config: Config, args: argparse.Namespace) -> int:
    async def run() -> None:
        store = await open_store(config, upgrade=True)
        try:
            print(f"database at schema {await current_revision(store.engine)}")
        finally:
            await store.close()

    asyncio.run(run())
    return 0


def _db_status(config: Config, args: argparse.Namespace) -> int:
    async def run() -> int:
        from gateway_adapters.sql.engine import make_engine

        engine = make_engine(config.database.url, config.limits)
        try:
            current, newest = await current_revision(engine), head_revision()
        finally:
            await engine.dispose()
        print(f"schema {current or 'none'}, newest {newest}: {'up to date' if current == newest else 'run gateway db upgrade'}")
        return 0 if current == newest else 1

    return asyncio.run(run())


def _keys_init(config: Config, args: argparse.Namespace) -> int:
    path = args.key_file or config.central_bank.signing_key_file
    public_key = generate_key_file(path)
    print(f"wrote {path} (private, mode 0600) and {public_path(path)}; key id {key_id_of(public_key)}")
    return 0


def _certs_init(config: Config, args: argparse.Namespace) -> int:
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
    return 0


def _certs_issue(config: Config, args: argparse.Namespace) -> int:
    """A client certificate for a participant registered in the database, e.g. one added after `certs init`."""
    from gateway.security.certs import Party, PkiError, issue_client_certificate

    if not is_bic(args.bic):
        raise UsageError(f"{args.bic!r} is not a BIC (ISO 9362)")
    bic = canonical_bic(args.bic)

    async def registered_name() -> str | None:
        store = await open_store(config, upgrade=False)
        try:
            return next((p.name for p in await store.participants() if p.bic == bic), None)
        finally:
            await store.close()

    name = asyncio.run(registered_name())
    if name is None:
        raise UsageError(f"{bic} is not registered: add it with `gateway participants add` first")
    try:
        files = issue_client_certificate(args.directory, Party(bic, name), force=args.force)
    except PkiError as error:
        raise UsageError(str(error)) from None
    print(f"wrote {files.certificate} and {files.key} (mode 0600): client CN={bic}, SAN URI urn:bic:{bic}")
    return 0


def _participants_list(config: Config, args: argparse.Namespace) -> int:
    async def run() -> None:
        store = await open_store(config, upgrade=False)
        try:
            accounts = await store.accounts()
            for participant in await store.participants():
                clearing = f" clearing {participant.clearing_code}" if participant.clearing_code else ""
                print(f"{participant.bic}  {participant.name}  [{participant.role}, {participant.status}]"
                      f"  rtgs {participant.rtgs_account}{clearing}")
                for account in accounts:
                    if account.owner_bic == participant.bic:
                        print(f"    {account.code:<28} {account.kind:<9} {text_from_kopecks(account.posted_kopecks):>22} RUB"
                              f"  pending -{text_from_kopecks(account.debits_pending_kopecks)}"
                              f" +{text_from_kopecks(account.credits_pending_kopecks)}")
        finally:
            await store.close()

    asyncio.run(run())
    return 0


def _participants_add(config: Config, args: argparse.Namespace) -> int:
    if not is_bic(args.bic):
        raise UsageError(f"{args.bic!r} is not a BIC (ISO 9362)")
    participant = ParticipantConfig(
        bic=canonical_bic(args.bic),
        name=args.name,
        clearing_code=args.clearing_code,
        rtgs_account=args.rtgs_account,
        wallets=tuple(args.wallet or ["main"]),
        transfer_max_kopecks=kopecks_from_text(args.transfer_max_rub) if args.transfer_max_rub else None,
        balance_max_kopecks=kopecks_from_text(args.balance_max_rub) if args.balance_max_rub else None,
        webhook_url=None,  # push delivery is configured in the config file, where the relay reads it
        credit_notifications=False,
    )

    async def run() -> int:
        store = await open_store(config, upgrade=False)
        try:
            if participant.bic in {p.bic for p in await store.participants()}:
                raise UsageError(f"{participant.bic} is already registered")
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
        finally:
            await store.close()
        return 0

    return asyncio.run(run())


def _participants_set_status(config: Config, args: argparse.Namespace) -> int:
    bic = canonical_bic(args.bic)
    if bic == config.central_bank.bic:
        raise UsageError("the central bank cannot be suspended")

    async def run() -> int:
        store = await open_store(config, upgrade=False)
        try:
            changed = await store.set_participant_status(bic, args.status)
        finally:
            await store.close()
        if not changed:
            raise UsageError(f"{bic} is not a registered participant")
        print(f"{bic} is now {args.status}")
        return 0

    return asyncio.run(run())


def _ledger_verify(config: Config, args: argparse.Namespace) -> int:
    public_key = load_public_key(args.public_key or config.central_bank.signing_key_file)

    async def run() -> int:
        store = await open_store(config, upgrade=False)
        try:
            report = await verify_ledger(store, public_key)
            async with open_rtgs(config, store) as rtgs:
                reserve = await check_reserve(store, SqlConversions(store.engine), rtgs, _today())
        finally:
            await store.close()
        print(f"checked {report.transfers_checked} transfers, {report.signatures_checked} signed chain heads, "
              f"{report.accounts_checked} accounts")
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


def _validate(config: Config, args: argparse.Namespace) -> int:
    """One line per file: its message version and `valid`, or each rejection with its code and element path.
    The gateway profile judges parties against the config's participants, as no database is needed to validate."""
    from gateway.messages.intake import Accepted, check_iso, intake
    from gateway.messages.rules import RuleContext
    from gateway.replay.fill import Filler, PlaceholderError

    # One run for all files; its {{today}} is the gateway's business date (Moscow), and so is the check's.
    filler = Filler.starting_now() if args.fill else None
    context = RuleContext(
        today=args.business_date or (filler.today if filler is not None else date.today()),
        central_bank_bic=config.central_bank.bic,
        participants=frozenset(p.bic for p in config.participants),
        suspended_participants=frozenset(),
        settlement_days_ahead_max=bounds.settlement_days_ahead_max,
        authenticated_bic=None,
        rtgs_accounts={p.bic: p.rtgs_account for p in config.participants},
        wallets=frozenset(account_code(p.bic, wallet) for p in config.participants for wallet in p.wallets),
    )
    all_valid = True
    for path in args.files:
        try:
            data = path.read_bytes()
            if filler is not None:
                data = filler.fill(data.decode("utf-8"), str(path)).encode("utf-8")
        except OSError as error:
            print(f"{path}: unreadable: {error.strerror}")
            all_valid = False
            continue
        except (UnicodeDecodeError, PlaceholderError) as error:
            print(f"{path}: cannot fill: {'not UTF-8 text' if isinstance(error, UnicodeDecodeError) else error}")
            all_valid = False
            continue
        if args.profile == "iso":
            message_id, rejections = check_iso(data)
        else:
            outcome = intake(data, allow_bare_document=True, context=context)
            message_id = outcome.message_id
            rejections = [] if isinstance(outcome, Accepted) else list(outcome.rejections)
        version = str(message_id) if message_id is not None else "unknown message"
        if not rejections:
            print(f"{path}: {version}: valid")
            continue
        all_valid = False
        print(f"{path}: {version}: {len(rejections)} rejection{'s' if len(rejections) > 1 else ''}")
        for rejection in rejections:
            print(f"  {rejection.code} {rejection.layer.value} {rejection.path or '/'}: {rejection.text}")
    return 0 if all_valid else 1


def _ledger_status(config: Config, args: argparse.Namespace) -> int:
    async def run() -> None:
        store = await open_store(config, upgrade=False)
        try:
            head, accounts = await store.head(), await store.accounts()
        finally:
            await store.close()
        issuance = next(a for a in accounts if a.kind is AccountKind.ISSUANCE)
        reserve = next(a for a in accounts if a.kind is AccountKind.RESERVE)
        print(f"chain head seq {head.seq} hash {head.hash.hex()}")
        print(f"supply {text_from_kopecks(-issuance.posted_kopecks)} RUB, reserve {text_from_kopecks(reserve.posted_kopecks)} RUB, "
              f"emission cap {text_from_kopecks(head.emission_cap_kopecks)} RUB, pending mints {text_from_kopecks(issuance.debits_pending_kopecks)} RUB")

    asyncio.run(run())
    return 0




def _today() -> date:
    return instant(now_us()).date()


def _cb_show(config: Config, args: argparse.Namespace) -> int:
    async def run() -> None:
        store = await open_store(config, upgrade=False)
        try:
            head, accounts = await store.head(), await store.accounts()
            controls = SqlConversions(store.engine)
            limits, changes = await controls.daily_limits(), await controls.changes(20)
        finally:
            await store.close()
        issuance = next(a for a in accounts if a.kind is AccountKind.ISSUANCE)
        print(f"emission cap {text_from_kopecks(head.emission_cap_kopecks)} RUB; supply "
              f"{text_from_kopecks(-issuance.posted_kopecks)} RUB; pending mints "
              f"{text_from_kopecks(issuance.debits_pending_kopecks)} RUB")
        for bic in sorted(limits):
            print(f"daily conversion limit {bic}: {text_from_kopecks(limits[bic])} RUB")
        if not limits:
            print("no daily conversion limits set")
        for change in changes:
            before = "none" if change.previous_kopecks is None else text_from_kopecks(change.previous_kopecks)
            after = "none" if change.new_kopecks is None else text_from_kopecks(change.new_kopecks)
            print(f"  {change.set_at_us}  {change.subject}: {before} -> {after}  by {change.set_by}")

    asyncio.run(run())
    return 0


def _operator() -> str:
    import getpass

    return f"{getpass.getuser()} with the CLI"


def _cb_set_cap(config: Config, args: argparse.Namespace) -> int:
    cap = kopecks_from_text(args.amount_rub)
    if cap <= 0:
        raise UsageError("the emission cap must be positive")

    async def run() -> int:
        store = await open_store(config, upgrade=False)
        try:
            previous = await SqlConversions(store.engine).set_emission_cap(cap, _operator(), now_us())
        except CapBelowIssued as error:
            print(f"gateway: the cap may not go below what is issued or pending: {error}", file=sys.stderr)
            return 1
        finally:
            await store.close()
        print(f"emission cap {text_from_kopecks(previous)} -> {text_from_kopecks(cap)} RUB")
        return 0

    return asyncio.run(run())


def _cb_set_limit(config: Config, args: argparse.Namespace) -> int:
    if not is_bic(args.bic):
        raise UsageError(f"{args.bic!r} is not a BIC (ISO 9362)")
    bic = canonical_bic(args.bic)
    limit = None if args.amount_rub.lower() == "none" else kopecks_from_text(args.amount_rub)
    if limit is not None and limit <= 0:
        raise UsageError("a daily limit must be positive (or `none` to remove it)")

    async def run() -> int:
        store = await open_store(config, upgrade=False)
        try:
            if bic == config.central_bank.bic or bic not in {p.bic for p in await store.participants()}:
                raise UsageError(f"{bic} is not a registered bank")
            previous = await SqlConversions(store.engine).set_daily_limit(bic, limit, _operator(), now_us())
        finally:
            await store.close()
        before = "none" if previous is None else text_from_kopecks(previous)
        after = "none" if limit is None else text_from_kopecks(limit)
        print(f"daily conversion limit of {bic}: {before} -> {after} RUB")
        return 0

    return asyncio.run(run())


def _rtgs_balances(config: Config, args: argparse.Namespace) -> int:
    async def run() -> None:
        store = await open_store(config, upgrade=False)
        try:
            async with open_rtgs(config, store) as rtgs:
                participants = await store.participants()
                for participant in participants:
                    balance = await rtgs.balance(participant.rtgs_account)
                    if balance is None:
                        print(f"{participant.bic}  {participant.rtgs_account}  unknown to the RTGS")
                        continue
                    print(f"{participant.bic}  {participant.rtgs_account}  booked "
                          f"{text_from_kopecks(balance.booked_kopecks):>22} RUB  held "
                          f"{text_from_kopecks(balance.held_kopecks)} RUB")
        finally:
            await store.close()

    asyncio.run(run())
    return 0


def _rtgs_statement(config: Config, args: argparse.Namespace) -> int:
    from_date = args.from_date or _today()
    to_date = args.to_date or from_date

    async def run() -> int:
        store = await open_store(config, upgrade=False)
        try:
            async with open_rtgs(config, store) as rtgs:
                statement = await rtgs.statement(args.account, from_date, to_date)
        finally:
            await store.close()
        if statement is None:
            print(f"gateway: the RTGS does not know account {args.account}", file=sys.stderr)
            return 1
        print(f"{statement.account}  {statement.from_date} .. {statement.to_date}")
        print(f"  opening {text_from_kopecks(statement.opening_kopecks):>22} RUB")
        for entry in statement.entries:
            print(f"  {entry.booked_at.isoformat()}  {entry.direction.value}  {text_from_kopecks(entry.kopecks):>22} RUB"
                  f"  {entry.counter_account}  {entry.reference}  ({entry.request_id})")
        print(f"  closing {text_from_kopecks(statement.closing_kopecks):>22} RUB")
        return 0

    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
