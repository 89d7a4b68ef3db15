"""The figures of the analytic model as immutable values, and their JSON (docs/json.md#analyze).

Times are seconds and rates per hour in :meth:`Analysis.to_dict`. A figure
that does not exist -- the wait at an overloaded owner, a percentile that
cannot be computed analytically -- is ``None`` (JSON ``null``), never an
infinite or negative number; so is a figure too large for floating point.

:class:`Analysis` and :class:`CycleTime` compute their figures on first
use, from a :class:`Figures` source (the model of
:mod:`~procflow.analysis.analyzer`), and keep them: the lint rules ask
for utilizations and goal checks and never pay for the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple, Protocol, TypeVar

from procflow.analysis.classes import Classes
from procflow.analysis.routing import Bound


def finite(value: Any) -> Any:
    """``value`` with every non-finite float inside it replaced by ``None`` (valid JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    return value


class StepShare(NamedTuple):
    """How much of an owner's load one step brings: ``load`` in Erlangs, ``share`` of the total."""

    step: str
    load: float
    share: float

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "load": self.load, "share": self.share}


@dataclass(frozen=True)
class StepFigures:
    """Per step: expected visits per case, mean service and mean wait per visit.

    ``wait_mean`` is ``None`` when the step's owner is overloaded; end steps and
    pure delays (external or owner-less steps) never wait. ``service_min`` is
    the shortest duration the distribution allows (0 for exponential).
    """

    id: str
    owner: str | None
    visits: float
    service_mean: float | None
    service_scv: float | None
    service_min: float | None
    wait_mean: float | None
    end: bool
    delay: bool

    @property
    def time_per_visit(self) -> float | None:
        """Mean wait plus mean service, per visit."""
        if self.end:
            return 0.0
        if self.wait_mean is None or self.service_mean is None:
            return None
        return self.wait_mean + self.service_mean

    def to_dict(self) -> dict[str, Any]:
        return {
            "visits": self.visits,
            "service_mean": self.service_mean,
            "wait_mean": self.wait_mean,
            "owner": self.owner,
            "end": self.end,
            "delay": self.delay,
        }


class OwnerDetails(NamedTuple):
    """The figures of an owner's load that only a report or a finding reads."""

    top_steps: tuple[StepShare, ...]
    arrivals_per_hour: float
    service_mean: float | None
    service_scv: float | None
    required_capacity: int | None
    capacity_below_threshold: int | None


@dataclass(frozen=True, eq=False)
class OwnerLoad:
    """Per owner, what the declared arrivals and routing alone decide: load and utilization.

    The part of :class:`OwnerFigures` that needs no queueing model; PF501 and
    PF502 read nothing else. ``utilization`` is ``None`` for an external owner.
    The details (the steps that bring the load, the capacity that would do,
    the service mix) are worked out when first read.
    """

    id: str
    external: bool
    capacity: int | None
    load: float
    utilization: float | None
    stable: bool
    cost_per_hour: float | None
    details: Callable[[], OwnerDetails] = field(repr=False)
    on_duty: float | None = None
    """Effective capacity (units x on-duty share of the week) of an owner with a calendar;
    ``None`` for one that works around the clock (docs/working-time.md)."""

    @cached_property
    def _details(self) -> OwnerDetails:
        return self.details()

    @property
    def top_steps(self) -> tuple[StepShare, ...]:
        """The steps that bring load, the largest first."""
        return self._details.top_steps

    @property
    def arrivals_per_hour(self) -> float:
        return self._details.arrivals_per_hour

    @property
    def service_mean(self) -> float | None:
        return self._details.service_mean

    @property
    def service_scv(self) -> float | None:
        return self._details.service_scv

    @property
    def required_capacity(self) -> int | None:
        """The smallest capacity with utilization below 1."""
        return self._details.required_capacity

    @property
    def capacity_below_threshold(self) -> int | None:
        """The smallest capacity with utilization below the bottleneck threshold."""
        return self._details.capacity_below_threshold


@dataclass(frozen=True)
class OwnerFigures:
    """Per owner: offered load, utilization, waiting, and what it would take to be stable.

    For a staffed owner ``load`` is the offered load in Erlangs (busy servers on
    average); for an external owner, the mean number of cases with it (no queue,
    ``utilization`` is ``None``). ``exact`` says the M/M/c figures hold exactly;
    otherwise they are the Allen–Cunneen approximation.
    """

    id: str
    external: bool
    capacity: int | None
    load: float
    utilization: float | None
    p_wait: float | None
    wait_mean: float | None
    exact: bool
    stable: bool
    top_steps: tuple[StepShare, ...]
    arrivals_per_hour: float
    service_mean: float | None
    service_scv: float | None
    arrival_scv: float | None
    required_capacity: int | None
    capacity_below_threshold: int | None
    cost_per_hour: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "load": self.load,
            "capacity": self.capacity,
            "utilization": self.utilization,
            "p_wait": self.p_wait,
            "wait_mean": self.wait_mean,
            "exact": self.exact,
            "stable": self.stable,
            "top_steps": [share.to_dict() for share in self.top_steps],
            "external": self.external,
            "arrivals_per_hour": self.arrivals_per_hour,
            "service_mean": self.service_mean,
            "service_scv": self.service_scv,
            "arrival_scv": self.arrival_scv,
            "required_capacity": self.required_capacity,
            "capacity_below_threshold": self.capacity_below_threshold,
        }


class CycleTime:
    """Expected cycle time (``None`` when an owner is overloaded) and the fastest path.

    ``minimum`` is the fastest path at mean durations with no waiting (no case
    averages less); ``floor`` the shortest time any case can take, at the
    shortest durations the distributions allow (no single case can be
    faster). Each figure is computed on first use.
    """

    def __init__(self, source: Figures) -> None:
        self._source = source

    @cached_property
    def expected(self) -> float | None:
        return self._source.expected_cycle_time()

    @cached_property
    def _fastest(self) -> tuple[float | None, tuple[str, ...]]:
        return self._source.fastest_path()

    @property
    def minimum(self) -> float | None:
        return self._fastest[0]

    @property
    def fastest_path(self) -> tuple[str, ...]:
        return self._fastest[1]

    @cached_property
    def floor(self) -> float | None:
        return self._source.floor()

    @cached_property
    def exact(self) -> bool:
        return self._source.exact()

    @cached_property
    def forks(self) -> bool:
        """Whether the time through fork blocks is in it (approximated: docs/parallel-work.md)."""
        return self._source.has_forks()

    def __repr__(self) -> str:
        return (
            f"CycleTime(expected={self.expected!r}, minimum={self.minimum!r}, "
            f"floor={self.floor!r}, exact={self.exact!r}, fastest_path={self.fastest_path!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "expected": self.expected,
            "minimum": self.minimum,
            "floor": self.floor,
            "exact": self.exact,
            "fastest_path": list(self.fastest_path),
        }
        if self.forks:  # only a process with forks has the key (docs/parallel-work.md)
            found["fork_blocks"] = "approximate: moment matching of branch times"
        return found


@dataclass(frozen=True)
class GoalEstimate:
    """A goal held against the model: the estimate (``None`` when not estimable) and ``met``.

    ``infeasible`` explains why the goal cannot be met even in theory (PF503),
    when that is so. Units: seconds for durations, cases per hour for
    throughput, fractions for utilization and rework, plain numbers otherwise.
    """

    id: str
    metric: str | None
    stat: str | None
    target: str | None
    estimate: float | None
    met: bool | None
    exact: bool
    note: str | None = None
    infeasible: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "estimate": self.estimate,
            "met": self.met,
            "metric": self.metric,
            "stat": self.stat,
            "target": self.target,
            "exact": self.exact,
            "note": self.note,
            "infeasible": self.infeasible,
        }


@dataclass(frozen=True)
class Routing:
    """How visits were computed: the unrolled chain's size and any bounds approximated.

    ``dropped``: bounds thinned to keep the chain small; ``shared``: bounds whose counter
    the tokens of a fork share (docs/parallel-work.md). With ``per_case`` the chain moved a
    case's tokens one at a time with one counter set, exact for them too
    (:mod:`procflow.analysis.casechain`); without it the chain counted them per token
    (approximate) for the reason ``fallback`` gives.
    """

    states: int
    bounds: tuple[Bound, ...]
    dropped: tuple[Bound, ...]
    shared: tuple[Bound, ...] = ()
    per_case: bool = False
    fallback: str | None = None

    @property
    def exact(self) -> bool:
        return not self.dropped and (not self.shared or self.per_case)

    @property
    def method(self) -> str:
        if self.per_case:
            return "sequential"
        return "unrolled" if self.exact else "approximate"

    @property
    def note(self) -> str | None:
        """How the visits near the shared bounds were computed (else ``None``)."""
        if not self.shared:
            return None
        if self.per_case:
            return (
                "the tokens of a fork share these bounds' counters per case; the routing "
                "chain moves a case's tokens one at a time in a fixed order with one set of "
                "counters, which gives the visits of every interleaving (exact)"
            )
        note = (
            "the tokens of a fork share these bounds' counters per case, the routing chain "
            "keeps them per token, so visits near them are approximate (run procflow simulate)"
        )
        return f"{note}; not run in sequence: {self.fallback}" if self.fallback else note

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "method": self.method,
            "exact": self.exact,
            "states": self.states,
            "bounds": [str(b) for b in self.bounds],
            "dropped_bounds": [str(b) for b in self.dropped],
        }
        if self.shared:  # only then: every other process's output stays as it was
            data["shared_bounds"] = [str(b) for b in self.shared]
            data["note"] = self.note
        return data


V = TypeVar("V")


class LazyMapping(Mapping[str, V]):
    """A read-only mapping whose values are built on first access (in ``keys`` order)."""

    def __init__(self, keys: Sequence[str], build: Callable[[str], V]) -> None:
        self._keys = keys
        self._known = frozenset(keys)
        self._build = build
        self._values: dict[str, V] = {}

    def __getitem__(self, key: str) -> V:
        value = self._values.get(key)
        if value is None:
            if key not in self._known:
                raise KeyError(key)
            value = self._values[key] = self._build(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"{{{', '.join(f'{k!r}: {self[k]!r}' for k in self._keys)}}}"


class Figures(Protocol):
    """What :class:`Analysis` computes its figures from (the analyzer's model)."""

    def owner_loads(self) -> dict[str, OwnerLoad]: ...

    def owner_figures(self) -> dict[str, OwnerFigures]: ...

    def step_ids(self) -> Sequence[str]: ...

    def step_figure(self, step: str) -> StepFigures: ...

    def mean_upper_bound(
        self, metric: str, argument: str | None, *, refined: bool = True
    ) -> float | None: ...

    def step_service(self, step: str) -> tuple[float | None, float | None] | None: ...

    def expected_cycle_time(self) -> float | None: ...

    def wait_time(self) -> float | None: ...

    def wip(self) -> float | None: ...

    def fastest_path(self) -> tuple[float | None, tuple[str, ...]]: ...

    def floor(self) -> float | None: ...

    def path_upper_bound(self, shortest: bool) -> float | None: ...

    def exact(self) -> bool: ...

    def has_forks(self) -> bool: ...

    def rework_rate(self) -> float: ...

    def cost_per_case(self) -> float | None: ...

    def step_cost_per_case(self) -> float: ...

    def goals(self, analysis: Analysis) -> tuple[GoalEstimate, ...]: ...


class Analysis:
    """The analytic model of one process (docs/analysis-method.md); see :func:`procflow.analyze`.

    Read-only. Every figure is computed on first use and kept, so asking for
    utilizations (:attr:`loads`) does not run the queueing network, and
    asking for the rework rate does not solve for waits.
    """

    def __init__(
        self,
        source: Figures,
        *,
        process: str,
        arrival_rate_per_hour: float,
        arrival_scv: float,
        poisson: bool,
        bottleneck_threshold: float,
        routing: Routing,
        classes: Callable[[Analysis], Classes | None] | None = None,
    ) -> None:
        self._source = source
        self._classes = classes
        self.process = process
        self.arrival_rate_per_hour = arrival_rate_per_hour
        self.arrival_scv = arrival_scv
        self.poisson = poisson
        self.bottleneck_threshold = bottleneck_threshold
        self.routing = routing

    def __repr__(self) -> str:
        return f"<Analysis of process {self.process!r}>"

    @cached_property
    def classes(self) -> Classes | None:
        """Figures per class of the ``priority`` attribute and per outcome (docs/attributes.md),
        or ``None`` for a process without a categorical priority."""
        return self._classes(self) if self._classes is not None else None

    @cached_property
    def loads(self) -> Mapping[str, OwnerLoad]:
        """Per owner, in declaration order: offered load and utilization (no queueing model)."""
        return self._source.owner_loads()

    @cached_property
    def owners(self) -> Mapping[str, OwnerFigures]:
        """Per owner, in declaration order: load, utilization, waiting."""
        return self._source.owner_figures()

    @cached_property
    def steps(self) -> Mapping[str, StepFigures]:
        """Per step, in file order: visits, service, wait (each built when first read)."""
        return LazyMapping(self._source.step_ids(), self._source.step_figure)

    def step_service(self, step: str) -> tuple[float | None, float | None] | None:
        """``(mean, shortest)`` duration of ``step`` (``None`` if no such step); no waits needed."""
        return self._source.step_service(step)

    def path_upper_bound(self, *, shortest: bool) -> float | None:
        """An upper bound of the fastest path (``floor`` or ``minimum``), without searching it.

        ``None`` when no cheap bound holds (a transition has ``p: 0``).
        """
        return self._source.path_upper_bound(shortest)

    def mean_upper_bound(
        self, metric: str, argument: str | None = None, *, refined: bool = True
    ) -> float | None:
        """An upper bound of a mean time or WIP that needs no queueing network.

        ``metric`` is ``cycle_time``, ``wait_time``, ``step_time`` (of step
        ``argument``) or ``wip``. Waits are bounded by Allen–Cunneen with the
        arrival variability at its QNA maximum and Erlang C (``refined``) or
        1 (cheaper, looser), so a goal far above the bound is decided without
        solving the network. ``None`` when an owner is overloaded, the step
        is unknown, or the metric is another.
        """
        return self._source.mean_upper_bound(metric, argument, refined=refined)

    @cached_property
    def bottleneck(self) -> str | None:
        """The staffed owner with the highest utilization among those given work."""
        loaded = [o for o in self.loads.values() if not o.external and o.load > 0.0]
        if not loaded:
            return None
        return max(loaded, key=lambda o: o.utilization or 0.0).id

    @cached_property
    def cycle_time(self) -> CycleTime:
        return CycleTime(self._source)

    @cached_property
    def goals(self) -> tuple[GoalEstimate, ...]:
        """Every goal held against the model, in file order."""
        return self._source.goals(self)

    @cached_property
    def rework_rate(self) -> float:
        """Share of cases that take at least one ``feedback: true`` edge."""
        return self._source.rework_rate()

    @cached_property
    def throughput_per_hour(self) -> float:
        """Cases finished per hour: the arrival rate, capped by the most overloaded owner."""
        peak = max(
            (o.utilization or 0.0 for o in self.loads.values() if not o.external), default=0.0
        )
        return self.arrival_rate_per_hour / max(1.0, peak)

    @cached_property
    def wait_time(self) -> float | None:
        """Expected time a case spends waiting (``None`` when an owner is overloaded)."""
        return self._source.wait_time()

    @cached_property
    def wip(self) -> float | None:
        """Expected cases in progress, by Little's law (``None`` when an owner is overloaded)."""
        return self._source.wip()

    @cached_property
    def busy_cost_per_case(self) -> float | None:
        """Busy owner time per case at ``cost_per_hour``, plus ``cost_per_step`` for each step
        done (``None`` when no owner has a cost)."""
        return self._source.cost_per_case()

    @property
    def staffing_cost_per_hour(self) -> float:
        """Capacity × ``cost_per_hour`` over staff owners: paid every hour, busy or idle
        (with a calendar: every on-duty hour, the effective capacity)."""
        return sum(
            (o.capacity or 0 if o.on_duty is None else o.on_duty) * (o.cost_per_hour or 0.0)
            for o in self.loads.values()
            if not o.external and o.cost_per_hour is not None
        )

    @cached_property
    def cost_per_case(self) -> float | None:
        """Staffing cost per completed case, plus external owners' busy cost (docs/metrics.md).

        In steady state a case costs the staffing cost per hour over the
        throughput per hour; an external owner (no capacity) is paid for its
        busy time only. ``None`` when no owner has a cost.
        """
        busy = self.busy_cost_per_case
        if busy is None:
            return None
        external = sum(
            o.load * (o.cost_per_hour or 0.0) / self.arrival_rate_per_hour
            for o in self.loads.values()
            if o.external and o.cost_per_hour is not None and self.arrival_rate_per_hour > 0
        )
        external += self._source.step_cost_per_case()  # cost_per_step: per step done
        staffing = self.staffing_cost_per_hour
        if staffing == 0.0:
            return external
        throughput = self.throughput_per_hour
        return external + staffing / throughput if throughput > 0 else None

    @property
    def stable(self) -> bool:
        """Every staffed owner has utilization below 1."""
        return all(owner.stable for owner in self.loads.values())

    @property
    def overloaded(self) -> list[str]:
        """Owners whose offered load reaches their capacity."""
        return [o.id for o in self.loads.values() if not o.stable]

    @property
    def exact(self) -> bool:
        """Every figure is exact (product-form network, exact routing)."""
        return self.cycle_time.exact

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of docs/json.md#analyze (times in seconds, rates per hour).

        Numbers too large for floating point are ``None``, so the document is
        valid JSON (``json.dumps(..., allow_nan=False)``).
        """
        document: dict[str, Any] = finite(
            {
                "version": 1,
                "process": self.process,
                "arrival_rate_per_hour": self.arrival_rate_per_hour,
                "arrival_scv": self.arrival_scv,
                "steps": {step_id: step.to_dict() for step_id, step in self.steps.items()},
                "owners": {owner_id: owner.to_dict() for owner_id, owner in self.owners.items()},
                "bottleneck": self.bottleneck,
                "bottleneck_threshold": self.bottleneck_threshold,
                "cycle_time": self.cycle_time.to_dict(),
                "goals": [goal.to_dict() for goal in self.goals],
                "stable": self.stable,
                "exact": self.exact,
                "rework_rate": self.rework_rate,
                "throughput_per_hour": self.throughput_per_hour,
                "wait_time": self.wait_time,
                "wip": self.wip,
                "cost_per_case": self.cost_per_case,
                "busy_cost_per_case": self.busy_cost_per_case,
                "routing": self.routing.to_dict(),
            }
        )
        if self.classes is not None:
            document.update(finite(self.classes.to_dict()))
        return document
