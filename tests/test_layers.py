"""Imports point inward: transport (and the demo) -> wiring -> the inbound path -> flows -> handling -> ledger and messages -> domain,
and no flow imports another; the gateway reaches adapters only through gateway.runtime (the one place that wires
them), and adapters reach the gateway only through its ports, domain, message layer and settings."""

from __future__ import annotations

import ast
import gc
from pathlib import Path

import pytest

root = Path(__file__).resolve().parents[1]

# Outer to inner: a package may import its own layer's modules only within itself, and any inner layer.
layers: list[set[str]] = [
    {"gateway.cli"},
    {"gateway.demo"},  # a scripted day: a replay client of a gateway it runs
    {"gateway.app", "gateway.replay"},
    {"gateway.http"},
    {"gateway.runtime"},
    {"gateway.inbound", "gateway.treasury"},
    {"gateway.settlement", "gateway.conversion", "gateway.reporting"},
    {"gateway.handling", "gateway.delivery"},
    {"gateway.registry"},
    {"gateway.ledger", "gateway.messages"},
    {"gateway.security"},
    {"gateway.config"},
    {"gateway.domain"},
    {"gateway.bounds"},
]
# What adapters may use of the gateway: ports, records, the message layer (the RTGS wire speaks ISO 20022) and
# settings. Never a service.
adapter_allowed = (
    "gateway.bounds", "gateway.config", "gateway.domain", "gateway.messages", "gateway.ledger.ports",
    "gateway.conversion.ports", "gateway.reporting.ports", "gateway.handling.ports", "gateway.treasury.ports",
    "gateway.security",
)
# The one place outside runtime where the gateway names an adapter: the CLI registers the RTGS simulator's command,
# whose handler lives with the simulator.
adapter_entry_points = {("gateway.cli.main", "gateway_adapters.rtgs.cli")}


def _module_name(path: Path) -> str:
    relative = path.relative_to(root).with_suffix("")
    parts = list(relative.parts)
    parts[0] = "gateway_adapters" if parts[0] == "adapters" else parts[0]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _parse(path: Path) -> ast.Module:
    """ast.parse, tried again on the spurious "SystemError: AST constructor recursion depth mismatch" that CPython 3.11
    can raise when something else (a collection running finalizers, another thread) moves the recursion depth while
    the parser builds its objects (python/cpython#106905); seen once in a full run. The collector is held off for
    the parse, and a second attempt is made before the error counts."""
    source = path.read_text(encoding="utf-8")
    enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            return ast.parse(source)
        except SystemError:
            return ast.parse(source)
    finally:
        if enabled:
            gc.enable()


def _imports(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside functions, TYPE_CHECKING blocks included."""
    found = set()
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in ("gateway", "gateway_adapters")}


def _layer_of(module: str) -> tuple[int, str] | None:
    for depth, packages in enumerate(layers):
        for package in packages:
            if module == package or module.startswith(package + "."):
                return depth, package
    return None


sources = sorted(p for folder in ("gateway", "adapters") for p in (root / folder).rglob("*.py"))


def test_every_gateway_package_has_a_layer() -> None:
    unplaced = {
        _module_name(p) for p in sources if p.parts[len(root.parts)] == "gateway" and _layer_of(_module_name(p)) is None
    }
    assert unplaced <= {"gateway"}, f"place these in tests/test_layers.py's layers: {sorted(unplaced)}"


@pytest.mark.parametrize("path", sources, ids=lambda p: str(p.relative_to(root)))
def test_imports_point_inward(path: Path) -> None:
    module = _module_name(path)
    outward = []
    for imported in _imports(path):
        if module.startswith("gateway_adapters"):
            if imported.startswith("gateway.") and not imported.startswith(adapter_allowed):
                outward.append(imported)
            continue
        if imported.startswith("gateway_adapters"):
            if module != "gateway.runtime" and (module, imported) not in adapter_entry_points:
                outward.append(imported)
            continue
        mine, theirs = _layer_of(module), _layer_of(imported)
        if mine is None or theirs is None:
            continue
        (my_depth, my_package), (their_depth, their_package) = mine, theirs
        if their_depth < my_depth or (their_depth == my_depth and their_package != my_package):
            outward.append(imported)
    assert not outward, f"{module} imports outward or sideways: {sorted(outward)}"
