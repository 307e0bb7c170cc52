"""parse_bounded answers every hostile or broken input with a quick FF01 rejection and never expands an entity."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from lxml import etree

from gateway import bounds
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.safe_xml import _new_parser, element_path, parse_bounded

namespace = b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _document(body: bytes, prolog: bytes = declaration) -> bytes:
    return prolog + b'<Document xmlns="' + namespace + b'">' + body + b"</Document>"


def _rejected(data: bytes) -> Rejection:
    result = parse_bounded(data)
    assert isinstance(result, Rejection), result
    assert result.code == "FF01"
    assert result.layer is Layer.WELL_FORMEDNESS
    return result


# Accepted input.


def test_well_formed_message_gives_its_root_without_comments_or_pis() -> None:
    root = parse_bounded(_document("<!-- top --><Nm>Сбер<!-- inner -->банк<?app hint?> РФ</Nm>".encode()))
    assert not isinstance(root, Rejection)
    assert root.tag == "{urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08}Document"
    assert [child.tag for child in root.iter()] == [root.tag, root.tag.replace("Document", "Nm")]
    assert root[0].text == "Сбербанк РФ"  # the text around a stripped comment or PI is kept, joined


@pytest.mark.parametrize(
    "prolog",
    [b"", b"\xef\xbb\xbf", b"\xef\xbb\xbf" + declaration, b"<?xml version='1.0' encoding='utf-8' standalone='yes'?>"],
)
def test_utf8_bom_and_declaration_variants_are_accepted(prolog: bytes) -> None:
    assert not isinstance(parse_bounded(_document("<Nm>ВТБ</Nm>".encode(), prolog)), Rejection)


def test_message_of_exactly_the_byte_bound_is_parsed_and_one_byte_more_is_refused() -> None:
    message = _document(b"<Nm>x</Nm>")
    padding = bounds.message_bytes_max - len(message)
    assert not isinstance(parse_bounded(message + b" " * padding), Rejection)  # whitespace after the root is legal
    assert "bytes" in _rejected(message + b" " * (padding + 1)).text


# Refused before parsing.


def test_fifty_megabyte_body_is_refused() -> None:
    rejection = _rejected(_document(b"<Ustrd>" + b"A" * 50_000_000 + b"</Ustrd>"))
    assert f"at most {bounds.message_bytes_max}" in rejection.text
    assert rejection.path == ""


@pytest.mark.parametrize(
    "bad",
    [
        b"\xff",  # never valid in UTF-8
        b"\xc0\xaf",  # overlong encoding of '/'
        b"\xed\xa0\x80",  # a UTF-16 surrogate encoded as UTF-8
        b"\xd0",  # a two-byte sequence cut short
        "Рубль".encode("cp1251"),  # Windows Cyrillic sent without saying so
    ],
)
def test_invalid_utf8_is_refused(bad: bytes) -> None:
    assert "not valid UTF-8" in _rejected(_document(b"<Nm>" + bad + b"</Nm>")).text


def test_utf16_message_is_refused() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><Document xmlns="urn:x"/>'
    assert "UTF-8" in _rejected(text.encode("utf-16")).text


@pytest.mark.parametrize("encoding", [b"ISO-8859-1", b"windows-1251", b"KOI8-R", b"UTF-16", b"US-ASCII", b"UTF8"])
def test_declared_encoding_other_than_utf8_is_refused(encoding: bytes) -> None:
    prolog = b'<?xml version="1.0" encoding="' + encoding + b'"?>'
    assert "encoding" in _rejected(_document(b"<Nm>x</Nm>", prolog)).text


@pytest.mark.parametrize(
    "prolog",
    [b'<?xml version="1.1" encoding="UTF-8"?>', b'<?xml encoding="UTF-8"?>', b"<?xml version=1.0?>"],
)
def test_other_xml_versions_and_malformed_declarations_are_refused(prolog: bytes) -> None:
    _rejected(_document(b"", prolog))


def test_billion_laughs_is_refused() -> None:
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (level, b"&lol%d;" % (level - 1) * 10) for level in range(1, 10)
    )
    data = declaration + b"<!DOCTYPE Document [" + entities + b"]>" + b"<Document>&lol9;</Document>"
    assert "DOCTYPE" in _rejected(data).text


def test_quadratic_blowup_is_refused() -> None:
    # One 50,000-character entity referenced 50,000 times: 2.5 GB of text from 200 KB, with no nesting at all.
    entity = b'<!ENTITY a "' + b"a" * 50_000 + b'">'
    data = declaration + b"<!DOCTYPE Document [" + entity + b"]><Document>" + b"&a;" * 50_000 + b"</Document>"
    assert "DOCTYPE" in _rejected(data).text


@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file://{secret}">]>',
        b'<!DOCTYPE Document [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>',
        b'<!DOCTYPE Document SYSTEM "file://{secret}">',
        b'<!DOCTYPE Document [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/secret">]>',
    ],
)
def test_xxe_is_refused_and_never_leaks_the_file(tmp_path: Path, doctype: bytes) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("CBRF-MASTER-KEY-7731")
    doctype = doctype.replace(b"{secret}", str(secret).encode())
    data = declaration + doctype + b"<!-- hidden -->\n<Document>&xxe;</Document>"
    rejection = _rejected(data)
    assert "DOCTYPE" in rejection.text
    assert "CBRF-MASTER-KEY-7731" not in repr(rejection)


def test_parser_options_alone_never_read_an_external_entity(tmp_path: Path) -> None:
    """Second line of defence: were the DOCTYPE scan bypassed, the parser options still keep the file out."""
    secret = tmp_path / "secret.txt"
    secret.write_text("CBRF-MASTER-KEY-7731")
    data = b'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://%s">]><d>&xxe;</d>' % str(secret).encode()
    parser = _new_parser()
    parser.feed(data)
    root = parser.close()
    assert b"CBRF-MASTER-KEY-7731" not in etree.tostring(root.getroottree())


def test_doctype_in_the_body_is_refused() -> None:
    assert "DOCTYPE" in _rejected(_document(b"<![CDATA[<!DOCTYPE x>]]>")).text


def test_gzip_body_is_not_decompressed() -> None:
    _rejected(gzip.compress(_document(b"<Nm>x</Nm>")))


# Refused while parsing.


@pytest.mark.parametrize(
    "data",
    [
        _document(b"") + _document(b"", prolog=b""),  # two roots
        _document(b"") + b"\x00garbage",  # trailing garbage
        _document(b"") + b"trailing text",
        _document(b"<Nm>x</Nm>")[:-5],  # cut short
        _document(b"<Nm>x</Amt>"),  # mismatched tags
        _document(b"<Nm>&nbsp;</Nm>"),  # an entity nobody declared
        _document(b"<Nm>\x01</Nm>"),  # a control character XML 1.0 forbids
        _document(b'<Nm a="1" a="2"/>'),  # a repeated attribute
        _document(b"<p:Nm/>"),  # an undeclared prefix
        b"",
        b"   ",
        b"not xml at all",
    ],
)
def test_malformed_xml_is_refused(data: bytes) -> None:
    assert _rejected(data).text


def test_millions_of_comments_are_refused() -> None:
    data = _document(b"<!---->" * 1_400_000)
    assert len(data) <= bounds.message_bytes_max  # the comment bound, not the byte bound, must catch this
    assert "comments" in _rejected(data).text


def test_a_million_processing_instructions_are_refused() -> None:
    data = _document(b"<?p?>" * 1_000_000)
    assert len(data) <= bounds.message_bytes_max
    assert "processing instructions" in _rejected(data).text


def test_comments_up_to_the_bound_are_accepted() -> None:
    assert not isinstance(parse_bounded(_document(b"<!-- c -->" * bounds.xml_comments_and_pis_max)), Rejection)


def test_ten_thousand_deep_nesting_is_refused_by_our_bound() -> None:
    rejection = _rejected(_document(b"<a>" * 10_000 + b"</a>" * 10_000))
    assert f"deeper than {bounds.xml_depth_max}" in rejection.text
    assert rejection.path.count("/") == bounds.xml_depth_max + 1


def test_depth_bound_is_exact() -> None:
    inner = bounds.xml_depth_max - 1  # the Document itself is level 1
    assert not isinstance(parse_bounded(_document(b"<a>" * inner + b"</a>" * inner)), Rejection)
    _rejected(_document(b"<a>" * (inner + 1) + b"</a>" * (inner + 1)))


def test_libxml2_refuses_depth_257_by_itself_but_our_bound_is_far_lower() -> None:
    """What lxml really does with huge_tree=False: depth 256 parses, 257 fails. Only a backstop behind ours."""
    assert bounds.xml_depth_max < 256
    parser = _new_parser()
    parser.feed(b"<a>" * 256 + b"</a>" * 256)
    assert parser.close() is not None
    parser = _new_parser()
    with pytest.raises(etree.XMLSyntaxError, match="Excessive depth"):
        parser.feed(b"<a>" * 257 + b"</a>" * 257)
        parser.close()


def test_too_many_elements_are_refused() -> None:
    rejection = _rejected(_document(b"<a/>" * bounds.xml_elements_max))  # the Document makes one more
    assert f"more than {bounds.xml_elements_max} elements" in rejection.text
    assert rejection.path == f"/Document/a[{bounds.xml_elements_max}]"


def test_hundred_thousand_attributes_on_one_element_are_refused() -> None:
    attributes = b" ".join(b'a%d="x"' % index for index in range(100_000))
    assert "attributes" in _rejected(_document(b"<Nm " + attributes + b"/>")).text


def test_hundred_thousand_namespace_declarations_on_one_element_are_refused() -> None:
    declarations = b" ".join(b'xmlns:p%d="urn:p:%d"' % (index, index) for index in range(100_000))
    assert "namespace declarations" in _rejected(_document(b"<Nm " + declarations + b"/>")).text


def test_long_text_is_refused_with_the_path_of_its_element() -> None:
    too_long = b"x" * (bounds.text_chars_max + 1)
    transaction = b"<CdtTrfTxInf><RmtInf><Ustrd>%s</Ustrd></RmtInf></CdtTrfTxInf>"
    body = b"<FIToFICstmrCdtTrf>" + transaction % b"ok" + transaction % too_long + b"</FIToFICstmrCdtTrf>"
    rejection = _rejected(_document(body))
    assert rejection.path == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/RmtInf/Ustrd"
    assert "text longer" in rejection.text


def test_long_tail_and_long_attribute_value_are_refused() -> None:
    too_long = b"x" * (bounds.text_chars_max + 1)
    assert _rejected(_document(b"<Nm/>" + too_long)).path == "/Document"
    assert "attribute value" in _rejected(_document(b'<Amt Ccy="' + too_long + b'">1</Amt>')).text


def test_long_names_are_refused_and_stay_out_of_the_answer() -> None:
    name = b"N" * 100_000
    rejection = _rejected(_document(b"<" + name + b"/>"))
    assert "element name" in rejection.text
    assert len(rejection.path) < 200
    # Within libxml2's own 50,000-character name limit, so that our bound is the one that answers.
    assert "attribute name" in _rejected(_document(b"<Nm " + name[:1_000] + b'="1"/>')).text


def test_syntax_error_text_is_short_even_when_the_input_is_not() -> None:
    rejection = _rejected(_document(b"<Nm>x</" + b"M" * 40_000 + b">"))
    assert rejection.text.startswith("not well-formed XML")
    assert len(rejection.text) < 200


def test_element_path_numbers_repeated_siblings_after_the_first() -> None:
    root = parse_bounded(_document(b"<Tx><Amt/></Tx><Nm/><Tx><Amt/><Amt/></Tx>"))
    assert not isinstance(root, Rejection)
    assert [element_path(element) for element in root.iter("{*}Amt")] == [
        "/Document/Tx/Amt",
        "/Document/Tx[2]/Amt",
        "/Document/Tx[2]/Amt[2]",
    ]
