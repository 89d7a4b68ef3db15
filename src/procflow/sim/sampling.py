"""Random numbers for the simulator: one dedicated stream per random process, drawn in chunks.

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

**Seeding many streams at once.** A 5,000-step process has 5,000 duration
streams per run, and numpy's ``SeedSequence`` costs tens of microseconds
each. :func:`seed_words` computes the same state words numpy's
``SeedSequence(S, spawn_key=(r, purpose, key)).generate_state(4, uint64)``
gives -- its documented hash mixing, for a whole array of keys in a few
numpy operations -- and :func:`seeded` makes the generator from them
(``PCG64`` seeded through :class:`Words`). The generators, and so every
draw, are those of :func:`generator`, which uses numpy's own
``SeedSequence`` and is the definition (tests/test_sampling_seeds.py
checks both agree for thousands of keys).

**Chunks.** Draws are made with numpy, in chunks that start at
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, assert_never

import numpy as np
from numpy.random.bit_generator import ISeedSequence
from numpy.typing import NDArray

from procflow.distributions import AnyDistribution, Sampler

BLOCK = 4096
"""The most draws made per numpy call."""

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


# numpy's SeedSequence (numpy/random/bit_generator.pyx, after M. E. O'Neill's seed_seq_fe):
# a pool of four 32-bit words mixed from the entropy words, then hashed into the state.
_MASK32 = 0xFFFFFFFF
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_POOL = 4

Word = Any
"""A 32-bit word: a Python int, or a numpy ``uint32`` array of words (one per stream).
The arithmetic below is written to wrap modulo 2**32 for both."""


def _uint32_words(value: int) -> list[int]:
    """``value`` as numpy's ``SeedSequence`` reads an integer: 32-bit words, low first."""
    if value < 0:
        raise ValueError("seeds, runs and keys are non-negative")
    words = [value & _MASK32]
    value >>= 32
    while value:
        words.append(value & _MASK32)
        value >>= 32
    return words


class _Mixer:
    """numpy's ``hashmix`` and ``mix`` with their running hash constant."""

    __slots__ = ("const",)

    def __init__(self, const: int) -> None:
        self.const = const

    def hashmix(self, value: Word) -> Word:
        value = value ^ self.const
        self.const = (self.const * _MULT_A) & _MASK32
        value = (value * self.const) & _MASK32
        return value ^ (value >> 16)


def _mix(x: Word, y: Word) -> Word:
    result = (_MIX_L * x - _MIX_R * y) & _MASK32
    return result ^ (result >> 16)


def seed_words(
    seed: int, run: int, purpose: int, keys: Sequence[int] | NDArray[Any]
) -> NDArray[Any]:
    """The PCG64 seeds of the streams ``(run, purpose, key)`` of ``seed``, one row per key.

    Row ``i`` equals ``SeedSequence(seed, spawn_key=(run, purpose, keys[i]))
    .generate_state(4, np.uint64)``: the entropy words (the seed's, padded to
    four, then the spawn key's) are mixed into a pool of four words and the
    pool hashed into eight 32-bit words, as numpy does -- here with the words
    that every key shares mixed once, as Python ints, and the key's own words
    for all keys at once, as ``uint32`` arrays.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    head = _uint32_words(seed)
    head += [0] * (_POOL - len(head))
    shared = head[_POOL:] + _uint32_words(run) + _uint32_words(purpose)
    mixer = _Mixer(_INIT_A)
    pool: list[Word] = [mixer.hashmix(word) for word in head[:_POOL]]
    for source in range(_POOL):
        for target in range(_POOL):
            if source != target:
                pool[target] = _mix(pool[target], mixer.hashmix(pool[source]))
    for word in shared:
        for target in range(_POOL):
            pool[target] = _mix(pool[target], mixer.hashmix(word))
    low = (keys & np.uint64(_MASK32)).astype(np.uint32)
    high = (keys >> np.uint64(32)).astype(np.uint32)
    out = np.empty((len(keys), 4), dtype=np.uint64)
    two = high != 0  # a key below 2**32 is one word, like any integer
    for chosen, columns in ((~two, (low,)), (two, (low, high))):
        rows = np.flatnonzero(chosen)
        if len(rows):
            out[rows] = _state(pool, [column[rows] for column in columns], _Mixer(mixer.const))
    return out


def _state(pool: list[Word], key_words: list[NDArray[Any]], mixer: _Mixer) -> NDArray[Any]:
    """Mix each stream's own words into the shared ``pool`` and hash out four 64-bit words."""
    mine = [np.full(len(key_words[0]), word, dtype=np.uint32) for word in pool]
    for word in key_words:
        for target in range(_POOL):
            mine[target] = _mix(mine[target], mixer.hashmix(word))
    const = _INIT_B
    hashed = []
    for i in range(2 * _POOL):  # generate_state(4, uint64): eight 32-bit words
        value = mine[i % _POOL] ^ const
        const = (const * _MULT_B) & _MASK32
        value = value * np.uint32(const)
        hashed.append((value ^ (value >> 16)).astype(np.uint64))
    return np.stack(  # little-endian pairs, as numpy views them
        [hashed[2 * j] | (hashed[2 * j + 1] << np.uint64(32)) for j in range(4)], axis=1
    )


class Words(ISeedSequence):
    """A seed sequence that hands out given state words: a row of :func:`seed_words` (four
    ``uint64`` words, contiguous), which is what ``PCG64`` asks for."""

    __slots__ = ("_words",)

    def __init__(self, words: NDArray[Any]) -> None:
        self._words = words

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> NDArray[Any]:
        if n_words != 4 or (dtype is not np.uint64 and np.dtype(dtype) != np.uint64):
            raise ValueError("these words seed a PCG64 (4 uint64 words)")
        return self._words


def seeded(words: NDArray[Any]) -> np.random.Generator:
    """The generator a row of :func:`seed_words` seeds: :func:`generator`'s, cheaply."""
    # PCG64 reads the words' memory as four uint64: make sure that is what it gets
    sequence: Any = Words(np.ascontiguousarray(words, dtype=np.uint64))  # any ISeedSequence
    return np.random.Generator(np.random.PCG64(sequence))


def seeder(words: NDArray[Any]) -> Callable[[int], np.random.Generator]:
    """``seeder(words)(i)`` is :func:`seeded` of row ``i`` of ``words``, made with less work.

    The words (:func:`seed_words`' rows) are made contiguous ``uint64`` once for every
    row, not once per generator: a run of a 5,000-step process makes thousands.
    """
    rows = np.ascontiguousarray(words, dtype=np.uint64)
    make, bits, sequence = np.random.Generator, np.random.PCG64, Words
    return lambda index: make(bits(sequence(rows[index])))  # type: ignore[arg-type]


DistSpec = Sampler
"""A distribution as plain, picklable data (:class:`procflow.distributions.Sampler`)."""


def spec_of(dist: AnyDistribution) -> DistSpec:
    """The numpy parameters of a procflow distribution (each kind knows its own)."""
    return dist.sampler()


class Stream:
    """The values of one random process: ``stream(n)`` draws the next ``n``."""

    __slots__ = ("_sample",)

    def __init__(self, sample: Callable[[int], NDArray[Any]]):
        self._sample = sample

    def __call__(self, n: int) -> NDArray[Any]:
        return self._sample(n)


Draw = Stream
"""Draws the next ``n`` values of a stream (kept as a name for callers)."""


Source = Callable[[int], NDArray[Any]]
"""Draws the next ``n`` values of a stream: what a :class:`Buffer` refills from."""


def sampler(spec: DistSpec) -> Callable[[np.random.Generator], Source]:
    """How to make the stream of ``spec``'s values from a generator, decided once per spec.

    The engine keeps one per step and applies it to each run's generator (the
    choice of method and its parameters is not made again for every stream).
    """
    params = spec.params
    match spec.name:
        case "fixed":
            return _constant(float(params[0]))
        case "exponential":
            (scale,) = params
            return lambda rng: lambda n: rng.exponential(scale, n)
        case "uniform":
            low, high = params
            return lambda rng: lambda n: rng.uniform(low, high, n)
        case "triangular":
            left, mode, right = params
            return lambda rng: lambda n: rng.triangular(left, mode, right, n)
        case "lognormal":
            mu, sigma = params
            return lambda rng: lambda n: rng.lognormal(mu, sigma, n)
        case "gamma":
            shape, scale = params
            return lambda rng: lambda n: rng.gamma(shape, scale, n)
        case "empirical":
            values = np.asarray(params, dtype=np.float64)
            return lambda rng: lambda n: values[rng.integers(0, len(values), n)]
        case "normal":
            mu, sigma = params
            return lambda rng: _TruncatedNormal(mu, sigma, rng)
        case unknown:
            assert_never(unknown)


def _constant(value: float) -> Callable[[np.random.Generator], Source]:
    """A fixed duration: the same read-only chunk of each size for every stream and run."""
    chunks: dict[int, NDArray[np.float64]] = {}

    def draw(n: int) -> NDArray[np.float64]:
        chunk = chunks.get(n)
        if chunk is None:
            chunk = chunks[n] = np.full(n, value)
            chunk.flags.writeable = False
        return chunk

    return lambda _rng: draw


def drawer(spec: DistSpec, rng: np.random.Generator) -> Stream:
    """The stream of ``spec``'s values drawn from ``rng``."""
    return Stream(sampler(spec)(rng))


class _TruncatedNormal(Stream):
    """Normal draws with negatives redrawn: the non-negative draws of the stream, in order.

    Surplus accepted draws are kept for the next call, so the *k*-th value
    does not depend on how many are asked for at a time. procflow durations
    have ``mu >= 0``, so at least half of the draws are accepted.
    """

    __slots__ = ("_mu", "_rng", "_sigma", "_surplus")

    def __init__(self, mu: float, sigma: float, rng: np.random.Generator) -> None:
        super().__init__(self._draw)
        self._mu = mu
        self._sigma = sigma
        self._rng = rng
        self._surplus: NDArray[np.float64] = np.empty(0)

    def _draw(self, n: int) -> NDArray[np.float64]:
        pending = self._surplus
        while len(pending) < n:
            raw = self._rng.normal(self._mu, self._sigma, max(n, 64))
            kept = raw[raw >= 0.0]
            pending = np.concatenate([pending, kept]) if len(pending) else kept
        self._surplus = pending[n:]
        return pending[:n]


def uniforms(rng: np.random.Generator) -> Stream:
    """Uniform draws on [0, 1): routing decisions that depend on a case's state."""
    return Stream(lambda n: rng.random(n))


Exact = tuple[int, int]
"""An exact sum of floats, ``n * 2**scale`` (see :func:`exact_sum`)."""

_UNIT = float(2**53)
_ZERO: Exact = (0, 0)


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
        ratios = [value.as_integer_ratio() for value in values.tolist()]
        if not ratios:
            return _ZERO
        denominator = max(d for _n, d in ratios)  # powers of two
        return sum(n * (denominator // d) for n, d in ratios), 1 - denominator.bit_length()
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


_NOTHING: NDArray[np.float64] = np.empty(0)

FIRST = 16
"""Draws in a stream's first refill; each refill draws twice as many as the last, up to
:data:`BLOCK`: a step visited ten times draws 16 values, not 4,096."""


class Buffer:
    """A stream of draws handed out by ``list.pop()``, refilled in growing chunks.

    ``values`` is one list object for the whole run (refills extend it, and
    only once it is empty), so the event loop can keep a reference to it.
    Refills draw chunks of :data:`FIRST`, then twice as many each time, up to
    :data:`BLOCK`, so memory follows what a run uses; the *k*-th value is the
    same whatever the chunks.

    ``consumed`` and :meth:`consumed_sum` tell how much has been handed out,
    which is how the engine knows every step's visits and total service time
    without counting them one by one. The sum is the correctly rounded sum of
    the values handed out (what ``math.fsum`` of them gives): a buffer made
    with ``summed=True`` keeps the exact sum (:func:`exact_sum`) of its
    used-up chunks and the last chunk drawn, of which the handed-out part is
    the front. Nothing is drawn ahead to answer it.
    """

    __slots__ = ("_chunk", "_done", "_next", "_summed", "drawn", "source", "values")

    def __init__(
        self,
        source: Source | None = None,
        first: int = FIRST,
        *,
        summed: bool = True,
        values: list[Any] | None = None,
    ) -> None:
        self.source = source
        """Where the draws come from (may be set after construction, before the first refill)."""
        self.values: list[Any] = [] if values is None else values
        self.drawn = 0
        """Values drawn from the stream so far."""
        self._next = first
        self._summed = summed
        self._chunk: NDArray[Any] = _NOTHING
        self._done: Exact = _ZERO
        """The exact sum of the chunks before :attr:`_chunk` (all handed out)."""

    def refill(self) -> None:
        """Put the next chunk of draws in the (empty) list."""
        if self.values:
            raise ValueError("a buffer is refilled once its values are used up")
        assert self.source is not None
        if self._summed and len(self._chunk):  # every value of it was handed out
            self._done = plus(self._done, exact_sum(self._chunk))
        size = self._next
        self._next = min(size * 2, BLOCK)
        chunk = self.source(size)
        self._chunk = chunk
        self.drawn += size
        self.values.extend(chunk[::-1].tolist())

    @property
    def consumed(self) -> int:
        """Values handed out so far."""
        return self.drawn - len(self.values)

    def handed_out(self) -> tuple[Exact, NDArray[np.float64]]:
        """What was handed out: the exact sum of the used-up chunks, and the front of the last
        chunk (the values taken from it, in drawing order)."""
        if not self._summed:
            raise ValueError("this buffer keeps no sums (made with summed=False)")
        chunk = self._chunk
        return self._done, chunk[: len(chunk) - len(self.values)]

    def consumed_sum(self) -> float:
        """The sum of every value handed out so far, rounded once (``math.fsum`` of them)."""
        chunk = self._chunk
        used = len(chunk) - len(self.values)
        if self._summed and not self._done[0] and used <= 64:  # a short run: C's fsum
            return math.fsum(chunk[:used].tolist())
        return total_handed_out((self,))


def total_handed_out(buffers: Iterable[Buffer]) -> float:
    """The sum of every value the ``buffers`` handed out, rounded once (like ``math.fsum``).

    Their last chunks' handed-out fronts are summed together, with one numpy
    pass (:func:`exact_sum`) when there are many, so the busy time of an owner
    with thousands of steps costs one sum, not one per step.
    """
    done = _ZERO
    fronts = []
    for buffer in buffers:  # Buffer.handed_out, written out: thousands of buffers a run
        if not buffer._summed:
            raise ValueError("this buffer keeps no sums (made with summed=False)")
        before = buffer._done
        if before[0]:
            done = plus(done, before)
        chunk = buffer._chunk
        used = len(chunk) - len(buffer.values)
        if used:
            fronts.append(chunk if used == len(chunk) else chunk[:used])
    if not fronts:
        return rounded(done)
    values = fronts[0] if len(fronts) == 1 else np.concatenate(fronts)
    if not done[0] and len(values) <= 64:  # the common case of a short run: C's fsum
        return math.fsum(values.tolist())
    return rounded(plus(done, exact_sum(values)))


def choices(
    rng: np.random.Generator,
    cumulative: Sequence[float] | NDArray[np.float64],
    targets: Sequence[int] | NDArray[np.int64],
) -> Stream:
    """Routing draws for a step without bounded or feedback edges: next-step indices
    (``cumulative`` and ``targets`` may be the arrays already, made once per plan)."""
    cum = np.asarray(cumulative, dtype=np.float64)
    tgt = np.asarray(targets, dtype=np.int64)
    last = len(tgt) - 1

    def draw(n: int) -> NDArray[Any]:
        index = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), last)
        return tgt[index]

    return Stream(draw)


class ChoiceBuffer(Buffer):
    """A :class:`Buffer` of :func:`choices` (next-step indices: nothing to sum)."""

    __slots__ = ()

    def __init__(
        self, rng: np.random.Generator, cumulative: tuple[float, ...], targets: tuple[int, ...]
    ) -> None:
        super().__init__(choices(rng, cumulative, targets), summed=False)


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
    "Words",
    "choices",
    "drawer",
    "exact_sum",
    "generator",
    "seed_words",
    "seeded",
    "seeder",
    "spec_of",
    "stream_key",
    "total_handed_out",
    "uniforms",
]
