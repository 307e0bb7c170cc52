"""Warehoused payments: future-dated pacs.008/pacs.009 transactions, held (PDNG) since they arrived, settle as their
business day starts. The debtor agent is told the outcome with a pacs.002, the creditor agent gets the forwarded
payment, as if it had settled on arrival.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from gateway.domain.calendar import instant
from gateway.domain.conversion import ConversionUse
from gateway.domain.journal import (
    JournalRows,
    PaymentRecord,
    PaymentState,
    PaymentUpdate,
)
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from gateway.handling.directory import Directory
from gateway.handling.journaling import Journaling, outbound_records
from gateway.handling.received import Environment
from gateway.ledger.ports import JournalConflict
from gateway.messages import answers
from gateway.messages.commands import (
    BusinessHeader,
    CreditTransfer,
    FinancialInstitutionTransfer,
    OriginalMessage,
)
from gateway.messages.identity import MessageId
from gateway.messages.intake import reread
from gateway.messages.readers import read_command
from gateway.messages.reports import PaymentStatus, status_reason
from gateway.messages.writers import Recipients
from gateway.settlement.payments import (
    Payment,
    credit_notifications,
    forward_message_id,
    forwards,
    ledger_reason,
    original_message,
    prepare_payments,
)


@dataclass(slots=True)
class _WarehouseRelease:
    """The BatchAttachment that settles a message's warehoused payments on their settlement date: each must still be
    warehoused (not cancelled, not released by another process), its claims were taken when it arrived."""

    gateway_bic: str
    sender_bic: str
    header: BusinessHeader | None
    original: OriginalMessage
    number_of_transactions: int
    forward_type: MessageId
    settlement_method: str
    payments: list[tuple[PaymentRecord, Payment]]
    inbound_id: UUID
    directory: Directory
    credit_notified: frozenset[str]
    recipients: Recipients  # how each bank is written to (Journaling.recipients)

    @property
    def claim_keys(self) -> Sequence[str]:
        return ()

    @property
    def expected_payment_states(self) -> Sequence[tuple[UUID, PaymentState]]:
        return [(record.id, PaymentState.WAREHOUSED) for record, _ in self.payments]

    @property
    def conversion_uses(self) -> Sequence[ConversionUse]:
        return ()

    def requests(self) -> list[TransferRequest]:
        # As on arrival, the transfer names its message by the sender's AppHdr/BizMsgIdr (its idempotency key).
        business_message_id = self.header.business_message_id if self.header is not None else self.original.message_id
        reference = f"{self.sender_bic}:{business_message_id}"
        wallets = self.directory.settlement_wallets
        return [payment.transfer(wallets, TransferKind.PAYMENT, reference) for _, payment in self.payments]

    def journal(self, results: Sequence[TransferResult], settled_at_us: int) -> JournalRows:
        settled_at = instant(settled_at_us)
        updates, statuses, settled, released = [], [], [], []
        for (record, payment), result in zip(self.payments, results, strict=True):
            if result is TransferResult.OK:
                update = PaymentUpdate(record.id, PaymentState.WAREHOUSED, PaymentState.SETTLED, settled_at_us, None)
                status, reasons = PaymentStatus.ACSC, ()
                settled.append(payment)
            else:
                code, text = ledger_reason(result)
                update = PaymentUpdate(record.id, PaymentState.WAREHOUSED, PaymentState.REJECTED, None, code)
                status, reasons = PaymentStatus.RJCT, (status_reason(code, text),)
                released.extend(payment.claims)  # as taken when it arrived
            updates.append(update)
            statuses.append(payment.status(status, reasons, settled_at))
        report = answers.status_report(
            self.gateway_bic, self.sender_bic, settled_at, self.header, self.original, self.number_of_transactions,
            statuses, configured=self.recipients.get(self.sender_bic),
        )
        forwarded = forwards(
            self.gateway_bic, self.forward_type, self.settlement_method, settled, settled_at, self.header,
            self.recipients,
        )
        notifications = credit_notifications(
            self.gateway_bic, self.credit_notified, self.directory.settlement_wallet_codes, self.original.message_id,
            False, settled, settled_at, self.recipients,
        )
        messages, mailbox = outbound_records(
            self.gateway_bic, [report, *forwarded, *notifications], self.inbound_id, settled_at_us
        )
        return JournalRows(
            messages=tuple(messages), mailbox=mailbox, payment_updates=tuple(updates), released_claims=tuple(released)
        )


class Warehouse:
    """Releases warehoused payments as their settlement date comes (the app runs it every few seconds)."""

    def __init__(self, journaling: Journaling, credit_notified: frozenset[str], environment: Environment) -> None:
        self.journaling = journaling
        self.credit_notified = credit_notified
        self.environment = environment

    async def settle_due(self, payments_max: int) -> int:
        """Settle warehoused payments whose settlement date has come. Returns how many were released. Another
        process releasing the same message first is a JournalConflict, which leaves the work to it."""
        today = self.environment.business_date()
        directory = self.environment.directory
        journal = self.journaling.journal
        due = await journal.warehoused_due(today, payments_max)
        by_message: dict[UUID, list[PaymentRecord]] = {}
        for record in due:
            by_message.setdefault(record.message_id, []).append(record)
        released = 0
        for message_id, records in by_message.items():
            stored = await journal.message(message_id)
            assert stored is not None and stored.sender_bic is not None
            header, unwrapped = reread(stored.payload)
            command = read_command(unwrapped)
            assert isinstance(command, CreditTransfer | FinancialInstitutionTransfer)
            prepared = prepare_payments(command, stored.sender_bic, directory, today, set())
            release = _WarehouseRelease(
                gateway_bic=self.journaling.gateway_bic,
                sender_bic=stored.sender_bic,
                header=header,
                original=original_message(command, stored.message_type or ""),
                number_of_transactions=len(command.transactions),
                forward_type=forward_message_id(command),
                settlement_method=command.group.settlement_method,
                payments=[(record, prepared[record.position - 1]) for record in records],
                inbound_id=message_id,
                directory=directory,
                credit_notified=self.credit_notified,
                recipients=self.journaling.recipients,
            )
            try:
                await self.journaling.batcher.submit(release.requests(), release)
            except JournalConflict:
                continue
            released += len(records)
        return released
