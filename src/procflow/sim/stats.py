"""Confidence intervals over replications: Student's t, without SciPy.

Replications are independent and identically distributed, so a KPI's mean
over ``R`` runs has a Student-t interval with ``R - 1`` degrees of freedom.
A what-if comparison runs baseline and change with common random numbers,
so its runs come in pairs; the interval of the *paired differences* is far
narrower than comparing two independent intervals, and a difference is
significant when that interval excludes 0.

The t quantile is computed from the regularized incomplete beta function
(continued fraction, as in Numerical Recipes), solved by bisection; it
agrees with published tables to all printed digits.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from itertools import repeat
from typing import Any

CONFIDENCE = 0.95


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@functools.cache  # every interval of a run asks for the same few (p, df): solve each once
def t_quantile(p: float, df: float) -> float:
    """The ``p``-quantile of Student's t (e.g. ``t_quantile(0.975, 9)`` = 2.262).

    >>> round(t_quantile(0.975, 1), 3), round(t_quantile(0.975, 9), 3)
    (12.706, 2.262)
    """
    if not 0.0 < p < 1.0:
        raise ValueError("p must lie strictly between 0 and 1")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, high):
            break
    return 0.5 * (low + high)


@dataclass(frozen=True)
class Estimate:
    """A KPI over replications: the mean, its 95 % interval (None with one run) and the runs."""

    mean: float | None
    ci95: tuple[float, float] | None
    runs: tuple[float | None, ...]

    @property
    def half_width(self) -> float | None:
        if self.ci95 is None:
            return None
        return (self.ci95[1] - self.ci95[0]) / 2.0


def estimate(
    values: Sequence[float | None], *, nonnegative: bool = False, most: float | None = None
) -> Estimate:
    """Mean and Student-t 95 % interval of per-run values (None when any run has none).

    ``nonnegative`` quantities (times, rates, utilizations) get an interval
    cut at 0: a t interval from a few runs can reach below 0, but a mean wait
    of -0.1 s is not a value anyone should be shown. Differences keep theirs.
    Likewise an interval stops at ``most`` (1 for a utilization or a share:
    97.9 % … 101.3 % would be a utilization no pool can have).
    """
    runs = tuple(values)
    count = len(runs)
    # C-level checks and loops (``in``, ``map``): a 5,000-step process asks for ~20k estimates
    if not count or None in runs or not all(map(math.isfinite, runs)):  # type: ignore[arg-type]
        return Estimate(None, None, runs)
    numbers = list(map(float, runs))  # type: ignore[arg-type]
    mean = math.fsum(numbers) / count
    if count < 2:
        return Estimate(mean, None, runs)
    half = t_quantile(0.5 + CONFIDENCE / 2.0, count - 1) * _standard_error(numbers, mean)
    low = max(mean - half, 0.0) if nonnegative else mean - half
    high = mean + half if most is None else min(mean + half, most)
    return Estimate(mean, (low, high), runs)


def estimates(
    columns: Iterable[Sequence[float | None]],
    mosts: Iterable[float | None],
    *,
    nonnegative: bool = False,
) -> list[Estimate]:
    """:func:`estimate` of each column (with its ``most``): the same figures, to the last bit.

    A 5,000-step process has ~20,000 KPIs. Their columns of finite values are
    estimated together: the sums are :func:`math.fsum` of each column as
    before and each square is Python's ``pow(deviation, 2)`` (the C library's
    ``pow``, which rounds a few squares differently from ``x * x``), but the
    arithmetic around them runs over arrays. IEEE subtraction, division and
    square root round the same in numpy as in Python, and the cuts at 0 and
    ``most`` are written as ``max`` and ``min`` decide them. Anything else (a
    missing or non-finite value, one run, squares that overflow) goes through
    :func:`estimate`.
    """
    import numpy as np

    runs_of = [values if values.__class__ is tuple else tuple(values) for values in columns]
    most_of = list(mosts)
    if len(most_of) != len(runs_of):
        raise ValueError("one most per column")
    counts = {len(runs) for runs in runs_of}
    found: list[Estimate | None] = [None] * len(runs_of)
    count = counts.pop() if len(counts) == 1 else 0
    if count >= 2:
        try:
            table = np.array(runs_of, dtype=np.float64)
        except (OverflowError, TypeError, ValueError):  # not plain numbers: one by one
            table = None
        if table is not None:
            (rows,) = np.nonzero(np.isfinite(table).all(axis=1))
            for start in range(0, len(rows), _BLOCK):  # bounded temporaries
                part = rows[start : start + _BLOCK]
                with suppress(OverflowError):  # this block again, one by one
                    _bulk(table[part], part.tolist(), runs_of, most_of, nonnegative, found)
    return [
        done if done is not None else estimate(runs, nonnegative=nonnegative, most=most)
        for done, runs, most in zip(found, runs_of, most_of, strict=True)
    ]


_BLOCK = 2048
"""Columns estimated together at a time (their squares are Python floats for a moment)."""


def _bulk(
    table: Any,
    rows: list[int],
    runs_of: list[tuple[float | None, ...]],
    most_of: list[float | None],
    nonnegative: bool,
    found: list[Estimate | None],
) -> None:
    """:func:`estimates` of ``rows``, whose ``table`` rows (two or more runs) are all finite."""
    import numpy as np

    if not rows:
        return
    count = table.shape[1]
    fsum = math.fsum
    means = np.array(list(map(fsum, table.tolist()))) / count
    squares = list(map(pow, (table - means[:, None]).ravel().tolist(), repeat(2)))
    spread = np.array([fsum(squares[i : i + count]) for i in range(0, len(squares), count)])
    half = t_quantile(0.5 + CONFIDENCE / 2.0, count - 1) * np.sqrt(spread / (count - 1) / count)
    low, high = means - half, means + half
    if nonnegative:
        low = np.where(low < 0.0, 0.0, low)  # max(low, 0.0)
    most = np.array([most_of[row] for row in rows], dtype=np.float64)  # None: nan, no cut
    high = np.where(most < high, most, high)  # min(high, most)
    figures = zip(rows, means.tolist(), low.tolist(), high.tolist(), strict=True)
    for row, mean, lower, upper in figures:
        found[row] = Estimate(mean, (lower, upper), runs_of[row])


def _standard_error(numbers: list[float], mean: float) -> float:
    """The standard error of the mean; scaled when squares overflow (durations of 1e300h)."""
    try:
        # (v - mean) ** 2 for each v, looped in C
        squares = map(pow, map(operator.sub, numbers, repeat(mean)), repeat(2))
        variance = math.fsum(squares) / (len(numbers) - 1)
        return math.sqrt(variance / len(numbers))
    except OverflowError:
        scale = max(abs(v - mean) for v in numbers)
        spread = math.fsum(((v - mean) / scale) ** 2 for v in numbers) / (len(numbers) - 1)
        return scale * math.sqrt(spread / len(numbers))


@dataclass(frozen=True)
class Difference:
    """A paired difference ``change - baseline`` over replications."""

    baseline: float | None
    value: float | None
    difference: float | None
    ci95: tuple[float, float] | None
    significant: bool | None
    """True when the 95 % interval of the difference excludes 0 (None with one run)."""

    @property
    def relative(self) -> float | None:
        """The difference as a fraction of the baseline."""
        if self.difference is None or not self.baseline:
            return None
        return self.difference / abs(self.baseline)


def paired(baseline: Sequence[float | None], change: Sequence[float | None]) -> Difference:
    """The paired-t comparison of two KPIs measured on the same seeds, run by run."""
    base = estimate(baseline)
    other = estimate(change)
    if base.mean is None or other.mean is None:
        return Difference(base.mean, other.mean, None, None, None)
    diff = estimate([c - b for b, c in zip(base.runs, other.runs, strict=True)])  # type: ignore[operator]
    significant = None
    if diff.ci95 is not None:
        low, high = diff.ci95
        significant = low > 0.0 or high < 0.0
    return Difference(base.mean, other.mean, diff.mean, diff.ci95, significant)


__all__ = [
    "CONFIDENCE",
    "Difference",
    "Estimate",
    "estimate",
    "estimates",
    "incomplete_beta",
    "paired",
    "t_cdf",
    "t_quantile",
]
