"""Running replications: in this process, on the machine's cores, or on a Dask cluster.

A replication is a pure function of ``(plan, run, seed, cases, warmup)``
(:func:`procflow.sim.engine.run_replication`), so where it runs does not
change its result: in-process, in a :class:`~concurrent.futures.ProcessPoolExecutor`
worker, or on a ``dask.distributed`` worker, the same seed gives the same
numbers, and results are put back in run order before they are aggregated.

By default (``jobs=None``) replications use every core, except for small
simulations, where starting worker processes would cost more than it saves:
below :data:`SMALL_VISITS` expected step visits in all (from the analytic
model, when the caller knows them), else below :data:`SMALL` cases in all.
``jobs`` replications run at once: this process takes its share of the runs
and ``jobs - 1`` worker processes the rest, and when its share is done it
takes back the runs no worker has started yet (an idle parent waiting for two
workers on two cores would only add a fork, its copy-on-write faults and the
pickling of half the results). Each worker process receives the plans once,
when it starts (a 5,000-step plan takes a tenth of a second to pickle); a
task names its plan by index.
``scheduler`` sends them to a Dask scheduler instead (``pip install
'procflow[dask]'``); it is imported only then. **Every Dask worker needs the
same procflow and numpy as the machine that submits** (the runs are pickled
by reference and draw from numpy's generators): before any run is sent, a
check on every worker compares their versions and refuses a cluster whose
workers cannot run procflow, or run another version of it or of numpy.
Nothing waits for ever: reaching the scheduler (an address that answers but
is not a Dask scheduler), finding a worker and checking the workers each
have a deadline (:data:`CONNECT_SECONDS`, :data:`WORKER_SECONDS`), after
which a :class:`~procflow.errors.ConfigError` (exit 2) says what did not
answer.

Ctrl-C (or a run that fails) must not wait for the other runs: workers
ignore SIGINT, and the parent cancels what has not started and terminates
the worker processes before the interrupt goes on (the CLI exits 130).
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import chain
from typing import Any

from procflow._version import __version__
from procflow.errors import ConfigError
from procflow.sim.attributed import replication
from procflow.sim.engine import EventSink, RunStats, tables_of
from procflow.sim.plan import Plan

SMALL = 100_000
"""Below this many cases in all, ``jobs=None`` runs everything in this process (when the
expected visits are not known)."""
SMALL_VISITS = 250_000
"""Below this many expected step visits in all, ``jobs=None`` runs everything in this
process: about a sixth of a second of the event loop on one core
(:data:`~procflow.sim.budget.VISITS_PER_SECOND`), less than starting workers costs."""
DASK_TIMEOUT = "10s"
"""How long ``distributed.Client`` tries to reach a Dask scheduler before giving up."""
CONNECT_SECONDS = 20.0
"""The deadline for a scheduler to answer at all (an address that accepts connections but
is not a Dask scheduler never answers its handshake)."""
WORKER_SECONDS = 60.0
"""The deadline for a worker to join and for every worker to pass the version check."""

ProgressCallback = Callable[[int, int], None]
"""Called with ``(cases simulated so far, cases in all)``."""

Task = tuple[Plan, int, int, int, int]
"""What a Dask worker is sent: the plan itself, run, seed, cases, warm-up."""

_PLANS: Sequence[Plan] = ()
"""The plans of this worker process's simulation (:func:`_worker_init`)."""


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _worker_init(plans: Sequence[Plan] = ()) -> None:
    """Workers ignore Ctrl-C: the parent handles it and ends them (no traceback from each).
    They keep the simulation's plans, which tasks name by index."""
    global _PLANS
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _PLANS = plans


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


def _unstarted(pending: dict[Future[RunStats], int]) -> Iterator[int]:
    """The tasks no worker has started, latest first, taken back from the pool to run here
    (this process runs replications too, once its own share is done).

    A pool hands tasks to its workers in the order they were submitted, so once the latest
    one cannot be cancelled, none can: the workers have the rest.
    """
    for future in reversed(list(pending)):
        if not future.cancel():
            return
        yield pending.pop(future)


def _run_task(task: Task) -> RunStats:
    plan, run, seed, cases, warmup = task
    return replication(plan)(plan, run, seed, cases, warmup)


def _run_indexed(task: tuple[int, int, int, int, int]) -> RunStats:
    """A worker process's task: plan ``index`` of :data:`_PLANS`, run, seed, cases, warm-up."""
    index, run, seed, cases, warmup = task
    plan = _PLANS[index]
    return replication(plan)(plan, run, seed, cases, warmup)


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
    visits: float | None = None,
) -> list[list[RunStats]]:
    """Run ``runs`` replications of every plan; ``result[p][r]`` is run ``r`` of plan ``p``.

    With ``log`` (one sink, for the first plan, or one sink or None per
    plan), run 1 of each plan with a sink is simulated in this process and
    writes its events there. ``visits``, the expected step visits of them all
    (:func:`procflow.sim.budget.estimate`), tells ``jobs=None`` whether they
    are worth worker processes.
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
        small = len(tasks) * cases < SMALL if visits is None else visits < SMALL_VISITS
        if jobs is None and small:
            workers = 1
        workers = min(workers, len(remote))
        share = len(remote) if workers <= 1 else max(0, len(remote) // workers - len(local))
        local.extend(remote[len(remote) - share :])  # this process's share of the runs
        remote = remote[: len(remote) - share]

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
            for plan in plans:
                tables_of(plan)  # once, here: forked workers inherit them
            executor = ProcessPoolExecutor(
                max_workers=workers - 1, initializer=_worker_init, initargs=(tuple(plans),)
            )
            # submit everything before anything else starts a thread (see fork safety)
            pending = {executor.submit(_run_indexed, (i // runs, *tasks[i][1:])): i for i in remote}
        for index in chain(sorted(local), _unstarted(pending)):  # lazily: steal when idle
            plan, run, task_seed, task_cases, task_warmup = tasks[index]
            results[index] = replication(plan)(
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
    """Connect to ``scheduler`` (an address or a ``distributed.Client``), check its workers
    and submit ``tasks``."""
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
            client = _within(
                CONNECT_SECONDS,
                lambda: distributed.Client(str(scheduler), timeout=DASK_TIMEOUT),
            )
        except TimeoutError:
            raise ConfigError(
                f"cannot reach the Dask scheduler at {scheduler}: it did not answer within "
                f"{CONNECT_SECONDS:g} s (is that address a Dask scheduler?)"
            ) from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    _check_workers(client, scheduler if not _is_client(scheduler) else client.scheduler.address)
    futures = client.map(_run_task, tasks, pure=False)
    return client, futures


def _within(seconds: float, work: Callable[[], Any]) -> Any:
    """``work()``, or ``TimeoutError`` when it has not returned after ``seconds``.

    The work runs in a daemon thread: a Dask call that never returns is left behind
    (it ends with the process) instead of holding the command for ever.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=target, name="procflow-dask", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _versions_here() -> tuple[str, str]:
    import numpy

    return __version__, numpy.__version__


def worker_versions() -> tuple[str, str]:
    """The procflow and numpy versions where this runs: sent to every Dask worker."""
    return _versions_here()


def _check_workers(client: Any, where: Any) -> None:
    """Refuse a cluster whose workers cannot run these simulations, before sending any run."""
    need = "every worker needs the same procflow and numpy as this machine"
    mine = _versions_here()
    try:
        _within(WORKER_SECONDS, lambda: client.wait_for_workers(1, timeout=WORKER_SECONDS))
        found = _within(WORKER_SECONDS, lambda: client.run(worker_versions, on_error="return"))
    except (TimeoutError, OSError) as exc:
        raise ConfigError(
            f"the Dask scheduler at {where} has no worker that answers ({exc}); {need}"
        ) from None
    for worker, versions in sorted(found.items()):
        if isinstance(versions, BaseException):
            raise ConfigError(
                f"Dask worker {worker} of {where} cannot run procflow "
                f"({type(versions).__name__}: {versions}); {need} "
                f"(procflow {mine[0]}, numpy {mine[1]})"
            )
        if tuple(versions) != mine:
            raise ConfigError(
                f"Dask worker {worker} of {where} has procflow {versions[0]} and numpy "
                f"{versions[1]}, this machine procflow {mine[0]} and numpy {mine[1]}; {need} "
                "(the same seed must give the same numbers)"
            )


def _gather_dask(
    client: Any, pending: dict[Any, int], tally: _Tally, cases: int
) -> dict[int, RunStats]:
    as_completed = _distributed().as_completed
    found: dict[int, RunStats] = {}
    for future in as_completed(list(pending)):
        found[pending[future]] = future.result()
        tally.finished(cases)
    return found


__all__ = [
    "CONNECT_SECONDS",
    "SMALL",
    "SMALL_VISITS",
    "WORKER_SECONDS",
    "ProgressCallback",
    "default_jobs",
    "run_replications",
    "worker_versions",
]
