"""Case attributes compiled for the event loop (docs/attributes.md): plain, picklable tables.

A :class:`CasePlan` is what the token engine needs to simulate a process
that uses ``attributes:``, ``priority:``, ``when:``, ``by:`` or goals with
``where:``: how to draw each attribute, which rank each class has in the
queues, the conditions of each rule-routed step (as text: compiled once per
engine by :func:`procflow.expressions.compile_condition`, so the plan stays
picklable for worker processes), the per-class durations and ``p``, and the
goal scopes. Random streams: attribute ``a`` of run ``r`` draws from spawn
key ``(r, 3, key(a))``, its own stream, so adding an attribute changes no
other stream's numbers; a ``by:`` duration draws the values of class ``v``
from ``(r, 1, key(step + "\\x00" + v))`` and its ``else`` from the step's own
duration stream.
"""

from __future__ import annotations

from dataclasses import dataclass

from procflow.casedata import ByDuration, ByValue, Categorical
from procflow.model import Process
from procflow.sim.sampling import DistSpec, spec_of, stream_key

__all__ = ["ATTRIBUTES", "AttributePlan", "ByDurationPlan", "CasePlan", "case_plan"]

ATTRIBUTES = 3
"""The purpose of an attribute's random stream: the middle element of its spawn key."""


@dataclass(frozen=True)
class AttributePlan:
    """How one attribute is drawn: categorical ``values`` with ``shares``, or numeric ``spec``."""

    name: str
    key: int
    values: tuple[str, ...] = ()
    shares: tuple[float, ...] = ()
    spec: DistSpec | None = None


@dataclass(frozen=True)
class ByDurationPlan:
    """A step's duration by a categorical attribute: per-value samplers and the fallback."""

    attribute: str
    options: tuple[tuple[str, int, DistSpec], ...]
    """``(value, stream key, sampler)`` of each listed value."""
    fallback: DistSpec | None


@dataclass(frozen=True)
class CasePlan:
    """Everything attribute-driven about one process, indexed by step (see the module doc)."""

    attributes: tuple[AttributePlan, ...]
    priority: str | None
    """The priority attribute, or None (FIFO queues)."""
    classes: tuple[str, ...]
    """The priority attribute's values, most urgent first (queue rank = position)."""
    preemptive: bool
    rules: tuple[tuple[str | None, ...] | None, ...]
    """Per step: the ``when`` text of each outgoing edge (None: the default), or None."""
    by_duration: tuple[ByDurationPlan | None, ...]
    by_p: tuple[
        tuple[str, tuple[tuple[tuple[str, float], ...], ...], tuple[float, ...]] | None, ...
    ]
    """Per step: ``(attribute, per edge ((value, p), ...), per edge fallback p)`` or None."""
    wheres: tuple[tuple[str, str], ...]
    """``(goal id, condition)`` of each goal with ``where:``."""


def case_plan(process: Process) -> CasePlan | None:
    """The case plan of ``process``, or None when it uses no attribute-driven key."""
    uses = (
        process.attributes
        or process.priority is not None
        or any(g.where for g in process.goals)
        or any(t.when is not None or isinstance(t.p, ByValue) for _, t in process.edges())
        or any(isinstance(s.duration, ByDuration) for s in process.steps.values())
    )
    if not uses:
        return None
    attributes = []
    for name, attribute in process.attributes.items():
        if isinstance(attribute, Categorical):
            attributes.append(
                AttributePlan(name, stream_key(name), attribute.values, attribute.shares)
            )
        else:
            attributes.append(
                AttributePlan(name, stream_key(name), spec=spec_of(attribute.distribution))
            )
    priority = process.priority
    classes: tuple[str, ...] = ()
    if priority is not None:
        declared = process.attributes.get(priority.by)
        values = declared.values if isinstance(declared, Categorical) else ()
        classes = priority.order or values
    rules: list[tuple[str | None, ...] | None] = []
    by_duration: list[ByDurationPlan | None] = []
    by_p: list[tuple[str, tuple[tuple[tuple[str, float], ...], ...], tuple[float, ...]] | None] = []
    for step_id, step in process.steps.items():
        transitions = step.transitions
        whens = tuple(t.when for t in transitions)
        rules.append(whens if any(w is not None for w in whens) else None)
        duration = step.duration
        if isinstance(duration, ByDuration):
            options = tuple(
                (value, stream_key(f"{step_id}\x00{value}"), spec_of(d))
                for value, d in duration.cases
            )
            fallback = spec_of(duration.fallback) if duration.fallback is not None else None
            by_duration.append(ByDurationPlan(duration.by, options, fallback))
        else:
            by_duration.append(None)
        by_p.append(_by_p(transitions))
    wheres = tuple((g.id, g.where) for g in process.goals if g.where is not None)
    return CasePlan(
        tuple(attributes),
        priority.by if priority is not None else None,
        tuple(classes),
        priority.preemptive if priority is not None else False,
        tuple(rules),
        tuple(by_duration),
        tuple(by_p),
        wheres,
    )


def _by_p(
    transitions: tuple[object, ...],
) -> tuple[str, tuple[tuple[tuple[str, float], ...], ...], tuple[float, ...]] | None:
    """The per-class probabilities of a step whose ``p`` is given ``by:`` an attribute."""
    ps = [getattr(t, "p", None) for t in transitions]
    by = next((p for p in ps if isinstance(p, ByValue)), None)
    if by is None:
        return None
    cases: list[tuple[tuple[str, float], ...]] = []
    fallback: list[float] = []
    for p in ps:
        if isinstance(p, ByValue) and p.by == by.by:
            cases.append(tuple((v, float(x)) for v, x in p.cases))
            fallback.append(float(p.fallback) if p.fallback is not None else 0.0)
        else:  # a plain p (or one by another attribute: its average, as the compiled edge)
            cases.append(())
            fallback.append(float(p) if isinstance(p, float) else 0.0)
    return by.by, tuple(cases), tuple(fallback)
