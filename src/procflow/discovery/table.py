"""A log as compact columns: :class:`EventTable` (about 30 bytes an event).

Discovery needs each case's events in order *and* each resource's events
in order, so it cannot work in one pass over a log grouped by case. It
keeps, per event, three int32 codes (case, activity, resource) and two
float64 times instead of Python objects: a million events take about
30 MB, and every later step is whole-column numpy work. The log itself is
streamed in batches (:func:`~procflow.eventlog.batch.batches_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from procflow.errors import EventLogError
from procflow.eventlog.batch import Labels, batches_of
from procflow.eventlog.events import Event

NO_RESOURCE = -1


class _Codes:
    """Distinct texts -> consecutive codes, looked up once per distinct text of a batch."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []

    def code(self, name: str) -> int:
        found = self.index.get(name)
        if found is None:
            found = self.index[name] = len(self.names)
            self.names.append(name)
        return found

    def column(self, values: Sequence[str | None]) -> np.ndarray:
        """Codes of a column; an empty or missing text is :data:`NO_RESOURCE`."""
        if isinstance(values, Labels):
            local = np.array(
                [NO_RESOURCE if n == "" else self.code(n) for n in values.names], dtype=np.int32
            )
            return local[values.codes] if local.size else np.empty(0, dtype=np.int32)
        return np.array(
            [NO_RESOURCE if v is None or v == "" else self.code(v) for v in values],
            dtype=np.int32,
        )


@dataclass
class EventTable:
    """Every event of a log, sorted by case, then time (start, else end)."""

    path: str
    case: np.ndarray
    activity: np.ndarray
    resource: np.ndarray
    start: np.ndarray
    end: np.ndarray
    cases: list[str]
    activities: list[str]
    resources: list[str]

    def __len__(self) -> int:
        return int(self.end.size)

    @property
    def has_starts(self) -> bool:
        """Whether the log records when work started (for most events)."""
        return bool(len(self)) and float(np.mean(~np.isnan(self.start))) >= 0.5

    @property
    def has_resources(self) -> bool:
        return bool(len(self)) and bool((self.resource != NO_RESOURCE).any())

    def case_first(self) -> np.ndarray:
        """Whether each event is its case's first (the table is sorted by case)."""
        first = np.ones(len(self), dtype=bool)
        first[1:] = self.case[1:] != self.case[:-1]
        return first

    def case_last(self) -> np.ndarray:
        last = np.ones(len(self), dtype=bool)
        last[:-1] = self.case[1:] != self.case[:-1]
        return last


def read_table(log: Iterable[Event], path: str = "") -> EventTable:
    """Read ``log`` (any event log, or a list of events) into an :class:`EventTable`."""
    case_codes, activity_codes, resource_codes = _Codes(), _Codes(), _Codes()
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("case", "act", "res", "start", "end")}
    for batch in batches_of(log):
        n = len(batch)
        parts["case"].append(case_codes.column(batch.cases))
        parts["act"].append(activity_codes.column(batch.activities))
        resources = batch.resources
        parts["res"].append(
            resource_codes.column(resources)
            if resources is not None
            else np.full(n, NO_RESOURCE, dtype=np.int32)
        )
        start = batch.start if batch.start is not None else np.full(n, np.nan)
        parts["start"].append(np.asarray(start, dtype=float))
        parts["end"].append(np.asarray(batch.end, dtype=float))
    name = path or str(getattr(log, "path", "") or "events")
    if not parts["end"]:
        raise EventLogError(name, "the log has no events to discover a process from")
    column = {k: np.concatenate(v) for k, v in parts.items()}
    start = column["start"]
    start = np.where(start > column["end"], np.nan, start)  # a start after its end is no start
    moment = np.where(np.isnan(start), column["end"], start)
    order = np.lexsort((column["end"], moment, column["case"]))
    return EventTable(
        path=name,
        case=column["case"][order],
        activity=column["act"][order],
        resource=column["res"][order],
        start=start[order],
        end=column["end"][order],
        cases=case_codes.names,
        activities=activity_codes.names,
        resources=resource_codes.names,
    )
