"""Reading XES (IEEE 1849) event logs, stream-parsed, with defusedxml.

The file is fed in chunks to defusedxml's SAX parser (expat underneath);
no tree is built. Of each ``<event>`` only the four attributes procflow
uses are kept, and each trace's events are handed on when the trace closes,
so memory holds one trace's events at a time, never the document, and
nothing of what is nested inside attributes (lists, containers).

What is read, per the XES standard extensions: the trace's ``concept:name``
is the case id (``trace-<n>`` when missing, ``<name>#2`` for a second trace
of the same name: a trace is a case); an event's ``concept:name`` is
the activity, ``time:timestamp`` its time, ``org:resource`` who did it
(``__INVALID__``, OpenXES's "no value", is no resource) and
``lifecycle:transition`` the stage -- ``start`` is paired with the next
``complete`` of the same activity in the trace, other stages are skipped,
no lifecycle means ``complete``. An event with a ``start_timestamp``
attribute (pm4py's interval logs: one event per activity that carries both
times) began then. Nested attributes (lists, containers) and
extensions' other attributes are ignored. Namespaced and plain tags both work.

Trace attributes (docs/event-logs.md): a log opened with ``attributes=``
names keeps, per trace, the typed trace-level attributes with those keys
(``<string>``, ``<int>``, ``<float>``, ``<boolean>``, ``<date>``, ``<id>``)
as ``(type, text)`` in :attr:`XesLog.case_attributes`, filled while the log
is iterated (the first value of a key counts). That is how ``simulate``
writes case attributes and how real logs carry a ticket's priority or a
claim's amount. Only the asked keys are kept, so memory grows with cases
times asked attributes, not with the document.

Safety: ``defusedxml`` refuses a document type declaration wherever it
appears (before the root, after comments of any length), and with it every
entity declaration and external reference: no entity-expansion bomb
("billion laughs"), no reading of local files; XES never needs a DTD.
Elements nested deeper than :data:`MAX_DEPTH` are refused as soon as the
parser reaches them (XES attributes nest a few levels; a million nested
``<list>`` elements are an attack on memory, not a log). Files ending in
``.gz`` are decompressed on the fly.

Positions: every error names ``file:line:column`` (1-based): a syntax
error, a refused DTD, an element nested too deep, an event that lacks its
activity or time (its ``<event>`` tag) or whose time cannot be read (its
``time:timestamp`` attribute).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator
from typing import IO
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, Locator

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.expatreader import DefusedExpatParser

from procflow.errors import EventLogError
from procflow.eventlog.events import COMPLETES, STARTS, Event, LifecyclePairing, no_completed
from procflow.eventlog.logfile import open_binary
from procflow.eventlog.timestamps import FIRST_SECONDS, LAST_SECONDS, OUTSIDE, make_parser

CHUNK = 1 << 20
NO_VALUE = "__INVALID__"
"""What ProM and the XES tools built on OpenXES write for an attribute an event does
not have (the default of a global declaration): an ``org:resource`` of this value
is no resource -- a time-out or a system step -- not a person called that."""
TYPES = frozenset({"string", "int", "float", "boolean", "date", "id"})
"""The XES attribute types whose value a trace attribute is read as (not lists, containers)."""
MAX_DEPTH = 64
"""Deepest element nesting read (``<log>`` is 1, an event's attribute 4)."""


def _local(tag: str) -> str:
    return tag.rpartition(":")[2]


class XesError(EventLogError):
    """An XES log that cannot be read, at a line and column (both 1-based)."""

    def __init__(self, path: str, message: str, line: int, column: int) -> None:
        super().__init__(path, message, line)
        self.column = column
        Exception.__init__(self, f"{path}:{line}:{column}: {message}")


class _RawEvent:
    """What one ``<event>`` says, and where its tag and its timestamp are."""

    __slots__ = ("activity", "at", "begun", "begun_at", "resource", "stage", "stamp", "stamp_at")

    def __init__(self, at: tuple[int, int]) -> None:
        self.at = at
        self.activity: str | None = None
        self.stamp: str | None = None
        self.stage: str | None = None
        self.resource: str | None = None
        self.stamp_at = at
        self.begun: str | None = None
        self.begun_at = at


class _Handler(ContentHandler):
    """Turns parse events into finished traces: ``(case, [raw events])`` in :attr:`ready`."""

    def __init__(self, log: XesLog) -> None:
        super().__init__()
        self.log = log
        self.locator: Locator | None = None
        self.depth = 0
        self.saw_log = False
        self.in_trace = False
        self.case: str | None = None
        self.events: list[_RawEvent] = []
        self.event: _RawEvent | None = None
        self.ready: list[tuple[str | None, list[_RawEvent]]] = []
        self.wanted = log.attributes
        self.values: dict[str, tuple[str, str]] = {}
        """The current trace's kept attributes: key -> (type, text)."""
        self.named: dict[str, int] = {}
        """Traces handed on so far per case name (:meth:`distinct`)."""

    def setDocumentLocator(self, locator: Locator) -> None:
        self.locator = locator

    def here(self) -> tuple[int, int]:
        locator = self.locator
        if locator is None:  # pragma: no cover - expat always sets one
            return 1, 1
        return locator.getLineNumber() or 1, (locator.getColumnNumber() or 0) + 1

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        depth = self.depth = self.depth + 1
        if depth == 4:
            event = self.event
            if event is not None:
                key = attrs.get("key")
                if key == "concept:name":
                    event.activity = attrs.get("value")
                elif key == "time:timestamp":
                    event.stamp = attrs.get("value")
                    event.stamp_at = self.here()
                elif key == "lifecycle:transition":
                    event.stage = attrs.get("value")
                elif key == "org:resource":
                    event.resource = attrs.get("value")
                elif key == "start_timestamp":
                    event.begun = attrs.get("value")
                    event.begun_at = self.here()
            return
        if depth == 3:
            if self.in_trace:
                if _local(name) == "event":
                    self.event = _RawEvent(self.here())
                elif self.case is None and attrs.get("key") == "concept:name":
                    self.case = attrs.get("value")
                elif self.wanted:
                    self.keep(name, attrs)
            return
        if depth == 2:
            if _local(name) == "trace":
                self.in_trace = True
                self.case = None
                self.events = []
                self.values = {}
                self.log.traces += 1
            return
        if depth == 1:
            if _local(name) != "log":
                raise XesError(
                    self.log.path,
                    f"the root element is <{name}>, not <log>: not an XES log",
                    *self.here(),
                )
            self.saw_log = True
            return
        if depth > MAX_DEPTH:
            raise XesError(
                self.log.path,
                f"elements nested more than {MAX_DEPTH} deep: XES attributes nest a few "
                "levels, this is not a log procflow reads",
                *self.here(),
            )

    def keep(self, name: str, attrs: AttributesImpl) -> None:
        """A trace-level attribute: kept when its key is asked for (first value counts)."""
        key, kind = attrs.get("key"), _local(name)
        if key in self.wanted and key not in self.values and kind in TYPES:
            value = attrs.get("value")
            if value is not None:
                self.values[key] = (kind, value)

    def distinct(self, case: str) -> str:
        """``case``, or ``case#2``, ``case#3``... when an earlier trace had that name.

        A trace is a case: two traces that share a ``concept:name`` (a defect of
        the exporting tool) stay two cases rather than merging their events into
        one; the log counts them (:attr:`XesLog.renamed_traces`).
        """
        named = self.named
        times = named.get(case, 0)
        named[case] = times + 1
        if not times:
            return case
        self.log.renamed_traces += 1
        number = times + 1
        while f"{case}#{number}" in named:
            number += 1
        renamed = f"{case}#{number}"
        named[renamed] = 1
        return renamed

    def endElement(self, name: str) -> None:
        depth = self.depth
        self.depth = depth - 1
        if depth == 3 and self.event is not None:
            self.events.append(self.event)
            self.event = None
        elif depth == 2 and self.in_trace:
            case = self.case or f"trace-{self.log.traces}"  # its number now, not at hand-on
            case = self.distinct(case)
            self.ready.append((case, self.events))
            if self.values:
                self.log.case_attributes[case] = self.values
            self.in_trace = False
            self.events = []


class XesLog:
    """An XES event log; iterate it for :class:`Event` objects, trace by trace."""

    format = "xes"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        time_format: str | None = None,
        attributes: Collection[str] = (),
    ) -> None:
        self.path = os.fspath(path)
        self.time_format = time_format
        self.attributes = frozenset(attributes)
        """The trace attribute keys to keep (module docstring)."""
        self.case_attributes: dict[str, dict[str, tuple[str, str]]] = {}
        """Per case: the kept trace attributes, key -> ``(XES type, value text)``."""
        self.skipped = 0
        self.unpaired_starts = 0
        self.traces = 0
        self.renamed_traces = 0
        """Traces read under a new name on the last pass: their ``concept:name`` was an
        earlier trace's (``case#2``, ...)."""

    def __iter__(self) -> Iterator[Event]:
        with open_binary(self.path) as handle:
            yield from self._events(handle)

    def _fail(self, message: str, line: int | None = None) -> EventLogError:
        return EventLogError(self.path, message, line)

    def _chunks(self, handle: IO[bytes]) -> Iterator[bytes]:
        """The file in chunks, after the checks an XML parser would word badly."""
        try:
            head = handle.read(CHUNK)
        except (OSError, EOFError) as exc:
            raise self._fail(f"cannot be read: {exc}") from None
        if not head.strip():
            raise self._fail("empty file: an XES log needs a <log> element", 1)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise self._fail("UTF-16 XES is not supported: save the log as UTF-8", 1)
        yield head
        while True:
            try:
                chunk = handle.read(CHUNK)
            except (OSError, EOFError) as exc:
                raise self._fail(f"cannot be read: {exc}") from None
            if not chunk:
                return
            yield chunk

    def _events(self, handle: IO[bytes]) -> Iterator[Event]:
        parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
        handler = _Handler(self)
        parser.setContentHandler(handler)
        handler.setDocumentLocator(parser)  # the parser is its own locator (feed() sets none)
        parse = make_parser(self.time_format)
        self.skipped = 0
        self.unpaired_starts = 0
        self.traces = 0
        self.renamed_traces = 0
        self.case_attributes = {}
        emitted = read = 0
        try:
            for chunk in self._chunks(handle):
                self._feed(parser, chunk)
                for case, raw in handler.ready:
                    read += len(raw)
                    events = self._trace_events(case, raw, parse)
                    emitted += len(events)
                    yield from events
                handler.ready.clear()
            self._feed(parser, None)
        except SAXParseException as exc:
            line, column = exc.getLineNumber() or 1, (exc.getColumnNumber() or 0) + 1
            raise XesError(self.path, f"not valid XML: {exc.getMessage()}", line, column) from None
        except DefusedXmlException as exc:
            raise XesError(self.path, _refusal(exc), *handler.here()) from None
        if not handler.saw_log:
            raise self._fail("no <log> element: not an XES log")
        if emitted == 0 and read:
            raise self._fail(no_completed(read, self.unpaired_starts, self.skipped, "events"))
        if emitted == 0:
            raise self._fail("the log has no events")

    def _feed(self, parser: DefusedExpatParser, chunk: bytes | None) -> None:
        """Feed ``chunk`` to ``parser`` (``None``: close it); an encoding it cannot decode,
        as the XML declaration names it (``utf-32``, ``x-unknown``), is an :class:`XesError`."""
        try:
            if chunk is None:
                parser.close()
            else:
                parser.feed(chunk)
        except (DefusedXmlException, SAXParseException):
            raise
        except (LookupError, ValueError) as exc:  # the codec expat was told to use
            raise XesError(
                self.path,
                f"the XML declaration names an encoding procflow cannot read ({exc}): "
                "save the log as UTF-8",
                1,
                1,
            ) from None

    def _trace_events(
        self, case: str | None, raw: list[_RawEvent], parse: Callable[[str], float]
    ) -> list[Event]:
        if not case:
            case = f"trace-{self.traces}"
        pairing = LifecyclePairing()
        events: list[Event] = []
        for number, item in enumerate(raw, start=1):
            activity, stamp = item.activity, item.stamp
            where = f"trace {case!r}, event {number}"
            if not activity:
                raise XesError(self.path, f"{where}: no concept:name (the activity)", *item.at)
            if not stamp:
                raise XesError(self.path, f"{where} ({activity!r}): no time:timestamp", *item.at)
            try:
                moment = parse(stamp)
            except ValueError as exc:
                raise XesError(
                    self.path, f"{where} ({activity!r}): {exc}", *item.stamp_at
                ) from None
            if not FIRST_SECONDS <= moment <= LAST_SECONDS:
                raise XesError(
                    self.path, f"{where} ({activity!r}): {stamp[:40]!r} {OUTSIDE}", *item.stamp_at
                )
            stage = (item.stage or "complete").strip().lower()
            if stage in STARTS:
                pairing.start(case, activity, moment)
                continue
            if stage not in COMPLETES:
                self.skipped += 1
                continue
            start = pairing.complete(case, activity)
            if item.begun:  # an interval log: the event says when the activity began
                try:
                    start = parse(item.begun)
                except ValueError as exc:
                    raise XesError(
                        self.path, f"{where} ({activity!r}): start_timestamp: {exc}", *item.begun_at
                    ) from None
            resource = item.resource if item.resource != NO_VALUE else None
            events.append(Event(case, activity, moment, start, resource or None, number))
        self.unpaired_starts += pairing.open_count
        return events


def _refusal(exc: DefusedXmlException) -> str:
    """What a refused DTD, entity or external reference is called in the message."""
    if isinstance(exc, DTDForbidden):
        what = "a document type declaration (<!DOCTYPE ...>)"
    elif isinstance(exc, EntitiesForbidden):
        what = "an entity declaration (<!ENTITY ...>)"
    else:
        what = "an external reference"
    return f"refusing {what}: XES needs none, and DTD entities can expand without bound"
