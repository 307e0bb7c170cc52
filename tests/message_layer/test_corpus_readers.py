"""Every reader returns a value or read-layer rejections, never raising, on each schema-valid corpus sample."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from gateway.messages.commands import BusinessHeader
from gateway.messages.envelope import EnvelopeKind, Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.readers import admi_002_001_01, head_001_001_02, pacs_002_001_10, read_command
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.schemas import compiled
from tests.message_layer.support import admi_002, corpus_units, head_001, pacs_002, payments_family


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
