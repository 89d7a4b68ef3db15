"""What the fidelity measures need from a log, gathered in one streaming pass.

A :class:`LogProfile` takes events one at a time (a real log as it is
read, or a simulation as it runs) and keeps, per case, only its first start,
its last end, the last ``n - 1`` activities (to count n-grams as they go)
and the case's timestamps (for the distribution of times relative to the
case start, which is only known once the case is complete); and, for the
whole log, counters that do not grow with its length: n-grams, activities,
events per (weekday, hour) and per absolute hour. :meth:`LogProfile.finish`
turns that into a :class:`Profile`, the immutable summary every measure in
:mod:`procflow.distance.measures` reads.

Events of a case must come in time order (as the log readers guarantee);
n-grams follow that order. Times are seconds since the Unix epoch (UTC), so
weekdays and hours are UTC ones.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

HOUR = 3600.0
DAY = 86_400.0
#: 1970-01-01 was a Thursday; weekdays count from Monday = 0.
_EPOCH_WEEKDAY = 3
NGRAM = 3
"""The default n-gram length (the package's and the paper's)."""

Gram = tuple[str | None, ...]
"""An n-gram of activities; ``None`` pads before the first and after the last event."""


class _Case:
    __slots__ = ("end", "start", "tail", "times")

    def __init__(self, start: float, end: float, tail: Gram) -> None:
        self.start = start
        self.end = end
        self.tail = tail
        self.times = array("d")


@dataclass(frozen=True)
class Profile:
    """The per-case and whole-log summaries of one log (or part of one)."""

    cases: int
    events: int
    starts: NDArray[np.float64]
    """Each case's first start (its arrival), in the cases' order of first appearance."""
    ends: NDArray[np.float64]
    """Each case's last end, aligned with :attr:`starts`."""
    ngrams: Counter[Gram]
    activities: Counter[str]
    circadian: NDArray[np.int64]
    """Timestamps (starts and ends) per weekday (rows, Monday first) and UTC hour."""
    absolute: Counter[int]
    """Timestamps (starts and ends) per hour since the epoch."""
    relative: Counter[int]
    """Timestamps (starts and ends) per whole hour since their case's start."""
    n: int = NGRAM

    @property
    def cycle_times(self) -> NDArray[np.float64]:
        return self.ends - self.starts


@dataclass
class LogProfile:
    """Accumulates a :class:`Profile` event by event (see the module docstring)."""

    n: int = NGRAM
    events: int = 0
    _cases: dict[Hashable, _Case] = field(default_factory=dict)
    _ngrams: Counter[Gram] = field(default_factory=Counter)
    _activities: Counter[str] = field(default_factory=Counter)
    _circadian: list[int] = field(default_factory=lambda: [0] * (7 * 24))
    _absolute: Counter[int] = field(default_factory=Counter)

    def __contains__(self, case: Hashable) -> bool:
        return case in self._cases

    def add(self, case: Hashable, activity: str, start: float | None, end: float) -> None:
        """One event; ``start`` ``None`` (a completion-only log) counts as ``end``."""
        begin = end if start is None else start
        state = self._cases.get(case)
        if state is None:
            state = self._cases[case] = _Case(begin, end, (None,) * (self.n - 1))
        else:
            if begin < state.start:
                state.start = begin
            if end > state.end:
                state.end = end
        gram = (*state.tail, activity)
        self._ngrams[gram] += 1
        state.tail = gram[1:]
        state.times.append(begin)
        state.times.append(end)
        self._activities[activity] += 1
        self.events += 1
        for moment in (begin, end):
            hour = math.floor(moment / HOUR)
            self._absolute[hour] += 1
            weekday = (math.floor(moment / DAY) + _EPOCH_WEEKDAY) % 7
            self._circadian[weekday * 24 + hour % 24] += 1

    def finish(self) -> Profile:
        """The summary of everything added (the accumulator can go on afterwards)."""
        ngrams = Counter(self._ngrams)
        padding = (None,) * (self.n - 1)
        count = len(self._cases)
        starts = np.empty(count, dtype=np.float64)
        ends = np.empty(count, dtype=np.float64)
        lengths = np.empty(count, dtype=np.int64)
        for index, state in enumerate(self._cases.values()):
            tail = state.tail
            for _ in padding:
                gram = (*tail, None)
                ngrams[gram] += 1
                tail = gram[1:]
            starts[index] = state.start
            ends[index] = state.end
            lengths[index] = len(state.times)
        return Profile(
            cases=count,
            events=self.events,
            starts=starts,
            ends=ends,
            ngrams=ngrams,
            activities=Counter(self._activities),
            circadian=np.array(self._circadian, dtype=np.int64).reshape(7, 24),
            absolute=Counter(self._absolute),
            relative=self._relative(starts, lengths),
            n=self.n,
        )

    def _relative(self, starts: NDArray[np.float64], lengths: NDArray[np.int64]) -> Counter[int]:
        if not self._cases:
            return Counter()
        times = np.concatenate(
            [np.frombuffer(state.times, dtype=np.float64) for state in self._cases.values()]
        )
        hours = np.floor((times - np.repeat(starts, lengths)) / HOUR).astype(np.int64)
        bins, counts = np.unique(hours, return_counts=True)
        return Counter(dict(zip(bins.tolist(), counts.tolist(), strict=True)))


def merge(a: Profile, b: Profile) -> Profile:
    """The profile of the cases of ``a`` and ``b`` together (disjoint sets of cases)."""
    if a.n != b.n:
        raise ValueError(f"n-grams of different lengths: {a.n} and {b.n}")
    return Profile(
        cases=a.cases + b.cases,
        events=a.events + b.events,
        starts=np.concatenate([a.starts, b.starts]),
        ends=np.concatenate([a.ends, b.ends]),
        ngrams=a.ngrams + b.ngrams,
        activities=a.activities + b.activities,
        circadian=a.circadian + b.circadian,
        absolute=a.absolute + b.absolute,
        relative=a.relative + b.relative,
        n=a.n,
    )
