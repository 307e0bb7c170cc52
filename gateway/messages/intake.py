"""The message layer's single entry point: bytes from a bank in, a typed command or the reasons it was refused out.

The layers run in order, and the first that finds a problem ends the intake with its rejections, each carrying the
layer's own value: well-formedness and bounds (parse_bounded), envelope (unwrap), XSD (schemas), reading into typed
values (readers), the scheme's usage guideline (rules), business rules (rules, against a RuleContext). read_message
runs the layers up to the readers; intake runs them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gateway import bounds
from gateway.config import canonical_bic
from gateway.messages import codes
from gateway.messages.commands import BusinessHeader, Command
from gateway.messages.envelope import Unwrapped, app_hdr_text, unwrap
from gateway.messages.identity import MessageId
from gateway.messages.readers import camt_029_001_09, read_app_hdr, read_command
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.reports import ResolutionOfInvestigation, reference_chars_max
from gateway.messages.rules import (
    RuleContext,
    SharedViews,
    check_business,
    check_usage_guideline,
)
from gateway.messages.safe_xml import parse_bounded
from gateway.messages.schemas import SchemaSet, compiled

# Where a Document without an AppHdr states its own reference, under its message element: (holder, element).
_document_references = (("GrpHdr", "MsgId"), ("MsgHdr", "MsgId"), ("Assgnmt", "Id"))


# Messages a bank sends for the gateway to route to another bank, not commands it acts on: a creditor agent's
# camt.029 answering a cancellation request passed on to it. They are read (so that settlement can route them and
# refuse what it cannot), and the only rule is the transport's: the AppHdr names the authenticated sender.
routed_readers: Mapping[MessageId, Callable[[Unwrapped], ResolutionOfInvestigation | list[Rejection]]] = (
    MappingProxyType({camt_029_001_09.message_id: camt_029_001_09.read})
)


@dataclass(frozen=True, slots=True)
class Accepted:
    command: Command | ResolutionOfInvestigation
    header: BusinessHeader | None  # None only for a bare Document, where the caller allowed one
    message_id: MessageId  # the Document's message version
    # The AppHdr and Document the command was read from: a signature is verified on these very elements, so that
    # what was checked is what was read (gateway.messages.signing).
    unwrapped: Unwrapped = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Refused:
    rejections: tuple[Rejection, ...]  # all from one layer, at most bounds.rejections_per_refusal_max, never empty
    message_id: MessageId | None  # known from the envelope layer on
    header: BusinessHeader | None  # known from the read layer on, when the message has an AppHdr
    command: Command | None  # known for usage-guideline and business refusals: to answer per transaction
    reference: str | None  # what an answer quotes: AppHdr/BizMsgIdr, else GrpHdr/MsgId, when the envelope has one

    def __post_init__(self) -> None:
        assert self.rejections, "a refusal says why"
        assert len(self.rejections) <= bounds.rejections_per_refusal_max, len(self.rejections)
        assert len({rejection.layer for rejection in self.rejections}) == 1, "a refusal comes from one layer"


@dataclass(frozen=True, slots=True)
class Read:
    """A message through every layer up to its reader: well-formed, unwrapped, schema-valid and read into typed
    values. Its rules have not run yet (intake runs them)."""

    value: Command | ResolutionOfInvestigation
    header: BusinessHeader | None  # None only for a bare Document, where the caller allowed one
    message_id: MessageId
    reference: str | None  # as Refused.reference
    unwrapped: Unwrapped = field(compare=False, repr=False)  # what `value` and `header` were read from


def intake(
    data: bytes,
    *,
    allow_bare_document: bool,
    context: RuleContext,
    schemas: SchemaSet | None = None,
) -> Accepted | Refused:
    """Run every layer over one message. `schemas` defaults to the process's compiled set."""
    read = read_message(data, allow_bare_document=allow_bare_document, schemas=schemas)
    if isinstance(read, Refused):
        return read
    command, header, message_id, reference = read.value, read.header, read.message_id, read.reference
    if isinstance(command, ResolutionOfInvestigation):  # routed to another bank: only the transport's rule applies
        return _routed(command, header, message_id, reference, context, read.unwrapped)
    assert message_id not in routed_readers, message_id
    with SharedViews(command):  # both layers' rules read the same views of the command, built once
        departures = check_usage_guideline(command, header)
        if departures:
            return _refused(departures, message_id, reference, header, command)
        violations = check_business(command, header, context)
    if violations:
        return _refused(violations, message_id, reference, header, command)
    return Accepted(command, header, message_id, read.unwrapped)


def read_message(data: bytes, *, allow_bare_document: bool, schemas: SchemaSet | None = None) -> Read | Refused:
    """The layers before the rules: bounded parsing, unwrap, XSD, the AppHdr, and the message's reader."""
    opened = open_message(data, allow_bare_document=allow_bare_document, schemas=schemas)
    if isinstance(opened, Refused):
        return opened
    unwrapped, header, reference = opened.unwrapped, opened.header, opened.reference
    message_id = unwrapped.message_id
    routed_reader = routed_readers.get(message_id)
    value = read_command(unwrapped) if routed_reader is None else routed_reader(unwrapped)
    if isinstance(value, list):
        return _refused(value, message_id, reference, header)
    return Read(value, header, message_id, reference, unwrapped)


@dataclass(frozen=True, slots=True)
class Opened:
    """A message through the layers every reader of it needs first: well-formed within bounds, unwrapped from its
    envelope, valid against its schemas, its AppHdr read. The gateway's intake and both ends of the RTGS wire open
    messages this one way."""

    unwrapped: Unwrapped
    header: BusinessHeader | None  # None only for a bare Document, where the caller allowed one
    reference: str | None  # as Refused.reference

    @property
    def message_id(self) -> MessageId:
        return self.unwrapped.message_id


def open_message(data: bytes, *, allow_bare_document: bool, schemas: SchemaSet | None = None) -> Opened | Refused:
    """Parse (bounded, hardened), unwrap, validate against the XSDs and read the AppHdr; the first layer that finds
    a problem refuses the message."""
    parsed = parse_bounded(data)
    if isinstance(parsed, Rejection):
        return _refused([parsed])
    unwrapped = unwrap(parsed, allow_bare_document=allow_bare_document)
    if isinstance(unwrapped, Rejection):
        return _refused([unwrapped])
    message_id = unwrapped.message_id
    invalid = (compiled() if schemas is None else schemas).validate(unwrapped)
    if invalid:
        return _refused(invalid, message_id, _reference(unwrapped))
    header = None if unwrapped.app_hdr is None else read_app_hdr(unwrapped)
    if isinstance(header, list):
        return _refused(header, message_id, _reference(unwrapped))
    # A valid AppHdr's BizMsgIdr, as read, is the reference _reference finds: no second look for it.
    reference = _reference(unwrapped) if header is None else header.business_message_id
    return Opened(unwrapped, header, reference)


def _routed(
    value: ResolutionOfInvestigation,
    header: BusinessHeader | None,
    message_id: MessageId,
    reference: str | None,
    context: RuleContext,
    unwrapped: Unwrapped,
) -> Accepted | Refused:
    if header is None:
        text = f"a {message_id} is routed between banks: its AppHdr must name the sender"
        return _refused([Rejection(codes.transaction_forbidden, "", text, Layer.BUSINESS)], message_id, reference)
    if header.from_bic is None:  # as rules.bicfi_required refuses it in every other message
        text = "the sender must be named by FIId/BICFI"
        rejection = Rejection(codes.invalid_bank_identifier, f"{header.path}/Fr", text, Layer.USAGE_GUIDELINE)
        return _refused([rejection], message_id, reference, header)
    sender = canonical_bic(header.from_bic)
    if context.authenticated_bic is not None and sender != context.authenticated_bic:
        text = f"the message is sent as {sender} on a connection authenticated as {context.authenticated_bic}"
        path = f"{header.path}/Fr/FIId/FinInstnId/BICFI"
        return _refused([Rejection(codes.transaction_forbidden, path, text, Layer.BUSINESS)], message_id, reference,
                        header)
    return Accepted(value, header, message_id, unwrapped)


def check_iso(data: bytes, schemas: SchemaSet | None = None) -> tuple[MessageId | None, list[Rejection]]:
    """The ISO tier only: well-formed within bounds, a known envelope (a bare Document allowed), and valid against
    the message's schema. No usage guideline, no business rules: what `gateway validate --profile iso` checks."""
    parsed = parse_bounded(data)
    if isinstance(parsed, Rejection):
        return None, [parsed]
    unwrapped = unwrap(parsed, allow_bare_document=True)
    if isinstance(unwrapped, Rejection):
        return None, [unwrapped]
    return unwrapped.message_id, (compiled() if schemas is None else schemas).validate(unwrapped)


def reread(payload: bytes) -> tuple[BusinessHeader | None, Unwrapped]:
    """A message that passed intake when it arrived, read again from the bytes the journal stored (so reading it
    cannot fail): its AppHdr (None for a bare Document) and its unwrapped Document."""
    parsed = parse_bounded(payload)
    assert not isinstance(parsed, Rejection), parsed
    unwrapped = unwrap(parsed, allow_bare_document=True)
    assert not isinstance(unwrapped, Rejection), unwrapped
    if unwrapped.app_hdr is None:
        return None, unwrapped
    header = read_app_hdr(unwrapped)
    assert not isinstance(header, list), header
    return header, unwrapped


def _reference(unwrapped: Unwrapped) -> str | None:
    """The message's own reference, found without trusting validation so that even a schema refusal can quote it:
    AppHdr/BizMsgIdr, else the Document's GrpHdr/MsgId (camt.050: MsgHdr/MsgId; camt.056: Assgnmt/Id). None when
    absent or not a Max35Text."""
    if unwrapped.app_hdr is not None:
        text = app_hdr_text(unwrapped, "BizMsgIdr")
    else:
        found = None
        namespace = unwrapped.message_id.namespace
        for holder, name in _document_references:
            found = unwrapped.document.find(f"{{{namespace}}}*/{{{namespace}}}{holder}/{{{namespace}}}{name}")
            if found is not None:
                break
        text = None if found is None else found.text
    return text if text and len(text) <= reference_chars_max else None


def _refused(
    rejections: list[Rejection],
    message_id: MessageId | None = None,
    reference: str | None = None,
    header: BusinessHeader | None = None,
    command: Command | None = None,
) -> Refused:
    return Refused(tuple(rejections[:bounds.rejections_per_refusal_max]), message_id, header, command, reference)
