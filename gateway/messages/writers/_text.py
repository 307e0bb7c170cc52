"""Writing XML as text, for the messages every payment makes: its AppHdrs, the pacs.002 and the envelope.

Building these with lxml (an element per call, then a serialisation) cost more than the rest of the answer; written
as strings they come out byte for byte as the lxml writers write them (tests/message_layer/test_text_writers.py
holds each text writer to its lxml twin and to the official XSDs over generated inputs). Element content is escaped
as libxml2 escapes it: &, <, > and the carriage return; every text an ISO 20022 element carries is non-empty.
"""

from __future__ import annotations

from datetime import date, datetime

from lxml import etree

from gateway.messages.commands import Amount
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import (
    format_date,
    format_datetime,
    format_decimal_kopecks,
    format_kopecks,
)
from gateway.messages.schemas import compiled
from gateway.messages.writers._writing import schema_check_due

_content_escapes = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def escaped(text: str) -> str:
    """`text` as element content."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        return text.translate(_content_escapes)
    return text


def element(name: str, text: str) -> str:
    assert text, f"{name}: an ISO 20022 text is never empty"
    return f"<{name}>{escaped(text)}</{name}>"


def optional(name: str, text: str | None) -> str:
    return "" if text is None else element(name, text)


def iso_datetime(name: str, value: datetime | None) -> str:
    return "" if value is None else f"<{name}>{format_datetime(value)}</{name}>"


def iso_date(name: str, value: date | None) -> str:
    return "" if value is None else f"<{name}>{format_date(value)}</{name}>"


def boolean(name: str, value: bool | None) -> str:
    return "" if value is None else f"<{name}>{'true' if value else 'false'}</{name}>"


def amount(name: str, value: Amount | None) -> str:
    if value is None:
        return ""
    assert value.currency.isascii() and value.currency.isalpha(), value.currency  # [A-Z]{3}: nothing to escape
    return f'<{name} Ccy="{value.currency}">{format_kopecks(value.kopecks)}</{name}>'


def decimal_kopecks(name: str, kopecks: int | None) -> str:
    return "" if kopecks is None else f"<{name}>{format_decimal_kopecks(kopecks)}</{name}>"


def agent(name: str, bic: str | None) -> str:
    """BranchAndFinancialInstitutionIdentification6 naming the institution by its BICFI alone."""
    return "" if bic is None else f"<{name}><FinInstnId>{element('BICFI', bic)}</FinInstnId></{name}>"


def root(name: str, message_id: MessageId, content: str) -> str:
    """The message's root element, declaring its namespace as the default one."""
    return f'<{name} xmlns="{message_id.namespace}">{content}</{name}>'


# What the gateway wrote itself, read back (to check a sample, to sign): never a DTD, an entity or the network.
written_parser = etree.XMLParser(
    resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False, collect_ids=False
)


def checked(message_id: MessageId, text: str) -> str:
    """A finished Document or AppHdr, asserted valid against our schema as Writing.checked asserts the lxml writers'
    (an invalid one is a writer's bug), as often as `outbound_schema_check_every` asks."""
    if schema_check_due():
        problems = compiled().validate_element(etree.fromstring(text.encode(), written_parser), message_id)
        assert not problems, f"{message_id} text writer produced an invalid message: {problems}"
    return text
