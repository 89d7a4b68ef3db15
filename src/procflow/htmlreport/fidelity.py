"""The report's fidelity part: how far the simulated process is from a real event log.

With ``procflow report --log LOG`` every process is measured against the
log as ``procflow fidelity`` does (docs/fidelity.md): the two logs side by
side, every distance beside its noise floor (two random halves of the real
log) with a verdict in words, the cycle-time distributions and the events
by weekday and hour, real beside simulated (:mod:`.distplots`), and the open
cases per day of the real log and of simulated run 1 on one time axis.
"""

from __future__ import annotations

from procflow.distance.result import Fidelity, Measure, Summary
from procflow.htmlreport import elements
from procflow.htmlreport.collect import ProcessData
from procflow.htmlreport.distplots import cycle_time_plot, week_plot
from procflow.htmlreport.plots import Plot, Series, series_plot
from procflow.units import format_duration, format_percent

DASH = "—"
DAY = 86400.0


def _number(value: float | None, unit: str) -> str:
    """A distance as ``procflow fidelity`` prints it: shares as %, 0-1 to three places."""
    if value is None:
        return DASH
    if unit == "ratio":
        return format_percent(value)
    if unit == "0-1":
        return f"{value:.3f}"
    return f"{value:,.2f}"


def _unit(unit: str) -> str:
    return {"h": "hours", "ratio": "share", "0-1": "0 … 1", "cases": "cases"}.get(unit, unit)


def _measure_row(measure: Measure) -> tuple[str, ...]:
    interval = measure.estimate.ci95
    shown = DASH if interval is None else " – ".join(_number(v, measure.unit) for v in interval)
    return (
        measure.title,
        _number(measure.value, measure.unit),
        shown,
        _number(measure.noise_floor, measure.unit),
        _unit(measure.unit),
        measure.verdict,
    )


def _summary_row(name: str, summary: Summary) -> tuple[str, ...]:
    return (
        name,
        f"{summary.cases:,}",
        f"{summary.events:,.0f}",
        DASH if summary.cycle_mean is None else format_duration(summary.cycle_mean),
        DASH if summary.cycle_median is None else format_duration(summary.cycle_median),
        DASH if summary.weekend_share is None else format_percent(summary.weekend_share),
    )


def wip_plot(result: Fidelity) -> Plot:
    """Open cases per day, real and simulated run 1, from the real log's first day."""
    from datetime import UTC, datetime

    first = datetime.fromtimestamp(result.wip_origin, UTC).date().isoformat()
    return series_plot(
        [Series("real log", result.wip_real), Series("simulated, run 1", result.wip_simulated)],
        DAY,
        label=f"Work in progress per day of {result.process}, real and simulated",
        description=(
            "Mean open cases per day: the real log (filled, solid line) and the first "
            "simulated run (dashed), from the real log's first day. A case is open from the "
            "start of its first event to the end of its last."
        ),
        axis="open cases",
        origin=first,
    )


def fidelity(data: ProcessData, anchor: str) -> str:
    """The section, or a note saying why the process could not be measured; '' without a log."""
    if data.fidelity is None and data.fidelity_error is None:
        return ""
    head = f'<h3 id="{elements.esc(anchor)}-fidelity">Fidelity against the event log</h3>'
    result = data.fidelity
    if result is None:
        return head + elements.note(f"No fidelity: {data.fidelity_error}")
    parts = [
        head,
        f"<p>{elements.esc(result.log)}: {result.runs} simulated run(s) of the log's period, "
        f"seed {result.seed}. Each distance is the mean over runs with its 95% interval, "
        "beside its noise floor: the same distance between two random halves of the real log "
        f"({result.halves[0]:,} and {result.halves[1]:,} cases). Within the noise floor, the "
        "simulation is as close to the log as the log is to itself.</p>",
        elements.table(
            ("", "cases", "events", "cycle time mean", "median", "weekend events"),
            [
                _summary_row("real", result.real),
                _summary_row(f"simulated (mean of {result.runs})", result.simulated),
            ],
            numeric=(1, 2, 3, 4, 5),
        ),
        elements.table(
            ("measure", "value", "95% interval", "noise floor", "unit", "verdict"),
            [_measure_row(measure) for measure in result.measures],
            numeric=(1, 2, 3),
        ),
    ]
    if result.cycle_real and result.cycle_simulated:
        plot = cycle_time_plot(result.cycle_real, result.cycle_simulated, process=result.process)
        parts.append(elements.figure(plot, f"{anchor}-fidelity-cycle"))
    if result.circadian_real and result.circadian_simulated:
        plot = week_plot(result.circadian_real, result.circadian_simulated, process=result.process)
        parts.append(elements.figure(plot, f"{anchor}-fidelity-week"))
    if result.wip_real or result.wip_simulated:
        parts.append(elements.figure(wip_plot(result), f"{anchor}-fidelity-wip"))
    return "\n".join(parts)
