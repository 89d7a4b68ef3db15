"""Processing time, waiting, and the waiting no resource explains (:func:`estimate_timing`).

Per event, with ``enabled`` the previous completion in its case:

* **With start times** the processing time is ``end - start`` and the wait
  is ``start - enabled``.
* **With completion times only** the start is estimated as the later of
  ``enabled`` and the resource's previous completion (it could not have
  started before the case was ready for it nor before its resource was
  free: Martin, Depaire and Caris; Chapela-Campa et al.). Processing is
  the *working* time of the activity's role between that start and the
  completion (:func:`~procflow.discovery.hours.working_seconds`), so a
  task completed at 09:05 after its resource's 17:00 completion the day
  before takes the working hour it took, not sixteen hours. A case's first
  event has no ``enabled``, and a resource's first event no previous
  completion: such an event counts only when the one known bound is less
  than :data:`FIRST_GAP` before it (else its processing time is unknown and
  all of its elapsed time is waiting). A log without resources gives
  elapsed times since ``enabled``.
* **Contention** is the part of the wait during which the resource was
  busy with other work: from ``enabled`` to the end of the resource's busy
  block (its intervals -- recorded, or from the estimated starts -- merged
  where they overlap or touch) that ``enabled`` falls in, the first moment
  it was idle (Chapela-Campa and Dumas). The rest of the
  wait is **extraneous**: a customer who answers late, a ticket that
  closes itself after a fixed time. Where the model has calendars it is
  counted in the role's working time (the calendar itself makes a wait
  that spans a night or a weekend). Where it has none, extraneous also
  takes the off-duty time inside the estimated processing interval, which
  a 24-hour simulation would otherwise lose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from procflow.discovery.hours import working_seconds
from procflow.discovery.table import NO_RESOURCE, EventTable

MAX_SESSION = 2 * 3600.0
"""Working time beyond which a completion-only estimate is taken for idleness, not work."""
AFTER_WAIT = 300.0
"""An extraneous wait this long (the delay-step threshold) leaves the next start undated."""
MIN_DATED = 30
"""Visits dated by their case an activity needs before its waited visits' estimates are dropped."""
FIRST_GAP = 4 * 3600.0
"""The longest gap from a resource's previous completion that dates a case's first event."""


@dataclass
class Timing:
    """Per-event estimates (seconds; ``NaN`` where unknown) and each case's arrival."""

    processing: np.ndarray
    waiting: np.ndarray
    contention: np.ndarray
    extraneous: np.ndarray
    arrival: np.ndarray
    """Per case (in table order): when it arrived (its first event's estimated start)."""
    basis: str
    """``"start times"`` or ``"resource availability"``."""


def estimate_timing(
    table: EventTable,
    masks: np.ndarray,
    role_of: np.ndarray,
    *,
    calendars: bool,
    kept: np.ndarray | None = None,
    wait_masks: np.ndarray | None = None,
    daily: bool = False,
) -> Timing:
    """Estimates for every event; ``masks[role_of[activity]]`` is its role's week mask.

    ``wait_masks`` (default ``masks``): the hours in which extraneous waits
    are counted when ``calendars`` (a role's regular hours, where its
    calendar also holds rare ones: waits end when work regularly resumes).

    ``kept``: the events of the activities the model keeps (all by default).
    A kept event is enabled by the previous *kept* event of its case, so the
    time a case spent in activities left out of the model (a rare detour)
    is waiting before the next step that is in it, not lost.

    ``daily``: the log carries dates only. Work that ends on the date the
    resource's next work starts does not show the resource busy in between
    (every event of a day shares one moment), so only intervals that
    really overlap make a busy block (:func:`_busy_until`).
    """
    arrived = table.case_first()
    first, enabled = _enabled(table, np.ones(len(table), dtype=bool) if kept is None else kept)
    mask_index = role_of[table.activity]
    previous = _previous_completion(table)
    available = np.fmax(enabled, previous)
    if table.has_starts:
        start = np.where(np.isnan(table.start), available, table.start)
        basis = "start times"
    elif table.has_resources:
        start = available
        basis = "resource availability"
    else:
        start = enabled
        basis = "elapsed times (the log names no resources)"
    elapsed = table.end - start
    processing = elapsed.copy()
    if not table.has_starts or calendars:
        processing = _working(masks, mask_index, start, table.end)
    if not table.has_starts:
        # nothing dates the start: a first event, or a resource's first completion long
        # after its case was ready (elapsed since enabled is no processing time)
        undated = np.isnan(table.start) & (first | np.isnan(previous) & table.has_resources)
        unknown = undated & ~(elapsed <= FIRST_GAP)
        # more working time than a session since the resource's previous completion:
        # it may as well have been idle, so that time dates nothing either
        unknown |= np.isnan(table.start) & (processing > MAX_SESSION)
        processing[unknown] = np.nan
        start = np.where(unknown, table.end, start)
    waiting = np.maximum(start - enabled, 0.0)
    begin = np.where(np.isnan(table.start), start, table.start)
    busy_to = _busy_until(table, begin, enabled, touching=not daily)
    contention = np.minimum(busy_to - enabled, waiting).clip(min=0.0)
    contention = np.where(np.isnan(contention), 0.0, contention)
    extraneous = waiting - contention
    if calendars:
        # in the role's working time: a wait that ends overnight ends, for the model, when the
        # role's hours open again, which its calendar does by itself (the delay step must not)
        free = np.where(np.isnan(enabled), np.nan, enabled + contention)
        waits = masks if wait_masks is None else wait_masks
        working = _working(waits, mask_index, free, start)
        extraneous = np.where(np.isnan(extraneous), np.nan, working)
    else:
        extraneous = extraneous + np.nan_to_num(elapsed - processing, nan=0.0).clip(min=0.0)
    if not table.has_starts and table.has_resources:
        processing, extraneous = _after_waits(table, processing, extraneous)
    arrival = np.where(np.isnan(start), table.end, start)[arrived]
    return Timing(processing, waiting, contention, extraneous, arrival, basis)


def _after_waits(
    table: EventTable, processing: np.ndarray, extraneous: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """An estimated processing time right after an extraneous wait counts as waiting.

    Without start times a task after a long wait is dated from its
    resource's previous completion: whatever the resource did since (other
    work, idleness) looks like this task's processing. In the permit log
    such visits "took" 15 minutes on average where visits of cases that had
    just become ready took 3.6. So where an activity has at least
    :data:`MIN_DATED` visits whose start the case itself dated (no wait),
    its processing time is fitted on those, and a waited visit's estimate
    joins its wait. An activity that is always waited for (a ticket closed
    weeks after it was resolved) keeps its estimates: they are all it has.
    """
    after = np.isnan(table.start) & np.isfinite(processing)
    waited = np.nan_to_num(extraneous, nan=0.0) >= AFTER_WAIT
    dated = np.bincount(
        table.activity,
        weights=after & ~waited & np.isfinite(extraneous),
        minlength=len(table.activities),
    )
    after &= waited & (dated[table.activity] >= MIN_DATED)
    return (
        np.where(after, np.nan, processing),
        np.where(after, extraneous + np.nan_to_num(processing, nan=0.0), extraneous),
    )


def _enabled(table: EventTable, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per event: whether it is its case's first kept event, and the previous kept completion."""
    rows = np.flatnonzero(kept)
    first = np.ones(len(table), dtype=bool)
    enabled = np.full(len(table), np.nan)
    same = table.case[rows][1:] == table.case[rows][:-1]
    first[rows[1:][same]] = False
    enabled[rows[1:][same]] = table.end[rows[:-1][same]]
    return first, enabled


def _previous_completion(table: EventTable) -> np.ndarray:
    """Each event's resource's previous completion (NaN for its first, or no resource)."""
    previous = np.full(len(table), np.nan)
    order = np.lexsort((table.end, table.resource))
    same = (table.resource[order][1:] == table.resource[order][:-1]) & (
        table.resource[order][1:] != NO_RESOURCE
    )
    previous[order[1:][same]] = table.end[order[:-1][same]]
    return previous


def _working(
    masks: np.ndarray, mask_index: np.ndarray, begin: np.ndarray, end: np.ndarray
) -> np.ndarray:
    result = np.full(end.size, np.nan)
    known = ~np.isnan(begin)
    for index in np.unique(mask_index):
        rows = known & (mask_index == index)
        result[rows] = working_seconds(masks[index], begin[rows], end[rows])
    return result


def _busy_until(
    table: EventTable, begin: np.ndarray, enabled: np.ndarray, *, touching: bool = True
) -> np.ndarray:
    """When each event's resource was next idle at or after ``enabled``.

    ``begin`` is each event's start: recorded, or estimated.

    A resource's recorded intervals are merged into busy blocks (overlapping
    or back to back); inside a block the resource was busy throughout, so a
    wait until the block's end is contention. ``enabled`` itself where the
    resource was idle, NaN where there is nothing to go by. ``touching``
    False: back-to-back intervals are separate blocks (date-only logs).
    """
    result = np.full(len(table), np.nan)
    has = (table.resource != NO_RESOURCE) & ~np.isnan(begin)
    ask = (table.resource != NO_RESOURCE) & ~np.isnan(enabled)
    if not has.any() or not ask.any():
        return result
    origin = float(np.nanmin(begin[has]))
    span = float(np.nanmax(table.end)) - origin + 1.0
    rows = np.flatnonzero(has)
    rows = rows[np.lexsort((begin[rows], table.resource[rows]))]
    offset = table.resource[rows].astype(float) * span
    opened = begin[rows] - origin + offset
    finish = table.end[rows] - origin + offset
    reach = np.maximum.accumulate(finish)
    new = np.ones(rows.size, dtype=bool)
    new[1:] = opened[1:] > reach[:-1] if touching else opened[1:] >= reach[:-1]
    firsts = np.flatnonzero(new)
    block_begin = opened[firsts]
    block_end = np.maximum.reduceat(finish, firsts)
    query = np.flatnonzero(ask)
    key = enabled[query] - origin + table.resource[query].astype(float) * span
    index = np.searchsorted(block_begin, key, side="right") - 1
    inside = (index >= 0) & (block_end[np.maximum(index, 0)] > key)
    busy_to = np.where(inside, block_end[np.maximum(index, 0)], key)
    result[query] = busy_to - table.resource[query].astype(float) * span + origin
    return result
