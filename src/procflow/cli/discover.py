"""``procflow discover LOG [-o FILE]``: a process from an event log alone.

Writes the discovered process (docs/discover.md explains every estimate)
and reports what was inferred and how sure it is: steps with their
duration fits and extraneous waits, roles with their pools and hours, the
arrivals, what the ``--min-share`` filter left out, and the lint result
(never an error).

Output: ``-o FILE`` writes the process atomically and the report to
standard output; without ``-o`` the process goes to standard output and
the report to standard error. ``--format json`` makes the report JSON
(``"version": 1``).

Exit codes: 0 when the process was written; 2 when the log cannot be read
or an option is wrong.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console, Group
from rich.text import Text

from procflow.cli.console import (
    is_quiet,
    literal,
    make_console,
    print_trimmed,
    titled_table,
    write_json,
)
from procflow.cli.params import format_option, log_argument, log_options, open_log, parse_share
from procflow.discovery import Discovery
from procflow.discovery.discover import DEFAULT_MIN_SHARE
from procflow.fileio import refuse_input_as_output, write_atomic
from procflow.units import format_duration
from procflow.wording import plural

STDOUT = "-"


def _duration(fit: dict[str, Any] | None) -> str:
    if fit is None:
        return "-"
    return f"{fit['distribution'].split('(')[0]} mean {format_duration(fit['mean'], 3)}"


def render_report(result: Discovery, console: Console, output: str) -> None:
    report = result.to_dict()
    head = Text()
    head.append(report["process"], style="bold")
    head.append(
        f"  discovered from {report['events']:,} events of {report['cases']:,} cases "
        f"in {report['log']}; durations from {report['timing']}",
        style="dim",
    )
    steps = titled_table("Steps")
    for column in ("step", "owner", "events", "processing", "fit", "wait before", "sure"):
        steps.add_column(column, justify="right" if column == "events" else "left")
    for step in report["steps"]:
        fit = step["duration"]
        delay = step["delay"]
        steps.add_row(
            step["id"],
            step["owner"],
            f"{step['events']:,}",
            _duration(fit),
            Text(fit["note"] if fit else "-", style="dim"),
            f"{format_duration(delay['mean'], 3)} (external)" if delay else "-",
            fit["confidence"] if fit else "low",
        )
    roles = titled_table("Roles")
    for column in ("role", "activities", "resources", "pool", "peak", "hours"):
        roles.add_column(column, justify="right" if column in ("pool", "peak") else "left")
    for role in report["roles"]:
        roles.add_row(
            role["id"],
            f"{len(role['activities'])}",
            f"{len(role['members'])}",
            f"{role['capacity']}",
            f"{role['peak']}",
            role["hours"],
        )
    arrivals = report["arrivals"]
    filtered = report["filtered"]
    dropped, gone = filtered["edges"], len(filtered["activities"])
    lines = [
        f"arrivals: {arrivals['cases']:,} cases, "
        f"{arrivals['rate_per_hour'] * 24:.3g} a day on average",
        f"left out below {report['min_share']:.0%} of a step's departures: "
        f"{dropped} {plural(dropped, 'edge')} ({filtered['pairs']:,} of the log's "
        f"directly-follows pairs), {gone} {plural(gone, 'activity', 'activities')}",
    ]
    if report.get("resolution"):
        lines.insert(0, str(report["resolution"]))
    if report["on_duty_total"]:
        lines.append(f"most resources on duty in one hour: {report['on_duty_total']}")
    for block in report["parallel"]:
        branches = " | ".join(", ".join(branch) for branch in block["branches"])
        lines.append(
            f"parallel: {block['fork']} .. {block['join']}: {branches} "
            f"({block['complete']:,} of {block['runs']:,} stretches hold every branch)"
        )
    for note in report["parallel_notes"][:3]:
        lines.append(f"not parallel: {note}")
    for pair in report["interleaving"][:3]:
        lines.append(
            f"interleaving (both orders often, modelled as alternatives): "
            f"{pair['a']!r} and {pair['b']!r} ({pair['a_then_b']} / {pair['b_then_a']})"
        )
    counts: dict[str, int] = {}
    for finding in result.findings:
        counts[str(finding.severity)] = counts.get(str(finding.severity), 0) + 1
    lint = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no findings"
    lines.append(f"lint: {lint}")
    parts: list[Any] = [head, Text(), steps, Text(), roles, Text()]
    parts += [Text(line, style="dim") for line in lines]
    if not is_quiet():
        where = "standard output" if output == STDOUT else output
        parts += [Text(), literal(f"wrote {where}", style="ok")]
    print_trimmed(console, Group(*parts))


@click.command("discover")
@log_argument
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    default=STDOUT,
    help="Where to write the process ('-' for standard output, the default).",
)
@click.option(
    "--min-share",
    metavar="SHARE",
    default=str(DEFAULT_MIN_SHARE),
    show_default=True,
    help="Leave out directly-follows edges below this share of a step's departures (0.05 or 5%).",
)
@click.option("--process-id", metavar="ID", help="The process id [default: from the log's name].")
@click.option(
    "--forks/--no-forks",
    default=True,
    show_default=True,
    help="Write activities that interleave as parallel branches (fork/join) where they "
    "form a clean block; --no-forks: as alternatives.",
)
@format_option("How to report what was inferred (json: every estimate and its evidence).")
@log_options
def discover_command(
    log_path: str,
    output: str,
    min_share: str,
    process_id: str | None,
    forks: bool,
    output_format: str,
    **options: Any,
) -> int:
    """Discover a process from an event log: steps, roles, durations, waits, arrivals.

    \b
    Examples:
      procflow discover examples/logs/receipt.csv -o receipt.yaml
      procflow discover events.xes --min-share 2% --format json -o p.yaml
    """
    from procflow._discover import discover

    share = parse_share(min_share, "--min-share")
    refuse_input_as_output(output, [log_path])
    log = open_log(log_path, options)
    result = discover(log, min_share=min(share, 0.999), process_id=process_id, forks=forks)
    if output == STDOUT:
        sys.stdout.write(result.text)
        sys.stdout.flush()
    else:
        write_atomic(output, result.text)
    if output_format == "json":
        document = {**result.to_dict(), "output": output}
        document["lint"] = [f.code for f in result.findings]
        write_json(document, sys.stderr if output == STDOUT else sys.stdout)
    else:
        render_report(result, make_console(stderr=output == STDOUT), output)
    return 0


commands = [discover_command]
