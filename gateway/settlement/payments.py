"""Payments: pacs.008 (customer credit transfers), pacs.009 (bank-to-bank) and pacs.004 (returns) in, ledger
transfers, a pacs.002 to the sender and the settled transactions forwarded to each creditor agent out.

    Received -> a _Payment per transaction (rejected before the ledger where it must be) -> PaymentsJournal through
    the auto-batcher (transfers, claims and journal rows in one database transaction) -> the pacs.002 it built

Exactly once: a message claims its idempotency key (sender, MsgId), each payment its UETR (universally: a UETR any
participant used is a duplicate for every other) and its (instructing agent, TxId), and each return the payment it
returns, in the same database transaction that posts its transfers. The claims are checked under the ledger's head
lock, so two copies of a message, in one process or two, can never both settle: the second finds its key taken
(JournalConflict), and the inbound path answers it from the journal. A payment whose UETR or TxId was already used
is rejected DUPL and the rest of its message settles. EndToEndId is the debtor customer's reference, carried
untouched and never a key. Future-dated payments are warehoused (PDNG) and settled by gateway.settlement.warehouse.

A return names the payment it returns by its full original reference (gateway.settlement.originals), and its
pacs.002 quotes it as CBPR+ does: OrgnlInstrId the return's RtrId, then the returned payment's OrgnlEndToEndId,
OrgnlTxId and OrgnlUETR.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from gateway.config import canonical_bic
from gateway.domain.calendar import instant
from gateway.domain.conversion import ConversionUse
from gateway.domain.journal import (
    Direction,
    JournalRows,
    MessageRecord,
    MessageStatus,
    PaymentKind,
    PaymentRecord,
    PaymentState,
    message_key,
    payload_digest,
    payment_transfer_id,
    return_key,
    return_transfer_id,
    transaction_key,
    uetr_key,
)
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from gateway.domain.money import text_from_kopecks
from gateway.handling.directory import Directory
from gateway.handling.journaling import AnsweringFlow, Journaling, outbound_records
from gateway.handling.received import Received, Reply
from gateway.messages import answers, codes
from gateway.messages.answers import Outbound
from gateway.messages.commands import (
    Amount,
    BusinessHeader,
    CreditTransfer,
    FinancialInstitutionTransfer,
    OriginalMessage,
    PaymentReturn,
    ReturnTransaction,
    XmlSource,
    xml_source,
)
from gateway.messages.identity import MessageId
from gateway.messages.reports import (
    PaymentStatus,
    StatusReason,
    TransactionStatus,
    status_reason,
)
from gateway.messages.writers import Recipients
from gateway.messages.writers._credit_transfer import Forward, SettledTransaction
from gateway.settlement import originals
from gateway.settlement.originals import OriginalReference, Party

# ExternalStatusReason1Code values for what the ledger refused.
_ledger_reasons: dict[TransferResult, tuple[str, str]] = {
    TransferResult.INSUFFICIENT_FUNDS: (codes.insufficient_funds, "insufficient funds in the debtor agent's wallet"),
    TransferResult.TRANSFER_ABOVE_LIMIT: (codes.not_allowed_amount, "above the debtor agent's limit for one transfer"),
    TransferResult.BALANCE_ABOVE_LIMIT: (
        codes.not_allowed_amount, "would take the creditor agent's wallet above its balance limit"
    ),
    TransferResult.AMOUNT_TOO_LARGE: (codes.not_allowed_amount, "above the largest amount the ledger settles"),
    TransferResult.DEBIT_ACCOUNT_SUSPENDED: (codes.agent_suspended, "the debtor agent's wallet is suspended"),
    TransferResult.CREDIT_ACCOUNT_SUSPENDED: (
        codes.creditor_agent_suspended, "the creditor agent's wallet is suspended"
    ),
    TransferResult.DEBIT_ACCOUNT_NOT_FOUND: (codes.debtor_bank_not_registered, "the debtor agent has no wallet"),
    TransferResult.CREDIT_ACCOUNT_NOT_FOUND: (codes.creditor_bank_not_registered, "the creditor agent has no wallet"),
    TransferResult.EXISTS: (codes.duplicate_payment, "this payment (debtor agent and UETR) was already settled"),
    TransferResult.ID_CONFLICT: (codes.duplicate_payment, "this payment's UETR was already used by the debtor agent"),
}

Transfers = CreditTransfer | FinancialInstitutionTransfer | PaymentReturn


def ledger_reason(result: TransferResult) -> tuple[str, str]:
    return _ledger_reasons.get(result, (codes.narrative, f"the ledger refused the transfer: {result.value}"))


@dataclass(slots=True)
class Payment:
    """One transaction of a pacs.008/009/004 as settlement prepared it."""

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
class PaymentsJournal:
    """The BatchAttachment of one pacs.008, pacs.009 or pacs.004: its claims, and the rows its results produce."""

    gateway_bic: str
    message: Received
    transfer_kind: TransferKind
    payments: list[Payment]
    inbound_id: UUID
    credit_notified: frozenset[str]  # banks that asked for a camt.054 for every credit
    recipients: Recipients  # how each bank is written to (Journaling.recipients)
    answer: Outbound | None = field(default=None)
    # What journal() decided, for the log: the transfers it settled, the first reason code of a payment refused.
    settled_transfer_ids: tuple[UUID, ...] = ()
    first_reason_code: str | None = None

    @property
    def command(self) -> Transfers:
        assert isinstance(self.message.command, Transfers)
        return self.message.command

    @property
    def claim_keys(self) -> list[str]:
        keys = [self.message.idempotency_key]
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
        reference = f"{self.message.sender_bic}:{self.message.reference}"
        wallets = self.message.directory.settlement_wallets
        for payment in self.payments:
            payment.request_index = None
            if payment.rejection is not None or payment.warehoused:
                continue
            payment.request_index = len(requests)
            requests.append(payment.transfer(wallets, self.transfer_kind, reference))
        return requests

    def journal(self, results: Sequence[TransferResult], settled_at_us: int) -> JournalRows:
        message = self.message
        self.first_reason_code = None  # a batch retried calls this again
        settled_at = instant(settled_at_us)
        records: list[PaymentRecord] = []
        statuses: list[TransactionStatus] = []
        settled: list[Payment] = []
        for payment in self.payments:
            rejection = payment.rejection
            if rejection is None and not payment.warehoused:
                assert payment.request_index is not None
                result = results[payment.request_index]
                if result is not TransferResult.OK:
                    rejection = ledger_reason(result)
            if rejection is not None:
                self.first_reason_code = self.first_reason_code or rejection[0]
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
                    group_message_id=self.command.group.message_id,
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
        self.settled_transfer_ids = tuple(payment.transfer_id for payment in settled)
        command = self.command
        sender = self.recipients.get(message.sender_bic)
        self.answer = answers.status_report(
            self.gateway_bic,
            message.sender_bic,
            settled_at,
            message.header,
            original_message(command, message.message_type),
            len(self.payments),
            statuses,
            configured=sender,
            # Only here, the answer to the payment message itself: a later report (warehouse, pacs.028) names the
            # transactions it is about, whatever the bank chose.
            exceptions_only=sender is not None and sender.status_reports_exceptions_only,
        )
        forward_type = forward_message_id(command)
        forwarded = forwards(
            self.gateway_bic, forward_type, command.group.settlement_method, settled, settled_at, message.header,
            self.recipients,
        )
        notifications = credit_notifications(
            self.gateway_bic, self.credit_notified, message.directory.settlement_wallet_codes, message.reference,
            forward_type == answers.pacs_004, settled, settled_at, self.recipients,
        )
        inbound = MessageRecord(
            id=self.inbound_id,
            direction=Direction.INBOUND,
            sender_bic=message.sender_bic,
            receiver_bic=self.gateway_bic,
            message_type=message.message_type,
            reference=message.reference,
            idempotency_key=message_key(message.sender_bic, message.reference),
            payload=message.payload,
            payload_sha256=payload_digest(message.payload),
            status=_message_status(records),
            answers_id=None,
            created_at_us=message.received_at_us,
        )
        messages, mailbox = outbound_records(
            self.gateway_bic, [self.answer, *forwarded, *notifications], inbound.id, settled_at_us
        )
        return JournalRows(messages=(inbound, *messages), payments=tuple(records), mailbox=mailbox)


def original_message(command: Transfers, message_type: str) -> OriginalMessage:
    group = command.group
    return OriginalMessage(group.message_id, message_type, group.creation_time)


def forward_message_id(command: Transfers) -> MessageId:
    if isinstance(command, CreditTransfer):
        return answers.pacs_008
    if isinstance(command, FinancialInstitutionTransfer):
        return answers.pacs_009
    return answers.pacs_004


def _message_status(records: Sequence[PaymentRecord]) -> MessageStatus:
    states = {r.state for r in records}
    if states == {PaymentState.REJECTED}:
        return MessageStatus.REJECTED
    if PaymentState.REJECTED in states:
        return MessageStatus.PARTIALLY_ACCEPTED
    if PaymentState.WAREHOUSED in states:
        return MessageStatus.WAREHOUSED
    return MessageStatus.ACCEPTED


def forwards(
    gateway_bic: str,
    forward_type: MessageId,
    settlement_method: str,
    settled: Sequence[Payment],
    settled_at: datetime,
    answering: BusinessHeader | None,
    recipients: Recipients,
) -> list[Outbound]:
    """One forwarded message per credited bank, holding that bank's settled transactions in message order, in the
    bank's configured AppHdr version if it has one."""
    by_creditor: dict[str, list[Payment]] = {}
    for payment in settled:
        by_creditor.setdefault(payment.creditor_bic, []).append(payment)
    forwarded = []
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
        configured = recipients.get(creditor_bic)
        forwarded.append(answers.forwarded(gateway_bic, forward_type, forward, settled_at, answering, configured))
    return forwarded


def credit_notifications(
    gateway_bic: str,
    credit_notified: frozenset[str],
    wallet_codes: dict[str, str],
    message_id: str,
    is_return: bool,
    settled: Sequence[Payment],
    settled_at: datetime,
    recipients: Recipients,
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
                value_date=payment.settlement_date,
                transfer_id=payment.transfer_id,
                message_id=message_id,
                end_to_end_id=payment.end_to_end_id,
                instruction_id=payment.instruction_id,
                transaction_id=payment.transaction_id,
                uetr=payment.uetr,
                debtor_agent_bic=payment.debtor_bic,
                creditor_agent_bic=payment.creditor_bic,
                kind=TransferKind.RETURN if is_return else TransferKind.PAYMENT,
            )
        )
    return [
        answers.credit_notification(gateway_bic, bic, settled_at, credits, recipients.get(bic))
        for bic, credits in by_creditor.items()
    ]


def _claims(sender_bic: str, uetr: UUID, transaction_id: str | None) -> tuple[str, ...]:
    if transaction_id is None:
        return (uetr_key(uetr),)
    return uetr_key(uetr), transaction_key(sender_bic, transaction_id)


def prepare_payments(
    command: CreditTransfer | FinancialInstitutionTransfer, sender_bic: str, directory: Directory, today: date,
    duplicates: set[str],
) -> list[Payment]:
    """A Payment per transaction of a pacs.008 or pacs.009, each rejected here if its claims are among
    `duplicates` or an agent has no wallet; future-dated ones warehoused. The sender is the instructing agent whose
    TxIds must be unique."""
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
        payment = Payment(
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
            claims=_claims(sender_bic, tx.uetr, tx.transaction_id),
            warehoused=settlement_date > today,
        )
        if uetr_key(tx.uetr) in duplicates:
            payment.rejection = (codes.duplicate_payment, f"UETR {tx.uetr} was already used")
        elif tx.transaction_id is not None and transaction_key(sender_bic, tx.transaction_id) in duplicates:
            payment.rejection = (codes.duplicate_payment, f"TxId {tx.transaction_id} was already used by {sender_bic}")
        elif debtor not in directory.settlement_wallets:
            payment.rejection = (codes.debtor_bank_not_registered, f"{debtor} has no wallet on the ledger")
        elif creditor not in directory.settlement_wallets:
            payment.rejection = (codes.creditor_bank_not_registered, f"{creditor} has no wallet on the ledger")
        payments.append(payment)
    return payments


class Payments(AnsweringFlow):
    """The flow of pacs.008, pacs.009 and pacs.004."""

    def __init__(self, journaling: Journaling, credit_notified: frozenset[str]) -> None:
        super().__init__(journaling)
        self.credit_notified = credit_notified

    async def handle(self, message: Received) -> Reply:
        command = message.command
        assert isinstance(command, Transfers)
        duplicates: set[str] = set()
        if isinstance(command, PaymentReturn):
            payments = await self._returns(message, command, duplicates)
            if message.attempt:  # a claim was taken since: which ones, now that they are committed
                duplicates = await self._taken(payments)
                payments = await self._returns(message, command, duplicates)
        else:
            payments = prepare_payments(
                command, message.sender_bic, message.directory, message.business_date, duplicates
            )
            if message.attempt:
                payments = prepare_payments(
                    command, message.sender_bic, message.directory, message.business_date, await self._taken(payments)
                )
        attachment = PaymentsJournal(
            gateway_bic=self.journaling.gateway_bic,
            message=message,
            transfer_kind=TransferKind.RETURN if isinstance(command, PaymentReturn) else TransferKind.PAYMENT,
            payments=payments,
            inbound_id=uuid.uuid4(),
            credit_notified=self.credit_notified,
            recipients=self.journaling.recipients,
        )
        await self.journaling.batcher.submit(attachment.requests(), attachment)
        assert attachment.answer is not None, "the batch journaled the message, so its answer was built"
        return Reply(200, attachment.answer.payload, "accepted", message.message_type, message.reference,
                     attachment.first_reason_code, attachment.settled_transfer_ids)

    async def _taken(self, payments: Sequence[Payment]) -> set[str]:
        return await self.journaling.journal.taken_claims([key for payment in payments for key in payment.claims])

    async def _returns(self, message: Received, command: PaymentReturn, duplicates: set[str]) -> list[Payment]:
        """Each pacs.004 transaction returns (part of) a payment the sender received and that settled: from the
        sender's wallet back to the original debtor agent's, at most once per payment, never more than it was.
        The payment is the one its full original reference names (gateway.settlement.originals)."""
        sender, directory = message.sender_bic, message.directory
        references = [_original_reference(command, tx) for tx in command.transactions]
        records = await originals.candidates(self.journaling.journal, references, sender, Party.CREDITOR_AGENT)
        settled = [record for record in records if record.state is PaymentState.SETTLED]
        payments = []
        for position, (tx, reference) in enumerate(zip(command.transactions, references, strict=True), start=1):
            assert tx.original_uetr is not None, "uetr_required asks every return for the original's UETR"
            original = originals.original(reference, settled, sender, Party.CREDITOR_AGENT, originals.payment_kinds)
            creditor = original.debtor_bic if original is not None else self.journaling.gateway_bic
            payment = Payment(
                position=position,
                kind=PaymentKind.RETURN,
                debtor_bic=sender,
                creditor_bic=creditor,
                uetr=tx.original_uetr,
                end_to_end_id=(
                    original.end_to_end_id if original is not None else tx.original_end_to_end_id or "NOTPROVIDED"
                ),
                instruction_id=tx.return_id,
                transaction_id=original.transaction_id if original is not None else tx.original_transaction_id,
                amount=tx.returned_amount,
                settlement_date=message.business_date,
                xml=xml_source(tx),
                transfer_id=return_transfer_id(tx.original_uetr if original is None else original.id),
                claims=(return_key(original.id),) if original is not None else (),
                original_payment_id=None if original is None else original.id,
            )
            if original is None:
                text = f"no settled payment credited to {sender} matches {reference.describe()}"
                payment.rejection = (codes.payment_not_received, text)
            elif payment.claims[0] in duplicates:
                text = f"the payment with UETR {tx.original_uetr} was already returned"
                payment.rejection = (codes.duplicate_payment, text)
            elif tx.returned_amount.kopecks > original.amount_kopecks:
                text = f"returns more than the {text_from_kopecks(original.amount_kopecks)} RUB that settled"
                payment.rejection = (codes.not_allowed_amount, text)
            elif (goes_to := _return_creditor_agent(tx)) is not None and goes_to != original.debtor_bic:
                text = f"a return goes back to the original debtor agent {original.debtor_bic}, not {goes_to}"
                payment.rejection = (codes.invalid_creditor_bank_identifier, text)
            elif sender not in directory.settlement_wallets or creditor not in directory.settlement_wallets:
                payment.rejection = (codes.creditor_bank_not_registered, f"{creditor} has no wallet on the ledger")
            payments.append(payment)
        return payments


def _original_reference(command: PaymentReturn, tx: ReturnTransaction) -> OriginalReference:
    return OriginalReference(
        message=tx.original_message or command.group.original_message,
        uetr=tx.original_uetr,
        end_to_end_id=tx.original_end_to_end_id,
        transaction_id=tx.original_transaction_id,
        instruction_id=tx.original_instruction_id,
    )


def _return_creditor_agent(tx: ReturnTransaction) -> str | None:
    """Where the return says its funds go (RtrChain/CdtrAgt), when it says so."""
    agent = tx.creditor_agent
    return None if agent is None or agent.bic is None else canonical_bic(agent.bic)
