"""Streaming summaries of observed durations in bounded memory.

A :class:`Sample` takes values one at a time (``add`` is a bare
``array.append``) and folds them in blocks with numpy into

* exact moments of ``x`` and of ``log x`` (count, mean, M2 -- merged with
  Chan's parallel algorithm, so no catastrophic cancellation), min, max, sum
  -- the sufficient statistics of every fitted family except the triangular;
* a uniform reservoir of at most :data:`RESERVOIR` values (Vitter's
  algorithm R, vectorised per block; seeded, so reports are reproducible)
  for quantiles and the triangular fit. Below that many values the reservoir
  *is* the data, so quantiles are exact.

Memory per sample is therefore fixed (about 80 KB at most), whatever the
size of the log.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

import numpy as np

RESERVOIR = 10_000
"""Values kept for quantiles and the triangular fit."""
BLOCK = 1 << 14
"""Values buffered before they are folded in."""


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations (M2) of a set of numbers."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def merge(self, values: np.ndarray) -> Moments:
        k = int(values.size)
        if k == 0:
            return self
        block_mean = float(values.mean())
        block_m2 = float(((values - block_mean) ** 2).sum())
        if self.n == 0:
            return Moments(k, block_mean, block_m2)
        n = self.n + k
        delta = block_mean - self.mean
        return Moments(
            n, self.mean + delta * k / n, self.m2 + block_m2 + delta * delta * self.n * k / n
        )

    @property
    def variance(self) -> float:
        """The maximum-likelihood (population) variance."""
        return self.m2 / self.n if self.n else 0.0


class Sample:
    """Observed values of one quantity (e.g. the service time of one step)."""

    __slots__ = (
        "_blocks",
        "_buffer",
        "_pending",
        "_rng",
        "add",
        "logs",
        "maximum",
        "minimum",
        "moments",
        "nonpositive",
        "reservoir",
    )

    def __init__(self, seed: int = 0) -> None:
        self._buffer = array("d")
        self._blocks: list[np.ndarray] = []
        self._pending = 0
        self.add = self._buffer.append
        """Record one value (cheap: folded in later, see :meth:`flush`)."""
        self._rng = np.random.default_rng(seed)
        self.moments = Moments()
        self.logs = Moments()
        self.minimum = math.inf
        self.maximum = -math.inf
        self.nonpositive = 0
        self.reservoir = np.empty(0, dtype=float)

    def extend(self, values: list[float] | np.ndarray) -> None:
        """Record many values at once (numpy arrays are kept as blocks until folded)."""
        if isinstance(values, np.ndarray):
            if values.size:
                self._blocks.append(np.asarray(values, dtype=float).ravel())
                self._pending += values.size
                if self._pending >= BLOCK:
                    self.flush()
            return
        self._buffer.extend(values)
        self.flush_if_full()

    def flush_if_full(self) -> None:
        if len(self._buffer) >= BLOCK:
            self.flush()

    def flush(self) -> None:
        """Fold the buffered values into the summaries."""
        if self._buffer:
            self._blocks.append(np.frombuffer(self._buffer, dtype=float).copy())
            del self._buffer[:]  # the same array object: ``add`` stays bound to it
        if not self._blocks:
            return
        values = self._blocks[0] if len(self._blocks) == 1 else np.concatenate(self._blocks)
        self._blocks = []
        self._pending = 0
        self._fold(values)

    def _fold(self, values: np.ndarray) -> None:
        seen = self.moments.n
        self.moments = self.moments.merge(values)
        self.minimum = min(self.minimum, float(values.min()))
        self.maximum = max(self.maximum, float(values.max()))
        positive = values[values > 0]
        self.nonpositive += int(values.size - positive.size)
        self.logs = self.logs.merge(np.log(positive))
        self._sample(values, seen)

    def _sample(self, values: np.ndarray, seen: int) -> None:
        room = RESERVOIR - self.reservoir.size
        if room > 0:
            self.reservoir = np.concatenate([self.reservoir, values[:room]])
            values = values[room:]
            seen += room
        if values.size == 0:
            return
        # algorithm R: value number i (1-based) replaces a random slot with probability R/i
        numbers = np.arange(seen + 1, seen + values.size + 1, dtype=float)
        keep = self._rng.random(values.size) < RESERVOIR / numbers
        slots = self._rng.integers(0, RESERVOIR, size=int(keep.sum()))
        self.reservoir[slots] = values[keep]

    # -- summaries (call flush() first; the properties do it) ---------------

    @property
    def n(self) -> int:
        self.flush()
        return self.moments.n

    @property
    def mean(self) -> float:
        self.flush()
        return self.moments.mean if self.moments.n else math.nan

    @property
    def sd(self) -> float:
        """The sample standard deviation (n - 1 in the denominator)."""
        self.flush()
        n = self.moments.n
        return math.sqrt(self.moments.m2 / (n - 1)) if n > 1 else 0.0

    @property
    def total(self) -> float:
        self.flush()
        return self.moments.mean * self.moments.n

    def quantile(self, q: float) -> float:
        self.flush()
        if self.reservoir.size == 0:
            return math.nan
        return float(np.quantile(self.reservoir, q))

    def summary(self) -> dict[str, float | int]:
        """``{n, mean, sd, min, p50, p90, max}`` in seconds (JSON-ready)."""
        self.flush()
        if self.moments.n == 0:
            return {"n": 0}
        return {
            "n": self.moments.n,
            "mean": self.mean,
            "sd": self.sd,
            "min": self.minimum,
            "p50": self.quantile(0.5),
            "p90": self.quantile(0.9),
            "max": self.maximum,
        }

    def standard_error(self) -> float:
        n = self.n
        return self.sd / math.sqrt(n) if n > 1 else math.inf


def wilson_interval(successes: int, trials: int, z: float = 2.5758) -> tuple[float, float]:
    """Wilson score interval for a proportion (99% by default).

    >>> lo, hi = wilson_interval(70, 100)
    >>> round(lo, 3), round(hi, 3)
    (0.573, 0.803)
    """
    if trials == 0:
        return 0.0, 1.0
    phat = successes / trials
    z2 = z * z
    denominator = 1.0 + z2 / trials
    centre = (phat + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(phat * (1 - phat) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
