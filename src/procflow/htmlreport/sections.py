"""The parts of a process's section: diagram, findings, analysis, simulation, comparison.

Each function takes the :class:`~procflow.htmlreport.collect.ProcessData`
and returns HTML; every value from data goes through ``elements.esc`` or
``elements.table`` (which escape) and every picture through the SVG sanitizer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import PurePath
from typing import Any

from procflow.htmlreport import elements
from procflow.htmlreport.collect import ProcessData
from procflow.htmlreport.plots import (
    Bar,
    Series,
    Span,
    bar_plot,
    quantile_plot,
    series_plot,
    time_unit,
)
from procflow.htmlreport.svg import drawing_width, prefix_ids, sanitize_svg
from procflow.htmlreport.wip import WipSeries
from procflow.metrics import kpi_key
from procflow.sim import Difference
from procflow.sim.groups import group_rows
from procflow.units import format_duration, format_number, format_percent, format_rate

DASH = "—"
STATS = ("mean", "p50", "p90", "p95", "p99")


def label(key: str) -> str:
    """``cycle_time.p90`` -> ``cycle time p90``; ``utilization:tier2`` -> ``utilization tier2``."""
    text = key.replace("_", " ").replace(".", " ").replace(":", " ")
    return text.replace("wip", "WIP").replace("throughput per hour", "throughput")


def duration(seconds: float | None) -> str:
    return DASH if seconds is None else format_duration(seconds)


def percent(fraction: float | None) -> str:
    return DASH if fraction is None else format_percent(fraction)


def interval(ci: Any, show: Any) -> str:
    return DASH if ci is None or None in ci else f"{show(ci[0])} – {show(ci[1])}"


def show_kpi(key: str, value: float | None, like: str | None = None) -> str:
    """A KPI value formatted by its kind (duration, rate, percent, number); ``like`` a
    goal's target: a rate in the unit the target was written in."""
    if value is None:
        return DASH
    base = key.partition(".")[0].partition(":")[0]
    if base in ("cycle_time", "wait_time", "step_time") or key.endswith(
        (".wait_mean", ".service_mean")
    ):
        return format_duration(value)
    if base == "throughput_per_hour":
        return format_rate(value / 3600.0, like=like)
    if base in ("utilization", "rework_rate"):
        return format_percent(value)
    return format_number(value)


def diagram(data: ProcessData, anchor: str) -> str:
    head = "<h3>Diagram</h3>"
    if data.diagram is None:
        return head + elements.note(data.diagram_error or "no diagram")
    label = f"Swimlane diagram of process {data.process.id}"
    steps = ", ".join(data.process.steps)
    svg = sanitize_svg(data.diagram, label=label, description=f"Steps: {steps}")
    svg = prefix_ids(svg, f"{anchor}-diagram-")
    # fitted to the page down to 3/4 of a pixel per drawing unit (docs/report.md): a wider
    # process scrolls rather than shrinking its labels out of reading; printed, it fits
    width = drawing_width(svg)
    size = f' style="--drawing-width: {width:.0f}px"' if width is not None else ""
    figure = f'<figure class="diagram" id="{elements.esc(anchor)}-diagram" tabindex="0"{size}>'
    return (
        f"{head}{figure}{svg}"
        f'<figcaption class="meta">Lanes are owners; highlighted steps are the ones lint '
        f"or the analysis flag.</figcaption></figure>"
    )


def findings(data: ProcessData) -> str:
    head = "<h3>Lint findings</h3>"
    if not data.findings:
        return head + "<p>No findings.</p>"
    rows = [
        (f"{f.line}:{f.column}", f.code, f.name, str(f.severity), f.message) for f in data.findings
    ]
    return head + elements.table(("line:col", "code", "rule", "severity", "message"), rows)


WORKING_TIME = "working time, approximate"
"""How a calendared owner's analytic wait is labelled (``procflow analyze`` says the same)."""
WORKING_TIME_CYCLE = "approximate (working time, waits while on duty)"
"""The expected cycle time's label when an owner has a calendar, as ``procflow analyze`` has it."""


def working_time_note(owners: tuple[str, ...]) -> str:
    """The note under a calendared process's analysis, worded as ``procflow analyze`` words it."""
    return (
        f"Working time ({', '.join(owners)}): utilization is the weekly load over units × "
        "on-duty share, waits are approximate and in working time (docs/working-time.md); "
        "the simulation below gives elapsed cycle times."
    )


def analysis(data: ProcessData) -> str:
    head = "<h3>Analysis (queueing model)</h3>"
    a = data.analysis
    if a is None:
        return head + elements.note(f"No analysis: {data.analysis_error}")
    calendared = set(data.working_time)

    def wait(owner: str | None, seconds: float | None) -> str:
        shown = duration(seconds)
        return f"{shown} ({WORKING_TIME})" if owner in calendared and seconds is not None else shown

    cycle = a["cycle_time"]
    expected = duration(cycle["expected"])
    if calendared and cycle["expected"] is not None:
        expected += f", {WORKING_TIME_CYCLE}"
    facts = [
        ("expected cycle time", expected),
        ("fastest path at mean durations", duration(cycle["minimum"])),
        ("bottleneck", a["bottleneck"] or "none"),
        ("throughput", show_kpi("throughput_per_hour", a["throughput_per_hour"])),
        ("expected WIP", DASH if a["wip"] is None else format_number(a["wip"])),
        ("rework rate", percent(a["rework_rate"])),
        ("stable", "yes" if a["stable"] else "no: some owner is at or above 100%"),
    ]
    routing = a.get("routing", {})
    if routing.get("shared_bounds") or routing.get("dropped_bounds"):  # else: exact, unrolled
        kind = "exact" if routing.get("exact") else "approximate"
        facts.append(("visits", f"{kind} ({routing.get('method')}): {routing.get('note') or ''}"))
    owners = [
        (
            owner_id,
            DASH if o["capacity"] is None else o["capacity"],
            "external" if o["external"] else percent(o["utilization"]),
            wait(owner_id, o["wait_mean"]),
            "yes" if owner_id == a["bottleneck"] else "",
        )
        for owner_id, o in a["owners"].items()
    ]
    steps = [
        (
            step_id,
            s["owner"] or DASH,
            format_number(s["visits"]),
            duration(s["service_mean"]),
            wait(s["owner"], s["wait_mean"]),
        )
        for step_id, s in a["steps"].items()
        if not s["end"]
    ]
    notes = elements.note(working_time_note(data.working_time)) if calendared else ""
    return (
        head
        + elements.table(("figure", "value"), facts)
        + notes
        + "<h4>Owners</h4>"
        + elements.table(
            ("owner", "capacity", "utilization", "mean wait", "bottleneck"),
            owners,
            numeric=(1, 2, 3),
        )
        + "<h4>Steps</h4>"
        + elements.table(
            ("step", "owner", "visits per case", "mean duration", "mean wait"),
            steps,
            numeric=(2, 3, 4),
        )
    )


def _goal_lines(data: ProcessData, metric: str) -> list[tuple[float, str]]:
    lines = []
    for goal in data.process.goals:
        if (
            goal.metric_name == metric
            and goal.target is not None
            and goal.target.kind == "duration"
        ):
            lines.append(
                (goal.target.value, f"goal {goal.id}: {goal.stat or 'mean'} {goal.target}")
            )
    return lines


def _mpl(text: str) -> str:
    """Text for matplotlib: ``$`` would start mathtext."""
    return text.replace("$", r"\$")


def _cycle_plot(data: ProcessData) -> Any:
    result = data.simulation
    assert result is not None
    points = [
        Bar(stat, result[f"cycle_time.{stat}"].mean, result[f"cycle_time.{stat}"].ci95)
        for stat in STATS
    ]
    runs = [[run.get(f"cycle_time.{stat}") for run in result.per_run] for stat in STATS]
    lines = [(value, _mpl(text)) for value, text in _goal_lines(data, "cycle_time")]
    return quantile_plot(
        points,
        runs,
        label=f"Cycle-time distribution of {data.process.id}",
        description=(
            "The distribution of cycle time as its mean and quantiles (p50 to p99): each run's "
            "value as an open circle, the mean over runs as a square with its 95% interval; "
            "dashed lines are the cycle-time goals."
        ),
        lines=lines,
        show=duration,
    )


def _utilization_plot(data: ProcessData) -> Any:
    result = data.simulation
    assert result is not None
    analytic = (data.analysis or {}).get("owners", {})
    bars = [
        Bar(
            _mpl(owner_id),
            o.utilization.mean,
            o.utilization.ci95,
            analytic.get(owner_id, {}).get("utilization"),
        )
        for owner_id, o in result.owners.items()
        if not o.external
    ]
    return bar_plot(
        bars,
        label=f"Utilization per owner of {data.process.id}",
        description=(
            "Simulated utilization of each staffed owner (hatched bar, with its 95% interval) "
            "and the queueing model's figure (diamond); the dashed line is 100%."
        ),
        axis="utilization (%)",
        scale=0.01,
        value_name="simulated",
        reference_name="analytic",
        lines=[(1.0, "100% (saturated)")],
        show=percent,
    )


def _waiting_plot(data: ProcessData) -> Any:
    result = data.simulation
    assert result is not None
    analytic = (data.analysis or {}).get("steps", {})
    bars = [
        Bar(
            _mpl(step_id),
            s.wait_mean.mean,
            s.wait_mean.ci95,
            analytic.get(step_id, {}).get("wait_mean"),
        )
        for step_id, s in result.steps.items()
        if s.wait_mean.mean is not None
    ]
    largest = max(
        [b.ci95[1] for b in bars if b.ci95]
        + [b.reference or 0.0 for b in bars]
        + [b.value or 0.0 for b in bars]
        + [0.0]
    )
    scale, unit = time_unit(largest)
    return bar_plot(
        bars,
        label=f"Waiting per step of {data.process.id}",
        description=(
            "Mean wait per visit before each step starts (hatched bar, with its 95% interval) "
            "and the queueing model's estimate (diamond)."
        ),
        axis=f"mean wait per visit ({unit})",
        scale=scale,
        value_name="simulated",
        reference_name="analytic",
        show=duration,
    )


NO_WAIT = (
    "No waiting to plot: no step's mean wait per visit reaches a second, simulated or analytic."
)


def _waits(data: ProcessData) -> bool:
    """Whether some step waits a second or more on average (else the plot would be empty)."""
    result = data.simulation
    assert result is not None
    analytic = (data.analysis or {}).get("steps", {})
    simulated = [s.wait_mean.mean or 0.0 for s in result.steps.values()]
    estimated = [s.get("wait_mean") or 0.0 for s in analytic.values()]
    return max([*simulated, *estimated, 0.0]) >= 1.0


WIP_NOTE = "No work in progress over time: no case of run 1 finished."
STYLES = ("Dashed", "Dotted")
"""How :func:`~procflow.htmlreport.plots.series_plot` draws its first and second line."""


def _wip_description(series: WipSeries, spans: list[Span], lines: list[tuple[float, str]]) -> str:
    """What the WIP plot shows, in words (its text alternative with the data table)."""
    parts = [
        f"Cases open in run 1 ({series.cases:,} cases), as the mean per "
        f"{format_duration(series.width)} bin: a case is open from the start of its first step "
        "to the end of its last (its wait before the first step is not counted)."
    ]
    if spans:
        parts.append(f"Hatched: {' and '.join(span.name for span in spans)} (not in the KPIs).")
    parts.extend(f"{style} line: {text}." for style, (_, text) in zip(STYLES, lines, strict=False))
    return " ".join(parts)


def _wip_plot(data: ProcessData) -> Any:
    """Open cases over run 1, its warm-up and drain hatched, beside the WIP the page reports."""
    series, result = data.wip, data.simulation
    assert series is not None
    assert result is not None
    spans = []
    if series.warmup_end is not None:
        spans.append(Span(0.0, series.warmup_end, f"warm-up ({result.warmup:,} cases)", "//"))
    if series.arrivals_end < series.span:
        spans.append(Span(series.arrivals_end, series.span, "after the last arrival", "\\\\"))
    lines = []
    simulated = result["wip"].mean if "wip" in result.kpis else None
    if simulated is not None:
        lines.append((simulated, f"time-average WIP over runs: {format_number(simulated)}"))
    analytic = (data.analysis or {}).get("wip")
    if analytic is not None:
        # with calendars the model's cycle time is working time: its WIP is not the
        # elapsed one the run plots, and says so (as the analysis table does)
        model = f"Little's law, {WORKING_TIME}" if data.working_time else "Little's law"
        lines.append((analytic, f"queueing model ({model}): {format_number(analytic)}"))
    return series_plot(
        [Series("open cases", series.values)],
        series.width,
        label=f"Work in progress over time of {data.process.id}",
        description=_wip_description(series, spans, lines),
        axis="open cases",
        spans=spans,
        lines=lines,
    )


def simulation(data: ProcessData, anchor: str) -> str:
    head = "<h3>Simulation</h3>"
    result = data.simulation
    if result is None:
        return head + elements.note(f"No simulation: {data.simulation_error}")
    keys = [
        "cycle_time.mean",
        "cycle_time.p90",
        "wait_time.mean",
        "throughput_per_hour",
        "wip",
        "rework_rate",
        "cost_per_case",
    ]
    rows = [
        (
            label(key),
            show_kpi(key, result[key].mean),
            interval(result[key].ci95, shower(key)),
        )
        for key in keys
        if key in result.kpis and result[key].mean is not None
    ]
    parts = [head, elements.table(("KPI", "mean over runs", "95% interval"), rows, numeric=(1, 2))]
    parts.extend(elements.note(text) for text in result.notes)
    parts.append(elements.figure(_cycle_plot(data), f"{anchor}-cycle"))
    parts.append(elements.figure(_utilization_plot(data), f"{anchor}-utilization"))
    if _waits(data):
        parts.append(elements.figure(_waiting_plot(data), f"{anchor}-waiting"))
    else:
        parts.append(elements.note(NO_WAIT))
    if data.wip is not None:
        parts.append(elements.figure(_wip_plot(data), f"{anchor}-wip"))
    else:
        parts.append(f'<div id="{elements.esc(anchor)}-wip">{elements.note(WIP_NOTE)}</div>')
    parts.extend(groups(data))
    parts.append(goals(data))
    return "\n".join(parts)


def groups(data: ProcessData) -> list[str]:
    """KPIs per priority class and per outcome (docs/attributes.md), when the process has them."""
    result = data.simulation
    if result is None or result.groups is None:
        return []
    classes, outcomes = result.groups
    parts: list[str] = []
    for title, listed in (("By priority class", classes), ("By outcome (end step)", outcomes)):
        if not listed:
            continue
        rows = [
            (
                row.label,
                percent(row.share),
                duration(row.cycle_mean),
                interval(row.cycle_ci95, duration),
                duration(row.cycle_p90),
                duration(row.wait_mean),
            )
            for row in group_rows(result.kpis, listed)
        ]
        headers = ("", "share", "cycle time", "95% interval", "p90", "waiting")
        parts.append(f"<h4>{title}</h4>" + elements.table(headers, rows, numeric=(1, 2, 3, 4, 5)))
    return parts


def _verdict(met: bool | None) -> str:
    if met is None:
        return '<span class="verdict-unknown">cannot be measured</span>'
    if met:
        return '<span class="verdict-met">met</span>'
    return '<span class="verdict-missed">not met</span>'


def goals(data: ProcessData) -> str:
    result = data.simulation
    head = "<h3>Goals</h3>"
    if result is None or not result.goals:
        return head + "<p>The process declares no measurable goal.</p>"
    rows = []
    for goal in result.goals:
        key = goal.metric if goal.stat is None else f"{goal.metric}.{goal.stat}"
        name, _, argument = goal.metric.partition(":")
        show = shower(kpi_key(name, argument or None, goal.stat) or key, goal.target)
        reason = f" ({goal.reason})" if goal.reason else ""
        rows.append(
            "<tr>"
            f"<td>{elements.esc(goal.id)}</td><td>{elements.esc(key)}</td>"
            f"<td>{elements.esc(goal.target)}</td>"
            f'<td class="num">{elements.esc(show(goal.value))}</td>'
            f'<td class="num">{elements.esc(interval(goal.ci95, show))}</td>'
            f"<td>{_verdict(goal.met)}{elements.esc(reason)}</td>"
            "</tr>"
        )
    heads = "".join(
        f'<th scope="col">{h}</th>'
        for h in ("goal", "metric", "target", "simulated", "95% interval", "verdict")
    )
    return f"{head}<table><thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def shower(key: str, like: str | None = None) -> Callable[[float | None], str]:
    """The formatter of KPI ``key``'s values (of a goal's, ``like`` its target)."""
    return partial(show_kpi, key, like=like)


def _points(value: float | None) -> str:
    """A difference of shares in percentage points: ``-10.8 pt``."""
    return DASH if value is None else f"{value * 100:+.1f} pt"


def _difference_row(key: str, d: Difference) -> tuple[str, ...]:
    """One KPI of a comparison: baseline, changed, difference, interval, significance."""
    if key.startswith(("utilization", "rework_rate")):
        show_difference = _points
    else:

        def show_difference(value: float | None) -> str:
            text = show_kpi(key, value)
            return "+" + text if value is not None and value > 0 else text

    return (
        label(key),
        show_kpi(key, d.baseline),
        show_kpi(key, d.value),
        show_difference(d.difference),
        interval(d.ci95, show_difference),
        "yes" if d.significant else "no",
    )


def comparison(data: ProcessData, anchor: str) -> str:
    if data.comparison is None and data.comparison_error is None:
        return ""
    head = f'<h3 id="{elements.esc(anchor)}-compare">Comparison with changes</h3>'
    if data.comparison is None:
        return head + elements.note(f"No comparison: {data.comparison_error}")
    parts = [
        head,
        "<p>Every change simulated on the same random numbers as the baseline; "
        "a difference is significant when its paired 95% interval excludes 0.</p>",
    ]
    for name, diffs in data.comparison.differences.items():
        rows = [_difference_row(key, d) for key, d in diffs.items()]
        met = data.comparison.changes[name].goals_met
        parts.append(f"<h4>{elements.esc(name)}</h4>")
        parts.append(
            elements.table(
                ("KPI", "baseline", "with the change", "difference", "95% interval", "significant"),
                rows,
                numeric=(1, 2, 3, 4),
            )
        )
        parts.append(f"<p>Goals with this change: {_verdict(met)}</p>")
    parts.append(elements.figure(_scenario_plot(data), f"{anchor}-scenarios"))
    return "\n".join(parts)


def _scenario_plot(data: ProcessData) -> Any:
    """Cycle time of the baseline and of each change: mean with its interval, and p90."""
    assert data.comparison is not None
    scenarios = {"baseline": data.comparison.baseline, **data.comparison.changes}
    bars = [
        Bar(
            _mpl(PurePath(name).stem if name.endswith((".yaml", ".yml")) else name),
            r["cycle_time.mean"].mean,
            r["cycle_time.mean"].ci95,
            r["cycle_time.p90"].mean,
        )
        for name, r in scenarios.items()
    ]
    lines = [(value, _mpl(text)) for value, text in _goal_lines(data, "cycle_time")]
    largest = max(
        [b.reference or 0.0 for b in bars]
        + [b.ci95[1] for b in bars if b.ci95]
        + [v for v, _ in lines]
        + [0.0]
    )
    scale, unit = time_unit(largest)
    return bar_plot(
        bars,
        label=f"Cycle time by scenario of {data.process.id}",
        description=(
            "Mean cycle time of the baseline and of each change (hatched bar, with its 95% "
            "interval) and its 90th percentile (diamond); dashed lines are the cycle-time goals."
        ),
        axis=f"cycle time ({unit})",
        scale=scale,
        value_name="mean",
        reference_name="p90",
        lines=lines,
        show=duration,
    )
