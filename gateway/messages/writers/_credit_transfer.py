"""What the pacs.008, pacs.009 and pacs.004 writers share: a payment the gateway forwards to the credited bank after
settlement. A new group header names the gateway (the central bank) as instructing agent; each transaction is the
one the paying bank sent, element for element, with the date and time it settled on the ledger written in."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from gateway.messages.commands import Amount, XmlSource
from gateway.messages.iso_types import format_date, format_datetime
from gateway.messages.writers._writing import Writing

# Transactions are re-read from bytes the intake already parsed and serialised; still, every option is explicit.
_transaction_parser = etree.XMLParser(
    resolve_entities=False,
    load_dtd=False,
    no_network=True,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    remove_blank_text=False,
    collect_ids=False,
)



@dataclass(frozen=True, slots=True)
class Layout:
    """Where one message version keeps what the forwarding writes. In CreditTransferTransaction39 (pacs.008), 36
    (pacs.009) and PaymentTransaction112 (pacs.004) the settled amount is followed by IntrBkSttlmDt?, SttlmPrty?,
    SttlmTmIndctn?: the date goes right after the amount, the time indication after the settlement priority."""

    body: str  # FIToFICstmrCdtTrf, FICdtTrf, PmtRtr
    total: str  # the group's total: TtlIntrBkSttlmAmt, or TtlRtrdIntrBkSttlmAmt for a return
    amount: str  # the transaction's settled amount: IntrBkSttlmAmt, or RtrdIntrBkSttlmAmt


customer_credit_transfer = Layout("FIToFICstmrCdtTrf", "TtlIntrBkSttlmAmt", "IntrBkSttlmAmt")
institution_credit_transfer = Layout("FICdtTrf", "TtlIntrBkSttlmAmt", "IntrBkSttlmAmt")
payment_return = Layout("PmtRtr", "TtlRtrdIntrBkSttlmAmt", "RtrdIntrBkSttlmAmt")


@dataclass(frozen=True, slots=True)
class SettledTransaction:
    xml: bytes | XmlSource  # the transaction element as the debtor agent sent it (commands.xml_source)
    settled_at: datetime  # when the ledger settled it (aware)


@dataclass(frozen=True, slots=True)
class Forward:
    message_id: str  # GrpHdr/MsgId of the forwarded message
    creation_time: datetime
    instructing_agent_bic: str  # the gateway (central bank)
    instructed_agent_bic: str  # the creditor agent it goes to
    settlement_method: str  # as the debtor agent sent it (CLRG or INDA)
    total: Amount
    transactions: tuple[SettledTransaction, ...]

    def __post_init__(self) -> None:
        assert self.transactions, "a forwarded message carries at least one settled transaction"
        assert 1 <= len(self.message_id) <= 35, self.message_id


def write(writing: Writing, layout: Layout, forward: Forward) -> etree._Element:
    document = writing.root("Document")
    body = writing.element(document, layout.body)
    group = writing.element(body, "GrpHdr")
    writing.element(group, "MsgId", forward.message_id)
    writing.iso_datetime(group, "CreDtTm", forward.creation_time)
    writing.element(group, "NbOfTxs", str(len(forward.transactions)))
    writing.amount(group, layout.total, forward.total)
    writing.element(writing.element(group, "SttlmInf"), "SttlmMtd", forward.settlement_method)
    writing.agent(group, "InstgAgt", forward.instructing_agent_bic)
    writing.agent(group, "InstdAgt", forward.instructed_agent_bic)
    settled_texts: dict[datetime, tuple[str, str]] = {}
    for transaction in forward.transactions:
        body.append(_with_settlement(writing, layout, transaction, settled_texts))
    return writing.checked(document)


def _transaction_element(source: bytes | XmlSource) -> etree._Element:
    """A copy of the transaction to edit: of the tree intake parsed when the source holds it (copying costs a fraction
    of writing it out and reading it back), else read from its bytes."""
    parsed = getattr(source, "element", None)
    if isinstance(parsed, etree._Element):
        element = copy.deepcopy(parsed)
        element.tail = None
        return element
    return etree.fromstring(source if isinstance(source, bytes) else source(), _transaction_parser)


def _with_settlement(
    writing: Writing, layout: Layout, transaction: SettledTransaction, settled_texts: dict[datetime, tuple[str, str]]
) -> etree._Element:
    element = _transaction_element(transaction.xml)
    prefix = f"{{{writing.namespace}}}"
    assert element.tag.startswith(prefix), "a transaction is forwarded in its own message version"
    # A batch settles its transactions at one time: its date and time are written out once per message.
    texts = settled_texts.get(transaction.settled_at)
    if texts is None:
        at = transaction.settled_at
        texts = settled_texts[at] = (format_date(at.date()), format_datetime(at))
    date_text, time_text = texts
    settled_date = _child(element, prefix + "IntrBkSttlmDt")
    if settled_date is None:
        settled_date = etree.Element(prefix + "IntrBkSttlmDt")
        _child(element, prefix + layout.amount).addnext(settled_date)  # the amount is mandatory; the date follows it
    settled_date.text = date_text
    indication = _child(element, prefix + "SttlmTmIndctn")
    if indication is None:
        indication = etree.Element(prefix + "SttlmTmIndctn")
        priority = _child(element, prefix + "SttlmPrty")  # IntrBkSttlmDt?, SttlmPrty?, SttlmTmIndctn?
        (settled_date if priority is None else priority).addnext(indication)
    else:
        indication[:] = []
    # CdtDtTm: when the creditor agent's wallet was credited, which on the ledger is when the transfer settled.
    etree.SubElement(indication, prefix + "CdtDtTm").text = time_text
    return element


def _child(element: etree._Element, tag: str) -> etree._Element | None:
    """The child of that tag, which occurs at most once in a transaction (a repeated one, RmtInf and the like, is
    never asked for)."""
    return next(element.iterchildren(tag), None)
