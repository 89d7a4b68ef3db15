"""``procflow import FILE.bpmn`` and ``procflow export PATH --to bpmn`` (docs/commands.md).

``import`` writes the process file (standard output unless ``-o``), names
every BPMN element it cannot represent on standard error with its id and
``file:line:col`` (``--strict`` makes them errors, exit 2), and lints what
it wrote: exit 1 when the imported process has lint errors (the model was
not sound), else 0. ``export`` writes BPMN 2.0 XML with its diagram
(standard output unless ``-o``) and, with ``--params``, Prosimos-style
simulation parameters; what neither can carry (a priority, values ``by:``
an attribute) is named in a note on standard error, and the export goes
on (docs/bpmn.md#what-is-lost). Files are written atomically.
"""

from __future__ import annotations

import sys

import click

from procflow.cli.console import make_console, safe
from procflow.cli.params import one_file, process_argument
from procflow.errors import ConfigError
from procflow.fileio import write_atomic


def _emit(data: bytes, output: str) -> None:
    if output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_atomic(output, data)


@click.command("import")
@click.argument("file", metavar="FILE.bpmn", callback=one_file)
@click.option(
    "--params",
    "params_path",
    metavar="P.json",
    default=None,
    help="Prosimos-style simulation parameters: branching probabilities, durations, "
    "resource amounts, arrivals.",
)
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="FILE",
    help="Where to write the process file; '-' is standard output.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Elements that cannot be represented are errors (exit 2) rather than warnings.",
)
def import_command(file: str, params_path: str | None, output: str, strict: bool) -> int:
    """Read a BPMN 2.0 model (Camunda Modeler, bpmn.io, Signavio) as a procflow process.

    Lanes become owners, tasks steps, exclusive gateways transitions with
    probabilities, loops feedback transitions, timer events delay steps.
    """
    from procflow._lint import lint
    from procflow.bpmn import import_bpmn
    from procflow.loader import load_text

    result = import_bpmn(file, params_path)
    err = make_console(stderr=True)
    level = "[error]error:[/error]" if strict else "[warning]warning:[/warning]"
    for notice in result.notices:
        err.print(
            f"[path]{safe(f'{file}:{notice.line}:{notice.column}')}[/path]: {level} "
            f"{safe(notice.element)} {safe(repr(notice.id))}: {safe(notice.message)}",
            soft_wrap=True,
        )
    if strict and result.notices:
        err.print(
            f"[error]error:[/error] {len(result.notices)} element(s) cannot be represented "
            "(--strict); nothing written",
            soft_wrap=True,
        )
        return 2
    for warning in result.warnings:
        err.print(f"[warning]warning:[/warning] {safe(warning)}", soft_wrap=True)
    # nothing is written when the text does not load: its errors name what it came from
    process = load_text(result.text, f"<imported from {file}>")
    name = output if output != "-" else f"<imported from {file}>"
    findings = [f for f in lint(process) if str(f.severity) == "error"]
    _emit(result.text.encode("utf-8"), output)
    if output != "-":
        err.print(f"wrote [path]{safe(output)}[/path] (process {safe(result.process_id)})")
    for finding in findings:
        err.print(
            f"[path]{safe(f'{name}:{finding.line}:{finding.column}')}[/path]: "
            f"[code]{finding.code}[/code] {safe(finding.message)}",
            soft_wrap=True,
        )
    return 1 if findings else 0


@click.command("export")
@process_argument
@click.option(
    "--to",
    "target",
    type=click.Choice(["bpmn"]),
    required=True,
    help="The format to write: bpmn (BPMN 2.0 XML with its diagram).",
)
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="FILE.bpmn",
    help="Where to write the model; '-' is standard output.",
)
@click.option(
    "--params",
    "params_path",
    metavar="OUT.json",
    default=None,
    help="Also write Prosimos-style simulation parameters to this file.",
)
def export_command(path: str, target: str, output: str, params_path: str | None) -> int:
    """Write a process as BPMN 2.0 with a diagram that bpmn.io and Camunda Modeler open."""
    from procflow.bpmn import export_bpmn
    from procflow.bpmn.exporter import export_notes
    from procflow.loader import load

    if params_path is not None and params_path == output:
        raise ConfigError("--params and -o name the same file")
    process = load(path)
    data, params = export_bpmn(process, params=params_path is not None)
    _emit(data, output)
    err = make_console(stderr=True)
    for note in export_notes(process, params=params_path is not None):
        err.print(f"[path]{safe(path)}[/path]: note: {safe(note)}", soft_wrap=True)
    if output != "-":
        err.print(f"wrote [path]{safe(output)}[/path]")
    if params_path is not None and params is not None:
        write_atomic(params_path, params)
        err.print(f"wrote [path]{safe(params_path)}[/path]")
    return 0


commands = [import_command, export_command]
