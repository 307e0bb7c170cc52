"""Messages the tests send, written from parameters: pacs.008, pacs.009 and pacs.028 in the gateway's envelope, as
a bank's payment system would send them (RUB, real-looking parties, a UETR per transaction)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from xml.sax.saxutils import escape

from gateway.domain.money import text_from_kopecks

CBRF = "CBRFRUMMXXX"
SBER, VTB, ALFA = "SABRRUMMXXX", "VTBRRUMMXXX", "ALFARUMMXXX"


@dataclass(frozen=True)
class Tx:
    debtor_agent: str
    creditor_agent: str
    kopecks: int
    end_to_end_id: str = field(default_factory=lambda: "E2E-" + uuid.uuid4().hex[:20])
    uetr: uuid.UUID = field(default_factory=uuid.uuid4)
    settlement_date: date | None = None
    remittance: str = "Оплата по договору поставки № 17/2026, НДС не облагается"
    currency: str = "RUB"
    transaction_id: str | None = None  # PmtId/TxId


def _agent(name: str, bic: str) -> str:
    return f"<{name}><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></{name}>"


def app_hdr(
    sender: str, message_id: str, definition: str, to: str = CBRF, created: str = "2026-11-24T09:00:00Z",
    version: str = "head.001.001.02",
) -> str:
    """An AppHdr of header version `version`: what it holds here (banks by BICFI, a UTC CreDt) fits all three."""
    return (
        f'<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:{version}">'
        f"<Fr><FIId><FinInstnId><BICFI>{sender}</BICFI></FinInstnId></FIId></Fr>"
        f"<To><FIId><FinInstnId><BICFI>{to}</BICFI></FinInstnId></FIId></To>"
        f"<BizMsgIdr>{escape(message_id)}</BizMsgIdr><MsgDefIdr>{definition}</MsgDefIdr><CreDt>{created}</CreDt>"
        "</AppHdr>"
    )


def envelope(app_header: str, document: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Envelope xmlns="urn:cryptoruble:gateway:envelope:1">'
        + app_header + document + "</Envelope>"
    ).encode()


def pacs_008(
    sender: str, message_id: str, transactions: list[Tx], settlement_date: date, to: str = CBRF,
    number_of_transactions: int | None = None, app_hdr_version: str = "head.001.001.02",
) -> bytes:
    txs = "".join(
        "<CdtTrfTxInf>"
        f"<PmtId><InstrId>I-{i}</InstrId><EndToEndId>{escape(tx.end_to_end_id)}</EndToEndId>"
        + (f"<TxId>{escape(tx.transaction_id)}</TxId>" if tx.transaction_id else "")
        + f"<UETR>{tx.uetr}</UETR></PmtId>"
        f'<IntrBkSttlmAmt Ccy="{tx.currency}">{text_from_kopecks(tx.kopecks)}</IntrBkSttlmAmt>'
        + (f"<IntrBkSttlmDt>{tx.settlement_date.isoformat()}</IntrBkSttlmDt>" if tx.settlement_date else "")
        + "<ChrgBr>SLEV</ChrgBr>"
        "<Dbtr><Nm>ООО «Северный ветер»</Nm></Dbtr>"
        "<DbtrAcct><Id><Othr><Id>40702810938000012345</Id></Othr></Id></DbtrAcct>"
        + _agent("DbtrAgt", tx.debtor_agent)
        + _agent("CdtrAgt", tx.creditor_agent)
        + "<Cdtr><Nm>АО «Уральская сталь»</Nm></Cdtr>"
        "<CdtrAcct><Id><Othr><Id>40702810700000004567</Id></Othr></Id></CdtrAcct>"
        f"<RmtInf><Ustrd>{escape(tx.remittance)}</Ustrd></RmtInf>"
        "</CdtTrfTxInf>"
        for i, tx in enumerate(transactions, start=1)
    )
    count = len(transactions) if number_of_transactions is None else number_of_transactions
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf><GrpHdr>'
        f"<MsgId>{escape(message_id)}</MsgId><CreDtTm>2026-11-24T12:00:00+03:00</CreDtTm><NbOfTxs>{count}</NbOfTxs>"
        f"<IntrBkSttlmDt>{settlement_date.isoformat()}</IntrBkSttlmDt>"
        "<SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>"
        + _agent("InstgAgt", sender)
        + _agent("InstdAgt", CBRF)
        + "</GrpHdr>" + txs + "</FIToFICstmrCdtTrf></Document>"
    )
    return envelope(app_hdr(sender, message_id, "pacs.008.001.08", to, version=app_hdr_version), document)


def pacs_009(
    sender: str, message_id: str, transactions: list[Tx], settlement_date: date, to: str = CBRF,
    number_of_transactions: int | None = None,
) -> bytes:
    """A bank-to-bank transfer: each Tx's debtor_agent is the paying institution (Dbtr), its creditor_agent the
    institution paid (Cdtr); no DbtrAgt or CdtrAgt, as when banks move their own funds."""
    txs = "".join(
        "<CdtTrfTxInf>"
        f"<PmtId><InstrId>I-{i}</InstrId><EndToEndId>{escape(tx.end_to_end_id)}</EndToEndId>"
        f"<TxId>TX-{i}</TxId><UETR>{tx.uetr}</UETR></PmtId>"
        f'<IntrBkSttlmAmt Ccy="{tx.currency}">{text_from_kopecks(tx.kopecks)}</IntrBkSttlmAmt>'
        + (f"<IntrBkSttlmDt>{tx.settlement_date.isoformat()}</IntrBkSttlmDt>" if tx.settlement_date else "")
        + "<SttlmPrty>URGT</SttlmPrty>"
        + _agent("Dbtr", tx.debtor_agent)
        + "<DbtrAcct><Id><Othr><Id>30101810200000000593</Id></Othr></Id></DbtrAcct>"
        + _agent("Cdtr", tx.creditor_agent)
        + "<CdtrAcct><Id><Othr><Id>30101810400000000225</Id></Othr></Id></CdtrAcct>"
        "<Purp><Cd>LOAN</Cd></Purp>"
        f"<RmtInf><Ustrd>{escape(tx.remittance)}</Ustrd></RmtInf>"
        "</CdtTrfTxInf>"
        for i, tx in enumerate(transactions, start=1)
    )
    count = len(transactions) if number_of_transactions is None else number_of_transactions
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.009.001.08"><FICdtTrf><GrpHdr>'
        f"<MsgId>{escape(message_id)}</MsgId><CreDtTm>2026-11-24T12:00:00+03:00</CreDtTm><NbOfTxs>{count}</NbOfTxs>"
        f"<IntrBkSttlmDt>{settlement_date.isoformat()}</IntrBkSttlmDt>"
        "<SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>"
        + _agent("InstgAgt", sender)
        + _agent("InstdAgt", CBRF)
        + "</GrpHdr>" + txs + "</FICdtTrf></Document>"
    )
    return envelope(app_hdr(sender, message_id, "pacs.009.001.08", to), document)


def pacs_028(sender: str, message_id: str, uetrs: list[uuid.UUID]) -> bytes:
    txs = "".join(f"<TxInf><OrgnlUETR>{uetr}</OrgnlUETR></TxInf>" for uetr in uetrs)
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03"><FIToFIPmtStsReq><GrpHdr>'
        f"<MsgId>{escape(message_id)}</MsgId><CreDtTm>2026-11-24T12:00:00+03:00</CreDtTm>"
        "</GrpHdr>" + txs + "</FIToFIPmtStsReq></Document>"
    )
    return envelope(app_hdr(sender, message_id, "pacs.028.001.03"), document)


def today_in_moscow() -> date:
    from gateway.domain.calendar import business_zone

    return datetime.now(business_zone).date()


@dataclass(frozen=True)
class Returned:
    """One TxInf of a pacs.004: the original's UETR and the kopecks returned, and what else it says of the original:
    its message (OrgnlGrpInf), its EndToEndId, and where the funds go (RtrChain/CdtrAgt)."""

    uetr: uuid.UUID
    kopecks: int
    original_message_id: str | None = None
    original_message_name: str = "pacs.008.001.08"
    end_to_end_id: str | None = None
    back_to: str | None = None


def pacs_004(
    sender: str, message_id: str, returns: list[tuple[uuid.UUID, int]] | list[Returned], settlement_date: date
) -> bytes:
    """A return of (original UETR, kopecks returned) pairs, or Returned transactions, by the bank that received the
    originals."""
    def transaction(i: int, returned: Returned) -> str:
        group = (
            f"<OrgnlGrpInf><OrgnlMsgId>{escape(returned.original_message_id)}</OrgnlMsgId>"
            f"<OrgnlMsgNmId>{returned.original_message_name}</OrgnlMsgNmId></OrgnlGrpInf>"
            if returned.original_message_id else ""
        )
        end_to_end = (
            f"<OrgnlEndToEndId>{escape(returned.end_to_end_id)}</OrgnlEndToEndId>" if returned.end_to_end_id else ""
        )
        chain = (
            "<RtrChain><Dbtr>" + _agent("Agt", sender) + "</Dbtr>" + _agent("DbtrAgt", sender)
            + _agent("CdtrAgt", returned.back_to) + "<Cdtr>" + _agent("Agt", returned.back_to) + "</Cdtr></RtrChain>"
            if returned.back_to else ""
        )
        return (
            f"<TxInf><RtrId>R-{i}</RtrId>{group}{end_to_end}<OrgnlUETR>{returned.uetr}</OrgnlUETR>"
            f'<RtrdIntrBkSttlmAmt Ccy="RUB">{text_from_kopecks(returned.kopecks)}</RtrdIntrBkSttlmAmt>'
            f"<ChrgBr>SLEV</ChrgBr>{chain}"
            "<RtrRsnInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>Счёт получателя закрыт</AddtlInf></RtrRsnInf></TxInf>"
        )

    transactions = [r if isinstance(r, Returned) else Returned(*r) for r in returns]
    txs = "".join(transaction(i, returned) for i, returned in enumerate(transactions, start=1))
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.004.001.09"><PmtRtr><GrpHdr>'
        f"<MsgId>{escape(message_id)}</MsgId><CreDtTm>2026-11-24T12:00:00+03:00</CreDtTm>"
        f"<NbOfTxs>{len(transactions)}</NbOfTxs><IntrBkSttlmDt>{settlement_date.isoformat()}</IntrBkSttlmDt>"
        "<SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>"
        + _agent("InstgAgt", sender)
        + _agent("InstdAgt", CBRF)
        + "</GrpHdr>" + txs + "</PmtRtr></Document>"
    )
    return envelope(app_hdr(sender, message_id, "pacs.004.001.09"), document)


def camt_056(sender: str, message_id: str, originals: list[Tx]) -> bytes:
    """A request to cancel the sender's payments `originals` (reason CUST), one TxInf each."""
    txs = "".join(
        f"<TxInf><CxlId>C-{i}</CxlId><OrgnlEndToEndId>{escape(tx.end_to_end_id)}</OrgnlEndToEndId>"
        f"<OrgnlUETR>{tx.uetr}</OrgnlUETR>"
        f'<OrgnlIntrBkSttlmAmt Ccy="RUB">{text_from_kopecks(tx.kopecks)}</OrgnlIntrBkSttlmAmt>'
        "<CxlRsnInf><Rsn><Cd>CUST</Cd></Rsn><AddtlInf>Клиент отозвал поручение</AddtlInf></CxlRsnInf></TxInf>"
        for i, tx in enumerate(originals, start=1)
    )
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.056.001.08"><FIToFIPmtCxlReq><Assgnmt>'
        f"<Id>{escape(message_id)}</Id>" + "<Assgnr>" + _agent("Agt", sender) + "</Assgnr>"
        "<Assgne>" + _agent("Agt", CBRF) + "</Assgne><CreDtTm>2026-11-24T12:00:00+03:00</CreDtTm></Assgnmt>"
        f"<Case><Id>CASE-{escape(message_id)}</Id><Cretr>" + _agent("Agt", sender) + "</Cretr></Case>"
        "<Undrlyg>" + txs + "</Undrlyg></FIToFIPmtCxlReq></Document>"
    )
    return envelope(app_hdr(sender, message_id, "camt.056.001.08"), document)


def camt_029(sender: str, message_id: str, requester: str, originals: list[Tx], status: str = "ACCR") -> bytes:
    """A creditor agent's answer to a cancellation request about `originals` (CNCL with ACCR, or RJCR)."""
    txs = "".join(
        f"<TxInfAndSts><OrgnlEndToEndId>{escape(tx.end_to_end_id)}</OrgnlEndToEndId><OrgnlUETR>{tx.uetr}</OrgnlUETR>"
        f"<TxCxlSts>{status}</TxCxlSts>"
        "<CxlStsRsnInf><AddtlInf>Клиент согласен на возврат средств</AddtlInf></CxlStsRsnInf></TxInfAndSts>"
        for tx in originals
    )
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.029.001.09"><RsltnOfInvstgtn><Assgnmt>'
        f"<Id>{escape(message_id)}</Id><Assgnr>" + _agent("Agt", sender) + "</Assgnr>"
        "<Assgne>" + _agent("Agt", requester) + "</Assgne><CreDtTm>2026-11-24T15:00:00+03:00</CreDtTm></Assgnmt>"
        f"<Sts><Conf>{'CNCL' if status == 'ACCR' else 'RJCR'}</Conf></Sts>"
        "<CxlDtls>" + txs + "</CxlDtls></RsltnOfInvstgtn></Document>"
    )
    return envelope(app_hdr(sender, message_id, "camt.029.001.09"), document)


RTGS_ACCOUNTS = {SBER: "30101810400000000225", VTB: "30101810700000000187", ALFA: "30101810200000000593"}


def camt_050(
    sender: str, message_id: str, kopecks: int, direction: str = "mint", wallet: str = "main",
    rtgs_account: str | None = None, amount_text: str | None = None, end_to_end_id: str | None = None,
    transaction_id: str | None = None, uetr: uuid.UUID | None = None,
) -> bytes:
    """A liquidity transfer between the sender's RTGS account and one of its wallets: "mint" from the RTGS account
    into the wallet, "burn" back. `amount_text` overrides the amount as written (to send a malformed one). The
    LqdtyTrfId: EndToEndId E2E-<MsgId>, TxId TX-<MsgId> and a fresh UETR unless given."""
    wallet_account = (
        f"<Id><Othr><Id>{sender}/{wallet}</Id><SchmeNm><Prtry>CRUB-WALLET</Prtry></SchmeNm>"
        f"<Issr>{CBRF}</Issr></Othr></Id><Ccy>RUB</Ccy>"
    )
    rtgs = f"<Id><Othr><Id>{rtgs_account or RTGS_ACCOUNTS[sender]}</Id></Othr></Id><Ccy>RUB</Ccy>"
    credit, debit = (wallet_account, rtgs) if direction == "mint" else (rtgs, wallet_account)
    amount = amount_text if amount_text is not None else text_from_kopecks(kopecks)
    end_to_end_text = f"E2E-{escape(message_id)[:30]}" if end_to_end_id is None else escape(end_to_end_id)
    transaction_text = f"TX-{escape(message_id)[:30]}" if transaction_id is None else escape(transaction_id)
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.050.001.05"><LqdtyCdtTrf>'
        f"<MsgHdr><MsgId>{escape(message_id)}</MsgId><CreDtTm>2026-11-24T08:30:00+03:00</CreDtTm></MsgHdr>"
        "<LqdtyCdtTrf><LqdtyTrfId>"
        f"<EndToEndId>{end_to_end_text}</EndToEndId><TxId>{transaction_text}</TxId>"
        f"<UETR>{uetr or uuid.uuid4()}</UETR></LqdtyTrfId>"
        + _agent("Cdtr", sender)
        + f"<CdtrAcct>{credit}</CdtrAcct>"
        f'<TrfdAmt><AmtWthCcy Ccy="RUB">{amount}</AmtWthCcy></TrfdAmt>'
        + _agent("Dbtr", sender)
        + f"<DbtrAcct>{debit}</DbtrAcct>"
        "</LqdtyCdtTrf></LqdtyCdtTrf></Document>"
    )
    return envelope(app_hdr(sender, message_id, "camt.050.001.05"), document)


@dataclass(frozen=True)
class ReportAsk:
    """One RptgReq of a camt.060: which report, on which wallet (None: every wallet of the owner), over which days."""

    message: str  # camt.052.001.08 or camt.053.001.08
    wallet: str | None
    from_date: date
    to_date: date | None
    times: tuple[str, str] | None = None  # FrTm, ToTm


def camt_060(sender: str, message_id: str, asks: list[ReportAsk], owner: str | None = None) -> bytes:
    requests = "".join(
        "<RptgReq>"
        f"<Id>{escape(message_id)}-{i}</Id><ReqdMsgNmId>{ask.message}</ReqdMsgNmId>"
        + (
            f"<Acct><Id><Othr><Id>{ask.wallet}</Id><SchmeNm><Prtry>CRUB-WALLET</Prtry></SchmeNm></Othr></Id></Acct>"
            if ask.wallet is not None
            else ""
        )
        + f"<AcctOwnr>{_agent('Agt', owner or sender)}</AcctOwnr>"
        "<RptgPrd><FrToDt>"
        f"<FrDt>{ask.from_date.isoformat()}</FrDt>"
        + (f"<ToDt>{ask.to_date.isoformat()}</ToDt>" if ask.to_date is not None else "")
        + "</FrToDt>"
        + (f"<FrToTm><FrTm>{ask.times[0]}</FrTm><ToTm>{ask.times[1]}</ToTm></FrToTm>" if ask.times else "")
        + "<Tp>ALLL</Tp></RptgPrd>"
        "</RptgReq>"
        for i, ask in enumerate(asks, start=1)
    )
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.060.001.05"><AcctRptgReq>'
        f"<GrpHdr><MsgId>{escape(message_id)}</MsgId><CreDtTm>{datetime.now().astimezone().isoformat(timespec='seconds')}</CreDtTm>"
        "</GrpHdr>" + requests + "</AcctRptgReq></Document>"
    )
    return envelope(app_hdr(sender, message_id, "camt.060.001.05"), document)
