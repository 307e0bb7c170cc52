"""FieldPaths: the compiled reader and its pure-Python twin give the same values, and both give what walking the tree
through lxml one step at a time gives, for any tree the bounded parser can produce."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.messages.readers.field_paths import FieldPaths, compiled_read, read_python
from gateway.messages.safe_xml import parse_bounded
from tests.corpus import in_ci

namespace = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
other_namespace = "urn:example:other"
_names = ("PmtId", "InstrId", "Amt", "Nm", "Ж")  # a non-ASCII name in the tree: paths never name it
_path_names = _names[:-1]


def test_the_compiled_reader_is_built_where_ci_runs() -> None:
    """CI installs the project as the README says, which builds the compiled reader; elsewhere, without a compiler,
    the pure-Python twin reads."""
    if compiled_read is None:
        if in_ci:
            pytest.fail("gateway.messages.readers._field_paths was not built by the install")
        pytest.skip("the compiled reader is not built here (no C compiler at install time): the Python twin reads")


def _reference(element: etree._Element, path: str) -> str | None:
    """The value a path leads to, found the plain way: the first child of each name, in the element's namespace."""
    prefix = element.tag.partition("}")[0] + "}" if element.tag.startswith("{") else ""
    node: etree._Element = element
    for name in path.split("/"):
        if name.startswith("@"):
            return node.get(name[1:])
        matches = [child for child in node if child.tag == prefix + name]
        if not matches:
            return None
        node = matches[0]
    return node.text or ""


def _read_both(paths: FieldPaths, element: etree._Element) -> tuple[str | None, ...]:
    python = read_python(element, paths.tree, len(paths.names))
    if compiled_read is not None:
        assert compiled_read(element, paths.steps) == python
    assert paths.read(element) == python
    return python


def test_a_payment_reads_as_written() -> None:
    data = (
        f'<Document xmlns="{namespace}" xmlns:o="{other_namespace}"><CdtTrfTxInf>'
        "<PmtId><InstrId>I-1</InstrId><EndToEndId>E&amp;E</EndToEndId><o:TxId>not ours</o:TxId></PmtId>"
        '<IntrBkSttlmAmt Ccy="RUB" o:Ccy="USD">10.50</IntrBkSttlmAmt>'
        "<DbtrAgt><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></DbtrAgt>"
        "<Nm>first<!-- split -->half</Nm><Nm>second</Nm><Empty/>"
        "<Ustrd><![CDATA[a<b]]> and c</Ustrd></CdtTrfTxInf></Document>"
    ).encode()
    root = parse_bounded(data)
    assert isinstance(root, etree._Element)
    paths = FieldPaths(
        "PmtId/InstrId",
        "PmtId/EndToEndId",
        "PmtId/TxId",
        "IntrBkSttlmAmt",
        "IntrBkSttlmAmt/@Ccy",
        "DbtrAgt/FinInstnId/BICFI",
        "DbtrAgt/FinInstnId/ClrSysMmbId/MmbId",
        "DbtrAgt",
        "Nm",
        "Empty",
        "Ustrd",
        "Missing/Deeper",
        "PmtId/@Ccy",
    )
    values = _read_both(paths, root[0])
    assert values == (
        "I-1",
        "E&E",
        None,  # a TxId in another namespace is not this message's
        "10.50",
        "RUB",  # the attribute in no namespace, not o:Ccy
        "SABRRUMMXXX",
        None,
        "",  # there, holding elements only
        "firsthalf",  # the first Nm, its text joined where a comment was dropped
        "",
        "a<b and c",
        None,
        None,
    )


def test_text_split_into_several_nodes_is_joined() -> None:
    """The watched parse path strips comments after parsing, which leaves neighbouring text nodes apart."""
    parser = etree.XMLParser(remove_comments=False, strip_cdata=True)
    root = etree.fromstring(f'<D xmlns="{namespace}"><Nm>a<!--x-->b<!--y--><![CDATA[c]]></Nm></D>'.encode(), parser)
    etree.strip_elements(root, etree.Comment, with_tail=False)
    assert _read_both(FieldPaths("Nm"), root) == ("abc",)


@st.composite
def _trees(draw: st.DrawFn) -> etree._Element:
    def element(depth: int) -> str:
        name = draw(st.sampled_from(_names))
        prefix = draw(st.sampled_from(["", "", "", "o:"]))  # now and then in another namespace
        attributes = draw(st.sampled_from(["", ' Ccy="RUB"', ' o:Ccy="X"', ' Ccy=""', ' Ccy="a&amp;b"']))
        parts = []
        for _ in range(draw(st.integers(0, 3 if depth < 4 else 0))):
            parts.append(draw(st.sampled_from(["", "text", "Рубль", "&lt;", "<!--c-->", "<![CDATA[d]]>", " "])))
            parts.append(element(depth + 1))
        parts.append(draw(st.sampled_from(["", "tail", "<!--c-->t"])))
        return f"<{prefix}{name}{attributes}>{''.join(parts)}</{prefix}{name}>"

    keep_comments = draw(st.booleans())
    data = f'<Document xmlns="{namespace}" xmlns:o="{other_namespace}">{element(0)}</Document>'.encode()
    parser = etree.XMLParser(remove_comments=not keep_comments, strip_cdata=True, resolve_entities=False)
    root = etree.fromstring(data, parser)
    if keep_comments:
        etree.strip_elements(root, etree.Comment, with_tail=False)
    return root


_paths = st.lists(
    st.builds(
        lambda names, attribute: "/".join(names) + ("/@Ccy" if attribute else ""),
        st.lists(st.sampled_from(_path_names), min_size=1, max_size=5),
        st.booleans(),
    ),
    min_size=1,
    max_size=8,
    unique=True,
)


@settings(max_examples=400, deadline=None)
@given(_trees(), _paths)
def test_every_reader_agrees_on_any_tree(root: etree._Element, paths: list[str]) -> None:
    field_paths = FieldPaths(*paths)
    expected = tuple(_reference(root, path) for path in paths)
    assert _read_both(field_paths, root) == expected
