"""`gateway validate`: one line per file, its message version and `valid`, or each rejection with its code, layer
and element path. A directory stands for every message file (*.xml) in it and in its subfolders, in name order: a
folder of messages also holds READMEs and manifests, which are not messages. A file named on its own is validated
whatever its name."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from gateway import bounds
from gateway.cli.usage import UsageError
from gateway.config import Config
from gateway.domain.calendar import business_zone
from gateway.messages.intake import Accepted, check_iso, intake
from gateway.messages.rules import RuleContext
from gateway.registry import account_code


def validate(config: Config, args: argparse.Namespace) -> int:
    """The gateway profile judges parties against the config's participants, as no database is needed to validate,
    and dates against the business date (Moscow time) unless --business-date names another. With --fill, the
    files' placeholders are filled first, in one run for all of them."""
    from gateway.replay.fill import Filler, PlaceholderError

    filler = Filler.starting_now() if args.fill else None
    context = RuleContext(
        today=args.business_date or (filler.today if filler is not None else datetime.now(business_zone).date()),
        central_bank_bic=config.central_bank.bic,
        participants=frozenset(p.bic for p in config.participants),
        suspended_participants=frozenset(),
        settlement_days_ahead_max=bounds.settlement_days_ahead_max,
        authenticated_bic=None,
        rtgs_accounts={p.bic: p.rtgs_account for p in config.participants},
        wallets=frozenset(account_code(p.bic, wallet) for p in config.participants for wallet in p.wallets),
    )
    all_valid = True
    for path in _files(args.files):
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


def _files(paths: list[Path]) -> Iterator[Path]:
    """The files named, a directory's *.xml files (recursively, hidden ones skipped) in name order in its place; a
    directory without any is a UsageError, not a silent success."""
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*.xml")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise UsageError(f"no message files (*.xml) in {path}")
            yield from found
        else:
            yield path
