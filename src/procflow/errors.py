"""The procflow exception tree.

Every error procflow raises on purpose derives from :class:`ProcflowError`,
carries the exit code the command line uses for it, and -- when it is about a
file -- the file, line and column, so that no command ever has to show a
traceback to explain bad input::

    ProcflowError                 exit 2 unless stated
    ├── FileAccessError           a path does not exist or cannot be read
    ├── ProcessError              a file is not a valid process (or change, or roster)
    │                             .problems: every Problem found, each with a position
    ├── ConfigError               [tool.procflow] / procflow.toml / option problems
    ├── RenderError               a diagram cannot be drawn
    │   └── GraphvizNotFound      the `dot` binary is missing
    ├── SimulationError           the process cannot be simulated or analyzed
    ├── CaseError                 a live case was driven wrongly
    │   └── InvalidTrigger        the trigger is not allowed at the current step
    └── EventLogError             an event log cannot be read (names the row)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Position:
    """A place in a source file; ``line`` and ``column`` are 1-based."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: a rule code (PF001/PF002/PF003), a message, a position."""

    code: str
    message: str
    position: Position

    def __str__(self) -> str:
        return f"{self.position}: {self.code} {self.message}"


class ProcflowError(Exception):
    """Base of every error procflow raises deliberately."""

    exit_code: int = 2


class FileAccessError(ProcflowError):
    """A path does not exist, is a directory where a file is needed, or cannot be read."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class ProcessError(ProcflowError):
    """A file is not a valid process, change or roster file.

    ``problems`` lists everything found (not just the first), each with the
    file, line and column it is about; ``str()`` shows them one per line.
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], summary: str = "") -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        first = self.problems[0] if self.problems else None
        self.summary = summary or (
            f"{first.position.file}: not a valid process" if first else "not a valid process"
        )
        super().__init__("\n".join(str(p) for p in self.problems) or self.summary)

    @property
    def path(self) -> str | None:
        """The file of the first problem, when there is one."""
        return self.problems[0].position.file if self.problems else None


class ConfigError(ProcflowError):
    """Configuration or command-line options are wrong."""


class RenderError(ProcflowError):
    """A diagram cannot be drawn."""


class GraphvizNotFound(RenderError):
    """The Graphviz ``dot`` binary is not installed or not on PATH."""


class SimulationError(ProcflowError):
    """The process cannot be analyzed or simulated as declared (e.g. no arrivals)."""


class CaseError(ProcflowError):
    """A live case was used wrongly (e.g. triggered after it finished)."""


class InvalidTrigger(CaseError):
    """The trigger is not one of those allowed at the case's current step."""

    def __init__(self, step: str, trigger: str, allowed: list[str]) -> None:
        self.step = step
        self.trigger = trigger
        self.allowed = allowed
        shown = ", ".join(repr(a) for a in allowed) if allowed else "none (the case is done)"
        super().__init__(f"trigger {trigger!r} is not allowed at step {step!r}; allowed: {shown}")


class EventLogError(ProcflowError):
    """An event log cannot be read; the message names the file and the row."""

    def __init__(self, path: str, message: str, row: int | None = None) -> None:
        self.path = path
        self.row = row
        where = f"{path}:{row}" if row is not None else path
        super().__init__(f"{where}: {message}")


#: Hints already worked out: a file that misspells one owner on every step asks
#: for the same hint thousands of times, and each costs a difflib pass over every
#: choice (10,000 findings took 30 s without this, lint of the file 0.4 s with it).
_HINTS: dict[tuple[str, tuple[str, ...]], str] = {}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'triage'?)`` when a choice is close to ``word``, else ``""``.

    The one wording of a typo hint, in files, configuration and options alike.
    """
    options = tuple(choices)
    key = (word, options)
    hint = _HINTS.get(key)
    if hint is None:
        import difflib  # only when there is something to explain

        close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if len(_HINTS) >= 1024:
            _HINTS.clear()
        _HINTS[key] = hint
    return hint
