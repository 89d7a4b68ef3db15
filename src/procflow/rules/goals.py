"""PF6xx: goals -- SMART, pointing at things that exist, still current.

A goal is SMART (docs/file-format.md#goals) when it has a metric (specific, measurable), a
target, a ``stat`` where the metric is a distribution (``cycle_time``,
``wait_time``, ``step_time:<step>``; the other metrics are means and take
none) and a deadline (time-bound). Goals are located at their list item.
"""

from __future__ import annotations

from collections.abc import Iterator

from procflow import metrics
from procflow.findings import Severity
from procflow.model import DISTRIBUTION_METRICS, METRICS, STATS, Goal, Process
from procflow.rules import did_you_mean
from procflow.rules.base import LintContext, Violation, path_of_goal, rule

#: Metrics that take an argument, and what the argument names (from the registry).
ARGUMENTS: dict[str, str] = {m.name: m.argument for m in metrics.REGISTRY if m.argument}


def _known_metric(goal: Goal) -> bool:
    return goal.metric_name in METRICS


@rule("PF601", "goal-not-smart", Severity.WARNING)
def goal_not_smart(ctx: LintContext) -> Iterator[Violation]:
    """A goal lacks a metric, a target, a stat (where needed) or a deadline.

    ## What it does
    Checks that every goal says what is measured (`metric`), the level to
    reach (`target`), by when (`deadline`), and -- for metrics that are
    distributions (`cycle_time`, `wait_time`, `step_time:<step>`) -- which
    statistic (`stat`: mean, p50, p90, p95 or p99). One finding per goal
    lists what is missing. A `stat` on a metric that is already a mean
    (`throughput`, `utilization:<owner>`, `rework_rate`, `cost_per_case`,
    `wip`) is reported at the `stat`.

    ## Why is this bad?
    A goal that is not specific, measurable and time-bound cannot be
    checked, so it cannot be met or missed -- and "cycle time under a day"
    means very different things for the average case and the 90th
    percentile.

    ## Example
    ```yaml
    goals:
      - id: fast-resolution
        metric: cycle_time
        target: "<= 24h"
    ```

    ## Use instead
    ```yaml
    goals:
      - id: fast-resolution
        metric: cycle_time
        stat: p90
        target: "<= 24h"
        deadline: 2027-03-31
        owner: support-lead
    ```
    """
    for index, goal in enumerate(ctx.process.goals):
        missing: list[str] = []
        if goal.metric is None:
            missing.append("a `metric` (what is measured, e.g. cycle_time)")
        if (
            goal.metric is not None
            and goal.metric_name in DISTRIBUTION_METRICS
            and goal.stat is None
        ):
            missing.append(
                f"a `stat` ({goal.metric_name} is a distribution: say which of {', '.join(STATS)})"
            )
        if goal.target is None:
            missing.append('a `target` (e.g. target: "<= 24h")')
        if goal.deadline is None:
            missing.append("a `deadline` (by when, e.g. deadline: 2027-03-31)")
        if missing:
            yield Violation(
                f"goal {goal.id!r} is not SMART: it needs {'; '.join(missing)}",
                goal.id,
                path_of_goal(index),
            )
        if (
            goal.stat is not None
            and goal.metric is not None
            and _known_metric(goal)
            and goal.metric_name not in DISTRIBUTION_METRICS
        ):
            yield Violation(
                f"goal {goal.id!r}: metric {goal.metric_name!r} is a mean and takes no `stat`; "
                f"remove `stat: {goal.stat}`",
                goal.id,
                ("goals", index, "stat"),
                "value",
            )


def _reference_problem(process: Process, goal: Goal) -> str | None:
    """What is wrong with a goal's metric, or ``None``."""
    metric = goal.metric
    if metric is None:
        return None
    name, argument = goal.metric_name or "", goal.metric_argument
    if name not in METRICS:
        choices = [f"{m}:<{ARGUMENTS[m]}>" if m in ARGUMENTS else m for m in METRICS]
        return (
            f"metric {metric!r} is unknown{did_you_mean(name, METRICS)}; use one of "
            f"{', '.join(choices)}"
        )
    kind = ARGUMENTS.get(name)
    if kind is None:
        if ":" in metric:
            return f"metric {name!r} takes no argument: write `metric: {name}`"
        return None
    if argument is None:
        return f"metric {name!r} needs the {kind} it is about: write `metric: {name}:<{kind}>`"
    known = process.steps if kind == "step" else process.owners
    if argument not in known:
        missing = "is not a step" if kind == "step" else "is not a declared owner"
        return (
            f"metric {metric!r} names {kind} {argument!r}, which {missing}"
            f"{did_you_mean(argument, known)}"
        )
    if kind == "step" and process.steps[argument].end:
        return (
            f"metric {metric!r} names end step {argument!r}, where a case spends no time: "
            "name the step before it"
        )
    if kind == "owner" and process.owners[argument].external:
        return (
            f"metric {metric!r} names external owner {argument!r}, which has no capacity and "
            "so no utilization: name a staffed owner"
        )
    return None


@rule("PF602", "goal-unknown-ref", Severity.ERROR)
def goal_unknown_ref(ctx: LintContext) -> Iterator[Violation]:
    """A goal's metric is unknown or names an unknown step or owner.

    ## What it does
    Checks that a goal's `metric` is one of `cycle_time`, `wait_time`,
    `step_time:<step>`, `throughput`, `utilization:<owner>`,
    `rework_rate`, `cost_per_case` and `wip`, that `step_time` names a
    step that is not an end step and `utilization` a declared staffed
    owner (an external one has no capacity), and that the other metrics
    carry no argument. (An unknown goal `owner:` is PF202.)

    ## Why is this bad?
    The goal cannot be measured: analysis, simulation and `check-log`
    have nothing to compare its target with, so it is silently never met.

    ## Example
    ```yaml
    goals:
      - id: quick-triage
        metric: step_time:triag
        stat: p90
        target: "<= 15m"
        deadline: 2027-03-31
    ```

    ## Use instead
    ```yaml
    goals:
      - id: quick-triage
        metric: step_time:triage
        stat: p90
        target: "<= 15m"
        deadline: 2027-03-31
    ```
    """
    process = ctx.process
    for index, goal in enumerate(process.goals):
        problem = _reference_problem(process, goal)
        if problem is not None:
            yield Violation(
                f"goal {goal.id!r}: {problem}",
                goal.id,
                ("goals", index, "metric"),
                "value",
            )


@rule("PF603", "goal-expired", Severity.INFO)
def goal_expired(ctx: LintContext) -> Iterator[Violation]:
    """A goal's deadline has passed.

    ## What it does
    Reports a goal whose `deadline` is before today.

    ## Why is this bad?
    An expired goal no longer steers anything. Either it was met (record
    that and set the next one), or it was missed and needs a new plan --
    either way the file should say what the team is aiming for now.

    ## Example
    ```yaml
    goals:
      - id: resolve-within-a-day
        metric: cycle_time
        stat: p90
        target: "<= 24h"
        deadline: 2024-03-31
    ```

    ## Use instead
    ```yaml
    goals:
      - id: resolve-within-a-day
        metric: cycle_time
        stat: p90
        target: "<= 12h"
        deadline: 2027-03-31
    ```
    """
    today = ctx.settings.today
    for index, goal in enumerate(ctx.process.goals):
        if goal.deadline is not None and goal.deadline < today:
            yield Violation(
                f"goal {goal.id!r}: its deadline {goal.deadline.isoformat()} has passed: set "
                "the next deadline (and target), or remove the goal",
                goal.id,
                ("goals", index, "deadline"),
                "value",
            )
