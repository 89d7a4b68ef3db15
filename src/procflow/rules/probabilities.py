"""PF4xx: the numbers analysis and simulation need -- branch probabilities, durations."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from procflow import checks
from procflow.checks import violations, without_duration
from procflow.findings import Severity
from procflow.rules.base import LintContext, Violation, path_of_step, rule

#: How far the probabilities of one step may sum from 1 (docs/file-format.md#transitions);
#: the check is PF401's.
TOLERANCE = checks.TOLERANCE


@rule("PF401", "bad-probabilities", Severity.ERROR)
def bad_probabilities(ctx: LintContext) -> Iterable[Violation]:
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
    return violations(ctx.process, "PF401")


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
    compiled = ctx.compiled
    for step_id in compiled.step_ids(without_duration(compiled)):
        yield Violation(
            f"step {step_id!r} has no duration: add e.g. `duration: exponential(10m)` so the "
            "process can be analyzed and simulated",
            step_id,
            path_of_step(step_id),
        )
