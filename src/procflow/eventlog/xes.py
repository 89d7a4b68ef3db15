"""Reading XES (IEEE 1849) event logs, stream-parsed.

The file is fed to :class:`xml.etree.ElementTree.XMLPullParser` in chunks;
each ``<event>`` is read and removed from the tree as soon as it closes and
each ``<trace>`` as soon as its events are handed on, so memory holds one
trace at a time, never the document.

What is read, per the XES standard extensions: the trace's ``concept:name``
is the case id (``trace-<n>`` when missing); an event's ``concept:name`` is
the activity, ``time:timestamp`` its time, ``org:resource`` who did it and
``lifecycle:transition`` the stage -- ``start`` is paired with the next
``complete`` of the same activity in the trace, other stages are skipped,
no lifecycle means ``complete``. Nested attributes (lists, containers) and
extensions' other attributes are ignored. Namespaced and plain tags both work.

Safety: a document type declaration is refused before parsing starts. DTDs
are where entities are declared, so this rules out entity-expansion bombs
("billion laughs") and external entities outright; XES never needs one.
Files ending in ``.gz`` are decompressed on the fly.

Positions: a syntax error names ``file:line:column`` (expat's, column made
1-based). An event that lacks its activity or time, or whose time cannot be
read, also names the line and column of its ``<event>`` (or of the bad
``time:timestamp`` attribute). The fast parser (ElementTree's C accelerator)
does not expose positions, so they are found only when such an error
occurs: a second, plain expat pass stops at that event
(:func:`locate_event`). The stream parse pays nothing for it.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
import xml.parsers.expat
from collections.abc import Callable, Iterator
from typing import IO

from procflow.errors import EventLogError
from procflow.eventlog.events import COMPLETES, STARTS, Event, LifecyclePairing
from procflow.eventlog.logfile import open_binary
from procflow.eventlog.timestamps import make_parser

CHUNK = 1 << 20
_PROLOG_LIMIT = 1 << 20
_START_TAG = re.compile(rb"<[A-Za-z_]")
_COMMENTS = re.compile(rb"<!--.*?-->|<\?.*?\?>", re.DOTALL)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class XesError(EventLogError):
    """An XES log that cannot be read, at a line and column (both 1-based)."""

    def __init__(self, path: str, message: str, line: int, column: int) -> None:
        super().__init__(path, message, line)
        self.column = column
        Exception.__init__(self, f"{path}:{line}:{column}: {message}")


class XesLog:
    """An XES event log; iterate it for :class:`Event` objects, trace by trace."""

    format = "xes"

    def __init__(self, path: str | os.PathLike[str], *, time_format: str | None = None) -> None:
        self.path = os.fspath(path)
        self.time_format = time_format
        self.skipped = 0
        self.unpaired_starts = 0
        self.traces = 0

    def __iter__(self) -> Iterator[Event]:
        with open_binary(self.path) as handle:
            yield from self._events(handle)

    def _fail(self, message: str, line: int | None = None) -> EventLogError:
        return EventLogError(self.path, message, line)

    def _fail_at(
        self, message: str, trace: int, event: int | None, key: str | None = None
    ) -> EventLogError:
        """An error about the ``event``-th event of the ``trace``-th trace (1-based), positioned
        at its attribute ``key`` or at its start tag (the root element when ``trace`` is 0)."""
        position = locate_event(self.path, trace, event, key)
        if position is None:  # pragma: no cover - the first pass saw the element
            return self._fail(message)
        return XesError(self.path, message, *position)

    def _chunks(self, handle: IO[bytes]) -> Iterator[bytes]:
        """The file in chunks, after checking the prolog holds no DOCTYPE."""
        try:
            head = handle.read(CHUNK)
        except (OSError, EOFError) as exc:
            raise self._fail(f"cannot be read: {exc}") from None
        if not head.strip():
            raise self._fail("empty file: an XES log needs a <log> element", 1)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise self._fail("UTF-16 XES is not supported: save the log as UTF-8", 1)
        prolog = head
        while _START_TAG.search(_COMMENTS.sub(b"", prolog)) is None and len(prolog) < _PROLOG_LIMIT:
            more = handle.read(CHUNK)
            if not more:
                break
            prolog += more
        cleaned = _COMMENTS.sub(b"", prolog)
        root = _START_TAG.search(cleaned)
        before = (cleaned if root is None else cleaned[: root.start()]).upper()
        if b"<!DOCTYPE" in before or b"<!ENTITY" in before:
            marker = prolog.upper().find(b"<!DOCTYPE")
            line = prolog[: max(marker, 0)].count(b"\n") + 1
            raise self._fail(
                "refusing a document type declaration (<!DOCTYPE ...>): XES needs none, and "
                "DTD entities can expand without bound",
                line,
            )
        if root is None:
            raise self._fail("no root element found: this is not an XES log", None)
        yield prolog
        while True:
            try:
                chunk = handle.read(CHUNK)
            except (OSError, EOFError) as exc:
                raise self._fail(f"cannot be read: {exc}") from None
            if not chunk:
                return
            yield chunk

    def _events(self, handle: IO[bytes]) -> Iterator[Event]:
        parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
        parse = make_parser(self.time_format)
        self.skipped = 0
        self.unpaired_starts = 0
        self.traces = 0
        stack: list[ET.Element] = []
        trace: ET.Element | None = None
        raw: list[tuple[str | None, str | None, str | None, str | None]] = []
        saw_log = False
        emitted = 0
        try:
            for chunk in self._chunks(handle):
                parser.feed(chunk)
                for kind, element in parser.read_events():  # type: ignore[misc]
                    assert isinstance(element, ET.Element)
                    name = _local(element.tag)
                    if kind == "start":
                        if not stack:
                            if name != "log":
                                raise self._fail_at(
                                    f"the root element is <{name}>, not <log>: not an XES log",
                                    0,
                                    None,
                                )
                            saw_log = True
                        if name == "trace" and len(stack) == 1:
                            trace = element
                            raw = []
                            self.traces += 1
                        stack.append(element)
                        continue
                    stack.pop()
                    if name == "event" and trace is not None and len(stack) == 2:
                        raw.append(_event_attributes(element))
                        trace.remove(element)
                    elif name == "trace" and element is trace:
                        events = self._trace_events(trace, raw, parse)
                        emitted += len(events)
                        yield from events
                        stack[0].remove(trace)
                        trace = None
                        raw = []
            parser.close()
        except ET.ParseError as exc:
            message = f"not valid XML: {_parse_message(exc)}"
            position = getattr(exc, "position", None)
            if not position:  # pragma: no cover - expat always gives one
                raise self._fail(message) from None
            line, column = position
            raise XesError(self.path, message, line, column + 1) from None
        if not saw_log:
            raise self._fail("no <log> element: not an XES log")
        if emitted == 0:
            raise self._fail("the log has no events")

    def _trace_events(
        self,
        trace: ET.Element,
        raw: list[tuple[str | None, str | None, str | None, str | None]],
        parse: Callable[[str], float],
    ) -> list[Event]:
        case = None
        for child in trace:
            if _local(child.tag) != "event" and child.get("key") == "concept:name":
                case = child.get("value")
                break
        if not case:
            case = f"trace-{self.traces}"
        pairing = LifecyclePairing()
        events: list[Event] = []
        for number, (activity, stamp, stage, resource) in enumerate(raw, start=1):
            where = f"trace {case!r}, event {number}"
            if not activity:
                raise self._fail_at(f"{where}: no concept:name (the activity)", self.traces, number)
            if not stamp:
                raise self._fail_at(
                    f"{where} ({activity!r}): no time:timestamp", self.traces, number
                )
            try:
                moment = parse(stamp)
            except ValueError as exc:
                raise self._fail_at(
                    f"{where} ({activity!r}): {exc}", self.traces, number, "time:timestamp"
                ) from None
            stage = (stage or "complete").strip().lower()
            if stage in STARTS:
                pairing.start(case, activity, moment)
                continue
            if stage not in COMPLETES:
                self.skipped += 1
                continue
            start = pairing.complete(case, activity)
            events.append(Event(case, activity, moment, start, resource or None, number))
        self.unpaired_starts += pairing.open_count
        return events


def _event_attributes(
    element: ET.Element,
) -> tuple[str | None, str | None, str | None, str | None]:
    """``(concept:name, time:timestamp, lifecycle:transition, org:resource)`` of an event."""
    activity = stamp = stage = resource = None
    for child in element:
        key = child.get("key")
        if key == "concept:name":
            activity = child.get("value")
        elif key == "time:timestamp":
            stamp = child.get("value")
        elif key == "lifecycle:transition":
            stage = child.get("value")
        elif key == "org:resource":
            resource = child.get("value")
    return activity, stamp, stage, resource


def _parse_message(exc: ET.ParseError) -> str:
    text = str(exc)
    return text.split(": line", 1)[0] if ": line" in text else text


class _Found(Exception):
    """Stops :func:`locate_event`'s parse once the element is reached."""


def locate_event(
    path: str, trace: int, event: int | None, key: str | None = None
) -> tuple[int, int] | None:
    """``(line, column)``, 1-based, of an element of an XES file, or None if absent.

    The ``event``-th ``<event>`` of the ``trace``-th ``<trace>`` (both 1-based, in
    document order), or that event's child attribute whose ``key`` is ``key`` (its
    start tag when there is none), or the root element when ``trace`` is 0. Only
    called on the error path, after the stream parse has refused a document type
    declaration, so this plain expat pass expands no entity.
    """
    parser = xml.parsers.expat.ParserCreate()
    depth = traces = events = 0
    at_event: tuple[int, int] | None = None
    found: list[tuple[int, int]] = []

    def here() -> tuple[int, int]:
        return parser.CurrentLineNumber, parser.CurrentColumnNumber + 1

    def start(tag: str, attributes: dict[str, str]) -> None:
        nonlocal depth, traces, events, at_event
        depth += 1
        name = tag.rpartition(":")[2]
        if trace == 0 and depth == 1:
            found.append(here())
        elif depth == 2 and name == "trace":
            traces += 1
            events = 0
        elif depth == 3 and name == "event" and traces == trace:
            events += 1
            if events == event:
                at_event = here()
                if key is None:
                    found.append(at_event)
        elif depth == 4 and at_event is not None and attributes.get("key") == key:
            found.append(here())
        if found:
            raise _Found

    def end(tag: str) -> None:
        nonlocal depth, at_event
        if depth == 3 and at_event is not None:  # the event closes without the key
            found.append(at_event)
            raise _Found
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with open_binary(path) as handle:
            while chunk := handle.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (_Found, xml.parsers.expat.ExpatError, OSError, EOFError):
        pass
    return found[0] if found else None
