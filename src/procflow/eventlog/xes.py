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
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
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
                                raise self._fail(
                                    f"the root element is <{name}>, not <log>: not an XES log"
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
            line = exc.position[0] if getattr(exc, "position", None) else None
            raise self._fail(f"not valid XML: {_parse_message(exc)}", line) from None
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
                raise self._fail(f"{where}: no concept:name (the activity)")
            if not stamp:
                raise self._fail(f"{where} ({activity!r}): no time:timestamp")
            try:
                moment = parse(stamp)
            except ValueError as exc:
                raise self._fail(f"{where} ({activity!r}): {exc}") from None
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
