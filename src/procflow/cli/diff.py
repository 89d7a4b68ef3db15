"""``procflow diff OLD NEW`` and ``procflow diff --git REV PATH`` (docs/commands.md).

What changed between two versions of a process (steps, transitions, owners,
arrivals, goals, any key of the model: added, removed, changed, with old
and new values in the file's notation and their positions) and what it does
to the analytic KPIs; ``--simulate`` adds a simulated comparison on common
random numbers. ``--format`` picks text (a terminal), json, markdown (a
pull-request comment) or github (workflow annotations).

Exit codes: 0 whether or not the versions differ, as ``git diff`` (with
``--exit-code``: 1 when they differ); 2 bad usage, a file that is not a
valid process (with positions), a git error with ``--git``.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Any

import click
from rich.console import Group, RenderableType
from rich.text import Text

from procflow.cli.console import make_console, print_trimmed, titled_table
from procflow.cli.params import one_file, replication_options
from procflow.diffing import DEFAULT_CASES, DEFAULT_RUNS, ProcessDiff, diff
from procflow.diffing.shown import DASH, difference, figure, kpi_new, kpi_old
from procflow.loader import load
from procflow.model import Process

_STYLES = {"added": "green", "removed": "red", "changed": "yellow"}
_SIGNS = {"added": "+", "removed": "-", "changed": "~"}


def _files(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """Each path as given, or the one file a glob matches (as every command reads paths)."""
    return tuple(one_file(ctx, param, path) for path in value)


@click.command("diff")
@click.argument(
    "paths",
    nargs=-1,
    metavar="OLD NEW",
    callback=_files,
)
@click.option(
    "--git",
    "revision",
    metavar="REV",
    default=None,
    help="Compare PATH at git revision REV with the working tree (one PATH); REV1..REV2 "
    "compares two revisions, REV1...REV2 the merge base of both with REV2.",
)
@click.option(
    "--simulate", is_flag=True, help="Also simulate both versions on common random numbers."
)
@replication_options(
    cases=DEFAULT_CASES,
    runs=DEFAULT_RUNS,
    seed=0,
    cases_help="With --simulate: cases arriving in each run.",
    runs_help="With --simulate: replications (intervals are paired over runs).",
    seed_help="With --simulate: the seed both versions share.",
    jobs_help="With --simulate: worker processes [default: the machine's cores].",
    scheduler_help="With --simulate: send the runs to a Dask scheduler, e.g. "
    "tcp://10.0.0.5:8786 (pip install 'procflow[dask]').",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown", "github"]),
    default="text",
    show_default=True,
    help="text: a terminal; json: every figure; markdown: a pull-request comment; "
    "github: workflow annotations.",
)
@click.option("--exit-code", is_flag=True, help="Exit 1 when the versions differ (as git diff).")
def diff_command(
    paths: tuple[str, ...],
    revision: str | None,
    simulate: bool,
    run: dict[str, Any],
    output_format: str,
    exit_code: bool,
) -> int:
    """Show what changed between two versions of a process, and its effect on the KPIs.

    OLD and NEW are process files ('-' reads one from standard input). With
    --git REV, give one PATH: the file at REV against the working tree.

    \b
    Examples:
      procflow diff old/customer-service.yaml processes/customer-service.yaml
      procflow diff --git HEAD processes/customer-service.yaml
      procflow diff --git origin/main...HEAD processes/customer-service.yaml --format markdown
      procflow diff old.yaml new.yaml --simulate --runs 20 --seed 7
    """
    expected = 1 if revision is not None else 2
    if len(paths) != expected:
        usage = "--git REV PATH takes one PATH" if revision is not None else "give OLD and NEW"
        raise click.UsageError(f"{usage} (got {len(paths)} paths)")
    with ExitStack() as stack:
        old, new, names = _versions(stack, revision, paths)
        result = diff(old, new, simulate=simulate, **run)
    result = result.relabel(names)
    if output_format == "json":
        click.echo(result.to_json(), nl=False)
    elif output_format == "markdown":
        from procflow.diffing.markdown import render_markdown

        click.echo(render_markdown(result), nl=False)
    elif output_format == "github":
        from procflow.diffing.github import render_github

        click.echo(render_github(result), nl=False)
    else:
        print_trimmed(make_console(), text_report(result))
    return 1 if exit_code and result.differs else 0


def _versions(
    stack: ExitStack, revision: str | None, paths: tuple[str, ...]
) -> tuple[Process, Process, dict[str, str]]:
    """OLD and NEW loaded (from git when asked), and the temporary names to show as ``REV:path``."""
    if revision is None:
        return load(paths[0]), load(paths[1]), {}
    from procflow.diffing.git import checkout, parse_revisions

    path = paths[0]
    revisions = parse_revisions(revision, os.path.dirname(os.path.abspath(path)))
    old, names = stack.enter_context(checkout(revisions.old, path))
    if revisions.new is None:
        return old, load(path), names
    new, new_names = stack.enter_context(checkout(revisions.new, path))
    return old, new, {**names, **new_names}


def text_report(result: ProcessDiff) -> RenderableType:
    """The terminal report: every value from the files as literal text (rich ``Text``)."""
    parts: list[RenderableType] = []
    header = Text(f"{result.old.file} -> {result.new.file}: ", style="bold")
    total = len(result.changes)
    counts = ", ".join(f"{result.count(k)} {k}" for k in ("added", "removed", "changed"))
    header.append(
        f"{total} structural change{'' if total == 1 else 's'}" + (f" ({counts})" if total else "")
    )
    parts.append(header)
    if result.changes:
        table = titled_table("Changes")
        for column in ("", "what", "old", "new", "where"):
            table.add_column(column)
        for change in result.changes:
            style = _STYLES[change.kind]
            table.add_row(
                Text(_SIGNS[change.kind], style=style),
                Text(change.what),
                Text(
                    change.old if change.old is not None else DASH,
                    style="dim" if change.kind == "changed" else style,
                ),
                Text(
                    change.new if change.new is not None else DASH,
                    style=style if change.new is not None else "dim",
                ),
                Text(str(change.position), style="dim"),
            )
        parts += [Text(""), table]
    for side, version in (("old", result.old), ("new", result.new)):
        if version.analysis_error is not None:
            parts += [
                Text(""),
                Text(
                    f"the {side} version cannot be analyzed: {version.analysis_error}",
                    style="warning",
                ),
            ]
    rows = [k for k in result.kpis if k.known]
    if rows:
        table = titled_table("Effect on the analytic KPIs")
        for column, justify in (
            ("KPI", "left"),
            ("old", "right"),
            ("new", "right"),
            ("difference", "right"),
        ):
            table.add_column(column, justify=justify)
        for effect in rows:
            style = "bold" if effect.changed else ""
            table.add_row(
                Text(effect.label, style=style),
                Text(kpi_old(effect)),
                Text(kpi_new(effect)),
                Text(difference(effect.unit, effect.difference), style=style),
            )
        parts += [Text(""), table]
    parts += _simulation_parts(result)
    return Group(*parts)


def _simulation_parts(result: ProcessDiff) -> list[RenderableType]:
    simulation = result.simulation
    if simulation is None:
        return []
    if simulation.error is not None:
        return [
            Text(""),
            Text(f"the simulation could not run: {simulation.error}", style="warning"),
        ]
    table = titled_table(
        f"Simulated on common random numbers ({simulation.runs} runs of {simulation.cases} cases, "
        f"seed {simulation.seed})"
    )
    for column in ("KPI", "old", "new", "difference", "95% interval", "significant"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    for row in simulation.effects:
        interval = DASH
        if row.ci95 is not None:
            interval = f"{difference(row.unit, row.ci95[0])} .. {difference(row.unit, row.ci95[1])}"
        significant = {True: "yes", False: "no", None: DASH}[row.significant]
        table.add_row(
            Text(row.label),
            Text(figure(row.unit, row.old)),
            Text(figure(row.unit, row.new)),
            Text(difference(row.unit, row.difference), style="bold" if row.significant else ""),
            Text(interval),
            Text(significant),
        )
    return [Text(""), table]


commands = [diff_command]
