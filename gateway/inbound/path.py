"""Inbound.receive: one message from a bank through the message layer, the checks every message passes (its AppHdr
addressed to the gateway, its signature as the sender's signature_policy asks), and the flow registered for its
command, which settles it and answers it.

Every message, accepted or refused, is journaled with its answer. A message whose flow met a journal conflict is
answered as a repeat when it is one (the same sender and MsgId already journaled), else prepared again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from gateway import bounds
from gateway.config import canonical_bic
from gateway.handling.journaling import Journaling
from gateway.handling.received import (
    Environment,
    Flow,
    JournalConflictsPersist,
    Received,
    Reply,
)
from gateway.inbound.refusals import answer_refused
from gateway.ledger.ports import JournalConflict
from gateway.messages import codes
from gateway.messages.intake import Refused, intake
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.signing import MessageSigning


class Inbound:
    """Turns one message into its answer. Shares the process's auto-batcher; holds no per-message state."""

    def __init__(
        self, journaling: Journaling, environment: Environment, flows: Mapping[type, Flow], signing: MessageSigning
    ) -> None:
        self.journaling = journaling
        self.gateway_bic = journaling.gateway_bic
        self.environment = environment
        self.flows = flows  # by command type
        self.signing = signing

    async def receive(self, data: bytes, authenticated_bic: str | None) -> Reply:
        """The answer to one message from a bank. `authenticated_bic` is the mTLS client certificate's BIC (None
        only in the loopback development mode, where the AppHdr's Fr is taken at its word)."""
        # Reading a message is work that can wait while this process's batch holds the ledger's lock.
        await self.journaling.batcher.ledger_unlocked()
        received_at_us = self.environment.clock_us()
        directory = self.environment.directory
        business_date = self.environment.calendar.business_date_at(received_at_us)
        context = directory.rule_context(business_date, authenticated_bic)
        outcome = intake(data, allow_bare_document=False, context=context)
        if isinstance(outcome, Refused):
            return await answer_refused(self.journaling, data, outcome, authenticated_bic, received_at_us)
        header = outcome.header
        assert header is not None, "the HTTP intake never allows a bare Document"
        assert header.from_bic is not None, "sender_is_debtor names the sender of every accepted message"
        message = Received(
            payload=data,
            sender_bic=canonical_bic(header.from_bic),
            header=header,
            command=outcome.command,
            message_id=outcome.message_id,
            received_at_us=received_at_us,
            business_date=business_date,
            directory=directory,
        )
        if header.to_bic is None:  # an OrgId, or an FIId without BICFI (a clearing code, an empty FinInstnId)
            text = f"AppHdr/To must name the gateway by FIId/FinInstnId/BICFI {self.gateway_bic}"
            return await self.journaling.reject(message, Rejection(codes.invalid_bank_identifier, f"{header.path}/To",
                                                                   text, Layer.BUSINESS))
        if canonical_bic(header.to_bic) != self.gateway_bic:
            text = f"AppHdr/To names {header.to_bic}: messages for settlement are addressed to {self.gateway_bic}"
            path = f"{header.path}/To/FIId/FinInstnId/BICFI"
            return await self.journaling.reject(message, Rejection(codes.invalid_bank_identifier, path, text,
                                                                   Layer.BUSINESS))
        # A signature refused is answered like the AppHdr's other problems: an admi.002 with its code, journaled,
        # claiming nothing (a signed resend under the same id is welcome), and nothing settled.
        refusal = self.signing.check(message.sender_bic, outcome.unwrapped, message.received_at)
        if refusal is not None:
            return await self.journaling.reject(message, refusal)
        flow = self.flows.get(type(outcome.command))
        if flow is None:
            text = f"{message.message_type} is read but not settled by this gateway"
            return await self.journaling.reject(message, Rejection(codes.invalid_file_format, "", text,
                                                                   Layer.BUSINESS))
        return await self._dispatch(message, flow)

    async def _dispatch(self, message: Received, flow: Flow) -> Reply:
        for attempt in range(bounds.journal_conflict_retries_max):
            try:
                reply = await flow.handle(dataclasses.replace(message, attempt=attempt))
                return reply if reply.reference else dataclasses.replace(reply, reference=message.reference)
            except JournalConflict:
                # Another copy of it, or of something it claims, committed first: the journal now tells which.
                replay = await self.journaling.replay(message, flow)
                if replay is not None:
                    return replay
        raise JournalConflictsPersist(
            f"{message.sender_bic}:{message.reference} conflicted {bounds.journal_conflict_retries_max} times"
        )
