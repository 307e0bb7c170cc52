"""What every reader shares: finding elements of one message's namespace, typed values from their text, and the
rejections for schema-valid content that a typed value cannot hold.

Readers run only on an AppHdr or Document that passed its schema, so every element the schema requires is there
and every value matches its lexical type; a reader asserts that rather than re-checking it. What it still checks is
what the XSD allows and Python values do not: an amount finer than a kopeck or beyond int64, a year beyond 9999.
For those it records a rejection, carries on with a placeholder (so that every problem in the message is found in
one pass), and in the end returns the rejections instead of the command.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import TypeVar

from lxml import etree

# What a reader cannot hold: AM02 is an amount beyond int64 kopecks.
from gateway.messages.codes import (
    decimals_not_compatible_with_currency,
    element_content_incorrect,
    invalid_creation_date,
    invalid_date,
    not_allowed_amount,
)
from gateway.messages.commands import (
    Agent,
    Amount,
    OriginalMessage,
    TransferGroupHeader,
    XmlSource,
)
from gateway.messages.iso_types import (
    AmountRefusal,
    parse_boolean,
    parse_count,
    parse_date,
    parse_datetime,
    parse_kopecks,
)
from gateway.messages.readers.field_paths import FieldPaths
from gateway.messages.rejections import Layer, Rejection, excerpt

_placeholder_date = date(1, 1, 1)
_placeholder_datetime = datetime(1, 1, 1)

T = TypeVar("T")


class _Tags(dict[str, str]):
    """Local name -> "{namespace}name" for one namespace, each written on first use."""

    __slots__ = ("_prefix",)

    def __init__(self, namespace: str) -> None:
        super().__init__()
        self._prefix = f"{{{namespace}}}"

    def __missing__(self, name: str) -> str:
        tag = self[name] = self._prefix + name
        return tag


@functools.cache
def _tags_of(namespace: str) -> _Tags:
    """One table per namespace a reader reads (a fixed few), holding the names its readers ask for."""
    return _Tags(namespace)


class Fields(dict[str, etree._Element]):
    """The children of one element by tag, the first of each, found in one pass (Reading.fields): a reader asks
    most elements for several children, and one pass costs about what two searches for a single child do. Read
    through Reading's methods, which take local names (and look tags up with get: __missing__ is a Python call). A
    tag that is not there reads as None; an element given where Fields are expected fails at once, since an element
    cannot be indexed by a tag."""

    __slots__ = ()

    def __missing__(self, tag: str) -> None:
        return None


class _ElementXml:
    """An XmlSource: one element serialised on its own, in-scope namespace declarations moved onto it and its tail
    left out. Its `element`, the parsed one, lets a writer copy the tree rather than read the bytes back."""

    __slots__ = ("element",)

    def __init__(self, element: etree._Element) -> None:
        self.element = element

    def __call__(self) -> bytes:
        serialised: bytes = etree.tostring(self.element, encoding="UTF-8", xml_declaration=False, with_tail=False)
        return serialised


# Below a BranchAndFinancialInstitutionIdentification6, what agent_of takes after the element's own presence.
_agent_fields = FieldPaths("FinInstnId/BICFI", "FinInstnId/ClrSysMmbId/MmbId")
# BICFI occurs in a Party44Choice only as FIId/FinInstnId/BICFI (an OrgId names its BIC AnyBIC).
_party_bic = FieldPaths("FIId/FinInstnId/BICFI")


def agent_paths(name: str) -> tuple[str, ...]:
    """The FieldPaths of a BranchAndFinancialInstitutionIdentification6 called `name`, as agent_of takes them: the
    element itself (whether it is there), its BICFI, and its clearing system member id."""
    return (name, *(f"{name}/{field}" for field in _agent_fields.names))


def agent_of(present: str | None, bic: str | None, member_id: str | None, path: str, name: str) -> Agent | None:
    """The agent `name` under `path`, from the values its agent_paths read; None when it is not there."""
    if present is None:
        return None
    assert member_id != "", "MmbId has minLength 1 in the schema"
    return Agent(bic, member_id, f"{path}/{name}")


def uetr_of(text: str | None) -> uuid.UUID | None:
    return None if text is None else uuid.UUID(text)  # UUIDv4Identifier's pattern guarantees the form


def boolean_of(text: str | None, name: str) -> bool | None:
    """The xs:boolean `text` of the element `name` (None: there is none)."""
    if text is None:
        return None
    value = parse_boolean(text)
    assert value is not None, f"{name}: the schema accepts only xs:boolean"
    return value


_transfer_group_header = FieldPaths(
    "MsgId",
    "CreDtTm",
    "NbOfTxs",
    "CtrlSum",
    "TtlIntrBkSttlmAmt",
    "TtlIntrBkSttlmAmt/@Ccy",
    "IntrBkSttlmDt",
    "SttlmInf/SttlmMtd",
    *agent_paths("InstgAgt"),
    *agent_paths("InstdAgt"),
)


def step(name: str, position: int) -> str:
    """One step of an element path, as gateway.messages.safe_xml.element_path writes it."""
    return name if position == 1 else f"{name}[{position}]"


class Reading:
    """One reader's pass over one AppHdr or Document in the namespace `namespace`. Elements are read through their
    Fields: `fields = reading.fields(element)`, then `reading.text(fields, "MsgId")` and the like. The readers of the
    busiest messages read an element's values in one FieldPaths call instead, and type them with the `*_of`
    methods (date_of, amount_of, ...), which take the text and record the same rejections."""

    __slots__ = ("_tags", "namespace", "rejections")

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.rejections: list[Rejection] = []
        self._tags = _tags_of(namespace)

    def result(self, command: T) -> T | list[Rejection]:
        return self.rejections if self.rejections else command

    def reject(self, code: str, path: str, text: str) -> None:
        self.rejections.append(Rejection(code, path, text, Layer.READ))

    # Elements -------------------------------------------------------------------------------------------------

    def qname(self, name: str) -> str:
        return self._tags[name]

    def fields(self, element: etree._Element) -> Fields:
        fields = Fields()
        for child in element:
            fields.setdefault(child.tag, child)
        return fields

    def child(self, fields: Fields, name: str) -> etree._Element | None:
        """The first `name` child of the element `fields` were read from."""
        found: etree._Element | None = fields.get(self._tags[name])
        return found

    def one(self, fields: Fields, name: str) -> etree._Element:
        element: etree._Element | None = fields.get(self._tags[name])
        assert element is not None, f"{name} is mandatory in the schema"
        return element

    def first(self, parent: etree._Element, name: str) -> etree._Element | None:
        """The first `name` child of `parent`, found without indexing them all: for an element of many children
        (a message body of thousands of transactions) or one asked only once."""
        found: etree._Element | None = next(parent.iterchildren(self._tags[name]), None)
        return found

    def each(self, parent: etree._Element, parent_path: str, name: str) -> Iterator[tuple[etree._Element, str]]:
        """Every `name` child with its path, computed from the parent's so that n siblings cost O(n), not O(n²)."""
        for position, element in enumerate(parent.iterchildren(self._tags[name]), start=1):
            yield element, f"{parent_path}/{step(name, position)}"

    def xml(self, element: etree._Element) -> XmlSource:
        """The element serialised on its own, when first asked for (commands.xml_written_on_demand)."""
        return _ElementXml(element)

    # Text and typed values ------------------------------------------------------------------------------------

    def text(self, fields: Fields, name: str) -> str | None:
        element: etree._Element | None = fields.get(self._tags[name])
        return None if element is None else element.text or ""

    def required_text(self, fields: Fields, name: str) -> str:
        element: etree._Element | None = fields.get(self._tags[name])
        assert element is not None, f"{name} is mandatory in the schema"
        text: str | None = element.text
        assert text, f"{name} has minLength 1 in the schema"
        return text

    def boolean(self, fields: Fields, name: str) -> bool | None:
        return boolean_of(self.text(fields, name), name)

    def uetr(self, fields: Fields, name: str) -> uuid.UUID | None:
        return uetr_of(self.text(fields, name))

    def iso_date(self, fields: Fields, name: str, path: str) -> date | None:
        return self.date_of(self.text(fields, name), path, name)

    def date_of(self, text: str | None, path: str, name: str) -> date | None:
        """The ISODate `text` read from the element `name` under `path` (None: there is none)."""
        if text is None:
            return None
        value = parse_date(text)
        if value is None:
            self.reject(invalid_date, f"{path}/{name}", f"date {excerpt(text)} is outside years 1 to 9999")
            return _placeholder_date
        return value

    def iso_datetime(
        self, fields: Fields, name: str, path: str, code: str = element_content_incorrect
    ) -> datetime | None:
        return self.datetime_of(self.text(fields, name), path, name, code)

    def datetime_of(
        self, text: str | None, path: str, name: str, code: str = element_content_incorrect
    ) -> datetime | None:
        """The ISODateTime `text` read from the element `name` under `path` (None: there is none)."""
        if text is None:
            return None
        value = parse_datetime(text)
        if value is None:
            self.reject(code, f"{path}/{name}", f"date and time {excerpt(text)} is outside years 1 to 9999")
            return _placeholder_datetime
        return value

    def required_iso_datetime(self, fields: Fields, name: str, path: str, code: str) -> datetime:
        value = self.iso_datetime(fields, name, path, code)
        assert value is not None, f"{name} is mandatory in the schema"
        return value

    def amount(self, fields: Fields, name: str, path: str) -> Amount | None:
        """An ActiveCurrencyAndAmount or ActiveOrHistoricCurrencyAndAmount: text plus its Ccy attribute."""
        element: etree._Element | None = fields.get(self._tags[name])
        if element is None:
            return None
        return self.amount_of(element.text or "", element.get("Ccy"), path, name)

    def amount_of(self, text: str | None, currency: str | None, path: str, name: str) -> Amount | None:
        """The amount `text` in `currency` read from the element `name` under `path` (None: there is none)."""
        if text is None:
            return None
        assert currency is not None, f"{name}/@Ccy is mandatory in the schema"
        return Amount(self._kopecks(text, path, name, currency), currency)

    def required_amount(self, fields: Fields, name: str, path: str) -> Amount:
        value = self.amount(fields, name, path)
        assert value is not None, f"{name} is mandatory in the schema"
        return value

    def decimal_kopecks(self, fields: Fields, name: str, path: str) -> int | None:
        """A DecimalNumber that totals amounts (CtrlSum and the like), in kopecks."""
        return self.total_of(self.text(fields, name), path, name)

    def total_of(self, text: str | None, path: str, name: str) -> int | None:
        """The DecimalNumber total `text`, read from the element `name` under `path`, in kopecks."""
        return None if text is None else self._kopecks(text, path, name, None)

    def _kopecks(self, text: str, parent_path: str, name: str, currency: str | None) -> int:
        """The kopecks of an amount in `currency`, or of a total (currency None); 0 and a rejection when the text
        names none. The rejection's path and words are written only then."""
        kopecks = parse_kopecks(text)
        assert kopecks is not None, f"{parent_path}/{name}: the schema accepts only xs:decimal"
        if isinstance(kopecks, int) and kopecks >= 0:
            return kopecks
        path = f"{parent_path}/{name}"
        what = "total" if currency is None else f"amount in {currency}"
        if kopecks is AmountRefusal.FRACTION_OF_KOPECK:
            self.reject(decimals_not_compatible_with_currency, path, f"{what} {excerpt(text)} has more than 2 decimals")
        elif kopecks is AmountRefusal.OUT_OF_RANGE:
            self.reject(not_allowed_amount, path, f"{what} {excerpt(text)} is beyond the largest amount accepted")
        else:  # DecimalNumber (unlike the amount types) allows a sign; a total is never negative
            self.reject(element_content_incorrect, path, f"{what} {excerpt(text)} is negative")
        return 0

    # Shared ISO components ------------------------------------------------------------------------------------

    def agent(self, fields: Fields, name: str, path: str) -> Agent | None:
        """BranchAndFinancialInstitutionIdentification6, reduced to its BICFI and clearing system member id."""
        element: etree._Element | None = fields.get(self._tags[name])
        if element is None:
            return None
        return agent_of("", *_agent_fields.read(element), path, name)

    def original_message(self, fields: Fields, name: str, path: str) -> OriginalMessage | None:
        """OriginalGroupInformation29 and its kin: OrgnlMsgId, OrgnlMsgNmId, OrgnlCreDtTm."""
        element: etree._Element | None = fields.get(self._tags[name])
        return None if element is None else self.original_message_of(element, f"{path}/{name}")

    def original_message_of(self, element: etree._Element, path: str) -> OriginalMessage:
        """The same, of the element at `path`."""
        original = self.fields(element)
        return OriginalMessage(
            message_id=self.required_text(original, "OrgnlMsgId"),
            message_name_id=self.required_text(original, "OrgnlMsgNmId"),
            creation_time=self.iso_datetime(original, "OrgnlCreDtTm", path),
        )

    def party_bic(self, fields: Fields, name: str) -> str | None:
        """The BICFI of an AppHdr party (Party44Choice, e.g. Fr); None when it is an organisation or has no BICFI."""
        element: etree._Element | None = fields.get(self._tags[name])
        if element is None:
            return None
        (bic,) = _party_bic.read(element)
        return bic

    def transfer_group_header(self, element: etree._Element, path: str) -> TransferGroupHeader:
        """GroupHeader93: the group header of pacs.008 and pacs.009."""
        (message_id, created, count, control_sum, total, total_currency, settlement_date, method, *agents) = (
            _transfer_group_header.read(element)
        )
        assert message_id and count and method, "MsgId, NbOfTxs and SttlmInf/SttlmMtd are mandatory in the schema"
        creation_time = self.datetime_of(created, path, "CreDtTm", invalid_creation_date)
        assert creation_time is not None, "CreDtTm is mandatory in the schema"
        return TransferGroupHeader(
            message_id=message_id,
            creation_time=creation_time,
            number_of_transactions=parse_count(count),
            control_sum_kopecks=self.total_of(control_sum, path, "CtrlSum"),
            total_amount=self.amount_of(total, total_currency, path, "TtlIntrBkSttlmAmt"),
            settlement_date=self.date_of(settlement_date, path, "IntrBkSttlmDt"),
            settlement_method=method,
            instructing_agent=agent_of(*agents[0:3], path, "InstgAgt"),
            instructed_agent=agent_of(*agents[3:6], path, "InstdAgt"),
            path=path,
        )
