"""The one known way our schemas and the official XSDs can disagree, xsi:type in lax wildcard content, is pinned."""

from __future__ import annotations

import copy

from lxml import etree

from tests.schemas.harness import (
    fixture_named,
    namespace_of,
    official_schema,
    our_schema,
)

# A chameleon common.xsd gives every message's namespace all 313 shared types, while an official XSD defines only
# the types its message uses. Nothing in a message's own structure can name a type (ISO types derive from no
# other type, so xsi:type on a declared element can only name the declared type itself); but inside the lax
# wildcards, SplmtryData/Envlp (any namespace) and AppHdr/Sgntr (XMLDSig namespace), an xsi:type naming a type that
# only common.xsd brings into the message's namespace is resolved by our schema and unresolvable for the official
# one. Ours is then the more permissive, so tier (a) still accepts everything the standard accepts. No bank sends
# this; the gateway's parser may refuse xsi:type outright. If this test fails, the divergence has changed: look
# again before relaxing it.

xsi = "http://www.w3.org/2001/XMLSchema-instance"


def _with_typed_envelope_content(type_name: str, text: str) -> etree._Element:
    """The pacs.008 invoice fixture with its SplmtryData/Envlp content typed by xsi:type (a pacs.008 type)."""
    root = copy.deepcopy(fixture_named("pacs.008.001.08-sberbank-to-vtb-invoice.xml").root())
    namespace = namespace_of("pacs.008.001.08")
    (envlp,) = root.iter(f"{{{namespace}}}Envlp")
    for child in list(envlp):
        envlp.remove(child)
    content = etree.SubElement(envlp, "{urn:cryptoruble:gateway:payment-order:1}Code", nsmap={"doc": namespace})
    content.set(f"{{{xsi}}}type", f"doc:{type_name}")
    content.text = text
    return root


def test_type_known_to_both_gets_the_same_verdict() -> None:
    for text, expected in (("SUPP", True), ("TOOLONG", False)):
        root = _with_typed_envelope_content("ExternalPurpose1Code", text)  # pacs.008 uses it: in both schemas
        assert our_schema("pacs.008.001.08").validate(root) is expected
        assert official_schema("pacs.008.001.08").validate(root) is expected


def test_type_only_common_xsd_brings_in_is_the_divergence() -> None:
    root = _with_typed_envelope_content("ExternalCancellationReason1Code", "DUPL")  # camt.056's own type: in neither
    assert our_schema("pacs.008.001.08").validate(root) is False
    assert official_schema("pacs.008.001.08").validate(root) is False
    root = _with_typed_envelope_content("ExternalMandateSetupReason1Code", "AC04")  # shared by pacs.004/002/028
    assert our_schema("pacs.008.001.08").validate(root) is True  # resolved through common.xsd
    assert official_schema("pacs.008.001.08").validate(root) is False  # the official pacs.008 lacks the type
