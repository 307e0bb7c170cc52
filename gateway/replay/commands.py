"""`gateway example` and `gateway replay`: their arguments, registered by gateway/cli/main.py. The handlers import
the replay machinery when they run, so that `gateway --help` stays fast."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gateway import bounds

_envelopes = ("gateway", "swift", "busmsg", "saa")  # gateway.replay.envelopes.envelope_kinds, without importing it


def add_replay_commands(commands: Any) -> None:
    example = commands.add_parser(
        "example", help="print a shipped example message with its placeholders filled (--list: their names)"
    )
    example.add_argument("name", nargs="?", metavar="NAME", help="e.g. pacs.008-single, invalid/missing-uetr")
    example.add_argument("--envelope", choices=_envelopes, default=None,
                         help="write it in this envelope (default: as shipped, the gateway's)")
    example.add_argument("--values", type=Path, metavar="FILE",
                         help="keep the placeholders' values in FILE (JSON) and reuse them, dates and times included:"
                              " a pacs.004 printed later then names the UETR of the pacs.008 printed before (delete"
                              " FILE to start afresh)")
    example.add_argument("--list", action="store_true", help="list the examples and what each one shows")
    example.add_argument("--dir", action="store_true", help="print the folder the examples are installed in")
    example.set_defaults(handler="gateway.replay.commands:example_command")

    replay = commands.add_parser(
        "replay", help="send a folder of message files to a gateway; record or compare the answers (goldens)"
    )
    replay.add_argument("folder", type=Path, metavar="DIR",
                        help="message files (any envelope, nested folders), in the order of DIR/replay.toml if"
                             " there is one, else of their paths")
    replay.add_argument("--url", required=True, help="the gateway, e.g. https://127.0.0.1:8443")
    replay.add_argument("--certs", type=Path, metavar="DIR",
                        help="ca.pem and <BIC>.pem, <BIC>.key per bank, as `gateway certs init` writes them; each"
                             " file is sent with the certificate of the bank its AppHdr/Fr names (default:"
                             " var/certs)")
    replay.add_argument("--as", dest="as_bic", metavar="BIC", help="send every file with this bank's certificate")
    replay.add_argument("--cert", type=Path, metavar="FILE", help="send everything with this client certificate")
    replay.add_argument("--key", type=Path, metavar="FILE", help="the key of --cert")
    replay.add_argument("--cacert", type=Path, metavar="FILE",
                        help="the CA the gateway's server certificate is checked against (default: ca.pem in --certs)")
    replay.add_argument("--sign", action="store_true",
                        help="sign each message (AppHdr/Sgntr) with its sender's <BIC>.signing.key and"
                             " <BIC>.signing.pem from the --certs folder: for a bank whose signature_policy is"
                             " required")
    replay.add_argument("--expect", type=Path, metavar="DIR", help="compare with the golden files in DIR")
    replay.add_argument("--record", type=Path, metavar="DIR",
                        help="write golden files to DIR (replacing goldens there)")
    replay.add_argument("--concurrency", type=int, default=1, metavar="N",
                        help=f"send up to N files of a step at once (1..{bounds.replay_concurrency_max}; default 1)")
    replay.set_defaults(handler="gateway.replay.commands:replay_command")


def _width(stream: Any) -> int | None:
    """The terminal's width, or wide enough for the summary table when piped (a CI log, a file): rich would wrap
    it at 80 columns."""
    return None if stream.isatty() else bounds.replay_piped_width_chars


def _fail(text: str) -> int:
    print(f"gateway: {text}", file=sys.stderr)
    return 2


def example_command(config: Any, args: argparse.Namespace) -> int:
    from gateway.replay.envelopes import EnvelopeKind, NotAMessage, rewrap
    from gateway.replay.examples import example_names, example_path, examples_dir
    from gateway.replay.fill import Filler, PlaceholderError

    if args.dir:
        print(examples_dir)
        return 0
    if args.list:
        for name in example_names():
            path = example_path(name)
            assert path is not None
            print(f"{name:<32} {_summary(path)}")
        return 0
    if args.name is None:
        return _fail("example: name an example (gateway example --list shows them)")
    path = example_path(args.name)
    if path is None:
        return _fail(f"example: no example called {args.name!r} (gateway example --list shows them)")
    filler = Filler.starting_now()
    if args.values is not None and args.values.exists():
        try:
            saved = json.loads(args.values.read_text(encoding="utf-8"))
            if not isinstance(saved, dict) or not all(isinstance(v, str) for v in saved.values()):
                raise ValueError("not an object of strings")
        except (OSError, ValueError) as error:
            return _fail(f"example: --values {args.values}: not a values file written by gateway example ({error})")
        filler.restore(saved)
    try:
        data = filler.fill(path.read_text(encoding="utf-8"), args.name).encode("utf-8")
        if args.envelope is not None:
            data = rewrap(data, EnvelopeKind(args.envelope))
    except PlaceholderError as error:
        return _fail(f"example: {error}")
    except NotAMessage as error:
        return _fail(f"example: {args.name} cannot go in another envelope: {error}")
    if args.values is not None:
        try:
            args.values.write_text(json.dumps(filler.values(), indent=2) + "\n", encoding="utf-8")
        except OSError as error:
            return _fail(f"example: cannot write {args.values}: {error.strerror}")
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return 0


def _summary(path: Path) -> str:
    """The first sentence of an example's opening comment (of a mistake: what is wrong)."""
    text = path.read_text(encoding="utf-8")
    start, end = text.find("<!--"), text.find("-->")
    if not text.startswith("<") or start < 0 or end < start:
        return "not XML at all: sent as it is"
    comment = " ".join(text[start + 4 : end].split()).removeprefix("MISTAKE: ")
    sentence = comment.split(". ")[0].split("; ")[0]
    longest = bounds.example_summary_chars_max
    return sentence if len(sentence) <= longest else sentence[: longest - 3] + "..."


def replay_command(config: Any, args: argparse.Namespace) -> int:
    if not 1 <= args.concurrency <= bounds.replay_concurrency_max:
        return _fail(f"replay: --concurrency must be within 1..{bounds.replay_concurrency_max}")
    from rich.console import Console

    from gateway.config import canonical_bic, is_bic
    from gateway.replay.client import Identities
    from gateway.replay.run import Options, replay

    plain = args.url.startswith("http://")
    if (args.cert is None) != (args.key is None):
        return _fail("replay: --cert and --key go together")
    if args.cert is not None:
        if args.certs is not None or args.as_bic is not None:
            return _fail("replay: --cert/--key send as one bank; --certs and --as choose from a folder: not both")
        if args.cacert is None:
            return _fail("replay: --cert needs --cacert, the CA that issued the gateway's server certificate")
        if args.sign:
            return _fail("replay: --sign takes each bank's signing key from a --certs folder, not from --cert")
        identities = Identities(ca_file=args.cacert, forced_files=(args.cert, args.key))
    else:
        certs = args.certs or Path("var/certs")
        if not plain and not certs.is_dir():
            return _fail(f"replay: no certificates folder {certs} (give --certs DIR, or --cert/--key/--cacert)")
        forced = None
        if args.as_bic is not None:
            if not is_bic(args.as_bic):
                return _fail(f"replay: --as {args.as_bic!r} is not a BIC")
            forced = canonical_bic(args.as_bic)
        identities = Identities(ca_file=None if plain else (args.cacert or certs / "ca.pem"), certs_dir=certs,
                                forced_bic=forced, signing_dir=certs if args.sign else None)
    options = Options(
        folder=args.folder,
        url=args.url,
        identities=identities,
        expect_dir=args.expect,
        record_dir=args.record,
        concurrency=args.concurrency,
    )
    output = Console(highlight=False, soft_wrap=True, width=_width(sys.stdout))
    errors = Console(stderr=True, highlight=False, soft_wrap=True, width=_width(sys.stderr))
    return replay(options, output, errors)
