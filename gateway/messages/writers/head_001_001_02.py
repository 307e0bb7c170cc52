"""Writer of head.001.001.02 BusinessApplicationHeaderV02: a BusinessHeader to the AppHdr of an outbound message."""

from __future__ import annotations

from lxml import etree

from gateway.messages.commands import BusinessHeader, RelatedHeader
from gateway.messages.identity import app_hdr_message_id
from gateway.messages.writers._writing import Writing

message_id = app_hdr_message_id


def write(header: BusinessHeader) -> etree._Element:
    writing = Writing(message_id)
    app_hdr = writing.root("AppHdr")
    _party(writing, app_hdr, "Fr", header.from_bic)
    _party(writing, app_hdr, "To", header.to_bic)
    writing.element(app_hdr, "BizMsgIdr", header.business_message_id)
    writing.element(app_hdr, "MsgDefIdr", header.message_definition_id)
    writing.text(app_hdr, "BizSvc", header.business_service)
    writing.iso_datetime(app_hdr, "CreDt", header.creation_time)
    writing.text(app_hdr, "CpyDplct", header.copy_duplicate)
    writing.boolean(app_hdr, "PssblDplct", header.possible_duplicate)
    for related in header.related:
        _related(writing, writing.element(app_hdr, "Rltd"), related)
    return writing.checked(app_hdr)


def _related(writing: Writing, element: etree._Element, related: RelatedHeader) -> None:
    _party(writing, element, "Fr", related.from_bic)
    _party(writing, element, "To", related.to_bic)
    writing.element(element, "BizMsgIdr", related.business_message_id)
    writing.element(element, "MsgDefIdr", related.message_definition_id)
    writing.text(element, "BizSvc", related.business_service)
    writing.iso_datetime(element, "CreDt", related.creation_time)


def _party(writing: Writing, parent: etree._Element, name: str, bic: str | None) -> None:
    """Party44Choice as a financial institution: <Fr><FIId><FinInstnId><BICFI>."""
    assert bic is not None, f"the gateway names every {name} party by its BIC"
    writing.agent(writing.element(parent, name), "FIId", bic)
