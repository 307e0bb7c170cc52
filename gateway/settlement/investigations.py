"""Investigations: a bank's cancellation request (camt.056) and a creditor agent's resolution of one (camt.029).

A warehoused payment the gateway cancels itself (ACCR); a settled one is the creditor agent's to decide: the request
goes on to it (PDCR), its camt.029 comes back through the gateway to the requester, and a pacs.004 from it returns
the money. Anything else is refused with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from lxml import etree

from gateway.config import canonical_bic
from gateway.domain.conversion import ConversionUse
from gateway.domain.journal import (
    JournalRows,
    MessageRecord,
    MessageStatus,
    PaymentRecord,
    PaymentState,
    PaymentUpdate,
    StoredMessage,
    return_key,
)
from gateway.domain.ledger import TransferResult
from gateway.handling.journaling import AnsweringFlow, outbound_records
from gateway.handling.received import Received, Reply
from gateway.messages import answers, codes
from gateway.messages.answers import Outbound
from gateway.messages.commands import (
    Amount,
    CancellationRequest,
    TransactionCancellation,
    UnderlyingCancellation,
)
from gateway.messages.intake import reread
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.reports import (
    CancellationReason,
    CancellationStatus,
    CancellationTransactionStatus,
    CaseAssignment,
    InvestigationStatus,
    ResolutionOfInvestigation,
    ResolvedCase,
    cancellation_reason,
)
from gateway.messages.safe_xml import element_path
from gateway.settlement import originals
from gateway.settlement.originals import OriginalReference, Party


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
        messages, mailbox = outbound_records(self.inbound.receiver_bic, self.outbound, self.inbound.id, settled_at_us)
        updates = tuple(
            PaymentUpdate(p.id, PaymentState.WAREHOUSED, PaymentState.CANCELLED, None, None) for p in self.cancelled
        )
        return JournalRows(messages=(self.inbound, *messages), mailbox=mailbox, payment_updates=updates)


class Cancellations(AnsweringFlow):
    """The flow of camt.056: a bank asks to cancel payments it sent, each named by its full original reference."""

    async def handle(self, message: Received) -> Reply:
        command = message.command
        assert isinstance(command, CancellationRequest)
        gateway_bic, sender, now = self.journaling.gateway_bic, message.sender_bic, message.received_at
        asked = [(tx, _cancellation_reference(underlying, tx)) for underlying in command.underlyings
                 for tx in underlying.transactions]
        records = await originals.candidates(
            self.journaling.journal, [reference for _, reference in asked], sender, Party.DEBTOR_AGENT
        )
        statuses: list[CancellationTransactionStatus] = []
        cancelled: list[PaymentRecord] = []
        forwarded: dict[str, set[str]] = {}  # creditor agent -> element paths of its TxInf
        for tx, reference in asked:
            payment = originals.original(reference, records, sender, Party.DEBTOR_AGENT, originals.every_kind)
            status, reasons = CancellationStatus.RJCR, (cancellation_reason(codes.no_original_transaction),)
            if payment is None:
                pass
            elif payment.state is PaymentState.WAREHOUSED:
                status, reasons = CancellationStatus.ACCR, ()
                cancelled.append(payment)
            elif payment.state is PaymentState.SETTLED:
                if await self.journaling.journal.taken_claims([return_key(payment.id)]):
                    reasons = (cancellation_reason(codes.already_returned),)
                else:
                    status, reasons = CancellationStatus.PDCR, ()
                    forwarded.setdefault(payment.creditor_bic, set()).add(tx.path)
            elif payment.state is PaymentState.CANCELLED:
                reasons = (CancellationReason(None, ("the payment was already cancelled",)),)
            else:
                reasons = (CancellationReason(None, ("the payment was rejected and never settled",)),)
            statuses.append(_cancellation_status(tx, payment, status, reasons))
        versions = self.journaling.recipients
        answer = answers.resolution(
            gateway_bic, sender, now, message.header, _resolution(gateway_bic, sender, command, now, statuses),
            versions.get(sender),
        )
        passed_on = [
            answers.passed_on(
                gateway_bic, creditor, answers.camt_056, _cut_to(message.payload, paths, creditor, gateway_bic, now),
                now, message.header, versions.get(creditor),
            )
            for creditor, paths in forwarded.items()
        ]
        # A payment moved (released, cancelled) since it was looked up: JournalConflict, and the inbound path has
        # this prepared again, looking again.
        await self.journaling.batcher.submit((), _InvestigationJournal(
            inbound=self.journaling.inbound(message, MessageStatus.ACCEPTED, claimed=True),
            outbound=[answer, *passed_on],
            cancelled=cancelled,
        ))
        return Reply(200, answer.payload, "accepted", message.message_type)


class Resolutions(AnsweringFlow):
    """The flow of a creditor agent's camt.029 answering a cancellation request the gateway passed on: it goes,
    untouched under a new AppHdr, to the bank whose payments it names, each named by its full original reference
    and credited to the sender. Answered 202: the answer to it is the requester's business."""

    async def handle(self, message: Received) -> Reply:
        resolution = message.command
        assert isinstance(resolution, ResolutionOfInvestigation)
        sender = message.sender_bic
        references = [_resolution_reference(tx) for tx in resolution.transactions]
        records = await originals.candidates(self.journaling.journal, references, sender, Party.CREDITOR_AGENT)
        found = [
            originals.original(reference, records, sender, Party.CREDITOR_AGENT, originals.every_kind)
            for reference in references
        ]
        requesters = {payment.debtor_bic for payment in found if payment is not None}
        unknown = [reference for reference, payment in zip(references, found, strict=True) if payment is None]
        if unknown:
            text = f"no payment credited to {sender} matches {unknown[0].describe()}"
            return await self.refuse(message, Rejection(codes.payment_not_received, "", text, Layer.BUSINESS))
        if len(requesters) != 1:
            text = f"a camt.029 answers one debtor agent's cancellation request; it names payments of {len(requesters)}"
            return await self.refuse(message, Rejection(codes.transaction_forbidden, "", text, Layer.BUSINESS))
        requester = requesters.pop()
        _, unwrapped = reread(message.payload)
        passed_on = answers.passed_on(
            self.journaling.gateway_bic, requester, answers.camt_029, unwrapped.document, message.received_at,
            message.header, self.journaling.recipients.get(requester),
        )
        inbound = self.journaling.inbound(message, MessageStatus.ACCEPTED, claimed=True)
        await self.journaling.batcher.submit((), _InvestigationJournal(inbound, [passed_on], []))
        return Reply(202, b"", "accepted", message.message_type)

    async def repeat(self, message: Received, first: StoredMessage) -> Reply:
        """Its only answer went to the requester: a repeat is acknowledged as the first one was."""
        return Reply(202, b"", "replayed", message.message_type)


def _cancellation_reference(underlying: UnderlyingCancellation, tx: TransactionCancellation) -> OriginalReference:
    group = underlying.original_group
    return OriginalReference(
        message=tx.original_message or (None if group is None else group.original_message),
        uetr=tx.original_uetr,
        end_to_end_id=tx.original_end_to_end_id,
        transaction_id=tx.original_transaction_id,
        instruction_id=tx.original_instruction_id,
    )


def _resolution_reference(tx: CancellationTransactionStatus) -> OriginalReference:
    return OriginalReference(
        message=tx.original_message,
        uetr=tx.original_uetr,
        end_to_end_id=tx.original_end_to_end_id,
        transaction_id=tx.original_transaction_id,
        instruction_id=tx.original_instruction_id,
    )


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
    elif CancellationStatus.ACCR in kinds:
        overall = InvestigationStatus.CNCL  # all, or partly: the refused ones say RJCR with their reasons
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


def _cut_to(
    payload: bytes, transaction_paths: set[str], creditor_bic: str, gateway_bic: str, now: datetime
) -> etree._Element:
    """The camt.056 Document of `payload` for one creditor agent: only the TxInf at `transaction_paths` (a bank sees
    no other bank's payments; CtrlData, whose counts would no longer hold, goes), and the case assigned to it
    (Assgnmt: a new Id, the gateway the assigner, the creditor agent the assignee, now)."""
    _, unwrapped = reread(payload)
    document = unwrapped.document
    namespace = answers.camt_056.namespace
    # Chosen before any goes: a TxInf's path counts its siblings, so removing one renames those after it.
    others = [t for t in document.iter(f"{{{namespace}}}TxInf") if element_path(t) not in transaction_paths]
    for transaction in others:
        transaction.getparent().remove(transaction)
    for control in list(document.iter(f"{{{namespace}}}CtrlData")):
        control.getparent().remove(control)
    for underlying in list(document.iter(f"{{{namespace}}}Undrlyg")):
        if next(underlying.iter(f"{{{namespace}}}TxInf"), None) is None:
            underlying.getparent().remove(underlying)
    assignment = next(document.iter(f"{{{namespace}}}Assgnmt"))
    answers.reassign(assignment, answers.camt_056, answers.new_message_id(), gateway_bic, creditor_bic, now)
    return document
