"""The schema layer validates AppHdr and Document in place and names each failing element's path with FF01."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gateway import bounds
from gateway.messages.identity import MessageId
from gateway.messages.rejections import Layer
from gateway.messages.schemas import SchemaSet, compiled, schema_files, xsd_directory
from tests.message_layer.support import (
    context,
    edited,
    fixture,
    in_envelope,
    payments_family,
    refused,
    repo_root,
    unwrapped,
)


def test_xsd_directory_is_found_beside_the_package_or_in_the_repository() -> None:
    directory = xsd_directory()
    assert directory == repo_root / "xsd"  # this checkout; an installed wheel would hold gateway/xsd
    assert (directory / "gateway" / "envelope.xsd").is_file()


def test_schemas_are_compiled_once_per_process() -> None:
    assert compiled() is compiled()
    assert set(compiled().messages) == set(schema_files) >= set(payments_family)


def test_load_from_a_named_folder(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        SchemaSet.load(tmp_path)  # an empty folder is a deployment error at start-up, not a rejection later
    assert set(SchemaSet.load(repo_root / "xsd").messages) == set(schema_files)


@pytest.mark.parametrize(
    "name",
    [
        "pacs.008.001.08-sberbank-to-vtb-invoice.xml",
        "pacs.008.001.08-alfa-tax-and-contractor.xml",
        "pacs.009.001.08-alfa-interbank-loan-to-sberbank.xml",
        "pacs.009.001.08-sberbank-cover-via-cbrf.xml",
        "pacs.004.001.09-vtb-returns-closed-account.xml",
        "pacs.028.001.03-sberbank-asks-cover-status.xml",
        "pacs.002.001.10-cbrf-settled.xml",
        "admi.002.001.01-cbrf-rejects-unreadable-message.xml",
        "pacs.008.001.08-gateway-envelope.xml",
        "pacs.009.001.08-swift-envelope.xml",
        "pacs.002.001.10-saa-datapdu.xml",
        "pacs.028.001.03-bare-document.xml",
    ],
)
def test_team_fixtures_are_valid(name: str) -> None:
    assert compiled().validate(unwrapped(fixture(name))) == []


def test_failure_in_default_namespace_names_the_element_inside_the_envelope() -> None:
    data = edited(
        fixture("pacs.008.001.08-gateway-envelope.xml"),
        '<IntrBkSttlmAmt Ccy="RUB">625000.50</IntrBkSttlmAmt>',
        '<IntrBkSttlmAmt Ccy="RUB">-625000.50</IntrBkSttlmAmt>',
    )
    (rejection,) = refused(data, context(date(2025, 3, 14))).rejections
    assert (rejection.code, rejection.layer) == ("FF01", Layer.SCHEMA)
    assert rejection.path == "/Envelope/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt"
    assert "minInclusive" in rejection.text and "urn:iso" not in rejection.text  # namespaces are cut from the text


def test_failure_with_prefixes_names_the_element() -> None:
    data = edited(fixture("pacs.009.001.08-swift-envelope.xml"), "<pacs:NbOfTxs>1<", "<pacs:NbOfTxs>one<")
    (rejection,) = refused(data, context(date(2025, 3, 14))).rejections
    assert rejection.path == "/Envelope/Document/FICdtTrf/GrpHdr/NbOfTxs"


def test_unexpected_element_is_named() -> None:
    data = edited(
        fixture("pacs.008.001.08-alfa-tax-and-contractor.xml"),
        "<EndToEndId>GPH-2026-014</EndToEndId>",
        "<EndToEndId>GPH-2026-014</EndToEndId><Bogus>x</Bogus>",
    )
    (rejection,) = refused(data, context(date(2026, 3, 25))).rejections
    assert rejection.path == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/PmtId/Bogus"
    assert "not expected" in rejection.text


def test_app_hdr_is_validated_too() -> None:
    app_hdr = edited(fixture("head.001.001.02-sberbank-pacs008.xml"), "<Prty>NORM</Prty>", "<Prty>NORM</Prty><Extra/>")
    data = in_envelope(app_hdr, fixture("pacs.008.001.08-sberbank-to-vtb-invoice.xml"))
    (rejection,) = refused(data, context(date(2026, 3, 16))).rejections
    assert (rejection.code, rejection.path, rejection.layer) == ("FF01", "/Envelope/AppHdr/Extra", Layer.SCHEMA)


def test_errors_are_bounded() -> None:
    data = fixture("pacs.002.001.10-cbrf-rejects-insufficient-funds.xml")
    data = data.replace(b"<TxSts>RJCT</TxSts>", b"<TxSts>RJCT</TxSts><X/>")  # one error per transaction
    first, last = data.index(b"<TxInfAndSts>"), data.rindex(b"</TxInfAndSts>") + len(b"</TxInfAndSts>")
    data = data[:first] + data[first:last] * 20 + data[last:]  # 40 transactions, 40 errors
    rejections = compiled().validate(unwrapped(data))
    assert len(rejections) == bounds.schema_rejections_max
    assert all(r.code == "FF01" and r.layer is Layer.SCHEMA for r in rejections)


def test_message_without_a_schema_is_refused_at_the_schema_layer() -> None:
    message = unwrapped(fixture("pacs.028.001.03-bare-document.xml"))
    (rejection,) = compiled().validate_element(message.document, MessageId("camt", "999", "001", "01"))
    assert (rejection.code, rejection.path, rejection.layer) == ("FF01", "/Document", Layer.SCHEMA)
