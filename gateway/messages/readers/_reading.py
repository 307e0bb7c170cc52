"""What every reader shares: finding elements of one message's namespace, typed values from their text, and the
rejections for schema-valid content that a typed value cannot hold.

Readers run only on an AppHdr or Document that passed its schema, so every element the schema requires is there
and every value matches its lexical type; a reader asserts that rather than re-checking it. What it still checks is
what the XSD allows and Python values do not: an amount finer than a kopeck or beyond int64, a year beyond 9999.
For those it records a rejection, carries on with a placeholder (so that every problem in the message is found in
one pass), and in the end returns the rejections instead of the command.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import TypeVar

from lxml import etree

from gateway.messages.commands import Agent, Amount, OriginalMessage, TransferGroupHeader
from gateway.messages.iso_types import (
    AmountRefusal,
    parse_boolean,
    parse_count,
    parse_date,
    parse_datetime,
    parse_kopecks,
)
from gateway.messages.rejections import Layer, Rejection, excerpt

# ExternalStatusReason1Code values for what a reader cannot hold.
decimals_not_compatible_with_currency = "CH20"  # DecimalPointsNotCompatibleWithCurrency
not_allowed_amount = "AM02"  # NotAllowedAmount: above the allowed maximum (here: beyond int64 kopecks)
invalid_date = "DT01"  # InvalidDate
invalid_creation_date = "DT02"  # InvalidCreationDate
element_content_incorrect = "CH16"  # ElementContentFormallyIncorrect
element_not_admitted = "CH17"  # ElementNotAdmitted

_placeholder_date = date(1, 1, 1)
_placeholder_datetime = datetime(1, 1, 1)

T = TypeVar("T")


def step(name: str, position: int) -> str:
    """One step of an element path, as gateway.messages.safe_xml.element_path writes it."""
    return name if position == 1 else f"{name}[{position}]"


class Reading:
    """One reader's pass over one AppHdr or Document in the namespace `namespace`."""

    __slots__ = ("namespace", "rejections")

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.rejections: list[Rejection] = []

    def result(self, command: T) -> T | list[Rejection]:
        return self.rejections if self.rejections else command

    def reject(self, code: str, path: str, text: str) -> None:
        self.rejections.append(Rejection(code, path, text, Layer.READ))

    # Elements -------------------------------------------------------------------------------------------------

    def qname(self, name: str) -> str:
        return f"{{{self.namespace}}}{name}"

    def child(self, parent: etree._Element, name: str) -> etree._Element | None:
        # The first such child; iterchildren filters in C, twice as fast as find() and its path parser.
        found: etree._Element | None = next(parent.iterchildren(self.qname(name)), None)
        return found

    def one(self, parent: etree._Element, name: str) -> etree._Element:
        element = self.child(parent, name)
        assert element is not None, f"{name} is mandatory in the schema"
        return element

    def each(self, parent: etree._Element, parent_path: str, name: str) -> Iterator[tuple[etree._Element, str]]:
        """Every `name` child with its path, computed from the parent's so that n siblings cost O(n), not O(n²)."""
        for position, element in enumerate(parent.iterchildren(self.qname(name)), start=1):
            yield element, f"{parent_path}/{step(name, position)}"

    def xml(self, element: etree._Element) -> bytes:
        """The element serialised on its own: in-scope namespace declarations move onto it, its tail is left out."""
        serialised: bytes = etree.tostring(element, encoding="UTF-8", xml_declaration=False, with_tail=False)
        return serialised

    # Text and typed values ------------------------------------------------------------------------------------

    def text(self, parent: etree._Element, name: str) -> str | None:
        element = self.child(parent, name)
        if element is None:
            return None
        text: str = element.text or ""
        return text

    def required_text(self, parent: etree._Element, name: str) -> str:
        text: str | None = self.one(parent, name).text
        assert text, f"{name} has minLength 1 in the schema"
        return text

    def boolean(self, parent: etree._Element, name: str) -> bool | None:
        text = self.text(parent, name)
        if text is None:
            return None
        value = parse_boolean(text)
        assert value is not None, f"{name}: the schema accepts only xs:boolean"
        return value

    def uetr(self, parent: etree._Element, name: str) -> uuid.UUID | None:
        text = self.text(parent, name)
        return None if text is None else uuid.UUID(text)  # UUIDv4Identifier's pattern guarantees the form

    def iso_date(self, parent: etree._Element, name: str, path: str) -> date | None:
        text = self.text(parent, name)
        if text is None:
            return None
        value = parse_date(text)
        if value is None:
            self.reject(invalid_date, f"{path}/{name}", f"date {excerpt(text)} is outside years 1 to 9999")
            return _placeholder_date
        return value

    def iso_datetime(
        self, parent: etree._Element, name: str, path: str, code: str = element_content_incorrect
    ) -> datetime | None:
        text = self.text(parent, name)
        if text is None:
            return None
        value = parse_datetime(text)
        if value is None:
            self.reject(code, f"{path}/{name}", f"date and time {excerpt(text)} is outside years 1 to 9999")
            return _placeholder_datetime
        return value

    def required_iso_datetime(self, parent: etree._Element, name: str, path: str, code: str) -> datetime:
        value = self.iso_datetime(parent, name, path, code)
        assert value is not None, f"{name} is mandatory in the schema"
        return value

    def amount(self, parent: etree._Element, name: str, path: str) -> Amount | None:
        """An ActiveCurrencyAndAmount or ActiveOrHistoricCurrencyAndAmount: text plus its Ccy attribute."""
        element = self.child(parent, name)
        if element is None:
            return None
        currency = element.get("Ccy")
        assert currency is not None, f"{name}/@Ccy is mandatory in the schema"
        kopecks = self._kopecks(element.text or "", f"{path}/{name}", f"amount in {currency}")
        return Amount(kopecks, currency)

    def required_amount(self, parent: etree._Element, name: str, path: str) -> Amount:
        value = self.amount(parent, name, path)
        assert value is not None, f"{name} is mandatory in the schema"
        return value

    def decimal_kopecks(self, parent: etree._Element, name: str, path: str) -> int | None:
        """A DecimalNumber that totals amounts (CtrlSum and the like), in kopecks."""
        text = self.text(parent, name)
        return None if text is None else self._kopecks(text, f"{path}/{name}", "total")

    def _kopecks(self, text: str, path: str, what: str) -> int:
        kopecks = parse_kopecks(text)
        assert kopecks is not None, f"{path}: the schema accepts only xs:decimal"
        if kopecks is AmountRefusal.FRACTION_OF_KOPECK:
            self.reject(decimals_not_compatible_with_currency, path, f"{what} {excerpt(text)} has more than 2 decimals")
            return 0
        if kopecks is AmountRefusal.OUT_OF_RANGE:
            self.reject(not_allowed_amount, path, f"{what} {excerpt(text)} is beyond the largest amount accepted")
            return 0
        assert isinstance(kopecks, int)
        if kopecks < 0:  # DecimalNumber (unlike the amount types) allows a sign; a total is never negative
            self.reject(element_content_incorrect, path, f"{what} {excerpt(text)} is negative")
            return 0
        return kopecks

    # Shared ISO components ------------------------------------------------------------------------------------

    def agent(self, parent: etree._Element, name: str, path: str) -> Agent | None:
        """BranchAndFinancialInstitutionIdentification6, reduced to its BICFI and clearing system member id."""
        element = self.child(parent, name)
        if element is None:
            return None
        institution = self.one(element, "FinInstnId")
        member = self.child(institution, "ClrSysMmbId")
        return Agent(
            bic=self.text(institution, "BICFI"),
            clearing_system_member_id=None if member is None else self.required_text(member, "MmbId"),
            path=f"{path}/{name}",
        )

    def required_agent(self, parent: etree._Element, name: str, path: str) -> Agent:
        value = self.agent(parent, name, path)
        assert value is not None, f"{name} is mandatory in the schema"
        return value

    def original_message(self, parent: etree._Element, name: str, path: str) -> OriginalMessage | None:
        """OriginalGroupInformation29 and its kin: OrgnlMsgId, OrgnlMsgNmId, OrgnlCreDtTm."""
        element = self.child(parent, name)
        if element is None:
            return None
        return OriginalMessage(
            message_id=self.required_text(element, "OrgnlMsgId"),
            message_name_id=self.required_text(element, "OrgnlMsgNmId"),
            creation_time=self.iso_datetime(element, "OrgnlCreDtTm", f"{path}/{name}"),
        )

    def party_bic(self, parent: etree._Element, name: str) -> str | None:
        """The BICFI of an AppHdr party (Party44Choice, e.g. Fr); None when it is an organisation or has no BICFI."""
        element = self.child(parent, name)
        holder = None if element is None else self.child(element, "FIId")
        if holder is None:
            return None
        return self.text(self.one(holder, "FinInstnId"), "BICFI")

    def transfer_group_header(self, element: etree._Element, path: str) -> TransferGroupHeader:
        """GroupHeader93: the group header of pacs.008 and pacs.009."""
        return TransferGroupHeader(
            message_id=self.required_text(element, "MsgId"),
            creation_time=self.required_iso_datetime(element, "CreDtTm", path, invalid_creation_date),
            number_of_transactions=parse_count(self.required_text(element, "NbOfTxs")),
            control_sum_kopecks=self.decimal_kopecks(element, "CtrlSum", path),
            total_amount=self.amount(element, "TtlIntrBkSttlmAmt", path),
            settlement_date=self.iso_date(element, "IntrBkSttlmDt", path),
            settlement_method=self.required_text(self.one(element, "SttlmInf"), "SttlmMtd"),
            instructing_agent=self.agent(element, "InstgAgt", path),
            instructed_agent=self.agent(element, "InstdAgt", path),
            path=path,
        )
