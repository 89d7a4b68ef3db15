"""procflow.distance gives the numbers of the ``log-distance-measures`` package.

The package (Chapela-Campa et al., Apache-2.0, a dev dependency) is the
reference implementation of the measures: on two real logs split in halves
and on random logs with start times, every measure must agree with it to
floating-point rounding (work in progress to 0.1 %: the package truncates
each hour's case-hours to 1/100 before its distance, procflow does not).

The package's work-in-progress distance loops over every hour of the
timeline in pandas (about five minutes on receipt.csv), so on the real logs
it is compared with values computed once with log-distance-measures 2.2.0
(:data:`PACKAGE_WIP`), and run live only on the random logs (a few days).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pytest
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

import procflow
from procflow.distance import measures
from procflow.distance.halves import half_of, read_profiles, split_key
from procflow.distance.profile import LogProfile, Profile
from procflow.distance.wip import Timeline, wip_curve, wip_distance
from procflow.eventlog.events import Event
from shared_data import SHARED_DATA

IDS = EventLogIDs()
EXACT = 1e-9
WIP = 1e-3

#: ``work_in_progress_distance(half 0, half 1, normalize=False)`` of each real log
#: split with seed 1, computed once with log-distance-measures 2.2.0.
PACKAGE_WIP = {"receipt.csv": 328.6599782297573, "reviewing.xes": 177.44645218980827}


def frame(events: Iterable[Event]) -> pd.DataFrame:
    rows = list(events)
    return pd.DataFrame(
        {
            "case": [e.case for e in rows],
            "activity": [e.activity for e in rows],
            "start_timestamp": pd.to_datetime(
                [e.end if e.start is None else e.start for e in rows], unit="s", utc=True
            ),
            "end_timestamp": pd.to_datetime([e.end for e in rows], unit="s", utc=True),
        }
    )


def profile(events: Iterable[Event]) -> Profile:
    log = LogProfile()
    for e in events:
        log.add(e.case, e.activity, e.start, e.end)
    return log.finish()


def our_wip(a: Profile, b: Profile) -> float | None:
    timeline = Timeline.spanning(a, b)
    return wip_distance(wip_curve(a, timeline), wip_curve(b, timeline))


def assert_same(a: Profile, b: Profile, frame_a: pd.DataFrame, frame_b: pd.DataFrame) -> None:
    hour = pd.Timedelta(hours=1)
    pairs = [
        (measures.ngram_distance, n_gram_distribution_distance, {}),
        (measures.cycle_time_distance, cycle_time_distribution_distance, {"bin_size": hour}),
        (measures.absolute_event_distance, absolute_event_distribution_distance, {}),
        (measures.relative_event_distance, relative_event_distribution_distance, {}),
        (measures.circadian_distance, circadian_event_distribution_distance, {}),
        (measures.arrival_distance, case_arrival_distribution_distance, {}),
    ]
    for ours, theirs, options in pairs:
        expected = theirs(frame_a, IDS, frame_b, IDS, **options)
        assert ours(a, b) == pytest.approx(expected, rel=EXACT, abs=EXACT), ours.__name__


@pytest.mark.parametrize("name", ["receipt.csv", "reviewing.xes"])
def test_real_log_halves_match_the_package(name: str) -> None:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    events = list(procflow.read_log(path))
    halves = read_profiles(events, seed=1)
    key = split_key(1)
    frames = [frame(e for e in events if half_of(e.case, key) == h) for h in (0, 1)]
    assert halves.first.cases + halves.second.cases == len({e.case for e in events})
    assert_same(halves.first, halves.second, *frames)
    assert our_wip(halves.first, halves.second) == pytest.approx(PACKAGE_WIP[name], rel=WIP)


def random_log(seed: int, cases: int) -> list[Event]:
    """Cases of 1-8 activities with start times, not overlapping within a case."""
    rng = np.random.default_rng(seed)
    events = []
    arrival = 1_700_000_000.0 + rng.uniform(0, 86_400)
    for case in range(cases):
        arrival += rng.exponential(5_000.0)
        clock = arrival
        for _ in range(int(rng.integers(1, 9))):
            start = clock + rng.exponential(3_000.0)
            end = start + rng.gamma(2.0, 1_500.0)
            activity = "abcde"[int(rng.integers(0, 5))]
            events.append(Event(f"c{seed}-{case}", activity, end, start))
            clock = end
    return events


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_logs_with_start_times_match_the_package(seed: int) -> None:
    a, b = random_log(seed, 150), random_log(seed + 100, 120)
    assert_same(profile(a), profile(b), frame(a), frame(b))
    expected = work_in_progress_distance(frame(a), IDS, frame(b), IDS, normalize=False)
    assert our_wip(profile(a), profile(b)) == pytest.approx(expected, rel=WIP)
