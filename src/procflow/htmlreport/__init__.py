"""``procflow report``: one self-contained HTML page about one or more processes.

Per process: the diagram, lint findings, the analytic model, the
simulation with plots and goal verdicts, and the comparison with changes.
Everything is computed with the public API (:mod:`.collect`), plotted with
matplotlib (:mod:`.plots`, the optional ``report`` extra), sanitized
(:mod:`.svg`) and written as one HTML page (:mod:`.page`, :mod:`.sections`)
that makes no request when opened, so it can be e-mailed or attached to a
ticket. (Named ``htmlreport`` because :mod:`procflow.report` holds the lint
report renderers.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from procflow.model import Change, Process

if TYPE_CHECKING:
    from procflow.eventlog.reader import EventLog

ProcessLike = Process | str | os.PathLike[str]


def _processes(items: ProcessLike | Iterable[ProcessLike]) -> list[tuple[str, Process]]:
    from procflow.loader import load

    if isinstance(items, Process | str | os.PathLike):
        items = [items]
    loaded: list[tuple[str, Process]] = []
    for item in items:
        if isinstance(item, Process):
            loaded.append((str(item.source.file), item))
        elif isinstance(item, str | os.PathLike):
            loaded.append((os.fspath(item), load(item)))
        else:
            raise TypeError(
                "html_report() takes Process objects or process file paths, "
                f"not {type(item).__name__}"
            )
    if not loaded:
        raise TypeError("html_report() needs at least one process")
    return loaded


def html_report(
    paths_or_processes: ProcessLike | Iterable[ProcessLike],
    output: str | os.PathLike[str] | None = None,
    *,
    changes: Sequence[Change | str | os.PathLike[str]] = (),
    cases: int = 10_000,
    runs: int = 10,
    seed: int = 0,
    jobs: int | None = None,
    scheduler: Any = None,
    log: EventLog | str | os.PathLike[str] | None = None,
    optimize: bool = False,
    date: str | None = None,
    start: str | datetime | None = None,
) -> str:
    """The HTML report of the processes (loaded from paths where given); also written to ``output``.

    Each process is linted, drawn, analyzed and simulated with ``cases``,
    ``runs``, ``seed``, ``jobs`` and ``scheduler`` (as :func:`procflow.simulate`),
    compared with each of ``changes`` (``Change`` objects or change files) on
    common random numbers and, with ``log`` (an event log or its file), measured
    against it as :func:`procflow.fidelity` does (``runs`` and ``seed``). With
    ``optimize=True`` each gets the cheapest staffing meeting its goals, as
    :func:`procflow.optimize` finds it with the same options.
    ``start`` (ISO 8601 text or an aware datetime) is when the runs of a process with
    calendars start (docs/working-time.md). ``date`` is printed in the header when given;
    without it the same
    inputs give the same bytes. Raises :class:`~procflow.errors.ProcflowError`
    (exit 2) when matplotlib is missing (``pip install 'procflow[report]'``),
    and the loader's errors for files that are not valid processes, changes or logs.
    """
    from procflow.eventlog.reader import read_log
    from procflow.fileio import write_atomic
    from procflow.htmlreport.collect import Settings, collect, load_changes
    from procflow.htmlreport.page import page
    from procflow.htmlreport.plots import require_matplotlib

    require_matplotlib()
    processes = _processes(paths_or_processes)
    events = read_log(log) if isinstance(log, str | os.PathLike) else log
    settings = Settings(
        cases, runs, seed, jobs, load_changes(changes), scheduler, events, optimize, start
    )
    data = [collect(name, process, settings) for name, process in processes]
    text = page(data, settings, date)
    if output is not None:
        write_atomic(output, text.encode("utf-8"))
    return text


__all__ = ["html_report"]
