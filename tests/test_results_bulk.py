"""A run's KPIs over arrays are, bit for bit, the step-by-step figures they replace."""

from __future__ import annotations

import dataclasses

import pytest

from procflow.loader import load_text
from procflow.sim import results
from procflow.sim.engine import RunStats, run_replication
from procflow.sim.plan import STAFF, Plan, compile_process

PROCESS = """\
process: bulk
owners:
  desk: {capacity: 2}
  lab: {capacity: 1}
  courier: {external: true}
arrivals: {rate: 3/h}
start: a
steps:
  a:
    owner: desk
    duration: exponential(10m)
    on: {quick: {to: b, p: 0.7}, slow: {to: c, p: 0.2999}, odd: {to: rare, p: 0.0001}}
  b: {owner: lab, duration: "lognormal(15m, 5m)", next: d}
  c: {owner: courier, duration: 2h, next: d}
  d:
    owner: desk
    duration: "uniform(1m, 9m)"
    on: {done: {to: end, p: 0.9}, again: {to: a, p: 0.1, feedback: true}}
  rare: {owner: lab, duration: 5m, next: end}
  end: {end: true}
"""


def _plan() -> Plan:
    return compile_process(load_text(PROCESS, "bulk.yaml"))


def _runs(plan: Plan) -> list[RunStats]:
    """Runs long and short: in the short ones some steps are never visited."""
    found = [
        run_replication(plan, run, 5, cases, cases // 4) for run, cases in enumerate((2, 3, 400))
    ]
    found.append(dataclasses.replace(found[0], counted=0))  # no counted case at all
    return found


def test_every_steps_kpis_at_once_are_the_step_by_step_figures() -> None:
    plan = _plan()
    missing = 0
    for stats in _runs(plan):
        together = list(results._step_kpis(plan, stats))
        one_by_one = list(results._each_step_kpis(plan, stats))
        assert repr(together) == repr(one_by_one)
        missing += sum(value is None for _, value in together)
    assert missing > 0  # unvisited steps and the run without counted cases were covered


def test_sums_per_owner_add_in_step_order() -> None:
    plan = _plan()
    for stats in _runs(plan):
        for staff in (False, True):
            expected = [0.0] * len(plan.owners)
            for index, step in enumerate(plan.steps):
                if step.owner >= 0 and (step.kind == STAFF or not staff):
                    expected[step.owner] += stats.service_sum[index]
            found = results._per_owner(plan, stats.service_sum, staff=staff)
            assert repr(found) == repr(expected)


@pytest.mark.parametrize("tracked", [False, True])
def test_run_kpis_keep_their_keys_and_order(tracked: bool) -> None:
    """With a step's time quantiles tracked (a step_time goal) the step-by-step path runs."""
    plan = _plan()
    if tracked:
        plan = plan.with_tracked(("b",))
    stats = run_replication(plan, 0, 2, 50, 5)
    kpis = results.run_kpis(plan, stats)
    steps = [key for key in kpis if key.startswith(("step:", "step_time:"))]
    expected = [key for key, _ in results._each_step_kpis(plan, stats)]
    assert steps == expected
    assert ("step_time:b.p90" in kpis) == tracked
    assert kpis["step:rare.visits"] == 0.0
    assert kpis["step:rare.wait_mean"] is None
