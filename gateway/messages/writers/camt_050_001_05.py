"""Writer of camt.050.001.05 LiquidityCreditTransferV05: a LiquidityCreditTransfer to the Document the gateway sends
when it moves liquidity itself, e.g. to the central bank's RTGS (gateway_adapters.rtgs.wire; docs/rtgs-protocol.md).

The value below is what the gateway sends; what a bank sends it is read into gateway.messages.commands
.LiquidityTransfer by gateway.messages.readers.camt_050_001_05, and what this writes reads back to the same fields.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from gateway import bounds
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import format_decimal_kopecks, xml_safe
from gateway.messages.reports import reference_chars_max
from gateway.messages.statements import AccountId
from gateway.messages.writers._writing import Writing

message_id = MessageId("camt", "050", "001", "05")

# ActiveCurrencyAndAmount and ImpliedCurrencyAndAmount hold at most 18 digits.
transferred_kopecks_max = 10**18 - 1

_bic = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")  # BICFIDec2014Identifier
_currency = re.compile(r"[A-Z]{3}")  # ActiveCurrencyCode


@dataclass(frozen=True, slots=True)
class LiquidityCreditTransfer:
    """camt.050.001.05 LiquidityCreditTransfer, one transfer between two accounts named by Id/Othr (AccountId)."""

    message_id: str  # MsgHdr/MsgId
    creation_time: datetime | None  # MsgHdr/CreDtTm
    instruction_id: str | None  # LqdtyTrfId/InstrId
    end_to_end_id: str  # LqdtyTrfId/EndToEndId
    transaction_id: str | None  # LqdtyTrfId/TxId
    uetr: uuid.UUID | None  # LqdtyTrfId/UETR: the schema takes version-4 UUIDs only
    creditor_bic: str | None  # Cdtr/FinInstnId/BICFI
    credit_account: AccountId | None  # CdtrAcct
    amount_kopecks: int  # TrfdAmt, in hundredths of the currency unit
    currency: str | None  # TrfdAmt/AmtWthCcy/@Ccy; None writes AmtWthtCcy, the settlement system's own currency
    debtor_bic: str | None  # Dbtr/FinInstnId/BICFI
    debit_account: AccountId | None  # DbtrAcct
    settlement_date: date | None  # SttlmDt

    def __post_init__(self) -> None:
        for value in (self.message_id, self.instruction_id, self.end_to_end_id, self.transaction_id):
            if value is not None:
                assert 1 <= len(value) <= reference_chars_max, value
                assert xml_safe(value) == value, "an identifier holds characters XML cannot carry"
        assert self.uetr is None or self.uetr.version == 4, f"UETR {self.uetr} is not a version-4 UUID"
        for bic in (self.creditor_bic, self.debtor_bic):
            assert bic is None or _bic.fullmatch(bic), bic
        # Money is integer kopecks: a float or a bool here is a programmer's error.
        assert isinstance(self.amount_kopecks, int), repr(self.amount_kopecks)
        assert not isinstance(self.amount_kopecks, bool), repr(self.amount_kopecks)
        assert 0 <= self.amount_kopecks <= min(transferred_kopecks_max, bounds.kopecks_max), self.amount_kopecks
        assert self.currency is None or _currency.fullmatch(self.currency), self.currency
        assert not isinstance(self.settlement_date, datetime), "SttlmDt is a date"


def write(transfer: LiquidityCreditTransfer) -> etree._Element:
    writing = Writing(message_id)
    document = writing.root("Document")
    body = writing.element(document, "LqdtyCdtTrf")
    header = writing.element(body, "MsgHdr")
    writing.element(header, "MsgId", transfer.message_id)
    writing.iso_datetime(header, "CreDtTm", transfer.creation_time)
    element = writing.element(body, "LqdtyCdtTrf")
    identification = writing.element(element, "LqdtyTrfId")
    writing.text(identification, "InstrId", transfer.instruction_id)
    writing.element(identification, "EndToEndId", transfer.end_to_end_id)
    writing.text(identification, "TxId", transfer.transaction_id)
    writing.text(identification, "UETR", None if transfer.uetr is None else str(transfer.uetr))
    writing.agent(element, "Cdtr", transfer.creditor_bic)
    writing.account_id(element, "CdtrAcct", transfer.credit_account)
    amount = writing.element(element, "TrfdAmt")
    text = format_decimal_kopecks(transfer.amount_kopecks)  # two decimals, as both amount types take them
    if transfer.currency is None:
        writing.element(amount, "AmtWthtCcy", text)
    else:
        writing.element(amount, "AmtWthCcy", text).set("Ccy", transfer.currency)
    writing.agent(element, "Dbtr", transfer.debtor_bic)
    writing.account_id(element, "DbtrAcct", transfer.debit_account)
    writing.iso_date(element, "SttlmDt", transfer.settlement_date)
    return writing.checked(document)
