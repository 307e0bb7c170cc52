"""The parts every fault drill shares.

- `Site`: a scratch PostgreSQL database (named drills_<drill>_<random>, dropped at the end), the gateway's config,
  its central bank key, a development PKI, `gateway db upgrade`, gateway processes (`gateway serve` over mutual TLS,
  their output in a log file), funding every bank's wallet by a camt.050 conversion through the gateway (so the
  ledger's supply equals the fiat reserve at the RTGS, as `gateway ledger verify` checks).
- `Bank`: posts messages as a bank does, over mutual TLS with the bank's own client certificate, and classifies
  every answer: ACSC, RJCT with its reason code, 503 (with or without Retry-After), another status, or none at all
  (the connection broke or the answer did not come in time).
- `Payment`: one single-transaction pacs.008 of the drill's load (its BizMsgIdr = MsgId, UETR, parties, amount, its
  bytes) and every answer it got. `resend_unanswered` sends the very same bytes again until each has a final answer
  (ACSC or RJCT): the gateway's duplicate detection must answer a payment that had settled from its journal.
- `check`: the model (funding plus every payment whose final answer is ACSC) against the ledger as read from the
  database (every PAYMENT transfer by UETR, every bank's wallet balance). Any loss, double settlement, transfer
  nobody was told of, mismatch or negative wallet fails the drill; `gateway ledger verify` must pass too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Self

import aiohttp
import asyncpg

pg_url_default = "postgresql://postgres@127.0.0.1:5432/postgres"
central_bank = "CBRFRUMMXXX"
moscow = timezone(timedelta(hours=3))
# Every bank's RTGS account opens with this many kopecks in the simulator: enough for any funding a drill asks.
rtgs_opening_kopecks = 10**14
startup_seconds_max = 60
answer_seconds_max = 15.0  # an answer later than this counts as none: the bank gives up and re-sends
resend_seconds_max = 120.0  # how long the re-sending goes on before the unanswered left count as lost


def banks(count: int) -> list[str]:
    """BAAKRUMMXXX, BABKRUMMXXX, ...: well-formed BICs of made-up banks."""
    return [f"B{chr(65 + i // 26)}{chr(65 + i % 26)}KRUMMXXX" for i in range(count)]


def rtgs_account(index: int) -> str:
    """A bank's fiat account at the RTGS: never the reserve account's number (30101810000000000001)."""
    return f"301018102{index:011d}"


def today() -> str:
    return datetime.now(moscow).date().isoformat()


def amount(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def envelope(sender: str, message_id: str, definition: str, document: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="urn:cryptoruble:gateway:envelope:1">'
        '<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">'
        f"<Fr><FIId><FinInstnId><BICFI>{sender}</BICFI></FinInstnId></FIId></Fr>"
        f"<To><FIId><FinInstnId><BICFI>{central_bank}</BICFI></FinInstnId></FIId></To>"
        f"<BizMsgIdr>{message_id}</BizMsgIdr><MsgDefIdr>{definition}</MsgDefIdr>"
        f"<CreDt>{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}</CreDt></AppHdr>"
        + document + "</Envelope>"
    ).encode()


def pacs_008(debtor: str, creditor: str, message_id: str, uetr: uuid.UUID, kopecks: int, day: str) -> bytes:
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf><GrpHdr>'
        f"<MsgId>{message_id}</MsgId><CreDtTm>{day}T12:00:00+03:00</CreDtTm><NbOfTxs>1</NbOfTxs>"
        f"<IntrBkSttlmDt>{day}</IntrBkSttlmDt><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>"
        f"<InstgAgt><FinInstnId><BICFI>{debtor}</BICFI></FinInstnId></InstgAgt>"
        f"<InstdAgt><FinInstnId><BICFI>{central_bank}</BICFI></FinInstnId></InstdAgt></GrpHdr>"
        f"<CdtTrfTxInf><PmtId><EndToEndId>{message_id}</EndToEndId><UETR>{uetr}</UETR></PmtId>"
        f'<IntrBkSttlmAmt Ccy="RUB">{amount(kopecks)}</IntrBkSttlmAmt>'
        "<ChrgBr>SLEV</ChrgBr><Dbtr><Nm>OOO Severny Veter</Nm></Dbtr>"
        "<DbtrAcct><Id><Othr><Id>40702810938000012345</Id></Othr></Id></DbtrAcct>"
        f"<DbtrAgt><FinInstnId><BICFI>{debtor}</BICFI></FinInstnId></DbtrAgt>"
        f"<CdtrAgt><FinInstnId><BICFI>{creditor}</BICFI></FinInstnId></CdtrAgt>"
        "<Cdtr><Nm>AO Uralskaya Stal</Nm></Cdtr>"
        "<CdtrAcct><Id><Othr><Id>40702810700000004567</Id></Othr></Id></CdtrAcct>"
        "</CdtTrfTxInf></FIToFICstmrCdtTrf></Document>"
    )
    return envelope(debtor, message_id, "pacs.008.001.08", document)


def camt_050(bank: str, index: int, message_id: str, kopecks: int, day: str) -> bytes:
    """A mint: `kopecks` fiat from the bank's RTGS account into its wallet <bank>/main."""
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.050.001.05"><LqdtyCdtTrf>'
        f"<MsgHdr><MsgId>{message_id}</MsgId><CreDtTm>{day}T09:00:00+03:00</CreDtTm></MsgHdr>"
        f"<LqdtyCdtTrf><LqdtyTrfId><EndToEndId>{message_id}</EndToEndId><UETR>{uuid.uuid4()}</UETR></LqdtyTrfId>"
        f"<Cdtr><FinInstnId><BICFI>{bank}</BICFI></FinInstnId></Cdtr>"
        f"<CdtrAcct><Id><Othr><Id>{bank}/main</Id><SchmeNm><Prtry>CRUB-WALLET</Prtry></SchmeNm>"
        f"<Issr>{central_bank}</Issr></Othr></Id><Ccy>RUB</Ccy></CdtrAcct>"
        f'<TrfdAmt><AmtWthCcy Ccy="RUB">{amount(kopecks)}</AmtWthCcy></TrfdAmt>'
        f"<Dbtr><FinInstnId><BICFI>{bank}</BICFI></FinInstnId></Dbtr>"
        f"<DbtrAcct><Id><Othr><Id>{rtgs_account(index)}</Id></Othr></Id><Ccy>RUB</Ccy></DbtrAcct>"
        f"<SttlmDt>{day}</SttlmDt></LqdtyCdtTrf></LqdtyCdtTrf></Document>"
    )
    return envelope(bank, message_id, "camt.050.001.05", document)


# --- answers -------------------------------------------------------------------------------------------------------

_status = re.compile(rb"<(?:TxSts|GrpSts|StsCd)>(\w{4})</")
_reason = re.compile(rb"<Rsn><Cd>(\w{4})</Cd>")


@dataclass(frozen=True)
class Answer:
    """What one attempt got. kind: "ACSC", "RJCT" (reason: its code), "503", "HTTP" (another status: reason says
    which), "unreached" (no connection could be opened: the gateway is down and never saw the request) or "none"
    (sent, and no answer: the connection broke, or the answer came too late)."""

    kind: str
    reason: str = ""
    retry_after: bool = False
    instance: int = 0  # which gateway answered (drills with more than one)
    outcome: str = ""  # X-Gateway-Outcome: "accepted", or "replayed" when answered from the journal

    @property
    def final(self) -> bool:
        return self.kind in ("ACSC", "RJCT")

    def describe(self) -> str:
        return f"{self.kind} {self.reason}".strip()


def classify(status: int, headers: dict[str, str], body: bytes, instance: int = 0) -> Answer:
    if status == 503:
        return Answer("503", retry_after="Retry-After" in headers, instance=instance)
    if status != 200:
        return Answer("HTTP", str(status), instance=instance)
    found = _status.search(body)
    outcome = headers.get("X-Gateway-Outcome", "")
    if found is None:
        return Answer("HTTP", f"200 without a status: {body[:200]!r}", instance=instance, outcome=outcome)
    if found.group(1) == b"ACSC":
        return Answer("ACSC", instance=instance, outcome=outcome)
    reason = _reason.search(body)
    return Answer("RJCT", (reason.group(1) if reason else found.group(1)).decode(), instance=instance,
                  outcome=outcome)


@dataclass
class Payment:
    message_id: str
    uetr: uuid.UUID
    debtor: str
    creditor: str
    kopecks: int
    body: bytes
    answers: list[Answer] = field(default_factory=list)

    @property
    def final(self) -> Answer | None:
        """Its settled fate as the bank heard it: the first ACSC or RJCT."""
        return next((a for a in self.answers if a.final), None)


class Payments:
    """The drill's load: single-transaction pacs.008 between random banks, drawn from the seed."""

    def __init__(self, drill: str, seed: int, bank_bics: Sequence[str], kopecks_range: tuple[int, int]) -> None:
        self.random = random.Random(seed)
        self.prefix = f"DRILL-{drill[:4].upper()}-{seed}"
        self.banks = list(bank_bics)
        self.kopecks_range = kopecks_range
        self.day = today()
        self.made: list[Payment] = []

    def next(self) -> Payment:
        debtor, creditor = self.random.sample(self.banks, 2)
        message_id = f"{self.prefix}-{len(self.made):07d}"
        uetr = uuid.UUID(int=self.random.getrandbits(128), version=4)
        kopecks = self.random.randint(*self.kopecks_range)
        payment = Payment(message_id, uetr, debtor, creditor, kopecks,
                          pacs_008(debtor, creditor, message_id, uetr, kopecks, self.day))
        self.made.append(payment)
        return payment


# --- the banks' side -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    started: float  # time.monotonic()
    finished: float
    answer: Answer


class Banks:
    """One HTTP client per bank, each presenting the bank's own client certificate (mutual TLS)."""

    def __init__(self, certs_dir: Path, bank_bics: Iterable[str], connections_per_bank: int = 4) -> None:
        self.sessions: dict[str, aiohttp.ClientSession] = {}
        self.timeline: list[Exchange] = []  # every request, for drills that judge answers by when they came
        for bic in [*bank_bics, central_bank]:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(certs_dir / "ca.pem"))
            context.load_cert_chain(certs_dir / f"{bic}.pem", certs_dir / f"{bic}.key")
            connector = aiohttp.TCPConnector(ssl=context, limit=connections_per_bank)
            self.sessions[bic] = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=answer_seconds_max)
            )

    async def close(self) -> None:
        for session in self.sessions.values():
            await session.close()

    async def post(self, sender: str, port: int, body: bytes, instance: int = 0) -> Answer:
        started = time.monotonic()
        try:
            async with self.sessions[sender].post(
                f"https://127.0.0.1:{port}/v1/messages", data=body, headers={"Content-Type": "application/xml"}
            ) as response:
                answer = classify(response.status, dict(response.headers), await response.read(), instance)
        except aiohttp.ClientConnectorError:
            answer = Answer("unreached", instance=instance)
        except (aiohttp.ClientError, OSError, TimeoutError):
            answer = Answer("none", instance=instance)
        self.timeline.append(Exchange(started, time.monotonic(), answer))
        return answer

    async def send(self, payment: Payment, port: int, instance: int = 0) -> Answer:
        answer = await self.post(payment.debtor, port, payment.body, instance)
        payment.answers.append(answer)
        return answer


async def closed_loop(banks: Banks, payments: Payments, ports: Sequence[int], connections: int,
                      stop: asyncio.Event, both: bool = False) -> None:
    """`connections` senders, each sending its next payment when the previous one was answered, until `stop`. A
    payment that reached no gateway (no connection) is tried again after a pause, as it never left the bank; one
    that was sent and got no final answer is left for the re-sending at the end, as a bank's reconciliation would,
    and the sender pauses a little before its next payment. `both`: every payment goes to every port at once
    (conflicting load on several instances); otherwise each sender keeps to one port."""

    async def send(payment: Payment, number: int) -> list[Answer]:
        if both:
            return list(await asyncio.gather(*(banks.send(payment, port, i) for i, port in enumerate(ports))))
        return [await banks.send(payment, ports[number % len(ports)])]

    async def sender(number: int) -> None:
        while not stop.is_set():
            payment = payments.next()
            answers = await send(payment, number)
            while all(a.kind == "unreached" for a in answers) and not stop.is_set():
                await asyncio.sleep(0.2)
                answers = await send(payment, number)
            if not all(a.final for a in answers):
                await asyncio.sleep(0.2)

    await asyncio.gather(*(sender(n) for n in range(connections)))


async def resend_unanswered(banks: Banks, payments: Sequence[Payment], ports: Sequence[int]) -> list[Payment]:
    """Send every payment without a final answer again, the very same bytes (same BizMsgIdr, same UETR), until it
    has one or resend_seconds_max passed; returns those that were re-sent."""
    unanswered = [p for p in payments if p.final is None]
    deadline = time.monotonic() + resend_seconds_max
    queue = list(unanswered)
    while queue and time.monotonic() < deadline:
        batch, queue = queue[:16], queue[16:]
        answers = await asyncio.gather(*(banks.send(p, ports[i % len(ports)]) for i, p in enumerate(batch)))
        retry = [p for p, a in zip(batch, answers, strict=True) if not a.final]
        if retry:
            await asyncio.sleep(0.5)
        queue.extend(retry)
    return unanswered


# --- the check -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settled:
    """A PAYMENT transfer in the ledger."""

    uetr: uuid.UUID
    debtor: str
    creditor: str
    kopecks: int


@dataclass
class Verdict:
    sent: int = 0
    acknowledged: int = 0  # answered ACSC during the load, before the re-sending
    acknowledged_settled_once: int = 0
    resent: int = 0
    resent_settled: int = 0
    resent_replayed: int = 0  # re-sent payments answered from the journal: they had settled, unanswered
    lost: list[str] = field(default_factory=list)  # answered ACSC, not in the ledger
    doubled: list[str] = field(default_factory=list)  # more than one transfer for one UETR
    unexplained: list[str] = field(default_factory=list)  # a transfer of a payment answered RJCT, or of none sent
    mismatched: list[str] = field(default_factory=list)  # a transfer whose parties or amount differ from the payment
    never_answered: list[str] = field(default_factory=list)  # still no final answer after the re-sending
    negative: list[str] = field(default_factory=list)  # wallets below zero
    balance_breaks: list[str] = field(default_factory=list)  # wallet balance != the model's
    problems: list[str] = field(default_factory=list)  # the drill's own checks (503s, conflicting answers, ...)
    verified: bool | None = None  # `gateway ledger verify` passed

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.unexplained or self.mismatched or self.never_answered
                    or self.negative or self.balance_breaks or self.problems) and self.verified is True

    def summary(self) -> str:
        verify = {True: "ledger verify ok", False: "LEDGER VERIFY FAILED", None: "ledger verify not run"}
        balances = "balances = model" if not self.balance_breaks else f"{len(self.balance_breaks)} balances != model"
        parts = [
            f"{self.sent:,} payments sent, {self.acknowledged:,} acknowledged, {self.acknowledged_settled_once:,} "
            + "settled once",
            f"{self.resent:,} unanswered re-sent -> {self.resent_settled:,} settled at most once "
            + f"({self.resent_replayed:,} of them answered from the journal)",
            f"{len(self.lost)} lost, {len(self.doubled)} doubled",
        ]
        for label, found in (("unexplained transfers", self.unexplained), ("mismatched", self.mismatched),
                             ("never answered", self.never_answered), ("wallets below zero", self.negative)):
            if found:
                parts.append(f"{len(found)} {label}")
        parts += [verify[self.verified], balances]
        return ", ".join(parts)

    def details(self) -> list[str]:
        lines = []
        for label, found in (("lost", self.lost), ("doubled", self.doubled), ("unexplained", self.unexplained),
                             ("mismatched", self.mismatched), ("never answered", self.never_answered),
                             ("below zero", self.negative), ("balance", self.balance_breaks),
                             ("problem", self.problems)):
            lines += [f"{label}: {item}" for item in found[:10]]
        return lines


def check(payments: Sequence[Payment], resent: Sequence[Payment], settled: Sequence[Settled],
          funding: dict[str, int], balances: dict[str, int]) -> Verdict:
    """The model against the ledger. The model: each bank's funding, moved by every payment whose final answer is
    ACSC. The ledger must hold exactly one transfer for each of those, with its parties and amount, and none for any
    other payment; each wallet's balance must equal the model's and none may be below zero."""
    verdict = Verdict(sent=len(payments), resent=len(resent))
    transfers: dict[uuid.UUID, list[Settled]] = {}
    for transfer in settled:
        transfers.setdefault(transfer.uetr, []).append(transfer)
    known = {p.uetr for p in payments}
    for uetr, found in transfers.items():
        if len(found) > 1:
            verdict.doubled.append(f"UETR {uetr} settled {len(found)} times")
        if uetr not in known:
            verdict.unexplained.append(f"UETR {uetr}: a transfer of no payment the drill sent")
    resent_ids = {p.message_id for p in resent}
    model = dict(funding)
    for payment in payments:
        found = transfers.get(payment.uetr, [])
        final = payment.final
        if final is None:
            verdict.never_answered.append(f"{payment.message_id}: {[a.describe() for a in payment.answers]}")
        elif final.kind == "ACSC":
            model[payment.debtor] -= payment.kopecks
            model[payment.creditor] += payment.kopecks
            if not found:
                verdict.lost.append(f"{payment.message_id} (UETR {payment.uetr}) answered ACSC, not in the ledger")
        elif found:
            verdict.unexplained.append(f"{payment.message_id} answered {final.describe()}, yet settled")
        for transfer in found[:1]:
            if (transfer.debtor, transfer.creditor, transfer.kopecks) != (
                payment.debtor, payment.creditor, payment.kopecks
            ):
                verdict.mismatched.append(f"{payment.message_id}: sent {payment.debtor}->{payment.creditor} "
                                          f"{payment.kopecks}, settled {transfer}")
        settled_once = len(found) == 1
        if final is not None and final.kind == "ACSC" and payment.message_id not in resent_ids:
            verdict.acknowledged += 1
            verdict.acknowledged_settled_once += settled_once
        if payment.message_id in resent_ids:
            verdict.resent_settled += settled_once
            verdict.resent_replayed += final is not None and final.outcome == "replayed"
    for bic in sorted(set(model) | set(balances)):
        expected, actual = model.get(bic), balances.get(bic)
        if expected != actual:
            verdict.balance_breaks.append(f"{bic}/main: ledger {actual}, model {expected}")
        if actual is not None and actual < 0:
            verdict.negative.append(f"{bic}/main: {actual}")
    return verdict


def report(drill: str, verdict: Verdict, extra: str = "") -> int:
    """Print what went wrong (if anything) and the figure line; the exit status: 0 only when every check held."""
    for line in verdict.details():
        print(f"  {line}")
    figures = f"{extra}, " if extra else ""
    print(f"drill {drill}: {figures}{verdict.summary()}" + ("" if verdict.ok else " -> FAILED"))
    return 0 if verdict.ok else 1


# --- the site: database, config, PKI, gateway processes ------------------------------------------------------------


def gateway_command() -> list[str]:
    found = shutil.which("gateway", path=str(Path(sys.executable).parent)) or shutil.which("gateway")
    if found is None:
        raise SystemExit("the `gateway` command is not installed: pip install the project first")
    return [found]


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class Site:
    """Everything a drill's gateways run on; `with Site(...) as site:` drops the database and files at the end."""

    def __init__(self, drill: str, pg_admin_url: str, bank_count: int, limits_toml: str = "") -> None:
        self.drill = drill
        self.admin_url = _plain(pg_admin_url)
        self.database = f"drills_{drill}_{uuid.uuid4().hex[:8]}"
        self.database_url = self.admin_url.rsplit("/", 1)[0] + "/" + self.database
        self.banks = banks(bank_count)
        self.limits_toml = limits_toml
        self.workdir = Path(tempfile.mkdtemp(prefix=f"drills-{drill}-"))
        self.certs_dir = self.workdir / "certs"
        self.config_path = self.workdir / "gateway.toml"
        self.environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def __enter__(self) -> Self:
        try:
            asyncio.run(self._admin(f'CREATE DATABASE "{self.database}"'))
        except (OSError, asyncpg.PostgresError) as error:
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise SystemExit(f"cannot create the drill's database on {self.admin_url}: {error}") from None
        try:
            self.write_config(self.config_path, self.database_url)
            self.run("keys", "init")
            self.run("db", "upgrade")
            self.run("certs", "init", str(self.certs_dir))
        except BaseException:
            self.__exit__()  # no scratch database left behind
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            self.stop(process)
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        shutil.rmtree(self.workdir, ignore_errors=True)

    async def _admin(self, statement: str) -> None:
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    def write_config(self, path: Path, database_url: str) -> Path:
        participants = "".join(
            f'[[participants]]\nbic = "{bic}"\nname = "Bank {bic[:4]}"\nrtgs_account = "{rtgs_account(i)}"\n'
            'wallets = ["main"]\n\n'
            for i, bic in enumerate(self.banks)
        )
        url = database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
        path.write_text(
            f'[database]\nurl = "{url}"\n\n[http]\nhost = "127.0.0.1"\n\n'
            f'[central_bank]\nbic = "{central_bank}"\nname = "Bank of Russia"\nsigning_key_file = "cb-key.pem"\n'
            'emission_cap_rub = "90000000000000000.00"\nreserve_rtgs_account = "30101810000000000001"\n\n'
            f'[rtgs]\nopening_balance_rub = "{amount(rtgs_opening_kopecks)}"\n\n'
            + participants + "[limits]\n" + self.limits_toml,
            encoding="utf-8",
        )
        return path

    def run(self, *arguments: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*gateway_command(), "--config", str(config or self.config_path), *arguments],
                              env=self.environment, capture_output=True, text=True, check=False)
        if done.returncode != 0 and arguments[:2] != ("ledger", "verify"):
            raise SystemExit(f"gateway {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")
        return done

    def start(self, port: int, workers: int = 1, config: Path | None = None) -> subprocess.Popen[bytes]:
        """`gateway serve` over mutual TLS on `port`, ready (its /readyz answered 200) when this returns."""
        log_path = self.workdir / f"gateway-{port}.log"
        command = [*gateway_command(), "--config", str(config or self.config_path), "serve", "--port", str(port),
                   "--workers", str(workers), "--tls-dir", str(self.certs_dir)]
        # Its output goes to a file: a pipe nobody reads would fill and stall it.
        with log_path.open("ab") as log:
            process = subprocess.Popen(command, env=self.environment, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        self.logs.append(log_path)
        self.wait_ready(port, process)
        return process

    def wait_ready(self, port: int, process: subprocess.Popen[bytes]) -> None:
        import http.client

        context = ssl.create_default_context(cafile=str(self.certs_dir / "ca.pem"))
        context.load_cert_chain(self.certs_dir / f"{central_bank}.pem", self.certs_dir / f"{central_bank}.key")
        deadline = time.monotonic() + startup_seconds_max
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.show_logs()
                raise SystemExit(f"the gateway on port {port} exited with {process.returncode} while starting")
            try:
                connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=context)
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.show_logs()
        raise SystemExit(f"the gateway on port {port} was not ready within {startup_seconds_max} s")

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def show_logs(self) -> None:
        for path in self.logs:
            print(f"--- {path.name} (last lines)", file=sys.stderr)
            print(path.read_text(errors="replace")[-3000:], file=sys.stderr)

    async def fund(self, banks_client: Banks, port: int, kopecks: int) -> dict[str, int]:
        """Every bank converts `kopecks` fiat into its wallet (camt.050 through the gateway); the funding by BIC."""
        day = today()
        for index, bic in enumerate(self.banks):
            body = camt_050(bic, index, f"DRILL-FUND-{index:03d}", kopecks, day)
            answer = await banks_client.post(bic, port, body)
            if answer.kind != "ACSC":
                self.show_logs()
                raise SystemExit(f"funding {bic} was answered {answer.describe()}")
        return {bic: kopecks for bic in self.banks}

    async def ledger(self) -> tuple[list[Settled], dict[str, int]]:
        """Every PAYMENT transfer, and every bank's wallet balance, read straight from the database's tables."""
        connection = await asyncpg.connect(self.database_url)
        try:
            rows = await connection.fetch(
                "SELECT t.uetr, d.owner_bic AS debtor, c.owner_bic AS creditor, t.amount_kopecks FROM transfers t "
                "JOIN accounts d ON d.id = t.debit_account_id JOIN accounts c ON c.id = t.credit_account_id "
                "WHERE t.kind = 'payment'"
            )
            wallets = await connection.fetch(
                "SELECT owner_bic, posted_kopecks FROM accounts WHERE kind = 'wallet' AND code = owner_bic || '/main'"
            )
        finally:
            await connection.close()
        settled = [Settled(r["uetr"], r["debtor"], r["creditor"], r["amount_kopecks"]) for r in rows]
        return settled, {r["owner_bic"]: r["posted_kopecks"] for r in wallets if r["owner_bic"] in self.banks}

    def verify(self) -> bool:
        done = self.run("ledger", "verify")
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
        return done.returncode == 0

    async def conclude(self, payments: Sequence[Payment], resent: Sequence[Payment],
                       funding: dict[str, int]) -> Verdict:
        settled, balances = await self.ledger()
        verdict = check(payments, resent, settled, funding, balances)
        verdict.verified = self.verify()
        return verdict


def arguments(description: str, full: dict[str, float], short: dict[str, float]) -> argparse.Namespace:
    """The options every drill takes; `full` and `short` are the drill's sizes (--short picks the small one)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="a small run (seconds to a minute), as CI runs it")
    parser.add_argument("--seed", type=int, default=1, help="drives the payments and the moments of the faults")
    parser.add_argument("--pg-url", default=os.environ.get("GATEWAY_BENCH_PG_URL", pg_url_default),
                        help="a PostgreSQL server where the drill may CREATE DATABASE (default: $GATEWAY_BENCH_PG_URL,"
                             " else the local trust-auth server)")
    parser.add_argument("--port", type=int, default=18600, help="the first of the ports the drill listens on")
    for name, value in full.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=None,
                            help=f"default {value:g}, with --short {short[name]:g}")
    args = parser.parse_args()
    for name in full:
        if getattr(args, name) is None:
            setattr(args, name, (short if args.short else full)[name])
    return args

