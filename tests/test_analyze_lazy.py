"""The analytic model computes what is asked for, and the shortcuts agree with the full model.

Lint reads utilizations (PF501/PF502) and goal checks (PF503) from
:class:`~procflow.analysis.Analysis`; those must not solve the queueing
network, and a goal decided by the wait bounds must be decided exactly as
the full estimate decides it.
"""

from __future__ import annotations

import gc
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procflow._lint import lint
from procflow.analysis import Analysis, analyze
from procflow.analysis.goals import estimate_goal, infeasibility
from procflow.loader import load_text
from procflow.model import Process


def process(goals: str = "", rate: str = "9/h", capacity: int = 4) -> Process:
    return load_text(
        f"""
process: lab
owners:
  desk: {{capacity: {capacity}}}
  lab: {{capacity: 4}}
  client: {{external: true}}
arrivals: {{rate: {rate}}}
start: intake
steps:
  intake: {{owner: desk, duration: exponential(10m), next: test}}
  test:
    owner: lab
    duration: "triangular(5m, 10m, 30m)"
    on:
      pass: {{to: ask, p: 0.8}}
      again: {{to: test, p: 0.2, feedback: true, max: 3}}
  ask: {{owner: client, duration: 2h, next: report}}
  report: {{owner: desk, duration: "uniform(5m, 15m)", next: done}}
  done: {{end: true}}
{goals}""",
        "lab.yaml",
    )


def computed(analysis: Analysis) -> set[str]:
    """The model's figures computed so far (cached properties in its instance dict)."""
    return set(vars(analysis._source))


def test_utilizations_do_not_solve_the_queueing_network() -> None:
    a = analyze(process())
    visits = 1 + 0.2 + 0.2**2 + 0.2**3  # 'again' at most 3 times
    assert a.loads["lab"].utilization == pytest.approx(9 / 3600 * visits * 900 / 4, rel=1e-12)
    assert a.loads["desk"].utilization == pytest.approx(9 / 3600 * 1200 / 4, rel=1e-12)
    assert a.bottleneck == "desk"
    assert a.stable
    assert {"network", "owners", "times"}.isdisjoint(computed(a))


def test_goals_far_from_their_targets_are_judged_without_the_network() -> None:
    goals = """
goals:
  - {id: ct, metric: cycle_time, stat: p90, target: "<= 30d"}
  - {id: step, metric: step_time:test, stat: mean, target: "<= 5h"}
  - {id: wip, metric: wip, target: "<= 500"}
  - {id: flow, metric: throughput, target: ">= 1/h"}
"""
    p = process(goals)
    a = analyze(p)
    assert [infeasibility(g, a) for g in p.goals] == [None, None, None, None]
    assert {"network", "owners", "times"}.isdisjoint(computed(a))
    assert "floor" not in computed(a)  # the cycle time's floor is cached on CycleTime


def test_goals_near_their_targets_are_judged_exactly() -> None:
    a = analyze(process(rate="11/h"))
    wait = a.wait_time
    bound = a.mean_upper_bound("wait_time")
    assert wait is not None
    assert bound is not None
    assert 0.0 < wait < bound  # the bound holds, but does not decide a target in between
    for target, infeasible in (((wait + bound) / 4, False), (wait / 2.02, True)):
        p = process(
            f'goals:\n  - {{id: w, metric: wait_time, stat: mean, target: "<= {target:.3f}s"}}\n',
            "11/h",
        )
        fresh = analyze(p)
        reason = infeasibility(p.goals[0], fresh)
        assert (reason is not None) == infeasible, reason
        assert "times" in computed(fresh)  # waits were solved


def test_analysis_leaves_no_cyclic_garbage() -> None:
    p = process("goals:\n  - {id: ct, metric: cycle_time, stat: mean, target: '<= 1h'}")
    lint(p)  # imports and caches first
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        a = analyze(p)
        a.to_dict()
        a.loads["desk"].top_steps  # noqa: B018 - computed on first read
        del a
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


def test_steps_mapping_builds_on_demand_and_behaves_like_a_dict() -> None:
    a = analyze(process())
    steps = a.steps
    assert list(steps) == ["intake", "test", "ask", "report", "done"]
    assert len(steps) == 5
    assert steps["test"].visits == pytest.approx(1 + 0.2 + 0.04 + 0.008)
    assert steps.get("nowhere") is None
    assert "report" in steps
    with pytest.raises(KeyError):
        steps["nowhere"]
    assert dict(steps)["ask"].delay


# --------------------------------------------------------------------------
# the shortcut and the full estimate agree

TIMES = ["1m", "20m", "40m", "1h", "90m", "2h", "3h", "4h", "6h", "8h", "1d", "3d"]


@st.composite
def goal_text(draw: st.DrawFn) -> str:
    metric = draw(
        st.sampled_from(
            [
                "cycle_time",
                "wait_time",
                "wip",
                "step_time:test",
                "step_time:intake",
                "step_time:ask",
                "utilization:lab",
                "throughput",
                "rework_rate",
            ]
        )
    )
    stat = draw(st.sampled_from(["", ", stat: mean", ", stat: p90", ", stat: p50", ", stat: p99"]))
    op = draw(st.sampled_from(["<=", "<", ">=", ">"]))
    if metric == "wip":
        value = draw(st.sampled_from(["0.01", "0.3", "0.6", "1", "3", "20"]))
    elif metric in ("utilization:lab", "rework_rate"):
        value = draw(st.sampled_from(["5%", "20%", "50%", "90%"]))
    elif metric == "throughput":
        value = draw(st.sampled_from(["1/h", "9/h", "20/h"]))
    else:
        value = draw(st.sampled_from(TIMES))
    return f'  - {{id: g, metric: {metric}{stat}, target: "{op} {value}"}}'


def without_bounds(analysis: Analysis) -> Analysis:
    """The analysis with its cheap bounds switched off: every judgement solves the model."""
    analysis.mean_upper_bound = lambda *_args, **_kwargs: None  # type: ignore[method-assign]
    analysis.path_upper_bound = lambda **_kwargs: None  # type: ignore[method-assign]
    return analysis


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    goal_text(),
    st.sampled_from(["1/h", "5/h", "9/h", "12/h", "14/h"]),
    st.integers(min_value=1, max_value=6),
)
def test_infeasibility_agrees_with_the_full_estimate(goal: str, rate: str, capacity: int) -> None:
    p = process("goals:\n" + goal, rate=rate, capacity=capacity)
    (g,) = p.goals
    shortcut = infeasibility(g, analyze(p))  # a fresh model: bounds first
    assert shortcut == estimate_goal(g, analyze(p)).infeasible
    assert shortcut == estimate_goal(g, without_bounds(analyze(p))).infeasible


def test_infeasibility_agrees_on_the_lint_benchmark_shapes() -> None:
    rng = random.Random(11)
    for _ in range(20):
        hours = rng.choice([0.5, 1, 2, 3, 4, 5, 6])
        goals = (
            "goals:\n"
            f'  - {{id: a, metric: cycle_time, stat: p90, target: "<= {hours}h"}}\n'
            f'  - {{id: b, metric: step_time:report, stat: mean, target: "<= {hours / 8}h"}}\n'
        )
        p = process(goals, rate=f"{rng.choice([2, 6, 10])}/h")
        for g in p.goals:
            exact = estimate_goal(g, without_bounds(analyze(p))).infeasible
            assert infeasibility(g, analyze(p)) == exact
