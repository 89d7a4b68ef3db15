"""Quantiles in fixed memory: a log-spaced histogram of durations.

A simulation of a million cases must not keep a million cycle times to
report their 90th percentile. Durations go into :data:`BINS` bins whose
edges grow by 1 % (:data:`GROWTH`) from 1 ms to about 30 years, plus a bin
for exact zeros (most cases never wait) and one each for the tiny and the
huge. A quantile is found in its bin and interpolated linearly inside it,
so it is within 1 % of the exact sample quantile (in practice far closer),
and clamped to the observed minimum and maximum. Histograms of runs or
blocks add up exactly, whatever the order.

The minimum is an atom worth counting on its own: with fixed durations
most cases take exactly the shortest time (no waiting), and a median
interpolated across its 1 % bin would read 2h as 2h 6s and fail a goal of
``<= 2h`` that every such case meets. So the samples equal to the minimum
(up to float noise, :data:`SAME`) are counted, and a quantile that falls
among them is the minimum itself.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

X_MIN = 1e-3
"""Smallest duration with a bin of its own (seconds)."""
GROWTH = 1.01
"""Ratio between the edges of consecutive bins."""
X_MAX = 1e9
"""Durations above this (about 31 years) share the last bin."""
_LOG_GROWTH = math.log(GROWTH)
_LOG_MIN = math.log(X_MIN)
_REGULAR = math.ceil(math.log(X_MAX / X_MIN) / _LOG_GROWTH)
BINS = _REGULAR + 3
"""Bin 0: exactly 0; bin 1: (0, X_MIN); bins 2..: log-spaced; the last: overflow."""


SIGNIFICANT = 12
"""Digits an interpolated quantile keeps: far more than its 1 % bins resolve."""
SAME = 1e-9
"""Samples this close (relatively) are one value measured with float noise.

A cycle time is ``end - arrival`` on a clock hours into the run, so 900 s of
fixed durations come out as 899.9999999999127 or 900.0000000000009. When all
samples lie that close, every quantile is their mean to 12 significant digits
(900), not a point interpolated between the noisy minimum and maximum."""


def _same(a: float, b: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= SAME * max(abs(a), abs(b))


ATOM_DIGITS = 10
"""Digits the minimum keeps when a quantile falls on it: a cycle time is a difference of
clock readings up to ~10^8 s into a run, good to ~10^-8 s, so 2h comes out as
7199.99999999 or 7200.00000001; ten digits give back 7200 (and a goal of <= 2h its due)."""


def _significant(value: float, digits: int = SIGNIFICANT) -> float:
    return float(f"{value:.{digits}g}")


def bin_of(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """The bin index of every value."""
    index = np.empty(values.shape, dtype=np.int64)
    positive = values > 0.0
    index[~positive] = 0
    logs = np.log(values[positive])
    regular = np.floor((logs - _LOG_MIN) / _LOG_GROWTH).astype(np.int64) + 2
    index[positive] = np.clip(regular, 1, BINS - 1)
    return index


def _edges(index: int) -> tuple[float, float]:
    if index == 0:
        return 0.0, 0.0
    if index == 1:
        return 0.0, X_MIN
    low = X_MIN * GROWTH ** (index - 2)
    return low, low * GROWTH if index < BINS - 1 else math.inf


class Histogram:
    """Counts of durations in log-spaced bins, with their exact count, sum, min and max."""

    __slots__ = ("at_low", "counts", "high", "low", "n", "total")

    def __init__(self) -> None:
        self.counts: NDArray[np.int64] = np.zeros(BINS, dtype=np.int64)
        self.n = 0
        self.total = 0.0
        self.low = math.inf
        self.high = -math.inf
        self.at_low = 0
        """How many samples equal :attr:`low` (up to float noise)."""

    def _count_low(self, low: float, at_low: int) -> None:
        """Fold in ``at_low`` samples equal to ``low``, another batch's or histogram's minimum."""
        if _same(low, self.low):
            self.at_low += at_low
            self.low = min(low, self.low)
        elif low < self.low:
            self.low, self.at_low = low, at_low

    def add(self, values: NDArray[np.float64]) -> None:
        """Count a batch of durations."""
        if len(values) == 0:
            return
        self.counts += np.bincount(bin_of(values), minlength=BINS)
        self.n += len(values)
        self.total += float(values.sum())
        low = float(values.min())
        self._count_low(low, int(np.count_nonzero(values <= low + SAME * abs(low))))
        self.high = max(self.high, float(values.max()))

    def merge(self, other: Histogram) -> None:
        """Add another histogram's counts to this one."""
        self.counts += other.counts
        self.n += other.n
        self.total += other.total
        if other.n:
            self._count_low(other.low, other.at_low)
        self.high = max(self.high, other.high)

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else math.nan

    def quantile(self, q: float) -> float:
        """The ``q``-quantile (0 ≤ q ≤ 1); NaN when empty."""
        if self.n == 0:
            return math.nan
        if q <= 0.0:
            return self.low
        if q >= 1.0:
            return self.high
        if _same(self.low, self.high):  # every sample is one value
            return self.low if self.low == self.high else _significant(self.mean)
        target = q * self.n
        if target <= self.at_low:  # among the samples equal to the minimum
            return _significant(self.low, ATOM_DIGITS)
        cumulative = np.cumsum(self.counts)
        index = int(np.searchsorted(cumulative, target, side="left"))
        before = float(cumulative[index - 1]) if index > 0 else 0.0
        inside = float(self.counts[index])
        low, high = _edges(index)
        low = max(low, self.low)
        high = min(high, self.high)
        if low == self.low:  # the minimum's bin: interpolate over the samples above it
            atoms = min(float(self.at_low), inside)
            before, inside = before + atoms, inside - atoms
        fraction = (target - before) / inside if inside > 0 else 0.0
        value = low + fraction * (high - low)
        return _significant(min(max(value, self.low), self.high))


__all__ = ["BINS", "GROWTH", "X_MAX", "X_MIN", "Histogram", "bin_of"]
