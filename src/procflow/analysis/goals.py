"""Goals held against the analytic model: an estimate where the metric allows, and PF503's reasons.

Means are estimable from the model; percentiles (p50, p90, ...) need the
whole distribution of cycle or waiting time, which the model does not give,
so their estimate is ``None`` -- ``procflow simulate`` measures them.

A goal is *infeasible* (PF503) when no amount of luck or good queueing
makes it reachable with the process as declared:

* a cycle-time (or step-time) target below the floor: no case can be faster
  than the fastest path at the shortest durations the distributions allow;
* a mean cycle-time target below the fastest path at mean durations -- the
  mean over cases can never be lower (waits only add, and every route costs
  at least the cheapest one);
* an expected value more than :data:`FAR` times the target (for times and
  WIP; for a p90/p95/p99 target the expected *mean* is compared, as those
  percentiles lie above the mean for any realistic cycle-time distribution):
  not a proof, but no tuning short of redesign closes such a gap;
* utilization, throughput, rework rate and cost per case are fixed by the
  declared arrivals, probabilities, durations and capacities, so a miss is a
  miss in theory too.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from procflow import metrics
from procflow.analysis.queueing import required_servers
from procflow.analysis.results import Analysis, GoalEstimate
from procflow.expressions import compile_condition, parse
from procflow.model import DISTRIBUTION_METRICS, Goal, Target
from procflow.units import format_duration, format_number

#: An estimate this many times worse than the target makes the goal infeasible.
FAR = 2.0

#: Relative slack between a bound and the estimate it bounds (rounding in either).
_MARGIN = 1e-9

_EXACT_METRICS = frozenset(m.name for m in metrics.REGISTRY if m.fixed)
"""Metrics the declaration fixes: a miss by the estimate is a miss in theory too."""
_QUEUED_METRICS = frozenset(m.name for m in metrics.REGISTRY if not m.fixed)
"""Metrics queueing adds to: they grow without bound when an owner is overloaded."""
_UPPER_PERCENTILES = frozenset({"p90", "p95", "p99"})


def _percent(value: float) -> str:
    return f"{format_number(value * 100.0, 3)}%"


def _shown(metric: str, value: float) -> str:
    found = metrics.metric(metric)
    kind = found.kind if found is not None else "number"
    if kind == "duration":
        return format_duration(value)
    if kind == "percent":
        return _percent(value)
    if kind == "rate":
        return f"{format_number(value)}/h"
    return format_number(value)


def _below(target: Target, bound: float) -> bool:
    """An upper-bound target (``<=``/``<``) that ``bound`` already violates."""
    if target.op == "<=":
        return bound > target.value
    if target.op == "<":
        return bound >= target.value
    return False


def _met(
    name: str, target: Target, estimate: float | None, note: str | None, analysis: Analysis
) -> bool | None:
    if estimate is not None:
        return target.met_by(estimate)
    if name in _QUEUED_METRICS and not analysis.stable and note is not None:
        return False  # an overloaded owner: times and WIP grow without bound
    return None


def estimate_goal(goal: Goal, analysis: Analysis) -> GoalEstimate:
    """Estimate one goal's metric from the model and judge it."""
    target = goal.target
    shown_target = target.text if target is not None else None
    name, argument = goal.metric_name, goal.metric_argument
    if name is None or target is None:
        return GoalEstimate(
            goal.id,
            goal.metric,
            goal.stat,
            target=shown_target,
            estimate=None,
            met=None,
            exact=False,
            note="not SMART: a goal needs a metric and a target to be estimated",
        )
    if goal.where is not None:
        return _scoped(goal, analysis)
    # no stat reads as the mean, as the simulator reads it (PF601 asks the author to say so)
    stat = goal.stat or "mean"
    estimate, exact, note = _estimate(name, argument, stat, analysis)
    met = _met(name, target, estimate, note, analysis)
    infeasible = _infeasible(name, argument, stat, target, lambda: (estimate, met), analysis)
    return GoalEstimate(
        goal.id,
        goal.metric,
        goal.stat,
        target=shown_target,
        estimate=estimate,
        met=met,
        exact=exact and estimate is not None,
        note=note,
        infeasible=infeasible,
    )


def infeasibility(goal: Goal, analysis: Analysis, *, any_staffing: bool = False) -> str | None:
    """Why ``goal`` cannot be met even in theory (PF503), or ``None``.

    The same judgement as :func:`estimate_goal`'s ``infeasible``, estimating
    only what the judgement needs: a cycle-time target below the fastest
    path never solves the queueing network. ``any_staffing`` keeps only the
    reasons no capacity changes -- durations, routing, the arrival rate --
    for ``procflow optimize``, which would otherwise add staff in vain.
    """
    target = goal.target
    name, argument = goal.metric_name, goal.metric_argument
    if name is None or target is None:
        return None
    stat = goal.stat or "mean"
    if goal.where is not None:
        return None  # a scoped goal is judged on its classes (estimate_goal), not in theory

    def estimate() -> tuple[float | None, bool | None]:
        value, _exact, note = _estimate(name, argument, stat, analysis)
        return value, _met(name, target, value, note, analysis)

    if any_staffing:
        return _beyond_staffing(name, argument, stat, target, estimate, analysis)
    return _infeasible(name, argument, stat, target, estimate, analysis)


def _beyond_staffing(
    name: str,
    argument: str | None,
    stat: str | None,
    target: Target,
    estimate: Callable[[], tuple[float | None, bool | None]],
    analysis: Analysis,
) -> str | None:
    """The reasons of :func:`_infeasible` that no capacity changes: a floor of the
    durations, a rework rate the probabilities fix, a throughput above the arrival rate."""
    if name == "throughput":
        if target.met_by(analysis.arrival_rate_per_hour):
            return None
        return _above_arrivals(analysis)
    if name in _EXACT_METRICS and name != "rework_rate":
        return None  # utilization and cost: staffing changes them
    if name in _QUEUED_METRICS or name == "rework_rate":
        # the floors of the durations, and the rework rate; never the queueing bound
        return _infeasible(name, argument, stat, target, estimate, analysis, queued=False)
    return None


def _above_arrivals(analysis: Analysis) -> str:
    """Why a throughput above the arrival rate is out of reach (PF503, optimize)."""
    return (
        f"cases arrive at {format_number(analysis.arrival_rate_per_hour)}/h: "
        "throughput cannot exceed the arrival rate"
    )


def _scoped(goal: Goal, analysis: Analysis) -> GoalEstimate:
    """A goal with ``where:`` (docs/attributes.md): the mean cycle or waiting time of the
    priority classes its condition selects, when it names the priority attribute only."""
    assert goal.where is not None
    assert goal.target is not None
    classes = analysis.classes
    estimate: float | None = None
    note: str | None = "scoped by 'where': use procflow simulate to measure it"
    if (
        classes is not None
        and goal.metric_name in ("cycle_time", "wait_time")
        and (goal.stat or "mean") == "mean"
        and parse(goal.where).names <= {classes.attribute}
    ):
        holds = compile_condition(goal.where)
        chosen = [f for f in classes.figures if holds({classes.attribute: f.value})]
        weight = math.fsum(f.share for f in chosen)
        if weight > 0.0:
            values = [
                f.cycle_time(classes.owner_of)
                if goal.metric_name == "cycle_time"
                else f.wait_per_case(classes.owner_of)
                for f in chosen
            ]
            estimate = math.fsum(f.share * v for f, v in zip(chosen, values, strict=True)) / weight
            note = f"classes {', '.join(f.value for f in chosen)} of {classes.attribute}"
            if not math.isfinite(estimate):
                estimate, note = None, _overloaded_note(analysis)
    met = goal.target.met_by(estimate) if estimate is not None else None
    return GoalEstimate(
        goal.id,
        goal.metric,
        goal.stat,
        target=goal.target.text,
        estimate=estimate,
        met=met,
        exact=False,
        note=note,
    )


def _overloaded_note(analysis: Analysis) -> str:
    owners = ", ".join(repr(o) for o in analysis.overloaded)
    return f"{owners} overloaded: queues grow without bound"


def _estimate(
    name: str, argument: str | None, stat: str | None, analysis: Analysis
) -> tuple[float | None, bool, str | None]:
    """``(estimate, exact, note)`` for one metric."""
    if name in DISTRIBUTION_METRICS and stat != "mean":
        if not analysis.stable:
            return None, False, _overloaded_note(analysis)
        what = stat or "a percentile"
        return None, False, f"{what} is not estimable analytically: use procflow simulate"
    if name == "cycle_time":
        if analysis.cycle_time.expected is None:
            return None, False, _overloaded_note(analysis)
        return analysis.cycle_time.expected, analysis.exact, None
    if name == "wait_time":
        if analysis.wait_time is None:
            return None, False, _overloaded_note(analysis)
        return analysis.wait_time, analysis.exact, None
    if name == "step_time":
        step = analysis.steps.get(argument or "")
        if step is None:
            return None, False, f"unknown step {argument!r}"
        per_visit = step.time_per_visit
        if per_visit is None:
            return None, False, _overloaded_note(analysis)
        owner = analysis.owners.get(step.owner or "")
        return per_visit, owner is None or owner.exact, None
    if name == "utilization":
        loaded = analysis.loads.get(argument or "")
        if loaded is None:
            return None, False, f"unknown owner {argument!r}"
        if loaded.utilization is None:
            return None, False, f"owner {loaded.id!r} is external: it has no utilization"
        return loaded.utilization, analysis.routing.exact, None
    if name == "throughput":
        return analysis.throughput_per_hour, analysis.routing.exact, None
    if name == "rework_rate":
        return analysis.rework_rate, analysis.routing.exact, None
    if name in ("cost_per_case", "busy_cost_per_case"):
        value = analysis.cost_per_case if name == "cost_per_case" else analysis.busy_cost_per_case
        if value is None:
            return None, False, "no owner declares cost_per_hour"
        return value, analysis.routing.exact, None
    if name == "wip":
        if analysis.wip is None:
            return None, False, _overloaded_note(analysis)
        return analysis.wip, analysis.exact, None
    return None, False, f"unknown metric {name!r}"


def _infeasible(
    name: str,
    argument: str | None,
    stat: str | None,
    target: Target,
    estimate: Callable[[], tuple[float | None, bool | None]],
    analysis: Analysis,
    *,
    queued: bool = True,
) -> str | None:
    """Why the goal cannot be met even in theory, or ``None``.

    ``estimate()`` gives the goal's ``(estimate, met)``; it is only called
    for the checks that need it. ``queued=False`` leaves out the one check
    that depends on queueing (an expected value :data:`FAR` times the target).
    """
    cycle = analysis.cycle_time
    at_most = target.op in ("<=", "<")
    if name == "cycle_time" and at_most:
        if _possible(analysis, target, shortest=True):
            pass
        elif cycle.floor is not None and _below(target, cycle.floor):
            return (
                f"no case can finish in under {format_duration(cycle.floor)} "
                f"(the fastest path {_path(analysis)} at the shortest possible durations)"
            )
        if stat != "mean" or _possible(analysis, target, shortest=False):
            pass
        elif cycle.minimum is not None and _below(target, cycle.minimum):
            return (
                f"even with no waiting the mean cycle time is at least "
                f"{format_duration(cycle.minimum)} (the fastest path {_path(analysis)})"
            )
    if name == "step_time":
        service = analysis.step_service(argument or "")
        if service is not None:
            mean, shortest = service
            if shortest is not None and _below(target, shortest):
                return f"step {argument!r} never takes less than {format_duration(shortest)}"
            if stat == "mean" and mean is not None and _below(target, mean):
                return (
                    f"step {argument!r} takes {format_duration(mean)} on average before any waiting"
                )
    if name == "wip" and at_most and not _possible(analysis, target, shortest=False, wip=True):
        minimum = cycle.minimum
        if minimum is not None:
            least = analysis.arrival_rate_per_hour / 3600.0 * minimum
            if _below(target, least):
                return (
                    f"with {format_number(analysis.arrival_rate_per_hour)}/h arriving, even "
                    f"with no waiting there are {format_number(least, 3)} cases in progress "
                    "on average"
                )
    if name in _EXACT_METRICS:
        value, met = estimate()
        if met is False and value is not None:
            return _fixed_miss(name, argument, target, value, analysis)
    if queued and name in _QUEUED_METRICS and at_most and target.value > 0:
        # the mean, also for upper percentiles: a p90 lies above the mean for any
        # realistic cycle-time distribution, so a mean twice the target rules it out
        limit = FAR * target.value
        if stat in _UPPER_PERCENTILES or stat == "mean" or name == "wip":
            for refined in (False, True):  # without, then with Erlang C
                upper = analysis.mean_upper_bound(name, argument, refined=refined)
                if upper is None:
                    break
                if upper < limit * (1.0 - _MARGIN):
                    return None  # far enough below without solving the queueing network
        if stat in _UPPER_PERCENTILES:
            mean = _estimate(name, argument, "mean", analysis)[0]
        else:
            mean = estimate()[0]
        if mean is not None and mean >= limit:
            return (
                f"the expected {name.replace('_', ' ')} {_shown(name, mean)} is more than "
                f"{format_number(FAR)}x the target {target.text}"
            )
    return None


def _possible(analysis: Analysis, target: Target, *, shortest: bool, wip: bool = False) -> bool:
    """The target is at or above a cheap upper bound of the fastest path: no need to search it."""
    bound = analysis.path_upper_bound(shortest=shortest)
    if bound is None:
        return False
    if wip:
        bound *= analysis.arrival_rate_per_hour / 3600.0
    return not _below(target, bound * (1.0 + _MARGIN))


def _path(analysis: Analysis) -> str:
    return " -> ".join(analysis.cycle_time.fastest_path)


def _fixed_miss(
    name: str, argument: str | None, target: Target, estimate: float, analysis: Analysis
) -> str:
    """The reason a metric fixed by the declaration misses its target."""
    if name == "utilization":
        owner = analysis.loads[argument or ""]
        text = (
            f"the declared arrivals load owner {owner.id!r} to {_percent(estimate)} "
            f"of its capacity {owner.capacity}"
        )
        if target.op in ("<=", "<") and target.value > 0:
            wanted = target.value if target.op == "<" else target.value + 1e-12
            duty_load = owner.load  # with a calendar, the load while on duty
            if owner.on_duty is not None:
                duty_load = (owner.utilization or 0.0) * (owner.capacity or 0)
            needed = required_servers(duty_load, wanted)
            return f"{text}; {needed} would be needed for {target.text}"
        return text
    if name == "throughput":
        if analysis.stable:
            return _above_arrivals(analysis)
        return f"the overloaded owners cap throughput at {format_number(estimate)}/h"
    if name == "rework_rate":
        return f"the declared probabilities give a rework rate of {_percent(estimate)}"
    return f"the declared durations and costs give {format_number(estimate)} per case"


def estimate_goals(goals: list[Goal], analysis: Analysis) -> tuple[GoalEstimate, ...]:
    """Every goal of a process, in file order."""
    return tuple(estimate_goal(goal, analysis) for goal in goals)
