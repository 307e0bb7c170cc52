"""Rouble amounts convert to and from integer kopecks exactly, and anything else is refused, never rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.money import (
    AmountError,
    kopecks_from_decimal,
    kopecks_from_text,
    text_from_kopecks,
)


@pytest.mark.parametrize(
    ("text", "kopecks"),
    [("0", 0), ("0.01", 1), ("1", 100), ("1.5", 150), ("1234.56", 123456), (" 10.00 ", 1000),
     ("999999999999999999.99", 99999999999999999999)],
)  # fmt: skip
def test_valid_amounts(text: str, kopecks: int) -> None:
    if kopecks > 2**63 - 1:
        with pytest.raises(AmountError):
            kopecks_from_text(text)
    else:
        assert kopecks_from_text(text) == kopecks


@pytest.mark.parametrize("text", ["", "-1.00", "+1", "1.001", "1e3", "01.00", "1,00", "1.", ".5", "NaN", "1 000"])
def test_invalid_amounts(text: str) -> None:
    with pytest.raises(AmountError):
        kopecks_from_text(text)


def test_decimals_must_be_whole_kopecks() -> None:
    assert kopecks_from_decimal(Decimal("12.30")) == 1230
    with pytest.raises(AmountError):
        kopecks_from_decimal(Decimal("0.005"))
    with pytest.raises(AmountError):
        kopecks_from_decimal(Decimal("Infinity"))


@given(st.integers(min_value=0, max_value=10**17))
def test_text_round_trip(kopecks: int) -> None:
    assert kopecks_from_text(text_from_kopecks(kopecks)) == kopecks


def test_formatting() -> None:
    assert text_from_kopecks(123450) == "1234.50"
    assert text_from_kopecks(5) == "0.05"
    assert text_from_kopecks(-5) == "-0.05"
