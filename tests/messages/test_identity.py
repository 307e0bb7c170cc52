"""MessageId is a value parsed from dotted ids and namespaces; an unknown namespace is a typed FF01 rejection."""

from __future__ import annotations

import pytest

from gateway import bounds
from gateway.messages.identity import (
    MessageId,
    app_hdr_message_id_default,
    app_hdr_message_ids,
    supported_message_id,
    supported_message_ids,
)
from gateway.messages.rejections import Layer, Rejection, excerpt


def test_dotted_id_parses_into_parts_and_prints_back() -> None:
    message_id = MessageId.parse("pacs.008.001.08")
    assert message_id == MessageId(business_area="pacs", number="008", variant="001", version="08")
    assert str(message_id) == "pacs.008.001.08"
    assert message_id.namespace == "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"


def test_namespace_parses_to_the_same_value() -> None:
    namespace = "urn:iso:std:iso:20022:tech:xsd:camt.056.001.08"
    assert MessageId.from_namespace(namespace) == MessageId.parse("camt.056.001.08")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "pacs.008.001",
        "pacs.008.001.08.ch.01",  # scheme suffix, as in a Swiss MsgDefIdr
        " pacs.008.001.08",
        "pacs.008.001.08\n",
        "PACS.008.001.08",
        "pacs.٠٠٨.001.08",  # Arabic-Indic digits: \d would have taken them
        "pacs-008-001-08",
    ],
)
def test_anything_else_is_not_a_message_id(text: str) -> None:
    assert MessageId.parse(text) is None


@pytest.mark.parametrize(
    "namespace",
    ["urn:swift:xsd:pacs.008.001.08", "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08.ch.02", "", "urn:tch"],
)
def test_non_iso_namespaces_have_no_message_id(namespace: str) -> None:
    assert MessageId.from_namespace(namespace) is None


def test_supported_set_is_the_seventeen_agreed_versions() -> None:
    assert sorted(str(message_id) for message_id in supported_message_ids) == [
        "admi.002.001.01",
        "camt.025.001.05",
        "camt.029.001.09",
        "camt.050.001.05",
        "camt.052.001.08",
        "camt.053.001.08",
        "camt.054.001.08",
        "camt.056.001.08",
        "camt.060.001.05",
        "head.001.001.01",
        "head.001.001.02",
        "head.001.001.03",
        "pacs.002.001.10",
        "pacs.004.001.09",
        "pacs.008.001.08",
        "pacs.009.001.08",
        "pacs.028.001.03",
    ]
    assert sorted(map(str, app_hdr_message_ids)) == ["head.001.001.01", "head.001.001.02", "head.001.001.03"]
    assert app_hdr_message_ids <= supported_message_ids
    assert str(app_hdr_message_id_default) == "head.001.001.02"


def test_supported_namespace_gives_its_message_id() -> None:
    result = supported_message_id("urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10", "/Document")
    assert result == MessageId.parse("pacs.002.001.10")


@pytest.mark.parametrize(
    ("namespace", "words"),
    [
        ("urn:iso:std:iso:20022:tech:xsd:pacs.008.001.09", "pacs.008.001.09 is not supported"),
        ("urn:swift:xsd:pacs.008.001.08", "not an ISO 20022 message namespace"),
        ("", "not an ISO 20022 message namespace"),
    ],
)
def test_unknown_namespace_is_a_typed_rejection(namespace: str, words: str) -> None:
    result = supported_message_id(namespace, "/Envelope/Document")
    assert isinstance(result, Rejection)
    assert (result.code, result.path, result.layer) == ("FF01", "/Envelope/Document", Layer.SCHEMA)
    assert words in result.text


def test_untrusted_text_is_quoted_and_cut_short() -> None:
    assert excerpt("urn:x") == "'urn:x'"
    long = excerpt("x" * 1_000_000)
    assert long.endswith("...")
    assert len(long) <= bounds.rejection_excerpt_chars_max + 5
