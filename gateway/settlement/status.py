"""Payment status requests: a pacs.028 in, a pacs.002 with the current status of each payment asked about out.

A bank sees only what it sent (as debtor agent). Status requests move nothing and claim nothing: a repeated request
is answered again, with what is true by then.
"""

from __future__ import annotations

from uuid import UUID

from gateway.domain.calendar import instant
from gateway.domain.journal import MessageStatus, PaymentRecord, PaymentState
from gateway.handling.journaling import AnsweringFlow
from gateway.handling.received import Received, Reply
from gateway.messages import answers
from gateway.messages.commands import OriginalMessage, StatusRequest
from gateway.messages.reports import (
    PaymentStatus,
    StatusReason,
    TransactionStatus,
    status_reason,
)


class StatusRequests(AnsweringFlow):
    """The flow of pacs.028."""

    async def handle(self, message: Received) -> Reply:
        command = message.command
        assert isinstance(command, StatusRequest)
        journal, sender = self.journaling.journal, message.sender_bic
        statuses: list[TransactionStatus] = []
        for group in command.original_groups:
            original = await journal.inbound_by_reference(sender, group.original_message.message_id)
            payments = [] if original is None else await journal.payments_of_message(original.id)
            if not payments:
                statuses.append(_unknown(group.original_message, None, None, None))
            statuses.extend(_status_of(p, group.original_message) for p in payments)
        for request in command.transactions:
            uetrs = [request.original_uetr] if request.original_uetr is not None else []
            end_to_end_ids = [request.original_end_to_end_id] if request.original_end_to_end_id is not None else []
            found = await journal.find_payments(sender, uetrs, end_to_end_ids)
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
        answer = answers.status_report_for_request(
            self.journaling.gateway_bic, sender, message.received_at, message.header, statuses
        )
        await self.journaling.answered(self.journaling.inbound(message, MessageStatus.ACCEPTED), answer, sender)
        return Reply(200, answer.payload, "accepted", message.message_type)


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
