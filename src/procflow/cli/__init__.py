"""The ``procflow`` command line: a click group and ``main(argv) -> int``.

Commands live one per module in this package and return their exit code.
:func:`main` is the only place that turns procflow errors into messages and
exit codes (docs/commands.md): 0 success, 1 findings or goals missed, 2 bad
usage, configuration or input. No traceback is ever shown for bad input.
"""

from __future__ import annotations

import atexit
import gc
import io
import os
import sys
from collections.abc import Sequence
from importlib import import_module
from types import ModuleType
from typing import Any

import click

from procflow import __version__
from procflow.cli import collector
from procflow.cli.console import error_text, make_console, safe, safe_message, set_quiet
from procflow.errors import FileAccessError, ProcessError, ProcflowError
from procflow.fileio import guarding_inputs
from procflow.safetext import printable_lines

#: Modules of this package that define ``commands`` (a list of click commands).
COMMAND_MODULES: tuple[str, ...] = (
    "lint",
    "rules",
    "schema",
    "new",
    "analyze",
    "diagram",
    "simulate",
    "checklog",
    "calibrate",
    "discover",
    "diff",
    "htmlreport",
    "fidelity",
    "bpmn",
    "levers",
    "optimize",
)

#: Commands that print chatter (progress, summaries, "wrote FILE") that ``-q`` silences.
QUIET_COMMANDS: frozenset[str] = frozenset(
    {"lint", "new", "diagram", "simulate", "compare", "calibrate", "levers", "optimize", "report"}
    | {"discover"}
)


def _quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        set_quiet(True)


def quiet_option() -> click.Option:
    """``-q``/``--quiet``, the same before the command (``procflow -q lint``) and after it."""
    return click.Option(
        ["-q", "--quiet"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_quiet,
        help="Print only results, findings and errors: no progress bars, summaries or "
        "'wrote FILE' lines.",
    )


#: Commands whose module is not named after them.
COMMAND_ALIASES: dict[str, str] = {"import": "bpmn", "export": "bpmn", "report": "htmlreport"}


class _LazyGroup(click.Group):
    """Imports a command's module when the command is used, not at start-up.

    ``procflow lint`` in a pre-commit hook should not pay for importing the
    simulator and the event-log readers. ``check-log`` lives in ``checklog``;
    a name that matches no module loads them all (as ``--help`` does).

    The garbage collector is kept off what the imports make: a command's
    modules make a great many long-lived objects (functions, classes,
    pydantic schemas) and no garbage, yet each collection walks them all.
    :func:`_import_frozen` pauses it during the import and freezes the
    objects after it (:func:`gc.freeze`); module-level objects live as long
    as the process anyway. Once a command has loaded, the process freezes
    everything again at exit, so the last collection does not walk every
    object just before the operating system frees the memory. That is ~30 ms
    of collections while importing and ~70 ms at exit: ``procflow lint`` of
    one file took 370 ms with them, 280 ms without.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: set[str] = set()

    def _load(self, modules: Sequence[str]) -> None:
        for name in modules:
            if name not in self._loaded:
                if not self._loaded:
                    atexit.register(gc.freeze)
                self._loaded.add(name)
                for command in _import_frozen(f"procflow.cli.{name}").commands:
                    if command.name in QUIET_COMMANDS and not any(
                        p.name == "quiet" for p in command.params
                    ):
                        command.params.append(quiet_option())
                    self.add_command(command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_ALIASES.get(cmd_name, cmd_name.replace("-", "").replace("_", ""))
        if cmd_name not in self.commands and module in COMMAND_MODULES:
            self._load([module])
        if cmd_name not in self.commands:
            self._load(COMMAND_MODULES)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load(COMMAND_MODULES)
        return super().list_commands(ctx)


def _import_frozen(name: str) -> ModuleType:
    """Import module ``name`` with the collector paused, then freeze every object."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        module = import_module(name)
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    return module


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="procflow")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_quiet,
    help="Print only results, findings and errors (also accepted after the command).",
)
def cli() -> None:
    """procflow: process-as-code for operations teams.

    Lint, draw, analyze and simulate business processes declared as YAML.

    \b
    Colour: on a terminal; NO_COLOR=1 turns it off, FORCE_COLOR=1 forces it.
    Shell completion: eval "$(_PROCFLOW_COMPLETE=bash_source procflow)" (also
    zsh_source, fish_source).
    """


def report_error(error: ProcflowError) -> None:
    """Print a procflow error to stderr: one line per problem, with positions."""
    console = make_console(stderr=True)
    if isinstance(error, ProcessError) and error.problems:
        for problem in error.problems:
            console.print(
                f"[path]{safe(problem.position)}[/path]: "
                f"[code]{problem.code}[/code] {safe(problem.message)}"
            )
        console.print(f"[error]error:[/error] {safe(error.summary)}")
    else:
        console.print(f"[error]error:[/error] {safe_message(error_text(error))}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if argv is None:  # the command line itself: the process ends with the command
        collector.ending()
    set_quiet(False)  # -q sets it again; main may run many times in one process (tests)
    try:
        with guarding_inputs():  # no output may replace a file the command read
            result = cli.main(args=args, prog_name="procflow", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        shown = io.StringIO()  # click's message may quote an argument: no control character
        exc.show(file=shown)
        sys.stderr.write(printable_lines(shown.getvalue()))
        sys.stderr.flush()
        return int(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except ProcflowError as exc:
        report_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        from procflow.fileio import WRITE_ERRNOS

        if exc.errno not in WRITE_ERRNOS or exc.filename is not None:
            return _crash(args, exc)
        # standard output on a full disk (a redirect): files name themselves (fileio)
        report_error(FileAccessError("standard output", f"cannot write: {exc.strerror}"))
        return 2
    except Exception as exc:  # a bug: say so in one line, as ruff does when it panics
        return _crash(args, exc)
    return result if isinstance(result, int) else 0


def _crash(args: Sequence[str], exc: Exception) -> int:
    if os.environ.get("PROCFLOW_DEBUG"):
        raise exc
    report_crash(args, exc)
    return 2


def report_crash(args: Sequence[str], exc: Exception) -> None:
    """One line for an unexpected exception: what ran, what broke, how to see more."""
    from procflow import __version__

    command = " ".join(["procflow", *args])
    detail = f"{type(exc).__name__}: {exc}"
    if len(detail) > 300:
        detail = detail[:297] + "..."
    make_console(stderr=True).print(
        f"[error]error:[/error] procflow {__version__} crashed running `{safe(command)}` "
        f"({safe(detail)}). This is a bug in procflow, not in your files: please report it "
        "with the input; PROCFLOW_DEBUG=1 shows the traceback.",
        soft_wrap=True,
    )
