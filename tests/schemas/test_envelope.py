"""The gateway envelope holds exactly one valid AppHdr, then one valid Document of a supported message, nothing else."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from lxml import etree

from tests.schemas.harness import (
    app_hdr_messages,
    document_messages,
    envelope,
    envelope_app_hdr_fixture,
    envelope_document_fixture,
    envelope_namespace,
    envelope_schema,
    envelope_xsd,
    fixture_named,
    namespace_of,
    parse_file,
)

Build = Callable[[etree._Element, etree._Element], etree._Element]


def _app_hdr() -> etree._Element:
    return fixture_named(envelope_app_hdr_fixture).root()


def _document() -> etree._Element:
    return fixture_named(envelope_document_fixture).root()


def _header(name: str) -> Build:
    """A case whose AppHdr is the fixture `name` (another version of the header) beside the usual Document."""
    return lambda h, d: _bare(fixture_named(name).root(), d)


def _camt052() -> etree._Element:
    return fixture_named("camt.052.001.08-cbrf-intraday-sberbank-wallet.xml").root()


def _renamespaced(element: etree._Element, namespace: str) -> etree._Element:
    result = copy.deepcopy(element)
    old = etree.QName(result).namespace
    for child in result.iter(etree.Element):
        if etree.QName(child).namespace == old:
            child.tag = f"{{{namespace}}}{etree.QName(child).localname}"
    return result


def _bare(*children: etree._Element, text: str | None = None) -> etree._Element:
    root = etree.Element(f"{{{envelope_namespace}}}Envelope", nsmap={None: envelope_namespace})
    root.text = text
    for child in children:
        root.append(copy.deepcopy(child))
    return root


def _without(element: etree._Element, local_name: str) -> etree._Element:
    result = copy.deepcopy(element)
    target = next(e for e in result.iter(etree.Element) if etree.QName(e).localname == local_name)
    target.getparent().remove(target)
    return result


def _with_attribute(root: etree._Element) -> etree._Element:
    root.set("Version", "1")
    return root


def _in_namespace(root: etree._Element, namespace: str) -> etree._Element:
    root.tag = f"{{{namespace}}}Envelope"
    return root


cases: dict[str, tuple[Build, bool]] = {
    "AppHdr then Document": (lambda h, d: _bare(h, d), True),
    "Document then AppHdr": (lambda h, d: _bare(d, h), False),
    "AppHdr alone": (lambda h, d: _bare(h), False),
    "Document alone": (lambda h, d: _bare(d), False),
    "empty": (lambda h, d: _bare(), False),
    "two Documents": (lambda h, d: _bare(h, d, d), False),
    "two AppHdrs then Document": (lambda h, d: _bare(h, h, d), False),
    "AppHdr in the Document's place": (lambda h, d: _bare(h, h), False),
    "an extra element after the Document": (
        lambda h, d: _bare(h, d, etree.Element(f"{{{envelope_namespace}}}Trailer")),
        False,
    ),
    "text between the elements": (lambda h, d: _bare(h, d, text="payload"), False),
    "an attribute on Envelope": (lambda h, d: _with_attribute(_bare(h, d)), False),
    "Envelope in another namespace": (
        lambda h, d: _in_namespace(_bare(h, d), "urn:cryptoruble:gateway:envelope:2"),
        False,
    ),
    "Document of an unsupported message (pacs.003.001.08)": (
        lambda h, d: _bare(h, _renamespaced(d, namespace_of("pacs.003.001.08"))),
        False,
    ),
    "Document of an unsupported version (pacs.008.001.09)": (
        lambda h, d: _bare(h, _renamespaced(d, namespace_of("pacs.008.001.09"))),
        False,
    ),
    "pacs.008 content under the pacs.009 namespace": (
        lambda h, d: _bare(h, _renamespaced(d, namespace_of("pacs.009.001.08"))),
        False,
    ),
    "camt.052 report under the camt.053 namespace (its statement twin)": (
        lambda h, d: _bare(h, _renamespaced(_camt052(), namespace_of("camt.053.001.08"))),
        False,
    ),
    "AppHdr of head.001.001.01 (TARGET2/T2)": (_header("head.001.001.01-sberbank-pacs008-signed.xml"), True),
    "AppHdr of head.001.001.03 (CBPR+)": (_header("head.001.001.03-sberbank-pacs008-signed.xml"), True),
    "AppHdr of head.001.001.02, signed": (_header("head.001.001.02-vtb-pacs009-signed.xml"), True),
    "AppHdr of head.001.001.04 (not read by the gateway)": (
        lambda h, d: _bare(_renamespaced(h, namespace_of("head.001.001.04")), d),
        False,
    ),
    "head.001.001.02 content under head.001.001.01 (MktPrctc, a time with no Z)": (
        lambda h, d: _bare(_renamespaced(h, namespace_of("head.001.001.01")), d),
        False,
    ),
    "head.001.001.03 related header (MktPrctc in Rltd) under head.001.001.02": (
        lambda h, d: _bare(_renamespaced(fixture_named("head.001.001.03-cbrf-status-related.xml").root(),
                                         namespace_of("head.001.001.02")), d),
        False,
    ),
    "head.001.001.02 content under head.001.001.03": (
        lambda h, d: _bare(_renamespaced(h, namespace_of("head.001.001.03")), d),
        True,
    ),
    "two AppHdrs of different versions then Document": (
        lambda h, d: _bare(h, fixture_named("head.001.001.01-sberbank-pacs008-signed.xml").root(), d),
        False,
    ),
    "AppHdr invalid (no MsgDefIdr)": (lambda h, d: _bare(_without(h, "MsgDefIdr"), d), False),
    "Document invalid (no MsgId): validated strictly": (lambda h, d: _bare(h, _without(d, "MsgId")), False),
    "the harness's own wrapper": (lambda h, d: envelope(h, d), True),
}


@pytest.mark.parametrize("case", cases, ids=list(cases))
def test_envelope_verdict(case: str) -> None:
    build, expected = cases[case]
    root = build(_app_hdr(), _document())
    schema = envelope_schema()
    verdict = schema.validate(root)
    assert verdict is expected, "\n".join(str(e) for e in schema.error_log) or "accepted"


def test_envelope_offers_exactly_the_supported_messages() -> None:
    """The envelope imports each supported message schema and refers to its root, and to nothing else."""
    xs = "http://www.w3.org/2001/XMLSchema"
    root = parse_file(envelope_xsd).getroot()
    imported = {element.get("namespace") for element in root.iter(f"{{{xs}}}import")}
    assert imported == {namespace_of(message) for message in (*document_messages, *app_hdr_messages)}
    referred = set()
    for element in root.iter(f"{{{xs}}}element"):
        if (ref := element.get("ref")) is not None:
            prefix, local_name = ref.split(":")
            referred.add((root.nsmap[prefix], local_name))
    expected = {(namespace_of(message), "Document") for message in document_messages}
    assert referred == expected | {(namespace_of(message), "AppHdr") for message in app_hdr_messages}
