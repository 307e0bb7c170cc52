"""The answers to messages the message layer refused: an admi.002, or for a payments message a rule refused, a
pacs.002 rejecting each transaction with the reasons found in it. Journaled like every answer; addressed to the
sender when it can be named, else given on HTTP only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gateway import bounds
from gateway.config import canonical_bic
from gateway.domain.calendar import instant
from gateway.domain.journal import MessageStatus
from gateway.handling.journaling import Journaling
from gateway.handling.received import Reply
from gateway.messages import answers, codes
from gateway.messages.answers import Outbound
from gateway.messages.commands import (
    BusinessHeader,
    CreditTransfer,
    FinancialInstitutionTransfer,
    OriginalMessage,
)
from gateway.messages.intake import Refused
from gateway.messages.rejections import Rejection
from gateway.messages.reports import PaymentStatus
from gateway.messages.writers import Recipient


async def answer_refused(
    journaling: Journaling, data: bytes, outcome: Refused, authenticated_bic: str | None, received_at_us: int
) -> Reply:
    header = outcome.header
    sender = authenticated_bic
    if sender is None and header is not None and header.from_bic is not None:
        sender = canonical_bic(header.from_bic)
    now = instant(received_at_us)
    command = outcome.command
    message_type = None if outcome.message_id is None else str(outcome.message_id)
    gateway_bic = journaling.gateway_bic
    versions = journaling.recipients  # each answer written as its receiver is: its AppHdr version, who signs
    # A bank acting for another (sending in its name, debiting its wallet, asking for its reports) is not
    # authorised: HTTP 403 with an admi.002 for the whole message, never a business answer about its transactions,
    # whatever else the message holds. A message sent in another bank's name says so first.
    forbidden = sorted(
        (r for r in outcome.rejections if r.code == codes.transaction_forbidden),
        key=lambda r: not _sent_in_another_name(r),
    )
    if forbidden and authenticated_bic is not None:
        answer = answers.message_rejected(
            gateway_bic, authenticated_bic, now, header, forbidden[0], outcome.reference,
            versions.get(authenticated_bic),
        )
        status, reason = 403, forbidden[0].code
    elif isinstance(command, CreditTransfer | FinancialInstitutionTransfer) and sender is not None:
        answer = _payments_refused(
            gateway_bic, sender, now, header, command, message_type or "", outcome.rejections, versions.get(sender)
        )
        status, reason = 200, outcome.rejections[0].code
    else:
        # Addressed to the sender when it can be named; else to the gateway itself, and only sent on HTTP.
        receiver = sender or gateway_bic
        answer = answers.message_rejected(
            gateway_bic, receiver, now, header, outcome.rejections[0], outcome.reference, versions.get(receiver)
        )
        status, reason = 200, outcome.rejections[0].code
    inbound = journaling.inbound_record(
        data, sender, message_type, outcome.reference, MessageStatus.REJECTED, received_at_us, reason_code=reason
    )
    await journaling.answered(inbound, answer, sender)
    return Reply(status, answer.payload, "rejected", message_type or "unreadable", outcome.reference, reason)


def _sent_in_another_name(rejection: Rejection) -> bool:
    """AG01 at AppHdr/Fr: the sender named is not the bank the transport authenticated."""
    return rejection.code == codes.transaction_forbidden and rejection.path.endswith("/Fr/FIId/FinInstnId/BICFI")


def _payments_refused(
    gateway_bic: str,
    sender: str,
    now: datetime,
    header: BusinessHeader | None,
    command: CreditTransfer | FinancialInstitutionTransfer,
    message_type: str,
    rejections: Sequence[Rejection],
    configured: Recipient | None,
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
                reasons=reasons[: bounds.status_reasons_per_transaction_max],
            )
        )
    group = command.group
    return answers.status_report(
        gateway_bic,
        sender,
        now,
        header,
        OriginalMessage(group.message_id, message_type, group.creation_time),
        len(command.transactions),
        statuses,
        group_reasons=answers.rejection_reasons(rejections),
        group_status=PaymentStatus.RJCT,
        configured=configured,
    )
