"""Journaling a received message with its answers, through the ledger's auto-batcher, so that mailbox order is commit
order and nothing half-done is ever visible; and the one way a repeated message is answered from the journal.

Every flow journals through here: the inbound record, the outbound records with their mailbox entries, and for a
message that moves no money (a refusal, a status request, a report) the BatchAttachment that writes them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from gateway.domain.conversion import ConversionUse
from gateway.domain.journal import (
    Direction,
    JournalRows,
    MailboxEntry,
    MessageRecord,
    MessageStatus,
    PaymentState,
    StoredMessage,
    message_key,
    payload_digest,
)
from gateway.domain.ledger import TransferResult
from gateway.handling.ports import JournalReads
from gateway.handling.received import Flow, Received, Reply
from gateway.ledger.batcher import AutoBatcher
from gateway.messages import answers, codes
from gateway.messages.answers import Outbound
from gateway.messages.commands import BusinessHeader
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.writers import Recipients

log = logging.getLogger(__name__)


def outbound_records(
    gateway_bic: str, outbound: Sequence[Outbound], answers_id: UUID | None, now_us: int, *, mailbox: bool = True
) -> tuple[list[MessageRecord], tuple[MailboxEntry, ...]]:
    """The journal records of messages the gateway sends, and (unless `mailbox` is off: an answer given on HTTP
    only) their recipients' mailbox entries."""
    messages, entries = [], []
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
        if mailbox:
            entries.append(MailboxEntry(message.receiver_bic, record.id))
    return messages, tuple(entries)


@dataclass(slots=True)
class AnsweredJournal:
    """The BatchAttachment of a message that moves no money (refused, a status request, a report, a DUPL): the
    inbound message and its answer, journaled and delivered through the same batches as everything else, so that
    mailbox order is commit order. Claims the inbound message's key only if its record carries one."""

    inbound: MessageRecord
    answer: Outbound
    answer_receiver_bic: str | None  # None: the sender could not be named; the answer goes back on HTTP only
    later: tuple[Outbound, ...] = ()  # further answers, to the mailbox only (a report's other pages and wallets)

    @property
    def claim_keys(self) -> Sequence[str]:
        return () if self.inbound.idempotency_key is None else (self.inbound.idempotency_key,)

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
        messages, mailbox = outbound_records(
            gateway_bic, [self.answer, *self.later], self.inbound.id, settled_at_us,
            mailbox=self.answer_receiver_bic is not None,
        )
        assert self.answer_receiver_bic is not None or not self.later, "further answers go to a named sender"
        return JournalRows(messages=(self.inbound, *messages), mailbox=mailbox)


class Journaling:
    """One process's journal writer and reader for the flows. Holds no per-message state."""

    def __init__(
        self, gateway_bic: str, batcher: AutoBatcher, journal: JournalReads, recipients: Recipients
    ) -> None:
        self.gateway_bic = gateway_bic
        self.batcher = batcher
        self.journal = journal
        # How each participant is written to, by BIC (writers.configured_recipients): its AppHdr version and who signs.
        # Every message the gateway sends a bank, whichever flow builds it, passes the bank's as `configured`.
        self.recipients = recipients

    def inbound_record(
        self, payload: bytes, sender_bic: str | None, message_type: str | None, reference: str | None,
        status: MessageStatus, received_at_us: int, *, claimed: bool = False, reason_code: str | None = None,
    ) -> MessageRecord:
        """The journal's record of a message received. `claimed`: it takes its (sender, reference) idempotency key,
        so that a repeat is answered from the journal. `reason_code`: why it was refused as a whole."""
        assert not claimed or (sender_bic is not None and reference is not None)
        return MessageRecord(
            id=uuid.uuid4(),
            direction=Direction.INBOUND,
            sender_bic=sender_bic,
            receiver_bic=self.gateway_bic,
            message_type=message_type,
            reference=reference,
            idempotency_key=message_key(sender_bic, reference) if claimed and sender_bic and reference else None,
            payload=payload,
            payload_sha256=payload_digest(payload),
            status=status,
            answers_id=None,
            created_at_us=received_at_us,
            reason_code=reason_code,
        )

    def inbound(
        self, message: Received, status: MessageStatus, *, claimed: bool = False, reason_code: str | None = None
    ) -> MessageRecord:
        return self.inbound_record(
            message.payload, message.sender_bic, message.message_type, message.reference, status,
            message.received_at_us, claimed=claimed, reason_code=reason_code,
        )

    async def answered(
        self, inbound: MessageRecord, answer: Outbound, receiver_bic: str | None, later: Sequence[Outbound] = ()
    ) -> None:
        """Journal a message that moves no money with its answer (and, for a named receiver, further answers)."""
        await self.batcher.submit((), AnsweredJournal(inbound, answer, receiver_bic, tuple(later)))

    async def reject(self, message: Received, rejection: Rejection) -> Reply:
        """An admi.002 refusing the whole message, journaled with it. Claims nothing: a corrected resend under the
        same id is welcome."""
        answer = answers.message_rejected(
            self.gateway_bic, message.sender_bic, message.received_at, message.header, rejection, message.reference,
            self.recipients.get(message.sender_bic),
        )
        refused = self.inbound(message, MessageStatus.REJECTED, reason_code=rejection.code)
        await self.answered(refused, answer, message.sender_bic)
        return Reply(200, answer.payload, "rejected", message.message_type, message.reference, rejection.code)

    async def first_answer(self, message: Received, first: StoredMessage, *, newest: bool = False) -> Reply | None:
        """The journaled answer to `first` that went to the sender: the first one, or the latest with `newest`."""
        answer = await self.journal.answer_to(first.id, message.sender_bic, newest=newest)
        return None if answer is None else Reply(200, answer.payload, "replayed", message.message_type, message.reference)

    async def replay(self, message: Received, flow: Flow) -> Reply | None:
        """The answer to a message whose (sender, MsgId) is already journaled: the flow's answer to a repeat when it
        is the same message byte for byte, a DUPL refusal when the id carries different content. None when the
        message itself is new (what conflicted was something else it claims)."""
        first = await self.journal.message_by_key(message.idempotency_key)
        if first is None:
            return None
        if first.payload_sha256 == payload_digest(message.payload):
            return await flow.repeat(message, first)
        log.warning("%s reused message id %r for different content", message.sender_bic, message.reference)
        return await flow.refuse(message, reused_message_id(message.sender_bic, message.header))


def reused_message_id(sender_bic: str, header: BusinessHeader) -> Rejection:
    text = f"message id {header.business_message_id} was already used by {sender_bic} for a different message"
    return Rejection(codes.duplicate_payment, f"{header.path}/BizMsgIdr", text, Layer.BUSINESS)


class AnsweringFlow:
    """The common answers of a flow: a repeat gets the first answer journaled for it, a refusal is an admi.002."""

    def __init__(self, journaling: Journaling) -> None:
        self.journaling = journaling

    async def repeat(self, message: Received, first: StoredMessage) -> Reply:
        reply = await self.journaling.first_answer(message, first)
        assert reply is not None, "a journaled message is journaled with its answer"
        return reply

    async def refuse(self, message: Received, rejection: Rejection) -> Reply:
        return await self.journaling.reject(message, rejection)
