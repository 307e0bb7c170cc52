"""The shipped examples are what they say: every flow's message passes every layer of the gateway for the demo's banks
and the official ISO 20022 schemas, in each envelope; each mistake is refused with the code its manifest entry writes
down (where the message layer alone decides it); messages that refer to earlier ones quote them in full; and
`gateway example` prints any of them, filled, in any envelope."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from lxml import etree

from gateway.cli.main import main
from gateway.config import load_config
from gateway.messages.envelope import unwrap
from gateway.messages.identity import MessageId
from gateway.messages.intake import Accepted, intake
from gateway.messages.rules import RuleContext
from gateway.messages.safe_xml import parse_bounded
from gateway.registry import account_code
from gateway.replay.envelopes import EnvelopeKind, read_message, rewrap
from gateway.replay.examples import example_names, example_path, examples_dir
from gateway.replay.fill import Filler
from tests.message_layer.support import assert_official

demo = load_config(examples_dir.parent / "demo.toml", environ={})
manifest = tomllib.loads((examples_dir / "replay.toml").read_text(encoding="utf-8"))
manifest_entries = {entry["path"]: entry for step in manifest["step"] for entry in step["file"]}
flows = [name for name in example_names() if not name.startswith("invalid/")]
mistakes = [name for name in example_names() if name.startswith("invalid/")]
# Mistakes the message layer refuses by itself; the others need the ledger, a certificate or an earlier message
# (AM04, AG01, DUPL, RC02 at settlement) and are checked by replaying the set (test_replay_examples.py).
refused_before_settlement = {
    "invalid/amount-format": "CH20",
    "invalid/bad-namespace": "FF01",
    "invalid/missing-uetr": "CH21",
    "invalid/currency-not-rub": "AM03",
    "invalid/settlement-date-too-far": "DT04",
    "invalid/settlement-date-past": "DT01",
    "invalid/unknown-creditor-agent": "CNOR",
    "invalid/not-xml.txt": "FF01",
}


def filled(names: list[str]) -> dict[str, bytes]:
    """The examples filled in one run, as a replay of them fills them."""
    filler = Filler.starting_now()
    files = {}
    for name in names:
        path = example_path(name)
        assert path is not None, name
        files[name] = filler.fill(path.read_text(encoding="utf-8"), name).encode()
    return files


def demo_context(today, sender: str) -> RuleContext:  # type: ignore[no-untyped-def]
    return RuleContext(
        today=today,
        central_bank_bic=demo.central_bank.bic,
        participants=frozenset(p.bic for p in demo.participants),
        suspended_participants=frozenset(),
        settlement_days_ahead_max=30,
        authenticated_bic=sender,
        rtgs_accounts={p.bic: p.rtgs_account for p in demo.participants},
        wallets=frozenset(account_code(p.bic, wallet) for p in demo.participants for wallet in p.wallets),
    )


def sender_of(data: bytes) -> str:
    sender = read_message(data).sender_bic  # AppHdr/Fr, in the namespace of the AppHdr's version
    assert sender is not None
    return sender


def test_there_is_an_example_of_every_flow_a_bank_sends() -> None:
    documents = {}
    for name, data in filled(flows).items():
        unwrapped = unwrap(parse_bounded(data))
        documents.setdefault(str(unwrapped.message_id), []).append(name)
    assert set(documents) == {
        "pacs.008.001.08", "pacs.009.001.08", "pacs.004.001.09", "pacs.028.001.03", "camt.056.001.08",
        "camt.029.001.09", "camt.050.001.05", "camt.060.001.05",
    }
    assert len(documents["pacs.008.001.08"]) == 3 and len(documents["camt.050.001.05"]) == 2
    # Reports of both kinds are asked: an intraday report (camt.052) and a closed day's statement (camt.053).
    asked = set()
    for name in documents["camt.060.001.05"]:
        document = unwrap(parse_bounded(filled([name])[name])).document
        asked |= {e.text for e in document.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "ReqdMsgNmId"}
    assert asked == {"camt.052.001.08", "camt.053.001.08"}


@pytest.mark.parametrize("kind", list(EnvelopeKind))
def test_every_flow_passes_every_layer_of_the_gateway_in_each_envelope(kind: EnvelopeKind) -> None:
    filler_today = Filler.starting_now().today
    for name, data in filled(flows).items():
        message = rewrap(data, kind)
        outcome = intake(message, allow_bare_document=False, context=demo_context(filler_today, sender_of(data)))
        assert isinstance(outcome, Accepted), (name, kind, getattr(outcome, "rejections", None))


@pytest.mark.parametrize("kind", list(EnvelopeKind))
def test_each_envelope_carries_the_same_apphdr_and_document(kind: EnvelopeKind) -> None:
    for name, data in filled(flows).items():
        original, other = unwrap(parse_bounded(data)), unwrap(parse_bounded(rewrap(data, kind)))
        assert other.kind.value == {"busmsg": "swift", "saa": "saa_data_pdu"}.get(kind.value, kind.value), name
        for before, after in ((original.app_hdr, other.app_hdr), (original.document, other.document)):
            assert _c14n(before) == _c14n(after), name


def _c14n(element: etree._Element) -> bytes:
    """Exclusive canonical XML: the namespaces an element uses, not those its envelope had in scope."""
    return etree.tostring(element, method="c14n", exclusive=True)


def test_every_flow_is_valid_against_the_official_schemas() -> None:
    for data in filled(flows).values():
        unwrapped = unwrap(parse_bounded(data))
        assert_official(_alone(unwrapped.app_hdr), unwrapped.app_hdr_version)
        assert_official(_alone(unwrapped.document), unwrapped.message_id)


def _alone(element: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(element))


@pytest.mark.parametrize(("name", "code"), sorted(refused_before_settlement.items()))
def test_each_mistake_is_refused_with_the_code_written_down(name: str, code: str) -> None:
    path = example_path(name)
    assert path is not None
    entry = manifest_entries[path.relative_to(examples_dir).as_posix()]
    assert entry["expect"]["reasons"][0] == code, "the manifest writes down the code this test checks"
    data = filled([name])[name]
    sender = entry.get("as", "SABRRUMMXXX")
    outcome = intake(data, allow_bare_document=False, context=demo_context(Filler.starting_now().today, sender))
    assert not isinstance(outcome, Accepted), name
    assert outcome.rejections[0].code == code, (name, outcome.rejections)


def test_the_manifest_sends_every_example_but_two_it_explains() -> None:
    listed = {Path(path).with_suffix("").as_posix() if path.endswith(".xml") else path for path in manifest_entries}
    assert set(example_names()) - listed == {"pacs.008-notprovided", "camt.060-statement"}
    manifest_text = (examples_dir / "replay.toml").read_text(encoding="utf-8")
    assert "pacs.008-notprovided.xml shows the same on its own; it is not" in manifest_text
    assert "Nor is camt.060-statement.xml" in manifest_text
    assert b"<EndToEndId>NOTPROVIDED</EndToEndId>" in (examples_dir / "pacs.008-notprovided.xml").read_bytes()
    # The set itself repeats NOTPROVIDED, within the bulk payment and on every run.
    assert (examples_dir / "pacs.008-multi.xml").read_bytes().count(b"<EndToEndId>NOTPROVIDED</EndToEndId>") == 2
    for mistake in mistakes:
        assert manifest_entries[example_path(mistake).relative_to(examples_dir).as_posix()]["expect"]["reasons"]


@pytest.mark.parametrize("name", ["pacs.004", "pacs.028", "camt.056", "camt.029"])
def test_messages_about_the_payment_quote_its_full_reference(name: str) -> None:
    files = filled(["pacs.008-single", name])
    payment, about = (unwrap(parse_bounded(files[n])).document for n in ("pacs.008-single", name))
    header = unwrap(parse_bounded(files["pacs.008-single"])).app_hdr

    def text(element: etree._Element, local: str) -> str:
        found = [e.text for e in element.iter() if isinstance(e.tag, str) and etree.QName(e).localname == local]
        assert found, (name, local)
        return found[0]

    assert text(about, "OrgnlMsgId") == text(header, "BizMsgIdr") == text(payment, "MsgId")
    assert text(about, "OrgnlMsgNmId") == "pacs.008.001.08"
    assert text(about, "OrgnlCreDtTm") == text(payment, "CreDtTm")
    for original, reference in (("InstrId", "OrgnlInstrId"), ("EndToEndId", "OrgnlEndToEndId"),
                                ("TxId", "OrgnlTxId"), ("UETR", "OrgnlUETR")):
        assert text(about, reference) == text(payment, original), (name, reference)
    parties = {etree.QName(e).localname for e in about.iter() if isinstance(e.tag, str)}
    assert {"OrgnlTxRef", "Dbtr", "DbtrAgt", "CdtrAgt", "Cdtr"} <= parties, name


def test_example_lists_and_prints_every_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example", "--list"]) == 0
    listing = capsys.readouterr().out
    assert [line.split()[0] for line in listing.splitlines()] == example_names()
    assert main(["example", "invalid/not-xml.txt"]) == 0
    assert capsys.readouterr().out.startswith("PAY ")
    assert main(["example", "pacs.008-typo"]) == 2
    assert "no example called 'pacs.008-typo'" in capsys.readouterr().err


def test_example_prints_a_filled_message_in_the_envelope_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example", "pacs.009", "--envelope", "saa"]) == 0
    printed = capsys.readouterr().out.encode()
    assert b"{{" not in printed
    unwrapped = unwrap(parse_bounded(printed))
    assert unwrapped.kind.value == "saa_data_pdu" and unwrapped.message_id == MessageId("pacs", "009", "001", "08")


def test_example_values_carry_references_from_one_message_to_the_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = tmp_path / "values.json"
    assert main(["example", "pacs.008-single", "--values", str(values)]) == 0
    payment = capsys.readouterr().out
    assert main(["example", "pacs.004", "--values", str(values)]) == 0
    payment_return = capsys.readouterr().out
    uetr = json.loads(values.read_text())["{{uuid:single}}"]
    assert f"<UETR>{uetr}</UETR>" in payment and f"<OrgnlUETR>{uetr}</OrgnlUETR>" in payment_return


def test_validate_fills_placeholders_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(example_path(name)) for name in flows]
    assert main(["validate", "--fill", *files]) == 0
    out = capsys.readouterr().out
    assert out.count(": valid") == len(flows)
    assert main(["validate", str(example_path("pacs.008-single"))]) == 1, "unfilled, {{id:single}} is no MsgId"


def _documented_answers() -> dict[str, str]:
    """The examples README's tables: each example's "the answer" column, by example name."""
    documented = {}
    for line in (examples_dir / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and cells[0].endswith("`"):
            documented[cells[0].strip("`")] = cells[-1]
    return documented


@pytest.mark.parametrize("name", sorted(_documented_answers()))
def test_the_readme_tells_each_examples_answer_as_the_manifest_expects_it(name: str) -> None:
    """What a newcomer reads an example is answered with is what `gateway replay` checks it is answered with."""
    told = _documented_answers()[name]
    entry = manifest_entries.get(f"{name}.xml") or manifest_entries.get(name)
    if entry is None:
        assert "not in the replay set" in told, f"{name} is neither replayed nor said not to be"
        return
    expect = entry["expect"]
    said_http = re.findall(r"HTTP (\d{3})", told)
    assert [int(status) for status in said_http] == ([expect["http"]] if expect["http"] != 200 else []), told
    answer = expect.get("answer")
    named = re.findall(r"\b((?:pacs|camt|admi)\.\d{3})\b", told)
    if answer is None:
        assert not named or not told.startswith(named[0]), told
    else:
        assert named and named[0] == answer[:8], f"{name}: the README says {told!r}, the manifest {answer}"
    codes = set(re.findall(r"\b([A-Z]{4}|[A-Z]{2}\d{2})\b", told)) - {"HTTP"}
    assert codes <= {expect.get("status"), *expect.get("reasons", ())}, f"{name}: {told!r} against {expect}"
    # It names the status, except of an admi.002, a rejection by itself, whose reason it names instead.
    said = set(expect.get("reasons", ())) if answer == "admi.002.001.01" else {expect.get("status")} - {None}
    assert said <= codes, f"{name}: the README does not say {sorted(said - codes)}: {told!r}"
