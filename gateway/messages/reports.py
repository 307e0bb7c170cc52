"""What the gateway answers, as immutable values: a payment status report (pacs.002), a message reject (admi.002),
the resolution of a cancellation request (camt.029) and the receipt for a liquidity transfer (camt.025).

Writers (gateway.messages.writers) turn these into XML. Every field already fits its ISO 20022 type; the
constructors below (status_reason, message_reject, cancellation_reason, request_handling...) fit free text from
rejections into those types. Account reports (camt.052/053/054) are in gateway.messages.statements.
"""

from __future__ import annotations

import enum
import re
import textwrap
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from gateway import bounds
from gateway.messages.commands import Amount, OriginalMessage
from gateway.messages.iso_types import fit, xml_safe
from gateway.messages.rejections import Rejection

# Field lengths of the ISO types these values are written to.
additional_info_chars_max = 105  # StatusReasonInformation12/AddtlInf: Max105Text
reference_chars_max = 35  # Max35Text: message and transaction ids, admi.002 Ref and RjctgPtyRsn
error_location_chars_max = 350  # admi.002 ErrLctn: Max350Text
reason_description_chars_max = 350  # admi.002 RsnDesc: Max350Text
additional_data_chars_max = 20_000  # admi.002 AddtlData: Max20000Text

# The reference quoted when the rejected message's own could not be read (SWIFT's convention for "no reference").
no_reference = "NONREF"

_code = re.compile(r"[A-Z0-9]{4}")


class PaymentStatus(enum.Enum):
    """ExternalPaymentTransactionStatus1Code / ExternalPaymentGroupStatus1Code values the gateway sends."""

    ACSC = "ACSC"  # AcceptedSettlementCompleted: settled on the ledger
    ACCP = "ACCP"  # AcceptedCustomerProfile: passed every check, not yet settled
    PDNG = "PDNG"  # Pending: waiting (e.g. for the auto-batcher or a counterparty)
    RJCT = "RJCT"  # Rejected: see the reason
    PART = "PART"  # PartiallyAccepted (group status only): some transactions accepted, others not


def group_status_of(statuses: Sequence[PaymentStatus]) -> PaymentStatus:
    """A message's group status from its transactions': theirs when they all share one, else PART."""
    assert statuses, "a message has transactions"
    first = statuses[0]
    return first if all(status is first for status in statuses) else PaymentStatus.PART


@dataclass(frozen=True, slots=True)
class StatusReason:
    """StatusReasonInformation12: an ExternalStatusReason1Code and up to a few lines of text."""

    code: str  # e.g. AM04, FF01
    additional_info: tuple[str, ...]  # each line 1..105 characters

    def __post_init__(self) -> None:
        assert _code.fullmatch(self.code), self.code
        for line in self.additional_info:
            assert 1 <= len(line) <= additional_info_chars_max, len(line)
            assert xml_safe(line) == line, "additional info holds characters XML cannot carry"


def status_reason(code: str, text: str | None = None) -> StatusReason:
    """A reason with its text over as many AddtlInf lines (Max105Text, repeatable) as it takes, up to
    bounds.additional_info_lines_max: words are never cut in the middle."""
    return StatusReason(code, () if not text else text_lines(text)[: bounds.additional_info_lines_max])


def status_reason_for(rejection: Rejection) -> StatusReason:
    """The reason a rejection gives: what is wrong first, in words, then where (the element path) on lines of its
    own, so that neither is cut."""
    lines = text_lines(rejection.text)
    if rejection.path:
        lines += path_lines(rejection.path)
    return StatusReason(rejection.code, lines[: bounds.additional_info_lines_max])


def text_lines(text: str, width: int = additional_info_chars_max) -> tuple[str, ...]:
    """Free text on lines of at most `width` characters, broken between words (a word longer than a line is
    broken where it must be)."""
    safe = xml_safe(" ".join(text.split()))
    lines = textwrap.wrap(safe, width=width, break_long_words=True, break_on_hyphens=False)
    return tuple(lines) or (fit(text, width),)


def path_lines(path: str, width: int = additional_info_chars_max) -> tuple[str, ...]:
    """An element path on lines of at most `width` characters, each broken after a '/'."""
    lines: list[str] = []
    line = ""
    for step in path.split("/")[1:]:
        piece = "/" + step
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    if line:
        lines.append(line)
    return tuple(fit(line, width) for line in lines)


@dataclass(frozen=True, slots=True)
class StatusCount:
    """NumberOfTransactionsPerStatus5: how many transactions have one status, and their control sum."""

    status: PaymentStatus
    number_of_transactions: int
    control_sum_kopecks: int | None

    def __post_init__(self) -> None:
        assert 0 <= self.number_of_transactions < 10**15, self.number_of_transactions
        assert self.control_sum_kopecks is None or self.control_sum_kopecks >= 0, self.control_sum_kopecks


@dataclass(frozen=True, slots=True)
class GroupStatus:
    """OriginalGroupHeader17: the status of a whole original message."""

    original_message: OriginalMessage
    original_number_of_transactions: int | None
    original_control_sum_kopecks: int | None
    status: PaymentStatus | None
    reasons: tuple[StatusReason, ...]
    counts: tuple[StatusCount, ...]

    def __post_init__(self) -> None:
        _assert_id(self.original_message.message_id)
        _assert_id(self.original_message.message_name_id)
        number = self.original_number_of_transactions
        assert number is None or 0 <= number < 10**15, number
        assert self.original_control_sum_kopecks is None or self.original_control_sum_kopecks >= 0


@dataclass(frozen=True, slots=True)
class TransactionStatus:
    """PaymentTransaction110: the status of one original transaction."""

    status_id: str | None  # StsId
    original_message: OriginalMessage | None  # OrgnlGrpInf
    original_instruction_id: str | None
    original_end_to_end_id: str | None
    original_transaction_id: str | None
    original_uetr: uuid.UUID | None
    status: PaymentStatus | None  # TxSts; None: the gateway knows no such payment, so it states no status of it
    reasons: tuple[StatusReason, ...]
    acceptance_time: datetime | None  # AccptncDtTm
    settlement: date | datetime | None  # FctvIntrBkSttlmDt: Dt or DtTm; the gateway sends when the ledger settled it
    clearing_system_reference: str | None  # ClrSysRef: the ledger transfer's reference
    original_amount: Amount | None  # OrgnlTxRef/IntrBkSttlmAmt
    original_settlement_date: date | None  # OrgnlTxRef/IntrBkSttlmDt

    def __post_init__(self) -> None:
        for value in (
            self.status_id,
            self.original_instruction_id,
            self.original_end_to_end_id,
            self.original_transaction_id,
            self.clearing_system_reference,
        ):
            if value is not None:
                _assert_id(value)
        if self.original_message is not None:
            _assert_id(self.original_message.message_id)
            _assert_id(self.original_message.message_name_id)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """pacs.002.001.10 FIToFIPaymentStatusReport, from the gateway to a bank."""

    message_id: str  # GrpHdr/MsgId
    creation_time: datetime
    instructing_agent_bic: str | None  # GrpHdr/InstgAgt: the central bank
    instructed_agent_bic: str | None  # GrpHdr/InstdAgt: the bank the report goes to
    groups: tuple[GroupStatus, ...]
    transactions: tuple[TransactionStatus, ...]

    def __post_init__(self) -> None:
        _assert_id(self.message_id)


@dataclass(frozen=True, slots=True)
class MessageReject:
    """admi.002.001.01 MessageReject: a message the gateway could not process at all."""

    reference: str  # RltdRef/Ref: the rejected message's BizMsgIdr or MsgId, or no_reference
    reason_code: str  # Rsn/RjctgPtyRsn: an ISO external code such as FF01
    rejection_time: datetime | None  # RjctnDtTm
    error_location: str | None  # ErrLctn: the element path
    description: str | None  # RsnDesc
    additional_data: str | None  # AddtlData

    def __post_init__(self) -> None:
        _assert_id(self.reference)
        assert _code.fullmatch(self.reason_code), self.reason_code
        for value, chars_max in (
            (self.error_location, error_location_chars_max),
            (self.description, reason_description_chars_max),
            (self.additional_data, additional_data_chars_max),
        ):
            if value is not None:
                assert 1 <= len(value) <= chars_max, value
                assert xml_safe(value) == value, "free text holds characters XML cannot carry"


def message_reject(rejection: Rejection, reference: str | None, rejection_time: datetime) -> MessageReject:
    """The admi.002 for a rejection: its code, path and text, quoting the message's reference when it is known."""
    quoted = no_reference if not reference else fit(reference, reference_chars_max)
    return MessageReject(
        reference=quoted,
        reason_code=rejection.code,
        rejection_time=rejection_time,
        error_location=fit(rejection.path, error_location_chars_max) if rejection.path else None,
        description=fit(rejection.text, reason_description_chars_max),
        additional_data=None,
    )


def _assert_id(value: str) -> None:
    assert 1 <= len(value) <= reference_chars_max, value
    assert xml_safe(value) == value, "an identifier holds characters XML cannot carry"


# --------------------------------------------------------------------------------------------------------------
# camt.029: the resolution of a cancellation request (camt.056)
# --------------------------------------------------------------------------------------------------------------


_bic = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")  # BICFIDec2014Identifier


class InvestigationStatus(enum.Enum):
    """ExternalInvestigationExecutionConfirmation1Code values that answer a cancellation request (Sts/Conf)."""

    CNCL = "CNCL"  # CancelledAsPerRequest
    PDCR = "PDCR"  # PendingCancellationRequest: the creditor agent has not answered yet
    RJCR = "RJCR"  # RejectedCancellationRequest: see each transaction's reason


class CancellationStatus(enum.Enum):
    """CancellationIndividualStatus1Code (TxCxlSts): the whole closed list."""

    ACCR = "ACCR"  # AcceptedCancellationRequest
    PDCR = "PDCR"  # PendingCancellationRequest
    RJCR = "RJCR"  # RejectedCancellationRequest


@dataclass(frozen=True, slots=True)
class CaseAssignment:
    """CaseAssignment5: who hands the answer to whom, and when. Both are agents (Party40Choice/Agt), by BIC."""

    assignment_id: str  # Id
    assigner_bic: str  # Assgnr/Agt: the bank (or the gateway) that answers
    assignee_bic: str  # Assgne/Agt: the bank the answer goes to
    creation_time: datetime  # CreDtTm

    def __post_init__(self) -> None:
        _assert_id(self.assignment_id)
        _assert_bic(self.assigner_bic)
        _assert_bic(self.assignee_bic)


@dataclass(frozen=True, slots=True)
class ResolvedCase:
    """Case5: the case the camt.056 opened, and the agent that opened it."""

    case_id: str  # Id
    creator_bic: str  # Cretr/Agt

    def __post_init__(self) -> None:
        _assert_id(self.case_id)
        _assert_bic(self.creator_bic)


@dataclass(frozen=True, slots=True)
class CancellationReason:
    """CancellationStatusReason4: an ExternalPaymentCancellationRejection1Code (ARDT ...) and lines of text.

    The code may be absent: an accepted cancellation often carries a note only."""

    code: str | None  # Rsn/Cd
    additional_info: tuple[str, ...]  # AddtlInf: each line 1..105 characters

    def __post_init__(self) -> None:
        assert self.code is None or _code.fullmatch(self.code), self.code
        for line in self.additional_info:
            assert 1 <= len(line) <= additional_info_chars_max, len(line)
            assert xml_safe(line) == line, "additional info holds characters XML cannot carry"


def cancellation_reason(code: str, text: str | None = None) -> CancellationReason:
    """A reason with its text trimmed to one AddtlInf line of 105 characters."""
    return CancellationReason(code, () if not text else (fit(text, additional_info_chars_max),))


@dataclass(frozen=True, slots=True)
class CancellationTransactionStatus:
    """PaymentTransaction102 (CxlDtls/TxInfAndSts): what became of one transaction whose cancellation was asked."""

    cancellation_status_id: str | None  # CxlStsId
    original_message: OriginalMessage | None  # OrgnlGrpInf: the pacs.008/009 that carried the payment
    original_instruction_id: str | None
    original_end_to_end_id: str | None
    original_transaction_id: str | None
    original_clearing_system_reference: str | None  # OrgnlClrSysRef: the ledger transfer's reference
    original_uetr: uuid.UUID | None
    status: CancellationStatus  # TxCxlSts
    reasons: tuple[CancellationReason, ...]  # CxlStsRsnInf
    original_amount: Amount | None  # OrgnlIntrBkSttlmAmt
    original_settlement_date: date | None  # OrgnlIntrBkSttlmDt

    def __post_init__(self) -> None:
        for value in (
            self.cancellation_status_id,
            self.original_instruction_id,
            self.original_end_to_end_id,
            self.original_transaction_id,
            self.original_clearing_system_reference,
        ):
            if value is not None:
                _assert_id(value)
        if self.original_message is not None:
            _assert_id(self.original_message.message_id)
            _assert_id(self.original_message.message_name_id)


@dataclass(frozen=True, slots=True)
class ResolutionOfInvestigation:
    """camt.029.001.09 ResolutionOfInvestigation answering a camt.056: written by the gateway when it resolves the
    request itself, read when a creditor agent answers one that the gateway forwarded."""

    assignment: CaseAssignment  # Assgnmt
    resolved_case: ResolvedCase | None  # RslvdCase
    status: InvestigationStatus  # Sts/Conf
    transactions: tuple[CancellationTransactionStatus, ...]  # CxlDtls/TxInfAndSts, all in one CxlDtls


# --------------------------------------------------------------------------------------------------------------
# camt.025: the receipt for a liquidity transfer (camt.050)
# --------------------------------------------------------------------------------------------------------------

request_description_chars_max = 140  # RequestHandling1/Desc: Max140Text
_status_code = re.compile(r"[a-zA-Z0-9]{1,4}")  # Max4AlphaNumericText


@dataclass(frozen=True, slots=True)
class RequestHandling:
    """RequestHandling1: a status code of the gateway's list and its wording.

    The list is ISO's own codes: the payment status (ACSC settled, PDNG pending, RJCT rejected, as in a pacs.002)
    and, after RJCT, the external reason code (AM04, ...) with the rejection's path and text."""

    status_code: str  # StsCd
    description: str | None  # Desc

    def __post_init__(self) -> None:
        assert _status_code.fullmatch(self.status_code), self.status_code
        if self.description is not None:
            assert 1 <= len(self.description) <= request_description_chars_max, len(self.description)
            assert xml_safe(self.description) == self.description, "description holds characters XML cannot carry"


def request_handling(status: PaymentStatus, text: str | None = None) -> RequestHandling:
    """The status of a request, with its wording trimmed to 140 characters."""
    return RequestHandling(status.value, None if not text else fit(text, request_description_chars_max))


def request_handling_for(rejection: Rejection) -> RequestHandling:
    """The reason a rejection gives, with its element path first, as the handling that follows RJCT."""
    text = f"{rejection.path}: {rejection.text}" if rejection.path else rejection.text
    return RequestHandling(rejection.code, fit(text, request_description_chars_max))


@dataclass(frozen=True, slots=True)
class LongPaymentIdentification:
    """LongPaymentIdentification2 (OrgnlPmtId/LngBizId): a liquidity transfer named by all its references, so
    that a receipt ties to the bank's books (TxId, UETR, EndToEndId) as well as to its message."""

    transaction_id: str | None  # TxId: the camt.050's LqdtyTrfId/TxId
    uetr: uuid.UUID | None  # UETR
    kopecks: int  # IntrBkSttlmAmt
    settlement_date: date  # IntrBkSttlmDt: the business day it counts on
    instructing_agent_bic: str  # InstgAgt: the bank that asked
    instructed_agent_bic: str  # InstdAgt: the central bank
    end_to_end_id: str | None  # EndToEndId

    def __post_init__(self) -> None:
        assert type(self.kopecks) is int and self.kopecks >= 0, self.kopecks
        for value in (self.transaction_id, self.end_to_end_id):
            if value is not None:
                _assert_id(value)
        _assert_bic(self.instructing_agent_bic)
        _assert_bic(self.instructed_agent_bic)


@dataclass(frozen=True, slots=True)
class ReceiptDetails:
    """Receipt3: the request one receipt is about, and how it was handled."""

    original_message_id: str  # OrgnlMsgId/MsgId: the camt.050's MsgId
    original_message_name_id: str | None  # OrgnlMsgId/MsgNmId, e.g. camt.050.001.05
    original_transaction_id: str | None  # OrgnlPmtId/TxId: the liquidity transfer's TxId (when no `payment`)
    handlings: tuple[RequestHandling, ...]  # ReqHdlg
    payment: LongPaymentIdentification | None = None  # OrgnlPmtId/LngBizId: the transfer in full, when known

    def __post_init__(self) -> None:
        _assert_id(self.original_message_id)
        for value in (self.original_message_name_id, self.original_transaction_id):
            if value is not None:
                _assert_id(value)


@dataclass(frozen=True, slots=True)
class Receipt:
    """camt.025.001.05 Receipt, from the gateway to the bank that sent a camt.050."""

    message_id: str  # MsgHdr/MsgId
    creation_time: datetime | None  # MsgHdr/CreDtTm
    details: tuple[ReceiptDetails, ...]  # RctDtls: at least one

    def __post_init__(self) -> None:
        _assert_id(self.message_id)
        assert self.details, "a receipt is about at least one request"


def _assert_bic(value: str) -> None:
    assert _bic.fullmatch(value), value
