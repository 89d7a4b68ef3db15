"""Writing event logs as XES (IEEE 1849-2016), streamed and atomic.

The document is written as text, one trace at a time; no tree is built.
It declares the four standard extensions it uses (``concept``,
``lifecycle``, ``org``, ``time``), so pm4py, ProM, Disco and Apromore read
it without any mapping:

- one ``<trace>`` per case, ``concept:name`` = the case id, and the case's
  attributes (when the writer is given any, :meth:`XesEventWriter.set_case_attributes`)
  as further trace attributes;
- two ``<event>`` elements per step visit, ``lifecycle:transition`` ``start``
  and ``complete``, with ``concept:name`` = the activity (the step id, or
  the name :func:`~procflow.eventlog.writer.activity_names` gives it),
  ``org:resource`` = the owner (left out for a step without one) and
  ``time:timestamp`` in ISO 8601 with milliseconds and an explicit offset,
  simulated time 0 placed at :data:`~procflow.eventlog.writer.SIMULATION_EPOCH`
  as in the CSV logs.

The simulator hands over visits of many cases interleaved, so each case's
visits are held until the case reaches one of the ``ends`` steps, then its
trace is written, its events in time order: memory follows the cases in
progress, not the log. Cases still open when the writer closes are written
last, in the order they first appeared. A name ending in ``.gz`` is written
gzip-compressed with deterministic bytes.

Text is escaped for XML attributes (``& < > "`` and line breaks and tabs as
character references, so they read back exactly); characters XML 1.0
cannot carry at all (control characters other than tab, line feed and
carriage return) are refused with a :class:`~procflow.errors.ConfigError`
rather than written into a file no reader accepts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime
from types import TracebackType
from typing import IO

from procflow.errors import ConfigError
from procflow.eventlog.writer import (
    SIMULATION_EPOCH,
    TextOutput,
    format_timestamp,
    simulated_instant,
)

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <string key="lifecycle:transition" value="complete"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <classifier name="Activity and lifecycle" keys="concept:name lifecycle:transition"/>
  <string key="concept:name" value="procflow event log"/>
"""
"""Everything before the first trace: the standard extensions, globals and classifiers."""
FOOTER = "</log>\n"
EXTENSIONS = ("concept", "lifecycle", "org", "time")
"""The prefixes of the standard extensions the header declares."""

_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)

Visit = tuple[float | datetime, float | datetime, str, str | None]
"""``(start, end, activity, owner)`` of one step visit, held until its trace is written."""


def writable(text: str) -> bool:
    """Whether XML 1.0 can carry ``text`` (no control characters but tab and line breaks)."""
    return _UNWRITABLE.search(text) is None


def xml_value(text: str) -> str:
    """``text`` as the value of an XML attribute (without the quotes).

    >>> xml_value('a<b & "c"')
    'a&lt;b &amp; &quot;c&quot;'
    """
    bad = _UNWRITABLE.search(text)
    if bad is not None:
        raise ConfigError(
            f"cannot write {text!r} to an XES log: character U+{ord(bad.group()):04X} "
            "cannot appear in XML 1.0"
        )
    return text.translate(_ESCAPES)


def typed_attribute(key: str, value: object) -> str:
    """One XES attribute element for a Python value: string, boolean, int, float or date."""
    name = xml_value(key)
    if isinstance(value, bool):
        return f'<boolean key="{name}" value="{"true" if value else "false"}"/>'
    if isinstance(value, int):
        return f'<int key="{name}" value="{value}"/>'
    if isinstance(value, float):
        return f'<float key="{name}" value="{value!r}"/>'
    if isinstance(value, datetime):
        return f'<date key="{name}" value="{format_timestamp(value)}"/>'
    if isinstance(value, date):
        return f'<date key="{name}" value="{value.isoformat()}T00:00:00.000+00:00"/>'
    return f'<string key="{name}" value="{xml_value(str(value))}"/>'


class XesEventWriter(AbstractContextManager["XesEventWriter"]):
    """Stream step visits to an XES file; it appears (atomically) when the writer closes.

    The same interface as :class:`~procflow.eventlog.writer.CsvEventWriter`
    (an :class:`~procflow.sim.engine.EventSink`)::

        with XesEventWriter("events.xes", ends={"done"}) as log:
            log.write_simulated(1, "intake", "support-agent", 0.0, 312.5)
            log.write_simulated(1, "done", None, 312.5, 312.5)

    ``names`` maps step ids to the activity names written; ``ends`` are the
    steps whose visit finishes a case (its trace is written then). ``rows``
    counts visits, as for CSV (the file has two events per visit).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        epoch: datetime = SIMULATION_EPOCH,
        *,
        names: Mapping[str, str] | None = None,
        ends: Collection[str] = (),
    ) -> None:
        self.path = path
        self.epoch = epoch
        self.names = dict(names or {})
        self.ends = frozenset(ends)
        self.rows = 0
        self.traces = 0
        self._output = TextOutput(path)
        self._handle: IO[str] | None = None
        self._open: dict[str, list[Visit]] = {}
        self._attributes: dict[str, dict[str, object]] = {}

    def __enter__(self) -> XesEventWriter:
        self._handle = self._output.open()
        self._handle.write(HEADER)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if error is None:
                for case in list(self._open):
                    self._flush(case)
                assert self._handle is not None
                self._handle.write(FOOTER)
        except BaseException as failure:
            self._output.close(type(failure), failure, failure.__traceback__)
            raise
        finally:
            self._handle = None
        self._output.close(kind, error, trace)

    def set_case_attributes(self, case: str | int, attributes: Mapping[str, object]) -> None:
        """Attributes written on the case's trace (beside ``concept:name``).

        The seam for case attributes: the process model has none yet; when
        it does, whatever produces the events passes each case's values here
        before the case's trace is written (strings, numbers, booleans, dates).
        """
        if "concept:name" in attributes:
            raise ConfigError("a case attribute cannot be named 'concept:name' (the case id)")
        self._attributes[str(case)] = dict(attributes)

    def write(
        self, case: str, step: str, owner: str | None, start: datetime, end: datetime
    ) -> None:
        """One step visit with calendar timestamps."""
        self._visit(str(case), step, owner, start, end)

    def write_simulated(
        self, case: str | int, step: str, owner: str | None, start: float, end: float
    ) -> None:
        """One step visit with simulation times in seconds from the epoch."""
        self._visit(str(case), step, owner, start, end)

    def _visit(
        self,
        case: str,
        step: str,
        owner: str | None,
        start: float | datetime,
        end: float | datetime,
    ) -> None:
        visits = self._open.get(case)
        if visits is None:
            visits = self._open[case] = []
        visits.append((start, end, self.names.get(step, step), owner))
        self.rows += 1
        if step in self.ends:
            self._flush(case)

    def _moment(self, value: float | datetime) -> str:
        if isinstance(value, datetime):
            return format_timestamp(value)
        return format_timestamp(simulated_instant(self.epoch, value))

    def _flush(self, case: str) -> None:
        """Write one case's trace, its events in time order, and forget the case."""
        visits = self._open.pop(case)
        handle = self._handle
        assert handle is not None
        lines = ["  <trace>\n", f'    <string key="concept:name" value="{xml_value(case)}"/>\n']
        for key, value in self._attributes.pop(case, {}).items():
            lines.append(f"    {typed_attribute(key, value)}\n")
        events: list[tuple[float, int, int, str, str, str | None]] = []
        for order, (start, end, activity, owner) in enumerate(visits):
            events.append((_seconds(start), order, 0, self._moment(start), activity, owner))
            events.append((_seconds(end), order, 1, self._moment(end), activity, owner))
        events.sort(key=lambda event: event[:3])
        for _time, _order, half, stamp, activity, owner in events:
            lines.append("    <event>\n")
            lines.append(f'      <string key="concept:name" value="{xml_value(activity)}"/>\n')
            stage = "complete" if half else "start"
            lines.append(f'      <string key="lifecycle:transition" value="{stage}"/>\n')
            if owner:
                lines.append(f'      <string key="org:resource" value="{xml_value(owner)}"/>\n')
            lines.append(f'      <date key="time:timestamp" value="{stamp}"/>\n')
            lines.append("    </event>\n")
        lines.append("  </trace>\n")
        handle.write("".join(lines))
        self.traces += 1


def _seconds(value: float | datetime) -> float:
    """A key that orders a trace's events by time: seconds, simulated or since 1970."""
    return value.timestamp() if isinstance(value, datetime) else value
