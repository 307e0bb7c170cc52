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
from gateway.messages.readers._reading import Reading, agent_of, agent_paths, uetr_of
from gateway.messages.readers.field_paths import FieldPaths
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


# What a transaction is read to, in one call (field_paths): PmtId, amount, date, six agents, and whether it covers a
# customer transfer.
_transaction_fields = FieldPaths(
    "PmtId/InstrId",
    "PmtId/EndToEndId",
    "PmtId/TxId",
    "PmtId/UETR",
    "IntrBkSttlmAmt",
    "IntrBkSttlmAmt/@Ccy",
    "IntrBkSttlmDt",
    *agent_paths("InstgAgt"),
    *agent_paths("InstdAgt"),
    *agent_paths("Dbtr"),
    *agent_paths("DbtrAgt"),
    *agent_paths("CdtrAgt"),
    *agent_paths("Cdtr"),
    "UndrlygCstmrCdtTrf",
)


def _transaction(reading: Reading, element: etree._Element, path: str) -> InstitutionCreditTransaction:
    (instruction_id, end_to_end_id, transaction_id, uetr, amount, currency, settlement_date, *agents, cover) = (
        _transaction_fields.read(element)
    )
    assert end_to_end_id, "EndToEndId is mandatory in the schema"
    debtor = agent_of(*agents[6:9], path, "Dbtr")
    creditor = agent_of(*agents[15:18], path, "Cdtr")
    assert debtor is not None and creditor is not None, "Dbtr and Cdtr are mandatory in the schema"
    settled_amount = reading.amount_of(amount, currency, path, "IntrBkSttlmAmt")
    assert settled_amount is not None, "IntrBkSttlmAmt is mandatory in the schema"
    return InstitutionCreditTransaction(
        instruction_id=instruction_id,
        end_to_end_id=end_to_end_id,
        transaction_id=transaction_id,
        uetr=uetr_of(uetr),
        amount=settled_amount,
        settlement_date=reading.date_of(settlement_date, path, "IntrBkSttlmDt"),
        instructing_agent=agent_of(*agents[0:3], path, "InstgAgt"),
        instructed_agent=agent_of(*agents[3:6], path, "InstdAgt"),
        debtor=debtor,
        debtor_agent=agent_of(*agents[9:12], path, "DbtrAgt"),
        creditor_agent=agent_of(*agents[12:15], path, "CdtrAgt"),
        creditor=creditor,
        is_cover=cover is not None,
        path=path,
        xml=reading.xml(element),
    )
