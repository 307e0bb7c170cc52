"""Every input gets a coded answer: 20,000 seeded mutations of every inbound flow's messages through Inbound.receive
(intake, the AppHdr checks, the flows, the answers' writers) end in a schema-valid, journaled ISO 20022 answer of the
right kind with ISO codes, never an escaped exception; and parse_bounded then unwrap never raise on any bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.handling.received import Reply
from gateway.messages.envelope import Unwrapped, unwrap
from gateway.messages.identity import MessageId
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import parse_bounded
from tests.message_layer.support import assert_official, head_001
from tests.messages.fuzzing import (
    SBER,
    VTB,
    BadAnswer,
    Case,
    EscapedException,
    FuzzFailure,
    JournalMode,
    ReceiveTarget,
    Tally,
    load_seeds,
    make_case,
    save_failure,
)

fuzz_seed = 20261124
fuzz_inputs = 20_000


@pytest.fixture(scope="module")
def target() -> Iterator[ReceiveTarget]:
    made = ReceiveTarget()
    yield made
    made.close()


# What each seed, sent as it is by its own sender, is answered with: the answer of its flow, never a refusal; a
# message the gateway reads but takes from no bank (a bank's pacs.002 or admi.002) is refused whole.
seed_answers = {
    "admi.002.001.01": "admi.002.001.01",
    "pacs.002.001.10": "admi.002.001.01",
    "camt.029.001.09": "",  # passed on to the bank that asked: 202, no body
    "camt.050.001.05": "camt.025.001.05",
    "camt.056.001.08": "camt.029.001.09",
    "camt.060.001.05": "camt.05",  # camt.052 or camt.053, as the request asks
    "pacs.004.001.09": "pacs.002.001.10",
    "pacs.008.001.08": "pacs.002.001.10",
    "pacs.009.001.08": "pacs.002.001.10",
    "pacs.028.001.03": "pacs.002.001.10",
}


@pytest.mark.parametrize(("name", "data"), load_seeds(), ids=[name for name, _ in load_seeds()])
def test_each_seed_reaches_its_flow(target: ReceiveTarget, name: str, data: bytes) -> None:
    sender = VTB if name.startswith("camt.029") else SBER
    seen = target.run(Case(0, 0, data, sender, JournalMode.FREE, (name,)))
    assert seen.kind.startswith(seed_answers[name[:15]]), seen
    assert seen.http_status == (202 if name.startswith("camt.029") else 200)


def test_the_seeds_cover_every_inbound_flow_and_envelope() -> None:
    names = [name for name, _ in load_seeds()]
    assert {name[:15] for name in names} == set(seed_answers)
    assert {name.split(".")[-2] for name in names} >= {
        "gateway", "saa-datapdu", "swift-busmsg", "swift-envelope", "swift-message"
    }


def test_the_check_refuses_an_answer_that_is_not_an_iso_message(target: ReceiveTarget) -> None:
    case = make_case(fuzz_seed, 0)
    target.run(case)  # journals its answer, which the reply below does not carry
    with pytest.raises(BadAnswer, match="schema-valid"):
        target.check(case, Reply(200, b"<Envelope/>", "accepted", "pacs.008.001.08"))


def test_an_exception_escaping_receive_is_a_failure(target: ReceiveTarget, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: object) -> None:
        raise AssertionError("a writer's assertion")

    monkeypatch.setattr(target.journaling, "answered", broken)
    with pytest.raises(EscapedException, match="a writer's assertion"):
        target.run(Case(0, 0, b"not xml", SBER, JournalMode.FREE, ("bytes",)))


@pytest.mark.slow  # about 20 s on one core
def test_every_mutated_input_gets_a_coded_answer(target: ReceiveTarget, tmp_path: Path) -> None:
    tally = Tally()
    failures: list[str] = []
    officially_checked: set[str] = set()
    for index in range(fuzz_inputs):
        case = make_case(fuzz_seed, index)
        tally.inputs += 1
        try:
            seen = target.run(case)
        except FuzzFailure as failure:
            tally.count(failure)
            path = save_failure(tmp_path, case, failure)
            failures.append(f"seed {fuzz_seed} index {index} ({path}): {str(failure).strip().splitlines()[-1]}")
            continue
        tally.labels |= seen.labels()
        if seen.body and seen.kind not in officially_checked:  # each kind of answer once against the official XSDs
            officially_checked.add(seen.kind)
            _assert_official(seen.body)
    assert not failures, f"{len(failures)} of {fuzz_inputs} inputs mishandled:\n" + "\n".join(failures[:20])
    # The run reached every kind of answer: refusals, and each flow's own.
    kinds = {label.split(":")[0] for label in tally.labels}
    assert kinds >= {"", "admi.002.001.01", "pacs.002.001.10", "camt.025.001.05", "camt.029.001.09",
                     "camt.052.001.08", "camt.053.001.08"}, kinds
    assert {"admi.002.001.01:RC02", "admi.002.001.01:AG01", "admi.002.001.01:FF01"} <= tally.labels


def _assert_official(body: bytes) -> None:
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    app_hdr, document = list(root)
    assert_official(etree.fromstring(etree.tostring(app_hdr)), head_001)
    message_id = MessageId.from_namespace(etree.QName(document).namespace or "")
    assert message_id is not None
    assert_official(etree.fromstring(etree.tostring(document)), message_id)


# --------------------------------------------------------------------------------------------------------------
# The first two layers alone, on bytes of any shape (Hypothesis shrinks what it finds)
# --------------------------------------------------------------------------------------------------------------

_fixtures = tuple(path.read_bytes() for path in sorted((Path(__file__).parent / "fixtures").glob("*.xml")))

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
    data = bytearray(draw(st.sampled_from(_fixtures)))
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
@given(st.one_of(st.binary(max_size=512), _mutated(), _xml_shaped, st.sampled_from(_fixtures)))
def test_parsing_and_unwrapping_never_raise(data: bytes) -> None:
    parsed = parse_bounded(data)
    if isinstance(parsed, Rejection):
        assert parsed.code == "FF01"
        return
    for allow_bare_document in (False, True):
        result = unwrap(parsed, allow_bare_document=allow_bare_document)
        assert isinstance(result, Unwrapped | Rejection)
        if isinstance(result, Rejection):
            assert result.code == "FF01"
