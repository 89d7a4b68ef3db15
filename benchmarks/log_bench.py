"""How fast is ``procflow check-log`` on a 1,000,000-event CSV, next to ``pandas.read_csv``?

The workload is one generated event log of ``--events`` events (default
1,000,000) of the customer-service example as it was before it had calendars
(``tests/fixtures/customer-service-247.yaml``, so the workload stays the
one earlier figures were measured on): cases arrive at random,
walk the process (branching by ``p``, the reopen loop bounded by its
``max``), each event with a start and an end in procflow's own CSV layout
(``case,step,owner,start,end``, ISO 8601 timestamps with offsets). Rows are
sorted by end time, as real logs are, so the cases are interleaved -- the
hardest layout for a streaming reader, since every case stays open until
the end of the file.

Timed, each the best of ``--repeat`` runs, each run in a fresh process so
that its peak RSS is its own (``VmHWM``, not ``ru_maxrss``, which on Linux
includes the peak of the parent that started the process); wall-clock and
CPU time are both shown (the CPU time is steadier on a shared machine),
each also as a ratio to ``pandas.read_csv``:

* ``check-log``: :func:`procflow.eventlog.conformance.check_log` on the
  file, JSON report built -- reading, timestamp parsing, replay,
  conformance and every measurement;
* ``pandas.read_csv``: reading the same file into a DataFrame, timestamps
  left as text -- the floor the target (≤ 3×) refers to;
* ``pandas.read_csv + to_datetime``: the same, with both timestamp columns
  parsed (``format="ISO8601"``, ``utc=True``) -- a reading that, like
  check-log, knows the times.

Also timed once: the command line end to end (``procflow check-log ...
--format json``, interpreter start-up included).

Run: ``python benchmarks/log_bench.py [--events 1000000] [--repeat 3] [--keep DIR]``
(pandas is in the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _timing as timing
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PROCESS = ROOT / "tests" / "fixtures" / "customer-service-247.yaml"  # around the clock
EPOCH = datetime(2027, 1, 4, tzinfo=UTC)


def _sample(dist: object, rng: np.random.Generator) -> float:
    name = dist.dist  # type: ignore[attr-defined]
    args = dist.args()  # type: ignore[attr-defined]
    if name == "fixed":
        return float(args[0])
    if name == "exponential":
        return float(rng.exponential(args[0]))
    if name == "uniform":
        return float(rng.uniform(*args))
    if name == "triangular":
        return float(rng.triangular(*args))
    if name == "normal":
        while True:
            x = rng.normal(*args)
            if x >= 0:
                return float(x)
    if name == "lognormal":
        mu, sigma = dist.log_params  # type: ignore[attr-defined]
        return float(rng.lognormal(mu, sigma))
    if name == "gamma":
        shape, scale = dist.shape_scale  # type: ignore[attr-defined]
        return float(rng.gamma(shape, scale))
    return float(rng.choice(args))


def write_log(path: Path, events: int, seed: int = 7) -> tuple[int, int]:
    """Write a log of at least ``events`` events; return ``(events, cases)``."""
    sys.path.insert(0, str(ROOT / "src"))
    from procflow.loader import load

    process = load(PROCESS)
    rng = np.random.default_rng(seed)
    assert process.arrivals is not None
    gap = process.arrivals.mean_interarrival
    rows: list[tuple[float, str, str, str, float]] = []
    arrival = 0.0
    case = 0
    while len(rows) < events:
        case += 1
        arrival += float(rng.exponential(gap))
        clock = arrival
        step_id = process.start
        uses: dict[tuple[str, str], int] = {}
        while True:
            step = process.steps[step_id]
            if step.end:
                break
            clock += float(rng.exponential(60.0))  # a little waiting
            start = clock
            assert step.duration is not None
            clock += _sample(step.duration, rng)
            rows.append((clock, f"c{case}", step_id, step.owner or "", start))
            allowed = [
                t
                for t in step.transitions
                if t.max is None or uses.get((step_id, t.trigger), 0) < t.max
            ]
            weights = np.array([t.p if t.p is not None else 1.0 for t in allowed])
            edge = allowed[int(rng.choice(len(allowed), p=weights / weights.sum()))]
            uses[(step_id, edge.trigger)] = uses.get((step_id, edge.trigger), 0) + 1
            step_id = edge.to
    rows.sort(key=lambda r: r[0])
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("case", "step", "owner", "start", "end"))
        for end, case_id, step_id, owner, start in rows:
            writer.writerow(
                (
                    case_id,
                    step_id,
                    owner,
                    (EPOCH + timedelta(seconds=start)).isoformat(timespec="milliseconds"),
                    (EPOCH + timedelta(seconds=end)).isoformat(timespec="milliseconds"),
                )
            )
    return len(rows), case


CHILD = {
    "check-log": """
from procflow.loader import load
from procflow.eventlog.reader import read_log
from procflow.eventlog.conformance import check_log
process = load({process!r})
t, c = time.perf_counter(), time.process_time()
report = check_log(process, read_log({log!r}))
document = report.to_dict()
seconds, cpu = time.perf_counter() - t, time.process_time() - c
extra = {{"conformance": report.conformance, "cases": report.cases}}
""",
    "pandas.read_csv": """
import pandas
t, c = time.perf_counter(), time.process_time()
frame = pandas.read_csv({log!r})
seconds, cpu = time.perf_counter() - t, time.process_time() - c
extra = {{"rows": len(frame)}}
""",
    "pandas.read_csv + to_datetime": """
import pandas
t, c = time.perf_counter(), time.process_time()
frame = pandas.read_csv({log!r})
frame["start"] = pandas.to_datetime(frame["start"], format="ISO8601", utc=True)
frame["end"] = pandas.to_datetime(frame["end"], format="ISO8601", utc=True)
seconds, cpu = time.perf_counter() - t, time.process_time() - c
extra = {{"rows": len(frame)}}
""",
}


def run_child(kind: str, log: Path) -> dict[str, float]:
    """One timed run of ``kind`` in a fresh interpreter (its own peak memory)."""
    return timing.run_child(CHILD[kind].format(process=str(PROCESS), log=str(log)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Directory to write the log into (kept).")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="procflow-log-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"events-{args.events}.csv"
    if not log.exists():
        started = time.perf_counter()
        events, cases = write_log(log, args.events)
        print(
            f"generated {events:,} events of {cases:,} cases "
            f"in {time.perf_counter() - started:.1f}s"
        )
    size = log.stat().st_size / 1e6
    print(f"log: {log} ({size:.0f} MB)")
    results: dict[str, dict[str, float]] = {}
    for kind in CHILD:
        results[kind] = timing.best_run([run_child(kind, log) for _ in range(args.repeat)])
    floor = results["pandas.read_csv"]
    print(
        f"\n{'best of ' + str(args.repeat):32} {'wall':>8} {'ratio':>7} {'cpu':>8} {'ratio':>7}"
        f" {'peak RSS':>9}"
    )
    for kind, result in results.items():
        print(
            f"{kind:32} {result['seconds']:>7.2f}s {result['seconds'] / floor['seconds']:>6.2f}×"
            f" {result['cpu']:>7.2f}s {result['cpu'] / floor['cpu']:>6.2f}×"
            f" {result['rss_mb']:>7.0f}MB"
        )
    check = results["check-log"]
    print(f"\ncheck-log: {check['cases']:,.0f} cases, conformance {check['conformance']:.1%}")
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("procflow")), "check-log", str(PROCESS), str(log),
         "--format", "json"],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    print(
        "command line end to end (one run, start-up included): "
        f"{time.perf_counter() - started:.2f}s"
    )
    if not args.keep:
        log.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
