"""Staffing cost (SPEC 7.1): one more unit costs its ``cost_per_hour`` per hour, busy or idle.

The bug this holds down: hiring one more agent showed no change in cost per
case (163 -> 163), because cost was busy time only, and the same work takes
the same busy time however many people wait for it.
"""

from __future__ import annotations

import pytest

from procflow import analyze, compare, load_text, simulate

PROCESS = """\
process: costed
owners:
  agent: {capacity: 3, cost_per_hour: 40}
  lead: {capacity: 1, cost_per_hour: 90}
  customer: {external: true}
arrivals: {rate: 6/h}
start: work
steps:
  work: {owner: agent, duration: exponential(20m), next: check}
  check: {owner: lead, duration: exponential(3m), next: reply}
  reply: {owner: customer, duration: exponential(1h), next: done}
  done: {end: true}
"""


def test_analytic_cost_is_staffing_over_throughput_and_busy_cost_is_the_work() -> None:
    process = load_text(PROCESS)
    analysis = analyze(process)
    assert analysis.throughput_per_hour == pytest.approx(6.0)
    assert analysis.cost_per_case == pytest.approx((3 * 40 + 90) / 6.0)
    assert analysis.busy_cost_per_case == pytest.approx(20 / 60 * 40 + 3 / 60 * 90)
    hired = analyze(process.with_changes({"owners": {"agent": {"capacity": 4}}}))
    assert hired.cost_per_case - analysis.cost_per_case == pytest.approx(40 / 6.0)
    assert hired.busy_cost_per_case == pytest.approx(analysis.busy_cost_per_case)


def test_simulated_hire_adds_its_staffing_cost_per_case() -> None:
    process = load_text(PROCESS)
    hired = process.with_changes({"owners": {"agent": {"capacity": 4}}})
    comparison = compare(process, hired, names=["hire"], cases=3000, runs=5, seed=4)
    base = comparison.baseline
    throughput = base.kpis["throughput_per_hour"].mean
    assert throughput is not None
    cost = comparison.differences["hire"]["cost_per_case"]
    assert cost.significant
    assert cost.ci95 is not None
    low, high = cost.ci95
    # staffing per case is (capacity x rate) / throughput: one more agent adds 40 / 6 per case
    assert low <= 40 / 6.0 <= high
    assert cost.difference == pytest.approx(40 / throughput, rel=0.02)
    busy = comparison.differences["hire"]["busy_cost_per_case"]
    assert busy.ci95 is not None
    assert busy.ci95[0] <= 0.0 <= busy.ci95[1]  # the same work, whoever waits for it
    assert not busy.significant


def test_simulated_cost_matches_the_analytic_one() -> None:
    process = load_text(PROCESS)
    result = simulate(process, cases=3000, runs=5, seed=2)
    cost = result.kpis["cost_per_case"]
    busy = result.kpis["busy_cost_per_case"]
    assert cost.ci95 is not None
    assert cost.ci95[0] <= (3 * 40 + 90) / 6.0 <= cost.ci95[1]
    assert busy.mean == pytest.approx(20 / 60 * 40 + 3 / 60 * 90, rel=0.02)


def test_no_cost_rate_gives_no_cost() -> None:
    text = PROCESS.replace(", cost_per_hour: 40", "").replace(", cost_per_hour: 90", "")
    process = load_text(text)
    assert analyze(process).cost_per_case is None
    assert analyze(process).busy_cost_per_case is None
    result = simulate(process, cases=500, runs=2, seed=1)
    assert result.kpis["cost_per_case"].mean is None
    assert result.kpis["busy_cost_per_case"].mean is None
