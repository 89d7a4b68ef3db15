"""The single changes ``procflow levers`` tries, each as a JSON Merge Patch on the process.

Four kinds, one lever per owner, step or edge:

* **capacity** -- one more unit of a staff owner (``capacity + 1``);
* **duration** -- a step's duration 10% shorter *on average*: every time
  parameter of its distribution is multiplied by 0.9 (:func:`scale_duration`).
  For every family procflow has, the distribution of ``0.9 × X`` is the same
  family with its time parameters scaled, so the mean drops by exactly 10%
  and the shape (the coefficient of variation) is unchanged;
* **feedback** -- a feedback edge half as likely: its probability is halved
  and the step's other transitions share what it gave up in proportion to
  their own probabilities (:func:`halved_feedback`);
* **automation** -- a step no case waits for: the step moves to an external
  owner of its own (a pure delay: no queue, no capacity). It keeps its
  duration; its old owner no longer spends time on it, which is what
  automating a step does to the people who did it.

The patches carry distribution objects, not text: the model is changed
through :meth:`~procflow.model.Process.with_changes`, never by editing the
file's strings.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from procflow.analysis.workweek import on_duty_share, shift_names
from procflow.casedata import ByDuration, ByValue
from procflow.distributions import (
    AnyDistribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Normal,
    Triangular,
    Uniform,
)
from procflow.model import MAX_CAPACITY, Process, Transition
from procflow.units import format_number

SHORTER = 0.9
"""A duration lever multiplies every time parameter by this: the mean is 10% shorter."""
FEEDBACK_SHARE = 0.5
"""A feedback lever multiplies the edge's probability by this."""

Kind = Literal["capacity", "duration", "feedback", "automation"]
KINDS: tuple[Kind, ...] = ("capacity", "duration", "feedback", "automation")


@dataclass(frozen=True)
class Lever:
    """One single change to try: what it changes, from what to what, and its patch.

    ``id`` is ``<kind>:<subject>``; ``subject`` is an owner id or a shift's
    ``owner@calendar`` (capacity), a
    step id (duration, automation) or ``step.trigger`` (feedback).
    ``before`` and ``after`` say what changes, as text. ``cost_per_hour`` is
    the staffing cost the lever adds per elapsed hour: the owner's ``cost_per_hour``
    x the share of the week the unit is on duty, ``None`` where there is no such cost.
    """

    kind: Kind
    subject: str
    before: str
    after: str
    patch: Mapping[str, Any] = field(repr=False, compare=False)
    cost_per_hour: float | None = None

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.subject}"

    @property
    def title(self) -> str:
        """What the lever does, in a few words: ``+1 tier2``, ``triage 10% shorter``."""
        if self.kind == "capacity":
            return f"+1 {self.subject}"
        if self.kind == "duration":
            return f"{self.subject} 10% shorter"
        if self.kind == "feedback":
            step, _, trigger = self.subject.partition(".")
            return f"{step} --{trigger}--> half as likely"
        return f"automate {self.subject}"

    @property
    def change(self) -> str:
        """What changes, from what to what: ``4 → 5``, ``p 0.15 → 0.075``."""
        prefix = "p " if self.kind == "feedback" else ""
        return f"{prefix}{self.before} → {self.after}"

    @property
    def description(self) -> str:
        """The title and the change: ``+1 tier2 (4 → 5)``."""
        return f"{self.title} ({self.change})"

    def apply(self, process: Process) -> Process:
        """``process`` with this lever pulled."""
        return process.with_changes(self.patch, name=f"<lever {self.id}>")


def scale_duration(dist: AnyDistribution, factor: float) -> AnyDistribution:
    """The distribution of ``factor × X`` for ``X ~ dist``: every time parameter scaled.

    Exact for each family: a fixed value, an exponential's mean, a
    uniform's and a triangular's bounds (and mode), an empirical sample's
    values scale directly; a normal truncated at 0 scales with its
    ``mean`` and ``sd`` (the truncation point 0 is scale-free); a lognormal
    and a gamma given by their ``mean`` and ``sd`` stay lognormal and gamma
    with both scaled (the log-scale sigma and the gamma shape do not move).
    So ``scale_duration(d, 0.9).mean == 0.9 * d.mean`` for every family.
    """
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"a duration scale factor must be positive, got {factor!r}")
    if isinstance(dist, Fixed):
        return dist.model_copy(update={"value": dist.value * factor})
    if isinstance(dist, Exponential):
        return dist.model_copy(update={"mean_": dist.mean_ * factor})
    if isinstance(dist, Uniform):
        return dist.model_copy(update={"min": dist.min * factor, "max": dist.max * factor})
    if isinstance(dist, Triangular):
        scaled = {"min": dist.min * factor, "mode": dist.mode * factor, "max": dist.max * factor}
        return dist.model_copy(update=scaled)
    if isinstance(dist, Normal):
        return dist.model_copy(update={"mu": dist.mu * factor, "sigma": dist.sigma * factor})
    if isinstance(dist, Lognormal | Gamma):
        return dist.model_copy(update={"mean_": dist.mean_ * factor, "sd_": dist.sd_ * factor})
    if isinstance(dist, Empirical):
        return dist.model_copy(update={"values": tuple(v * factor for v in dist.values)})
    raise TypeError(f"no scaling for distribution {dist!r}")  # a family added without one


def effective_probabilities(process: Process, step_id: str) -> list[float] | None:
    """The probability of each transition of a step as the simulator takes it.

    Equal shares when no ``p`` is written, else each ``p`` over their sum;
    ``None`` when ``p`` is written on some transitions only (not runnable).
    """
    transitions = process.steps[step_id].transitions
    if any(isinstance(e.p, ByValue) or e.when is not None for e in transitions):
        return None  # p by attribute, or routing by rules: no single share to halve
    given = [edge.p for edge in transitions if not isinstance(edge.p, ByValue)]
    if all(p is None for p in given):
        return [1.0 / len(given)] * len(given)
    if any(p is None for p in given):
        return None
    total = math.fsum(p for p in given if p is not None)
    return [float(p) / total for p in given if p is not None] if total > 0 else None


def halved_feedback(
    probabilities: list[float], index: int, share: float = FEEDBACK_SHARE
) -> list[float] | None:
    """``probabilities`` with entry ``index`` times ``share``, the others renormalized.

    The others keep their proportions and take up what the edge gave up;
    ``None`` when they have no probability to scale (the edge is the only way on).

    >>> [round(p, 4) for p in halved_feedback([0.7, 0.15, 0.15], 1)]
    [0.7618, 0.075, 0.1632]
    """
    old = probabilities[index]
    rest = 1.0 - old
    if rest <= 0.0:
        return None
    new = old * share
    scale = (1.0 - new) / rest
    return [new if i == index else p * scale for i, p in enumerate(probabilities)]


def _transition_data(edge: Transition, p: float) -> dict[str, Any]:
    data = edge.model_dump(exclude_none=True, exclude_defaults=True)
    data["to"] = edge.to
    data["p"] = p
    return data


def capacity_levers(process: Process) -> Iterator[Lever]:
    """One more unit of each staff owner; of each shift of an owner with ``shifts:``
    (docs/working-time.md). The cost a unit adds per elapsed hour is its
    ``cost_per_hour`` x the share of the week it is on duty."""
    for owner_id, owner in process.owners.items():
        if owner.external or owner.units >= MAX_CAPACITY:
            continue
        cost = owner.cost_per_hour
        if owner.shifts is not None:
            for index, name in enumerate(shift_names(owner_id, owner)):
                shifts = [s.model_dump(exclude_none=True) for s in owner.shifts]
                units = shifts[index]["capacity"]
                shifts[index]["capacity"] = units + 1
                calendar = owner.shifts[index].calendar
                yield Lever(
                    "capacity",
                    name,
                    str(units),
                    str(units + 1),
                    {"owners": {owner_id: {"shifts": shifts}}},
                    None if cost is None else cost * on_duty_share(process, calendar),
                )
            continue
        yield Lever(
            "capacity",
            owner_id,
            str(owner.capacity),
            str(owner.capacity + 1),
            {"owners": {owner_id: {"capacity": owner.capacity + 1}}},
            None if cost is None else cost * on_duty_share(process, owner.calendar),
        )


def duration_levers(process: Process) -> Iterator[Lever]:
    for step_id, step in process.steps.items():
        if step.end or step.duration is None or isinstance(step.duration, ByDuration):
            continue  # a `by:` duration has one distribution per class: no single lever
        shorter = scale_duration(step.duration, SHORTER)
        patch = {"steps": {step_id: {"duration": shorter}}}
        yield Lever("duration", step_id, str(step.duration), str(shorter), patch)


def feedback_levers(process: Process) -> Iterator[Lever]:
    for step_id, step in process.steps.items():
        edges = step.transitions
        if step.end or not any(edge.feedback for edge in edges):
            continue
        probabilities = effective_probabilities(process, step_id)
        if probabilities is None:
            continue
        for index, edge in enumerate(edges):
            halved = halved_feedback(probabilities, index) if edge.feedback else None
            if halved is None:
                continue
            on = {e.trigger: _transition_data(e, p) for e, p in zip(edges, halved, strict=True)}
            yield Lever(
                "feedback",
                f"{step_id}.{edge.trigger}",
                format_number(probabilities[index], 4),
                format_number(halved[index], 4),
                {"steps": {step_id: {"on": on}}},
            )


def _free_owner_id(process: Process, step_id: str) -> str:
    base = f"automated-{step_id}"
    name, counter = base, 2
    while name in process.owners:
        name = f"{base}-{counter}"
        counter += 1
    return name


def automation_levers(process: Process) -> Iterator[Lever]:
    for step_id, step in process.steps.items():
        if step.end or step.duration is None:
            continue
        owner = process.owners.get(step.owner) if step.owner is not None else None
        before = step.owner or "no owner"
        if owner is not None and owner.external:
            before = f"{step.owner} (external)"
        machine = _free_owner_id(process, step_id)
        patch = {
            "owners": {machine: {"external": True, "title": f"{step_id}, automated"}},
            "steps": {step_id: {"owner": machine}},
        }
        yield Lever("automation", step_id, before, f"external {machine}", patch)


def all_levers(process: Process) -> list[Lever]:
    """Every lever of ``process``: capacities, durations, feedback edges, automations."""
    return [
        *capacity_levers(process),
        *duration_levers(process),
        *feedback_levers(process),
        *automation_levers(process),
    ]


__all__ = [
    "FEEDBACK_SHARE",
    "KINDS",
    "SHORTER",
    "Kind",
    "Lever",
    "all_levers",
    "automation_levers",
    "capacity_levers",
    "duration_levers",
    "effective_probabilities",
    "feedback_levers",
    "halved_feedback",
    "scale_duration",
]
