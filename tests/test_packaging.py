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
