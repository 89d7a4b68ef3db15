"""The distances between two logs' profiles (Chapela-Campa et al., BPM 2023).

Each function takes the real log's :class:`~procflow.distance.profile.Profile`
first and the other (simulated, or the other half of the real log) second,
and returns a float, or ``None`` when a side has nothing to measure. They
are the measures of the ``log-distance-measures`` package with its default
metric (the 1-Wasserstein distance of normalized histograms, see
:mod:`procflow.distance.emd`) and its default discretization (1-hour bins),
starts and ends both counted (a completion-only event counts its one time
twice, as the package does when start = end):

* :func:`ngram_distance` -- control flow: how differently often each
  sequence of ``n`` activities (with start and end padding) occurs, 0..1;
* :func:`cycle_time_distance` -- hours of cycle time to move;
* :func:`absolute_event_distance` -- hours to move each event's timestamps;
* :func:`relative_event_distance` -- the same, with times measured from the
  case's start;
* :func:`circadian_distance` -- hours of the day to move, per weekday,
  averaged over the 7 (a weekday only one log has costs 23);
* :func:`arrival_distance` -- hours to move the case arrivals.

Two more that the issue asks for: :func:`activity_frequency_distance` (how
differently the events spread over activities, 0..1) and the
work-in-progress curve (:mod:`procflow.distance.wip`).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from procflow.distance.emd import wasserstein
from procflow.distance.profile import HOUR, Profile

#: What the circadian distance charges for a weekday that only one log has.
CIRCADIAN_MISSING = 23.0


def ngram_distance(real: Profile, other: Profile) -> float | None:
    """Sum of absolute n-gram count differences over the sum of both counts (0 same, 1 disjoint).

    As the package (``n_gram_distribution_distance``, normalized), counts are
    absolute, so two logs of different sizes differ even with the same mix.
    """
    total = sum(real.ngrams.values()) + sum(other.ngrams.values())
    if total == 0:
        return None
    grams = set(real.ngrams) | set(other.ngrams)
    return sum(abs(real.ngrams[g] - other.ngrams[g]) for g in grams) / total


def cycle_time_distance(real: Profile, other: Profile, bin_size: float = HOUR) -> float | None:
    """EMD between the cycle-time histograms, in bins (hours by default).

    Bins count from the shortest cycle time of both logs, as the package does.
    """
    a, b = real.cycle_times, other.cycle_times
    if len(a) == 0 or len(b) == 0:
        return None
    low = min(float(a.min()), float(b.min()))
    return wasserstein(_binned(a, low, bin_size), _binned(b, low, bin_size))


def _binned(values: np.ndarray, low: float, size: float) -> Counter[int]:
    bins, counts = np.unique(np.floor((values - low) / size).astype(np.int64), return_counts=True)
    return Counter(dict(zip(bins.tolist(), counts.tolist(), strict=True)))


def absolute_event_distance(real: Profile, other: Profile) -> float | None:
    """EMD between the histograms of all timestamps per absolute hour, in hours."""
    return wasserstein(real.absolute, other.absolute)


def relative_event_distance(real: Profile, other: Profile) -> float | None:
    """EMD between the histograms of timestamps per hour since their case started, in hours."""
    return wasserstein(real.relative, other.relative)


def circadian_distance(real: Profile, other: Profile) -> float | None:
    """Mean over the 7 weekdays of the EMD between hour-of-day histograms, in hours (0..23)."""
    if real.events == 0 or other.events == 0:
        return None
    distances = []
    for weekday in range(7):
        a = dict(enumerate(real.circadian[weekday].tolist()))
        b = dict(enumerate(other.circadian[weekday].tolist()))
        distance = wasserstein(a, b)
        if distance is None:
            empty_a, empty_b = not any(a.values()), not any(b.values())
            distance = 0.0 if empty_a and empty_b else CIRCADIAN_MISSING
        distances.append(distance)
    return sum(distances) / 7


def arrival_distance(real: Profile, other: Profile) -> float | None:
    """EMD between the histograms of case arrivals (first starts) per absolute hour, in hours."""
    return wasserstein(_hours(real.starts), _hours(other.starts))


def _hours(moments: np.ndarray) -> Counter[int]:
    return _binned(moments, 0.0, HOUR)


def activity_frequency_distance(real: Profile, other: Profile) -> float | None:
    """Total variation distance between the activity mixes: ½ Σ |share_real − share_other|.

    0 when every activity has the same share of the events in both logs, 1
    when they share no activity.
    """
    total_a, total_b = real.events, other.events
    if total_a == 0 or total_b == 0:
        return None
    names = set(real.activities) | set(other.activities)
    return 0.5 * math.fsum(
        abs(real.activities[name] / total_a - other.activities[name] / total_b) for name in names
    )


def activity_errors(real: Profile, other: Profile) -> list[tuple[str, float, float, float | None]]:
    """Per activity: events per case in each log and the relative error of ``other``.

    Sorted by how often the activity happens in the real log (then by name);
    the error is ``None`` for an activity the real log never has.
    """
    names = set(real.activities) | set(other.activities)
    rows = []
    for name in sorted(names, key=lambda n: (-real.activities[n], n)):
        a = real.activities[name] / real.cases if real.cases else 0.0
        b = other.activities[name] / other.cases if other.cases else 0.0
        rows.append((name, a, b, (b - a) / a if a > 0 else None))
    return rows
