"""Where the external ISO 20022 corpus (official XSDs and real samples, ../shared/iso20022) lies, for every test that
compares with it. Nothing from it is copied into the project. Absent, its tests skip with a message saying where it
was looked for, except under CI=true, where they fail: CI must never pass without having run them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

corpus_env_var = "GATEWAY_ISO20022_CORPUS"
repo_root = Path(__file__).resolve().parents[1]
in_ci = os.environ.get("CI", "").lower() == "true"


def corpus_location() -> Path:
    configured = os.environ.get(corpus_env_var)
    return Path(configured) if configured else repo_root.parent / "shared" / "iso20022"


def require_corpus() -> Path:
    """The corpus root (holding xsd/ and samples/); skips the calling test when absent, fails it under CI=true."""
    location = corpus_location()
    if (location / "xsd").is_dir() and (location / "samples").is_dir():
        return location
    message = (
        f"ISO 20022 corpus not found at {location} (no xsd/ and samples/ folders); "
        f"set {corpus_env_var} to the folder holding them"
    )
    if in_ci:
        pytest.fail(message + " -- under CI=true the tests against the official corpus must run", pytrace=False)
    pytest.skip(message)
