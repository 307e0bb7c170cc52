"""A camt.053.001.08 page the gateway wrote, read back from the journal: which wallet and day it states, its place
among the statement's pages, its booked balances and its entries. What reconciliation compares with the ledger.

The bytes come from the journal, not from a bank, but they are parsed as any message is (gateway.messages.safe_xml:
bounded, no DTD, no entities), and anything the page does not hold as the gateway writes it is answered with the
reason, never an exception: a journal row someone altered is what reconciliation is there to find.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lxml import etree

from gateway.domain.money import AmountError, kopecks_from_text
from gateway.messages.envelope import unwrap
from gateway.messages.identity import MessageId
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import parse_bounded

camt_053 = MessageId("camt", "053", "001", "08")


@dataclass(frozen=True, slots=True)
class StatedEntry:
    """One Ntry: the ledger transfer it names (NtryRef, the transfer id in hex) and the amount, signed from the
    wallet's side (credit positive)."""

    reference: str | None
    signed_kopecks: int
    booked: bool  # Sts/Cd BOOK; a pending entry is in no booked balance


@dataclass(frozen=True, slots=True)
class StatementPage:
    wallet_code: str  # Acct/Id/Othr/Id
    business_date: date  # the date of its balances: the business day it states
    page_number: int  # StmtPgntn/PgNb
    last_page: bool  # StmtPgntn/LastPgInd
    opening_kopecks: int | None  # OPBD, signed; on the first page only
    closing_kopecks: int | None  # CLBD, signed; on the last page only
    entries: tuple[StatedEntry, ...]


class Unreadable(Exception):
    """The bytes are not a camt.053 page as the gateway writes one; the message says what is wrong."""


def read_page(payload: bytes) -> StatementPage:
    """Raises Unreadable."""
    parsed = parse_bounded(payload)
    if isinstance(parsed, Rejection):
        raise Unreadable(f"not well-formed or out of bounds: {parsed.text}")
    unwrapped = unwrap(parsed, allow_bare_document=True)
    if isinstance(unwrapped, Rejection):
        raise Unreadable(f"no envelope the gateway writes: {unwrapped.text}")
    if unwrapped.message_id != camt_053:
        raise Unreadable(f"a {unwrapped.message_id}, not a {camt_053}")
    namespace = camt_053.namespace
    statements = unwrapped.document.findall(_path(namespace, "BkToCstmrStmt/Stmt"))
    if len(statements) != 1:
        raise Unreadable(f"{len(statements)} Stmt elements; the gateway writes one per page")
    statement = statements[0]
    balances: dict[str, tuple[int, date]] = {}
    for balance in statement.findall(_path(namespace, "Bal")):
        code = _text(balance, namespace, "Tp/CdOrPrtry/Cd")
        if code in balances:
            raise Unreadable(f"two {code} balances")
        balances[code] = (_signed(balance, namespace), _date(balance, namespace, "Dt/Dt"))
    dates = {when for _, when in balances.values()}
    if len(dates) != 1:
        raise Unreadable(f"balances dated {sorted(str(d) for d in dates) or 'nowhere'}; a day's statement has one date")
    entries = tuple(
        StatedEntry(
            reference=_optional_text(entry, namespace, "NtryRef"),
            signed_kopecks=_signed(entry, namespace),
            booked=_text(entry, namespace, "Sts/Cd") == "BOOK",
        )
        for entry in statement.findall(_path(namespace, "Ntry"))
    )
    last = _text(statement, namespace, "StmtPgntn/LastPgInd")
    if last not in ("true", "false", "1", "0"):
        raise Unreadable(f"StmtPgntn/LastPgInd {last!r} is not a boolean")
    number = _text(statement, namespace, "StmtPgntn/PgNb")
    if not number.isdigit() or not number.isascii():
        raise Unreadable(f"StmtPgntn/PgNb {number!r} is not a page number")
    return StatementPage(
        wallet_code=_text(statement, namespace, "Acct/Id/Othr/Id"),
        business_date=dates.pop(),
        page_number=int(number),
        last_page=last in ("true", "1"),
        opening_kopecks=balances["OPBD"][0] if "OPBD" in balances else None,
        closing_kopecks=balances["CLBD"][0] if "CLBD" in balances else None,
        entries=entries,
    )


def _path(namespace: str, path: str) -> str:
    return "/".join(f"{{{namespace}}}{step}" for step in path.split("/"))


def _optional_text(element: etree._Element, namespace: str, path: str) -> str | None:
    found = element.findall(_path(namespace, path))
    if len(found) > 1:
        raise Unreadable(f"{len(found)} {path} where the gateway writes one")
    return None if not found else (found[0].text or "").strip()


def _text(element: etree._Element, namespace: str, path: str) -> str:
    text = _optional_text(element, namespace, path)
    if not text:
        raise Unreadable(f"no {path} in {etree.QName(element).localname}")
    return text


def _signed(element: etree._Element, namespace: str) -> int:
    """Amt with CdtDbtInd: credit positive, debit negative."""
    amount, direction = _text(element, namespace, "Amt"), _text(element, namespace, "CdtDbtInd")
    try:
        kopecks = kopecks_from_text(amount)
    except AmountError as error:
        raise Unreadable(str(error)) from None
    if direction not in ("CRDT", "DBIT"):
        raise Unreadable(f"CdtDbtInd {direction!r} is neither CRDT nor DBIT")
    return kopecks if direction == "CRDT" else -kopecks


def _date(element: etree._Element, namespace: str, path: str) -> date:
    text = _text(element, namespace, path)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Unreadable(f"{path} {text!r} is not a date") from None
