"""`gateway replay`: send a folder of message files to a gateway, collect what comes back, and record it as goldens
or compare it with recorded ones.

In order: plan the files (plan.py), fill their placeholders with one Filler and read who sends each, check the
identities and the golden folder, take each involved bank's mailbox cursor, send the steps (each step's files up
to --concurrency at once), wait until every involved mailbox has been quiet for a while (bounded), attribute each
new mailbox message to the file it relates to, canonicalise, check the manifest's expectations, compare with the
goldens, record, and print a difference per mismatch and a summary table.

Exit status: 0 everything matched, 1 a mismatch (goldens or the manifest's expectations), 2 the replay could not
run (bad input, an unreachable gateway, a certificate refused, a golden folder that does not fit the files); in
that case nothing is recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from lxml import etree
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from gateway import bounds
from gateway.config import canonical_bic, is_bic
from gateway.replay.canonical import Canonicaliser
from gateway.replay.client import (
    Answer,
    GatewayClient,
    Identities,
    IdentityError,
    MailboxMessage,
    TransportError,
)
from gateway.replay.envelopes import NotAMessage, read_message, rewrap
from gateway.replay.fill import Filler, PlaceholderError
from gateway.replay.goldens import (
    Difference,
    GoldenError,
    compare,
    golden_files,
    golden_tree,
    read_golden,
    reread,
    serialise,
    unattributed_name,
    write_goldens,
)
from gateway.replay.plan import (
    Entry,
    Expectation,
    Plan,
    PlanError,
    golden_name,
    make_plan,
)

T = TypeVar("T")
exit_matched, exit_mismatch, exit_could_not_run = 0, 1, 2


class CannotRun(Exception):
    """The replay stops before recording anything: the text names the file or bank and the problem."""


@dataclass(frozen=True)
class Options:
    folder: Path
    url: str
    identities: Identities
    expect_dir: Path | None
    record_dir: Path | None
    concurrency: int


@dataclass
class Prepared:
    """One file, filled and read, ready to send."""

    entry: Entry
    data: bytes
    sender: str  # the bank whose certificate sends it
    key: tuple[str, str] | None  # (AppHdr/Fr, BizMsgIdr): what the gateway's answers relate to
    bics: frozenset[str]
    to_bic: str | None


@dataclass
class Outcome:
    """What one file got, and how it compares."""

    prepared: Prepared
    answer: Answer
    mailbox: list[MailboxMessage] = field(default_factory=list)
    facts: tuple[str, str, str] = ("", "", "")  # answer message, status, reasons
    expectation_failures: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)


def replay(options: Options, console: Console, errors: Console) -> int:
    return asyncio.run(run_replay(options, console, errors))


async def run_replay(options: Options, console: Console, errors: Console) -> int:
    """The replay, in a running event loop (tests run it beside the gateway they start); returns the exit status."""
    try:
        return await _replay(options, console, errors)
    except (CannotRun, PlanError, GoldenError, IdentityError) as error:
        errors.print(f"gateway replay: {escape(str(error))}", highlight=False)
        if options.record_dir is not None:
            errors.print("gateway replay: nothing recorded", highlight=False)
        return exit_could_not_run


async def _replay(options: Options, console: Console, errors: Console) -> int:
    plan = make_plan(options.folder)
    options.identities.check()
    filler = Filler.starting_now()
    prepared = [prepare(entry, filler, options.identities) for entry in plan.entries]
    expected = _expected_goldens(options.expect_dir, plan) if options.expect_dir is not None else None
    banks = _involved_banks(prepared, options.identities)
    exchange = await _exchange(options, plan, prepared, banks, errors)
    outcomes = [Outcome(p, exchange.answers[p.entry.relative]) for p in prepared]
    unattributed = _attribute(outcomes, exchange.mailboxes)
    goldens = _goldens(outcomes, unattributed, Canonicaliser(filler.values(), filler.today))
    for outcome in outcomes:
        outcome.facts = answer_facts(outcome.answer)
        outcome.expectation_failures = check_expectation(outcome.prepared.entry.expect, outcome.answer,
                                                          outcome.facts)
    unattributed_differences: list[Difference] = []
    if expected is not None:
        for outcome in outcomes:
            name = golden_name(outcome.prepared.entry.relative)
            outcome.differences = compare(expected[name], reread(goldens[name]))
        unattributed_differences = _compare_unattributed(
            expected.get(unattributed_name), goldens.get(unattributed_name)
        )
    recorded = False
    if options.record_dir is not None:
        failed = sum(1 for o in outcomes if o.expectation_failures)
        if failed:
            errors.print(f"gateway replay: not recorded: {failed} file(s) did not answer as the manifest expects"
                         " (below)", highlight=False)
        else:
            write_goldens(options.record_dir, {name: serialise(tree) for name, tree in goldens.items()})
            recorded = True
    _print_differences(console, outcomes, unattributed_differences, options.expect_dir)
    _print_summary(console, plan, outcomes, expected is not None, recorded)
    _print_throughput(console, len(outcomes), len(banks), options.concurrency, exchange)
    mismatched = any(o.differences or o.expectation_failures for o in outcomes) or bool(unattributed_differences)
    if recorded:
        console.print(f"recorded {len(goldens)} golden files in {options.record_dir}", highlight=False)
    if expected is not None and not mismatched:
        console.print(f"every answer matched the goldens in {options.expect_dir}", highlight=False)
    return exit_mismatch if mismatched else exit_matched


@dataclass(frozen=True)
class Exchange:
    """What the gateway gave back: each file's HTTP answer, each bank's new mailbox messages, and how long it took."""

    answers: dict[str, Answer]
    mailboxes: dict[str, list[MailboxMessage]]
    quiet: bool  # False: the mailboxes were still getting messages when the longest wait was over
    sent_seconds: float
    waited_seconds: float


async def _exchange(
    options: Options, plan: Plan, prepared: list[Prepared], banks: list[str], errors: Console
) -> Exchange:
    by_entry = {p.entry.relative: p for p in prepared}
    connections = max(options.concurrency, len(banks)) + 2
    async with GatewayClient(options.url, options.identities, connections) as client:
        cursors = {}
        for bank in banks:
            cursors[bank] = await _asked(client.cursor(bank), f"reading {bank}'s mailbox before the run")
        started = time.perf_counter()
        answers = await _send(client, plan, by_entry, options.concurrency, errors)
        sent = time.perf_counter()
        with errors.status("waiting for the mailboxes to go quiet", spinner="dots"):
            mailboxes, quiet = await _collect(client, cursors)
        return Exchange(answers, mailboxes, quiet, sent - started, time.perf_counter() - sent)


def _goldens(
    outcomes: list[Outcome], unattributed: list[MailboxMessage], canonical: Canonicaliser
) -> dict[str, etree._Element]:
    """Every golden of the run, canonicalised in plan order: the order its numbered tokens are given in."""
    goldens = {
        golden_name(o.prepared.entry.relative): golden_tree(
            canonical, o.prepared.entry.relative, o.prepared.sender, o.answer, o.mailbox
        )
        for o in outcomes
    }
    if unattributed:
        goldens[unattributed_name] = golden_tree(canonical, "(no file)", None, None, unattributed)
    return goldens


# --- before sending ----------------------------------------------------------------------------------------------


def prepare(entry: Entry, filler: Filler, identities: Identities) -> Prepared:
    """One file read, filled by `filler` and put in its envelope, with the bank that sends it (`gateway replay`, and
    each step of `gateway demo`). Raises CannotRun."""
    try:
        data = entry.path.read_bytes()
    except OSError as error:
        raise CannotRun(f"{entry.relative}: unreadable: {error.strerror}") from None
    if len(data) > bounds.message_bytes_max:
        raise CannotRun(f"{entry.relative}: {len(data)} bytes, more than a message may hold"
                        f" ({bounds.message_bytes_max})")
    if entry.raw:
        assert entry.sent_as is not None, "plan.py requires `as` of a raw file"
        sender = identities.sender_for(entry.sent_as)
        assert sender is not None
        _require_identity(entry, sender, identities)
        try:  # filled when it is text; sent as it is when it is not even that
            data = filler.fill(data.decode("utf-8"), entry.relative).encode("utf-8")
        except UnicodeDecodeError:
            pass
        except PlaceholderError as error:
            raise CannotRun(str(error)) from None
        return Prepared(entry, data, sender, None, frozenset({sender}), None)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CannotRun(f"{entry.relative}: not UTF-8 text (byte {error.start}); a file the gateway should"
                        " receive as it is belongs in a manifest with raw = true") from None
    try:
        filled = filler.fill(text, entry.relative).encode("utf-8")
        if entry.envelope is not None:
            filled = rewrap(filled, entry.envelope)
        message = read_message(filled)
    except PlaceholderError as error:
        raise CannotRun(str(error)) from None
    except NotAMessage as error:
        raise CannotRun(f"{entry.relative}: not a message to send: {error}") from None
    named = message.sender_bic
    if named is not None and not is_bic(named):
        named = None
    sender = identities.sender_for(entry.sent_as or named)
    if sender is None:
        raise CannotRun(f"{entry.relative}: its AppHdr names no sender (Fr/FIId/FinInstnId/BICFI): say which bank"
                        " sends it with `as` in a manifest, or --as")
    _require_identity(entry, sender, identities)
    key = None
    if named is not None and message.business_message_id is not None:
        key = (canonical_bic(named), message.business_message_id)
    to_text = message.header_text("To", "FIId", "FinInstnId", "BICFI")
    to_bic = canonical_bic(to_text.strip()) if to_text is not None and is_bic(to_text.strip()) else None
    bics = frozenset(canonical_bic(bic) for bic in message.bics if is_bic(bic))
    try:
        filled = identities.signed(filled, sender)
    except IdentityError as error:
        raise CannotRun(f"{entry.relative}: {error}") from None
    return Prepared(entry, filled, sender, key, bics | {sender}, to_bic)


def _require_identity(entry: Entry, sender: str, identities: Identities) -> None:
    if not identities.available(sender):
        raise CannotRun(f"{entry.relative}: to be sent as {sender}, but {identities.missing(sender)}")


def _involved_banks(prepared: Sequence[Prepared], identities: Identities) -> list[str]:
    """The banks whose mailboxes are read: every bank the files send as or name, that the replay can act as,
    except the gateway itself (the bank the AppHdrs address)."""
    senders = {p.sender for p in prepared}
    gateway = {p.to_bic for p in prepared if p.to_bic is not None} - senders
    named = set().union(*(p.bics for p in prepared))
    return sorted(bic for bic in (senders | named) - gateway if identities.available(bic))


def _expected_goldens(folder: Path, plan: Plan) -> dict[str, etree._Element]:
    if not folder.is_dir():
        raise GoldenError(f"{folder}: no golden folder there (record one with --record {folder})")
    names = {golden_name(entry.relative): entry.relative for entry in plan.entries}
    stray = sorted(golden_files(folder) - set(names) - {unattributed_name})
    if stray:
        raise GoldenError(f"{folder}/{stray[0]}: a golden for no file of {plan.folder}"
                          f"{f' (and {len(stray) - 1} more)' if len(stray) > 1 else ''}: the goldens are of another"
                          " set of files; record them again with --record")
    goldens = {name: read_golden(folder / name, relative) for name, relative in names.items()}
    if (folder / unattributed_name).is_file():
        goldens[unattributed_name] = read_golden(folder / unattributed_name, "(no file)")
    return goldens


# --- sending and collecting --------------------------------------------------------------------------------------


async def _asked(call: Awaitable[T], what: str) -> T:
    """The result of a request to the gateway; a failure becomes CannotRun saying what was being done."""
    try:
        return await call
    except (TransportError, IdentityError) as error:
        raise CannotRun(f"{what}: {error}") from None


async def _send(
    client: GatewayClient, plan: Plan, by_entry: dict[str, Prepared], concurrency: int, errors: Console
) -> dict[str, Answer]:
    answers: dict[str, Answer] = {}
    gate = asyncio.Semaphore(concurrency)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=False) as progress:
        task = progress.add_task("sending", total=len(plan.entries))

        async def send(entry: Entry) -> None:
            prepared = by_entry[entry.relative]
            async with gate:
                answers[entry.relative] = await _asked(
                    client.post(prepared.data, prepared.sender), f"{entry.relative}, sent as {prepared.sender}")
            progress.advance(task)

        for number, step in enumerate(plan.steps, start=1):
            progress.update(task, description=f"step {number}/{len(plan.steps)}")
            results = await asyncio.gather(*(send(entry) for entry in step), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result
    return answers


async def _collect(
    client: GatewayClient, cursors: dict[str, int]
) -> tuple[dict[str, list[MailboxMessage]], bool]:
    """Every message after each cursor, read until no mailbox has had anything new for a while (or the longest
    wait is over: then False)."""
    loop = asyncio.get_running_loop()
    collected: dict[str, list[MailboxMessage]] = {bank: [] for bank in cursors}
    after = dict(cursors)
    started = last_new = loop.time()
    total = 0
    while True:
        for bank in cursors:
            while True:
                page = client.mailbox(bank, after[bank], bounds.mailbox_page_max)
                messages, next_after = await _asked(page, f"reading {bank}'s mailbox")
                if not messages:
                    break
                collected[bank] += messages
                after[bank] = next_after
                total += len(messages)
                last_new = loop.time()
                if total > bounds.replay_mailbox_messages_max:
                    raise CannotRun(f"more than {bounds.replay_mailbox_messages_max} mailbox messages came: is"
                                    " someone else using this gateway?")
        now = loop.time()
        if (now - last_new) * 1000 >= bounds.replay_mailbox_quiet_ms:
            return collected, True
        if (now - started) * 1000 >= bounds.replay_mailbox_wait_ms:
            return collected, False
        await asyncio.sleep(bounds.replay_mailbox_poll_ms / 1000)


def _attribute(outcomes: list[Outcome], mailboxes: dict[str, list[MailboxMessage]]) -> list[MailboxMessage]:
    """Each mailbox message to the file it belongs to: the copy of a file's HTTP answer to that file; any other
    message to the first file whose (sender, BizMsgIdr) its AppHdr/Rltd names. The rest is returned."""
    by_answer: dict[str, Outcome] = {}
    by_key: dict[tuple[str, str], Outcome] = {}
    for outcome in outcomes:
        identifier = _own_id(outcome.answer.body)
        if identifier is not None:
            by_answer.setdefault(identifier, outcome)
        if outcome.prepared.key is not None:
            by_key.setdefault(outcome.prepared.key, outcome)
    unattributed = []
    for messages in mailboxes.values():
        for message in messages:
            identifier, related = _references(message.payload)
            owner = by_answer.get(identifier or "") or (by_key.get(related) if related is not None else None)
            if owner is None:
                unattributed.append(message)
            else:
                owner.mailbox.append(message)
    return unattributed


def _own_id(payload: bytes) -> str | None:
    return _references(payload)[0]


def _references(payload: bytes) -> tuple[str | None, tuple[str, str] | None]:
    """A message's own BizMsgIdr, and the (Fr, BizMsgIdr) of the message its AppHdr/Rltd names."""
    if not payload:
        return None, None
    try:
        message = read_message(payload)
    except NotAMessage:
        return None, None
    related_from = message.header_text("Rltd", "Fr", "FIId", "FinInstnId", "BICFI")
    related_id = message.header_text("Rltd", "BizMsgIdr")
    related = None
    if related_from is not None and related_id is not None and is_bic(related_from.strip()):
        related = (canonical_bic(related_from.strip()), related_id)
    return message.business_message_id, related


# --- what an answer says -----------------------------------------------------------------------------------------


def answer_facts(answer: Answer) -> tuple[str, str, str]:
    """(message, status, reasons) of an answer, as the summary shows them and `expect` checks them."""
    if not answer.body:
        return "", "", ""
    try:
        message = read_message(answer.body)
    except NotAMessage:
        return "(not XML)", "", ""
    document = message.document
    name = message.message_definition or ""
    if document is None:
        return name, "", ""

    def texts(*steps: str) -> list[str]:
        namespace = etree.QName(document).namespace
        path = "/".join(f"{{{namespace}}}{step}" for step in steps)
        return [(e.text or "").strip() for e in document.iterfind(f".//{path}")]

    status, reasons = "", []
    if name.startswith("pacs.002"):
        group = texts("OrgnlGrpInfAndSts", "GrpSts")
        statuses = sorted(set(texts("TxInfAndSts", "TxSts")))
        status = group[0] if group else statuses[0] if len(statuses) == 1 else "/".join(statuses)
        reasons = texts("StsRsnInf", "Rsn", "Cd")
    elif name.startswith("camt.029"):
        status = next(iter(texts("Sts", "Conf")), "")
        reasons = texts("CxlStsRsnInf", "Rsn", "Cd")
    elif name.startswith("camt.025"):
        codes = texts("ReqHdlg", "StsCd")
        status, reasons = (codes[0], codes[1:]) if codes else ("", [])
    elif name.startswith("admi.002"):
        status, reasons = "RJCT", texts("Rsn", "RjctgPtyRsn")
    return name, status, " ".join(dict.fromkeys(reasons))


def check_expectation(expect: Expectation | None, answer: Answer, facts: tuple[str, str, str]) -> list[str]:
    """How an answer differs from what a manifest's `expect` says, one sentence per difference."""
    if expect is None:
        return []
    message, status, reasons = facts
    failures = []
    if expect.http_status is not None and expect.http_status != answer.status:
        failures.append(f"HTTP {answer.status}, expected {expect.http_status}")
    if expect.answer is not None and expect.answer != message:
        failures.append(f"answer {message or '(none)'}, expected {expect.answer}")
    if expect.status is not None and expect.status != status:
        failures.append(f"status {status or '(none)'}, expected {expect.status}")
    if expect.reasons is not None and " ".join(expect.reasons) != reasons:
        failures.append(f"reasons [{reasons}], expected [{' '.join(expect.reasons)}]")
    return failures


def _compare_unattributed(expected: etree._Element | None, got: etree._Element | None) -> list[Difference]:
    """Mailbox messages no file relates to (e.g. another tester's traffic) are a difference like any other."""
    if expected is not None and got is not None:
        return compare(expected, reread(got))
    if got is not None:
        return [Difference("mailbox", "", "(none)", f"{len(got)} message(s) no file relates to")]
    if expected is not None:
        return [Difference("mailbox", "", f"{len(expected)} message(s) no file relates to", "(none)")]
    return []


# --- printing ----------------------------------------------------------------------------------------------------


def _print_differences(
    console: Console, outcomes: list[Outcome], unattributed: list[Difference], expect_dir: Path | None
) -> None:
    for outcome in outcomes:
        relative = outcome.prepared.entry.relative
        for failure in outcome.expectation_failures:
            console.print(f"[bold red]{escape(relative)}[/]: {escape(failure)} (the manifest's expect)")
        if outcome.differences:
            golden = f"{expect_dir}/{golden_name(relative)}"
            _print_file_differences(console, relative, golden, outcome.differences)
    if unattributed:
        _print_file_differences(console, "mailbox messages no file relates to", f"{expect_dir}/{unattributed_name}",
                                unattributed)


def _print_file_differences(console: Console, what: str, golden: str, differences: list[Difference]) -> None:
    count = len(differences)
    console.print(f"[bold red]{escape(what)}[/]: {count} difference{'s' * (count != 1)} from {escape(golden)}")
    for difference in differences[:bounds.replay_differences_shown_max]:
        console.print(f"  {escape(difference.section)} [bold]{escape(difference.path or '/')}[/]", highlight=False)
        console.print(f"      expected {escape(difference.expected)}", highlight=False)
        console.print(f"      got      {escape(difference.got)}", highlight=False)
    if count > bounds.replay_differences_shown_max:
        console.print(f"  ... and {count - bounds.replay_differences_shown_max} more", highlight=False)


def _print_throughput(console: Console, count: int, banks: int, concurrency: int, exchange: Exchange) -> None:
    rate = count / max(exchange.sent_seconds, 1e-6)
    late = "" if exchange.quiet else (f" (still not quiet after {bounds.replay_mailbox_wait_ms} ms:"
                                      " compared what had come)")
    console.print(
        f"sent {count} message{'s' * (count != 1)} in {exchange.sent_seconds:.2f} s: {rate:.1f} messages/s, up to"
        f" {concurrency} at once; mailboxes of {banks} bank{'s' * (banks != 1)} read in"
        f" {exchange.waited_seconds:.1f} s{late}",
        highlight=False,
    )


def _print_summary(console: Console, plan: Plan, outcomes: list[Outcome], compared: bool, recorded: bool) -> None:
    table = Table(title=plan.title or str(plan.folder), title_justify="left")
    for column in ("#", "file", "as", "HTTP", "answer", "status", "reasons", "mailbox", "result"):
        table.add_column(column, justify="right" if column in ("#", "HTTP", "mailbox") else "left")
    number = 0
    for step_number, step in enumerate(plan.steps, start=1):
        for entry in step:
            number += 1
            outcome = next(o for o in outcomes if o.prepared.entry is entry)
            message, status, reasons = outcome.facts
            if outcome.expectation_failures or outcome.differences:
                problems = len(outcome.expectation_failures) + len(outcome.differences)
                result = f"[bold red]MISMATCH ({problems})[/]"
            elif compared:
                result = "[green]matched[/]"
            elif recorded:
                result = "recorded"
            else:
                result = "sent"
            table.add_row(
                str(number) if plan.from_manifest is False else f"{step_number}.{step.index(entry) + 1}",
                escape(entry.relative), outcome.prepared.sender, str(outcome.answer.status), message, status,
                reasons, str(len(outcome.mailbox)), result,
            )
    console.print(table)
