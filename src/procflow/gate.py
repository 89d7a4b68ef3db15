"""The runnable gate: a process may be analyzed, simulated, replayed or run live only past it.

:func:`runnable` returns the process's :class:`~procflow.compiled.CompiledProcess`
when none of the blocking checks (:mod:`procflow.checks`: unknown targets
or start, dead ends, traps, end steps with exits, no end step, undeclared
step owners, bad probabilities) finds an error, and raises
:class:`~procflow.errors.ProcessError` listing every blocking problem with
its file position otherwise. What passes the gate needs no checking again:
analysis, simulation, replay and live cases take the compiled process it
returns.

The gate lives below the linter and the maths: it imports neither. The
lint rules of the same codes run the same checks (one implementation), and
the results are kept on the compiled process, so the gate answers from
what lint already found when both look at one process object.

>>> from procflow.loader import load_text
>>> p = load_text('{process: p, start: a, steps: {a: {next: b}, b: {end: true}}}')
>>> runnable(p).steps
('a', 'b')
>>> bad = load_text('{process: p, start: a, steps: {a: {next: c}, b: {end: true}}}')
>>> [problem.code for problem in blocking_problems(bad)]
['PF101']
"""

from __future__ import annotations

from procflow.checks import BLOCKING, violations
from procflow.compiled import CompiledProcess
from procflow.errors import Problem, ProcessError
from procflow.findings import Violation
from procflow.model import Process

__all__ = ["BLOCKING_CODES", "blocking_problems", "blocks", "ensure_runnable", "runnable"]

#: Codes whose errors make analysis, simulation and live cases meaningless.
#: PF201 (missing owner) is not among them: an owner-less step is a pure delay.
BLOCKING_CODES: frozenset[str] = frozenset(BLOCKING)


def blocks(code: str, violation: Violation) -> bool:
    """Whether a violation of blocking check ``code`` stops the process from running.

    An unknown owner on a goal, a RACI list or the process itself is
    harmless to running it; only a step's own undeclared owner blocks. So is
    an unknown attribute in a goal's ``where:`` (PF801 elsewhere blocks).
    """
    if code == "PF202":
        path = violation.path
        return len(path) >= 2 and path[0] == "steps" and not ({"consulted", "informed"} & set(path))
    if code == "PF801":  # a goal's `where:` misleads its verdict, not the run
        return violation.path[:1] != ("goals",)
    return True


def blocking_problems(process: Process) -> list[Problem]:
    """The structural errors that make running ``process`` meaningless, with positions.

    Sorted by position, then code; computed once per process object.
    """
    compiled = CompiledProcess.of(process)
    cached: tuple[Problem, ...] | None = compiled.memo("gate")
    if cached is None:
        cached = compiled.remember("gate", tuple(_problems(process)))
    return list(cached)


def _problems(process: Process) -> list[Problem]:
    locate = process.source.locate
    problems: list[Problem] = []
    for code, (name, _check) in BLOCKING.items():
        try:
            found = violations(process, code)
        except Exception:  # a crashing check blocks nothing; lint reports it as a finding
            continue
        for violation in found:
            if blocks(code, violation):
                position = locate(violation.path, violation.part)
                problems.append(Problem(code, f"{name}: {violation.message}", position))
    problems.sort(key=lambda p: (p.position, p.code))
    return problems


def runnable(process: Process) -> CompiledProcess:
    """``process`` compiled, once no blocking error is left: the proof that it may run.

    Raises :class:`ProcessError` with every blocking problem and its
    position (the message names the ``procflow lint`` command to run), and
    :class:`TypeError` for anything but a :class:`~procflow.model.Process`
    (paths are loaded by the public API, :mod:`procflow`, not here).
    """
    if not isinstance(process, Process):
        raise TypeError(
            f"takes a Process (procflow.load(path) gives one), not {type(process).__name__}"
        )
    problems = blocking_problems(process)
    if problems:
        raise ProcessError(
            problems,
            f"{process.source.file}: process {process.id!r} cannot be run until "
            f"{'these errors are' if len(problems) > 1 else 'this error is'} fixed "
            f"(procflow lint {process.source.file})",
        )
    return CompiledProcess.of(process)


def ensure_runnable(process: Process) -> None:
    """Raise :class:`ProcessError` when ``process`` cannot be analyzed, simulated or run.

    Unknown targets or start, dead ends, traps, end steps with exits, no end
    step, step owners that are not declared, and bad probabilities block;
    everything else (missing owners, unreachable steps, goals) does not.
    """
    runnable(process)
