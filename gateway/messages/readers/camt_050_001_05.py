"""Reader of camt.050.001.05 LiquidityCreditTransferV05: a schema-valid Document to a LiquidityTransfer."""

from __future__ import annotations

from gateway.domain.money import currency_code
from gateway.messages.codes import invalid_creation_date
from gateway.messages.commands import Account, Amount, LiquidityTransfer
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.readers._reading import Fields, Reading
from gateway.messages.rejections import Rejection

message_id = MessageId("camt", "050", "001", "05")


def read(unwrapped: Unwrapped) -> LiquidityTransfer | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body = reading.fields(reading.one(reading.fields(unwrapped.document), "LqdtyCdtTrf"))
    body_path = f"{unwrapped.document_path}/LqdtyCdtTrf"
    header = reading.fields(reading.one(body, "MsgHdr"))
    transfer = reading.fields(reading.one(body, "LqdtyCdtTrf"))
    path = f"{body_path}/LqdtyCdtTrf"
    identification_element = reading.child(transfer, "LqdtyTrfId")
    identification = None if identification_element is None else reading.fields(identification_element)
    amount, amount_path = _amount(reading, reading.fields(reading.one(transfer, "TrfdAmt")), f"{path}/TrfdAmt")
    command = LiquidityTransfer(
        message_id=reading.required_text(header, "MsgId"),
        creation_time=reading.iso_datetime(header, "CreDtTm", f"{body_path}/MsgHdr", invalid_creation_date),
        instruction_id=None if identification is None else reading.text(identification, "InstrId"),
        end_to_end_id=None if identification is None else reading.required_text(identification, "EndToEndId"),
        transaction_id=None if identification is None else reading.text(identification, "TxId"),
        uetr=None if identification is None else reading.uetr(identification, "UETR"),
        creditor=reading.agent(transfer, "Cdtr", path),
        credit_account=read_account(reading, transfer, "CdtrAcct", path),
        amount=amount,
        debtor=reading.agent(transfer, "Dbtr", path),
        debit_account=read_account(reading, transfer, "DbtrAcct", path),
        settlement_date=reading.iso_date(transfer, "SttlmDt", path),
        path=path,
        amount_path=amount_path,
    )
    return reading.result(command)


def _amount(reading: Reading, choice: Fields, path: str) -> tuple[Amount, str]:
    """Amount2Choice: AmtWthCcy with its currency, or AmtWthtCcy in the settlement system's currency, RUB."""
    with_currency = reading.amount(choice, "AmtWthCcy", path)
    if with_currency is not None:
        return with_currency, f"{path}/AmtWthCcy"
    # ImpliedCurrencyAndAmount is a bare decimal (never negative in the schema), read as every decimal total is.
    kopecks = reading.decimal_kopecks(choice, "AmtWthtCcy", path)
    assert kopecks is not None, "Amount2Choice holds AmtWthCcy or AmtWthtCcy"
    return Amount(kopecks, currency_code), f"{path}/AmtWthtCcy"


def read_account(reading: Reading, parent: Fields, name: str, path: str) -> Account | None:
    """CashAccount38, reduced to how it is named and its currency. Shared with the camt.060 reader (it belongs in
    _reading.Reading beside `agent`)."""
    element = reading.child(parent, name)
    if element is None:
        return None
    fields = reading.fields(element)
    identification = reading.fields(reading.one(fields, "Id"))
    other_element = reading.child(identification, "Othr")
    other = None if other_element is None else reading.fields(other_element)
    scheme_element = None if other is None else reading.child(other, "SchmeNm")
    scheme = None if scheme_element is None else reading.fields(scheme_element)
    return Account(
        iban=reading.text(identification, "IBAN"),
        identification=None if other is None else reading.required_text(other, "Id"),
        scheme_code=None if scheme is None else reading.text(scheme, "Cd"),
        scheme_proprietary=None if scheme is None else reading.text(scheme, "Prtry"),
        issuer=None if other is None else reading.text(other, "Issr"),
        currency=reading.text(fields, "Ccy"),
        path=f"{path}/{name}",
    )
