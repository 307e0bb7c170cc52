"""A status reason's words and element path reach the bank whole: the reason first, then the path, over as many
AddtlInf lines (Max105Text) as they take, words and path steps never cut, and the pacs.002 stays valid."""

from __future__ import annotations

from gateway import bounds
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.reports import (
    additional_info_chars_max,
    path_lines,
    status_reason,
    status_reason_for,
    text_lines,
)

reason = (
    "SABRRUMMXXX may not debit VTBRRUMMXXX/main: a bank only ever debits its own wallets, and the debtor agent of "
    "this transaction is not the sender of the message"
)
path = "/Envelope/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1234]/DbtrAgt/FinInstnId/BICFI"


def test_a_long_reason_goes_over_several_lines_between_words() -> None:
    lines = text_lines(reason)
    assert len(lines) == 2
    assert all(len(line) <= additional_info_chars_max for line in lines)
    assert " ".join(lines) == reason  # nothing lost, nothing cut inside a word


def test_the_path_follows_the_reason_on_lines_of_its_own() -> None:
    status = status_reason_for(Rejection("AG01", path, reason, Layer.BUSINESS))
    assert status.code == "AG01"
    assert status.additional_info[:2] == text_lines(reason)
    assert "".join(status.additional_info[2:]) == path


def test_a_path_longer_than_a_line_breaks_after_a_step() -> None:
    long_path = "/Document" + "/CdtTrfTxInf[9999]/RmtInf/Strd/RfrdDocInf/LineDtls/Id" * 4
    lines = path_lines(long_path)
    assert len(lines) > 1
    assert all(len(line) <= additional_info_chars_max and line.startswith("/") for line in lines)
    assert "".join(lines) == long_path


def test_the_lines_are_bounded() -> None:
    endless = " ".join(["word"] * 2_000)
    assert len(status_reason("NARR", endless).additional_info) == bounds.additional_info_lines_max
