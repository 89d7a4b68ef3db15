"""Random numbers for the simulator: one dedicated stream per random process, drawn in blocks.

**Streams and common random numbers.** Every random process of a run has a
stream of its own, derived from the run's seed with
:class:`numpy.random.SeedSequence`: run ``r`` of a simulation seeded ``S``
is ``SeedSequence(S).spawn(runs)[r]`` (spawn key ``(r,)``), and inside it

* the arrival stream has spawn key ``(r, 0, 0)``,
* the durations of step ``X`` have ``(r, 1, key(X))``,
* the routing decisions of step ``X`` have ``(r, 2, key(X))``,

where ``key(X)`` is a 64-bit hash of the step *id* (:func:`stream_key`), not
its position in the file. So a baseline and a what-if change simulated with
the same seed see the same arrivals and, step by step, the same durations
and routing draws, even when the change adds, removes or reorders steps:
a change to one step never shifts the random numbers of another. This is
what makes ``procflow compare`` a paired comparison (common random numbers).

**Blocks.** Draws are made with numpy, :data:`BLOCK` at a time, and handed
to the event loop as a Python list it pops from (reversed, so ``pop()``
yields them in drawing order). The *k*-th draw of a stream is the same
whatever the block size, so blocks are only a speed device.

**Distributions.** Sampling follows :mod:`procflow.distributions` exactly:
``normal`` is truncated at 0 by redrawing negative values (accepted draws
keep their order), ``lognormal`` uses ``log_params``, ``gamma`` uses
``shape_scale``, ``empirical`` resamples ``values`` with equal
probability.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from procflow.distributions import (
    AnyDistribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Normal,
    Triangular,
    Uniform,
)

BLOCK = 4096
"""Draws made per numpy call; only a speed device (results do not depend on it)."""

ARRIVALS, DURATIONS, ROUTING = 0, 1, 2
"""The purposes of a stream: the middle element of its spawn key."""


def stream_key(name: str) -> int:
    """A stable 64-bit key for a step id: the same in every process that has the step.

    >>> stream_key("triage") == stream_key("triage") != stream_key("resolve")
    True
    """
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


def generator(seed: int, run: int, purpose: int, key: int = 0) -> np.random.Generator:
    """The generator of one random process of run ``run`` (see the module docstring)."""
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(run, purpose, key))
    return np.random.Generator(np.random.PCG64(sequence))


@dataclass(frozen=True)
class DistSpec:
    """A distribution as plain, picklable data: a name and its numpy parameters (seconds)."""

    name: str
    params: tuple[float, ...]


def spec_of(dist: AnyDistribution) -> DistSpec:
    """The numpy parameters of a procflow distribution."""
    if isinstance(dist, Fixed):
        return DistSpec("fixed", (dist.value,))
    if isinstance(dist, Exponential):
        return DistSpec("exponential", (dist.mean_,))
    if isinstance(dist, Uniform):
        if dist.min == dist.max:
            return DistSpec("fixed", (dist.min,))
        return DistSpec("uniform", (dist.min, dist.max))
    if isinstance(dist, Triangular):
        if dist.min == dist.max:  # numpy refuses a triangle of zero width
            return DistSpec("fixed", (dist.min,))
        return DistSpec("triangular", (dist.min, dist.mode, dist.max))
    if isinstance(dist, Normal):
        if dist.sigma == 0:
            return DistSpec("fixed", (max(dist.mu, 0.0),))
        return DistSpec("normal", (dist.mu, dist.sigma))
    if isinstance(dist, Lognormal):
        if dist.sd_ == 0:
            return DistSpec("fixed", (dist.mean_,))
        mu, sigma = dist.log_params
        return DistSpec("lognormal", (mu, sigma))
    if isinstance(dist, Gamma):
        shape, scale = dist.shape_scale
        return DistSpec("gamma", (shape, scale))
    if isinstance(dist, Empirical):
        if len(set(dist.values)) == 1:
            return DistSpec("fixed", (dist.values[0],))
        return DistSpec("empirical", tuple(dist.values))
    raise TypeError(f"unknown distribution {dist!r}")  # pragma: no cover - closed union


Draw = Callable[[int], NDArray[Any]]
"""Draws the next ``n`` values of a stream."""


def drawer(spec: DistSpec, rng: np.random.Generator) -> Draw:
    """A function drawing ``n`` values of ``spec`` from ``rng`` (the stream's next ``n``)."""
    name, params = spec.name, spec.params
    if name == "fixed":
        value = float(params[0])
        return lambda n: np.full(n, value)
    if name == "exponential":
        (scale,) = params
        return lambda n: rng.exponential(scale, n)
    if name == "uniform":
        low, high = params
        return lambda n: rng.uniform(low, high, n)
    if name == "triangular":
        left, mode, right = params
        return lambda n: rng.triangular(left, mode, right, n)
    if name == "lognormal":
        mu, sigma = params
        return lambda n: rng.lognormal(mu, sigma, n)
    if name == "gamma":
        shape, scale = params
        return lambda n: rng.gamma(shape, scale, n)
    if name == "empirical":
        values = np.asarray(params, dtype=np.float64)
        return lambda n: values[rng.integers(0, len(values), n)]
    if name == "normal":
        mu, sigma = params
        return _truncated_normal(mu, sigma, rng)
    raise ValueError(f"unknown distribution {name!r}")


def _truncated_normal(mu: float, sigma: float, rng: np.random.Generator) -> Draw:
    """Normal draws with negatives redrawn: the non-negative draws of the stream, in order.

    Surplus accepted draws are kept for the next call, so the *k*-th value
    does not depend on how many are asked for at a time. procflow durations
    have ``mu >= 0``, so at least half of the draws are accepted.
    """
    surplus: list[NDArray[np.float64]] = [np.empty(0)]

    def draw(n: int) -> NDArray[np.float64]:
        pending = surplus.pop()
        while len(pending) < n:
            raw = rng.normal(mu, sigma, max(n, 64))
            pending = np.concatenate([pending, raw[raw >= 0.0]])
        surplus.append(pending[n:])
        return pending[:n]

    return draw


def uniforms(rng: np.random.Generator) -> Draw:
    """Uniform draws on [0, 1): routing decisions that depend on a case's state."""
    return lambda n: rng.random(n)


class Buffer:
    """A stream of draws handed out by ``list.pop()``, refilled :data:`BLOCK` at a time.

    ``values`` is one list object for the whole run (refills extend it), so
    the event loop can keep a reference to it. ``consumed_sum()`` and
    ``consumed`` tell how much has been handed out, which is how the engine
    knows every step's visits and total service time without counting them
    one by one.
    """

    __slots__ = ("_done_count", "_done_sum", "_draw", "_last_size", "_last_sum", "values")

    def __init__(self, draw: Draw) -> None:
        self._draw = draw
        self.values: list[Any] = []
        self._done_sum = 0.0
        self._done_count = 0
        self._last_sum = 0.0
        self._last_size = 0

    def refill(self) -> None:
        """Replace the (empty) list's content with the next block of draws."""
        block = self._draw(BLOCK)
        self._done_sum += self._last_sum
        self._done_count += self._last_size
        self._last_sum = float(block.sum())
        self._last_size = len(block)
        self.values.extend(block[::-1].tolist())

    @property
    def consumed(self) -> int:
        return self._done_count + self._last_size - len(self.values)

    def consumed_sum(self) -> float:
        """The sum of every value handed out so far."""
        return self._done_sum + (self._last_sum - math.fsum(self.values))


class ChoiceBuffer(Buffer):
    """Routing draws for a step without bounded or feedback edges: next-step indices."""

    __slots__ = ()

    def __init__(
        self, rng: np.random.Generator, cumulative: tuple[float, ...], targets: tuple[int, ...]
    ) -> None:
        cum = np.asarray(cumulative, dtype=np.float64)
        tgt = np.asarray(targets, dtype=np.int64)
        last = len(tgt) - 1

        def draw(n: int) -> NDArray[Any]:
            index = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), last)
            return tgt[index]

        super().__init__(draw)


class ArrivalTimes:
    """The arrival times of one run: ``cases`` cases, inter-arrival times drawn from ``spec``.

    Arrival ``i`` is the running sum of the first ``i + 1`` inter-arrival
    draws (block by block). The stream can be replayed: :meth:`at` reads it
    once to learn when given cases arrive (the observation window of the
    statistics), :meth:`source` replays it for the event loop.
    """

    def __init__(self, seed: int, run: int, spec: DistSpec, cases: int) -> None:
        self.seed = seed
        self.run = run
        self.spec = spec
        self.cases = cases

    def _blocks(self) -> Iterator[NDArray[np.float64]]:
        draw = drawer(self.spec, generator(self.seed, self.run, ARRIVALS))
        left = self.cases
        clock = 0.0
        while left > 0:
            size = min(BLOCK, left)
            times = np.cumsum(draw(size)) + clock
            clock = float(times[-1])
            left -= size
            yield times

    def at(self, *cases: int) -> list[float]:
        """The arrival times of the given case numbers (0-based), in one pass over the stream."""
        wanted = dict.fromkeys(cases, math.nan)
        offset = 0
        for times in self._blocks():
            for case in wanted:
                if offset <= case < offset + len(times):
                    wanted[case] = float(times[case - offset])
            offset += len(times)
        return [wanted[case] for case in cases]

    def source(self) -> Callable[[], list[float]]:
        """A function returning the next block of arrival times, reversed for ``pop()``.

        After the last case it returns ``[inf]``, forever.
        """
        blocks = self._blocks()

        def next_block() -> list[float]:
            times = next(blocks, None)
            if times is None:
                return [math.inf]
            return times[::-1].tolist()  # type: ignore[no-any-return]

        return next_block


__all__ = [
    "ARRIVALS",
    "BLOCK",
    "DURATIONS",
    "ROUTING",
    "ArrivalTimes",
    "Buffer",
    "ChoiceBuffer",
    "DistSpec",
    "drawer",
    "generator",
    "spec_of",
    "stream_key",
    "uniforms",
]
