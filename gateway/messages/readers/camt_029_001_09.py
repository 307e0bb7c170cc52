"""Reader of camt.029.001.09 ResolutionOfInvestigationV09: a schema-valid Document to a ResolutionOfInvestigation.

The gateway writes camt.029 when it resolves a cancellation request itself; this reader reads them back and reads a
creditor agent's answer to a camt.056 the gateway forwarded, for the routing layer to match with the request and
route back. It is not a command: no participant asks the gateway anything with it.

What a ResolutionOfInvestigation cannot hold is refused rather than dropped, wherever it would change the answer:
a case status other than a confirmation code the gateway knows (Conf CNCL, PDCR, RJCR), the answer to another kind
of investigation (ModDtls, ClmNonRctDtls, StmtDtls, CrrctnTx), a cancellation status per original message or
payment information block instead of per transaction, a transaction without its TxCxlSts, a proprietary or
malformed reason code, and a party that is not an agent with a BIC. Details that do not change the answer are not
read: who gave a reason (CxlStsRsnInf/Orgtr), the returning transaction (RsltnRltdInf), the assigner and assignee
repeated per transaction, the original transaction reference (OrgnlTxRef), a case's re-opened indicator and
supplementary data.
"""

from __future__ import annotations

import re

from lxml import etree

from gateway.messages.codes import (
    element_content_incorrect,
    element_not_admitted,
    invalid_creation_date,
    required_element_missing,
)
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.readers._reading import Fields, Reading
from gateway.messages.rejections import Rejection, excerpt
from gateway.messages.reports import (
    CancellationReason,
    CancellationStatus,
    CancellationTransactionStatus,
    CaseAssignment,
    InvestigationStatus,
    ResolutionOfInvestigation,
    ResolvedCase,
)

message_id = MessageId("camt", "029", "001", "09")

_investigation_statuses = {status.value: status for status in InvestigationStatus}
_cancellation_statuses = {status.value: status for status in CancellationStatus}
_reason_code = re.compile(r"[A-Z0-9]{4}")
_placeholder_bic = "XXXXXXXX"  # stands in for a refused party so that reading goes on; never returned

# Parts of camt.029 that answer other investigations than a cancellation request.
_other_answers = ("ModDtls", "ClmNonRctDtls", "StmtDtls", "CrrctnTx")
# Cancellation statuses of a whole original message, or of a payment information block (customer initiations).
_group_answers = ("OrgnlGrpInfAndSts", "OrgnlPmtInfAndSts")


def read(unwrapped: Unwrapped) -> ResolutionOfInvestigation | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body_element = reading.one(reading.fields(unwrapped.document), "RsltnOfInvstgtn")
    body = reading.fields(body_element)
    body_path = f"{unwrapped.document_path}/RsltnOfInvstgtn"
    assignment_path = f"{body_path}/Assgnmt"
    assignment = reading.fields(reading.one(body, "Assgnmt"))
    case_element = reading.child(body, "RslvdCase")
    case = None if case_element is None else reading.fields(case_element)
    case_path = f"{body_path}/RslvdCase"
    resolution = ResolutionOfInvestigation(
        assignment=CaseAssignment(
            assignment_id=reading.required_text(assignment, "Id"),
            assigner_bic=_agent_bic(reading, assignment, "Assgnr", assignment_path),
            assignee_bic=_agent_bic(reading, assignment, "Assgne", assignment_path),
            creation_time=reading.required_iso_datetime(assignment, "CreDtTm", assignment_path, invalid_creation_date),
        ),
        resolved_case=None
        if case is None
        else ResolvedCase(
            case_id=reading.required_text(case, "Id"),
            creator_bic=_agent_bic(reading, case, "Cretr", case_path),
        ),
        status=_investigation_status(reading, reading.one(body, "Sts"), f"{body_path}/Sts"),
        transactions=tuple(
            transaction
            for details, details_path in reading.each(body_element, body_path, "CxlDtls")
            for transaction in _details(reading, details, details_path)
        ),
    )
    for name in _other_answers:
        if reading.child(body, name) is not None:
            reading.reject(element_not_admitted, f"{body_path}/{name}", "only the answer to a cancellation is read")
    return reading.result(resolution)


def _agent_bic(reading: Reading, parent: Fields, name: str, parent_path: str) -> str:
    """The BICFI of a Party40Choice that must be an agent (Assgnr, Assgne, Cretr)."""
    path = f"{parent_path}/{name}"
    choice = reading.fields(reading.one(parent, name))
    agent = reading.agent(choice, "Agt", path)
    if agent is None:
        reading.reject(element_not_admitted, f"{path}/Pty", "a party other than an agent is not accepted")
        return _placeholder_bic
    if agent.bic is None:
        reading.reject(required_element_missing, f"{path}/Agt/FinInstnId/BICFI", "the agent must be named by BIC")
        return _placeholder_bic
    return agent.bic


def _investigation_status(reading: Reading, status: etree._Element, path: str) -> InvestigationStatus:
    confirmation = reading.text(reading.fields(status), "Conf")
    if confirmation is None:
        chosen = next(status.iterchildren(etree.Element))  # the schema's choice holds exactly one of four
        name = etree.QName(chosen).localname
        reading.reject(element_not_admitted, f"{path}/{name}", "a cancellation is answered by a confirmation code")
        return InvestigationStatus.RJCR
    found = _investigation_statuses.get(confirmation)
    if found is None:
        known = ", ".join(_investigation_statuses)
        reading.reject(element_content_incorrect, f"{path}/Conf", f"{excerpt(confirmation)} is not one of {known}")
        return InvestigationStatus.RJCR
    return found


def _details(reading: Reading, element: etree._Element, path: str) -> list[CancellationTransactionStatus]:
    for name in _group_answers:
        for _, group_path in reading.each(element, path, name):
            reading.reject(element_not_admitted, group_path, "a cancellation is answered per transaction")
    return [_transaction(reading, tx, tx_path) for tx, tx_path in reading.each(element, path, "TxInfAndSts")]


def _transaction(reading: Reading, element: etree._Element, path: str) -> CancellationTransactionStatus:
    fields = reading.fields(element)
    status = reading.text(fields, "TxCxlSts")
    if status is None:
        reading.reject(required_element_missing, f"{path}/TxCxlSts", "a transaction's answer needs TxCxlSts")
    return CancellationTransactionStatus(
        cancellation_status_id=reading.text(fields, "CxlStsId"),
        original_message=reading.original_message(fields, "OrgnlGrpInf", path),
        original_instruction_id=reading.text(fields, "OrgnlInstrId"),
        original_end_to_end_id=reading.text(fields, "OrgnlEndToEndId"),
        original_transaction_id=reading.text(fields, "OrgnlTxId"),
        original_clearing_system_reference=reading.text(fields, "OrgnlClrSysRef"),
        original_uetr=reading.uetr(fields, "OrgnlUETR"),
        # The schema's enumeration is CancellationStatus exactly.
        status=CancellationStatus.RJCR if status is None else _cancellation_statuses[status],
        reasons=_reasons(reading, element, path),
        original_amount=reading.amount(fields, "OrgnlIntrBkSttlmAmt", path),
        original_settlement_date=reading.iso_date(fields, "OrgnlIntrBkSttlmDt", path),
    )


def _reasons(reading: Reading, parent: etree._Element, parent_path: str) -> tuple[CancellationReason, ...]:
    reasons = []
    for element, path in reading.each(parent, parent_path, "CxlStsRsnInf"):
        choice_element = reading.child(reading.fields(element), "Rsn")
        choice = None if choice_element is None else reading.fields(choice_element)
        code = None if choice is None else reading.text(choice, "Cd")
        lines = tuple(line.text or "" for line in element.iterchildren(reading.qname("AddtlInf")))
        if choice is not None and code is None:
            reading.reject(element_not_admitted, f"{path}/Rsn/Prtry", "a proprietary reason is not accepted")
        elif code is not None and _reason_code.fullmatch(code) is None:
            reading.reject(element_content_incorrect, f"{path}/Rsn/Cd", f"{excerpt(code)} is not an external code")
        else:
            reasons.append(CancellationReason(code, lines))
    return tuple(reasons)
