"""What every flow reads of the message journal. `gateway_adapters.sql.journal.JournalReader` implements it on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol
from uuid import UUID

from gateway.domain.journal import MailboxItem, PaymentRecord, StoredMessage


class JournalReads(Protocol):
    async def taken_claims(self, keys: Sequence[str]) -> set[str]: ...

    async def message_by_key(self, idempotency_key: str) -> StoredMessage | None: ...

    async def message(self, message_id: UUID) -> StoredMessage | None: ...

    async def answer_to(self, message_id: UUID, receiver_bic: str, newest: bool = False) -> StoredMessage | None: ...

    async def mailbox(self, recipient_bic: str, after_seq: int, limit: int, since_us: int) -> list[MailboxItem]: ...

    async def payments_of_message(self, message_id: UUID) -> list[PaymentRecord]: ...

    async def payments_with_uetrs(self, uetrs: Sequence[UUID]) -> list[PaymentRecord]:
        """Every payment record under these UETRs, any party, rejected attempts included, newest first."""
        ...

    async def payments_of_groups(self, debtor_bic: str, group_message_ids: Sequence[str]) -> list[PaymentRecord]:
        """The debtor agent's payments in messages with these GrpHdr/MsgIds, newest first."""
        ...

    async def find_payments(
        self, debtor_bic: str, uetrs: Sequence[UUID] = (), end_to_end_ids: Sequence[str] = ()
    ) -> list[PaymentRecord]:
        """The debtor agent's payments with any of these UETRs or EndToEndIds, rejected ones included, newest first."""
        ...

    async def warehoused_due(self, business_date: date, limit: int) -> list[PaymentRecord]: ...

    async def oldest_undelivered_us(self, recipients: Sequence[str]) -> int | None: ...
