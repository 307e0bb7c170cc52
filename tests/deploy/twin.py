"""The compose deployment as processes: what compose/compose.yaml says each service runs (its entrypoint, command and
environment, its secrets and mounted files at their paths in the container), run on this machine instead.

Nothing of a service is written here a second time: it is read from compose.yaml (and the entrypoint's place in the
image from compose/Dockerfile), so the deployment and its twin cannot drift. What a container has and a process here
has not is mapped, each case named below:
- the container's filesystem: every mounted file and secret is a symbolic link at its container path under a folder
  standing for the container's root, and every environment value that is an absolute path points under that root;
- `postgres:5432` and the database's role and name: the test's PostgreSQL server and a scratch database;
- the listen addresses: 0.0.0.0 (every interface of the container's own network) becomes 127.0.0.1;
- the ports: every container listens on the same ports; each process gets free ones instead, as a published port
  would be;
- the image's PATH: this Python environment's bin folder, where `gateway` and `python3` are.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from sqlalchemy.engine import make_url

from gateway.config import HttpConfig, load_config
from gateway.domain.ledger import TransferKind
from gateway.replay.examples import examples_dir
from gateway.replay.fill import Filler
from gateway.runtime import open_store

repo_root = Path(__file__).resolve().parents[2]
compose_dir = repo_root / "compose"
compose_file = compose_dir / "compose.yaml"
deploy_guide = repo_root / "docs" / "deploy.md"
python_bin = Path(sys.executable).parent  # the image puts its virtual environment's bin first on PATH; so do we
ops_listener_known = "ops_port" in {f.name for f in fields(HttpConfig)}
startup_seconds_max = 60
stop_seconds_max = 30
bind_attempts_max = 3
_interpolation = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def load_compose() -> dict[str, Any]:
    document = yaml.safe_load(compose_file.read_text(encoding="utf-8"))  # anchors and << merges resolved
    assert isinstance(document, dict) and isinstance(document.get("services"), dict), "compose.yaml has no services"
    return document


def image_paths() -> dict[str, Path]:
    """Where compose/Dockerfile puts files of compose/ in the image: container path -> the file here."""
    placed: dict[str, Path] = {}
    for line in (compose_dir / "Dockerfile").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or words[0] != "COPY" or any(w.startswith("--from") for w in words):
            continue
        sources, destination = [w for w in words[1:-1] if not w.startswith("--")], words[-1]
        for source in sources:
            if source.startswith("compose/") and destination.endswith("/"):
                placed[destination + Path(source).name] = repo_root / source
    return placed


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME-default}, for the secrets' file paths."""
    return _interpolation.sub(lambda m: variables.get(m.group(1)) or (m.group(2) or ""), text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def container_port(mapping: str) -> int:
    """The container's side of a `ports` entry such as "${GATEWAY_A_PORT:-8443}:8443" or "127.0.0.1:9464:9464"."""
    return int(str(mapping).rsplit(":", 1)[1].split("/")[0])


def camt_050_mint() -> bytes:
    """The shipped example conversion: Sberbank converts 250,000.00 fiat roubles into its wallet SABRRUMMXXX/main."""
    path = examples_dir / "camt.050-mint.xml"
    return Filler.starting_now().fill(path.read_text(encoding="utf-8"), path.name).encode()


def base_environment(home: Path) -> dict[str, str]:
    """What a process of the twin starts with, before its service's environment: none of this shell's GATEWAY_*."""
    return {"PATH": f"{python_bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home),
            "LANG": "C.UTF-8"}


def secrets_commands() -> list[str]:
    """The lines docs/deploy.md gives to make the secrets: the indented block after <!-- secrets-commands -->."""
    text = deploy_guide.read_text(encoding="utf-8")
    block = text[text.index("<!-- secrets-commands -->\n") :].splitlines()[1:]
    lines = [line.strip() for line in block[: block.index("")]]
    assert lines[:2] == ["cd compose", "cp .env.example .env"], lines[:2]
    return lines[2:]


def write_secrets(workdir: Path, environ: dict[str, str]) -> Path:
    """The secrets folder made in `workdir` by the lines of docs/deploy.md (this Python environment's `gateway` for
    the guide's ../.venv/bin/gateway, run in a folder holding compose/gateway.toml); returns it."""
    shutil.copy(compose_dir / "gateway.toml", workdir / "gateway.toml")
    for line in secrets_commands():
        command = line.replace("../.venv/bin/gateway", str(python_bin / "gateway"))
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=workdir, env=environ,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"docs/deploy.md: {line}\n{done.stderr}"
    return workdir / "secrets"


@dataclass
class Process:
    service: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None
    ops_port: int | None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@dataclass
class Twin:
    """One deployment's twin: a container root, its secrets, a database. `environment` and `command` of a service are
    what compose.yaml gives it, mapped as the module docstring says."""

    workdir: Path
    database_url: str  # the scratch database the services use, as SQLAlchemy names it
    secrets_made: Path | None = None  # a secrets folder write_secrets made already, copied rather than made again
    compose: dict[str, Any] = field(default_factory=load_compose)
    processes: list[Process] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = self.workdir / "root"
        self.secrets_dir = self.workdir / "secrets"
        self.base_environment = base_environment(self.workdir)
        if self.secrets_made is None:
            assert write_secrets(self.workdir, self.base_environment) == self.secrets_dir
        else:
            shutil.copytree(self.secrets_made, self.secrets_dir)  # modes kept, as the guide left them
        self.variables = {"SECRETS_DIR": str(self.secrets_dir)}

    def service(self, name: str) -> dict[str, Any]:
        services = self.compose["services"]
        assert name in services, f"compose.yaml has no service {name}"
        return services[name]

    def mount(self, name: str, leave_out: str | None = None) -> None:
        """Lay out the container's root for one service, afresh: its files and secrets (but the secret `leave_out`)
        linked at their container paths, and the image's files (the entrypoint) at theirs."""
        service = self.service(name)
        if self.root.exists():
            shutil.rmtree(self.root)  # links and folders only: what they point to stays
        links: dict[str, Path] = dict(image_paths())
        for volume in service.get("volumes", []):
            source, target, *_ = str(volume).split(":")
            if source.startswith("."):  # a file of the deployment; named volumes hold data the test does not need
                links[target] = (compose_dir / source).resolve()
        for entry in service.get("secrets", []):
            source = entry if isinstance(entry, str) else entry["source"]
            target = source if isinstance(entry, str) else entry.get("target", source)
            target = target if target.startswith("/") else f"/run/secrets/{target}"
            definition = self.compose["secrets"][source]
            if source != leave_out:
                links[target] = Path(interpolate(definition["file"], self.variables))
        for target, source in links.items():
            assert source.exists(), f"{source} (for {target} in {name}) does not exist"
            link = self.root / target.lstrip("/")
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source)

    def command(self, name: str, *override: str) -> list[str]:
        service = self.service(name)
        entrypoint = service["entrypoint"]
        assert isinstance(entrypoint, list) and len(entrypoint) == 1, entrypoint
        command = list(override) if override else list(service.get("command", []))
        return [str(self.root / entrypoint[0].lstrip("/")), *command]

    def environment(self, name: str, port: int | None = None, ops_port: int | None = None) -> dict[str, str]:
        service = self.service(name)
        declared = service.get("environment", {})
        assert isinstance(declared, dict), f"{name}: environment as a mapping"
        environ = dict(self.base_environment)
        for key, value in declared.items():
            text = str(value)
            assert "$" not in text, f"{name} {key}: the twin takes environment values as written, uninterpolated"
            environ[key] = str(self.root) + text if text.startswith("/") else text
        compose_url = make_url(environ["GATEWAY_DATABASE__URL"])
        assert (compose_url.host, compose_url.port) == ("postgres", 5432), "the database is the postgres service"
        assert compose_url.password is None, "the password comes from DATABASE_PASSWORD_FILE, never the URL"
        ours = make_url(self.database_url)
        environ["GATEWAY_DATABASE__URL"] = compose_url.set(
            host=ours.host, port=ours.port, username=ours.username, database=ours.database
        ).render_as_string(hide_password=False)
        for key in ("GATEWAY_HTTP__HOST", "GATEWAY_HTTP__OPS_HOST"):
            if environ.get(key) == "0.0.0.0":
                environ[key] = "127.0.0.1"
        if port is not None:
            environ["GATEWAY_HTTP__PORT"] = str(port)
        if ops_listener_known and ops_port is not None:
            environ["GATEWAY_HTTP__OPS_PORT"] = str(ops_port)
        if not ops_listener_known:
            # compose.yaml configures the ops listener a newer gateway has; this one would refuse the unknown keys.
            environ.pop("GATEWAY_HTTP__OPS_HOST", None)
            environ.pop("GATEWAY_HTTP__OPS_PORT", None)
        return environ

    def published_ports(self, name: str) -> tuple[int, int | None]:
        """The container ports a serving service publishes: the banks' port (the config's http.port) and the ops
        port (GATEWAY_HTTP__OPS_PORT), each checked against what the gateway in the container listens on."""
        service = self.service(name)
        published = [container_port(p) for p in service.get("ports", [])]
        config = tomllib.loads((compose_dir / "gateway.toml").read_text(encoding="utf-8"))
        banks_port = int(service["environment"].get("GATEWAY_HTTP__PORT", config["http"]["port"]))
        assert banks_port in published, f"{name} does not publish the banks' port {banks_port}: {published}"
        ops = service["environment"].get("GATEWAY_HTTP__OPS_PORT")
        if ops is not None:
            assert int(ops) in published, f"{name} does not publish the ops port {ops}: {published}"
        return banks_port, None if ops is None else int(ops)

    def run(self, name: str, *override: str, mount: bool = True, timeout: float = 120, beside: Process | None = None
            ) -> subprocess.CompletedProcess[str]:
        """A service (or one command in its container, `override`) run to its end; `mount` False: in the container
        root as it stands (a test took something out of it); `beside`: in the container of that started process (its
        ports, as `entrypoint.sh health` runs there)."""
        if mount:
            self.mount(name)
        ports = (None, None) if beside is None else (beside.port, beside.ops_port)
        return subprocess.run(self.command(name, *override), env=self.environment(name, *ports), cwd=self.workdir,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def start(self, name: str) -> Process:
        """A serving service started on free ports; returns once its /readyz answers 200. A port found free and
        taken by another program before the gateway bound it (other test runs share this machine) is tried again."""
        self.mount(name)
        self.published_ports(name)
        for attempt in range(1, bind_attempts_max + 1):
            port, ops_port = free_port(), free_port()
            log = self.workdir / f"{name}-{attempt}.log"
            with log.open("wb") as output:
                popen = subprocess.Popen(self.command(name), env=self.environment(name, port, ops_port),
                                         cwd=self.workdir, stdout=output, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            process = Process(name, popen, log, port, ops_port if ops_listener_known else None)
            self.processes.append(process)
            if self.wait_ready(process, give_up_on_bind=attempt < bind_attempts_max):
                return process
        raise AssertionError("unreachable")


    def client_context(self, bic: str) -> ssl.SSLContext:
        pki = self.secrets_dir / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        context.load_cert_chain(pki / f"{bic}.pem", pki / f"{bic}.key")
        return context

    def ready_url(self, process: Process) -> tuple[str, ssl.SSLContext | None]:
        if process.ops_port is not None:
            return f"http://127.0.0.1:{process.ops_port}/readyz", None
        # Until the gateway has its ops listener, readiness is asked on the banks' port, as the central bank.
        return f"https://localhost:{process.port}/readyz", self.client_context("CBRFRUMMXXX")

    def wait_ready(self, process: Process, give_up_on_bind: bool = False) -> bool:
        """True once ready; False if it exited because its port was taken and `give_up_on_bind`; else fails."""
        url, context = self.ready_url(process)
        deadline = time.monotonic() + startup_seconds_max
        while True:
            if process.popen.poll() is not None and give_up_on_bind and "in use by another process" in (
                process.output().lower()
            ):
                return False
            assert process.popen.poll() is None, f"{process.service} exited:\n{process.output()[-4000:]}"
            assert time.monotonic() < deadline, f"{process.service} not ready:\n{process.output()[-4000:]}"
            try:
                with urllib.request.urlopen(url, context=context, timeout=2) as response:
                    if response.status == 200:
                        return True
            except (OSError, ssl.SSLError, urllib.error.HTTPError):
                pass
            time.sleep(0.3)

    def post(self, process: Process, bic: str, body: bytes) -> tuple[str, bytes]:
        """A message to one instance as bank `bic`: the outcome header and the answer."""
        request = urllib.request.Request(f"https://localhost:{process.port}/v1/messages", data=body,
                                         headers={"Content-Type": "application/xml"})
        with urllib.request.urlopen(request, context=self.client_context(bic), timeout=60) as response:
            return response.headers["X-Gateway-Outcome"], response.read()

    def signing_certificates(self, process: Process, bic: str) -> bytes:
        """What an instance publishes at GET /v1/signing-certificates, asked as bank `bic`: PEM certificates."""
        url = f"https://localhost:{process.port}/v1/signing-certificates"
        with urllib.request.urlopen(url, context=self.client_context(bic), timeout=30) as response:
            return response.read()

    def stop(self, process: Process) -> int:
        """SIGTERM, as `docker compose stop` sends it (stop_signal), and the exit status."""
        process.popen.send_signal(signal.SIGTERM)
        try:
            return process.popen.wait(timeout=stop_seconds_max)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait()
            raise AssertionError(f"{process.service} did not stop on SIGTERM:\n{process.output()[-4000:]}") from None

    async def balances_and_payments(self) -> tuple[dict[str, int], Counter[UUID | None]]:
        """Read back as a gateway of this deployment would (gateway-a's config and environment): balances by account
        code, and how many payment transfers each UETR has."""
        store = await open_store(load_config(environ=self.environment("gateway-a")), upgrade=False)
        try:
            balances = {account.code: account.posted_kopecks for account in await store.accounts()}
            settled = Counter([t.uetr async for t in store.transfers_in_order() if t.kind is TransferKind.PAYMENT])
        finally:
            await store.close()
        return balances, settled

    def close(self) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
