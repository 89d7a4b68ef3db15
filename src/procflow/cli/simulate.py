"""``procflow simulate`` and ``procflow compare`` (docs/commands.md#simulate).

``simulate PATH [--change F]...`` runs the discrete-event simulation of a
process (changed by the change files, in order) and prints its KPIs with
95 % intervals; ``compare PATH --change F...`` runs the baseline and each
change on common random numbers and shows every KPI side by side with the
paired difference, its interval and whether it is significant.

Exit codes: 0 success; 1 with ``--check-goals`` when a goal's verdict is
``not met`` (for ``compare``: by one of the changes), with ``--strict-goals``
also when it is ``uncertain``; 2 bad options, a file that is
not a valid process or change (the message names the file, line and
column), a process that cannot be simulated (no arrivals, no duration).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click
from rich.text import Text

from procflow.cli.collector import paused
from procflow.cli.console import is_quiet, make_console, print_trimmed, safe, write_json
from procflow.cli.params import (
    JOBS_HELP,
    expand,
    format_option,
    process_argument,
    scheduler_option,
    stack,
    start_option,
)
from procflow.errors import ProcessError, SimulationError
from procflow.loader import display_name, load, load_change
from procflow.model import Change, Process

if TYPE_CHECKING:
    from rich.progress import Progress

    from procflow.sim.results import SimulationResult
    from procflow.sim.runlength import Cases

_DELAY = 1.0
"""Seconds a simulation runs before a progress bar appears."""


class CasesType(click.ParamType):  # type: ignore[type-arg]
    """``--cases``: ``auto`` or a whole number of at least 1."""

    name = "cases"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Cases:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif str(value).strip().lower() == "auto":
            return "auto"
        else:
            try:
                number = int(str(value).replace("_", "").replace(",", ""))
            except ValueError:
                self.fail(f"{value!r} is neither 'auto' nor a whole number", param, ctx)
        if number < 1:
            self.fail(f"{value!r} is not at least 1 (or 'auto')", param, ctx)
        return number


class ProgressBar:
    """A rich progress bar on stderr, shown only on a terminal and only after a second."""

    def __init__(self, enabled: bool, label: str) -> None:
        self.enabled = enabled
        self.label = label
        self.started = time.monotonic()
        self._progress: Progress | None = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._progress is None:
            if time.monotonic() - self.started < _DELAY or done >= total:
                return
            # rich.progress (and rich.live under it) cost ~10 ms to import: only a bar shown pays it
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            console = make_console(stderr=True)
            self._progress = Progress(
                TextColumn("[dim]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,.0f}/{task.total:,.0f} cases"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self._task = self._progress.add_task(self.label, total=total)
            self._progress.start()
        self._progress.update(self._task, completed=done, total=total)

    def relabel(self, label: str) -> None:
        """Say what is being simulated now (the next scenario of a longer search)."""
        self.label = label
        if self._progress is not None:
            self._progress.update(self._task, description=label)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def progress_bar(output_format: str, label: str) -> ProgressBar:
    """The bar of a command: enabled for text output on a terminal, and not with ``-q``."""
    enabled = output_format == "text" and sys.stderr.isatty() and not is_quiet()
    return ProgressBar(enabled, label)


def _changes(paths: Sequence[str]) -> list[tuple[str, Change]]:
    """Each change file (a glob adds every file it matches, sorted), loaded and named."""
    return [
        (display_name(path), load_change(path)) for pattern in paths for path in expand(pattern)
    ]


def _apply(process: Process, name: str, change: Change) -> Process:
    """``process`` with ``change`` applied and checked; errors name the change file."""
    from procflow.sim.simulation import prepare

    summary = f"{name}: change {change.id!r} leaves process {process.id!r} "
    try:
        changed = process.apply(change)
        prepare(changed)
    except ProcessError as exc:
        raise ProcessError(exc.problems, summary + "invalid") from None
    except SimulationError as exc:
        raise SimulationError(f"{exc} ({summary}unable to run)") from None
    return changed


def _warn_unmeasured(scenarios: dict[str, SimulationResult]) -> None:
    """On stderr: every goal ``--check-goals`` could not check, and why.

    Such a goal does not fail the check (it is not "not met"), but a CI job
    must not pass it silently either.
    """
    found: dict[tuple[str, str, str], list[str]] = {}
    for scenario, result in scenarios.items():
        for goal in result.goals:
            if goal.met is None:
                key = (goal.id, goal.metric, goal.reason or "it has no value")
                found.setdefault(key, []).append(scenario)
    console = make_console(stderr=True)
    several = len(scenarios) > 1
    for (goal_id, metric, reason), names in found.items():
        where = f" ({', '.join(names)})" if several else ""
        console.print(
            f"[warning]warning:[/warning] goal {goal_id!r} ({metric}) cannot be checked"
            f"{safe(where)}: {safe(reason)}",
            highlight=False,
            markup=True,
        )


def _warn_bias(scenarios: dict[str, SimulationResult]) -> None:
    """On stderr: why the figures are biased (too short a warm-up, too few cases).

    JSON carries the same lines in ``notes``; they go to stderr in every format
    so that a script reading the report cannot miss them.
    """
    console = make_console(stderr=True)
    several = len(scenarios) > 1
    for scenario, result in scenarios.items():
        for note in result.bias:
            where = f"{scenario}: " if several else ""
            line = Text("warning:", style="warning")
            line.append(f" {where}{note}")
            console.print(line, highlight=False)


def _exit_code(check_goals: bool, strict_goals: bool, met: bool, certain: bool) -> int:
    """1 when ``--check-goals`` finds a goal not met, or ``--strict-goals`` one not surely met."""
    if strict_goals:
        return 0 if met and certain else 1
    return 1 if check_goals and not met else 0


def _owners_of(process: Process) -> dict[str, str | None]:
    shown: dict[str, str | None] = {}
    for step_id, step in process.steps.items():
        if step.end:
            shown[step_id] = None
        elif step.owner is None:
            shown[step_id] = ""
        else:
            owner = process.owners.get(step.owner)
            external = owner is not None and owner.external
            shown[step_id] = f"{step.owner} (external)" if external else step.owner
    return shown


def _log_file(_context: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--log`` takes a file name: ``-`` would mix the CSV into the report on standard output."""
    if value == "-":
        raise click.BadParameter(
            "'-' is not supported: give a file name, e.g. --log events.csv "
            "(standard output carries the report)"
        )
    return value


_common = stack(
    click.option(
        "--cases",
        metavar="N|auto",
        type=CasesType(),
        default="auto",
        show_default=True,
        help="Cases arriving in each run; auto: the warm-up this process needs "
        "(MSER-5, at least three expected cycle times) plus 10,000 counted cases.",
    ),
    click.option(
        "--runs",
        metavar="R",
        type=click.IntRange(min=1),
        default=10,
        show_default=True,
        help="Independent replications (the 95% intervals are over runs).",
    ),
    click.option(
        "--seed",
        metavar="S",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="The same seed gives the same results.",
    ),
    click.option(
        "--warmup",
        type=click.IntRange(min=0),
        default=None,
        metavar="N",
        help="Cases at the start of each run not counted [default: with --cases auto, the "
        "estimate; with --cases N, about three expected cycle times of arrivals, at least a "
        "tenth and at most half of N, with a warning when that is too short].",
    ),
    click.option("--jobs", metavar="J", type=click.IntRange(min=1), default=None, help=JOBS_HELP),
    scheduler_option(),
    start_option(
        "When the run starts, e.g. 2027-01-04T08:00 (without an offset: in the process "
        "time zone) [default: the next Monday 00:00 with calendars]; the event log counts from it."
    ),
    click.option(
        "--check-goals",
        is_flag=True,
        help="Exit 1 when a goal's verdict is 'not met'.",
    ),
    click.option(
        "--strict-goals",
        is_flag=True,
        help="Exit 1 when a goal's verdict is 'not met' or 'uncertain' (its 95% interval "
        "straddles the target).",
    ),
    format_option("text: tables to read; json: every number (seconds, rates per hour)."),
)
"""The options ``simulate`` and ``compare`` share."""


@click.command("simulate")
@process_argument
@click.option(
    "--change",
    "change_paths",
    multiple=True,
    metavar="FILE",
    help="Apply this change file (JSON Merge Patch) first; repeatable, applied in order "
    "(a glob adds every file it matches, sorted).",
)
@_common
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False),
    default=None,
    callback=_log_file,
    metavar="EVENTS.csv",
    help="Write the event log of the first run: CSV (case, step, owner, start, end; "
    ".csv.gz compressed) or XES (.xes, .xes.gz).",
)
@click.option(
    "--log-columns",
    "log_columns",
    type=click.Choice(["procflow", "pm4py"]),
    default="procflow",
    show_default=True,
    help="Column names of a CSV --log: procflow (case, step, owner, start, end) or pm4py "
    "(case:concept:name, concept:name, org:resource, start_timestamp, time:timestamp).",
)
@paused(last=True)  # the command owns its process (cli/collector.py)
def simulate_command(
    path: str,
    change_paths: tuple[str, ...],
    cases: Cases,
    runs: int,
    seed: int,
    warmup: int | None,
    jobs: int | None,
    scheduler: str | None,
    check_goals: bool,
    strict_goals: bool,
    output_format: str,
    log_path: str | None,
    log_columns: str,
    start: str | None,
) -> int:
    """Simulate a process: cycle time, waiting, throughput, utilization, goals.

    PATH is a process file, or '-' to read one from standard input.

    \b
    Examples:
      procflow simulate processes/customer-service.yaml
      procflow simulate processes/customer-service.yaml --cases 50000 --runs 20 --seed 7
      procflow simulate processes/customer-service.yaml --change changes/hire-support-agent.yaml
      procflow simulate processes/customer-service.yaml --log events.csv --runs 1
    """
    from procflow._simulate import simulate

    process = load(path)
    changes = _changes(change_paths)
    for name, change in changes:
        process = _apply(process, name, change)
    bar = progress_bar(output_format, f"simulating {process.id}")
    try:
        result = simulate(
            process,
            cases=cases,
            runs=runs,
            seed=seed,
            warmup=warmup,
            jobs=jobs,
            scheduler=scheduler,
            log=log_path,
            log_columns=log_columns,
            progress=bar,
            start=start,
        )
    finally:
        bar.close()
    if output_format == "json":
        document = result.to_dict()
        document["file"] = display_name(path)
        document["changes"] = [{"change": change.id, "file": name} for name, change in changes]
        write_json(document)
    else:
        from procflow.cli.simreport import simulation_report

        console = make_console()
        print_trimmed(
            console,
            simulation_report(
                result,
                source=display_name(path),
                owners=_owners_of(process),
                changes=[change.id for _name, change in changes],
            ),
        )
        if log_path is not None and not is_quiet():
            console.print(f"[dim]event log of run 1 written to[/dim] {safe(log_path)}")
    _warn_bias({"": result})
    if check_goals or strict_goals:
        _warn_unmeasured({"": result})
    return _exit_code(check_goals, strict_goals, result.goals_met, result.goals_certain)


@click.command("compare")
@process_argument
@click.option(
    "--change",
    "change_paths",
    multiple=True,
    required=True,
    metavar="FILE",
    help="A change file (JSON Merge Patch) to compare with the baseline; repeatable "
    "(a glob adds every file it matches).",
)
@_common
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False),
    default=None,
    callback=_log_file,
    metavar="EVENTS.csv",
    help="Write the event log of the first run of every scenario, named after EVENTS.csv: "
    "EVENTS.baseline.csv and EVENTS.<change>.csv (.xes or .xes.gz: XES).",
)
@click.option(
    "--log-columns",
    "log_columns",
    type=click.Choice(["procflow", "pm4py"]),
    default="procflow",
    show_default=True,
    help="Column names of a CSV --log: procflow (case, step, owner, start, end) or pm4py "
    "(case:concept:name, concept:name, org:resource, start_timestamp, time:timestamp).",
)
def compare_command(
    path: str,
    change_paths: tuple[str, ...],
    cases: Cases,
    runs: int,
    seed: int,
    warmup: int | None,
    jobs: int | None,
    scheduler: str | None,
    check_goals: bool,
    strict_goals: bool,
    output_format: str,
    log_path: str | None,
    log_columns: str,
    start: str | None,
) -> int:
    """Compare a process with what-if changes on common random numbers.

    Runs the baseline and every change with the same seed and shows each KPI
    side by side with the difference, its 95% interval (paired over runs)
    and whether it is significant.

    \b
    Examples:
      procflow compare processes/customer-service.yaml --change changes/hire-support-agent.yaml
      procflow compare processes/customer-service.yaml \\
          --change changes/hire-support-agent.yaml --change changes/halve-reopens.yaml --runs 20
      procflow compare processes/customer-service.yaml \\
          --change changes/hire-support-agent.yaml --log events.csv --runs 1
    """
    from procflow._simulate import compare

    baseline = load(path)
    changes = _changes(change_paths)
    changed = [_apply(baseline, name, change) for name, change in changes]
    names = [change.id for _name, change in changes]
    bar = progress_bar(output_format, f"comparing {len(changes) + 1} scenarios")
    try:
        comparison = compare(
            baseline,
            *changed,
            names=names,
            cases=cases,
            runs=runs,
            seed=seed,
            warmup=warmup,
            jobs=jobs,
            scheduler=scheduler,
            log=log_path,
            log_columns=log_columns,
            progress=bar,
            start=start,
        )
    finally:
        bar.close()
    labels = list(comparison.changes)
    if output_format == "json":
        document = comparison.to_dict()
        document["file"] = display_name(path)
        for entry, (name, change) in zip(document["changes"], changes, strict=True):
            entry["file"] = name
            entry["description"] = change.description or change.title
        write_json(document)
    else:
        from procflow.cli.simreport import comparison_report

        descriptions = {
            label: f"{change.description or change.title or ''} ({name})".strip()
            for label, (name, change) in zip(labels, changes, strict=True)
        }
        console = make_console()
        print_trimmed(
            console,
            comparison_report(comparison, source=display_name(path), descriptions=descriptions),
        )
        if log_path is not None and not is_quiet():
            from procflow._simulate import scenario_logs

            written = ", ".join(
                str(p) for p in scenario_logs(log_path, ["baseline", *labels]).values()
            )
            console.print(f"[dim]event logs of run 1 written to[/dim] {safe(written)}")
    scenarios = {"baseline": comparison.baseline, **comparison.changes}
    _warn_bias(scenarios)
    if check_goals or strict_goals:
        _warn_unmeasured(scenarios)
    return _exit_code(check_goals, strict_goals, comparison.goals_met, comparison.goals_certain)


commands = [simulate_command, compare_command]
