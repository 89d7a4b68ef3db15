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

from procflow.calendars import zone
from procflow.eventlog.events import Event
from procflow.eventlog.matching import StepMatcher
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
    lines = {
        owner_id: [
            process.calendars[name].calendar.timeline(origin)
            for name, _ in process.owners[owner_id].calendars
            if name is not None and name in process.calendars
        ]
        for owner_id in calendared
    }
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


def _calendared(process: Process) -> dict[str, str]:
    """Owners with a declared calendar (or shifts), and their hours in words."""
    found: dict[str, str] = {}
    for owner_id, owner in process.owners.items():
        names = [n for n, _ in owner.calendars if n is not None and n in process.calendars]
        if names:
            found[owner_id] = " + ".join(process.calendars[n].calendar.describe() for n in names)
    return found


__all__ = ["OwnerHours", "WorkingHours", "working_hours"]
