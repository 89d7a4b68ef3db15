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

import math
from typing import Any

import click
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from procflow.cli.console import (
    DASH,
    DataTable,
    literal,
    make_console,
    percent,
    print_trimmed,
    safe,
    titled_table,
    write_json,
)
from procflow.cli.params import (
    format_option,
    log_argument,
    log_layout,
    log_options,
    open_log,
    parse_share,
    process_argument,
)
from procflow.eventlog.calibrate import rate_text
from procflow.eventlog.conformance import LogReport, check_log
from procflow.eventlog.rules import RuleReport, check_rules, read_attributes
from procflow.eventlog.timestamps import to_datetime
from procflow.eventlog.workhours import DAY_NAMES
from procflow.loader import display_name, load
from procflow.safetext import printable
from procflow.units import format_duration, format_number

# --------------------------------------------------------------------------
# text rendering


WORKING_MARK = "⏱ "
"""Marks a figure measured in working time (an owner with a calendar or shifts)."""


def _duration(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    return format_duration(value, 4 if abs(value) >= 100 * 86400 else 3)


def _date(seconds: float) -> str:
    try:
        return to_datetime(seconds).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return DASH


def header(report: LogReport, path: str, log_path: str) -> Text:
    m = report.measurements
    text = Text()
    text.append(report.process.id, style="bold")
    text.append(f"  {printable(path)}  ←  {printable(log_path)}", style="dim")
    facts = [
        report.log_format,
        f"{m.events:,} events",
        f"{m.cases:,} cases",
    ]
    if m.events:
        facts.append(f"{_date(m.first_time)} → {_date(m.last_time)}")
    text.append("\n" + " · ".join(facts), style="dim")
    if report.timing == "complete-only":
        where = "in its branch" if m.index.compiled.has_forks else "in the case"
        text.append(
            "\ncompletion times only: a step's time is measured from the previous "
            f"completion {where}, so it includes waiting",
            style="dim",
        )
    else:
        text.append("\nstart and end times: service and waiting are measured apart", style="dim")
    if report.columns:
        used = "  ".join(
            f"{role}={printable(name)}" for role, name in report.columns.items() if name
        )
        text.append(f"\ncolumns: {used}", style="dim")
    return text


def conformance_part(report: LogReport, top: int) -> list[Table | Text]:
    m = report.measurements
    line = Text()
    line.append("Conformance  ", style="bold")
    share = report.conformance
    style = "ok" if share >= 0.9 else ("warning" if share >= 0.6 else "error")
    line.append(f"{m.conforming:,} of {m.cases:,} cases ({percent(share)})", style=style)
    line.append(" follow the process")
    parts: list[Table | Text] = [line]
    if not report.deviations:
        return parts
    table = DataTable(box=None, padding=(0, 1), show_header=True)
    table.add_column("cases", justify="right")
    table.add_column("share", justify="right")
    table.add_column("kind")
    table.add_column("first deviation")
    table.add_column("example")
    for deviation in report.deviations[:top]:
        table.add_row(
            f"{deviation.cases:,}",
            percent(deviation.cases / m.cases if m.cases else None),
            deviation.kind,
            deviation.message,
            literal(deviation.example, style="dim"),
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
        shown = ", ".join(f"{name!r} ({count})" for name, count in unknown.most_common(5))
        more = f", ... {len(unknown) - 5} more" if len(unknown) > 5 else ""
        parts.append(literal(f"unknown activities: {shown}{more}", style="warning"))
    return parts


def stepstitled_table(report: LogReport) -> Table:
    m = report.measurements
    service = report.timing == "start-end"
    shares = report.step_time_shares()
    bottleneck = report.bottleneck_step
    table = titled_table("Steps")
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
        declared = _duration(step.duration.mean) if step.duration is not None else DASH
        per_case = format_number(measure.visits / m.cases, 3) if m.cases else DASH
        sample = measure.service if service else measure.elapsed
        mean = _duration(sample.mean) if sample.n else DASH
        if service and step_id in report.working_service:  # working time, marked
            sample = report.working_service[step_id]
            mean = f"{WORKING_MARK}{_duration(sample.mean)}"
        row: list[str | Text] = [
            name,
            step.owner or DASH,
            f"{measure.visits:,}",
            per_case,
            declared,
            mean,
        ]
        if service:
            row.append(_duration(measure.wait.mean) if measure.wait.n else DASH)
        row += [
            _duration(sample.quantile(0.5)) if sample.n else DASH,
            _duration(sample.quantile(0.9)) if sample.n else DASH,
            percent(shares.get(step_id, 0.0)),
        ]
        table.add_row(*row)
    if service and report.working_service:
        table.caption = (
            f"{WORKING_MARK}service (mean, p50, p90) in working time: the open hours of the "
            "owner's calendar between start and end (docs/working-time.md); waits are elapsed"
        )
        table.caption_justify = "left"
    return table


def transitionstitled_table(report: LogReport) -> Table:
    table = titled_table("Branching (observed share of departures vs declared p)")
    if any(check.bounded_step for check in report.branches):
        table.caption = "at a step with a max, only departures with every transition available"
        table.caption_justify = "left"
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
        to = edge.to + (" ↺" if edge.feedback else "")
        table.add_row(
            check.source,
            edge.trigger,
            to,
            declared,
            f"{check.observed:,}/{check.departures:,}",
            percent(check.share),
            f"{percent(check.low)} – {percent(check.high)}",
            verdict,
        )
    return table


def ownerstitled_table(report: LogReport) -> Table:
    measured = report.timing == "start-end"
    bottleneck = report.bottleneck_owner
    table = titled_table("Owners (declared) and the resources the log shows")
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
            "external" if owner.external else (str(owner.capacity) if owner.capacity else DASH)
        )
        top = ", ".join(f"{printable(r)} ({n:,})" for r, n in owner.top) or DASH
        row: list[str | Text] = [
            name,
            capacity,
            f"{owner.events:,}",
            f"{owner.resources:,}",
            top,
        ]
        if measured:
            mark = WORKING_MARK if owner.on_duty is not None else ""
            row.append(f"{mark}{_duration(owner.busy)}")
            row.append(f"{mark}{percent(owner.utilization)}")
        table.add_row(*row)
    if measured and any(owner.on_duty is not None for owner in report.owners):
        table.caption = (
            f"{WORKING_MARK}busy in working time, utilization over on-duty time (units x "
            "open hours of the calendar or shifts in the log's period); others: elapsed "
            "busy time over capacity x period"
        )
        table.caption_justify = "left"
    return table


#: An owner with more of its events outside its declared hours gets a note.
OUTSIDE_NOTE = 0.05


def working_part(report: LogReport) -> list[Table | Text]:
    """When the events happen, against the owners' calendars (docs/working-time.md)."""
    working = report.working
    if working is None:
        return []
    shares = working.weekday_shares()
    days = " · ".join(
        f"{day} {percent(share)}" for day, share in zip(DAY_NAMES, shares, strict=True)
    )
    parts: list[Table | Text] = [Text(), Text(f"Events by weekday ({working.timezone}): {days}")]
    if working.owners:
        table = titled_table("Working hours: events outside each owner's declared calendar")
        table.add_column("owner")
        table.add_column("declared hours")
        table.add_column("events", justify="right")
        table.add_column("outside", justify="right")
        for hours in working.owners.values():
            outside = percent(hours.outside_share) if hours.events else DASH
            table.add_row(hours.owner, hours.hours, f"{hours.events:,}", outside)
        parts += [Text(), table]
    return parts


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
    table = DataTable(box=None, padding=(0, 1))
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
            f": {percent(shares[step])} of the time inside cases passes before it completes"
        )
    else:
        text.append(DASH)
    owner = report.bottleneck_owner
    if owner is not None:
        load = next(o for o in report.owners if o.owner == owner)
        text.append(f"; busiest owner {owner} at {percent(load.utilization)} observed utilization")
    cycle = m.cycle_time
    text.append("\nCycle time  ", style="bold")
    if cycle.n:
        text.append(
            f"mean {_duration(cycle.mean)}, p50 {_duration(cycle.quantile(0.5))}, "
            f"p90 {_duration(cycle.quantile(0.9))} (first to last event of a case)"
        )
    text.append("\nRework      ", style="bold")
    text.append(f"{percent(report.rework_rate)} of cases took a feedback edge ({m.rework_cases:,})")
    expected = report.expected_rework_rate
    if expected is not None:
        text.append(f"; the declared routing implies {percent(expected)}")
    text.append("\nArrivals    ", style="bold")
    rate = report.arrival_rate
    declared = report.process.arrivals
    text.append(f"observed {rate_text(rate) if rate else DASH}")
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
        lines.append(
            f"{report.unpaired_starts:,} activities started and never completed (a lifecycle "
            "'start' without its 'complete', or a start time without an end)"
        )
    if report.skipped:
        lines.append(f"{report.skipped:,} lifecycle events other than start/complete were skipped")
    if report.renamed_traces:
        lines.append(
            f"{report.renamed_traces:,} trace{'s' if report.renamed_traces != 1 else ''} had "
            "the name of an earlier trace: read as cases of their own, named NAME#2, NAME#3, ..."
        )
    if report.working is not None:
        for hours in report.working.owners.values():
            if hours.events and hours.outside_share > OUTSIDE_NOTE:
                lines.append(
                    f"{hours.outside:,} of {hours.events:,} events of {hours.owner} "
                    f"({percent(hours.outside_share)}) fall outside its declared hours "
                    f"({hours.hours}): the calendar is wrong or the team works overtime"
                )
    return lines


def rules_table(rules: RuleReport) -> Table:
    """Departures from rule-routed steps against the rules, by the attributes in the log."""
    table = titled_table(f"Rules (attributes of {rules.cases_with_attributes:,} cases in the log)")
    for column in ("step", "departures", "follow the rules", "example deviation"):
        table.add_column(column, justify="right" if column == "departures" else "left")
    for check in rules.steps.values():
        share = percent(check.followed / check.checked) if check.checked else DASH
        example = DASH
        if check.examples:
            first = check.examples[0]
            example = (
                f"case {first['case']}: went to {first['observed']}, rules say {first['expected']}"
            )
        table.add_row(check.step, f"{check.checked:,}", share, example)
    return table


def print_report(report: LogReport, console: Console, path: str, log_path: str, top: int) -> None:
    parts: list[Table | Text] = [header(report, path, log_path), Text()]
    parts += conformance_part(report, top)
    parts += [Text(), stepstitled_table(report)]
    if report.branches:
        parts += [Text(), transitionstitled_table(report)]
    parts += [Text(), ownerstitled_table(report)]
    parts += working_part(report)
    parts += [Text()]
    parts += durations_part(report)
    parts += [Text(), summary_lines(report)]
    lines = [f"[dim]note:[/dim] {safe(line)}" for line in notes(report)]
    print_trimmed(console, Group(*parts), *lines)


@click.command("check-log")
@process_argument
@log_argument
@format_option("text: tables to read; json: every number (times in seconds).")
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
    columns, delimiter = log_layout(options)
    values, unreadable = read_attributes(log_path, process, columns=columns, delimiter=delimiter)
    rules = check_rules(process, log, values, unreadable) if values else None
    if output_format == "json":
        document = {**report.to_dict(), "file": display_name(path)}
        if rules is not None:
            document["rules"] = rules.to_dict()
        if threshold is not None:
            document["min_conformance"] = threshold
        write_json(document)
    else:
        print_report(report, make_console(), display_name(path), log_path, top)
        if rules is not None:
            make_console().print(rules_table(rules))
    if threshold is not None and not report.conformance >= threshold:
        if output_format == "text":
            make_console(stderr=True).print(
                f"[error]conformance {percent(report.conformance)} is below "
                f"--min-conformance {percent(threshold)}[/error]"
            )
        return 1
    return 0


commands = [check_log_command]
