"""Writer of camt.025.001.05 ReceiptV05: a Receipt to the Document that answers a camt.050 liquidity transfer."""

from __future__ import annotations

from lxml import etree

from gateway.messages.identity import MessageId
from gateway.messages.reports import LongPaymentIdentification, Receipt, ReceiptDetails
from gateway.messages.writers._writing import Writing

message_id = MessageId("camt", "025", "001", "05")


def write(receipt: Receipt) -> etree._Element:
    writing = Writing(message_id)
    document = writing.root("Document")
    body = writing.element(document, "Rct")
    header = writing.element(body, "MsgHdr")
    writing.element(header, "MsgId", receipt.message_id)
    writing.iso_datetime(header, "CreDtTm", receipt.creation_time)
    for details in receipt.details:
        _details(writing, writing.element(body, "RctDtls"), details)
    return writing.checked(document)


def _details(writing: Writing, element: etree._Element, details: ReceiptDetails) -> None:
    original = writing.element(element, "OrgnlMsgId")
    writing.element(original, "MsgId", details.original_message_id)
    writing.text(original, "MsgNmId", details.original_message_name_id)
    if details.payment is not None:
        _long_business_id(writing, writing.element(writing.element(element, "OrgnlPmtId"), "LngBizId"),
                          details.payment)
    elif details.original_transaction_id is not None:
        writing.element(writing.element(element, "OrgnlPmtId"), "TxId", details.original_transaction_id)
    for handling in details.handlings:
        handling_element = writing.element(element, "ReqHdlg")
        writing.element(handling_element, "StsCd", handling.status_code)
        writing.text(handling_element, "Desc", handling.description)


def _long_business_id(writing: Writing, element: etree._Element, payment: LongPaymentIdentification) -> None:
    writing.text(element, "TxId", payment.transaction_id)
    if payment.uetr is not None:
        writing.element(element, "UETR", str(payment.uetr))
    writing.decimal_kopecks(element, "IntrBkSttlmAmt", payment.kopecks)  # ImpliedCurrencyAndAmount: no Ccy
    writing.iso_date(element, "IntrBkSttlmDt", payment.settlement_date)
    writing.agent(element, "InstgAgt", payment.instructing_agent_bic)
    writing.agent(element, "InstdAgt", payment.instructed_agent_bic)
    writing.text(element, "EndToEndId", payment.end_to_end_id)
