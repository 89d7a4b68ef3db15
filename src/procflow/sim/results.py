"""From each replication's raw totals to KPIs, goal verdicts and JSON (docs/json.md#simulate).

Every KPI is first computed per run (a run is one independent sample of
the process), then reported as the mean over runs with a Student-t 95 %
interval (:mod:`procflow.sim.stats`). Quantiles are per-run quantiles of
the run's histogram, averaged over runs.

Per run:

* cycle time and waiting time of each counted case: mean, p50, p90, p95, p99;
* throughput per hour: see :func:`throughput_per_hour` -- the rate at which
  counted cases arrived, capped by what the busiest staff pool could finish;
* WIP: the time-average number of cases in the system over the window;
* utilization of a staff owner: busy server time in the window divided by
  ``capacity`` × window length;
* rework rate: the share of counted cases that took any feedback edge;
* cost per case: staffing cost per hour (capacity × ``cost_per_hour`` over
  staff owners, paid busy or idle) over the throughput per hour, plus the
  busy time of external owners at their rate; busy cost per case: service
  time × the owner's ``cost_per_hour``, summed over a case's steps, averaged
  over counted cases (both ``None`` when no owner has a cost);
* per step: visits per case, mean wait and mean service per visit, and the
  mean time per visit (wait + service, the ``step_time`` goal metric).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from procflow import metrics
from procflow.model import Goal, Process, Target
from procflow.sim.engine import RunStats
from procflow.sim.groups import GROUP_STATS, group_kpis, group_prefixes
from procflow.sim.plan import END, STAFF, Plan
from procflow.sim.stats import Estimate, estimates

JSON_VERSION = 1
STATS: tuple[str, ...] = metrics.STATS
STEP_TIME = "step_time"
"""The metric whose per-visit quantiles are recorded only for the steps goals name."""
QUANTILES: dict[str, float] = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def run_kpis(plan: Plan, stats: RunStats) -> dict[str, float | None]:
    """The KPIs of one replication, keyed like ``cycle_time.p90`` or ``utilization:tier2``."""
    kpis: dict[str, float | None] = {}
    for name, histogram in (("cycle_time", stats.cycle), ("wait_time", stats.wait)):
        kpis[f"{name}.mean"] = histogram.mean if histogram.n else None
        for stat, q in QUANTILES.items():
            kpis[f"{name}.{stat}"] = histogram.quantile(q) if histogram.n else None
    horizon = stats.horizon
    kpis["throughput_per_hour"] = throughput_per_hour(plan, stats)
    kpis["wip"] = _ratio(stats.wip_area, horizon)
    kpis["rework_rate"] = _ratio(stats.rework, stats.counted)
    kpis.update(_costs(plan, stats, kpis["throughput_per_hour"]))
    for index, owner in enumerate(plan.owners):
        if not owner.external:
            on_duty = stats.on_duty[index] if stats.on_duty else owner.capacity * horizon
            kpis[f"utilization:{owner.id}"] = _ratio(stats.busy[index], on_duty)
    kpis.update(_step_kpis(plan, stats) if not stats.step_time else _each_step_kpis(plan, stats))
    return kpis


def _each_step_kpis(plan: Plan, stats: RunStats) -> Iterator[tuple[str, float | None]]:
    """Every step's KPIs of one run, step by step: visits per case; mean wait, service and
    time per visit; the time quantiles of the steps goals track."""
    counted, waits, services, tracked = (
        stats.counted,
        stats.wait_sum,
        stats.service_sum,
        stats.step_time,
    )
    for index, (visits_key, other_keys) in enumerate(_step_keys(plan)):
        visits = stats.visits[index]
        yield visits_key, visits / counted if counted > 0 else None
        if other_keys is None:  # an end step
            continue
        wait_key, service_key, time_key, quantile_keys = other_keys
        if visits > 0:
            yield wait_key, waits[index] / visits
            yield service_key, services[index] / visits
            yield time_key, (waits[index] + services[index]) / visits
        else:
            yield from ((wait_key, None), (service_key, None), (time_key, None))
        times = tracked.get(index)
        if times is not None:
            for key, q in quantile_keys:
                yield key, times.quantile(q) if times.n else None


def _step_kpis(plan: Plan, stats: RunStats) -> Iterable[tuple[str, float | None]]:
    """:func:`_each_step_kpis` of a run that records no step's time quantiles, every step
    at once: the same divisions over arrays (IEEE division rounds the same in numpy as in
    Python), ``None`` where it has them; ~20k KPIs of a 5,000-step process per run."""
    keys, visit_at, inner, wait_at = _step_layout(plan)
    visits = np.array(stats.visits, dtype=np.float64)
    waits = np.array(stats.wait_sum, dtype=np.float64)[inner]
    services = np.array(stats.service_sum, dtype=np.float64)[inner]
    counted = stats.counted
    flat = np.zeros(len(keys))
    seen = visits[inner]
    with np.errstate(divide="ignore", invalid="ignore"):  # where visits are 0: None below
        if counted > 0:
            flat[visit_at] = visits / counted
        flat[wait_at] = waits / seen
        flat[wait_at + 1] = services / seen
        flat[wait_at + 2] = (waits + services) / seen
    values = cast(list[float | None], flat.tolist())
    if counted <= 0:
        for at in visit_at.tolist():
            values[at] = None
    for at in wait_at[~(seen > 0)].tolist():  # a step no counted case visited
        values[at] = values[at + 1] = values[at + 2] = None
    return zip(keys, values, strict=True)


def _step_layout(
    plan: Plan,
) -> tuple[list[str], NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Where each step's KPIs sit among a run's step KPIs (kept with the plan): the keys in
    order, the place of each step's visits, the non-end steps and the place of their wait
    (their service and time follow it)."""
    found = plan.__dict__.get("_kpi_layout")
    if found is None:
        keys: list[str] = []
        visit_at: list[int] = []
        inner: list[int] = []
        wait_at: list[int] = []
        for index, (visits_key, other_keys) in enumerate(_step_keys(plan)):
            visit_at.append(len(keys))
            keys.append(visits_key)
            if other_keys is not None:
                inner.append(index)
                wait_at.append(len(keys))
                keys.extend(other_keys[:3])
        found = (keys, *(np.array(a, dtype=np.intp) for a in (visit_at, inner, wait_at)))
        plan.__dict__["_kpi_layout"] = found
    return found


StepKeys = tuple[str, tuple[str, str, str, tuple[tuple[str, float], ...]] | None]


def _step_keys(plan: Plan) -> list[StepKeys]:
    """Per step, the keys of its KPIs (made once per plan, kept with it: a 5,000-step
    process has 20,000 of them, and every run would format them again)."""
    found: list[StepKeys] | None = plan.__dict__.get("_kpi_keys")
    if found is None:
        found = []
        for step in plan.steps:
            prefix, timed = f"step:{step.id}", f"{STEP_TIME}:{step.id}"
            quantiles = tuple((f"{timed}.{stat}", q) for stat, q in QUANTILES.items())
            found.append(
                (
                    f"{prefix}.visits",
                    None
                    if step.kind == END
                    else (
                        f"{prefix}.wait_mean",
                        f"{prefix}.service_mean",
                        f"{timed}.mean",
                        quantiles,
                    ),
                )
            )
        plan.__dict__["_kpi_keys"] = found
    return found


def _costs(plan: Plan, stats: RunStats, throughput: float | None) -> dict[str, float | None]:
    """Cost per case (staffing) and busy cost per case of one run (docs/metrics.md).

    Staff are paid for every on-duty hour of every unit of capacity, busy or
    idle: the staffing cost per hour is capacity × ``cost_per_hour`` summed
    over staff owners, and per case it is that over the throughput per hour.
    An external owner has no capacity, so it is paid for its busy time only.
    The busy cost is service hours × ``cost_per_hour`` per counted case.
    With calendars the staffing cost pays the on-duty unit-hours of the window
    (docs/working-time.md); ``cost_per_step`` adds a fixed amount per step done
    to both.
    """
    busy = _per_owner(plan, stats.service_sum, staff=False)
    costed = False
    busy_cost = external = staffing = 0.0
    for index, owner in enumerate(plan.owners):
        if owner.cost_per_step is not None:  # a fixed amount per step done
            costed = True
            done = sum(stats.visits[s] for s, step in enumerate(plan.steps) if step.owner == index)
            busy_cost += owner.cost_per_step * done
            external += owner.cost_per_step * done
        if owner.cost_per_hour is None:
            continue
        costed = True
        spent = busy[index] * owner.cost_per_hour / 3600.0
        busy_cost += spent
        if owner.external:
            external += spent
        elif stats.on_duty:  # calendars: the on-duty unit-hours of the window, per hour
            staffing += owner.cost_per_hour * _ratio_or_zero(stats.on_duty[index], stats.horizon)
        else:
            staffing += owner.capacity * owner.cost_per_hour
    if not costed:
        return {"cost_per_case": None, "busy_cost_per_case": None}
    per_case = _ratio(external, stats.counted)
    if per_case is not None and staffing > 0.0:
        per_case = per_case + staffing / throughput if throughput else None
    return {"cost_per_case": per_case, "busy_cost_per_case": _ratio(busy_cost, stats.counted)}


def _ratio_or_zero(a: float, b: float) -> float:
    return a / b if b > 0.0 else 0.0


def throughput_per_hour(plan: Plan, stats: RunStats) -> float | None:
    """Cases completed per hour in one run, without the bias of a short window.

    Counting completions inside a window of time undercounts whenever the
    window is not much longer than a cycle time: a case that arrives inside
    the window finishes after it, and 5 cases whose cycle time is longer
    than their arrivals' span gave a throughput of 0. Every counted case
    does complete (a run ends when the last case does), so this counts
    *cases*, not completions in a window:

    * ``counted / arrival_span``: the counted cases arrived over
      ``arrival_span`` -- from the arrival before the first of them (or time
      0) to the last, exactly ``counted`` inter-arrival times -- so this is
      the reciprocal of their mean inter-arrival time, with no window edge
      to cut off;
    * capped, for every staff owner, at ``capacity × counted / busy time``
      (busy time = the counted cases' service on that owner): the most cases
      that pool could finish per unit of time. A stable process never
      reaches its cap (it is the arrival rate divided by the utilization),
      an overloaded one does, and then throughput is the pool's completion
      rate, not the arrival rate.

    In steady state both are the long-run throughput, so Little's law
    (WIP = throughput × mean cycle time) holds as before; ``None`` without
    counted cases.
    """
    counted = stats.counted
    if counted == 0 or stats.arrival_span <= 0.0:
        return None
    rate = counted / stats.arrival_span
    work = _per_owner(plan, stats.service_sum, staff=True)
    for index, (owner, busy) in enumerate(zip(plan.owners, work, strict=True)):
        if not owner.external and busy > 0.0:
            capacity = (
                _ratio_or_zero(stats.on_duty[index], stats.horizon)
                if stats.on_duty
                else owner.capacity
            )  # with calendars: the units on duty on average
            rate = min(rate, capacity * counted / busy)
    return rate * 3600.0


def _per_owner(plan: Plan, values: Sequence[float], *, staff: bool) -> list[float]:
    """Per owner, the sum of ``values`` over its steps (``staff``: its staff steps only),
    added in step order from 0.0 as a loop over the steps adds them (``np.bincount`` adds
    its weights in order): no Python loop over thousands of steps per run."""
    key = "_staff_steps" if staff else "_owned_steps"
    found: tuple[NDArray[np.intp], NDArray[np.intp]] | None = plan.__dict__.get(key)
    if found is None:
        chosen = [
            (index, step.owner)
            for index, step in enumerate(plan.steps)
            if step.owner >= 0 and (step.kind == STAFF or not staff)
        ]
        found = (
            np.array([index for index, _ in chosen], dtype=np.intp),
            np.array([owner for _, owner in chosen], dtype=np.intp),
        )
        plan.__dict__[key] = found
    steps, owners = found
    weights = np.array(values, dtype=np.float64)[steps]
    sums: list[float] = np.bincount(owners, weights, minlength=len(plan.owners)).tolist()
    return sums


def goal_key(goal: Goal) -> str | None:
    """The KPI key a goal is measured by (``cycle_time.p90``), or None if it has no metric."""
    return metrics.kpi_key(goal.metric_name, goal.metric_argument, goal.stat)


def tracked_steps(process: Process) -> tuple[str, ...]:
    """Steps whose per-visit time quantiles some goal needs."""
    found: list[str] = []
    for goal in process.goals:
        argument = goal.metric_argument
        if (
            goal.metric_name == STEP_TIME
            and argument in process.steps
            and goal.stat not in (None, "mean")
            and argument not in found
        ):
            found.append(argument)
    return tuple(found)


@dataclass(frozen=True)
class GoalResult:
    """One goal, measured: its value (mean over runs) and whether it meets the target."""

    id: str
    metric: str
    stat: str | None
    target: str
    value: float | None
    ci95: tuple[float, float] | None
    met: bool | None
    """The mean over runs against the target; None when the goal cannot be measured
    (no metric, unknown step or owner)."""
    reason: str | None = None
    """Why the goal cannot be measured (when ``met`` is None), for a person to read."""
    verdict: str | None = None
    """:data:`MET`, :data:`NOT_MET` or :data:`UNCERTAIN` (the 95 % interval straddles
    the target); None when the goal cannot be measured. See :func:`verdict`."""


@dataclass(frozen=True)
class StepResult:
    visits: Estimate
    wait_mean: Estimate
    service_mean: Estimate


@dataclass(frozen=True)
class OwnerResult:
    capacity: int | None
    external: bool
    cost_per_hour: float | None
    utilization: Estimate
    steps: tuple[str, ...] = ()
    """The steps this owner works on."""


MET, NOT_MET, UNCERTAIN = "met", "not met", "uncertain"
"""The verdicts on a goal (docs/run-length-and-verdicts.md)."""


def verdict(target: Target, value: float | None, ci95: tuple[float, float] | None) -> str | None:
    """A goal's verdict from its mean over runs and that mean's 95 % interval.

    ``uncertain`` when the interval straddles the target (lies on both sides
    of it; for ``==``, when it contains the target): more runs or cases
    would be needed to tell. Otherwise the mean decides, as ``met`` does;
    with one run there is no interval and the mean alone decides.

    >>> from procflow.model import parse_target
    >>> within_4h = parse_target("<= 4h")
    >>> verdict(within_4h, 3.5 * 3600, (42 * 60, 11.3 * 3600))  # 42m ... 11.3h
    'uncertain'
    >>> verdict(within_4h, 3.5 * 3600, (3 * 3600, 3.9 * 3600))
    'met'
    >>> verdict(within_4h, 5 * 3600, (4.5 * 3600, 5.5 * 3600))
    'not met'
    """
    if value is None or not math.isfinite(value):
        return None
    if ci95 is not None:
        low, high = ci95
        if target.op == "==":
            if low <= target.value <= high and not target.met_by(value):
                return UNCERTAIN
        elif low < target.value < high:
            return UNCERTAIN
    return MET if target.met_by(value) else NOT_MET


def unmeasured_reason(process: Process, goal: Goal) -> str:
    """Why the simulation has no value for ``goal`` (the goal is valid, the value missing)."""
    name, argument = goal.metric_name, goal.metric_argument
    found = metrics.metric(name or "")
    if name in ("cost_per_case", "busy_cost_per_case") and not any(
        o.cost_per_hour is not None for o in process.owners.values()
    ):
        return "no owner has a cost_per_hour"
    if found is not None and found.argument == "step":
        if not argument or argument not in process.steps:
            return f"there is no step {argument!r}"
        if process.steps[argument].end:
            return f"{argument!r} is an end step: it takes no time"
    if found is not None and found.argument == "owner":
        owner = process.owners.get(argument or "")
        if owner is None:
            return f"there is no owner {argument!r}"
        if owner.external:
            return f"owner {argument!r} is external: a pure delay without capacity"
    if goal_key(goal) is None:
        return f"the simulator does not measure {goal.metric!r}"
    if goal.where is not None and (goal_key(goal) or "").split(".")[0] not in metrics.SCOPED:
        scoped = ", ".join(metrics.SCOPED)
        return f"'where' scopes per-case metrics only ({scoped}), not {goal.metric!r}"
    return "no run measured it (no counted case reached what it measures)"


def _goals(process: Process, kpis: Mapping[str, Estimate]) -> list[GoalResult]:
    results = []
    for goal in process.goals:
        if goal.metric is None or goal.target is None:
            continue
        key = goal_key(goal)
        if goal.where is not None and key is not None:  # measured on the goal's scope
            key = f"where:{goal.id}:{key}" if key.split(".")[0] in metrics.SCOPED else None
        found = kpis.get(key) if key is not None else None
        value = found.mean if found is not None else None
        ci95 = found.ci95 if found is not None else None
        met = goal.target.met_by(value) if value is not None else None
        results.append(
            GoalResult(
                goal.id,
                goal.metric,
                goal.stat,
                goal.target.text,
                value,
                ci95,
                met,
                unmeasured_reason(process, goal) if met is None else None,
                verdict(goal.target, value, ci95),
            )
        )
    return results


def json_number(value: float | None) -> float | None:
    """A figure for JSON: ``None`` (null) when missing or not finite."""
    if value is None or not math.isfinite(value):
        return None
    return value


def json_interval(ci: tuple[float, float] | None) -> list[float | None] | None:
    """A 95 % interval for JSON: ``[low, high]`` or ``None``."""
    return None if ci is None else [json_number(ci[0]), json_number(ci[1])]


@dataclass(frozen=True)
class SimulationResult:
    """What ``procflow.simulate`` returns: KPIs with 95 % intervals, steps, owners, goals.

    ``kpis`` maps keys such as ``cycle_time.mean``, ``cycle_time.p90``,
    ``wait_time.mean``, ``throughput_per_hour``, ``wip``, ``rework_rate``,
    ``cost_per_case``, ``busy_cost_per_case`` and ``utilization:<owner>`` to an
    :class:`~procflow.sim.stats.Estimate` (``mean``, ``ci95``, ``runs``).
    Times are seconds.
    """

    process: str
    cases: int
    runs: int
    warmup: int
    seed: int
    kpis: dict[str, Estimate]
    steps: dict[str, StepResult]
    owners: dict[str, OwnerResult]
    goals: list[GoalResult]
    per_run: list[dict[str, float | None]] = field(repr=False)
    notes: tuple[str, ...] = ()
    """What a reader must know to trust the figures (e.g. an overloaded owner)."""
    bias: tuple[str, ...] = ()
    """Why the figures are biased: too short a warm-up, too few counted cases
    (:func:`procflow.sim.runlength.bias_notes`). JSON lists them in ``notes``."""
    warmup_estimate: int | None = None
    """The warm-up the process needs (MSER-5 and the analytic floor), None when unknown."""
    groups: tuple[list[tuple[str, str]], list[tuple[str, str]]] | None = None
    """``(class prefixes, outcome prefixes)`` of the KPIs per class and outcome
    (:mod:`procflow.sim.groups`), for a process with attributes; None otherwise."""

    def group_table(self, prefix: str) -> dict[str, Any]:
        """One class's or outcome's KPIs for JSON: share, cycle time, waiting, rework."""

        def one(key: str) -> dict[str, Any]:
            found = self.kpis.get(f"{prefix}.{key}")
            if found is None:
                return {"mean": None, "ci95": None}
            return {"mean": json_number(found.mean), "ci95": json_interval(found.ci95)}

        cycle = {stat: one(f"cycle_time.{stat}")["mean"] for stat in GROUP_STATS}
        cycle["ci95"] = one("cycle_time.mean")["ci95"]
        return {
            "share": one("share"),
            "cycle_time": cycle,
            "wait_time": one("wait_time.mean"),
            "rework_rate": one("rework_rate"),
        }

    def by_class(self) -> dict[str, dict[str, Any]]:
        """``{attribute: {value: kpis}}`` (empty without a priority attribute)."""
        if self.groups is None or not self.groups[0]:
            return {}
        attribute = self.groups[0][0][0].split(":", 1)[1].split("=", 1)[0]
        return {attribute: {label: self.group_table(p) for p, label in self.groups[0]}}

    def by_outcome(self) -> dict[str, Any]:
        """``{end step: kpis}`` (empty for a process without attributes)."""
        if self.groups is None:
            return {}
        return {label: self.group_table(p) for p, label in self.groups[1]}

    def __getitem__(self, key: str) -> Estimate:
        return self.kpis[key]

    @property
    def goals_met(self) -> bool:
        """True when no measurable goal's verdict is ``not met`` (``--check-goals``)."""
        return all(goal.verdict != NOT_MET for goal in self.goals)

    @property
    def goals_certain(self) -> bool:
        """True when every measurable goal is ``met`` (``--strict-goals``)."""
        return all(goal.verdict in (MET, None) for goal in self.goals)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (docs/json.md#simulate): KPIs, steps, owners, goals, per-run values."""

        def block(prefix: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for stat in STATS:
                out[stat] = json_number(self.kpis[f"{prefix}.{stat}"].mean)
            out["ci95"] = json_interval(self.kpis[f"{prefix}.mean"].ci95)
            out["ci95_by_stat"] = {
                stat: json_interval(self.kpis[f"{prefix}.{stat}"].ci95) for stat in STATS
            }
            return out

        def single(key: str) -> dict[str, Any]:
            found = self.kpis[key]
            return {"mean": json_number(found.mean), "ci95": json_interval(found.ci95)}

        reported = [metrics.BY_NAME[name] for name in metrics.REPORTED]
        return {
            "version": JSON_VERSION,
            "process": self.process,
            "cases": self.cases,
            "runs": self.runs,
            "seed": self.seed,
            "warmup": self.warmup,
            "warmup_estimate": self.warmup_estimate,
            "kpis": {m.kpi: block(m.kpi) if m.distribution else single(m.kpi) for m in reported},
            "steps": {
                step_id: {
                    "visits": json_number(step.visits.mean),
                    "wait_mean": json_number(step.wait_mean.mean),
                    "service_mean": json_number(step.service_mean.mean),
                    "ci95": {
                        "visits": json_interval(step.visits.ci95),
                        "wait_mean": json_interval(step.wait_mean.ci95),
                        "service_mean": json_interval(step.service_mean.ci95),
                    },
                }
                for step_id, step in self.steps.items()
            },
            "owners": {
                owner_id: {
                    "utilization": json_number(owner.utilization.mean),
                    "ci95": json_interval(owner.utilization.ci95),
                    "capacity": owner.capacity,
                    "external": owner.external,
                    "cost_per_hour": owner.cost_per_hour,
                    "steps": list(owner.steps),
                }
                for owner_id, owner in self.owners.items()
            },
            "goals": [
                {
                    "id": goal.id,
                    "metric": goal.metric,
                    "stat": goal.stat,
                    "target": goal.target,
                    "value": json_number(goal.value),
                    "ci95": json_interval(goal.ci95),
                    "met": goal.met,
                    "verdict": goal.verdict,
                }
                for goal in self.goals
            ],
            **(
                {"by_class": self.by_class(), "by_outcome": self.by_outcome()}
                if self.groups is not None
                else {}
            ),
            "notes": [*self.notes, *self.bias],
            "per_run": [
                {"run": index + 1, **{k: json_number(v) for k, v in run.items()}}
                for index, run in enumerate(self.per_run)
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (deterministic: the same seed gives the same bytes)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False) + "\n"


def _most(key: str) -> float | None:
    """The largest value a KPI can take: 1 for utilizations and the rework share."""
    found = metrics.metric_of_key(key)
    return found.most if found is not None else None


def build_result(
    process: Process,
    plan: Plan,
    runs: Sequence[RunStats],
    *,
    seed: int,
) -> SimulationResult:
    """Aggregate the replications of one process into a :class:`SimulationResult`."""
    per_run = [run_kpis(plan, stats) | group_kpis(plan, stats.groups) for stats in runs]
    keys = _first_seen(per_run)
    kpis = dict(
        zip(
            keys,
            estimates(_columns(keys, per_run), map(_most, keys), nonnegative=True),
            strict=True,
        )
    )
    missing = Estimate(None, None, ())
    owned: dict[int, list[str]] = {}
    for step in plan.steps:
        if step.kind != END:
            owned.setdefault(step.owner, []).append(step.id)
    steps = {
        step.id: StepResult(
            kpis[f"step:{step.id}.visits"],
            kpis.get(f"step:{step.id}.wait_mean", missing),
            kpis.get(f"step:{step.id}.service_mean", missing),
        )
        for step in plan.steps
    }
    owners = {
        owner.id: OwnerResult(
            None if owner.external else owner.capacity,
            owner.external,
            owner.cost_per_hour,
            kpis.get(f"utilization:{owner.id}", missing),
            tuple(owned.get(index, ())),
        )
        for index, owner in enumerate(plan.owners)
    }
    first = runs[0]
    return SimulationResult(
        process=plan.process,
        cases=first.cases,
        runs=len(runs),
        warmup=first.warmup,
        seed=seed,
        kpis=kpis,
        steps=steps,
        owners=owners,
        goals=_goals(process, kpis),
        per_run=per_run,
        groups=group_prefixes(plan) if plan.cases is not None else None,
    )


def _columns(
    keys: list[str], per_run: Sequence[Mapping[str, float | None]]
) -> Iterable[Sequence[float | None]]:
    """Per key of ``keys``, its value in every run (None where a run lacks it).

    Runs of one plan usually report the same keys in the same order; then a
    transpose of their values does in C what ~20k look-ups per run did for a
    5,000-step process.
    """
    if all(list(run) == keys for run in per_run):
        return zip(*(run.values() for run in per_run), strict=True)
    return ([run.get(key) for run in per_run] for key in keys)


def kpi_keys(results: Iterable[SimulationResult]) -> list[str]:
    """The KPI keys present in any of ``results``, in first-seen order."""
    return _first_seen(result.kpis for result in results)


def _first_seen(mappings: Iterable[Mapping[str, object]]) -> list[str]:
    """The keys of ``mappings`` in first-seen order.

    An ordered dict is the membership test: a 5,000-step process has ~20k KPI
    keys, and testing each against a list made building the result quadratic.
    """
    seen: dict[str, None] = {}
    for mapping in mappings:
        seen.update(dict.fromkeys(mapping))
    return list(seen)


__all__ = [
    "JSON_VERSION",
    "MET",
    "NOT_MET",
    "STATS",
    "UNCERTAIN",
    "GoalResult",
    "OwnerResult",
    "SimulationResult",
    "StepResult",
    "build_result",
    "goal_key",
    "json_interval",
    "json_number",
    "kpi_keys",
    "run_kpis",
    "tracked_steps",
    "unmeasured_reason",
    "verdict",
]
