"""PF504 counts the work a case brings on arrival: its first hands, up to the first handover.

Hand-worked figures (docs/working-time.md#lint).
"""

from __future__ import annotations

import pytest

import procflow
from helpers import CLEAN, CUSTOMER_SERVICE
from procflow.analysis import analyze
from procflow.compiled import CompiledProcess
from procflow.rules.workingtime import arriving_work


def test_customer_service_first_hands_are_the_agents_until_escalation_or_the_customer() -> None:
    process = procflow.load(CUSTOMER_SERVICE)
    analysis = analyze(process)
    compiled = CompiledProcess.of(process)
    # intake 6m, triage 4m, then resolve (12m) for the 70% that are not escalated;
    # the resolve after tier 2 and the triage after a reopened ticket come later
    assert arriving_work(compiled, analysis, "support-agent") == pytest.approx(
        6 * 60 + 4 * 60 + 0.7 * 12 * 60
    )
    assert arriving_work(compiled, analysis, "tier2") == 0.0  # downstream: not checked
    assert arriving_work(compiled, analysis, "support-lead") == 0.0


def test_a_bounded_loop_of_the_first_hands_counts_no_more_than_its_visits() -> None:
    """check 5m, redone with p 0.1 at most twice: 1 + 0.1 + 0.01 visits, not 1/0.9."""
    process = procflow.load_text(
        CLEAN.replace("process: tiny", "process: tiny\narrivals: {rate: 6/h}")
    )
    analysis = analyze(process)
    work = arriving_work(CompiledProcess.of(process), analysis, "clerk")
    assert work == pytest.approx(1.11 * 300)


def test_downstream_staffing_at_other_hours_is_not_a_peak() -> None:
    """The optimized customer service (4 agents, 3 in tier 2): on Monday mornings
    11/h x 18.4m = 3.37 busy agents of 4; tier 2's work comes after triage."""
    text = CUSTOMER_SERVICE.read_text(encoding="utf-8")
    text = text.replace("capacity: 5 ", "capacity: 4 ").replace(
        "capacity: 4\n    calendar: office", "capacity: 3\n    calendar: office"
    )
    process = procflow.load_text(text, "cs.yaml")
    assert process.owners["support-agent"].capacity == 4
    assert process.owners["tier2"].capacity == 3
    codes = [f.code for f in procflow.lint(process)]
    assert "PF504" not in codes
    # one agent fewer and the first hands alone are too much: 3.37 > 3
    fewer = procflow.load_text(text.replace("capacity: 4 ", "capacity: 3 "), "cs.yaml")
    found = [f for f in procflow.lint(fewer) if f.code == "PF504"]
    assert [f.message.split("'")[1] for f in found] == ["support-agent"]
    assert "Mon 09:00-12:00" in found[0].message
    assert "up to 3.37 busy people against 3 on duty" in found[0].message
