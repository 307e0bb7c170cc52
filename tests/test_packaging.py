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


def test_every_treasury_page_file_is_shipped_as_package_data() -> None:
    """gateway/http/static/ holds the treasury page and its vendored chart library: each file the gateway serves must
    match a package-data pattern of `gateway.http`, or /treasury answers 500 after `pip install .`."""
    from gateway.http.treasury import static_dir, static_files

    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    shipped = {path for pattern in setuptools["package-data"]["gateway.http"] for path in static_dir.parent.glob(pattern)}
    served = {static_dir / name for name in static_files}
    assert served and all(path.is_file() for path in served)
    assert served - shipped == set(), f"treasury files missing from package-data: {sorted(served - shipped)}"


def test_the_vendored_chart_library_is_npms_uplot_as_published() -> None:
    """gateway/http/static/uPlot.* are npm's uplot@1.6.32 byte for byte (dist/uPlot.iife.min.js, dist/uPlot.min.css,
    LICENSE; digests taken from the package's tarball): upgraded whole or not at all, never edited in place."""
    import hashlib

    from gateway.http.treasury import static_dir

    published = {
        "uPlot.iife.min.js": "19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f",
        "uPlot.min.css": "df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04",
        "uPlot.LICENSE": "8f989229699b4fe2f1a0432d0e9edc338a8a911e250e2d1b01ecd770a5f5b1bd",
    }
    found = {name: hashlib.sha256((static_dir / name).read_bytes()).hexdigest() for name in published}
    assert found == published


def test_every_demo_message_is_shipped_as_package_data() -> None:
    """gateway/demo/messages/ is data too: `gateway demo` sends its files after `pip install .` (the README's first
    command), so each must match a package-data pattern of `gateway.demo`."""
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    package = root / "gateway" / "demo"
    shipped = {path for pattern in setuptools["package-data"]["gateway.demo"] for path in package.glob(pattern)}
    messages = {path for path in (package / "messages").rglob("*") if path.is_file()}
    assert messages, "no demo messages found"
    assert messages - shipped == set(), f"demo messages missing from package-data: {sorted(messages - shipped)}"
