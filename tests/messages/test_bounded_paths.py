"""parse_bounded's proven path never accepts what the watched path refuses, and both give the same answer near every bound."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway import bounds
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import (
    _compiled_tree_check,
    _new_proven_parser,
    _not_utf8,
    _parse_proven,
    _parse_watched,
    _refuse_before_parsing,
    _too_deep,
    _too_many_attributes,
    parse_bounded,
)
from tests.corpus import in_ci

namespace = b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'
fixtures = Path(__file__).parent / "fixtures"
_seeds = tuple(path.read_bytes() for path in sorted(fixtures.glob("*.xml")))


def _document(body: bytes, prolog: bytes = declaration, attributes: bytes = b"") -> bytes:
    return prolog + b'<Document xmlns="' + namespace + b'"' + attributes + b">" + body + b"</Document>"


def _watched(data: bytes) -> etree._Element | Rejection:
    """The reference: the event-by-event path alone, as parse_bounded ran before the proven path existed."""
    return _refuse_before_parsing(data) or _not_utf8(data) or _parse_watched(data)


def _verdicts(data: bytes) -> tuple[etree._Element | Rejection, bool]:
    """parse_bounded's answer, checked against the watched path's, and whether the proven path gave it. Whenever the
    proven path accepts, the watched path accepts the same tree."""
    answer = parse_bounded(data)
    reference = _watched(data)
    proven = None if _refuse_before_parsing(data) is not None else _parse_proven(data)
    if isinstance(reference, Rejection):
        assert answer == reference
        assert proven is None, f"the proven path accepted what the watched path refuses: {reference.text}"
    else:
        assert not isinstance(answer, Rejection), answer
        assert etree.tostring(answer) == etree.tostring(reference)
        if proven is not None:
            assert etree.tostring(proven) == etree.tostring(reference)
    return answer, proven is not None


def _accepted(data: bytes, *, proven: bool | None = None) -> etree._Element:
    answer, was_proven = _verdicts(data)
    assert not isinstance(answer, Rejection), answer
    if proven is not None:
        assert was_proven is proven
    return answer


def _refused(data: bytes, words: str) -> Rejection:
    answer, _ = _verdicts(data)
    assert isinstance(answer, Rejection), "accepted"
    assert words in answer.text, answer.text
    return answer


# The bypass this file's first tests pin down: text split by a comment was measured piece by piece.


@pytest.mark.parametrize(
    "splitter", [b"<!---->", b"<!-- a comment -->", b"<?pi?>", b"<?pi with data?>", b"<!----><?pi?><!---->"]
)
def test_text_split_by_comments_or_pis_is_measured_joined(splitter: bytes) -> None:
    half = bounds.text_chars_max
    data = b"<a>" + b"x" * half + splitter + b"y" * half + b"</a>"
    rejection = _refused(data, f"text longer than {bounds.text_chars_max} characters")
    assert rejection.path == "/a"


def test_tail_split_by_a_comment_is_measured_joined() -> None:
    half = bounds.text_chars_max // 2 + 1
    body = b"<Nm/>" + b"x" * half + b"<!---->" + b"y" * half + b"<Nm/>"
    assert _refused(_document(body), "text longer").path == "/Document"


def _words(chars: int) -> bytes:
    """Text of `chars` characters in short words: a long unbroken run would look like a long name to the byte scan,
    which would then leave the message to the watched path."""
    return (b"word " * (chars // 5 + 1))[:chars]


def test_text_split_up_to_the_bound_is_accepted_joined() -> None:
    half = bounds.text_chars_max // 2
    root = _accepted(_document(b"<Nm>" + _words(half) + b"<!-- c --><?p?>" + _words(half) + b"</Nm>"), proven=True)
    assert root[0].text == (_words(half) * 2).decode()
    _refused(_document(b"<Nm>" + _words(half) + b"<!-- c --><?p?>" + _words(half + 1) + b"</Nm>"), "text longer")


def test_cdata_joins_its_text_and_counts_with_it() -> None:
    half = bounds.text_chars_max // 2
    _accepted(_document(b"<Nm>" + _words(half) + b"<![CDATA[" + _words(half) + b"]]></Nm>"), proven=True)
    _refused(_document(b"<Nm>" + _words(half) + b"<![CDATA[" + _words(half + 1) + b"]]></Nm>"), "text longer")


def test_long_unbroken_text_is_left_to_the_watched_path() -> None:
    _accepted(_document(b"<Nm>" + b"x" * (bounds.xml_name_chars_max + 1) + b"</Nm>"), proven=False)


# Each bound, just within and just beyond, with the path that answers.


def test_depth() -> None:
    inner = bounds.xml_depth_max - 1  # the Document is level 1
    _accepted(_document(b"<a>" * inner + b"</a>" * inner), proven=True)
    _refused(_document(b"<a>" * (inner + 1) + b"</a>" * (inner + 1)), "deeper than")


def test_element_count() -> None:
    # Proven while the count of '<' bounds the elements; the watched path answers near the bound itself.
    _accepted(_document(b"<a/>" * (bounds.xml_elements_max // 2)), proven=True)
    _accepted(_document(b"<a/>" * (bounds.xml_elements_max - 1)), proven=False)
    _refused(_document(b"<a/>" * bounds.xml_elements_max), "elements")


@pytest.mark.parametrize("prolog", [declaration, b""])
def test_comments_and_pis(prolog: bytes) -> None:
    most = bounds.xml_comments_and_pis_max
    half = most // 2
    _accepted(_document(b"<!-- c -->" * half + b"<?p?>" * (most - half), prolog))
    _refused(_document(b"<!-- c -->" * half + b"<?p?>" * (most - half + 1), prolog), "comments and processing")
    # Outside the root, too.
    _refused(prolog + b"<!---->" * (most + 1) + b"<Document/>", "comments and processing")


def test_comments_without_a_declaration_are_proven_up_to_the_bound() -> None:
    _accepted(_document(b"<!---->" * bounds.xml_comments_and_pis_max, prolog=b""), proven=True)


@pytest.mark.parametrize(
    ("name", "within"),
    [
        ("N" * bounds.xml_name_chars_max, True),
        ("N" * (bounds.xml_name_chars_max + 1), False),
        ("Ж" * bounds.xml_name_chars_max, True),  # two bytes a character: the byte scan doubts, the watch accepts
        ("Ж" * (bounds.xml_name_chars_max + 1), False),
    ],
)
def test_element_and_attribute_names(name: str, within: bool) -> None:
    encoded = name.encode()
    element = _document(b"<" + encoded + b"/>")
    prefixed = _document(b'<p:' + encoded + b' xmlns:p="urn:p"/>')
    attribute = _document(b"<Nm " + encoded + b'="1"/>')
    prefixed_attribute = _document(b'<Nm xmlns:p="urn:p" p:' + encoded + b'="1"/>')
    for data, words in (
        (element, "element name"),
        (prefixed, "element name"),
        (attribute, "attribute name"),
        (prefixed_attribute, "attribute name"),
    ):
        if within:
            _accepted(data)
        else:
            _refused(data, words)


def test_ascii_names_at_the_bound_are_proven() -> None:
    _accepted(_document(b"<" + b"N" * bounds.xml_name_chars_max + b' a="1"/>'), proven=True)


def test_attributes_per_element() -> None:
    most = bounds.attributes_per_element_max

    def attributes(count: int) -> bytes:
        return b"".join(b' a%d="v"' % index for index in range(count))

    _accepted(_document(b"<Nm" + attributes(most) + b"/>"), proven=True)
    _accepted(_document(b"<Nm" + attributes(most) + b"/>" * 3), proven=True)
    _refused(_document(b"<Nm" + attributes(most + 1) + b"/>"), "attributes on one element")
    _refused(_document(b"<Nm/><Nm" + attributes(most + 1) + b"/>"), "attributes on one element")
    _accepted(_document(b"<Nm/>", attributes=attributes(most)), proven=True)


def test_namespace_declarations_per_element() -> None:
    most = bounds.namespace_declarations_per_element_max

    def declarations(count: int) -> bytes:
        return b"".join(b' xmlns:p%d="urn:p:%d"' % (index, index) for index in range(count))

    # The Document declares one: its siblings' count is the bound less one.
    _accepted(_document(b"<Nm" + declarations(most) + b"/>"), proven=False)
    _refused(_document(b"<Nm" + declarations(most + 1) + b"/>"), "namespace declarations")
    _accepted(_document(b"<Nm" + declarations(most - 1) + b"/>"), proven=True)


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_attribute_values(extra: int) -> None:
    chars = bounds.text_chars_max + extra
    plain = _document(b'<Amt Ccy="' + b"x" * chars + b'">1</Amt>')
    # References: more bytes than characters, which is what the watched path counts.
    referenced = _document(b'<Amt Ccy="' + b"&amp;" * chars + b'">1</Amt>')
    for data in (plain, referenced):
        if extra <= 0:
            _accepted(data)
        else:
            _refused(data, "attribute value longer")


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_texts_and_tails(extra: int) -> None:
    chars = bounds.text_chars_max + extra
    for data in (
        _document(b"<Nm>" + b"x" * chars + b"</Nm>"),
        _document(b"<Nm>" + "Ж".encode() * chars + b"</Nm>"),
        _document(b"<Nm>" + b"&#x416;" * chars + b"</Nm>"),
        _document(b"<Nm/>" + b"x" * chars),
    ):
        if extra <= 0:
            _accepted(data)
        else:
            _refused(data, "text longer")


def test_large_plain_message_is_proven() -> None:
    transaction = "<CdtTrfTxInf><Nm>ООО «Северный ветер»</Nm><Amt Ccy='RUB'>1.00</Amt></CdtTrfTxInf>".encode()
    data = _document(transaction * 10_000)
    assert len(data) > 4 * bounds.parse_chunk_bytes
    _accepted(data, proven=True)


@pytest.mark.parametrize("offset", [-3, -2, -1, 0, 1])
def test_chunk_boundaries_give_the_same_tree(offset: int) -> None:
    """The proven path feeds the message at once, the watched path in chunks: markup and characters that straddle a
    chunk boundary give the same answer."""
    for piece in ("Ж€".encode(), b"<!-- straddling -->", b"<![CDATA[a]]b]]>", b"<?pi straddling?>", b"&amp;"):
        head = _document(b"<Nm>")[: -len(b"</Document>")]
        padding = bounds.parse_chunk_bytes + offset - len(head)
        data = head + b"x" * padding + piece + b"</Nm></Document>"
        _accepted(data)


@pytest.mark.parametrize("bad", [b"\xff", b"\xd0", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80"])
@pytest.mark.parametrize("offset", [-3, -1, 0, 1])
def test_invalid_utf8_is_refused_at_its_byte_across_chunks(bad: bytes, offset: int) -> None:
    """UTF-8 is checked a chunk at a time: a broken character on a chunk boundary is found, and reported where a
    whole decode reports it."""
    head = _document(b"<Nm>")[: -len(b"</Document>")]
    data = head + b"x" * (bounds.parse_chunk_bytes + offset - len(head)) + bad + b"</Nm></Document>"
    with pytest.raises(UnicodeDecodeError) as expected:
        data.decode("utf-8")
    assert _refused(data, "not valid UTF-8").text.startswith(f"not valid UTF-8 at byte {expected.value.start}:")


def test_the_compiled_tree_check_is_built_where_ci_runs() -> None:
    if _compiled_tree_check is None:
        if in_ci:
            pytest.fail("gateway.messages._tree_bounds was not built by the install")
        pytest.skip("the compiled tree check is not built here (no C compiler at install time): XPath checks the tree")


@st.composite
def _shaped_trees(draw: st.DrawFn) -> etree._Element:
    """Trees near the depth and attribute bounds: a random spine, with random side branches and attributes."""
    depth = draw(st.integers(1, bounds.xml_depth_max + 3))
    root = etree.Element("{urn:x}D")
    node = root
    for level in range(2, depth + 1):
        for _ in range(draw(st.integers(0, 2))):  # side branches, some with children of their own
            side = etree.SubElement(node, "{urn:x}S")
            if draw(st.booleans()):
                etree.SubElement(side, "{urn:x}T").text = "t"
        node = etree.SubElement(node, "{urn:x}E" if level % 3 else "E")
        node.text = "x"
    holder = draw(st.sampled_from(list(root.iter())))
    for index in range(draw(st.integers(0, bounds.attributes_per_element_max + 2))):
        holder.set(f"a{index}" if index % 2 else f"{{urn:y}}a{index}", "v")
    return root


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_shaped_trees())
def test_the_compiled_tree_check_answers_as_xpath_does(root: etree._Element) -> None:
    if _compiled_tree_check is None:
        pytest.skip("the compiled tree check is not built here")
    expected = bool(_too_deep(root)) or bool(_too_many_attributes(root))
    assert _compiled_tree_check(root, bounds.xml_depth_max, bounds.attributes_per_element_max) is expected


# Malformed UTF-8 of every kind: bytes never used, overlong forms, UTF-16 surrogates, beyond U+10FFFF, the old 5- and
# 6-byte forms, lone continuation bytes, sequences cut short or broken by an ASCII byte.
_malformed_utf8 = (
    b"\xff", b"\xfe", b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xf0\x80\x80\x80",
    b"\xf0\x8f\xbf\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
    b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80", b"\x80", b"\xbf", b"\xe2\x82", b"\xd0", b"\xc3\x28",
)  # fmt: skip
# Everywhere a byte may stand in a message: text, an attribute value, a comment, CDATA, a PI, a name.
_utf8_positions = (
    b"<Nm>%s</Nm>", b"<Nm>\xd0\x96%s\xd0\x96</Nm>", b'<Nm Ccy="%s">x</Nm>', b"<Nm><!--%s-->x</Nm>",
    b"<Nm><![CDATA[%s]]></Nm>", b"<Nm><?pi %s?>x</Nm>", b"<Nm%s>x</Nm>", b'<Nm a%s="1">x</Nm>',
)  # fmt: skip


@pytest.mark.parametrize("bad", _malformed_utf8)
@pytest.mark.parametrize("position", _utf8_positions)
def test_the_proven_path_never_accepts_malformed_utf8(bad: bytes, position: bytes) -> None:
    """parse_bounded leaves UTF-8 to libxml2 on the proven path and names the bad byte only when that path refuses
    the message: libxml2 must refuse every malformed sequence, wherever it stands."""
    data = _document(position % bad)
    assert _refuse_before_parsing(data) is None
    assert _parse_proven(data) is None
    with pytest.raises(UnicodeDecodeError) as expected:
        data.decode("utf-8")
    assert _refused(data, "not valid UTF-8").text.startswith(f"not valid UTF-8 at byte {expected.value.start}:")


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(min_value=1, max_value=3 * bounds.parse_chunk_bytes // 64))
def test_utf8_checked_in_chunks_is_utf8_checked_whole(pattern: bytes, repeats: int) -> None:
    data = pattern * repeats
    try:
        data.decode("utf-8")
        whole = None
    except UnicodeDecodeError as error:
        whole = error.start
    refused = _not_utf8(data)
    if whole is None:
        assert refused is None or not refused.text.startswith("not valid UTF-8")
    else:
        assert refused is not None and refused.text.startswith(f"not valid UTF-8 at byte {whole}:")


def test_the_proven_parser_never_reads_an_external_entity(tmp_path: Path) -> None:
    """As for the watched path's parser: were the DOCTYPE scan bypassed, the options still keep the file out."""
    secret = tmp_path / "secret.txt"
    secret.write_text("CBRF-MASTER-KEY-7731")
    data = b'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://%s">]><d>&xxe;</d>' % str(secret).encode()
    parser = _new_proven_parser()
    parser.feed(data)
    root = parser.close()
    assert b"CBRF-MASTER-KEY-7731" not in etree.tostring(root.getroottree())


def test_every_fixture_is_proven() -> None:
    for data in _seeds:
        _accepted(data, proven=True)


# Random documents near every bound at once, and mutated real messages.


@st.composite
def _near_bounds(draw: st.DrawFn) -> bytes:
    """A document whose every bounded quantity is drawn around its bound, rarely far below it."""

    def around(bound: int, low: int = 0) -> int:
        return draw(st.one_of(st.integers(low, 3), st.integers(max(low, bound - 2), bound + 2)))

    name_chars = around(bounds.xml_name_chars_max, low=1)
    name = draw(st.sampled_from(["N", "Ж", "a-b."])) * name_chars
    prefix = draw(st.sampled_from(["", "p:"]))
    declarations = b"".join(
        b' xmlns:q%d="urn:q"' % index for index in range(around(bounds.namespace_declarations_per_element_max))
    )
    attributes = b"".join(b' a%d="v"' % index for index in range(around(bounds.attributes_per_element_max)))
    value = draw(st.sampled_from([b"v", b"&amp;", "Ж".encode()])) * draw(
        st.one_of(st.just(1), st.integers(bounds.text_chars_max - 1, bounds.text_chars_max + 1))
    )
    text_chars = draw(st.one_of(st.just(3), st.integers(bounds.text_chars_max - 2, bounds.text_chars_max + 2)))
    cut = draw(st.integers(0, text_chars))
    splitter = draw(st.sampled_from([b"", b"<!---->", b"<?p?>", b"<![CDATA[]]>", b"<![CDATA[z]]>"]))
    words = draw(st.sampled_from([_words, lambda chars: b"t" * chars, lambda chars: "Ж".encode() * chars]))
    text = words(cut) + splitter + words(text_chars - cut)
    depth = around(bounds.xml_depth_max, low=1)
    comments = b"<!---->" * draw(st.one_of(st.integers(0, 2), st.integers(bounds.xml_comments_and_pis_max - 1, 1002)))
    element = (
        b"<" + f"{prefix}{name}".encode() + b' xmlns:p="urn:p"' + declarations + attributes + b' v="' + value + b'">'
    )
    body = b"<x>" * (depth - 1) + element + text + b"</" + f"{prefix}{name}".encode() + b">" + b"</x>" * (depth - 1)
    return draw(st.sampled_from([declaration, b""])) + b"<r>" + comments + body + b"</r>"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_near_bounds())
def test_both_paths_agree_near_every_bound(data: bytes) -> None:
    _verdicts(data)


_fragments = (
    b"<!---->",
    b"<?p?>",
    b"<![CDATA[<>&]]>",
    b"<a>",
    b"</a>",
    b"<a/>",
    b' x="1"',
    b' xmlns:z="urn:z"',
    b"&amp;",
    b"&#x416;",
    "Рубль".encode(),
    b"N" * (bounds.xml_name_chars_max - 1),
    b"<" + b"N" * bounds.xml_name_chars_max + b"/>",
    b"\xff",
)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_seeds)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=len(data)))
        action = draw(st.sampled_from(("insert", "delete", "repeat")))
        if action == "insert":
            data[position:position] = draw(st.sampled_from(_fragments))
        elif action == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=32))]
        else:  # a piece repeated until it nears a bound
            piece = bytes(data[position : position + draw(st.integers(min_value=1, max_value=16))])
            data[position:position] = piece * draw(st.integers(min_value=1, max_value=8_000))
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_mutated())
def test_both_paths_agree_on_mutated_messages(data: bytes) -> None:
    _verdicts(data)
