"""Work in progress over time, for the report: how many cases are open in run 1, bin by bin.

The simulation result holds the time-average WIP (the ``wip`` KPI) but no
time series, and the simulator is not changed for a plot: the report
passes an in-memory event sink (:class:`OpenCases`) to
:func:`procflow.simulate`, which gives it the events of run 1 as it would
write an event log. A case counts as open from the start of its first step
to the end of its last, as in an event log (the measure of
``procflow fidelity``, :mod:`procflow.distance.wip`): the wait before the
first step starts is not in the curve, which is why the page shows the
curve beside the ``wip`` KPI rather than in place of it. The curve is the
time-average number of open cases per bin, with bins of a round width
chosen so that a run has at most :data:`MOST_BINS` of them.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

import numpy as np

from procflow.distance.wip import open_cases

MOST_BINS = 240
"""At most this many bins per run: a readable curve and a small SVG, whatever the run's length."""

_MINUTE = 60.0
_HOUR = 3600.0
_DAY = 86400.0
WIDTHS = (
    *(n * _MINUTE for n in (1, 2, 5, 10, 15, 30)),
    *(n * _HOUR for n in (1, 2, 3, 4, 6, 8, 12)),
    *(n * _DAY for n in (1, 2, 7, 14, 28)),
)
"""The round bin widths, shortest first (after four weeks: whole multiples of four weeks)."""


class OpenCases:
    """An event sink (``write_simulated``) keeping each case's first start and last end.

    ``cases`` is the number of cases of the run (case ids are 1 to
    ``cases``, as the simulator numbers them); two flat arrays of doubles,
    so a run of a million cases takes 16 MB.
    """

    def __init__(self, cases: int) -> None:
        self.starts = array("d", [math.inf]) * cases
        self.ends = array("d", [-math.inf]) * cases

    def write_simulated(
        self, case: str | int, step: str, owner: str | None, start: float, end: float
    ) -> None:
        index = int(case) - 1
        if start < self.starts[index]:
            self.starts[index] = start
        if end > self.ends[index]:
            self.ends[index] = end


@dataclass(frozen=True)
class WipSeries:
    """Run 1's open cases per bin from time 0, and where its warm-up and its arrivals end.

    ``warmup_end`` is the first start of the first counted case (its
    arrival, give or take its first wait), ``None`` without a warm-up;
    ``arrivals_end`` the first start of the last case: after it no case
    arrives and the system drains, so the curve falls to 0 there by
    construction and not because the process got faster.
    """

    width: float
    values: tuple[float, ...]
    warmup_end: float | None
    arrivals_end: float
    cases: int

    @property
    def span(self) -> float:
        return self.width * len(self.values)


def bin_width(span: float, most: int = MOST_BINS) -> float:
    """The shortest round width that cuts ``span`` seconds into at most ``most`` bins."""
    for width in WIDTHS:
        if span / width <= most:
            return width
    return math.ceil(span / most / WIDTHS[-1]) * WIDTHS[-1]


def wip_series(sink: OpenCases, warmup: int) -> WipSeries | None:
    """The curve of the cases ``sink`` saw (None when none finished), bins from time 0."""
    starts = np.frombuffer(sink.starts, dtype=np.float64)
    ends = np.frombuffer(sink.ends, dtype=np.float64)
    seen = np.isfinite(starts) & np.isfinite(ends)
    if not seen.any():
        return None
    span = float(ends[seen].max())
    width = bin_width(span)
    bins = max(1, math.ceil(span / width))
    values = open_cases(starts[seen], ends[seen], 0.0, width, bins)
    first_counted = starts[warmup] if 0 < warmup < len(starts) else math.nan
    return WipSeries(
        width=width,
        values=tuple(float(v) for v in values),
        warmup_end=float(first_counted) if math.isfinite(first_counted) else None,
        arrivals_end=float(starts[seen].max()),
        cases=int(seen.sum()),
    )


__all__ = ["MOST_BINS", "OpenCases", "WipSeries", "bin_width", "wip_series"]
