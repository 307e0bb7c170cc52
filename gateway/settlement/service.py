"""The settlement service: one message from a bank in, its ISO 20022 answer out, exactly once.

    intake (message layer) -> prepare transfers and journal rows -> auto-batcher (ledger + journal, one transaction)
    -> the answer the journal rows carry

Exactly once: a message claims its idempotency key (sender, MsgId), and each payment its (debtor, UETR) and
(debtor, EndToEndId), in the same database transaction that posts its transfers. The claims are checked under the
ledger's head lock, so two copies of a message, in one process or two, can never both settle: the second finds its
key taken (JournalConflict) and is answered from the journal: the same answer when it is the same message byte for
byte, DUPL when the same MsgId carries something else. A payment whose UETR or EndToEndId was already used is
rejected DUPL and the rest of its message settles.

Every answer and forwarded message is journaled and put in its recipient's mailbox in that same transaction: a
message the gateway answered is never lost, and nothing half-done is ever visible.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from lxml import etree

from gateway.config import Config, canonical_bic
from gateway.conversion.service import Conversions
from gateway.domain.conversion import ConversionUse
from gateway.domain.journal import (
    Direction,
    JournalRows,
    MailboxEntry,
    MessageRecord,
    MessageStatus,
    PaymentKind,
    PaymentRecord,
    PaymentState,
    PaymentUpdate,
    end_to_end_key,
    message_key,
    payload_digest,
    payment_transfer_id,
    return_key,
    return_transfer_id,
    uetr_key,
)
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from gateway.domain.money import text_from_kopecks
from gateway.ledger.batcher import AutoBatcher
from gateway.ledger.ports import JournalConflict
from gateway.messages.commands import (
    AccountReportingRequest,
    Amount,
    BusinessHeader,
    CancellationRequest,
    CreditTransfer,
    FinancialInstitutionTransfer,
    LiquidityTransfer,
    OriginalMessage,
    PaymentReturn,
    StatusRequest,
    TransactionCancellation,
    XmlSource,
    xml_source,
)
from gateway.messages.identity import MessageId
from gateway.messages.intake import Refused, intake, reread
from gateway.messages.readers import read_command
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.reports import (
    CancellationReason,
    CancellationStatus,
    CancellationTransactionStatus,
    CaseAssignment,
    InvestigationStatus,
    PaymentStatus,
    ResolutionOfInvestigation,
    ResolvedCase,
    StatusReason,
    TransactionStatus,
    already_returned,
    cancellation_reason,
    no_original_transaction,
    status_reason,
)
from gateway.messages.safe_xml import element_path
from gateway.messages.writers._credit_transfer import Forward, SettledTransaction
from gateway.reporting.service import AccountReports, ReportTooLong
from gateway.settlement import answers
from gateway.settlement.answers import Outbound, instant
from gateway.settlement.directory import Directory
from gateway.settlement.ports import JournalReads

log = logging.getLogger(__name__)

# How often a message whose claims conflicted is prepared again before the gateway gives up (503). A conflict
# means another copy of it, or of one of its payments, settled in between: the next look-up finds it.
conflict_retries_max = 3

# ExternalStatusReason1Code values for what the ledger refused.
_ledger_reasons: dict[TransferResult, tuple[str, str]] = {
    TransferResult.INSUFFICIENT_FUNDS: ("AM04", "insufficient funds in the debtor agent's wallet"),
    TransferResult.TRANSFER_ABOVE_LIMIT: ("AM02", "above the debtor agent's limit for one transfer"),
    TransferResult.BALANCE_ABOVE_LIMIT: ("AM02", "would take the creditor agent's wallet above its balance limit"),
    TransferResult.AMOUNT_TOO_LARGE: ("AM02", "above the largest amount the ledger settles"),
    TransferResult.DEBIT_ACCOUNT_SUSPENDED: ("AG10", "the debtor agent's wallet is suspended"),
    TransferResult.CREDIT_ACCOUNT_SUSPENDED: ("AG11", "the creditor agent's wallet is suspended"),
    TransferResult.DEBIT_ACCOUNT_NOT_FOUND: ("DNOR", "the debtor agent has no wallet"),
    TransferResult.CREDIT_ACCOUNT_NOT_FOUND: ("CNOR", "the creditor agent has no wallet"),
    TransferResult.EXISTS: ("DUPL", "this payment (debtor agent and UETR) was already settled"),
    TransferResult.ID_CONFLICT: ("DUPL", "this payment's UETR was already used by the debtor agent"),
}
duplicate = "DUPL"


@dataclass(frozen=True, slots=True)
class Reply:
    """What the HTTP layer sends back: a status and an ISO 20022 message, and a label for the metrics."""

    http_status: int
    body: bytes
    outcome: str  # accepted | rejected | replayed
    message_type: str  # of the message answered, e.g. pacs.008.001.08; "unreadable" when it could not be told


def ledger_reason(result: TransferResult) -> tuple[str, str]:
    return _ledger_reasons.get(result, ("NARR", f"the ledger refused the transfer: {result.value}"))


# --------------------------------------------------------------------------------------------------------------
# One message's journal: the batch attachment
# --------------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Payment:
    """One transaction of a pacs.008/009 as settlement prepared it."""

    position: int
    kind: PaymentKind
    debtor_bic: str
    creditor_bic: str
    uetr: UUID
    end_to_end_id: str
    instruction_id: str | None
    transaction_id: str | None
    amount: Amount
    settlement_date: date
    xml: bytes | XmlSource  # the transaction as sent (commands.xml_source): written only if it is forwarded
    transfer_id: UUID
    claims: tuple[str, ...]  # the idempotency keys it takes when it settles or is warehoused
    original_payment_id: UUID | None = None  # a return: the payment it returns
    rejection: tuple[str, str] | None = None  # (code, text) decided before the ledger
    warehoused: bool = False
    request_index: int | None = None  # its TransferRequest's index in the submission

    def status(
        self, status: PaymentStatus, reasons: Sequence[StatusReason], settled_at: datetime
    ) -> TransactionStatus:
        """Its TxInfAndSts in a pacs.002: settled ones say when, and the ledger transfer's id (ClrSysRef)."""
        settled = status is PaymentStatus.ACSC
        return answers.transaction_status(
            end_to_end_id=self.end_to_end_id,
            instruction_id=self.instruction_id,
            transaction_id=self.transaction_id,
            uetr=self.uetr,
            status=status,
            reasons=reasons,
            settled_at=settled_at if settled else None,
            transfer_id=self.transfer_id if settled else None,
        )

    def transfer(self, wallets: dict[str, int], kind: TransferKind, reference: str) -> TransferRequest:
        """The ledger transfer that settles it: debtor's settlement wallet to the creditor's."""
        return TransferRequest(
            id=self.transfer_id,
            debit_account_id=wallets[self.debtor_bic],
            credit_account_id=wallets[self.creditor_bic],
            amount_kopecks=self.amount.kopecks,
            kind=kind,
            reference=reference,
            uetr=self.uetr,
        )


@dataclass(slots=True)
class _PaymentsJournal:
    """The BatchAttachment of one pacs.008, pacs.009 or pacs.004: its claims, and the rows its results produce."""

    gateway_bic: str
    sender_bic: str
    header: BusinessHeader
    command: CreditTransfer | FinancialInstitutionTransfer | PaymentReturn
    message_type: str
    transfer_kind: TransferKind
    forward_type: MessageId
    payload: bytes
    payments: list[_Payment]
    inbound_id: UUID
    received_at_us: int
    wallets: dict[str, int]  # canonical BIC -> settlement wallet account id, from the directory in use
    wallet_codes: dict[str, str]  # canonical BIC -> that wallet's code
    credit_notified: frozenset[str]  # banks that asked for a camt.054 for every credit
    answer: Outbound | None = field(default=None)

    @property
    def claim_keys(self) -> list[str]:
        keys = [message_key(self.sender_bic, self.header.business_message_id)]
        for payment in self.payments:
            if payment.rejection is None:
                keys.extend(payment.claims)
        return keys

    @property
    def expected_payment_states(self) -> Sequence[tuple[UUID, PaymentState]]:
        return ()

    @property
    def conversion_uses(self) -> Sequence[ConversionUse]:
        return ()

    def requests(self) -> list[TransferRequest]:
        """The transfers of the payments still to settle now; numbers each payment's request as it goes."""
        requests = []
        reference = f"{self.sender_bic}:{self.header.business_message_id}"
        for payment in self.payments:
            payment.request_index = None
            if payment.rejection is not None or payment.warehoused:
                continue
            payment.request_index = len(requests)
            requests.append(payment.transfer(self.wallets, self.transfer_kind, reference))
        return requests

    def journal(self, results: Sequence[TransferResult], settled_at_us: int) -> JournalRows:
        settled_at = instant(settled_at_us)
        records: list[PaymentRecord] = []
        statuses: list[TransactionStatus] = []
        settled: list[_Payment] = []
        for payment in self.payments:
            rejection = payment.rejection
            if rejection is None and not payment.warehoused:
                assert payment.request_index is not None
                result = results[payment.request_index]
                if result is not TransferResult.OK:
                    rejection = ledger_reason(result)
            if rejection is not None:
                state, reasons = PaymentState.REJECTED, (status_reason(*rejection),)
                status = PaymentStatus.RJCT
            elif payment.warehoused:
                state, reasons, status = PaymentState.WAREHOUSED, (), PaymentStatus.PDNG
            else:
                state, reasons, status = PaymentState.SETTLED, (), PaymentStatus.ACSC
                settled.append(payment)
            records.append(
                PaymentRecord(
                    id=uuid.uuid4(),
                    transfer_id=payment.transfer_id,
                    message_id=self.inbound_id,
                    position=payment.position,
                    kind=payment.kind,
                    debtor_bic=payment.debtor_bic,
                    creditor_bic=payment.creditor_bic,
                    uetr=payment.uetr,
                    end_to_end_id=payment.end_to_end_id,
                    instruction_id=payment.instruction_id,
                    transaction_id=payment.transaction_id,
                    amount_kopecks=payment.amount.kopecks,
                    settlement_date=payment.settlement_date,
                    state=state,
                    reason_code=None if rejection is None else rejection[0],
                    claim_keys=() if rejection is not None else payment.claims,
                    original_payment_id=payment.original_payment_id,
                    created_at_us=settled_at_us,
                    settled_at_us=settled_at_us if state is PaymentState.SETTLED else None,
                )
            )
            statuses.append(payment.status(status, reasons, settled_at))
        self.answer = answers.status_report(
            self.gateway_bic,
            self.sender_bic,
            settled_at,
            self.header,
            _original(self.command, self.message_type),
            len(self.payments),
            statuses,
        )
        forwards = _forwards(
            self.gateway_bic, self.forward_type, self.command.group.settlement_method, settled, settled_at, self.header
        )
        notifications = _credit_notifications(
            self.gateway_bic, self.credit_notified, self.wallet_codes, self.header.business_message_id,
            self.forward_type == answers.pacs_004, settled, settled_at,
        )
        outbound = [self.answer, *forwards, *notifications]
        inbound = MessageRecord(
            id=self.inbound_id,
            direction=Direction.INBOUND,
            sender_bic=self.sender_bic,
            receiver_bic=self.gateway_bic,
            message_type=self.message_type,
            reference=self.header.business_message_id,
            idempotency_key=message_key(self.sender_bic, self.header.business_message_id),
            payload=self.payload,
            payload_sha256=payload_digest(self.payload),
            status=_message_status(records),
            answers_id=None,
            created_at_us=self.received_at_us,
        )
        messages, mailbox = _outbound_records(self.gateway_bic, outbound, inbound.id, settled_at_us)
        return JournalRows(messages=(inbound, *messages), payments=tuple(records), mailbox=mailbox)


def _original(
    command: CreditTransfer | FinancialInstitutionTransfer | PaymentReturn, message_type: str
) -> OriginalMessage:
    group = command.group
    return OriginalMessage(group.message_id, message_type, group.creation_time)


def _message_status(records: Sequence[PaymentRecord]) -> MessageStatus:
    states = {r.state for r in records}
    if states == {PaymentState.REJECTED}:
        return MessageStatus.REJECTED
    if PaymentState.REJECTED in states:
        return MessageStatus.PARTIALLY_ACCEPTED
    if PaymentState.WAREHOUSED in states:
        return MessageStatus.WAREHOUSED
    return MessageStatus.ACCEPTED


def _forwards(
    gateway_bic: str,
    forward_type: MessageId,
    settlement_method: str,
    settled: Sequence[_Payment],
    settled_at: datetime,
    answering: BusinessHeader | None,
) -> list[Outbound]:
    """One forwarded message per credited bank, holding that bank's settled transactions in message order."""
    by_creditor: dict[str, list[_Payment]] = {}
    for payment in settled:
        by_creditor.setdefault(payment.creditor_bic, []).append(payment)
    forwards = []
    for creditor_bic, payments in by_creditor.items():
        forward = Forward(
            message_id=answers.new_message_id(),
            creation_time=settled_at,
            instructing_agent_bic=gateway_bic,
            instructed_agent_bic=creditor_bic,
            settlement_method=settlement_method,
            total=Amount(sum(p.amount.kopecks for p in payments), payments[0].amount.currency),
            transactions=tuple(SettledTransaction(p.xml, settled_at) for p in payments),
        )
        forwards.append(answers.forwarded(gateway_bic, forward_type, forward, settled_at, answering))
    return forwards


def _credit_notifications(
    gateway_bic: str,
    credit_notified: frozenset[str],
    wallet_codes: dict[str, str],
    message_id: str,
    is_return: bool,
    settled: Sequence[_Payment],
    settled_at: datetime,
) -> list[Outbound]:
    """A camt.054 per credited bank that subscribed, for the credits this message brought it."""
    by_creditor: dict[str, list[answers.Credit]] = {}
    for payment in settled:
        if payment.creditor_bic not in credit_notified:
            continue
        by_creditor.setdefault(payment.creditor_bic, []).append(
            answers.Credit(
                wallet_code=wallet_codes[payment.creditor_bic],
                kopecks=payment.amount.kopecks,
                settled_at=settled_at,
                transfer_id=payment.transfer_id,
                message_id=message_id,
                end_to_end_id=payment.end_to_end_id,
                instruction_id=payment.instruction_id,
                transaction_id=payment.transaction_id,
                uetr=payment.uetr,
                debtor_agent_bic=payment.debtor_bic,
                creditor_agent_bic=payment.creditor_bic,
                is_return=is_return,
            )
        )
    return [answers.credit_notification(gateway_bic, bic, settled_at, credits) for bic, credits in by_creditor.items()]


def _outbound_records(
    gateway_bic: str, outbound: Sequence[Outbound], answers_id: UUID | None, now_us: int
) -> tuple[list[MessageRecord], tuple[MailboxEntry, ...]]:
    messages, mailbox = [], []
    for message in outbound:
        record = MessageRecord(
            id=uuid.uuid4(),
            direction=Direction.OUTBOUND,
            sender_bic=gateway_bic,
            receiver_bic=message.receiver_bic,
            message_type=str(message.message_id),
            reference=message.reference,
            idempotency_key=None,
            payload=message.payload,
            payload_sha256=payload_digest(message.payload),
            status=MessageStatus.DELIVERABLE,
            answers_id=answers_id,
            created_at_us=now_us,
        )
        messages.append(record)
        mailbox.append(MailboxEntry(message.receiver_bic, record.id))
    return messages, tuple(mailbox)


@dataclass(slots=True)
class _AnsweredJournal:
    """The BatchAttachment of a message that moves no money (refused, a status request, a DUPL): the inbound
    message and its answer, journaled and delivered through the same batches as everything else, so that mailbox
    order is commit order. Claims nothing."""

    inbound: MessageRecord
    answer: Outbound
    answer_receiver_bic: str | None  # None: the sender could not be named; the answer goes back on HTTP only
    later: tuple[Outbound, ...] = ()  # further answers, to the mailbox only (a report's other pages and wallets)

    @property
    def claim_keys(self) -> Sequence[str]:
        return ()

    @property
    def expected_payment_states(self) -> Sequence[tuple[UUID, PaymentState]]:
        return ()

    @property
    def conversion_uses(self) -> Sequence[ConversionUse]:
        return ()

    def journal(self, results: Sequence[TransferResult], settled_at_us: int) -> JournalRows:
        assert not results, "an answered message moves no money"
        assert self.inbound.receiver_bic is not None, "an inbound message is received by the gateway"
        gateway_bic = self.inbound.receiver_bic
        messages, mailbox = _outbound_records(gateway_bic, [self.answer, *self.later], self.inbound.id, settled_at_us)
        if self.answer_receiver_bic is None:
            assert not self.later, "further answers go to a named sender's mailbox"
            mailbox = ()
        return JournalRows(messages=(self.inbound, *messages), mailbox=mailbox)


@dataclass(slots=True)
class _WarehouseRelease:
    """The BatchAttachment that settles a message's warehoused payments on their settlement date: each must still be
    warehoused (not cancelled, not released by another process), its claims were taken when it arrived. The
    debtor agent is told the outcome with a pacs.002, the creditor agent gets the forwarded payment."""

    gateway_bic: str
    sender_bic: str
    header: BusinessHeader | None
    original: OriginalMessage
    number_of_transactions: int
    forward_type: MessageId
    settlement_method: str
    payments: list[tuple[PaymentRecord, _Payment]]
    inbound_id: UUID
    wallets: dict[str, int]
    wallet_codes: dict[str, str]
    credit_notified: frozenset[str]

    @property
    def claim_keys(self) -> Sequence[str]:
        return ()

    @property
    def expected_payment_states(self) -> Sequence[tuple[UUID, PaymentState]]:
        return [(record.id, PaymentState.WAREHOUSED) for record, _ in self.payments]

    @property
    def conversion_uses(self) -> Sequence[ConversionUse]:
        return ()

    def requests(self) -> list[TransferRequest]:
        reference = f"{self.sender_bic}:{self.original.message_id}"
        return [payment.transfer(self.wallets, TransferKind.PAYMENT, reference) for _, payment in self.payments]

    def journal(self, results: Sequence[TransferResult], settled_at_us: int) -> JournalRows:
        settled_at = instant(settled_at_us)
        updates, statuses, settled, released = [], [], [], []
        for (record, payment), result in zip(self.payments, results, strict=True):
            if result is TransferResult.OK:
                update = PaymentUpdate(record.id, PaymentState.WAREHOUSED, PaymentState.SETTLED, settled_at_us, None)
                status, reasons = PaymentStatus.ACSC, ()
                settled.append(payment)
            else:
                code, text = ledger_reason(result)
                update = PaymentUpdate(record.id, PaymentState.WAREHOUSED, PaymentState.REJECTED, None, code)
                status, reasons = PaymentStatus.RJCT, (status_reason(code, text),)
                released.extend(payment.claims)  # as taken when it arrived: its UETR and EndToEndId
            updates.append(update)
            statuses.append(payment.status(status, reasons, settled_at))
        report = answers.status_report(
            self.gateway_bic, self.sender_bic, settled_at, self.header, self.original, self.number_of_transactions,
            statuses,
        )
        forwards = _forwards(
            self.gateway_bic, self.forward_type, self.settlement_method, settled, settled_at, self.header
        )
        notifications = _credit_notifications(
            self.gateway_bic, self.credit_notified, self.wallet_codes, self.original.message_id, False, settled,
            settled_at,
        )
        outbound = [report, *forwards, *notifications]
        messages, mailbox = _outbound_records(self.gateway_bic, outbound, self.inbound_id, settled_at_us)
        return JournalRows(
            messages=tuple(messages), mailbox=mailbox, payment_updates=tuple(updates), released_claims=tuple(released)
        )


# --------------------------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------------------------


class Settlement:
    """Turns one message into its answer. Shares the process's auto-batcher; holds no per-message state."""

    def __init__(
        self,
        config: Config,
        batcher: AutoBatcher,
        journal: JournalReads,
        directory: Directory,
        clock_us: Callable[[], int],
        conversions: Conversions | None = None,
        reports: AccountReports | None = None,
    ) -> None:
        self.gateway_bic = config.central_bank.bic
        self.conversions = conversions  # camt.050: None where no RTGS is attached (then refused as not settled)
        self.reports = reports  # camt.060: None refuses it as not answered by this gateway
        self.credit_notified = frozenset(p.bic for p in config.participants if p.credit_notifications)
        self._batcher = batcher
        self.journal = journal
        self.directory = directory  # replaced by the app's refresher every few seconds
        self.clock_us = clock_us

    def queued_transfers(self) -> int:
        return self._batcher.queued_transfers

    async def receive(self, data: bytes, authenticated_bic: str | None) -> Reply:
        """The answer to one message from a bank. `authenticated_bic` is the mTLS client certificate's BIC (None
        only in the loopback development mode, where the AppHdr's Fr is taken at its word)."""
        # Reading a message is work that can wait while this process's batch holds the ledger's lock.
        await self._batcher.ledger_unlocked()
        received_at_us = self.clock_us()
        now = instant(received_at_us)
        directory = self.directory
        outcome = intake(
            data,
            allow_bare_document=False,
            context=directory.rule_context(now.date(), authenticated_bic),
        )
        if isinstance(outcome, Refused):
            return await self._refused(data, outcome, authenticated_bic, received_at_us)
        header = outcome.header
        assert header is not None, "the HTTP intake never allows a bare Document"
        assert header.from_bic is not None, "sender_is_debtor names the sender of every accepted message"
        sender = canonical_bic(header.from_bic)
        to_bic = None if header.to_bic is None else canonical_bic(header.to_bic)
        if to_bic != self.gateway_bic:
            text = f"AppHdr/To names {header.to_bic}: messages for settlement are addressed to {self.gateway_bic}"
            rejection = Rejection("RC02", f"{header.path}/To/FIId/FinInstnId/BICFI", text, Layer.BUSINESS)
            return await self._answer_rejected(data, sender, header, str(outcome.message_id), rejection, received_at_us)
        command = outcome.command
        message_type = str(outcome.message_id)
        if isinstance(command, CreditTransfer | FinancialInstitutionTransfer | PaymentReturn):
            return await self._settle_payments(data, sender, header, command, message_type, received_at_us)
        if isinstance(command, StatusRequest):
            return await self._status(data, sender, header, command, message_type, received_at_us)
        if isinstance(command, CancellationRequest):
            return await self._cancel(data, sender, header, command, message_type, received_at_us)
        if isinstance(command, ResolutionOfInvestigation):
            return await self._route_resolution(data, sender, header, command, message_type, received_at_us)
        if isinstance(command, AccountReportingRequest) and self.reports is not None:
            return await self._report(data, sender, header, command, message_type, received_at_us)
        if isinstance(command, LiquidityTransfer) and self.conversions is not None:
            answer = await self.conversions.receive(
                data, sender, header, command, message_type, received_at_us, directory.wallet_ids
            )
            return Reply(200, answer.payload, answer.outcome, message_type)
        text = f"{message_type} is read but not yet settled by this gateway version"
        rejection = Rejection("FF01", "", text, Layer.BUSINESS)
        return await self._answer_rejected(data, sender, header, message_type, rejection, received_at_us)

    # --- pacs.008 and pacs.009 -------------------------------------------------------------------------------

    async def _settle_payments(
        self,
        data: bytes,
        sender: str,
        header: BusinessHeader,
        command: CreditTransfer | FinancialInstitutionTransfer | PaymentReturn,
        message_type: str,
        received_at_us: int,
    ) -> Reply:
        duplicates: set[str] = set()
        returning = isinstance(command, PaymentReturn)
        for _ in range(conflict_retries_max):
            directory = self.directory
            today = instant(received_at_us).date()
            if isinstance(command, PaymentReturn):
                payments = await self._returns(sender, command, directory, today, duplicates)
            else:
                payments = self._payments(command, directory, today, duplicates)
            attachment = _PaymentsJournal(
                gateway_bic=self.gateway_bic,
                sender_bic=sender,
                header=header,
                command=command,
                message_type=message_type,
                transfer_kind=TransferKind.RETURN if returning else TransferKind.PAYMENT,
                forward_type=_forward_type(command),
                payload=data,
                payments=payments,
                wallet_codes=directory.settlement_wallet_codes,
                credit_notified=self.credit_notified,
                inbound_id=uuid.uuid4(),
                received_at_us=received_at_us,
                wallets=directory.settlement_wallets,
            )
            try:
                await self._batcher.submit(attachment.requests(), attachment)
            except JournalConflict:
                replay = await self._replay(data, sender, header, message_type, received_at_us)
                if replay is not None:
                    return replay
                keys = [key for payment in attachment.payments for key in payment.claims]
                duplicates |= await self.journal.taken_claims(keys)
                continue
            assert attachment.answer is not None, "the batch journaled the message, so its answer was built"
            return Reply(200, attachment.answer.payload, "accepted", message_type)
        raise JournalConflictsPersist(f"{sender}:{header.business_message_id} conflicted {conflict_retries_max} times")

    def _payments(
        self,
        command: CreditTransfer | FinancialInstitutionTransfer,
        directory: Directory,
        today: date,
        duplicates: set[str],
    ) -> list[_Payment]:
        payments = []
        customer = isinstance(command, CreditTransfer)
        for position, tx in enumerate(command.transactions, start=1):
            debtor_agent = tx.debtor_agent if customer else tx.debtor  # type: ignore[union-attr]
            creditor_agent = tx.creditor_agent if customer else tx.creditor  # type: ignore[union-attr]
            # The usage guideline and business rules have required all of these by now.
            assert debtor_agent is not None and debtor_agent.bic is not None
            assert creditor_agent is not None and creditor_agent.bic is not None
            assert tx.uetr is not None
            settlement_date = tx.settlement_date or command.group.settlement_date
            assert settlement_date is not None
            debtor, creditor = canonical_bic(debtor_agent.bic), canonical_bic(creditor_agent.bic)
            payment = _Payment(
                position=position,
                kind=PaymentKind.CUSTOMER_CREDIT_TRANSFER if customer else PaymentKind.INSTITUTION_CREDIT_TRANSFER,
                debtor_bic=debtor,
                creditor_bic=creditor,
                uetr=tx.uetr,
                end_to_end_id=tx.end_to_end_id,
                instruction_id=tx.instruction_id,
                transaction_id=tx.transaction_id,
                amount=tx.amount,
                settlement_date=settlement_date,
                xml=xml_source(tx),
                transfer_id=payment_transfer_id(debtor, tx.uetr),
                claims=(uetr_key(debtor, tx.uetr), end_to_end_key(debtor, tx.end_to_end_id)),
                warehoused=settlement_date > today,
            )
            uetr_taken, end_to_end_taken = (key in duplicates for key in payment.claims)
            if uetr_taken:
                payment.rejection = (duplicate, f"UETR {payment.uetr} was already used by {debtor}")
            elif end_to_end_taken:
                payment.rejection = (duplicate, f"EndToEndId was already used by {debtor}")
            elif debtor not in directory.settlement_wallets:
                payment.rejection = ("DNOR", f"{debtor} has no wallet on the ledger")
            elif creditor not in directory.settlement_wallets:
                payment.rejection = ("CNOR", f"{creditor} has no wallet on the ledger")
            payments.append(payment)
        return payments

    async def _returns(
        self, sender: str, command: PaymentReturn, directory: Directory, today: date, duplicates: set[str]
    ) -> list[_Payment]:
        """Each pacs.004 transaction returns (part of) a payment the sender received and that settled: from the
        sender's wallet back to the original debtor agent's, at most once per payment, never more than it was."""
        uetrs = [tx.original_uetr for tx in command.transactions if tx.original_uetr is not None]
        received = {p.uetr: p for p in await self.journal.payments_received(sender, uetrs)
                    if p.state is PaymentState.SETTLED and p.kind is not PaymentKind.RETURN}
        payments = []
        for position, tx in enumerate(command.transactions, start=1):
            assert tx.original_uetr is not None, "uetr_required asks every return for the original's UETR"
            original = received.get(tx.original_uetr)
            creditor = original.debtor_bic if original is not None else self.gateway_bic
            payment = _Payment(
                position=position,
                kind=PaymentKind.RETURN,
                debtor_bic=sender,
                creditor_bic=creditor,
                uetr=tx.original_uetr,
                end_to_end_id=tx.return_id or tx.original_end_to_end_id or tx.original_uetr.hex[:35],
                instruction_id=tx.original_instruction_id,
                transaction_id=tx.original_transaction_id,
                amount=tx.returned_amount,
                settlement_date=today,
                xml=xml_source(tx),
                transfer_id=return_transfer_id(tx.original_uetr if original is None else original.id),
                claims=(return_key(original.id),) if original is not None else (),
                original_payment_id=None if original is None else original.id,
            )
            if original is None:
                text = f"no settled payment with UETR {tx.original_uetr} credited to {sender} is known"
                payment.rejection = ("NARR", text)
            elif payment.claims[0] in duplicates:
                payment.rejection = (duplicate, f"the payment with UETR {tx.original_uetr} was already returned")
            elif tx.returned_amount.kopecks > original.amount_kopecks:
                text = f"returns more than the {text_from_kopecks(original.amount_kopecks)} RUB that settled"
                payment.rejection = ("AM02", text)
            elif sender not in directory.settlement_wallets or creditor not in directory.settlement_wallets:
                payment.rejection = ("CNOR", f"{creditor} has no wallet on the ledger")
            payments.append(payment)
        return payments

    async def _replay(
        self, data: bytes, sender: str, header: BusinessHeader, message_type: str, received_at_us: int
    ) -> Reply | None:
        """The answer to a message whose (sender, MsgId) is already journaled: the stored answer when it is the
        same message, DUPL when the id carries different content. None when the message itself is new."""
        stored = await self.journal.message_by_key(message_key(sender, header.business_message_id))
        if stored is None:
            return None
        if stored.payload_sha256 == payload_digest(data):
            answer = await self.journal.answer_to(stored.id, sender)
            assert answer is not None, "a journaled message is journaled with its answer"
            return Reply(200, answer.payload, "replayed", message_type)
        log.warning("%s reused message id %r for different content", sender, header.business_message_id)
        text = f"message id {header.business_message_id} was already used by {sender} for a different message"
        rejection = Rejection(duplicate, f"{header.path}/BizMsgIdr", text, Layer.BUSINESS)
        return await self._answer_rejected(data, sender, header, message_type, rejection, received_at_us)

    # --- warehoused payments ------------------------------------------------------------------------------------

    async def settle_due(self, payments_max: int) -> int:
        """Settle warehoused payments whose settlement date has come (run from the start of each business day).
        Returns how many were released. Another process releasing the same message first is a JournalConflict,
        which leaves the work to it."""
        today = instant(self.clock_us()).date()
        due = await self.journal.warehoused_due(today, payments_max)
        by_message: dict[UUID, list[PaymentRecord]] = {}
        for record in due:
            by_message.setdefault(record.message_id, []).append(record)
        released = 0
        for message_id, records in by_message.items():
            stored = await self.journal.message(message_id)
            assert stored is not None and stored.sender_bic is not None
            header, unwrapped = reread(stored.payload)
            command = read_command(unwrapped)
            assert isinstance(command, CreditTransfer | FinancialInstitutionTransfer)
            directory = self.directory
            prepared = self._payments(command, directory, today, set())
            release = _WarehouseRelease(
                gateway_bic=self.gateway_bic,
                sender_bic=stored.sender_bic,
                header=header,
                original=_original(command, stored.message_type or ""),
                number_of_transactions=len(command.transactions),
                forward_type=_forward_type(command),
                settlement_method=command.group.settlement_method,
                payments=[(record, prepared[record.position - 1]) for record in records],
                inbound_id=message_id,
                wallets=directory.settlement_wallets,
                wallet_codes=directory.settlement_wallet_codes,
                credit_notified=self.credit_notified,
            )
            try:
                await self._batcher.submit(release.requests(), release)
            except JournalConflict:
                continue
            released += len(records)
        return released

    # --- camt.056 ----------------------------------------------------------------------------------------------

    async def _cancel(
        self,
        data: bytes,
        sender: str,
        header: BusinessHeader,
        command: CancellationRequest,
        message_type: str,
        received_at_us: int,
    ) -> Reply:
        """A bank asks to cancel payments it sent. A warehoused one the gateway cancels itself (ACCR); a settled one
        is the creditor agent's to decide: the request goes on to it (PDCR), and its camt.029 comes back through
        the gateway, and a pacs.004 from it returns the money. Anything else is refused with its reason."""
        for _ in range(conflict_retries_max):
            now = instant(self.clock_us())
            statuses: list[CancellationTransactionStatus] = []
            cancelled: list[PaymentRecord] = []
            forwarded: dict[str, set[str]] = {}  # creditor agent -> element paths of its TxInf
            for tx in command.transactions:
                payment = await self._payment_to_cancel(sender, tx)
                status, reasons = CancellationStatus.RJCR, (cancellation_reason(no_original_transaction),)
                if payment is None:
                    pass
                elif payment.state is PaymentState.WAREHOUSED:
                    status, reasons = CancellationStatus.ACCR, ()
                    cancelled.append(payment)
                elif payment.state is PaymentState.SETTLED:
                    if await self.journal.taken_claims([return_key(payment.id)]):
                        reasons = (cancellation_reason(already_returned),)
                    else:
                        status, reasons = CancellationStatus.PDCR, ()
                        forwarded.setdefault(payment.creditor_bic, set()).add(tx.path)
                elif payment.state is PaymentState.CANCELLED:
                    reasons = (CancellationReason(None, ("the payment was already cancelled",)),)
                else:
                    reasons = (CancellationReason(None, ("the payment was rejected and never settled",)),)
                statuses.append(_cancellation_status(tx, payment, status, reasons))
            answer = answers.resolution(
                self.gateway_bic, sender, now, header, _resolution(self.gateway_bic, sender, command, now, statuses)
            )
            passed_on = [
                answers.passed_on(self.gateway_bic, creditor, answers.camt_056, _cut_to(data, paths), now, header)
                for creditor, paths in forwarded.items()
            ]
            attachment = _InvestigationJournal(
                inbound=self._inbound_record(
                    data, sender, message_type, header.business_message_id, MessageStatus.ACCEPTED, received_at_us,
                    claimed=True,
                ),
                outbound=[answer, *passed_on],
                cancelled=cancelled,
            )
            try:
                await self._batcher.submit((), attachment)
            except JournalConflict:
                replay = await self._replay(data, sender, header, message_type, received_at_us)
                if replay is not None:
                    return replay
                continue  # a payment moved (released, cancelled) since it was looked up: look again
            return Reply(200, answer.payload, "accepted", message_type)
        raise JournalConflictsPersist(f"{sender}:{header.business_message_id} conflicted {conflict_retries_max} times")

    async def _route_resolution(
        self,
        data: bytes,
        sender: str,
        header: BusinessHeader,
        resolution: ResolutionOfInvestigation,
        message_type: str,
        received_at_us: int,
    ) -> Reply:
        """A creditor agent's camt.029 answering a cancellation request the gateway passed on: it goes, untouched
        under a new AppHdr, to the bank whose payments it names, which must all have credited the sender. Answered
        202: the answer to it is the requester's business."""
        uetrs = [tx.original_uetr for tx in resolution.transactions if tx.original_uetr is not None]
        received = {p.uetr: p for p in await self.journal.payments_received(sender, uetrs)
                    if p.kind is not PaymentKind.RETURN}
        requesters = {received[u].debtor_bic for u in uetrs if u in received}
        unknown = [tx for tx in resolution.transactions if tx.original_uetr not in received]
        if unknown or len(requesters) != 1:
            text = (
                f"a camt.029 answers payments {sender} received, of one debtor agent, each named by its OrgnlUETR"
            )
            rejection = Rejection("AG01", "", text, Layer.BUSINESS)
            return await self._answer_rejected(data, sender, header, message_type, rejection, received_at_us)
        requester = requesters.pop()
        now = instant(self.clock_us())
        _, unwrapped = reread(data)
        passed_on = answers.passed_on(self.gateway_bic, requester, answers.camt_029, unwrapped.document, now, header)
        inbound = self._inbound_record(
            data, sender, message_type, header.business_message_id, MessageStatus.ACCEPTED, received_at_us,
            claimed=True,
        )
        try:
            await self._batcher.submit((), _InvestigationJournal(inbound, [passed_on], []))
        except JournalConflict:
            stored = await self.journal.message_by_key(message_key(sender, header.business_message_id))
            if stored is not None and stored.payload_sha256 == payload_digest(data):
                return Reply(202, b"", "replayed", message_type)
            replay = await self._replay(data, sender, header, message_type, received_at_us)
            assert replay is not None, "only the message's own key can conflict: it claims nothing else"
            return replay
        return Reply(202, b"", "accepted", message_type)

    async def _payment_to_cancel(self, sender: str, tx: TransactionCancellation) -> PaymentRecord | None:
        """The sender's payment a cancellation names, by UETR (the usage guideline requires it) or EndToEndId."""
        uetrs = [tx.original_uetr] if tx.original_uetr is not None else []
        end_to_end_ids = [tx.original_end_to_end_id] if tx.original_end_to_end_id is not None else []
        found = await self.journal.find_payments(sender, uetrs, end_to_end_ids)
        if tx.original_uetr is not None:
            found = [p for p in found if p.uetr == tx.original_uetr]
        found = [p for p in found if p.kind is not PaymentKind.RETURN]
        live = [p for p in found if p.state is not PaymentState.REJECTED]
        return (live or found or [None])[0]

    # --- pacs.028 ----------------------------------------------------------------------------------------------

    async def _status(
        self,
        data: bytes,
        sender: str,
        header: BusinessHeader,
        command: StatusRequest,
        message_type: str,
        received_at_us: int,
    ) -> Reply:
        """The current status of each payment asked about, as the sender's own payments: a bank sees only what it
        sent (as debtor agent)."""
        statuses: list[TransactionStatus] = []
        for group in command.original_groups:
            original = await self.journal.inbound_by_reference(sender, group.original_message.message_id)
            payments = [] if original is None else await self.journal.payments_of_message(original.id)
            if not payments:
                statuses.append(_unknown(group.original_message, None, None, None))
            statuses.extend(_status_of(p, group.original_message) for p in payments)
        for request in command.transactions:
            uetrs = [request.original_uetr] if request.original_uetr is not None else []
            end_to_end_ids = [request.original_end_to_end_id] if request.original_end_to_end_id is not None else []
            found = await self.journal.find_payments(sender, uetrs, end_to_end_ids)
            if request.original_uetr is not None:
                found = [p for p in found if p.uetr == request.original_uetr]
            if not found:
                statuses.append(
                    _unknown(request.original_message, request.original_uetr, request.original_end_to_end_id,
                             request.original_instruction_id)
                )
                continue
            # The attempt that holds the payment's claim (settled, warehoused, cancelled) is its status; rejected
            # attempts (a DUPL resend, an AM04 before funding) only when there is nothing else. Newest first.
            live = [p for p in found if p.state is not PaymentState.REJECTED]
            statuses.append(_status_of((live or found)[0], request.original_message))
        now = instant(self.clock_us())
        answer = answers.status_report_for_request(self.gateway_bic, sender, now, header, statuses)
        inbound = self._inbound_record(data, sender, message_type, header.business_message_id, MessageStatus.ACCEPTED,
                                       received_at_us)
        await self._batcher.submit((), _AnsweredJournal(inbound, answer, sender))
        return Reply(200, answer.payload, "accepted", message_type)

    # --- camt.060 ----------------------------------------------------------------------------------------------

    async def _report(
        self,
        data: bytes,
        sender: str,
        header: BusinessHeader,
        command: AccountReportingRequest,
        message_type: str,
        received_at_us: int,
    ) -> Reply:
        """Reports on the sender's wallets as the ledger stands now: every page to the mailbox, the first one also
        back on HTTP. Not claimed: a repeated request is answered again, with what is true by then."""
        assert self.reports is not None
        try:
            outbound = await self.reports.answer(command, sender, header, self.directory.wallet_ids, self.clock_us())
        except ReportTooLong as error:
            rejection = Rejection("NARR", error.request.path, str(error), Layer.BUSINESS)
            return await self._answer_rejected(data, sender, header, message_type, rejection, received_at_us)
        if not outbound:
            rejection = Rejection("NARR", command.path, f"{sender} has no wallet to report on", Layer.BUSINESS)
            return await self._answer_rejected(data, sender, header, message_type, rejection, received_at_us)
        inbound = self._inbound_record(data, sender, message_type, header.business_message_id, MessageStatus.ACCEPTED,
                                       received_at_us)
        await self._batcher.submit((), _AnsweredJournal(inbound, outbound[0], sender, tuple(outbound[1:])))
        return Reply(200, outbound[0].payload, "accepted", message_type)

    # --- refusals ----------------------------------------------------------------------------------------------

    async def _refused(
        self, data: bytes, outcome: Refused, authenticated_bic: str | None, received_at_us: int
    ) -> Reply:
        header = outcome.header
        sender = authenticated_bic
        if sender is None and header is not None and header.from_bic is not None:
            sender = canonical_bic(header.from_bic)
        now = instant(received_at_us)
        command = outcome.command
        message_type = None if outcome.message_id is None else str(outcome.message_id)
        if isinstance(command, CreditTransfer | FinancialInstitutionTransfer) and sender is not None:
            answer = self._payments_refused(sender, now, header, command, message_type or "", outcome.rejections)
        else:
            # Addressed to the sender when it can be named; else to the gateway itself, and only sent on HTTP.
            first = outcome.rejections[0]
            receiver = sender or self.gateway_bic
            answer = answers.message_rejected(self.gateway_bic, receiver, now, header, first, outcome.reference)
        inbound = self._inbound_record(data, sender, message_type, outcome.reference, MessageStatus.REJECTED,
                                       received_at_us)
        await self._batcher.submit((), _AnsweredJournal(inbound, answer, sender))
        # A message sent in another bank's name is an authorisation failure, not a business answer.
        forbidden = any(r.code == "AG01" and r.path.endswith("/Fr/FIId/FinInstnId/BICFI") for r in outcome.rejections)
        status = 403 if forbidden and authenticated_bic is not None else 200
        return Reply(status, answer.payload, "rejected", message_type or "unreadable")

    def _payments_refused(
        self,
        sender: str,
        now: datetime,
        header: BusinessHeader | None,
        command: CreditTransfer | FinancialInstitutionTransfer,
        message_type: str,
        rejections: Sequence[Rejection],
    ) -> Outbound:
        """A pacs.002 refusing every transaction of a message a rule refused: each transaction with the reasons
        found in it, or a narrative pointing at the group's reasons."""
        statuses = []
        for tx in command.transactions:
            reasons = answers.rejection_reasons(rejections, tx.path)
            if not reasons:
                reasons = [answers.narrative("not settled: the message was refused, see the group status reasons")]
            statuses.append(
                answers.transaction_status(
                    end_to_end_id=tx.end_to_end_id,
                    instruction_id=tx.instruction_id,
                    transaction_id=tx.transaction_id,
                    uetr=tx.uetr,
                    status=PaymentStatus.RJCT,
                    reasons=reasons[: answers.group_reasons_max],
                )
            )
        return answers.status_report(
            self.gateway_bic,
            sender,
            now,
            header,
            _original(command, message_type),
            len(command.transactions),
            statuses,
            group_reasons=answers.rejection_reasons(rejections),
            group_status=PaymentStatus.RJCT,
        )

    async def _answer_rejected(
        self, data: bytes, sender: str, header: BusinessHeader, message_type: str, rejection: Rejection,
        received_at_us: int,
    ) -> Reply:
        now = instant(received_at_us)
        answer = answers.message_rejected(self.gateway_bic, sender, now, header, rejection, header.business_message_id)
        inbound = self._inbound_record(data, sender, message_type, header.business_message_id, MessageStatus.REJECTED,
                                       received_at_us)
        await self._batcher.submit((), _AnsweredJournal(inbound, answer, sender))
        return Reply(200, answer.payload, "rejected", message_type)

    def _inbound_record(
        self, data: bytes, sender: str | None, message_type: str | None, reference: str | None,
        status: MessageStatus, received_at_us: int, claimed: bool = False,
    ) -> MessageRecord:
        """The journal's record of a message received. `claimed`: it takes its (sender, reference) idempotency key,
        so that a repeat is answered from the journal."""
        assert not claimed or (sender is not None and reference is not None)
        return MessageRecord(
            id=uuid.uuid4(),
            direction=Direction.INBOUND,
            sender_bic=sender,
            receiver_bic=self.gateway_bic,
            message_type=message_type,
            reference=reference,
            idempotency_key=message_key(sender, reference) if claimed and sender and reference else None,
            payload=data,
            payload_sha256=payload_digest(data),
            status=status,
            answers_id=None,
            created_at_us=received_at_us,
        )


def _forward_type(command: CreditTransfer | FinancialInstitutionTransfer | PaymentReturn) -> MessageId:
    if isinstance(command, CreditTransfer):
        return answers.pacs_008
    if isinstance(command, FinancialInstitutionTransfer):
        return answers.pacs_009
    return answers.pacs_004


@dataclass(slots=True)
class _InvestigationJournal:
    """The BatchAttachment of a cancellation case's messages: a camt.056 with the gateway's camt.029, the requests
    passed on to creditor agents and the warehoused payments it cancels (each must still be warehoused); or a
    creditor agent's camt.029 with its copy for the requester."""

    inbound: MessageRecord
    outbound: list[Outbound]
    cancelled: list[PaymentRecord]

    @property
    def claim_keys(self) -> Sequence[str]:
        assert self.inbound.idempotency_key is not None
        return (self.inbound.idempotency_key,)

    @property
    def expected_payment_states(self) -> Sequence[tuple[UUID, PaymentState]]:
        return [(payment.id, PaymentState.WAREHOUSED) for payment in self.cancelled]

    @property
    def conversion_uses(self) -> Sequence[ConversionUse]:
        return ()

    def journal(self, results: Sequence[TransferResult], settled_at_us: int) -> JournalRows:
        assert not results, "a cancellation moves no money"
        assert self.inbound.receiver_bic is not None
        messages, mailbox = _outbound_records(self.inbound.receiver_bic, self.outbound, self.inbound.id, settled_at_us)
        updates = tuple(
            PaymentUpdate(p.id, PaymentState.WAREHOUSED, PaymentState.CANCELLED, None, None) for p in self.cancelled
        )
        return JournalRows(messages=(self.inbound, *messages), mailbox=mailbox, payment_updates=updates)


def _cancellation_status(
    tx: TransactionCancellation,
    payment: PaymentRecord | None,
    status: CancellationStatus,
    reasons: tuple[CancellationReason, ...],
) -> CancellationTransactionStatus:
    return CancellationTransactionStatus(
        cancellation_status_id=None,
        original_message=tx.original_message,
        original_instruction_id=tx.original_instruction_id,
        original_end_to_end_id=tx.original_end_to_end_id,
        original_transaction_id=tx.original_transaction_id,
        original_clearing_system_reference=None if payment is None else payment.transfer_id.hex,
        original_uetr=tx.original_uetr,
        status=status,
        reasons=reasons,
        original_amount=None if payment is None else Amount(payment.amount_kopecks, "RUB"),
        original_settlement_date=None if payment is None else payment.settlement_date,
    )


def _resolution(
    gateway_bic: str, requester_bic: str, command: CancellationRequest, now: datetime,
    statuses: Sequence[CancellationTransactionStatus],
) -> ResolutionOfInvestigation:
    """Sts/Conf: CNCL when every payment asked about was cancelled, RJCR when none was and none is pending, PDCR
    while a creditor agent has still to decide. Each transaction carries its own status."""
    kinds = {s.status for s in statuses}
    if CancellationStatus.PDCR in kinds:
        overall = InvestigationStatus.PDCR
    elif kinds == {CancellationStatus.ACCR}:
        overall = InvestigationStatus.CNCL
    elif CancellationStatus.ACCR in kinds:
        overall = InvestigationStatus.CNCL  # partly: the refused ones say RJCR with their reasons
    else:
        overall = InvestigationStatus.RJCR
    case = command.case
    resolved = None
    if case is not None and case.creator.agent is not None and case.creator.agent.bic is not None:
        resolved = ResolvedCase(case.case_id, canonical_bic(case.creator.agent.bic))
    return ResolutionOfInvestigation(
        assignment=CaseAssignment(answers.new_message_id(), gateway_bic, requester_bic, now),
        resolved_case=resolved,
        status=overall,
        transactions=tuple(statuses),
    )


def _cut_to(payload: bytes, transaction_paths: set[str]) -> etree._Element:
    """The camt.056 Document of `payload` holding only the TxInf at `transaction_paths` (one creditor agent's):
    a bank sees no other bank's payments. CtrlData, whose counts would no longer hold, goes."""
    _, unwrapped = reread(payload)
    document = unwrapped.document
    namespace = answers.camt_056.namespace
    for transaction in list(document.iter(f"{{{namespace}}}TxInf")):
        if element_path(transaction) not in transaction_paths:
            transaction.getparent().remove(transaction)
    for control in list(document.iter(f"{{{namespace}}}CtrlData")):
        control.getparent().remove(control)
    for underlying in list(document.iter(f"{{{namespace}}}Undrlyg")):
        if next(underlying.iter(f"{{{namespace}}}TxInf"), None) is None:
            underlying.getparent().remove(underlying)
    return document


class JournalConflictsPersist(Exception):
    """A message kept conflicting with the journal: answered 503, the bank retries (the same answer then)."""


def _status_of(payment: PaymentRecord, original: OriginalMessage | None) -> TransactionStatus:
    reasons: tuple[StatusReason, ...] = ()
    settled_at = None
    if payment.state is PaymentState.SETTLED:
        status = PaymentStatus.ACSC
        assert payment.settled_at_us is not None
        settled_at = instant(payment.settled_at_us)
    elif payment.state is PaymentState.WAREHOUSED:
        status = PaymentStatus.PDNG
    elif payment.state is PaymentState.CANCELLED:
        status = PaymentStatus.RJCT
        reasons = (answers.narrative("cancelled at the debtor agent's request before its settlement date"),)
    else:
        status = PaymentStatus.RJCT
        assert payment.reason_code is not None
        reasons = (status_reason(payment.reason_code),)
    return answers.transaction_status(
        end_to_end_id=payment.end_to_end_id,
        instruction_id=payment.instruction_id,
        transaction_id=payment.transaction_id,
        uetr=payment.uetr,
        status=status,
        reasons=reasons,
        settled_at=settled_at,
        transfer_id=payment.transfer_id if status is PaymentStatus.ACSC else None,
        original_message=original,
    )


def _unknown(
    original: OriginalMessage | None, uetr: UUID | None, end_to_end_id: str | None, instruction_id: str | None
) -> TransactionStatus:
    return answers.transaction_status(
        end_to_end_id=end_to_end_id,
        instruction_id=instruction_id,
        transaction_id=None,
        uetr=uetr,
        status=PaymentStatus.RJCT,
        reasons=(answers.narrative("no such payment from this sender is known to the gateway"),),
        original_message=original,
    )
