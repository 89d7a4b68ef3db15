"""PF7xx: parallel work -- forks (``parallel:``) and joins (``join:``), docs/parallel-work.md.

A fork starts one token per branch; the branches meet again at the join of
the innermost open fork. These rules say whether every branch gets there
(PF701), whether every join closes exactly one fork (PF702), whether the
branches are closed off from the rest of the process (PF703), and whether a
fork really forks (PF704). PF701-PF703 block analysis and simulation (the
runnable gate runs the same checks, :mod:`procflow.checks`); each message
names the fork, the branch and the step.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from procflow.checks import violations
from procflow.findings import Severity
from procflow.rules.base import LintContext, Violation, rule


@rule("PF701", "unjoined-branch", Severity.ERROR)
def unjoined_branch(ctx: LintContext) -> Iterable[Violation]:
    """A branch of a fork reaches an end step or a trap without passing the fork's join.

    ## What it does
    Walks every branch of every fork (`parallel:`) up to the first step with
    `join:` (passing nested forks whole) and reports a branch on which some
    path ends, or gets stuck, before the join.

    ## Why is this bad?
    A `join: all` waits for every branch: a branch token that ends elsewhere
    never arrives, so the case waits at the join for ever; and a case that
    ends while other branches still run is not done.

    ## Example
    ```yaml
    steps:
      approve-hire: {owner: manager, duration: 30m, parallel: [it-setup, hr-paperwork]}
      it-setup: {owner: it, duration: 2h, next: ready}
      hr-paperwork:
        owner: hr
        duration: 1h
        on:
          signed: {to: ready, p: 0.9}
          refused: {to: cancelled, p: 0.1}
      ready: {join: all, owner: hr, duration: 15m, next: done}
    ```

    ## Use instead
    ```yaml
      hr-paperwork:
        owner: hr
        duration: 1h
        on:
          signed: {to: ready, p: 0.9}
          refused: {to: ready, p: 0.1}      # the branch ends at the join; decide after it
    ```
    """
    return violations(ctx.process, "PF701")


@rule("PF702", "stray-join", Severity.ERROR)
def stray_join(ctx: LintContext) -> Iterable[Violation]:
    """A join step that no fork's branches reach, or that branches of two different forks reach.

    ## What it does
    Reports a step with `join:` that closes no fork (no branch gets there
    before another join), and a join that the branches of two forks both
    reach (improperly nested forks).

    ## Why is this bad?
    A join closes the innermost open fork of a case. Without a fork there is
    nothing to wait for; shared by two forks, it cannot tell whose branches
    it is waiting for.

    ## Example
    ```yaml
    steps:
      check: {owner: clerk, duration: 5m, next: file}
      file: {join: all, owner: clerk, duration: 1m, next: done}
    ```

    ## Use instead
    ```yaml
    steps:
      check: {owner: clerk, duration: 5m, next: file}
      file: {owner: clerk, duration: 1m, next: done}
    ```
    """
    return violations(ctx.process, "PF702")


@rule("PF703", "crossing-edge", Severity.ERROR)
def crossing_edge(ctx: LintContext) -> Iterable[Violation]:
    """A transition enters a fork's branches from outside, or leaves them other than into the join.

    ## What it does
    Reports a transition into a step of a fork's branches from a step that
    is not in them (other than the fork itself), and a transition out of the
    branches to a step other than the fork's join.

    ## Why is this bad?
    Work that enters a branch without the fork was never counted by the
    join, and a branch token that leaves for somewhere else never reaches
    it: the join waits for ever or fires too soon.

    ## Example
    ```yaml
    steps:
      open: {owner: clerk, duration: 5m, parallel: [left, right]}
      left: {owner: clerk, duration: 5m, next: meet}
      right:
        owner: clerk
        duration: 5m
        on:
          ok: meet
          back: {to: open, feedback: true, max: 1}
      meet: {join: all, owner: clerk, duration: 1m, next: done}
    ```

    ## Use instead
    ```yaml
      right: {owner: clerk, duration: 5m, next: meet}
      meet:
        join: all
        owner: clerk
        duration: 1m
        on:
          ok: done
          back: {to: open, feedback: true, max: 1}   # loop round the whole fork
    ```
    """
    return violations(ctx.process, "PF703")


@rule("PF704", "single-branch", Severity.WARNING)
def single_branch(ctx: LintContext) -> Iterator[Violation]:
    """A fork with fewer than two distinct branches.

    ## What it does
    Reports a `parallel:` list that names the same step more than once so
    that fewer than two different steps are left.

    ## Why is this bad?
    A fork means work done at the same time by different steps; the same
    step twice starts two identical tokens, which is almost always a typo.

    ## Example
    ```yaml
      approve-hire: {owner: manager, duration: 30m, parallel: [it-setup, it-setup]}
    ```

    ## Use instead
    ```yaml
      approve-hire: {owner: manager, duration: 30m, parallel: [it-setup, hr-paperwork]}
    ```
    """
    compiled = ctx.compiled
    for u in range(compiled.size):
        if not compiled.fork[u]:
            continue
        names = list(dict.fromkeys(e.to for e in compiled.outgoing[u]))
        if len(names) >= 2:
            continue
        step = compiled.steps[u]
        yield Violation(
            f"fork {step!r} has one distinct branch ({names[0]!r}, listed "
            f"{len(compiled.outgoing[u])} times): name two or more different steps under "
            f"`parallel:`, or use `next: {names[0]}`",
            step,
            ("steps", step, "parallel"),
            "value",
        )
