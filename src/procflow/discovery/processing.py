"""Processing times and the working hours they are measured in, per activity.

What both ``procflow discover`` and ``procflow calibrate --processing-time``
need from a log: roles (:mod:`.roles`), each role's week mask
(:mod:`.hours`) and the per-event estimates of :mod:`.timing`. Kept apart
from the process writer so that calibration can use it without importing
discovery's output side.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from procflow.discovery.hours import HOURS_A_WEEK, possible_mask, slot_counts, week_mask
from procflow.discovery.roles import Role, discover_roles
from procflow.discovery.table import EventTable, read_table
from procflow.discovery.timing import estimate_timing
from procflow.eventlog.events import Event

MIN_CALENDAR_EVENTS = 200
"""A role with fewer events works the hours of the whole log (its own are too sparse)."""


def processing_by_activity(log: Iterable[Event]) -> dict[str, np.ndarray]:
    """Each activity's estimated processing times (seconds; unknown ones left out).

    What ``procflow calibrate`` fits for a log without start times: roles
    and their working hours as :func:`discover` finds them, then
    :func:`~procflow.discovery.timing.estimate_timing`.
    """
    table = read_table(log)
    roles = discover_roles(table, list(range(len(table.activities))))
    masks, role_of = role_masks(table, roles)
    timing = estimate_timing(table, masks, role_of, calendars=False)
    result = {}
    for code, name in enumerate(table.activities):
        values = timing.processing[table.activity == code]
        result[name] = values[np.isfinite(values)]
    return result


def role_masks(table: EventTable, roles: list[Role]) -> tuple[np.ndarray, np.ndarray]:
    """Each role's week mask (plus an always-open one last) and each activity's role."""
    role_of = np.full(len(table.activities), len(roles), dtype=np.int64)
    masks = np.ones((len(roles) + 1, HOURS_A_WEEK), dtype=bool)
    everyone = week_mask(slot_counts(np.concatenate([table.end, table.start])))
    for i, role in enumerate(roles):
        role_of[list(role.activities)] = i
        rows = np.isin(table.activity, role.activities)
        if rows.sum() < MIN_CALENDAR_EVENTS:
            masks[i] = everyone
            continue
        moments = np.concatenate([table.end[rows], table.start[rows]])
        masks[i] = week_mask(slot_counts(moments))
    return masks, role_of


RARE_SHARE = 0.05
"""The most of a role's events outside its regular hours for them to count as exceptions."""


def possible_masks(
    table: EventTable, roles: list[Role], regular: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each role's regular hours plus the rare hours it also worked, and which roles keep hours.

    A role *keeps* its regular hours when at most :data:`RARE_SHARE` of its
    events fall outside them: the rest are exceptions (someone came in on a
    Saturday), and those hours are added (:func:`possible_mask`). A role with
    much more work outside them is not described by them (an activity no
    calendar holds, like a timer, shares its resources): its mask stays as
    it is, and opening every hour it ever worked would let a simulation
    drain its queue at night. Its waits are then elapsed time, not working time.
    """
    masks = regular.copy()
    keeps = np.zeros(len(regular), dtype=bool)
    everyone = slot_counts(np.concatenate([table.end, table.start]))
    for i, role in enumerate(roles):
        rows = np.isin(table.activity, role.activities)
        if regular[i].all():
            continue
        counts = (  # a small role works the whole log's hours (role_masks), rare ones too
            everyone
            if rows.sum() < MIN_CALENDAR_EVENTS
            else slot_counts(np.concatenate([table.end[rows], table.start[rows]]))
        )
        if counts[~regular[i]].sum() <= RARE_SHARE * counts.sum():
            masks[i] |= possible_mask(counts)
            keeps[i] = True
    return masks, keeps
