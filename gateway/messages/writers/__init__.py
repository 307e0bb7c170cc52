"""One writer per outbound message version: domain values in, an lxml Document or AppHdr out (or text, from the
text writers of the messages every payment makes: see _text), valid against the gateway's own schema (each writer
asserts it for one message in `outbound_schema_check_every`). in_envelope puts the two in the gateway's envelope,
the AppHdr in the version its BusinessHeader names (answer_app_hdr_version chooses it for an answer)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from lxml import etree

from gateway.config import (
    Config,
    app_hdr_version_names,
    signature_policy_default,
    status_reports_names,
)
from gateway.messages.commands import BusinessHeader
from gateway.messages.identity import (
    MessageId,
    app_hdr_message_id_default,
    iso_namespace_prefix,
)
from gateway.messages.reports import (
    MessageReject,
    Receipt,
    ResolutionOfInvestigation,
    StatusReport,
)
from gateway.messages.signing import GatewaySigner, MessageSigning
from gateway.messages.statements import BankToCustomerReport, DebitCreditNotification
from gateway.messages.writers import (
    _text,
    admi_002_001_01,
    camt_025_001_05,
    camt_029_001_09,
    camt_050_001_05,
    camt_052_001_08,
    camt_053_001_08,
    camt_054_001_08,
    camt_060_001_05,
    envelope,
    head_001_001_01,
    head_001_001_02,
    head_001_001_03,
    pacs_002_001_10,
)
from gateway.messages.writers._writing import check_one_in

__all__ = ["check_one_in"]  # the runtime sets the share of written messages checked against the schema

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AppHdrWriter:
    """The writer of one AppHdr version, and whether that version can say all that a header holds."""

    write: Callable[[BusinessHeader], etree._Element]
    write_text: Callable[[BusinessHeader], str]
    expresses: Callable[[BusinessHeader], bool]


# The writer of each AppHdr version the gateway writes (identity.app_hdr_message_ids).
app_hdr_writers: Mapping[MessageId, AppHdrWriter] = MappingProxyType(
    {
        version.message_id: AppHdrWriter(version.write, version.write_text, version.expresses)
        for version in (head_001_001_01, head_001_001_02, head_001_001_03)
    }
)


# Every AppHdr version a participant may ask for in its config (app_hdr_version) is one the gateway writes.
assert {MessageId.parse(name) for name in app_hdr_version_names} <= set(app_hdr_writers), app_hdr_version_names


@dataclass(frozen=True, slots=True)
class Recipient:
    """How the gateway writes every message to one participant, whichever flow builds it: in the AppHdr version the
    participant is configured for (None: as answer_app_hdr_version chooses), signed by `signer` (None: unsigned).
    `status_reports_exceptions_only`: the pacs.002 answering its payment message lists only the transactions not
    settled (its status_reports = "exceptions"); a bank without a setting gets every one."""

    app_hdr_version: MessageId | None
    signer: GatewaySigner | None
    status_reports_exceptions_only: bool = False


class Recipients:
    """How the gateway writes to each receiver, by BIC (Journaling.recipients): a participant of the config as it is
    configured; any other receiver (a bank added with `participants add`, the gateway itself for an answer given on
    HTTP only) with no AppHdr version of its own, signed as the default signature_policy has it."""

    def __init__(self, configured: Mapping[str, Recipient], default: Recipient | None) -> None:
        self._configured = MappingProxyType(dict(configured))
        self._default = default

    def get(self, bic: str) -> Recipient | None:
        """The `configured` for every message to `bic`; None: default version, unsigned."""
        return self._configured.get(bic, self._default)


unconfigured = Recipients({}, None)  # every receiver in the default version, unsigned: a gateway without a config


def configured_recipients(config: Config, signing: MessageSigning) -> Recipients:
    """Each participant's Recipient: its app_hdr_version, the gateway's signer unless its signature_policy is off,
    and its status_reports; for anyone else, the gateway's signer unless the default policy is off."""
    recipients: dict[str, Recipient] = {}
    for participant in config.participants:
        name = participant.app_hdr_version
        version = None if name is None else MessageId.parse(name)
        assert name is None or (version is not None and version in app_hdr_writers), f"{name} is not written"
        assert participant.status_reports in status_reports_names, participant.status_reports
        recipients[participant.bic] = Recipient(
            version,
            signing.signer_for(participant.bic),
            status_reports_exceptions_only=participant.status_reports == "exceptions",
        )
    signed = signing.signer is not None and signature_policy_default != "off"
    return Recipients(recipients, Recipient(None, signing.signer) if signed else None)


def answer_app_hdr_version(answering: BusinessHeader | None, configured: MessageId | None) -> MessageId:
    """The AppHdr version a message to a participant is written in: the one the participant is configured for
    (`app_hdr_version`), if any; else the version of the message it answers, the participant's own (`answering`:
    None when it answers nothing the participant sent, e.g. a payment forwarded to it); else head.001.001.02."""
    if configured is not None:
        return configured
    if answering is not None:
        return answering.version
    return app_hdr_message_id_default


def _app_hdr_writer(header: BusinessHeader) -> tuple[BusinessHeader, AppHdrWriter]:
    """The writer of the version `header` names, or of head.001.001.02 where that version cannot say what the header
    holds (head.001.001.01 names no BIC outside the pattern of 2013 and relates to one message at most): an answer
    in another version than asked beats no answer."""
    writer = app_hdr_writers[header.version]
    if writer.expresses(header):
        return header, writer
    log.warning(
        "%s to %s written in %s: %s cannot express its header",
        header.business_message_id, header.to_bic, app_hdr_message_id_default, header.version,
    )
    header = replace(header, version=app_hdr_message_id_default)
    return header, app_hdr_writers[header.version]


def app_hdr(header: BusinessHeader) -> etree._Element:
    """The AppHdr of `header`, as an lxml element (the reference app_hdr_text is held to)."""
    header, writer = _app_hdr_writer(header)
    return writer.write(header)


def app_hdr_text(header: BusinessHeader) -> str:
    """The AppHdr of `header` as text: what every outbound message carries."""
    header, writer = _app_hdr_writer(header)
    return writer.write_text(header)


def status_report_message(header: BusinessHeader, report: StatusReport) -> bytes:
    """A pacs.002 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, pacs_002_001_10.write_text(report))


def message_reject_message(header: BusinessHeader, reject: MessageReject) -> bytes:
    """An admi.002 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, admi_002_001_01.write(reject))


def resolution_message(header: BusinessHeader, resolution: ResolutionOfInvestigation) -> bytes:
    """A camt.029 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_029_001_09.write(resolution))


def receipt_message(header: BusinessHeader, receipt: Receipt) -> bytes:
    """A camt.025 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_025_001_05.write(receipt))


def account_report_message(header: BusinessHeader, report: BankToCustomerReport) -> bytes:
    """A camt.052 intraday report with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_052_001_08.write(report))


def statement_message(header: BusinessHeader, report: BankToCustomerReport) -> bytes:
    """A camt.053 statement with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_053_001_08.write(report))


def report_message(message: MessageId, header: BusinessHeader, report: BankToCustomerReport) -> bytes:
    """The camt.052 or the camt.053 that `message` names, as account_report_message or statement_message writes it."""
    if message == camt_053_001_08.message_id:
        return statement_message(header, report)
    assert message == camt_052_001_08.message_id, message
    return account_report_message(header, report)


def liquidity_transfer_message(header: BusinessHeader, transfer: camt_050_001_05.LiquidityCreditTransfer) -> bytes:
    """A camt.050 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_050_001_05.write(transfer))


def account_report_query_message(header: BusinessHeader, query: camt_060_001_05.AccountReportQuery) -> bytes:
    """A camt.060 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_060_001_05.write(query))


def notification_message(header: BusinessHeader, notification: DebitCreditNotification) -> bytes:
    """A camt.054 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_054_001_08.write(notification))


def in_envelope(header: BusinessHeader, document: etree._Element | str) -> bytes:
    """A Document (an lxml element, or a text writer's text) with its AppHdr in the gateway's envelope, ready to
    send; the AppHdr names the Document's version, and is written in the header version `header` names."""
    if isinstance(document, str):
        assert document.startswith(f'<Document xmlns="{iso_namespace_prefix}{header.message_definition_id}">')
        serialised = document.encode()
    else:
        document_id = MessageId.from_namespace(etree.QName(document).namespace or "")
        assert header.message_definition_id == str(document_id), (header.message_definition_id, document_id)
        serialised = etree.tostring(document, encoding="UTF-8")
    payload = envelope.envelope_bytes(app_hdr_text(header), serialised)
    if header.signer is None:
        return payload
    # Signing works on the tree: the message is read back (libxml2 reads it faster than lxml builds it) and signed
    # last, when nothing in the AppHdr or the Document may change any more.
    root = etree.fromstring(payload, _text.written_parser)
    header.signer.sign(root[0], root[1])
    return envelope.to_bytes(root)
