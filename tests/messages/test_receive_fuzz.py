"""parse_bounded then unwrap never raise: random, mutated and XML-shaped bytes all end in a result or a Rejection."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.messages.envelope import Unwrapped, unwrap
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import parse_bounded

_seeds = tuple(path.read_bytes() for path in sorted((Path(__file__).parent / "fixtures").glob("*.xml")))

# Pieces that steer random bytes towards the parser's and the unwrapper's edge cases.
_fragments = (
    b"<",
    b">",
    b"/>",
    b"</",
    b"<Document>",
    b"</Document>",
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">',
    b'<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">',
    b"</AppHdr>",
    b"<MsgDefIdr>pacs.008.001.08</MsgDefIdr>",
    b'<Envelope xmlns="urn:cryptoruble:gateway:envelope:1">',
    b"</Envelope>",
    b'<Saa:DataPDU xmlns:Saa="urn:swift:saa:xsd:saa.2.0"><Saa:Body>',
    b"</Saa:Body></Saa:DataPDU>",
    b"<BusMsg>",
    b"</BusMsg>",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"]]>",
    b"<?pi x?>",
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b"<!DOCTYPE d>",
    b"&amp;",
    b"&#0;",
    b"&#x10FFFF;",
    b"&undefined;",
    b' a="1"',
    b' xmlns:p="urn:x"',
    b' xmlns=""',
    b"p:",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\xd0",
    b"\x00",
    b" ",
    b"\n",
    "Рубль".encode(),
)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_seeds)))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        position = draw(st.integers(min_value=0, max_value=len(data)))
        action = draw(st.sampled_from(("insert", "delete", "replace", "duplicate")))
        if action == "insert":
            data[position:position] = draw(st.sampled_from(_fragments) | st.binary(min_size=1, max_size=4))
        elif action == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=64))]
        elif action == "replace":
            data[position : position + 1] = draw(st.binary(min_size=1, max_size=1))
        else:
            data[position:position] = data[position : position + draw(st.integers(min_value=1, max_value=256))]
    return bytes(data)


_xml_shaped = st.lists(st.sampled_from(_fragments), max_size=48).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=512), _mutated(), _xml_shaped, st.sampled_from(_seeds)))
def test_intake_never_raises(data: bytes) -> None:
    parsed = parse_bounded(data)
    if isinstance(parsed, Rejection):
        assert parsed.code == "FF01"
        return
    for allow_bare_document in (False, True):
        result = unwrap(parsed, allow_bare_document=allow_bare_document)
        assert isinstance(result, Unwrapped | Rejection)
        if isinstance(result, Rejection):
            assert result.code == "FF01"
