"""How long to run: ``--cases auto``, the warm-up estimate and the bias warnings.

A run starts with an empty process. Until the cases that arrived first
have had time to finish, the queues (and WIP, waiting, the utilization of
late steps) are below their steady state, so the first cases of a run must
not be counted. How many is a property of the process, not of ``--cases``:
an order-to-cash process with a 36-day cycle time needs about three cycle
times of arrivals, whatever the run's length.

The warm-up is estimated from the run's own output with **MSER-5**
(White 1997; Franklin and White 2008): the cycle times of run 1's cases, in
arrival order, are averaged in batches of 5, and the truncation point is
the number of batches ``d`` that minimizes

    MSER(d) = sum over j > d of (Z_j - mean(Z_d+1..k))^2 / (k - d)^2,

the squared standard error of the mean of what is left. Dropping more
batches removes bias but leaves fewer to average; MSER balances the two.
The search is limited to the first half of the series; a minimum at its
end means the statistic was still falling and the run never settled: it is
too short to tell where the transient ends. (Cycle times, not waiting
times: waits are mostly zero in a lightly loaded process, and MSER on them
truncates noise.) The estimate is never
less than :data:`WARMUP_CYCLES` expected cycle times of arrivals (from the
analytic model, where it has one).

Run 1 is a pure function of ``(plan, seed, run)``; the warm-up only
decides what is counted, never what happens. So the *pilot* run that
measures the cycle times (:func:`cycle_times`, through the event loop's
``observe`` hook) is run 1 itself, re-simulated with every case observed:

* ``--cases auto``: the pilot has the minimum warm-up plus
  :data:`COUNTED` cases (doubled, up to :data:`PILOTS` times, while the
  cycle times have not settled); the run then has the estimated warm-up
  plus :data:`COUNTED` counted cases;
* explicit ``--cases``: the pilot is run 1 as asked (its start, when the
  cycle times settle within it), and a warm-up below the estimate, or fewer
  than :data:`FEW` counted cases, gives a warning (stderr and JSON
  ``notes``): the figures are biased.

See ``docs/run-length-and-verdicts.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from procflow.errors import ConfigError
from procflow.model import Process
from procflow.sim.attributed import replication
from procflow.sim.budget import check_budget
from procflow.sim.plan import Plan

if TYPE_CHECKING:
    from procflow.analysis import Analysis

AUTO: Literal["auto"] = "auto"
Cases = int | Literal["auto"]
"""``--cases``: a number of arrivals per run, or ``"auto"``."""

COUNTED = 10_000
"""Counted cases per run with ``--cases auto``."""
FEW = 1_000
"""Fewer counted cases than this leave intervals and percentiles unreliable."""
BATCH = 5
"""MSER-5: the series is averaged in batches of 5 observations."""
WARMUP_CYCLES = 3.0
"""The warm-up covers at least this many expected cycle times of arrivals."""
PILOTS = 4
"""How often an auto pilot is doubled while its cycle times have not settled."""
_LEAST = 10
"""Fewer batches than this are too few to estimate anything from."""


@dataclass(frozen=True)
class Truncation:
    """An MSER truncation point: ``cases`` to drop, and whether the series settled."""

    cases: int
    settled: bool
    """False when the minimum lies in the second half of the series (run too short)."""


def mser(series: ArrayLike, batch: int = BATCH) -> Truncation:
    """The MSER-``batch`` truncation point of ``series`` (observations in time order).

    Truncation points are searched in the first half of the series only: the
    statistic of a short tail is too noisy to trust (a tail of cases that
    never waited has no variance at all). A minimum at the end of that half
    means the statistic was still falling: the series has not settled.

    >>> mser([10.0] * 50 + [0.0, 1.0] * 500)  # a transient of 50, then noise
    Truncation(cases=50, settled=True)
    >>> mser(range(1000))  # a trend: never settles
    Truncation(cases=500, settled=False)
    """
    values = np.asarray(series, dtype=np.float64)
    batches = len(values) // batch
    if batches < _LEAST:
        return Truncation(0, False)
    z = values[: batches * batch].reshape(batches, batch).mean(axis=1)
    z = z - z.mean()  # centred: the sums below do not cancel catastrophically
    left = np.arange(batches, 0, -1, dtype=np.float64)  # batches kept after dropping d
    total = np.cumsum(z[::-1])[::-1]
    squares = np.cumsum((z * z)[::-1])[::-1]
    statistic = (squares - total * total / left) / (left * left)
    half = batches // 2
    best = int(np.argmin(statistic[: half + 1]))
    return Truncation(best * batch, best < half)


def cycle_times(plan: Plan, seed: int, cases: int) -> NDArray[np.float64]:
    """The cycle times of run 1's ``cases`` cases, in arrival order (the pilot run)."""
    arrived: list[NDArray[np.float64]] = []
    cycle: list[NDArray[np.float64]] = []

    def observe(table: NDArray[np.float64]) -> None:
        arrived.append(table[:, 0].copy())
        cycle.append(table[:, 1] - table[:, 0])

    replication(plan)(plan, 0, seed, cases, 0, observe=observe)
    if not arrived:
        return np.zeros(0)
    order = np.argsort(np.concatenate(arrived), kind="stable")
    return np.concatenate(cycle)[order]


def minimum_warmup(process: Process) -> int | None:
    """Arrivals in :data:`WARMUP_CYCLES` expected cycle times, or None.

    None when the analytic model has no expected cycle time (an overloaded
    owner: there is no steady state to reach, or a process it cannot solve).
    """
    from procflow.analysis import analyze_or_none

    return _floor(analyze_or_none(process))


def _floor(analysis: Analysis | None) -> int | None:
    """:func:`minimum_warmup` from an analysis already made (None: none could be)."""
    expected = analysis.cycle_time.expected if analysis is not None else None
    if analysis is None or expected is None or not math.isfinite(expected):
        return None
    return math.ceil(WARMUP_CYCLES * expected * analysis.arrival_rate_per_hour / 3600.0)


@dataclass(frozen=True)
class WarmupEstimate:
    """How many cases a run of one process must leave uncounted, and how that was found."""

    floor: int | None
    """:func:`minimum_warmup` (None without an analytic cycle time)."""
    mser: Truncation | None
    """MSER-5 on run 1's cycle times (None for an overloaded process: no steady state)."""
    pilot: int
    """Cases in the pilot run the MSER estimate comes from (0: none)."""

    @property
    def cases(self) -> int:
        """The estimate: the larger of the floor and the MSER truncation."""
        return max(self.floor or 0, self.mser.cases if self.mser is not None else 0)

    @property
    def settled(self) -> bool:
        return self.mser is None or self.mser.settled

    @property
    def known(self) -> bool:
        """False for an overloaded process without an analytic cycle time: nothing to estimate."""
        return self.floor is not None or self.mser is not None


def estimate_warmup(process: Process, plan: Plan, seed: int, cases: Cases) -> WarmupEstimate:
    """The warm-up ``process`` needs, from run 1 of ``cases`` arrivals (or ``auto``).

    The pilot is the start of run 1: the minimum warm-up plus :data:`COUNTED`
    cases, doubled while MSER finds the cycle times unsettled -- up to
    ``cases`` (so a long explicit run is not simulated twice over), or with
    ``auto`` at most :data:`PILOTS` times. An overloaded process has no
    steady state, so no pilot is run for it (its notes already say so).
    """
    from procflow.analysis import analyze_or_none

    analysis = analyze_or_none(process)  # one analysis for the floor and the overload test
    floor = _floor(analysis)
    if analysis is not None and not analysis.stable:
        return WarmupEstimate(floor, None, 0)
    first = (floor or 0) + COUNTED
    limit = first * 2 ** (PILOTS - 1) if isinstance(cases, str) else cases
    pilot = min(first, limit)
    while True:
        if isinstance(cases, str):
            check_budget([process], cases=pilot, runs=1)
        if pilot // BATCH < _LEAST:  # too short for MSER whatever its cycle times: not run
            found = Truncation(0, False)
        else:
            found = mser(cycle_times(plan, seed, pilot))
        if found.settled or pilot >= limit:
            return WarmupEstimate(floor, found, pilot)
        pilot = min(pilot * 2, limit)


def check_cases(cases: object) -> Cases:
    """``cases`` as given, or a :class:`ConfigError` (exit 2) when it is neither N nor auto."""
    if cases == AUTO:
        return AUTO
    if isinstance(cases, bool) or not isinstance(cases, int) or cases < 1:
        raise ConfigError(f"cases must be 'auto' or a whole number of at least 1, got {cases!r}")
    return cases


def auto_warmup(estimates: Sequence[WarmupEstimate]) -> int:
    """The warm-up of an auto run: the largest estimate over its scenarios, in whole batches.

    A scenario with no estimate at all (an overloaded process: no steady
    state, no expected cycle time) skips a tenth of the counted cases, as
    ``--cases N`` does: its figures grow with the run whatever is skipped.
    """
    most = max(
        (
            e.cases if e.floor is not None or e.mser is not None else COUNTED // 10
            for e in estimates
        ),
        default=0,
    )
    return math.ceil(most / BATCH) * BATCH


def bias_notes(estimate: WarmupEstimate, *, cases: int, warmup: int) -> tuple[str, ...]:
    """Why a run of ``cases`` with ``warmup`` uncounted gives biased figures, if it does."""
    notes: list[str] = []
    counted = cases - warmup
    needed = estimate.cases
    if not estimate.settled and estimate.pilot >= cases:
        notes.append(
            f"the cycle times of run 1 do not settle within its {cases:,} cases (MSER-5): "
            "the run is too short to reach steady state, so waiting, WIP and the utilization "
            "of late steps are biased low; use --cases auto"
        )
    elif warmup < needed:
        notes.append(
            f"the warm-up of {warmup:,} cases is shorter than the {needed:,} this process needs "
            f"to reach steady state (MSER-5 on run 1, at least {WARMUP_CYCLES:g} expected cycle "
            "times of arrivals): waiting, WIP and the utilization of late steps are biased low; "
            f"use --cases auto, or --warmup {needed} with --cases {needed + COUNTED}"
        )
    if counted < FEW:
        notes.append(
            f"only {counted:,} cases are counted (fewer than {FEW:,}): intervals are wide and "
            "percentiles unreliable; use --cases auto or more --cases"
        )
    return tuple(notes)


__all__ = [
    "AUTO",
    "BATCH",
    "COUNTED",
    "FEW",
    "WARMUP_CYCLES",
    "Cases",
    "Truncation",
    "WarmupEstimate",
    "auto_warmup",
    "bias_notes",
    "check_cases",
    "cycle_times",
    "estimate_warmup",
    "minimum_warmup",
    "mser",
]
