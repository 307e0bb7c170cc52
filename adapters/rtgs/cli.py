"""`gateway rtgs-sim`: the embedded RTGS simulator served over ISO 20022/HTTP (docs/rtgs-protocol.md), for a gateway
configured with rtgs.adapter = "http" to talk to.

  gateway rtgs-sim [--host 127.0.0.1] [--port 9443] [--database URL] [--tls-dir DIR]

gateway/cli/main.py adds the subcommand with add_rtgs_sim_command (the handler is named, imported when it runs). The module runs on its own too, with the same
options and --config, for operators and for tests: python -m gateway_adapters.rtgs.cli --config FILE [options].
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from gateway.config import Config, ConfigError, load_config

default_host = "127.0.0.1"
default_port = 9443
default_database_url = "sqlite+aiosqlite:///var/rtgs-sim.sqlite3"  # never the gateway's own database by default


def add_rtgs_sim_command(commands: Any) -> argparse.ArgumentParser:
    """Add `rtgs-sim` to the subcommands of the `gateway` parser (argparse's _SubParsersAction)."""
    command: argparse.ArgumentParser = commands.add_parser(
        "rtgs-sim", help="serve the RTGS simulator over ISO 20022/HTTP (docs/rtgs-protocol.md)"
    )
    _add_options(command)
    command.set_defaults(handler="gateway_adapters.rtgs.cli:rtgs_sim")
    return command


def rtgs_sim(config: Config, args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT. Exit status 0 after a clean stop, 2 when it cannot start as asked."""
    # Imported here, not at the top: `gateway --help` registers this command without loading the server.
    from gateway_adapters.rtgs.http_server import (
        RtgsSimulatorUsageError,
        run_rtgs_simulator,
    )

    try:
        asyncio.run(run_rtgs_simulator(config, args.host, args.port, args.database, args.tls_dir))
    except RtgsSimulatorUsageError as error:
        print(f"gateway rtgs-sim: {error}", file=sys.stderr)
        return 2
    return 0


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=default_host, help=f"listen address (default: {default_host})")
    parser.add_argument("--port", type=int, default=default_port, help=f"listen port (default: {default_port})")
    parser.add_argument("--database", metavar="URL",
                        help=f"the simulator's own database (default: {default_database_url}; never the gateway's)")
    parser.add_argument("--tls-dir", type=Path, metavar="DIR",
                        help="server.pem, server.key and the client CA ca.pem: TLS with client certificates, which"
                        " must name the central bank's BIC (default: plain HTTP, loopback addresses only)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway_adapters.rtgs.cli", description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)  # fmt: skip
    parser.add_argument("--config", type=Path, help="TOML config file (default: $GATEWAY_CONFIG, else the demo)")
    _add_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"gateway rtgs-sim: {error}", file=sys.stderr)
        return 2
    try:
        return rtgs_sim(config, args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
