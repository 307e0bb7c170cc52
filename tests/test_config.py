"""Configuration is read once, checked completely, and every mistake names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from tests.conftest import write_config


def test_the_demo_config_loads_with_kopeck_exact_money() -> None:
    config = load_config(environ={})
    assert config.central_bank.bic == "CBRFRUMMXXX"
    assert config.central_bank.emission_cap_kopecks == 1_000_000_000_000_00
    sber = next(p for p in config.participants if p.bic == "SABRRUMMXXX")
    assert sber.transfer_max_kopecks == 10_000_000_000_00
    assert sber.wallets == ("main", "clients")
    assert config.database.url.startswith("sqlite+aiosqlite:///") and config.database.url.endswith("var/gateway.sqlite3")


def test_environment_overrides_take_precedence_and_are_validated(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3")
    config = load_config(path, environ={"GATEWAY_LIMITS__BATCH_TRANSFERS_MAX": "250", "GATEWAY_HTTP__PORT": "9000"})
    assert config.limits.batch_transfers_max == 250
    assert config.http.port == 9000
    # A relative SQLite path in a named config file is relative to that file.
    assert config.database.url == f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={"GATEWAY_LIMITS__BATCH_TRANSFERS_MAX": "0"})
    assert error.value.key == "limits.batch_transfers_max"
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={"GATEWAY_PARTICIPANTS__BIC": "X"})
    assert error.value.key == "GATEWAY_PARTICIPANTS__BIC"


@pytest.mark.parametrize(
    ("replace_from", "replace_to", "key"),
    [
        ('bic = "CBRFRUMMXXX"', 'bic = "cbrf"', "central_bank.bic"),
        ('emission_cap_rub = "1000000000.00"', "emission_cap_rub = 1000000000.0", "central_bank.emission_cap_rub"),
        ('emission_cap_rub = "1000000000.00"', 'emission_cap_rub = "10.001"', "central_bank.emission_cap_rub"),
        ('emission_cap_rub = "1000000000.00"', 'emission_cap_rub = "0.00"', "central_bank.emission_cap_rub"),
        ('name = "Bank of Russia"\n', "", "central_bank.name"),
        ('bic = "VTBRRUMMXXX"', 'bic = "SABRRUMMXXX"', "participants[1].bic"),
        ('bic = "VTBRRUMMXXX"', 'bic = "CBRFRUMMXXX"', "participants[1].bic"),
        ('clearing_code = "044525187"', 'clearing_code = "12"', "participants[1].clearing_code"),
        ('transfer_max_rub = "1000000.00"', 'transfer_max_rub = "-5.00"', "participants[0].transfer_max_rub"),
        ('wallets = ["main", "clients"]\ntransfer_max_rub', 'wallets = ["main", "main"]\ntransfer_max_rub', "participants[0].wallets"),
        ('name = "Sberbank"', 'name = "Sberbank"\ncolour = "green"', "participants[0]"),
        ("[limits]\n", "[limits]\nqueue_transfers_max = 0\n", "limits.queue_transfers_max"),
        ("[limits]\n", "[limits]\nbatch_size = 5\n", "limits"),
        ("[limits]\n", "[limits]\npending_timeout_seconds_default = 7200\npending_timeout_seconds_max = 3600\n",
         "limits.pending_timeout_seconds_default"),
        ("[database]\n", "[surprise]\nx = 1\n[database]\n", "surprise"),
        ('name = "Sberbank"', 'name = "Sberbank"\napp_hdr_version = "head.001.001.04"', "participants[0].app_hdr_version"),
        ('name = "Sberbank"', 'name = "Sberbank"\napp_hdr_version = "pacs.008.001.08"', "participants[0].app_hdr_version"),
        ('name = "Sberbank"', 'name = "Sberbank"\napp_hdr_version = "head.001.001.1"', "participants[0].app_hdr_version"),
        ('name = "Sberbank"', 'name = "Sberbank"\napp_hdr_version = 2', "participants[0].app_hdr_version"),
        ('name = "Sberbank"', 'name = "Sberbank"\nsignature_policy = "always"', "participants[0].signature_policy"),
        ('name = "Sberbank"', 'name = "Sberbank"\nstatus_reports = "negative"', "participants[0].status_reports"),
        ('name = "Sberbank"', 'name = "Sberbank"\nstatus_reports = "Exceptions"', "participants[0].status_reports"),
        ('name = "Sberbank"', 'name = "Sberbank"\nstatus_reports = true', "participants[0].status_reports"),
        ('name = "Sberbank"', 'name = "Sberbank"\nsignature_policy = "required"',
         "participants[0].signing_certificates"),
        ('name = "Sberbank"', 'name = "Sberbank"\nsigning_certificates = "sber.pem"',
         "participants[0].signing_certificates"),
        ('name = "Sberbank"', 'name = "Sberbank"\nsigning_certificates = ["a.pem", "b.pem", "c.pem", "d.pem", "e.pem"]',
         "participants[0].signing_certificates"),
        ("[limits]\n", '[message_signing]\ncertificate_file = "gw.pem"\n[limits]\n', "message_signing.key_file"),
        ("[limits]\n", '[message_signing]\nkey_file = "gw.key"\n[limits]\n', "message_signing.certificate_file"),
        ("[limits]\n", '[message_signing]\nkey_file = "k"\ncertificate_file = "c"\nnext = "n"\n[limits]\n',
         "message_signing"),
        # A bank's RTGS account that is the reserve account, or another bank's.
        ('rtgs_account = "30101810700000000187"', 'rtgs_account = "30101810000000000001"', "participants[1].rtgs_account"),
        ('rtgs_account = "30101810700000000187"', 'rtgs_account = "30101810400000000225"', "participants[1].rtgs_account"),
    ],
)
def test_each_bad_value_is_refused_naming_its_key(tmp_path: Path, replace_from: str, replace_to: str, key: str) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3")
    text = path.read_text()
    assert replace_from in text
    path.write_text(text.replace(replace_from, replace_to, 1))
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert error.value.key == key, str(error.value)


def test_databases_that_would_lose_data_or_are_unknown_are_refused(tmp_path: Path) -> None:
    for url in ("sqlite+aiosqlite:///:memory:", "mysql://root@localhost/db"):
        path = write_config(tmp_path, url)
        with pytest.raises(ConfigError) as error:
            load_config(path, environ={})
        assert error.value.key == "database.url"


def test_a_missing_or_broken_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[database\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken, environ={})


def test_a_participant_may_name_the_app_hdr_version_of_everything_sent_to_it(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3")
    text = path.read_text()
    text = text.replace('name = "Sberbank"', 'name = "Sberbank"\napp_hdr_version = "head.001.001.01"', 1)
    path.write_text(text.replace('name = "VTB Bank"', 'name = "VTB Bank"\napp_hdr_version = "head.001.001.03"', 1))
    config = load_config(path, environ={})
    by_bic = {p.bic: p.app_hdr_version for p in config.participants}
    assert {bic: str(version) for bic, version in by_bic.items() if version is not None} == {
        "SABRRUMMXXX": "head.001.001.01",
        "VTBRRUMMXXX": "head.001.001.03",
    }
    assert by_bic["ALFARUMMXXX"] is None  # not set: answers follow the message answered


@pytest.mark.parametrize(("participant_bic", "cb_bic"), [("VTBRRU0MXXX", "CBRFRUMMXXX"), ("VTBRRUMMXXX", "CBRFRU1MXXX")])
def test_the_first_app_hdr_version_needs_bics_of_its_pattern(tmp_path: Path, participant_bic: str, cb_bic: str) -> None:
    """head.001.001.01 writes BICs under the pattern of 2013: a bank that asks for it, and the central bank that
    sends it everything, must have such a BIC (0 as the seventh character is a BIC since 2014 only)."""
    path = write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3")
    text = path.read_text().replace('bic = "VTBRRUMMXXX"', f'bic = "{participant_bic}"', 1)
    text = text.replace('bic = "CBRFRUMMXXX"', f'bic = "{cb_bic}"', 1)
    path.write_text(text.replace('name = "VTB Bank"', 'name = "VTB Bank"\napp_hdr_version = "head.001.001.01"', 1))
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert error.value.key == "participants[1].app_hdr_version"
    assert "VTBRRU0MXXX" in str(error.value) or "CBRFRU1MXXX" in str(error.value)
    path.write_text(text.replace('name = "VTB Bank"', 'name = "VTB Bank"\napp_hdr_version = "head.001.001.02"', 1))
    assert str(load_config(path, environ={}).participants[1].app_hdr_version) == "head.001.001.02"


def test_signing_is_optional_by_default_and_its_files_are_relative_to_the_config(tmp_path: Path) -> None:
    """Without a word about signing, an existing config keeps working: every bank "optional", no gateway key."""
    path = write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3")
    config = load_config(path, environ={})
    assert {p.signature_policy for p in config.participants} == {"optional"}
    assert {p.signing_certificates for p in config.participants} == {()}
    assert config.message_signing is None
    text = path.read_text().replace(
        'name = "Sberbank"', 'name = "Sberbank"\nsignature_policy = "required"\n'
        'signing_certificates = ["certs/sber-2026.pem", "/etc/sber-2027.pem"]', 1
    )
    text = text.replace('name = "VTB Bank"', 'name = "VTB Bank"\nsignature_policy = "off"', 1)
    text += '\n[message_signing]\nkey_file = "keys/gw.key"\ncertificate_file = "keys/gw.pem"\n'
    path.write_text(text + 'next_certificate_file = "keys/gw-next.pem"\n')
    config = load_config(path, environ={})
    sber, vtb, alfa = config.participants
    assert (sber.signature_policy, vtb.signature_policy, alfa.signature_policy) == ("required", "off", "optional")
    assert sber.signing_certificates == (tmp_path / "certs/sber-2026.pem", Path("/etc/sber-2027.pem"))
    assert config.message_signing is not None
    assert config.message_signing.key_file == tmp_path / "keys/gw.key"
    assert config.message_signing.certificate_file == tmp_path / "keys/gw.pem"
    assert config.message_signing.next_certificate_file == tmp_path / "keys/gw-next.pem"


def test_status_reports_are_full_unless_a_participant_asks_for_exceptions_only(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3")
    assert {p.status_reports for p in load_config(path, environ={}).participants} == {"full"}
    text = path.read_text().replace('name = "Sberbank"', 'name = "Sberbank"\nstatus_reports = "exceptions"', 1)
    path.write_text(text.replace('name = "VTB Bank"', 'name = "VTB Bank"\nstatus_reports = "full"', 1))
    sber, vtb, alfa = load_config(path, environ={}).participants
    assert (sber.status_reports, vtb.status_reports, alfa.status_reports) == ("exceptions", "full", "full")


def test_a_bad_status_reports_value_is_refused_with_the_values_allowed(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite+aiosqlite:///ledger.sqlite3")
    text = path.read_text()
    path.write_text(text.replace('name = "VTB Bank"', 'name = "VTB Bank"\nstatus_reports = "negative"', 1))
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert error.value.key == "participants[1].status_reports"
    assert str(error.value).startswith("config participants[1].status_reports: 'negative'")
    assert '"full"' in str(error.value) and '"exceptions"' in str(error.value)


def test_the_ops_listener_and_the_log_have_safe_defaults_and_take_environment_overrides() -> None:
    demo = load_config(environ={})
    assert (demo.http.ops_host, demo.http.ops_port) == ("127.0.0.1", 9464)  # loopback: no certificate asked there
    assert (demo.log.format, demo.log.level) == ("console", "INFO")
    config = load_config(environ={"GATEWAY_HTTP__OPS_HOST": "0.0.0.0", "GATEWAY_HTTP__OPS_PORT": "19464",
                                  "GATEWAY_LOG__FORMAT": "json", "GATEWAY_LOG__LEVEL": "WARNING"})
    assert (config.http.ops_host, config.http.ops_port) == ("0.0.0.0", 19464)
    assert (config.log.format, config.log.level) == ("json", "WARNING")


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"GATEWAY_HTTP__OPS_PORT": "70000"}, "http.ops_port"),
        ({"GATEWAY_HTTP__OPS_PORT": "8443"}, "http.ops_port"),  # the banks' port of the demo: one listener each
        ({"GATEWAY_LOG__FORMAT": "xml"}, "log.format"),
        ({"GATEWAY_LOG__LEVEL": "LOUD"}, "log.level"),
        ({"GATEWAY_LOG__COLOUR": "red"}, "log"),
    ],
)
def test_a_bad_ops_listener_or_log_setting_names_its_key(environ: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(environ=environ)
    assert error.value.key == key
