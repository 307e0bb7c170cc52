"""The replay reads a message file's AppHdr in each version the gateway reads (head.001.001.01, .02, .03), every field
in that version's own namespace, and no AppHdr of another version."""

from __future__ import annotations

import pytest

from gateway.replay.envelopes import EnvelopeKind, NotAMessage, read_message, rewrap


def _party(name: str, bic: str) -> str:
    return f"<{name}><FIId><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></FIId></{name}>"


def _message(version: str) -> bytes:
    """A pacs.028 from Sberbank whose AppHdr relates it to a message of VTB's (the Document is not read here)."""
    return (
        '<Envelope xmlns="urn:cryptoruble:gateway:envelope:1">'
        f'<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:{version}">'
        + _party("Fr", "SABRRUMMXXX") + _party("To", "CBRFRUMMXXX")
        + "<BizMsgIdr>SABR-1</BizMsgIdr><MsgDefIdr>pacs.028.001.03</MsgDefIdr><CreDt>2026-03-16T07:44:12Z</CreDt>"
        + "<Rltd>" + _party("Fr", "VTBRRUMMXXX") + _party("To", "CBRFRUMMXXX")
        + "<BizMsgIdr>VTB-7</BizMsgIdr><MsgDefIdr>pacs.008.001.08</MsgDefIdr><CreDt>2026-03-16T07:40:00Z</CreDt>"
        + "</Rltd></AppHdr>"
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03"/>'
        "</Envelope>"
    ).encode()


@pytest.mark.parametrize("version", ["head.001.001.01", "head.001.001.02", "head.001.001.03"])
def test_each_header_version_is_read_in_its_own_namespace(version: str) -> None:
    message = read_message(_message(version))
    assert (message.sender_bic, message.business_message_id, message.message_definition) == (
        "SABRRUMMXXX", "SABR-1", "pacs.028.001.03"
    )
    assert message.header_text("To", "FIId", "FinInstnId", "BICFI") == "CBRFRUMMXXX"
    # What the replay attributes a mailbox message by: the (Fr, BizMsgIdr) its AppHdr/Rltd names.
    assert message.header_text("Rltd", "Fr", "FIId", "FinInstnId", "BICFI") == "VTBRRUMMXXX"
    assert message.header_text("Rltd", "BizMsgIdr") == "VTB-7"
    assert message.bics == {"SABRRUMMXXX", "CBRFRUMMXXX", "VTBRRUMMXXX"}
    # An SAA DataPDU names the receiver from AppHdr/To.
    assert b"<Saa:Receiver><Saa:DN>o=cbrfrumm,o=swift</Saa:DN>" in rewrap(_message(version), EnvelopeKind.SAA)


def test_an_apphdr_of_a_version_the_gateway_does_not_read_is_none() -> None:
    with pytest.raises(NotAMessage, match=r"holds 0 AppHdr \(head.001.001.01, head.001.001.02, head.001.001.03\)"):
        read_message(_message("head.001.001.04"))
