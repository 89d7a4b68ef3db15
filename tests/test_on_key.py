"""The key ``on`` means the same to procflow (YAML 1.2) and to YAML 1.1 tools.

PyYAML's ``yaml.safe_load`` and yamllint's defaults follow YAML 1.1, where a
bare ``on`` is the boolean ``true``; procflow's loader reads YAML 1.2 core,
where it is a string. Written ``"on":`` it is the string ``on`` for both, so
the examples and ``procflow new`` use that form, and quoting changes nothing
procflow reports: not a finding, not a line or a column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from procflow._lint import lint_paths
from procflow.cli.new import starter
from procflow.loader import load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted([*ROOT.glob("processes/*.yaml"), *ROOT.glob("changes/*.yaml")])
BARE_ON = re.compile(r"^(\s*)on:", re.MULTILINE)


def keys(node: Any) -> set[Any]:
    """Every mapping key anywhere in a loaded document."""
    found: set[Any] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            found |= keys(value)
    elif isinstance(node, list):
        for item in node:
            found |= keys(item)
    return found


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_read_the_same_under_yaml_1_1(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    assert True not in keys(document), f"{path.name}: a bare `on:` reads as true in YAML 1.1"
    assert not BARE_ON.search(text)


def test_examples_have_transitions_under_on() -> None:
    assert sum('"on":' in p.read_text(encoding="utf-8") for p in EXAMPLES) >= 10


def test_starter_reads_the_same_under_yaml_1_1(tmp_path: Path) -> None:
    text = starter("demo")
    document = yaml.safe_load(text)
    assert "on" in document["steps"]["review"]
    assert True not in keys(document)
    target = tmp_path / "demo.yaml"
    target.write_text(text, encoding="utf-8")
    process = load(target)
    assert set(process.steps["review"].on) == {"approved", "rejected"}
    assert "YAML 1.1" in text  # the template says why "on" is quoted


def findings_of(folder: Path) -> list[tuple[str, int, int, str, str]]:
    report = lint_paths([str(folder)])
    return [(Path(f.file).name, f.line, f.column, f.code, f.message) for f in report.findings]


def test_quoting_on_changes_no_finding_or_position(tmp_path: Path) -> None:
    """Every rule fixture with a bare `on:`, linted before and after quoting it."""
    bare, quoted = tmp_path / "bare", tmp_path / "quoted"
    bare.mkdir()
    quoted.mkdir()
    count = 0
    for fixture in sorted((ROOT / "tests" / "fixtures" / "rules").glob("PF*/*.yaml")):
        text = fixture.read_text(encoding="utf-8")
        if not BARE_ON.search(text):
            continue
        count += 1
        name = f"{fixture.parent.name}-{fixture.name}"
        (bare / name).write_text(text, encoding="utf-8")
        (quoted / name).write_text(BARE_ON.sub(r'\1"on":', text), encoding="utf-8")
    assert count >= 10
    before, after = findings_of(bare), findings_of(quoted)
    assert before
    assert after == before
