"""Every reader returns a value or read-layer rejections, never raising, on each schema-valid corpus sample; the
camt request readers read every sample the official XSD accepts without a single rejection."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from gateway.messages.commands import BusinessHeader
from gateway.messages.envelope import EnvelopeKind, Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.readers import (
    admi_002_001_01,
    head_001_001_02,
    pacs_002_001_10,
    read_command,
)
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.schemas import compiled
from tests.corpus import require_corpus
from tests.message_layer.support import (
    admi_002,
    corpus_units,
    head_001,
    official_schema,
    pacs_002,
    payments_family,
)

camt_056 = MessageId("camt", "056", "001", "08")
camt_050 = MessageId("camt", "050", "001", "05")
camt_060 = MessageId("camt", "060", "001", "05")
camt_requests = (camt_056, camt_050, camt_060)
# The corpus's SOURCES.md: "camt.050.001.05 samples: none found as data files". Should one appear, the test below
# fails until it leaves this set, so that it is read like the others.
corpus_lacks = frozenset({camt_050})
# The message element under each Document: scheme envelopes that rename or drop the Document keep it (TCH RTP
# puts camt.056's FIToFIPmtCxlReq in a <ReturnOfFunds> of its own namespace).
_message_elements = {camt_056: "FIToFIPmtCxlReq", camt_050: "LqdtyCdtTrf", camt_060: "AcctRptgReq"}


def _read(message_id: MessageId, root: Any) -> Any:
    if message_id == head_001:
        return head_001_001_02.read(root)
    unwrapped = Unwrapped(None, root, EnvelopeKind.BARE_DOCUMENT, message_id)
    readers: dict[MessageId, Callable[[Unwrapped], Any]] = {
        pacs_002: pacs_002_001_10.read,
        admi_002: admi_002_001_01.read,
    }
    return readers.get(message_id, read_command)(unwrapped)


@pytest.mark.parametrize("message_id", payments_family, ids=str)
def test_reader_never_raises_on_schema_valid_corpus_samples(message_id: MessageId) -> None:
    counts: Counter[str] = Counter()
    for path, found_id, root in corpus_units((message_id,)):
        counts["found"] += 1
        if compiled().validate_element(root, found_id):
            continue
        counts["valid"] += 1
        result = _read(found_id, root)  # raising here fails the test, naming the sample below
        if isinstance(result, list):
            counts["rejected"] += 1
            assert result and all(isinstance(r, Rejection) and r.layer is Layer.READ for r in result), (path, result)
        else:
            counts["read"] += 1
            assert not isinstance(result, Rejection), (path, result)
            if message_id == head_001:
                assert isinstance(result, BusinessHeader)
    print(f"{message_id}: {dict(counts)}")
    assert counts["valid"] > 0, f"no schema-valid {message_id} sample in the corpus: the corpus or the scan changed"


def _rerooted_units(message_id: MessageId) -> Iterator[tuple[Path, etree._Element]]:
    """Every message element of the version whose Document a scheme envelope renamed or dropped, put back under a
    Document of its own, as the corpus's validator does."""
    namespace, name = message_id.namespace, _message_elements[message_id]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    for path in sorted(item for item in (require_corpus() / "samples").rglob("*") if item.is_file()):
        try:
            root = etree.parse(str(path), parser).getroot()
        except etree.XMLSyntaxError:
            continue
        for element in root.iter(f"{{{namespace}}}{name}"):
            parent = element.getparent()
            if parent is not None and parent.tag == f"{{{namespace}}}Document":
                continue  # corpus_units finds it with its own Document
            if parent is not None and parent.tag == element.tag:
                continue  # camt.050's transfer, LqdtyCdtTrf inside the message's LqdtyCdtTrf
            # Joined as text: moving the element into a new tree would let lxml drop its prefix for the default
            # namespace the scheme envelope declared on it.
            document = f'<Document xmlns="{namespace}">'.encode() + etree.tostring(element) + b"</Document>"
            yield path, etree.fromstring(document)


@pytest.mark.parametrize("message_id", camt_requests, ids=str)
def test_camt_request_readers_read_every_officially_valid_corpus_sample(message_id: MessageId) -> None:
    units = [(path, root) for path, _, root in corpus_units((message_id,))]
    units += list(_rerooted_units(message_id))
    schema = official_schema(message_id)
    counts: Counter[str] = Counter()
    for path, root in units:
        counts["found"] += 1
        if not schema.validate(root):
            continue
        counts["valid"] += 1
        result = read_command(Unwrapped(None, root, EnvelopeKind.BARE_DOCUMENT, message_id))
        assert not isinstance(result, list), (path, result)  # raising fails the test too, naming the sample
    print(f"{message_id}: {dict(counts)}")
    if message_id in corpus_lacks:
        assert counts["found"] == 0, f"the corpus now holds {message_id} samples: take it out of corpus_lacks"
    else:
        assert counts["valid"] > 0, f"no valid {message_id} sample in the corpus: the corpus or the scan changed"
