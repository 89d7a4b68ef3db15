"""The search for the cheapest staffing that meets every goal (docs/optimize.md).

Three phases, each cheaper than the next would be without it:

1. **Floor** (analytic, exact): an owner whose utilization reaches 1 has a
   queue that grows without end, so no staffing below ``load`` (rounded
   down, plus one) can meet a waiting goal; the search never goes below it.
2. **Screen** (analytic, approximate): from the floor, add the unit whose
   analytic goal shortfall drops most per unit of cost until the analytic
   estimates (:func:`procflow.analyze`: Erlang C per pool, exact for
   M/M/c) meet every goal they estimate. This is the start, not the answer.
3. **Simulate** with common random numbers (the same seed and warm-up for
   every staffing, so two staffings differ by the staffing and not by the
   draws): while some goal is not ``met`` with 95 % confidence, try one
   more unit of each owner and keep the one that cuts the pessimistic
   shortfall (the far end of each goal's interval past its target) most
   per unit of cost; then **back off**: try one unit less of each owner,
   the most expensive first, and keep every removal after which the goals
   are still met. Every staffing is simulated once (cached), and the count
   is reported as ``evaluations``.

An owner staffed by ``shifts:`` is searched shift by shift: each shift's
capacity is a decision variable of its own, priced at ``cost_per_hour`` x
the share of the week that shift is on duty (so the cost is staffing cost
per elapsed hour, docs/optimize.md#shifts), and the floor and back-off keep
the owner's effective capacity (units x on-duty share, summed over shifts)
above its weekly load.

Greedy marginal analysis is not guaranteed optimal on every network, but
the back-off removes what the additions overshot, and on a single pool
(M/M/c) it finds exactly the smallest ``c``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from procflow._optimize.result import GoalOutcome, Optimization, Staffing
from procflow.analysis import analyze, analyze_or_none
from procflow.analysis.goals import infeasibility
from procflow.analysis.routing import share_chain
from procflow.analysis.workweek import arrivals_on_duty, on_duty_share, shift_names
from procflow.errors import ConfigError, SimulationError
from procflow.loader import load
from procflow.model import Process, Target
from procflow.sim import SimulationResult
from procflow.sim.comparison import simulate_scenarios
from procflow.sim.results import MET
from procflow.sim.simulation import default_warmup
from procflow.sim.workingtime import start_of

DEFAULT_CASES = 2_000
DEFAULT_RUNS = 5
DEFAULT_SEED = 0
DEFAULT_MAX_CAPACITY = 50
"""Most units per owner the search tries (``--max-capacity``)."""

Capacities = tuple[int, ...]
Progress = Callable[[Mapping[str, int], int, int], None]
"""Called as each staffing is simulated with (its capacities per searched owner, cases done,
cases in all of it); how many staffings the search simulates is not known in advance."""


def _process_of(process: Process | str | os.PathLike[str]) -> Process:
    if isinstance(process, str | os.PathLike):
        return load(process)
    if not isinstance(process, Process):
        raise TypeError(
            "optimize() takes a Process (procflow.load(path)) or the path of a process file, "
            f"not {type(process).__name__}"
        )
    return process


@dataclass(frozen=True)
class Post:
    """One decision variable of the search: an owner's capacity, or one shift's."""

    owner: str
    shift: int | None
    """The index of the shift in the owner's ``shifts:``; ``None``: the owner's capacity."""
    name: str
    """How the staffing table names it: the owner id, or ``owner@calendar`` for a shift."""
    calendar: str | None
    share: float
    """The share of the week one unit is on duty (1 around the clock)."""


def _posts_of(process: Process, owner_id: str) -> list[Post]:
    owner = process.owners[owner_id]
    if owner.shifts is None:
        share = on_duty_share(process, owner.calendar)
        return [Post(owner_id, None, owner_id, owner.calendar, share)]
    names = shift_names(owner_id, owner)
    return [
        Post(owner_id, index, names[index], shift.calendar, on_duty_share(process, shift.calendar))
        for index, shift in enumerate(owner.shifts)
    ]


def _searched(process: Process, owners: Sequence[str] | None) -> list[Post]:
    """The capacities the search may change: of every staff owner (default) or of
    ``owners``; an owner with ``shifts:`` brings one per shift (docs/optimize.md#shifts)."""
    staff = [o_id for o_id, owner in process.owners.items() if not owner.external]
    for owner_id in owners or ():
        if owner_id not in staff:
            raise ConfigError(
                f"owners: {owner_id!r} is not a staff owner of process {process.id!r} "
                f"(staff owners: {', '.join(staff) or 'none'})"
            )
    chosen = staff if owners is None else list(dict.fromkeys(owners))
    return [post for owner_id in chosen for post in _posts_of(process, owner_id)]


def _check(process: Process, max_capacity: int, cases: int, runs: int) -> None:
    for name, value, least in (
        ("max_capacity", max_capacity, 1),
        ("cases", cases, 1),
        ("runs", runs, 2),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(f"{name} must be a whole number of at least {least}, got {value!r}")
    if process.arrivals is None:
        raise SimulationError(
            f"{process.position(('process',))}: process {process.id!r} has no arrivals, and "
            "optimize needs them: staffing is measured by simulating cases arriving"
        )
    if not [g for g in process.goals if g.metric is not None and g.target is not None]:
        raise SimulationError(
            f"{process.position(('process',))}: process {process.id!r} has no goals with a "
            "metric and a target, so no staffing can be said to meet them: add e.g. "
            "'goals: [{id: fast, metric: wait_time, target: \"<= 30m\"}]'"
        )


def beyond_staffing(process: Process) -> str | None:
    """Why no staffing can meet a goal (a floor of the durations, a rework rate, a
    throughput above the arrival rate), or ``None``: the search would add staff in vain,
    up to ``--max-capacity``, simulating every step of the way."""
    analysis = analyze_or_none(process)
    if analysis is None:
        return None
    for goal in process.goals:
        reason = infeasibility(goal, analysis, any_staffing=True)
        if reason is not None:
            target = goal.target.text if goal.target is not None else ""
            return (
                f"goal {goal.id!r} ({goal.metric} {target}) cannot be met by any staffing: {reason}"
            )
    return None


def shortfall(target: Target, value: float | None, ci95: tuple[float, float] | None) -> float:
    """How far a goal is from met, relative to its target: 0 when met with confidence.

    Reads the pessimistic end of the 95 % interval (the upper end for an
    upper limit), so a goal whose interval straddles its target still
    falls short. A goal without a value falls short by infinity.
    """
    if value is None or not math.isfinite(value):
        return math.inf
    low, high = ci95 if ci95 is not None else (value, value)
    scale = max(abs(target.value), 1e-12)
    if target.op in ("<=", "<"):
        return max(0.0, high - target.value) / scale
    if target.op in (">=", ">"):
        return max(0.0, target.value - low) / scale
    return max(abs(low - target.value), abs(high - target.value)) / scale


class _Search:
    """The state of one search: the process, the owners searched, and every evaluation."""

    def __init__(
        self,
        process: Process,
        owners: list[Post],
        options: dict[str, Any],
        progress: Progress | None = None,
    ) -> None:
        self.process = process
        self.owners = owners
        self.options = options
        self.progress = progress
        self.costed = any(o.cost_per_hour is not None for o in process.owners.values())
        self.prices = [self._price(post) for post in owners]
        self.loads: dict[str, float] = {}
        self.cache: dict[Capacities, SimulationResult] = {}
        self.screened = 0

    def _price(self, post: Post) -> float:
        """Staffing cost per elapsed hour of one unit: ``cost_per_hour`` x on-duty share."""
        if not self.costed:
            return 1.0
        return (self.process.owners[post.owner].cost_per_hour or 0.0) * post.share

    def staffed(self, capacities: Capacities) -> Process:
        changed = self.process.with_changes(
            patch_of(self.process, self.owners, capacities), name="<optimize>"
        )
        share_chain(self.process, changed)  # capacities leave the routing alone: one chain
        return changed

    def cost(self, capacities: Capacities) -> tuple[float, int]:
        """Staffing cost per hour, then head count (the tie-break)."""
        return sum(p * c for p, c in zip(self.prices, capacities, strict=True)), sum(capacities)

    # -- analytic phases --------------------------------------------------

    def floor(self, max_capacity: int) -> Capacities:
        """The least capacities at which every searched owner's effective capacity exceeds
        its weekly load: exact per owner; a shift owner's extra units go to the shift on
        duty for the most arriving work (the climb and back-off may move them)."""
        analysis = analyze(self.process)
        self.screened += 1
        self.loads = {post.owner: analysis.loads[post.owner].load for post in self.owners}
        floor = [
            1
            if post.shift is not None
            else max(1, math.floor(self.loads[post.owner] / post.share) + 1)
            for post in self.owners
        ]
        floor = [min(max_capacity, units) for units in floor]
        for owner_id in dict.fromkeys(p.owner for p in self.owners if p.shift is not None):
            indexes = [i for i, p in enumerate(self.owners) if p.owner == owner_id]
            busiest = max(indexes, key=lambda i: self._meets_work(self.owners[i]))
            while not self._covers(owner_id, floor) and floor[busiest] < max_capacity:
                floor[busiest] += 1
        return tuple(floor)

    def _meets_work(self, post: Post) -> tuple[float, float]:
        """How much arriving work a unit of ``post`` is on duty for, then its on-duty share."""
        return arrivals_on_duty(self.process, post.calendar), post.share

    def _covers(self, owner_id: str, capacities: Sequence[int]) -> bool:
        """Whether the owner's units on duty exceed its weekly load (else its queue grows)."""
        effective = sum(
            units * post.share
            for post, units in zip(self.owners, capacities, strict=True)
            if post.owner == owner_id
        )
        return effective > self.loads.get(owner_id, 0.0)

    def _analytic_gap(self, capacities: Capacities) -> float:
        self.screened += 1
        total = 0.0
        for goal in analyze(self.staffed(capacities)).goals:
            target = self._target(goal.id)
            if target is not None and goal.estimate is not None:
                total += shortfall(target, goal.estimate, None)
        return total

    def screen(self, start: Capacities, max_capacity: int) -> Capacities:
        current, gap = start, self._analytic_gap(start)
        while gap > 0.0:
            best: tuple[float, Capacities] | None = None
            for index in range(len(self.owners)):
                if current[index] >= max_capacity:
                    continue
                trial = _plus(current, index, 1)
                gain = (gap - self._analytic_gap(trial)) / max(self.prices[index], 1e-9)
                if gain > 0.0 and (best is None or gain > best[0]):
                    best = (gain, trial)
            if best is None:
                break
            current = best[1]
            gap = self._analytic_gap(current)
        return current

    def _target(self, goal_id: str) -> Target | None:
        for goal in self.process.goals:
            if goal.id == goal_id and goal.metric is not None:
                return goal.target
        return None

    # -- simulation phases ------------------------------------------------

    def evaluate(self, capacities: Capacities) -> SimulationResult:
        if capacities not in self.cache:
            staffed, told = self.staffed(capacities), self._told(capacities)
            (self.cache[capacities],) = simulate_scenarios(
                [staffed], **self.options, progress=told, estimates=False
            )  # verdicts only: no run-length estimate (an extra run 1) per staffing
        return self.cache[capacities]

    def _told(self, capacities: Capacities) -> Callable[[int, int], None] | None:
        """The simulation's progress callback for one staffing, or None without a listener."""
        progress = self.progress
        if progress is None:
            return None
        staffing = {post.name: c for post, c in zip(self.owners, capacities, strict=True)}
        return lambda done, total: progress(staffing, done, total)

    def gap(self, capacities: Capacities) -> float:
        result = self.evaluate(capacities)
        total = 0.0
        for goal in result.goals:
            target = self._target(goal.id)
            if target is not None:
                total += shortfall(target, goal.value, goal.ci95)
        return total

    def met(self, capacities: Capacities) -> bool:
        goals = self.evaluate(capacities).goals
        return all(g.verdict == MET for g in goals if self._target(g.id) is not None)

    def climb(self, current: Capacities, max_capacity: int) -> tuple[Capacities, str | None]:
        """Add units, the best goal improvement per cost first, until every goal is met.

        Returns the staffing reached and, when it does not meet the goals,
        why the search stopped: every owner at ``max_capacity``, or no unit
        more of any owner brings any goal closer (a goal staffing cannot move,
        such as a rework rate).
        """
        while not self.met(current):
            gap = self.gap(current)
            best: tuple[float, float, Capacities] | None = None
            for index in range(len(self.owners)):
                if current[index] >= max_capacity:
                    continue
                trial = _plus(current, index, 1)
                gain = (gap - self.gap(trial)) / max(self.prices[index], 1e-9)
                key = (gain, -self.cost(trial)[0])
                if best is None or key > best[:2]:
                    best = (*key, trial)
            if best is None:
                return current, f"every searched owner is at --max-capacity {max_capacity}"
            if best[0] <= 0.0:
                return current, "no more staff of any searched owner brings the goals closer"
            current = best[2]
        return current, None

    def back_off(self, current: Capacities, floor: Capacities) -> Capacities:
        """Remove units, the most expensive owner first, while every goal stays met (and,
        for shifts, the owner's units on duty still exceed its load)."""
        order = sorted(range(len(self.owners)), key=lambda i: -self.prices[i])
        removed = True
        while removed:
            removed = False
            for index in order:
                if current[index] <= floor[index]:
                    continue
                trial = _plus(current, index, -1)
                if self._covers(self.owners[index].owner, trial) and self.met(trial):
                    current, removed = trial, True
                    break
        return current


def patch_of(process: Process, posts: Sequence[Post], capacities: Sequence[int]) -> dict[str, Any]:
    """The JSON Merge Patch that staffs ``posts`` with ``capacities``: ``{capacity: n}`` for
    an owner, its whole ``shifts:`` list (a merge patch replaces lists) for a shift owner."""
    owners: dict[str, dict[str, Any]] = {}
    for post, units in zip(posts, capacities, strict=True):
        if post.shift is None:
            owners[post.owner] = {"capacity": units}
            continue
        if post.owner not in owners:
            shifts = process.owners[post.owner].shifts or []
            owners[post.owner] = {"shifts": [s.model_dump(exclude_none=True) for s in shifts]}
        owners[post.owner]["shifts"][post.shift]["capacity"] = units
    return {"owners": owners}


def _plus(capacities: Capacities, index: int, units: int) -> Capacities:
    return tuple(c + units if i == index else c for i, c in enumerate(capacities))


def _outcomes(search: _Search, capacities: Capacities) -> tuple[GoalOutcome, ...]:
    return tuple(
        GoalOutcome(g.id, g.metric, g.stat, g.target, g.value, g.ci95, g.verdict)
        for g in search.evaluate(capacities).goals
    )


def _before(process: Process, post: Post) -> int:
    owner = process.owners[post.owner]
    return (
        owner.capacity
        if post.shift is None or owner.shifts is None
        else owner.shifts[post.shift].capacity
    )


def optimize(
    process: Process | str | os.PathLike[str],
    *,
    owners: Sequence[str] | None = None,
    max_capacity: int = DEFAULT_MAX_CAPACITY,
    cases: int = DEFAULT_CASES,
    runs: int = DEFAULT_RUNS,
    seed: int = DEFAULT_SEED,
    warmup: int | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    progress: Progress | None = None,
    start: str | datetime | None = None,
) -> Optimization:
    """The cheapest capacities at which every goal of ``process`` is met (docs/optimize.md).

    ``owners`` limits the search to those staff owners (default: every
    one; an owner with ``shifts:`` is searched shift by shift); each capacity
    gets at most ``max_capacity`` units. Cost is staffing cost per elapsed
    hour (units × ``cost_per_hour`` × the share of the week they are on duty),
    or head count when no owner has a cost. ``cases``, ``runs``, ``seed``, ``warmup``, ``jobs`` and
    ``scheduler`` are those of :func:`procflow.simulate`; every staffing is
    simulated with the same seed, warm-up and ``start`` (common random numbers; ``start``
    is when a process with calendars starts, docs/working-time.md).
    Raises :class:`~procflow.errors.ProcessError` or
    :class:`~procflow.errors.SimulationError` (with positions) for a process
    that cannot be optimized, :class:`~procflow.errors.ConfigError` for bad
    options. ``feasible`` is False when no staffing within ``max_capacity``
    meets the goals. ``progress`` (see :data:`Progress`) is told how each
    simulated staffing is getting on.
    """
    loaded = _process_of(process)
    searched = _searched(loaded, owners)
    _check(loaded, max_capacity, cases, runs)
    search = _Search(loaded, searched, {}, progress)
    floor = search.floor(max_capacity)
    screened = search.screen(floor, max_capacity)
    first = warmup if warmup is not None else default_warmup(search.staffed(floor), cases)
    search.options.update(
        cases=cases,
        runs=runs,
        seed=seed,
        warmup=first,
        jobs=jobs,
        scheduler=scheduler,
        start=start_of(loaded, start),
    )
    fixed = beyond_staffing(loaded)
    reached, reason = (screened, fixed) if fixed else search.climb(screened, max_capacity)
    least = tuple(
        1 if post.shift is not None else f for post, f in zip(searched, floor, strict=True)
    )
    final = search.back_off(reached, least) if reason is None else reached
    return Optimization(
        process=loaded.id,
        feasible=reason is None,
        reason=reason,
        costed=search.costed,
        staffing=tuple(
            Staffing(
                post.owner,
                _before(loaded, post),
                units,
                loaded.owners[post.owner].cost_per_hour,
                post.shift,
                post.calendar,
                post.share,
            )
            for post, units in zip(searched, final, strict=True)
        ),
        goals=_outcomes(search, final),
        evaluations=len(search.cache),
        screened=search.screened,
        cases=cases,
        runs=runs,
        seed=seed,
    )
