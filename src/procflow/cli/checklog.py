"""``procflow check-log PATH LOG``: hold a real event log against the declared process.

Text output: what was read (format, columns, events, cases, period, whether
the log has start times); conformance -- the share of cases the process
allows and the first deviation of the others, grouped and counted; then the
measured performance next to what the process declares: per step, per
transition (observed share vs declared ``p``), per owner, the declared
durations the data contradict, the bottleneck, rework, cycle time and
arrivals. ``--format json`` carries every number (times in seconds).

Exit codes: 0 when the log was checked; 1 when ``--min-conformance`` is
given and the share of conforming cases is below it; 2 when the process is
not valid, the log cannot be read (the message names the file and line),
or an option is wrong.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from procflow.cli.console import make_console
from procflow.errors import ConfigError
from procflow.eventlog.calibrate import rate_text
from procflow.eventlog.columns import Columns
from procflow.eventlog.conformance import LogReport, check_log
from procflow.eventlog.reader import EventLog, read_log
from procflow.eventlog.timestamps import to_datetime
from procflow.loader import display_name, load
from procflow.units import format_duration, format_number

_DASH = "-"


# --------------------------------------------------------------------------
# options shared with calibrate


def log_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options that say how to read a log (columns, delimiter, time format, sorting)."""
    options = [
        click.option("--case-column", metavar="NAME", help="Column of the case id."),
        click.option(
            "--activity-column", metavar="NAME", help="Column of the activity (the step)."
        ),
        click.option("--start-column", metavar="NAME", help="Column of the start timestamp."),
        click.option(
            "--end-column",
            "--timestamp-column",
            "end_column",
            metavar="NAME",
            help="Column of the end (or only) timestamp.",
        ),
        click.option("--resource-column", metavar="NAME", help="Column of who did the work."),
        click.option(
            "--lifecycle-column",
            metavar="NAME",
            help="Column of lifecycle transitions (start/complete rows are paired).",
        ),
        click.option(
            "--delimiter", metavar="CHAR", help="CSV field delimiter [default: detected]."
        ),
        click.option(
            "--time-format",
            metavar="FORMAT",
            help="strptime format of the timestamps, e.g. '%d-%m-%Y %H:%M' "
            "[default: ISO 8601 or seconds].",
        ),
        click.option(
            "--log-format",
            type=click.Choice(["csv", "xes"]),
            default=None,
            help="Format of LOG [default: from the file name, else its content].",
        ),
        click.option(
            "--sort",
            is_flag=True,
            help="Sort each case's events by time first (holds the whole log in memory; "
            "without it the log is streamed and must be in time order within each case).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def open_log(log_path: str, options: dict[str, Any]) -> EventLog:
    """Open LOG as the shared options say."""
    delimiter = options.get("delimiter")
    if delimiter is not None:
        delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1:
            raise ConfigError(f"--delimiter must be one character, got {delimiter!r}")
    columns = Columns(
        case=options.get("case_column"),
        activity=options.get("activity_column"),
        start=options.get("start_column"),
        end=options.get("end_column"),
        resource=options.get("resource_column"),
        lifecycle=options.get("lifecycle_column"),
    )
    return read_log(
        log_path,
        columns=columns,
        format=options.get("log_format"),
        delimiter=delimiter,
        time_format=options.get("time_format"),
        sort=bool(options.get("sort")),
    )


def finite(value: Any) -> Any:
    """The same data with every NaN or infinite number as ``null``: JSON has no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def parse_share(value: str, option: str) -> float:
    """``0.9``, ``90%`` -> 0.9; a ConfigError for anything outside [0, 1]."""
    text = value.strip()
    try:
        share = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        raise ConfigError(f"{option} must be a share such as 0.9 or 90%, got {value!r}") from None
    if not 0.0 <= share <= 1.0 or math.isnan(share):
        raise ConfigError(f"{option} must be between 0 and 1 (or 0% and 100%), got {value!r}")
    return share


# --------------------------------------------------------------------------
# text rendering


def _percent(value: float | None, decimals: int = 1) -> str:
    if value is None or math.isnan(value):
        return _DASH
    shown = f"{value * 100.0:.{decimals}f}"
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    return f"{shown}%"


def _duration(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _DASH
    return format_duration(value, 4 if abs(value) >= 100 * 86400 else 3)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", title_style="bold", box=None, padding=(0, 1))


def _date(seconds: float) -> str:
    try:
        return to_datetime(seconds).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return _DASH


def header(report: LogReport, path: str, log_path: str) -> Text:
    m = report.measurements
    text = Text()
    text.append(report.process.id, style="bold")
    text.append(f"  {path}  ←  {log_path}", style="dim")
    facts = [
        report.log_format,
        f"{m.events:,} events",
        f"{m.cases:,} cases",
    ]
    if m.events:
        facts.append(f"{_date(m.first_time)} → {_date(m.last_time)}")
    text.append("\n" + " · ".join(facts), style="dim")
    if report.timing == "complete-only":
        text.append(
            "\ncompletion times only: a step's time is measured from the previous "
            "completion in the case, so it includes waiting",
            style="dim",
        )
    else:
        text.append("\nstart and end times: service and waiting are measured apart", style="dim")
    if report.columns:
        used = "  ".join(f"{role}={name}" for role, name in report.columns.items() if name)
        text.append(f"\ncolumns: {used}", style="dim")
    return text


def conformance_part(report: LogReport, top: int) -> list[Table | Text]:
    m = report.measurements
    line = Text()
    line.append("Conformance  ", style="bold")
    share = report.conformance
    style = "ok" if share >= 0.9 else ("warning" if share >= 0.6 else "error")
    line.append(f"{m.conforming:,} of {m.cases:,} cases ({_percent(share)})", style=style)
    line.append(" follow the process")
    parts: list[Table | Text] = [line]
    if not report.deviations:
        return parts
    table = Table(box=None, padding=(0, 1), show_header=True)
    table.add_column("cases", justify="right")
    table.add_column("share", justify="right")
    table.add_column("kind")
    table.add_column("first deviation")
    table.add_column("example")
    for deviation in report.deviations[:top]:
        table.add_row(
            f"{deviation.cases:,}",
            _percent(deviation.cases / m.cases if m.cases else None),
            deviation.kind,
            deviation.message,
            Text(deviation.example, style="dim"),
        )
    rest = report.deviations[top:]
    if rest:
        table.add_row(
            f"{sum(d.cases for d in rest):,}",
            "",
            "",
            Text(f"... {len(rest)} more kinds (--top, or --format json)", style="dim"),
            "",
        )
    parts.append(table)
    unknown = m.unknown_activities
    if unknown:
        shown = ", ".join(f"{escape(name)!r} ({count})" for name, count in unknown.most_common(5))
        more = f", ... {len(unknown) - 5} more" if len(unknown) > 5 else ""
        parts.append(Text(f"unknown activities: {shown}{more}", style="warning"))
    return parts


def steps_table(report: LogReport) -> Table:
    m = report.measurements
    service = report.timing == "start-end"
    shares = report.step_time_shares()
    bottleneck = report.bottleneck_step
    table = _table("Steps")
    table.add_column("step")
    table.add_column("owner")
    table.add_column("events", justify="right")
    table.add_column("per case", justify="right")
    table.add_column("declared mean", justify="right")
    if service:
        table.add_column("service", justify="right")
        table.add_column("wait", justify="right")
    else:
        table.add_column("step time", justify="right")
    table.add_column("p50", justify="right")
    table.add_column("p90", justify="right")
    table.add_column("share of time", justify="right")
    for step_id, measure in m.steps.items():
        step = report.process.steps[step_id]
        if step.end:
            continue
        name = Text(step_id)
        if step_id == bottleneck:
            name.append(" ◀ bottleneck", style="bottleneck")
        declared = _duration(step.duration.mean) if step.duration is not None else _DASH
        per_case = format_number(measure.visits / m.cases, 3) if m.cases else _DASH
        sample = measure.service if service else measure.elapsed
        row: list[str | Text] = [
            name,
            step.owner or _DASH,
            f"{measure.visits:,}",
            per_case,
            declared,
            _duration(sample.mean) if sample.n else _DASH,
        ]
        if service:
            row.append(_duration(measure.wait.mean) if measure.wait.n else _DASH)
        row += [
            _duration(sample.quantile(0.5)) if sample.n else _DASH,
            _duration(sample.quantile(0.9)) if sample.n else _DASH,
            _percent(shares.get(step_id, 0.0)),
        ]
        table.add_row(*row)
    return table


def transitions_table(report: LogReport) -> Table:
    table = _table("Branching (observed share of departures vs declared p)")
    for column in ("from", "trigger", "to", "declared", "observed", "share", "99% interval", ""):
        table.add_column(column, justify="right" if column in ("observed",) else "left")
    for check in report.branches:
        edge = check.edge
        declared = format_number(check.declared, 3)
        if edge.p is None:
            declared += " (equal)"
        verdict = Text("ok", style="ok") if check.consistent else Text("differs", style="warning")
        if check.departures == 0:
            verdict = Text("no data", style="dim")
        to = edge.target + (" ↺" if edge.feedback else "")
        table.add_row(
            edge.source,
            edge.trigger,
            to,
            declared,
            f"{check.observed:,}/{check.departures:,}",
            _percent(check.share),
            f"{_percent(check.low)} – {_percent(check.high)}",
            verdict,
        )
    return table


def owners_table(report: LogReport) -> Table:
    measured = report.timing == "start-end"
    bottleneck = report.bottleneck_owner
    table = _table("Owners (declared) and the resources the log shows")
    table.add_column("owner")
    table.add_column("capacity", justify="right")
    table.add_column("events", justify="right")
    table.add_column("resources", justify="right")
    table.add_column("top resources")
    if measured:
        table.add_column("busy", justify="right")
        table.add_column("utilization", justify="right")
    for owner in report.owners:
        name = Text(owner.owner)
        if owner.owner == bottleneck:
            name.append(" ◀ bottleneck", style="bottleneck")
        capacity = (
            "external" if owner.external else (str(owner.capacity) if owner.capacity else _DASH)
        )
        top = ", ".join(f"{r} ({n:,})" for r, n in owner.top) or _DASH
        row: list[str | Text] = [
            name,
            capacity,
            f"{owner.events:,}",
            f"{owner.resources:,}",
            top,
        ]
        if measured:
            row.append(_duration(owner.busy))
            row.append(_percent(owner.utilization))
        table.add_row(*row)
    return table


def durations_part(report: LogReport) -> list[Table | Text]:
    contradicted = [d for d in report.durations if d.verdict == "contradicted"]
    title = Text("Declared durations the log contradicts", style="bold")
    if not contradicted:
        checked = sum(1 for d in report.durations if d.verdict != "too-few")
        return [
            title,
            Text(
                f"  none ({checked} checked; fewer than 30 observations are not judged)",
                style="ok",
            ),
        ]
    table = Table(box=None, padding=(0, 1))
    for column in ("step", "declared", "declared mean", "observed mean", "n", "measured"):
        table.add_column(column, justify="right" if "mean" in column or column == "n" else "left")
    for check in contradicted:
        observed = f"{_duration(check.observed_mean)} ± {_duration(3.29 * check.standard_error)}"
        table.add_row(
            check.step,
            check.declared,
            _duration(check.declared_mean),
            observed,
            f"{check.n:,}",
            "service" if check.kind == "service" else "step time (with waiting)",
        )
    return [title, table]


def summary_lines(report: LogReport) -> Text:
    m = report.measurements
    text = Text()
    step = report.bottleneck_step
    text.append("Bottleneck  ", style="bold")
    if step is not None:
        shares = report.step_time_shares()
        text.append(step, style="bottleneck")
        text.append(
            f": {_percent(shares[step])} of the time inside cases passes before it completes"
        )
    else:
        text.append(_DASH)
    owner = report.bottleneck_owner
    if owner is not None:
        load = next(o for o in report.owners if o.owner == owner)
        text.append(f"; busiest owner {owner} at {_percent(load.utilization)} observed utilization")
    cycle = m.cycle_time
    text.append("\nCycle time  ", style="bold")
    if cycle.n:
        text.append(
            f"mean {_duration(cycle.mean)}, p50 {_duration(cycle.quantile(0.5))}, "
            f"p90 {_duration(cycle.quantile(0.9))} (first to last event of a case)"
        )
    text.append("\nRework      ", style="bold")
    text.append(
        f"{_percent(report.rework_rate)} of cases took a feedback edge ({m.rework_cases:,})"
    )
    expected = report.expected_rework_rate
    if expected is not None:
        text.append(f"; the declared routing implies {_percent(expected)}")
    text.append("\nArrivals    ", style="bold")
    rate = report.arrival_rate
    declared = report.process.arrivals
    text.append(f"observed {rate_text(rate) if rate else _DASH}")
    if declared is not None:
        text.append(f", declared {rate_text(declared.rate_per_second)}")
    return text


def notes(report: LogReport) -> list[str]:
    m = report.measurements
    lines = []
    if m.overlaps:
        lines.append(
            f"{m.overlaps:,} events started before the previous event of their case ended "
            "(parallel work); their waiting time counts as 0"
        )
    if report.unpaired_starts:
        lines.append(f"{report.unpaired_starts:,} lifecycle 'start' events never completed")
    if report.skipped:
        lines.append(f"{report.skipped:,} lifecycle events other than start/complete were skipped")
    return lines


def print_report(report: LogReport, console: Console, path: str, log_path: str, top: int) -> None:
    parts: list[Table | Text] = [header(report, path, log_path), Text()]
    parts += conformance_part(report, top)
    parts += [Text(), steps_table(report)]
    if report.branches:
        parts += [Text(), transitions_table(report)]
    parts += [Text(), owners_table(report), Text()]
    parts += durations_part(report)
    parts += [Text(), summary_lines(report)]
    with console.capture() as captured:
        console.print(Group(*parts))
        for line in notes(report):
            console.print(f"[dim]note:[/dim] {escape(line)}")
    console.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
    console.file.flush()


@click.command("check-log")
@click.argument("path", metavar="PATH")
@click.argument("log_path", metavar="LOG")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: tables to read; json: every number (times in seconds).",
)
@click.option(
    "--min-conformance",
    metavar="SHARE",
    help="Exit 1 when fewer cases than this conform (0.9 or 90%).",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Deviation groups shown in text output.",
)
@log_options
def check_log_command(
    path: str,
    log_path: str,
    output_format: str,
    min_conformance: str | None,
    top: int,
    **options: Any,
) -> int:
    """Check an event log (CSV or XES) against a process: conformance and performance.

    PATH is a process file ('-' for standard input); LOG an event log whose
    activities name the steps (by `activity:`, else `title:`, else the step id).

    \b
    Examples:
      procflow check-log processes/receipt.yaml receipt.csv
      procflow check-log p.yaml events.xes --format json
      procflow check-log p.yaml log.csv --case-column ticket --timestamp-column closed_at
    """
    threshold = parse_share(min_conformance, "--min-conformance") if min_conformance else None
    process = load(path)
    log = open_log(log_path, options)
    report = check_log(process, log)
    if output_format == "json":
        document = {**report.to_dict(), "file": display_name(path)}
        if threshold is not None:
            document["min_conformance"] = threshold
        sys.stdout.write(json.dumps(finite(document), indent=2, allow_nan=False) + "\n")
        sys.stdout.flush()
    else:
        print_report(report, make_console(), display_name(path), log_path, top)
    if threshold is not None and not report.conformance >= threshold:
        if output_format == "text":
            make_console(stderr=True).print(
                f"[error]conformance {_percent(report.conformance)} is below "
                f"--min-conformance {_percent(threshold)}[/error]"
            )
        return 1
    return 0


commands = [check_log_command]
