"""The value a flow's handler receives for one message, what it answers, and the contract every flow keeps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from gateway.domain.calendar import BusinessCalendar, instant
from gateway.domain.journal import StoredMessage, message_key
from gateway.handling.directory import Directory
from gateway.messages.commands import BusinessHeader, Command
from gateway.messages.identity import MessageId
from gateway.messages.rejections import Rejection
from gateway.messages.reports import ResolutionOfInvestigation


@dataclass(frozen=True, slots=True)
class Received:
    """One message from a bank that passed every layer of the message layer and is addressed to the gateway."""

    payload: bytes  # as received, byte for byte: what the journal keeps and a repeat is compared with
    sender_bic: str  # canonical: the authenticated bank (in the loopback development mode, the AppHdr's Fr)
    header: BusinessHeader
    command: Command | ResolutionOfInvestigation
    message_id: MessageId  # the Document's message version
    received_at_us: int
    business_date: date  # the business day it arrived in (after a day's cut-off: the next business day)
    directory: Directory  # participants and wallets as of its arrival
    attempt: int = 0  # 1, 2 ... when prepared again after a journal conflict that was not a repeat of it

    @property
    def message_type(self) -> str:
        return str(self.message_id)

    @property
    def reference(self) -> str:
        """Its AppHdr/BizMsgIdr: with the sender, the message's idempotency key."""
        return self.header.business_message_id

    @property
    def idempotency_key(self) -> str:
        return message_key(self.sender_bic, self.reference)

    @property
    def received_at(self) -> datetime:
        return instant(self.received_at_us)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the transport sends back: a status and an ISO 20022 message, and labels for logs and metrics."""

    http_status: int
    body: bytes
    outcome: str  # accepted | rejected | replayed | pending
    message_type: str  # of the message answered, e.g. pacs.008.001.08; "unreadable" when it could not be told
    # For the log line of the message handled (gateway.http.messages): its AppHdr/BizMsgIdr when it could be read,
    # the first reason code of a refusal (of the whole message or of a transaction in it), and the ledger transfers
    # it settled.
    reference: str | None = None
    reason_code: str | None = None
    transfer_ids: tuple[UUID, ...] = ()


@dataclass(slots=True)
class Environment:
    """What flows read of the world around them, shared by one process's flows: the clock, and the participant
    directory in force (replaced by the app's refresher every few seconds)."""

    clock_us: Callable[[], int]
    directory: Directory
    calendar: BusinessCalendar

    def business_date(self) -> date:
        """Today's business date: after the day's cut-off, the next business day."""
        return self.calendar.business_date_at(self.clock_us())


class Flow(Protocol):
    """The handler of one kind of command (pacs.008, camt.056 ...). The inbound path gives it every message of its
    kind; a flow journals the message with its answers in the same transaction as whatever it moves."""

    async def handle(self, message: Received) -> Reply:
        """The answer to a new message. May raise JournalConflict: another copy of it, or of something it claims,
        committed first; the inbound path then answers it as a repeat, or prepares it again."""
        ...

    async def repeat(self, message: Received, first: StoredMessage) -> Reply:
        """The answer to a byte-identical repeat of a message journaled as `first`."""
        ...

    async def refuse(self, message: Received, rejection: Rejection) -> Reply:
        """The answer refusing the whole message, journaled (e.g. a message id reused for another message)."""
        ...


class JournalConflictsPersist(Exception):
    """A message kept conflicting with the journal: answered 503, the bank retries (the same answer then)."""
