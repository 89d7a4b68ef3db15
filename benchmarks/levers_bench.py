"""How long does ``procflow levers`` take on every example process, with its defaults?

Each process is ranked once with the command's defaults (10 runs of 2,000
cases per scenario) on one worker (``--jobs 1``), in this process, so the CPU
seconds are procflow's own; the wall seconds beside them show how busy the
machine was. Printed per process: the levers built, how many were simulated
(the others were screened out analytically), CPU and wall seconds.

Run: ``python benchmarks/levers_bench.py [--cases N] [--runs R] [PATHS...]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import procflow

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "processes").glob("*.yaml"))
    options = {k: v for k, v in (("cases", args.cases), ("runs", args.runs)) if v is not None}
    print(f"{'process':<24} {'levers':>6} {'simulated':>9} {'cpu s':>7} {'wall s':>7}")
    for path in paths:
        process = procflow.load(path)
        cpu, wall = time.process_time(), time.perf_counter()
        ranking = procflow.levers(process, jobs=1, **options)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"{process.id:<24} {ranking.considered:>6} {ranking.simulated:>9} "
            f"{cpu:>7.1f} {wall:>7.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
