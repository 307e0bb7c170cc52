"""The writers' runtime check against the gateway's schema: every message by default, one in N when
`[limits] outbound_schema_check_every` says N (gateway.messages.writers.check_one_in, set by the runtime)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.messages.writers import check_one_in
from gateway.messages.writers._writing import Writing
from tests.conftest import write_config
from tests.message_layer.support import pacs_002


@pytest.fixture
def one_in_every_message() -> Iterator[None]:
    yield
    check_one_in(1)


def outcomes_of_writing_an_invalid_document(times: int) -> list[str]:
    """What the check made of an empty pacs.002 Document (its message body is mandatory), written `times` times."""
    outcomes = []
    for _ in range(times):
        writing = Writing(pacs_002)
        try:
            writing.checked(writing.root("Document"))
            outcomes.append("left")
        except AssertionError:
            outcomes.append("refused")
    return outcomes


def test_every_written_message_is_checked_by_default() -> None:
    assert outcomes_of_writing_an_invalid_document(4) == ["refused"] * 4


def test_one_message_in_n_is_checked_when_the_config_asks(one_in_every_message: None) -> None:
    check_one_in(3)
    assert outcomes_of_writing_an_invalid_document(6) == ["left", "left", "refused"] * 2


def test_the_share_is_read_from_the_config_and_bounded(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
    config = load_config(write_config(tmp_path, database_url, limits_toml="outbound_schema_check_every = 100\n"),
                         environ={})
    assert config.limits.outbound_schema_check_every == 100
    with pytest.raises(ConfigError, match="outbound_schema_check_every"):
        load_config(write_config(tmp_path, database_url, limits_toml="outbound_schema_check_every = 0\n"), environ={})
