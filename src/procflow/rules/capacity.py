"""Capacity rules (PF5xx): what the queueing math says about the declared process.

These rules read the analytic model (:mod:`procflow.analysis`) through
``ctx.analysis``, computed once per process. Without ``arrivals``, with a
reachable step lacking a duration, or with structural errors the model does
not exist and these rules stay silent: PF402 and the structural rules say
what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable

from procflow.analysis import Analysis, OwnerFigures
from procflow.analysis.queueing import required_servers
from procflow.findings import Severity
from procflow.rules.base import LintContext, Violation, path_of_goal, path_of_owner, rule
from procflow.units import format_number


def _percent(value: float) -> str:
    shown = f"{value * 100.0:.1f}".rstrip("0").rstrip(".")
    return f"{shown}%"


def _top_steps(owner: OwnerFigures, most: int = 3) -> str:
    """``'resolve' (57%), 'intake' (24%)``: the steps bringing most of the load."""
    shown = [f"{s.step!r} ({_percent(s.share)})" for s in owner.top_steps[:most]]
    rest = len(owner.top_steps) - most
    if rest > 0:
        shown.append(f"{rest} more")
    return ", ".join(shown)


def _comfortable(owner: OwnerFigures, threshold: float) -> str:
    """`` (5 to stay below 85%)`` when that is more than the bare minimum."""
    comfortable = required_servers(owner.load, threshold)
    if comfortable == owner.required_capacity:
        return f", which also keeps it below {_percent(threshold)}"
    return f" ({comfortable} to stay below {_percent(threshold)})"


def _analysis(ctx: LintContext) -> Analysis | None:
    analysis = ctx.analysis
    return analysis if isinstance(analysis, Analysis) else None


@rule("PF501", "overloaded-owner", Severity.ERROR)
def overloaded_owner(ctx: LintContext) -> Iterable[Violation]:
    """An owner is offered more work than its capacity can do (utilization ≥ 100%).

    **What it checks.** With the declared arrivals, routing and mean
    durations, the owner's offered load -- arrival rate × Σ expected visits ×
    mean duration over its steps, in busy people -- is at least its
    ``capacity``.

    **Why it matters.** Work arrives faster than the owner can finish it, so
    the queue grows without bound: every day the backlog is longer than the
    day before and no cycle-time goal can hold. The message says how many
    people would be needed to keep up.

    **Example.**

    ```yaml
    owners:
      tier2: {capacity: 2}            # offered load 2.35: needs 3
    arrivals: {rate: 8/h}
    ```

    **Instead.** Raise the ``capacity`` to at least the number given (more to
    keep waits short: see PF502), shorten the steps the owner does, route
    fewer cases to them, or reduce rework that sends cases back to them.
    """
    analysis = _analysis(ctx)
    if analysis is None:
        return
    threshold = ctx.settings.bottleneck_threshold
    for owner in analysis.owners.values():
        if owner.external or owner.stable or owner.utilization is None:
            continue
        yield Violation(
            f"owner {owner.id!r} is overloaded: offered load "
            f"{format_number(owner.load, 3)} against capacity {owner.capacity} "
            f"(utilization {_percent(owner.utilization)}), so its queue grows without bound; "
            f"it needs a capacity of at least {owner.required_capacity}"
            f"{_comfortable(owner, threshold)}; "
            f"load comes from {_top_steps(owner)}",
            owner.id,
            path_of_owner(owner.id),
        )


@rule("PF502", "bottleneck", Severity.WARNING)
def bottleneck(ctx: LintContext) -> Iterable[Violation]:
    """An owner is busy most of the time (utilization at or above the threshold, 85%).

    **What it checks.** The owner's utilization -- offered load / capacity --
    is at least ``bottleneck-threshold`` (default 0.85, configurable in
    ``[tool.procflow.lint]``) but below 1 (at 1, PF501 fires instead).

    **Why it matters.** Waiting grows steeply as utilization nears 100%: at
    85% a single server makes cases wait about 5.7 times the service time on
    average, and any surge or absence tips it over. The owner is the
    process's bottleneck; the message names the steps that load it most,
    which are where a change pays off.

    **Example.**

    ```yaml
    owners:
      support-agent: {capacity: 3}    # utilization 92%: cases queue for long
    ```

    **Instead.** Add capacity (the message's figure keeps utilization below
    the threshold), shorten or automate the heaviest steps, or move some of
    them to another owner.
    """
    analysis = _analysis(ctx)
    if analysis is None:
        return
    threshold = ctx.settings.bottleneck_threshold
    for owner in analysis.owners.values():
        utilization = owner.utilization
        if owner.external or utilization is None or not threshold <= utilization < 1.0:
            continue
        marker = " (the process's bottleneck)" if owner.id == analysis.bottleneck else ""
        yield Violation(
            f"owner {owner.id!r} is a bottleneck{marker}: utilization "
            f"{_percent(utilization)} with capacity {owner.capacity} "
            f"(threshold {_percent(threshold)}); most load comes from {_top_steps(owner)}; "
            f"a capacity of {required_servers(owner.load, threshold)} would bring it below "
            f"{_percent(threshold)}",
            owner.id,
            path_of_owner(owner.id),
        )


@rule("PF503", "infeasible-goal", Severity.WARNING)
def infeasible_goal(ctx: LintContext) -> Iterable[Violation]:
    """A goal cannot be met even in theory with the process as declared.

    **What it checks.** The goal's target against what the analytic model
    proves or fixes:

    * a cycle-time target below the fastest path from start to an end step
      (at the shortest possible durations for any statistic; at mean
      durations for a ``mean`` target -- waits only add to it);
    * a step-time target below the step's own duration;
    * an expected cycle, wait or step time, or WIP, more than twice the target;
    * a utilization, throughput, rework-rate or cost-per-case target that the
      declared arrivals, probabilities, durations and capacities already
      decide against (e.g. ``utilization:tier2 <= 70%`` when the offered load
      makes it 85%, or a throughput above the arrival rate).

    **Why it matters.** A goal nobody can reach is ignored, and a team chasing
    it wastes effort on the wrong lever; the message says what makes it
    unreachable.

    **Example.**

    ```yaml
    goals:
      - id: same-hour
        metric: cycle_time      # the fastest path alone takes 4.4h
        stat: mean
        target: "<= 1h"
    ```

    **Instead.** Set a target the process can reach, or change the process
    first (shorter steps, fewer hand-offs, more capacity) and let the goal
    follow.
    """
    analysis = _analysis(ctx)
    if analysis is None:
        return
    for index, goal in enumerate(analysis.goals):
        if goal.infeasible is None:
            continue
        yield Violation(
            f"goal {goal.id!r} ({goal.metric} {goal.target}) cannot be met: {goal.infeasible}",
            goal.id,
            path_of_goal(index),
        )
