"""How fast are procflow's fidelity measures beside the ``log-distance-measures`` package?

The workload is two random logs (``--cases`` cases each, default 20,000; 1 to
8 activities per case, start and end times, arrivals every ~2 minutes, so
about 28 days and 90,000 events per log). Timed, each once:

* procflow: one streaming pass over each log's events into profiles
  (:class:`~procflow.distance.profile.LogProfile`), then every measure from the
  two profiles (n-gram, cycle time, absolute, relative, circadian, arrival,
  activity mix, work in progress);
* the package: each of its functions on the same logs as pandas DataFrames
  (building the DataFrames is not timed), with its default (Wasserstein)
  metric. Its work-in-progress distance loops over every hour of the
  timeline in pandas and is the slowest by far (over 10 minutes at 20,000
  cases, about 5 on receipt.csv): it runs only with ``--package-wip``.

Both sides' values are printed and checked to agree. Run:
``python benchmarks/fidelity_bench.py [--cases 20000] [--package-wip]`` (the package must be
installed: it is in the ``dev`` extra).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from _timing import timed
from log_distance_measures.absolute_event_distribution import absolute_event_distribution_distance
from log_distance_measures.case_arrival_distribution import case_arrival_distribution_distance
from log_distance_measures.circadian_event_distribution import (
    circadian_event_distribution_distance,
)
from log_distance_measures.config import EventLogIDs
from log_distance_measures.cycle_time_distribution import cycle_time_distribution_distance
from log_distance_measures.n_gram_distribution import n_gram_distribution_distance
from log_distance_measures.relative_event_distribution import relative_event_distribution_distance
from log_distance_measures.work_in_progress import work_in_progress_distance

from procflow.distance import measures
from procflow.distance.profile import LogProfile, Profile
from procflow.distance.wip import Timeline, wip_curve, wip_distance


def random_log(seed: int, cases: int) -> list[tuple[str, str, float, float]]:
    rng = np.random.default_rng(seed)
    events = []
    arrival = 1_700_000_000.0
    for case in range(cases):
        arrival += rng.exponential(120.0)
        clock = arrival
        for _ in range(int(rng.integers(1, 9))):
            start = clock + rng.exponential(3_000.0)
            end = start + rng.gamma(2.0, 1_500.0)
            events.append((f"c{case}", "abcdefgh"[int(rng.integers(0, 8))], start, end))
            clock = end
    return events


def frame(events: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case": [e[0] for e in events],
            "activity": [e[1] for e in events],
            "start_timestamp": pd.to_datetime([e[2] for e in events], unit="s", utc=True),
            "end_timestamp": pd.to_datetime([e[3] for e in events], unit="s", utc=True),
        }
    )


def ours(a: list[Any], b: list[Any]) -> dict[str, float | None]:
    profiles: list[Profile] = []
    for events in (a, b):
        log = LogProfile()
        for case, activity, start, end in events:
            log.add(case, activity, start, end)
        profiles.append(log.finish())
    pa, pb = profiles
    timeline = Timeline.spanning(pa, pb)
    return {
        "ngram": measures.ngram_distance(pa, pb),
        "cycle_time": measures.cycle_time_distance(pa, pb),
        "absolute": measures.absolute_event_distance(pa, pb),
        "relative": measures.relative_event_distance(pa, pb),
        "circadian": measures.circadian_distance(pa, pb),
        "arrivals": measures.arrival_distance(pa, pb),
        "wip": wip_distance(wip_curve(pa, timeline), wip_curve(pb, timeline)),
    }


def theirs(a: pd.DataFrame, b: pd.DataFrame, wip: bool) -> dict[str, tuple[float, float]]:
    ids = EventLogIDs()
    hour = pd.Timedelta(hours=1)
    functions: dict[str, tuple[Callable[..., float], dict[str, Any]]] = {
        "ngram": (n_gram_distribution_distance, {}),
        "cycle_time": (cycle_time_distribution_distance, {"bin_size": hour}),
        "absolute": (absolute_event_distribution_distance, {}),
        "relative": (relative_event_distribution_distance, {}),
        "circadian": (circadian_event_distribution_distance, {}),
        "arrivals": (case_arrival_distribution_distance, {}),
    }
    if wip:
        functions["wip"] = (work_in_progress_distance, {"normalize": False})
    results = {}
    for name, (function, options) in functions.items():
        results[name] = timed(partial(function, a, ids, b, ids, **options))
        print(f"  package {name:<11} {results[name][1]:8.2f} s", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--package-wip", action="store_true", help="time the package's WIP too")
    args = parser.parse_args()
    a, b = random_log(1, args.cases), random_log(2, args.cases)
    print(f"two logs of {args.cases:,} cases: {len(a):,} and {len(b):,} events")
    mine, procflow_seconds = timed(partial(ours, a, b))
    print(f"procflow, every measure from the events: {procflow_seconds:.2f} s")
    reference = theirs(frame(a), frame(b), args.package_wip)
    package_seconds = sum(seconds for _, seconds in reference.values())
    print(f"log-distance-measures, {len(reference)} of those measures: {package_seconds:.2f} s")
    print(f"ratio (package / procflow): {package_seconds / procflow_seconds:.0f}x")
    for name, (value, _) in reference.items():
        got = mine[name]
        tolerance = 1e-3 if name == "wip" else 1e-9
        agree = got is not None and abs(got - value) <= tolerance * max(1.0, abs(value))
        verdict = "ok" if agree else "DIFFER"
        print(f"  {name:<11} procflow {got:.6g}  package {value:.6g}  {verdict}")


if __name__ == "__main__":
    main()
