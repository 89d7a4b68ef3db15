"""How much work a simulation is, known before it starts: refuse runs that would never end.

A process can be valid and still take for ever to simulate: a loop that
cases leave with a probability of ``1e-9`` per visit is a loop every case
goes round a billion times. The event loop would grind through it for
hours without a sign of life. The analytic routing model
(:mod:`procflow.analysis.routing`) knows the expected visits of every
step per case in milliseconds, so before anything runs the simulator
multiplies them by the cases, runs and scenarios asked for and refuses,
with a :class:`~procflow.errors.SimulationError` (exit 2) naming the step,
when the total exceeds :data:`MAX_VISITS`.

One step visit is one event of the event loop (one duration drawn), so
the budget is a budget of time: ``benchmarks/sim_bench.py`` measures about
1.7 million step visits a second on one core (350,000 cases of 4.9 visits),
and a loop of one staff step about 0.7 million, so :data:`MAX_VISITS` is
10 to 25 minutes of CPU. A million cases of the customer-service model in
10 runs is 49 million visits, far below it.

When the analytic estimate is not available (a process whose bounded loops
are too many to unroll exactly, where the estimate would overstate the
visits) the event loop enforces the same limit on every run as a backstop
(:func:`procflow.sim.engine.run_replication`), so no run goes on for ever.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from procflow.errors import ProcessError, SimulationError
from procflow.model import Process
from procflow.units import format_number

MAX_VISITS = 10**9
"""The most step visits (events) one simulate or compare may need, over all its runs."""

LOOP_VISITS = 10.0
"""A step visited more often than this per case is in a loop worth naming."""


def expected_visits(process: Process) -> dict[str, float] | None:
    """Expected visits per case of every step that takes time (not end steps).

    ``None`` when the routing chain cannot be solved exactly (bounds dropped
    to keep it small would overstate the visits, or a structural problem the
    simulator's own checks handle). Raises :class:`SimulationError` when a
    loop is left so rarely that its visits are beyond floating point.
    """
    from procflow.analysis.routing import build_chain, step_visits

    try:
        chain = build_chain(process)
    except ProcessError:
        return None
    if not chain.exact:
        return None
    visits = step_visits(chain, chain.visits)
    return {s: v for s, v in visits.items() if s in process.steps and not process.steps[s].end}


def count(value: float) -> str:
    """A count readably: ``4.88``, ``1,000,000,000`` up to 10^15, ``1.2e+20`` beyond."""
    if not math.isfinite(value):
        return "infinitely many"
    if value < 1000:
        return format_number(value, 3)
    return f"{value:,.0f}" if value < 1e15 else f"{value:.3g}"


@dataclass(frozen=True)
class Work:
    """The expected step visits of one scenario per case."""

    process: Process
    visits: dict[str, float]

    @property
    def per_case(self) -> float:
        return math.fsum(self.visits.values())

    @property
    def busiest(self) -> tuple[str, float]:
        """The step visited most per case (file order breaks ties)."""
        return max(self.visits.items(), key=lambda item: item[1])


def check_budget(
    processes: Sequence[Process], *, cases: int, runs: int, limit: int = MAX_VISITS
) -> None:
    """Refuse (``SimulationError``, exit 2) a simulation of ``processes`` over ``limit`` visits.

    Every process in ``processes`` (a baseline and its changes) is simulated
    with ``cases`` cases in each of ``runs`` runs.
    """
    works = []
    for process in processes:
        found = expected_visits(process)
        if found:
            works.append(Work(process, found))
    if not works:
        return
    total = math.fsum(work.per_case for work in works) * cases * runs
    if total <= limit:
        return
    worst = max(works, key=lambda work: work.busiest[1])
    step, visits = worst.busiest
    scenarios = f" × {len(processes)} scenarios" if len(processes) > 1 else ""
    size = (
        f"{cases:,} case{'s' if cases != 1 else ''} × {runs} run{'s' if runs != 1 else ''}"
        f"{scenarios} would take about {count(total)} step visits, more than the simulator's "
        f"limit of {count(limit)}"
    )
    if visits > LOOP_VISITS:
        message = (
            f"cases go round the loop through step {step!r} {count(visits)} times each on "
            f"average: {size}; make leaving that loop more likely (a larger 'p' on its exit), "
            "bound the loop with 'max:' on its feedback edge, or simulate fewer --cases/--runs"
        )
    else:
        message = (
            f"a case makes {count(worst.per_case)} step visits on average: {size}; "
            "simulate fewer --cases or --runs"
        )
    raise SimulationError(f"{worst.process.position(('steps', step))}: {message}")


__all__ = ["MAX_VISITS", "check_budget", "count", "expected_visits"]
