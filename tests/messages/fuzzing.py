"""The whole receive path as a fuzz target, without a database: Inbound.receive with the real flows, over in-memory
stand-ins for the auto-batcher, the journal, the RTGS and the ledger's history, so that every answer is really built,
written and journaled; mutated messages from a seeded generator; and a check of every answer.

    target = ReceiveTarget()
    case = make_case(seed, index)       # one input, a function of (seed, index) alone: a failure reproduces from them
    seen = target.run(case)             # the answer's kind and codes; raises FuzzFailure on an escaped exception,
                                        # an answer that is not a schema-valid ISO 20022 message of the expected kind,
                                        # a made-up reason code, or a message not journaled with its answer

The stand-ins answer as a database would, decided by hashes of what they are asked (never by chance), so that each
input meets one journal: payments found or not, settled, warehoused or cancelled; ledger results OK or a refusal;
the RTGS answering, refusing or away; and, in a few inputs, a journal conflict with a repeat, a reused message id or
a claim taken meanwhile. Used by tests/messages/test_receive_fuzz.py and bench/fuzz_receive.py.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import enum
import random
import re
import traceback
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from gateway.config import demo_config_path, load_config
from gateway.conversion.ports import (
    FiatBalance,
    FiatReferences,
    FiatStatement,
    RtgsOutcome,
    RtgsUnavailable,
)
from gateway.conversion.service import Conversions
from gateway.domain.calendar import BusinessCalendar, minutes_per_day
from gateway.domain.conversion import ConversionRecord
from gateway.domain.days import BusinessDay, DayState
from gateway.domain.journal import (
    Direction,
    JournalRows,
    MailboxItem,
    MessageRecord,
    MessageStatus,
    PaymentKind,
    PaymentRecord,
    PaymentState,
    StoredMessage,
    payload_digest,
)
from gateway.domain.ledger import (
    Account,
    AccountKind,
    AccountStatus,
    TransferKind,
    TransferRequest,
    TransferResult,
)
from gateway.handling.directory import Directory
from gateway.handling.journaling import Journaling
from gateway.handling.received import Environment, Flow, JournalConflictsPersist, Reply
from gateway.inbound.path import Inbound
from gateway.ledger.batcher import LedgerBusy, LedgerHalted
from gateway.ledger.ports import (
    BatchAttachment,
    JournalConflict,
    Participant,
    StorageUnavailable,
)
from gateway.messages import answers, codes
from gateway.messages.commands import (
    AccountReportingRequest,
    CancellationRequest,
    CreditTransfer,
    FinancialInstitutionTransfer,
    LiquidityTransfer,
    PaymentReturn,
    StatusRequest,
)
from gateway.messages.identity import iso_namespace_prefix, supported_message_ids
from gateway.messages.intake import Opened, open_message
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.reports import ResolutionOfInvestigation
from gateway.messages.signatures import TrustedCertificate, Verified, verify
from gateway.messages.signing import GatewaySigner, MessageSigning
from gateway.messages.writers import Recipient, Recipients
from gateway.reporting.ports import WalletHistory, WalletMovement
from gateway.reporting.service import ReportRequests
from gateway.security.certs import Party, development_ca, signing_certificate
from gateway.settlement.investigations import Cancellations, Resolutions
from gateway.settlement.payments import Payments
from gateway.settlement.status import StatusRequests

seeds_directory = Path(__file__).with_name("fuzz_seeds")
signed_seed_name = "pacs.008.001.08-signed-payment.gateway.xml"  # signed by SBER (AppHdr/Sgntr)

CBRF = "CBRFRUMMXXX"
SBER, VTB, ALFA = "SABRRUMMXXX", "VTBRRUMMXXX", "ALFARUMMXXX"
SUSPENDED = "TICSRUMMXXX"  # a registered bank, suspended
BANKS = (SBER, VTB, ALFA)
RTGS_ACCOUNTS = {SBER: "30101810400000000225", VTB: "30101810700000000187", ALFA: "30101810200000000593",
                 SUSPENDED: "30101810145250000974"}
# The business day every input arrives on: the seeds' settlement date, a Moscow Tuesday morning.
arrival = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=3)))
arrival_us = int(arrival.timestamp()) * 1_000_000

# Exceptions that Inbound.receive documents and the HTTP layer answers 503: an escape of any other is a failure.
unavailable = (StorageUnavailable, LedgerBusy, LedgerHalted, JournalConflictsPersist)

# Every code an answer may carry: the reason codes of gateway.messages.codes, and a camt.025's statuses.
reason_codes = frozenset(
    value for name, value in vars(codes).items() if not name.startswith("_") and isinstance(value, str)
)
receipt_statuses = frozenset({"ACSC", "RJCT", "PDNG"})


class FuzzFailure(Exception):
    """One input the receive path mishandled: what went wrong."""


class EscapedException(FuzzFailure):
    """An exception escaped receive: the text holds its traceback."""


class BadAnswer(FuzzFailure):
    """receive answered, but not with a schema-valid, journaled ISO 20022 answer of the right kind and codes."""


def _hash(*parts: object) -> int:
    """A stable hash (str hashes differ between processes) of what a stand-in is asked."""
    return zlib.crc32("\x1f".join(str(part) for part in parts).encode())


# --------------------------------------------------------------------------------------------------------------
# Stand-ins for the database, the ledger and the RTGS
# --------------------------------------------------------------------------------------------------------------


class JournalMode(enum.Enum):
    """How the journal meets one input's first claim."""

    FREE = "free"  # nothing conflicts
    CLAIM_TAKEN = "claim_taken"  # something it claims was taken meanwhile: prepared again (attempt 1)
    REPEAT = "repeat"  # its (sender, MsgId) was journaled for the same bytes: answered from the journal
    REUSED = "reused"  # its (sender, MsgId) was journaled for other bytes: DUPL


class FuzzJournal:
    """The message journal (JournalReads) and the conversions' records (ConversionReads): what this input journaled,
    and payments and messages of earlier days made up from the identifiers asked about."""

    def __init__(self) -> None:
        self.rows: list[JournalRows] = []
        self.messages: dict[UUID, MessageRecord] = {}
        self.conversions: dict[UUID, ConversionRecord] = {}
        self.mode = JournalMode.FREE
        self.payload = b""
        self.first_id = uuid.uuid4()  # the earlier copy in REPEAT and REUSED modes
        self.first_answer: StoredMessage | None = None
        self.sender: str | None = None
        self.sender_is_creditor = False
        self.quoted: dict[str, str] = {}

    def reset(self, mode: JournalMode, payload: bytes, first_answer: StoredMessage, sender: str | None) -> None:
        self.rows.clear()
        self.messages.clear()
        self.conversions.clear()
        self.mode, self.payload, self.first_answer = mode, payload, first_answer
        # Whom an earlier payment under a UETR involved: mostly the sender, as the party the message's kind makes
        # it (a return or a resolution comes from the creditor agent), so that the flows' happy paths are reached.
        self.sender = sender
        self.sender_is_creditor = b"pacs.004" in payload or b"camt.029" in payload
        # The original's references as the message quotes them (its first of each), for the record to hold them.
        self.quoted = {
            name: match.group(1).decode("utf-8", "replace")
            for name in ("OrgnlMsgId", "OrgnlEndToEndId", "OrgnlTxId", "OrgnlInstrId")
            if (match := re.search(rb"<(?:\w+:)?" + name.encode() + rb">([^<]{1,35})<", payload))
        }

    def record(self, rows: JournalRows) -> None:
        self.rows.append(rows)
        for message in rows.messages:
            assert message.id not in self.messages, "a journal record is written once"
            self.messages[message.id] = message
        for conversion in rows.conversions:
            self.conversions[conversion.id] = conversion
        for update in rows.conversion_updates:
            current = self.conversions[update.conversion_id]
            assert current.state is update.expected_state, (current.state, update)
            self.conversions[update.conversion_id] = replace(
                current, state=update.new_state, reason_code=update.reason_code, reason_text=update.reason_text,
                updated_at_us=update.updated_at_us,
            )

    # JournalReads -------------------------------------------------------------------------------------------------

    async def taken_claims(self, keys: Sequence[str]) -> set[str]:
        return {key for key in keys if _hash("taken", key) % 4 == 0}

    async def message_by_key(self, idempotency_key: str) -> StoredMessage | None:
        if self.mode is JournalMode.REPEAT:
            return self._first(payload_digest(self.payload))
        if self.mode is JournalMode.REUSED:
            return self._first(payload_digest(b"another message under the same id"))
        return None

    def _first(self, digest: bytes) -> StoredMessage:
        return StoredMessage(self.first_id, Direction.INBOUND, None, CBRF, None, None, self.payload, digest,
                             MessageStatus.ACCEPTED, None, arrival_us - 60_000_000)

    async def message(self, message_id: UUID) -> StoredMessage | None:
        record = self.messages.get(message_id)
        return None if record is None else _stored(record)

    async def answer_to(self, message_id: UUID, receiver_bic: str, newest: bool = False) -> StoredMessage | None:
        if message_id == self.first_id:
            return self.first_answer
        found = [
            m for m in self.messages.values()
            if m.answers_id == message_id and m.receiver_bic == receiver_bic and m.direction is Direction.OUTBOUND
        ]
        found.sort(key=lambda m: m.created_at_us)  # stable: records of one instant stay in the order written
        if not found:
            return None
        return _stored(found[-1] if newest else found[0])

    async def mailbox(self, recipient_bic: str, after_seq: int, limit: int, since_us: int) -> list[MailboxItem]:
        return []

    async def payments_of_message(self, message_id: UUID) -> list[PaymentRecord]:
        count = _hash("payments", message_id) % 3
        return [
            _payment(_uetr(message_id, str(position)), SBER, BANKS[position % 3], message_id, position)
            for position in range(1, count + 1)
        ]

    async def payments_with_uetrs(self, uetrs: Sequence[UUID]) -> list[PaymentRecord]:
        """Most UETRs were sent before, by one bank to another; some as returns; a sixth never."""
        found = []
        for uetr in uetrs:
            if uetr.int % 6 == 0:
                continue  # never sent
            debtor, creditor = BANKS[uetr.int % 3], BANKS[(uetr.int + 1) % 3]
            related = uetr.int % 13 != 8  # else a payment between others, or with other references: AG09
            if self.sender is not None and related:
                other = next(bank for bank in BANKS if bank not in (self.sender, debtor)) if debtor == self.sender else debtor
                debtor, creditor = (other, self.sender) if self.sender_is_creditor else (self.sender, other)
            payment = _payment(uetr, debtor, creditor, uuid.uuid5(uetr, "message"), 1)
            if related:
                payment = replace(
                    payment,
                    group_message_id=self.quoted.get("OrgnlMsgId", payment.group_message_id),
                    end_to_end_id=self.quoted.get("OrgnlEndToEndId", payment.end_to_end_id),
                    transaction_id=self.quoted.get("OrgnlTxId"),
                    instruction_id=self.quoted.get("OrgnlInstrId"),
                )
            if uetr.int % 7 == 0:
                payment = replace(payment, kind=PaymentKind.RETURN)
            found.append(payment)
        return found

    async def payments_of_groups(self, debtor_bic: str, group_message_ids: Sequence[str]) -> list[PaymentRecord]:
        found = []
        for group in group_message_ids:
            if _hash("group", debtor_bic, group) % 3 == 0:
                continue  # never sent
            uetr = _uetr(uuid.NAMESPACE_URL, group)
            creditor = BANKS[uetr.int % 3] if BANKS[uetr.int % 3] != debtor_bic else CBRF
            found.append(replace(_payment(uetr, debtor_bic, creditor, uuid.uuid5(uetr, "message"), 1),
                                 group_message_id=group))
        return found

    async def find_payments(
        self, debtor_bic: str, uetrs: Sequence[UUID] = (), end_to_end_ids: Sequence[str] = ()
    ) -> list[PaymentRecord]:
        named = list(uetrs) + [_uetr(uuid.NAMESPACE_URL, e2e) for e2e in end_to_end_ids]
        found = []
        for uetr in named:
            if uetr.int % 6 == 0:
                continue  # never sent
            creditor = BANKS[uetr.int % 3] if BANKS[uetr.int % 3] != debtor_bic else CBRF
            found.append(_payment(uetr, debtor_bic, creditor, uuid.uuid5(uetr, "message"), 1))
        return found

    async def warehoused_due(self, business_date: date, limit: int) -> list[PaymentRecord]:
        return []

    async def oldest_undelivered_us(self, recipients: Sequence[str]) -> int | None:
        return None

    # ConversionReads ----------------------------------------------------------------------------------------------

    async def conversion(self, conversion_id: UUID) -> ConversionRecord | None:
        return self.conversions.get(conversion_id)

    async def conversion_of_message(self, message_id: UUID) -> ConversionRecord | None:
        return next((c for c in self.conversions.values() if c.message_id == message_id), None)

    async def unfinished(self, limit: int) -> list[ConversionRecord]:
        return [c for c in self.conversions.values() if not c.finished][:limit]


def _uetr(namespace: UUID, name: str) -> UUID:
    """A UETR made up from a name: a UUIDv4, as every UETR the journal holds."""
    return uuid.UUID(int=uuid.uuid5(namespace, name).int, version=4)


def _stored(record: MessageRecord) -> StoredMessage:
    return StoredMessage(record.id, record.direction, record.sender_bic, record.receiver_bic, record.message_type,
                         record.reference, record.payload, record.payload_sha256, record.status, record.answers_id,
                         record.created_at_us)


_payment_states = (PaymentState.WAREHOUSED, PaymentState.SETTLED, PaymentState.SETTLED, PaymentState.CANCELLED,
                   PaymentState.REJECTED)


def _payment(
    uetr: UUID, debtor: str, creditor: str, message_id: UUID, position: int, state: PaymentState | None = None
) -> PaymentRecord:
    """A payment of an earlier day, its state and amount made up from its UETR."""
    state = state or _payment_states[uetr.int % len(_payment_states)]
    settled = state is PaymentState.SETTLED
    return PaymentRecord(
        id=uuid.uuid5(uetr, f"{debtor}:{position}"), transfer_id=uuid.uuid5(uetr, "transfer"), message_id=message_id,
        position=position, kind=PaymentKind.CUSTOMER_CREDIT_TRANSFER, debtor_bic=debtor, creditor_bic=creditor,
        uetr=uetr, end_to_end_id=f"E2E-{uetr.hex[:12]}", instruction_id=None, transaction_id=None,
        group_message_id=f"MSG-{uetr.hex[:12]}",
        amount_kopecks=uetr.int % 100_000_000 + 1, settlement_date=arrival.date() - timedelta(days=1), state=state,
        reason_code=codes.insufficient_funds if state is PaymentState.REJECTED else None,
        claim_keys=(), original_payment_id=None, created_at_us=arrival_us - 86_400_000_000,
        settled_at_us=arrival_us - 86_400_000_000 if settled else None,
    )


# Ledger results for transfers, by amount: mostly settled, sometimes each refusal a flow answers differently.
_ledger_results = (
    (TransferResult.INSUFFICIENT_FUNDS, TransferResult.TRANSFER_ABOVE_LIMIT, TransferResult.BALANCE_ABOVE_LIMIT,
     TransferResult.CREDIT_ACCOUNT_SUSPENDED, TransferResult.EXISTS, TransferResult.ID_CONFLICT,
     TransferResult.EMISSION_CAP_EXCEEDED) + (TransferResult.OK,) * 17
)


class FuzzBatcher:
    """The auto-batcher: each submission's attachment is journaled at once with the transfers' results, as one
    batch of its own would journal it; in the journal's conflict modes the first claiming submission conflicts."""

    def __init__(self, journal: FuzzJournal, clock_us: Callable[[], int]) -> None:
        self.journal = journal
        self.clock_us = clock_us
        self.conflicts_left = 0

    async def ledger_unlocked(self) -> None:
        return None

    async def submit(
        self, requests: Sequence[TransferRequest], attachment: BatchAttachment | None = None
    ) -> list[TransferResult]:
        results = [self._result(request) for request in requests]
        if attachment is None:
            return results
        if self.conflicts_left and attachment.claim_keys:
            self.conflicts_left -= 1
            raise JournalConflict(frozenset({0}))
        self.journal.record(attachment.journal(results, self.clock_us()))
        return results

    @staticmethod
    def _result(request: TransferRequest) -> TransferResult:
        if request.kind in (TransferKind.MINT, TransferKind.BURN) or request.amount_kopecks == 0:
            return TransferResult.OK  # pending conversions, their posts and voids: decided by the RTGS stand-in
        return _ledger_results[request.amount_kopecks % len(_ledger_results)]


class FuzzRtgs:
    """The central bank's RTGS: answers by the amount (a hold's by its reservation), away for some."""

    def __init__(self) -> None:
        self.holds: dict[UUID, int] = {}

    def reserve_account(self) -> str:
        return "30101810000000000001"

    async def balance(self, account: str) -> FiatBalance | None:
        return None

    async def reserve(
        self, hold_id: UUID, account: str, amount_kopecks: int, references: FiatReferences
    ) -> RtgsOutcome:
        self.holds[hold_id] = amount_kopecks
        return self._outcome(amount_kopecks, RtgsOutcome.INSUFFICIENT_FUNDS, RtgsOutcome.UNKNOWN_ACCOUNT)

    async def commit(self, request_id: UUID, hold_id: UUID) -> RtgsOutcome:
        return self._outcome(self.holds.get(hold_id, 0) // 7, RtgsOutcome.HOLD_RELEASED, RtgsOutcome.DONE)

    async def release(self, request_id: UUID, hold_id: UUID) -> RtgsOutcome:
        return RtgsOutcome.DONE

    async def credit_from_reserve(
        self, request_id: UUID, account: str, amount_kopecks: int, references: FiatReferences
    ) -> RtgsOutcome:
        return self._outcome(amount_kopecks // 7, RtgsOutcome.ACCOUNT_BLOCKED, RtgsOutcome.DONE)

    async def statement(self, account: str, from_date: date, to_date: date) -> FiatStatement | None:
        return None

    @staticmethod
    def _outcome(amount: int, first: RtgsOutcome, second: RtgsOutcome) -> RtgsOutcome:
        pick = amount % 9
        if pick == 0:
            raise RtgsUnavailable("the RTGS stand-in is away for this amount")
        return first if pick == 1 else second if pick == 2 else RtgsOutcome.DONE


class FuzzHistory:
    """The ledger's history of a wallet: two movements, or too many to report for some wallets."""

    async def wallet_history_between(
        self, account_id: int, after_seq: int, through_seq: int, movements_max: int,
        booked_from_us: int | None = None, booked_to_us: int | None = None,
    ) -> WalletHistory | None:
        if account_id % 7 == 0:  # Alfa's main wallet
            return None
        at = arrival_us - 3_600_000_000
        movements = (
            WalletMovement(uuid.uuid5(uuid.NAMESPACE_OID, f"{account_id}:1"), TransferKind.PAYMENT, 500_00, at,
                           f"{SBER}:SBER-1", uuid.UUID(int=0x7A3C_0000_0000_4000_8000_0000_0000_0001), "SBER-1",
                           "E2E-1", "I-1", None, SBER, VTB),
            WalletMovement(uuid.uuid5(uuid.NAMESPACE_OID, f"{account_id}:2"), TransferKind.BURN, -200_00, at + 1,
                           f"{CBRF}:MINT", None, None, None, None, None, None, None),
        )
        return WalletHistory(1_000_00, 1_300_00, movements, (), 0)


class FuzzDays:
    """The business days: the day before the arrival closed (postings 1..10), the arrival's day open."""

    calendar = BusinessCalendar(minutes_per_day, frozenset(), frozenset())

    async def days(self, from_date: date, to_date: date) -> list[BusinessDay]:
        today = arrival.date()
        yesterday = today - timedelta(days=1)
        cutoff_us = self.calendar.cutoff_us
        recorded = (
            BusinessDay(yesterday, DayState.CLOSED, cutoff_us(yesterday), 0, 10, 0, cutoff_us(yesterday), "gateway"),
            BusinessDay(today, DayState.OPEN, cutoff_us(today), 10, None, cutoff_us(yesterday), None, None),
        )
        return [day for day in recorded if from_date <= day.business_date <= to_date]


class FuzzClock:
    """The gateway's clock: the arrival instant, a microsecond later at every reading."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> int:
        self.readings += 1
        return arrival_us + self.readings


def _directory() -> Directory:
    participants = [Participant(CBRF, "Bank of Russia", "central_bank", None, "30101810000000000001",
                                AccountStatus.ACTIVE)]
    accounts = [
        Account(1, f"{CBRF}/issuance", AccountKind.ISSUANCE, CBRF, AccountStatus.ACTIVE, None, None, 0, 0, 0),
        Account(2, f"{CBRF}/reserve", AccountKind.RESERVE, CBRF, AccountStatus.ACTIVE, None, None, 0, 0, 0),
    ]
    for bic in (*BANKS, SUSPENDED):
        status = AccountStatus.SUSPENDED if bic == SUSPENDED else AccountStatus.ACTIVE
        participants.append(Participant(bic, bic[:4], "bank", None, RTGS_ACCOUNTS[bic], status))
        for wallet in ("main", "clients"):
            accounts.append(Account(len(accounts) + 1, f"{bic}/{wallet}", AccountKind.WALLET, bic, status, None, None,
                                    1_000_000_00, 0, 0))
    return Directory.build(CBRF, participants, accounts, 30)


# --------------------------------------------------------------------------------------------------------------
# The target
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    """One input: the bytes, who the transport authenticated (None: the loopback development mode), and the
    journal it meets."""

    seed: int
    index: int
    data: bytes
    authenticated_bic: str | None
    mode: JournalMode
    steps: tuple[str, ...]  # the mutations applied, for the report of a failure


@dataclass(frozen=True, slots=True)
class Seen:
    """What the answer to one input was: HTTP status, outcome, the answer's message kind and its codes."""

    http_status: int
    outcome: str
    kind: str  # e.g. pacs.002.001.10; "" for an empty body (a camt.029 passed on: 202)
    codes: frozenset[str]
    body: bytes = field(default=b"", repr=False)

    def labels(self) -> set[str]:
        """What the figure line counts: each (kind, code) answered, and each HTTP status."""
        return {f"{self.kind}:{code}" for code in self.codes} | {f"{self.kind}:{self.outcome}:{self.http_status}"}


# The answers each message may get, by the Document's message (the inbound's Reply.message_type). A refusal as a
# whole is an admi.002 for every message.
_answers_accepted = {
    "pacs.008.001.08": {"pacs.002.001.10"},
    "pacs.009.001.08": {"pacs.002.001.10"},
    "pacs.004.001.09": {"pacs.002.001.10"},
    "pacs.028.001.03": {"pacs.002.001.10"},
    "camt.056.001.08": {"camt.029.001.09"},
    "camt.050.001.05": {"camt.025.001.05"},
    "camt.060.001.05": {"camt.052.001.08", "camt.053.001.08"},
}
_answers_refused = {
    "pacs.008.001.08": {"pacs.002.001.10"},
    "pacs.009.001.08": {"pacs.002.001.10"},
    "camt.050.001.05": {"camt.025.001.05"},
}
_admi_002 = "admi.002.001.01"


class ReceiveTarget:
    """An Inbound with the real flows over the stand-ins. One per process; `run` one input at a time."""

    def __init__(self) -> None:
        self.journal = FuzzJournal()
        self.clock = FuzzClock()
        self.batcher = FuzzBatcher(self.journal, self.clock)
        self.rtgs = FuzzRtgs()
        config = load_config(demo_config_path, environ={})
        # SBER's certificate is the signed seed's, registered; the gateway signs every answer to a bank, each of
        # which `check` verifies: mutated signatures meet the verifier, mutated messages the signer.
        self.signing, self.gateway_certificate = _signing()
        recipients = Recipients({}, Recipient(None, self.signing.signer))
        journaling = self.journaling = Journaling(CBRF, self.batcher, self.journal, recipients)  # type: ignore[arg-type]
        environment = Environment(self.clock, _directory(), FuzzDays.calendar)
        conversions = Conversions(config, journaling, self.journal, self.rtgs, 1, self.clock)
        payments = Payments(journaling, frozenset({VTB}))
        flows: dict[type, Flow] = {
            CreditTransfer: payments,
            FinancialInstitutionTransfer: payments,
            PaymentReturn: payments,
            CancellationRequest: Cancellations(journaling),
            ResolutionOfInvestigation: Resolutions(journaling),
            StatusRequest: StatusRequests(journaling),
            LiquidityTransfer: conversions,
            AccountReportingRequest: ReportRequests(journaling, FuzzHistory(), FuzzDays(), FuzzDays.calendar),
        }
        self.inbound = Inbound(journaling, environment, flows, self.signing)
        self.loop = asyncio.new_event_loop()
        # What a repeat is answered with: an answer journaled earlier, as the journal would hand it back.
        earlier = answers.message_rejected(
            CBRF, SBER, arrival, None, Rejection(codes.narrative, "", "an earlier answer", Layer.BUSINESS), "EARLIER"
        )
        record = MessageRecord(uuid.uuid4(), Direction.OUTBOUND, CBRF, SBER, str(earlier.message_id),
                               earlier.reference, None, earlier.payload, payload_digest(earlier.payload),
                               MessageStatus.DELIVERABLE, self.journal.first_id, arrival_us - 59_000_000)
        self.first_answer = _stored(record)

    def close(self) -> None:
        self.loop.close()

    def run(self, case: Case) -> Seen:
        """Receive one input and check its answer; FuzzFailure says what was wrong."""
        self.journal.reset(case.mode, case.data, self.first_answer, case.authenticated_bic)
        self.batcher.conflicts_left = 0 if case.mode is JournalMode.FREE else 1
        self.clock.readings = 0
        self.rtgs.holds.clear()
        try:
            reply = self.loop.run_until_complete(self.inbound.receive(case.data, case.authenticated_bic))
        except unavailable:
            raise
        except Exception as error:
            raise EscapedException(f"{type(error).__name__} escaped receive:\n{traceback.format_exc()}") from error
        return self.check(case, reply)

    def check(self, case: Case, reply: Reply) -> Seen:
        journaled = [m for rows in self.journal.rows for m in rows.messages]
        inbound = [m for m in journaled if m.direction is Direction.INBOUND]
        outbound = [m for m in journaled if m.direction is Direction.OUTBOUND]
        replayed = reply.outcome == "replayed"
        _expect(len(inbound) == (0 if replayed else 1), f"{len(inbound)} inbound records journaled ({reply.outcome})")
        _expect(all(m.payload == case.data for m in inbound), "the inbound record is not the message as received")
        for message in outbound:
            opened = _opened(message.payload, "a journaled outbound message")
            _expect(str(opened.message_id) == message.message_type, f"journaled as {message.message_type}")
            _expect(opened.header is not None and opened.header.to_bic == message.receiver_bic,
                    f"an outbound message's AppHdr/To is not its receiver {message.receiver_bic}")
            app_hdr = opened.unwrapped.app_hdr
            assert app_hdr is not None
            verified = verify(app_hdr, opened.unwrapped.document, [self.gateway_certificate], arrival)
            _expect(isinstance(verified, Verified), f"an outbound message's signature does not verify: {verified}")
        if reply.http_status == 202:
            _expect(reply.message_type == "camt.029.001.09" and reply.body == b"", "a 202 is a camt.029 passed on")
            return Seen(202, reply.outcome, "", frozenset())
        _expect(reply.http_status in (200, 403), f"HTTP {reply.http_status}")
        opened = _opened(reply.body, "the answer")
        kind = str(opened.message_id)
        header = opened.header
        assert header is not None, "open_message refuses a bare Document"
        _expect(header.from_bic == CBRF, f"the answer's AppHdr/Fr is {header.from_bic}")
        if case.authenticated_bic is not None:
            _expect(header.to_bic in (case.authenticated_bic, CBRF) or replayed,
                    f"the answer goes to {header.to_bic}, not the authenticated {case.authenticated_bic}")
        if replayed:
            _expect(self.first_answer is not None and reply.body == self.first_answer.payload,
                    "a repeat is answered with the answer journaled for the first copy")
        else:
            _expect(any(m.payload == reply.body for m in outbound), "the answer is not journaled")
        allowed = {_admi_002}
        if reply.outcome == "rejected":
            allowed |= _answers_refused.get(reply.message_type, set())
        elif not replayed:
            allowed = _answers_accepted.get(reply.message_type, set())
        _expect(kind in allowed or replayed, f"a {kind} answers a {reply.message_type} ({reply.outcome})")
        found = _codes(opened)
        made_up = found - reason_codes - (receipt_statuses if kind == "camt.025.001.05" else set())
        _expect(not made_up, f"codes {sorted(made_up)} are not ISO codes the gateway names")
        if reply.http_status == 403:
            _expect(case.authenticated_bic is not None and codes.transaction_forbidden in found,
                    "a 403 answers a message sent in another bank's name (AG01)")
        return Seen(reply.http_status, reply.outcome, kind, frozenset(found), reply.body)


def _signing() -> tuple[MessageSigning, TrustedCertificate]:
    """SBER (optional) with the signed seed's certificate registered, and the gateway's key from a CA of its own;
    with the gateway's certificate as a bank registers it."""
    seed = (seeds_directory / signed_seed_name).read_bytes()
    found = re.search(rb"<ds:X509Certificate>([^<]+)</ds:X509Certificate>", seed)
    assert found is not None, signed_seed_name
    registered = TrustedCertificate.load(SBER, base64.b64decode(found.group(1)))
    central_bank = Party(CBRF, "Bank of Russia")
    ca, ca_key = development_ca(central_bank, arrival - timedelta(days=30))
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = signing_certificate(ca, ca_key, central_bank, key.public_key(), issued_at=arrival - timedelta(days=1))
    gateway = TrustedCertificate.load(CBRF, certificate.public_bytes(serialization.Encoding.DER))
    return MessageSigning(GatewaySigner(key, certificate), (certificate,), {SBER: "optional"}, (registered,)), gateway


def _expect(condition: bool, text: str) -> None:
    if not condition:
        raise BadAnswer(text)


def _opened(payload: bytes, what: str) -> Opened:
    opened = open_message(payload, allow_bare_document=False)
    if not isinstance(opened, Opened):
        raise BadAnswer(f"{what} is not a schema-valid ISO 20022 message: {opened.rejections}")
    return opened


# Where each answer states its codes.
_code_elements = {
    "admi.002.001.01": ("RjctgPtyRsn",),
    "pacs.002.001.10": ("Cd",),  # StsRsnInf/Rsn/Cd
    "camt.029.001.09": ("Cd",),  # CxlStsRsnInf/Rsn/Cd
    "camt.025.001.05": ("StsCd",),
}


def _codes(opened: Opened) -> set[str]:
    names = _code_elements.get(str(opened.message_id), ())
    namespace = opened.message_id.namespace
    found = set()
    for name in names:
        for element in opened.unwrapped.document.iter(f"{{{namespace}}}{name}"):
            parent = element.getparent()
            if name == "Cd" and (parent is None or etree.QName(parent).localname != "Rsn"):
                continue  # another Cd (a purpose, a bank transaction code): not a reason
            found.add(element.text or "")
    return found


# --------------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------------


def load_seeds(directory: Path = seeds_directory) -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in sorted(directory.glob("*.xml"))]


_seeds = load_seeds()
_parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_blank_text=False)
_head_namespace = "urn:iso:std:iso:20022:tech:xsd:head.001.001.02"
_gateway_envelope = "urn:cryptoruble:gateway:envelope:1"
_saa = "urn:swift:saa:xsd:saa.2.0"

# Values that sit at an edge of what a field holds, by the field's local name; and for any text.
_edge_texts = (
    "", " ", "\t\n", "0", "-1", "x" * 35, "x" * 36, "Ж" * 35, "Ж" * 36, "😀" * 35, "\u200b", "\u202e" + "RUB",
    "a" * 5000, "NOTPROVIDED", "NONREF", "<not>markup</not>", "&amp;", "null", "true", "1e3", "NaN", "Infinity",
)
_field_values: dict[str, tuple[str, ...]] = {
    "BICFI": (SBER, VTB, ALFA, CBRF, SUSPENDED, "SABRRUMM", "sabrrummxxx", "ZZZZRUMMXXX", "1234RUMMXXX",
              "SABRRUMMXX", "SABRRUMMXXXX", "CBRFRUMM", "VTBRRUMM"),
    "AnyBIC": (SBER, "CBRFRUMMXXX", "ZZZZRUMMXXX"),
    "IntrBkSttlmAmt": ("0", "0.00", "0.01", "0.001", "1", "99999999999999.99", "999999999999999999", "-5.00",
                       "1000000.00", "5000000.00", "12.3", "1e2"),
    "RtrdIntrBkSttlmAmt": ("0.00", "0.01", "1000000000.00", "99999999999999.99", "12.345"),
    "OrgnlIntrBkSttlmAmt": ("0.00", "0.01", "99999999999999.99"),
    "AmtWthCcy": ("0.00", "0.01", "1.00", "63.00", "99999999999999.99", "100000000000000000.00", "7.5"),
    "TtlIntrBkSttlmAmt": ("0.00", "1.00", "99999999999999.99"),
    "CtrlSum": ("0", "0.01", "125000.50", "99999999999999999.99"),
    "NbOfTxs": ("0", "1", "2", "3", "10001", "99999999999999", "01"),
    "IntrBkSttlmDt": ("2026-11-24", "2026-11-23", "2026-11-25", "2026-12-24", "2026-12-25", "2027-11-24",
                      "0001-01-01", "9999-12-31", "2026-02-29", "2024-02-29"),
    "FrDt": ("2026-11-24", "2026-11-01", "2026-10-01", "2025-11-24", "2026-11-25", "0001-01-01", "9999-12-31"),
    "ToDt": ("2026-11-24", "2026-11-23", "2026-11-30", "2026-12-31", "0001-01-01", "9999-12-31"),
    "FrTm": ("00:00:00", "09:00:00+03:00", "23:59:59Z", "12:00:00.999999"),
    "ToTm": ("00:00:00", "08:00:00+03:00", "23:59:59.5Z"),
    "CreDt": ("2026-11-24T09:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "2026-11-24T09:00:00",
              "2026-11-24T09:00:00.123456789+03:00", "1970-01-01T00:00:00+14:00"),
    "CreDtTm": ("2026-11-24T09:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                "2026-11-24T09:00:00"),
    "UETR": ("00000000-0000-4000-8000-000000000000", "7a3c0000-0000-4000-8000-000000000001",
             "7A3C0000-0000-4000-8000-000000000001", "7a3c0000-0000-1000-8000-000000000001",
             "ffffffff-ffff-4fff-bfff-ffffffffffff"),
    "OrgnlUETR": ("7a3c0000-0000-4000-8000-000000000001", "7a3c0000-0000-4000-8000-000000000002",
                  "7a3c0000-0000-4000-8000-000000000003", "7a3c0000-0000-4000-8000-000000000004",
                  "7a3c0000-0000-4000-8000-000000000006", "7a3c0000-0000-4000-8000-000000000007",
                  "7a3c0000-0000-4000-8000-000000000015"),
    "MsgDefIdr": tuple(str(m) for m in supported_message_ids) + ("pacs.008.001.09", "PACS.008.001.08", "pacs.008"),
    "ReqdMsgNmId": ("camt.052.001.08", "camt.053.001.08", "camt.054.001.08", "camt.052.001.09", "pacs.002.001.10"),
    "OrgnlMsgNmId": ("pacs.008.001.08", "pacs.009.001.08", "pacs.004.001.09", "camt.050.001.05", "x"),
    "SttlmMtd": ("CLRG", "INDA", "INGA", "COVE"),
    "Ccy": ("RUB", "USD", "rub", "XXX"),
    "Cd": ("CUST", "DUPL", "AC04", "AM04", "LOAN", "TAXS", "FRAD", "UPAY", "NARR", "XXXX"),
    "Tp": ("ALLL", "CHNG", "MODF"),
    "Conf": ("CNCL", "RJCR", "PDCR", "ACCR"),
    "TxCxlSts": ("ACCR", "RJCR", "PDCR"),
    "Id": (f"{SBER}/main", f"{SBER}/clients", f"{VTB}/main", f"{SBER}/nope", f"{SUSPENDED}/main",
           "30101810400000000225", "30101810700000000187", "40702810938000012345", "sabrrummxxx/main", "/main"),
    "Prtry": ("CRUB-WALLET", "crub-wallet", "OTHER"),
    "MmbId": ("044525225", "044525187", "x"),
    "PssblDplct": ("true", "false", "1", "0"),
    "CpyDplct": ("CODU", "COPY", "DUPL"),
    "ChrgBr": ("SLEV", "DEBT", "CRED", "SHAR"),
    "SttlmPrty": ("URGT", "HIGH", "NORM"),
}
_fin_instn_alternatives = (
    "",
    '<ClrSysMmbId xmlns="{ns}"><MmbId>044525225</MmbId></ClrSysMmbId>',
    '<ClrSysMmbId xmlns="{ns}"><ClrSysId><Cd>RUCBC</Cd></ClrSysId><MmbId>044525225</MmbId></ClrSysMmbId>',
    '<Nm xmlns="{ns}">ПАО Сбербанк</Nm>',
    '<LEI xmlns="{ns}">2534001ZZ0RRJRL7CQ46</LEI>',
    '<Othr xmlns="{ns}"><Id>SBER</Id></Othr>',
)
_fragments = (
    b"<", b">", b"/>", b"</", b"<Document>", b"</Document>", b"</AppHdr>", b"<!--", b"-->", b"<![CDATA[", b"]]>",
    b"<?pi x?>", b'<?xml version="1.0" encoding="UTF-8"?>', b"<!DOCTYPE d>", b'<!DOCTYPE d [<!ENTITY e "x">]>',
    b"&e;", b"&amp;", b"&#0;", b"&#x10FFFF;", b"&#xD800;", b"&undefined;", b' a="1"', b' xmlns:p="urn:x"',
    b' xmlns=""', b"p:", b"\xef\xbb\xbf", b"\xff", b"\xd0", b"\xc0\x80", b"\xed\xa0\x80", b"\x00", b"\x01", b"\x0c",
    b"\x1b", b" ", b"\n", b"\r", "Рубль".encode(), b"\xe2\x80\xa8",
)


def make_case(seed: int, index: int) -> Case:
    """Input `index` of the run seeded `seed`: a seed message, mutated (or, now and then, as it is)."""
    rng = random.Random(f"{seed}:{index}")
    name, data = _seeds[rng.randrange(len(_seeds))]
    steps = [name]
    root = etree.fromstring(data, _parser)
    sender = _text(root, f"{{{_head_namespace}}}Fr") or SBER
    if rng.random() < 0.06:
        steps.append("as is")
    else:
        for _ in range(1 + int(rng.random() ** 3 * 4)):
            mutation = rng.choices(_tree_mutations, _tree_weights)[0]
            try:
                replaced = mutation(root, rng)
            except ValueError:  # lxml refused what the mutation made (a name or text XML cannot hold): no change
                steps.append(f"{mutation.__name__} (refused by lxml)")
                continue
            root = root if replaced is None else replaced
            steps.append(mutation.__name__)
    data = etree.tostring(root, encoding="UTF-8", xml_declaration=rng.random() < 0.8)
    if rng.random() < 0.15:
        mutation = rng.choice(_byte_mutations)
        data = mutation(data, rng)
        steps.append(mutation.__name__)
    pick = rng.random()
    authenticated = sender if pick < 0.7 else None if pick < 0.9 else rng.choice((SBER, VTB, ALFA, CBRF))
    mode = JournalMode.FREE if rng.random() < 0.9 else rng.choice(
        (JournalMode.CLAIM_TAKEN, JournalMode.REPEAT, JournalMode.REUSED)
    )
    return Case(seed, index, data, authenticated, mode, tuple(steps))


def _text(root: etree._Element, party_tag: str) -> str | None:
    for party in root.iter(party_tag):
        for bic in party.iter(f"{{{_head_namespace}}}BICFI"):
            return bic.text
    return None


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter(etree.Element)]


def _below_root(root: etree._Element, rng: random.Random) -> etree._Element | None:
    elements = _elements(root)[1:]
    return rng.choice(elements) if elements else None


def _message_parts(root: etree._Element) -> tuple[etree._Element | None, etree._Element | None]:
    app_hdr = next(root.iter(f"{{{_head_namespace}}}AppHdr"), None)
    document = next((e for e in root.iter(etree.Element) if etree.QName(e).localname == "Document"), None)
    return app_hdr, document


def delete_element(root: etree._Element, rng: random.Random) -> None:
    element = _below_root(root, rng)
    if element is not None and element.getparent() is not None:
        element.getparent().remove(element)


def duplicate_element(root: etree._Element, rng: random.Random) -> None:
    element = _below_root(root, rng)
    if element is None or element.getparent() is None:
        return
    copies = 1 if rng.random() < 0.8 else rng.randrange(2, 60)
    for _ in range(copies):
        element.addnext(copy.deepcopy(element))


def swap_siblings(root: etree._Element, rng: random.Random) -> None:
    element = _below_root(root, rng)
    if element is None:
        return
    following = element.getnext()
    while following is not None and not isinstance(following.tag, str):
        following = following.getnext()
    if following is not None:
        following.addnext(element)


def move_element(root: etree._Element, rng: random.Random) -> None:
    element = _below_root(root, rng)
    if element is None:
        return
    inside = set(element.iter())
    targets = [e for e in _elements(root) if e not in inside]
    if targets:
        rng.choice(targets).insert(rng.randrange(0, 3), element)


def edge_text(root: etree._Element, rng: random.Random) -> None:
    leaves = [e for e in _elements(root) if len(e) == 0]
    if leaves:
        rng.choice(leaves).text = rng.choice(_edge_texts)


def field_value(root: etree._Element, rng: random.Random) -> None:
    """A value another message could well carry, so that the message stays valid more often than not."""
    fields = [e for e in _elements(root) if len(e) == 0 and etree.QName(e).localname in _field_values]
    if fields:
        element = rng.choice(fields)
        element.text = rng.choice(_field_values[etree.QName(element).localname])


def currency_attribute(root: etree._Element, rng: random.Random) -> None:
    amounts = [e for e in _elements(root) if "Ccy" in e.attrib]
    if not amounts:
        return
    element = rng.choice(amounts)
    if rng.random() < 0.2:
        del element.attrib["Ccy"]
    else:
        element.set("Ccy", rng.choice(("USD", "RUR", "rub", "", "XXX", "RUB ")))


def drop_bicfi(root: etree._Element, rng: random.Random) -> None:
    """An agent or an AppHdr party named without a BICFI: a clearing code, a name, an empty FinInstnId, an OrgId."""
    institutions = [e for e in _elements(root) if etree.QName(e).localname == "FinInstnId"]
    header_parties = [e for e in institutions if etree.QName(e).namespace == _head_namespace]
    if not institutions:
        return
    institution = rng.choice(header_parties if header_parties and rng.random() < 0.5 else institutions)
    namespace = etree.QName(institution).namespace or ""
    identification = institution.getparent()
    if (namespace == _head_namespace and identification is not None and etree.QName(identification).localname ==
            "FIId" and rng.random() < 0.3):
        organisation = etree.fromstring(
            f'<OrgId xmlns="{namespace}"><Nm>Sberbank</Nm><Id><OrgId><AnyBIC>{SBER}</AnyBIC></OrgId></Id></OrgId>'
        )
        identification.getparent().replace(identification, organisation)
        return
    for child in list(institution):
        institution.remove(child)
    alternative = rng.choice(_fin_instn_alternatives).format(ns=namespace)
    if alternative:
        institution.append(etree.fromstring(alternative))


def header_party(root: etree._Element, rng: random.Random) -> None:
    """AppHdr/Fr or To names another bank, the gateway, an unknown or malformed BIC."""
    bics = list(root.iter(f"{{{_head_namespace}}}BICFI"))
    if bics:
        rng.choice(bics).text = rng.choice(_field_values["BICFI"])


def header_extras(root: etree._Element, rng: random.Random) -> None:
    """The AppHdr's optional parts: a related header (named by BIC, or not), BizSvc, CpyDplct, PssblDplct."""
    app_hdr, _ = _message_parts(root)
    if app_hdr is None:
        return
    ns = _head_namespace
    party = rng.choice((
        f"<FIId><FinInstnId><BICFI>{rng.choice(BANKS)}</BICFI></FinInstnId></FIId>",
        "<FIId><FinInstnId><ClrSysMmbId><MmbId>044525225</MmbId></ClrSysMmbId></FinInstnId></FIId>",
        "<FIId><FinInstnId/></FIId>",
        "<OrgId><Nm>Sberbank</Nm></OrgId>",
    ))
    extra = rng.choice((
        f'<Rltd xmlns="{ns}"><Fr>{party}</Fr><To>{party}</To><BizMsgIdr>EARLIER-1</BizMsgIdr>'
        f"<MsgDefIdr>pacs.008.001.08</MsgDefIdr><CreDt>2026-11-23T09:00:00Z</CreDt></Rltd>",
        f'<BizSvc xmlns="{ns}">{rng.choice(("swift.cbprplus.02", "Ж" * 35, "x"))}</BizSvc>',
        f'<CpyDplct xmlns="{ns}">{rng.choice(_field_values["CpyDplct"])}</CpyDplct>',
        f'<PssblDplct xmlns="{ns}">{rng.choice(_field_values["PssblDplct"])}</PssblDplct>',
        f'<CharSet xmlns="{ns}">UTF-8</CharSet>',
        f'<Prty xmlns="{ns}">HIGH</Prty>',
    ))
    element = etree.fromstring(extra)
    name = etree.QName(element).localname
    order = ("CharSet", "Fr", "To", "BizMsgIdr", "MsgDefIdr", "BizSvc", "MktPrctc", "CreDt", "BizPrcgDt", "CpyDplct",
             "PssblDplct", "Prty", "Sgntr", "Rltd")
    rank = {part: i for i, part in enumerate(order)}
    position = 0
    for i, child in enumerate(app_hdr):
        if isinstance(child.tag, str) and rank.get(etree.QName(child).localname, len(order)) < rank[name]:
            position = i + 1
    app_hdr.insert(position, element)


def flip_namespace(root: etree._Element, rng: random.Random) -> None:
    """The Document or the AppHdr in another message's, another version's, an unknown or no namespace; the
    AppHdr's MsgDefIdr following it, or not."""
    app_hdr, document = _message_parts(root)
    target = rng.choice([e for e in (app_hdr, document) if e is not None] or [root])
    old = etree.QName(target).namespace
    new = rng.choice((
        *(m.namespace for m in supported_message_ids),
        iso_namespace_prefix + "pacs.008.001.09", iso_namespace_prefix + "pacs.008.001.99",
        iso_namespace_prefix + "head.001.001.03", iso_namespace_prefix + "camt.054.001.08",
        iso_namespace_prefix + "admi.002.001.01", iso_namespace_prefix + "x", "urn:other", "",
    ))
    for element in target.iter(etree.Element):
        if etree.QName(element).namespace == old:
            element.tag = etree.QName(new or None, etree.QName(element).localname).text
    etree.cleanup_namespaces(root)
    if app_hdr is not None and target is document and rng.random() < 0.6 and new.startswith(iso_namespace_prefix):
        for definition in app_hdr.iter(f"{{{_head_namespace}}}MsgDefIdr"):
            definition.text = new.removeprefix(iso_namespace_prefix)


def foreign_document(root: etree._Element, rng: random.Random) -> None:
    """Another message's Document under this AppHdr (its MsgDefIdr following, or not)."""
    app_hdr, document = _message_parts(root)
    if document is None or document.getparent() is None:
        return
    _, other = _message_parts(etree.fromstring(rng.choice(_seeds)[1], _parser))
    assert other is not None
    document.getparent().replace(document, other)
    if app_hdr is not None and rng.random() < 0.7:
        for definition in app_hdr.iter(f"{{{_head_namespace}}}MsgDefIdr"):
            definition.text = (etree.QName(other).namespace or "").removeprefix(iso_namespace_prefix)


def foreign_element(root: etree._Element, rng: random.Random) -> None:
    """An element where none belongs: from another namespace, an AppHdr's or a Document's element, a comment."""
    element = rng.choice(_elements(root))
    stranger = rng.choice((
        '<x:Extra xmlns:x="urn:other">1</x:Extra>',
        f'<BICFI xmlns="{_head_namespace}">{SBER}</BICFI>',
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03"/>',
        f'<AppHdr xmlns="{_head_namespace}"/>',
        f"<Unknown xmlns=\"{etree.QName(element).namespace or ''}\">x</Unknown>",
        '<Sgntr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"><x:Signature xmlns:x="urn:y"/></Sgntr>',
    ))
    element.insert(rng.randrange(0, len(element) + 1), etree.fromstring(stranger))
    if rng.random() < 0.3:
        element.insert(0, etree.Comment(" a comment "))
    if rng.random() < 0.3:
        element.insert(0, etree.ProcessingInstruction("pi", "x"))


def nest_deeply(root: etree._Element, rng: random.Random) -> None:
    element = _below_root(root, rng)
    if element is None:
        return
    depth = rng.choice((1, 2, 8, 30, 60, 70, 300))
    wrapper_tag = element.tag if rng.random() < 0.5 else etree.QName(etree.QName(element).namespace, "W").text
    parent = element.getparent()
    outer = inner = etree.Element(wrapper_tag)
    for _ in range(depth - 1):
        inner = etree.SubElement(inner, wrapper_tag)
    parent.replace(element, outer)
    inner.append(element)


def many_attributes(root: etree._Element, rng: random.Random) -> None:
    element = rng.choice(_elements(root))
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    for i in range(rng.choice((1, 2, 15, 16, 17, 40))):
        choice = rng.random()
        if choice < 0.2:
            element.set(f"{{{xsi}}}type", rng.choice(("xs:string", "Max35Text", "ActiveCurrencyAndAmount")))
        elif choice < 0.3:
            element.set(f"{{{xsi}}}nil", "true")
        elif choice < 0.4:
            element.set("{http://www.w3.org/XML/1998/namespace}lang", "ru")
        elif choice < 0.5:
            element.set(f"{{urn:attr:{i}}}a", "x")
        else:
            element.set(f"a{i}", "Ж" * rng.choice((0, 1, 200)))


def rewrap(root: etree._Element, rng: random.Random) -> etree._Element | None:
    """The AppHdr and Document in another envelope, a broken one, or none."""
    app_hdr, document = _message_parts(root)
    parts = [p for p in (app_hdr, document) if p is not None]
    kind = rng.choice(("gateway", "busmsg", "envelope", "message", "datapdu", "datapdu-two-bodies", "wrong-ns",
                       "extra", "text", "bare", "reversed"))
    if kind == "bare":
        return document
    if kind == "datapdu" or kind == "datapdu-two-bodies":
        pdu = etree.Element(f"{{{_saa}}}DataPDU", nsmap={"Saa": _saa})
        etree.SubElement(pdu, f"{{{_saa}}}Revision").text = "2.0.13"
        body = etree.SubElement(pdu, f"{{{_saa}}}Body")
        body.extend(parts)
        if kind == "datapdu-two-bodies":
            etree.SubElement(pdu, f"{{{_saa}}}Body")
        return pdu
    tag = {"gateway": f"{{{_gateway_envelope}}}Envelope", "busmsg": "BusMsg", "envelope": "{urn:swift:xsd:envelope}Envelope",
           "message": "{urn:any}Message", "wrong-ns": f"{{{iso_namespace_prefix}head.001.001.02}}Envelope",
           "extra": f"{{{_gateway_envelope}}}Envelope", "text": f"{{{_gateway_envelope}}}Envelope",
           "reversed": f"{{{_gateway_envelope}}}Envelope"}[kind]
    envelope = etree.Element(tag)
    envelope.extend(reversed(parts) if kind == "reversed" else parts)
    if kind == "extra":
        etree.SubElement(envelope, f"{{{_gateway_envelope}}}Extra")
    if kind == "text" and len(envelope):
        envelope[0].tail = "stray text"
    return envelope


def cdata_and_comments(root: etree._Element, rng: random.Random) -> None:
    leaves = [e for e in _elements(root) if len(e) == 0 and e.text]
    if not leaves:
        return
    element = rng.choice(leaves)
    text = element.text or ""
    if rng.random() < 0.5:
        element.text = etree.CDATA(text)
    else:
        cut = rng.randrange(0, len(text) + 1)
        element.text = text[:cut]
        comment = etree.Comment(" split ")
        comment.tail = text[cut:]
        element.append(comment)


def many_transactions(root: etree._Element, rng: random.Random) -> None:
    """A transaction repeated: tens of them, or past the scheme's bound on a message."""
    names = {"CdtTrfTxInf", "TxInf", "RptgReq", "TxInfAndSts"}
    transactions = [e for e in _elements(root) if etree.QName(e).localname in names]
    if not transactions:
        return
    transaction = rng.choice(transactions)
    copies = rng.choice((1, 5, 40, 200))
    fresh = rng.random() < 0.7  # new references (a message of many payments), or the same ones again (DU03 ...)
    for number in range(copies, 0, -1):
        repeated = copy.deepcopy(transaction)
        for element in repeated.iter(etree.Element) if fresh else ():
            name = etree.QName(element).localname
            if name in ("UETR", "OrgnlUETR"):
                element.text = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            elif name in ("EndToEndId", "InstrId", "TxId", "RtrId", "CxlId") and element.text:
                element.text = f"{element.text[:28]}-{number}"
        transaction.addnext(repeated)
    if rng.random() < 0.7:  # the group's count following, so that more of these pass the business rules
        for count in root.iter(etree.Element):
            if etree.QName(count).localname == "NbOfTxs":
                count.text = str(len(transactions) + copies)


_tree_mutations: tuple[Callable[[etree._Element, random.Random], etree._Element | None], ...] = (
    delete_element, duplicate_element, swap_siblings, move_element, edge_text, field_value, currency_attribute,
    drop_bicfi, header_party, header_extras, flip_namespace, foreign_document, foreign_element, nest_deeply,
    many_attributes, rewrap, cdata_and_comments, many_transactions,
)
_tree_weights = (4, 3, 2, 1, 4, 16, 2, 8, 5, 4, 2, 2, 2, 1, 1, 3, 1, 2)
assert len(_tree_weights) == len(_tree_mutations)


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        buffer[rng.randrange(len(buffer))] = rng.randrange(256)
    return bytes(buffer)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def insert_fragment(data: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(data) + 1)
    return data[:position] + rng.choice(_fragments) + data[position:]


def cut_run(data: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(data))
    return data[:position] + data[position + rng.randrange(1, 64):]


def repeat_run(data: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(data))
    return data[:position] + data[position: position + rng.randrange(1, 256)] + data[position:]


def other_encoding(data: bytes, rng: random.Random) -> bytes:
    """The same characters in another encoding, declared or not, with a byte order mark or not."""
    text = data.decode("utf-8", errors="replace")
    encoding = rng.choice(("utf-16", "utf-16-be", "utf-32", "cp1251", "koi8-r", "latin-1"))
    declared = text.replace("encoding='UTF-8'", f"encoding='{encoding}'") if rng.random() < 0.5 else text
    return declared.encode(encoding, errors="replace")


_byte_mutations = (flip_bytes, truncate, insert_fragment, cut_run, repeat_run, other_encoding)


def save_failure(directory: Path, case: Case, failure: BaseException) -> Path:
    """The failing input and what went wrong, named by seed and index, for `--replay`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"receive-{case.seed}-{case.index}.xml"
    path.write_bytes(case.data)
    path.with_suffix(".txt").write_text(
        f"seed {case.seed} index {case.index} authenticated {case.authenticated_bic} journal {case.mode.value}\n"
        f"steps: {', '.join(case.steps)}\n\n{failure}\n",
        encoding="utf-8",
    )
    return path


@dataclass
class Tally:
    """What a run saw."""

    inputs: int = 0
    escapes: int = 0  # exceptions that escaped receive
    bad_answers: int = 0
    unavailable: int = 0  # the exceptions receive documents (HTTP 503): none expected of the stand-ins
    labels: set[str] = field(default_factory=set)

    @property
    def failures(self) -> int:
        return self.escapes + self.bad_answers

    def count(self, failure: FuzzFailure) -> None:
        if isinstance(failure, EscapedException):
            self.escapes += 1
        else:
            self.bad_answers += 1

    def add(self, other: Tally) -> None:
        self.inputs += other.inputs
        self.escapes += other.escapes
        self.bad_answers += other.bad_answers
        self.unavailable += other.unavailable
        self.labels |= other.labels
