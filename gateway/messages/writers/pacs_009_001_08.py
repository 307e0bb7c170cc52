"""Writer of pacs.009.001.08 FinancialInstitutionCreditTransferV08: a settled bank-to-bank transfer forwarded to
the creditor (see _credit_transfer)."""

from __future__ import annotations

from lxml import etree

from gateway.messages.identity import MessageId
from gateway.messages.writers._credit_transfer import (
    Forward,
    institution_credit_transfer,
)
from gateway.messages.writers._credit_transfer import write as write_credit_transfer
from gateway.messages.writers._writing import Writing

message_id = MessageId("pacs", "009", "001", "08")


def write(forward: Forward) -> etree._Element:
    return write_credit_transfer(Writing(message_id), institution_credit_transfer, forward)
