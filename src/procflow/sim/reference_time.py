"""Working time for the reference simulator, the slow and obvious way (docs/working-time.md).

:mod:`procflow.sim.reference` checks the engines' working time against this
module, so it shares with :mod:`procflow.sim.workingtime` and
:class:`procflow.calendars.Timeline` only the *definition* of a calendar
(its weekly pieces, time zone and closed dates, as the model parsed them),
never the arithmetic. Everything here is done step by step:

* :class:`OpenHours` lays a calendar out day by day: each local date that is
  not a holiday, each piece of its weekday, turned into an aware
  :class:`~datetime.datetime` with :mod:`zoneinfo` and then into seconds
  after the run's start. A DST change is therefore where the zone database
  puts it; a local time that does not exist (the hour skipped in spring) is
  read with the offset before the change (``fold=0``, PEP 495), so 02:30
  on that night is 03:30. Touching pieces (a range over midnight) stay two
  intervals: for working time it makes no difference.
* "When is ``work`` done" walks the intervals from the start, subtracting
  each interval's open time from the work left until it fits; work that
  fits exactly ends when the interval closes.
* Arrivals: the operational arrival times (the engine's stream, the running
  sum of inter-arrival draws) are mapped to real time by walking the
  intervals of the arrival calendar or profile and adding up their weight
  (open seconds, or expected arrivals) until the operational time is
  reached: the inverse of the cumulative intensity, computed by hand.

Not fast: every query starts a linear walk at the first interval that ends
after its instant (found by bisection over ends, which is only a search,
not arithmetic).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from procflow.calendars import Calendar, Week, zone
from procflow.errors import SimulationError
from procflow.sim.plan import Plan

NEVER_DAYS = 366 * 50
"""Days laid out without finding open time before a calendar counts as never open again."""


class OpenHours:
    """The open intervals ``(start, end, weight)`` of a weekly pattern, in seconds after
    ``origin``, laid out day by day as queries reach further."""

    def __init__(
        self,
        week: Week,
        tz: ZoneInfo,
        origin: datetime,
        closed: Callable[[date], bool] = lambda day: False,
    ) -> None:
        self.week = week
        self.tz = tz
        self.origin = origin.astimezone(UTC)
        self.closed = closed
        self.intervals: list[tuple[float, float, float]] = []
        self.ends: list[float] = []
        self.next_day = origin.astimezone(tz).date() - timedelta(days=1)
        self.empty = not any(week)

    @classmethod
    def of(cls, calendar: Calendar, origin: datetime) -> OpenHours:
        return cls(calendar.week, zone(calendar.timezone), origin, calendar.closed_on)

    def _seconds(self, day: date, minute: int) -> float:
        """Local ``minute`` after midnight of ``day`` as seconds after the origin."""
        local = datetime.combine(day, time(0, 0), tzinfo=self.tz)
        if minute >= 24 * 60:  # 24:00 is the next day's midnight
            local = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=self.tz)
        else:
            local = local.replace(hour=minute // 60, minute=minute % 60)
        return (local.astimezone(UTC) - self.origin).total_seconds()

    def _lay_out_day(self) -> None:
        day = self.next_day
        self.next_day = day + timedelta(days=1)
        if self.closed(day):
            return
        for first, last, weight in self.week[day.weekday()]:
            start, end = self._seconds(day, first), self._seconds(day, last)
            start = max(start, 0.0)
            if end > start:
                self.intervals.append((start, end, weight))
                self.ends.append(end)

    def _reach(self, t: float) -> bool:
        """Lay out days until an interval ends after ``t``; ``False`` if none ever does."""
        dry = 0
        while not self.ends or self.ends[-1] <= t:
            if self.empty or dry > NEVER_DAYS or not math.isfinite(t):
                return False
            before = len(self.intervals)
            self._lay_out_day()
            dry = 0 if len(self.intervals) > before else dry + 1
        return True

    def after(self, t: float) -> Iterator[tuple[float, float, float]]:
        """The intervals that end after ``t``, the first clipped to start no earlier than
        ``t``, in order, for as long as the caller keeps asking."""
        if not self._reach(t):
            return
        i = bisect_right(self.ends, t)
        while True:
            while i >= len(self.intervals):
                if not self._reach(self.ends[-1]):
                    return
            start, end, weight = self.intervals[i]
            yield max(start, t), end, weight
            i += 1

    def is_open(self, t: float) -> bool:
        for start, _end, _weight in self.after(t):
            return start <= t
        return False

    def next_open(self, t: float) -> float:
        """The first open instant at or after ``t`` (``inf``: never)."""
        for start, _end, _weight in self.after(t):
            return start
        return math.inf

    def done(self, t: float, work: float) -> float:
        """When ``work`` seconds of open time after ``t`` have passed: ``t`` for no work,
        else the walk through the intervals (``inf``: never)."""
        if work <= 0.0:
            return t
        left = work
        for start, end, _weight in self.after(t):
            if left <= end - start:
                return start + left
            left -= end - start
        return math.inf

    def work_done(self, start: float, work: float) -> float:
        """When work begun at the open instant ``start`` ends: like :meth:`done`, except that
        work of no length ends where it begins (a unit starts only while on duty)."""
        return start if work <= 0.0 else self.done(start, work)

    def open_between(self, a: float, b: float) -> float:
        """Open (weighted) seconds in ``[a, b)``."""
        total = 0.0
        if b <= a:
            return total
        for start, end, weight in self.after(a):
            if start >= b:
                break
            total += weight * (min(end, b) - start)
        return total

    def invert(self, amount: float) -> float:
        """The instant by which ``amount`` of weighted time has passed since the origin."""
        if amount <= 0.0:
            return 0.0
        passed = 0.0
        for start, end, weight in self.after(0.0):
            mass = weight * (end - start)
            if passed + mass >= amount:
                return min(start + (amount - passed) / weight, end)
            passed += mass
        return math.inf


@dataclass(eq=False)
class Unit:
    """One unit of a calendared owner: the hours of its shift, and the visit it works on."""

    hours: OpenHours
    visit: Any = None


class Crew:
    """The units of a staff owner with a calendar or shifts, in shift order (docs/working-time.md:
    each unit works its shift's calendar; capacity follows the time of day)."""

    def __init__(self, shifts: list[tuple[OpenHours, int]]) -> None:
        self.shifts = shifts
        self.units = [Unit(hours) for hours, units in shifts for _ in range(units)]

    def ready(self, now: float) -> Unit | None:
        """The unit that takes work at ``now``: free and on duty, the first shift listed first
        (the engines' rule when several units could start at the same instant)."""
        for unit in self.units:
            if unit.visit is None and unit.hours.is_open(now):
                return unit
        return None

    def wake(self, now: float) -> float:
        """When a free unit next comes on duty (``inf``: no unit is free, or never)."""
        return min(
            (unit.hours.next_open(now) for unit in self.units if unit.visit is None),
            default=math.inf,
        )

    def on_duty(self, a: float, b: float) -> float:
        """Unit-seconds on duty in ``[a, b)``, shift by shift."""
        return math.fsum(units * hours.open_between(a, b) for hours, units in self.shifts)


class Clock:
    """A plan's working time as the reference sees it: a :class:`Crew` per calendared staff
    owner, the :class:`OpenHours` of each calendared external owner, the arrival hours."""

    def __init__(self, plan: Plan) -> None:
        working = plan.working
        assert working is not None
        origin = working.origin
        self.crews: list[Crew | None] = []
        self.externals: list[OpenHours | None] = []
        for owner in plan.owners:
            groups = working.owners.get(owner.id)
            self.crews.append(
                None
                if groups is None or owner.external
                else Crew([(OpenHours.of(calendar, origin), units) for calendar, units in groups])
            )
            calendar = working.externals.get(owner.id) if owner.external else None
            self.externals.append(None if calendar is None else OpenHours.of(calendar, origin))
        self.arrival_hours: OpenHours | None = None
        clock = working.arrivals
        if clock is not None:
            closed = clock.closed.closed_on if clock.closed is not None else (lambda day: False)
            self.arrival_hours = OpenHours(clock.week, zone(clock.timezone), origin, closed)

    def arrivals(self, operational: list[float]) -> list[float]:
        """Arrival times on the operational clock mapped to real time, one walk each."""
        hours = self.arrival_hours
        if hours is None:
            return operational
        times = [hours.invert(t) for t in operational]
        if times and times[-1] == math.inf:
            raise SimulationError("the arrival calendar never opens again: no case could arrive")
        return times

    def on_duty(self, plan: Plan, a: float, b: float) -> list[float]:
        """Unit-seconds on duty per owner in ``[a, b)``: a calendared owner's shifts, an owner
        without a calendar all its units all the time, an external owner none."""
        return [
            0.0
            if owner.external
            else crew.on_duty(a, b)
            if crew is not None
            else owner.capacity * (b - a)
            for owner, crew in zip(plan.owners, self.crews, strict=True)
        ]


__all__ = ["Clock", "Crew", "OpenHours", "Unit"]
