"""What the writers of the three AppHdr versions (head_001_001_01, _02, _03) share: the writing itself, in the
namespace of the header's version. The gateway writes the same elements in every version (none of MktPrctc or
BizPrcgDt, which head.001.001.01 lacks); what head.001.001.01 asks beyond that, times in UTC, its writer passes
in as `time_of`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lxml import etree

from gateway.messages.commands import BusinessHeader, RelatedHeader
from gateway.messages.identity import app_hdr_message_ids
from gateway.messages.writers import _text
from gateway.messages.writers._writing import Writing

TimeOf = Callable[[datetime], datetime]  # a time as the version writes it


def _as_given(value: datetime) -> datetime:
    return value


def expresses_all(header: BusinessHeader) -> bool:
    """A version's `expresses` where it can say all that any BusinessHeader holds."""
    return True


def write(header: BusinessHeader, time_of: TimeOf = _as_given) -> etree._Element:
    """The AppHdr of `header` in its version, checked against the gateway's schema of that version."""
    assert header.version in app_hdr_message_ids, header.version
    writing = Writing(header.version)
    app_hdr = writing.root("AppHdr")
    _identification(writing, app_hdr, header, time_of)
    writing.text(app_hdr, "CpyDplct", header.copy_duplicate)
    writing.boolean(app_hdr, "PssblDplct", header.possible_duplicate)
    for related in header.related:
        _identification(writing, writing.element(app_hdr, "Rltd"), related, time_of)
    return writing.checked(app_hdr)


def write_text(header: BusinessHeader, time_of: TimeOf = _as_given) -> str:
    """What `write` writes, as text (see _text): the writer every outbound message's AppHdr comes from."""
    assert header.version in app_hdr_message_ids, header.version
    content = "".join(
        (
            _identification_text(header, time_of),
            _text.optional("CpyDplct", header.copy_duplicate),
            _text.boolean("PssblDplct", header.possible_duplicate),
            *(f"<Rltd>{_identification_text(related, time_of)}</Rltd>" for related in header.related),
        )
    )
    return _text.checked(header.version, _text.root("AppHdr", header.version, content))


def _identification_text(header: BusinessHeader | RelatedHeader, time_of: TimeOf) -> str:
    assert header.from_bic is not None and header.to_bic is not None, "the gateway names every party by its BIC"
    return "".join(
        (
            f"<Fr>{_text.agent('FIId', header.from_bic)}</Fr><To>{_text.agent('FIId', header.to_bic)}</To>",
            _text.element("BizMsgIdr", header.business_message_id),
            _text.element("MsgDefIdr", header.message_definition_id),
            _text.optional("BizSvc", header.business_service),
            _text.iso_datetime("CreDt", time_of(header.creation_time)),
        )
    )


def _identification(
    writing: Writing, element: etree._Element, header: BusinessHeader | RelatedHeader, time_of: TimeOf
) -> None:
    """What a header and a related header both begin with: Fr, To, BizMsgIdr, MsgDefIdr, BizSvc, CreDt."""
    _party(writing, element, "Fr", header.from_bic)
    _party(writing, element, "To", header.to_bic)
    writing.element(element, "BizMsgIdr", header.business_message_id)
    writing.element(element, "MsgDefIdr", header.message_definition_id)
    writing.text(element, "BizSvc", header.business_service)
    writing.iso_datetime(element, "CreDt", time_of(header.creation_time))


def _party(writing: Writing, parent: etree._Element, name: str, bic: str | None) -> None:
    """A financial institution by its BIC, <Fr><FIId><FinInstnId><BICFI>, in every version: a Party44Choice
    (head.001.001.02, .03) or a Party9Choice (head.001.001.01)."""
    assert bic is not None, f"the gateway names every {name} party by its BIC"
    writing.agent(writing.element(parent, name), "FIId", bic)
