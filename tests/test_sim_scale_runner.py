"""Where replications run: worker processes get the plans once, and only when the work pays.

A 5,000-step plan takes a tenth of a second to pickle, so a task must not
carry it: workers receive the plans when they start and tasks name them by
index. ``jobs=None`` starts workers when the expected step visits (from the
analytic model) are worth it, not by the number of cases alone: ten cases
of a 5,000-step process are half a million visits.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, ClassVar

import pytest

from helpers import CUSTOMER_SERVICE
from procflow.loader import load, load_text
from procflow.sim import runner
from procflow.sim.plan import Plan
from procflow.sim.simulation import prepare, run_length
from test_sim_scale import chain


class InProcess:
    """A stand-in for ProcessPoolExecutor that runs tasks here and records what was sent."""

    made: ClassVar[list[InProcess]] = []

    def __init__(
        self, max_workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]
    ) -> None:
        self.max_workers = max_workers
        self.initargs = initargs
        self.sent: list[Any] = []
        InProcess.made.append(self)
        initializer(*initargs)

    def submit(self, function: Callable[[Any], Any], task: Any) -> Future[Any]:
        self.sent.append(task)
        future: Future[Any] = Future()
        future.set_result(function(task))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[InProcess]]:
    InProcess.made = []
    monkeypatch.setattr(runner, "ProcessPoolExecutor", InProcess)
    monkeypatch.setattr(runner, "default_jobs", lambda: 2)
    monkeypatch.setattr(runner, "_PLANS", ())
    # the stand-in runs the workers' initializer here, which ignores Ctrl-C: restore it,
    # or every later subprocess of this test session inherits SIGINT ignored
    handler = signal.getsignal(signal.SIGINT)
    yield InProcess
    signal.signal(signal.SIGINT, handler)


def _plan() -> Plan:
    return prepare(load(CUSTOMER_SERVICE))


def test_workers_get_the_plans_once_and_tasks_name_them(pool: type[InProcess]) -> None:
    base, other = _plan(), _plan()
    found = runner.run_replications([base, other], runs=3, seed=4, cases=200, warmup=20, jobs=2)
    (executor,) = pool.made
    assert executor.initargs == ((base, other),)
    assert executor.max_workers == 1  # two at once: this process and one worker
    # the worker's half, each task naming its plan by index; this process ran the other half
    assert sorted(executor.sent) == [(0, 0, 4, 200, 20), (0, 1, 4, 200, 20), (0, 2, 4, 200, 20)]
    here = runner.run_replications([base, other], runs=3, seed=4, cases=200, warmup=20, jobs=1)
    for mine, theirs in zip(found, here, strict=True):
        for a, b in zip(mine, theirs, strict=True):
            assert (a.run, a.counted, a.service_sum, a.busy) == (
                b.run,
                b.counted,
                b.service_sum,
                b.busy,
            )
            assert a.cycle.total == b.cycle.total


def test_jobs_none_starts_workers_by_expected_visits(pool: type[InProcess]) -> None:
    plan = _plan()
    runner.run_replications([plan], runs=2, seed=1, cases=50, warmup=5, visits=1_000.0)
    assert pool.made == []  # a small run stays in this process
    runner.run_replications(
        [plan], runs=2, seed=1, cases=50, warmup=5, visits=float(runner.SMALL_VISITS)
    )
    assert len(pool.made) == 1
    runner.run_replications([plan], runs=2, seed=1, cases=50, warmup=5)  # visits unknown
    assert len(pool.made) == 1  # 100 cases are below SMALL


def test_ten_cases_of_a_long_process_are_costed_by_their_visits() -> None:
    process = load_text(chain(3000), "chain.yaml")
    options, _ = run_length(
        [process], [prepare(process)], cases=10, runs=10, seed=0, warmup=None, jobs=None
    )
    assert options.visits is not None
    assert options.visits > 10 * 10 * 3000  # every step, and the rework loops
    assert options.visits >= runner.SMALL_VISITS
    small, _ = run_length(
        [load(CUSTOMER_SERVICE)],
        [_plan()],
        cases=3000,
        runs=3,
        seed=7,
        warmup=None,
        jobs=None,
    )
    assert small.visits is not None
    assert small.visits < runner.SMALL_VISITS
