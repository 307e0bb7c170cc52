"""ISO 20022 message identities as values (`pacs.008.001.08`), and the versions the gateway reads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple, Self

from gateway.messages.rejections import Layer, Rejection, excerpt, invalid_file_format

iso_namespace_prefix = "urn:iso:std:iso:20022:tech:xsd:"

# Explicit ASCII classes: \d would also accept other scripts' digits.
_dotted = re.compile(r"([a-z]{4})\.([0-9]{3})\.([0-9]{3})\.([0-9]{2})")


class _MessageIdParts(NamedTuple):
    business_area: str  # "pacs"
    number: str  # "008"
    variant: str  # "001"
    version: str  # "08"


class MessageId(_MessageIdParts):
    """A message version. A tuple underneath: it keys the tables every message is looked up in (schemas, readers,
    writers), and a tuple hashes and compares in C, several times for each message read."""

    __slots__ = ()

    def __new__(cls, business_area: str, number: str, variant: str, version: str) -> Self:
        message_id = super().__new__(cls, business_area, number, variant, version)
        assert _dotted.fullmatch(str(message_id)), repr(str(message_id))
        return message_id

    def __str__(self) -> str:
        return f"{self.business_area}.{self.number}.{self.variant}.{self.version}"

    def __repr__(self) -> str:
        return f"MessageId({str(self)!r})"

    @property
    def namespace(self) -> str:
        return iso_namespace_prefix + str(self)

    @classmethod
    def parse(cls, text: str) -> MessageId | None:
        """`pacs.008.001.08` as a MessageId; None for anything else, including blanks or a scheme suffix."""
        match = _dotted.fullmatch(text)
        return None if match is None else cls(*match.groups())

    @classmethod
    def from_namespace(cls, namespace: str) -> MessageId | None:
        """`urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08` as a MessageId; None for any other namespace."""
        if not namespace.startswith(iso_namespace_prefix):
            return None
        return cls.parse(namespace[len(iso_namespace_prefix) :])


def _known(text: str) -> MessageId:
    message_id = MessageId.parse(text)
    assert message_id is not None, text
    return message_id


# The versions of the business application header (AppHdr) the gateway reads and writes: head.001.001.01, as
# TARGET2/T2 traffic carries it; head.001.001.02; head.001.001.03, as newer CBPR+ traffic does. Each message
# arrives with one of them, and each answer is written in one of them (writers.answer_app_hdr_version chooses).
app_hdr_message_ids: frozenset[MessageId] = frozenset(
    _known(text) for text in ("head.001.001.01", "head.001.001.02", "head.001.001.03")
)
# The version an answer is written in when neither the receiver's configuration nor the message answered names one.
app_hdr_message_id_default = _known("head.001.001.02")
assert app_hdr_message_id_default in app_hdr_message_ids

supported_message_ids: frozenset[MessageId] = frozenset(
    _known(text)
    for text in (
        "pacs.008.001.08",
        "pacs.009.001.08",
        "pacs.004.001.09",
        "pacs.002.001.10",
        "pacs.028.001.03",
        "camt.056.001.08",
        "camt.029.001.09",
        "camt.050.001.05",
        "camt.025.001.05",
        "camt.060.001.05",
        "camt.052.001.08",
        "camt.053.001.08",
        "camt.054.001.08",
        "admi.002.001.01",
    )
) | app_hdr_message_ids


# The namespace of each supported version, looked up without parsing it.
supported_message_ids_by_namespace: Mapping[str, MessageId] = MappingProxyType(
    {message_id.namespace: message_id for message_id in supported_message_ids}
)


def supported_message_id(namespace: str, path: str) -> MessageId | Rejection:
    """The message a namespace names when the gateway reads that version; otherwise an FF01 rejection at `path`."""
    message_id = MessageId.from_namespace(namespace)
    if message_id is None:
        text = f"namespace {excerpt(namespace)} is not an ISO 20022 message namespace"
        return Rejection(invalid_file_format, path, text, Layer.SCHEMA)
    if message_id not in supported_message_ids:
        return Rejection(invalid_file_format, path, f"message version {message_id} is not supported", Layer.SCHEMA)
    return message_id
