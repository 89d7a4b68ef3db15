"""How long does ``procflow levers`` take on every example process: two stages against ``--full``?

Each process is ranked twice with the command's defaults (5 runs of 2,000
cases per confirmed scenario) on one worker (``--jobs 1``), in this
process, so the CPU seconds are procflow's own: once with ``confirm=None``
(``--full``: every lever simulated with the full replications, what
``levers`` did before the screening stage) and once with the default two
stages (a screening of every lever on 3 runs of 400 cases, then the best
``--confirm`` levers, and any that may beat the K-th by 1%, in full;
docs/levers.md). The wall seconds beside them show how busy the machine was.

Printed per process: the levers built and simulated, how many the two
stages confirmed, CPU seconds of ``--full`` and of the two stages, full /
two stages, and whether every one of the ``--full`` ranking's best K is
among the confirmed levers (``best kept``, :func:`kept_best`). ``--loop``
adds what a user would write without ``levers``: one
:func:`procflow.simulate` per lever and one of the baseline.

Run: ``python benchmarks/levers_bench.py [--cases N] [--runs R] [--loop] [PATHS...]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _timing import Stopwatch

import procflow
from procflow._levers import DEFAULT_CASES, DEFAULT_RUNS
from procflow._levers.candidates import all_levers
from procflow._levers.ranking import LeverRanking
from procflow._levers.stages import DEFAULT_CONFIRM, INDIFFERENCE

ROOT = Path(__file__).resolve().parent.parent


def obvious_loop(path: Path, options: dict[str, int]) -> float:
    """CPU seconds of one simulate per lever (every lever, as a user's loop would) and baseline."""
    process = procflow.load(path)  # a fresh load: nothing computed for levers is reused
    watch = Stopwatch()
    procflow.simulate(process, jobs=1, **options)
    for lever in all_levers(process):
        procflow.simulate(lever.apply(process), jobs=1, **options)
    return watch.cpu()


def kept_best(full: LeverRanking, two: LeverRanking) -> str:
    """Whether the two stages confirmed every one of the ``--full`` ranking's best K.

    ``yes`` when they did; ``within 1%`` when the ones they dropped beat the K-th
    confirmed lever by less than the indifference zone in ``--full`` (what the
    design promises, docs/levers.md); ``NO`` otherwise.
    """
    keep = two.confirm or DEFAULT_CONFIRM
    dropped = [e for e in full.ranked[:keep] if two[e.lever.id].stage == "screening"]
    if not dropped:
        return "yes"
    if len(two.ranked) < keep:
        return "NO"
    kth = two.ranked[keep - 1].improvement or 0.0
    zone = INDIFFERENCE * abs(full.baseline)
    return "within 1%" if all((e.improvement or 0.0) - kth < zone for e in dropped) else "NO"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--loop", action="store_true", help="also time the obvious loop")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "processes").glob("*.yaml"))
    options = {"cases": args.cases, "runs": args.runs, "seed": 0}
    print(f"{args.runs} runs x {args.cases:,} cases per confirmed scenario, one worker")
    print(
        f"{'process':<22} {'levers':>6} {'simulated':>9} {'confirmed':>9} {'full cpu s':>10} "
        f"{'2-stage cpu s':>13} {'wall s':>6} {'full/2-stage':>12} {'best kept':>10}"
        + (f" {'loop cpu s':>10}" if args.loop else "")
    )
    for path in paths:
        process = procflow.load(path)
        watch = Stopwatch()
        full = procflow.levers(process, jobs=1, confirm=None, **options)
        before = watch.cpu()
        process = procflow.load(path)  # a fresh load: nothing computed for --full is reused
        watch = Stopwatch()
        two = procflow.levers(process, jobs=1, **options)
        after, wall = watch.cpu(), watch.wall()
        kept = kept_best(full, two)
        loop = f" {obvious_loop(path, options):>10.1f}" if args.loop else ""
        print(
            f"{process.id:<22} {two.considered:>6} {two.simulated:>9} {two.confirmed:>9} "
            f"{before:>10.1f} {after:>13.1f} {wall:>6.1f} {before / after:>11.1f}x "
            f"{kept:>10}{loop}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
