"""Each team-written fixture is a realistic RUB message of our banks, valid under our schema and the official XSD."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from tests.schemas.harness import (
    Fixture,
    app_hdr_messages,
    at,
    document_messages,
    envelope,
    envelope_app_hdr_fixture,
    envelope_document_fixture,
    envelope_schema,
    fixture_named,
    fixtures,
    messages,
    namespace_of,
    official_schema,
    our_schema,
    our_xmlschema,
    root_name,
    slots,
)

project_bics = frozenset({"SABRRUMMXXX", "VTBRRUMMXXX", "ALFARUMMXXX", "CBRFRUMMXXX"})
dates_before_2026 = frozenset({"BirthDt"})  # a person's date of birth
uuid_v4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _errors(schema: etree.XMLSchema) -> str:
    return "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)


@pytest.mark.parametrize("message", messages)
def test_every_message_version_has_a_fixture(message: str) -> None:
    assert any(f.message == message for f in fixtures())


@pytest.mark.parametrize("fixture", fixtures(), ids=lambda f: f.name)
def test_root_element_and_namespace(fixture: Fixture) -> None:
    root = fixture.root()
    assert root.tag == f"{{{namespace_of(fixture.message)}}}{root_name(fixture.message)}"


@pytest.mark.parametrize("fixture", fixtures(), ids=lambda f: f.name)
def test_valid_under_our_schema(fixture: Fixture) -> None:
    schema = our_schema(fixture.message)
    assert schema.validate(fixture.root()), _errors(schema)
    assert our_xmlschema(fixture.message).is_valid(str(fixture.path))  # the second library agrees


@pytest.mark.parametrize("fixture", fixtures(), ids=lambda f: f.name)
def test_valid_under_official_xsd(fixture: Fixture) -> None:
    schema = official_schema(fixture.message)
    assert schema.validate(fixture.root()), _errors(schema)


@pytest.mark.parametrize("fixture", fixtures(), ids=lambda f: f.name)
def test_valid_inside_the_gateway_envelope(fixture: Fixture) -> None:
    if fixture.message in app_hdr_messages:
        wrapped = envelope(fixture.root(), fixture_named(envelope_document_fixture).root())
    else:
        wrapped = envelope(fixture_named(envelope_app_hdr_fixture).root(), fixture.root())
    schema = envelope_schema()
    assert schema.validate(wrapped), _errors(schema)


@pytest.mark.parametrize("fixture", fixtures(), ids=lambda f: f.name)
def test_realistic_content(fixture: Fixture) -> None:
    """Roubles, the project's four banks, random UUIDs and 2026 dates: the fixtures look like real traffic."""
    root = fixture.root()
    currencies = {e.get("Ccy") for e in root.iter(etree.Element) if e.get("Ccy") is not None}
    currencies |= {e.text for e in root.iter(etree.Element) if etree.QName(e).localname == "Ccy"}
    assert currencies <= {"RUB"}
    bics = {e.text for e in root.iter(etree.Element) if etree.QName(e).localname in ("BICFI", "AnyBIC")}
    assert bics <= project_bics
    for element in root.iter(etree.Element):
        name = etree.QName(element).localname
        if name in ("UETR", "OrgnlUETR"):
            assert uuid_v4.fullmatch(element.text or ""), element.text
    for slot in slots(root, our_xmlschema(fixture.message)):  # every date and date-time, by its schema type
        element = at(root, slot.path)
        name = etree.QName(element).localname
        if slot.type_name in ("ISODate", "ISODateTime", "ISONormalisedDateTime") and name not in dates_before_2026:
            assert (element.text or "").startswith("2026-"), (name, element.text)


# Where a message gives a payment its UETR: PmtId of a pacs.008 or pacs.009, LqdtyTrfId of a camt.050. Every other
# UETR quotes a payment given its UETR elsewhere: OrgnlUETR (pacs.002/004/028, camt.056/029), the Refs of an entry
# in camt.052/053/054, the LngBizId of a camt.025 receipt.
uetr_assigned_in = frozenset({"PmtId", "LqdtyTrfId"})
uetr_quoted_in = frozenset({"Refs", "LngBizId"})


def test_fixture_uetrs_are_distinct_per_payment() -> None:
    """A UETR names one payment: it is assigned in one fixture only, and appears elsewhere only as a quote."""
    owners: dict[str, set[str]] = {}
    for fixture in fixtures():
        for element in fixture.root().iter(f"{{{namespace_of(fixture.message)}}}UETR"):
            parent = etree.QName(element.getparent()).localname
            assert parent in uetr_assigned_in | uetr_quoted_in, f"{fixture.name}: UETR in {parent}"
            if parent in uetr_assigned_in:
                owners.setdefault(element.text or "", set()).add(fixture.name)
    assert all(len(names) == 1 for names in owners.values()), owners


def test_document_messages_cover_the_envelope_choice() -> None:
    assert {f.message for f in fixtures()} == {*document_messages, *app_hdr_messages}
