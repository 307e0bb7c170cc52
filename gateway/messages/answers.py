"""The messages the gateway sends, built from what settlement decided: pacs.002 status reports, admi.002 rejects and
forwarded credit transfers, each with its AppHdr in the gateway's envelope.

Every outbound message gets a fresh BizMsgIdr/MsgId from new_message_id; the AppHdr names the central bank (the
gateway) as sender and relates the answer to the message it answers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from gateway import bounds
from gateway.domain.ledger import TransferKind
from gateway.messages import codes
from gateway.messages.commands import BusinessHeader, OriginalMessage, RelatedHeader
from gateway.messages.identity import MessageId
from gateway.messages.rejections import Rejection
from gateway.messages.reports import (
    CaseAssignment,
    GroupStatus,
    LongPaymentIdentification,
    PaymentStatus,
    Receipt,
    ReceiptDetails,
    RequestHandling,
    ResolutionOfInvestigation,
    StatusCount,
    StatusReason,
    StatusReport,
    TransactionStatus,
    group_status_of,
    message_reject,
    request_description_chars_max,
    status_reason,
    status_reason_for,
)
from gateway.messages.schemas import compiled
from gateway.messages.statements import (
    AccountId,
    AccountNotification,
    BankTransactionCode,
    CreditDebit,
    DebitCreditNotification,
    Entry,
    EntryStatus,
    EntryTransaction,
    PartyIdentification,
    ReportedAccount,
    ReportHeader,
)
from gateway.messages.writers import (
    Recipient,
    answer_app_hdr_version,
    in_envelope,
    message_reject_message,
    notification_message,
    receipt_message,
    resolution_message,
    status_report_message,
)
from gateway.messages.writers import pacs_004_001_09 as pacs_004_writer
from gateway.messages.writers import pacs_008_001_08 as pacs_008_writer
from gateway.messages.writers import pacs_009_001_08 as pacs_009_writer
from gateway.messages.writers._credit_transfer import Forward
from gateway.messages.writers._writing import Writing

pacs_002 = MessageId("pacs", "002", "001", "10")
admi_002 = MessageId("admi", "002", "001", "01")
pacs_008 = MessageId("pacs", "008", "001", "08")
pacs_009 = MessageId("pacs", "009", "001", "08")
pacs_004 = MessageId("pacs", "004", "001", "09")
_forward_writers = {pacs_008: pacs_008_writer, pacs_009: pacs_009_writer, pacs_004: pacs_004_writer}



def new_message_id() -> str:
    """A fresh identifier for an outbound message: 'CR' and 32 hex digits (128 random bits), within Max35Text and
    unique."""
    return "CR" + os.urandom(16).hex()


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message ready to store and deliver."""

    message_id: MessageId
    reference: str  # its BizMsgIdr
    receiver_bic: str
    payload: bytes


def header(
    gateway_bic: str, receiver_bic: str, message_id: MessageId, reference: str, now: datetime,
    answering: BusinessHeader | None, configured: Recipient | None = None, *, answers_receiver: bool = True,
) -> BusinessHeader:
    """`configured`: how the receiver is written to (its app_hdr_version, and who signs), if it is a participant.
    `answers_receiver`: whether
    `answering` is the receiver's own message; it is not for what is passed on to a bank from another (a forwarded
    payment, a cancellation request), whose version then says nothing of the receiver's."""
    related = ()
    # Rltd copies the answered header, whose parties it names by BIC as every AppHdr the gateway writes does. A header
    # that named a party otherwise (a clearing code, an OrgId, an empty FinInstnId: refused for it, RC02) cannot be
    # copied so: the answer is then related by its Document's reference alone (admi.002 RltdRef, pacs.002 OrgnlMsgId).
    if answering is not None and answering.from_bic is not None and answering.to_bic is not None:
        related = (
            RelatedHeader(
                from_bic=answering.from_bic,
                to_bic=answering.to_bic,
                business_message_id=answering.business_message_id,
                message_definition_id=answering.message_definition_id,
                business_service=answering.business_service,
                creation_time=answering.creation_time,
            ),
        )
    return BusinessHeader(
        from_bic=gateway_bic,
        to_bic=receiver_bic,
        business_message_id=reference,
        message_definition_id=str(message_id),
        business_service=None,
        creation_time=now,
        copy_duplicate=None,
        possible_duplicate=None,
        related=related,
        version=answer_app_hdr_version(
            answering if answers_receiver else None, None if configured is None else configured.app_hdr_version
        ),
        signer=None if configured is None else configured.signer,
    )


def status_report(
    gateway_bic: str,
    receiver_bic: str,
    now: datetime,
    answering: BusinessHeader | None,
    original: OriginalMessage,
    number_of_transactions: int,
    transactions: Sequence[TransactionStatus],
    group_reasons: Sequence[StatusReason] = (),
    group_status: PaymentStatus | None = None,
    configured: Recipient | None = None,
    *,
    exceptions_only: bool = False,
) -> Outbound:
    """A pacs.002 for one original message. The group status is the transactions' common status when they share
    one (ACSC all settled, PDNG all waiting for their settlement date, RJCT all refused), else PART, with
    NbOfTxsPerSts counting each status. `exceptions_only`: TxInfAndSts only for the transactions not settled (ACSC);
    the group status and counts still come from all of them."""
    statuses = [t.status for t in transactions if t.status is not None]
    if group_status is None:
        group_status = group_status_of(statuses)
    counts: tuple[StatusCount, ...] = ()
    if group_status is PaymentStatus.PART:
        counts = tuple(
            StatusCount(status, statuses.count(status), None) for status in PaymentStatus if status in statuses
        )
    group = GroupStatus(
        original_message=original,
        original_number_of_transactions=number_of_transactions,
        original_control_sum_kopecks=None,
        status=group_status,
        reasons=tuple(group_reasons[: bounds.status_reasons_per_transaction_max]),
        counts=counts,
    )
    if exceptions_only:
        transactions = [t for t in transactions if t.status is not PaymentStatus.ACSC]
    return _pacs_002(gateway_bic, receiver_bic, now, answering, (group,), transactions, configured)


def status_report_for_request(
    gateway_bic: str,
    receiver_bic: str,
    now: datetime,
    answering: BusinessHeader | None,
    transactions: Sequence[TransactionStatus],
    configured: Recipient | None = None,
) -> Outbound:
    """A pacs.002 answering a pacs.028: transactions of possibly several original messages, each naming its own."""
    return _pacs_002(gateway_bic, receiver_bic, now, answering, (), transactions, configured)


def _pacs_002(
    gateway_bic: str,
    receiver_bic: str,
    now: datetime,
    answering: BusinessHeader | None,
    groups: tuple[GroupStatus, ...],
    transactions: Sequence[TransactionStatus],
    configured: Recipient | None,
) -> Outbound:
    reference = new_message_id()
    report = StatusReport(
        message_id=reference,
        creation_time=now,
        instructing_agent_bic=gateway_bic,
        instructed_agent_bic=receiver_bic,
        groups=groups,
        transactions=tuple(transactions),
    )
    app_hdr = header(gateway_bic, receiver_bic, pacs_002, reference, now, answering, configured)
    return Outbound(pacs_002, reference, receiver_bic, status_report_message(app_hdr, report))


def transaction_status(
    *,
    end_to_end_id: str | None,
    instruction_id: str | None,
    transaction_id: str | None,
    uetr: uuid.UUID | None,
    status: PaymentStatus | None,
    reasons: Sequence[StatusReason] = (),
    settled_at: datetime | None = None,
    transfer_id: uuid.UUID | None = None,
    original_message: OriginalMessage | None = None,
    status_id: str | None = None,
) -> TransactionStatus:
    """One TxInfAndSts. `status` None: the gateway knows no payment by these references and says so in a reason,
    without a TxSts that would claim the payment's fate; `status_id` echoes a status request's StsReqId."""
    return TransactionStatus(
        status_id=status_id,
        original_message=original_message,
        original_instruction_id=instruction_id,
        original_end_to_end_id=end_to_end_id,
        original_transaction_id=transaction_id,
        original_uetr=uetr,
        status=status,
        reasons=tuple(reasons),
        acceptance_time=None,
        settlement=settled_at,
        clearing_system_reference=None if transfer_id is None else transfer_id.hex,
        original_amount=None,
        original_settlement_date=None,
    )


def receipt(
    gateway_bic: str, receiver_bic: str, now: datetime, answering: BusinessHeader | None, original_message_id: str,
    original_message_name_id: str, original_transaction_id: str | None, handlings: Sequence[tuple[str, str]],
    configured: Recipient | None = None, payment: LongPaymentIdentification | None = None,
) -> Outbound:
    """A camt.025 for a request the gateway handled (a camt.050): each handling a status or reason code and its
    wording, in order (ACSC, PDNG or RJCT first; after RJCT, the reason); the transfer named in full when known."""
    reference = new_message_id()
    value = Receipt(
        message_id=reference,
        creation_time=now,
        details=(
            ReceiptDetails(
                original_message_id=original_message_id,
                original_message_name_id=original_message_name_id,
                original_transaction_id=original_transaction_id,
                handlings=tuple(RequestHandling(code, text[:request_description_chars_max]) for code, text in handlings),
                payment=payment,
            ),
        ),
    )
    app_hdr = header(gateway_bic, receiver_bic, camt_025, reference, now, answering, configured)
    return Outbound(camt_025, reference, receiver_bic, receipt_message(app_hdr, value))


def rejection_reasons(rejections: Sequence[Rejection], path_prefix: str | None = None) -> list[StatusReason]:
    """The rejections found under `path_prefix` (all of them when None), as status reasons."""
    chosen = [r for r in rejections if path_prefix is None or r.path == path_prefix or r.path.startswith(path_prefix + "/")]
    return [status_reason_for(r) for r in chosen]


def message_rejected(
    gateway_bic: str, receiver_bic: str, now: datetime, answering: BusinessHeader | None,
    rejection: Rejection, reference: str | None, configured: Recipient | None = None,
) -> Outbound:
    """An admi.002: the message as a whole could not be processed (unreadable, not allowed, not a command)."""
    own_reference = new_message_id()
    app_hdr = header(gateway_bic, receiver_bic, admi_002, own_reference, now, answering, configured)
    payload = message_reject_message(app_hdr, message_reject(rejection, reference, now))
    return Outbound(admi_002, own_reference, receiver_bic, payload)


def forwarded(
    gateway_bic: str, forward_message_id: MessageId, forward: Forward, now: datetime, answering: BusinessHeader | None,
    configured: Recipient | None = None,
) -> Outbound:
    """A settled pacs.008, pacs.009 or pacs.004 for the bank it credits. The AppHdr relates it to the paying bank's
    message, in the credited bank's configured version (`configured`), else head.001.001.02."""
    writer = _forward_writers[forward_message_id]
    app_hdr = header(
        gateway_bic, forward.instructed_agent_bic, forward_message_id, forward.message_id, now, answering, configured,
        answers_receiver=False,
    )
    payload = in_envelope(app_hdr, writer.write(forward))
    return Outbound(forward_message_id, forward.message_id, forward.instructed_agent_bic, payload)


def narrative(text: str) -> StatusReason:
    """NARR: a reason told in words, for a transaction refused together with others in its message."""
    return status_reason(codes.narrative, text)


camt_029 = MessageId("camt", "029", "001", "09")
camt_025 = MessageId("camt", "025", "001", "05")
camt_056 = MessageId("camt", "056", "001", "08")


def resolution(
    gateway_bic: str, receiver_bic: str, now: datetime, answering: BusinessHeader | None,
    value: ResolutionOfInvestigation, configured: Recipient | None = None,
) -> Outbound:
    """A camt.029 from the gateway answering a cancellation request it resolved (or passed on) itself."""
    reference = value.assignment.assignment_id
    app_hdr = header(gateway_bic, receiver_bic, camt_029, reference, now, answering, configured)
    return Outbound(camt_029, reference, receiver_bic, resolution_message(app_hdr, value))


def reassign(
    assignment: etree._Element, message_id: MessageId, assignment_id: str, assigner_bic: str, assignee_bic: str,
    now: datetime,
) -> None:
    """A case's Assgnmt rewritten in place as the gateway passes the case on: its own assignment id, the gateway
    the assigner, the next party the assignee."""
    value = CaseAssignment(assignment_id, assigner_bic, assignee_bic, now)
    Writing(message_id).case_assignment(assignment, value)


def passed_on(
    gateway_bic: str, receiver_bic: str, message_id: MessageId, document: etree._Element, now: datetime,
    answering: BusinessHeader | None, configured: Recipient | None = None,
) -> Outbound:
    """A bank's own Document passed on to another bank under a new AppHdr from the gateway: a cancellation request
    for the creditor agent, or the creditor agent's camt.029 for the bank that asked. The Document was checked
    against our schema on intake; it is checked again here because it may have been cut to one recipient's part.
    The AppHdr is in the receiver's configured version (`configured`), else head.001.001.02."""
    problems = compiled().validate_element(document, message_id)
    assert not problems, f"a {message_id} passed on is invalid: {problems}"
    reference = new_message_id()
    app_hdr = header(
        gateway_bic, receiver_bic, message_id, reference, now, answering, configured, answers_receiver=False
    )
    payload = in_envelope(app_hdr, document)
    return Outbound(message_id, reference, receiver_bic, payload)


camt_054 = MessageId("camt", "054", "001", "08")
wallet_scheme = "CRUB-WALLET"  # how a wallet is named in account identifications (see docs/usage-guidelines.md)
# A received domestic credit transfer (ISO bank transaction code PMNT / RCDT / DMCT), with the gateway's own code.
# BankTransactionCodeStructure4 (Domn/Cd, Fmly/Cd, SubFmlyCd) of a wallet's entry, by ledger transfer kind and side:
# payments received (RCDT) or sent (ICDT), returns (RRTN, a reversal), conversions into the wallet (TOPG, topping)
# and out of it (SWEP, sweeping). The camt.054 notifications and the camt.052/053 reports use the same codes.
entry_codes: dict[tuple[TransferKind, CreditDebit], BankTransactionCode] = {
    (TransferKind.PAYMENT, CreditDebit.CRDT): BankTransactionCode("PMNT", "RCDT", "DMCT", None, None),
    (TransferKind.PAYMENT, CreditDebit.DBIT): BankTransactionCode("PMNT", "ICDT", "DMCT", None, None),
    (TransferKind.RETURN, CreditDebit.CRDT): BankTransactionCode("PMNT", "RCDT", "RRTN", None, None),
    (TransferKind.RETURN, CreditDebit.DBIT): BankTransactionCode("PMNT", "ICDT", "RRTN", None, None),
    (TransferKind.MINT, CreditDebit.CRDT): BankTransactionCode("CAMT", "ACCB", "TOPG", None, None),
    (TransferKind.BURN, CreditDebit.DBIT): BankTransactionCode("CAMT", "ACCB", "SWEP", None, None),
    (TransferKind.ADJUSTMENT, CreditDebit.CRDT): BankTransactionCode("CAMT", "ACCB", "ADJT", None, None),
    (TransferKind.ADJUSTMENT, CreditDebit.DBIT): BankTransactionCode("CAMT", "ACCB", "ADJT", None, None),
}


# What a conversion's entry says it was, beside its references, in camt.052/053/054 alike.
conversion_entry_info = {
    TransferKind.MINT: "fiat roubles converted into cryptoroubles (camt.050)",
    TransferKind.BURN: "cryptoroubles converted back into fiat roubles (camt.050)",
}


@dataclass(frozen=True, slots=True)
class Credit:
    """One settled credit to a wallet, as a camt.054 entry tells it."""

    wallet_code: str  # e.g. VTBRRUMMXXX/main
    kopecks: int
    settled_at: datetime
    value_date: date  # the business day the posting belongs to: its interbank settlement date
    transfer_id: uuid.UUID
    message_id: str  # the message that caused it: the debtor agent's, or the bank's camt.050
    end_to_end_id: str | None
    instruction_id: str | None
    transaction_id: str | None
    uetr: uuid.UUID | None
    debtor_agent_bic: str | None  # None for a conversion
    creditor_agent_bic: str | None
    kind: TransferKind  # PAYMENT, RETURN, or MINT (fiat converted into the wallet)
    additional_info: str | None = None


def credit_notification(
    gateway_bic: str, receiver_bic: str, now: datetime, credits: Sequence[Credit], configured: Recipient | None = None
) -> Outbound:
    """A camt.054 for the credits one message brought to one bank's wallets: one Ntfctn per wallet, one entry per
    credit, booked at the time the ledger settled it."""
    by_wallet: dict[str, list[Credit]] = {}
    for credit in credits:
        by_wallet.setdefault(credit.wallet_code, []).append(credit)
    reference = new_message_id()
    notifications = tuple(
        AccountNotification(
            notification_id=new_message_id(),
            pagination=None,
            electronic_sequence_number=None,
            creation_time=now,
            period=None,
            account=ReportedAccount(AccountId(wallet, wallet_scheme), None, None, gateway_bic),
            entries=tuple(_credit_entry(credit) for credit in wallet_credits),
            additional_info=None,
        )
        for wallet, wallet_credits in by_wallet.items()
    )
    notification = DebitCreditNotification(
        ReportHeader(reference, now, PartyIdentification(None, receiver_bic), None), notifications
    )
    app_hdr = header(gateway_bic, receiver_bic, camt_054, reference, now, None, configured)
    return Outbound(camt_054, reference, receiver_bic, notification_message(app_hdr, notification))


def _credit_entry(credit: Credit) -> Entry:
    return Entry(
        reference=credit.transfer_id.hex,
        kopecks=credit.kopecks,
        direction=CreditDebit.CRDT,
        status=EntryStatus.BOOK,
        booking_date=credit.settled_at,
        value_date=credit.value_date,
        account_servicer_reference=credit.transfer_id.hex,
        bank_transaction_code=entry_codes[(credit.kind, CreditDebit.CRDT)],
        transactions=(
            payment_details(
                credit.transfer_id, credit.kopecks, CreditDebit.CRDT, credit.message_id, credit.instruction_id,
                credit.end_to_end_id, credit.uetr, credit.transaction_id, credit.debtor_agent_bic,
                credit.creditor_agent_bic,
            ),
        ),
        additional_info=credit.additional_info,
    )


def payment_details(
    transfer_id: uuid.UUID, kopecks: int, direction: CreditDebit, message_id: str | None,
    instruction_id: str | None, end_to_end_id: str | None, uetr: uuid.UUID | None, transaction_id: str | None,
    debtor_agent_bic: str | None, creditor_agent_bic: str | None,
) -> EntryTransaction:
    """The TxDtls of an entry a payment made: its references (the ledger transfer's id as AcctSvcrRef and
    ClrSysRef) and its agents; for camt.054 notifications and camt.052/053 reports alike."""
    return EntryTransaction(
        message_id=message_id,
        account_servicer_reference=transfer_id.hex,
        instruction_id=instruction_id,
        end_to_end_id=end_to_end_id,
        uetr=uetr,
        transaction_id=transaction_id,
        clearing_system_reference=transfer_id.hex,
        kopecks=kopecks,
        direction=direction,
        debtor=None,
        debtor_account=None,
        creditor=None,
        creditor_account=None,
        instructing_agent_bic=None,
        instructed_agent_bic=None,
        debtor_agent_bic=debtor_agent_bic,
        creditor_agent_bic=creditor_agent_bic,
        additional_info=None,
    )
