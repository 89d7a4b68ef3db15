"""The fidelity measures on logs whose distances can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import wasserstein_distance

from procflow.distance import measures
from procflow.distance.emd import wasserstein
from procflow.distance.halves import half_of, read_profiles, split_key
from procflow.distance.profile import HOUR, LogProfile, Profile, merge
from procflow.distance.wip import Timeline, wip_curve, wip_distance, wip_error
from procflow.eventlog.events import Event

MONDAY = 1_704_067_200.0  # 2024-01-01T00:00:00Z, a Monday


def profile(*cases: list[tuple[str, float, float]], shift: float = 0.0) -> Profile:
    """Cases given as (activity, start, end) in hours after Monday 00:00 UTC."""
    log = LogProfile()
    for number, case in enumerate(cases):
        for activity, start, end in case:
            log.add(
                number, activity, MONDAY + (start + shift) * HOUR, MONDAY + (end + shift) * HOUR
            )
    return log.finish()


CASES = (
    [("a", 9.0, 9.5), ("b", 10.2, 11.0), ("c", 13.0, 13.4)],
    [("a", 30.1, 30.2), ("c", 33.0, 35.5)],
    [("a", 57.0, 58.0), ("b", 58.5, 59.0), ("b", 60.0, 60.25), ("c", 61.0, 61.5)],
)


def test_a_log_shifted_by_two_hours() -> None:
    real, shifted = profile(*CASES), profile(*CASES, shift=2.0)
    assert measures.absolute_event_distance(real, shifted) == pytest.approx(2.0)
    assert measures.arrival_distance(real, shifted) == pytest.approx(2.0)
    # 2 hours on each of the 3 weekdays with events, 0 on the 4 without: 6/7
    assert measures.circadian_distance(real, shifted) == pytest.approx(6 / 7)
    assert measures.relative_event_distance(real, shifted) == 0.0
    assert measures.cycle_time_distance(real, shifted) == 0.0
    assert measures.ngram_distance(real, shifted) == 0.0
    assert measures.activity_frequency_distance(real, shifted) == 0.0


def test_a_log_against_itself_is_at_zero() -> None:
    real = profile(*CASES)
    timeline = Timeline.spanning(real)
    curve = wip_curve(real, timeline)
    assert wip_distance(curve, curve) == 0.0
    assert wip_error(curve, curve) == 0.0
    for distance in (
        measures.ngram_distance,
        measures.cycle_time_distance,
        measures.absolute_event_distance,
        measures.circadian_distance,
    ):
        assert distance(real, real) == 0.0


def test_ngram_distance_by_hand() -> None:
    # 3-grams with padding: a b -> (_,_,a) (_,a,b) (a,b,_) (b,_,_); a c likewise: 6 of 8 differ
    ab = profile([("a", 1, 1), ("b", 2, 2)])
    ac = profile([("a", 1, 1), ("c", 2, 2)])
    assert measures.ngram_distance(ab, ac) == pytest.approx(6 / 8)
    assert measures.activity_frequency_distance(ab, ac) == pytest.approx(0.5)


def test_cycle_time_distance_in_hours() -> None:
    short = profile([("a", 0, 0), ("b", 1, 1)], [("a", 0, 0), ("b", 1, 1)])  # 1 h, 1 h
    long = profile([("a", 0, 0), ("b", 4, 4)], [("a", 0, 0), ("b", 2, 2)])  # 4 h, 2 h
    assert measures.cycle_time_distance(short, long) == pytest.approx(2.0)  # (3 + 1) / 2


def test_circadian_charges_23_for_a_weekday_only_one_log_has() -> None:
    monday = profile([("a", 10, 10)])
    tuesday = profile([("a", 34, 34)])  # Tuesday 10:00
    assert measures.circadian_distance(monday, tuesday) == pytest.approx(46 / 7)


def test_wip_curve_counts_partial_hours() -> None:
    log = profile([("a", 10.5, 11.0), ("b", 11.5, 12.25)], [("a", 11.0, 11.5)])
    timeline = Timeline.spanning(log)
    assert timeline.origin == MONDAY
    assert timeline.hours == 24
    curve = wip_curve(log, timeline)
    expected = np.zeros(24)
    expected[10], expected[11], expected[12] = 0.5, 1.0 + 0.5, 0.25
    np.testing.assert_allclose(curve, expected, atol=1e-12)
    doubled = wip_curve(merge(log, log), timeline)
    assert wip_error(curve, doubled) == pytest.approx(2.25 / 3)  # mean over the 3 open hours


def test_empty_sides_measure_nothing() -> None:
    empty, real = LogProfile().finish(), profile(*CASES)
    assert measures.ngram_distance(empty, empty) is None
    assert measures.cycle_time_distance(real, empty) is None
    assert measures.absolute_event_distance(empty, real) is None
    assert measures.circadian_distance(real, empty) is None
    assert measures.activity_frequency_distance(real, empty) is None


histograms = st.dictionaries(st.integers(-50, 500), st.integers(1, 40), min_size=1, max_size=30)


@given(histograms, histograms)
def test_closed_form_emd_is_scipys_wasserstein(u: dict[int, int], v: dict[int, int]) -> None:
    expected = wasserstein_distance(list(u), list(v), list(u.values()), list(v.values()))
    assert wasserstein(u, v) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_halves_are_a_seeded_split_of_every_case() -> None:
    events = [Event(f"case-{i}", "a", float(i), None) for i in range(2_000)]
    halves = read_profiles(events, seed=3)
    assert halves.whole.cases == 2_000
    assert halves.first.cases + halves.second.cases == 2_000
    assert 900 < halves.first.cases < 1_100
    again = read_profiles(events, seed=3)
    assert again.first.cases == halves.first.cases
    np.testing.assert_array_equal(again.first.starts, halves.first.starts)
    key = split_key(3)
    assert halves.first.cases == sum(half_of(e.case, key) == 0 for e in events)
    other = read_profiles(events, seed=4)
    assert not np.array_equal(np.sort(other.first.starts), np.sort(halves.first.starts))
