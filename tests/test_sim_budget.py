"""The work budget: a simulation that would never end is refused before it starts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import CUSTOMER_SERVICE, run, write
from procflow.errors import SimulationError
from procflow.loader import load, load_text
from procflow.sim import compare, simulate
from procflow.sim.budget import BUDGET, MAX_VISITS, check_budget, estimate, expected_visits
from procflow.sim.engine import run_replication
from procflow.sim.simulation import prepare

LOOP = """\
process: loop3
owners:
  a: {capacity: 2}
arrivals: {rate: 1/h}
start: s
steps:
  s:
    owner: a
    duration: exponential(1m)
    on:
      again: {to: s, p: 0.999999999, feedback: true}
      out: {to: done, p: 0.000000001}
  done: {end: true}
"""
"""Cases go round ``s`` a billion times each (the audit's ``loop3.yaml``)."""


def test_a_loop_cases_almost_never_leave_is_refused_at_once() -> None:
    with pytest.raises(SimulationError) as caught:
        simulate(load_text(LOOP, "loop3.yaml"), cases=10, runs=1)
    message = str(caught.value)
    # refused by the estimate before any run: a run that started would stop with "run 1 passed"
    assert "passed" not in message
    assert message.startswith("loop3.yaml:7:3: ")  # the step, positioned
    assert "loop through step 's' 1,000,000,000 times each" in message
    assert "10 cases × 1 run would take about 10,000,000,000 step visits" in message
    assert "budget of 100,000,000" in message
    assert "'max:'" in message
    assert "--cases" in message


def test_the_command_line_exits_2_with_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "loop3.yaml", LOOP)
    code, out, err = run(capsys, "simulate", path, "--cases", "10", "--runs", "1")
    assert code == 2
    assert out == ""
    assert "loop3.yaml:7:3: cases go round the loop through step 's'" in err


def test_compare_counts_every_scenario() -> None:
    process = load(CUSTOMER_SERVICE)
    per_case = sum((expected_visits(process) or {}).values())
    assert per_case == pytest.approx(1 + 3 * 1.175875 + 0.3527625, rel=1e-9)
    cases = int(BUDGET / per_case / 2 / 1.5)  # 2 runs of one scenario fit, of two do not
    check_budget([process], cases=cases, runs=2)
    with pytest.raises(SimulationError, match=r"× 2 scenarios would take about"):
        check_budget([process, process], cases=cases, runs=2)
    with pytest.raises(SimulationError, match=r"× 2 scenarios"):
        compare(process, process, cases=cases, runs=2)


def test_reasonable_models_are_never_refused() -> None:
    """The benchmark's size: a million cases of the customer-service model, ten runs."""
    check_budget([load(CUSTOMER_SERVICE)], cases=1_000_000, runs=10)


def test_too_many_cases_without_a_loop_say_so() -> None:
    with pytest.raises(SimulationError) as caught:
        check_budget([load(CUSTOMER_SERVICE)], cases=100_000_000, runs=10)
    message = str(caught.value)
    assert "a case makes 4.88 step visits on average" in message
    assert "simulate --cases 2049017 or fewer" in message  # 1e8 / (4.88 × 10)
    assert "customer-service.yaml:" in message


def test_the_event_loop_stops_a_run_past_its_limit() -> None:
    """The backstop for processes the analytic estimate cannot cover."""
    plan = prepare(load_text(LOOP, "loop3.yaml"))
    # the message counts the visits made: the run stopped at its limit, not 10**10 visits on
    with pytest.raises(SimulationError, match=r"run 1 passed 20,000 step visits"):
        run_replication(plan, 0, 0, 10, 0, max_visits=20_000)


LEFT_RARELY = LOOP.replace("0.999999999", "0.9999").replace("0.000000001", "0.0001")
"""A loop left with probability 1e-4: 10,000 visits a case, minutes with the defaults."""


def test_a_default_run_of_a_rarely_left_loop_is_refused_up_front_with_its_cost() -> None:
    process = load_text(LEFT_RARELY, "loop4.yaml")
    cost = estimate([process], cases=10_000, runs=10)
    assert cost is not None
    assert cost.visits == pytest.approx(1e9, rel=1e-6)
    assert cost.seconds > 600  # ten minutes and more: the run the audit sat through
    with pytest.raises(SimulationError) as caught:
        simulate(process)  # the defaults
    message = str(caught.value)
    assert message.startswith("loop4.yaml:7:3: cases go round the loop through step 's'")
    assert "10,000 times each" in message
    assert re.search(r"about 1[12] min of CPU", message)
    assert "--cases 1000 or fewer" in message
    simulate(process, cases=100, runs=2)  # within the budget: runs


def test_the_hard_limit_is_for_callers_that_know_the_user_asked() -> None:
    process = load_text(LEFT_RARELY, "loop4.yaml")
    check_budget([process], cases=10_000, runs=10, limit=MAX_VISITS)
    with pytest.raises(SimulationError, match="limit of 1,000,000,000"):
        check_budget([process], cases=10_001, runs=10, limit=MAX_VISITS)
