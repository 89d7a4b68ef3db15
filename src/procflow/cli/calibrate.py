"""``procflow calibrate PATH LOG [-o OUT]``: fit a process to an event log.

Writes a copy of the process with durations, transition probabilities and
the arrival rate fitted from the log (the rules are in
:mod:`procflow.eventlog.calibrate`), keeping the file's comments, key order
and quoting, and prints what changed (old -> new, with the evidence) and
what was kept for lack of data.

Output: ``-o FILE``; by default ``<name>.calibrated.yaml`` next to PATH;
``-o -`` writes the process to standard output (and the table to standard
error). The input is never modified: an output path that is PATH is refused.
Files are written atomically.

Exit codes: 0 when the calibrated process was written; 1 when it was
written but overloads an owner (PF501, reported with the owner and its
utilization); 2 when the process is not valid, the log cannot be read, or
an option is wrong.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from procflow.cli.console import (
    DataTable,
    is_quiet,
    literal,
    make_console,
    print_trimmed,
    titled_table,
    write_json,
)
from procflow.cli.params import (
    format_option,
    log_argument,
    log_layout,
    log_options,
    open_log,
    process_argument,
)
from procflow.errors import ConfigError
from procflow.eventlog.calibrate import (
    MIN_OBSERVATIONS,
    PROCESSING_BASIS,
    WAITS_NOTE,
    Calibration,
    calibrate,
)
from procflow.eventlog.rules import read_attributes
from procflow.fileio import write_atomic
from procflow.loader import STDIN, display_name, load

STDOUT = "-"


def default_output(path: str) -> str:
    """``processes/cs.yaml`` -> ``processes/cs.calibrated.yaml``; stdin -> stdout."""
    if path == STDIN:
        return STDOUT
    target = Path(path)
    suffix = target.suffix if target.suffix in (".yaml", ".yml") else ".yaml"
    stem = target.name[: -len(target.suffix)] if target.suffix in (".yaml", ".yml") else target.name
    return str(target.with_name(f"{stem}.calibrated{suffix}"))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def print_changes(result: Calibration, console: Console, output: str) -> None:
    report = result.report
    m = report.measurements
    head = Text()
    head.append(result.process.id, style="bold")
    head.append(
        f"  calibrated from {m.events:,} events of {m.cases:,} cases "
        f"({_percent(report.conformance)} conform)",
        style="dim",
    )
    if any(c.note.startswith(PROCESSING_BASIS) for c in result.changes):
        refitted = any(c.note.endswith(WAITS_NOTE) for c in result.changes)
        head.append(
            "\ndurations are processing times estimated from resource availability (the log "
            "has no start times); waiting no resource explains is "
            + (
                "in the delay steps, refitted"
                if refitted
                else "left out (procflow discover models it as delay steps)"
            ),
            style="dim",
        )
    elif report.timing == "complete-only":
        head.append(
            "\ndurations are step times between completions (the log has no start times): "
            "they include waiting",
            style="dim",
        )
    table = titled_table("Changed")
    for column in ("what", "where", "old", "new", "n", "evidence"):
        table.add_column(column, justify="right" if column == "n" else "left")
    for change in result.changes:
        table.add_row(
            change.kind,
            change.subject,
            change.old,
            Text(change.new, style="bold"),
            f"{change.observations:,}",
            Text(change.note, style="dim"),
        )
    parts: list[Table | Text] = [head, Text()]
    if result.changes:
        parts.append(table)
    else:
        parts.append(Text("Nothing changed.", style="ok"))
    kept = [k for k in result.kept if k.note != "unchanged"]
    if kept:
        parts += [Text(), Text("Kept as declared (too little data)", style="bold")]
        shown = DataTable(box=None, padding=(0, 1))
        for column in ("what", "where", "value", "why"):
            shown.add_column(column)
        for item in kept:
            shown.add_row(item.kind, item.subject, item.old, Text(item.note, style="dim"))
        parts.append(shown)
    for overload in result.overloaded:
        parts += [Text(), Text(overload.message(), style="error")]
    if result.overloaded:
        parts.append(
            Text(
                "the log shows more work than these owners' capacity can do: check the "
                "capacities (people on duty at once) before using this process",
                style="error",
            )
        )
    where = "standard output" if output == STDOUT else output
    if not is_quiet():
        parts += [Text(), literal(f"wrote {where}", style="ok")]
    print_trimmed(console, Group(*parts))


def _percent(value: float) -> str:
    """``61.6%``, ``16.0%``: always one decimal."""
    return f"{value:.1%}" if value == value else "-"


@click.command("calibrate")
@process_argument
@log_argument
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Where to write the calibrated process ('-' for standard output) "
    "[default: <name>.calibrated.yaml next to PATH].",
)
@click.option(
    "--min-observations",
    type=click.IntRange(min=1),
    default=MIN_OBSERVATIONS,
    show_default=True,
    help="Observations a duration, a step's branching or the arrivals need to be fitted.",
)
@click.option("--no-durations", is_flag=True, help="Keep the declared durations.")
@click.option("--no-probabilities", is_flag=True, help="Keep the declared transition p.")
@click.option("--no-arrivals", is_flag=True, help="Keep the declared arrivals.")
@click.option(
    "--processing-time",
    is_flag=True,
    help="In a log without start times, fit processing times estimated from resource "
    "availability (as discover does) instead of the time between completions.",
)
@format_option("How to report the changes (json: changes, kept values and every fit's AIC).")
@log_options
def calibrate_command(
    path: str,
    log_path: str,
    output: str | None,
    min_observations: int,
    no_durations: bool,
    no_probabilities: bool,
    no_arrivals: bool,
    processing_time: bool,
    output_format: str,
    **options: Any,
) -> int:
    """Fit durations, probabilities and the arrival rate of a process to an event log.

    Writes a copy of PATH (comments and layout kept) and prints what changed.

    \b
    Examples:
      procflow calibrate processes/receipt.yaml receipt.csv
      procflow calibrate p.yaml events.csv -o p.fitted.yaml
      procflow calibrate p.yaml events.xes -o - > fitted.yaml
    """
    target = output or default_output(path)
    if target != STDOUT and path != STDIN and _same_file(target, path):
        raise ConfigError(
            f"refusing to overwrite the input {display_name(path)}: "
            "calibrate writes a copy (choose another -o)"
        )
    process = load(path)
    log = open_log(log_path, options)
    columns, delimiter = log_layout(options)
    result = calibrate(
        process,
        log,
        min_observations=min_observations,
        durations=not no_durations,
        probabilities=not no_probabilities,
        arrivals=not no_arrivals,
        processing_time=processing_time,
        attributes=read_attributes(log_path, process, columns=columns, delimiter=delimiter)[0],
    )
    if target == STDOUT:
        sys.stdout.write(result.text)
        sys.stdout.flush()
    else:
        write_atomic(target, result.text)
    if output_format == "json":
        document = {**result.to_dict(), "file": display_name(path), "output": target}
        write_json(document, sys.stderr if target == STDOUT else sys.stdout)
    else:
        console = make_console(stderr=target == STDOUT)
        print_changes(result, console, target)
    return 1 if result.overloaded else 0


commands = [calibrate_command]
