"""How fast is ``procflow discover`` on a 1,000,000-event CSV, next to pandas counting the DFG?

The workload is the generated log of ``benchmarks/log_bench.py`` (the
customer-service process walked by ``--events`` events, rows sorted by end
time so cases interleave, start and end times in ISO 8601). Timed, each the
best of ``--repeat`` runs in a fresh process (peak RSS is the child's own
``VmHWM``; wall-clock and CPU time both shown):

* ``discover``: :func:`procflow.discovery.discover` on the file -- reading,
  timestamp parsing, directly-follows graph, roles and pools, calendars,
  processing time and waits per event, every duration fit, the process
  text loaded back and gated;
* ``pandas: read + directly-follows count``: ``read_csv``, timestamps
  parsed, rows sorted by case and time, each row paired with the next of
  its case and the pairs counted (``value_counts``) -- the control-flow
  part alone, the floor a dataframe user would write.

Run: ``python benchmarks/discover_bench.py [--events 1000000] [--repeat 3] [--keep DIR]``
(pandas is in the ``bench`` extra). The target (docs/discover.md): under
60 s and bounded memory at a million events.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _timing as timing
from log_bench import write_log

CHILD = {
    "discover": """
from procflow.eventlog.reader import read_log
from procflow.discovery import discover
t, c = time.perf_counter(), time.process_time()
result = discover(read_log({log!r}))
seconds, cpu = time.perf_counter() - t, time.process_time() - c
extra = {{"steps": len(result.process.steps), "owners": len(result.process.owners)}}
""",
    "pandas: read + directly-follows count": """
import pandas
t, c = time.perf_counter(), time.process_time()
frame = pandas.read_csv({log!r})
frame["end"] = pandas.to_datetime(frame["end"], format="ISO8601", utc=True)
frame = frame.sort_values(["case", "end"], kind="stable")
following = frame.groupby("case", sort=False)["step"].shift(-1)
pairs = (frame["step"] + " > " + following).dropna().value_counts()
seconds, cpu = time.perf_counter() - t, time.process_time() - c
extra = {{"pairs": len(pairs)}}
""",
}


def run_child(kind: str, log: Path) -> dict[str, float]:
    return timing.run_child(CHILD[kind].format(log=str(log)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Directory to write the log into (kept).")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="procflow-discover-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"events-{args.events}.csv"
    if not log.exists():
        started = time.perf_counter()
        events, cases = write_log(log, args.events)
        print(
            f"generated {events:,} events of {cases:,} cases "
            f"in {time.perf_counter() - started:.1f}s"
        )
    print(f"log: {log} ({log.stat().st_size / 1e6:.0f} MB)")
    results = {}
    for kind in CHILD:
        runs = [run_child(kind, log) for _ in range(args.repeat)]
        results[kind] = timing.best_run(runs, extra=False)
    floor = results["pandas: read + directly-follows count"]
    print(
        f"\n{'best of ' + str(args.repeat):40} {'wall':>8} {'ratio':>7} {'cpu':>8} {'peak RSS':>9}"
    )
    for kind, result in results.items():
        print(
            f"{kind:40} {result['seconds']:>7.2f}s {result['seconds'] / floor['seconds']:>6.2f}×"
            f" {result['cpu']:>7.2f}s {result['rss_mb']:>7.0f}MB"
        )
    if not args.keep:
        log.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
