"""``procflow diagram PATHS...``: draw processes as swimlane diagrams (docs/commands.md).

One file per process, ``<process-id>.<ext>``, in the output folder
(``diagrams/`` unless ``-o`` says otherwise; created if missing), each
written atomically. Every file is read before anything is drawn, so two
files declaring the same process id are refused instead of one diagram
silently overwriting the other.

Exit codes: 0 every diagram written; 2 when a path does not exist, a file
is not a valid process (each problem is printed with its position; the
other files are still drawn), Graphviz's ``dot`` is missing for svg/png/pdf
(checked before anything is read), or ``dot`` fails.
"""

from __future__ import annotations

import sys

import click

from procflow._render import EXTENSIONS, FORMATS, output_path, render_bytes
from procflow._render.layout import IMAGE_FORMATS, require_dot
from procflow.cli.console import error_text, is_quiet, make_console, safe, safe_message
from procflow.errors import ConfigError, FileAccessError, ProcessError, RenderError
from procflow.fileio import write_atomic
from procflow.loader import iter_yaml_files, load
from procflow.model import Process

DEFAULT_OUTPUT = "diagrams"

_FORMAT_HELP = (
    "svg, png or pdf (drawn by Graphviz's dot), dot (the Graphviz source), "
    "mermaid (.mmd, for GitHub Markdown) or markdown (.md with a mermaid block)."
)


@click.command("diagram")
@click.argument("paths", nargs=-1, required=True, metavar="PATHS...")
@click.option(
    "-o",
    "--output",
    default=DEFAULT_OUTPUT,
    show_default=True,
    metavar="FOLDER",
    help="Folder for the diagrams, created if missing; '-' writes one diagram to stdout.",
)
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="svg",
    show_default=True,
    help=_FORMAT_HELP,
)
@click.option(
    "--lanes/--no-lanes",
    default=True,
    show_default=True,
    help="One swimlane per owner, or a plain flow with the owner on each step.",
)
@click.option(
    "--highlight",
    is_flag=True,
    help="Mark lint findings on their steps and owners; shade owners by utilization.",
)
@click.option("--legend/--no-legend", default=True, show_default=True, help="Draw the legend.")
def diagram(
    paths: tuple[str, ...],
    output: str,
    output_format: str,
    lanes: bool,
    highlight: bool,
    legend: bool,
) -> int:
    """Draw each process as a diagram: swimlanes per owner, loops and bottlenecks in view.

    PATHS are process files, folders (searched for *.yaml and *.yml) or
    globs; '-' reads one process from standard input. Writes
    FOLDER/<process-id>.<ext> for each process.
    """
    if output_format in IMAGE_FORMATS:
        require_dot()
    err = make_console(stderr=True)
    files = list(iter_yaml_files(list(paths)))
    if not files:
        raise FileAccessError(", ".join(paths), "no .yaml or .yml files found")
    to_stdout = output == "-"
    if to_stdout and len(files) != 1:
        raise ConfigError(
            f"-o - writes one diagram to standard output, but {len(files)} files were given"
        )

    failed = False
    processes: list[Process] = []
    seen: dict[str, str] = {}
    for path in files:
        try:
            process = load(path)
        except ProcessError as exc:
            failed = True
            _report_problems(exc)
            continue
        except FileAccessError as exc:
            failed = True
            err.print(f"[error]error:[/error] {safe_message(error_text(exc))}")
            continue
        first = seen.get(process.id)
        if first is not None:
            failed = True
            err.print(
                f"[error]error:[/error] [path]{safe(path)}[/path]: process id "
                f"{safe(repr(process.id))} is also declared in {safe(first)}; their "
                "diagrams would overwrite each other (give each process its own id)"
            )
            continue
        seen[process.id] = path
        processes.append(process)

    out = make_console(stderr=to_stdout)
    written = 0
    for process in processes:
        try:
            data = render_bytes(
                process, output_format, lanes=lanes, highlight=highlight, legend=legend
            )
            if to_stdout:
                sys.stdout.flush()
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
                continue
            target = output_path(output, process.id, output_format)
            write_atomic(target, data)
        except RenderError as exc:
            failed = True
            err.print(
                f"[error]error:[/error] {safe(seen[process.id])}: {safe_message(error_text(exc))}"
            )
            continue
        written += 1
        if not is_quiet():
            out.print(f"wrote [path]{safe(target)}[/path]")
    if written > 1 and not is_quiet():
        extension = EXTENSIONS[output_format]
        out.print(f"[ok]{written} diagrams[/ok] ({extension}) in {safe(output)}")
    return 2 if failed else 0


def _report_problems(error: ProcessError) -> None:
    # Imported here: procflow.cli imports this module while it is being set up.
    from procflow.cli import report_error

    report_error(error)


commands = [diagram]
