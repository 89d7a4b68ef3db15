"""The token engine: the fast engine's run on plain processes, fork/join semantics on the others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers import ROOT
from procflow.loader import load, load_text
from procflow.model import Process
from procflow.sim import simulate
from procflow.sim.engine import run_replication
from procflow.sim.queues import Queue
from procflow.sim.reference import run_reference
from procflow.sim.simulation import prepare
from procflow.sim.tokens import replication, run_tokens
from test_sim_engine import EXAMPLES, FIXTURES, Rows, _same_stats

FORKS = ROOT / "tests" / "fixtures" / "forks"


@pytest.mark.parametrize(
    "path",
    [*EXAMPLES, FIXTURES / "loops.yaml", FIXTURES / "delay-start.yaml", FIXTURES / "mmc.yaml"],
    ids=lambda p: p.stem,
)
def test_on_a_plain_process_tokens_make_the_fast_engines_run(path: Path) -> None:
    """Same seed: the same event log row for row and the same statistics as the fast engine."""
    plan = prepare(load(path))
    assert replication(plan) is run_replication
    fast_log, token_log = Rows(), Rows()
    fast = run_replication(plan, 2, 11, 2_500, 250, log=fast_log)
    tokens = run_tokens(plan, 2, 11, 2_500, 250, log=token_log)
    assert len(fast_log.rows) > 2_500
    assert sorted(fast_log.rows) == sorted(token_log.rows)
    _same_stats(fast, tokens)


def test_a_process_with_forks_runs_on_tokens() -> None:
    plan = prepare(load(FORKS / "onboarding.yaml"))
    assert replication(plan) is run_tokens
    log = Rows()
    stats = run_tokens(plan, 0, 3, 400, 0, log=log)
    assert stats.counted == 400
    by_case: dict[int | str, list[tuple[str, float, float]]] = {}
    for case, step, _owner, start, end in log.rows:
        by_case.setdefault(case, []).append((step, start, end))
    for rows in by_case.values():
        times = {step: (start, end) for step, start, end in rows}
        # both branches start when the fork's work ends; the join starts after both ended
        fork_end = times["approve-hire"][1]
        assert times["it-setup"][0] >= fork_end
        assert min(s for step, s, _e in rows if step == "hr-paperwork") >= fork_end
        last_branch = max(e for step, _s, e in rows if step in ("it-setup", "hr-paperwork"))
        assert times["ready"][0] >= last_branch
        assert [step for step, _s, _e in rows].count("first-day") == 1


RACE = """\
process: race
owners:
  desk: {capacity: 1}
  outside: {external: true}
arrivals: {every: 1s}
start: open
steps:
  open: {owner: desk, duration: 5m, parallel: [fast, slow]}
  fast: {owner: outside, duration: 1m, next: meet}
  slow: {owner: desk, duration: 10m, next: meet}
  meet: {join: first, duration: 0s, next: done}
  done: {end: true}
"""


def test_join_first_removes_queued_work_and_abandons_work_in_progress() -> None:
    """Cases arrive at 1 s and 2 s. Case 1's slow branch waits behind case 2's fork step and
    is removed from the queue; case 2's is abandoned after a minute of work."""
    plan = prepare(load_text(RACE, "race.yaml"))
    log = Rows()
    stats = run_tokens(plan, 0, 1, 2, 0, log=log)
    assert sorted(log.rows) == sorted(
        [
            (1, "open", "desk", 1.0, 301.0),
            (1, "fast", "outside", 301.0, 361.0),
            (1, "meet", None, 361.0, 361.0),
            (1, "done", None, 361.0, 361.0),
            (2, "open", "desk", 301.0, 601.0),
            (2, "fast", "outside", 601.0, 661.0),
            (2, "slow", "desk", 601.0, 661.0),  # abandoned when 'fast' reached the join
            (2, "meet", None, 661.0, 661.0),
            (2, "done", None, 661.0, 661.0),
        ]
    )
    slow = plan.step_index("slow")
    assert stats.visits[slow] == 1.0  # the withdrawn queued visit is not one
    assert stats.service_sum[slow] == 60.0
    assert stats.wait.total == 299.0  # case 2 waited for 'open'
    assert stats.cycle.total == 360.0 + 659.0


def _two_branches(join: str, a: str, b: str) -> Process:
    return load_text(
        f"""\
process: two
owners:
  outside: {{external: true}}
arrivals: {{rate: 6/h}}
start: fork
steps:
  fork: {{duration: 0s, parallel: [left, right]}}
  left: {{owner: outside, duration: exponential({a}), next: meet}}
  right: {{owner: outside, duration: exponential({b}), next: meet}}
  meet: {{join: {join}, duration: 0s, next: done}}
  done: {{end: true}}
""",
        "two.yaml",
    )


@pytest.mark.parametrize(
    ("join", "theory"),
    [
        ("all", lambda a, b: a + b - a * b / (a + b)),  # E[max] of two exponentials
        ("first", lambda a, b: a * b / (a + b)),  # E[min]
    ],
)
def test_block_time_of_two_exponential_branches_matches_the_closed_form(
    join: str, theory: object
) -> None:
    a, b = 20.0, 50.0  # minutes
    result = simulate(
        _two_branches(join, f"{a:g}m", f"{b:g}m"), cases=4_000, runs=10, seed=5, warmup=0
    )
    expected = theory(a, b) * 60.0  # type: ignore[operator]
    estimate = result.kpis["cycle_time.mean"]
    assert estimate.ci95 is not None
    low, high = estimate.ci95
    assert low <= expected <= high, (low, expected, high)
    assert high - low < 0.05 * expected  # and the interval is tight enough to mean something


def test_the_same_seed_gives_the_same_run() -> None:
    plan = prepare(load(FORKS / "nested.yaml"))
    first, again = Rows(), Rows()
    a = run_tokens(plan, 1, 9, 1_000, 100, log=first)
    b = run_tokens(plan, 1, 9, 1_000, 100, log=again)
    assert first.rows == again.rows
    _same_stats(a, b)


@pytest.mark.parametrize(
    "path",
    [
        *sorted(FORKS.glob("*.yaml")),
        ROOT / "tests/fixtures/rules/PF702/quiet-each-fork-its-join.yaml",
        ROOT / "processes/employee-onboarding.yaml",
    ],
    ids=lambda p: p.stem,
)
def test_tokens_and_the_reference_agree_exactly_on_forks(path: Path) -> None:
    """Two independent implementations of fork and join: the same log and statistics.

    Here an example with calendars is compared around the clock, bit for bit; forks on
    calendars are compared in tests/test_reference_calendars.py."""
    process = load(path)
    if process.arrivals is None:
        process = process.with_changes({"arrivals": {"rate": "1/h"}})
    plan = prepare(process).with_working(None)
    token_log, slow_log = Rows(), Rows()
    tokens = run_tokens(plan, 1, 7, 3_000, 300, log=token_log)
    slow = run_reference(plan, 1, 7, 3_000, 300, log=slow_log)
    assert len(token_log.rows) > 15_000
    assert sorted(token_log.rows) == sorted(slow_log.rows)
    _same_stats(tokens, slow.stats)


def test_the_race_agrees_with_the_reference() -> None:
    plan = prepare(load_text(RACE, "race.yaml"))
    token_log, slow_log = Rows(), Rows()
    tokens = run_tokens(plan, 0, 1, 2, 0, log=token_log)
    slow = run_reference(plan, 0, 1, 2, 0, log=slow_log)
    assert sorted(token_log.rows) == sorted(slow_log.rows)
    _same_stats(tokens, slow.stats)


def test_the_queue_discipline_is_a_seam() -> None:
    """A queue that ranks the join's work first changes who is served when, not what is done;
    a queue ranking every item alike is FIFO, the default."""
    plan = prepare(load(FORKS / "onboarding.yaml"))
    ready = plan.step_index("ready")

    class JoinFirst(Queue):
        def rank(self, item: Any) -> tuple[Any, ...]:
            return (0 if item.step == ready else 1,)

    class Alike(Queue):
        def rank(self, item: Any) -> tuple[Any, ...]:
            return (7,)

    fifo = run_tokens(plan, 0, 2, 2_000, 0)
    alike = run_tokens(plan, 0, 2, 2_000, 0, queue=lambda owner: Alike())
    ranked = run_tokens(plan, 0, 2, 2_000, 0, queue=lambda owner: JoinFirst())
    _same_stats(fifo, alike)
    assert ranked.counted == fifo.counted == 2_000
    assert ranked.visits[ready] == fifo.visits[ready] == 2_000  # every case joined once
    assert ranked.wait_sum[ready] < fifo.wait_sum[ready]  # served first, it waits less
