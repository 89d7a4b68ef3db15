"""Events in columns: :class:`Batch`, the unit the replay works on.

Python spends most of its time on per-object overhead, so the CSV reader
hands the replay a few thousand rows at a time as columns -- case ids,
activities and resources as :class:`Labels` (each distinct text once, a
code per row) or plain lists, numpy arrays of times -- and the replay works
on whole columns with numpy. Readers that produce events one by one (XES,
lists of :class:`~procflow.eventlog.events.Event`) are batched with
:func:`batches_from_events`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import overload

import numpy as np

from procflow.eventlog.events import Event

BATCH_ROWS = 1 << 13
"""Rows per batch: big enough for numpy to pay off, small enough to stay in the CPU caches."""


class Labels(Sequence[str]):
    """A column of texts as its distinct values and, per row, the number of its value.

    ``names`` are the distinct texts in order of first appearance, ``codes``
    (int64) index them: ``labels[i] == names[codes[i]]``. It reads like the
    list of texts it stands for, but consumers that know it (the replay)
    look up each distinct text once instead of once per row.
    """

    __slots__ = ("codes", "names")

    def __init__(self, names: list[str], codes: np.ndarray) -> None:
        self.names = names
        self.codes = codes

    def __len__(self) -> int:
        return int(self.codes.size)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return list(map(self.names.__getitem__, self.codes[index].tolist()))
        return self.names[int(self.codes[index])]

    def __iter__(self) -> Iterator[str]:
        return map(self.names.__getitem__, self.codes.tolist())

    def __contains__(self, value: object) -> bool:
        return value in self.names

    def __repr__(self) -> str:
        return f"Labels({len(self.names)} names, {len(self)} rows)"


def distinct(column: Sequence[str]) -> Sequence[str]:
    """The distinct texts of a column (cheap for :class:`Labels`)."""
    return column.names if isinstance(column, Labels) else list(dict.fromkeys(column))


@dataclass
class Batch:
    """Consecutive events of a log in file order, as columns.

    ``start`` is ``NaN`` where an event has no start time; ``resources``
    is ``None`` when the log has no resource column; ``lines`` are the file
    lines (CSV) or the events' numbers in their trace (XES).
    """

    cases: Sequence[str]
    activities: Sequence[str]
    end: np.ndarray
    start: np.ndarray | None
    resources: Sequence[str | None] | None
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.cases)

    def events(self) -> Iterator[Event]:
        """The rows as :class:`Event` objects."""
        start = self.start
        resources = self.resources
        for i, (case, activity) in enumerate(zip(self.cases, self.activities, strict=True)):
            began = None
            if start is not None:
                value = float(start[i])
                began = None if value != value else value
            resource = resources[i] if resources is not None else None
            yield Event(
                case, activity, float(self.end[i]), began, resource or None, int(self.lines[i])
            )


def batches_from_events(events: Iterable[Event], size: int = BATCH_ROWS) -> Iterator[Batch]:
    """Group events into batches of at most ``size``."""
    iterator = iter(events)
    while True:
        chunk = list(islice(iterator, size))
        if not chunk:
            return
        start = np.array([e.start if e.start is not None else np.nan for e in chunk], dtype=float)
        has_start = not np.isnan(start).all()
        resources = [e.resource for e in chunk]
        yield Batch(
            [e.case for e in chunk],
            [e.activity for e in chunk],
            np.array([e.end for e in chunk], dtype=float),
            start if has_start else None,
            resources if any(r is not None for r in resources) else None,
            np.array([e.line for e in chunk], dtype=np.int64),
        )


def batches_of(log: Iterable[Event]) -> Iterator[Batch]:
    """The batches of a log: its own ``batches()`` when it has them, else grouped events."""
    batches = getattr(log, "batches", None)
    if callable(batches):
        return iter(batches())
    return batches_from_events(log)
