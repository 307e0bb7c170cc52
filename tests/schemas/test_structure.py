"""Our types match the official definitions, and common.xsd holds exactly the types two or more messages share."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from lxml import etree

from tests.schemas.harness import (
    app_hdr_messages,
    common_xsd,
    iso_xsd_dir,
    messages,
    official_xsd_path,
    parse_file,
)

xs = "http://www.w3.org/2001/XMLSchema"

# A definition reduced to what validation depends on: component kind, attributes, children in order. Annotations
# and comments are dropped, and minOccurs/maxOccurs="1" are dropped because 1 is their default.
Shape = tuple[str, tuple[tuple[str, str], ...], tuple["Shape", ...]]


def shape(element: etree._Element) -> Shape:
    attributes = {
        key: value
        for key, value in element.attrib.items()
        if not (key in ("minOccurs", "maxOccurs") and value == "1")
    }
    children = tuple(
        shape(child) for child in element.iterchildren(etree.Element) if child.tag != f"{{{xs}}}annotation"
    )
    return (etree.QName(element).localname, tuple(sorted(attributes.items())), children)


@functools.cache
def definitions(path: Path) -> tuple[dict[str, Shape], dict[str, Shape]]:
    """(named types, global elements) of one schema document."""
    types: dict[str, Shape] = {}
    elements: dict[str, Shape] = {}
    for child in parse_file(path).getroot().iterchildren(etree.Element):
        kind = etree.QName(child).localname
        if kind in ("simpleType", "complexType"):
            name = child.get("name")
            assert name not in types, f"{path.name} defines {name} twice"
            types[name] = shape(child)
        elif kind == "element":
            elements[child.get("name")] = shape(child)
    return types, elements


def ours(message: str) -> dict[str, Shape]:
    """The types our schema for `message` defines: its own plus those it includes from common.xsd."""
    common, _ = definitions(common_xsd)
    own, _ = definitions(iso_xsd_dir / f"{message}.xsd")
    clash = set(own) & set(common)
    assert not clash, f"{message}.xsd redefines types of common.xsd: {sorted(clash)}"
    return {**common, **own}


def reachable(types: dict[str, Shape], start: str) -> set[str]:
    """Names of the types used, directly or not, by type `start`."""
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen or name not in types:
            continue
        seen.add(name)

        def refs(node: Shape) -> None:
            for key, value in node[1]:
                if key in ("type", "base") and not value.startswith("xs:"):
                    pending.append(value)
            for child in node[2]:
                refs(child)

        refs(types[name])
    return seen


def root_type(message: str) -> str:
    """The type of the message's root element: BusinessApplicationHeaderV01 for head.001.001.01, and so on."""
    return f"BusinessApplicationHeaderV{message[-2:]}" if message in app_hdr_messages else "Document"


@pytest.mark.parametrize("message", messages)
def test_same_definitions_as_official(message: str) -> None:
    """Every type of the official XSD exists in ours with the same content model and facets, the global
    elements are the same, and our schema reaches no type from its root that the official one lacks."""
    official_types, official_elements = definitions(official_xsd_path(message))
    our_types = ours(message)
    _, our_elements = definitions(iso_xsd_dir / f"{message}.xsd")
    assert our_elements == official_elements
    missing = sorted(set(official_types) - set(our_types))
    assert not missing, f"types missing from our {message}: {missing}"
    different = sorted(name for name, official in official_types.items() if our_types[name] != official)
    assert not different, f"types that differ from the official {message}: {different}"
    assert reachable(our_types, root_type(message)) == reachable(official_types, root_type(message))


def test_official_xsds_agree_on_every_shared_name() -> None:
    """ISO 20022 type names are global: every official XSD that defines a name gives it the same definition. That is
    what lets common.xsd define a shared type once; Document, each message's own root, is the one exception."""
    variants: dict[str, dict[Shape, list[str]]] = {}
    for message in messages:
        official_types, _ = definitions(official_xsd_path(message))
        for name, definition in official_types.items():
            if name != "Document":
                variants.setdefault(name, {}).setdefault(definition, []).append(message)
    conflicts = {name: list(found.values()) for name, found in variants.items() if len(found) > 1}
    assert not conflicts, f"names defined differently by the official XSDs (messages per variant): {conflicts}"


def test_common_holds_exactly_the_shared_types() -> None:
    """A type in common.xsd is used by two or more messages; a type in a message schema by that message only."""
    common, _ = definitions(common_xsd)
    users: dict[str, set[str]] = {}
    for message in messages:
        for name in reachable(ours(message), root_type(message)):
            users.setdefault(name, set()).add(message)
    unused = sorted(name for name in common if name not in users)
    assert not unused, f"types in common.xsd that no message uses: {unused}"
    single = sorted(f"{name} ({next(iter(users[name]))})" for name in common if len(users[name]) < 2)
    assert not single, f"types in common.xsd that only one message uses: {single}"
    for message in messages:
        own, _ = definitions(iso_xsd_dir / f"{message}.xsd")
        shared = sorted(name for name in own if users.get(name, {message}) != {message} and name != "Document")
        assert not shared, f"{message}.xsd defines types other messages also use: {shared}"
        assert all(name in users for name in own), f"{message}.xsd defines types it does not use"
    own_counts = {message: len(definitions(iso_xsd_dir / f"{message}.xsd")[0]) for message in messages}
    print(f"common.xsd: {len(common)} shared types; own types per message (Document included): {own_counts}")

