"""Everything the report shows about one process, computed with the public API only.

:func:`collect` loads nothing itself beyond what it is given and calls
``procflow.lint``, ``procflow.analyze``, ``procflow.simulate``,
``procflow.compare``, ``procflow.optimize`` and ``procflow.fidelity`` (when
asked) and the diagram renderer. A process that cannot be analyzed or simulated (lint errors, no
arrivals) still gets a section: the failure is kept as text and shown in
the page instead of stopping the report, so one broken file does not hide
the others. What is wrong with the options or the event log stops it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from procflow._lint import lint
from procflow._optimize import Optimization, optimize
from procflow.analysis import analyze
from procflow.distance.fidelity import fidelity
from procflow.distance.result import Fidelity
from procflow.errors import (
    ConfigError,
    GraphvizNotFound,
    ProcessError,
    ProcflowError,
    SimulationError,
)
from procflow.eventlog.reader import EventLog
from procflow.findings import Finding
from procflow.htmlreport.wip import OpenCases, WipSeries, wip_series
from procflow.loader import load_change
from procflow.model import Change, Process
from procflow.sim import Comparison, SimulationResult, compare, simulate
from procflow.sim.workingtime import start_of


@dataclass(frozen=True)
class Settings:
    """How every process of a report is simulated (the command's options)."""

    cases: int = 10_000
    runs: int = 10
    seed: int = 0
    jobs: int | None = None
    changes: tuple[tuple[str, Change], ...] = ()
    """(name, change) pairs, compared with each process on common random numbers."""
    scheduler: Any = None
    """A Dask scheduler address or client for the runs (as :func:`procflow.simulate`)."""
    log: EventLog | None = None
    """A real event log every process is measured against (``procflow fidelity``), if any."""
    optimize: bool = False
    """Search every process's cheapest staffing meeting its goals (``procflow optimize``)."""
    start: str | datetime | None = None
    """When the runs of a process with calendars start (``--start``; docs/working-time.md)."""


@dataclass
class ProcessData:
    """One process's section of the report; ``*_error`` says why a part is missing."""

    name: str
    process: Process
    findings: list[Finding]
    diagram: str | None = None
    diagram_error: str | None = None
    analysis: dict[str, Any] | None = None
    analysis_error: str | None = None
    working_time: tuple[str, ...] = ()
    """Owners with a calendar: their analytic waits are approximate and in working time."""
    simulation: SimulationResult | None = None
    simulation_error: str | None = None
    comparison: Comparison | None = None
    comparison_error: str | None = None
    wip: WipSeries | None = None
    """Open cases over the time of run 1 (:mod:`procflow.htmlreport.wip`)."""
    fidelity: Fidelity | None = None
    fidelity_error: str | None = None
    optimization: Optimization | None = None
    optimization_error: str | None = None
    extras: list[Any] = field(default_factory=list)
    """Seam for sections other commands add later (``--log LOG``: fidelity)."""


def _message(error: ProcflowError) -> str:
    if isinstance(error, ProcessError) and error.problems:
        details = "; ".join(f"{p.position}: {p.code} {p.message}" for p in error.problems[:5])
        return f"{error.summary}: {details}"
    return str(error)


def diagram_svg(process: Process) -> str:
    """The Graphviz SVG of ``process`` with lanes and highlights (raises without ``dot``)."""
    from procflow._render import diagram, to_dot
    from procflow._render.layout import run_dot

    drawn = diagram(process, lanes=True, highlight=True, legend=True)
    return run_dot(to_dot(drawn), "svg").decode("utf-8")


def collect(name: str, process: Process, settings: Settings) -> ProcessData:
    """Lint, draw, analyze, simulate and compare ``process``, keeping failures as text."""
    data = ProcessData(name, process, lint(process))
    try:
        data.diagram = diagram_svg(process)
    except GraphvizNotFound:
        data.diagram_error = "Graphviz's dot is not installed, so the diagram is missing"
    except ProcflowError as error:
        data.diagram_error = _message(error)
    try:
        analyzed = analyze(process)
        data.analysis = analyzed.to_dict()
        data.working_time = tuple(o.id for o in analyzed.loads.values() if o.on_duty is not None)
    except ProcflowError as error:
        data.analysis_error = _message(error)
    options: dict[str, Any] = {
        "cases": settings.cases,
        "runs": settings.runs,
        "seed": settings.seed,
        "jobs": settings.jobs,
        "scheduler": settings.scheduler,
        "start": start_of(process, settings.start),
    }
    run_one = OpenCases(settings.cases)  # run 1's events: the WIP-over-time plot
    if settings.changes:
        _compare(data, settings, options, run_one)
    if data.comparison is None:
        if settings.changes:  # a failed comparison may have begun run 1
            run_one = OpenCases(settings.cases)
        try:
            data.simulation = simulate(process, **options, log=run_one)
        except ConfigError:
            raise  # the options (an unreachable --scheduler), not this process: exit 2
        except ProcflowError as error:
            data.simulation_error = _message(error)
            data.comparison_error = None  # the baseline itself cannot run: nothing compared
    if data.simulation is not None:
        data.wip = wip_series(run_one, data.simulation.warmup)
    if settings.optimize and data.simulation is not None:
        try:
            data.optimization = optimize(process, **options)
        except (ProcessError, SimulationError) as error:  # e.g. no goals: this process's
            data.optimization_error = _message(error)
    if settings.log is not None:
        try:
            data.fidelity = fidelity(process, settings.log, runs=settings.runs, seed=settings.seed)
        except (ProcessError, SimulationError) as error:  # this process's; a bad log stops all
            data.fidelity_error = _message(error)
    return data


def _compare(
    data: ProcessData, settings: Settings, options: dict[str, Any], run_one: OpenCases
) -> None:
    """The comparison with the changes; its baseline is the process's simulation.

    The baseline of a comparison with an explicit number of cases is exactly
    what ``simulate`` gives with the same options (the same plan, seed, warm-up
    and runs; run 1's events go to ``run_one``), so it is simulated once, not
    again. When the comparison fails (a change that leaves an invalid process,
    a budget the changes exceed) the error is kept and :func:`collect` simulates
    the process alone, as before.
    """
    names = [change_name for change_name, _ in settings.changes]
    changes = [change for _, change in settings.changes]
    try:
        data.comparison = compare(data.process, *changes, names=names, **options, log=[run_one])
    except ConfigError:
        raise  # the options (an unreachable --scheduler), not this process: exit 2
    except ProcflowError as error:
        data.comparison_error = _message(error)
        return
    data.simulation = data.comparison.baseline


def load_changes(
    changes: Sequence[Change | str | os.PathLike[str]],
) -> tuple[tuple[str, Change], ...]:
    """Each change (a ``Change`` or a change file) with the name the page shows for it."""
    loaded: list[tuple[str, Change]] = []
    for change in changes:
        if isinstance(change, Change):
            loaded.append((change.id, change))
        else:
            loaded.append((os.fspath(change), load_change(change)))
    return tuple(loaded)
