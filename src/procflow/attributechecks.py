"""The PF801 check: every `when`, `by`, `priority` and `where` names a declared attribute and
a value it can have (docs/attributes.md).

It lives below the linter because it blocks: a condition over an attribute no
case has is never true, and a `by:` without a value for some class gives
those cases another class's value, so analyze and simulate would report
numbers for a routing that was never meant (:mod:`procflow.gate`). The lint
rule PF801 (:mod:`procflow.rules.attributes`) reports the same violations.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from procflow.casedata import Attribute, ByValue, Categorical, Numeric
from procflow.errors import did_you_mean
from procflow.expressions import Literal, parse
from procflow.findings import Violation
from procflow.model import Process

__all__ = ["unknown_attribute"]


def _conditions(process: Process) -> Iterator[tuple[str, tuple[str | int, ...], str]]:
    """Every condition as ``(what, path of its value, text)``: transitions, then goals."""
    for step_id, step in process.steps.items():
        for trigger, t in (step.on or {}).items():
            if t.when is not None:
                what = f"transition {trigger!r} of step {step_id!r}"
                yield what, ("steps", step_id, "on", trigger, "when"), t.when
    for index, goal in enumerate(process.goals):
        if goal.where is not None:
            yield f"goal {goal.id!r}", ("goals", index, "where"), goal.where


def _by_values(process: Process) -> Iterator[tuple[str, tuple[str | int, ...], ByValue[Any]]]:
    """Every ``by:`` form as ``(what, path, value)``: durations, then ``p``."""
    for step_id, step in process.steps.items():
        if isinstance(step.duration, ByValue):
            yield f"the duration of step {step_id!r}", ("steps", step_id, "duration"), step.duration
        for trigger, t in (step.on or {}).items():
            if isinstance(t.p, ByValue):
                what = f"p of transition {trigger!r} of step {step_id!r}"
                yield what, ("steps", step_id, "on", trigger, "p"), t.p


def _unknown(name: str, attributes: Mapping[str, Attribute]) -> str:
    hint = did_you_mean(name, list(attributes))
    declared = ", ".join(attributes) or "none"
    return f"attribute {name!r} is not declared under 'attributes:' (declared: {declared}){hint}"


def _impossible(literal: Literal, attribute: Attribute) -> str | None:
    """Why comparing ``attribute`` with ``literal.value`` can never mean anything, or None."""
    value = literal.value
    if isinstance(attribute, Categorical):
        if not isinstance(value, str):
            return (
                f"attribute {literal.name!r} is categorical ({', '.join(attribute.values)}): "
                f"compare it with a quoted value, not the number {value:g}"
            )
        if value not in attribute.values:
            return (
                f"attribute {literal.name!r} has no value {value!r} "
                f"(its values: {', '.join(attribute.values)})"
                + did_you_mean(value, list(attribute.values))
            )
        if literal.op in ("<", "<=", ">", ">="):
            return f"attribute {literal.name!r} is categorical: its values have no order"
        return None
    if isinstance(value, str):
        return f"attribute {literal.name!r} is a number: compare it with a number, not {value!r}"
    return None


def unknown_attribute(process: Process) -> Iterator[Violation]:
    """PF801: each attribute, value and `by:`/`priority` form that no case can match."""
    attributes = process.attributes
    for what, path, text in _conditions(process):
        parsed = parse(text)
        for name, _offset in parsed.name_offsets:
            if name not in attributes:
                yield Violation(f"{what}: {_unknown(name, attributes)}", what, path, "value")
        for literal in parsed.literals:
            attribute = attributes.get(literal.name)
            reason = _impossible(literal, attribute) if attribute is not None else None
            if reason is not None:
                yield Violation(f"{what}: {reason}", what, path, "value")
    for what, path, by in _by_values(process):
        yield from _check_by(what, path, by, attributes)
    yield from _check_priority(process)


def _check_by(
    what: str, path: tuple[str | int, ...], by: ByValue[Any], attributes: Mapping[str, Attribute]
) -> Iterator[Violation]:
    attribute = attributes.get(by.by)
    if attribute is None:
        yield Violation(f"{what}: {_unknown(by.by, attributes)}", what, (*path, "by"), "value")
        return
    if isinstance(attribute, Numeric):
        yield Violation(
            f"{what}: 'by: {by.by}' needs a categorical attribute; {by.by!r} is a number "
            "(route by a condition with `when:` instead)",
            what,
            (*path, "by"),
            "value",
        )
        return
    for value, _chosen in by.cases:
        if value not in attribute.values:
            yield Violation(
                f"{what}: attribute {by.by!r} has no value {value!r} "
                f"(its values: {', '.join(attribute.values)})",
                what,
                (*path, value),
                "key",
            )
    listed = {value for value, _ in by.cases}
    missing = [v for v in attribute.values if v not in listed]
    if missing and by.fallback is None:
        yield Violation(
            f"{what}: no value for {by.by} {', '.join(missing)} and no 'else:'",
            what,
            path,
            "key",
        )


def _check_priority(process: Process) -> Iterator[Violation]:
    priority = process.priority
    if priority is None:
        return
    attributes = process.attributes
    attribute = attributes.get(priority.by)
    if attribute is None:
        yield Violation(f"priority: {_unknown(priority.by, attributes)}", "priority", ("priority",))
        return
    if not isinstance(attribute, Categorical):
        yield Violation(
            f"priority: attribute {priority.by!r} is a number; priority classes are the values "
            "of a categorical attribute",
            "priority",
            ("priority",),
        )
        return
    order = priority.order or ()
    for value in order:
        if value not in attribute.values:
            yield Violation(
                f"priority: attribute {priority.by!r} has no value {value!r} "
                f"(its values: {', '.join(attribute.values)})",
                "priority",
                ("priority", "order"),
                "value",
            )
    missing = [v for v in attribute.values if order and v not in order]
    if missing:
        yield Violation(
            f"priority: 'order' leaves out {', '.join(missing)} of attribute {priority.by!r}",
            "priority",
            ("priority", "order"),
            "value",
        )
