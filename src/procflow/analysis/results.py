"""The figures of the analytic model as immutable values, and their JSON shape (SPEC 4).

Times are seconds and rates per hour in :meth:`Analysis.to_dict`. A figure
that does not exist -- the wait at an overloaded owner, a percentile that
cannot be computed analytically -- is ``None`` (JSON ``null``), never an
infinite or negative number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from procflow.analysis.routing import Bound


@dataclass(frozen=True)
class StepShare:
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


@dataclass(frozen=True)
class CycleTime:
    """Expected cycle time (``None`` when an owner is overloaded) and the fastest path.

    ``minimum`` is the fastest path at mean durations with no waiting (no case
    averages less); ``floor`` the same path at the shortest durations the
    distributions allow (no single case can be faster).
    """

    expected: float | None
    minimum: float | None
    floor: float | None
    exact: bool
    fastest_path: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "minimum": self.minimum,
            "floor": self.floor,
            "exact": self.exact,
            "fastest_path": list(self.fastest_path),
        }


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
    """How visits were computed: the unrolled chain's size and any bounds approximated."""

    states: int
    bounds: tuple[Bound, ...]
    dropped: tuple[Bound, ...]

    @property
    def exact(self) -> bool:
        return not self.dropped

    @property
    def method(self) -> str:
        return "unrolled" if self.exact else "approximate"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "exact": self.exact,
            "states": self.states,
            "bounds": [str(b) for b in self.bounds],
            "dropped_bounds": [str(b) for b in self.dropped],
        }


@dataclass(frozen=True)
class Analysis:
    """The analytic model of one process (SPEC section 4); see :func:`procflow.analyze`."""

    process: str
    arrival_rate_per_hour: float
    arrival_scv: float
    poisson: bool
    bottleneck_threshold: float
    steps: Mapping[str, StepFigures]
    owners: Mapping[str, OwnerFigures]
    bottleneck: str | None
    cycle_time: CycleTime
    goals: tuple[GoalEstimate, ...]
    routing: Routing
    rework_rate: float
    throughput_per_hour: float
    wait_time: float | None
    wip: float | None
    cost_per_case: float | None

    @property
    def stable(self) -> bool:
        """Every staffed owner has utilization below 1."""
        return all(owner.stable for owner in self.owners.values())

    @property
    def overloaded(self) -> list[str]:
        """Owners whose offered load reaches their capacity."""
        return [o.id for o in self.owners.values() if not o.stable]

    @property
    def exact(self) -> bool:
        """Every figure is exact (product-form network, exact routing)."""
        return self.cycle_time.exact

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of SPEC section 4 (times in seconds, rates per hour)."""
        return {
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
            "routing": self.routing.to_dict(),
        }
