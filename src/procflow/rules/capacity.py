"""Capacity rules (PF5xx): what the queueing math says about the declared process.

These rules read the analytic model (:mod:`procflow.analysis`) through
``ctx.analysis``, computed once per process. Without ``arrivals``, with a
reachable step lacking a duration, or with structural errors the model does
not exist and these rules stay silent: PF402 and the structural rules say
what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from procflow.analysis import Analysis, OwnerLoad
from procflow.analysis.goals import infeasibility
from procflow.analysis.queueing import required_servers
from procflow.findings import Severity
from procflow.rules.base import LintContext, Violation, path_of_goal, path_of_owner, rule
from procflow.units import format_number


def _percent(value: float) -> str:
    if value >= 1e4:  # an absurd load: 3e+302%, not 300 digits
        return f"{format_number(value * 100.0, 3)}%"
    shown = f"{value * 100.0:.1f}".rstrip("0").rstrip(".")
    return f"{shown}%"


def _count(value: int | None) -> str:
    """A capacity: exact up to a billion billions, then ``1.2e+303`` -- also past the largest
    float (a load near 1.8e308 over a threshold below 1 needs more units than a float holds)."""
    if value is None:
        return "-"
    if value < 10**18:
        return str(value)
    mantissa, _, exponent = f"{Decimal(value):.3g}".partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent}"


def _top_steps(owner: OwnerLoad, most: int = 3) -> str:
    """``'resolve' (57%), 'intake' (24%)``: the steps bringing most of the load."""
    shown = [f"{s.step!r} ({_percent(s.share)})" for s in owner.top_steps[:most]]
    rest = len(owner.top_steps) - most
    if rest > 0:
        shown.append(f"{rest} more")
    return ", ".join(shown)


def _duty_load(owner: OwnerLoad) -> float:
    """The load the capacity must carry: weekly, or while on duty for an owner with a
    calendar (utilization x units, docs/working-time.md#analysis)."""
    if owner.on_duty is None:
        return owner.load
    return (owner.utilization or 0.0) * (owner.capacity or 0)


def _duty(owner: OwnerLoad) -> str:
    """`` on duty 24% of the week`` for an owner with a calendar, else nothing."""
    if owner.on_duty is None or not owner.capacity:
        return ""
    return f" on duty {_percent(owner.on_duty / owner.capacity)} of the week"


def _comfortable(owner: OwnerLoad, threshold: float) -> str:
    """`` (5 to stay below 85%)`` when that is more than the bare minimum."""
    comfortable = required_servers(owner.load, threshold)
    if comfortable == owner.required_capacity:
        return f", which also keeps it below {_percent(threshold)}"
    return f" ({_count(comfortable)} to stay below {_percent(threshold)})"


def _analysis(ctx: LintContext) -> Analysis | None:
    """The model, or ``None`` when there is none -- or none is needed: when the process is
    analytically clear, these rules provably find nothing (docs/analysis-method.md)."""
    if ctx.analytically_clear:
        return None
    analysis = ctx.analysis
    return analysis if isinstance(analysis, Analysis) else None


@rule("PF501", "overloaded-owner", Severity.ERROR)
def overloaded_owner(ctx: LintContext) -> Iterable[Violation]:
    """An owner is offered more work than its capacity can do (utilization ≥ 100%).

    ## What it does
    Computes, from the declared arrivals, routing and mean durations, each
    staffed owner's offered load -- arrival rate × Σ expected visits × mean
    duration over its steps, in busy people -- and reports the owners whose
    load is at least their `capacity`, with the capacity they would need and
    the steps that bring the load.

    ## Why is this bad?
    Work arrives faster than the owner can finish it, so the queue grows
    without bound: every day the backlog is longer than the day before and no
    cycle-time goal can hold, however the work is scheduled.

    ## Example
    ```yaml
    owners:
      tier2: {capacity: 2}          # offered load 2.35 busy people
    arrivals: {rate: 8/h}
    steps:
      escalate:
        owner: tier2
        duration: triangular(20m, 40m, 90m)   # 0.35 visits per case
    ```

    ## Use instead
    Raise the capacity to at least the number the message gives (more to keep
    waits short, see PF502), or shorten the owner's steps, route fewer cases
    to them, or cut the rework that sends cases back to them.
    ```yaml
    owners:
      tier2: {capacity: 3}          # utilization 78%
    ```
    """
    analysis = _analysis(ctx)
    if analysis is None:
        return
    threshold = ctx.settings.bottleneck_threshold
    for owner in analysis.loads.values():
        if owner.external or owner.stable or owner.utilization is None:
            continue
        if owner.on_duty is not None:  # working time: the load while on duty
            yield Violation(
                f"owner {owner.id!r} is overloaded: offered load "
                f"{format_number(_duty_load(owner), 3)} while on duty against capacity "
                f"{owner.capacity}{_duty(owner)} (utilization {_percent(owner.utilization)}), "
                f"so its queue grows without bound; it needs a capacity of at least "
                f"{_count(required_servers(_duty_load(owner), 1.0))}; "
                f"load comes from {_top_steps(owner)}",
                owner.id,
                path_of_owner(owner.id),
            )
            continue
        yield Violation(
            f"owner {owner.id!r} is overloaded: offered load "
            f"{format_number(owner.load, 3)} against capacity {owner.capacity} "
            f"(utilization {_percent(owner.utilization)}), so its queue grows without bound; "
            f"it needs a capacity of at least {_count(owner.required_capacity)}"
            f"{_comfortable(owner, threshold)}; "
            f"load comes from {_top_steps(owner)}",
            owner.id,
            path_of_owner(owner.id),
        )


@rule("PF502", "bottleneck", Severity.WARNING)
def bottleneck(ctx: LintContext) -> Iterable[Violation]:
    """An owner is busy most of the time (utilization at or above the threshold, 85%).

    ## What it does
    Reports each staffed owner whose utilization -- offered load / capacity --
    is at least `bottleneck-threshold` (default 0.85, set it in
    `[tool.procflow.lint]`) but below 1 (from 1 on, PF501 fires instead). The
    message names the steps that load the owner most and the capacity that
    would bring it below the threshold.

    ## Why is this bad?
    Waiting grows steeply as utilization nears 100%: at 85% a single person
    makes cases wait about 5.7 times the service time on average, and any
    surge or absence tips the owner over. It is the process's bottleneck, and
    its heaviest steps are where a change pays off most.

    ## Example
    ```yaml
    owners:
      support-agent: {capacity: 4}  # 9/h x 25m = 3.75 busy: 94%
    arrivals: {rate: 9/h}
    ```

    ## Use instead
    Add capacity, shorten or automate the heaviest steps, or move some of
    them to another owner.
    ```yaml
    owners:
      support-agent: {capacity: 5}  # 75%
    ```
    """
    analysis = _analysis(ctx)
    if analysis is None:
        return
    threshold = ctx.settings.bottleneck_threshold
    for owner in analysis.loads.values():
        utilization = owner.utilization
        if owner.external or utilization is None or not threshold <= utilization < 1.0:
            continue
        marker = " (the process's bottleneck)" if owner.id == analysis.bottleneck else ""
        yield Violation(
            f"owner {owner.id!r} is a bottleneck{marker}: utilization "
            f"{_percent(utilization)} with capacity {owner.capacity}{_duty(owner)} "
            f"(threshold {_percent(threshold)}); most load comes from {_top_steps(owner)}; "
            f"a capacity of {_count(required_servers(_duty_load(owner), threshold))} would "
            f"bring it below {_percent(threshold)}",
            owner.id,
            path_of_owner(owner.id),
        )


@rule("PF503", "infeasible-goal", Severity.WARNING)
def infeasible_goal(ctx: LintContext) -> Iterable[Violation]:
    """A goal cannot be met even in theory with the process as declared.

    ## What it does
    Holds each goal's target against what the analytic model proves or fixes:
    a cycle-time target below the fastest path from start to an end step (at
    the shortest possible durations for any statistic; at mean durations for
    a `mean` target, since waits only add to it); a step-time target below
    the step's own duration; an expected cycle, wait or step time, or WIP,
    more than twice the target; and a utilization, throughput, rework-rate or
    cost-per-case target that the declared arrivals, probabilities,
    durations and capacities already decide against (`utilization:tier2 <=
    70%` when the offered load makes it 85%, a throughput above the arrival
    rate). The message says what makes the goal unreachable.

    ## Why is this bad?
    A goal nobody can reach is ignored, and a team chasing it pulls the wrong
    lever: no amount of effort makes a case faster than its fastest path.

    ## Example
    ```yaml
    goals:
      - id: same-hour
        metric: cycle_time        # the fastest path alone takes 4.4h
        stat: mean
        target: "<= 1h"
    ```

    ## Use instead
    Set a target the process can reach, or change the process first (shorter
    steps, fewer hand-offs, more capacity) and let the goal follow.
    ```yaml
    goals:
      - id: same-day
        metric: cycle_time
        stat: mean
        target: "<= 8h"
    ```
    """
    analysis = _analysis(ctx)
    if analysis is None:
        return
    for index, goal in enumerate(ctx.process.goals):
        reason = infeasibility(goal, analysis)
        if reason is None:
            continue
        target = goal.target.text if goal.target is not None else None
        yield Violation(
            f"goal {goal.id!r} ({goal.metric} {target}) cannot be met: {reason}",
            goal.id,
            path_of_goal(index),
        )
