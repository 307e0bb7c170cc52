"""Every Python package of the source tree is installed: pyproject.toml lists its packages one by one, and a package
left off works in an editable install (the tests) but is missing from `pip install .` (the README's first command)."""

from __future__ import annotations

import tomllib
from pathlib import Path

root = Path(__file__).resolve().parent.parent


def test_every_source_package_is_listed_in_pyproject() -> None:
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    found = set()
    for installed_as, folder in setuptools["package-dir"].items():
        base = root / folder
        for init in base.rglob("__init__.py"):
            relative = init.parent.relative_to(base)
            found.add(".".join((installed_as, *relative.parts)))
    assert found - listed == set(), f"packages missing from pyproject.toml [tool.setuptools] packages: {found - listed}"


def test_every_example_file_is_shipped_as_package_data() -> None:
    """gateway/examples/ is data, not a package: each of its files must match a package-data pattern of `gateway`, or
    `gateway example` and the README's replay of the examples fail after `pip install .`."""
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    package = root / "gateway"
    shipped = {path for pattern in setuptools["package-data"]["gateway"] for path in package.glob(pattern)}
    examples = {path for path in (package / "examples").rglob("*") if path.is_file()}
    assert examples, "no examples found"
    assert examples - shipped == set(), f"example files missing from package-data: {sorted(examples - shipped)}"


def test_every_demo_message_is_shipped_as_package_data() -> None:
    """gateway/demo/messages/ is data too: `gateway demo` sends its files after `pip install .` (the README's first
    command), so each must match a package-data pattern of `gateway.demo`."""
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    package = root / "gateway" / "demo"
    shipped = {path for pattern in setuptools["package-data"]["gateway.demo"] for path in package.glob(pattern)}
    messages = {path for path in (package / "messages").rglob("*") if path.is_file()}
    assert messages, "no demo messages found"
    assert messages - shipped == set(), f"demo messages missing from package-data: {sorted(messages - shipped)}"
