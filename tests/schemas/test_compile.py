"""Every schema in xsd/ compiles with lxml and with xmlschema, loaded from its file path (relative includes resolve)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.messages.identity import supported_message_ids
from tests.schemas.harness import (
    common_xsd,
    envelope_xsd,
    iso_xsd_dir,
    load_xmlschema,
    messages,
    namespace_of,
    parse_file,
)

xs = "http://www.w3.org/2001/XMLSchema"
xsd_root = iso_xsd_dir.parent
schema_files = sorted(xsd_root.rglob("*.xsd"))  # every schema, including ones added after these tests


def test_every_supported_message_has_a_schema() -> None:
    expected = {common_xsd, envelope_xsd, *(iso_xsd_dir / f"{message}.xsd" for message in messages)}
    assert expected <= set(schema_files)


def test_schemas_cover_the_versions_the_gateway_reads() -> None:
    """The message layer's table of supported versions and the schemas here name the same messages."""
    assert {str(message_id) for message_id in supported_message_ids} == set(messages)


@pytest.mark.parametrize("path", schema_files, ids=lambda path: str(path.relative_to(xsd_root)))
def test_compiles_with_lxml(path: Path) -> None:
    etree.XMLSchema(parse_file(path))


@pytest.mark.parametrize("path", schema_files, ids=lambda path: str(path.relative_to(xsd_root)))
def test_compiles_with_xmlschema(path: Path) -> None:
    schema = load_xmlschema(path)
    assert schema.validity == "valid"


@pytest.mark.parametrize("message", messages)
def test_message_schema_header(message: str) -> None:
    """Namespace, qualified elements, the chameleon include, and the root element of the message."""
    root = parse_file(iso_xsd_dir / f"{message}.xsd").getroot()
    assert root.get("targetNamespace") == namespace_of(message)
    assert root.get("elementFormDefault") == "qualified"
    includes = root.findall(f"{{{xs}}}include")
    assert [include.get("schemaLocation") for include in includes] == ["common.xsd"]
    elements = [element.get("name") for element in root.findall(f"{{{xs}}}element")]
    assert elements == ["AppHdr" if message.startswith("head.") else "Document"]


def test_common_is_a_chameleon() -> None:
    """No target namespace, no default namespace and no global element: it only lends types to its includers."""
    root = parse_file(common_xsd).getroot()
    assert root.get("targetNamespace") is None
    assert None not in root.nsmap
    assert root.findall(f"{{{xs}}}element") == []
    assert {etree.QName(child).localname for child in root.iterchildren(etree.Element)} <= {"simpleType", "complexType"}
