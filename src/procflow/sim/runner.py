"""Running replications: in this process, on the machine's cores, or on a Dask cluster.

A replication is a pure function of ``(plan, run, seed, cases, warmup)``
(:func:`procflow.sim.engine.run_replication`), so where it runs does not
change its result: in-process, in a :class:`~concurrent.futures.ProcessPoolExecutor`
worker, or on a ``dask.distributed`` worker, the same seed gives the same
numbers, and results are put back in run order before they are aggregated.

By default (``jobs=None``) replications use every core, except for small
simulations, where starting worker processes would cost more than it saves.
``scheduler`` sends them to a Dask scheduler instead (``pip install
'procflow[dask]'``); it is imported only then.

Ctrl-C (or a run that fails) must not wait for the other runs: workers
ignore SIGINT, and the parent cancels what has not started and terminates
the worker processes before the interrupt goes on (the CLI exits 130).
"""

from __future__ import annotations

import importlib
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from procflow.errors import ConfigError
from procflow.sim.engine import EventSink, RunStats, run_replication
from procflow.sim.plan import Plan

SMALL = 100_000
"""Below this many cases in all, ``jobs=None`` runs everything in this process."""
DASK_TIMEOUT = "10s"
"""How long to try to reach a Dask scheduler before giving up."""

ProgressCallback = Callable[[int, int], None]
"""Called with ``(cases simulated so far, cases in all)``."""

Task = tuple[Plan, int, int, int, int]


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _worker_init() -> None:
    """Workers ignore Ctrl-C: the parent handles it and ends them (no traceback from each)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _abandon(executor: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the worker processes now.

    ``shutdown(wait=True)`` would wait for every running replication -- minutes
    after a Ctrl-C. The pool's processes are only reachable through its private
    ``_processes``; without it (another Python) the workers end when their run does.
    """
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=2.0)


def _run_task(task: Task) -> RunStats:
    plan, run, seed, cases, warmup = task
    return run_replication(plan, run, seed, cases, warmup)


class _Tally:
    """Adds up progress from the tasks, whichever order they report in."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.callback = callback
        self.done = 0

    def finished(self, cases: int) -> None:
        self.done += cases
        if self.callback is not None:
            self.callback(self.done, self.total)

    def within(self, cases_so_far: int) -> None:
        if self.callback is not None:
            self.callback(self.done + cases_so_far, self.total)


def run_replications(
    plans: Sequence[Plan],
    *,
    runs: int,
    seed: int,
    cases: int,
    warmup: int,
    jobs: int | None = None,
    scheduler: Any = None,
    log: EventSink | Sequence[EventSink | None] | None = None,
    progress: ProgressCallback | None = None,
) -> list[list[RunStats]]:
    """Run ``runs`` replications of every plan; ``result[p][r]`` is run ``r`` of plan ``p``.

    With ``log`` (one sink, for the first plan, or one sink or None per
    plan), run 1 of each plan with a sink is simulated in this process and
    writes its events there.
    """
    tasks: list[Task] = [(plan, run, seed, cases, warmup) for plan in plans for run in range(runs)]
    tally = _Tally(len(tasks) * cases, progress)
    results: list[RunStats | None] = [None] * len(tasks)
    sinks: dict[int, EventSink] = {}
    if log is not None:
        chosen = list(log) if isinstance(log, Sequence) else [log]
        sinks = {p * runs: sink for p, sink in enumerate(chosen[: len(plans)]) if sink is not None}
    local: list[int] = list(sinks)
    remote = [index for index in range(len(tasks)) if index not in sinks]
    if scheduler is None:
        workers = default_jobs() if jobs is None else jobs
        if jobs is None and len(tasks) * cases < SMALL:
            workers = 1
        workers = min(workers, len(remote))
        if workers <= 1:
            local.extend(remote)
            remote = []

    pending: dict[Future[RunStats], int] = {}
    dask_pending: dict[Any, int] = {}
    executor: ProcessPoolExecutor | None = None
    client: Any = None
    finished = False
    try:
        if remote and scheduler is not None:
            client, futures = _submit_dask(scheduler, [tasks[i] for i in remote])
            dask_pending = dict(zip(futures, remote, strict=True))
        elif remote:
            executor = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
            # submit everything before anything else starts a thread (see fork safety)
            pending = {executor.submit(_run_task, tasks[i]): i for i in remote}
        for index in sorted(local):
            plan, run, task_seed, task_cases, task_warmup = tasks[index]
            results[index] = run_replication(
                plan,
                run,
                task_seed,
                task_cases,
                task_warmup,
                log=sinks.get(index),
                progress=tally.within,
            )
            tally.finished(task_cases)
        while pending:
            done, _ = wait(list(pending), timeout=0.25, return_when=FIRST_COMPLETED)
            tally.within(0)  # let a progress bar appear and tick while workers run
            for future in done:
                index = pending.pop(future)
                results[index] = future.result()
                tally.finished(cases)
        if client is not None:
            results_by_index = _gather_dask(client, dask_pending, tally, cases)
            for index, stats in results_by_index.items():
                results[index] = stats
        finished = True
    finally:
        if executor is not None:
            if finished:
                executor.shutdown(wait=True)
            else:  # Ctrl-C or a failed run: do not wait for the other runs to finish
                _abandon(executor)
        if client is not None:
            if not finished:
                client.cancel(list(dask_pending))
            if not _is_client(scheduler):
                client.close()
    done_results = [r for r in results if r is not None]
    assert len(done_results) == len(tasks)
    return [done_results[p * runs : (p + 1) * runs] for p in range(len(plans))]


def _distributed() -> Any:
    """``dask.distributed``, imported only when a scheduler is used (an optional extra)."""
    return importlib.import_module("distributed")


def _is_client(scheduler: Any) -> bool:
    return hasattr(scheduler, "submit") and hasattr(scheduler, "gather")


def _submit_dask(scheduler: Any, tasks: list[Task]) -> tuple[Any, list[Any]]:
    """Connect to ``scheduler`` (an address or a ``distributed.Client``) and submit ``tasks``."""
    if _is_client(scheduler):
        client = scheduler
    else:
        try:
            distributed = _distributed()
        except ImportError:
            raise ConfigError(
                "--scheduler needs dask.distributed, which is not installed: "
                "pip install 'procflow[dask]'"
            ) from None
        try:
            client = distributed.Client(str(scheduler), timeout=DASK_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    futures = client.map(_run_task, tasks, pure=False)
    return client, futures


def _gather_dask(
    client: Any, pending: dict[Any, int], tally: _Tally, cases: int
) -> dict[int, RunStats]:
    as_completed = _distributed().as_completed
    found: dict[int, RunStats] = {}
    for future in as_completed(list(pending)):
        found[pending[future]] = future.result()
        tally.finished(cases)
    return found


__all__ = ["SMALL", "ProgressCallback", "default_jobs", "run_replications"]
