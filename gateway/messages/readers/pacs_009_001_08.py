"""Reader of pacs.009.001.08 FinancialInstitutionCreditTransferV08: a schema-valid Document to a
FinancialInstitutionTransfer."""

from __future__ import annotations

from lxml import etree

from gateway.messages.commands import FinancialInstitutionTransfer, InstitutionCreditTransaction
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.readers._reading import Reading
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import element_path

message_id = MessageId("pacs", "009", "001", "08")


def read(unwrapped: Unwrapped) -> FinancialInstitutionTransfer | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body = reading.one(unwrapped.document, "FICdtTrf")
    body_path = f"{element_path(unwrapped.document)}/FICdtTrf"
    group = reading.transfer_group_header(reading.one(body, "GrpHdr"), f"{body_path}/GrpHdr")
    transactions = tuple(
        _transaction(reading, element, path) for element, path in reading.each(body, body_path, "CdtTrfTxInf")
    )
    return reading.result(FinancialInstitutionTransfer(group, transactions))


def _transaction(reading: Reading, element: etree._Element, path: str) -> InstitutionCreditTransaction:
    identification = reading.one(element, "PmtId")
    return InstitutionCreditTransaction(
        instruction_id=reading.text(identification, "InstrId"),
        end_to_end_id=reading.required_text(identification, "EndToEndId"),
        transaction_id=reading.text(identification, "TxId"),
        uetr=reading.uetr(identification, "UETR"),
        amount=reading.required_amount(element, "IntrBkSttlmAmt", path),
        settlement_date=reading.iso_date(element, "IntrBkSttlmDt", path),
        instructing_agent=reading.agent(element, "InstgAgt", path),
        instructed_agent=reading.agent(element, "InstdAgt", path),
        debtor=reading.required_agent(element, "Dbtr", path),
        debtor_agent=reading.agent(element, "DbtrAgt", path),
        creditor_agent=reading.agent(element, "CdtrAgt", path),
        creditor=reading.required_agent(element, "Cdtr", path),
        is_cover=reading.child(element, "UndrlygCstmrCdtTrf") is not None,
        path=path,
        xml=reading.xml(element),
    )
