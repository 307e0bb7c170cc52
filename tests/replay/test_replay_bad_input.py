"""What `gateway replay` cannot run it refuses with a sentence naming the file, bank or folder, exit status 2, no
traceback, and nothing recorded: unreadable, non-XML and envelope-less files, bad manifests, missing certificates,
an unreachable gateway, certificates of the wrong CA, and a golden folder that does not fit the files."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.config import load_config
from gateway.replay.client import Identities
from gateway.security.certs import parties_of, write_development_pki
from tests.conftest import write_config
from tests.replay.conftest import TlsGateway, day_folder, replay

Capture = pytest.CaptureFixture[str]
payment = (Path(__file__).resolve().parents[2] / "gateway" / "examples" / "pacs.008-single.xml").read_text()


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    """A development PKI for the test configuration's participants (no gateway needs to run for these tests)."""
    config = load_config(write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite3'}"), environ={})
    folder = tmp_path / "certs"
    parties = parties_of(config)
    write_development_pki(folder, parties[0], parties, force=False)
    return folder


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"https://127.0.0.1:{port}"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["replay", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return status, captured.out + captured.err


def folder_with(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    folder = tmp_path / "messages"
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def test_a_file_that_is_not_xml_is_named(
    tmp_path: Path, certs: Path, closed_port_url: str, capsys: Capture
) -> None:
    folder = folder_with(tmp_path, {"a.xml": payment, "nested/b.xml": "PAY 100 RUB"})
    status, output = run(capsys, str(folder), "--url", closed_port_url, "--certs", str(certs))
    assert status == 2
    assert "nested/b.xml: not a message to send: not well-formed XML" in output


def test_a_file_that_is_not_utf8_is_named(
    tmp_path: Path, certs: Path, closed_port_url: str, capsys: Capture
) -> None:
    folder = folder_with(tmp_path, {"a.xml": b"<?xml version='1.0'?><Envelope>\xff</Envelope>"})
    status, output = run(capsys, str(folder), "--url", closed_port_url, "--certs", str(certs))
    assert status == 2
    assert "a.xml: not UTF-8 text (byte 31)" in output


def test_an_unreadable_file_is_named(
    tmp_path: Path, certs: Path, closed_port_url: str, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = folder_with(tmp_path, {"a.xml": payment})
    read_bytes = Path.read_bytes

    def refuse(path: Path) -> bytes:  # tests run as root, whom chmod 000 does not stop
        if path.name == "a.xml":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    status, output = run(capsys, str(folder), "--url", closed_port_url, "--certs", str(certs))
    assert status == 2
    assert "a.xml: unreadable: Permission denied" in output


def test_a_file_in_an_envelope_the_gateway_does_not_take_is_named(
    tmp_path: Path, certs: Path, closed_port_url: str, capsys: Capture
) -> None:
    wrapped = payment.replace('<Envelope xmlns="urn:cryptoruble:gateway:envelope:1">', "<Wrapper>").replace(
        "</Envelope>", "</Wrapper>")
    folder = folder_with(tmp_path, {"a.xml": wrapped})
    status, output = run(capsys, str(folder), "--url", closed_port_url, "--certs", str(certs))
    assert status == 2
    assert "a.xml: not a message to send: root element Wrapper is not an envelope the gateway accepts" in output


def test_a_placeholder_that_cannot_be_filled_is_named(
    tmp_path: Path, certs: Path, closed_port_url: str, capsys: Capture
) -> None:
    folder = folder_with(tmp_path, {"a.xml": payment.replace("{{today}}", "{{yesterday}}")})
    status, output = run(capsys, str(folder), "--url", closed_port_url, "--certs", str(certs))
    assert status == 2
    assert "a.xml, line" in output and "unknown placeholder {{yesterday}}" in output


@pytest.mark.parametrize(
    ("manifest", "says"),
    [
        ("[[step]]\n[[step.file]]\npath = 'missing.xml'\n", "step 1, file 1: missing.xml: no such file"),
        ("[[step]]\n[[step.file]]\npath = 'a.xml'\nsent_by = 'X'\n", "unknown key sent_by"),
        ("[[step]]\n[[step.file]]\npath = '../a.xml'\n", "must stay inside"),
        ("[[step]]\n[[step.file]]\npath = 'a.xml'\nraw = true\n", "a raw file is not read, so it needs `as`"),
        ("[[step]]\n[[step.file]]\npath = 'a.xml'\nenvelope = 'soap'\n", "envelope = 'soap': one of gateway"),
        ("[[step]]\n[[step.file]]\npath = 'a.xml'\nexpect = { http = true }\n", "http must be a int"),
        ("title = 'x'\n", "no [[step]]"),
        ("[[step\n", "not valid TOML"),
    ],
)
def test_a_bad_manifest_is_named_with_what_is_wrong(
    tmp_path: Path, certs: Path, closed_port_url: str, capsys: Capture, manifest: str, says: str
) -> None:
    folder = folder_with(tmp_path, {"a.xml": payment, "replay.toml": manifest})
    status, output = run(capsys, str(folder), "--url", closed_port_url, "--certs", str(certs))
    assert status == 2
    assert "replay.toml" in output and says in output


def test_a_sender_without_a_certificate_is_named(
    tmp_path: Path, certs: Path, closed_port_url: str, capsys: Capture
) -> None:
    (certs / "SABRRUMMXXX.key").unlink()
    folder = folder_with(tmp_path, {"a.xml": payment})
    status, output = run(capsys, str(folder), "--url", closed_port_url, "--certs", str(certs))
    assert status == 2
    assert f"a.xml: to be sent as SABRRUMMXXX, but {certs} holds no SABRRUMMXXX.pem and SABRRUMMXXX.key" in output


def test_an_unreachable_gateway_is_named_and_nothing_is_recorded(
    tmp_path: Path, certs: Path, closed_port_url: str, capsys: Capture
) -> None:
    folder = folder_with(tmp_path, {"a.xml": payment})
    goldens = tmp_path / "goldens"
    status, output = run(capsys, str(folder), "--url", closed_port_url, "--certs", str(certs), "--record", str(goldens))
    assert status == 2
    assert f"cannot connect to {closed_port_url}" in output
    assert "nothing recorded" in output
    assert not goldens.exists()
    assert [p.name for p in tmp_path.iterdir() if "goldens" in p.name] == [], "no temporary folder left behind"


def test_a_golden_folder_of_other_files_is_refused_before_anything_is_sent(
    tmp_path: Path, certs: Path, closed_port_url: str, capsys: Capture
) -> None:
    # The URL is unreachable: the golden folder must be refused before the replay tries to connect.
    folder = folder_with(tmp_path, {"a.xml": payment})
    goldens = tmp_path / "goldens"
    goldens.mkdir()
    (goldens / "b.golden.xml").write_text("<Golden file='b.xml'/>", encoding="utf-8")
    status, output = run(capsys, str(folder), "--url", closed_port_url, "--certs", str(certs), "--expect", str(goldens))
    assert status == 2
    assert f"{goldens}/b.golden.xml: a golden for no file of {folder}" in output
    (goldens / "b.golden.xml").unlink()
    status, output = run(capsys, str(folder), "--url", closed_port_url, "--certs", str(certs), "--expect", str(goldens))
    assert status == 2
    assert "a.golden.xml: no golden for a.xml" in output
    status, output = run(capsys, str(folder), "--url", closed_port_url, "--certs", str(certs),
                         "--expect", str(tmp_path / "none"))
    assert status == 2
    assert "no golden folder there" in output


def test_recording_over_a_folder_that_holds_other_files_is_refused(
    tmp_path: Path, certs: Path, closed_port_url: str, capsys: Capture
) -> None:
    from gateway.replay.goldens import GoldenError, write_goldens

    target = tmp_path / "notes"
    target.mkdir()
    (target / "todo.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(GoldenError, match="holds files that are not goldens"):
        write_goldens(target, {"a.golden.xml": b"<Golden/>"})
    assert (target / "todo.txt").read_text(encoding="utf-8") == "keep me"
    assert not (target / "a.golden.xml").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_certificates_of_another_ca_are_refused_with_a_clear_message(
    tls_gateway: TlsGateway, tmp_path: Path
) -> None:
    config = load_config(write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"), environ={})
    stranger = tmp_path / "stranger"
    parties = parties_of(config)
    write_development_pki(stranger, parties[0], parties, force=False)
    goldens = tmp_path / "goldens"

    # Our client certificates from another CA, the gateway's CA to check the server: the gateway refuses us.
    mixed = tmp_path / "mixed"
    shutil.copytree(stranger, mixed)
    shutil.copy(tls_gateway.certs / "ca.pem", mixed / "ca.pem")
    run = await replay(day_folder, tls_gateway.url, mixed, record=goldens)
    assert run.status == 2, run.output + run.errors
    assert "reading ALFARUMMXXX's mailbox before the run" in run.errors  # the first bank, before anything is sent
    assert "a client certificate the gateway does not trust?" in run.errors
    assert not goldens.exists()

    # Another CA altogether: the gateway's own certificate is not one we trust.
    run = await replay(day_folder, tls_gateway.url, stranger, record=goldens)
    assert run.status == 2, run.output + run.errors
    assert "server certificate" in run.errors and "is not one" in run.errors
    assert not goldens.exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("forced", ["--cert", "--as"])
async def test_one_forced_identity_sends_every_file(tls_gateway: TlsGateway, tmp_path: Path, forced: str) -> None:
    """--cert/--key/--cacert, or --as BIC with a certificates folder: every file goes as that one bank, whatever its
    AppHdr says. The mailboxes read are those the replay can read: with --cert that bank's alone, with --as every
    bank involved (here Sberbank, and VTB whose AppHdr the file carries)."""
    folder = folder_with(tmp_path, {"a.xml": payment.replace("SABRRUMMXXX", "VTBRRUMMXXX")})
    certs = tls_gateway.certs
    if forced == "--cert":
        identities = Identities(ca_file=certs / "ca.pem", forced_files=(certs / "SABRRUMMXXX.pem",
                                                                        certs / "SABRRUMMXXX.key"))
    else:
        identities = Identities(ca_file=certs / "ca.pem", certs_dir=certs, forced_bic="SABRRUMMXXX")
    run = await replay(folder, tls_gateway.url, certs, identities=identities)
    assert run.status == 0, run.output + run.errors
    # VTB's message sent with Sberbank's certificate: refused as sent in another bank's name.
    row = next(line for line in run.output.splitlines() if "a.xml" in line)
    assert "SABRRUMMXXX" in row and "403" in row and "AG01" in row
    assert ("mailboxes of 1 bank " if forced == "--cert" else "mailboxes of 2 banks ") in run.output
