"""Work in progress over time: how many cases are open, hour by hour.

A case is open from its first start to its last end. The curve gives, for
each hour of a common timeline, the case-hours open in it divided by the
hour (three cases open all hour and one open half of it make 3.5), as the
``log-distance-measures`` package's ``work_in_progress_distance`` does.
Computed from the cases' start and end only, in O(cases + hours): the
partial hours at each case's two ends are added directly and the full
hours in between through a difference array.

Two distances between the curves of two logs on the same timeline:

* :func:`wip_distance` -- the EMD between them as distributions of
  case-hours over time, in hours (how far in time the load must move; the
  package's measure, which it then divides by the timeline's length);
* :func:`wip_error` -- the mean absolute difference of the curves, in
  cases, over every hour either log has an open case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from procflow.distance.emd import cdf_area
from procflow.distance.profile import DAY, HOUR, Profile


@dataclass(frozen=True)
class Timeline:
    """Hourly bins from ``origin`` (seconds since the epoch, a UTC midnight)."""

    origin: float
    hours: int

    @classmethod
    def spanning(cls, *profiles: Profile) -> Timeline:
        """Whole days around every case of the profiles (as the package: floor and ceil to 24 h)."""
        starts = [float(p.starts.min()) for p in profiles if p.cases]
        ends = [float(p.ends.max()) for p in profiles if p.cases]
        if not starts:
            return cls(0.0, 0)
        origin = math.floor(min(starts) / DAY) * DAY
        end = math.ceil(max(ends) / DAY) * DAY
        return cls(origin, max(1, math.ceil((end - origin) / HOUR)))


def wip_curve(profile: Profile, timeline: Timeline) -> NDArray[np.float64]:
    """Open case-hours per hour of ``timeline`` (see the module docstring)."""
    return open_cases(profile.starts, profile.ends, timeline.origin, HOUR, timeline.hours)


def open_cases(
    starts: NDArray[np.float64], ends: NDArray[np.float64], origin: float, width: float, bins: int
) -> NDArray[np.float64]:
    """The time-average number of open cases in each of ``bins`` bins of ``width`` seconds.

    Case ``i`` is open from ``starts[i]`` to ``ends[i]`` (seconds); bin
    ``k`` covers ``origin + k * width`` to the next. Each bin holds the
    case-time open in it divided by ``width`` (the module docstring's
    method, with hours generalized to any width; parts outside the bins are
    left out). What :func:`wip_curve` computes per hour, and the report's
    WIP-over-time plot per bin of its run.
    """
    curve = np.zeros(bins + 1, dtype=np.float64)
    if len(starts) == 0 or bins == 0:
        return curve[:bins]
    start = np.clip((starts - origin) / width, 0.0, bins)
    end = np.clip((ends - origin) / width, 0.0, bins)
    first = np.floor(start).astype(np.int64)
    last = np.floor(end).astype(np.int64)
    same = first == last
    np.add.at(curve, first[same], end[same] - start[same])
    split = ~same
    np.add.at(curve, first[split], first[split] + 1 - start[split])
    np.add.at(curve, last[split], end[split] - last[split])
    full = np.zeros(bins + 2, dtype=np.float64)
    np.add.at(full, first[split] + 1, 1.0)
    np.add.at(full, last[split], -1.0)
    curve += np.cumsum(full)[: bins + 1]
    return curve[:bins]


def wip_distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> float | None:
    """EMD between two WIP curves on one timeline, as distributions over time, in hours."""
    total_a, total_b = float(a.sum()), float(b.sum())
    if total_a <= 0 or total_b <= 0:
        return None
    bins = np.arange(len(a), dtype=np.float64)
    return cdf_area(bins, a / total_a, b / total_b)


def wip_error(a: NDArray[np.float64], b: NDArray[np.float64]) -> float | None:
    """Mean |a − b| over the hours where either curve is above zero, in cases."""
    active = (a > 0) | (b > 0)
    if not active.any():
        return None
    return float(np.mean(np.abs(a[active] - b[active])))
