"""Placeholders are filled with values that never expire and never repeat across runs: dates from the business date,
fresh UUIDv4s and Max35Text ids shared by every file of one run, and a clear error naming the line otherwise."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import pytest

from gateway.replay.fill import Filler, PlaceholderError
from gateway.domain.calendar import business_zone

moment = datetime(2026, 12, 5, 23, 30, 15, 123456, tzinfo=business_zone)


def test_dates_and_times_come_from_the_moment_of_filling() -> None:
    filler = Filler(moment)
    text = "{{today}} {{today+1}} {{today-31}} {{now}} {{time}}"
    assert filler.fill(text, "f.xml") == (
        "2026-12-05 2026-12-06 2026-11-04 2026-12-05T23:30:15+03:00 23:30:15.123456+03:00"
    )


def test_a_name_is_the_same_value_everywhere_in_one_run_and_new_in_the_next() -> None:
    first, second = Filler(moment), Filler(moment)
    a = first.fill("{{uuid:pay}} {{id:pay}}", "a.xml").split()
    b = first.fill("{{uuid:pay}}|{{id:pay}}|{{uuid:other}}", "b.xml").split("|")
    assert b[:2] == a, "one run: the same NAME is the same value in every file"
    assert b[2] != a[0]
    c = second.fill("{{uuid:pay}} {{id:pay}}", "a.xml").split()
    assert c[0] != a[0] and c[1] != a[1], "another run: new values"


def test_uuids_are_version_4_and_ids_fit_max35text() -> None:
    filler = Filler(moment)
    value = filler.fill("{{uuid:x}}", "f")
    assert uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value
    identifier = filler.fill("{{id:abcdefghijklmnopqrstuvwx}}", "f")  # the longest NAME, 24 characters
    assert len(identifier) <= 35
    assert re.fullmatch(r"abcdefghijklmnopqrstuvwx-[A-Z2-9]{10}", identifier)


def test_values_saved_from_one_run_are_used_by_the_next() -> None:
    first = Filler(moment)
    uetr = first.fill("{{uuid:pay}}", "f")
    later = Filler(moment)
    later.restore(first.values())
    assert later.fill("{{uuid:pay}}", "g") == uetr


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("<a/>\n<b>{{tomorrow}}</b>", "f.xml, line 2: unknown placeholder {{tomorrow}}"),
        ("{{id:}}", "a NAME is 1 to 24"),
        ("{{id:" + "x" * 25 + "}}", "a NAME is 1 to 24"),
        ("{{uuid:a b}}", "a NAME is 1 to 24"),
        ("{{today+401}}", "at most 400 days from today"),
        ("x\n\n{{today", "f.xml, line 3: '{{' opens no placeholder"),
    ],
)
def test_a_placeholder_that_cannot_be_filled_is_named_with_its_line(text: str, says: str) -> None:
    with pytest.raises(PlaceholderError) as raised:
        Filler(moment).fill(text, "f.xml")
    assert says in str(raised.value)


def test_text_without_placeholders_is_left_as_it_is() -> None:
    text = "<Ustrd>Оплата {по} счёту</Ustrd>"
    assert Filler(moment).fill(text, "f") == text
