"""The owner seam (procflow.sim.pools): pools decide when work starts and ends, the loop asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import PROCESSES, ROOT
from procflow.loader import load, load_text
from procflow.sim import simulate
from procflow.sim.engine import run_replication
from procflow.sim.plan import OwnerPlan
from procflow.sim.pools import Pool, Staff
from procflow.sim.simulation import prepare

EXAMPLES = [*sorted(PROCESSES.glob("*.yaml")), ROOT / "tests" / "fixtures" / "sim" / "loops.yaml"]


class Rows:
    def __init__(self) -> None:
        self.rows: list[tuple[object, ...]] = []

    def write_simulated(
        self, case: int | str, step: str, owner: str | None, start: float, end: float
    ) -> None:
        self.rows.append((case, step, owner, start, end))


class Asked(Pool):
    """Always-available units that do not offer the fast path: the loop must ask them."""

    def finish(self, start: float, work: float) -> float:
        return start + work


class Slow(Pool):
    """Units that take twice the work content: what the loop cannot know."""

    def finish(self, start: float, work: float) -> float:
        return start + 2.0 * work


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_fast_path_and_the_seam_give_the_same_run_to_the_bit(path: Path) -> None:
    plan = prepare(load(path)).with_working(None)  # around the clock: the Staff fast path
    fast_log, asked_log = Rows(), Rows()
    fast = run_replication(plan, 1, 5, 2_000, 200, log=fast_log)
    asked = run_replication(plan, 1, 5, 2_000, 200, log=asked_log, pool=lambda o: Asked(o.capacity))
    assert fast_log.rows == asked_log.rows
    for name in ("visits", "wait_sum", "service_sum", "busy", "wip_area", "makespan"):
        assert getattr(fast, name) == getattr(asked, name), name
    assert fast.cycle.total == asked.cycle.total
    assert fast.wait.total == asked.wait.total


ONE_STEP = """\
process: one
owners:
  desk: {{capacity: {capacity}}}
arrivals: {{rate: 6/h}}
start: work
steps:
  work:
    owner: desk
    duration: 10m
    next: done
  done: {{end: true}}
"""


def test_the_loop_takes_finish_times_from_the_pool() -> None:
    """A pool whose units need twice the work content: cycle time doubles, the loop unchanged."""
    plan = prepare(load_text(ONE_STEP.format(capacity=100), "one.yaml"))
    plain = run_replication(plan, 0, 1, 500, 0)
    slow = run_replication(plan, 0, 1, 500, 0, pool=lambda o: Slow(o.capacity))
    assert plain.cycle.mean == pytest.approx(600.0)
    assert slow.cycle.mean == pytest.approx(1200.0)


def test_a_pool_of_a_billion_units_holds_only_the_units_it_can_use() -> None:
    """Memory follows the cases in the system, not capacity (7.9 GB at 1e9 before)."""
    made: list[Pool] = []

    def keep(owner: OwnerPlan) -> Pool:
        pool = Staff.of(owner)
        made.append(pool)
        return pool

    for capacity in (10**9, 10**11):
        made.clear()
        plan = prepare(load_text(ONE_STEP.format(capacity=capacity), "one.yaml"))
        stats = run_replication(plan, 0, 1, 200, 0, pool=keep)
        assert stats.counted == 200
        assert stats.wait.mean == 0.0
        (pool,) = made
        assert pool.units_in_memory() <= 200


def test_a_huge_capacity_gives_the_same_numbers_as_an_ample_one() -> None:
    small = simulate(load_text(ONE_STEP.format(capacity=1000), "one.yaml"), cases=300, runs=2)
    huge = simulate(load_text(ONE_STEP.format(capacity=10**12), "one.yaml"), cases=300, runs=2)
    for kpi in ("cycle_time.mean", "cycle_time.p90", "throughput_per_hour"):
        assert small[kpi].mean == huge[kpi].mean, kpi


def test_reserve_never_goes_beyond_capacity_and_keeps_the_heap() -> None:
    pool = Staff(3)
    pool.reserve(1000)
    assert pool.units_in_memory() == 3
    assert pool.take(5.0, 1.0) == (5.0, 6.0)
    assert pool.take(5.0, 2.0) == (5.0, 7.0)
    assert pool.take(5.0, 3.0) == (5.0, 8.0)
    assert pool.take(5.0, 1.0) == (6.0, 7.0)  # waits for the unit free first
    assert pool.next_free(6.5) == 7.0
    assert pool.work_after(6.5) == pytest.approx(0.5 + 0.5 + 1.5)
    with pytest.raises(ValueError, match="at least one unit"):
        Staff(0)
