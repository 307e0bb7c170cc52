"""Reader of pacs.009.001.08 FinancialInstitutionCreditTransferV08: a schema-valid Document to a
FinancialInstitutionTransfer."""

from __future__ import annotations

from lxml import etree

from gateway.messages.commands import (
    FinancialInstitutionTransfer,
    InstitutionCreditTransaction,
)
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.readers._reading import Reading
from gateway.messages.rejections import Rejection

message_id = MessageId("pacs", "009", "001", "08")


def read(unwrapped: Unwrapped) -> FinancialInstitutionTransfer | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    # By position, as the schema fixes it: the body is the Document's only element, GrpHdr the body's first.
    body = unwrapped.document[0]
    body_path = f"{unwrapped.document_path}/FICdtTrf"
    group = reading.transfer_group_header(body[0], f"{body_path}/GrpHdr")
    transactions = tuple(
        _transaction(reading, element, path) for element, path in reading.each(body, body_path, "CdtTrfTxInf")
    )
    return reading.result(FinancialInstitutionTransfer(group, transactions))


def _transaction(reading: Reading, element: etree._Element, path: str) -> InstitutionCreditTransaction:
    fields = reading.fields(element)
    identification = reading.fields(reading.one(fields, "PmtId"))
    return InstitutionCreditTransaction(
        instruction_id=reading.text(identification, "InstrId"),
        end_to_end_id=reading.required_text(identification, "EndToEndId"),
        transaction_id=reading.text(identification, "TxId"),
        uetr=reading.uetr(identification, "UETR"),
        amount=reading.required_amount(fields, "IntrBkSttlmAmt", path),
        settlement_date=reading.iso_date(fields, "IntrBkSttlmDt", path),
        instructing_agent=reading.agent(fields, "InstgAgt", path),
        instructed_agent=reading.agent(fields, "InstdAgt", path),
        debtor=reading.required_agent(fields, "Dbtr", path),
        debtor_agent=reading.agent(fields, "DbtrAgt", path),
        creditor_agent=reading.agent(fields, "CdtrAgt", path),
        creditor=reading.required_agent(fields, "Cdtr", path),
        is_cover=reading.child(fields, "UndrlygCstmrCdtTrf") is not None,
        path=path,
        xml=reading.xml(element),
    )
