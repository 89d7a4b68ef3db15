"""When a real log's events happen, held against the owners' declared calendars.

Real office logs put almost every event on weekdays in office hours
(docs/working-time.md). For a process with ``calendars:``, check-log counts
the log's events by weekday and hour of the week (in the process time zone)
and, for each owner with a calendar or shifts, the share of its events that
fall outside every calendar it declares: an event is *inside* when it
starts in open hours (an event without a start time: when it completes) and
completes in open hours or exactly at a closing time. A large share outside
means the calendar is wrong, or the team works overtime.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from procflow.calendars import Timeline, zone
from procflow.eventlog.events import Event
from procflow.eventlog.matching import StepMatcher
from procflow.eventlog.stats import Sample
from procflow.model import Process

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class OwnerHours:
    """One owner's events against its declared hours."""

    owner: str
    hours: str
    events: int = 0
    outside: int = 0

    @property
    def outside_share(self) -> float:
        return self.outside / self.events if self.events else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "hours": self.hours,
            "events": self.events,
            "outside": self.outside,
            "outside_share": None if not self.events else self.outside_share,
        }


@dataclass
class WorkingHours:
    """Events by weekday and hour, and per owner outside its declared hours."""

    timezone: str
    counts: list[list[int]] = field(default_factory=lambda: [[0] * 24 for _ in range(7)])
    """``counts[weekday][hour]``: events completing then (Monday first)."""
    owners: dict[str, OwnerHours] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(sum(day) for day in self.counts)

    def weekday_shares(self) -> list[float]:
        total = self.total
        return [sum(day) / total if total else math.nan for day in self.counts]

    def to_dict(self) -> dict[str, Any]:
        total = self.total
        return {
            "timezone": self.timezone,
            "events": total,
            "by_weekday": dict(zip(DAY_NAMES, self.weekday_shares(), strict=True)),
            "by_weekday_hour": {
                DAY_NAMES[d]: [c / total if total else None for c in self.counts[d]]
                for d in range(7)
            },
            "owners": {o: hours.to_dict() for o, hours in self.owners.items()},
        }


def working_hours(process: Process, events: Iterable[Event]) -> WorkingHours | None:
    """The weekday/hour profile of ``events`` and each calendared owner's events outside
    its hours; ``None`` for a process without calendars (nothing declared to hold it to)."""
    if not process.calendars:
        return None
    tz = zone(process.timezone)
    result = WorkingHours(process.timezone)
    match = StepMatcher(process)
    owned: list[tuple[str, float, float]] = []
    calendared = _calendared(process)
    for event in events:
        local = datetime.fromtimestamp(event.end, UTC).astimezone(tz)
        result.counts[local.weekday()][local.hour] += 1
        step = match(event.activity)
        owner = process.steps[step].owner if step is not None else None
        if owner in calendared:
            start = event.start if event.start is not None else event.end
            owned.append((owner, start, event.end))
    if not owned:
        for owner_id, text in calendared.items():
            result.owners[owner_id] = OwnerHours(owner_id, text)
        return result
    origin = datetime.fromtimestamp(min(s for _, s, _ in owned), UTC) - timedelta(days=2)
    base = origin.timestamp()
    lines = _lines(process, calendared, origin)
    for owner_id, text in calendared.items():
        result.owners[owner_id] = OwnerHours(owner_id, text)
    for owner_id, start, end in owned:
        hours = result.owners[owner_id]
        hours.events += 1
        a, b = start - base, end - base
        if not any(
            line.is_open(a) and (line.is_open(b) or line.is_open(b - 1.0))
            for line in lines[owner_id]
        ):
            hours.outside += 1
    return result


def working_service(process: Process, events: Iterable[Event]) -> dict[str, Sample]:
    """Per step of an owner with a calendar, the service times of ``events`` (those with a
    start) in *working* time: the open seconds between start and end on the calendar the
    work started in (for shifts, the first open one; else the one with most open time).
    What calibrate fits, since a duration is working time (docs/working-time.md)."""
    calendared = _calendared(process)
    if not calendared:
        return {}
    match = StepMatcher(process)
    rows: list[tuple[str, str, float, float]] = []
    for event in events:
        step = match(event.activity)
        owner = process.steps[step].owner if step is not None else None
        if step is not None and owner in calendared and event.start is not None:
            rows.append((step, owner, event.start, event.end))
    if not rows:
        return {}
    origin = datetime.fromtimestamp(min(r[2] for r in rows), UTC) - timedelta(days=2)
    base = origin.timestamp()
    lines = _lines(process, calendared, origin)
    samples: dict[str, Sample] = {}
    for step, owner, start, end in rows:
        a, b = start - base, end - base
        spans = [(line.is_open(a), line.between(a, b)) for line in lines[owner]]
        opened = [work for is_open, work in spans if is_open]
        work = opened[0] if opened else max(work for _, work in spans)
        samples.setdefault(step, Sample()).add(work)
    for sample in samples.values():
        sample.flush()
    return samples


def on_duty_seconds(process: Process, first: float, last: float) -> dict[str, float]:
    """Per owner with a calendar or shifts, the unit-seconds on duty between ``first`` and
    ``last`` (epoch seconds: the log's period): units x open seconds, summed over its
    shifts. Utilization is busy working time over this (docs/working-time.md)."""
    calendared = _calendared(process)
    if not calendared or not last > first:
        return {}
    origin = datetime.fromtimestamp(first, UTC) - timedelta(days=2)
    a, b = first - origin.timestamp(), last - origin.timestamp()
    found: dict[str, float] = {}
    for owner_id in calendared:
        total = 0.0
        for name, units in process.owners[owner_id].calendars:
            spec = process.calendars.get(name) if name is not None else None
            open_seconds = b - a if spec is None else spec.calendar.timeline(origin).between(a, b)
            total += units * open_seconds
        found[owner_id] = total
    return found


def _lines(
    process: Process, calendared: dict[str, str], origin: datetime
) -> dict[str, list[Timeline]]:
    return {
        owner_id: [
            process.calendars[name].calendar.timeline(origin)
            for name, _ in process.owners[owner_id].calendars
            if name is not None and name in process.calendars
        ]
        for owner_id in calendared
    }


def _calendared(process: Process) -> dict[str, str]:
    """Owners with a declared calendar (or shifts), and their hours in words."""
    found: dict[str, str] = {}
    for owner_id, owner in process.owners.items():
        names = [n for n, _ in owner.calendars if n is not None and n in process.calendars]
        if names:
            found[owner_id] = " + ".join(process.calendars[n].calendar.describe() for n in names)
    return found


__all__ = ["OwnerHours", "WorkingHours", "on_duty_seconds", "working_hours", "working_service"]
