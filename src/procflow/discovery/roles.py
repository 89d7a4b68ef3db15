"""Owners as roles: which resources do which activities, and how many were on duty.

Activities are grouped by who does them: each activity is a vector of
event counts per resource, and activities whose vectors point the same
way (cosine similarity at least :data:`SIMILAR`) are merged, average
linkage, most similar first (Song and van der Aalst's organisational
mining; Simod's resource pools group the other way round). A role is one
such group of activities; its members are the resources that do at least
:data:`MEMBER_SHARE` of their own work in it, so a resource may belong to
several roles.

A pool's size is how many of its members were *really on duty at once*:
per clock hour, the distinct members who recorded work on the role's
activities; the 95th percentile over the hours in which anyone did. With
start times, it is at least the most activities of the role in progress at
one moment. A sum
of everyone ever seen would count people who left, joined later or work
part time (the permit log's 48 people made 177 servers that way).
Without a resource column every activity's pool is sized by the events
per hour instead, and the report says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from procflow.discovery.table import NO_RESOURCE, EventTable

SIMILAR = 0.5
"""Cosine similarity of resource profiles above which activities share a role."""
MEMBER_SHARE = 0.05
"""Share of a resource's own events a role must hold for it to be a member."""
ON_DUTY_QUANTILE = 0.95
MAX_CLUSTERED = 400
"""Above this many activities, each activity is its own role (clustering is cubic)."""


@dataclass(frozen=True)
class Role:
    """A group of activities and the resources that do them."""

    activities: tuple[int, ...]
    members: tuple[int, ...]
    capacity: int
    peak: int
    """The most members on duty in any one hour."""
    events: int


def discover_roles(table: EventTable, activities: list[int]) -> list[Role]:
    """Roles covering ``activities`` (codes), largest first.

    In a log with resources, an activity no resource ever does (a marker
    such as "closed", a system timer) is in no role.
    """
    n_res, n_act = len(table.resources), len(table.activities)
    hour = np.floor(table.end / 3600.0).astype(np.int64)
    if not table.has_resources or n_res == 0:
        return [_solo(table, a, hour) for a in activities]
    has = table.resource != NO_RESOURCE
    matrix = np.zeros((n_res, n_act), dtype=np.int64)
    np.add.at(matrix, (table.resource[has], table.activity[has]), 1)
    done_by_someone = [a for a in activities if matrix[:, a].any()]
    groups = _cluster(matrix, done_by_someone)
    per_resource = matrix.sum(axis=1)
    roles = []
    for group in groups:
        in_role = matrix[:, list(group)].sum(axis=1)
        members = [
            r for r in range(n_res) if in_role[r] and in_role[r] >= MEMBER_SHARE * per_resource[r]
        ]
        if not members:
            members = [int(np.argmax(in_role))]
        capacity, peak = _on_duty(table, group, members, hour)
        roles.append(Role(tuple(group), tuple(members), capacity, peak, int(in_role.sum())))
    roles.sort(key=lambda r: -r.events)
    return roles


def _cluster(matrix: np.ndarray, activities: list[int]) -> list[list[int]]:
    vectors = {a: matrix[:, a].astype(float) for a in activities}
    groups = [[a] for a in activities]
    if len(activities) > MAX_CLUSTERED:
        return groups
    sums = [vectors[a].copy() for a in activities]
    while len(groups) > 1:
        best, pair = SIMILAR, None
        norms = [float(np.linalg.norm(s)) for s in sums]
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if norms[i] == 0 or norms[j] == 0:
                    continue
                similarity = float(sums[i] @ sums[j]) / (norms[i] * norms[j])
                if similarity >= best:
                    best, pair = similarity, (i, j)
        if pair is None:
            break
        i, j = pair
        groups[i] += groups.pop(j)
        sums[i] = sums[i] + sums.pop(j)
    return groups


def _on_duty(
    table: EventTable, group: list[int], members: list[int], hour: np.ndarray
) -> tuple[int, int]:
    mask = np.isin(table.activity, group) & np.isin(table.resource, members)
    if not mask.any():
        return 1, 1
    keyed = np.unique(hour[mask] * (len(table.resources) + 1) + table.resource[mask])
    _hours, per_hour = np.unique(keyed // (len(table.resources) + 1), return_counts=True)
    quantile = float(np.quantile(per_hour, ON_DUTY_QUANTILE))
    busy = _most_at_once(table.start[mask], table.end[mask])
    return max(1, math.ceil(quantile - 1e-9), busy), max(int(per_hour.max()), busy)


def _most_at_once(start: np.ndarray, end: np.ndarray) -> int:
    """The most activities in progress at one moment (0 without start times).

    With start times a resource name may stand for a team (a simulated log
    names the owner): overlapping work shows how many were busy at once.
    """
    known = ~np.isnan(start)
    if not known.any():
        return 0
    moments = np.concatenate([start[known], end[known]])
    steps = np.concatenate([np.ones(int(known.sum())), -np.ones(int(known.sum()))])
    order = np.lexsort((steps, moments))  # at equal times an end (-1) comes first
    return int(np.cumsum(steps[order]).max())


def _solo(table: EventTable, activity: int, hour: np.ndarray) -> Role:
    """A role for one activity of a log without resources: sized by events per hour."""
    mask = table.activity == activity
    _hours, per_hour = np.unique(hour[mask], return_counts=True)
    quantile = float(np.quantile(per_hour, ON_DUTY_QUANTILE)) if per_hour.size else 1.0
    peak = int(per_hour.max()) if per_hour.size else 1
    return Role((activity,), (), max(1, math.ceil(quantile - 1e-9)), peak, int(mask.sum()))
