"""Errors as data: what the gateway answers when it refuses a message, where in the message, and at which layer."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from gateway import bounds
from gateway.messages.codes import invalid_file_format  # noqa: F401  (what the layers below refuse with)


class Layer(enum.Enum):
    """The validation layer that found the problem; earlier layers run first."""

    WELL_FORMEDNESS = "well_formedness"  # bytes, encoding and XML syntax, including every parser bound
    SCHEMA = "schema"  # envelope, namespaces, message definition (XSD)
    SIGNATURE = "signature"  # the XML signature in AppHdr/Sgntr (gateway.messages.signatures), where one is checked
    READ = "read"  # schema-valid content that the typed commands cannot hold (e.g. an amount finer than a kopeck)
    USAGE_GUIDELINE = "usage_guideline"  # scheme rules layered on top of the XSD
    BUSINESS = "business"  # rules that need gateway state: participants, accounts, limits



_code = re.compile(r"[A-Z0-9]{4}")


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str  # an ISO 20022 external code, e.g. FF01
    path: str  # element path, e.g. /Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt; "" before any element
    text: str  # for people; untrusted input appears only as an excerpt
    layer: Layer

    def __post_init__(self) -> None:
        assert _code.fullmatch(self.code), self.code
        assert self.path == "" or self.path.startswith("/"), self.path
        assert self.text, "a rejection says what was wrong"


def excerpt(value: str) -> str:
    """Quote untrusted text for a rejection, cut short so that a sender cannot make our answer large."""
    if len(value) <= bounds.rejection_excerpt_chars_max:
        return repr(value)
    return repr(value[: bounds.rejection_excerpt_chars_max]) + "..."
