"""``analyze(process)``: visits, load, utilization, waiting, cycle time and goals.

This module puts the pieces together: :mod:`~procflow.analysis.routing`
gives the expected visits per case (exact, bounds unrolled),
:mod:`~procflow.analysis.queueing` the waiting at each staffed owner, and
:mod:`~procflow.analysis.goals` holds the goals against the result.

Per owner, offered load = arrival rate x Σ visits x mean duration over its
steps (Erlangs) and utilization = load / capacity. External owners and steps
without an owner are pure delays: no queue, their time counts in the cycle
time but nobody waits for them.

When are the figures exact? Waiting per owner is exactly M/M/c when the
network is of product form (Jackson / BCMP): Poisson arrivals, and every
staffed owner upstream of this one -- itself included -- serves all its steps
with exponential durations of *one* mean (FIFO needs class-independent
service for product form; pure delays may have any distribution). Then the
expected cycle time Σ visits x (wait + service) is exact too. Otherwise the
waits are Allen–Cunneen approximations and every figure that uses them says
``exact: false``.

Cost: :func:`analyze` solves the routing and the durations (what every
figure needs) and nothing else; :class:`_Model` computes the rest -- the
queueing network, waits, fastest paths, rework -- the first time a figure
asks for it. The lint rules read utilizations and goal checks only.

Extreme values (a capacity of 10**30, a rate of 1e300/s, durations of
1e-300 s) give finite figures where the arithmetic allows and ``None`` in
JSON where it does not; an offered load beyond floating point raises a
positioned :class:`~procflow.errors.SimulationError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cached_property, partial
from typing import TYPE_CHECKING, NamedTuple

from procflow.analysis import queueing
from procflow.analysis.classes import classes_of
from procflow.analysis.goals import estimate_goals
from procflow.analysis.linear import safe_sum as _total
from procflow.analysis.results import (
    Analysis,
    GoalEstimate,
    OwnerDetails,
    OwnerFigures,
    OwnerLoad,
    Routing,
    StepFigures,
    StepShare,
)
from procflow.analysis.routing import (
    MAX_STATES,
    Chain,
    build_chain,
    case_rework,
    fastest_path,
    step_moves,
)
from procflow.analysis.routing import rework_probability as _rework_probability
from procflow.analysis.workweek import effective_capacity, keeps_hours, weekly_rate
from procflow.casedata import ByDuration
from procflow.checks import without_duration
from procflow.compiled import CompiledProcess
from procflow.distributions import (
    AnyDistribution,
    Exponential,
    Fixed,
)
from procflow.errors import Problem, ProcessError, ProcflowError, SimulationError
from procflow.gate import runnable
from procflow.model import Process, Step

if TYPE_CHECKING:
    from procflow.analysis.forks import BlockTimes

#: Default utilization from which an owner counts as a bottleneck (PF502).
BOTTLENECK_THRESHOLD = 0.85


def lower_bound(distribution: AnyDistribution) -> float:
    """The shortest duration a distribution can produce (each kind knows its own)."""
    return distribution.lower


def duration_figures(distribution: AnyDistribution) -> tuple[float, float]:
    """``(mean, scv)`` of a duration, also where the textbook formulas overflow.

    Every distribution family (docs/file-format.md#distributions) is a scale family: scaling all
    parameters by
    ``k`` scales the mean by ``k`` and leaves the SCV alone. When a mean or
    variance overflows or underflows (``1e300s``, ``1e-300s``), the figures
    are computed on a copy scaled by a power of two (exact in binary) and
    scaled back. The mean may still be ``inf`` (beyond floating point); the
    SCV of an exponential is 1 exactly, of a fixed duration 0.
    """
    kind = type(distribution)
    if kind is Exponential:
        mean = distribution.mean_  # type: ignore[union-attr]
        return mean, 1.0 if mean > 0.0 else 0.0
    if kind is Fixed:
        return distribution.value, 0.0  # type: ignore[union-attr]
    try:
        mean = distribution.mean
        if mean > 0.0:
            scv = distribution.variance / (mean * mean)
            if math.isfinite(scv) and math.isfinite(mean) and mean * mean > 0.0:
                return mean, scv
        elif mean == 0.0:
            return 0.0, 0.0
    except (ArithmeticError, ValueError):
        pass
    return _scaled_figures(distribution)


def step_figures(step: Step) -> tuple[float | None, float | None, float | None]:
    """``(mean, scv, shortest)`` of a step's duration: 0 for an end step, ``None`` without one.

    One definition for the model and for lint's clearance
    (:mod:`procflow.analysis.clearance`), which must read the same figures.
    """
    if step.end:
        return 0.0, 0.0, 0.0
    duration = step.duration
    if duration is None:  # unreachable (the model refuses a reachable one, PF402)
        return None, None, None
    if isinstance(duration, ByDuration):  # a mixture over the attribute's shares
        return duration.mean, duration.scv, duration.lower
    mean, scv = duration_figures(duration)
    return mean, scv, lower_bound(duration)


def _scaled_figures(distribution: AnyDistribution) -> tuple[float, float]:
    args = distribution.args()
    largest = max((abs(a) for a in args), default=0.0)
    if largest <= 0.0 or not math.isfinite(largest):
        return (0.0, 0.0) if largest <= 0.0 else (math.inf, math.inf)
    scale = 2.0 ** -math.frexp(largest)[1]  # parameters of the copy are below 1
    update = {
        name: tuple(v * scale for v in value) if isinstance(value, tuple) else value * scale
        for name in distribution.params
        if isinstance(value := getattr(distribution, name), tuple | float | int)
    }
    copy = distribution.model_copy(update=update)
    try:
        mean = copy.mean
        variance = copy.variance
        scv = variance / (mean * mean) if mean > 0.0 else 0.0
    except (ArithmeticError, ValueError):
        return math.inf, math.inf
    return mean / scale, scv if math.isfinite(scv) else math.inf


def _exponential_one_mean(process: Process, steps: Iterable[str]) -> bool:
    """All these steps exponential with the same mean (FIFO product form)."""
    means = set()
    for step_id in steps:
        duration = process.steps[step_id].duration
        if not isinstance(duration, Exponential):
            return False
        means.add(duration.mean)
    return len(means) <= 1


def _second(item: tuple[str, float]) -> float:
    """Sort key: the larger load first."""
    return -item[1]


class _StepData(NamedTuple):
    """The per-step figures an owner's details are computed from."""

    visits: dict[str, float]
    mean: dict[str, float | None]
    scv: dict[str, float | None]
    load: dict[str, float]
    rate: float
    threshold: float


def _service(steps: list[str], data: _StepData) -> tuple[float | None, float | None]:
    """Mean and SCV of an owner's service time: the visit-weighted mixture of its steps.

    Computed from each step's share of the visits, so that huge or tiny
    figures do not overflow on the way.
    """
    visits = data.visits
    weight = _total(visits[s] for s in steps)
    if weight <= 0.0:
        return None, None
    shares = [(visits[s] / weight, data.mean[s] or 0.0, data.scv[s] or 0.0) for s in steps]
    mean = _total(share * m for share, m, _c in shares)
    if not mean > 0.0 or not math.isfinite(mean):
        return mean, 0.0 if mean == 0.0 else math.inf
    second = _total(share * (c + 1.0) * (m / mean) ** 2 for share, m, c in shares)
    return mean, second - 1.0


def _owner_details(
    steps: list[str], load: float, data: _StepData, external: bool, duty_load: float
) -> OwnerDetails:
    """The steps that bring an owner's load, its service mix, the capacity that would do.

    ``duty_load`` is the load the capacity must carry: ``load`` for an owner that works
    around the clock, the load while on duty for one with a calendar (the weekly load
    would size it by the hours it is off as if it worked them)."""
    step_load = data.load
    shares = sorted(((s, step_load[s]) for s in steps if step_load[s] > 0.0), key=_second)
    top = tuple(StepShare(s, x, x / load) for s, x in shares)
    per_hour = data.rate * 3600.0 * _total(data.visits[s] for s in steps)
    mean, scv = _service(steps, data)
    if external:
        return OwnerDetails(top, per_hour, mean, scv, None, None)
    return OwnerDetails(
        top, per_hour, mean, scv, queueing.required_servers(duty_load, 1.0),
        queueing.required_servers(duty_load, data.threshold),
    )  # fmt: skip


class _Model:
    """Routing, durations and loads of one process, and every other figure on demand.

    Implements :class:`~procflow.analysis.results.Figures`; the
    :class:`Analysis` built on it caches what it asks for.
    """

    def __init__(self, process: Process, rate: float, threshold: float, chain: Chain) -> None:
        assert process.arrivals is not None
        self.process = process
        self.calendared = process.uses_calendars
        """Whether owners or arrivals keep working time (docs/working-time.md#analysis)."""
        self.rate = rate
        self.threshold = threshold
        self.chain = chain
        every = process.arrivals.every
        self.poisson = every is None or isinstance(every, Exponential)
        self.arrival_scv = 1.0 if every is None else duration_figures(every)[1]
        totals = [0.0] * len(chain.steps)
        for u, value in zip(chain.state_step, chain.visits, strict=True):
            totals[u] += value
        self.visits = dict(zip(chain.steps, totals, strict=True))
        self._refuse_missing_durations(set(chain.state_step))
        self.owned: dict[str, list[str]] = {owner: [] for owner in process.owners}
        self.mean: dict[str, float | None] = {}
        self.scv: dict[str, float | None] = {}
        self.shortest: dict[str, float | None] = {}
        for step_id, step in process.steps.items():
            self.mean[step_id], self.scv[step_id], self.shortest[step_id] = step_figures(step)
            if step.owner is not None and not step.end:  # declared: the gate checked it (PF202)
                self.owned[step.owner].append(step_id)
        compiled = CompiledProcess.of(process)
        if compiled.has_forks:  # the work a race withdraws is not done (approximate)
            from procflow.analysis.forks import race_visits  # numpy: only for forks

            work = {
                compiled.index[s]: ((m or 0.0), (m or 0.0) ** 2 * (self.scv[s] or 0.0))
                for s, m in self.mean.items()
            }
            self.visits = race_visits(compiled, self.visits, work)
        self.step_load = {s: rate * self.visits[s] * (m or 0.0) for s, m in self.mean.items()}
        self.load = {o: _total(self.step_load[s] for s in steps) for o, steps in self.owned.items()}
        self._check_finite()
        self.figures = _StepData(self.visits, self.mean, self.scv, self.step_load, rate, threshold)
        self._wait_bounds: dict[bool, dict[str, float]] = {}

    def _refuse_missing_durations(self, reached: set[int]) -> None:
        """PF402 on a step a case can reach: the model needs every such duration."""
        process = self.process
        compiled = CompiledProcess.of(process)
        missing = [u for u in without_duration(compiled) if u in reached]
        if missing:
            problems = [
                Problem(
                    "PF402",
                    f"step {compiled.steps[u]!r} has no duration: analysis needs one "
                    "(e.g. duration: exponential(6m))",
                    process.position(("steps", compiled.steps[u])),
                )
                for u in missing
            ]
            raise ProcessError(problems, f"{process.source.file}: the process cannot be analyzed")

    def _check_finite(self) -> None:
        """Refuse a process whose offered load is beyond floating point, naming the cause."""
        for owner_id, load in self.load.items():
            if math.isfinite(load):
                continue
            step_id = max(self.owned[owner_id], key=lambda s: self.step_load[s])
            where = self.process.position(("steps", step_id, "duration"), "value")
            raise SimulationError(
                f"{where}: the offered load of owner {owner_id!r} (arrivals x visits x mean "
                f"duration of step {step_id!r}) is too large to compute with: check the "
                "arrival rate and the durations"
            )

    # ------------------------------------------------------------------
    # what the declaration alone decides

    @cached_property
    def mix(self) -> dict[str, tuple[float | None, float | None]]:
        """Per owner, the mean and SCV of its service time (see :func:`_service`)."""
        return {owner_id: _service(steps, self.figures) for owner_id, steps in self.owned.items()}

    @cached_property
    def loads(self) -> dict[str, OwnerLoad]:
        figures: dict[str, OwnerLoad] = {}
        for owner_id, owner in self.process.owners.items():
            load = self.load[owner_id]
            # the details read the model's figures, not the model: no reference cycle, so
            # lint's models are freed as soon as a file is done, without the collector
            steps = self.owned[owner_id]
            if owner.external:
                details = partial(_owner_details, steps, load, self.figures, True, load)
                figures[owner_id] = OwnerLoad(
                    owner_id, True, None, load, None, True, owner.cost_per_hour, details
                )
                continue
            capacity, on_duty = owner.capacity, None
            if self.calendared and keeps_hours(self.process, owner):  # working time: on duty
                capacity, on_duty = owner.units, effective_capacity(self.process, owner)
                utilization = load / on_duty
            else:
                utilization = load / capacity
            duty_load = load if on_duty is None else utilization * capacity
            details = partial(_owner_details, steps, load, self.figures, False, duty_load)
            figures[owner_id] = OwnerLoad(
                owner_id, False, capacity, load, utilization, utilization < 1.0,
                owner.cost_per_hour, details, on_duty,
            )  # fmt: skip
        return figures

    def _queue_load(self, owner_id: str) -> float:
        """The load the queueing formulas see: the weekly load, or for an owner with a
        calendar the load while on duty (utilization x units: the M/M/c whose clock stops
        while it is off duty, docs/working-time.md#analysis)."""
        figures = self.loads[owner_id]
        if figures.on_duty is None or figures.capacity is None:
            return figures.load
        return (figures.utilization or 0.0) * figures.capacity

    def owner_loads(self) -> dict[str, OwnerLoad]:
        return self.loads

    def cost_per_case(self) -> float | None:
        owners = self.process.owners.values()
        if not any(o.cost_per_hour is not None or o.cost_per_step is not None for o in owners):
            return None
        return (
            _total(
                self.load[o_id] / self.rate * (owner.cost_per_hour or 0.0) / 3600.0
                for o_id, owner in self.process.owners.items()
                if owner.cost_per_hour is not None
            )
            + self.step_cost_per_case()
        )

    def step_cost_per_case(self) -> float:
        """``cost_per_step`` times the visits of the owner's steps, summed over owners: the
        fixed amounts a case costs (the simulator adds them to both costs per case)."""
        return _total(
            (owner.cost_per_step or 0.0) * _total(self.visits[s] for s in self.owned[o_id])
            for o_id, owner in self.process.owners.items()
            if owner.cost_per_step is not None
        )

    def rework_rate(self) -> float:
        if not self.chain.per_case:  # tokens of one fork reworking apart: counted per case
            found = case_rework(self.process)
            if found is not None:
                return found
        return _rework_probability(self.chain)

    def _path(self, cost: dict[str, float | None]) -> tuple[float, list[str]] | None:
        process, chain = self.process, self.chain
        compiled = CompiledProcess.of(process)
        if compiled.has_forks:  # blocks take their slowest (or fastest) branch
            from procflow.analysis.forks import floor_through  # numpy: only for forks

            return floor_through(
                compiled,
                [cost[s] or 0.0 for s in compiled.steps],
                [self.shortest[s] or 0.0 for s in compiled.steps],
            )
        is_end = [process.steps[s].end for s in chain.steps]
        return fastest_path(chain, [cost[s] or 0.0 for s in chain.steps], is_end)

    def fastest_path(self) -> tuple[float | None, tuple[str, ...]]:
        found = self._path(self.mean)
        return (found[0], tuple(found[1])) if found else (None, ())

    def floor(self) -> float | None:
        found = self._path(self.shortest)
        return found[0] if found else None

    def path_upper_bound(self, shortest: bool) -> float | None:
        """At least the fastest path's time (at shortest or mean durations), or ``None``.

        Without ``p: 0`` transitions every path a case can take without
        repeating a step is open to it, and the fastest path repeats none,
        so it takes at most the sum over all steps.
        """
        if self.chain.zero_edges:
            return None
        return _total(t or 0.0 for t in (self.shortest if shortest else self.mean).values())

    # ------------------------------------------------------------------
    # the queueing network

    @cached_property
    def network(self) -> tuple[dict[str, float], set[str]]:
        """QNA over the stations: ``(arrival SCV per staffed owner, owners not of product form)``.

        Stations are the staffed owners that get work and every visited
        pure-delay step. An owner is not of product form when it, or any
        staffed owner upstream of it, is not exponential with one mean: one
        forward sweep from those owners marks everything downstream.
        """
        process, chain, visits, loads = self.process, self.chain, self.visits, self.loads
        index = {step: u for u, step in enumerate(chain.steps)}
        node_of = [-1] * len(chain.steps)
        stations: list[queueing.Station] = []
        station_owner: list[str | None] = []
        for owner_id, owner in process.owners.items():
            steps = self.owned[owner_id]
            if owner.external or _total(visits[s] for s in steps) <= 0.0:
                continue
            for step_id in steps:
                node_of[index[step_id]] = len(stations)
            figures = loads[owner_id]
            stations.append(
                queueing.Station(
                    figures.utilization or 0.0, owner.capacity, self.mix[owner_id][1] or 0.0
                )
            )
            station_owner.append(owner_id)
        for u, (step_id, step) in enumerate(process.steps.items()):
            if step.end or node_of[u] >= 0 or visits[step_id] <= 0.0:
                continue
            node_of[u] = len(stations)
            stations.append(queueing.Station(0.0, None, self.scv[step_id] or 0.0))
            station_owner.append(None)
        pairs: dict[tuple[int, int], float] = {}
        for u, v, flow in step_moves(chain, chain.visits):
            a = node_of[u]
            if a < 0:
                continue
            b = node_of[v]
            if b >= 0:
                pairs[a, b] = pairs.get((a, b), 0.0) + flow
        flows = {pair: flow for pair, flow in pairs.items() if flow > 0.0}
        external = [0.0] * len(stations)
        if node_of[index[process.start]] >= 0:
            external[node_of[index[process.start]]] = 1.0
        assert process.arrivals is not None
        scvs = queueing.qna_arrival_scvs(stations, flows, external, self.arrival_scv)
        downstream: list[list[int]] = [[] for _ in stations]
        for a, b in flows:
            downstream[a].append(b)
        frontier = [
            i
            for i, o in enumerate(station_owner)
            if o is not None
            and not _exponential_one_mean(process, (s for s in self.owned[o] if visits[s] > 0.0))
        ]
        tainted = set(frontier)
        while frontier:
            for j in downstream[frontier.pop()]:
                if j not in tainted:
                    tainted.add(j)
                    frontier.append(j)
        arrival_scv = {o: scvs[i] for i, o in enumerate(station_owner) if o is not None}
        not_product_form = {o for i in tainted if (o := station_owner[i]) is not None}
        return arrival_scv, not_product_form

    @cached_property
    def owners(self) -> dict[str, OwnerFigures]:
        """Load, utilization and waiting of every owner, in declaration order."""
        arrival_scv, not_product_form = self.network
        exact_routing = self.chain.exact
        owners: dict[str, OwnerFigures] = {}
        for owner_id, figures in self.loads.items():
            capacity, load = figures.capacity, self._queue_load(owner_id)
            mean, scv = self.mix[owner_id]
            scv_in = arrival_scv.get(owner_id)
            if figures.external or capacity is None:
                owners[owner_id] = OwnerFigures(
                    owner_id, True, None, load, None, 0.0, 0.0, True, True, figures.top_steps,
                    figures.arrivals_per_hour, mean, scv, scv_in, None, None,
                    figures.cost_per_hour,
                )  # fmt: skip
                continue
            stable = figures.stable
            exact = self.poisson and exact_routing and owner_id not in not_product_form
            exact = exact and not self.calendared  # working time: approximate
            p_wait: float | None = None
            wait: float | None = None
            if stable and (load <= 0.0 or mean is None):
                p_wait = wait = 0.0
            elif stable and mean is not None:
                p_wait = queueing.erlang_c(capacity, load)
                wait = queueing.mmc_wait(capacity, load, mean)
                if not exact:
                    wait = queueing.allen_cunneen(
                        wait, 1.0 if scv_in is None else scv_in, scv or 0.0
                    )
            owners[owner_id] = OwnerFigures(
                owner_id, False, capacity, load, figures.utilization, p_wait, wait, exact, stable,
                figures.top_steps, figures.arrivals_per_hour, mean, scv, scv_in,
                figures.required_capacity, figures.capacity_below_threshold,
                figures.cost_per_hour,
            )  # fmt: skip
        return owners

    def owner_figures(self) -> dict[str, OwnerFigures]:
        return self.owners

    def step_ids(self) -> list[str]:
        return list(self.process.steps)

    def step_figure(self, step_id: str) -> StepFigures:
        """Visits, service and wait of a step; pure delays and end steps never wait."""
        step = self.process.steps[step_id]
        delay = not step.end and (step.owner is None or self.process.owners[step.owner].external)
        wait: float | None = 0.0
        if not step.end and not delay and step.owner is not None:
            wait = self.owners[step.owner].wait_mean
        return StepFigures(
            step_id, step.owner, self.visits[step_id], self.mean[step_id], self.scv[step_id],
            self.shortest[step_id], wait, step.end, delay,
        )  # fmt: skip

    def step_service(self, step_id: str) -> tuple[float | None, float | None] | None:
        if step_id not in self.mean:
            return None
        return self.mean[step_id], self.shortest[step_id]

    @cached_property
    def stable(self) -> bool:
        return all(o.stable for o in self.loads.values())

    @cached_property
    def active(self) -> list[tuple[str, str | None]]:
        """``(step, staffed owner or None)`` of every step cases spend time in, in file order."""
        owners, visits = self.process.owners, self.visits
        return [
            (s, None if step.owner is None or owners[step.owner].external else step.owner)
            for s, step in self.process.steps.items()
            if not step.end and visits[s] > 0.0
        ]

    @cached_property
    def service_time(self) -> float:
        """Expected time in service per case: Σ visits x mean duration."""
        visits, mean = self.visits, self.mean
        return _total(visits[s] * (mean[s] or 0.0) for s, _o in self.active)

    @cached_property
    def times(self) -> tuple[float | None, float | None]:
        """``(expected cycle time, expected waiting per case)``, ``None`` when unstable."""
        if not self.stable:
            return None, None
        owners, visits = self.owners, self.visits
        wait_time = _total(
            visits[s] * (owners[o].wait_mean or 0.0) if o is not None else 0.0
            for s, o in self.active
        )
        if self.blocks is not None:  # time through a fork is its slowest (fastest) branch's
            return self._through_blocks(self.blocks), wait_time
        return wait_time + self.service_time, wait_time

    @cached_property
    def blocks(self) -> BlockTimes | None:
        """The fork blocks' times (docs/parallel-work.md), or ``None`` without forks."""
        compiled = CompiledProcess.of(self.process)
        if not compiled.has_forks:
            return None
        from procflow.analysis.forks import BlockTimes, wait_variance  # numpy: only for forks

        owners = self.owners
        per_visit: dict[int, tuple[float, float]] = {}
        for s, o in self.active:
            mean, scv = self.mean[s] or 0.0, self.scv[s] or 0.0
            wait = owners[o].wait_mean or 0.0 if o is not None else 0.0
            spread = wait_variance(wait, owners[o].p_wait) if o is not None else 0.0
            per_visit[compiled.index[s]] = (mean + wait, mean * mean * scv + spread)
        return BlockTimes(compiled, per_visit)

    def _through_blocks(self, blocks: BlockTimes) -> float:
        """Expected cycle time: the steps outside every fork, plus each outermost block's time
        per visit of its fork (approximate: docs/parallel-work.md)."""
        inside = blocks.regions()
        visits, per_visit = self.visits, blocks.per_visit
        steps = blocks.compiled.steps
        outside = _total(
            visits[steps[u]] * mean for u, (mean, _v) in per_visit.items() if u not in inside
        )
        return outside + _total(visits[steps[f]] * blocks.block(f)[0] for f in blocks.top_level())

    def expected_cycle_time(self) -> float | None:
        return self.times[0]

    def wait_time(self) -> float | None:
        return self.times[1]

    def wip(self) -> float | None:
        expected = self.times[0]
        return self.rate * expected if expected is not None else None

    def has_forks(self) -> bool:
        return self.blocks is not None

    def exact(self) -> bool:
        if not self.chain.exact or self.blocks is not None:  # fork blocks are approximated
            return False
        return all(o.exact for o in self.owners.values() if not o.external and o.load > 0.0)

    # ------------------------------------------------------------------
    # bounds that need no queueing network

    @cached_property
    def arrival_scv_bound(self) -> float:
        """An upper bound of the QNA arrival SCV at every station.

        QNA's arrival SCV at a station is a convex combination of 1, the
        external arrivals' SCV, the stations' departure terms ``x`` and
        upstream arrival SCVs, so it never exceeds the largest of 1, the
        external SCV and any ``x``.
        """
        mix = self.mix
        top = max(1.0, min(self.arrival_scv, 1e300))
        for owner_id, figures in self.loads.items():
            if not figures.external and figures.capacity is not None and figures.load > 0.0:
                served = min(max(mix[owner_id][1] or 0.0, 0.2), 1e300)
                top = max(top, 1.0 + (served - 1.0) / math.sqrt(figures.capacity))
        return top

    def wait_bounds(self, refined: bool) -> dict[str, float]:
        """An upper bound of every staffed owner's mean wait, without solving QNA.

        Allen–Cunneen is increasing in the arrival SCV (bounded by
        :attr:`arrival_scv_bound`), and an exact (product-form) owner waits
        the M/M/c wait. ``refined`` computes Erlang C; otherwise it is
        bounded by 1, which costs nothing and decides most goals.
        """
        cached = self._wait_bounds.get(refined)
        if cached is not None:
            return cached
        top = self.arrival_scv_bound
        bounds: dict[str, float] = {}
        for owner_id, figures in self.loads.items():
            capacity, load = figures.capacity, self._queue_load(owner_id)
            mean, scv = self.mix[owner_id]
            if figures.external or capacity is None or load <= 0.0 or mean is None:
                bounds[owner_id] = 0.0
                continue
            # the M/M/c wait, or its bound with Erlang C <= 1
            mmc = queueing.mmc_wait(capacity, load, mean) if refined else mean / (capacity - load)
            bounds[owner_id] = max(mmc, mmc * (top + (scv or 0.0)) / 2.0)
        self._wait_bounds[refined] = bounds
        return bounds

    def mean_upper_bound(
        self, metric: str, argument: str | None, *, refined: bool = True
    ) -> float | None:
        if not self.stable:
            return None
        waits = self.wait_bounds(refined)
        if metric == "step_time":
            step = self.process.steps.get(argument or "")
            if step is None:
                return None
            if step.end:
                return 0.0
            mean = self.mean[argument or ""]
            if mean is None:
                return None
            owner = step.owner
            staffed = owner is not None and not self.process.owners[owner].external
            return mean + (waits[owner] if staffed and owner is not None else 0.0)
        visits = self.visits
        wait = _total(visits[s] * waits[o] for s, o in self.active if o is not None)
        if metric == "wait_time":
            return wait
        if metric == "cycle_time":
            return self.service_time + wait
        if metric == "wip":
            return self.rate * (self.service_time + wait)
        return None

    def goals(self, analysis: Analysis) -> tuple[GoalEstimate, ...]:
        return estimate_goals(self.process.goals, analysis)


def analyze(
    process: Process,
    *,
    bottleneck_threshold: float = BOTTLENECK_THRESHOLD,
    max_states: int = MAX_STATES,
) -> Analysis:
    """The analytic model (docs/analysis-method.md) of ``process``.

    Raises :class:`~procflow.errors.SimulationError` when the process declares
    no arrivals, and :class:`~procflow.errors.ProcessError` (with the position
    of each problem) when a reachable step has no duration or the routing is
    broken (unknown targets, bad probabilities, traps).

    Figures are computed when first read (see :class:`Analysis`).

    >>> import procflow
    >>> p = procflow.load_text('''
    ... process: desk
    ... owners: {agent: {capacity: 4}}
    ... arrivals: {rate: 9/h}
    ... start: serve
    ... steps:
    ...   serve: {owner: agent, duration: exponential(20m), next: done}
    ...   done: {end: true}
    ... ''')
    >>> a = analyze(p)
    >>> round(a.owners["agent"].utilization, 4), round(a.owners["agent"].p_wait, 4)
    (0.75, 0.5094)
    """
    if not 0.0 < bottleneck_threshold <= 1.0:
        raise ValueError("bottleneck_threshold must be in (0, 1]")
    if not isinstance(process, Process):
        raise TypeError(
            f"analyze() takes a Process (procflow.load(path)), not {type(process).__name__}"
        )
    if process.arrivals is None:
        raise SimulationError(
            f"{process.position(())}: process {process.id!r} declares no arrivals: "
            "analysis needs them (e.g. arrivals: {rate: 8/h})"
        )
    rate = weekly_rate(process) if process.uses_calendars else process.arrivals.rate_per_second
    if not math.isfinite(rate) or rate <= 0.0:
        raise SimulationError(
            f"{process.position(('arrivals',))}: arrivals must have a positive rate "
            "(a mean time between arrivals above 0)"
        )
    runnable(process)  # the gate; answered from what lint already found, when lint asks
    chain = build_chain(process, max_states=max_states)
    model = _Model(process, rate, bottleneck_threshold, chain)
    return Analysis(
        model,
        process=process.id,
        arrival_rate_per_hour=rate * 3600.0,
        arrival_scv=model.arrival_scv,
        poisson=model.poisson,
        bottleneck_threshold=bottleneck_threshold,
        routing=Routing(
            chain.size, chain.bounds, chain.dropped, chain.shared, chain.per_case, chain.fallback
        ),
        classes=(lambda a: classes_of(process, a, analyze)) if process.priority else None,
    )


def analyze_or_none(
    process: Process, *, bottleneck_threshold: float = BOTTLENECK_THRESHOLD, keep: bool = True
) -> Analysis | None:
    """:func:`analyze`, or ``None`` when the process cannot be analyzed.

    That is the case without arrivals, with a reachable step that has no
    duration, or with structural errors -- which other lint rules report; the
    rules that need the model (PF501-PF503) then stay silent.

    The answer is kept with the process (it is frozen, and an :class:`Analysis`
    is read-only): ``simulate`` asks for it for its run length, its warm-up,
    its event budget and its notes, and each figure is then computed once.
    ``keep=False`` uses a kept answer but keeps no new one: the analysis
    refers to its process, so kept on the process's compiled form it makes
    the process a reference cycle, and a caller that drops the process at
    once (lint, file after file) would leave all of it -- models, YAML nodes
    and marks, ~3,300 objects for a 50-step file -- for the cyclic collector
    to find, which cost lint ~0.5 ms a file.
    """
    if process.arrivals is None:
        return None
    compiled = CompiledProcess.of(process)
    key = f"analysis {bottleneck_threshold!r}"
    found: Analysis | bool | None = compiled.memo(key)
    if found is None:
        try:
            found = analyze(process, bottleneck_threshold=bottleneck_threshold)
        except ProcflowError:
            found = False
        if keep:
            compiled.remember(key, found)
    return found if isinstance(found, Analysis) else None
