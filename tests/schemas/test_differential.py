"""Mutants of every fixture get the official XSD's verdict from our schema, alone and inside the gateway envelope."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.schemas.harness import (
    Fixture,
    Mutant,
    Mutator,
    Report,
    app_hdr_messages,
    document_messages,
    enumeration_union,
    envelope,
    envelope_app_hdr_fixture,
    envelope_document_fixture,
    envelope_schema,
    fixture_named,
    fixtures,
    message_of,
    official_schema,
    our_schema,
    require_corpus,
)

# Kinds that every fixture must produce, with some the official XSD rejects: a kind that never reaches the oracle's
# "invalid" side proves nothing. Kinds that depend on the fields present (amounts, codes, BICs) are not required.
kinds_everywhere = (
    "drop-mandatory",
    "swap",
    "repeat",
    "unknown-element",
    "unknown-attribute",
    "text-length",
    "namespace",
)


def _envelope_expectation(mutant: etree._Element, slot: str) -> bool:
    """What the envelope must say: the official verdict on the mutant under its own root's schema, if that root is
    one the envelope accepts in this slot."""
    message = message_of(etree.QName(mutant).namespace)
    if message is None or etree.QName(mutant).localname != ("AppHdr" if slot == "AppHdr" else "Document"):
        return False
    if (slot == "AppHdr") != (message in app_hdr_messages):
        return False
    return bool(official_schema(message).validate(mutant))


def _in_envelope(mutant: Mutant, fixture: Fixture, companion: etree._Element) -> tuple[etree._Element, str]:
    """The mutant in its slot of the gateway envelope, beside a valid companion (a Document or an AppHdr)."""
    if fixture.message in app_hdr_messages:
        return envelope(mutant.root, companion), "AppHdr"
    return envelope(companion, mutant.root), "Document"


@pytest.mark.parametrize("fixture", fixtures(), ids=lambda f: f.name)
def test_mutants_agree_with_official_xsd(fixture: Fixture, report: Report) -> None:
    require_corpus()
    ours, official, wrapped = our_schema(fixture.message), official_schema(fixture.message), envelope_schema()
    mutator = Mutator(fixture.root(), fixture.message, enumeration_union(fixture.message))
    companion_name = envelope_document_fixture if fixture.message in app_hdr_messages else envelope_app_hdr_fixture
    companion = fixture_named(companion_name).root()
    tally = report.tally(fixture.message)
    disagreements: list[str] = []
    kinds_seen: dict[str, set[bool]] = {}
    checked = 0
    for mutant in mutator.mutants():
        checked += 1
        official_verdict = bool(official.validate(mutant.root))
        our_verdict = bool(ours.validate(mutant.root))
        enveloped, slot = _in_envelope(mutant, fixture, companion)
        envelope_verdict = bool(wrapped.validate(enveloped))
        envelope_expected = _envelope_expectation(mutant.root, slot)
        agreed = our_verdict == official_verdict and envelope_verdict == envelope_expected
        tally.add(mutant.kind, agreed, official_verdict)
        kinds_seen.setdefault(mutant.kind, set()).add(official_verdict)
        if not agreed:
            disagreements.append(
                f"{mutant.kind}: {mutant.label}: ours {our_verdict}, official {official_verdict}, "
                f"envelope {envelope_verdict} (expected {envelope_expected})"
            )
    print(f"{fixture.name}: {checked} cases, {checked - len(disagreements)} agreed")
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(disagreements[:40])
    for kind in kinds_everywhere:
        assert False in kinds_seen.get(kind, set()), f"no {kind} mutant was invalid: the kind proves nothing here"


def test_every_message_version_is_mutated() -> None:
    assert {f.message for f in fixtures()} >= {*document_messages, *app_hdr_messages}
