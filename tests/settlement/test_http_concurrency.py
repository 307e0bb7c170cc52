"""Hundreds of pacs.008 posted at once over HTTP settle as if one by one: the database balances are the funding plus
exactly the ACSC transactions the answers report, no kopeck is created or lost, every settled payment is forwarded
once; a message or UETR posted many times at once settles once. Two gateway processes on one PostgreSQL likewise."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from gateway.config import load_config
from gateway.domain.journal import payment_transfer_id
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from gateway.ledger.signing import load_public_key
from gateway.ledger.verify import verify_ledger
from tests.conftest import open_ledger, write_config
from tests.settlement.builders import ALFA, SBER, VTB, Tx, pacs_008, today_in_moscow
from tests.settlement.conftest import (
    BANKS,
    FUNDED_TOTAL,
    FUNDING,
    ClientFactory,
    GatewayUnderTest,
    Message,
    StatusReport,
    status_report,
)

repo_root = Path(__file__).resolve().parents[2]
seed = 20261124


@dataclass(frozen=True)
class Sent:
    sender: str
    message_id: str
    transactions: list[Tx]
    payload: bytes


def workload(rng: random.Random, count: int, prefix: str) -> list[Sent]:
    """`count` messages of one to three payments between the three banks: mostly up to 150,000.00, one in ten
    between 1,000,000.00 and 2,500,000.00 (above Sberbank's per-payment limit, beyond most balances)."""
    sent = []
    today = today_in_moscow()
    for n in range(count):
        sender = rng.choice(BANKS)
        transactions = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            creditor = rng.choice([bank for bank in BANKS if bank != sender])
            big = rng.random() < 0.1
            kopecks = rng.randint(1_000_000_00, 2_500_000_00) if big else rng.randint(1, 150_000_00)
            transactions.append(Tx(sender, creditor, kopecks, uetr=uuid.UUID(int=rng.getrandbits(128), version=4)))
        message_id = f"{prefix}-{sender[:4]}-{n:04d}"
        sent.append(Sent(sender, message_id, transactions, pacs_008(sender, message_id, transactions, today)))
    return sent


@dataclass
class Model:
    """The sequential model: the funding, plus each transaction an answer reports ACSC, applied to a dictionary."""

    balances: dict[str, int]
    settled: dict[str, tuple[str, str, int]]  # ledger transfer id (hex) -> (debtor, creditor, kopecks)
    forwarded: Counter[tuple[str, str]]  # (creditor, UETR) of every ACSC: what the creditor agents must receive
    reasons: Counter[str]

    @classmethod
    def of(cls, sent: list[Sent], reports: list[StatusReport]) -> Model:
        model = cls(dict(FUNDING), {}, Counter(), Counter())
        for message, report in zip(sent, reports, strict=True):
            assert report.group.text("OrgnlMsgId") == message.message_id
            statuses = report.transactions
            assert [s.uetr for s in statuses] == [str(tx.uetr) for tx in message.transactions]
            for tx, status in zip(message.transactions, statuses, strict=True):
                if status.status == "RJCT":
                    model.reasons.update(status.reasons)
                    continue
                assert (status.status, status.reasons) == ("ACSC", ())
                assert status.clearing_reference == payment_transfer_id(tx.debtor_agent, tx.uetr).hex
                model.balances[tx.debtor_agent] -= tx.kopecks
                model.balances[tx.creditor_agent] += tx.kopecks
                model.settled[status.clearing_reference] = (tx.debtor_agent, tx.creditor_agent, tx.kopecks)
                model.forwarded[(tx.creditor_agent, str(tx.uetr))] += 1
            kinds = {s.status for s in statuses}
            if len(kinds) == 1:
                assert report.group_status == kinds.pop() and report.counts == {}
            else:
                assert report.group_status == "PART"
                assert report.counts == dict(Counter(s.status for s in statuses))
        return model


def forwarded_uetrs(creditor: str, messages: list[Message]) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for message in messages:
        if message.kind == "pacs.008.001.08":
            found.update((creditor, uetr) for uetr in message.document.texts("FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/UETR"))
    return found


async def test_hundreds_of_simultaneous_messages_settle_as_the_sequential_model_says(gw: GatewayUnderTest) -> None:
    sent = workload(random.Random(seed), 300, "LOAD")
    answers = await asyncio.gather(*(gw.post(message.payload) for message in sent))
    assert [a.status for a in answers] == [200] * len(sent)
    reports = [status_report(a.body) for a in answers]
    for report in reports:
        report.message.assert_official()
    model = Model.of(sent, reports)

    # Enough of both outcomes for the model to mean something (the workload is seeded: these are its figures).
    settled, rejected = len(model.settled), sum(model.reasons.values())
    print(f"{len(sent)} messages: {settled} payments settled, rejected {dict(model.reasons)}")
    assert settled + rejected == sum(len(m.transactions) for m in sent)
    assert settled >= 150 and model.reasons["AM04"] >= 20, (settled, model.reasons)
    assert set(model.reasons) <= {"AM04", "AM02"}, model.reasons

    assert await gw.balances() == model.balances
    assert sum(model.balances.values()) == FUNDED_TOTAL == await gw.wallets_total()
    assert all(kopecks >= 0 for kopecks in model.balances.values())
    assert await gw.payments_settled() == model.settled
    found: Counter[tuple[str, str]] = Counter()
    for bank in BANKS:
        found += forwarded_uetrs(bank, await gw.whole_mailbox(bank))
    assert found == model.forwarded  # every settled payment forwarded once, nothing else
    report = await verify_ledger(gw.gateway.store, load_public_key(gw.config.central_bank.signing_key_file))
    assert report.ok, report.first_break


# The auto-batcher as configured by default, and lingering 50 ms for a batch to fill (batch_wait_us, a tunable limit
# allowed up to 100 ms): then the copies of a message land in one batch with it and meet there.
batch_waits = pytest.mark.parametrize(
    "limits_toml", [pytest.param("", id="default"), pytest.param("batch_wait_us = 50000\n", id="lingering")]
)


@batch_waits
async def test_one_message_posted_twenty_times_at_once_settles_once_with_one_answer(
    make_gateway: ClientFactory, limits_toml: str
) -> None:
    gw = await make_gateway(limits_toml=limits_toml)
    for n in range(3):  # three storms, each of twenty copies of one message
        payload = pacs_008(SBER, f"SBER-STORM-{n}", [Tx(SBER, VTB, 123_456_78), Tx(SBER, ALFA, 9_99)],
                           today_in_moscow())  # fmt: skip
        answers = await asyncio.gather(*(gw.post(payload) for _ in range(20)))
        assert [a.status for a in answers] == [200] * 20, [a.body for a in answers if a.status != 200][:1]
        assert len({a.body for a in answers}) == 1
        assert Counter(a.headers["X-Gateway-Outcome"] for a in answers) == {"accepted": 1, "replayed": 19}
        assert status_report(answers[0].body).group_status == "ACSC"
    # 123,456.78 + 9.99 = 123,466.77, three times (once per message): 370,400.31 in all.
    assert await gw.balances() == {SBER: 2_629_599_69, VTB: 2_370_370_34, ALFA: 1_000_029_97}
    assert len(await gw.payments_settled()) == 6
    assert len(await gw.whole_mailbox(SBER)) == 3
    assert len(await gw.whole_mailbox(VTB)) == len(await gw.whole_mailbox(ALFA)) == 3


@batch_waits
async def test_one_uetr_in_twenty_messages_at_once_settles_once_and_the_rest_are_dupl(
    make_gateway: ClientFactory, limits_toml: str
) -> None:
    gw = await make_gateway(limits_toml=limits_toml)
    uetr = uuid.uuid4()
    payloads = [
        pacs_008(VTB, f"VTB-RACE-{n:02d}", [Tx(VTB, SBER, 500_000_00, uetr=uetr)], today_in_moscow())
        for n in range(20)
    ]
    answers = await asyncio.gather(*(gw.post(payload) for payload in payloads))
    assert [a.status for a in answers] == [200] * 20, [a.body for a in answers if a.status != 200][:1]
    statuses = [status_report(a.body).transactions[0] for a in answers]
    assert Counter((s.status, s.reasons) for s in statuses) == {("ACSC", ()): 1, ("RJCT", ("DUPL",)): 19}
    assert await gw.balances() == {SBER: 3_500_000_00, VTB: 1_500_000_00, ALFA: 1_000_000_00}
    assert await gw.payments_settled() == {payment_transfer_id(VTB, uetr).hex: (VTB, SBER, 500_000_00)}
    assert len(await gw.whole_mailbox(SBER)) == 1


# --------------------------------------------------------------------------------------------------------------
# Two `gateway serve` processes on one PostgreSQL
# --------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gateway_command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gateway.cli.main", "--config", str(config), *args]


async def _fund(config_path: Path) -> None:
    under_test = await open_ledger(load_config(config_path, environ={}))
    try:
        mints = [
            TransferRequest(
                uuid.uuid4(), under_test.issuance, under_test.id_of(f"{bic}/main"), kopecks, TransferKind.MINT,
                "CBRFRUMMXXX:MINT",
            )
            for bic, kopecks in FUNDING.items()
        ]
        assert await under_test.ledger.apply(mints) == [TransferResult.OK] * len(mints)
    finally:
        await under_test.store.close()


async def _read_back(config_path: Path) -> tuple[dict[str, int], int, bool]:
    config = load_config(config_path, environ={})
    under_test = await open_ledger(config)
    try:
        balances = await under_test.balances()
        report = await verify_ledger(under_test.store, load_public_key(config.central_bank.signing_key_file))
        return {bic: balances[f"{bic}/main"] for bic in BANKS}, report.transfers_checked, report.ok
    finally:
        await under_test.store.close()


async def _post_to_both(ports: list[int], sent: list[Sent]) -> list[list[tuple[int, bytes, str]]]:
    """Every message to both processes at once, to the first in message order and to the second in reverse, so
    that each wins about half of the races; each process's answers are returned in message order."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:

        async def post(port: int, payload: bytes) -> tuple[int, bytes, str]:
            async with session.post(f"http://127.0.0.1:{port}/v1/messages", data=payload,
                                    headers={"Content-Type": "application/xml"}) as response:  # fmt: skip
                return response.status, await response.read(), response.headers.get("X-Gateway-Outcome", "")

        count = len(sent)
        orders = [list(range(count)), list(reversed(range(count)))]
        posts = [post(ports[p], sent[orders[p][k]].payload) for k in range(count) for p in (0, 1)]
        flat = await asyncio.gather(*posts)
    answers: list[list[tuple[int, bytes, str]]] = [[(0, b"", "")] * count for _ in ports]
    for position, answer in enumerate(flat):
        k, p = divmod(position, 2)
        answers[p][orders[p][k]] = answer
    return answers


async def _wait_ready(ports: list[int], processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        for port, process, log in zip(ports, processes, logs, strict=True):
            while True:
                assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")[-3000:]
                assert time.monotonic() < deadline, f"gateway on port {port} not ready in 30 s"
                try:
                    async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)


@pytest.mark.postgres
@pytest.mark.slow
def test_two_gateway_processes_on_one_postgresql_settle_each_message_once(postgres_url: str, tmp_path: Path) -> None:
    config_path = write_config(tmp_path, postgres_url)
    upgrade = subprocess.run(gateway_command(config_path, "db", "upgrade"), cwd=repo_root, capture_output=True,
                             text=True, timeout=120, check=False)  # fmt: skip
    assert upgrade.returncode == 0, upgrade.stderr
    asyncio.run(_fund(config_path))
    sent = workload(random.Random(seed + 2), 120, "TWO")
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"gateway-{port}.log" for port in ports]
    processes = []
    for port, log in zip(ports, logs, strict=True):
        with log.open("wb") as stderr:  # the child keeps its own descriptor
            processes.append(
                subprocess.Popen(
                    gateway_command(config_path, "serve", "--plain-http", "--host", "127.0.0.1", "--port", str(port)),
                    cwd=repo_root, stdout=subprocess.DEVNULL, stderr=stderr,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
            )
    try:
        asyncio.run(_wait_ready(ports, processes, logs))
        per_process = asyncio.run(_post_to_both(ports, sent))
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    for log in logs:  # nothing went wrong inside either process
        text = log.read_text(encoding="utf-8", errors="replace")
        assert "Traceback" not in text and "CRITICAL" not in text, text[-4000:]

    first, second = per_process
    reports = []
    for message, (status_1, body_1, outcome_1), (status_2, body_2, outcome_2) in zip(sent, first, second, strict=True):
        assert (status_1, status_2) == (200, 200), (message.message_id, body_1[:300], body_2[:300])
        # One process settled it and the other answered from the journal: byte for byte the same answer.
        assert body_1 == body_2, message.message_id
        assert sorted((outcome_1, outcome_2)) == ["accepted", "replayed"], (message.message_id, outcome_1, outcome_2)
        report = status_report(body_1)
        report.message.assert_official()
        reports.append(report)
    accepted = [sum(outcome == "accepted" for _, _, outcome in answers) for answers in per_process]
    assert min(accepted) >= 10, accepted  # both processes really settled messages, not one of them alone
    model = Model.of(sent, reports)
    print(f"messages settled by each process: {accepted}; payments settled {len(model.settled)}, {dict(model.reasons)}")
    assert len(model.settled) >= 60 and model.reasons["AM04"] >= 5, (len(model.settled), model.reasons)

    balances, transfers_checked, chain_ok = asyncio.run(_read_back(config_path))
    assert balances == model.balances
    assert sum(balances.values()) == FUNDED_TOTAL
    assert transfers_checked == len(FUNDING) + len(model.settled)  # the mints, and each payment once
    assert chain_ok
