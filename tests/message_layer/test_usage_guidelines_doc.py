"""docs/usage-guidelines.md and the code cannot drift apart: every rule of rules.py is in the document's index with
its layer and exactly the codes it answers with, beside a message it applies to, and every code of
gateway/messages/codes.py, and no other, is in the document's code index."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from types import ModuleType

import pytest

from gateway.messages import codes, rules
from tests.message_layer.support import repo_root

document = (repo_root / "docs" / "usage-guidelines.md").read_text(encoding="utf-8")
_code = re.compile(r"[A-Z][A-Z0-9]{3}")
_row_name = re.compile(r"^\| `(?P<name>[a-z_]+)` \|")


def _section(title: str) -> str:
    """The text of one section, with its subsections, up to the next heading of its level or above."""
    level = len(title) - len(title.lstrip("#"))
    start = document.index(title)
    rest = document[start + len(title) :]
    following = re.search(rf"^#{{1,{level}}} ", rest, flags=re.MULTILINE)
    return document[start : start + len(title) + (following.start() if following else len(rest))]


def _code_constants(module: ModuleType) -> dict[str, str]:
    """The module's own public constants holding an ISO external code (four capitals or digits)."""
    return {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("_") and isinstance(value, str) and _code.fullmatch(value)
    }


code_modules = {"codes": codes}
known_codes = {value for module in code_modules.values() for value in _code_constants(module).values()}
registered: list[tuple[Callable[..., object], str]] = [
    *((rule, "usage guideline") for rule in rules.usage_guideline_rules),
    *((rule, "business") for rule in rules.business_rules),
]
rule_index = _section("### 9.1 Rules")
code_index = _section("### 9.2 Reason codes")
message_sections = _section("## 6. The messages a bank sends")


def _index_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in rule_index.splitlines():
        match = _row_name.match(line)
        if match is not None:
            assert match["name"] not in rows, f"{match['name']} is listed twice in the rule index"
            rows[match["name"]] = [cell.strip() for cell in line.strip().strip("|").split("|")]
    return rows


def _codes_in(text: str) -> set[str]:
    return {code for code in re.findall(r"\b[A-Z][A-Z0-9]{3}\b", text) if code in known_codes}


def test_the_code_tables_were_found() -> None:
    # The checks below read these tables; an empty parse would let every check pass.
    assert len(registered) >= 30 and len(_index_rows()) >= 30
    assert len(known_codes) >= 30


@pytest.mark.parametrize(("rule", "layer"), registered, ids=lambda value: getattr(value, "__name__", str(value)))
def test_every_rule_is_in_the_index_with_its_layer_and_its_codes(rule: Callable[..., object], layer: str) -> None:
    rows = _index_rows()
    assert rule.__name__ in rows, f"docs/usage-guidelines.md section 9.1 lacks {rule.__name__}"
    _, documented_layer, codes, _ = rows[rule.__name__]
    assert documented_layer == layer
    # The codes a rule answers with are named in its docstring; the index names exactly those.
    assert _codes_in(codes) == _codes_in(rule.__doc__ or ""), rule.__name__


def test_the_index_lists_the_rules_in_the_order_they_run() -> None:
    assert list(_index_rows()) == [rule.__name__ for rule, _ in registered]


@pytest.mark.parametrize("rule", [rule for rule, _ in registered], ids=lambda rule: rule.__name__)
def test_every_rule_is_named_beside_the_message_elements_it_judges(rule: Callable[..., object]) -> None:
    rows = [line for line in message_sections.splitlines() if line.startswith("|") and f"`{rule.__name__}`" in line]
    assert rows, f"no row of docs/usage-guidelines.md section 6 names {rule.__name__}"


def test_every_public_rule_function_is_registered() -> None:
    # A rule defined in rules.py but left out of the tables would never run, and the document would not know it.
    names = {rule.__name__ for rule, _ in registered}
    for name, function in vars(rules).items():
        if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != rules.__name__:
            continue
        parameters = list(inspect.signature(function).parameters)
        if parameters[:2] == ["command", "header"] and not name.startswith("check_"):
            assert name in names, f"{name} looks like a rule but is in neither usage_guideline_rules nor business_rules"


@pytest.mark.parametrize(
    ("module_name", "constant", "code"),
    [
        (module_name, constant, code)
        for module_name, module in code_modules.items()
        for constant, code in _code_constants(module).items()
    ],
)
def test_every_reason_code_constant_is_in_the_code_index(module_name: str, constant: str, code: str) -> None:
    rows = [line for line in code_index.splitlines() if line.startswith(f"| {code} |")]
    assert len(rows) == 1, f"section 9.2 has {len(rows)} rows for {code}"
    assert f"`{module_name}.{constant}`" in rows[0], f"the row of {code} does not name {module_name}.{constant}"


def test_the_code_index_names_no_code_the_code_does_not_use() -> None:
    listed = {
        line.split("|")[1].strip() for line in code_index.splitlines() if re.match(r"^\| [A-Z][A-Z0-9]{3} \|", line)
    }
    assert listed == known_codes
