"""Lint's clearance: a cheap proof that the analytic rules (PF501-PF503) have nothing to say.

Linting a file, the analytic rules cost more than all the others together:
the routing chain, the model and the goal bounds (docs/analysis-method.md).
Yet most processes in a repository are nowhere near a finding -- owners
at a few percent of their capacity, goals far above what the declaration
fixes -- and proving *that* needs no exact visits. :func:`clear` gives
upper bounds instead, from the structure alone:

* a case visits a step outside every loop at most once;
* inside a strongly connected component whose cycles all pass through an
  edge with ``max``, every return to a step takes one of those edges, and
  the case takes each at most ``max`` times: at most ``1 + sum(max)``
  visits per case.

Loads, waits and times are increasing in the visits, so figures computed
from these bounds (:class:`_Bounds`) bound the model's own. When every
staffed owner is below the bottleneck threshold and every goal's PF503
check (:func:`procflow.analysis.goals.infeasibility`) is decided by a
bound -- the same comparisons, with a margin for rounding -- the rules
would report nothing, and lint skips the model. Anything else (an
unbounded loop, forks, working time, a state space the model would thin,
a goal the bounds cannot decide, a figure near a threshold) answers
``False`` and lint computes the model as before: clearance never changes
a finding, only how fast "no finding" is reached. The tests hold it to
that on thousands of random processes (tests/test_clearance.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from procflow.analysis.analyzer import duration_figures, step_figures
from procflow.analysis.goals import _EXACT_METRICS, _MARGIN, _QUEUED_METRICS, FAR, _below
from procflow.analysis.goals import _UPPER_PERCENTILES as UPPER_PERCENTILES
from procflow.analysis.linear import safe_sum
from procflow.analysis.routing import MAX_STATES
from procflow.compiled import CompiledProcess
from procflow.digraph import topological
from procflow.gate import blocking_problems
from procflow.model import DISTRIBUTION_METRICS, Goal, Process, Target

#: Relative slack on every bound: the model sums in another order.
SLACK = 1e-6


def clear(process: Process, threshold: float) -> bool:
    """Whether PF501, PF502 and PF503 provably report nothing on ``process``.

    ``threshold`` is lint's bottleneck threshold (PF502). ``False`` means
    "not proven", never "there is a finding".
    """
    arrivals = process.arrivals
    if arrivals is None or process.uses_calendars or blocking_problems(process):
        return False
    compiled = CompiledProcess.of(process)
    if compiled.has_forks:
        return False
    rate = arrivals.rate_per_second
    if not (math.isfinite(rate) and rate > 0.0):
        return False
    visits = visit_bounds(compiled)
    if visits is None:
        return False
    bounds = _Bounds.of(process, rate, visits)
    if bounds is None or not bounds.below(min(threshold, 1.0)):
        return False
    return all(bounds.goal_clear(goal) for goal in process.goals)


def visit_bounds(compiled: CompiledProcess) -> list[float] | None:
    """Per step, at most how often a case visits it; ``None`` when a loop has no ``max``.

    Also ``None`` when the model would not unroll every bound exactly (its
    state space past :data:`~procflow.analysis.routing.MAX_STATES`): it then
    thins bounds, and its visits are an approximation of these.
    """
    component_of = compiled.component_of
    bounded: dict[int, list[int]] = {}  # component -> the max of each edge inside it
    for edge in compiled.edges:
        c = component_of[edge.source]
        if edge.max is not None and component_of[edge.target] == c:
            bounded.setdefault(c, []).append(edge.max)
    states = len(compiled.steps)
    result = [1.0] * len(compiled.steps)
    for c, members in enumerate(compiled.components):
        if len(members) == 1 and members[0] not in compiled.successors[members[0]]:
            continue  # outside every loop: at most one visit
        if _cycles_without_max(compiled, members, c):
            return None
        maxima = bounded.get(c, [])
        states += len(members) * (math.prod(m + 1 for m in maxima) - 1)
        most = 1.0 + float(sum(maxima))
        for u in members:
            result[u] = most
    if states > MAX_STATES:
        return None
    return result


def _cycles_without_max(compiled: CompiledProcess, members: Sequence[int], c: int) -> bool:
    """Whether the component still has a cycle once its edges with ``max`` are left out."""
    component_of = compiled.component_of
    local = {u: i for i, u in enumerate(members)}
    inside = [
        [
            local[edge.target]
            for edge in compiled.outgoing[u]
            if edge.max is None and component_of[edge.target] == c
        ]
        for u in members
    ]
    return topological(inside) is None


class _Bounds:
    """Upper bounds of the model's figures, from :func:`visit_bounds` (see the module doc).

    Lists follow the compiled process's step order. Sums need no care for
    rounding here (every comparison has :data:`SLACK`), except the path
    bound of :meth:`_possible`, which is the model's own number.
    """

    def __init__(
        self,
        process: Process,
        compiled: CompiledProcess,
        rate: float,
        visits: list[float],
        figures: list[tuple[float, float, float]],
    ) -> None:
        self.process = process
        self.compiled = compiled
        self.rate = rate
        self.visits = visits
        self.figures = figures
        self.load: dict[str, float] = {}
        self.waits: dict[str, float] = {}
        self.external: dict[str, float] = {}
        self._paths: dict[bool, float | None] = {}
        self._times: tuple[float, float] | None = None

    @classmethod
    def of(cls, process: Process, rate: float, visits: list[float]) -> _Bounds | None:
        """The bounds, or ``None`` when a step lacks a duration or a figure is not finite."""
        figures = []
        for step in process.steps.values():
            mean, scv, shortest = step_figures(step)
            if mean is None or scv is None or shortest is None or not math.isfinite(mean):
                return None  # the model refuses it (PF402) or cannot compute with it
            figures.append((mean, scv, shortest))
        return cls(process, CompiledProcess.of(process), rate, visits, figures)

    def below(self, threshold: float) -> bool:
        """Every staffed owner's utilization bound below ``threshold``; the waits' bounds."""
        owners, figures, visits = self.process.owners, self.figures, self.visits
        owned: dict[str, list[int]] = {}
        for u, (step_owner, end) in enumerate(
            zip(self.compiled.owner, self.compiled.end, strict=True)
        ):
            if step_owner is not None and not end:
                owned.setdefault(step_owner, []).append(u)
        tops = [1.0]
        mixes: dict[str, tuple[float, float]] = {}
        for owner_id, steps in owned.items():
            owner = owners[owner_id]
            load = self.rate * sum([visits[u] * figures[u][0] for u in steps])
            if owner.external:
                self.external[owner_id] = load
                continue
            capacity = owner.capacity
            if not (capacity > 0 and load * (1.0 + SLACK) < threshold * capacity):
                return False
            mix = _mix([figures[u] for u in steps])
            if mix is None:
                return False
            self.load[owner_id] = load
            mixes[owner_id] = mix
            tops.append(1.0 + (min(max(mix[1], 0.2), 1e300) - 1.0) / math.sqrt(capacity))
        arrivals = self.process.arrivals
        if arrivals is not None and arrivals.every is not None:
            scv = duration_figures(arrivals.every)[1]
            if not math.isfinite(scv):
                return False
            tops.append(scv)
        top = max(tops)
        for owner_id, (mean, scv) in mixes.items():
            capacity = owners[owner_id].capacity
            mmc = mean / (capacity - self.load[owner_id] * (1.0 + SLACK))
            self.waits[owner_id] = max(mmc, mmc * (top + scv) / 2.0)
        return all(math.isfinite(w) for w in self.waits.values())

    # ------------------------------------------------------------------
    # PF503, goal by goal: the checks of procflow.analysis.goals._infeasible

    def goal_clear(self, goal: Goal) -> bool:
        """Whether :func:`~procflow.analysis.goals.infeasibility` surely finds no reason."""
        target, name, argument = goal.target, goal.metric_name, goal.metric_argument
        if name is None or target is None or goal.where is not None:
            return True
        stat = goal.stat or "mean"
        at_most = target.op in ("<=", "<")
        if name == "cycle_time" and at_most:
            if not self._possible(target, shortest=True):
                return False  # the floor needs the fastest path
            if stat == "mean" and not self._possible(target, shortest=False):
                return False
        if name == "step_time" and (u := self.compiled.index.get(argument or "")) is not None:
            mean, _scv, shortest = self.figures[u]
            if _below(target, shortest) or (stat == "mean" and _below(target, mean)):
                return False
        if name == "wip" and at_most and not self._possible(target, shortest=False, wip=True):
            return False
        if name in _EXACT_METRICS and not self._fixed_met(name, argument, target):
            return False
        if name in _QUEUED_METRICS and at_most and target.value > 0:
            if not (stat in UPPER_PERCENTILES or stat == "mean" or name == "wip"):
                # a median or lower percentile: the model gives no estimate to judge by
                return name in DISTRIBUTION_METRICS
            upper = self._mean_upper(name, argument)
            limit = FAR * target.value
            if upper is None or not upper * (1.0 + SLACK) < limit * (1.0 - _MARGIN):
                return False
        return True

    def _possible(self, target: Target, *, shortest: bool, wip: bool = False) -> bool:
        """``goals._possible`` with the model's own path bound (it needs no visits)."""
        if shortest not in self._paths:
            zero = any(edge.p == 0.0 for edge in self.compiled.edges)
            column = 2 if shortest else 0  # no cheap bound with p: 0 (the model searches)
            self._paths[shortest] = None if zero else safe_sum(f[column] for f in self.figures)
        bound = self._paths[shortest]
        if bound is None:
            return False
        if wip:
            bound *= self.rate * 3600.0 / 3600.0
        return not _below(target, bound * (1.0 + _MARGIN))

    def _fixed_met(self, name: str, argument: str | None, target: Target) -> bool:
        """A metric the declaration fixes, surely met: throughput (every case ends), or a
        utilization at most its target."""
        if name == "throughput":  # stable: the arrival rate, as the model gives it
            return target.met_by(self.rate * 3600.0 / 1.0)
        if name == "utilization" and target.op in ("<=", "<"):
            owner = self.process.owners.get(argument or "")
            load = self.load.get(argument or "")
            if owner is None or load is None:
                return False
            utilization = load * (1.0 + SLACK) / owner.capacity
            return target.met_by(utilization) and utilization < target.value
        if name == "cost_per_case" and target.op in ("<=", "<"):
            cost = self._cost_per_case()
            return cost is None or (target.met_by(cost) and cost < target.value)
        return False

    def _cost_per_case(self) -> float | None:
        """At least the model's cost per case: the staffing cost per hour over the arrival
        rate (every case ends), plus external owners' busy cost and every ``cost_per_step``;
        ``None`` without costs."""
        owners = self.process.owners.values()
        if all(owner.cost_per_hour is None and owner.cost_per_step is None for owner in owners):
            return None
        per_hour = self.rate * 3600.0
        per_step = sum(  # cost_per_step: a fixed amount for each step an owner does
            (self.process.owners[step_owner].cost_per_step or 0.0) * self.visits[u]
            for u, (step_owner, end) in enumerate(
                zip(self.compiled.owner, self.compiled.end, strict=True)
            )
            if step_owner is not None and not end
        )
        external = sum(
            load * (self.process.owners[o].cost_per_hour or 0.0) / per_hour
            for o, load in self.external.items()
        )
        staffing = sum(
            owner.capacity * (owner.cost_per_hour or 0.0)
            for owner in owners
            if not owner.external and owner.cost_per_hour is not None
        )
        return (external + per_step + staffing / per_hour) * (1.0 + SLACK)

    def _mean_upper(self, name: str, argument: str | None) -> float | None:
        """At least ``mean_upper_bound(name, argument, refined=False)`` of the model."""
        if name == "step_time":
            u = self.compiled.index.get(argument or "")
            if u is None:
                return None
            if self.compiled.end[u]:
                return 0.0
            return self.figures[u][0] + self.waits.get(self.compiled.owner[u] or "", 0.0)
        if self._times is None:
            waits, visits, figures = self.waits, self.visits, self.figures
            service = wait = 0.0
            for u, (owner, end) in enumerate(
                zip(self.compiled.owner, self.compiled.end, strict=True)
            ):
                if not end:
                    service += visits[u] * figures[u][0]
                    wait += visits[u] * waits.get(owner or "", 0.0)  # external: not in waits
            self._times = service, wait
        service, wait = self._times
        if name == "wait_time":
            return wait
        if name == "cycle_time":
            return service + wait
        if name == "wip":
            return self.rate * (service + wait)
        return None


def _mix(figures: list[tuple[float, float, float]]) -> tuple[float, float] | None:
    """At least the mean and SCV of any mixture of steps with these ``(mean, scv, _)``
    (``None`` when a step takes no time or a figure is not finite).

    The mean is at most the largest mean. The second moment is at most
    ``(1 + c) E[m^2]`` with ``c`` the largest SCV, and by Kantorovich's
    inequality ``E[m^2] / E[m]^2 <= (a + b)^2 / (4ab)`` for means in
    ``[a, b]``: the SCV is at most ``(1 + c)(a + b)^2 / (4ab) - 1``.
    """
    means = [mean for mean, _scv, _shortest in figures]
    smallest, largest = min(means), max(means)
    spread = max(scv for _mean, scv, _shortest in figures)
    if not (smallest > 0.0 and math.isfinite(largest) and math.isfinite(spread)):
        return None
    ratio = (smallest + largest) ** 2 / (4.0 * smallest * largest)
    return largest, (1.0 + spread) * ratio * (1.0 + SLACK) - 1.0
