"""The text reports of ``procflow simulate`` and ``compare``, as rich renderables.

Tables a person reads at a glance: figures formatted as durations
(``5.5h``), rates (``8/h``) and percentages, intervals as ``low – high``,
utilization as a bar, goals with their interval and verdict (met, not
met, uncertain); in a comparison, differences that are significant and
large enough to show are coloured by whether they are an improvement (the
metric's direction, :mod:`procflow.metrics`), smaller ones read
"negligible". Colour and alignment on a terminal, plain text when piped
(the console decides).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from procflow import metrics
from procflow.cli.console import DASH, PlainRows, PlainTable, percent, titled_table, utilization_bar
from procflow.safetext import printable
from procflow.sim.comparison import Comparison
from procflow.sim.groups import group_rows
from procflow.sim.results import MET, NOT_MET, UNCERTAIN, GoalResult, SimulationResult
from procflow.sim.stats import Difference, Estimate
from procflow.units import format_duration, format_number, format_rate


def kind_of(key: str) -> str:
    """How a KPI is shown: ``duration``, ``rate``, ``percent`` or ``number`` (its metric's kind)."""
    return metrics.kind_of_key(key)


def label_of(key: str) -> str:
    """``cycle_time.p90`` -> ``cycle time p90``; ``utilization:tier2`` -> ``utilization tier2``."""
    head, _, stat = key.partition(".")
    base, _, argument = head.partition(":")
    found = metrics.metric_of_key(key)
    text = found.title if found is not None else base.replace("_", " ")
    if argument:
        text = f"{text} {argument}"
    if stat:
        text = f"{text} {stat}"
    return text


LONG = 1000 * 86400.0
"""From here on a duration is shown as a whole number of days with separators."""

HUGE = 1e15
"""From here on a figure is shown in scientific notation: 2.91e+19, not 26 digits."""


def show(key: str, value: float | None, *, like: str | None = None) -> str:
    """A KPI value as a person reads it; ``like`` a goal's target: a rate in its unit."""
    if value is None:
        return DASH
    kind = kind_of(key)
    if kind == "duration":
        if LONG <= abs(value) < HUGE * 86400.0:  # 1,150d, not 1.15e+03d
            return f"{value / 86400.0:,.0f}d"
        return format_duration(value, 3)
    if kind == "rate":
        return format_rate(value / 3600.0, 3, like=like)
    if kind == "percent":
        return percent(value)
    if 1000 <= abs(value) < HUGE:
        return f"{value:,.0f}"
    return format_number(value, 3)


NEGLIGIBLE = 1e-4
"""Differences below this fraction of the baseline are shown as ``±0`` (JSON keeps them)."""


def show_delta(key: str, value: float | None, scale: float | None = None) -> str:
    """A signed difference: ``+4.2m``, ``-1.3 pp``, ``+0.5/h``; ``±0`` when negligible
    next to ``scale`` (the baseline)."""
    if value is None:
        return DASH
    if scale and abs(value) < NEGLIGIBLE * abs(scale):
        value = 0.0
    sign = "+" if value > 0 else ("-" if value < 0 else "±")
    magnitude = abs(value)
    kind = kind_of(key)
    if kind == "percent":
        return f"{sign}{format_number(magnitude * 100.0, 3)} pp"
    return sign + show(key, magnitude)


def interval(
    key: str,
    ci: tuple[float, float] | None,
    *,
    delta: bool = False,
    scale: float | None = None,
    like: str | None = None,
) -> str:
    if ci is None:
        return DASH
    if delta:
        return f"{show_delta(key, ci[0], scale)} … {show_delta(key, ci[1], scale)}"
    # every KPI is a non-negative quantity: a t interval reaching below 0 shows 0
    return f"{show(key, max(ci[0], 0.0), like=like)} … {show(key, ci[1], like=like)}"


def header(result: SimulationResult, source: str | None, extra: str = "") -> Text:
    text = Text()
    text.append(result.process, style="bold")
    if source:
        text.append(f"  {printable(source)}", style="dim")
    counted = result.cases - result.warmup
    line = (
        f"{result.runs} run{'s' if result.runs != 1 else ''} × {result.cases:,} cases "
        f"({result.warmup:,} warm-up, {counted:,} counted) · seed {result.seed}"
    )
    text.append(f"\n{line}{extra}", style="dim")
    return text


def kpi_table(result: SimulationResult) -> Table:
    """The headline KPIs: mean, 95 % interval of the mean, and quantiles."""
    table = titled_table("Key figures")
    table.add_column("")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    for stat in ("p50", "p90", "p95", "p99"):
        table.add_column(stat, justify="right")
    reported = [metrics.BY_NAME[name] for name in metrics.REPORTED]
    for metric in reported:
        if not metric.distribution:
            continue
        base = metric.kpi
        mean = result.kpis[f"{base}.mean"]
        table.add_row(
            metric.title,
            Text(show(base, mean.mean), style="bold"),
            interval(base, mean.ci95),
            *(
                show(base, result.kpis[f"{base}.{stat}"].mean)
                for stat in ("p50", "p90", "p95", "p99")
            ),
        )
    for metric in reported:
        if metric.distribution:
            continue
        key = metric.kpi
        found = result.kpis[key]
        if metric.optional and found.mean is None:
            continue
        table.add_row(
            metric.title, Text(show(key, found.mean), style="bold"), interval(key, found.ci95)
        )
    return table


def _bar(utilization: float | None) -> Text:
    """A measured utilization cannot pass 100%: bold red from 95%."""
    if utilization is None:
        return Text(DASH)
    return utilization_bar(utilization, threshold=0.85, critical=0.95)


def owners_table(result: SimulationResult) -> Table:
    """Staff owners by utilization, then external owners."""
    table = titled_table("Owners")
    table.add_column("owner")
    table.add_column("capacity", justify="right")
    table.add_column("utilization")
    table.add_column("95% CI", justify="right")
    staff = sorted(
        ((i, o) for i, o in result.owners.items() if not o.external and o.steps),
        key=lambda item: -(item[1].utilization.mean or 0.0),
    )
    for owner_id, owner in staff:
        table.add_row(
            owner_id,
            str(owner.capacity),
            _bar(owner.utilization.mean),
            interval("utilization", owner.utilization.ci95),
        )
    for owner_id, owner in result.owners.items():
        if owner.external and owner.steps:
            table.add_row(owner_id, "external", Text("pure delay, no queue", style="dim"), "")
    idle = [owner_id for owner_id, owner in result.owners.items() if not owner.steps]
    if idle:
        table.add_row(
            Text(", ".join(idle), style="dim"),
            "",
            Text("owns no step" if len(idle) == 1 else "own no steps", style="dim"),
            "",
        )
    return table


STEP_COLUMNS = ("step", "owner", "visits", "wait", "95% CI", "service")


def steps_table(result: SimulationResult, owners: dict[str, str | None]) -> Table:
    """Steps in file order: visits per case, mean wait and service per visit."""
    table = titled_table("Steps")
    for column in STEP_COLUMNS:
        table.add_column(column, justify="left" if column in ("step", "owner") else "right")
    for row in _step_rows(result, owners):
        table.add_row(*row)
    return table


def steps_rows(result: SimulationResult, owners: dict[str, str | None]) -> PlainRows:
    """:func:`steps_table` as :class:`~procflow.cli.console.PlainRows`: thousands of steps
    laid out as plain text without making the table, when the console is plain."""
    return PlainRows(
        "Steps",
        list(STEP_COLUMNS),
        [column not in ("step", "owner") for column in STEP_COLUMNS],
        _step_rows(result, owners),
        lambda: steps_table(result, owners),
    )


def _step_rows(
    result: SimulationResult, owners: dict[str, str | None]
) -> list[tuple[str | Text, ...]]:
    """The cells of the Steps table, row by row (an end step's row is three cells)."""
    rows: list[tuple[str | Text, ...]] = []
    for step_id, step in result.steps.items():
        owner = owners.get(step_id)
        visits = step.visits.mean
        if step.wait_mean.mean is None and step.service_mean.mean is None:
            shown_visits = DASH if visits is None else format_number(visits, 4)
            if visits == 0:
                shown_visits = "0 (never)"
            rows.append(
                (step_id, Text("end" if owner is None else owner, style="dim"), shown_visits)
            )
            continue
        rows.append(
            (
                step_id,
                owner or Text("(none: delay)", style="dim"),
                DASH if visits is None else format_number(visits, 4),
                show("wait_time", step.wait_mean.mean),
                ""
                if step.wait_mean.ci95 == (0.0, 0.0)
                else interval("wait_time", step.wait_mean.ci95),
                show("wait_time", step.service_mean.mean),
            )
        )
    return rows


def _goal_key(goal: GoalResult) -> str:
    """The key whose kind formats a goal's value (``throughput`` -> ``throughput_per_hour``)."""
    name, _, argument = goal.metric.partition(":")
    return metrics.kpi_key(name, argument or None, goal.stat) or goal.metric


def goals_table(result: SimulationResult) -> Table:
    table = titled_table("Goals")
    for column in ("goal", "metric", "target", "value", "95% CI", "verdict"):
        table.add_column(column, justify="right" if column in ("value", "95% CI") else "left")
    for goal in result.goals:
        metric = goal.metric + (f" {goal.stat}" if goal.stat else "")
        key = _goal_key(goal)
        table.add_row(
            goal.id,
            metric,
            goal.target,
            show(key, goal.value, like=goal.target),
            interval(key, goal.ci95, like=goal.target),
            _verdict(goal.verdict),
        )
    return table


_VERDICT_STYLES = {MET: "ok", NOT_MET: "error", UNCERTAIN: "warning"}


def _verdict(verdict: str | None) -> Text:
    """``met``, ``not met``, ``uncertain`` (the interval straddles the target), or why not."""
    if verdict is None:
        return Text("cannot measure", style="dim")
    return Text(verdict, style=_VERDICT_STYLES[verdict])


def simulation_report(
    result: SimulationResult,
    *,
    source: str | None = None,
    owners: dict[str, str | None] | None = None,
    changes: Sequence[str] = (),
) -> RenderableType:
    """The whole text report of ``procflow simulate``."""
    extra = f" · with {', '.join(changes)}" if changes else ""
    parts: list[RenderableType] = [header(result, source, extra), Text()]
    parts += [PlainTable(kpi_table(result)), Text(), PlainTable(owners_table(result)), Text()]
    parts += [steps_rows(result, owners or {})]
    if result.groups is not None:
        classes, outcomes = result.groups
        if classes:
            attribute = classes[0][0].split(":", 1)[1].split("=", 1)[0]
            parts += [Text(), group_table(result, f"By {attribute} (priority)", classes)]
        parts += [Text(), group_table(result, "By outcome (end step)", outcomes)]
    if result.goals:
        parts += [Text(), goals_table(result)]
    parts += [_note(note) for note in result.notes]
    return Group(*parts)


def group_table(result: SimulationResult, title: str, groups: list[tuple[str, str]]) -> Table:
    """Share, cycle time (mean with its interval, p90) and waiting per class or outcome."""
    table = titled_table(title)
    for column in ("", "share", "cycle time", "95% CI", "p90", "waiting"):
        table.add_column(column, justify="left" if not column else "right")
    for row in group_rows(result.kpis, groups):
        table.add_row(
            row.label,
            percent(row.share),
            show("cycle_time.mean", row.cycle_mean),
            interval("cycle_time.mean", row.cycle_ci95),
            show("cycle_time.p90", row.cycle_p90),
            show("wait_time.mean", row.wait_mean),
        )
    return table


def _note(text: str, scenario: str | None = None) -> Text:
    line = Text("note: ", style="warning")
    if scenario:
        line.append(f"{scenario}: ", style="bold")
    line.append(text)
    return line


def visible(key: str, diff: Difference) -> bool:
    """Whether a difference shows at the report's precision.

    It does not when the baseline and the changed value print the same
    (``6,612`` and ``6,612`` for a difference of -0.018) or the difference
    prints as ``±0``: calling such a difference significant would flag noise
    nobody can see. JSON keeps the exact figures.
    """
    if diff.difference is None:
        return False
    if show_delta(key, diff.difference, diff.baseline).startswith("±"):
        return False
    return show(key, diff.baseline) != show(key, diff.value)


def _better(key: str, diff: Difference) -> str:
    """The style of a difference: green better, red worse, dim not significant or not visible."""
    if not diff.significant or diff.difference is None or not visible(key, diff):
        return "dim"
    found = metrics.metric_of_key(key)
    lower = found.lower_is_better if found is not None else None
    if lower is None:
        return "cyan"
    improved = diff.difference < 0 if lower else diff.difference > 0
    return "green" if improved else "red"


def _significance(key: str, diff: Difference, style: str) -> Text:
    """``yes``, ``no``, ``negligible`` (significant, but too small to show) or a dash."""
    if diff.significant is None:
        return Text(DASH, style="dim")
    if diff.significant and not visible(key, diff):
        return Text("negligible", style="dim")
    return Text("yes" if diff.significant else "no", style=style)


def comparison_table(comparison: Comparison) -> Table:
    """Each KPI: baseline, each change's value, the paired difference, its 95 % CI, significance.

    One row per KPI and change (the baseline shown once per KPI), so the
    table stays as wide with five changes as with one.
    """
    several = len(comparison.changes) > 1
    table = titled_table("Baseline vs changes (paired over runs, common random numbers)")
    table.add_column("")
    table.add_column("baseline", justify="right", no_wrap=True)
    if several:
        table.add_column("change")
        table.add_column("value", justify="right", no_wrap=True)
    else:
        table.add_column(next(iter(comparison.changes)), justify="right", no_wrap=True)
    table.add_column("difference", justify="right", no_wrap=True)
    table.add_column("95% CI of difference", justify="right", no_wrap=True)
    table.add_column("significant")
    for key in comparison.keys:
        base = comparison.baseline.kpis.get(key)
        base_value = base.mean if base is not None else None
        diffs = [comparison.differences[name][key] for name in comparison.changes]
        if all(not v for v in (base_value, *(d.value for d in diffs))):
            continue  # nothing to compare: no value, or zero everywhere
        for position, (name, diff) in enumerate(zip(comparison.changes, diffs, strict=True)):
            style = _better(key, diff)
            first = position == 0
            row: list[str | Text] = [
                label_of(key) if first else "",
                show(key, base_value) if first else "",
            ]
            if several:
                row.append(Text(name, style="dim"))
            row.append(show(key, diff.value))
            row.append(Text(show_delta(key, diff.difference, base_value), style=style))
            row.append(Text(interval(key, diff.ci95, delta=True, scale=base_value), style=style))
            row.append(_significance(key, diff, style))
            table.add_row(*row, end_section=several and position == len(diffs) - 1)
    return table


def comparison_goals(comparison: Comparison) -> Table | None:
    base = comparison.baseline
    if not base.goals:
        return None
    table = titled_table("Goals")
    table.add_column("goal")
    table.add_column("target")
    table.add_column("baseline", justify="right")
    for name in comparison.changes:
        table.add_column(name, justify="right")
    for index, goal in enumerate(base.goals):
        key = _goal_key(goal)
        metric = goal.metric + (f" {goal.stat}" if goal.stat else "")
        row: list[str | Text] = [f"{goal.id} ({metric})", goal.target]
        for result in (base, *comparison.changes.values()):
            found = result.goals[index] if index < len(result.goals) else None
            if found is None:
                row.append(Text(DASH, style="dim"))
                continue
            shown = show(key, found.value, like=goal.target)
            if found.ci95 is not None:
                shown += f" ({interval(key, found.ci95, like=goal.target)})"
            cell = Text(shown + " ")
            cell.append_text(_verdict(found.verdict))
            row.append(cell)
        table.add_row(*row)
    return table


def comparison_report(
    comparison: Comparison,
    *,
    source: str | None = None,
    descriptions: dict[str, str] | None = None,
) -> RenderableType:
    """The whole text report of ``procflow compare``."""
    count = len(comparison.changes)
    extra = f" · baseline and {count} change{'s' if count != 1 else ''}, same random numbers"
    parts: list[RenderableType] = [header(comparison.baseline, source, extra)]
    for name, text in (descriptions or {}).items():
        parts.append(Text.assemble(("  " + name, "bold"), (f": {printable(text)}", "dim")))
    parts += [Text(), comparison_table(comparison)]
    goals = comparison_goals(comparison)
    if goals is not None:
        parts += [Text(), goals]
    scenarios = {"baseline": comparison.baseline, **comparison.changes}
    parts += [_note(note, name) for name, result in scenarios.items() for note in result.notes]
    return Group(*parts)


def estimate_text(key: str, found: Estimate) -> str:
    """``5.5h (5.4h … 5.6h)``."""
    if found.ci95 is None:
        return show(key, found.mean)
    return f"{show(key, found.mean)} ({interval(key, found.ci95)})"


__all__ = [
    "comparison_report",
    "estimate_text",
    "kind_of",
    "label_of",
    "show",
    "show_delta",
    "simulation_report",
    "visible",
]
