"""``procflow report PATHS... [-o report.html]``: the self-contained HTML report (docs/report.md).

The command only parses options, expands globs and hands over to
:func:`procflow.htmlreport.report`; writing is atomic. Exit codes: 0 the
report was written; 2 bad options, a file that is not a valid process,
change or event log, or matplotlib missing (the message names ``pip install
'procflow[report]'``). A process that cannot be analyzed or simulated does
not fail the command: its section says why.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from procflow.cli.console import is_quiet
from procflow.cli.params import expand, log_options, one_file, open_log, replication_options


def _optional_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return None if value is None else one_file(ctx, param, value)


@click.command("report")
@click.argument("paths", nargs=-1, required=True, metavar="PATHS...")
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    default="-",
    help="Write the HTML page to FILE, atomically [default: standard output].",
)
@click.option(
    "--change",
    "change_paths",
    multiple=True,
    metavar="FILE",
    help="Compare every process with this change file; repeatable (a glob adds every match).",
)
@replication_options(
    cases=10_000,
    runs=10,
    seed=0,
    cases_help="Cases arriving in each simulation run.",
    runs_help="Independent replications (95% intervals are over runs).",
    seed_help="The same seed gives the same page, byte for byte.",
)
@click.option(
    "--optimize",
    is_flag=True,
    help="Also search every process's cheapest staffing meeting its goals, as procflow "
    "optimize does (with --cases, --runs >= 2 and --seed).",
)
@click.option(
    "--log",
    "log_path",
    metavar="LOG",
    default=None,
    callback=_optional_file,
    help="Measure every process against this event log (CSV or XES), as procflow fidelity "
    "does; read with the options below.",
)
@log_options
@click.option(
    "--date",
    metavar="TEXT",
    default=None,
    help="Print this generation date in the header [default: no date, so reports diff].",
)
def report_command(
    paths: tuple[str, ...],
    output: str,
    change_paths: tuple[str, ...],
    run: dict[str, Any],
    optimize: bool,
    log_path: str | None,
    date: str | None,
    **log_settings: Any,
) -> int:
    """Write one self-contained HTML report: diagram, lint, analysis, simulation, goals.

    PATHS are process files or globs. The page has no external resources, so
    it opens offline and can be e-mailed. Needs matplotlib:
    pip install 'procflow[report]'.

    \b
    Examples:
      procflow report processes/customer-service.yaml -o report.html
      procflow report 'processes/*.yaml' -o all.html --cases 2000 --runs 5
      procflow report processes/customer-service.yaml \\
          --change changes/hire-support-agent.yaml -o hire.html
      procflow report processes/receipt.yaml --log receipt.csv -o receipt.html
    """
    from procflow.fileio import refuse_input_as_output
    from procflow.htmlreport import html_report

    files = [path for pattern in paths for path in expand(pattern)]
    changes = [path for pattern in change_paths for path in expand(pattern)]
    target = None if output == "-" else output
    refuse_input_as_output(target, [*files, *changes, *([log_path] if log_path else [])])
    log = open_log(log_path, log_settings) if log_path is not None else None
    text = html_report(
        files,
        target,
        changes=changes,
        **run,
        log=log,
        optimize=optimize,
        date=date,
    )
    if target is None:
        sys.stdout.write(text)
    elif not is_quiet():
        click.echo(f"wrote {target}", err=True)
    return 0


commands = [report_command]
