"""Working time in the simulator: calendar pools and arrivals on a real clock.

A process with calendars (docs/working-time.md) is simulated on a real
clock: simulation time ``t`` is seconds after the start instant
(``--start``), and every calendar is laid out on that clock as a
:class:`~procflow.calendars.Timeline`. Two things change, both behind seams
the event loop already has:

* **Pools** (:mod:`procflow.sim.pools`): a staff owner with a calendar or
  shifts is a :class:`Shifts` pool. Each unit belongs to one calendar (its
  shift). A case arriving at ``t`` takes the unit that can *start* first --
  ``next_open(max(t, free))`` over the shifts, the unit free first within a
  shift -- and its work ends ``work`` seconds of that calendar's open time
  later: work pauses when the shift closes and resumes on the same unit
  when it reopens; queued work waits. That is FIFO with units that come and
  go, and the loop still asks one ``take(t, work)`` per visit. An engine
  whose work can leave a line or jump it (:mod:`procflow.sim.tokens`:
  withdrawals, priorities) must not commit work ahead: it keeps the work
  queued until :meth:`Shifts.ready` (a unit free and on duty now) and
  looks again at :meth:`Shifts.wake`, as the reference does.
* **Arrivals** (:class:`ArrivalClock`): the arrival stream is drawn as
  before -- a running sum of inter-arrival draws -- but on an *operational*
  clock, then mapped to real time by inverting the cumulative intensity
  ``Λ(t)``: with ``rate`` and ``calendar``, ``Λ`` counts open seconds and the
  draws are the usual exponential(1/rate); with a ``profile``, ``Λ`` is the
  integral of the profile's rate and the draws are exponential(1): exact
  inversion of a non-homogeneous Poisson process (no thinning, no rejected
  draws, same number of random numbers per case).

A process without calendars has no :class:`WorkingTime` and runs exactly as
before (the fast path of :mod:`procflow.sim.engine`).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from heapq import heapify, heapreplace

import numpy as np
from numpy.typing import NDArray

from procflow.calendars import Calendar, Timeline, Week, next_monday, zone
from procflow.errors import ConfigError, SimulationError
from procflow.model import Process
from procflow.sim.plan import OwnerPlan
from procflow.sim.pools import Pool, Staff


class Shifts(Pool):
    """Units that work calendars (see the module docstring): one heap of free times per shift."""

    __slots__ = ("_groups", "_line", "_single")

    def __init__(self, groups: Sequence[tuple[Timeline, int]]) -> None:
        super().__init__(sum(units for _, units in groups))
        self._groups: list[tuple[Timeline, int, list[float]]] = [
            (line, units, [0.0]) for line, units in groups
        ]
        self._single = len(groups) == 1
        self._line = groups[0][0]
        if self._single:
            self._free = self._groups[0][2]

    def reserve(self, cases: int) -> None:
        for _, units, free in self._groups:
            want = min(units, cases)
            if len(free) < want:
                free.extend([0.0] * (want - len(free)))
                heapify(free)

    def next_free(self, t: float) -> float:
        return min(line.next_open(max(t, free[0])) for line, _, free in self._groups)

    def finish(self, start: float, work: float) -> float:
        """Work started at ``start`` on the shift that can start then (the first such)."""
        for line, _, free in self._groups:
            if line.next_open(max(start, free[0])) == start:
                return line.add(start, work)
        return self._line.add(start, work)

    def take(self, t: float, work: float) -> tuple[float, float]:
        """The unit that can start first takes the work (called once per visit: kept lean)."""
        if self._single:  # Timeline.serve, written out: the usual case is one bisect
            free = self._free
            f = free[0]
            if f > t:
                t = f
            line = self._line
            ends = line.ends
            if ends and ends[-1] > t:
                i = bisect_right(ends, t)
                start = line.starts[i]
                if start < t:
                    start = t
                end = start + work
                if end > ends[i]:
                    end = line.at_measure(line.cumulative[i + 1] + work - (ends[i] - start))
            else:
                start, end = line.serve(t, work)
            heapreplace(free, end)
            return start, end
        best, chosen = math.inf, self._groups[0]
        for group in self._groups:
            f = group[2][0]
            s = group[0].next_open(f if f > t else t)
            if s < best:
                best, chosen = s, group
        start, end = chosen[0].serve(best, work)
        heapreplace(chosen[2], end)
        return start, end

    def ready(self, t: float) -> bool:
        """Whether a unit is free *and on duty* at ``t``: an engine that queues work until
        then (:mod:`procflow.sim.tokens`) starts work only when this holds, and
        :meth:`take` then starts it at ``t`` on the first such shift."""
        for line, units, free in self._groups:
            if (len(free) < units or free[0] <= t) and line.next_open(t) == t:
                return True
        return False

    def wake(self, t: float) -> float:
        """When a unit free at ``t`` next comes on duty (``inf``: none is free, or never)."""
        return min(
            (
                line.next_open(t)
                for line, units, free in self._groups
                if len(free) < units or free[0] <= t
            ),
            default=math.inf,
        )

    def release(self, end: float, at: float) -> None:
        """Work that was to end at ``end`` is abandoned at ``at`` (``join: first``): its unit,
        in whichever shift's heap holds it, is free from ``at``."""
        for _, _, free in self._groups:
            if end in free:
                free[free.index(end)] = at
                heapify(free)
                return
        raise ValueError(f"no unit's work ends at {end}")

    def units_in_memory(self) -> int:
        return sum(len(free) for _, _, free in self._groups)

    def work_after(self, moment: float) -> float:
        """Work still to do after ``moment``: a unit is busy or off duty until its last work
        ends (its jobs follow each other with no idle on-duty time between), so its work
        left is its on-duty time from ``moment`` to then."""
        return math.fsum(
            line.between(moment, f) for line, _, free in self._groups for f in free if f > moment
        )

    def worked(self, start: float, end: float, work: float, a: float, b: float) -> float:
        """The part inside ``[a, b)`` of ``work`` done from ``start`` to ``end`` on one of
        these units: its on-duty time there, on the shift whose calendar fits the job (an
        engine that counts busy time per visit, :mod:`procflow.sim.tokens`, clips with it).
        Two shifts can fit (they overlap): the one whose unit still holds work ending at
        ``end`` wins, so ask before the unit takes other work or is released."""
        line = self._line
        if not self._single:
            fits = [
                (end not in free, i)
                for i, (candidate, _, free) in enumerate(self._groups)
                if math.isclose(candidate.between(start, end), work, rel_tol=1e-9, abs_tol=1e-6)
            ]
            if fits:
                line = self._groups[min(fits)[1]][0]
        return line.between(max(start, a), min(end, b))

    def on_duty(self, a: float, b: float) -> float:
        """Unit-seconds on duty in ``[a, b)``, over every unit of every shift."""
        return math.fsum(units * line.between(a, b) for line, units, _ in self._groups)


class OffHours(Pool):
    """An external owner with a calendar (a supplier that works weekdays): no queue, no
    capacity -- a pure delay whose time counts only while its calendar is open."""

    __slots__ = ("_line",)

    def __init__(self, line: Timeline) -> None:
        super().__init__(1)
        self._line = line

    def finish(self, start: float, work: float) -> float:
        return self._line.add(start, work)

    def take(self, t: float, work: float) -> tuple[float, float]:
        return t, self._line.add(t, work)

    def open_time(self, a: float, b: float) -> float:
        """The open time counted in ``[a, b)``: what a delay withdrawn at ``b`` had done."""
        return self._line.between(a, b)

    def work_after(self, moment: float) -> float:
        return 0.0  # an external owner's time is not staff time


@dataclass(frozen=True)
class ArrivalClock:
    """Where arrivals may happen and how fast: a week of weights, in a zone, with holidays."""

    week: Week
    timezone: str
    closed: Calendar | None

    def timeline(self, origin: datetime) -> Timeline:
        closed = self.closed
        return Timeline(
            self.week,
            zone(self.timezone),
            origin,
            closed.closed_on if closed is not None else (lambda day: False),
        )


def map_arrivals(line: Timeline, operational: NDArray[np.float64]) -> NDArray[np.float64]:
    """Arrival times on the operational clock -> real times (inverse of ``Λ``), vectorized."""
    if len(operational) == 0:
        return operational
    top = float(operational.max())
    if line.at_measure(top) == math.inf:
        raise SimulationError("the arrival calendar never opens again: no case could arrive")
    cum = np.asarray(line.cumulative)
    starts = np.asarray(line.starts)
    ends = np.asarray(line.ends)
    weights = np.asarray(line.weights)
    j = np.maximum(np.searchsorted(cum, operational, side="left") - 1, 0)
    times: NDArray[np.float64] = np.minimum(
        starts[j] + (operational - cum[j]) / weights[j], ends[j]
    )
    return times


@dataclass(frozen=True)
class WorkingTime:
    """A process's calendars compiled for a run that starts at ``origin``."""

    origin: datetime
    """Simulation time 0: an aware datetime."""
    owners: dict[str, tuple[tuple[Calendar, int], ...]]
    """Staff owners with a calendar or shifts: their ``(calendar, units)`` groups."""
    arrivals: ArrivalClock | None
    externals: dict[str, Calendar] = field(default_factory=dict)
    """External owners with a calendar: their delays count open time."""

    def external(self, owner: OwnerPlan) -> Pool | None:
        """The :class:`OffHours` of a calendared external owner, else ``None`` (a delay)."""
        calendar = self.externals.get(owner.id)
        return None if calendar is None else OffHours(calendar.timeline(self.origin))

    def pool(self, owner: OwnerPlan) -> Pool:
        """The pool of ``owner``: :class:`Shifts` for a calendared owner, else :class:`Staff`."""
        groups = self.owners.get(owner.id)
        if groups is None:
            return Staff.of(owner)
        return Shifts([(calendar.timeline(self.origin), units) for calendar, units in groups])

    def arrival_timeline(self) -> Timeline | None:
        return None if self.arrivals is None else self.arrivals.timeline(self.origin)

    def starting(self, origin: datetime) -> WorkingTime:
        return WorkingTime(origin, self.owners, self.arrivals, self.externals)


def default_start(process: Process) -> datetime:
    """The next Monday 00:00 in the process time zone (docs/working-time.md)."""
    return next_monday(process.timezone)


def start_of(process: Process, start: str | datetime | None) -> datetime | None:
    """When simulation time 0 falls (docs/working-time.md): ``start`` (ISO 8601 text or a
    datetime; without an offset, in the process time zone), else for a process with
    calendars the next Monday 00:00 in its time zone, else ``None`` (the fixed epoch).

    Every command that simulates (simulate, compare, levers, optimize, report,
    diff --simulate) resolves its ``--start`` here once, so all its scenarios
    share one clock and a given ``--start`` makes a calendared run reproducible.
    """
    if start is None:
        return default_start(process) if process.uses_calendars else None
    if isinstance(start, str):
        try:
            moment = datetime.fromisoformat(start.strip())
        except ValueError:
            raise ConfigError(
                f"start {start!r} is not an ISO 8601 date and time, e.g. 2027-01-04T08:00 "
                "or 2027-01-04T08:00+01:00"
            ) from None
    elif isinstance(start, datetime):
        moment = start
    else:
        raise TypeError(f"start takes ISO 8601 text or a datetime, not {type(start).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(process.timezone))
    return moment


def _calendar(process: Process, name: str, path: tuple[str | int, ...]) -> Calendar:
    spec = process.calendars.get(name)
    if spec is None:
        declared = ", ".join(sorted(process.calendars)) or "none"
        raise SimulationError(
            f"{process.source.file}:{process.source.locate(path).line}: unknown calendar "
            f"{name!r} (declared: {declared}): add it under 'calendars:' (PF505)"
        )
    return spec.calendar


def working_time(process: Process, origin: datetime | None = None) -> WorkingTime | None:
    """The working time of ``process`` from ``origin`` (default :func:`default_start`);
    ``None`` for a process without calendars, which runs around the clock as before."""
    if not process.uses_calendars:
        return None
    owners: dict[str, tuple[tuple[Calendar, int], ...]] = {}
    externals: dict[str, Calendar] = {}
    for owner_id, owner in process.owners.items():
        if owner.external:
            if owner.calendar is not None:
                externals[owner_id] = _calendar(
                    process, owner.calendar, _calendar_path(owner_id, 0, False)
                )
            continue
        groups = owner.calendars
        if all(name is None for name, _ in groups):
            continue
        owners[owner_id] = tuple(
            (_calendar(process, name, _calendar_path(owner_id, i, owner.shifts is not None)), units)
            for i, (name, units) in enumerate(groups)
            if name is not None
        )
    return WorkingTime(origin or default_start(process), owners, _arrival_clock(process), externals)


def _calendar_path(owner: str, index: int, shifts: bool) -> tuple[str | int, ...]:
    if shifts:
        return ("owners", owner, "shifts", index, "calendar")
    return ("owners", owner, "calendar")


def _arrival_clock(process: Process) -> ArrivalClock | None:
    arrivals = process.arrivals
    if arrivals is None:
        return None
    calendar = (
        _calendar(process, arrivals.calendar, ("arrivals", "calendar"))
        if arrivals.calendar is not None
        else None
    )
    if arrivals.profile_week is not None:
        timezone = calendar.timezone if calendar is not None else process.timezone
        return ArrivalClock(arrivals.profile_week, timezone, calendar)
    if calendar is not None:
        return ArrivalClock(calendar.week, calendar.timezone, calendar)
    return None


__all__ = [
    "ArrivalClock",
    "OffHours",
    "Shifts",
    "WorkingTime",
    "default_start",
    "map_arrivals",
    "start_of",
    "working_time",
]
