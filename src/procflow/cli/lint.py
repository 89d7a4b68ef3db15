"""``procflow lint PATHS...``: lint process files like code (docs/rules.md, docs/commands.md).

Exit codes: 0 when no finding is at or above ``--fail-on``; 1 when one is
(a file that is not YAML or not a valid process is a PF001/PF002 finding,
so it counts too); 2 for bad usage, bad configuration, or a path that does
not exist or cannot be read.
"""

from __future__ import annotations

import sys

import click

from procflow._lint import Plan, lint_paths, path_filter
from procflow.cli.collector import paused
from procflow.cli.console import is_quiet, make_console
from procflow.config import (
    LintConfig,
    discover_config,
    load_config,
    parse_level,
    split_selectors,
)
from procflow.errors import ConfigError
from procflow.fileio import write_atomic
from procflow.findings import Severity
from procflow.report import FORMATS, render
from procflow.report.text import print_report

_LEVELS = ("error", "warning", "info")


def _severity_overrides(values: tuple[str, ...]) -> dict[str, Severity]:
    overrides: dict[str, Severity] = {}
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            code, sep, level = item.partition("=")
            selector = split_selectors([code])
            if not sep or len(selector) != 1:
                raise ConfigError(
                    f"--severity: expected CODE=LEVEL such as PF203=error, got {item!r}"
                )
            overrides[selector[0]] = parse_level(level.strip(), f"--severity {item.strip()}")
    return overrides


@click.command("lint")
@click.argument("paths", nargs=-1, metavar="PATHS...")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format: text, json, sarif (code scanning) or github (annotations).",
)
@click.option(
    "--fail-on",
    type=click.Choice(_LEVELS),
    default=None,
    help="Exit 1 when a finding is at or above this severity [default: error, or the config].",
)
@click.option(
    "--select",
    multiple=True,
    metavar="RULES",
    help="Only these rules: codes, prefixes (PF2) or names; repeatable, comma-separated.",
)
@click.option(
    "--ignore",
    multiple=True,
    metavar="RULES",
    help="Skip these rules: codes, prefixes or names; repeatable, comma-separated.",
)
@click.option(
    "--severity",
    "severity_overrides",
    multiple=True,
    metavar="CODE=LEVEL",
    help="Change a rule's severity, e.g. PF203=error; repeatable.",
)
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    help="Read configuration from FILE instead of looking for pyproject.toml/procflow.toml.",
)
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option(
    "--bottleneck-threshold",
    type=float,
    default=None,
    metavar="UTIL",
    help="Utilization from which PF502 reports a bottleneck [default: 0.85].",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="PATTERNS",
    help="Leave out paths a folder walk or glob finds: gitignore-style patterns relative "
    "to the working folder, added to the config's `exclude`; repeatable, comma-separated.",
)
@click.option(
    "--respect-gitignore/--no-respect-gitignore",
    default=None,
    help="Leave out files that .gitignore ignores when walking folders [default: respect].",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write the report to FILE (atomically) instead of standard output ('-').",
)
@click.option(
    "--stdin-filename",
    metavar="NAME",
    help="The name to show for a process read from standard input ('-').",
)
def lint_command(
    paths: tuple[str, ...],
    output_format: str,
    fail_on: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    severity_overrides: tuple[str, ...],
    config_path: str | None,
    isolated: bool,
    bottleneck_threshold: float | None,
    exclude: tuple[str, ...],
    respect_gitignore: bool | None,
    output: str | None,
    stdin_filename: str | None,
) -> int:
    """Lint process files, folders (walked for *.yaml, *.yml) and globs; '-' reads stdin.

    \b
    Examples:
      procflow lint processes/
      procflow lint processes/*.yaml --format sarif -o procflow.sarif
      procflow lint processes/ --select PF1,PF2 --ignore PF203 --fail-on warning
    """
    if not paths:
        raise click.UsageError(
            "give the process files or folders to lint, e.g. 'procflow lint processes/'"
        )
    if isolated and config_path:
        raise click.UsageError("--isolated and --config cannot be used together")
    config = LintConfig()
    if config_path:
        config = load_config(config_path)
    elif not isolated:
        config = discover_config()
    config = config.override(
        select=split_selectors(select) if select else None,
        ignore=split_selectors(ignore),
        severity=_severity_overrides(severity_overrides),
        bottleneck_threshold=bottleneck_threshold,
        fail_on=Severity.parse(fail_on) if fail_on else None,
        exclude=[p.strip() for value in exclude for p in value.split(",") if p.strip()],
        respect_gitignore=respect_gitignore,
    )
    plan = Plan.build(config)  # configuration errors before any file is read
    report = lint_paths(
        list(paths),
        plan,
        stdin_name=stdin_filename,
        around_file=paused,
        skip=path_filter(config),
    )
    if output and output != "-":
        write_atomic(output, render(report, output_format))
    elif output_format == "text":
        print_report(report, make_console(), quiet=is_quiet())
    else:
        sys.stdout.write(render(report, output_format))
        sys.stdout.flush()
    if not report.files:
        make_console(stderr=True).print(
            "[warning]warning:[/warning] no *.yaml or *.yml files found in the given paths"
        )
    return report.exit_code


commands = [lint_command]
