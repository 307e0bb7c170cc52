"""What every writer shares: building one message's elements with lxml, in its namespace, from typed values, and
checking the finished Document or AppHdr against the gateway's own schema before it leaves the writer."""

from __future__ import annotations

from datetime import date, datetime

from lxml import etree

from gateway.messages.commands import Amount
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import format_date, format_datetime, format_decimal_kopecks, format_kopecks
from gateway.messages.schemas import compiled


class Writing:
    """Builds elements in the namespace of `message_id`."""

    __slots__ = ("message_id", "namespace")

    def __init__(self, message_id: MessageId) -> None:
        self.message_id = message_id
        self.namespace = message_id.namespace

    def root(self, name: str) -> etree._Element:
        return etree.Element(f"{{{self.namespace}}}{name}", nsmap={None: self.namespace})

    def element(self, parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        element = etree.SubElement(parent, f"{{{self.namespace}}}{name}")
        if text is not None:
            assert text, f"{name}: an ISO 20022 text is never empty"
            element.text = text
        return element

    def text(self, parent: etree._Element, name: str, value: str | None) -> None:
        if value is not None:
            self.element(parent, name, value)

    def iso_date(self, parent: etree._Element, name: str, value: date | None) -> None:
        if value is not None:
            self.element(parent, name, format_date(value))

    def iso_datetime(self, parent: etree._Element, name: str, value: datetime | None) -> None:
        if value is not None:
            self.element(parent, name, format_datetime(value))

    def boolean(self, parent: etree._Element, name: str, value: bool | None) -> None:
        if value is not None:
            self.element(parent, name, "true" if value else "false")

    def amount(self, parent: etree._Element, name: str, value: Amount | None) -> None:
        if value is not None:
            self.element(parent, name, format_kopecks(value.kopecks)).set("Ccy", value.currency)

    def decimal_kopecks(self, parent: etree._Element, name: str, kopecks: int | None) -> None:
        if kopecks is not None:
            self.element(parent, name, format_decimal_kopecks(kopecks))

    def agent(self, parent: etree._Element, name: str, bic: str | None) -> None:
        """BranchAndFinancialInstitutionIdentification6 naming the institution by its BICFI alone."""
        if bic is not None:
            self.element(self.element(self.element(parent, name), "FinInstnId"), "BICFI", bic)

    def checked(self, root: etree._Element) -> etree._Element:
        """The finished Document or AppHdr, asserted valid against our schema: an invalid one is a writer's bug."""
        problems = compiled().validate_element(root, self.message_id)
        assert not problems, f"{self.message_id} writer produced an invalid message: {problems}"
        return root
