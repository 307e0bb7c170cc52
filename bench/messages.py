"""Message intake throughput for pacs.008.001.08, printed beside raw lxml parsing and XSD validation of the same
bytes against the same compiled schemas, in the same run.

Run (from the repository root, with the gateway installed):

    python bench/messages.py                          # the full run: about 30 s on 2 cores
    python bench/messages.py --quick                  # a tenth of the work: a smoke test of the bench itself
    python bench/messages.py --scale 3                # three times the work per measurement, for steadier figures
    python bench/messages.py --profile intake.pstats  # also profile one extra intake pass of each size

What it measures, for two messages in the gateway's envelope (urn:cryptoruble:gateway:envelope:1, an AppHdr
head.001.001.02 then a Document pacs.008.001.08): "single", one customer credit transfer, and "batch", 1,000 of them
in one message.
  raw lxml  the floor for these bytes: etree.fromstring with a plain XMLParser (every option spelled out), then the
            AppHdr and the Document each validated in place against the compiled head.001.001.02 and pacs.008.001.08
            schemas of the gateway's own SchemaSet (the very objects intake validates against).
  read      gateway.messages.intake.read_message: what the issue's target is set on, parse + unwrap + validate +
            read. Bounded hardened parsing, unwrap, the same XSD validation, and reading the AppHdr and the Document
            into typed values.
  intake    gateway.messages.intake.intake, as the HTTP layer calls it for a participant authenticated by its
            certificate: read, then the usage-guideline rules and business rules against a RuleContext (the
            central bank and three banks). Shown for what a message costs the gateway in all; no target.
"vs raw" is messages/s divided by the raw figure for the same message size.

The messages are generated here with lxml, from a seeded random source: realistic rouble payments between the
Bank of Russia's participants SABRRUMMXXX, VTBRRUMMXXX and ALFARUMMXXX (their BIKs as ClrSysMmbId, companies'
20-digit settlement accounts with a valid control key, INNs, Russian names and remittance text), each debtor agent
being the sender, with an EndToEndId, InstrId, TxId and UETR unique across the run. Every message is put through
intake before any timing and must be accepted with the right number of transactions, and through the raw path,
which must find it valid.

A pool of distinct messages per size is built before the clock starts and then hidden from the garbage collector
(gc.freeze): a running gateway does not hold it, and full passes over it would be timed as intake's cost. Each
size gets a warm-up pass of each contender, then its measured work is split into rounds, each running every
contender over the same messages in an order rotated from round to round, so that all see the same machine state.
The clock covers only the calls; each result is checked inside the loop (one type test, the same for both).

Exit status: 1 when read reaches less than 0.4 of the raw figure at either size (the issue's target), 0
otherwise; a message that is refused, or found invalid by the raw path, exits non-zero with a traceback.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import os
import platform
import random
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from lxml import etree

from gateway import bounds
from gateway.messages import safe_xml
from gateway.messages.identity import MessageId, app_hdr_message_id_default
from gateway.messages.intake import Accepted, Read, intake, read_message
from gateway.messages.readers import field_paths
from gateway.messages.rules import RuleContext
from gateway.messages.schemas import SchemaSet, compiled

ratio_target = 0.4  # the target: read at least 0.4 of raw parse + validate, at each size

pacs_008 = MessageId("pacs", "008", "001", "08")
envelope_namespace = "urn:cryptoruble:gateway:envelope:1"
central_bank_bic = "CBRFRUMMXXX"
business_date = date(2026, 3, 16)  # fixed, so that runs on different days build the same messages
moscow = timezone(timedelta(hours=3))
seed = 2026
rounds_count = 6  # each measurement is split into this many rounds, the contenders' order rotated between them
warm_up_share = 0.1
busy_cpu_share_min = 0.25  # CPUs busier than this in the second before measuring: someone else is using them


@dataclass(frozen=True, slots=True)
class Bank:
    bic: str
    name: str
    clearing_code: str  # BIK, carried as ClrSysMmbId with ClrSysId/Cd RUCBC
    correspondent_account: str  # the bank's account at the Bank of Russia: its customers' accounts share the tail


banks = (
    Bank("SABRRUMMXXX", "ПАО Сбербанк", "044525225", "30101810400000000225"),
    Bank("VTBRRUMMXXX", "Банк ВТБ (ПАО)", "044525187", "30101810700000000187"),
    Bank("ALFARUMMXXX", "АО «Альфа-Банк»", "044525593", "30101810200000000593"),
)


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    transactions: int  # per message
    distinct_messages: int  # generated before timing and cycled through
    measured_messages: int  # at scale 1

    def scaled(self, scale: float) -> tuple[int, int]:
        """(warm-up, measured) message counts at `scale`; the measured count is a whole number of rounds."""
        measured = max(rounds_count, math.ceil(self.measured_messages * scale / rounds_count) * rounds_count)
        return max(1, math.ceil(measured * warm_up_share)), measured


workloads = (Workload("single", 1, 2_000, 20_000), Workload("batch", 1_000, 4, 60))


@dataclass(frozen=True, slots=True)
class Message:
    data: bytes
    context: RuleContext  # the sender authenticated, as the HTTP layer will pass it
    transactions: int


@dataclass(frozen=True, slots=True)
class Measurement:
    mode: str
    workload: Workload
    messages: int
    seconds: float
    profiled: bool = False  # slowed down by the profiler: shown, never compared

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def microseconds_per_message(self) -> float:
        return self.seconds / self.messages * 1e6


class BenchError(Exception):
    """The bench could not measure what it claims to: a generated message was refused or found invalid."""


# --- the messages ----------------------------------------------------------------------------------------------

_companies = (
    "ООО «Северный ветер»", "АО «Уральская сталь»", "ООО «Волга-Логистик»", "ООО «Сибирские сети»",
    "АО «Камский хлеб»", "ООО «Балтийская верфь»", "ПАО «Нижегородский авиазавод»", "ООО «Таврида Агро»",
)  # fmt: skip
_purposes = (
    "Оплата по счёту № {n} от {d}, НДС не облагается",
    "Оплата по договору поставки № {n} от {d}, в т.ч. НДС 20%",
    "Аванс по договору подряда № {n} от {d}, НДС не облагается",
    "Возмещение командировочных расходов, авансовый отчёт № {n} от {d}",
)


class MessageSource:
    """pacs.008.001.08 messages in the gateway's envelope, each from one bank to the others, with references
    numbered across the run and UETRs drawn from the seeded source."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._message_number = 0
        self._transaction_number = 0
        self._contexts = {bank.bic: rule_context(bank.bic) for bank in banks}

    def take(self, count: int, transactions: int) -> list[Message]:
        return [self._message(transactions) for _ in range(count)]

    def _message(self, transactions: int) -> Message:
        rng = self._rng
        self._message_number += 1
        sender = rng.choice(banks)
        message_id = f"{sender.bic[:4]}{business_date:%Y%m%d}-{self._message_number:06d}"
        created = datetime.combine(business_date, datetime.min.time(), moscow) + timedelta(
            hours=9, seconds=self._message_number
        )
        amounts = [rng.randint(1_00, 10_000_000_00) for _ in range(transactions)]
        total = _rub(sum(amounts))

        root = etree.Element(_q(envelope_namespace, "Envelope"), nsmap={None: envelope_namespace})
        root.append(self._app_hdr(sender, message_id, created))
        namespace = pacs_008.namespace
        document = etree.SubElement(root, _q(namespace, "Document"), nsmap={None: namespace})
        transfer = etree.SubElement(document, _q(namespace, "FIToFICstmrCdtTrf"))
        group = _sub(transfer, "GrpHdr", namespace)
        _sub(group, "MsgId", namespace, message_id)
        _sub(group, "CreDtTm", namespace, created.isoformat(timespec="seconds"))
        _sub(group, "NbOfTxs", namespace, str(transactions))
        _sub(group, "CtrlSum", namespace, total)
        _sub(group, "TtlIntrBkSttlmAmt", namespace, total).set("Ccy", "RUB")
        _sub(group, "IntrBkSttlmDt", namespace, business_date.isoformat())
        settlement = _sub(group, "SttlmInf", namespace)
        _sub(settlement, "SttlmMtd", namespace, "CLRG")
        _sub(_sub(settlement, "ClrSys", namespace), "Prtry", namespace, "CBRF-CRUB")
        _agent(group, "InstgAgt", namespace, sender.bic)
        _agent(group, "InstdAgt", namespace, central_bank_bic)
        for amount_kopecks in amounts:
            self._transaction(transfer, namespace, sender, amount_kopecks)
        data: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
        return Message(data, self._contexts[sender.bic], transactions)

    def _app_hdr(self, sender: Bank, message_id: str, created: datetime) -> etree._Element:
        namespace = app_hdr_message_id_default.namespace
        app_hdr = etree.Element(_q(namespace, "AppHdr"), nsmap={None: namespace})
        for role, bic in (("Fr", sender.bic), ("To", central_bank_bic)):
            _sub(_sub(_sub(_sub(app_hdr, role, namespace), "FIId", namespace), "FinInstnId", namespace), "BICFI",
                 namespace, bic)  # fmt: skip
        _sub(app_hdr, "BizMsgIdr", namespace, message_id)
        _sub(app_hdr, "MsgDefIdr", namespace, str(pacs_008))
        _sub(app_hdr, "CreDt", namespace, created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        return app_hdr

    def _transaction(self, parent: etree._Element, namespace: str, sender: Bank, amount_kopecks: int) -> None:
        rng = self._rng
        self._transaction_number += 1
        number = self._transaction_number
        creditor_bank = rng.choice([bank for bank in banks if bank is not sender])
        debtor, creditor = rng.sample(_companies, 2)
        tx = _sub(parent, "CdtTrfTxInf", namespace)
        identification = _sub(tx, "PmtId", namespace)
        _sub(identification, "InstrId", namespace, f"{sender.bic[:4]}-I-{number:09d}")
        _sub(identification, "EndToEndId", namespace, f"E2E-{business_date:%Y%m%d}-{number:09d}")
        _sub(identification, "TxId", namespace, f"{sender.bic[:4]}-T-{number:09d}")
        _sub(identification, "UETR", namespace, str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        _sub(tx, "IntrBkSttlmAmt", namespace, _rub(amount_kopecks)).set("Ccy", "RUB")
        _sub(tx, "ChrgBr", namespace, "SLEV")
        self._party(tx, "Dbtr", namespace, debtor)
        self._account(tx, "DbtrAcct", namespace, sender)
        _agent(tx, "DbtrAgt", namespace, sender.bic, sender.clearing_code)
        _agent(tx, "CdtrAgt", namespace, creditor_bank.bic, creditor_bank.clearing_code)
        self._party(tx, "Cdtr", namespace, creditor)
        self._account(tx, "CdtrAcct", namespace, creditor_bank)
        invoice_date = f"{business_date - timedelta(days=rng.randint(1, 30)):%d.%m.%Y}"
        purpose = rng.choice(_purposes).format(n=rng.randint(1, 9999), d=invoice_date)
        _sub(_sub(tx, "RmtInf", namespace), "Ustrd", namespace, purpose)

    def _party(self, parent: etree._Element, name: str, namespace: str, company: str) -> None:
        party = _sub(parent, name, namespace)
        _sub(party, "Nm", namespace, company)
        other = _sub(_sub(_sub(party, "Id", namespace), "OrgId", namespace), "Othr", namespace)
        _sub(other, "Id", namespace, f"{self._rng.randrange(10**9, 10**10)}")  # INN of a legal entity: 10 digits
        _sub(_sub(other, "SchmeNm", namespace), "Prtry", namespace, "INN")

    def _account(self, parent: etree._Element, name: str, namespace: str, bank: Bank) -> None:
        number = account_number(bank.clearing_code, self._rng.randrange(10**11))
        _sub(_sub(_sub(_sub(parent, name, namespace), "Id", namespace), "Othr", namespace), "Id", namespace, number)


def account_number(clearing_code: str, serial: int) -> str:
    """A company's rouble settlement account at the bank with this BIK: 40702 (a commercial company's account), 810
    (roubles), the control key, then 11 digits of the bank's own numbering. The key makes the weighted sum (weights
    7, 1, 3 over the BIK's last three digits and the account) a multiple of 10, as the Bank of Russia prescribes."""
    unkeyed = f"407028100{serial:011d}"
    weighted = sum(int(digit) * (7, 1, 3)[i % 3] for i, digit in enumerate(clearing_code[-3:] + unkeyed))
    key = weighted * 3 % 10
    return unkeyed[:8] + str(key) + unkeyed[9:]


def rule_context(authenticated_bic: str) -> RuleContext:
    return RuleContext(
        today=business_date,
        central_bank_bic=central_bank_bic,
        participants=frozenset(bank.bic for bank in banks),
        suspended_participants=frozenset(),
        settlement_days_ahead_max=bounds.settlement_days_ahead_max,
        authenticated_bic=authenticated_bic,
    )


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _sub(parent: etree._Element, name: str, namespace: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _q(namespace, name))
    element.text = text
    return element


def _agent(parent: etree._Element, name: str, namespace: str, bic: str, clearing_code: str | None = None) -> None:
    institution = _sub(_sub(parent, name, namespace), "FinInstnId", namespace)
    _sub(institution, "BICFI", namespace, bic)
    if clearing_code is not None:
        member = _sub(institution, "ClrSysMmbId", namespace)
        _sub(_sub(member, "ClrSysId", namespace), "Cd", namespace, "RUCBC")
        _sub(member, "MmbId", namespace, clearing_code)


def _rub(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


# --- the contenders --------------------------------------------------------------------------------------------


class Raw:
    """Parse and validate, nothing else: the least any intake of these bytes must do."""

    mode = "raw lxml"

    def __init__(self, schemas: SchemaSet) -> None:
        self._app_hdr_schema = schemas.messages[app_hdr_message_id_default]
        self._document_schema = schemas.messages[pacs_008]
        # Every option that bears on safety or on the work done, spelled out; the same tree intake builds.
        self._parser = etree.XMLParser(
            encoding="UTF-8",
            recover=False,
            resolve_entities=False,
            load_dtd=False,
            dtd_validation=False,
            attribute_defaults=False,
            no_network=True,
            decompress=False,
            huge_tree=False,
            collect_ids=False,
            remove_comments=True,
            remove_pis=True,
            remove_blank_text=False,
            strip_cdata=True,
            ns_clean=False,
            compact=True,
        )

    def run(self, messages: Sequence[Message]) -> float:
        parser, app_hdr_schema, document_schema = self._parser, self._app_hdr_schema, self._document_schema
        started = time.perf_counter()
        for message in messages:
            app_hdr, document = etree.fromstring(message.data, parser)
            if not (app_hdr_schema.validate(app_hdr) and document_schema.validate(document)):
                raise BenchError(f"raw: not valid: {document_schema.error_log or app_hdr_schema.error_log}")
        return time.perf_counter() - started


class ReadMessage:
    mode = "read"

    def __init__(self, schemas: SchemaSet) -> None:
        self._schemas = schemas

    def run(self, messages: Sequence[Message]) -> float:
        schemas = self._schemas
        started = time.perf_counter()
        for message in messages:
            result = read_message(message.data, allow_bare_document=False, schemas=schemas)
            if not isinstance(result, Read):
                raise BenchError(f"read_message refused a generated message: {result.rejections[:3]}")
        return time.perf_counter() - started


class Intake:
    mode = "intake"

    def __init__(self, schemas: SchemaSet) -> None:
        self._schemas = schemas

    def run(self, messages: Sequence[Message]) -> float:
        schemas = self._schemas
        started = time.perf_counter()
        for message in messages:
            result = intake(message.data, allow_bare_document=False, context=message.context, schemas=schemas)
            if not isinstance(result, Accepted):
                raise BenchError(f"intake refused a generated message: {result.rejections[:3]}")
        return time.perf_counter() - started


def check_accepted(messages: Sequence[Message], schemas: SchemaSet) -> None:
    """Before any timing: intake accepts every message with all its transactions, and raw finds it valid."""
    for message in messages:
        result = intake(message.data, allow_bare_document=False, context=message.context, schemas=schemas)
        if not isinstance(result, Accepted):
            raise BenchError(f"intake refused a generated message: {list(result.rejections[:3])}")
        read = len(result.command.transactions)
        if read != message.transactions:
            raise BenchError(f"intake read {read} transactions from a message of {message.transactions}")
    Raw(schemas).run(messages)


# --- measurements ----------------------------------------------------------------------------------------------


@contextmanager
def prebuilt_work_frozen() -> Iterator[None]:
    """Hide everything alive now, above all the prebuilt messages, from the garbage collector until the block
    ends: full passes over objects a running gateway does not hold would be timed as the contenders' cost."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def cycled(pool: Sequence[Message], start: int, count: int) -> list[Message]:
    return [pool[(start + i) % len(pool)] for i in range(count)]


def measure(workload: Workload, pool: Sequence[Message], schemas: SchemaSet, scale: float) -> list[Measurement]:
    """Every contender at one message size: a warm-up each, then `rounds_count` rounds over the same messages, the
    order rotated from round to round."""
    contenders: list[Raw | ReadMessage | Intake] = [Raw(schemas), ReadMessage(schemas), Intake(schemas)]
    warm_up, measured = workload.scaled(scale)
    per_round = measured // rounds_count
    seconds = [0.0] * len(contenders)
    with prebuilt_work_frozen():
        for contender in contenders:
            contender.run(cycled(pool, 0, warm_up))
        for round_number in range(rounds_count):
            work = cycled(pool, warm_up + round_number * per_round, per_round)
            for shift in range(len(contenders)):
                i = (round_number + shift) % len(contenders)
                seconds[i] += contenders[i].run(work)
    return [Measurement(c.mode, workload, measured, seconds[i]) for i, c in enumerate(contenders)]


def profile_intake(
    workload: Workload, pool: Sequence[Message], schemas: SchemaSet, scale: float, path: Path
) -> Measurement:
    """One extra intake pass under cProfile, after the measured ones (the profiler slows everything down)."""
    _, measured = workload.scaled(scale)
    work = cycled(pool, 0, max(1, measured // rounds_count))
    profiler = cProfile.Profile()
    with prebuilt_work_frozen():
        profiler.enable()
        try:
            seconds = Intake(schemas).run(work)
        finally:
            profiler.disable()
    profiler.dump_stats(path)
    return Measurement("intake", workload, len(work), seconds, profiled=True)


# --- report ----------------------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_busy_share(seconds: float = 1.0) -> float:
    """The share of all CPUs' time spent busy during the next `seconds`, from /proc/stat (0 where it is missing)."""

    def idle_and_total() -> tuple[int, int]:
        fields = [int(value) for value in Path("/proc/stat").read_text(encoding="ascii").split("\n")[0].split()[1:]]
        return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user..steal

    try:
        idle_before, total_before = idle_and_total()
        time.sleep(seconds)
        idle_after, total_after = idle_and_total()
    except OSError:
        return 0.0
    total = total_after - total_before
    return 1 - (idle_after - idle_before) / total if total else 0.0


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def describe_run(pools: dict[str, list[Message]], scale: float) -> list[str]:
    sizes = ", ".join(
        f"{w.name} {w.transactions:,} tx {sum(len(m.data) for m in pools[w.name]) / len(pools[w.name]):,.0f} B"
        for w in workloads
    )
    return [
        f"machine     nproc={usable_cpus()} cpu={cpu_model()}",
        (
            f"python      {platform.python_version()} ({platform.python_implementation()}),"
            f" lxml {etree.__version__}, libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))}"
        ),
        f"messages    pacs.008.001.08 in the gateway envelope; mean size: {sizes}",
        (
            "compiled    field paths "
            + ("yes" if field_paths.compiled_read is not None else "NO (Python twin)")
            + ", tree bounds "
            + ("yes" if safe_xml._compiled_tree_check is not None else "NO (XPath)")
            + " (setup.py builds them where a C compiler is there)"
        ),
        (
            f"bench       scale={scale:g} rounds={rounds_count} warm-up={warm_up_share:.0%} seed={seed}"
            f" business-date={business_date} distinct messages: "
            + ", ".join(f"{w.name} {w.distinct_messages:,}" for w in workloads)
        ),
    ]


def print_table(measurements: Sequence[Measurement]) -> None:
    raw_rates = {m.workload.name: m.rate for m in measurements if m.mode == "raw lxml" and not m.profiled}
    print(f"{'mode':<10}{'message':>8}{'tx/msg':>8}{'messages':>10}{'seconds':>9}{'messages/s':>12}"
          f"{'us/message':>12}{'tx/s':>11}{'vs raw':>8}  note")  # fmt: skip
    for m in measurements:
        raw_rate = raw_rates.get(m.workload.name)
        ratio = f"{m.rate / raw_rate:.2f}" if raw_rate and not m.profiled else "-"
        note = "under cProfile" if m.profiled else ""
        print(
            f"{m.mode:<10}{m.workload.name:>8}{m.workload.transactions:>8,}{m.messages:>10,}{m.seconds:>9.3f}"
            f"{m.rate:>12,.1f}{m.microseconds_per_message:>12,.1f}{m.rate * m.workload.transactions:>11,.0f}"
            f"{ratio:>8}  {note}".rstrip()
        )


def ratio_of(measurements: Sequence[Measurement], workload: Workload) -> float:
    def rate(mode: str) -> float:
        (found,) = [m for m in measurements if (m.mode, m.workload) == (mode, workload) and not m.profiled]
        return found.rate

    return rate("read") / rate("raw lxml")


# --- main ------------------------------------------------------------------------------------------------------


def run(scale: float, profile_path: Path | None) -> int:
    schemas = compiled()
    source = MessageSource(random.Random(seed))
    pools = {w.name: source.take(w.distinct_messages, w.transactions) for w in workloads}
    for workload in workloads:
        check_accepted(pools[workload.name], schemas)

    for line in describe_run(pools, scale):
        print(line)
    busy = cpu_busy_share()
    print(f"cpu busy    {busy:.0%} of all CPUs in the second before measuring (the bench itself idle)")
    if busy > busy_cpu_share_min:
        print("WARNING: other processes are using the CPUs: expect lower, noisier figures")
    print(flush=True)

    measurements: list[Measurement] = []
    for workload in workloads:
        measurements += measure(workload, pools[workload.name], schemas, scale)
    if profile_path is not None:
        for workload in workloads:
            path = profile_path.with_name(f"{profile_path.stem}-{workload.name}{profile_path.suffix}")
            measurements.append(profile_intake(workload, pools[workload.name], schemas, scale, path))
            print(f"profile of intake, {workload.name} message: {path}")

    print_table(measurements)
    print()
    ratios = {workload.name: ratio_of(measurements, workload) for workload in workloads}
    verdict = "PASS" if all(ratio >= ratio_target for ratio in ratios.values()) else "FAIL"
    shown = ", ".join(f"{name} {ratio:.2f}" for name, ratio in ratios.items())
    print(
        f"{verdict}: read (parse + unwrap + validate + read) reaches {shown} of raw lxml parse + XSD validate"
        f" (target >= {ratio_target} at each size)"
    )
    return 0 if verdict == "PASS" else 1


def scaled_parser(description: str | None) -> argparse.ArgumentParser:
    """A bench's parser with --scale and --quick (read them back with parse_scaled); this bench's and answers.py's."""
    parser = argparse.ArgumentParser(description=(description or "").partition("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every message count (default 1)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the work (combines with --scale)")
    return parser


def parse_scaled(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments, --quick folded into --scale."""
    arguments = parser.parse_args(argv)
    if not arguments.scale > 0:
        parser.error("--scale must be positive")
    if arguments.quick:
        arguments.scale /= 10
    return arguments


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = scaled_parser(__doc__)
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="FILE",
        help="after measuring, run intake once more per size under cProfile; stats go to FILE with -single/-batch"
        " before the suffix",
    )
    return parse_scaled(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    return run(arguments.scale, arguments.profile)


if __name__ == "__main__":
    sys.exit(main())
