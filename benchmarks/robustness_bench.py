"""How long do hostile and extreme inputs take? The seconds the tests no longer assert.

The tests in ``tests/test_loader_hostile.py``, ``tests/test_analyze_extremes.py``
and ``tests/test_sim_budget.py`` check that hostile files are refused, that
extreme numbers give finite figures and that runaway simulations are stopped;
they assert the *work* done (a count of calls, or of step visits), never
seconds, because a loaded CI machine makes any time budget flaky. This script
times the same cases, best of ``--repeat`` runs on one core, and prints each
beside the budget the tests used to assert, so a regression in speed is seen
here, where it can be judged on a quiet machine.

Run: ``python benchmarks/robustness_bench.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the very cases the tests use

from _timing import best_of_fresh as best_of  # noqa: E402  (fresh: procflow caches per process)

from helpers import CLEAN  # noqa: E402
from procflow._lint import lint, lint_file  # noqa: E402
from procflow.analysis import analyze  # noqa: E402
from procflow.cli import main  # noqa: E402
from procflow.errors import ProcflowError, SimulationError  # noqa: E402
from procflow.loader import load_text  # noqa: E402
from procflow.model import Process  # noqa: E402
from procflow.sim import simulate  # noqa: E402
from procflow.sim.engine import run_replication  # noqa: E402
from procflow.sim.simulation import prepare  # noqa: E402
from test_analyze_extremes import desk, many_owners  # noqa: E402
from test_loader_hostile import billion_laughs  # noqa: E402
from test_sim_budget import LOOP  # noqa: E402


def hostile_files(folder: Path) -> dict[str, tuple[Path, float]]:
    """The hostile files of test_loader_hostile.py and the budgets it used to assert."""
    huge = (
        CLEAN.replace("{capacity: 2}", "{capacity: 1000000000000000}")
        .replace("duration: 5m", "duration: exponential(1e-300s)")
        .replace("max: 2", "max: 100000000000000000000000000000")
        .replace("start: check", "arrivals: {rate: 1e300/s}\nstart: check")
    )
    texts = {
        "billion laughs": (billion_laughs(), 5.0),
        "deep flow lists (100,000)": ("[" * 100_000, 10.0),
        "deep flow maps (100,000)": ("a: " + "{a: " * 100_000 + "1" + "}" * 100_000, 10.0),
        "deep block lists (100,000)": ("- " * 100_000 + "x", 10.0),
        "huge numbers": (huge, 10.0),
        "2,000,000-character line": (
            CLEAN.replace("process: tiny", "process: tiny\ntitle: " + "x" * 2_000_000),
            5.0,
        ),
    }
    files = {}
    for number, (name, (text, budget)) in enumerate(texts.items()):
        path = folder / f"hostile-{number}.yaml"
        path.write_text(text, encoding="utf-8")
        files[name] = (path, budget)
    big = folder / "big.yaml"
    with big.open("wb") as handle:
        handle.write(b"process: big\nsteps:\n")
        chunk = b"  # padding padding padding padding padding padding padding padding\n" * 1000
        while handle.tell() < 20 * 1024 * 1024:
            handle.write(chunk)
    files["20 MB file"] = (big, 2.0)
    return files


def extreme_processes() -> dict[str, tuple[Callable[[], object], Callable[..., object], float]]:
    """analyze + lint of the extreme processes of test_analyze_extremes.py (budget 10 s each)."""
    cases = {
        "capacity 10**15": ("rate: 9/h", "exponential(20m)", 10**15),
        "rate 1e300/s": ("rate: 1e300/s", "exponential(20m)", 4),
        "duration 1e300 s": ("rate: 9/h", "exponential(1e300s)", 4),
        "duration 1e-300 s": ("rate: 9/h", "exponential(1e-300s)", 4),
        "rate and duration 1e300, 10**15 servers": ("rate: 1e300/s", "1e300s", 10**15),
        "normal(1e300 s, 1e300 s), 10**15 servers": (
            "rate: 9/h",
            "normal(1e300s, 1e300s)",
            10**15,
        ),
    }

    def run(process: Process) -> object:
        with contextlib.suppress(ProcflowError):
            analyze(process)
        return lint(process)

    return {name: (lambda args=args: desk(*args), run, 10.0) for name, args in cases.items()}


def main_bench(repeat: int) -> None:
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        for name, (path, budget) in hostile_files(Path(folder)).items():
            seconds = best_of(repeat, lambda _, p=path: lint_file(p))
            rows.append((f"lint: {name}", seconds, budget))
        for name, (fresh, work, budget) in extreme_processes().items():
            rows.append((f"analyze + lint: {name}", best_of(repeat, work, fresh), budget))
        owners = best_of(repeat, analyze, lambda: many_owners(10_000))
        rows.append(("analyze: 10,000 owners", owners, 5.0))

        def loop() -> Process:
            return load_text(LOOP, "loop3.yaml")

        def refused(process: Process) -> None:
            with contextlib.suppress(SimulationError):
                simulate(process, cases=10, runs=1)

        seconds = best_of(repeat, refused, loop)
        rows.append(("simulate: a billion visits a case, refused", seconds, 5.0))

        def stopped(process: Process) -> None:
            with contextlib.suppress(SimulationError):
                run_replication(prepare(process), 0, 0, 10, 0, max_visits=20_000)

        seconds = best_of(repeat, stopped, loop)
        rows.append(("simulate: a run stopped at 20,000 visits", seconds, 5.0))
        examples = sorted((ROOT / "processes").glob("*.yaml"))

        def lint_examples(_: object) -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                for path in examples:
                    main(["lint", "--isolated", str(path)])

        rows.append(("procflow lint: each example process", best_of(repeat, lint_examples), 10.0))
    width = max(len(name) for name, _, _ in rows)
    print(f"hostile and extreme inputs, best of {repeat} (wall clock, one process)")
    slow = 0
    for name, seconds, budget in rows:
        flag = "" if seconds < budget else "   SLOWER than the old test budget"
        slow += bool(flag)
        print(f"  {name:<{width}}  {seconds * 1000:9.1f} ms   (old budget {budget:g} s){flag}")
    print("OK" if not slow else f"{slow} case(s) over their old budget")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    main_bench(parser.parse_args().repeat)
