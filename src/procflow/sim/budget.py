"""How much work a simulation is, known before it starts: say what a run costs, refuse runs
beyond the budget.

A process can be valid and still take for ever to simulate: a loop that
cases leave with a probability of ``1e-4`` per visit is a loop every case
goes round ten thousand times, and the default 10,000 cases × 10 runs are
then a billion step visits -- ten minutes of grinding without a sign of
life. The analytic routing model (:mod:`procflow.analysis.routing`) knows
the expected visits of every step per case in milliseconds, so before
anything runs the simulator multiplies them by the cases, runs and
scenarios asked for (:func:`estimate`) and refuses, with a
:class:`~procflow.errors.SimulationError` (exit 2) that names the busiest
step, says what the run would cost and how many cases fit, when the total
exceeds the budget.

**The budget** (:data:`BUDGET`) is 100 million step visits. One step visit
is one event of the event loop (one duration drawn), and
``benchmarks/sim_bench.py`` measures about 1.5 million visits a second on
one core (:data:`VISITS_PER_SECOND`), so the budget is about a minute of
CPU. A million cases of the customer-service model in 10 runs is 49 million
visits, within it. A caller that knows the user asked for more on purpose
(an explicit ``--cases``) may pass ``limit=MAX_VISITS``, the hard limit:
about ten minutes.

When the analytic estimate is not available (a process whose bounded loops
are too many to unroll exactly, where the estimate would overstate the
visits) the event loop enforces :data:`MAX_VISITS` on every run as a
backstop (:func:`procflow.sim.engine.run_replication`), so no run goes on
for ever.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from procflow.calendars.timeline import LAST_DAY
from procflow.errors import ProcessError, SimulationError
from procflow.model import Process
from procflow.units import format_number

MAX_VISITS = 10**9
"""The hard limit: the most step visits one simulate or compare may ever need, over all its
runs (about ten minutes of CPU); also the event loop's backstop per run."""

BUDGET = 10**8
"""The budget of step visits a simulate or compare may need without being refused (about a
minute of CPU): what :func:`check_budget` allows by default."""

VISITS_PER_SECOND = 1_500_000
"""Step visits the event loop makes per second on one core (``benchmarks/sim_bench.py``)."""

YEAR = 365.2425 * 86400.0
"""Seconds in a mean Gregorian year."""

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


@dataclass(frozen=True)
class Cost:
    """What a simulation will cost, from the expected visits (see :func:`estimate`)."""

    works: tuple[Work, ...]
    cases: int
    runs: int
    scenarios: int

    @property
    def visits(self) -> float:
        """Expected step visits over every scenario, case and run."""
        return math.fsum(work.per_case for work in self.works) * self.cases * self.runs

    @property
    def seconds(self) -> float:
        """About how long the event loop takes for them on one core."""
        return self.visits / VISITS_PER_SECOND

    def cases_within(self, limit: float) -> int:
        """The most cases per run that stay within ``limit`` visits."""
        per_case = math.fsum(work.per_case for work in self.works) * self.runs
        return max(int(limit / per_case), 0) if per_case > 0 else self.cases


def estimate(processes: Sequence[Process], *, cases: int, runs: int) -> Cost | None:
    """The expected cost of simulating ``processes`` (a baseline and its changes) with
    ``cases`` cases in each of ``runs`` runs; None when no visits can be estimated."""
    works = []
    for process in processes:
        found = expected_visits(process)
        if found:
            works.append(Work(process, found))
    if not works:
        return None
    return Cost(tuple(works), cases, runs, len(processes))


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "for ever"
    if seconds < 90:
        return f"{seconds:.0f} s" if seconds >= 1 else "under a second"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{count(seconds / 86400)} days"


def check_budget(
    processes: Sequence[Process], *, cases: int, runs: int, limit: int = BUDGET
) -> None:
    """Refuse (``SimulationError``, exit 2) a simulation of ``processes`` over ``limit`` visits.

    Every process in ``processes`` (a baseline and its changes) is simulated
    with ``cases`` cases in each of ``runs`` runs. The message names the step
    visited most, what the run would cost and how many cases fit.
    """
    cost = estimate(processes, cases=cases, runs=runs)
    if cost is None:
        return
    total = cost.visits
    if total <= limit:
        return
    worst = max(cost.works, key=lambda work: work.busiest[1])
    step, visits = worst.busiest
    scenarios = f" × {cost.scenarios} scenarios" if cost.scenarios > 1 else ""
    fits = cost.cases_within(limit)
    size = (
        f"{cases:,} case{'s' if cases != 1 else ''} × {runs} run{'s' if runs != 1 else ''}"
        f"{scenarios} would take about {count(total)} step visits (about "
        f"{_duration(cost.seconds)} of CPU), more than the simulator's "
        f"{'budget' if limit == BUDGET else 'limit'} of {count(limit)}"
    )
    fewer = f"--cases {fits} or fewer" if fits >= 1 else "fewer --cases or --runs"
    if visits > LOOP_VISITS:
        message = (
            f"cases go round the loop through step {step!r} {count(visits)} times each on "
            f"average: {size}; make leaving that loop more likely (a larger 'p' on its exit), "
            f"bound the loop with 'max:' on its feedback edge, or simulate {fewer}"
        )
    else:
        message = (
            f"a case makes {count(worst.per_case)} step visits on average: {size}; simulate {fewer}"
        )
    raise SimulationError(f"{worst.process.position(('steps', step))}: {message}")


def check_dates(
    processes: Sequence[Process], origins: Sequence[datetime | None], *, cases: int
) -> None:
    """Refuse (``SimulationError``, exit 2) a run whose ``cases`` arrive, on average, later
    than the last date a calendar can reach (docs/security.md#simulated-time).

    A process with calendars runs on dates from its start (``origins``, one per process;
    ``None`` without calendars, whose clock is seconds and never ends). Its arrivals
    of ``cases`` cases take ``cases / rate`` on average; past the year 9999 there are no
    dates. The event loop would find out only after laying out every week up to then --
    minutes for arrivals centuries apart -- so the expected span is checked first.
    """
    from procflow.analysis.workweek import weekly_rate

    for process, origin in zip(processes, origins, strict=True):
        if origin is None or process.arrivals is None:
            continue
        rate = weekly_rate(process)
        room = (datetime.combine(LAST_DAY, time(), UTC) - origin).total_seconds()
        if not rate > 0.0 or cases / rate <= room:
            continue
        fits = int(room * rate)
        fewer = f" or simulate --cases {fits:,} or fewer" if fits >= 1 else ""
        earlier = "choose an earlier --start" if fits >= 1 else "or choose an earlier --start"
        raise SimulationError(
            f"{process.position(('arrivals',))}: {cases:,} cases arrive over about "
            f"{count(cases / rate / YEAR)} years on average (one every "
            f"{count(1.0 / rate / YEAR)} years), past the year 9999 where dates end for a "
            f"clock starting {origin.date().isoformat()}: make arrivals more frequent, "
            f"{earlier}{fewer}"
        )


__all__ = [
    "BUDGET",
    "MAX_VISITS",
    "VISITS_PER_SECOND",
    "Cost",
    "check_budget",
    "check_dates",
    "count",
    "estimate",
    "expected_visits",
]
