"""The capacity rules PF501-PF503: fixtures that must fire (at exact positions) and stay quiet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import procflow
from procflow._lint import lint, lint_file
from procflow.analysis import analyze_or_none
from procflow.config import LintConfig
from procflow.loader import load, load_text
from procflow.rules import all_rules
from procflow.rules.base import REGISTRY

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
CODES = ("PF501", "PF502", "PF503")
EXPECT = re.compile(r"^#\s*expect:\s*(PF\d{3})\s+(\d+):(\d+)\s*$", re.MULTILINE)
ROOT = Path(__file__).parent.parent


def fixtures(prefix: str) -> list[Path]:
    return sorted(p for code in CODES for p in (FIXTURES / code).glob(f"{prefix}-*.yaml"))


def test_every_capacity_rule_has_fixtures_and_docs() -> None:
    all_rules()
    for code in CODES:
        rule = REGISTRY[code]
        assert list((FIXTURES / code).glob("fire-*.yaml")), code
        assert list((FIXTURES / code).glob("quiet-*.yaml")), code
        for part in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
            assert part in rule.doc, (code, part)
    assert (REGISTRY["PF501"].name, str(REGISTRY["PF501"].severity)) == (
        "overloaded-owner",
        "error",
    )
    assert (REGISTRY["PF502"].name, str(REGISTRY["PF502"].severity)) == ("bottleneck", "warning")
    assert (REGISTRY["PF503"].name, str(REGISTRY["PF503"].severity)) == (
        "infeasible-goal",
        "warning",
    )


def expected(path: Path) -> set[tuple[str, int, int]]:
    return {(code, int(line), int(col)) for code, line, col in EXPECT.findall(path.read_text())}


@pytest.mark.parametrize(
    "path", fixtures("fire") + fixtures("quiet"), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_fixture_findings_are_exactly_the_declared_ones(path: Path) -> None:
    """As for every rule: the ``# expect: CODE line:col`` comments list *all* findings."""
    code = path.parent.name
    wanted = expected(path)
    if path.name.startswith("fire-"):
        assert code in {c for c, _l, _c in wanted}, f"{path} must expect a {code}"
    else:
        assert code not in {c for c, _l, _c in wanted}, f"{path} must not expect {code}"
    findings = lint_file(path, LintConfig())
    assert {(f.code, f.line, f.column) for f in findings} == wanted, "\n".join(map(str, findings))
    assert len(findings) == len(wanted), "a finding is reported twice"


def test_pf501_says_the_capacity_needed() -> None:
    (finding,) = [
        f
        for f in lint_file(FIXTURES / "PF501" / "fire-overloaded.yaml", LintConfig())
        if f.code == "PF501"
    ]
    assert finding.subject == "agent"
    assert "utilization 150%" in finding.message
    assert "at least 4" in finding.message
    assert str(finding.severity) == "error"


def test_pf502_names_the_heaviest_steps_and_follows_the_threshold() -> None:
    process = load(FIXTURES / "PF502" / "fire-busy-team.yaml")
    (finding,) = [f for f in lint(process) if f.code == "PF502"]
    assert "'intake' (60%), 'answer' (40%)" in finding.message
    assert "a capacity of 5" in finding.message
    assert not [
        f for f in lint(process, LintConfig(bottleneck_threshold=0.95)) if f.code == "PF502"
    ]
    comfortable = load(FIXTURES / "PF502" / "quiet-comfortable.yaml")
    loose = [
        f for f in lint(comfortable, LintConfig(bottleneck_threshold=0.6)) if f.code == "PF502"
    ]
    assert len(loose) == 1
    assert "threshold 60%" in loose[0].message
    assert "a capacity of 7" in loose[0].message  # 3.75 / 7 = 54% < 60%


def test_capacity_rules_stay_silent_without_durations() -> None:
    process = load_text(
        """
process: no-durations
owners: {agent: {capacity: 1}}
arrivals: {rate: 100/h}
start: a
steps:
  a: {owner: agent, next: b}
  b: {end: true}
goals:
  - {id: fast, metric: cycle_time, stat: mean, target: "<= 1s", deadline: 2099-01-01}
""",
        "x.yaml",
    )
    codes = {f.code for f in lint(process)}
    assert "PF402" in codes
    assert codes.isdisjoint(CODES)


def test_example_processes_are_not_overloaded() -> None:
    paths = sorted((ROOT / "processes").glob("*.yaml"))
    assert paths
    for path in paths:
        overloaded = [str(f) for f in lint_file(path, LintConfig()) if f.code == "PF501"]
        assert overloaded == [], path.name
        analysis = analyze_or_none(procflow.load(path))
        assert analysis is None or analysis.stable, path.name
