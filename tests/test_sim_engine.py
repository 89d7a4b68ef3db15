"""The simulator's event loop: exact against the slow reference, and right against theory."""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import procflow
from helpers import CUSTOMER_SERVICE, CUSTOMER_SERVICE_247, PROCESSES, ROOT
from procflow.errors import ProcessError, SimulationError
from procflow.loader import load, load_text
from procflow.sim import simulate
from procflow.sim.engine import RunStats, run_replication
from procflow.sim.plan import CHOICE, DELAY, GENERAL, SINGLE, STAFF, compile_process
from procflow.sim.reference import run_reference
from procflow.sim.simulation import prepare

FIXTURES = ROOT / "tests" / "fixtures" / "sim"
EXAMPLES = [  # the examples without forks (employee-onboarding's: tests/test_sim_tokens.py)
    PROCESSES / f"{name}.yaml"
    for name in (
        "customer-service",
        "incident-management",
        "order-fulfilment",
        "purchase-approval",
    )
]


class Rows:
    """An event sink keeping every row."""

    def __init__(self) -> None:
        self.rows: list[tuple[int | str, str, str | None, float, float]] = []

    def write_simulated(
        self, case: int | str, step: str, owner: str | None, start: float, end: float
    ) -> None:
        self.rows.append((case, step, owner, start, end))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def _same_stats(fast: RunStats, slow: RunStats) -> None:
    assert fast.counted == slow.counted
    assert fast.rework == slow.rework
    assert fast.completed_in_window == slow.completed_in_window
    assert fast.window_start == slow.window_start
    assert fast.window_end == slow.window_end
    assert _close(fast.makespan, slow.makespan)
    assert _close(fast.wip_area, slow.wip_area)
    assert fast.arrival_span == slow.arrival_span
    assert _close(fast.cycle.total, slow.cycle.total)
    assert _close(fast.wait.total, slow.wait.total)
    assert np.array_equal(fast.cycle.counts, slow.cycle.counts)
    assert np.array_equal(fast.wait.counts, slow.wait.counts)
    assert fast.visits == slow.visits
    for name in ("wait_sum", "service_sum", "busy"):
        assert all(
            _close(a, b) for a, b in zip(getattr(fast, name), getattr(slow, name), strict=True)
        ), name
    assert fast.step_time.keys() == slow.step_time.keys()
    for index, histogram in fast.step_time.items():
        assert np.array_equal(histogram.counts, slow.step_time[index].counts)


@pytest.mark.parametrize(
    "path",
    [
        *EXAMPLES,
        CUSTOMER_SERVICE_247,  # the example as it was written around the clock
        FIXTURES / "loops.yaml",
        FIXTURES / "delay-start.yaml",
        FIXTURES / "mmc.yaml",
    ],
    ids=lambda p: p.stem,
)
def test_engine_matches_the_reference_exactly(path: Path) -> None:
    """Same seed: the same event log row for row, and the same statistics.

    Here an example with calendars is compared around the clock, bit for bit; on its
    calendars it is compared in tests/test_reference_calendars.py."""
    plan = prepare(load(path)).with_working(None)
    fast_log, slow_log = Rows(), Rows()
    fast = run_replication(plan, 2, 11, 2_500, 250, log=fast_log)
    slow = run_reference(plan, 2, 11, 2_500, 250, log=slow_log)
    assert len(fast_log.rows) > 2_500
    assert sorted(fast_log.rows) == sorted(slow_log.rows)
    _same_stats(fast, slow.stats)
    # the histogram quantiles are within 1 % of the exact ones
    exact = np.quantile(np.asarray(slow.cycle_times), [0.5, 0.9, 0.95])
    for q, value in zip((0.5, 0.9, 0.95), exact, strict=True):
        assert fast.cycle.quantile(q) == pytest.approx(value, rel=0.01)


def test_fifo_pool_against_reference_under_heavy_load() -> None:
    """Long queues at one owner shared by two steps: FIFO order must hold exactly."""
    process = load_text(
        """\
process: busy
owners:
  desk: {capacity: 2}
arrivals: {rate: 11/h}
start: first
steps:
  first:
    owner: desk
    duration: exponential(4m)
    on:
      short: {to: second, p: 0.5}
      long: {to: third, p: 0.5}
  second:
    owner: desk
    duration: lognormal(10m, 8m)
    next: done
  third:
    owner: desk
    duration: uniform(10m, 20m)
    next: done
  done:
    end: true
""",
        "busy.yaml",
    )
    plan = prepare(process)
    fast_log, slow_log = Rows(), Rows()
    fast = run_replication(plan, 0, 3, 3_000, 0, log=fast_log)
    slow = run_reference(plan, 0, 3, 3_000, 0, log=slow_log)
    assert sorted(fast_log.rows) == sorted(slow_log.rows)
    _same_stats(fast, slow.stats)
    assert fast.wait.mean > 600  # the queue really was long


def test_plan_kinds_and_routing() -> None:
    plan = compile_process(load(FIXTURES / "loops.yaml"))
    kinds = {s.id: (s.kind, s.routing) for s in plan.steps}
    assert kinds["receive"] == (DELAY, SINGLE)
    assert kinds["prepare"] == (STAFF, SINGLE)
    assert kinds["review"] == (STAFF, GENERAL)
    assert kinds["clarify"] == (DELAY, SINGLE)
    assert kinds["send"] == (STAFF, CHOICE)
    assert [e.p for e in plan.steps[plan.step_index("send")].edges] == [0.5, 0.5]
    assert plan.bounded == 1


def _log_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_bounded_edges_are_honoured_exactly(tmp_path: Path) -> None:
    """A case never takes 'rework' (max 2) more than twice: count prepares per case."""
    log = tmp_path / "events.csv"
    procflow.simulate(load(FIXTURES / "loops.yaml"), cases=4_000, runs=1, seed=5, log=log)
    rows = _log_rows(log)
    assert rows[0].keys() == {"case", "step", "owner", "start", "end"}
    prepares = Counter(row["case"] for row in rows if row["step"] == "prepare")
    cases = {row["case"] for row in rows}
    assert len(cases) == 4_000
    assert max(prepares.values()) == 3  # the first prepare and at most two reworks
    assert Counter(prepares.values())[3] > 20  # the bound is reached, not just unlikely
    # pure delays and end steps are in the log too
    steps = {row["step"] for row in rows}
    assert {"receive", "clarify", "archived", "rejected"} <= steps
    owners = {row["step"]: row["owner"] for row in rows}
    assert owners["receive"] == ""
    assert owners["clarify"] == "client"


def test_reopen_bound_in_customer_service(tmp_path: Path) -> None:
    log = tmp_path / "events.csv"
    procflow.simulate(load(CUSTOMER_SERVICE), cases=6_000, runs=1, log=log)
    triages = Counter(row["case"] for row in _log_rows(log) if row["step"] == "triage")
    assert max(triages.values()) == 4  # one triage and at most three reopens
    assert Counter(triages.values())[4] >= 1


# -- theory ----------------------------------------------------------------------


def erlang_c_wait(arrivals_per_hour: float, service_minutes: float, servers: int) -> float:
    """Mean wait in queue (minutes) of M/M/c, from the Erlang C formula."""
    load_ = arrivals_per_hour / 60.0 * service_minutes
    top = load_**servers / math.factorial(servers) * servers / (servers - load_)
    bottom = sum(load_**k / math.factorial(k) for k in range(servers)) + top
    probability_wait = top / bottom
    return probability_wait / (servers / service_minutes - arrivals_per_hour / 60.0)


def test_mmc_wait_and_utilization_match_erlang_c() -> None:
    expected = erlang_c_wait(9.0, 20.0, 4) * 60.0
    assert expected / 60.0 == pytest.approx(10.19, abs=0.005)
    result = simulate(load(FIXTURES / "mmc.yaml"), cases=40_000, runs=10, seed=2, warmup=2_000)
    wait = result["wait_time.mean"]
    assert wait.ci95 is not None
    low, high = wait.ci95
    assert low <= expected <= high
    assert high - low < 0.2 * expected  # the band is informative, not vacuous
    utilization = result["utilization:server"].mean
    assert utilization is not None
    assert utilization == pytest.approx(0.75, abs=0.0075)
    throughput = result["throughput_per_hour"].mean
    assert throughput == pytest.approx(9.0, rel=0.01)
    # cycle time = wait + service; per-step figures agree with the per-case ones
    step = result.steps["serve"]
    assert step.service_mean.mean == pytest.approx(1200.0, rel=0.01)
    assert step.wait_mean.mean == pytest.approx(wait.mean, rel=1e-9)


def _hand_visits_loops() -> dict[str, float]:
    """Exact expected visits of tests/fixtures/sim/loops.yaml, worked out by hand.

    review: approve 0.6, rework 0.3 (max 2, back through prepare), ask 0.1
    (through clarify, unbounded). At rework level k < 2 a review repeats with
    probability 0.1 (1/0.9 visits per entry) and moves up with 0.3/0.9 = 1/3;
    at level 2 rework is used up: ask 0.1/0.7 = 1/7, so 7/6 visits per entry.
    """
    entries = [1.0, 1 / 3, 1 / 9]
    per_level = [entries[0] / 0.9, entries[1] / 0.9, entries[2] * 7 / 6]
    return {
        "receive": 1.0,
        "prepare": sum(entries),
        "review": sum(per_level),
        "clarify": 0.1 * (per_level[0] + per_level[1]) + per_level[2] / 7,
        "send": 1.0,
        "archived": 0.5,
        "rejected": 0.5,
    }


def test_visits_match_the_analytic_model_on_loops() -> None:
    process = load(FIXTURES / "loops.yaml")
    exact = _hand_visits_loops()
    from procflow.analysis import analyze

    model = analyze(process)
    for step_id, visits in exact.items():
        assert model.steps[step_id].visits == pytest.approx(visits, rel=1e-9)
    result = simulate(process, cases=20_000, runs=8, seed=3)
    for step_id, visits in exact.items():
        found = result.steps[step_id].visits
        assert found.ci95 is not None
        assert found.mean is not None
        low, high = found.ci95
        slack = (high - low) * 0.25 + 1e-9
        assert low - slack <= visits <= high + slack, step_id
        assert found.mean == pytest.approx(visits, rel=0.02)
    assert result["rework_rate"].mean == pytest.approx(0.4, abs=0.01)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_visits_match_analyze_on_examples(path: Path) -> None:
    from procflow.analysis import analyze

    process = load(path)
    model = analyze(process)
    result = simulate(process, cases=10_000, runs=4, seed=4)
    for step_id, step in result.steps.items():
        expected = model.steps[step_id].visits
        assert step.visits.mean == pytest.approx(expected, rel=0.03, abs=0.004), step_id


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_littles_law_on_examples(path: Path) -> None:
    """WIP = throughput × mean cycle time, measured independently."""
    result = simulate(load(path), cases=10_000, runs=4, seed=6)
    wip = result["wip"].mean
    throughput = result["throughput_per_hour"].mean
    cycle = result["cycle_time.mean"].mean
    assert wip is not None
    assert throughput is not None
    assert cycle is not None
    assert wip == pytest.approx(throughput / 3600.0 * cycle, rel=0.04)


SHORT = """\
process: short
owners:
  partner: {external: true}
arrivals:
  every: uniform(1m, 3m)
start: wait
steps:
  wait:
    owner: partner
    duration: exponential(20m)
    next: done
  done: {end: true}
"""
"""Arrivals 30/h, a cycle time (20m) longer than the arrivals of 5 cases (about 10m)."""


@pytest.mark.parametrize("cases", [5, 20, 60])
def test_throughput_of_short_runs_is_not_biased(cases: int) -> None:
    """Counting completions inside the arrivals' window gave 0/h for 5 cases, 19/h for 20."""
    result = simulate(load_text(SHORT, "short.yaml"), cases=cases, runs=60, seed=3, warmup=0)
    assert result["throughput_per_hour"].mean == pytest.approx(30.0, rel=0.03)


def test_throughput_of_an_overloaded_pool_is_what_it_can_finish() -> None:
    """Arrivals 10/h, one clerk taking exactly 10m: 6 cases an hour leave, not 10."""
    process = load_text(
        """\
process: overloaded
owners:
  clerk: {capacity: 1}
arrivals: {rate: 10/h}
start: work
steps:
  work:
    owner: clerk
    duration: 10m
    next: done
  done: {end: true}
""",
        "overloaded.yaml",
    )
    result = simulate(process, cases=2_000, runs=3, seed=1)
    assert result["throughput_per_hour"].mean == pytest.approx(6.0, rel=1e-9)
    assert result["utilization:clerk"].mean == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize(
    "path", [CUSTOMER_SERVICE_247, CUSTOMER_SERVICE], ids=["24-7", "calendars"]
)
def test_utilization_matches_offered_load(path: Path) -> None:
    """Busy time / (capacity × window) agrees with arrival rate × work per case.

    With calendars both sides count on-duty time: busy / (units × hours on duty) in the
    simulation, weekly load / (units × on-duty share) in the analysis."""
    from procflow.analysis import analyze

    process = load(path)
    model = analyze(process)
    result = simulate(process, cases=20_000, runs=4, seed=8)
    for owner in ("support-agent", "tier2"):
        expected = model.owners[owner].utilization
        assert result[f"utilization:{owner}"].mean == pytest.approx(expected, rel=0.02)


# -- refusals --------------------------------------------------------------------


def test_missing_arrivals_is_a_positioned_simulation_error() -> None:
    with pytest.raises(SimulationError, match=r"no-arrivals\.yaml:1:1: .*no arrivals"):
        simulate(load(FIXTURES / "no-arrivals.yaml"), cases=10, runs=1)


def test_missing_duration_is_a_positioned_simulation_error() -> None:
    with pytest.raises(SimulationError, match=r"no-duration\.yaml:12:3: step 'check' has no"):
        simulate(load(FIXTURES / "no-duration.yaml"), cases=10, runs=1)


def test_a_process_where_cases_can_loop_for_ever_is_refused() -> None:
    with pytest.raises(SimulationError, match=r"endless\.yaml:11:3: cases could loop for ever"):
        simulate(load(FIXTURES / "endless.yaml"), cases=10, runs=1)


def test_a_bounded_exit_that_ends_the_case_is_fine() -> None:
    result = simulate(load(FIXTURES / "bounded-exit.yaml"), cases=500, runs=1)
    assert result["step:work.visits"].mean == pytest.approx(2.0, rel=0.1)


def test_structural_errors_come_from_ensure_runnable() -> None:
    process = load_text(
        """\
process: broken
owners:
  clerk: {capacity: 1}
arrivals: {rate: 1/h}
start: work
steps:
  work:
    owner: clerk
    duration: 5m
    next: nowhere
  done:
    end: true
""",
        "broken.yaml",
    )
    with pytest.raises(ProcessError) as info:
        simulate(process, cases=10, runs=1)
    codes = {p.code for p in info.value.problems}
    assert "PF101" in codes
    assert all(p.position.file == "broken.yaml" for p in info.value.problems)


def test_simultaneous_events_are_served_in_case_order_like_the_reference() -> None:
    """Fixed and coarse durations make many cases meet an owner at the same instant."""
    process = load_text(
        """\
process: ties
owners:
  desk: {capacity: 2}
  back: {capacity: 1}
  post: {external: true}
arrivals:
  every: empirical(5m, 10m, 10m)
start: open
steps:
  open:
    owner: desk
    duration: empirical(10m, 15m)
    on:
      mail: {to: wait, p: 0.5}
      hand: {to: close, p: 0.5}
  wait:
    owner: post
    duration: fixed(5m)
    next: close
  close:
    owner: back
    duration: empirical(5m, 10m)
    on:
      done: {to: done, p: 0.8}
      again: {to: open, p: 0.2, feedback: true, max: 1}
  done:
    end: true
""",
        "ties.yaml",
    )
    plan = prepare(process)
    fast_log, slow_log = Rows(), Rows()
    fast = run_replication(plan, 0, 5, 1_500, 100, log=fast_log)
    slow = run_reference(plan, 0, 5, 1_500, 100, log=slow_log)
    starts = Counter((row[2], row[3]) for row in fast_log.rows if row[2] == "desk")
    assert max(starts.values()) >= 2  # cases really do start together
    assert sorted(fast_log.rows) == sorted(slow_log.rows)
    _same_stats(fast, slow.stats)
    again = run_replication(plan, 0, 5, 1_500, 100)
    assert again.cycle.total == fast.cycle.total


def _long_tail(steps: int) -> str:
    """A process of ``steps`` steps where a case almost always leaves after the first one:
    a long chain exists, but a short run visits only a few of its steps."""
    out = [
        "process: long-tail",
        "owners: {agent: {capacity: 2}, customer: {external: true}}",
        "arrivals: {rate: 4/h}",
        "start: t0000",
        "steps:",
        "  t0000:",
        "    owner: agent",
        "    duration: exponential(6m)",
        "    on:",
        "      done: {to: finish, p: 0.99}",
        "      long: {to: t0001, p: 0.01}",
    ]
    for i in range(1, steps - 1):
        nxt = f"t{i + 1:04d}" if i < steps - 2 else "finish"
        owner = "customer" if i % 2 else "agent"
        out.append(f'  t{i:04d}: {{owner: {owner}, duration: "lognormal(4m, 2m)", next: {nxt}}}')
    out.append("  finish: {end: true}")
    return "\n".join(out) + "\n"


def test_a_short_run_totals_only_the_steps_it_visited(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 11: a replication's totals look at the steps its cases reached, not every step
    of the process (3 cases of a 2,000-step process), with the reference's exact figures."""
    from procflow.sim import engine

    plan = compile_process(load_text(_long_tail(2_000), "long-tail.yaml"))
    assert len(plan.steps) == 2_000
    calls: list[int] = []
    per_step = engine._step_totals

    def counting(stats: RunStats, index: int, *rest: Any) -> None:
        calls.append(index)
        per_step(stats, index, *rest)

    monkeypatch.setattr(engine, "_step_totals", counting)
    fast = run_replication(plan, 0, 7, 3, 0)
    visited = [i for i, v in enumerate(fast.visits) if v > 0 and plan.steps[i].edges]
    assert 1 <= len(calls) <= 10  # far fewer than the 2,000 steps
    assert calls == visited  # each step some case reached, once, in step order
    assert fast.visits[plan.start] == 3.0
    assert fast.counted == 3
    _same_stats(fast, run_reference(plan, 0, 7, 3, 0).stats)
