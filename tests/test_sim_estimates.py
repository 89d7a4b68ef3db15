"""Many KPIs estimated at once (:func:`procflow.sim.stats.estimates`) give, bit for bit, what
:func:`~procflow.sim.stats.estimate` gives each of them: a 5,000-step process has ~20,000."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from procflow.sim.stats import Estimate, estimate, estimates


def _bits(found: Estimate) -> str:
    """Every figure of an estimate, -0.0 and nan told apart from 0.0 and each other."""
    return repr((found.mean, found.ci95, found.runs))


def _same(columns: Sequence[tuple[float | None, ...]], mosts: list[float | None]) -> None:
    for nonnegative in (False, True):
        one_by_one = [
            estimate(column, nonnegative=nonnegative, most=most)
            for column, most in zip(columns, mosts, strict=True)
        ]
        together = estimates(columns, mosts, nonnegative=nonnegative)
        assert [_bits(e) for e in together] == [_bits(e) for e in one_by_one]


def test_many_columns_are_estimated_as_one_by_one() -> None:
    """Sums that need fsum (values far apart in size), squares whose C ``pow`` rounds
    differently from ``x * x``, intervals cut at 0 and at ``most``."""
    rng = np.random.default_rng(11)
    table = rng.standard_normal((3000, 10)) * rng.exponential(1e3, (3000, 1))
    table[::7] = np.abs(table[::7]) / 1e4  # shares: cut at most=1
    table[5::11, 3] = 1e16  # fsum, not a running sum
    table[6::13] = 0.25  # no spread at all
    columns = [tuple(row) for row in table.tolist()]
    mosts = [1.0 if i % 7 == 0 else None for i in range(len(columns))]
    squares = table - table.mean(axis=1, keepdims=True)
    assert any(  # the C library's pow(x, 2) is not always x * x: the test would see it
        pow(x, 2) != x * x for x in squares.ravel().tolist()
    )
    _same(columns, mosts)


def test_awkward_columns_fall_back_to_one_by_one() -> None:
    """Missing and non-finite values, whole numbers, -0.0, and squares that overflow."""
    columns: list[tuple[float | None, ...]] = [
        (1.0, None, 3.0),
        (1.0, math.inf, 3.0),
        (math.nan, 1.0, 2.0),
        (1, 2, 4),
        (-0.0, -0.0, -0.0),
        (1e200, -1e200, 3.0),
        (0.5, 0.25, 0.125),
        (None, None, None),
    ]
    _same(columns, [None, 1.0, None, None, 1.0, None, 1.0, None])


@pytest.mark.parametrize("count", [0, 1, 2])
def test_few_runs(count: int) -> None:
    """No run (no figures), one run (no interval), two runs."""
    columns = [tuple(float(i + k) for k in range(count)) for i in range(5)]
    _same(columns, [None, 1.0, None, 2.0, None])


def test_columns_of_different_lengths() -> None:
    _same([(1.0, 2.0), (1.0, 2.0, 4.0), ()], [None, None, None])


def test_one_most_per_column() -> None:
    with pytest.raises(ValueError, match="one most per column"):
        estimates([(1.0, 2.0)], [])
