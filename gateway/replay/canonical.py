"""The canonical form of the messages a replay collects: what stays the same from one run to the next, and tokens
for what cannot.

The XML is parsed and rebuilt (each element in its namespace as a default namespace, no prefixes, no comments,
whitespace between elements dropped, attributes sorted), and every text and attribute value is rewritten, value by
value, left to right:

- values the placeholders produced become the placeholder again: `single-7K2M9QXJ4B` -> `{{id:single}}`, a UUID
  -> `{{uuid:single}}`, the run's time of day -> `{{time}}`; found inside longer texts too ("UETR ... was used");
- dates become their distance from the run's business date: `{{today}}`, `{{today-1}}`, `{{today+31}}` (within
  bounds.placeholder_days_max days; others stay as they are);
- identifiers the gateway or its ledger generates become numbered tokens, numbered in order of first appearance
  over the whole run, so that the same id in two places must still be the same: `{{gateway-id#3}}` (an outbound
  BizMsgIdr, MsgId, report or notification id: CR and 32 hex digits), `{{transfer#2}}` (a ledger transfer: 32 hex
  digits, in ClrSysRef, AcctSvcrRef, NtryRef, OrgnlClrSysRef), `{{generated-uuid#1}}` (any other UUID);
- date-times become `{{date-time}}` and other times of day `{{time-of-day}}`, without a number: the gateway
  writes them to the second, so two of them being equal is chance, not meaning;
- the balances of a report or statement (camt.052, camt.053 `Bal`) are written relative to its opening balance
  (its first `Bal`): `{{opening}}`, `{{opening+250000.00}}`, with their side (`CdtDbtInd`) as `{{balance-side}}`.
  What a wallet held before the run is not the run's doing; what the run moved, and that the closing balance is
  the opening balance plus it, is still compared to the kopeck. The entries themselves are compared as they are.

An AppHdr's signature (its Sgntr, when the gateway signs what it sends) is left out: it is new on every run, and a
signature is for verifying, not for comparing; the same goldens hold for a gateway that signs and one that does not.

Everything else (amounts, BICs, statuses, reason codes, texts, element order) is compared as it is.
"""

from __future__ import annotations

import re
from datetime import date

from lxml import etree

from gateway import bounds
from gateway.domain.money import AmountError, kopecks_from_text, text_from_kopecks
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import parse_bounded

_kinds = (
    ("date_time", r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
                  r"(?:Z|[+-][0-9]{2}:[0-9]{2})?"),
    ("uuid", r"(?<![0-9A-Za-z-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
             r"(?![0-9A-Za-z-])"),
    ("gateway_id", r"(?<![0-9A-Za-z])CR[0-9a-f]{32}(?![0-9A-Za-z])"),
    ("transfer", r"(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])"),
    ("date", r"(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])"),
    ("time_of_day", r"(?<![0-9:])[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})?(?![0-9])"),
)
_reports = frozenset({"Rpt", "Stmt"})  # camt.052 and camt.053: the elements holding one wallet's balances
_numbered = {"uuid": "generated-uuid", "gateway_id": "gateway-id", "transfer": "transfer"}
# Placeholders whose values are found in answers and named again; dates are found by date, {{now}} as a date-time.
_named_kinds = ("id:", "uuid:")
_named_exactly = ("{{time}}",)


class Canonicaliser:
    """One per run: its numbering spans every message of the run, in the order they are canonicalised."""

    def __init__(self, placeholder_values: dict[str, str], today: date) -> None:
        self.today = today
        named = {
            value: placeholder
            for placeholder, value in placeholder_values.items()
            if placeholder[2:].startswith(_named_kinds) or placeholder in _named_exactly
        }
        self._named = named
        alternatives = []
        if named:  # longest first: no value may be cut short by another it starts with
            values = sorted(named, key=len, reverse=True)
            alternatives.append("(?P<named>" + "|".join(re.escape(value) for value in values) + ")")
        alternatives += [f"(?P<{kind}>{pattern})" for kind, pattern in _kinds]
        self._pattern = re.compile("|".join(alternatives))
        self._numbers: dict[str, dict[str, int]] = {kind: {} for kind in _numbered}

    def text(self, text: str) -> str:
        return self._pattern.sub(self._token, text)

    def element(self, payload: bytes) -> etree._Element | None:
        """The canonical tree of an XML payload; None when it is not XML (the caller keeps it as text)."""
        root = parse_bounded(payload)
        if isinstance(root, Rejection):
            return None
        return self.tree(root)

    def tree(
        self, element: etree._Element, parent_namespace: str | None = None, opening_kopecks: int | None = None
    ) -> etree._Element:
        namespace, local = _split(element.tag)
        nsmap = {None: namespace} if namespace and namespace != parent_namespace else None
        copy = etree.Element(f"{{{namespace}}}{local}" if namespace else local, nsmap=nsmap)
        for name in sorted(element.attrib):
            copy.set(name, self.text(element.attrib[name]))
        text = element.text
        if text is not None and text.strip(" \t\r\n"):
            copy.text = self.text(text)
        if local in _reports:
            opening_kopecks = _opening_kopecks(element)
        for child in element.iterchildren(etree.Element):
            if local == "AppHdr" and _split(child.tag)[1] == "Sgntr":
                continue
            copy.append(self.tree(child, namespace, opening_kopecks))
        if local == "Bal" and opening_kopecks is not None:
            _relative_balance(copy, opening_kopecks, first=_is_first_balance(element))
        return copy

    def _token(self, match: re.Match[str]) -> str:
        kind = match.lastgroup
        value = match.group()
        if kind == "named":
            return self._named[value]
        if kind == "date_time":
            return "{{date-time}}"
        if kind == "time_of_day":
            return "{{time-of-day}}"
        if kind == "date":
            return self._date(value)
        assert kind in _numbered, kind
        numbers = self._numbers[kind]
        number = numbers.setdefault(value.lower(), len(numbers) + 1)
        return f"{{{{{_numbered[kind]}#{number}}}}}"

    def _date(self, text: str) -> str:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return text
        days = (day - self.today).days
        if abs(days) > bounds.placeholder_days_max:
            return text
        if days == 0:
            return "{{today}}"
        return f"{{{{today{days:+d}}}}}"


def _opening_kopecks(report: etree._Element) -> int | None:
    """The first balance of a report (its opening, OPBD, or on a later page the ITBD it opens with), signed."""
    for child in report.iterchildren(etree.Element):
        if _split(child.tag)[1] == "Bal":
            return _signed_kopecks(child)
    return None


def _signed_kopecks(balance: etree._Element) -> int | None:
    amount = side = None
    for child in balance.iterchildren(etree.Element):
        local = _split(child.tag)[1]
        if local == "Amt":
            amount = child.text
        elif local == "CdtDbtInd":
            side = child.text
    if amount is None or side not in ("CRDT", "DBIT"):
        return None
    try:
        kopecks = kopecks_from_text(amount.strip(" \t\r\n"))
    except AmountError:
        return None
    return kopecks if side == "CRDT" else -kopecks


def _relative_balance(balance: etree._Element, opening_kopecks: int, *, first: bool) -> None:
    """A canonical Bal: its amount as the opening balance plus or minus what moved since (see the module doc)."""
    kopecks = _signed_kopecks(balance)
    if kopecks is None:
        return  # not a balance the gateway writes; compared as it is
    moved = kopecks - opening_kopecks
    for child in balance.iterchildren(etree.Element):
        local = _split(child.tag)[1]
        if local == "Amt":
            sign = "-" if moved < 0 else "+"
            child.text = "{{opening}}" if first else f"{{{{opening{sign}{text_from_kopecks(abs(moved))}}}}}"
        elif local == "CdtDbtInd":
            child.text = "{{balance-side}}"


def _is_first_balance(balance: etree._Element) -> bool:
    return not any(_split(sibling.tag)[1] == "Bal" for sibling in balance.itersiblings(preceding=True))


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag
