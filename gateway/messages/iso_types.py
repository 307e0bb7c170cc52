"""ISO 20022 simple types as Python values and back, defined once for every reader and writer.

Parsing takes text that the XSD has already accepted. It fails (returns None or a refusal) only where the XSD
accepts what a Python value cannot hold: a year beyond 9999, an amount finer than a kopeck or beyond int64.
Formatting produces text that the XSD accepts, and asserts anything it could not write faithfully.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from gateway import bounds
from gateway.domain.money import kopecks_per_rouble, minor_units, text_from_kopecks

# XSD collapses whitespace around atomic values (dates, decimals, booleans); these are XML's four space characters.
xml_whitespace = " \t\r\n"

# xs:date and xs:dateTime restricted to what datetime holds: four-digit years, hence no sign and no year 10000+.
_date = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_datetime = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
# xs:decimal: optional sign, digits, optional point and fraction; at least one digit somewhere.
_decimal = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# The form nearly every amount takes: unsigned, at most 2 decimals, and few enough digits for exact arithmetic.
_plain_amount = re.compile(rf"([0-9]{{1,18}})(?:\.([0-9]{{1,{minor_units}}}))?")
_count = re.compile(r"[0-9]{1,15}")
_boolean = {"true": True, "1": True, "false": False, "0": False}

# Characters XML 1.0 cannot carry, even as references: they would make lxml refuse to serialise.
_not_xml_char = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class AmountRefusal(enum.Enum):
    """Why schema-valid amount text has no kopeck value."""

    FRACTION_OF_KOPECK = "more than 2 decimals"
    OUT_OF_RANGE = "beyond the signed 64-bit kopeck range"


def parse_date(text: str) -> date | None:
    """An ISODate; a time zone suffix, which the standard allows on a date, is dropped. None if out of range."""
    if len(text) == 10:  # in schema-valid text, YYYY-MM-DD alone: read in C (an impossible day reads as None below)
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    match = _date.fullmatch(text.strip(xml_whitespace))
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def parse_datetime(text: str) -> datetime | None:
    """An ISODateTime: aware when it names a zone, naive when it does not (the standard allows both).

    Fractions beyond microseconds are cut, not rounded; 24:00:00 (allowed by XSD 1.0) is midnight of the next day.
    None for what datetime cannot hold.
    """
    if text[11:13] != "24":  # schema-valid text that datetime.fromisoformat reads is read to the value read below
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    stripped = text.strip(xml_whitespace)
    match = _datetime.fullmatch(stripped)
    if match is None:
        return None
    if match[4] != "24":
        # What the pattern leaves, datetime.fromisoformat reads in C to the value read below (it too cuts fractions
        # and takes zones up to a day); what it refuses is read below, to the same value or None.
        try:
            return datetime.fromisoformat(stripped)
        except ValueError:
            pass
    year, month, day, hour, minute, second = (int(match[index]) for index in range(1, 7))
    fraction, zone = match[7] or "", match[8]
    next_day = hour == 24 and minute == 0 and second == 0 and fraction.strip("0") == ""
    try:
        value = datetime(
            year,
            month,
            day,
            0 if next_day else hour,
            minute,
            second,
            int(fraction[:6].ljust(6, "0")),
            tzinfo=_zone(zone),
        )
        return value + timedelta(days=1) if next_day else value
    except (ValueError, OverflowError):
        return None


def _zone(text: str | None) -> timezone | None:
    if text is None:
        return None
    if text == "Z":
        return UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)  # raises ValueError beyond 24 hours


def parse_decimal(text: str) -> Decimal | None:
    stripped = text.strip(xml_whitespace)
    return Decimal(stripped) if _decimal.fullmatch(stripped) else None


def parse_kopecks(text: str) -> int | AmountRefusal | None:
    """A non-negative amount as integer hundredths of its currency unit (kopecks for RUB).

    None if the text is not an xs:decimal at all (the XSD has refused it before a reader runs)."""
    plain = _plain_amount.fullmatch(text)
    if plain is not None:  # the usual form, in integers: what Decimal would give, since no digit is lost
        kopecks = int(plain[1]) * kopecks_per_rouble + int((plain[2] or "").ljust(minor_units, "0"))
        return kopecks if kopecks <= bounds.kopecks_max else AmountRefusal.OUT_OF_RANGE
    amount = parse_decimal(text)
    if amount is None:
        return None
    return kopecks_from_exact(amount)


def kopecks_from_exact(amount: Decimal) -> int | AmountRefusal:
    scaled = amount * kopecks_per_rouble
    if scaled != scaled.to_integral_value():
        return AmountRefusal.FRACTION_OF_KOPECK
    kopecks = int(scaled)
    if abs(kopecks) > bounds.kopecks_max:
        return AmountRefusal.OUT_OF_RANGE
    return kopecks


def parse_count(text: str) -> int:
    """Max15NumericText (NbOfTxs and the like): 1 to 15 ASCII digits, as the XSD pattern guarantees."""
    assert _count.fullmatch(text), text
    return int(text)


def parse_boolean(text: str) -> bool | None:
    return _boolean.get(text.strip(xml_whitespace))


def format_date(value: date) -> str:
    assert not isinstance(value, datetime), value
    return value.isoformat()


_offsets_written: set[timedelta] = {timedelta(0)}  # offsets found fit for XSD's dateTime (a handful per process)


def format_datetime(value: datetime) -> str:
    offset = value.utcoffset()
    if offset is None:
        return value.isoformat()
    if offset not in _offsets_written:
        assert offset % timedelta(minutes=1) == timedelta(0), f"offset {offset} is not whole minutes"
        assert abs(offset) <= timedelta(hours=14), f"offset {offset} is beyond XSD's 14 hours"
        _offsets_written.add(offset)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def utc_of(value: datetime) -> datetime | None:
    """`value` in UTC, as an ISONormalisedDateTime (head.001.001.01) must be written. A naive value, one sent without
    an offset, is taken to be UTC already: the offset it was meant in is not known. None when UTC cannot hold it:
    an offset that moves a time of year 1 or 9999 beyond what datetime holds."""
    if value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None


def format_kopecks(kopecks: int) -> str:
    """An amount for ActiveCurrencyAndAmount and the like: never negative, always two decimals."""
    assert 0 <= kopecks <= bounds.kopecks_max, kopecks
    return text_from_kopecks(kopecks)


def format_decimal_kopecks(kopecks: int) -> str:
    """A DecimalNumber (CtrlSum and the like) holding a kopeck total."""
    assert 0 <= kopecks, kopecks
    return text_from_kopecks(kopecks)


def xml_safe(text: str) -> str:
    """Free text for an outbound message: characters XML cannot carry become U+FFFD."""
    return _not_xml_char.sub("\ufffd", text)


def fit(text: str, chars_max: int) -> str:
    """Free text made XML-safe and cut to a MaxNText length (characters, as XSD counts them); never empty."""
    safe = xml_safe(text)[:chars_max]
    assert safe, "free text is never empty: MaxNText has minLength 1"
    return safe
