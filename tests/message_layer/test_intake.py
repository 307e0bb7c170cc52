"""intake runs its layers in order, stops at the first failing one with that layer's rejections, and never raises."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import bounds
from gateway.messages.commands import CreditTransfer, StatusRequest
from gateway.messages.intake import Accepted, Refused, intake
from gateway.messages.rejections import Layer
from gateway.messages.schemas import SchemaSet
from tests.message_layer.support import (
    accepted,
    context,
    edited,
    fixture,
    message_fixtures,
    pacs_008,
    refused,
    repo_root,
    sberbank,
    schema_fixtures,
)

enveloped = "pacs.008.001.08-gateway-envelope.xml"
on_day = context(date(2025, 3, 14))


def test_accepted_carries_command_header_and_version() -> None:
    result = accepted(fixture(enveloped), on_day)
    assert isinstance(result.command, CreditTransfer)
    assert result.header is not None and result.header.from_bic == sberbank
    assert result.message_id == pacs_008


def test_bare_document_is_accepted_only_where_allowed() -> None:
    data = fixture("pacs.028.001.03-bare-document.xml")
    result = accepted(data, on_day)
    assert isinstance(result.command, StatusRequest) and result.header is None
    refusal = intake(data, allow_bare_document=False, context=on_day)
    assert isinstance(refusal, Refused) and refusal.rejections[0].layer is Layer.SCHEMA


def _layer_of(data: bytes) -> Layer:
    result = refused(data, on_day)
    (layer,) = {rejection.layer for rejection in result.rejections}
    return layer


def test_each_layer_answers_with_its_own_layer() -> None:
    good = fixture(enveloped)
    assert _layer_of(good[:-20]) is Layer.WELL_FORMEDNESS
    assert _layer_of(edited(good, "<MsgDefIdr>pacs.008.001.08<", "<MsgDefIdr>pacs.009.001.08<")) is Layer.SCHEMA
    assert _layer_of(edited(good, "<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>two</NbOfTxs>")) is Layer.SCHEMA
    assert _layer_of(edited(good, ">625000.50<", ">625000.505<")) is Layer.READ
    assert _layer_of(edited(good, "<SttlmMtd>CLRG<", "<SttlmMtd>COVE<")) is Layer.USAGE_GUIDELINE
    assert _layer_of(edited(good, "<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>3</NbOfTxs>")) is Layer.BUSINESS


def test_first_failing_layer_wins() -> None:
    # A usage-guideline failure (COVE) and a business one (NbOfTxs) together: only the first layer answers.
    data = edited(fixture(enveloped), "<SttlmMtd>CLRG<", "<SttlmMtd>COVE<")
    data = edited(data, "<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>3</NbOfTxs>")
    result = refused(data, on_day)
    assert [(r.code, r.layer) for r in result.rejections] == [("AG03", Layer.USAGE_GUIDELINE)]
    assert isinstance(result.command, CreditTransfer)  # read, so that the answer can go transaction by transaction
    assert result.header is not None and result.reference == "SABR20250314-000117"


def test_refusal_quotes_the_reference_even_before_the_schema_passes() -> None:
    data = edited(fixture(enveloped), "<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>two</NbOfTxs>")
    assert refused(data, on_day).reference == "SABR20250314-000117"  # AppHdr/BizMsgIdr
    bare = edited(fixture("pacs.028.001.03-bare-document.xml"), "<OrgnlUETR>", "<OrgnlUETR>X")
    assert refused(bare, on_day).reference == "CBRF-STSREQ-20250314-0009"  # GrpHdr/MsgId
    assert refused(b"not xml", on_day).reference is None


def test_rejections_per_refusal_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    data = edited(fixture(enveloped), '<IntrBkSttlmAmt Ccy="RUB">', '<IntrBkSttlmAmt Ccy="USD">', count=2)
    assert len(refused(data, on_day).rejections) == 2
    monkeypatch.setattr(bounds, "rejections_per_refusal_max", 1)
    assert [r.path for r in refused(data, on_day).rejections] == [
        "/Envelope/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmAmt"
    ]


def test_schemas_can_be_passed_in() -> None:
    schemas = SchemaSet.load(repo_root / "xsd")
    result = intake(fixture(enveloped), allow_bare_document=False, context=on_day, schemas=schemas)
    assert isinstance(result, Accepted)


_seeds = tuple(
    path.read_bytes()
    for folder in (schema_fixtures, message_fixtures)
    for path in sorted(folder.glob("*.xml"))
    if path.name.split("-")[0].startswith(("pacs", "head", "admi"))
)
_pieces = (b"<", b"/>", b"0.001", b"-1", b"RUB", b"USD", b"XXX", b"2026-13-01", b"12026-01-01", b"", b" ", b"\xd0")


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_seeds)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=len(data)))
        span = draw(st.integers(min_value=0, max_value=40))
        data[position : position + span] = draw(st.sampled_from(_pieces) | st.binary(max_size=3))
    return bytes(data)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_mutated(), st.sampled_from(_seeds)))
def test_intake_never_raises(data: bytes) -> None:
    result = intake(data, allow_bare_document=True, context=on_day)
    assert isinstance(result, Accepted | Refused)
    if isinstance(result, Refused):
        assert len({rejection.layer for rejection in result.rejections}) == 1


def test_fixture_folders_exist() -> None:
    assert Path(schema_fixtures).is_dir() and Path(message_fixtures).is_dir() and len(_seeds) >= 15
