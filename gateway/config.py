"""The gateway's configuration: one frozen, validated value, read from a TOML file plus environment overrides.

Environment overrides use GATEWAY_<SECTION>__<KEY>, e.g. GATEWAY_DATABASE__URL or GATEWAY_LIMITS__BATCH_TRANSFERS_MAX.
Every problem is reported as a ConfigError naming the key, at start-up, before anything is opened.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any

from gateway import bounds
from gateway.domain.calendar import BusinessCalendar
from gateway.domain.money import AmountError, kopecks_from_text

demo_config_path = Path(__file__).with_name("demo.toml")
demo_found_by = "no --config, $GATEWAY_CONFIG or ./gateway.toml: the packaged demo"
local_config_name = "gateway.toml"
env_prefix = "GATEWAY_"

# ISO 9362 BIC: institution (4 letters), country (2 letters), location (2), optional branch (3).
_bic_pattern = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")
# BICFIIdentifier and AnyBICIdentifier of head.001.001.01: a BIC as ISO 9362 wrote it before its 2014 revision, with
# letters only in the first six characters, neither 0 nor 1 first in the location code, no O second.
_bic_2013_pattern = re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?")
_wallet_name_pattern = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_rtgs_account_pattern = re.compile(r"[0-9A-Z]{1,34}")
_clearing_code_pattern = re.compile(r"[0-9]{9}")  # Russian BIK, carried as ClrSysMmbId (RUCBC)
_webhook_url_pattern = re.compile(r"https?://[^\s]{1,2000}")
_path_pattern = re.compile(r"[^\x00]{1,4096}")
# What a participant's app_hdr_version may name: the AppHdr versions the gateway writes. Settings sit below the message
# layer, so the names are written here; gateway.messages.writers asserts that it has a writer for each.
app_hdr_version_names = ("head.001.001.01", "head.001.001.02", "head.001.001.03")
_app_hdr_of_2013 = "head.001.001.01"  # the AppHdr version that names banks only by BICs of the pattern of 2013
# What a participant's signature_policy may be (gateway.messages.signing says what each does to its messages).
signature_policy_names = ("required", "optional", "off")
# Optional by default: an existing config, whose banks sign nothing yet, keeps working (an unsigned message is taken
# as before), while a signature that is sent is checked, never ignored, and the gateway's own messages are signed as
# soon as [message_signing] names its key. "required" is each bank's switch once it signs everything.
signature_policy_default = "optional"
# What a participant's status_reports may be: the pacs.002 answering its payment message lists every transaction
# ("full"), or only those not settled ("exceptions"); the group status and counts always cover them all. Full by
# default: an existing config's banks keep the answers they read today.
status_reports_names = ("full", "exceptions")
status_reports_default = "full"


class ConfigError(ValueError):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config {key}: {problem}")
        self.key = key
        self.problem = problem


def canonical_bic(bic: str) -> str:
    """The 11-character form of a BIC: an 8-character BIC names the head office, branch code XXX."""
    return bic if len(bic) == 11 else bic + "XXX"


def is_bic(text: str) -> bool:
    return _bic_pattern.fullmatch(text) is not None


def is_bic_2013(text: str) -> bool:
    """Whether a BIC fits the pattern of 2013, as head.001.001.01 names banks (see _bic_2013_pattern)."""
    return _bic_2013_pattern.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str


@dataclass(frozen=True, slots=True)
class HttpConfig:
    host: str
    port: int
    mailbox_retention_days: int  # how long a message stays readable with GET /v1/messages
    tls_dir: Path  # server.pem, server.key and ca.pem (the CA that issues participants' client certificates)
    # The ops listener: /healthz, /readyz and /metrics in plain HTTP without a client certificate, for a load
    # balancer and Prometheus. Loopback by default; port 0 takes any free port (tests), named in the start-up log.
    ops_host: str
    ops_port: int


@dataclass(frozen=True, slots=True)
class LogConfig:
    format: str  # "console": a line to read; "json": one JSON object a line, for a log collector
    level: str  # DEBUG, INFO, WARNING or ERROR


@dataclass(frozen=True, slots=True)
class CentralBankConfig:
    bic: str
    name: str
    signing_key_file: Path
    emission_cap_kopecks: int
    reserve_rtgs_account: str


@dataclass(frozen=True, slots=True)
class RtgsConfig:
    """The central bank's fiat RTGS, the other side of every conversion (gateway.conversion)."""

    adapter: str  # "embedded": the simulator in the gateway's own database; "http": an RTGS over ISO 20022/HTTP
    url: str | None  # http: the RTGS's base URL (https:// uses the gateway's certificate from http.tls_dir)
    bic: str  # the RTGS's BIC: the AppHdr To of the gateway's requests
    timeout_ms: int  # one RTGS call; a call without an answer by then has an unknown outcome and is retried
    # The embedded simulator and `gateway rtgs-sim`: the fiat each participant's RTGS account opens with.
    opening_balance_kopecks: int
    # A conversion whose fiat is not committed by then is unwound: its hold released, its pending mint voided.
    conversion_timeout_seconds: int


@dataclass(frozen=True, slots=True)
class BusinessDaysConfig:
    """The business calendar (gateway.domain.calendar): when a business day ends, which days are none, and whether
    a serving gateway closes each day at its cut-off by itself."""

    calendar: BusinessCalendar
    close_automatically: bool


@dataclass(frozen=True, slots=True)
class ParticipantConfig:
    bic: str
    name: str
    clearing_code: str | None
    rtgs_account: str
    wallets: tuple[str, ...]
    transfer_max_kopecks: int | None
    balance_max_kopecks: int | None
    webhook_url: str | None  # where the outbox relay pushes this bank's messages; None: it reads its mailbox
    credit_notifications: bool  # whether it wants a camt.054 for every credit to its wallets
    # The AppHdr version every message to it is written in (one of app_hdr_version_names); None: an answer takes the
    # version of the message it answers, anything else head.001.001.02 (messages.writers.answer_app_hdr_version).
    app_hdr_version: str | None
    # Whether its messages must carry an XML signature in AppHdr/Sgntr (one of signature_policy_names), and whether
    # the gateway signs what it sends it ("off": not).
    signature_policy: str
    # Its registered message-signing certificates (PEM or DER files): each verifies its signatures while valid, so
    # that a new key can be registered beside the old one for a rotation's overlap.
    signing_certificates: tuple[Path, ...]
    # Which transactions the pacs.002 answering its pacs.008/009/004 lists (one of status_reports_names).
    status_reports: str


@dataclass(frozen=True, slots=True)
class MessageSigningConfig:
    """The gateway's own key for signing the messages it sends (AppHdr/Sgntr), and the certificates it publishes.
    Read and checked at start-up by gateway.messages.signing.load_message_signing."""

    key_file: Path
    certificate_file: Path
    # The certificate of the key that comes next, published beside the current one before a rotation, so that banks
    # register it before the gateway switches; None outside a rotation.
    next_certificate_file: Path | None


@dataclass(frozen=True, slots=True)
class Limits:
    request_bytes_max: int
    request_timeout_ms: int
    header_timeout_ms: int
    body_timeout_ms: int
    idle_timeout_ms: int
    shutdown_timeout_ms: int
    connections_max: int
    connections_per_certificate_max: int
    batch_transfers_max: int
    batch_wait_us: int
    queue_transfers_max: int
    batch_retries_max: int
    queue_wait_ms: int
    db_pool_connections_max: int
    db_connect_timeout_ms: int
    db_checkout_timeout_ms: int
    db_statement_timeout_ms: int
    treasury_refresh_ms: int
    pending_timeout_seconds_default: int
    pending_timeout_seconds_max: int
    outbound_schema_check_every: int


assert {f.name for f in fields(Limits)} == set(bounds.tunable_limits), "Limits and bounds.tunable_limits diverge"


@dataclass(frozen=True, slots=True)
class Config:
    source: str  # where it was read from, for the start-up banner
    found_by: str  # how: --config, $GATEWAY_CONFIG, ./gateway.toml, or the demo (config.find_config)
    database: DatabaseConfig
    http: HttpConfig
    central_bank: CentralBankConfig
    participants: tuple[ParticipantConfig, ...]
    limits: Limits
    rtgs: RtgsConfig
    business_days: BusinessDaysConfig
    log: LogConfig
    message_signing: MessageSigningConfig | None = None  # None: the gateway signs nothing it sends

    @property
    def is_demo(self) -> bool:
        """The packaged demo, found because no other config was named: it may create its key and PKI itself."""
        return self.found_by == demo_found_by

    @property
    def sqlite_path(self) -> Path | None:
        """The file of an embedded SQLite database, None for a server database."""
        prefix = "sqlite+aiosqlite:///"
        return Path(self.database.url.removeprefix(prefix)) if self.database.url.startswith(prefix) else None


def find_config(path: Path | None, environ: Mapping[str, str], cwd: Path) -> tuple[Path, str]:
    """Which config file to read, and how it was found: --config, else $GATEWAY_CONFIG, else ./gateway.toml in the
    working directory, else the packaged demo."""
    if path is not None:
        return path, "--config"
    if environ.get(env_prefix + "CONFIG"):
        return Path(environ[env_prefix + "CONFIG"]), f"${env_prefix}CONFIG"
    local = cwd / local_config_name
    if local.is_file():
        return local, f"./{local_config_name}"
    return demo_config_path, demo_found_by


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the config file (see find_config) and apply environment overrides."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd()
    source_path, found_by = find_config(path, environ, cwd)
    try:
        raw = tomllib.loads(source_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("file", f"{source_path} (named by {found_by}) does not exist") from None
    except IsADirectoryError:
        raise ConfigError("file", f"{source_path} (named by {found_by}) is a directory, not a TOML file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("file", f"{source_path} is not valid TOML: {error}") from None
    _apply_environment(raw, environ)
    # Relative paths in a config file are relative to that file; the demo's are relative to the working directory,
    # so that the demo keeps its database and key under ./var of wherever it is started.
    base_dir = cwd if found_by == demo_found_by else source_path.parent
    return _parse(raw, str(source_path), found_by, base_dir)


def load_demo_config() -> Config:
    """The packaged demo config as `gateway demo` runs it: its files under ./var of the working directory, and no
    --config, $GATEWAY_CONFIG, ./gateway.toml or GATEWAY_* override, since the demo replaces its own database and
    must never be pointed at another."""
    raw = tomllib.loads(demo_config_path.read_text(encoding="utf-8"))
    return _parse(raw, str(demo_config_path), demo_found_by, Path.cwd())


def _apply_environment(raw: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, value in environ.items():
        if not name.startswith(env_prefix) or "__" not in name:
            continue
        section, _, key = name[len(env_prefix) :].lower().partition("__")
        if section == "participants":
            raise ConfigError(name, "participants cannot be overridden from the environment")
        table = raw.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(section, "must be a table")
        table[key] = value


class _Reader:
    """Pulls typed values out of one TOML table, naming the full key in every error."""

    def __init__(self, table: Any, key: str) -> None:
        if not isinstance(table, dict):
            raise ConfigError(key, "must be a table")
        self.table = dict(table)
        self.key = key

    def _name(self, name: str) -> str:
        return f"{self.key}.{name}"

    def text(self, name: str, default: str | None = None, pattern: re.Pattern[str] | None = None) -> str:
        value = self.table.pop(name, default)
        if value is None:
            raise ConfigError(self._name(name), "is required")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(self._name(name), "must be a non-empty string")
        if pattern is not None and pattern.fullmatch(value) is None:
            raise ConfigError(self._name(name), f"{value!r} does not match {pattern.pattern}")
        return value

    def optional_text(self, name: str, pattern: re.Pattern[str] | None = None) -> str | None:
        if name not in self.table:
            return None
        return self.text(name, pattern=pattern)

    def integer(self, name: str, default: int | None, minimum: int, maximum: int) -> int:
        value = self.table.pop(name, default)
        if value is None:
            raise ConfigError(self._name(name), "is required")
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            value = int(value)  # environment overrides arrive as text
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self._name(name), f"must be an integer, got {value!r}")
        if not minimum <= value <= maximum:
            raise ConfigError(self._name(name), f"{value} is outside [{minimum}, {maximum}]")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.table.pop(name, default)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            value = value.strip().lower() == "true"  # environment overrides arrive as text
        if not isinstance(value, bool):
            raise ConfigError(self._name(name), f"must be true or false, got {value!r}")
        return value

    def roubles(self, name: str, required: bool) -> int | None:
        """Money is written as a string of roubles ("1000000.00"): a TOML float would already have lost kopecks."""
        if name not in self.table:
            if required:
                raise ConfigError(self._name(name), "is required")
            return None
        value = self.table.pop(name)
        if not isinstance(value, str):
            raise ConfigError(self._name(name), f'money must be a quoted rouble amount like "1000.00", got {value!r}')
        try:
            kopecks = kopecks_from_text(value)
        except AmountError as error:
            raise ConfigError(self._name(name), str(error)) from None
        if kopecks <= 0:
            raise ConfigError(self._name(name), "must be positive")
        return kopecks

    def list_of_text(
        self, name: str, pattern: re.Pattern[str], count_max: int, default: tuple[str, ...] | None = None,
        allow_empty: bool = False,
    ) -> tuple[str, ...]:
        value = self.table.pop(name, None if default is None else list(default))
        if not isinstance(value, list) or (not value and not allow_empty):
            raise ConfigError(self._name(name), "must be a non-empty list of strings")
        if len(value) > count_max:
            raise ConfigError(self._name(name), f"has {len(value)} entries, at most {count_max} allowed")
        for item in value:
            if not isinstance(item, str) or pattern.fullmatch(item) is None:
                raise ConfigError(self._name(name), f"{item!r} does not match {pattern.pattern}")
        if len(set(value)) != len(value):
            raise ConfigError(self._name(name), "has duplicate entries")
        return tuple(value)

    def finish(self) -> None:
        if self.table:
            unknown = ", ".join(sorted(self.table))
            raise ConfigError(self.key, f"unknown key(s): {unknown}")


def _parse(raw: dict[str, Any], source: str, found_by: str, base_dir: Path) -> Config:
    known_sections = {
        "database", "http", "central_bank", "participants", "limits", "rtgs", "business_days", "log", "message_signing"
    }
    unknown = set(raw) - known_sections
    if unknown:
        raise ConfigError(", ".join(sorted(unknown)), "unknown section")

    database = _Reader(raw.get("database", {}), "database")
    database_config = DatabaseConfig(url=_database_url(database, base_dir))
    database.finish()

    http = _Reader(raw.get("http", {}), "http")
    http_config = HttpConfig(
        host=http.text("host", default="127.0.0.1"),
        port=http.integer("port", default=8443, minimum=1, maximum=65535),
        mailbox_retention_days=http.integer(
            "mailbox_retention_days", default=bounds.mailbox_retention_days_default, minimum=1, maximum=3660
        ),
        tls_dir=base_dir / http.text("tls_dir", default="var/certs"),
        ops_host=http.text("ops_host", default="127.0.0.1"),
        ops_port=http.integer("ops_port", default=9464, minimum=0, maximum=65535),
    )
    http.finish()
    if http_config.ops_port != 0 and (http_config.ops_host, http_config.ops_port) == (http_config.host, http_config.port):
        raise ConfigError("http.ops_port", f"{http_config.ops_port} is the banks' port (http.port): pick another")

    logs = _Reader(raw.get("log", {}), "log")
    log_config = LogConfig(
        format=logs.text("format", default="console", pattern=log_format_pattern),
        level=logs.text("level", default="INFO", pattern=_log_level_pattern),
    )
    logs.finish()

    cb = _Reader(raw.get("central_bank"), "central_bank")
    cb_config = CentralBankConfig(
        bic=canonical_bic(cb.text("bic", pattern=_bic_pattern)),
        name=cb.text("name"),
        signing_key_file=base_dir / cb.text("signing_key_file", default="var/cb-signing-key.pem"),
        emission_cap_kopecks=_required(cb.roubles("emission_cap_rub", required=True)),
        reserve_rtgs_account=cb.text("reserve_rtgs_account", pattern=_rtgs_account_pattern),
    )
    cb.finish()

    participants = _parse_participants(raw.get("participants", []), cb_config.bic, base_dir)
    _check_rtgs_accounts(participants, cb_config.reserve_rtgs_account)
    message_signing_config = _message_signing(raw.get("message_signing"), base_dir)

    limits = _Reader(raw.get("limits", {}), "limits")
    limits_config = Limits(
        **{
            name: limits.integer(name, default=tunable.default, minimum=tunable.minimum, maximum=tunable.maximum)
            for name, tunable in bounds.tunable_limits.items()
        }
    )
    limits.finish()
    if limits_config.pending_timeout_seconds_default > limits_config.pending_timeout_seconds_max:
        raise ConfigError("limits.pending_timeout_seconds_default", "exceeds limits.pending_timeout_seconds_max")
    if limits_config.connections_per_certificate_max > limits_config.connections_max:
        raise ConfigError("limits.connections_per_certificate_max", "exceeds limits.connections_max")

    rtgs = _Reader(raw.get("rtgs", {}), "rtgs")
    adapter = rtgs.text("adapter", default="embedded", pattern=re.compile("embedded|http"))
    rtgs_config = RtgsConfig(
        adapter=adapter,
        url=rtgs.optional_text("url", pattern=_webhook_url_pattern),
        bic=canonical_bic(rtgs.text("bic", default="CBRFRUMMRTG", pattern=_bic_pattern)),
        timeout_ms=rtgs.integer("timeout_ms", default=3000, minimum=50, maximum=120_000),
        opening_balance_kopecks=rtgs.roubles("opening_balance_rub", required=False) or 0,
        conversion_timeout_seconds=rtgs.integer("conversion_timeout_seconds", default=60, minimum=1, maximum=86_400),
    )
    rtgs.finish()
    if adapter == "http" and rtgs_config.url is None:
        raise ConfigError("rtgs.url", "is required with rtgs.adapter = \"http\"")

    days = _Reader(raw.get("business_days", {}), "business_days")
    business_days_config = BusinessDaysConfig(
        calendar=BusinessCalendar(
            cutoff_minutes=_minutes(days.text("cutoff", default="24:00", pattern=_time_pattern)),
            weekend=frozenset(
                _weekdays[name] for name in days.list_of_text(
                    "weekend", _weekday_pattern, count_max=6, default=(), allow_empty=True
                )
            ),
            holidays=frozenset(
                _iso_date(day, "business_days.holidays") for day in days.list_of_text(
                    "holidays", _date_pattern, count_max=bounds.holidays_max, default=(), allow_empty=True
                )
            ),
        ),
        close_automatically=days.boolean("close_automatically", default=True),
    )
    days.finish()

    return Config(
        source=source,
        found_by=found_by,
        database=database_config,
        http=http_config,
        central_bank=cb_config,
        participants=participants,
        limits=limits_config,
        rtgs=rtgs_config,
        business_days=business_days_config,
        log=log_config,
        message_signing=message_signing_config,
    )


def _message_signing(value: Any, base_dir: Path) -> MessageSigningConfig | None:
    if value is None:
        return None
    reader = _Reader(value, "message_signing")
    next_certificate = reader.optional_text("next_certificate_file")
    config = MessageSigningConfig(
        key_file=base_dir / reader.text("key_file"),
        certificate_file=base_dir / reader.text("certificate_file"),
        next_certificate_file=None if next_certificate is None else base_dir / next_certificate,
    )
    reader.finish()
    return config


log_format_pattern = re.compile("console|json")
_log_level_pattern = re.compile("DEBUG|INFO|WARNING|ERROR")
_time_pattern = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_date_pattern = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_weekdays = {
    name: number
    for number, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), 1)
}
_weekday_pattern = re.compile("|".join(_weekdays))


def _iso_date(text: str, key: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(key, f"{text!r} is not a date") from None


def _minutes(text: str) -> int:
    """HH:MM as minutes after midnight; 24:00 is the end of the day. 00:00 would end a day before it began."""
    hours, minutes = text.split(":")
    value = int(hours) * 60 + int(minutes)
    if value == 0:
        raise ConfigError("business_days.cutoff", "00:00 would end each day before it began; midnight is 24:00")
    return value


def _database_url(database: _Reader, base_dir: Path) -> str:
    url = database.text("url", default="sqlite+aiosqlite:///var/gateway.sqlite3")
    if url.startswith("sqlite+aiosqlite:///"):
        file_part = url.removeprefix("sqlite+aiosqlite:///")
        if not file_part or file_part == ":memory:":
            raise ConfigError("database.url", "an in-memory SQLite database would lose every settlement on exit")
        if not Path(file_part).is_absolute():
            url = "sqlite+aiosqlite:///" + str(base_dir / file_part)
    elif not url.startswith("postgresql+asyncpg://"):
        raise ConfigError("database.url", "must start with sqlite+aiosqlite:/// or postgresql+asyncpg://")
    return url


def _parse_participants(value: Any, cb_bic: str, base_dir: Path) -> tuple[ParticipantConfig, ...]:
    if not isinstance(value, list):
        raise ConfigError("participants", "must be an array of tables ([[participants]])")
    if len(value) > bounds.participants_max:
        raise ConfigError("participants", f"at most {bounds.participants_max} participants")
    parsed: list[ParticipantConfig] = []
    seen_bics: set[str] = {cb_bic}
    for index, table in enumerate(value):
        reader = _Reader(table, f"participants[{index}]")
        bic = canonical_bic(reader.text("bic", pattern=_bic_pattern))
        if bic in seen_bics:
            raise ConfigError(f"participants[{index}].bic", f"{bic} is listed twice or is the central bank's BIC")
        seen_bics.add(bic)
        name = reader.text("name")
        if len(name) > bounds.participant_name_chars_max:
            raise ConfigError(f"participants[{index}].name", f"longer than {bounds.participant_name_chars_max}")
        parsed.append(
            ParticipantConfig(
                bic=bic,
                name=name,
                clearing_code=reader.optional_text("clearing_code", pattern=_clearing_code_pattern),
                rtgs_account=reader.text("rtgs_account", pattern=_rtgs_account_pattern),
                wallets=reader.list_of_text(
                    "wallets", pattern=_wallet_name_pattern, count_max=bounds.wallets_per_participant_max
                ),
                transfer_max_kopecks=reader.roubles("transfer_max_rub", required=False),
                balance_max_kopecks=reader.roubles("balance_max_rub", required=False),
                webhook_url=reader.optional_text("webhook_url", pattern=_webhook_url_pattern),
                credit_notifications=reader.boolean("credit_notifications", default=False),
                app_hdr_version=_app_hdr_version(reader, bic, cb_bic),
                signature_policy=reader.text(
                    "signature_policy", default=signature_policy_default, pattern=_signature_policy_pattern
                ),
                signing_certificates=tuple(
                    base_dir / path for path in reader.list_of_text(
                        "signing_certificates", _path_pattern, count_max=bounds.signing_certificates_per_participant_max,
                        default=(), allow_empty=True,
                    )
                ),
                status_reports=_status_reports(reader),
            )
        )
        reader.finish()
        if parsed[-1].signature_policy == "required" and not parsed[-1].signing_certificates:
            raise ConfigError(f"participants[{index}].signing_certificates",
                              f"is empty, yet signature_policy = \"required\": {bic} could sign nothing we would take")
    return tuple(parsed)


def _check_rtgs_accounts(participants: tuple[ParticipantConfig, ...], reserve_account: str) -> None:
    """Each bank's RTGS account is its own: the reserve account backs the cryptoroubles in circulation, and a conversion
    debiting it, or a second bank's, would move money that is not the sender's."""
    owners = {reserve_account: "the central bank's reserve account"}
    for index, participant in enumerate(participants):
        owner = owners.setdefault(participant.rtgs_account, f"{participant.bic}'s")
        if owner != f"{participant.bic}'s":
            raise ConfigError(f"participants[{index}].rtgs_account", f"{participant.rtgs_account} is {owner}")


def _app_hdr_version(reader: _Reader, bic: str, cb_bic: str) -> str | None:
    """The participant's `app_hdr_version`, if set: one of the AppHdr versions the gateway writes. head.001.001.01
    names banks only by BICs of the pattern of 2013, so the participant's and the central bank's must fit it."""
    version = reader.optional_text("app_hdr_version")
    if version is None:
        return None
    key = f"{reader.key}.app_hdr_version"
    if version not in app_hdr_version_names:
        versions = ", ".join(app_hdr_version_names)
        raise ConfigError(key, f"{version!r} is not an AppHdr version the gateway writes: {versions}")
    unfit = [b for b in (bic, cb_bic) if not is_bic_2013(b)]
    if version == _app_hdr_of_2013 and unfit:
        raise ConfigError(key, f"head.001.001.01 cannot name {unfit[0]}: its BICs have no digit in the first six "
                               "characters, no 0 or 1 as the seventh, no O as the eighth")
    return version


_signature_policy_pattern = re.compile("|".join(signature_policy_names))


def _status_reports(reader: _Reader) -> str:
    """The participant's `status_reports`: one of status_reports_names, status_reports_default if unset."""
    value = reader.text("status_reports", default=status_reports_default)
    if value not in status_reports_names:
        names = " or ".join(f'"{name}"' for name in status_reports_names)
        raise ConfigError(f"{reader.key}.status_reports", f"{value!r} is not a status report setting: {names}")
    return value


def _required(value: int | None) -> int:
    assert value is not None
    return value
