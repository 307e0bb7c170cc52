"""ISO simple types parse as their XSD lexical forms define them and format back to text the XSD accepts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from gateway import bounds
from gateway.messages.iso_types import (
    AmountRefusal,
    fit,
    format_datetime,
    format_kopecks,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_kopecks,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026-03-16T10:42:07", datetime(2026, 3, 16, 10, 42, 7)),  # no zone: naive, as sent
        ("2026-03-16T10:42:07Z", datetime(2026, 3, 16, 10, 42, 7, tzinfo=UTC)),
        (
            "2026-03-16T10:42:07.318+03:00",
            datetime(2026, 3, 16, 10, 42, 7, 318_000, tzinfo=timezone(timedelta(hours=3))),
        ),
        (
            "2026-03-16T10:42:07.1234567-05:30",
            datetime(2026, 3, 16, 10, 42, 7, 123_456, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
        ),
        ("2026-12-31T24:00:00Z", datetime(2027, 1, 1, tzinfo=UTC)),  # XSD 1.0's end of day
        (" 2026-03-16T10:42:07Z\n", datetime(2026, 3, 16, 10, 42, 7, tzinfo=UTC)),  # whitespace collapses
        ("12026-03-16T10:42:07Z", None),  # beyond datetime's years
        ("-0001-03-16T10:42:07Z", None),
        ("2026-03-16T24:00:01Z", None),
    ],
)
def test_parse_datetime(text: str, value: datetime | None) -> None:
    assert parse_datetime(text) == value
    if value is not None:
        assert parse_datetime(text).utcoffset() == value.utcoffset()  # type: ignore[union-attr]


def test_parse_date() -> None:
    assert parse_date("2026-03-16") == date(2026, 3, 16)
    assert parse_date("2026-03-16+03:00") == date(2026, 3, 16)  # a zone on a date is allowed and dropped
    assert parse_date("0000-01-01") is None
    assert parse_date("10000-01-01") is None


def test_format_datetime() -> None:
    assert format_datetime(datetime(2026, 3, 16, 7, 42, 9, tzinfo=UTC)) == "2026-03-16T07:42:09Z"
    assert format_datetime(datetime(2026, 3, 16, 7, 42, 9, 5, tzinfo=timezone(timedelta(hours=3)))) == (
        "2026-03-16T07:42:09.000005+03:00"
    )
    with pytest.raises(AssertionError):
        format_datetime(datetime(2026, 3, 16, tzinfo=timezone(timedelta(seconds=30))))


@pytest.mark.parametrize(
    ("text", "kopecks"),
    [
        ("250000.00", 25_000_000),
        ("625000.5", 62_500_050),
        ("+7", 700),
        (".5", 50),
        ("5.", 500),
        ("007.10", 710),
        ("1.00000", 100),  # five decimals, all zero: still whole kopecks
        ("1.001", AmountRefusal.FRACTION_OF_KOPECK),
        ("123456789012345678", AmountRefusal.OUT_OF_RANGE),
        ("1e5", None),
        ("", None),
    ],
)
def test_parse_kopecks(text: str, kopecks: int | AmountRefusal | None) -> None:
    assert parse_kopecks(text) == kopecks


def test_amount_formats() -> None:
    assert format_kopecks(0) == "0.00"
    assert format_kopecks(62_500_050) == "625000.50"
    assert parse_decimal(format_kopecks(bounds.kopecks_max)) == Decimal(bounds.kopecks_max) / 100
    with pytest.raises(AssertionError):
        format_kopecks(-1)


def test_fit() -> None:
    assert fit("abc", 2) == "ab"
    assert fit("a\x01b", 10) == "a\ufffdb"
    with pytest.raises(AssertionError):
        fit("", 10)
