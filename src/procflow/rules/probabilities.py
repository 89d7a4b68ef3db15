"""PF4xx: the numbers analysis and simulation need -- branch probabilities, durations."""

from __future__ import annotations

import math
from collections.abc import Iterator

from procflow.findings import Severity
from procflow.graph import has_transitions, step_edges
from procflow.rules import quote_list
from procflow.rules.base import LintContext, Violation, path_of_step, path_of_transition, rule
from procflow.units import format_number

#: How far the probabilities of one step may sum from 1 (SPEC 1.1).
TOLERANCE = 1e-6


@rule("PF401", "bad-probabilities", Severity.ERROR)
def bad_probabilities(ctx: LintContext) -> Iterator[Violation]:
    """The probabilities of a step do not sum to 1, or only some transitions have `p`.

    ## What it does
    Within one step, either every transition has a `p` and they sum to 1
    (within 1e-6), or none has one and they are taken with equal
    probability. This rule reports a step whose transitions mix the two
    (at the first transition without `p`), and a step whose `p` values do
    not sum to 1 (at its `on:`).

    ## Why is this bad?
    Analysis and simulation route cases by these numbers. A sum of 0.9
    loses a tenth of the cases somewhere; a missing `p` leaves it
    unclear whether the author forgot it or meant "the rest".

    ## Example
    ```yaml
    triage:
      owner: support-agent
      on:
        simple:  {to: resolve,  p: 0.7}
        complex: {to: escalate, p: 0.2}
    ```

    ## Use instead
    ```yaml
    triage:
      owner: support-agent
      on:
        simple:  {to: resolve,  p: 0.7}
        complex: {to: escalate, p: 0.3}
    ```
    """
    process = ctx.process
    for step_id, step in process.steps.items():
        if not step.on:  # `next:` carries no probability
            continue
        given_p = [t.p for t in step.on.values() if t.p is not None]
        if not given_p or (
            len(given_p) == len(step.on) and abs(math.fsum(given_p) - 1.0) <= TOLERANCE
        ):
            continue  # none given, or all given and summing to 1: nothing to report
        edges = step_edges(step_id, step)
        given = [edge for edge in edges if edge.p is not None]
        if not given:
            continue
        if len(given) < len(edges):
            missing = [edge.trigger for edge in edges if edge.p is None]
            with_p = [edge.trigger for edge in given]
            yield Violation(
                f"step {step_id!r}: {quote_list(with_p)} "
                f"{'has' if len(with_p) == 1 else 'have'} a probability `p` but "
                f"{quote_list(missing)} {'has' if len(missing) == 1 else 'have'} none: give "
                "every transition of the step a `p` (summing to 1), or none",
                step_id,
                path_of_transition(process, step_id, missing[0]),
            )
            continue
        total = math.fsum(edge.p for edge in given if edge.p is not None)
        if not abs(total - 1.0) <= TOLERANCE:
            parts = " + ".join(format_number(edge.p or 0.0, 8) for edge in given)
            yield Violation(
                f"step {step_id!r}: the probabilities of its transitions sum to "
                f"{format_number(total, 8)} ({parts}), not 1: adjust the `p` values",
                step_id,
                ("steps", step_id, "on"),
            )


@rule("PF402", "missing-duration", Severity.WARNING)
def missing_duration(ctx: LintContext) -> Iterator[Violation]:
    """A non-end step has no duration.

    ## What it does
    Reports every step that is not an end step and has no `duration:`.
    (A step with no transitions at all is left to PF104: it is usually an
    end step that lacks `end: true`.)

    ## Why is this bad?
    Without durations, analysis and simulation cannot run (the capacity
    rules PF501-PF503 stay silent), and no one can say where time goes.
    A rough estimate is far more useful than none; `procflow calibrate`
    can later fit it from an event log.

    ## Example
    ```yaml
    triage:
      owner: support-agent
      next: resolve
    ```

    ## Use instead
    ```yaml
    triage:
      owner: support-agent
      duration: lognormal(4m, 2m)
      next: resolve
    ```
    """
    for step_id, step in ctx.process.steps.items():
        if step.end or step.duration is not None or not has_transitions(step):
            continue  # a step with no transition at all is PF104's
        yield Violation(
            f"step {step_id!r} has no duration: add e.g. `duration: exponential(10m)` so the "
            "process can be analyzed and simulated",
            step_id,
            path_of_step(step_id),
        )
