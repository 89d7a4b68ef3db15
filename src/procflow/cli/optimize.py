"""``procflow optimize``: the cheapest staffing at which every goal is met (docs/optimize.md).

Prints the staffing table (owner, before -> after, cost per hour), the
total cost, every goal's verdict with its 95 % interval, and the
evaluations spent; ``-o change.yaml`` writes the staffing as a change file
that ``procflow compare --change`` accepts.

Every value that comes from the file (ids, targets) is printed literally:
cells are :class:`rich.text.Text`, never markup.

Exit codes: 0 when a staffing meets every goal; 1 when none within
``--max-capacity`` does (the report shows the most it tried); 2 for bad
options or a process that cannot be optimized (positions).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from typing import Any

import click
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from procflow._optimize import (
    DEFAULT_CASES,
    DEFAULT_MAX_CAPACITY,
    DEFAULT_RUNS,
    DEFAULT_SEED,
    Optimization,
    optimize,
)
from procflow.analysis.workweek import HOURS_OF_WEEK
from procflow.cli.console import DASH, make_console, print_trimmed, titled_table, write_json
from procflow.cli.params import format_option, process_argument, replication_options
from procflow.cli.progress import ProgressBar, progress
from procflow.cli.simreport import interval, show
from procflow.fileio import refuse_input_as_output, write_atomic
from procflow.loader import display_name, load
from procflow.metrics import kpi_key
from procflow.units import format_number


def _owner_list(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise click.BadParameter("name at least one owner, e.g. --owners support-agent,tier2")
    return names


@click.command("optimize")
@process_argument
@click.option(
    "--owners",
    metavar="A,B",
    default=None,
    callback=_owner_list,
    help="Search only these staff owners (comma-separated) [default: every staff owner].",
)
@click.option(
    "--max-capacity",
    metavar="N",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_CAPACITY,
    show_default=True,
    help="Most units per owner the search tries; exit 1 when none up to it meets the goals.",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    default=None,
    help="Write the staffing found as a change file for procflow compare --change.",
)
@replication_options(
    cases=DEFAULT_CASES,
    runs=DEFAULT_RUNS,
    seed=DEFAULT_SEED,
    cases_help="Cases arriving in each run of each staffing simulated.",
    runs_help="Independent replications (the 95% intervals of the verdicts are over runs).",
    seed_help="Every staffing is simulated with this seed (common random numbers).",
    min_runs=2,
)
@format_option("text: staffing, cost and goals; json: every number (docs/json.md#optimize).")
def optimize_command(
    path: str,
    owners: list[str] | None,
    max_capacity: int,
    output: str | None,
    run: dict[str, Any],
    output_format: str,
) -> int:
    """Find the cheapest capacities at which every goal is met with 95% confidence.

    Cost is staffing cost per hour (capacity x cost_per_hour), or head count
    when no owner has a cost. The queueing model screens first (no owner
    below utilization 1, Erlang C waits), then simulation with common
    random numbers adds the unit that helps the goals most per unit of cost
    until every goal is met, and removes units while they stay met.

    PATH is a process file, or '-' to read one from standard input.

    \b
    Examples:
      procflow optimize processes/customer-service.yaml
      procflow optimize processes/customer-service.yaml --owners support-agent -o staff.yaml
      procflow compare processes/customer-service.yaml --change staff.yaml
    """
    refuse_input_as_output(output, [path])
    process = load(path)
    with progress(output_format, f"optimizing {process.id}") as bar:
        found = optimize(
            process,
            owners=owners,
            max_capacity=max_capacity,
            **run,
            progress=SearchBar(bar, process.id),
        )
    if output is not None:
        write_atomic(output, change_yaml(found))
    if output_format == "json":
        document = found.to_dict()
        document["file"] = display_name(path)
        write_json(document)
    else:
        print_trimmed(make_console(), optimize_report(found, display_name(path)))
    return 0 if found.feasible else 1


class SearchBar:
    """The progress bar of a search: each staffing simulated in turn, numbered as it starts.

    The search does not know how many staffings it will simulate, so the
    bar fills once per staffing and its label counts them: ``optimizing
    customer-service: staffing 3 (support-agent 5, tier2 2)`` -- without the
    capacities when they would take more than half the terminal's width.
    """

    def __init__(self, bar: ProgressBar, process_id: str) -> None:
        self.bar = bar
        self.process_id = process_id
        self.staffings: dict[tuple[tuple[str, int], ...], int] = {}

    def __call__(self, staffing: Mapping[str, int], done: int, total: int) -> None:
        key = tuple(staffing.items())
        if key not in self.staffings:
            self.staffings[key] = len(self.staffings) + 1
            label = f"optimizing {self.process_id}: staffing {self.staffings[key]}"
            units = ", ".join(f"{owner} {capacity}" for owner, capacity in key)
            if len(label) + len(units) + 3 <= shutil.get_terminal_size().columns // 2:
                label += f" ({units})"  # else the bar itself would be squeezed out
            self.bar.relabel(label)
        self.bar(done, total)


def change_yaml(found: Optimization) -> str:
    """The change file of :meth:`Optimization.change` as YAML (strings JSON-quoted: valid YAML)."""
    change = found.change()
    lines = [
        f"change: {change['change']}",
        f"description: {json.dumps(change['description'])}",
        "patch:",
        "  owners:",
    ]
    for owner_id, fields in change["patch"]["owners"].items():
        if "shifts" in fields:  # the whole list: a merge patch replaces lists
            shifts = ", ".join(
                f"{{calendar: {json.dumps(shift['calendar'])}, capacity: {shift['capacity']}}}"
                for shift in fields["shifts"]
            )
            lines.append(f"    {json.dumps(owner_id)}: {{shifts: [{shifts}]}}")
        else:
            lines.append(f"    {json.dumps(owner_id)}: {{capacity: {fields['capacity']}}}")
    return "\n".join(lines) + "\n"


def optimize_report(found: Optimization, source: str | None = None) -> RenderableType:
    """Header, staffing table, total cost, goals table and the evaluations spent."""
    head = Text()
    head.append(found.process, style="bold")
    if source:
        head.append(f"  {source}", style="dim")
    verdict = "cheapest staffing meeting every goal" if found.feasible else "no staffing found"
    head.append(f"\n{verdict}: ", style="bold")
    unit = "cost/h" if found.costed else "head count"
    head.append(f"{unit} {format_number(found.cost_before)} → {format_number(found.cost_after)}")
    head.append(
        f"\n{found.runs} runs × {found.cases:,} cases · seed {found.seed} · "
        f"{_count(found.evaluations, 'staffing')} simulated (common random numbers), "
        f"{_count(found.screened, 'analytic evaluation')}",
        style="dim",
    )
    parts: list[RenderableType] = [head, Text(), _staffing(found), Text(), _goals(found)]
    if not found.feasible:
        parts.append(
            Text.assemble(
                ("note: ", "warning"),
                f"no staffing meets every goal: {found.reason}; shown: the last one tried",
            )
        )
    return Group(*parts)


def _count(number: int, noun: str) -> str:
    """``1 staffing``, ``3 staffings``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _staffing(found: Optimization) -> Table:
    """One row per searched capacity (per shift for an owner with shifts); with calendars,
    the hours a unit is on duty each week and the cost per elapsed hour they make."""
    table = titled_table("Staffing")
    for name, justify in (("owner", "left"), ("before", "right"), ("after", "right")):
        table.add_column(name, justify=justify)
    calendared = any(row.on_duty_share < 1.0 for row in found.staffing)
    if calendared:
        table.add_column("on duty h/week", justify="right")
    table.add_column("cost/h per unit", justify="right")
    table.add_column("cost/h after", justify="right")
    for row in found.staffing:
        style = "green" if row.after < row.before else ("yellow" if row.after > row.before else "")
        rate = row.cost_per_hour
        cells: list[str | Text] = [
            Text(row.name),
            str(row.before),
            Text(str(row.after), style=style),
        ]
        if calendared:
            cells.append(format_number(row.on_duty_share * HOURS_OF_WEEK))
        cells.append(DASH if rate is None else format_number(rate))
        cells.append(DASH if rate is None else format_number(found.price(row) * row.after))
        table.add_row(*cells)
    return table


def _goals(found: Optimization) -> Table:
    table = titled_table("Goals (simulated, 95% intervals)")
    for name in ("goal", "metric", "target", "value", "95% CI", "verdict"):
        table.add_column(name)
    for goal in found.goals:
        name, _, argument = goal.metric.partition(":")
        key = kpi_key(name, argument or None, goal.stat) or goal.metric
        metric = goal.metric + (f" {goal.stat}" if goal.stat else "")
        style = "green" if goal.verdict == "met" else "red"
        table.add_row(
            Text(goal.id),
            Text(metric),
            Text(goal.target),
            show(key, goal.value, like=goal.target),
            interval(key, goal.ci95, like=goal.target),
            Text(goal.verdict or "cannot be measured", style=style),
        )
    return table


commands = [optimize_command]
