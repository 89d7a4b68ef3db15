"""``procflow new NAME``: write a commented starter process that lints clean.

The starter shows every part of the file format -- owners with capacity,
an external owner, arrivals, durations, a branch with probabilities, a
bounded rework loop, RACI and a SMART goal -- so a team can edit rather
than start from a blank page. It never overwrites a file unless told to.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from importlib import resources
from pathlib import Path
from string import Template

import click

from procflow.cli.console import make_console, safe
from procflow.errors import ConfigError, FileAccessError
from procflow.fileio import write_atomic
from procflow.model import ID_PATTERN


def starter(process_id: str, path: str = "", today: date | None = None) -> str:
    """The starter process text for ``process_id`` (its goal deadline a year from ``today``)."""
    if not re.match(ID_PATTERN, process_id):
        raise ConfigError(
            f"{process_id!r} is not a valid process id: use lower-case letters, digits, "
            "'-' and '_', starting with a letter (e.g. order-fulfilment)"
        )
    day = today or date.today()
    try:
        deadline = day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        deadline = day.replace(year=day.year + 1, day=28)
    template = Template(
        resources.files("procflow.templates").joinpath("process.yaml").read_text(encoding="utf-8")
    )
    title = process_id.replace("-", " ").replace("_", " ")
    return template.substitute(
        process_id=_text(process_id),
        title=_text(title[:1].upper() + title[1:]),
        deadline=deadline.isoformat(),
        path=path or f"processes/{process_id}.yaml",
    )


def _text(value: str) -> str:
    """``value`` as a YAML text: quoted where YAML 1.2 would read null or a boolean
    (``procflow new null`` wrote ``process: null``, which does not lint)."""
    return f'"{value}"' if value.lower() in ("null", "true", "false") else value


@click.command("new")
@click.argument("name")
@click.option(
    "-o",
    "--output",
    metavar="PATH",
    help="Where to write it ('-' for standard output) [default: processes/NAME.yaml].",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def new_command(name: str, output: str | None, force: bool) -> int:
    """Write a commented starter process NAME that lints clean."""
    if output == "-":
        sys.stdout.write(starter(name))
        return 0
    target = Path(output) if output else Path("processes") / f"{name}.yaml"
    try:
        if target.is_dir():
            target = target / f"{name}.yaml"
        exists = target.exists()
    except OSError as exc:  # a name too long for the file system: it cannot be looked up
        raise FileAccessError(str(target), f"cannot write: {exc.strerror or exc}") from None
    text = starter(name, target.as_posix())
    if exists and not force:
        raise FileAccessError(str(target), "already exists; use --force to overwrite it")
    write_atomic(target, text)
    console = make_console(chatter=True)
    console.print(f"[ok]Wrote[/ok] [path]{safe(target)}[/path]")
    console.print(
        f"Next: edit it, then run [code]procflow lint {safe(target)}[/code]", highlight=False
    )
    return 0


commands = [new_command]
