"""The intake's bounds agree with each other: a pacs.008 at the transaction bound, of realistic transactions, fits
the size and element bounds and opens; one more transaction is refused by the rule that counts them (AM18)."""

from __future__ import annotations

from gateway import bounds
from gateway.messages.commands import CreditTransfer
from gateway.messages.intake import Opened, open_message
from gateway.messages.readers import read_command
from gateway.messages.rules import transactions_present_and_bounded
from tests.settlement.builders import SBER, VTB, Tx, pacs_008, today_in_moscow


def _message(count: int) -> bytes:
    transactions = [Tx(SBER, VTB, 100_00 + i, transaction_id=f"TX-{i:06d}") for i in range(count)]
    return pacs_008(SBER, "BOUNDS-1", transactions, today_in_moscow())


def test_a_pacs_008_at_the_transaction_bound_opens_and_one_more_is_refused_as_too_many() -> None:
    most = bounds.transactions_per_message_max
    data = _message(most)
    assert len(data) <= bounds.message_bytes_max
    opened = open_message(data, allow_bare_document=False)
    assert isinstance(opened, Opened), opened
    command = read_command(opened.unwrapped)
    assert isinstance(command, CreditTransfer) and len(command.transactions) == most
    assert transactions_present_and_bounded(command, opened.header) == []
    # Its elements, counted: well within the bound, with room for richer transactions.
    elements = sum(1 for _ in opened.unwrapped.document.iter())
    assert elements < bounds.xml_elements_max / 1.4, elements

    over = open_message(_message(most + 1), allow_bare_document=False)
    assert isinstance(over, Opened), over
    too_many = read_command(over.unwrapped)
    assert isinstance(too_many, CreditTransfer)
    assert [r.code for r in transactions_present_and_bounded(too_many, over.header)] == ["AM18"]
