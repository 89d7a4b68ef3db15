"""``procflow.diff``: what changed between two versions of a process, and what it does.

The structural part walks the pydantic model (:mod:`.structure`), so every
key of a process is compared without a list of keys to keep up to date;
the KPI part runs :func:`procflow.analyze` on both versions, and
:func:`procflow.compare` when asked to simulate (:mod:`.kpis`). Renderers
for pull-request comments and workflow annotations are in :mod:`.markdown`
and :mod:`.github`; :mod:`.git` reads a version from a git revision.

(The package is ``diffing`` rather than ``diff`` so that importing it does
not shadow the function ``procflow.diff``.)
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from procflow.diffing.kpis import analytic_effects, simulated_effects
from procflow.diffing.result import (
    KpiEffect,
    ProcessDiff,
    SimulatedEffect,
    Simulation,
    StructuralChange,
    Version,
)
from procflow.diffing.structure import structural_changes
from procflow.loader import as_process
from procflow.model import Process
from procflow.sim.workingtime import start_of

DEFAULT_CASES = 5_000
DEFAULT_RUNS = 10


def diff(
    old: Process | str | os.PathLike[str],
    new: Process | str | os.PathLike[str],
    *,
    simulate: bool = False,
    cases: int = DEFAULT_CASES,
    runs: int = DEFAULT_RUNS,
    seed: int | None = 0,
    start: str | datetime | None = None,
    **options: Any,
) -> ProcessDiff:
    """The structural changes from ``old`` to ``new`` and their effect on the KPIs.

    ``old`` and ``new`` are processes or paths of process files. With
    ``simulate=True`` both are also simulated on common random numbers
    (``cases``, ``runs``, ``seed`` and further options such as ``jobs`` as
    for :func:`procflow.compare`; ``start``, ISO 8601 text or an aware datetime, is when
    a version with calendars starts: docs/working-time.md). A version that cannot be analyzed or
    simulated still gets its structural diff; the reason is in
    ``ProcessDiff.old.analysis_error`` (or ``new``, or ``simulation.error``).

    >>> import procflow
    >>> text = '''
    ... process: desk
    ... owners: {agent: {capacity: 4}}
    ... arrivals: {rate: 9/h}
    ... start: serve
    ... steps:
    ...   serve: {owner: agent, duration: exponential(20m), next: done}
    ...   done: {end: true}
    ... '''
    >>> d = diff(procflow.load_text(text), procflow.load_text(text.replace("4}", "5}")))
    >>> [(c.what, c.old, c.new) for c in d.changes]
    [("capacity of owner 'agent'", '4', '5')]
    >>> [(k.old, k.new) for k in d.kpis if k.kpi == "utilization:agent"]
    [(0.75, 0.6)]
    """
    old_process = as_process(old, "diff")
    new_process = as_process(new, "diff")
    changes = tuple(structural_changes(old_process, new_process))
    kpis, old_error, new_error = analytic_effects(old_process, new_process)
    simulation = None
    if simulate:
        simulation = simulated_effects(
            old_process,
            new_process,
            cases=cases,
            runs=runs,
            seed=seed,
            start=start_of(old_process, start),
            **options,
        )
    return ProcessDiff(
        old=Version(old_process.source.file, old_process.id, old_error),
        new=Version(new_process.source.file, new_process.id, new_error),
        changes=changes,
        kpis=kpis,
        simulation=simulation,
    )


__all__ = [
    "KpiEffect",
    "ProcessDiff",
    "SimulatedEffect",
    "Simulation",
    "StructuralChange",
    "Version",
    "diff",
]
