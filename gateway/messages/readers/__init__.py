"""One reader per message version, and the table from message identity to the reader of each inbound command.

A reader takes an AppHdr or Document that passed its schema and returns a typed value or the rejections for what
the value cannot hold. It never raises on schema-valid input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TypeAlias

from lxml import etree

from gateway.messages.commands import BusinessHeader, Command
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.readers import (
    camt_050_001_05,
    camt_056_001_08,
    camt_060_001_05,
    head_001_001_01,
    head_001_001_02,
    head_001_001_03,
    pacs_004_001_09,
    pacs_008_001_08,
    pacs_009_001_08,
    pacs_028_001_03,
)
from gateway.messages.rejections import Layer, Rejection, invalid_file_format

CommandReader: TypeAlias = Callable[[Unwrapped], Command | list[Rejection]]
AppHdrReader: TypeAlias = Callable[[etree._Element, str | None], BusinessHeader | list[Rejection]]

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


# The reader of each AppHdr version the gateway reads (identity.app_hdr_message_ids).
app_hdr_readers: Mapping[MessageId, AppHdrReader] = MappingProxyType(
    {
        head_001_001_01.message_id: head_001_001_01.read,
        head_001_001_02.message_id: head_001_001_02.read,
        head_001_001_03.message_id: head_001_001_03.read,
    }
)


def read_app_hdr(unwrapped: Unwrapped) -> BusinessHeader | list[Rejection]:
    """The AppHdr of a message that has one, read by the reader of the version it came in (unwrap accepted only
    versions that have one)."""
    assert unwrapped.app_hdr is not None and unwrapped.app_hdr_version is not None, "a bare Document has no AppHdr"
    return app_hdr_readers[unwrapped.app_hdr_version](unwrapped.app_hdr, unwrapped.app_hdr_path)


def read_command(unwrapped: Unwrapped) -> Command | list[Rejection]:
    """The command a Document carries; an FF01 rejection when no command is read from that message version."""
    reader = command_readers.get(unwrapped.message_id)
    if reader is None:
        text = f"{unwrapped.message_id} is not a message the gateway accepts from a participant"
        return [Rejection(invalid_file_format, unwrapped.document_path, text, Layer.READ)]
    return reader(unwrapped)
