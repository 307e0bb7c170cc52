"""Placeholders in message files, filled at use, so that example messages and recorded suites never expire and can
be sent again and again to one gateway without being duplicates.

    {{today}}  {{today+N}}  {{today-N}}   the business date (Moscow time) when filled, or N days after or before it
    {{now}}                               the moment of filling, to the second, with its offset
                                          (2026-12-06T09:30:15+03:00)
    {{time}}                              the same moment's time of day, to the microsecond: 09:30:15.123456+03:00
    {{uuid:NAME}}                         a fresh UUIDv4, the same wherever NAME recurs in one run
    {{id:NAME}}                           a fresh identifier (Max35Text), NAME-XXXXXXXXXX, the same wherever NAME recurs

NAME is 1 to 24 of the characters A-Z a-z 0-9 . _ -. One `Filler` is one run: every file filled by it shares its
clock reading and its values, so a pacs.004 can name the UETR of the pacs.008 it returns ({{uuid:NAME}} in both).
Anything else between {{ and }}, or a {{ left open, is an error naming the line: a file is filled entirely or not
at all. Every value is plain ASCII that needs no escaping in XML text.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from gateway import bounds

_placeholder = re.compile(r"\{\{([^{}]*)\}\}")
_name = re.compile(r"[A-Za-z0-9._-]{1,24}")
_today = re.compile(r"today(?:([+-])([0-9]{1,4}))?")
_run_token_alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: an id read aloud or retyped stays itself
_run_token_chars = 10  # 32**10 tokens: two runs share one with odds of 1 in 1.1e15 (a million runs: 1 in 2,000)


class PlaceholderError(Exception):
    """A placeholder that cannot be filled: its text, and where it is."""


@dataclass
class Filler:
    """The values of one run. `now` is the moment of filling, aware, in the business zone."""

    now: datetime
    run_token: str = field(default_factory=lambda: "".join(secrets.choice(_run_token_alphabet)
                                                            for _ in range(_run_token_chars)))
    # placeholder (with braces) -> value, in first-use order
    _values: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def starting_now(cls) -> Filler:
        from gateway.domain.calendar import business_zone

        return cls(datetime.now(business_zone))

    @property
    def today(self) -> date:
        return self.now.date()

    def fill(self, text: str, source: str) -> str:
        """`text` with every placeholder replaced; `source` names the file in errors."""

        def value(match: re.Match[str]) -> str:
            return self.value_of(match.group(1).strip(), lambda: _where(text, match.start(), source))

        filled = _placeholder.sub(value, text)
        left = filled.find("{{")
        if left >= 0:
            raise PlaceholderError(f"{_where(filled, left, source)}: '{{{{' opens no placeholder (closed by '}}}}')")
        return filled

    def value_of(self, inner: str, where: Callable[[], str] = lambda: "a placeholder") -> str:
        """The value of the placeholder {{inner}} in this run, made on first use."""
        placeholder = "{{" + inner + "}}"
        known = self._values.get(placeholder)
        if known is not None:
            return known
        made = self._make(inner, where)
        self._values[placeholder] = made
        return made

    def values(self) -> dict[str, str]:
        """Every placeholder used in this run and its value."""
        return dict(self._values)

    def restore(self, values: dict[str, str]) -> None:
        """Use values saved from an earlier run (`gateway example --values`) for the placeholders they name."""
        for placeholder, value in values.items():
            self._values.setdefault(placeholder, value)

    def _make(self, inner: str, where: Callable[[], str]) -> str:
        kind, colon, name = inner.partition(":")
        if colon:
            if not _name.fullmatch(name):
                raise PlaceholderError(f"{where()}: {{{{{inner}}}}}: a NAME is 1 to 24 of A-Z a-z 0-9 . _ -")
            if kind == "uuid":
                return str(uuid.uuid4())
            if kind == "id":
                return f"{name}-{self.run_token}"
        elif inner == "now":
            return self.now.replace(microsecond=0).isoformat()
        elif inner == "time":
            return self.now.timetz().isoformat(timespec="microseconds")
        else:
            today = _today.fullmatch(inner)
            if today is not None:
                sign, days = today.groups()
                offset = 0 if days is None else int(days) * (1 if sign == "+" else -1)
                if abs(offset) > bounds.placeholder_days_max:
                    raise PlaceholderError(f"{where()}: {{{{{inner}}}}}: at most "
                                           f"{bounds.placeholder_days_max} days from today")
                return (self.today + timedelta(days=offset)).isoformat()
        known = "{{today}}, {{today+N}}, {{today-N}}, {{now}}, {{time}}, {{uuid:NAME}}, {{id:NAME}}"
        raise PlaceholderError(f"{where()}: unknown placeholder {{{{{inner}}}}} (known: {known})")


def _where(text: str, offset: int, source: str) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"{source}, line {line}"
