"""What the readers of the three AppHdr versions (head_001_001_01, _02, _03) share: the reading itself.

The versions differ in what a reader does not read, so one reading serves all three: Fr and To are a Party9Choice in
head.001.001.01 and a Party44Choice later, but a bank's BICFI is at Fr/FIId/FinInstnId/BICFI in each; CreDt is UTC
only in head.001.001.01; Rltd occurs at most once there and any number of times later; MktPrctc and BizPrcgDt (absent
from head.001.001.01, and from head.001.001.02's Rltd) are not read. Each version's schema has been checked before
a reader runs, so what a version forbids is not there to be read.
"""

from __future__ import annotations

from lxml import etree

from gateway.messages.codes import invalid_creation_date
from gateway.messages.commands import BusinessHeader, RelatedHeader
from gateway.messages.identity import MessageId, app_hdr_message_ids
from gateway.messages.readers._reading import Reading, boolean_of
from gateway.messages.readers.field_paths import FieldPaths
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import element_path

# What an AppHdr is read to, in one call (field_paths). A party's BICFI occurs in a Party44Choice (and in
# head.001.001.01's Party9Choice) only as FIId/FinInstnId/BICFI (an OrgId names its BIC AnyBIC).
_header_fields = FieldPaths(
    "Fr/FIId/FinInstnId/BICFI",
    "To/FIId/FinInstnId/BICFI",
    "BizMsgIdr",
    "MsgDefIdr",
    "BizSvc",
    "CreDt",
    "CpyDplct",
    "PssblDplct",
    "Rltd",
)


def read(version: MessageId, app_hdr: etree._Element, path: str | None) -> BusinessHeader | list[Rejection]:
    """The AppHdr of header version `version`; `path` is its element path when the caller knows it
    (Unwrapped.app_hdr_path), else it is found."""
    assert version in app_hdr_message_ids, version
    reading = Reading(version.namespace)
    if path is None:
        path = element_path(app_hdr)
    (from_bic, to_bic, business_message_id, definition, service, created, copy, possible_duplicate, related_first) = (
        _header_fields.read(app_hdr)
    )
    assert business_message_id and definition, "BizMsgIdr and MsgDefIdr are mandatory in the schema"
    creation_time = reading.datetime_of(created, path, "CreDt", invalid_creation_date)
    assert creation_time is not None, "CreDt is mandatory in the schema"
    related: tuple[RelatedHeader, ...] = ()
    if related_first is not None:  # most headers relate to no other: no search for them then
        related = tuple(
            _related(reading, element, related_path) for element, related_path in reading.each(app_hdr, path, "Rltd")
        )
    header = BusinessHeader(
        from_bic=from_bic,
        to_bic=to_bic,
        business_message_id=business_message_id,
        message_definition_id=definition,
        business_service=service,
        creation_time=creation_time,
        copy_duplicate=copy,
        possible_duplicate=boolean_of(possible_duplicate, "PssblDplct"),
        related=related,
        version=version,
        path=path,
    )
    return reading.result(header)


def _related(reading: Reading, element: etree._Element, path: str) -> RelatedHeader:
    fields = reading.fields(element)
    return RelatedHeader(
        from_bic=reading.party_bic(fields, "Fr"),
        to_bic=reading.party_bic(fields, "To"),
        business_message_id=reading.required_text(fields, "BizMsgIdr"),
        message_definition_id=reading.required_text(fields, "MsgDefIdr"),
        business_service=reading.text(fields, "BizSvc"),
        creation_time=reading.required_iso_datetime(fields, "CreDt", path, invalid_creation_date),
    )
