"""Reading CSV event logs, streamed row by row.

The file is never read whole: :class:`CsvLog` yields one :class:`Event` per
completed activity while the ``csv`` module walks the file, so a log of any
size passes through in constant memory (only lifecycle ``start`` rows
waiting for their ``complete`` are held). Iterating twice reads the file
twice.

Layout (see :mod:`procflow.eventlog.columns` for how columns are found):

* one row per activity with ``start`` and/or ``end`` timestamps -- a row
  with only a start column is an instant at that time; or
* one row per lifecycle transition when there is a ``lifecycle:transition``
  column: ``start`` rows are paired with the next ``complete`` row of the
  same case and activity; other transitions (``schedule``, ``suspend``...)
  are skipped. An empty lifecycle means ``complete``.

The delimiter is the most frequent of ``,`` ``;`` tab and ``|`` in the header
line unless given. Files ending in ``.gz`` are decompressed on the fly.
Every problem is an :class:`~procflow.errors.EventLogError` naming the file
and the line (``csv`` line numbers count physical lines, so they match an
editor even when a quoted field spans lines).
"""

from __future__ import annotations

import csv
import gzip
import os
from collections.abc import Callable, Iterator
from typing import IO

from procflow.errors import EventLogError, FileAccessError
from procflow.eventlog.columns import ColumnIndex, Columns, resolve
from procflow.eventlog.events import COMPLETES, STARTS, Event, LifecyclePairing
from procflow.eventlog.timestamps import make_parser

DELIMITERS = (",", ";", "\t", "|")


def open_text(path: str) -> IO[str]:
    """Open a log for reading as UTF-8 text (``.gz`` transparently); FileAccessError if not."""
    if os.path.isdir(path):
        raise FileAccessError(path, "is a directory, not a file")
    try:
        if path.endswith(".gz"):
            return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
        return open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise FileAccessError(path, "no such file") from None
    except OSError as exc:
        raise FileAccessError(path, exc.strerror or "cannot be read") from None


def sniff_delimiter(line: str) -> str:
    """The most frequent candidate delimiter in a header line (``,`` on a tie or none)."""
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


class CsvLog:
    """A CSV event log; iterate it for :class:`Event` objects in file order."""

    format = "csv"

    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: Columns | None = None,
        *,
        delimiter: str | None = None,
        time_format: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.columns = columns or Columns()
        self.delimiter = delimiter
        self.time_format = time_format
        self.index: ColumnIndex | None = None
        self.skipped = 0
        """Rows skipped on the last pass (lifecycle transitions other than start/complete)."""
        self.unpaired_starts = 0
        """``start`` rows never completed on the last pass."""

    def __iter__(self) -> Iterator[Event]:
        handle = open_text(self.path)
        try:
            yield from self._events(handle)
        finally:
            handle.close()

    def _fail(self, message: str, line: int | None) -> EventLogError:
        return EventLogError(self.path, message, line)

    def _not_utf8(self) -> EventLogError:
        """Find the first line that is not UTF-8 (text decoding reads ahead, so re-scan)."""
        opener = gzip.open if self.path.endswith(".gz") else open
        with opener(self.path, "rb") as raw:
            for number, data in enumerate(raw, start=1):
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return self._fail(
                        f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column "
                        f"{exc.start + 1}); save the log as UTF-8",
                        number,
                    )
        return self._fail("not UTF-8 text; save the log as UTF-8", None)

    def _events(self, handle: IO[str]) -> Iterator[Event]:
        path = self.path
        try:
            first = handle.readline()
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        except (OSError, EOFError) as exc:
            raise self._fail(f"cannot be read: {exc}", 1) from None
        if not first.strip():
            raise self._fail("empty file: an event log needs a header row naming its columns", 1)
        delimiter = self.delimiter or sniff_delimiter(first)
        header = next(csv.reader([first], delimiter=delimiter), [])
        index = resolve(header, self.columns, path, 1)
        self.index = index
        reader = csv.reader(handle, delimiter=delimiter)
        parse = make_parser(self.time_format)
        pairing = LifecyclePairing()
        self.skipped = 0
        ci, ai, si, ei, ri, li = (
            index.case,
            index.activity,
            index.start,
            index.end,
            index.resource,
            index.lifecycle,
        )
        width = len(header)
        needed = max(i for i in (ci, ai, si, ei, ri, li) if i is not None) + 1
        rows = 0
        line = 1
        try:
            for row in reader:
                line = reader.line_num + 1  # +1: the header was read before the reader started
                if len(row) < needed:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # a blank line
                    raise self._fail(
                        f"has {len(row)} field{'s' if len(row) != 1 else ''} but the header has "
                        f"{width} (is the delimiter {delimiter!r} right?)",
                        line,
                    )
                case = row[ci]
                activity = row[ai]
                if not case:
                    raise self._fail(f"empty case id in column {index.name('case')!r}", line)
                if not activity:
                    raise self._fail(f"empty activity in column {index.name('activity')!r}", line)
                if li is not None:
                    stage = row[li].strip().lower()
                    if stage in STARTS:
                        moment = _time(parse, row, ei if ei is not None else si, index, line, path)
                        assert moment is not None
                        pairing.start(case, activity, moment)
                        continue
                    if stage and stage not in COMPLETES:
                        self.skipped += 1
                        continue
                start = _time(parse, row, si, index, line, path) if si is not None else None
                if ei is not None:
                    end = _time(parse, row, ei, index, line, path)
                    assert end is not None
                else:
                    assert start is not None
                    end, start = start, None
                if li is not None:
                    paired = pairing.complete(case, activity)
                    if paired is not None and start is None:
                        start = paired
                if start is not None and start > end:
                    assert si is not None
                    shown_end = row[ei] if ei is not None else ""
                    raise self._fail(
                        f"activity {activity!r} of case {case!r} starts after it ends "
                        f"({row[si]} > {shown_end})",
                        line,
                    )
                resource = row[ri] if ri is not None else None
                rows += 1
                yield Event(case, activity, end, start, resource or None, line)
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        except csv.Error as exc:
            raise self._fail(f"not valid CSV: {exc}", reader.line_num + 1) from None
        self.unpaired_starts = pairing.open_count
        if rows == 0:
            raise self._fail("the log has no events (only a header row)", 2)


def _time(
    parse: Callable[[str], float],
    row: list[str],
    column: int | None,
    index: ColumnIndex,
    line: int,
    path: str,
) -> float | None:
    """The timestamp in ``row[column]``; ``None`` for an empty start, an error otherwise."""
    if column is None:
        return None
    text = row[column]
    if not text:
        if column == index.start and index.end is not None:
            return None
        raise EventLogError(path, f"empty timestamp in column {index.names[column]!r}", line)
    try:
        return parse(text)
    except ValueError as exc:
        raise EventLogError(path, f"column {index.names[column]!r}: {exc}", line) from None
