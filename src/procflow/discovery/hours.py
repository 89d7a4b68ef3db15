"""When work happens: weekly hour masks, working time, calendar text.

A *week mask* is 168 booleans, one per hour of the week (Monday 00-01 UTC
first). A role's mask holds the hours with at least :data:`SUPPORT` of the
events of a busy hour (López-Pintado and Dumas's calendars keep the weekday
x time-slot cells with enough support; this is the same idea with one
threshold), and short breaks inside a day are closed. Times are UTC, as
the log readers give them.

:func:`working_seconds` measures an interval in working time of a mask in
constant time per interval (cumulative open seconds per week), so a
million intervals take one numpy pass.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

HOURS_A_WEEK = 168
WEEK = HOURS_A_WEEK * 3600.0
SUPPORT = 0.1
"""An hour is on duty with at least this share of a busy hour's events."""
_MONDAY_OFFSET = 3 * 86400.0  # 1970-01-01 was a Thursday
SPARSE_SUPPORT = 0.01
"""An hour is *possible* (someone came in) with at least this share of a busy hour's events."""
GAP_HOURS = 2
"""Breaks in a day's hours up to this long are closed (sparse logs leave holes)."""
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DATE_SHARE = 0.95
"""A log whose events share one time of day this often carries dates only."""


def date_resolution(moments: np.ndarray) -> tuple[float, float]:
    """The share of events at the commonest time of day, and that time (seconds into the UTC day).

    Many real logs (BPI challenge exports, logs kept by day) stamp every
    event at local midnight, or at one export hour: their time of day says
    nothing about working hours, and durations below a day cannot be
    measured. At least :data:`DATE_SHARE` of the events at one time of day
    is taken as date resolution (docs/discover.md#date-only-timestamps).
    """
    finite = moments[np.isfinite(moments)]
    if finite.size == 0:
        return 0.0, 0.0
    seconds = np.round(np.mod(finite, 86400.0)).astype(np.int64) % 86400
    times, counts = np.unique(seconds, return_counts=True)
    top = int(np.argmax(counts))
    return float(counts[top]) / float(finite.size), float(times[top])


def local_offset(time_of_day: float) -> float:
    """The UTC offset (seconds) at which ``time_of_day`` (UTC) is local midnight.

    A date-only log written with an offset (``2006-01-01T00:00:00+01:00``)
    reads as 23:00 UTC: local midnight there is offset +01:00. A time from
    10:00 UTC on is read as a positive offset (+14:00 down to +00:00), an
    earlier one as a negative offset (offsets run from -12:00 to +14:00).
    """
    return 86400.0 - time_of_day if time_of_day >= 36000.0 else -time_of_day


def hour_of_week(moments: np.ndarray) -> np.ndarray:
    """0 (Monday 00:00-01:00 UTC) ... 167 for epoch seconds."""
    hours: np.ndarray = np.floor((moments + _MONDAY_OFFSET) / 3600.0) % HOURS_A_WEEK
    return hours.astype(np.int64)


def slot_counts(moments: np.ndarray) -> np.ndarray:
    """Events per hour of the week."""
    finite = moments[np.isfinite(moments)]
    return np.bincount(hour_of_week(finite), minlength=HOURS_A_WEEK)


def week_mask(counts: np.ndarray, support: float = SUPPORT) -> np.ndarray:
    """The hours with at least ``support`` x the busy hours' events (all when there are none).

    "Busy" is the 90th percentile of the hours with events, so a few very busy
    hours do not push the quieter working hours out, and a log that works
    around the clock keeps every hour.
    """
    if counts.sum() == 0:
        return np.ones(HOURS_A_WEEK, dtype=bool)
    busy = float(np.quantile(counts[counts > 0], 0.9))
    mask: np.ndarray = counts >= max(support * busy, 1e-9)
    return fill_gaps(mask)


def possible_mask(counts: np.ndarray) -> np.ndarray:
    """The hours with at least :data:`SPARSE_SUPPORT` x the busy hours' events.

    Where :func:`week_mask` keeps the hours a role regularly works, this
    keeps the rare ones too (a Saturday morning someone came in, an
    evening): the role *can* work then, which a simulation needs to put
    the few events of those hours where the log has them.
    """
    if counts.sum() == 0:
        return np.ones(HOURS_A_WEEK, dtype=bool)
    busy = float(np.quantile(counts[counts > 0], 0.9))
    mask: np.ndarray = counts >= max(SPARSE_SUPPORT * busy, 1e-9)
    return mask


def fill_gaps(mask: np.ndarray, gap: int = GAP_HOURS) -> np.ndarray:
    """Close breaks of at most ``gap`` hours inside a day (a quiet hour is still on duty)."""
    filled = mask.copy()
    for day in range(7):
        hours = np.flatnonzero(mask[day * 24 : (day + 1) * 24])
        for before, after in pairwise(hours.tolist()):
            if 1 < after - before <= gap + 1:
                filled[day * 24 + before : day * 24 + after] = True
    return filled


def working_clock(mask: np.ndarray, moments: np.ndarray) -> np.ndarray:
    """Open seconds of ``mask`` from the epoch's week start to each moment."""
    shifted = moments + _MONDAY_OFFSET
    weeks = np.floor(shifted / WEEK)
    within = shifted - weeks * WEEK
    slot = np.minimum((within // 3600.0).astype(np.int64), HOURS_A_WEEK - 1)
    open_seconds = mask.astype(float) * 3600.0
    before = np.concatenate([[0.0], np.cumsum(open_seconds)])
    partial = np.where(mask[slot], within - slot * 3600.0, 0.0)
    clock: np.ndarray = weeks * before[-1] + before[slot] + partial
    return clock


def working_seconds(mask: np.ndarray, begin: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Working seconds of ``mask`` between ``begin`` and ``end`` (elementwise, >= 0)."""
    seconds: np.ndarray = np.maximum(working_clock(mask, end) - working_clock(mask, begin), 0.0)
    return seconds


def hours_text(mask: np.ndarray) -> dict[str, str]:
    """A mask as calendar ``hours:``: ``{"mon-fri": "08:00-17:00", "sat": "10:00-12:00"}``.

    Days with the same hours are joined into ranges (``mon-fri``) or lists
    (``mon,wed``); closed days are left out.
    """
    by_day = [_ranges(mask[d * 24 : (d + 1) * 24]) for d in range(7)]
    groups: dict[str, list[int]] = {}
    for day, text in enumerate(by_day):
        if text:
            groups.setdefault(text, []).append(day)
    return {_days(days): text for text, days in groups.items()}


def _ranges(day: np.ndarray) -> str:
    parts = []
    hour = 0
    while hour < 24:
        if day[hour]:
            stop = hour
            while stop < 24 and day[stop]:
                stop += 1
            parts.append(f"{hour:02d}:00-{stop:02d}:00" if stop < 24 else f"{hour:02d}:00-24:00")
            hour = stop
        else:
            hour += 1
    return ", ".join(parts)


def _days(days: list[int]) -> str:
    if len(days) > 1 and days == list(range(days[0], days[-1] + 1)):
        return f"{DAYS[days[0]]}-{DAYS[days[-1]]}"
    return ",".join(DAYS[d] for d in days)


def describe(mask: np.ndarray) -> str:
    """``mon-fri 08:00-17:00; sat 10:00-12:00`` (or ``around the clock``)."""
    if mask.all():
        return "around the clock"
    return "; ".join(f"{days} {hours}" for days, hours in hours_text(mask).items()) or "never"
