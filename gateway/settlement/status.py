"""Payment status requests: a pacs.028 in, a pacs.002 with the current status of each payment asked about out.

A bank sees only what it sent (as debtor agent), found by the full reference it gives (gateway.settlement.
originals). A payment the gateway does not know by that reference is answered as ISO 20022 status reports answer
an unknown original: its references as asked, no TxSts (the gateway cannot say the payment was rejected: it never
had it), and the reason AG09 PaymentNotReceived. Each answer echoes the request's StsReqId as StsId.

Status requests move nothing and claim nothing: a repeated request is answered again, with what is true by then.
"""

from __future__ import annotations

from gateway.domain.calendar import instant
from gateway.domain.journal import MessageStatus, PaymentRecord, PaymentState
from gateway.handling.journaling import AnsweringFlow
from gateway.handling.received import Received, Reply
from gateway.messages import answers, codes
from gateway.messages.commands import (
    OriginalMessage,
    StatusRequest,
    TransactionStatusRequest,
)
from gateway.messages.reports import (
    PaymentStatus,
    StatusReason,
    TransactionStatus,
    status_reason,
)
from gateway.settlement import originals
from gateway.settlement.originals import OriginalReference, Party


class StatusRequests(AnsweringFlow):
    """The flow of pacs.028."""

    async def handle(self, message: Received) -> Reply:
        command = message.command
        assert isinstance(command, StatusRequest)
        journal, sender = self.journaling.journal, message.sender_bic
        statuses: list[TransactionStatus] = []
        for group in command.original_groups:
            asked = group.original_message
            payments = [
                payment for payment in await journal.payments_of_groups(sender, [asked.message_id])
                if payment.kind.message_name == asked.message_name_id
            ]
            newest = [p for p in payments if p.message_id == payments[0].message_id] if payments else []
            if not newest:
                reference = OriginalReference(asked, None, None, None, None)
                statuses.append(_unknown(reference, None, sender))
            statuses.extend(_status_of(payment, asked, None) for payment in sorted(newest, key=lambda p: p.position))
        references = [_reference(request) for request in command.transactions]
        records = await originals.candidates(journal, references, sender, Party.DEBTOR_AGENT)
        for request, reference in zip(command.transactions, references, strict=True):
            # The attempt that holds the payment's claim (settled, warehoused, cancelled) is its status; refused
            # attempts (a DUPL resend, an AM04 before funding) only when there is nothing else.
            found = originals.original(reference, records, sender, Party.DEBTOR_AGENT, originals.every_kind)
            if found is None:
                statuses.append(_unknown(reference, request.status_request_id, sender))
            else:
                statuses.append(_status_of(found, request.original_message, request.status_request_id))
        answer = answers.status_report_for_request(
            self.journaling.gateway_bic, sender, message.received_at, message.header, statuses,
            self.journaling.recipients.get(sender),
        )
        await self.journaling.answered(self.journaling.inbound(message, MessageStatus.ACCEPTED), answer, sender)
        return Reply(200, answer.payload, "accepted", message.message_type)


def _reference(request: TransactionStatusRequest) -> OriginalReference:
    return OriginalReference(
        message=request.original_message,
        uetr=request.original_uetr,
        end_to_end_id=request.original_end_to_end_id,
        transaction_id=request.original_transaction_id,
        instruction_id=request.original_instruction_id,
    )


def _status_of(payment: PaymentRecord, asked: OriginalMessage | None, status_id: str | None) -> TransactionStatus:
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
    original = asked or OriginalMessage(payment.group_message_id, payment.kind.message_name, None)
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
        status_id=status_id,
    )


def _unknown(reference: OriginalReference, status_id: str | None, sender: str) -> TransactionStatus:
    text = f"no payment sent by {sender} matches {reference.describe()}"
    return answers.transaction_status(
        end_to_end_id=reference.end_to_end_id,
        instruction_id=reference.instruction_id,
        transaction_id=reference.transaction_id,
        uetr=reference.uetr,
        status=None,
        reasons=(status_reason(codes.payment_not_received, text),),
        original_message=reference.message,
        status_id=status_id,
    )
