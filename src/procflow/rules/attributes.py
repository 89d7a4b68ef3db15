"""PF8xx: case attributes, rules and priorities (docs/attributes.md)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence

from procflow.casedata import Attribute, Categorical
from procflow.checks import violations
from procflow.expressions import Literal, Value, compile_condition, parse
from procflow.findings import Severity
from procflow.rules.base import LintContext, Violation, path_of_transition, rule

MAX_POINTS = 200_000
"""PF802 gives up (stays quiet) beyond this many attribute combinations at one step."""


@rule("PF801", "unknown-attribute", Severity.ERROR)
def unknown_attribute(ctx: LintContext) -> Iterable[Violation]:
    """A `when`, `by`, `priority` or `where` names an undeclared attribute or an impossible value.

    ## What it does
    Checks every condition (`when:` on transitions, `where:` on goals),
    every `by:` form (of a `duration` or a `p`) and `priority:` against
    `attributes:`: each attribute named must be declared, each value
    compared with a categorical attribute must be one of its values (and
    compared with `==`, `!=` or `in`), a numeric attribute is compared with
    numbers, `by:` and `priority:` name categorical attributes and only
    their values.

    ## Why is this bad?
    A condition over an attribute no case has is never true, and a value
    that does not exist (`severity == 'P1'` when the values are `p1`, `p2`)
    silently sends every case down the default path. The process would
    run, and route wrongly.

    ## Example
    ```yaml
    attributes:
      severity: {p1: 5%, p2: 95%}
    steps:
      triage:
        on:
          major: {to: major-incident, when: "severity == 'P1'"}
          standard: {to: first-line}
    ```

    ## Use instead
    ```yaml
          major: {to: major-incident, when: "severity == 'p1'"}
    ```
    """
    return violations(ctx.process, "PF801")


def _candidates(
    name: str, attribute: Attribute, literals: Sequence[Literal]
) -> list[tuple[float, Value]]:
    """Values of one attribute that decide every condition exactly, with weights.

    Categorical: every value with its share. Numeric: a condition compares
    the attribute with constants, so its truth is constant between
    consecutive constants: the constants themselves and one point inside
    each interval (and below and above all of them) settle every case. The
    weights of numeric points are not shares (only "possible" matters).
    """
    if isinstance(attribute, Categorical):
        return [(s, v) for v, s in zip(attribute.values, attribute.shares, strict=True) if s > 0]
    lower = attribute.distribution.lower
    cuts = sorted(
        {
            float(lit.value)
            for lit in literals
            if lit.name == name and not isinstance(lit.value, str)
        }
    )
    points = {lower, *(c for c in cuts if c >= lower)}
    edges = [lower, *[c for c in cuts if c > lower]]
    for a, b in itertools.pairwise(edges):
        points.add((a + b) / 2.0)
    points.add(max(edges) + 1.0 + abs(max(edges)))
    if attribute.distribution.sampler().name == "fixed":
        points = {lower}
    return [(1.0, p) for p in sorted(points)]


@rule("PF802", "no-default", Severity.WARNING)
def no_default(ctx: LintContext) -> Iterator[Violation]:
    """Conditional transitions without a default, whose conditions may all be false.

    ## What it does
    At a step whose transitions all have `when:`, tries every combination
    of the attribute values the conditions name -- each value of a
    categorical attribute, and for a numeric one each constant it is
    compared with and a point between each two (which decides such
    conditions exactly) -- and reports the step when some combination
    makes every condition false. It names the combination.

    ## Why is this bad?
    A case that meets no condition has nowhere to go. procflow sends it
    down the last transition, which is rarely what the author meant.

    ## Example
    ```yaml
    on:
      auto:    {to: pay, when: "amount < 1000"}
      manager: {to: manager-approval, when: "amount >= 1000 and amount < 10000"}
    ```

    ## Use instead
    ```yaml
    on:
      auto:    {to: pay, when: "amount < 1000"}
      manager: {to: manager-approval, when: "amount < 10000"}
      cfo:     {to: cfo-approval}          # no `when`: the default
    ```
    """
    process = ctx.process
    attributes = process.attributes
    for step_id, step in process.steps.items():
        on = step.on or {}
        whens = [t.when for t in on.values()]
        if not whens or any(w is None for w in whens):
            continue
        if any(t.p is not None for t in on.values()):
            continue  # PF803's
        parsed = [parse(w) for w in whens if w is not None]
        names = sorted(set().union(*(p.names for p in parsed)) & set(attributes))
        literals = [lit for p in parsed for lit in p.literals]
        options = [_candidates(n, attributes[n], literals) for n in names]
        if math.prod(len(o) for o in options) > MAX_POINTS:
            continue
        conditions = [compile_condition(w) for w in whens if w is not None]
        for combination in itertools.product(*options):
            values = {n: v for n, (_w, v) in zip(names, combination, strict=True)}
            if not any(condition(values) for condition in conditions):
                shown = ", ".join(f"{n} = {_show(v)}" for n, v in values.items()) or "any case"
                yield Violation(
                    f"step {step_id!r}: no transition's condition holds for {shown}, and no "
                    "transition is the default (one without `when:`); add a default",
                    step_id,
                    ("steps", step_id, "on"),
                )
                break


def _show(value: Value) -> str:
    return repr(value) if isinstance(value, str) else f"{value:g}"


@rule("PF803", "mixed-routing", Severity.ERROR)
def mixed_routing(ctx: LintContext) -> Iterator[Violation]:
    """A step routes by both `p` and `when`.

    ## What it does
    Reports a step where some transitions have a probability `p` and some
    a condition `when`, at the first transition of the minority kind.

    ## Why is this bad?
    A step is decided either by chance (`p`, for cases whose data does not
    matter) or by the case's data (`when`, first condition that holds).
    Mixing them leaves no clear meaning: is `p` the share of the cases
    that no condition caught, or of all cases?

    ## Example
    ```yaml
    on:
      major:    {to: major-incident, when: "severity == 'p1'"}
      standard: {to: first-line, p: 0.9}
      escalate: {to: tier2, p: 0.1}
    ```

    ## Use instead
    ```yaml
    on:
      major:    {to: major-incident, when: "severity == 'p1'"}
      escalate: {to: tier2, when: "severity == 'p2'"}
      standard: {to: first-line}
    ```
    """
    process = ctx.process
    for step_id, step in process.steps.items():
        on = step.on or {}
        with_p = [k for k, t in on.items() if t.p is not None]
        with_when = [k for k, t in on.items() if t.when is not None]
        if with_p and with_when:
            first = with_when[0] if len(with_when) <= len(with_p) else with_p[0]
            yield Violation(
                f"step {step_id!r} routes by both `p` ({', '.join(with_p)}) and `when` "
                f"({', '.join(with_when)}): use one kind of routing per step",
                step_id,
                path_of_transition(process, step_id, first),
            )
