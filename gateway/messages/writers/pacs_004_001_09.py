"""Writer of pacs.004.001.09 PaymentReturnV09: a settled return forwarded to the bank the money goes back to (see
_credit_transfer)."""

from __future__ import annotations

from lxml import etree

from gateway.messages.identity import MessageId
from gateway.messages.writers._credit_transfer import Forward, payment_return
from gateway.messages.writers._credit_transfer import write as write_credit_transfer
from gateway.messages.writers._writing import Writing

message_id = MessageId("pacs", "004", "001", "09")


def write(forward: Forward) -> etree._Element:
    return write_credit_transfer(Writing(message_id), payment_return, forward)
