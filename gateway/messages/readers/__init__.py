"""One reader per message version, and the table from message identity to the reader of each inbound command.

A reader takes an AppHdr or Document that passed its schema and returns a typed value or the rejections for what
the value cannot hold. It never raises on schema-valid input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TypeAlias

from gateway.messages.commands import Command
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.readers import (
    camt_050_001_05,
    camt_056_001_08,
    camt_060_001_05,
    pacs_004_001_09,
    pacs_008_001_08,
    pacs_009_001_08,
    pacs_028_001_03,
)
from gateway.messages.rejections import Layer, Rejection, invalid_file_format

CommandReader: TypeAlias = Callable[[Unwrapped], Command | list[Rejection]]

# The messages a bank may send the gateway, and the reader of each. Adding a version means adding a row.
command_readers: Mapping[MessageId, CommandReader] = MappingProxyType(
    {
        pacs_008_001_08.message_id: pacs_008_001_08.read,
        pacs_009_001_08.message_id: pacs_009_001_08.read,
        pacs_004_001_09.message_id: pacs_004_001_09.read,
        pacs_028_001_03.message_id: pacs_028_001_03.read,
        camt_056_001_08.message_id: camt_056_001_08.read,
        camt_050_001_05.message_id: camt_050_001_05.read,
        camt_060_001_05.message_id: camt_060_001_05.read,
    }
)


def read_command(unwrapped: Unwrapped) -> Command | list[Rejection]:
    """The command a Document carries; an FF01 rejection when no command is read from that message version."""
    reader = command_readers.get(unwrapped.message_id)
    if reader is None:
        text = f"{unwrapped.message_id} is not a message the gateway accepts from a participant"
        return [Rejection(invalid_file_format, unwrapped.document_path, text, Layer.READ)]
    return reader(unwrapped)
