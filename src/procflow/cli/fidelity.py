"""``procflow fidelity PATH LOG``: how far the simulated process is from a real log.

Simulates PATH over LOG's period (as many cases as the log has, simulated
time 0 on the log's first arrival) ``--runs`` times and prints, per
measure, the mean over runs with its 95 % interval, the noise floor (the
same distance between two random halves of the log) and a verdict. The
measures and how to read them: docs/fidelity.md.

Output: text (a table) or ``--format json`` (``"version": 1``), on standard
output or, with ``-o FILE``, written atomically to FILE.

Exit codes: 0 when the report was made; 2 when the process is not valid or
cannot be simulated, the log cannot be read, or an option is wrong.
"""

from __future__ import annotations

import io
import sys
from typing import Any

import click
from rich.console import Group
from rich.table import Table
from rich.text import Text

from procflow.cli.console import (
    DASH,
    make_console,
    percent,
    print_trimmed,
    titled_table,
    write_json,
)
from procflow.cli.params import format_option, log_argument, log_options, open_log, process_argument
from procflow.distance.fidelity import DEFAULT_RUNS, DEFAULT_SEED, fidelity
from procflow.distance.result import Fidelity, Measure, Summary
from procflow.fileio import write_atomic
from procflow.loader import display_name, load
from procflow.units import format_duration

#: Activities shown in the text report (the JSON has them all).
TOP_ACTIVITIES = 15


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return DASH
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "0-1":
        return f"{value:.3f}"
    return f"{value:,.2f}"


def _value(measure: Measure) -> str:
    text = _number(measure.value, measure.unit)
    interval = measure.estimate.ci95
    if interval is not None:
        low, high = (_number(v, measure.unit) for v in interval)
        text += f" [{low} … {high}]"
    return text


def _unit(unit: str) -> str:
    return {"h": "hours", "ratio": "", "0-1": "0 … 1", "cases": "cases"}.get(unit, unit)


def measures_table(result: Fidelity) -> Table:
    table = titled_table("Distances from the real log (mean over runs [95% interval])")
    for column in ("measure", "value", "noise floor", "unit", "verdict"):
        table.add_column(column, justify="right" if column in ("value", "noise floor") else "left")
    for measure in result.measures:
        within = measure.verdict == "within noise"
        table.add_row(
            measure.title,
            _value(measure),
            _number(measure.noise_floor, measure.unit),
            _unit(measure.unit),
            Text(measure.verdict, style="ok" if within else "warning"),
        )
    return table


def summary_table(result: Fidelity) -> Table:
    table = titled_table("The two logs")
    for column in ("", "cases", "events", "cycle time mean", "median", "weekend events"):
        table.add_column(column, justify="left" if column == "" else "right")

    def row(name: str, s: Summary) -> None:
        table.add_row(
            name,
            f"{s.cases:,}",
            f"{s.events:,.0f}",
            DASH if s.cycle_mean is None else format_duration(s.cycle_mean),
            DASH if s.cycle_median is None else format_duration(s.cycle_median),
            percent(s.weekend_share),
        )

    row("real", result.real)
    row(f"simulated (mean of {result.runs})", result.simulated)
    return table


def activity_table(result: Fidelity) -> Table:
    table = titled_table("Events per case, by activity")
    for column in ("activity", "real", "simulated", "error"):
        table.add_column(column, justify="left" if column == "activity" else "right")
    for row in result.activities[:TOP_ACTIVITIES]:
        table.add_row(
            row.activity,
            f"{row.real_per_case:.3f}",
            f"{row.simulated_per_case:.3f}",
            DASH if row.error is None else f"{row.error:+.1%}",
        )
    return table


def render_text(result: Fidelity, path: str, stream: Any) -> None:
    head = Text()
    head.append(result.process, style="bold")
    head.append(
        f"  against {result.log}: {result.runs} simulated run(s), seed {result.seed}; "
        f"noise floor: two random halves of the log ({result.halves[0]:,} and "
        f"{result.halves[1]:,} cases)",
        style="dim",
    )
    parts: list[Any] = [head, Text(), summary_table(result), Text(), measures_table(result)]
    parts += [Text(f"note: {note}", style="yellow") for note in result.notes]
    if result.activities:
        parts += [Text(), activity_table(result)]
        hidden = len(result.activities) - TOP_ACTIVITIES
        if hidden > 0:
            parts.append(Text(f"… {hidden} more in --format json", style="dim"))
    print_trimmed(make_console(stream), Group(*parts))


@click.command("fidelity")
@process_argument
@log_argument
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=DEFAULT_RUNS,
    show_default=True,
    help="Simulations of the log's period (the intervals are over runs).",
)
@click.option(
    "--seed",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="Seed of the simulations and of the split into halves.",
)
@format_option("Report as a table or as JSON.")
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write the report to FILE instead of standard output.",
)
@log_options
def fidelity_command(
    path: str,
    log_path: str,
    runs: int,
    seed: int,
    output_format: str,
    output: str | None,
    **options: Any,
) -> int:
    """Simulate a process over an event log's period and measure how far it is from the log.

    Control flow (3-grams), cycle times, event times (absolute, relative, by
    weekday and hour), arrivals, activity mix and work in progress, each
    beside the distance between two halves of the log (the noise floor).

    \b
    Examples:
      procflow fidelity processes/receipt.yaml receipt.csv
      procflow fidelity p.yaml events.xes --runs 10 --format json -o fidelity.json
    """
    process = load(path)
    log = open_log(log_path, options)
    result = fidelity(process, log, runs=runs, seed=seed)
    stream = io.StringIO() if output else sys.stdout
    if output_format == "json":
        write_json({**result.to_dict(), "file": display_name(path)}, stream)
    else:
        render_text(result, display_name(path), stream)
    if output:
        assert isinstance(stream, io.StringIO)
        write_atomic(output, stream.getvalue())
    return 0


commands = [fidelity_command]
