"""``procflow.simulate`` and ``procflow.compare`` at the public API: paths in, files out.

The simulator (:mod:`procflow.sim`) takes loaded processes and returns
data; its events go to an :class:`~procflow.sim.engine.EventSink`. This
layer adds what the public functions also accept: the path of a process
file, and ``log=`` as a file name, which it opens here with
:func:`~procflow.eventlog.sinks.event_writer` -- XES for ``.xes`` and
``.xes.gz``, else CSV with ``log_columns`` (``procflow`` or ``pm4py``),
written atomically when the run is done -- and hands to the simulator as
its sink.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager, ExitStack, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

from procflow import sim
from procflow.eventlog.sinks import event_writer
from procflow.loader import as_process
from procflow.model import Change, Process
from procflow.sim import Comparison, SimulationResult
from procflow.sim.comparison import scenario_names
from procflow.sim.engine import EventSink
from procflow.sim.runlength import Cases
from procflow.sim.runner import ProgressCallback
from procflow.sim.simulation import DEFAULT_CASES, DEFAULT_RUNS, DEFAULT_SEED
from procflow.sim.workingtime import start_of

__all__ = ["compare", "scenario_logs", "simulate", "start_of"]


def _sink(
    log: str | os.PathLike[str] | EventSink | None,
    process: Process | None,
    columns: str,
    epoch: datetime | None = None,
) -> AbstractContextManager[Any]:
    """An event sink for ``log``: the sink itself, or a writer of the file it names."""
    if log is None or hasattr(log, "write_simulated"):
        return nullcontext(log)
    return event_writer(log, process, columns=columns, epoch=epoch)


def simulate(
    process: Process | str | os.PathLike[str],
    *,
    cases: Cases = DEFAULT_CASES,
    runs: int = DEFAULT_RUNS,
    seed: int | None = DEFAULT_SEED,
    warmup: int | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    log: str | os.PathLike[str] | EventSink | None = None,
    progress: ProgressCallback | None = None,
    log_columns: str = "procflow",
    start: str | datetime | None = None,
) -> SimulationResult:
    """Simulate ``process`` (docs/simulation-engine.md) and return KPIs with 95 % intervals.

        ``process`` is a :class:`~procflow.model.Process` or the path of a
        process file. ``cases`` arrive in each of ``runs`` independent replications; the first
        ``warmup`` are not counted (default: :func:`~procflow.sim.simulation.default_warmup`).
        The same ``seed`` gives the same result, whatever ``jobs`` (worker processes; default:
        the machine's cores) or ``scheduler`` (a Dask scheduler address or
        ``distributed.Client``) runs it; ``seed=None`` draws a fresh seed, which
        the result records. ``log`` (a path or an object with
        ``write_simulated``) receives the event log of the first run: a name
    ending in ``.xes`` or ``.xes.gz`` is written as XES, any other as CSV whose
    columns ``log_columns`` names (``procflow``: ``case,step,owner,start,end``;
    ``pm4py``: ``case:concept:name,concept:name,org:resource,start_timestamp,time:timestamp``).
    ``start`` (ISO 8601 text or an aware datetime) is when simulation time 0 falls: a
    process with calendars runs on that real clock (docs/working-time.md), and the log's
    timestamps count from it.

        Raises :class:`~procflow.errors.ProcessError` when the process has
        structural errors, :class:`~procflow.errors.SimulationError` when it
        lacks arrivals or durations or would need more than
        :data:`~procflow.sim.budget.MAX_VISITS` step visits (a loop cases
        almost never leave), :class:`~procflow.errors.ConfigError` for
        impossible options.

        >>> import procflow
        >>> p = procflow.load("processes/customer-service.yaml")  # doctest: +SKIP
        >>> r = procflow.simulate(p, cases=2_000, runs=5, seed=1)  # doctest: +SKIP
        >>> r["cycle_time.mean"].mean / 3600  # doctest: +SKIP
        5.6...
    """
    loaded = as_process(process, "simulate")
    origin = start_of(loaded, start)
    with _sink(
        log, loaded, log_columns, origin
    ) as sink:  # written atomically: a run that fails leaves no file
        return sim.simulate(
            loaded,
            cases=cases,
            runs=runs,
            seed=seed,
            warmup=warmup,
            jobs=jobs,
            scheduler=scheduler,
            log=sink,
            progress=progress,
            start=origin,
        )


def compare(
    baseline: Process | str | os.PathLike[str],
    *changes: Process | Change,
    names: Sequence[str] | None = None,
    cases: Cases = DEFAULT_CASES,
    runs: int = DEFAULT_RUNS,
    seed: int | None = DEFAULT_SEED,
    warmup: int | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    log: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    log_columns: str = "procflow",
    start: str | datetime | None = None,
) -> Comparison:
    """Simulate ``baseline`` and every change with common random numbers and compare KPIs.

    ``baseline`` is a :class:`~procflow.model.Process` or the path of a
    process file. A change is a changed :class:`~procflow.model.Process` (``p.apply(c)``,
    ``p.with_changes({...})``) or a :class:`~procflow.model.Change`, applied
    to ``baseline`` here (a change that leaves an invalid process raises
    :class:`~procflow.errors.ProcessError` pointing into the change file).
    ``names`` labels the changes (default: the change ids). Options are
    those of :func:`procflow.simulate`; ``log`` is a path from which
    :func:`scenario_logs` names one event log of run 1 per scenario
    (``events.baseline.csv``, ``events.<change>.csv``), each written
    atomically, as for :func:`procflow.simulate` (``log_columns``, XES). ``start``: as
    for :func:`procflow.simulate`, one clock for every scenario.
    """
    loaded = as_process(baseline, "compare")
    origin = start_of(loaded, start)
    options: dict[str, Any] = {
        "start": origin,
        "names": names,
        "cases": cases,
        "runs": runs,
        "seed": seed,
        "warmup": warmup,
        "jobs": jobs,
        "scheduler": scheduler,
        "progress": progress,
    }
    if log is None:
        return sim.compare(loaded, *changes, **options)
    labels = scenario_names(changes, names)
    with ExitStack() as stack:
        paths = scenario_logs(log, ["baseline", *labels]).values()
        scenarios = [loaded, *(_scenario(loaded, change) for change in changes)]
        sinks: list[EventSink | None] = []
        for path, scenario in zip(paths, scenarios, strict=True):
            writer = event_writer(path, scenario, columns=log_columns, epoch=origin)
            stack.enter_context(writer)  # enters as itself
            sinks.append(writer)
        return sim.compare(loaded, *changes, log=sinks, **options)


def _scenario(baseline: Process, change: object) -> Process | None:
    """The process a change simulates, whose step names its log uses (None: sim.compare says)."""
    if isinstance(change, Change):
        return baseline.apply(change)
    return change if isinstance(change, Process) else None


def scenario_logs(path: str | os.PathLike[str], names: Sequence[str]) -> dict[str, Path]:
    """Where ``compare --log PATH`` writes each scenario's event log.

    The scenario's name goes before the extension: ``events.csv`` gives
    ``events.baseline.csv`` and ``events.<change>.csv`` (characters other
    than letters, digits, ``_``, ``.`` and ``-`` become ``-``, so a name
    never leaves the folder); without an extension, ``.csv`` is added. A
    compressed log keeps both suffixes: ``events.csv.gz`` gives
    ``events.baseline.csv.gz``.
    """
    given = Path(path)
    suffixes = given.suffixes[-2:] if given.suffix.lower() == ".gz" else given.suffixes[-1:]
    suffix = "".join(suffixes) or ".csv"
    stem = given.name[: len(given.name) - len("".join(suffixes))] if suffixes else given.name
    found: dict[str, Path] = {}
    taken: set[str] = set()
    for name in names:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".") or "change"
        base, counter = safe, 2
        while safe in taken:
            safe = f"{base}-{counter}"
            counter += 1
        taken.add(safe)
        found[name] = given.with_name(f"{stem}.{safe}{suffix}")
    return found
