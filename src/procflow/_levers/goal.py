"""What ``procflow levers`` ranks by: a goal's KPI and which direction is better.

Without ``--goal`` the levers are ranked by mean cycle time (lower is
better). With ``--goal ID`` the goal's own metric and statistic decide the
KPI -- the keys are those of :func:`procflow.simulate` (``cycle_time.p90``,
``utilization:tier2``, ``throughput_per_hour`` ...) -- and its target decides
the direction: ``<=`` wants the figure lower, ``>=`` higher, ``==`` closer
to the target. A goal that cannot be measured by a simulation (no metric, an
unknown step, an external owner, a cost without any ``cost_per_hour``) is
refused with the goal's position in the file, before anything is simulated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from procflow.errors import ConfigError, SimulationError
from procflow.model import Goal, Process

Better = Literal["lower", "higher", "closer"]

DEFAULT_KPI = "cycle_time.mean"

_LABELS: dict[str, str] = {
    "cycle_time": "cycle time",
    "wait_time": "waiting per case",
    "step_time": "time at step",
    "throughput": "throughput",
    "utilization": "utilization",
    "rework_rate": "rework rate",
    "cost_per_case": "cost per case",
    "wip": "WIP",
    "busy_cost_per_case": "busy cost per case",
}


@dataclass(frozen=True)
class GoalSpec:
    """The KPI levers are ranked by, and what counts as an improvement of it.

    ``kpi`` is a key of :class:`~procflow.sim.SimulationResult`; ``metric``
    and ``stat`` are as a goal writes them; ``target`` is the goal's target
    (``None`` for the default); ``target_value`` its number in KPI units
    (seconds, per hour, fractions).
    """

    id: str | None
    metric: str
    stat: str | None
    kpi: str
    better: Better
    target: str | None = None
    target_value: float | None = None

    @property
    def label(self) -> str:
        """``mean cycle time``, ``p90 time at step triage``, ``utilization of tier2``."""
        name, _, argument = self.metric.partition(":")
        text = _LABELS.get(name, name.replace("_", " "))
        if argument:
            text = f"{text} of {argument}" if name == "utilization" else f"{text} {argument}"
        return f"{self.stat} {text}" if self.stat else text

    def improvement(self, difference: float, baseline: float) -> float:
        """How much better ``baseline + difference`` is than ``baseline`` (positive: better)."""
        if self.better == "lower":
            return -difference
        if self.better == "higher":
            return difference
        assert self.target_value is not None
        target = self.target_value
        return abs(baseline - target) - abs(baseline + difference - target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "metric": self.metric,
            "stat": self.stat,
            "kpi": self.kpi,
            "better": self.better,
            "target": self.target,
        }


DEFAULT_GOAL = GoalSpec(None, "cycle_time", "mean", DEFAULT_KPI, "lower")


def resolve_goal(process: Process, goal_id: str | None) -> GoalSpec:
    """The :class:`GoalSpec` of goal ``goal_id`` of ``process`` (the default for ``None``)."""
    if goal_id is None:
        return DEFAULT_GOAL
    for index, goal in enumerate(process.goals):
        if goal.id == goal_id:
            return _spec(process, index, goal)
    known = ", ".join(repr(g.id) for g in process.goals)
    hint = f"its goals are {known}" if known else "it has no goals"
    raise ConfigError(
        f"{process.position(('process',))}: process {process.id!r} has no goal {goal_id!r} "
        f"({hint}); without --goal, levers rank by mean cycle time"
    )


def _spec(process: Process, index: int, goal: Goal) -> GoalSpec:
    def refuse(why: str) -> SimulationError:
        position = process.position(("goals", index))
        return SimulationError(f"{position}: goal {goal.id!r} cannot rank levers: {why}")

    name, argument = goal.metric_name, goal.metric_argument
    if name is None:
        raise refuse("it has no metric; give it e.g. 'metric: cycle_time'")
    stat = (goal.stat or "mean") if name in ("cycle_time", "wait_time", "step_time") else None
    kpi = _kpi(process, name, argument, stat, refuse)
    target = goal.target
    if target is None:
        better: Better = "higher" if name == "throughput" else "lower"
    elif target.op in ("<=", "<"):
        better = "lower"
    elif target.op in (">=", ">"):
        better = "higher"
    else:
        better = "closer"
    assert goal.metric is not None
    return GoalSpec(
        goal.id,
        goal.metric,
        stat,
        kpi,
        better,
        target.text if target is not None else None,
        target.value if target is not None else None,
    )


def _kpi(
    process: Process,
    name: str,
    argument: str | None,
    stat: str | None,
    refuse: Any,
) -> str:
    """The simulation KPI key of a metric, or the reason no simulation measures it."""
    if name in ("cycle_time", "wait_time"):
        return f"{name}.{stat}"
    if name == "step_time":
        step = process.steps.get(argument or "")
        if step is None or step.end:
            raise refuse(f"{argument!r} is not a step that takes time")
        return f"step_time:{argument}.{stat}"
    if name == "utilization":
        owner = process.owners.get(argument or "")
        if owner is None or owner.external:
            raise refuse(f"{argument!r} is not a staff owner (only staff have a utilization)")
        return f"utilization:{argument}"
    if name in ("cost_per_case", "busy_cost_per_case"):
        if not any(owner.cost_per_hour is not None for owner in process.owners.values()):
            raise refuse("no owner has a cost_per_hour, so there is no cost to measure")
        return name
    if name == "throughput":
        return "throughput_per_hour"
    if name in ("rework_rate", "wip"):
        return name
    raise refuse(f"metric {name!r} is not one procflow measures")


__all__ = ["DEFAULT_GOAL", "DEFAULT_KPI", "Better", "GoalSpec", "resolve_goal"]
