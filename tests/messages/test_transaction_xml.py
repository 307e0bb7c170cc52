"""A transaction's xml is written when first read, once, as the element serialised on its own, and then lets go."""

from __future__ import annotations

import gc
import weakref
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from gateway.messages.commands import (
    Agent,
    Amount,
    CreditTransfer,
    CustomerCreditTransaction,
    FinancialInstitutionTransfer,
    InstitutionCreditTransaction,
    OriginalGroupCancellation,
    ReturnTransaction,
    TransactionCancellation,
)
from gateway.messages.envelope import Unwrapped, unwrap
from gateway.messages.readers import read_command
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import parse_bounded

fixtures = Path(__file__).parent / "fixtures"


def _unwrapped(name: str) -> Unwrapped:
    root = parse_bounded((fixtures / name).read_bytes())
    assert not isinstance(root, Rejection)
    unwrapped = unwrap(root)
    assert isinstance(unwrapped, Unwrapped)
    return unwrapped


def _serialised(element: etree._Element) -> bytes:
    """What readers wrote for each transaction when they wrote it as they read it."""
    serialised: bytes = etree.tostring(element, encoding="UTF-8", xml_declaration=False, with_tail=False)
    return serialised


@pytest.mark.parametrize(
    ("name", "kind", "tag"),
    [
        ("pacs.008.001.08-gateway-envelope.xml", CreditTransfer, "CdtTrfTxInf"),
        ("pacs.009.001.08-swift-envelope.xml", FinancialInstitutionTransfer, "CdtTrfTxInf"),
    ],
)
def test_read_transactions_give_their_element_serialised(name: str, kind: type, tag: str) -> None:
    unwrapped = _unwrapped(name)
    command = read_command(unwrapped)
    assert isinstance(command, kind)
    elements = list(unwrapped.document.iter(f"{{{unwrapped.message_id.namespace}}}{tag}"))
    expected = [_serialised(element) for element in elements]
    assert [tx.xml for tx in command.transactions] == expected  # type: ignore[attr-defined]
    assert [tx.xml for tx in command.transactions] == expected  # type: ignore[attr-defined]


def test_the_tree_may_go_before_the_xml_is_read() -> None:
    unwrapped = _unwrapped("pacs.008.001.08-gateway-envelope.xml")
    command = read_command(unwrapped)
    assert isinstance(command, CreditTransfer)
    expected = [_serialised(element) for element in unwrapped.document.iter("{*}CdtTrfTxInf")]
    del unwrapped
    gc.collect()
    assert [tx.xml for tx in command.transactions] == expected


class _Source:
    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return self.xml


def _transaction(xml: object) -> CustomerCreditTransaction:
    agent = Agent("SABRRUMMXXX", None, "/a")
    amount = Amount(100, "RUB")
    return CustomerCreditTransaction(
        None, "E2E", None, None, amount, date(2026, 3, 16), "SLEV", None, None, agent, agent, "/p", xml  # type: ignore[arg-type]
    )


def test_a_source_is_called_once_then_let_go() -> None:
    source = _Source(b"<CdtTrfTxInf/>")
    transaction = _transaction(source)
    assert source.calls == 0
    assert transaction.xml == b"<CdtTrfTxInf/>"
    assert transaction.xml == b"<CdtTrfTxInf/>"
    assert source.calls == 1
    gone = weakref.ref(source)
    del source
    gc.collect()
    assert gone() is None, "the transaction still holds its source"


def test_bytes_given_are_kept_and_take_no_part_in_equality() -> None:
    given = _transaction(b"<a/>")
    assert given.xml == b"<a/>"
    assert given == _transaction(_Source(b"<b/>"))
    assert hash(given) == hash(_transaction(b"<b/>"))
    assert replace(given, path="/q").xml == b"<a/>"
    assert "xml=b'<a/>'" in repr(given)


def test_nothing_but_bytes_or_a_source_is_taken() -> None:
    with pytest.raises(AssertionError):
        _transaction("<a/>")
    source = _Source("<a/>")  # type: ignore[arg-type]
    with pytest.raises(AssertionError):
        _ = _transaction(source).xml


@pytest.mark.parametrize(
    "kind",
    [
        CustomerCreditTransaction,
        InstitutionCreditTransaction,
        ReturnTransaction,
        OriginalGroupCancellation,
        TransactionCancellation,
    ],
)
def test_every_transaction_with_xml_writes_it_on_demand_and_stays_slotted(kind: type) -> None:
    assert "xml" in kind.__slots__
    (xml_field,) = [field for field in fields(kind) if field.name == "xml"]
    assert xml_field.compare is False
    assert type(kind.__dict__["xml"]).__name__ == "_XmlWrittenOnDemand"
