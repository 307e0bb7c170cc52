"""Money: roubles with two minor units, held as integer kopecks. There is no float anywhere on a money path."""

from __future__ import annotations

import re
from decimal import Decimal

from gateway import bounds

currency_code = "RUB"
minor_units = 2
kopecks_per_rouble = 10**minor_units

# An ISO 20022 ActiveCurrencyAndAmount in RUB: digits, optional point, at most two fraction digits.
_amount_text = re.compile(r"(0|[1-9][0-9]{0,17})(?:\.([0-9]{1,2}))?")


class AmountError(ValueError):
    """A text or number that is not a valid rouble amount."""


def kopecks_from_text(text: str) -> int:
    """Parse '1234.5' or '1234.50' roubles into 123450 kopecks. Signs, exponents and a third decimal are refused."""
    match = _amount_text.fullmatch(text.strip())
    if match is None:
        raise AmountError(f"not a rouble amount with at most {minor_units} decimals: {text!r}")
    whole, fraction = match.group(1), match.group(2) or ""
    kopecks = int(whole) * kopecks_per_rouble + int(fraction.ljust(minor_units, "0") or "0")
    if kopecks > bounds.kopecks_max:
        raise AmountError(f"amount out of range: {text!r}")
    return kopecks


def kopecks_from_decimal(amount: Decimal) -> int:
    """Convert an exact Decimal rouble amount; refuses fractions of a kopeck rather than rounding them away."""
    if not amount.is_finite():
        raise AmountError(f"not a finite amount: {amount}")
    scaled = amount * kopecks_per_rouble
    if scaled != scaled.to_integral_value():
        raise AmountError(f"fraction of a kopeck: {amount}")
    return int(scaled)


def text_from_kopecks(kopecks: int) -> str:
    """Format kopecks as ISO 20022 amount text: 123450 -> '1234.50', -5 -> '-0.05'."""
    sign = "-" if kopecks < 0 else ""
    whole, fraction = divmod(abs(kopecks), kopecks_per_rouble)
    return f"{sign}{whole}.{fraction:0{minor_units}d}"
