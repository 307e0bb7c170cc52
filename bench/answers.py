"""What the gateway's answers to one payment message cost, measured alone: the pacs.002 status report for the bank
that sent it and the pacs.008 forwards to the banks it credits, built as settlement builds them once the message's
batch has settled, beside the intake of the same message.

Run (from the repository root, with the gateway installed):

    python bench/answers.py              # the full run: about 25 s on 2 cores
    python bench/answers.py --quick      # a tenth of the work: a smoke test of the bench itself
    python bench/answers.py --scale 3    # three times the work per measurement, for steadier figures

The messages are bench/messages.py's (imported, with its seeded source: the same bytes): pacs.008.001.08 in the
gateway's envelope, "single" with one customer credit transfer and "batch" with 1,000 from one debtor bank to the
other two. Before the clock starts, each is put through intake and prepared as the payment flow prepares it
(gateway.settlement.payments.prepare_payments): a Payment per transaction, holding the transaction's XmlSource, that
is the tree intake parsed. Then, as PaymentsJournal.journal does once the ledger has settled every transaction:
  status report    answers.status_report to the sender, with one TxInfAndSts per transaction (Payment.status, that
                   is answers.transaction_status: ACSC, the aware settlement time, the ledger transfer's uuid), the
                   original message named from the accepted command
  status report, exceptions only
                   the same with exceptions_only=True (a participant's status_reports = "exceptions"): every
                   transaction settled, so the group status alone (the statuses are still built, as journal does)
  forwards         payments.forwards: one answers.forwarded per creditor bank (two for a batch), a pacs.008 whose
                   transactions are copied from the parsed trees and given their settlement date and time
  intake           gateway.messages.intake.intake as bench/messages.py calls it: what the same message cost to take
                   in, for comparison (it writes nothing, so the schema check does not bear on it)
The answers are measured with the writers' runtime schema check at its default (check_one_in(bounds
outbound_schema_check_every), one written Document or AppHdr in 100) and at check_one_in(1), every one checked:
the difference is what the check costs. They are written unsigned, in the AppHdr version of the message answered
(a participant with no app_hdr_version and no signer; signing is bench/signatures.py's). The journal rows, the
database and the camt.054 notifications are not measured. The summary line's "answers" is status report + forwards,
what a message from a bank with status_reports "full" costs, to set beside the per-message budget the throughput
targets imply (docs/performance.md).

As in bench/messages.py (whose helpers this imports): the prepared messages are hidden from the garbage collector
(gc.freeze), each size gets a warm-up pass of each contender, then its measured work is split into rounds, each
running every contender (each answer at both check settings) over the same messages in an order rotated from round
to round. A contender sets its check before its clock starts; the clock covers building the statuses and forwards
and the calls. Before any timing every prepared message's answers are written with every one checked against the
schema and checked as below; after each timed run, once its clock has stopped, every answer it built is checked:
each status report to the sender, starting with the XML declaration, <GrpSts>ACSC</GrpSts> and one <TxInfAndSts>
per transaction (none in the exceptions-only one); one forward per creditor bank, as many <CdtTrfTxInf> in all as
the message has transactions.

Exit status: 0; a message refused or not prepared in full, or an answer that is not what it must be, exits non-zero
with a traceback.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import messages as intake_bench  # bench/messages.py: bench/ is on sys.path when run as a script

from gateway import bounds
from gateway.domain.calendar import instant, microseconds
from gateway.handling.directory import Directory
from gateway.messages import answers
from gateway.messages.answers import Outbound
from gateway.messages.commands import BusinessHeader, CreditTransfer
from gateway.messages.intake import Accepted, intake
from gateway.messages.reports import PaymentStatus
from gateway.messages.schemas import SchemaSet, compiled
from gateway.messages.writers import check_one_in, unconfigured
from gateway.settlement import payments
from gateway.settlement.payments import Payment

check_every_default = bounds.tunable_limits["outbound_schema_check_every"].default
check_settings = (check_every_default, 1)  # the runtime's default, then every written message checked
gateway_bic = intake_bench.central_bank_bic
settled_after_us = 2_000_000  # the ledger settles the batch this long after the message's CreDtTm
xml_declaration = b"<?xml "


@dataclass(frozen=True, slots=True)
class Settled:
    """One message as PaymentsJournal.journal holds it once its batch has settled."""

    message: intake_bench.Message
    sender_bic: str
    header: BusinessHeader
    command: CreditTransfer
    message_type: str  # of the message answered, as Received.message_type
    payments: tuple[Payment, ...]  # every one settled
    settled_at: datetime  # aware, as the ledger's timestamp gives it (calendar.instant)
    creditor_bics: frozenset[str]


@dataclass(frozen=True, slots=True)
class Measurement:
    mode: str
    check_every: int | None  # the writers' check_one_in; None: intake, which writes nothing
    workload: intake_bench.Workload
    messages: int
    seconds: float

    @property
    def microseconds_per_message(self) -> float:
        return self.seconds / self.messages * 1e6

    @property
    def microseconds_per_transaction(self) -> float:
        return self.microseconds_per_message / self.workload.transactions

    @property
    def check(self) -> str:
        if self.check_every is None:
            return "-"
        return "every" if self.check_every == 1 else f"1 in {self.check_every}"


class BenchError(Exception):
    """The bench could not measure what it claims to: a message was refused, or an answer is not what it must be."""


# --- the messages, settled -------------------------------------------------------------------------------------


def directory() -> Directory:
    """The participants' settlement wallets, all prepare_payments reads of the directory."""
    wallets = {bank.bic: number for number, bank in enumerate(intake_bench.banks, start=1)}
    codes = {bank.bic: f"{bank.bic}/main" for bank in intake_bench.banks}
    return Directory(
        central_bank_bic=gateway_bic,
        participants={},
        settlement_wallets=wallets,
        settlement_wallet_codes=codes,
        wallet_codes=frozenset(codes.values()),
        wallet_ids={code: wallets[bic] for bic, code in codes.items()},
        settlement_days_ahead_max=bounds.settlement_days_ahead_max,
    )


def settled(message: intake_bench.Message, schemas: SchemaSet, wallets: Directory) -> Settled:
    """`message` accepted by intake and prepared for the ledger as the payment flow prepares it, every payment
    settled."""
    result = intake(message.data, allow_bare_document=False, context=message.context, schemas=schemas)
    if not isinstance(result, Accepted):
        raise BenchError(f"intake refused a generated message: {list(result.rejections[:3])}")
    command = result.command
    if not isinstance(command, CreditTransfer) or result.header is None:
        raise BenchError(f"intake read a generated message as {type(command).__name__}, header {result.header}")
    sender_bic = message.context.authenticated_bic
    assert sender_bic is not None
    prepared = payments.prepare_payments(command, sender_bic, wallets, intake_bench.business_date, set())
    if len(prepared) != message.transactions:
        raise BenchError(f"{len(prepared)} payments prepared from a message of {message.transactions} transactions")
    refused = [p for p in prepared if p.rejection is not None or p.warehoused]
    if refused:
        raise BenchError(f"{len(refused)} payments would not settle now: {refused[0].rejection}")
    return Settled(
        message=message,
        sender_bic=sender_bic,
        header=result.header,
        command=command,
        message_type=str(result.message_id),
        payments=tuple(prepared),
        settled_at=instant(microseconds(command.group.creation_time) + settled_after_us),
        creditor_bics=frozenset(p.creditor_bic for p in prepared),
    )


# --- the contenders --------------------------------------------------------------------------------------------


class StatusReport:
    """The pacs.002 answering the message, as PaymentsJournal.journal builds it."""

    def __init__(self, check_every: int, exceptions_only: bool) -> None:
        self.check_every = check_every
        self.exceptions_only = exceptions_only
        self.mode = "status report, exceptions only" if exceptions_only else "status report"

    def run(self, work: Sequence[Settled]) -> float:
        exceptions_only, acsc = self.exceptions_only, PaymentStatus.ACSC
        built: list[Outbound] = []
        check_one_in(self.check_every)
        started = time.perf_counter()
        for item in work:
            settled_at = item.settled_at
            statuses = [payment.status(acsc, (), settled_at) for payment in item.payments]
            built.append(
                answers.status_report(
                    gateway_bic,
                    item.sender_bic,
                    settled_at,
                    item.header,
                    payments.original_message(item.command, item.message_type),
                    len(item.payments),
                    statuses,
                    configured=None,
                    exceptions_only=exceptions_only,
                )
            )
        seconds = time.perf_counter() - started
        for item, answer in zip(work, built, strict=True):
            check_status_report(item, answer, exceptions_only)
        return seconds


class Forwards:
    """The pacs.008 to each creditor bank, as PaymentsJournal.journal builds them (payments.forwards)."""

    mode = "forwards"

    def __init__(self, check_every: int) -> None:
        self.check_every = check_every

    def run(self, work: Sequence[Settled]) -> float:
        built: list[list[Outbound]] = []
        check_one_in(self.check_every)
        started = time.perf_counter()
        for item in work:
            command = item.command
            built.append(
                payments.forwards(
                    gateway_bic, payments.forward_message_id(command), command.group.settlement_method,
                    item.payments, item.settled_at, item.header, unconfigured,
                )
            )
        seconds = time.perf_counter() - started
        for item, forwarded in zip(work, built, strict=True):
            check_forwards(item, forwarded)
        return seconds


class Intake:
    """bench/messages.py's intake contender over the same messages."""

    mode = "intake"
    check_every: int | None = None  # it writes nothing

    def __init__(self, schemas: SchemaSet) -> None:
        self._intake = intake_bench.Intake(schemas)

    def run(self, work: Sequence[Settled]) -> float:
        return self._intake.run([item.message for item in work])


Contender = StatusReport | Forwards | Intake


def contenders(schemas: SchemaSet) -> list[Contender]:
    answering: list[Contender] = []
    for every in check_settings:
        answering += [StatusReport(every, False), StatusReport(every, True), Forwards(every)]
    return [*answering, Intake(schemas)]


def check_status_report(item: Settled, answer: Outbound, exceptions_only: bool) -> None:
    payload = answer.payload
    if answer.message_id != answers.pacs_002 or answer.receiver_bic != item.sender_bic:
        raise BenchError(f"a {answer.message_id} to {answer.receiver_bic} answered {item.sender_bic}")
    if not payload.startswith(xml_declaration):
        raise BenchError(f"a status report does not start with the XML declaration: {payload[:40]!r}")
    if b"<GrpSts>ACSC</GrpSts>" not in payload:
        raise BenchError("a status report of a message settled in full has no <GrpSts>ACSC</GrpSts>")
    statuses = payload.count(b"<TxInfAndSts>")
    expected = 0 if exceptions_only else len(item.payments)
    if statuses != expected:
        raise BenchError(f"a status report has {statuses} <TxInfAndSts>, not {expected}")


def check_forwards(item: Settled, forwarded: Sequence[Outbound]) -> None:
    receivers = [outbound.receiver_bic for outbound in forwarded]
    if len(receivers) != len(item.creditor_bics) or set(receivers) != item.creditor_bics:
        raise BenchError(f"forwards to {receivers}, not one to each of {sorted(item.creditor_bics)}")
    for outbound in forwarded:
        if outbound.message_id != answers.pacs_008 or not outbound.payload.startswith(xml_declaration):
            raise BenchError(f"a forward is a {outbound.message_id} starting {outbound.payload[:40]!r}")
    transactions = sum(outbound.payload.count(b"<CdtTrfTxInf>") for outbound in forwarded)
    if transactions != len(item.payments):
        raise BenchError(f"the forwards hold {transactions} <CdtTrfTxInf> of {len(item.payments)} settled")


def check_answers(pool: Sequence[Settled]) -> None:
    """Before any timing: every message's answers written with every one checked against the schema, and checked."""
    for answering in (StatusReport(1, False), StatusReport(1, True), Forwards(1)):
        answering.run(pool)


# --- measurements ----------------------------------------------------------------------------------------------


def measure(
    workload: intake_bench.Workload, pool: Sequence[Settled], schemas: SchemaSet, scale: float
) -> list[Measurement]:
    """Every contender at one message size: a warm-up each, then the rounds, the order rotated between them."""
    running = contenders(schemas)
    warm_up, measured = workload.scaled(scale)
    per_round = measured // intake_bench.rounds_count
    seconds = [0.0] * len(running)
    with intake_bench.prebuilt_work_frozen():
        for contender in running:
            contender.run(intake_bench.cycled(pool, 0, warm_up))
        for round_number in range(intake_bench.rounds_count):
            work = intake_bench.cycled(pool, warm_up + round_number * per_round, per_round)
            for shift in range(len(running)):
                i = (round_number + shift) % len(running)
                seconds[i] += running[i].run(work)
    return [Measurement(c.mode, c.check_every, workload, measured, seconds[i]) for i, c in enumerate(running)]


# --- report ----------------------------------------------------------------------------------------------------


def print_table(measurements: Sequence[Measurement]) -> None:
    print(f"{'mode':<32}{'check':<10}{'message':>8}{'tx/msg':>8}{'messages':>10}{'seconds':>9}"
          f"{'us/message':>12}{'us/tx':>9}")  # fmt: skip
    for m in measurements:
        print(
            f"{m.mode:<32}{m.check:<10}{m.workload.name:>8}{m.workload.transactions:>8,}{m.messages:>10,}"
            f"{m.seconds:>9.3f}{m.microseconds_per_message:>12,.1f}{m.microseconds_per_transaction:>9,.2f}"
        )


def summary(measurements: Sequence[Measurement], workload: intake_bench.Workload) -> str:
    def cost(mode: str, check_every: int | None) -> float:
        (found,) = [m for m in measurements if (m.mode, m.check_every, m.workload) == (mode, check_every, workload)]
        return found.microseconds_per_message

    def answering(check_every: int) -> float:
        return cost("status report", check_every) + cost("forwards", check_every)

    return (
        f"{workload.name}: answers (status report + forwards) {answering(check_every_default):,.0f} µs, intake"
        f" {cost('intake', None):,.0f} µs per message (schema check 1 in {check_every_default}; every message"
        f" checked: answers {answering(1):,.0f} µs)"
    )


# --- main ------------------------------------------------------------------------------------------------------


def run(scale: float) -> int:
    schemas = compiled()
    source = intake_bench.MessageSource(random.Random(intake_bench.seed))
    workloads = intake_bench.workloads
    generated = {w.name: source.take(w.distinct_messages, w.transactions) for w in workloads}
    wallets = directory()
    pools = {name: [settled(message, schemas, wallets) for message in pool] for name, pool in generated.items()}
    for pool in pools.values():
        check_answers(pool)

    for line in intake_bench.describe_run(generated, scale):
        print(line)
    print(
        f"answers     from {gateway_bic}, unsigned, AppHdr as the message answered; runtime schema check 1 in"
        f" {check_every_default} (bounds outbound_schema_check_every) and every one"
    )
    busy = intake_bench.cpu_busy_share()
    print(f"cpu busy    {busy:.0%} of all CPUs in the second before measuring (the bench itself idle)")
    if busy > intake_bench.busy_cpu_share_min:
        print("WARNING: other processes are using the CPUs: expect lower, noisier figures")
    print(flush=True)

    measurements: list[Measurement] = []
    for workload in workloads:
        measurements += measure(workload, pools[workload.name], schemas, scale)
    print_table(measurements)
    print()
    for workload in workloads:
        print(summary(measurements, workload))
    return 0


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    return intake_bench.parse_scaled(intake_bench.scaled_parser(__doc__), argv)


def main(argv: Sequence[str] | None = None) -> int:
    return run(parse_arguments(argv).scale)


if __name__ == "__main__":
    sys.exit(main())
