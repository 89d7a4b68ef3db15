"""The arguments and options several commands share, written once.

A command that reads a process takes it as ``PATH`` (``-`` for standard
input: :func:`procflow.loader.load` knows); one that reports figures takes
``--format text|json``; ``check-log`` and ``calibrate`` read an event log
with the same column, delimiter, time-format and sorting options.
"""

from __future__ import annotations

import functools
import glob
import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from procflow.errors import ConfigError

if TYPE_CHECKING:
    from procflow.eventlog.columns import Columns
    from procflow.eventlog.reader import EventLog

F = TypeVar("F", bound=Callable[..., Any])


def expand(value: str) -> list[str]:
    """The files a glob pattern matches (sorted), else ``[value]`` as given.

    A name that exists, ``-`` and a pattern that matches nothing pass through
    unchanged, so the reader reports them with its usual message.
    """
    if value == "-" or os.path.lexists(value) or not any(c in value for c in "*?["):
        return [value]
    return sorted(glob.glob(value, recursive=True)) or [value]


def one_file(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A path as given, or the one file a glob pattern matches (commands take globs).

    A pattern that matches several files is a usage error (exit 2) naming a few.
    """
    matches = expand(value)
    if len(matches) == 1:
        return matches[0]
    shown = ", ".join(matches[:3]) + (", ..." if len(matches) > 3 else "")
    raise click.BadParameter(
        f"{value!r} matches {len(matches)} files ({shown}); this command reads one", ctx, param
    )


process_argument = click.argument("path", metavar="PATH", callback=one_file)
"""``PATH``: a process file (or a glob matching one), or ``-`` to read one from standard input."""

log_argument = click.argument("log_path", metavar="LOG", callback=one_file)
"""``LOG``: an event log file (CSV or XES), or a glob matching one."""


def format_option(help: str) -> Callable[[F], F]:
    """``--format text|json`` (default text), passed to the command as ``output_format``."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=help,
    )


def stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Several click decorators as one, applied in the order written (top first)."""

    def apply(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


log_options = stack(
    click.option("--case-column", metavar="NAME", help="Column of the case id."),
    click.option("--activity-column", metavar="NAME", help="Column of the activity (the step)."),
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
    click.option("--delimiter", metavar="CHAR", help="CSV field delimiter [default: detected]."),
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
)
"""The options that say how to read an event log (``check-log``, ``calibrate``)."""


def log_layout(options: dict[str, Any]) -> tuple[Columns, str | None]:
    """The columns and the delimiter the :data:`log_options` name (``None``: detected)."""
    from procflow.eventlog.columns import Columns

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
    return columns, delimiter


def open_log(log_path: str, options: dict[str, Any]) -> EventLog:
    """Open LOG as the :data:`log_options` say."""
    from procflow.eventlog.reader import read_log

    columns, delimiter = log_layout(options)
    return read_log(
        log_path,
        columns=columns,
        format=options.get("log_format"),
        delimiter=delimiter,
        time_format=options.get("time_format"),
        sort=bool(options.get("sort")),
    )


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


JOBS_HELP = (
    "Runs simulated at once: this process and J-1 worker processes [default: the machine's cores]."
)
SCHEDULER_HELP = (
    "Send the runs to a Dask scheduler, e.g. tcp://10.0.0.5:8786 (pip install 'procflow[dask]')."
)


def scheduler_option(help: str = SCHEDULER_HELP) -> Callable[[F], F]:
    """``--scheduler ADDRESS``: a Dask scheduler runs the replications (passed as ``scheduler``)."""
    return click.option("--scheduler", default=None, metavar="ADDRESS", help=help)


START_HELP = (
    "When the run starts, e.g. 2027-01-04T08:00 (ISO 8601; without an offset: in the process "
    "time zone) [default: the next Monday 00:00 with calendars]; fix it to make runs of a "
    "process with calendars reproducible."
)


def start_option(help: str = START_HELP) -> Callable[[F], F]:
    """``--start ISO-8601``: when simulation time 0 falls (as ``start``; docs/working-time.md)."""
    return click.option("--start", "start", default=None, metavar="ISO-8601", help=help)


RUN_OPTIONS = ("cases", "runs", "seed", "jobs", "scheduler", "start")
"""The options :func:`replication_options` declares, as the API's keyword arguments."""


def run_argument(function: F) -> F:
    """Hand a command the values of :data:`RUN_OPTIONS` as one dict ``run``.

    Applied below the options (first), so click sees the wrapper: its
    parameters are declared on it and it is what the command calls.
    """

    @functools.wraps(function)
    def command(*args: Any, **kwargs: Any) -> Any:
        kwargs["run"] = {name: kwargs.pop(name) for name in RUN_OPTIONS}
        return function(*args, **kwargs)

    return cast(F, command)


def replication_options(
    *,
    cases: int,
    runs: int,
    seed: int,
    cases_help: str,
    runs_help: str,
    seed_help: str,
    jobs_help: str = JOBS_HELP,
    scheduler_help: str = SCHEDULER_HELP,
    min_runs: int = 1,
) -> Callable[[F], F]:
    """``--cases``, ``--runs``, ``--seed``, ``--jobs``, ``--scheduler``, ``--start``: a command
    that simulates, given them as one keyword argument ``run``.

    One declaration for the commands built on simulation (diff, levers,
    optimize, report); each keeps its own defaults and words. The six values
    reach the command as ``run`` (:func:`run_argument`), a dict whose keys are
    the keyword arguments of ``procflow.levers``, ``optimize``, ``diff`` and
    ``report`` alike, so a command passes them on as ``**run``.
    """
    return stack(
        click.option(
            "--cases",
            metavar="N",
            type=click.IntRange(min=1),
            default=cases,
            show_default=True,
            help=cases_help,
        ),
        click.option(
            "--runs",
            metavar="R",
            type=click.IntRange(min=min_runs),
            default=runs,
            show_default=True,
            help=runs_help,
        ),
        click.option(
            "--seed",
            metavar="S",
            type=click.IntRange(min=0),
            default=seed,
            show_default=True,
            help=seed_help,
        ),
        click.option(
            "--jobs", metavar="J", type=click.IntRange(min=1), default=None, help=jobs_help
        ),
        scheduler_option(scheduler_help),
        start_option(),
        run_argument,  # applied first: the options above are declared on its wrapper
    )
