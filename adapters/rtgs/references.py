"""The camt.050 references an RTGS booking is for (gateway.conversion.ports.FiatReferences), as both adapters take
them: the embedded simulator and the HTTP client check them alike and record them alike, so that the contract
suite holds either to the same answers.

The references travel in a camt.050 (docs/rtgs-protocol.md) and come back in a camt.053, so they are what those
messages can carry: identifiers of 1 to 35 characters (Max35Text) that XML can hold, and a UETR that is a version-4
UUID. An EndToEndId is mandatory in a camt.050, and ISO 20022 writes one not given as NOTPROVIDED: an end-to-end id of
None is recorded as NOTPROVIDED, so that the simulator and an RTGS that read it off the wire keep the same value.
"""

from __future__ import annotations

import uuid

from gateway.conversion.ports import FiatReferences
from gateway.messages.iso_types import xml_safe
from gateway.messages.reports import reference_chars_max

not_provided = "NOTPROVIDED"  # ISO 20022's EndToEndId when the originator gave none


def recorded(references: FiatReferences) -> FiatReferences:
    """The references as the RTGS keeps them; ValueError for references no camt.050 can carry."""
    if not isinstance(references, FiatReferences):
        raise ValueError(f"references {references!r} are not FiatReferences")
    _check_identifier("MsgId", references.message_id)
    for name, value in (("EndToEndId", references.end_to_end_id), ("TxId", references.transaction_id)):
        if value is not None:
            _check_identifier(name, value)
    uetr = references.uetr
    if uetr is not None and (not isinstance(uetr, uuid.UUID) or uetr.version != 4):
        raise ValueError(f"UETR {uetr!r} is not a version-4 UUID")
    if references.end_to_end_id is None:
        return FiatReferences(references.message_id, not_provided, references.transaction_id, uetr)
    return references


def _check_identifier(name: str, value: object) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= reference_chars_max or xml_safe(value) != value:
        raise ValueError(f"{name} {value!r} is not 1 to {reference_chars_max} characters XML can carry")
