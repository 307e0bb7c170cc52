"""The `gateway` command.

  gateway serve                          run the gateway (the demo config when no config is found)
  gateway demo [--port P] [--no-serve] [--fresh]   a scripted business day on the embedded demo, then serve it
  gateway db upgrade | status            migrate the database / show its schema revision
  gateway keys init                      create the central bank's Ed25519 chain-signing key
  gateway certs init DIR [--host H]... [--force]   a development CA, server and participant certificates for mTLS
  gateway certs issue DIR BIC [--force]  a client certificate for a participant added later, from DIR's CA
  gateway participants list | add | suspend | resume
  gateway ledger verify | status         recompute the whole ledger from the raw tables / show supply and reserve
  gateway validate [--profile iso|gateway] [--fill] FILE|DIR...   check ISO 20022 message files, layer by layer
  gateway example NAME [--envelope KIND] | --list    print a shipped example message, placeholders filled
  gateway replay DIR --url URL [--certs DIR] [--expect DIR] [--record DIR]   send message files, check the answers
  gateway cb show | set-cap AMOUNT | set-limit BIC AMOUNT|none   the central bank's emission controls
  gateway day close [--date D] | status [--date D] [--last N]   business days: close one, show where they stand
  gateway reconcile [--date D] [--format text|json|csv|html] [--output F]   RTGS, ledger and journal of a closed day
  gateway rtgs balances | statement ACCOUNT [--from D] [--to D]  the fiat side, as config.rtgs names it
  gateway rtgs-sim [--host H] [--port P] [--database URL] [--tls-dir DIR]   a standalone RTGS simulator server

The config is found in this order: --config FILE, $GATEWAY_CONFIG, ./gateway.toml, else the packaged demo config
(its database and keys under ./var of the working directory).

Exit status: 0 done, 1 the command ran and found a problem (e.g. a broken chain, an open reconciliation break), 2 bad
usage or configuration, 3 a system the command needs (the RTGS, the database) did not answer: nothing was changed.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from datetime import date
from pathlib import Path

from gateway_adapters.rtgs.cli import add_rtgs_sim_command

from gateway.cli.usage import UsageError
from gateway.config import ConfigError, load_config
from gateway.replay.commands import add_replay_commands

log = logging.getLogger("gateway")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # it narrates every migration context at INFO
    try:
        config = load_config(args.config)
        module_name, _, function_name = args.handler.partition(":")
        # Each command's module is imported only when it runs: `gateway --help` needs none of them.
        handler = getattr(importlib.import_module(module_name), function_name)
        return int(handler(config, args))
    except (ConfigError, UsageError) as error:
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if isinstance(error, _operator_errors()):
            print(f"gateway: {error}", file=sys.stderr)
            return 2
        raise


def _operator_errors() -> tuple[type[Exception], ...]:
    """What a command can meet in a misconfigured installation, said in one line rather than a traceback. Imported
    only when a command failed, so that `gateway --help` loads none of it."""
    from gateway.domain.money import AmountError
    from gateway.ledger.ports import SchemaOutOfDate
    from gateway.ledger.signing import KeyFileError

    return (AmountError, KeyFileError, SchemaOutOfDate)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--config", type=Path,
                        help="TOML config file (default: $GATEWAY_CONFIG, else ./gateway.toml, else the demo)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    operate = "gateway.cli.operate"

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", help="listen address (default: http.host from the config)")
    serve.add_argument("--port", type=int, help="listen port (default: http.port from the config)")
    serve.add_argument("--tls-dir", type=Path,
                       help="server.pem, server.key and the client CA ca.pem (default: http.tls_dir from the config)")
    serve.add_argument("--plain-http", action="store_true",
                       help="DEVELOPMENT ONLY: no TLS, no client certificates, loopback addresses only")
    serve.add_argument("--workers", type=int,
                       help="serve from this many processes sharing the port (PostgreSQL only; default: one per CPU"
                            " core on PostgreSQL, 1 on SQLite)")
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # set on the extra workers
    serve.set_defaults(handler="gateway.cli.serve:serve")

    demo = commands.add_parser(
        "demo", help="a business day played by the demo's banks on the embedded demo, then the gateway left serving"
    )
    demo.add_argument("--port", type=int, help="listen port (default: the demo config's, 8443)")
    demo.add_argument("--no-serve", action="store_true", help="play the day, print the summary and exit (CI, scripts)")
    demo.add_argument("--fresh", action="store_true",
                      help="remove ./var first (the demo's ledger, signing key and development PKI): all made anew")
    demo.set_defaults(handler="gateway.cli.demo:demo")

    db = commands.add_parser("db", help="database schema").add_subparsers(required=True, metavar="ACTION")
    db.add_parser("upgrade", help="migrate to the newest schema and load the config's participants").set_defaults(
        handler=f"{operate}:db_upgrade"
    )
    db.add_parser("status", help="show the schema revision").set_defaults(handler=f"{operate}:db_status")

    keys = commands.add_parser("keys", help="central bank signing key").add_subparsers(required=True, metavar="ACTION")
    keys_init = keys.add_parser("init", help="create the Ed25519 key named by central_bank.signing_key_file")
    keys_init.add_argument("--key-file", type=Path, help="write here instead of the configured path")
    keys_init.set_defaults(handler=f"{operate}:keys_init")

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
    certs_init.set_defaults(handler=f"{operate}:certs_init")
    certs_issue = certs.add_parser(
        "issue", help="a client certificate for one registered participant, from the CA that `certs init` wrote"
    )
    certs_issue.add_argument("directory", type=Path, metavar="DIR")
    certs_issue.add_argument("bic", metavar="BIC")
    certs_issue.add_argument("--force", action="store_true", help="replace the participant's files already in DIR")
    certs_issue.set_defaults(handler=f"{operate}:certs_issue")

    participants = commands.add_parser("participants", help="the participants registry").add_subparsers(
        required=True, metavar="ACTION"
    )
    participants.add_parser("list", help="participants, their accounts and balances").set_defaults(
        handler=f"{operate}:participants_list"
    )
    add = participants.add_parser("add", help="register a bank and its wallets")
    add.add_argument("bic")
    add.add_argument("--name", required=True)
    add.add_argument("--rtgs-account", required=True, help="its fiat account at the central bank's RTGS")
    add.add_argument("--clearing-code", help="national clearing code (BIK, 9 digits)")
    add.add_argument("--wallet", action="append", default=[], help="wallet name (repeatable; default: main)")
    add.add_argument("--transfer-max-rub", help="largest single payment, e.g. 1000000.00")
    add.add_argument("--balance-max-rub", help="largest wallet balance, e.g. 50000000.00")
    add.set_defaults(handler=f"{operate}:participants_add")
    for action, active in (("suspend", False), ("resume", True)):
        command = participants.add_parser(
            action, help=f"{action} a bank: its wallets can{'' if active else 'not'} move money"
        )
        command.add_argument("bic")
        command.set_defaults(handler=f"{operate}:participants_set_status", active=active)

    ledger = commands.add_parser("ledger", help="the cryptoruble ledger").add_subparsers(required=True, metavar="ACTION")
    verify = ledger.add_parser("verify", help="recompute every hash, signature and balance from the raw tables")
    verify.add_argument("--public-key", type=Path, action="append",
                        help="the central bank's public key (default: from the key file); repeat it for every key that"
                             " signed the chain, the retired ones of a key rotation too")
    verify.set_defaults(handler=f"{operate}:ledger_verify")
    ledger.add_parser("status", help="chain head, supply, reserve and emission cap").set_defaults(
        handler=f"{operate}:ledger_status"
    )

    cb = commands.add_parser("cb", help="the central bank's emission controls").add_subparsers(
        required=True, metavar="ACTION"
    )
    cb.add_parser("show", help="emission cap, supply, daily conversion limits and their recent changes").set_defaults(
        handler=f"{operate}:cb_show"
    )
    set_cap = cb.add_parser("set-cap", help="set the emission cap (total cryptorouble supply), e.g. 1000000000000.00")
    set_cap.add_argument("amount_rub", metavar="AMOUNT")
    set_cap.set_defaults(handler=f"{operate}:cb_set_cap")
    set_limit = cb.add_parser("set-limit", help="set a bank's daily conversion limit (both directions), or `none`")
    set_limit.add_argument("bic")
    set_limit.add_argument("amount_rub", metavar="AMOUNT|none")
    set_limit.set_defaults(handler=f"{operate}:cb_set_limit")

    day = commands.add_parser("day", help="business days: close one, show where they stand").add_subparsers(
        required=True, metavar="ACTION"
    )
    close = day.add_parser("close", help="close a business day whose cut-off has passed: each wallet's camt.053 to"
                           " its owner")  # fmt: skip
    close.add_argument("--date", type=date.fromisoformat, help="the business day (default: the open one)")
    close.set_defaults(handler="gateway.cli.treasury:day_close")
    day_status = day.add_parser("status", help="the recorded business days, newest first")
    day_status.add_argument("--date", type=date.fromisoformat, help="one business day only")
    day_status.add_argument("--last", type=int, default=10, help="how many days (default: 10)")
    day_status.set_defaults(handler="gateway.cli.treasury:day_status")

    reconcile = commands.add_parser(
        "reconcile", help="three-way reconciliation of a closed business day: RTGS, ledger and message journal"
    )
    reconcile.add_argument("--date", type=date.fromisoformat,
                           help="the closed business day (default: the latest closed one)")
    reconcile.add_argument("--format", choices=("text", "json", "csv", "html"), default="text",
                           help="text (default): a table to read; json, csv: for programs; html: one page")
    reconcile.add_argument("--output", type=Path, metavar="F", help="write the report to F (default: standard output)")
    reconcile.set_defaults(handler="gateway.cli.treasury:reconcile")

    rtgs = commands.add_parser("rtgs", help="the central bank's fiat RTGS, as config.rtgs names it").add_subparsers(
        required=True, metavar="ACTION"
    )
    rtgs.add_parser("balances", help="every registered bank's RTGS account and the reserve account").set_defaults(
        handler=f"{operate}:rtgs_balances"
    )
    statement = rtgs.add_parser("statement", help="an RTGS account's bookings over whole business days")
    statement.add_argument("account")
    statement.add_argument("--from", dest="from_date", type=date.fromisoformat, help="first day (default: today)")
    statement.add_argument("--to", dest="to_date", type=date.fromisoformat, help="last day (default: --from)")
    statement.set_defaults(handler=f"{operate}:rtgs_statement")

    add_rtgs_sim_command(commands)

    validate = commands.add_parser(
        "validate", help="check ISO 20022 message files (any envelope, or a bare Document); a DIR: every file in it"
    )
    validate.add_argument("--profile", choices=("iso", "gateway"), default="gateway",
                          help="iso: the ISO 20022 schema only; gateway (default): every layer, as the gateway would")
    validate.add_argument("--business-date", type=date.fromisoformat, default=None,
                          help="the business date settlement dates are judged against (default: today)")
    validate.add_argument("--fill", action="store_true",
                          help="fill the files' placeholders ({{today}}, {{id:NAME}} ...) first, one run for all files")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE|DIR")
    validate.set_defaults(handler="gateway.cli.validate:validate")
    add_replay_commands(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
