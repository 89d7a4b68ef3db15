"""Which CSV column holds what: given by the user, or recognised by name.

A CSV event log needs a case column, an activity column and at least one
timestamp; a resource and a lifecycle column are optional. Each can be named
explicitly (``--case-column`` and friends); otherwise the header is searched
for the common names below -- the XES attribute names pm4py writes
(``case:concept:name``, ``concept:name``, ``time:timestamp``,
``org:resource``, ``lifecycle:transition``), procflow's own
``case,step,owner,start,end``, and the usual spellings in exports
(``case_id``, ``activity``, ``start_timestamp``, ``resource``...). Names are
compared ignoring case, surrounding spaces, and ``-``/space vs ``_``; the
first candidate in the order listed wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from procflow.errors import EventLogError

CANDIDATES: dict[str, tuple[str, ...]] = {
    "case": (
        "case:concept:name",
        "case_id",
        "caseid",
        "case",
        "case:id",
        "case_concept_name",
        "case_name",
        "trace_id",
        "traceid",
        "trace",
    ),
    "activity": (
        "concept:name",
        "activity",
        "activity_name",
        "step",
        "task",
        "event",
        "action",
    ),
    "start": (
        "start_timestamp",
        "start_time",
        "starttime",
        "start",
        "time:start",
    ),
    "end": (
        "time:timestamp",
        "timestamp",
        "end_timestamp",
        "complete_timestamp",
        "end_time",
        "endtime",
        "end",
        "completed",
        "time",
        "datetime",
    ),
    "resource": (
        "org:resource",
        "resource",
        "owner",
        "user",
        "performer",
        "agent",
        "org:group",
    ),
    "lifecycle": (
        "lifecycle:transition",
        "lifecycle",
        "event_type",
    ),
}

FLAGS: dict[str, str] = {
    "case": "--case-column",
    "activity": "--activity-column",
    "start": "--start-column",
    "end": "--end-column",
    "resource": "--resource-column",
    "lifecycle": "--lifecycle-column",
}


def normalize(name: str) -> str:
    """How column names are compared: ``' Case ID'`` -> ``'case_id'``."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


@dataclass(frozen=True)
class Columns:
    """Column names chosen by the user; ``None`` means "recognise it from the header"."""

    case: str | None = None
    activity: str | None = None
    start: str | None = None
    end: str | None = None
    resource: str | None = None
    lifecycle: str | None = None


@dataclass(frozen=True)
class ColumnIndex:
    """The resolved position of each column in the header (``None``: not in this log)."""

    case: int
    activity: int
    start: int | None
    end: int | None
    resource: int | None
    lifecycle: int | None
    names: tuple[str, ...]

    def name(self, role: str) -> str:
        index = getattr(self, role)
        return self.names[index] if index is not None else ""

    def describe(self) -> dict[str, str | None]:
        """``{role: column name or None}`` for reports."""
        return {
            role: (self.names[i] if (i := getattr(self, role)) is not None else None)
            for role in ("case", "activity", "start", "end", "resource", "lifecycle")
        }


def resolve(header: Sequence[str], columns: Columns, path: str, line: int = 1) -> ColumnIndex:
    """Find each column in ``header``; raise :class:`EventLogError` naming what is missing."""
    names = tuple(header)
    exact = {name: i for i, name in reversed(list(enumerate(names)))}
    loose: dict[str, int] = {}
    for i, name in enumerate(names):
        loose.setdefault(normalize(name), i)
    found: dict[str, int | None] = {}
    taken: set[int] = set()
    for role in ("case", "activity", "end", "start", "resource", "lifecycle"):
        wanted = getattr(columns, role)
        if wanted is not None:
            index = exact.get(wanted, loose.get(normalize(wanted)))
            if index is None:
                raise EventLogError(
                    path,
                    f"no column {wanted!r} ({FLAGS[role]}); the header has: {_shown(names)}",
                    line,
                )
            found[role] = index
            taken.add(index)
            continue
        found[role] = None
        for candidate in CANDIDATES[role]:
            index = loose.get(candidate)
            if index is not None and index not in taken:
                found[role] = index
                taken.add(index)
                break
    for role in ("case", "activity"):
        if found[role] is None:
            raise EventLogError(
                path,
                f"no {role} column: name it with {FLAGS[role]} (recognised names: "
                f"{', '.join(CANDIDATES[role][:5])}, ...); the header has: {_shown(names)}",
                line,
            )
    if found["start"] is None and found["end"] is None:
        raise EventLogError(
            path,
            "no timestamp column: name it with --timestamp-column/--end-column or "
            f"--start-column (recognised names: {', '.join(CANDIDATES['end'][:5])}, ...); "
            f"the header has: {_shown(names)}",
            line,
        )
    _refuse_ambiguous(names, found, path, line)
    case_index = found["case"]
    activity_index = found["activity"]
    assert case_index is not None
    assert activity_index is not None
    return ColumnIndex(
        case=case_index,
        activity=activity_index,
        start=found["start"],
        end=found["end"],
        resource=found["resource"],
        lifecycle=found["lifecycle"],
        names=names,
    )


def _refuse_ambiguous(
    names: Sequence[str], found: dict[str, int | None], path: str, line: int
) -> None:
    """Refuse a header where a column procflow reads has a namesake: which one is meant?

    ``case,case`` would otherwise read the first and ignore the second
    silently. Names are compared as :func:`normalize` does; columns procflow
    does not read may share a name (and unnamed ones often do).
    """
    for index in sorted(i for i in found.values() if i is not None):
        key = normalize(names[index])
        for other, name in enumerate(names):
            if other != index and normalize(name) == key:
                first, second = sorted((index, other))
                same = f"both named {names[first]!r}"
                if names[second] != names[first]:
                    same += f" (as {names[second]!r})"
                raise EventLogError(
                    path,
                    f"columns {first + 1} and {second + 1} are {same}: which one to read is "
                    "unclear, rename one",
                    line,
                )


def _shown(names: Sequence[str]) -> str:
    if not names:
        return "(nothing)"
    shown = ", ".join(repr(n) for n in names[:12])
    return shown + (f", ... ({len(names)} columns)" if len(names) > 12 else "")
