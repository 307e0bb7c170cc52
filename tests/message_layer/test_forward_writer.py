"""The forward of a settled pacs.008 (writers._credit_transfer: a new group header, each transaction as the paying
bank sent it with its settlement date and time written in) is valid against the official pacs.008 XSD for any
pacs.008 the strategies generate, whatever time it settled at: the property that lets the runtime check of what
the writers emit be sampled rather than run on every message (docs/performance.md)."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway import bounds
from gateway.messages.commands import Amount, CreditTransfer
from gateway.messages.writers import pacs_008_001_08
from gateway.messages.writers._credit_transfer import Forward, SettledTransaction
from tests.message_layer import strategies
from tests.message_layer.support import assert_official, pacs_008


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.credit_transfers, strategies.aware_datetimes, st.sampled_from(["CLRG", "INDA"]))
def test_a_forwarded_pacs008_is_valid_against_the_official_xsd(
    command: CreditTransfer, settled_at: datetime, settlement_method: str
) -> None:
    total = sum(t.amount.kopecks for t in command.transactions)
    # What settles is money that exists: a forward's total is bounded by the supply, far below this bound (the
    # strategies draw each amount up to the XSD's 18 digits, so their sum may pass it).
    assume(total <= bounds.transfer_amount_kopecks_max)
    document = strategies.credit_transfer_document(command)
    namespace = etree.QName(document).namespace
    sent = document.findall(f"{{{namespace}}}FIToFICstmrCdtTrf/{{{namespace}}}CdtTrfTxInf")
    assert len(sent) == len(command.transactions)
    forward = Forward(
        message_id="FWD-PROPERTY",
        creation_time=settled_at,
        instructing_agent_bic="CBRFRUMMXXX",
        instructed_agent_bic="SABRRUMMXXX",
        settlement_method=settlement_method,
        total=Amount(total, "RUB"),
        transactions=tuple(SettledTransaction(etree.tostring(element), settled_at) for element in sent),
    )

    written = pacs_008_001_08.write(forward)

    assert_official(written, pacs_008)
    forwarded = written.findall(f"{{{namespace}}}FIToFICstmrCdtTrf/{{{namespace}}}CdtTrfTxInf")
    assert len(forwarded) == len(sent)
