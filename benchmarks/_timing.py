"""What the benchmarks share: best-of-N timing, clocks, peak memory, timed child processes.

Every benchmark times procflow beside a peer and prints the ratio, on a machine that may be
shared with other jobs. So a figure is the *best* of several runs (the run least disturbed
by other work, cache and frequency noise), on the clock the benchmark chooses:

* :func:`time.perf_counter` (wall clock) where the work is short and in this process;
* :func:`time.process_time` (this process's CPU time) where the machine is busy: the wall
  clock would count the other jobs' time too;
* :func:`cpu_seconds` (CPU time of this process and its finished children) where a command
  runs as a subprocess.

Peak memory is ``VmHWM`` of a fresh interpreter, never ``ru_maxrss`` of a child: Linux
carries the parent's peak over a fork + exec, so a child started by a big parent reports
the parent's peak. :func:`run_child` runs a timed snippet that way.

Not a package: each benchmark is a script run as ``python benchmarks/NAME.py``, which puts
this folder first on ``sys.path``, so ``from _timing import best_of`` finds this file.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
"""The project root (``src/`` is on a child's ``PYTHONPATH`` from here)."""

Clock = Callable[[], float]


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best_of(
    repeat: int,
    work: Callable[[], object],
    *,
    clock: Clock = time.perf_counter,
    collect: bool = True,
    pause_gc: bool = False,
) -> float:
    """The fastest of ``repeat`` runs of ``work`` in seconds of ``clock``.

    ``collect``: a full garbage collection before each run (untimed), so one run does not
    pay for the garbage of the one before; ``pause_gc``: the collector off while timing.
    """
    return best_of_each(repeat, [work], clock=clock, collect=collect, pause_gc=pause_gc)[0]


def best_of_each(
    repeat: int,
    works: Sequence[Callable[[], object]],
    *,
    clock: Clock = time.perf_counter,
    collect: bool = True,
    pause_gc: bool = False,
) -> list[float]:
    """The fastest of ``repeat`` runs of each of ``works``, the runs interleaved (a, b, ...,
    a, b, ...) so that a busy moment hits all of them alike (options as :func:`best_of`)."""
    times: list[list[float]] = [[] for _ in works]
    for _ in range(repeat):
        for index, work in enumerate(works):
            if collect:
                gc.collect()
            if pause_gc:
                gc.disable()
            try:
                start = clock()
                work()
                times[index].append(clock() - start)
            finally:
                if pause_gc:
                    gc.enable()
    return [min(t) for t in times]


def best_of_fresh(
    repeat: int, work: Callable[[Any], object], fresh: Callable[[], Any] = tuple
) -> float:
    """The fastest of ``repeat`` wall-clock runs of ``work(fresh())``, in seconds; ``fresh``
    builds the input anew for every run, untimed (so a cache is not what is timed)."""
    best = float("inf")
    for _ in range(repeat):
        given = fresh()
        start = time.perf_counter()
        work(given)
        best = min(best, time.perf_counter() - start)
    return best


def timed(work: Callable[[], Any], clock: Clock = time.perf_counter) -> tuple[Any, float]:
    """``(work(), seconds of clock it took)``: one run, for work too slow to repeat."""
    start = clock()
    result = work()
    return result, clock() - start


class Stopwatch:
    """Wall and CPU seconds since it was started: for a step timed on both clocks."""

    def __init__(self) -> None:
        self.started_cpu, self.started_wall = time.process_time(), time.perf_counter()

    def cpu(self) -> float:
        return time.process_time() - self.started_cpu

    def wall(self) -> float:
        return time.perf_counter() - self.started_wall


PEAK_RSS = """
def peak_rss_mb():
    # VmHWM is the peak of this process's own memory. ru_maxrss is not: Linux
    # carries the parent's peak over a fork + exec (vfork in subprocess), so a
    # child started after write_log() held a million rows reported ~260 MB.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""
"""Source defining ``peak_rss_mb()`` (``VmHWM`` in MB; ``ru_maxrss`` off Linux), for a child
interpreter (:func:`run_child`, and ``sim_bench``'s memory runs)."""


def run_child(body: str) -> dict[str, float]:
    """Run ``body`` in a fresh interpreter with procflow's ``src`` on its path.

    ``body`` (after ``import json, time``) sets ``seconds`` and ``cpu`` (what it timed)
    and a dict ``extra``; returns those with the child's peak memory as ``rss_mb``."""
    code = (
        "import json, time\n" + PEAK_RSS + body + "\nrss = peak_rss_mb()\n"
        "print(json.dumps({'seconds': seconds, 'cpu': cpu, 'rss_mb': rss, **extra}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def best_run(runs: Sequence[dict[str, float]], extra: bool = True) -> dict[str, float]:
    """Of several :func:`run_child` results: the least seconds and CPU, the highest peak
    memory, and (``extra``) the other figures of the first run."""
    best = {
        "seconds": min(r["seconds"] for r in runs),
        "cpu": min(r["cpu"] for r in runs),
        "rss_mb": max(r["rss_mb"] for r in runs),
    }
    if extra:
        best.update({k: v for k, v in runs[0].items() if k not in best})
    return best


def ratio_line(label: str, ratio: float, width: int, digits: int = 1) -> str:
    """``  LABEL   12.3x``: ``label`` padded to ``width``, the ratio in six columns."""
    return f"  {label:<{width}}{ratio:6.{digits}f}x"
