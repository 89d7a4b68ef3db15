"""Roles, their hours and every event's timing, as discovery measures them (:func:`measure`).

Both ``discover`` (:mod:`.discover`) and ``calibrate``'s refit of delay
steps (:mod:`.refit`) measure a log with it, so a calibrated wait is what
``discover`` would have written (docs/discover.md#processing-time-and-waiting).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from procflow.discovery.hours import DATE_SHARE, date_resolution
from procflow.discovery.processing import possible_masks, role_masks
from procflow.discovery.roles import Role, discover_roles
from procflow.discovery.table import EventTable
from procflow.discovery.timing import Timing, estimate_timing


@dataclass
class Measured:
    """Roles, their hours and every event's timing (:func:`measure`)."""

    roles: list[Role]
    masks: np.ndarray
    """Per role: its regular hours of the week."""
    role_of: np.ndarray
    """Per activity: its role (an index into :attr:`masks`)."""
    possible: np.ndarray
    """Per role: its regular hours and the rare ones it also worked."""
    keeps: np.ndarray
    """Per role: whether it keeps its hours (its waits are then in working time)."""
    timing: Timing
    date_share: float = 0.0
    """The share of events at the log's commonest time of day (:func:`date_resolution`)."""
    midnight: float = 0.0
    """That time of day (seconds into the UTC day)."""

    @property
    def dates_only(self) -> bool:
        """Whether the timestamps carry dates only (no working hours can be read from them)."""
        return self.date_share >= DATE_SHARE


def measure(table: EventTable, order: list[int], calendars: bool) -> Measured:
    """Roles, hours and timing of ``table``'s events, ``order`` the activities the model keeps.

    A log with dates only (:func:`date_resolution`) has no working hours to
    read: its roles work around the clock and no calendars are written.
    """
    times = np.concatenate([table.end, table.start[np.isfinite(table.start)]])
    share, midnight = date_resolution(times)
    daily = share >= DATE_SHARE
    calendars = calendars and not daily
    roles = discover_roles(table, order)
    masks, role_of = role_masks(table, roles)
    if daily:
        masks = np.ones_like(masks)
    kept = np.isin(table.activity, np.asarray(order, dtype=table.activity.dtype))
    possible, keeps = possible_masks(table, roles, masks)
    if not calendars:
        possible, keeps = masks, np.zeros_like(keeps)
    # waits in working time only for roles that keep their hours; elsewhere elapsed
    wait_masks = np.where(keeps[:, None], masks, True)
    timing = estimate_timing(
        table,
        possible,
        role_of,
        calendars=calendars,
        kept=kept,
        wait_masks=wait_masks,
        daily=daily,
    )
    return Measured(roles, masks, role_of, possible, keeps, timing, share, midnight)
