"""Writer of pacs.008.001.08 FIToFICustomerCreditTransferV08: a settled customer payment forwarded to the creditor
agent (see _credit_transfer)."""

from __future__ import annotations

from lxml import etree

from gateway.messages.identity import MessageId
from gateway.messages.writers._credit_transfer import Forward, customer_credit_transfer
from gateway.messages.writers._credit_transfer import write as write_credit_transfer
from gateway.messages.writers._writing import Writing

message_id = MessageId("pacs", "008", "001", "08")


def write(forward: Forward) -> etree._Element:
    return write_credit_transfer(Writing(message_id), customer_credit_transfer, forward)
