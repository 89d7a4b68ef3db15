"""The one shape every event-log reader produces: an :class:`Event`.

A log file can say the same thing in several ways -- one row per activity
with a start and an end, or one row per lifecycle transition (``start`` and
``complete`` as separate rows, as XES logs do). Readers turn both into
events with an ``end`` (the completion time) and, when the log knows it, a
``start``. Times are float seconds since the Unix epoch.

:class:`LifecyclePairing` is the small piece of state that matches a
``start`` row to the next ``complete`` of the same activity in the same
case (first in, first out), shared by the CSV and XES readers.
"""

from __future__ import annotations

from collections import deque


class Event:
    """One executed activity of one case.

    ``line`` is where the event was read: the line of a CSV file (its
    completing row), or the event's number within its trace for XES (the
    ``where`` text says which).
    """

    __slots__ = ("activity", "case", "end", "line", "resource", "start")

    def __init__(
        self,
        case: str,
        activity: str,
        end: float,
        start: float | None = None,
        resource: str | None = None,
        line: int = 0,
    ) -> None:
        self.case = case
        self.activity = activity
        self.end = end
        self.start = start
        self.resource = resource
        self.line = line

    def __repr__(self) -> str:
        return (
            f"Event(case={self.case!r}, activity={self.activity!r}, start={self.start!r}, "
            f"end={self.end!r}, resource={self.resource!r}, line={self.line})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return (
            self.case,
            self.activity,
            self.end,
            self.start,
            self.resource,
        ) == (other.case, other.activity, other.end, other.start, other.resource)

    __hash__ = None  # type: ignore[assignment]


#: Lifecycle values (XES standard lifecycle model) that begin an activity.
STARTS = frozenset({"start"})
#: Lifecycle values that complete one. Every other value (schedule, assign,
#: suspend, resume, withdraw, aborts and skips) is not an execution and is skipped.
COMPLETES = frozenset({"complete", "completed"})


class LifecyclePairing:
    """Match ``start`` rows to ``complete`` rows of the same case and activity (FIFO).

    Only open starts are kept, and a case's entry is dropped as soon as it
    has none, so memory follows the number of activities in progress. A
    suspended and resumed activity runs from its start to its completion.
    """

    __slots__ = ("_open",)

    def __init__(self) -> None:
        self._open: dict[str, dict[str, deque[float]]] = {}

    def start(self, case: str, activity: str, moment: float) -> None:
        by_activity = self._open.get(case)
        if by_activity is None:
            by_activity = self._open[case] = {}
        queue = by_activity.get(activity)
        if queue is None:
            queue = by_activity[activity] = deque()
        queue.append(moment)

    def complete(self, case: str, activity: str) -> float | None:
        """The start time paired with this completion, or ``None`` if there was none."""
        by_activity = self._open.get(case)
        if by_activity is None:
            return None
        queue = by_activity.get(activity)
        if not queue:
            return None
        moment = queue.popleft()
        if not queue:
            del by_activity[activity]
            if not by_activity:
                del self._open[case]
        return moment

    def __bool__(self) -> bool:
        """Whether any start is still waiting for its completion."""
        return bool(self._open)

    @property
    def open_count(self) -> int:
        """Starts not yet completed (reported as incomplete activities)."""
        return sum(len(q) for by in self._open.values() for q in by.values())


def no_completed(rows: int, starts: int, skipped: int, unit: str = "rows") -> str:
    """Why a log whose ``rows`` rows (XES: ``unit="events"``) gave no completed activity."""
    parts = []
    if starts:
        parts.append(f"{starts:,} start{'s' if starts != 1 else ''} without a complete")
    if skipped:
        parts.append(f"{skipped:,} other lifecycle transition{'s' if skipped != 1 else ''}")
    why = f" ({', '.join(parts)})" if parts else ""
    return (
        f"the log has no completed activity in its {rows:,} {unit if rows != 1 else unit[:-1]}{why}"
    )
