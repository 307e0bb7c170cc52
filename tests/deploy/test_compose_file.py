"""compose/ is a valid deployment: Docker Compose accepts compose.yaml (and refuses a broken copy), ShellCheck finds
nothing in the entrypoint, every secret a service names is defined, and the image is built from the package's own
sources, runs as the user compose.yaml names, and bakes in no key or certificate."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from gateway.config import load_config
from tests.corpus import in_ci
from tests.deploy.twin import compose_dir, deploy_guide, load_compose, repo_root, secrets_commands

dockerfile = compose_dir / "Dockerfile"


def require_tool(name: str, package: str) -> str:
    """The tool's path; skips without it, except under CI=true, where .ci/run installs it and its absence fails."""
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} not found (Debian: apt-get install -y {package})"
    if in_ci:
        pytest.fail(message + " -- under CI=true the deployment must be validated", pytrace=False)
    pytest.skip(message)


def compose_config(compose_file: Path) -> subprocess.CompletedProcess[str]:
    """`docker-compose config -q`: parses, interpolates with .env.example and validates against the Compose schema,
    with no container engine."""
    tool = require_tool("docker-compose", "docker-compose")
    command = [tool, "--env-file", str(compose_dir / ".env.example"), "--file", str(compose_file), "config", "--quiet"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_docker_compose_accepts_the_compose_file() -> None:
    result = compose_config(compose_dir / "compose.yaml")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("    healthcheck:\n      # Over", "    healtcheck:\n      # Over"), "'healtcheck'"),
        (("condition: service_completed_successfully", "condition: service_completed"), "service_completed"),
        (("      - postgres_password\n    volumes:", "      - 42\n    volumes:"), "secrets"),
    ],
)
def test_docker_compose_refuses_a_broken_copy(tmp_path: Path, change: tuple[str, str], complaint: str) -> None:
    """The validation bites: the same file with one mistake is refused, the mistake named."""
    text = (compose_dir / "compose.yaml").read_text(encoding="utf-8")
    assert change[0] in text, f"the test's anchor {change[0]!r} is gone from compose.yaml"
    broken = tmp_path / "compose.yaml"
    broken.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    result = compose_config(broken)
    assert result.returncode != 0 and complaint in result.stderr, result.stderr


def test_shellcheck_finds_nothing_in_the_entrypoint() -> None:
    tool = require_tool("shellcheck", "shellcheck")
    result = subprocess.run([tool, "--shell=bash", "--severity=style", str(compose_dir / "entrypoint.sh")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout


def test_every_secret_a_service_names_is_defined_and_every_defined_one_used() -> None:
    """`docker-compose config` lets a service name a secret that is defined nowhere; `up` would then fail."""
    compose = load_compose()
    defined = set(compose.get("secrets", {}))
    used: set[str] = set()
    for name, service in compose["services"].items():
        for entry in service.get("secrets", []):
            source = entry if isinstance(entry, str) else entry["source"]
            assert source in defined, f"{name} names the secret {source}, which compose.yaml does not define"
            used.add(source)
    assert defined == used, f"secrets defined but never mounted: {sorted(defined - used)}"
    for name, definition in compose["secrets"].items():
        assert set(definition) == {"file"}, f"secret {name}: a file under SECRETS_DIR, nothing else"
        assert definition["file"].startswith("${SECRETS_DIR:-./secrets}/"), definition


def _dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text(encoding="utf-8"))
    stages: list[list[str]] = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            if line.startswith("FROM "):
                stages.append([])
            if stages:
                stages[-1].append(line.strip())
    return stages


def test_the_image_builds_from_the_package_sources_only_and_runs_as_the_compose_user() -> None:
    build, runtime = _dockerfile_stages()
    assert build[0].startswith("FROM python:") and build[0].endswith(" AS build"), build[0]
    assert "-slim" in runtime[0], f"the runtime stage is a slim image: {runtime[0]}"
    pyproject = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))
    folders = set(pyproject["tool"]["setuptools"]["package-dir"].values())
    copied = {word.rstrip("/") for line in build if line.startswith("COPY ") for word in line.split()[1:-1]}
    assert copied == folders | {"pyproject.toml", "setup.py", pyproject["project"]["readme"]}, copied
    runtime_copies = [line for line in runtime if line.startswith("COPY ")]
    assert all("compose/entrypoint.sh" in line or "compose/preflight.py" in line for line in runtime_copies)
    assert not any(re.search(r"\.(pem|key)\b|secrets|pki", line) for line in build + runtime if line.startswith(
        ("COPY", "ADD"))), "no key or certificate in the image"
    user = next(line.split()[1] for line in runtime if line.startswith("USER "))
    assert not user.startswith(("0", "root")), user
    assert any(line.startswith("HEALTHCHECK ") for line in runtime)
    compose = load_compose()
    for name, service in compose["services"].items():
        if service.get("entrypoint"):
            assert service.get("user") == user, f"{name} runs as {service.get('user')}, the image as {user}"


def test_the_sources_the_build_reads_keep_keys_out() -> None:
    """The build context is the repository root: compose/Dockerfile.dockerignore lets in only the sources, so keys
    left in the working tree (var/, compose/secrets/) never reach the builder."""
    lines = (compose_dir / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert patterns[0] == "**", "everything is ignored first, then the sources let in"
    assert {"**/*.pem", "**/*.key"} <= set(patterns)
    assert not any(p.startswith("!") and ("secrets" in p or p.startswith("!var")) for p in patterns)


def test_the_guide_makes_every_secret_the_compose_file_mounts() -> None:
    """docs/deploy.md's lines make each secret file compose.yaml reads, and its table names each secret."""
    compose = load_compose()
    commands = " ".join(secrets_commands())
    guide = deploy_guide.read_text(encoding="utf-8")
    for name, definition in compose["secrets"].items():
        relative = definition["file"].removeprefix("${SECRETS_DIR:-./secrets}/")
        assert f"`{name}`" in guide, f"docs/deploy.md does not name the secret {name}"
        made = f"secrets/{relative}" in commands or f"secrets/{relative.split('/')[0]} " in commands + " "
        assert made, f"docs/deploy.md's commands do not make secrets/{relative}"
        assert f"secrets/{relative}" in commands.split("chmod 0444", 1)[1], f"secrets/{relative} is not made readable"


@pytest.mark.parametrize("service", ["gateway-a", "gateway-b"])
def test_each_serving_gateway_signs_with_the_message_signing_secrets(service: str) -> None:
    """Both instances mount the message-signing key and certificate as file secrets, and the config overrides that
    make the gateway sign name exactly those mounts (the names gateway.config reads: GATEWAY_<SECTION>__<KEY>)."""
    compose = load_compose()
    definitions = compose["secrets"]
    assert definitions["message_signing_key"]["file"] == "${SECRETS_DIR:-./secrets}/message-signing.key"
    assert definitions["message_signing_certificate"]["file"] == "${SECRETS_DIR:-./secrets}/message-signing.pem"
    gateway = compose["services"][service]
    mounted = {e["source"]: e.get("target") for e in gateway["secrets"] if isinstance(e, dict)}
    environment = gateway["environment"]
    assert environment["GATEWAY_MESSAGE_SIGNING__KEY_FILE"] == mounted["message_signing_key"]
    assert environment["GATEWAY_MESSAGE_SIGNING__CERTIFICATE_FILE"] == mounted["message_signing_certificate"]
    assert all(target.startswith("/run/secrets/") for target in mounted.values()), mounted
    assert all(key.endswith("_FILE") for key in environment if "SIGNING" in key), "a key in the environment"


def test_the_message_signing_overrides_reach_the_config() -> None:
    """gateway.config reads the compose file's variables into [message_signing], beside compose/gateway.toml."""
    environment = load_compose()["services"]["gateway-a"]["environment"]
    overrides = {key: value for key, value in environment.items() if key.startswith("GATEWAY_MESSAGE_SIGNING__")}
    config = load_config(compose_dir / "gateway.toml", environ=overrides)
    assert config.message_signing is not None
    assert str(config.message_signing.key_file) == "/run/secrets/message-signing.key"
    assert str(config.message_signing.certificate_file) == "/run/secrets/message-signing.pem"
    assert {p.signature_policy for p in config.participants} == {"optional"}
