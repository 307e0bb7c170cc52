"""A return (pacs.004), a cancellation request (camt.056), a creditor agent's resolution (camt.029) and a status
request (pacs.028) each name the payment they are about. The gateway finds it by everything the message says of
it, never by one identifier alone, and only where the sender is the party of the original the message's role
needs (the debtor agent asks about and cancels its payments; the creditor agent returns and resolves what it
received):

- the original message, when named: OrgnlMsgId is the original's GrpHdr/MsgId, OrgnlMsgNmId its message name;
- OrgnlUETR, OrgnlEndToEndId, OrgnlTxId and OrgnlInstrId, each when present, equal to the original's;
- the parties: the original's debtor or creditor agent is the sender.

Among the records that match (a payment and the refused attempts of its resends), the live one (settled,
warehoused or cancelled) wins over refused ones, the newest first. A bank that names another bank's payment finds
nothing, exactly as if there were none: nothing about other banks' payments is disclosed.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from uuid import UUID

from gateway.domain.journal import PaymentKind, PaymentRecord, PaymentState
from gateway.handling.ports import JournalReads
from gateway.messages.commands import OriginalMessage

payment_kinds = frozenset({PaymentKind.CUSTOMER_CREDIT_TRANSFER, PaymentKind.INSTITUTION_CREDIT_TRANSFER})
every_kind = frozenset(PaymentKind)


class Party(enum.Enum):
    """Which party of the original the sender of the referring message must be."""

    DEBTOR_AGENT = "debtor agent"
    CREDITOR_AGENT = "creditor agent"

    def of(self, payment: PaymentRecord) -> str:
        return payment.debtor_bic if self is Party.DEBTOR_AGENT else payment.creditor_bic


@dataclass(frozen=True, slots=True)
class OriginalReference:
    """What a referring message says of the original payment, each part as given (None: not given)."""

    message: OriginalMessage | None  # OrgnlGrpInf: OrgnlMsgId and OrgnlMsgNmId
    uetr: UUID | None
    end_to_end_id: str | None
    transaction_id: str | None
    instruction_id: str | None

    def mismatch(self, payment: PaymentRecord) -> str | None:
        """The first element of the reference that the payment does not carry, None when all agree."""
        if self.message is not None:
            if self.message.message_id != payment.group_message_id:
                return "OrgnlMsgId"
            if self.message.message_name_id != payment.kind.message_name:
                return "OrgnlMsgNmId"
        for name, given, held in (
            ("OrgnlUETR", self.uetr, payment.uetr),
            ("OrgnlEndToEndId", self.end_to_end_id, payment.end_to_end_id),
            ("OrgnlTxId", self.transaction_id, payment.transaction_id),
            ("OrgnlInstrId", self.instruction_id, payment.instruction_id),
        ):
            if given is not None and given != held:
                return name
        return None

    def describe(self) -> str:
        """The reference as a bank wrote it, for the text of a refusal."""
        parts = []
        if self.message is not None:
            parts.append(f"{self.message.message_name_id} {self.message.message_id}")
        if self.uetr is not None:
            parts.append(f"UETR {self.uetr}")
        if self.end_to_end_id is not None:
            parts.append(f"EndToEndId {self.end_to_end_id}")
        if self.transaction_id is not None:
            parts.append(f"TxId {self.transaction_id}")
        if self.instruction_id is not None:
            parts.append(f"InstrId {self.instruction_id}")
        return ", ".join(parts) or "no reference"


async def candidates(
    journal: JournalReads, references: Sequence[OriginalReference], sender_bic: str, party: Party
) -> list[PaymentRecord]:
    """The records the references could name, read in at most three queries for a whole message: by UETR (any
    party: the match checks the party), else by original message or EndToEndId among the sender's own payments."""
    uetrs = sorted({r.uetr for r in references if r.uetr is not None})
    found = list(await journal.payments_with_uetrs(uetrs)) if uetrs else []
    if party is Party.DEBTOR_AGENT:
        without_uetr = [r for r in references if r.uetr is None]
        groups = sorted({r.message.message_id for r in without_uetr if r.message is not None})
        if groups:
            found += await journal.payments_of_groups(sender_bic, groups)
        end_to_end_ids = sorted({r.end_to_end_id for r in without_uetr if r.message is None and r.end_to_end_id})
        if end_to_end_ids:
            found += await journal.find_payments(sender_bic, (), end_to_end_ids)
    unique = {record.id: record for record in found}
    return sorted(unique.values(), key=lambda record: (-record.created_at_us, record.position))


def matching(
    reference: OriginalReference,
    records: Sequence[PaymentRecord],
    sender_bic: str,
    party: Party,
    kinds: Collection[PaymentKind],
) -> list[PaymentRecord]:
    """Every record the reference names in full, of which the sender is the given party; live ones first."""
    found = [
        record for record in records
        if record.kind in kinds and party.of(record) == sender_bic and reference.mismatch(record) is None
    ]
    return sorted(found, key=lambda record: record.state is PaymentState.REJECTED)  # stable: newest first within


def original(
    reference: OriginalReference,
    records: Sequence[PaymentRecord],
    sender_bic: str,
    party: Party,
    kinds: Collection[PaymentKind],
) -> PaymentRecord | None:
    """The payment the reference names: the live record if there is one, else the newest refused attempt."""
    found = matching(reference, records, sender_bic, party, kinds)
    return found[0] if found else None
