"""How long does ``procflow levers`` take on every example process, beside the obvious loop?

Each process is ranked once with the command's defaults (5 runs of 2,000
cases per scenario) on one worker (``--jobs 1``), in this process, so the
CPU seconds are procflow's own; the wall seconds beside them show how busy
the machine was. The peer is what a user would write without ``levers``:
one :func:`procflow.simulate` per lever and one of the baseline, with the
same cases, runs and seed (common random numbers too, but every scenario
builds its routing chain, its analysis and its warm-up estimate alone).
``levers`` simulates the same scenarios and also pairs them; it shares the
routing chain of the baseline with every lever that leaves the routing
alone and screens out the levers the queueing model shows cannot matter.

Printed per process: the levers built, how many were simulated, CPU and
wall seconds of ``levers``, CPU seconds of the loop, and loop / levers.

Run: ``python benchmarks/levers_bench.py [--cases N] [--runs R] [--no-loop] [PATHS...]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _timing import Stopwatch

import procflow
from procflow._levers import DEFAULT_CASES, DEFAULT_RUNS
from procflow._levers.candidates import all_levers

ROOT = Path(__file__).resolve().parent.parent


def obvious_loop(path: Path, options: dict[str, int]) -> float:
    """CPU seconds of one simulate per lever (every lever, as a user's loop would) and baseline."""
    process = procflow.load(path)  # a fresh load: nothing computed for levers is reused
    watch = Stopwatch()
    procflow.simulate(process, jobs=1, **options)
    for lever in all_levers(process):
        procflow.simulate(lever.apply(process), jobs=1, **options)
    return watch.cpu()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--no-loop", action="store_true", help="time levers only")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "processes").glob("*.yaml"))
    options = {"cases": args.cases, "runs": args.runs, "seed": 0}
    print(f"{args.runs} runs x {args.cases:,} cases per scenario, one worker")
    print(
        f"{'process':<24} {'levers':>6} {'simulated':>9} {'cpu s':>7} {'wall s':>7} "
        f"{'loop cpu s':>10} {'loop/levers':>11}"
    )
    for path in paths:
        process = procflow.load(path)
        watch = Stopwatch()
        ranking = procflow.levers(process, jobs=1, **options)
        cpu, wall = watch.cpu(), watch.wall()
        loop = "" if args.no_loop else f"{obvious_loop(path, options):>10.1f}"
        ratio = "" if args.no_loop else f"{float(loop) / cpu:>10.1f}x"
        print(
            f"{process.id:<24} {ranking.considered:>6} {ranking.simulated:>9} "
            f"{cpu:>7.1f} {wall:>7.1f} {loop:>10} {ratio:>11}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
