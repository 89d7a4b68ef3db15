"""Open an event log of either format: :func:`read_log`.

CSV and XES readers are both iterables of :class:`~procflow.eventlog.events.Event`
in file order, streamed. The format comes from the file name (``.xes``,
``.xes.gz`` are XES; ``.csv``, ``.tsv``, ``.txt`` and their ``.gz`` are CSV)
or, for other names, from the first non-blank byte (``<`` means XML).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Literal, Protocol

from procflow.errors import ConfigError, FileAccessError
from procflow.eventlog.batch import Batch, batches_from_events
from procflow.eventlog.columns import Columns
from procflow.eventlog.csvlog import CsvLog
from procflow.eventlog.events import Event
from procflow.eventlog.logfile import open_binary
from procflow.eventlog.xes import XesLog

Format = Literal["csv", "xes"]


class EventLog(Protocol):
    """What :func:`read_log` returns: a re-iterable stream of events."""

    @property
    def path(self) -> str: ...

    @property
    def format(self) -> str: ...

    @property
    def skipped(self) -> int:
        """Lifecycle events skipped on the last pass (neither start nor complete)."""
        ...

    @property
    def unpaired_starts(self) -> int:
        """Lifecycle starts never completed on the last pass."""
        ...

    def __iter__(self) -> Iterator[Event]: ...


def detect_format(path: str) -> Format:
    """``"xes"`` or ``"csv"`` from the name, else from the first non-blank byte."""
    lowered = path.lower().removesuffix(".gz")
    if lowered.endswith((".xes", ".xml")):
        return "xes"
    if lowered.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    try:
        with open_binary(path) as handle:
            head = handle.read(512)
    except OSError as exc:
        raise FileAccessError(path, getattr(exc, "strerror", None) or str(exc)) from None
    return "xes" if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") else "csv"


def read_log(
    path: str | os.PathLike[str],
    *,
    columns: Columns | None = None,
    format: Format | None = None,
    delimiter: str | None = None,
    time_format: str | None = None,
    sort: bool = False,
) -> EventLog:
    """Open an event log for streaming; nothing is read until it is iterated.

    ``columns`` (CSV only) names the case, activity, start, end, resource and
    lifecycle columns; unnamed ones are recognised from the header. ``sort``
    holds the whole log in memory and yields each case's events in time
    order (for logs that are not in time order within each case).

    >>> log = read_log("events.csv")          # doctest: +SKIP
    >>> for event in log:                     # doctest: +SKIP
    ...     print(event.case, event.activity, event.end)
    """
    name = os.fspath(path)
    kind = format or detect_format(name)
    log: EventLog
    if kind == "xes":
        if columns is not None and columns != Columns():
            raise ConfigError("column options apply to CSV logs; an XES log names its attributes")
        log = XesLog(name, time_format=time_format)
    elif kind == "csv":
        log = CsvLog(name, columns, delimiter=delimiter, time_format=time_format)
    else:
        raise ConfigError(f"unknown event log format {kind!r}: use csv or xes")
    return SortedLog(log) if sort else log


class SortedLog:
    """A log whose cases are grouped and sorted by time in memory (``sort=True``, ``--sort``)."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.path = log.path
        self.format = log.format

    @property
    def skipped(self) -> int:
        return self.log.skipped

    @property
    def unpaired_starts(self) -> int:
        return self.log.unpaired_starts

    @property
    def renamed_traces(self) -> int:
        return int(getattr(self.log, "renamed_traces", 0))

    @property
    def index(self) -> object:
        return getattr(self.log, "index", None)

    def __iter__(self) -> Iterator[Event]:
        for events in group_cases(self.log).values():
            yield from events

    def batches(self) -> Iterator[Batch]:
        return batches_from_events(self)


def group_cases(events: Iterator[Event] | EventLog) -> dict[str, list[Event]]:
    """All events per case, each case sorted by time (holds the whole log in memory).

    For scripts and small logs; :func:`~procflow.eventlog.conformance.check_log`
    streams instead.
    """
    cases: dict[str, list[Event]] = {}
    for event in events:
        cases.setdefault(event.case, []).append(event)
    for trace in cases.values():
        trace.sort(key=lambda e: (e.end if e.start is None else e.start, e.end))
    return cases
