"""Streams seeded many at once are numpy's own: the same state words, so the same draws.

:func:`procflow.sim.sampling.seed_words` re-implements ``SeedSequence``'s hash
mixing for arrays of keys; every seeded result (examples, README transcripts,
tests) depends on it giving exactly what ``SeedSequence`` gives.
"""

from __future__ import annotations

import numpy as np
import pytest

from procflow.sim.sampling import (
    ARRIVALS,
    DURATIONS,
    ROUTING,
    Words,
    generator,
    seed_words,
    seeded,
    seeder,
    stream_key,
)


def numpy_words(seed: int, run: int, purpose: int, key: int) -> np.ndarray:  # type: ignore[type-arg]
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(run, purpose, key))
    return sequence.generate_state(4, np.uint64)


EDGE_KEYS = [0, 1, 2**32 - 1, 2**32, 2**32 + 1, 2**63, 2**64 - 1]


@pytest.mark.parametrize(
    ("seed", "run"),
    [(0, 0), (1, 0), (7, 3), (2**32 - 1, 1), (2**32 + 3, 9), (2**64 + 5, 2), (2**130 + 11, 4)],
)
def test_seed_words_are_numpys_for_thousands_of_keys(seed: int, run: int) -> None:
    """Random 64-bit keys, keys of one and two 32-bit words, seeds of one to five words."""
    keys = [int(k) for k in np.random.default_rng(seed % 1000).integers(0, 2**64, 1500, np.uint64)]
    keys += EDGE_KEYS + [stream_key(f"step-{i}") for i in range(200)]
    for purpose in (ARRIVALS, DURATIONS, ROUTING):
        found = seed_words(seed, run, purpose, keys)
        assert found.shape == (len(keys), 4)
        assert found.dtype == np.uint64
        expected = np.array([numpy_words(seed, run, purpose, k) for k in keys])
        assert np.array_equal(found, expected)


def test_large_runs_and_purposes_take_more_words() -> None:
    for run, purpose in [(2**32, 1), (2**40 + 1, 2), (5, 2**33)]:
        found = seed_words(3, run, purpose, EDGE_KEYS)
        expected = np.array([numpy_words(3, run, purpose, k) for k in EDGE_KEYS])
        assert np.array_equal(found, expected)


def test_seeded_generators_draw_the_streams_of_generator() -> None:
    """The k-th draw of every stream is unchanged, whatever the distribution."""
    keys = [stream_key(f"s{i}") for i in range(50)] + [0, 2**32 - 1]
    words = seed_words(11, 2, DURATIONS, keys)
    for row, key in zip(words, keys, strict=True):
        fast, reference = seeded(row), generator(11, 2, DURATIONS, key)
        assert np.array_equal(fast.exponential(300.0, 40), reference.exponential(300.0, 40))
        assert np.array_equal(fast.gamma(2.0, 3.0, 40), reference.gamma(2.0, 3.0, 40))
        assert np.array_equal(fast.integers(0, 3, 40), reference.integers(0, 3, 40))
        assert fast.bit_generator.state == reference.bit_generator.state


def test_a_seeder_makes_the_generators_of_its_rows() -> None:
    """``seeder(words)(i)`` is ``seeded(words[i])``: the rows made contiguous once, also
    from words that are not (a column slice)."""
    keys = [stream_key(f"s{i}") for i in range(30)]
    words = seed_words(4, 1, ROUTING, keys)
    for given in (words, np.asfortranarray(words), words.astype(np.int64)):
        make = seeder(given)
        for index in range(len(keys)):
            fast, reference = make(index), generator(4, 1, ROUTING, keys[index])
            assert np.array_equal(fast.random(20), reference.random(20))
            assert fast.bit_generator.state == reference.bit_generator.state


def test_no_keys_and_wrong_requests() -> None:
    assert seed_words(1, 0, DURATIONS, []).shape == (0, 4)
    words = Words(seed_words(1, 0, DURATIONS, [5])[0])
    with pytest.raises(ValueError, match="PCG64"):
        words.generate_state(8, np.uint32)
    with pytest.raises(ValueError, match="non-negative"):
        seed_words(-1, 0, DURATIONS, [5])
