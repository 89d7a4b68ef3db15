"""A weekly pattern laid out on a real clock: seconds after an origin instant.

A :class:`Timeline` turns a :data:`~procflow.calendars.hours.Week` (open
hours, or an arrival profile's rates), a time zone and the closed dates
into absolute intervals ``[start, end)`` in seconds after ``origin`` -- the
simulation's ``--start`` -- and answers the questions working time asks:

* :meth:`next_open` -- the first instant at or after ``t`` inside an interval;
* :meth:`add` -- when ``amount`` of weighted time (working seconds for a
  calendar, expected arrivals for a profile) has passed after ``t``;
* :meth:`measure` -- weighted time from the origin to ``t`` (on-duty
  seconds for a calendar, the cumulative intensity for a profile).

**DST.** Every local day's pieces are placed with :mod:`zoneinfo` on that
day's date, then converted to UTC: 09:00 is 09:00 on both sides of a clock
change, and a night shift over the change is an hour shorter or longer in
elapsed time, as the people working it experience. A local time that does
not exist (the skipped hour) is read with the offset before the change
(``fold=0``), so ``02:30`` on the spring-forward night is 03:30.

**Lazily, and fast.** Intervals are made a few weeks at a time as queries
reach further; a query is two :func:`bisect` calls on plain lists, so the
simulator can ask it once per visit (docs/working-time.md).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from procflow.calendars.hours import MINUTES_PER_DAY, Week
from procflow.errors import SimulationError

CHUNK_DAYS = 28
"""Days of intervals made at a time."""
EMPTY_YEARS = 50
"""A pattern with no open time this far ahead is never open again (a query gives ``inf``)."""


LAST_DAY = date.max - timedelta(days=2)
"""The last day laid out: past it, local times of some zones have no date."""


def _beyond_dates(origin: datetime) -> SimulationError:
    return SimulationError(
        f"working time from {origin.isoformat()} reaches the year 1 or 9999, where dates end: "
        "choose a --start between the years 2 and 9998, or fewer --cases"
    )


class Timeline:
    """Open intervals (with weights) of a weekly pattern, in seconds after ``origin``."""

    __slots__ = (
        "_closed",
        "_cum",
        "_day",
        "_empty",
        "_origin",
        "_room",
        "_week",
        "_zone",
        "ends",
        "starts",
        "weights",
    )

    def __init__(
        self,
        week: Week,
        zone: ZoneInfo,
        origin: datetime,
        closed: Callable[[date], bool] = lambda day: False,
    ) -> None:
        if origin.tzinfo is None:
            raise ValueError("a timeline's origin must be time-zone aware")
        self._week = week
        self._zone = zone
        try:
            self._origin = origin.astimezone(UTC)
            origin.astimezone(zone).date() - timedelta(days=1)
        except OverflowError:  # --start 0001-01-01T00:00: the day before has no date
            raise _beyond_dates(origin) from None
        self._closed = closed
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.weights: list[float] = []
        self._cum: list[float] = [0.0]
        """Weighted time before interval ``i`` (one more entry than intervals)."""
        self._day = origin.astimezone(zone).date() - timedelta(days=1)
        self._empty = not any(week)
        self._room = (datetime.combine(LAST_DAY, time(), UTC) - self._origin).total_seconds()
        """Seconds from the origin to the last day laid out: a time past it has no date."""

    # -- building -------------------------------------------------------------------------

    def _seconds(self, day: date, minute: int) -> float:
        if minute >= MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self._zone)
        return (local.astimezone(UTC) - self._origin).total_seconds()

    def _extend(self) -> bool:
        """Lay out the next :data:`CHUNK_DAYS` days; ``False`` once no open time can follow."""
        if self._empty:
            return False
        starts, ends, weights, cum = self.starts, self.ends, self.weights, self._cum
        for _ in range(CHUNK_DAYS):
            day = self._day
            if day >= LAST_DAY:  # 9999-12-31 is the last date; working time ends with it
                raise _beyond_dates(self._origin)
            self._day = day + timedelta(days=1)
            if self._closed(day):
                continue
            for first, last, weight in self._week[day.weekday()]:
                a, b = self._seconds(day, first), self._seconds(day, last)
                if b <= 0.0:
                    continue
                a = max(a, 0.0)
                if b <= a:
                    continue
                if ends and ends[-1] == a and weights[-1] == weight:
                    ends[-1] = (
                        b  # touching pieces of one rate (a range over midnight): one interval
                    )
                    cum[-1] = cum[-2] + weight * (b - starts[-1])
                    continue
                starts.append(a)
                ends.append(b)
                weights.append(weight)
                cum.append(cum[-1] + weight * (b - a))
        return True

    def _reach(self, t: float) -> bool:
        """Intervals laid out past ``t``; ``False`` if the pattern never opens after ``t``.

        A ``t`` past the last date is refused at once, not after laying out
        every day up to the year 9999 (a minute of work for cases centuries apart).
        """
        if self._room < t < math.inf:
            raise _beyond_dates(self._origin)
        while not self.ends or self.ends[-1] <= t:
            if not math.isfinite(t) or not self._grow():
                return False
        return True

    def _reach_measure(self, amount: float) -> bool:
        """Intervals laid out until ``amount`` of weighted time; ``False`` if it never is."""
        while self._cum[-1] < amount:
            if not math.isfinite(amount) or not self._grow():
                return False
        return True

    def _grow(self) -> bool:
        """One more chunk with open time in it; ``False`` after :data:`EMPTY_YEARS` without."""
        before = self._cum[-1]
        for _ in range(366 * EMPTY_YEARS // CHUNK_DAYS):
            if not self._extend():
                return False
            if self._cum[-1] > before:
                return True
        return False

    # -- queries --------------------------------------------------------------------------

    @property
    def origin(self) -> datetime:
        """The instant ``t = 0`` (UTC)."""
        return self._origin

    def is_open(self, t: float) -> bool:
        """Whether ``t`` lies inside an interval (intervals are ``[start, end)``)."""
        if not self._reach(t):
            return False
        i = bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]

    def next_open(self, t: float) -> float:
        """The first instant at or after ``t`` inside an interval (``inf`` if none)."""
        ends = self.ends
        if (not ends or ends[-1] <= t) and not self._reach(t):
            return math.inf
        i = bisect_right(ends, t)
        start = self.starts[i]
        return start if start > t else t

    def next_close(self, t: float) -> float:
        """The end of the interval holding ``t``, or ``t`` itself when closed at ``t``."""
        if not self._reach(t):
            return t
        i = bisect_right(self.ends, t)
        return self.ends[i] if self.starts[i] <= t else t

    def measure(self, t: float) -> float:
        """Weighted time in ``[0, t)``: on-duty seconds, or expected arrivals."""
        if t <= 0.0:
            return 0.0
        if not self._reach(t):
            return self._cum[-1]
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        end = self.ends[i]
        return self._cum[i] + self.weights[i] * ((t if t < end else end) - self.starts[i])

    def at_measure(self, amount: float) -> float:
        """The first instant by which ``amount`` of weighted time has passed (``inf`` if never).

        Work that ends exactly when an interval closes ends at its close, not at the
        next opening.
        """
        if amount <= 0.0:
            return 0.0
        cum = self._cum
        if cum[-1] < amount and not self._reach_measure(amount):
            return math.inf
        j = bisect_left(cum, amount, 1) - 1
        t = self.starts[j] + (amount - cum[j]) / self.weights[j]
        end = self.ends[j]
        return t if t < end else end

    def add(self, t: float, amount: float) -> float:
        """When ``amount`` of weighted time has passed after ``t`` (``t`` itself for none)."""
        if amount <= 0.0:
            return t
        done = self.at_measure(self.measure(t) + amount)
        return done if done > t else t

    @property
    def cumulative(self) -> list[float]:
        """Weighted time before each interval (one more entry than intervals)."""
        return self._cum

    def serve(self, t: float, work: float) -> tuple[float, float]:
        """``(start, end)`` of ``work`` working seconds asked for at ``t``: it starts at
        :meth:`next_open` and ends when that much open time has passed (weight-1
        timelines: calendars). The simulator's hot path, so the usual case -- the work
        fits in the interval it starts in -- is two comparisons and one bisect."""
        ends = self.ends
        if not ends or ends[-1] <= t:
            if not self._reach(t):
                return math.inf, math.inf
            ends = self.ends
        i = bisect_right(ends, t)
        start = self.starts[i]
        if start < t:
            start = t
        if work <= ends[i] - start:
            return start, start + work
        return start, self.at_measure(self._cum[i + 1] + work - (ends[i] - start))

    def between(self, a: float, b: float) -> float:
        """Weighted time in ``[a, b)``."""
        return self.measure(b) - self.measure(a) if b > a else 0.0

    def intervals(self, a: float, b: float) -> list[tuple[float, float]]:
        """The intervals clipped to ``[a, b)``, in order."""
        if b <= a:
            return []
        self._reach(b)
        out = []
        i = max(bisect_right(self.ends, a), 0)
        while i < len(self.starts) and self.starts[i] < b:
            out.append((max(self.starts[i], a), min(self.ends[i], b)))
            i += 1
        return out

    def instant(self, t: float) -> datetime:
        """Seconds after the origin as an aware datetime in the timeline's zone."""
        return (self._origin + timedelta(seconds=t)).astimezone(self._zone)

    def seconds(self, moment: datetime) -> float:
        """An aware datetime as seconds after the origin."""
        if moment.tzinfo is None:
            raise ValueError("a moment must be time-zone aware")
        return (moment.astimezone(UTC) - self._origin).total_seconds()


__all__ = ["CHUNK_DAYS", "Timeline"]
