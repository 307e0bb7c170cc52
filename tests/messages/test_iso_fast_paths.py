"""The quick paths through amount and date-time parsing give exactly what the general ones give, for any text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.messages.iso_types import (
    AmountRefusal,
    kopecks_from_exact,
    parse_datetime,
    parse_decimal,
    parse_kopecks,
    xml_whitespace,
)

_digits = st.text(alphabet="0123456789", min_size=0, max_size=22)


@st.composite
def _decimal_texts(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from(["", "", "+", "-"]))
    whole, fraction = draw(_digits), draw(_digits)
    point = draw(st.sampled_from([".", ".", ""]))
    space = draw(st.sampled_from(["", "", " ", "\n"]))
    return f"{space}{sign}{whole}{point}{fraction}{space}"


def _kopecks_through_decimal(text: str) -> int | AmountRefusal | None:
    """parse_kopecks as it was: every text through Decimal."""
    amount = parse_decimal(text)
    return None if amount is None else kopecks_from_exact(amount)


@settings(max_examples=2000)
@given(st.one_of(_decimal_texts(), st.text(max_size=12)))
def test_parse_kopecks_gives_what_decimal_gives(text: str) -> None:
    assert parse_kopecks(text) == _kopecks_through_decimal(text)


def test_parse_kopecks_edges() -> None:
    largest = "92233720368547758.07"  # bounds.kopecks_max, in roubles
    for text in (largest, "92233720368547758.08", "999999999999999999.99", "0", "0.1", "1.", ".5", "1.500", "001.05"):
        assert parse_kopecks(text) == _kopecks_through_decimal(text), text


# parse_datetime as it was before it was made quicker: the reference.
_datetime_pattern = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})?"
)


def _reference_datetime(text: str) -> datetime | None:
    match = _datetime_pattern.fullmatch(text.strip(xml_whitespace))
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match[index]) for index in range(1, 7))
    fraction, zone_text = match[7] or "", match[8]
    next_day = hour == 24 and minute == 0 and second == 0 and fraction.strip("0") == ""
    try:
        zone = None
        if zone_text == "Z":
            zone = UTC
        elif zone_text is not None:
            offset = timedelta(hours=int(zone_text[1:3]), minutes=int(zone_text[4:6]))
            zone = timezone(-offset if zone_text[0] == "-" else offset)
        value = datetime(
            year, month, day, 0 if next_day else hour, minute, second, int(fraction[:6].ljust(6, "0")), tzinfo=zone
        )
        return value + timedelta(days=1) if next_day else value
    except (ValueError, OverflowError):
        return None


_two = st.integers(0, 99).map(lambda value: f"{value:02d}")


@st.composite
def _datetime_texts(draw: st.DrawFn) -> str:
    date = f"{draw(st.integers(0, 9999)):04d}-{draw(_two)}-{draw(_two)}"
    time = f"{draw(st.sampled_from(['00', '09', '23', '24', '25']))}:{draw(_two)}:{draw(_two)}"
    fraction = draw(st.sampled_from(["", ".0", ".5", ".000", ".1234567", ".999999999"]))
    zone = draw(st.sampled_from(["", "Z", "+03:00", "-00:00", "+14:00", "-23:59", "+24:00", "+03:75"]))
    return f"{date}T{time}{fraction}{zone}"


@settings(max_examples=2000)
@given(st.one_of(_datetime_texts(), st.text(max_size=30)))
def test_parse_datetime_gives_what_it_gave(text: str) -> None:
    value, reference = parse_datetime(text), _reference_datetime(text)
    assert value == reference
    if value is not None and reference is not None:
        assert value.utcoffset() == reference.utcoffset()
