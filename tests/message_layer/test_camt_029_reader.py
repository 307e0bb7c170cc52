"""The camt.029 reader gives exactly what Alfa-Bank's answer states, refuses what a resolution cannot hold, and
never raises on a schema-valid sample written by others."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from gateway.messages.commands import Amount, OriginalMessage
from gateway.messages.envelope import EnvelopeKind, Unwrapped
from gateway.messages.readers import camt_029_001_09
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.reports import (
    CancellationReason,
    CancellationStatus,
    CancellationTransactionStatus,
    CaseAssignment,
    InvestigationStatus,
    ResolutionOfInvestigation,
    ResolvedCase,
)
from gateway.messages.schemas import compiled
from tests.message_layer.support import (
    alfa,
    camt_029,
    corpus_units,
    edited,
    fixture,
    unwrapped,
    vtb,
)

msk = timezone(timedelta(hours=3))
answer = "camt.029.001.09-alfa-accepts-cancellation.xml"
body = "/Document/RsltnOfInvstgtn"
tx = f"{body}/CxlDtls/TxInfAndSts"


def _read(data: bytes) -> ResolutionOfInvestigation | list[Rejection]:
    message = unwrapped(data)
    assert compiled().validate(message) == [], "each case below is schema-valid: the reader, not the XSD, refuses it"
    return camt_029_001_09.read(message)


def test_alfa_accepts_vtbs_cancellation() -> None:
    assert _read(fixture(answer)) == ResolutionOfInvestigation(
        assignment=CaseAssignment(
            assignment_id="ALFA-RSL-20260420-000031",
            assigner_bic=alfa,
            assignee_bic=vtb,
            creation_time=datetime(2026, 4, 20, 15, 2, 11, tzinfo=msk),
        ),
        resolved_case=ResolvedCase("VTBR-CASE-2026-004471", vtb),
        status=InvestigationStatus.CNCL,
        transactions=(
            CancellationTransactionStatus(
                cancellation_status_id="ALFA-RSL-000031-1",
                original_message=OriginalMessage(
                    "VTBR20260420-0003157", "pacs.008.001.08", datetime(2026, 4, 20, 10, 58, 12, tzinfo=msk)
                ),
                original_instruction_id="VTBR-PP-088214",
                original_end_to_end_id="PP88214-20260420",
                original_transaction_id="VTBR20260420-0003157-001",
                original_clearing_system_reference="CRUB-0000000001204577",
                original_uetr=uuid.UUID("ca968cfe-75f6-4b63-a17e-32e6e6f9b7d6"),
                status=CancellationStatus.ACCR,
                # The client's consent, without a code; who gave it (Orgtr) is not read.
                reasons=(CancellationReason(None, ("Клиент согласен на возврат средств",)),),
                original_amount=Amount(148_000_000, "RUB"),  # 1480000.00
                original_settlement_date=date(2026, 4, 20),
            ),
        ),
    )


def test_creation_time_keeps_its_offset() -> None:
    resolution = _read(fixture(answer))
    assert isinstance(resolution, ResolutionOfInvestigation)
    assert resolution.assignment.creation_time.utcoffset() == timedelta(hours=3)


def test_several_cancellation_details_are_read_in_order() -> None:
    data = edited(
        fixture(answer),
        "    </CxlDtls>\n",
        "    </CxlDtls>\n    <CxlDtls><TxInfAndSts><OrgnlEndToEndId>PP88102-20260420</OrgnlEndToEndId>"
        "<TxCxlSts>RJCR</TxCxlSts><CxlStsRsnInf><Rsn><Cd>ARDT</Cd></Rsn></CxlStsRsnInf></TxInfAndSts></CxlDtls>\n",
    )
    resolution = _read(data)
    assert isinstance(resolution, ResolutionOfInvestigation)
    consent = CancellationReason(None, ("Клиент согласен на возврат средств",))
    assert [(t.original_end_to_end_id, t.status, t.reasons) for t in resolution.transactions] == [
        ("PP88214-20260420", CancellationStatus.ACCR, (consent,)),
        ("PP88102-20260420", CancellationStatus.RJCR, (CancellationReason("ARDT", ()),)),
    ]


@pytest.mark.parametrize(
    ("old", "new", "count", "code", "path"),
    [
        (  # MODI answers a modification request, not a cancellation (CH16 ElementContentFormallyIncorrect)
            "<Conf>CNCL</Conf>",
            "<Conf>MODI</Conf>",
            1,
            "CH16",
            f"{body}/Sts/Conf",
        ),
        (  # another branch of the status choice (CH17 ElementNotAdmitted)
            "<Conf>CNCL</Conf>",
            "<AssgnmtCxlConf>true</AssgnmtCxlConf>",
            1,
            "CH17",
            f"{body}/Sts/AssgnmtCxlConf",
        ),
        (  # TxCxlSts is optional in the XSD; an answer without it says nothing (CH21 RequiredCompulsoryElementMissing)
            "<TxCxlSts>ACCR</TxCxlSts>",
            "",
            1,
            "CH21",
            f"{tx}/TxCxlSts",
        ),
        (  # a proprietary reason the requester could not interpret
            "</Orgtr>",
            "</Orgtr>\n          <Rsn><Prtry>CLIENT-CONSENT</Prtry></Rsn>",
            1,
            "CH17",
            f"{tx}/CxlStsRsnInf/Rsn/Prtry",
        ),
        (  # the XSD allows any 1 to 4 characters; an external code is 4 capitals or digits
            "</Orgtr>",
            "</Orgtr>\n          <Rsn><Cd>ok</Cd></Rsn>",
            1,
            "CH16",
            f"{tx}/CxlStsRsnInf/Rsn/Cd",
        ),
        (  # the assigner as a non-financial party; the second, per-transaction Assgnr is not read
            "<Assgnr><Agt><FinInstnId><BICFI>ALFARUMMXXX</BICFI></FinInstnId></Agt></Assgnr>",
            "<Assgnr><Pty><Nm>АО «Альфа-Банк»</Nm></Pty></Assgnr>",
            2,
            "CH17",
            f"{body}/Assgnmt/Assgnr/Pty",
        ),
        (  # an agent named by its BIK alone
            "<Cretr><Agt><FinInstnId><BICFI>VTBRRUMMXXX</BICFI></FinInstnId></Agt></Cretr>",
            "<Cretr><Agt><FinInstnId><ClrSysMmbId><MmbId>044525187</MmbId></ClrSysMmbId></FinInstnId></Agt></Cretr>",
            1,
            "CH21",
            f"{body}/RslvdCase/Cretr/Agt/FinInstnId/BICFI",
        ),
        (  # the status of the whole original message
            "<CxlDtls>\n",
            (
                "<CxlDtls>\n<OrgnlGrpInfAndSts><OrgnlMsgId>VTBR20260420-0003157</OrgnlMsgId>"
                "<OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId><GrpCxlSts>ACCR</GrpCxlSts></OrgnlGrpInfAndSts>\n"
            ),
            1,
            "CH17",
            f"{body}/CxlDtls/OrgnlGrpInfAndSts",
        ),
        (  # the answer to a claim of non-receipt
            "    </CxlDtls>\n",
            "    </CxlDtls>\n    <ClmNonRctDtls><Accptd><DtPrcd>2026-04-20</DtPrcd></Accptd></ClmNonRctDtls>\n",
            1,
            "CH17",
            f"{body}/ClmNonRctDtls",
        ),
        (  # a third decimal of a rouble (CH20 DecimalPointsNotCompatibleWithCurrency)
            '<OrgnlIntrBkSttlmAmt Ccy="RUB">1480000.00</OrgnlIntrBkSttlmAmt>',
            '<OrgnlIntrBkSttlmAmt Ccy="RUB">1480000.005</OrgnlIntrBkSttlmAmt>',
            1,
            "CH20",
            f"{tx}/OrgnlIntrBkSttlmAmt",
        ),
        (  # xs:dateTime allows year 12026; datetime does not (DT02 InvalidCreationDate)
            "<CreDtTm>2026-04-20T15:02:11+03:00</CreDtTm>",
            "<CreDtTm>12026-04-20T15:02:11+03:00</CreDtTm>",
            1,
            "DT02",
            f"{body}/Assgnmt/CreDtTm",
        ),
    ],
)
def test_refuses_what_a_resolution_cannot_hold(old: str, new: str, count: int, code: str, path: str) -> None:
    result = _read(edited(fixture(answer), old, new, count))
    assert isinstance(result, list)
    assert [(r.code, r.path, r.layer) for r in result] == [(code, path, Layer.READ)]


def test_every_problem_is_found_in_one_pass() -> None:
    data = edited(fixture(answer), "<Conf>CNCL</Conf>", "<Conf>ACDA</Conf>")
    data = edited(data, "<TxCxlSts>ACCR</TxCxlSts>", "")
    data = edited(data, "1480000.00</OrgnlIntrBkSttlmAmt>", "1480000.001</OrgnlIntrBkSttlmAmt>")
    result = _read(data)
    assert isinstance(result, list)
    assert [(r.code, r.path) for r in result] == [
        ("CH16", f"{body}/Sts/Conf"),
        ("CH21", f"{tx}/TxCxlSts"),
        ("CH20", f"{tx}/OrgnlIntrBkSttlmAmt"),
    ]


def test_corpus_samples_are_read_or_refused_at_the_read_layer() -> None:
    """The Fedwire answers name agents by US routing number and leave TxCxlSts out: refused, element by element."""
    checked = 0
    for path, _, document in corpus_units((camt_029,)):
        if compiled().validate_element(document, camt_029):
            continue
        checked += 1
        result = camt_029_001_09.read(Unwrapped(None, document, EnvelopeKind.BARE_DOCUMENT, camt_029))
        if isinstance(result, list):
            assert result, path
            for rejection in result:
                assert rejection.layer is Layer.READ, (path, rejection)
                assert rejection.path.startswith(f"{body}/"), (path, rejection)
        else:
            assert isinstance(result, ResolutionOfInvestigation), (path, result)
    assert checked > 0, "no schema-valid camt.029.001.09 sample in the corpus: the corpus or the scan changed"
