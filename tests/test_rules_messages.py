"""What the rules say (names, advice, subjects), and that odd processes never crash them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procflow._lint import lint, lint_file, lint_paths
from procflow.config import LintConfig
from procflow.findings import Finding, Severity
from procflow.loader import load, load_text
from procflow.model import Process
from procflow.rules import all_rules
from procflow.rules.base import LintContext, LintSettings

FIXTURES = Path(__file__).parent / "fixtures" / "rules"


def make(data: dict[str, Any]) -> Process:
    return load_text(json.dumps({"process": "p", **data}), "p.yaml")


def findings(path: Path, code: str) -> list[Finding]:
    return [f for f in lint_file(path, LintConfig()) if f.code == code]


def run_rules(process: Process, today: date | None = None) -> dict[str, list[Any]]:
    """Every rule's check on ``process`` directly (exceptions propagate)."""
    settings = LintSettings(today=today or date(2026, 1, 1))
    context = LintContext(process, settings)
    return {rule.code: list(rule.check(context)) for rule in all_rules() if rule.family != "PF5"}


# --------------------------------------------------------------------------
# messages


def test_pf105_names_every_step_of_the_trap_at_its_first_step() -> None:
    (first, second) = findings(FIXTURES / "PF105" / "fire-two-traps.yaml", "PF105")
    assert first.subject == "review"
    assert "'review' and 'clarify' can never reach an end step" in first.message
    assert second.subject == "escalate"
    assert "'escalate' and 'wait-for-manager'" in second.message
    assert first.severity is Severity.ERROR


def test_pf204_names_the_step_and_the_owner() -> None:
    (finding,) = findings(FIXTURES / "PF204" / "fire-single-approver.yaml", "PF204")
    assert finding.subject == "finance-manager"
    assert "step 'approve'" in finding.message
    assert "owner 'finance-manager' has capacity 1" in finding.message


def test_pf205_shows_the_turns() -> None:
    (finding,) = findings(FIXTURES / "PF205" / "fire-contract-ping-pong.yaml", "PF205")
    assert finding.message.startswith("work goes back and forth between 'sales' and 'legal': ")
    assert "draft (sales) → review (legal) → revise (sales) → sign-off (legal)" in finding.message


def test_typos_get_suggestions() -> None:
    (target,) = findings(FIXTURES / "PF101" / "fire-next-typo.yaml", "PF101")
    assert "goes to 'chek', which is not a step (did you mean 'check'?)" in target.message
    (start,) = findings(FIXTURES / "PF102" / "fire-typo.yaml", "PF102")
    assert "(did you mean 'submit'?)" in start.message
    (owner,) = findings(FIXTURES / "PF202" / "fire-step-owner-typo.yaml", "PF202")
    assert "(did you mean 'clerk'?)" in owner.message
    assert owner.subject == "clark"
    (metric,) = findings(FIXTURES / "PF602" / "fire-unknown-metric.yaml", "PF602")
    assert "(did you mean 'cycle_time'?)" in metric.message


def test_pf103_says_why_a_step_is_unreachable() -> None:
    orphan, chained = findings(FIXTURES / "PF103" / "fire-orphan-chain.yaml", "PF103")
    assert "no transition leads to it" in orphan.message
    assert "only step 'audit' leads to it, and that is unreachable too" in chained.message


def test_pf401_and_pf601_say_what_is_missing() -> None:
    (low,) = findings(FIXTURES / "PF401" / "fire-sum-below-one.yaml", "PF401")
    assert "sum to 0.95 (0.7 + 0.2 + 0.05), not 1" in low.message
    (mixed,) = findings(FIXTURES / "PF401" / "fire-only-some-have-p.yaml", "PF401")
    assert "'simple' has a probability `p` but 'complex' has none" in mixed.message
    (bare,) = findings(FIXTURES / "PF601" / "fire-bare-goal.yaml", "PF601")
    assert "`metric`" in bare.message
    assert "`target`" in bare.message
    assert "`deadline`" in bare.message
    (partial,) = findings(FIXTURES / "PF601" / "fire-no-deadline-no-stat.yaml", "PF601")
    assert "`stat`" in partial.message
    assert "`deadline`" in partial.message
    assert "`target`" not in partial.message


def test_pf603_follows_the_configured_today() -> None:
    process = load(FIXTURES / "PF603" / "quiet-future-deadline.yaml")
    assert run_rules(process, today=date(2099, 12, 31))["PF603"] == []
    (violation,) = run_rules(process, today=date(2100, 1, 1))["PF603"]
    assert "deadline 2099-12-31 has passed" in violation.message
    expired = lint(process, LintConfig(today=date(2100, 1, 1)))
    assert [f.code for f in expired] == ["PF603"]


EXAMPLES = [
    "processes/customer-service.yaml",
    "processes/order-fulfilment.yaml",
    "processes/employee-onboarding.yaml",
    "processes/incident-management.yaml",
    "processes/purchase-approval.yaml",
]


def test_example_processes_lint_clean_of_these_rules() -> None:
    report = lint_paths(EXAMPLES, LintConfig())
    assert [str(f) for f in report.findings if not f.code.startswith("PF5")] == []
    cs = lint_file("processes/customer-service.yaml", LintConfig())
    assert [str(f) for f in cs if f.severity >= Severity.WARNING] == []


# --------------------------------------------------------------------------
# odd but schema-valid processes never crash a rule


ODD: dict[str, dict[str, Any]] = {
    "unknown start and targets": {
        "start": "ghost",
        "owners": {"x": {}},
        "steps": {"a": {"owner": "x", "next": "nowhere"}, "b": {"on": {"t": "void"}}},
    },
    "self loops only": {
        "start": "a",
        "steps": {"a": {"on": {"again": "a"}}, "b": {"on": {"again": {"to": "b"}}}},
    },
    "no end and empty on": {"start": "a", "steps": {"a": {"on": {}}}},
    "single end step": {"start": "a", "steps": {"a": {"end": True}}},
    "end step is also a trap target": {
        "start": "a",
        "steps": {"a": {"end": True, "next": "a"}},
    },
    "unknown owners everywhere": {
        "owner": "boss",
        "start": "a",
        "steps": {
            "a": {"owner": "who", "consulted": ["c"], "informed": ["i"], "next": "z"},
            "z": {"end": True},
        },
        "goals": [
            {"id": "g", "owner": "nobody", "metric": "utilization:who"},
            {"id": "h", "metric": "step_time:"},
            {"id": "i", "metric": ":"},
            {"id": "j", "metric": "utilization"},
        ],
    },
}


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_processes_do_not_crash_any_rule(name: str) -> None:
    results = run_rules(make(ODD[name]))
    assert all(isinstance(found, list) for found in results.values())


def test_odd_processes_report_each_problem_once() -> None:
    results = run_rules(make(ODD["unknown start and targets"]))
    assert len(results["PF101"]) == 2
    assert len(results["PF102"]) == 1
    assert results["PF103"] == []  # unreachable is unknown while start is
    results = run_rules(make(ODD["no end and empty on"]))
    assert [len(results[c]) for c in ("PF104", "PF105", "PF107")] == [1, 0, 1]
    results = run_rules(make(ODD["self loops only"]))
    assert [len(results[c]) for c in ("PF103", "PF105", "PF107", "PF301")] == [1, 0, 1, 2]


@st.composite
def odd_processes(draw: st.DrawFn) -> dict[str, Any]:
    ids = st.sampled_from(["a", "b", "c", "d", "ghost"])
    steps: dict[str, Any] = {}
    for name in draw(st.lists(ids, min_size=1, max_size=5, unique=True)):
        step: dict[str, Any] = {}
        if draw(st.booleans()):
            step["end"] = True
        if draw(st.booleans()):
            step["owner"] = draw(st.sampled_from(["x", "y", "unknown"]))
        if draw(st.booleans()):
            step["next"] = draw(ids)
        elif draw(st.booleans()):
            triggers = draw(st.lists(st.sampled_from(["t", "u", "v"]), unique=True, max_size=3))
            step["on"] = {
                t: {
                    "to": draw(ids),
                    **(
                        {"p": draw(st.sampled_from([0.0, 0.3, 0.5, 1.0]))}
                        if draw(st.booleans())
                        else {}
                    ),
                    "feedback": draw(st.booleans()),
                    **({"max": 2} if draw(st.booleans()) else {}),
                }
                for t in triggers
            }
        steps[name] = step
    return {
        "owners": {"x": {"capacity": 1}, "y": {"external": True}},
        "start": draw(ids),
        "steps": steps,
        "goals": [{"id": "g", "metric": draw(st.sampled_from(["wip", "step_time:a", "x:y"]))}],
    }


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(odd_processes())
def test_random_processes_never_crash_a_rule(data: dict[str, Any]) -> None:
    process = make(data)
    for found in run_rules(process).values():
        for violation in found:
            assert violation.message
            position = process.position(violation.path, violation.part)
            assert position.line >= 1


def test_pf602_names_a_goal_nothing_can_measure() -> None:
    external, end = findings(FIXTURES / "PF602" / "fire-unmeasurable-references.yaml", "PF602")
    assert "external owner 'customer', which has no capacity and so no utilization" in (
        external.message
    )
    assert "end step 'closed', where a case spends no time" in end.message
