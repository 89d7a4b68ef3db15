"""Durations that fit real data: :func:`fit_duration` -> :class:`DurationFit`.

Real processing times are rarely one tidy family: many are zero (a task
logged the moment the previous one was), and many are multi-modal (handled
at once, or after the weekend). So:

1. all values equal: ``fixed``;
2. otherwise every family of :func:`~procflow.eventlog.fitting.fit_all`
   (moment-matched, ranked by AIC) is checked against the data with the
   Kolmogorov-Smirnov distance (largest gap between the cumulative
   distributions, against :data:`DRAWS` seeded draws from the fit);
3. the best by AIC is used when the data have fewer than
   :data:`ZERO_SHARE` zeros and its KS distance is at most :data:`GOOD_KS`;
4. else an ``empirical`` distribution of :data:`BINS` to :data:`MAX_BINS`
   equal-count bin means: it keeps the point mass at zero and every mode, and the mean
   exactly (each bin's mean, equally likely).

The note says which families were eligible, so "lowest AIC" is never
claimed when only one family could be fitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from procflow.distributions import Empirical, Fixed, _Dist
from procflow.eventlog.fitting import fit_all
from procflow.eventlog.stats import Sample
from procflow.sim.sampling import drawer

ZERO = 0.5
"""Values at or below this many seconds count as zero."""
ZERO_SHARE = 0.05
GOOD_KS = 0.1
BINS = 24
"""The fewest equal-mass slices of an empirical fit ..."""
MAX_BINS = 96
"""... and the most: one slice per :data:`PER_BIN` values in between, so a long tail
(waits of days to months) keeps its shape instead of one slice's mean."""
PER_BIN = 8
WAIT_BINS = 512
"""The most slices of a wait's empirical fit, one per value up to there: the longest
waits make the longest cases, and a slice's mean would cut them off (in the permit log
the top 2% of cycle times, 41 to 275 days, came out 2 to 4 times too short)."""
DRAWS = 4000


@dataclass(frozen=True)
class DurationFit:
    """The chosen distribution and the evidence for it."""

    distribution: _Dist
    family: str
    n: int
    mean: float
    zero_share: float
    ks: float
    note: str


def fit_duration(values: np.ndarray, seed: int = 0, *, wait: bool = False) -> DurationFit | None:
    """The distribution for ``values`` (seconds, NaN ignored); ``None`` when there are none.

    ``wait``: the values are waits; an empirical fit keeps each value (up to
    :data:`WAIT_BINS` slices) rather than one slice per :data:`PER_BIN`.
    """
    data = np.sort(values[np.isfinite(values)].clip(min=0.0))
    n = int(data.size)
    if n == 0:
        return None
    mean = float(data.mean())
    zeros = float(np.mean(data <= ZERO))
    if float(data[-1] - data[0]) <= 1e-9 * max(mean, 1.0):
        return DurationFit(Fixed(value=mean), "fixed", n, mean, zeros, 0.0, "every value equal")
    sample = Sample()
    sample.extend(data)
    fits = fit_all(sample)
    rng = np.random.default_rng(seed)
    scored = [(f, ks_distance(data, f.distribution, rng)) for f in fits]
    eligible = ", ".join(f.family for f in fits) or "none"
    if scored and zeros < ZERO_SHARE:
        best, ks = scored[0]
        if ks <= GOOD_KS:
            note = (
                f"{best.family}: lowest AIC of {eligible}; KS {ks:.2f}"
                if len(fits) > 1
                else f"{best.family}, the only eligible family; KS {ks:.2f}"
            )
            return DurationFit(best.distribution, best.family, n, mean, zeros, ks, note)
    bins = min(WAIT_BINS, n) if wait else min(MAX_BINS, max(BINS, n // PER_BIN))
    empirical = empirical_bins(data, bins)
    ks = ks_distance(data, empirical, rng)
    why = f"{zeros:.0%} zeros" if zeros >= ZERO_SHARE else "no family fits"
    if scored and zeros < ZERO_SHARE:
        why += f" (best {scored[0][0].family}, KS {scored[0][1]:.2f})"
    return DurationFit(empirical, "empirical", n, mean, zeros, ks, f"empirical: {why}; KS {ks:.2f}")


def empirical_bins(data: np.ndarray, bins: int = BINS) -> Empirical:
    """The means of ``bins`` equal-mass slices of sorted ``data``: the mean is kept.

    A value on a slice boundary is shared between the two slices in
    proportion, so every slice holds exactly ``n / bins`` of the data.
    """
    n = data.size
    count = min(bins, n)
    cumulative = np.concatenate([[0.0], np.cumsum(data)])
    edges = np.arange(count + 1) * (n / count)
    whole = np.minimum(np.floor(edges).astype(np.int64), n - 1)
    mass = cumulative[whole] + (edges - whole) * data[whole]
    mass[-1] = cumulative[-1]
    values = tuple(_round(float(v)) for v in np.diff(mass) / (n / count))
    return Empirical(values=values)


def _round(seconds: float) -> float:
    """Three significant digits, whole seconds at least (values the file can show)."""
    if seconds < 0.5:
        return 0.0
    digits = max(0, 3 - math.floor(math.log10(seconds)) - 1)
    return round(seconds, digits) if seconds < 10 else float(f"{seconds:.3g}")


def ks_distance(data: np.ndarray, dist: _Dist, rng: np.random.Generator) -> float:
    """Kolmogorov-Smirnov distance between sorted ``data`` and draws from ``dist``."""
    draws = np.sort(drawer(dist.sampler(), rng)(DRAWS))  # type: ignore[attr-defined]
    points = np.concatenate([data, draws])
    a = np.searchsorted(data, points, side="right") / data.size
    b = np.searchsorted(draws, points, side="right") / draws.size
    return float(np.max(np.abs(a - b)))
