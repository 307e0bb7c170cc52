"""Reader of head.001.001.02 BusinessApplicationHeaderV02 (AppHdr): a schema-valid AppHdr to a BusinessHeader."""

from __future__ import annotations

from lxml import etree

from gateway.messages.commands import BusinessHeader, RelatedHeader
from gateway.messages.identity import app_hdr_message_id
from gateway.messages.readers._reading import Reading, invalid_creation_date
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import element_path

message_id = app_hdr_message_id


def read(app_hdr: etree._Element) -> BusinessHeader | list[Rejection]:
    reading = Reading(message_id.namespace)
    path = element_path(app_hdr)
    related = tuple(
        _related(reading, element, related_path) for element, related_path in reading.each(app_hdr, path, "Rltd")
    )
    header = BusinessHeader(
        from_bic=reading.party_bic(app_hdr, "Fr"),
        to_bic=reading.party_bic(app_hdr, "To"),
        business_message_id=reading.required_text(app_hdr, "BizMsgIdr"),
        message_definition_id=reading.required_text(app_hdr, "MsgDefIdr"),
        business_service=reading.text(app_hdr, "BizSvc"),
        creation_time=reading.required_iso_datetime(app_hdr, "CreDt", path, invalid_creation_date),
        copy_duplicate=reading.text(app_hdr, "CpyDplct"),
        possible_duplicate=reading.boolean(app_hdr, "PssblDplct"),
        related=related,
        path=path,
    )
    return reading.result(header)


def _related(reading: Reading, element: etree._Element, path: str) -> RelatedHeader:
    return RelatedHeader(
        from_bic=reading.party_bic(element, "Fr"),
        to_bic=reading.party_bic(element, "To"),
        business_message_id=reading.required_text(element, "BizMsgIdr"),
        message_definition_id=reading.required_text(element, "MsgDefIdr"),
        business_service=reading.text(element, "BizSvc"),
        creation_time=reading.required_iso_datetime(element, "CreDt", path, invalid_creation_date),
    )
