"""What an XML signature in AppHdr/Sgntr costs per message: sign and verify per second, RSA-2048 and P-256, on a
one-transaction pacs.008.001.08 in the gateway's envelope, beside what reading the same message costs.

Run (from the repository root, with the gateway installed):

    python bench/signatures.py            # about 15 s on 2 cores
    python bench/signatures.py --quick    # a tenth of the work: a smoke test of the bench itself

What it measures, for each key (a development CA's signing certificates, gateway.security.certs):
  sign       gateway.messages.signatures.sign on an unwrapped message: three exclusive canonicalisations and
             digests (KeyInfo, AppHdr without the signature, Document), then the private-key operation.
  verify     gateway.messages.signatures.verify on an unwrapped signed message against two registered
             certificates of the sender: the profile's checks, the certificate's, the signature value, the digests.
  key only   the private- or public-key operation alone over a SignedInfo's bytes: the floor under each.
and once, without a signature: read   gateway.messages.intake.read_message (parse, unwrap, XSD, read) of the same
message, and intake, which adds the usage-guideline and business rules, so that the cost of a signature can be read
as a share of what a message costs already.

The single-payment path, as the gateway runs it (gateway.inbound, gateway.messages.writers.in_envelope): the bank's
pacs.008 is taken in (intake, plus one verify when it is signed) and answered with two messages, each written by the
gateway's writers and, with [message_signing], signed: the pacs.002 to the sender and the pacs.008 forwarded to the
creditor agent. The bench writes a pacs.002 unsigned and signed (answers.status_report, as settlement calls it) and
prints, per key, the signing work per payment (one verify, two signs) as a share of that path's message work
unsigned (intake, two answers written). The ledger and the database come on top of both, so the share of a whole
payment is smaller still.

The messages are parsed and unwrapped before the clock starts (sign needs a fresh tree each time, verify a parsed
one, as the gateway will have them); the clock covers the calls only. Every signed message is verified before any
timing and must be Verified; every result inside the loop is checked with one type test.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from lxml import etree

from gateway import bounds
from gateway.messages import answers
from gateway.messages.commands import OriginalMessage
from gateway.messages.envelope import Unwrapped, unwrap
from gateway.messages.intake import Accepted, Read, intake, read_message
from gateway.messages.rejections import Rejection
from gateway.messages.reports import PaymentStatus
from gateway.messages.rules import RuleContext
from gateway.messages.safe_xml import parse_bounded
from gateway.messages.signatures import (
    SigningKey,
    TrustedCertificate,
    Verified,
    sign,
    verify,
)
from gateway.messages.signing import GatewaySigner
from gateway.messages.writers import Recipient
from gateway.security.certs import Party, development_ca, signing_certificate

seconds_per_measurement = 1.5
rounds_count = 3
sender = Party("SABRRUMMXXX", "Sberbank")
central_bank = Party("CBRFRUMMXXX", "Bank of Russia")

message = b"""<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="urn:cryptoruble:gateway:envelope:1">
  <AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">
    <Fr><FIId><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></FIId></Fr>
    <To><FIId><FinInstnId><BICFI>CBRFRUMMXXX</BICFI></FinInstnId></FIId></To>
    <BizMsgIdr>SABR20260316-000001</BizMsgIdr>
    <MsgDefIdr>pacs.008.001.08</MsgDefIdr>
    <CreDt>2026-03-16T09:15:02Z</CreDt>
  </AppHdr>
  <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">
    <FIToFICstmrCdtTrf>
      <GrpHdr>
        <MsgId>SABR20260316-000001</MsgId>
        <CreDtTm>2026-03-16T12:15:02+03:00</CreDtTm>
        <NbOfTxs>1</NbOfTxs>
        <TtlIntrBkSttlmAmt Ccy="RUB">1250000.00</TtlIntrBkSttlmAmt>
        <IntrBkSttlmDt>2026-03-16</IntrBkSttlmDt>
        <SttlmInf><SttlmMtd>CLRG</SttlmMtd><ClrSys><Prtry>CBRF-CRUB</Prtry></ClrSys></SttlmInf>
        <InstgAgt><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></InstgAgt>
        <InstdAgt><FinInstnId><BICFI>VTBRRUMMXXX</BICFI></FinInstnId></InstdAgt>
      </GrpHdr>
      <CdtTrfTxInf>
        <PmtId>
          <InstrId>SABR-0001</InstrId>
          <EndToEndId>INV-2026-0311</EndToEndId>
          <UETR>5f0f3a3c-8f0e-4d8e-9b7a-2f1c4d6e8a10</UETR>
        </PmtId>
        <IntrBkSttlmAmt Ccy="RUB">1250000.00</IntrBkSttlmAmt>
        <ChrgBr>SLEV</ChrgBr>
        <Dbtr><Nm>OOO Severny Veter</Nm></Dbtr>
        <DbtrAcct><Id><Othr><Id>40702810938000012345</Id></Othr></Id></DbtrAcct>
        <DbtrAgt><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></DbtrAgt>
        <CdtrAgt><FinInstnId><BICFI>VTBRRUMMXXX</BICFI></FinInstnId></CdtrAgt>
        <Cdtr><Nm>AO Uralskaya Stal</Nm></Cdtr>
        <CdtrAcct><Id><Othr><Id>40702810700000004567</Id></Othr></Id></CdtrAcct>
        <RmtInf><Ustrd>Invoice 311 of 11.03.2026, no VAT</Ustrd></RmtInf>
      </CdtTrfTxInf>
    </FIToFICstmrCdtTrf>
  </Document>
</Envelope>
"""


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    rate: float  # operations per second

    @property
    def microseconds(self) -> float:
        return 1e6 / self.rate


def unwrapped(data: bytes) -> Unwrapped:
    parsed = parse_bounded(data)
    assert not isinstance(parsed, Rejection), parsed
    result = unwrap(parsed)
    assert isinstance(result, Unwrapped) and result.app_hdr is not None, result
    return result


def timed(name: str, prepare: Callable[[int], list[object]], run: Callable[[object], object], scale: float) -> Result:
    """Operations per second of `run` over inputs that `prepare(count)` builds before the clock starts: the best
    of a few rounds (other load on a shared machine only ever slows a round down)."""
    probe = prepare(50)
    started = time.perf_counter()
    for item in probe:
        run(item)
    count = max(50, int(50 * seconds_per_measurement * scale / rounds_count / (time.perf_counter() - started)))
    best = 0.0
    for _ in range(rounds_count):
        items = prepare(count)
        started = time.perf_counter()
        for item in items:
            run(item)
        best = max(best, count / (time.perf_counter() - started))
    return Result(name, best)


def bench_key(label: str, key: SigningKey, scale: float) -> list[Result]:
    ca, ca_key = development_ca(central_bank)
    certificate = signing_certificate(ca, ca_key, sender, key.public_key())
    other_key = ec.generate_private_key(ec.SECP256R1())  # a second registered certificate, as during a rollover
    other = signing_certificate(ca, ca_key, sender, other_key.public_key())
    der = serialization.Encoding.DER
    trusted = [TrustedCertificate.load(sender.bic, each.public_bytes(der)) for each in (other, certificate)]
    base = unwrapped(message)

    def fresh(count: int) -> list[object]:
        return [copy.deepcopy(base.document.getroottree().getroot()) for _ in range(count)]

    def sign_one(root: object) -> None:
        assert isinstance(root, etree._Element)
        sign(root[0], root[1], key, certificate)

    signed = copy.deepcopy(base.document.getroottree().getroot())
    sign_one(signed)
    signed_bytes = etree.tostring(signed)
    now = datetime.now(UTC)
    check = unwrapped(signed_bytes)
    assert check.app_hdr is not None
    if not isinstance(verify(check.app_hdr, check.document, trusted, now), Verified):
        raise SystemExit(f"{label}: the bench's own signed message does not verify")

    def parsed_signed(count: int) -> list[object]:
        return [unwrapped(signed_bytes) for _ in range(count)]

    def verify_one(item: object) -> None:
        assert isinstance(item, Unwrapped) and item.app_hdr is not None
        if not isinstance(verify(item.app_hdr, item.document, trusted, now), Verified):
            raise SystemExit(f"{label}: a signed message did not verify")

    signed_info = next(signed.iter("{http://www.w3.org/2000/09/xmldsig#}SignedInfo"))
    data = etree.tostring(signed_info, method="c14n", exclusive=True)
    value = raw_sign(key, data)

    def just(count: int) -> list[object]:
        return [data] * count

    gateway_key = key if isinstance(key, rsa.RSAPrivateKey) else ec.generate_private_key(ec.SECP256R1())
    gateway_certificate = signing_certificate(ca, ca_key, central_bank, gateway_key.public_key())
    signed_answers = Recipient(None, GatewaySigner(gateway_key, gateway_certificate))
    return [
        timed(f"sign    {label}", fresh, sign_one, scale),
        timed(f"verify  {label}", parsed_signed, verify_one, scale),
        timed(f"  key only, sign    {label}", just, lambda item: raw_sign(key, item), scale),  # type: ignore[arg-type]
        timed(f"  key only, verify  {label}", just, lambda item: raw_verify(key, value, item), scale),  # type: ignore
        bench_answer(f"write a pacs.002, signed {label}", signed_answers, scale),
    ]


def bench_answer(name: str, recipient: Recipient | None, scale: float) -> Result:
    """answers.status_report for a one-transaction pacs.008, as settlement writes it: its Document and AppHdr (each
    checked against the gateway's schema by its writer), in the envelope, signed when `recipient` says so."""
    read = read_message(message, allow_bare_document=False)
    assert isinstance(read, Read) and read.header is not None, read
    original = OriginalMessage("SABR20260316-000001", "pacs.008.001.08", datetime(2026, 3, 16, 9, 15, tzinfo=UTC))
    status = answers.transaction_status(
        end_to_end_id="INV-2026-0311", instruction_id="SABR-0001", transaction_id=None, uetr=None,
        status=PaymentStatus.ACSC, settled_at=datetime.now(UTC),
    )

    def times(count: int) -> list[object]:
        return [datetime.now(UTC)] * count

    def write_one(now: object) -> None:
        assert isinstance(now, datetime)
        answers.status_report(central_bank.bic, sender.bic, now, read.header, original, 1, [status],
                              configured=recipient)

    return timed(name, times, write_one, scale)


def raw_sign(key: SigningKey, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def raw_verify(key: SigningKey, value: bytes, data: bytes) -> None:
    if isinstance(key, rsa.RSAPrivateKey):
        key.public_key().verify(value, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        key.public_key().verify(value, data, ec.ECDSA(hashes.SHA256()))


def bench_read(scale: float) -> Result:
    if not isinstance(read_message(message, allow_bare_document=False), Read):
        raise SystemExit("the bench's message is refused by read_message")

    def copies(count: int) -> list[object]:
        return [message] * count

    def read_one(data: object) -> None:
        assert isinstance(data, bytes)
        if not isinstance(read_message(data, allow_bare_document=False), Read):
            raise SystemExit("read_message refused the bench's message")

    return timed("read_message, unsigned (for scale)", copies, read_one, scale)


def bench_intake(scale: float) -> Result:
    context = RuleContext(
        today=date(2026, 3, 16), central_bank_bic=central_bank.bic, participants=frozenset({sender.bic, "VTBRRUMMXXX"}),
        suspended_participants=frozenset(), settlement_days_ahead_max=bounds.settlement_days_ahead_max,
        authenticated_bic=sender.bic,
    )
    if not isinstance(intake(message, allow_bare_document=False, context=context), Accepted):
        raise SystemExit("the bench's message is refused by intake")

    def copies(count: int) -> list[object]:
        return [message] * count

    def intake_one(data: object) -> None:
        assert isinstance(data, bytes)
        if not isinstance(intake(data, allow_bare_document=False, context=context), Accepted):
            raise SystemExit("intake refused the bench's message")

    return timed("intake, unsigned (read and every rule)", copies, intake_one, scale)


def print_path(label: str, intake_result: Result, unsigned_answer: Result, by_name: dict[str, Result]) -> None:
    """The signing work of one single payment next to its message work without signatures."""
    verify_us = by_name[f"verify  {label}"].microseconds
    sign_us = by_name[f"write a pacs.002, signed {label}"].microseconds - unsigned_answer.microseconds
    signing_us = verify_us + 2 * sign_us
    unsigned_us = intake_result.microseconds + 2 * unsigned_answer.microseconds
    print(f"single payment, {label}: verify 1 + sign 2 = {signing_us:,.0f} us on top of {unsigned_us:,.0f} us of"
          f" intake and two answers written unsigned: +{100 * signing_us / unsigned_us:.0f}%")


def print_table(results: Sequence[Result]) -> None:
    width = max(len(result.name) for result in results)
    print(f"{'':<{width}}  {'per second':>12}  {'us each':>10}")
    for result in results:
        print(f"{result.name:<{width}}  {result.rate:>12,.0f}  {result.microseconds:>10,.1f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a tenth of the work: a smoke test of the bench")
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    lxml, libxml2 = (".".join(map(str, version)) for version in (etree.LXML_VERSION, etree.LIBXML_VERSION))
    machine = f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    print(f"{machine}; lxml {lxml} on libxml2 {libxml2}")
    print("one-transaction pacs.008.001.08 in the gateway's envelope, AppHdr head.001.001.02\n")
    results = [bench_read(scale), bench_intake(scale), bench_answer("write a pacs.002, unsigned", None, scale)]
    results += bench_key("P-256", ec.generate_private_key(ec.SECP256R1()), scale)
    results += bench_key("RSA-2048", rsa.generate_private_key(public_exponent=65537, key_size=2048), scale)
    print_table(results)
    print()
    by_name = {result.name: result for result in results}
    for label in ("P-256", "RSA-2048"):
        print_path(label, results[1], results[2], by_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
