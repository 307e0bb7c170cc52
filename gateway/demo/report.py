"""What `gateway demo` prints: the world it sets up, one line per message of the day, the summary once the day is
closed, and what to try next. Pure printing: the figures are read by gateway.demo.day and handed over as values."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gateway.domain.calendar import instant
from gateway.domain.days import BusinessDay, DayState
from gateway.domain.money import kopecks_per_rouble


def roubles(kopecks: int) -> str:
    """An amount as people read it: 1234567 -> '12,345.67'."""
    whole, fraction = divmod(abs(kopecks), kopecks_per_rouble)
    return f"{'-' if kopecks < 0 else ''}{whole:,}.{fraction:02d}"


def short_name(message_definition: str) -> str:
    """pacs.008.001.08 -> pacs.008: the versions are in the docs, a newcomer reads the kind."""
    return ".".join(message_definition.split(".")[:2])


@dataclass(frozen=True, slots=True)
class WalletFigure:
    owner_bic: str
    code: str
    kopecks: int


@dataclass(frozen=True, slots=True)
class BankFigure:
    bic: str
    name: str
    role: str
    rtgs_account: str
    rtgs_kopecks: int | None  # None: the RTGS does not know the account
    wallets: tuple[WalletFigure, ...]


@dataclass(frozen=True, slots=True)
class Figures:
    """The ledger and the RTGS as the central bank sees them at one moment."""

    banks: tuple[BankFigure, ...]  # the central bank first
    supply_kopecks: int
    reserve_kopecks: int  # the ledger's mirror of the fiat reserve
    fiat_reserve_kopecks: int  # the reserve account's booked balance at the RTGS
    reserve_ok: bool  # supply = fiat in the reserve account, conversions between their legs counted
    emission_cap_kopecks: int
    chain_seq: int


@dataclass(frozen=True, slots=True)
class Line:
    """One message of the day and its answer."""

    at_us: int
    sender_name: str
    sent: str  # the message sent, e.g. pacs.008.001.08
    what: str
    http_status: int
    answer: str  # the answer's message, "" when the answer has no body
    status: str
    reasons: str
    words: str | None  # the gateway's own words for a refusal (AddtlInf, RsnDesc)
    failures: tuple[str, ...]  # how the answer differs from the one expected


def world(console: Console, figures: Figures, day: date, starts_at: str, cutoff_text: str, today: date) -> None:
    table = Table(title="The demo's world (gateway/demo.toml): the central bank and three banks", title_justify="left")
    for column in ("participant", "BIC", "RTGS account (fiat)", "fiat roubles", "cryptorouble wallets"):
        table.add_column(column, justify="right" if column == "fiat roubles" else "left")
    for bank in figures.banks:
        wallets = ", ".join(f"{w.code} {roubles(w.kopecks)}" for w in bank.wallets) or "-"
        if bank.role != "bank":
            wallets = "issues cryptoroubles; holds the fiat reserve against them"
        fiat = "unknown" if bank.rtgs_kopecks is None else roubles(bank.rtgs_kopecks)
        table.add_row(escape(bank.name), bank.bic, bank.rtgs_account, fiat, escape(wallets))
    console.print(table)
    console.print(
        f"Emission cap {roubles(figures.emission_cap_kopecks)} RUB; supply {roubles(figures.supply_kopecks)}. "
        f"The demo plays the business day {day} (the one before today, {today}) on a clock of its own from "
        f"{starts_at} Moscow time, then closes it: its cut-off, {cutoff_text}, has passed. Today stays open for"
        " what you send next.",
        highlight=False,
    )


def day_table(day: date) -> Table:
    table = Table(title=f"The business day {day}, message by message (over HTTPS, each bank with its certificate)",
                  title_justify="left")
    for column in ("time", "from", "sends", "what", "answer", "status", "reason"):
        table.add_column(column, no_wrap=column in ("time", "sends", "answer", "status"))
    return table


def add_line(table: Table, line: Line) -> None:
    answer = short_name(line.answer) if line.answer else f"HTTP {line.http_status}"
    if line.answer and line.http_status != 200:
        answer += f" (HTTP {line.http_status})"
    status = line.status or ("accepted" if line.http_status == 202 else "")
    colour = "red" if status == "RJCT" else "green" if status in ("ACSC", "accepted") else "yellow"
    reason = line.reasons
    if line.words:
        reason = f"{reason}: {line.words}" if reason else line.words
    what = escape(line.what)
    if line.failures:
        what += "\n[bold red]NOT AS SCRIPTED: " + escape("; ".join(line.failures)) + "[/]"
    table.add_row(
        instant(line.at_us).strftime("%H:%M:%S"), escape(line.sender_name), short_name(line.sent), what,
        answer, f"[{colour}]{escape(status)}[/]" if status else "", escape(reason),
    )


def closed(console: Console, day: BusinessDay, statements: int) -> None:
    assert day.state is DayState.CLOSED and day.last_seq is not None
    console.print(
        f"Closed the business day {day.business_date} (its cut-off {instant(day.cutoff_at_us):%Y-%m-%d %H:%M} Moscow"
        f" time has passed): postings #{day.first_seq + 1}..#{day.last_seq}, closed by {day.closed_by}; "
        f"{statements} end-of-day statements (camt.053), one per wallet, are in the banks' mailboxes.",
        highlight=False,
    )


def summary(
    console: Console, figures: Figures, lines: list[Line], mailboxes: dict[str, Counter[str]],
    days: list[BusinessDay], names: dict[str, str],
) -> None:
    balances = Table(title="Balances after the day", title_justify="left")
    for column in ("bank", "wallet", "cryptoroubles", "RTGS account", "fiat roubles"):
        balances.add_column(column, justify="right" if column in ("cryptoroubles", "fiat roubles") else "left")
    for bank in figures.banks:
        fiat = "unknown" if bank.rtgs_kopecks is None else roubles(bank.rtgs_kopecks)
        if not bank.wallets:
            balances.add_row(escape(bank.name), "(reserve)", "", bank.rtgs_account, fiat)
        for number, wallet in enumerate(bank.wallets):
            first = number == 0
            balances.add_row(escape(bank.name) if first else "", wallet.code, roubles(wallet.kopecks),
                             bank.rtgs_account if first else "", fiat if first else "")
    console.print(balances)
    balanced = figures.reserve_ok and figures.supply_kopecks == figures.reserve_kopecks
    verdict = "[green]=[/]" if balanced else "[bold red]!=[/]"
    console.print(
        f"supply {roubles(figures.supply_kopecks)} {verdict} reserve {roubles(figures.reserve_kopecks)} RUB (fiat in"
        f" the central bank's reserve account at the RTGS: {roubles(figures.fiat_reserve_kopecks)}); emission cap"
        f" {roubles(figures.emission_cap_kopecks)} RUB; ledger chain at #{figures.chain_seq}",
        highlight=False,
    )

    outcomes: Counter[tuple[str, str, str]] = Counter()
    for line in lines:
        answer = short_name(line.answer) if line.answer else f"HTTP {line.http_status}"
        outcome = " ".join(part for part in (line.status, line.reasons) if part) or "accepted"
        outcomes[(short_name(line.sent), answer, outcome)] += 1
    messages = Table(title="Messages the banks sent, by type and outcome", title_justify="left")
    for column in ("sent", "answered with", "outcome", "count"):
        messages.add_column(column, justify="right" if column == "count" else "left")
    for (sent, answer, outcome), count in sorted(outcomes.items()):
        messages.add_row(sent, answer, outcome, str(count))
    console.print(messages)

    boxes = Table(title="Mailboxes (GET /v1/messages): answers, forwarded payments and requests, statements",
                  title_justify="left")
    boxes.add_column("bank")
    boxes.add_column("messages by type")
    boxes.add_column("count", justify="right")
    for bic, kinds in mailboxes.items():
        text = ", ".join(f"{short_name(kind)} x{count}" for kind, count in sorted(kinds.items()))
        boxes.add_row(escape(names.get(bic, bic)), text or "-", str(sum(kinds.values())))
    console.print(boxes)

    calendar = Table(title="Business days", title_justify="left")
    for column in ("date", "state", "postings", "cut-off (Moscow time)", "closed by"):
        calendar.add_column(column)
    for day in days:
        postings = (f"#{day.first_seq + 1}.." if day.last_seq is None
                    else "none" if day.last_seq == day.first_seq else f"#{day.first_seq + 1}..#{day.last_seq}")
        calendar.add_row(str(day.business_date), day.state.value, postings,
                         f"{instant(day.cutoff_at_us):%Y-%m-%d %H:%M}", escape(day.closed_by or ""))
    console.print(calendar)


@dataclass(frozen=True, slots=True)
class Explore:
    """What the newcomer types next, as it must be typed here."""

    program: str  # how this command was called: `.venv/bin/gateway`, or `gateway`
    url: str
    certs: str  # the certificates folder, relative to the working directory where it can be
    examples: str  # the shipped examples' folder, as short as it can be said


def serving_line(url: str) -> str:
    """Said once the day is over and the gateway serves on: scripts and CI wait for it (.ci/run, tests/demo)."""
    return f"The gateway goes on serving at {url} until Ctrl-C"


def explore(console: Console, explore: Explore) -> None:
    url, certs, gateway = explore.url, explore.certs, explore.program
    tls = f'tls="--cacert {certs}/ca.pem --cert {certs}/SABRRUMMXXX.pem --key {certs}/SABRRUMMXXX.key"'
    post = "curl -s $tls -H 'Content-Type: application/xml' --data-binary"
    rows = [
        (tls, "Sberbank's client certificate"),
        (f"curl -s $tls {url}/v1/ledger/head", "chain head, supply, reserve, emission cap"),
        (f"curl -s $tls '{url}/v1/messages?after=0&limit=100'", "Sberbank's mailbox: the day's answers, statements"),
        (f"{gateway} example camt.050-mint > /tmp/mint.xml", "Sberbank converts 250,000.00 fiat roubles ..."),
        (f"{post} @/tmp/mint.xml {url}/v1/messages", ""),
        (f"{gateway} example pacs.008-single > /tmp/p.xml", "... and pays 120,000.00 to a client of VTB"),
        (f"{post} @/tmp/p.xml {url}/v1/messages", ""),
        (f"{gateway} day status", "the demo's day closed, today open"),
        (f"{gateway} replay {explore.examples} --url {url} --certs {certs} --expect {explore.examples}/goldens",
         "every example against its recorded answer"),
    ]
    console.print()
    console.print(serving_line(url), highlight=False, soft_wrap=True)
    console.print("(mutual TLS: /healthz, /readyz, /metrics, /v1/ledger/head, /v1/messages). In another terminal, in"
                  " this directory:", highlight=False)
    for command, comment in rows:
        console.print(f"  {escape(command)}" + (f"    [dim]# {escape(comment)}[/]" if comment else ""),
                      highlight=False, soft_wrap=True)
