"""Fit a duration distribution (docs/file-format.md#distributions) to observed durations.

The criterion: every family is **matched to the sample mean and standard
deviation** (the method of moments), and the family under which the data
are most likely -- the lowest **AIC**, 2·parameters − 2·log-likelihood -- is
chosen. Matching the moments first means whatever family wins, the
calibrated process reproduces the observed mean and variability, which is
what queueing analysis (mean, squared coefficient of variation) and
simulation depend on. Plain maximum likelihood does not promise that: on
real durations that mix seconds (handled at once) with weeks (left
waiting), the lognormal MLE implies a mean forty times the observed one,
and even a mean-preserving lognormal an sd a hundred times too large.

=============  ==========================================================
fixed          chosen outright when all observations are equal
exponential    mean (its sd is the mean: the likelihood judges that, as it
               judges the triangular's)
normal         mean, sd; only when the mean is at least 3 sd above 0,
               so the truncation at 0 is negligible
lognormal      σ² = log(1 + sd²/mean²), μ = log mean − σ²/2 (x > 0)
gamma          shape = mean²/sd², scale = sd²/mean (x > 0)
uniform        ends just outside the range (min − r/(n−1), max + r/(n−1),
               r the range), offered only when its mean is within 3
               standard errors of the sample mean
triangular     ends just outside the range (min − r/(n−1), max + r/(n−1)),
               the mode that gives the mean (3·mean − min − max) when it
               lies between them; its likelihood is evaluated on the
               reservoir sample and scaled to n
=============  ==========================================================

``empirical`` is never proposed: it would copy the data into the file.
Everything but the triangular works from the exact sufficient statistics of
:class:`~procflow.eventlog.stats.Sample` (moments of x and of log x), so
fitting a million durations is as cheap as fitting ten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from procflow.distributions import (
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Normal,
    Triangular,
    Uniform,
    _Dist,
)
from procflow.eventlog.stats import Sample

FAMILIES = ("exponential", "normal", "lognormal", "gamma", "uniform", "triangular")
_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class Fit:
    """One family fitted to a sample: the distribution, its log-likelihood and AIC."""

    distribution: _Dist
    family: str
    log_likelihood: float
    parameters: int

    @property
    def aic(self) -> float:
        return 2.0 * self.parameters - 2.0 * self.log_likelihood


def digamma(x: float) -> float:
    """ψ(x) for x > 0 (recurrence up to 6, then the asymptotic series).

    >>> round(digamma(1.0), 6)
    -0.577216
    """
    result = 0.0
    while x < 6.0:
        result -= 1.0 / x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    return (
        result
        + math.log(x)
        - 0.5 * inv
        - inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240))))
    )


def trigamma(x: float) -> float:
    """ψ'(x) for x > 0.

    >>> round(trigamma(1.0), 6)
    1.644934
    """
    result = 0.0
    while x < 6.0:
        result += 1.0 / (x * x)
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    return (
        result
        + inv
        + 0.5 * inv2
        + inv * inv2 * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (1.0 / 42 - inv2 / 30)))
    )


def gamma_shape(s: float) -> float:
    """The MLE shape k solving ``log k − ψ(k) = s`` (s = log mean − mean log > 0)."""
    k = (3.0 - s + math.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
    for _ in range(50):
        step = (math.log(k) - digamma(k) - s) / (1.0 / k - trigamma(k))
        k_new = k - step
        if k_new <= 0:
            k_new = k / 2.0
        if abs(k_new - k) < 1e-10 * k:
            return k_new
        k = k_new
    return k


def _norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def fit_all(sample: Sample) -> list[Fit]:
    """Every family that fits the sample, best (lowest AIC) first."""
    n = sample.n
    if n == 0:
        return []
    mean = sample.mean
    minimum, maximum = sample.minimum, sample.maximum
    if maximum - minimum <= 1e-9 * max(abs(mean), 1.0):
        return [Fit(Fixed(value=max(mean, 0.0)), "fixed", math.inf, 1)]
    fits: list[Fit] = []
    sd = sample.sd
    variance = sd * sd
    spread_sq = sample.moments.variance  # mean squared deviation (divides by n)
    if minimum >= 0 and mean > 0:
        fits.append(Fit(Exponential(mean_=mean), "exponential", -n * (math.log(mean) + 1.0), 1))
    if sd > 0 and mean >= 3.0 * sd:
        ll = -0.5 * n * (_LOG_2PI + math.log(variance)) - n * spread_sq / (2.0 * variance)
        ll -= n * math.log(_norm_cdf(mean / sd))
        fits.append(Fit(Normal(mu=mean, sigma=sd), "normal", ll, 2))
    if sample.nonpositive == 0 and sample.logs.n == n and mean > 0 and sd > 0:
        log_mean = sample.logs.mean
        log_var = sample.logs.variance
        s2 = math.log1p(variance / (mean * mean))
        mu = math.log(mean) - s2 / 2.0
        ll = (
            -n * log_mean
            - 0.5 * n * (_LOG_2PI + math.log(s2))
            - n * (log_var + (log_mean - mu) ** 2) / (2.0 * s2)
        )
        fits.append(Fit(Lognormal(mean_=mean, sd_=sd), "lognormal", ll, 2))
        shape = mean * mean / variance
        scale = variance / mean
        ll = n * (
            (shape - 1.0) * log_mean - mean / scale - shape * math.log(scale) - math.lgamma(shape)
        )
        fits.append(Fit(Gamma(mean_=mean, sd_=sd), "gamma", ll, 2))
    if n >= 2:
        spread = (maximum - minimum) / (n - 1)
        low, high = max(minimum - spread, 0.0), maximum + spread
        if abs((low + high) / 2.0 - mean) <= 3.0 * sd / math.sqrt(n):
            fits.append(Fit(Uniform(min=low, max=high), "uniform", -n * math.log(high - low), 2))
        triangular = _fit_triangular(sample, low, 3.0 * mean - low - high, high)
        if triangular is not None:
            fits.append(triangular)
    fits.sort(key=lambda f: f.aic)
    return fits


def _fit_triangular(sample: Sample, low: float, mode: float, high: float) -> Fit | None:
    data = sample.reservoir
    if data.size < 3 or not low <= mode <= high or high <= low:
        return None
    width = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        left = 2.0 * (data - low) / (width * (mode - low)) if mode > low else np.zeros_like(data)
        right = (
            2.0 * (high - data) / (width * (high - mode)) if high > mode else np.zeros_like(data)
        )
        density = np.where(data < mode, left, right)
        ll = float(np.sum(np.log(density)))
    if not math.isfinite(ll):
        return None
    scaled = ll * sample.n / data.size
    return Fit(Triangular(min=low, mode=mode, max=high), "triangular", scaled, 3)
