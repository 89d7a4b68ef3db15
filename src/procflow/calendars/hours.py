"""Weekly hours as people write them: ``mon-fri: "09:00-12:30, 13:30-17:00"``.

A week is seven lists of *pieces* -- ``(start, end, weight)`` in minutes
after local midnight, ``0 <= start < end <= 1440`` -- sorted and not
overlapping. A calendar's pieces have weight 1 (open); an arrival profile's
pieces carry a rate. A range that crosses midnight (``22:00-06:00``) is cut
at midnight into a piece of its own day and one of the next, so every
piece belongs to one local date: that is what lets a holiday close exactly
its own date (docs/working-time.md).

Everything here is pure text -> numbers; errors are :class:`HoursError`
with the offset of the offending part, which the model turns into PF002 at
the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_TITLES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_PER_DAY = 1440

Piece = tuple[int, int, float]
"""``(start minute, end minute, weight)`` within one local day."""
Week = tuple[tuple[Piece, ...], ...]
"""Seven days of pieces, Monday first."""

_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_RANGE_RE = re.compile(r"^\s*([^-\s]+)\s*-\s*([^-\s]+)\s*$")


class HoursError(ValueError):
    """Text that is not a day set or an hour range; ``offset`` points into the text."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


def _day(name: str, text: str) -> int:
    try:
        return DAYS.index(name.strip().lower())
    except ValueError:
        raise HoursError(
            f"unknown day {name.strip()!r} in {text!r}: use mon, tue, wed, thu, fri, sat, sun "
            "(ranges like mon-fri, lists like mon,wed)",
            max(text.find(name.strip()), 0),
        ) from None


def parse_days(text: str) -> tuple[int, ...]:
    """The weekdays (0 = Monday) of ``mon``, ``mon-fri``, ``mon,wed``, ``fri-mon``.

    >>> parse_days("mon-wed,sat")
    (0, 1, 2, 5)
    """
    days: set[int] = set()
    for item in text.split(","):
        if not item.strip():
            raise HoursError(f"empty day in {text!r}", max(text.find(",,"), 0))
        if "-" in item:
            first, _, last = item.partition("-")
            a, b = _day(first, text), _day(last, text)
            span = (b - a) % 7
            days.update((a + k) % 7 for k in range(span + 1))
        else:
            days.add(_day(item, text))
    return tuple(sorted(days))


def _minute(value: str, text: str, end: bool) -> int:
    match = _TIME_RE.match(value)
    where = max(text.find(value.strip()), 0)
    if match is None:
        raise HoursError(f"{value.strip()!r} in {text!r} is not a time: write HH:MM", where)
    hours, minutes = int(match.group(1)), int(match.group(2))
    total = hours * 60 + minutes
    if minutes > 59 or total > MINUTES_PER_DAY or (total == MINUTES_PER_DAY and not end):
        raise HoursError(f"{value.strip()!r} in {text!r} is not a time of day", where)
    return total


def parse_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """Hour ranges ``"09:00-12:30, 13:30-17:00"`` as ``(start, end)`` minutes.

    An end before the start crosses midnight (``22:00-06:00`` is ``(1320, 360)``);
    ``24:00`` may end a range.

    >>> parse_ranges("09:00-12:30, 22:00-06:00")
    ((540, 750), (1320, 360))
    """
    if isinstance(text, str) and not text.strip():
        raise HoursError(
            "expected hour ranges such as '09:00-17:00', got an empty text: "
            "a closed day is left out of hours"
        )
    if not isinstance(text, str):
        raise HoursError("expected hour ranges such as '09:00-17:00'")
    ranges: list[tuple[int, int]] = []
    for part in text.split(","):
        match = _RANGE_RE.match(part)
        if match is None:
            raise HoursError(
                f"{part.strip()!r} in {text!r} is not an hour range: write HH:MM-HH:MM",
                max(text.find(part.strip()), 0),
            )
        start = _minute(match.group(1), text, end=False)
        end = _minute(match.group(2), text, end=True)
        if start == end:
            raise HoursError(
                f"{part.strip()!r} in {text!r} is empty: start and end are the same time "
                "(write 00:00-24:00 for a whole day)",
                max(text.find(part.strip()), 0),
            )
        ranges.append((start, end))
    return tuple(ranges)


def _pieces_of(day: int, start: int, end: int, weight: float) -> list[tuple[int, Piece]]:
    if end > start:
        return [(day, (start, end, weight))]
    out = [(day, (start, MINUTES_PER_DAY, weight))]
    if end > 0:
        out.append(((day + 1) % 7, (0, end, weight)))
    return out


def _union(pieces: Iterable[Piece]) -> tuple[Piece, ...]:
    """Overlapping or touching pieces of equal weight merged (a calendar is a set of hours)."""
    merged: list[Piece] = []
    for start, end, weight in sorted(pieces):
        if merged and start <= merged[-1][1] and merged[-1][2] == weight:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), weight)
        else:
            merged.append((start, end, weight))
    return tuple(merged)


def weekly_hours(hours: Mapping[str, str]) -> Week:
    """A calendar's ``hours:`` mapping as a :data:`Week` of open pieces (weight 1).

    Days not listed are closed; hours given twice for a day are united.
    """
    days: list[list[Piece]] = [[] for _ in DAYS]
    for key, value in hours.items():
        if not isinstance(value, str):
            raise HoursError(f"hours of {key!r} must be text such as '09:00-17:00'")
        for day in parse_days(key):
            for start, end in parse_ranges(value):
                for d, piece in _pieces_of(day, start, end, 1.0):
                    days[d].append(piece)
    return tuple(_union(day) for day in days)


def parse_profile_key(key: str) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """``"mon-fri 08:00-12:00"`` -> days and ranges; ``"sat"`` is the whole day."""
    days_text, _, ranges_text = key.strip().partition(" ")
    days = parse_days(days_text)
    ranges = parse_ranges(ranges_text) if ranges_text.strip() else ((0, MINUTES_PER_DAY),)
    return days, ranges


def weekly_profile(profile: Mapping[str, float]) -> Week:
    """An arrival profile (key -> rate per second) as a :data:`Week` weighted by rate.

    Hours named by two keys are an error: which rate would hold?
    """
    days: list[list[Piece]] = [[] for _ in DAYS]
    for key, rate in profile.items():
        day_set, ranges = parse_profile_key(key)
        for day in day_set:
            for start, end in ranges:
                for d, piece in _pieces_of(day, start, end, float(rate)):
                    for other in days[d]:
                        if piece[0] < other[1] and other[0] < piece[1]:
                            raise HoursError(
                                f"{key!r} overlaps other hours of the profile on "
                                f"{DAY_TITLES[d]} ({_clock(max(piece[0], other[0]))}): "
                                "give each hour of the week one rate"
                            )
                    days[d].append(piece)
    return tuple(tuple(sorted(day)) for day in days)


def hours_of(week: Week) -> Week:
    """The hours of a weighted week (an arrival profile), as open pieces of weight 1.

    >>> describe_week(hours_of(weekly_profile({"mon 09:00-12:00": 3.0, "mon 12:00-17:00": 1.0})))
    'Mon 09:00-17:00'
    """
    return tuple(
        _union((start, end, 1.0) for start, end, weight in day if weight > 0) for day in week
    )


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def describe_week(week: Week) -> str:
    """Open hours in words: ``Mon-Fri 09:00-12:30, 13:30-17:00; Sat 10:00-14:00``.

    Days with the same hours are grouped into runs (``Mon-Fri``); a range
    over midnight is shown as one range again (``22:00-06:00``).
    """
    shown = [_day_text(week, d) for d in range(7)]
    groups: list[tuple[list[int], str]] = []
    for d, text in enumerate(shown):
        if not text:
            continue
        if groups and groups[-1][1] == text and groups[-1][0][-1] == d - 1:
            groups[-1][0].append(d)
        else:
            groups.append(([d], text))
    parts = []
    for days, text in groups:
        label = DAY_TITLES[days[0]]
        if len(days) > 1:
            label += ("-" if len(days) > 2 else ",") + DAY_TITLES[days[-1]]
        parts.append(f"{label} {text}")
    return "; ".join(parts) if parts else "never open"


def _day_text(week: Week, d: int) -> str:
    """One day's ranges; a piece ending at midnight joins the next day's piece from 00:00."""
    ranges = []
    nxt = week[(d + 1) % 7]
    for start, end, _ in week[d]:
        before = week[(d - 1) % 7]
        tail = start == 0 < end < MINUTES_PER_DAY
        if tail and before and before[-1][1] == MINUTES_PER_DAY and before[-1][0] != 0:
            continue  # shown as the tail of yesterday's range over midnight
        if end == MINUTES_PER_DAY and start > 0 and nxt and nxt[0][0] == 0 and nxt[0][1] < 1440:
            ranges.append(f"{_clock(start)}-{_clock(nxt[0][1])}")
        else:
            ranges.append(f"{_clock(start)}-{_clock(end)}")
    return ", ".join(ranges)


__all__ = [
    "DAYS",
    "DAY_TITLES",
    "MINUTES_PER_DAY",
    "HoursError",
    "Piece",
    "Week",
    "describe_week",
    "hours_of",
    "parse_days",
    "parse_profile_key",
    "parse_ranges",
    "weekly_hours",
    "weekly_profile",
]
