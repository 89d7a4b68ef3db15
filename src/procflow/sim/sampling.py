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

**Blocks.** Draws are made with numpy, in chunks that start at
:data:`FIRST` and double up to :data:`BLOCK`, and handed to the event loop
as a Python list it pops from (reversed, so ``pop()`` yields them in
drawing order). The *k*-th draw of a stream is the same whatever the chunk
sizes, so chunks are only a speed and memory device (see :class:`Buffer`).

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
from typing import Any, assert_never

import numpy as np
from numpy.typing import NDArray

from procflow.distributions import AnyDistribution, Sampler

BLOCK = 4096
"""The most draws made per numpy call, and the unit of :meth:`Buffer.consumed_sum`."""

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


DistSpec = Sampler
"""A distribution as plain, picklable data (:class:`procflow.distributions.Sampler`)."""


def spec_of(dist: AnyDistribution) -> DistSpec:
    """The numpy parameters of a procflow distribution (each kind knows its own)."""
    return dist.sampler()


class Stream:
    """The values of one random process: ``stream(n)`` draws the next ``n``.

    :meth:`peek` looks ahead without consuming: it draws and then puts the
    generator back as it was, so the values it returns are the ones the
    next calls will draw.
    """

    __slots__ = ("_rng", "_sample")

    def __init__(self, sample: Callable[[int], NDArray[Any]], rng: np.random.Generator | None):
        self._sample = sample
        self._rng = rng

    def __call__(self, n: int) -> NDArray[Any]:
        return self._sample(n)

    def peek(self, n: int) -> NDArray[Any]:
        """The next ``n`` values, left in the stream."""
        if self._rng is None:
            return self._sample(n)
        state = self._rng.bit_generator.state
        try:
            return self._sample(n)
        finally:
            self._rng.bit_generator.state = state


class Lazy(Stream):
    """A stream made on first use: a step no case visits costs no generator."""

    __slots__ = ("_made", "_make")

    def __init__(self, make: Callable[[], Stream]) -> None:
        super().__init__(self._first, None)
        self._make = make
        self._made: Stream | None = None

    def _stream(self) -> Stream:
        if self._made is None:
            self._made = self._make()
        return self._made

    def _first(self, n: int) -> NDArray[Any]:
        return self._stream()(n)

    def peek(self, n: int) -> NDArray[Any]:
        return self._stream().peek(n)


Draw = Stream
"""Draws the next ``n`` values of a stream (kept as a name for callers)."""


def drawer(spec: DistSpec, rng: np.random.Generator) -> Stream:
    """The stream of ``spec``'s values drawn from ``rng``."""
    params = spec.params
    match spec.name:
        case "fixed":
            value = float(params[0])
            return Stream(lambda n: np.full(n, value), None)
        case "exponential":
            (scale,) = params
            return Stream(lambda n: rng.exponential(scale, n), rng)
        case "uniform":
            low, high = params
            return Stream(lambda n: rng.uniform(low, high, n), rng)
        case "triangular":
            left, mode, right = params
            return Stream(lambda n: rng.triangular(left, mode, right, n), rng)
        case "lognormal":
            mu, sigma = params
            return Stream(lambda n: rng.lognormal(mu, sigma, n), rng)
        case "gamma":
            shape, scale = params
            return Stream(lambda n: rng.gamma(shape, scale, n), rng)
        case "empirical":
            values = np.asarray(params, dtype=np.float64)
            return Stream(lambda n: values[rng.integers(0, len(values), n)], rng)
        case "normal":
            mu, sigma = params
            return _TruncatedNormal(mu, sigma, rng)
        case unknown:
            assert_never(unknown)


class _TruncatedNormal(Stream):
    """Normal draws with negatives redrawn: the non-negative draws of the stream, in order.

    Surplus accepted draws are kept for the next call, so the *k*-th value
    does not depend on how many are asked for at a time. procflow durations
    have ``mu >= 0``, so at least half of the draws are accepted.
    """

    __slots__ = ("_mu", "_sigma", "_surplus")

    def __init__(self, mu: float, sigma: float, rng: np.random.Generator) -> None:
        super().__init__(self._draw, rng)
        self._mu = mu
        self._sigma = sigma
        self._surplus: NDArray[np.float64] = np.empty(0)

    def _draw(self, n: int) -> NDArray[np.float64]:
        assert self._rng is not None
        pending = self._surplus
        while len(pending) < n:
            raw = self._rng.normal(self._mu, self._sigma, max(n, 64))
            pending = np.concatenate([pending, raw[raw >= 0.0]])
        self._surplus = pending[n:]
        return pending[:n]

    def peek(self, n: int) -> NDArray[Any]:
        surplus = self._surplus
        try:
            return super().peek(n)
        finally:
            self._surplus = surplus


def uniforms(rng: np.random.Generator) -> Stream:
    """Uniform draws on [0, 1): routing decisions that depend on a case's state."""
    return Stream(lambda n: rng.random(n), rng)


Exact = tuple[int, int]
"""An exact sum of floats, ``n * 2**scale`` (see :func:`exact_sum`)."""

_UNIT = float(2**53)


def exact_sum(values: NDArray[np.float64]) -> Exact:
    """The exact sum of non-negative finite floats, as ``(n, scale)`` meaning ``n * 2**scale``.

    Each value is ``m * 2**e`` with an integer ``m < 2**53``; the ``m`` of each
    exponent are added exactly in float64 (in two halves of 26 and 27 bits, so
    that even 4,096 of them stay below ``2**53``) and the few exponent groups
    are combined as Python integers. Several times faster than ``math.fsum``
    on a block of draws, and :func:`rounded` of it is what ``math.fsum``
    returns (both round the exact sum once, half to even).

    >>> rounded(exact_sum(np.array([0.1, 0.2, 0.3]))) == math.fsum([0.1, 0.2, 0.3])
    True
    """
    if len(values) <= 32:  # a few: one by one is faster than numpy's set-up
        total: Exact = (0, 0)
        for value in values.tolist():
            n, d = value.as_integer_ratio()
            total = plus(total, (n, 1 - d.bit_length()))
        return total
    assert len(values) < 2**26
    mantissas, exponents = np.frexp(values)
    whole = (mantissas * _UNIT).astype(np.int64)
    lowest = int(exponents.min())
    shift = exponents - lowest
    high = np.bincount(shift, weights=(whole >> 26).astype(np.float64))
    low = np.bincount(shift, weights=(whole & (2**26 - 1)).astype(np.float64))
    n = 0
    for k in np.flatnonzero((high > 0) | (low > 0)).tolist():
        n += ((int(high[k]) << 26) + int(low[k])) << k
    return n, lowest - 53


def plus(a: Exact, b: Exact, sign: int = 1) -> Exact:
    """``a + sign * b``, exactly."""
    (n, p), (m, q) = a, b
    low = min(p, q)
    return (n << (p - low)) + sign * (m << (q - low)), low


def rounded(total: Exact) -> float:
    """The float nearest to an exact sum (half to even), like ``math.fsum``."""
    n, scale = total
    if scale >= 0:
        return float(n << scale)
    return n / (1 << -scale)


FIRST = 16
"""Draws in a stream's first refill; each refill draws twice as many as the last, up to
:data:`BLOCK`: a step visited ten times draws 16 values, not 4,096."""


class Buffer:
    """A stream of draws handed out by ``list.pop()``, refilled in growing chunks.

    ``values`` is one list object for the whole run (refills extend it), so
    the event loop can keep a reference to it. ``consumed_sum()`` and
    ``consumed`` tell how much has been handed out, which is how the engine
    knows every step's visits and total service time without counting them
    one by one.

    **Blocks and chunks.** The stream is cut into blocks of :data:`BLOCK`
    draws; refills draw chunks of :data:`FIRST`, then twice as many each
    time, never across a block's end, so memory follows what a run uses.
    The *k*-th value is the same whatever the chunks. ``consumed_sum()`` is
    defined per block -- the sum of the used-up blocks (numpy's sum of each)
    plus, for the current block, its numpy sum minus the exact sum of its
    values not handed out yet -- which is the figure a buffer drawing whole
    blocks at once gives, to the last bit. When it is asked in the middle of
    a block, the rest of the block is looked ahead (:meth:`Stream.peek`, not
    kept) and remembered as its exact sum (:func:`exact_sum`).
    """

    __slots__ = (
        "_block_sum",
        "_chunks",
        "_done_sum",
        "_draw",
        "_drawn",
        "_in_block",
        "_next",
        "_rest",
        "values",
    )

    def __init__(self, draw: Stream, first: int = FIRST) -> None:
        self._draw = draw
        self.values: list[Any] = []
        self._next = first
        self._in_block = BLOCK
        """Draws made in the current block (:data:`BLOCK`: used up, or none yet)."""
        self._chunks: list[NDArray[Any]] = []
        """The chunks of the current block, while its sum is not known."""
        self._block_sum = 0.0
        self._rest: Exact | None = (0, 0)
        """The exact sum of the values of the current block not drawn yet; ``None`` while
        that is not known."""
        self._done_sum = 0.0
        self._drawn = 0

    @property
    def drawn(self) -> int:
        """Values drawn from the stream so far."""
        return self._drawn

    def refill(self) -> None:
        """Put the next chunk of draws in the (empty) list."""
        if self._in_block == BLOCK:  # the block is used up: the next one starts
            self._done_sum += self._block_sum
            self._in_block = 0
            self._block_sum = 0.0
            self._rest = None
        size = min(self._next, BLOCK - self._in_block)
        self._next = min(self._next * 2, BLOCK)
        chunk = self._draw(size)
        self._in_block += size
        self._drawn += size
        if self._rest is not None:  # the block's sum is known: the rest shrinks
            self._rest = plus(self._rest, exact_sum(chunk), -1)
        elif self._in_block == BLOCK:
            whole = chunk if not self._chunks else np.concatenate([*self._chunks, chunk])
            self._block_sum = float(whole.sum())
            self._rest = (0, 0)
            self._chunks = []
        else:
            self._chunks.append(chunk)
        self.values.extend(chunk[::-1].tolist())

    @property
    def consumed(self) -> int:
        return self._drawn - len(self.values)

    def consumed_sum(self) -> float:
        """The sum of every value handed out so far (see the class docstring)."""
        if self._drawn == 0:  # nothing drawn: the figure below, without numpy's set-up
            return 0.0
        if self._rest is None:
            ahead = self._draw.peek(BLOCK - self._in_block)
            self._block_sum = float(np.concatenate([*self._chunks, ahead]).sum())
            self._rest = exact_sum(ahead)
            self._chunks = []
        left = plus(self._rest, exact_sum(np.asarray(self.values, dtype=np.float64)))
        return self._done_sum + (self._block_sum - rounded(left))


def choices(
    rng: np.random.Generator, cumulative: tuple[float, ...], targets: tuple[int, ...]
) -> Stream:
    """Routing draws for a step without bounded or feedback edges: next-step indices."""
    cum = np.asarray(cumulative, dtype=np.float64)
    tgt = np.asarray(targets, dtype=np.int64)
    last = len(tgt) - 1

    def draw(n: int) -> NDArray[Any]:
        index = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), last)
        return tgt[index]

    return Stream(draw, rng)


class ChoiceBuffer(Buffer):
    """A :class:`Buffer` of :func:`choices`."""

    __slots__ = ()

    def __init__(
        self, rng: np.random.Generator, cumulative: tuple[float, ...], targets: tuple[int, ...]
    ) -> None:
        super().__init__(choices(rng, cumulative, targets))


class ArrivalTimes:
    """The arrival times of one run: ``cases`` cases, inter-arrival times drawn from ``spec``.

    Arrival ``i`` is the running sum of the first ``i + 1`` inter-arrival
    draws (block by block). The stream can be replayed: :meth:`at` reads it
    once to learn when given cases arrive (the observation window of the
    statistics), :meth:`source` replays it for the event loop.
    """

    def __init__(
        self,
        seed: int,
        run: int,
        spec: DistSpec,
        cases: int,
        clock: Callable[[NDArray[np.float64]], NDArray[np.float64]] | None = None,
    ) -> None:
        self.seed = seed
        self.run = run
        self.spec = spec
        self.cases = cases
        self.clock = clock
        """Maps each block of arrival times from an operational clock to real time
        (arrivals with a calendar or profile, :mod:`procflow.sim.workingtime`)."""

    def _blocks(self) -> Iterator[NDArray[np.float64]]:
        draw = drawer(self.spec, generator(self.seed, self.run, ARRIVALS))
        left = self.cases
        clock = 0.0
        while left > 0:
            size = min(BLOCK, left)
            times = np.cumsum(draw(size)) + clock
            clock = float(times[-1])
            left -= size
            yield times if self.clock is None else self.clock(times)

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
    "FIRST",
    "ROUTING",
    "ArrivalTimes",
    "Buffer",
    "ChoiceBuffer",
    "DistSpec",
    "Stream",
    "choices",
    "drawer",
    "exact_sum",
    "generator",
    "spec_of",
    "stream_key",
    "uniforms",
]
