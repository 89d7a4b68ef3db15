"""Service and busy time are exact sums of the durations handed out, with nothing drawn ahead.

A run's service time per step is ``math.fsum`` of the durations its visits
drew -- the first ``visits`` values of the step's stream -- and an owner's
busy time is ``math.fsum`` of its steps' durations, however the streams were
cut into chunks. No stream is drawn further than its visits need.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from helpers import ROOT
from procflow.distributions import parse_distribution
from procflow.loader import load
from procflow.sim.engine import run_replication
from procflow.sim.sampling import (
    BLOCK,
    DURATIONS,
    FIRST,
    Buffer,
    Stream,
    drawer,
    generator,
    spec_of,
    total_handed_out,
)
from procflow.sim.simulation import prepare

LOOPS = ROOT / "tests" / "fixtures" / "sim" / "loops.yaml"


def test_service_time_is_the_fsum_of_each_steps_first_draws() -> None:
    plan = prepare(load(LOOPS))
    stats = run_replication(plan, 1, 5, 3_000, 0)
    checked = 0
    for index, step in enumerate(plan.steps):
        visits = int(stats.visits[index])
        if step.duration is None or not step.edges:
            continue
        draws = drawer(step.duration, generator(5, 1, DURATIONS, step.key))(visits)
        assert stats.service_sum[index] == math.fsum(draws.tolist()), step.id
        checked += visits > FIRST
    assert checked >= 4  # several chunks deep: sums span used-up chunks and the current one


def test_busy_time_of_many_streams_is_one_exact_sum() -> None:
    """Three streams, cut into chunks differently deep: one correctly rounded total."""
    spec = spec_of(parse_distribution("lognormal(10m, 30m)"))
    buffers = []
    taken: list[float] = []
    for key, n in ((1, 5), (2, 300), (3, 5_000)):
        buffer = Buffer(drawer(spec, generator(2, 0, DURATIONS, key)))
        for _ in range(n):
            if not buffer.values:
                buffer.refill()
            taken.append(buffer.values.pop())
        buffers.append(buffer)
    assert total_handed_out(buffers) == math.fsum(taken)
    assert total_handed_out([]) == 0.0


def _cover(consumed: int) -> int:
    """What a stream has drawn once ``consumed`` values were needed: whole chunks of FIRST,
    2 FIRST, 4 FIRST, ... up to BLOCK, the last one started by the last value needed."""
    size, total = FIRST, 0
    while total < consumed:
        total += size
        size = min(2 * size, BLOCK)
    return total


def test_a_run_draws_no_more_than_its_visits_need(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stream of a run (durations and routing) stops at the chunk its last value
    needed: totals and window snapshots draw nothing ahead (each stream counts its draws)."""
    plan = prepare(load(LOOPS))
    made: list[tuple[Buffer, list[int]]] = []
    init = Buffer.__init__

    def counted(self: Buffer, source: Stream | None = None, *args: Any, **kwargs: Any) -> None:
        assert source is not None
        sizes: list[int] = []

        def draw(n: int) -> Any:
            sizes.append(n)
            return source(n)

        init(self, Stream(draw), *args, **kwargs)
        made.append((self, sizes))

    monkeypatch.setattr(Buffer, "__init__", counted)
    stats = run_replication(plan, 0, 3, 5_000, 500)
    assert stats.counted == 4_500
    assert len(made) >= 6
    for buffer, sizes in made:
        assert sum(sizes) == buffer.drawn == _cover(buffer.consumed)
    assert max(buffer.drawn for buffer, _ in made) > BLOCK


def test_sums_of_awkward_values_are_correctly_rounded() -> None:
    """Values far apart in size (where adding in order loses bits) and zeros, asked after
    every value: always ``math.fsum`` of what was handed out."""
    pattern = [1e16, 1.0, 0.0, 1e-300, 3.0, 1e16 + 2.0, 0.1]
    values = np.array((pattern * 16)[: FIRST + 2 * FIRST + 4 * FIRST])
    buffer = Buffer(Stream(_Given(values)))
    taken = []
    for _ in range(len(values)):
        if not buffer.values:
            buffer.refill()
        taken.append(buffer.values.pop())
        assert buffer.consumed_sum() == math.fsum(taken)
    assert buffer.drawn == len(values)


class _Given:
    """A stream that hands out given values in order."""

    def __init__(self, values: NDArray[np.float64]) -> None:
        self.values = values
        self.at = 0

    def __call__(self, n: int) -> NDArray[np.float64]:
        out = self.values[self.at : self.at + n]
        assert len(out) == n
        self.at += n
        return out
