"""Reading CSV event logs, streamed a chunk at a time.

The file is never read whole: :class:`CsvLog` reads about half a megabyte
of text at a time (always whole lines), turns it into columns and hands a
:class:`~procflow.eventlog.batch.Batch` on before reading the next, so a log
of any size passes through in constant memory (only lifecycle ``start``
rows waiting for their ``complete`` are held). Iterating yields
:class:`Event` objects; iterating twice reads the file twice.

Two ways to split a chunk into fields: a chunk without a quote character
(most exports) in which every line has as many fields as the header is a
:class:`~procflow.eventlog.plaincsv.PlainChunk`, split with numpy on its
bytes -- timestamps decoded straight from them, case ids, activities and
resources factorised so that only their distinct values become strings; a
chunk with quotes (or ragged or blank lines) goes through the ``csv``
module, which knows quoted delimiters and line breaks. Both give the same
result.

Layout (see :mod:`procflow.eventlog.columns` for how columns are found):

* one row per activity with ``start`` and/or ``end`` timestamps -- a row
  with only a start column is an instant at that time; or
* one row per lifecycle transition when there is a ``lifecycle:transition``
  column: ``start`` rows are paired with the next ``complete`` row of the
  same case and activity; other transitions (``schedule``, ``suspend``...)
  are skipped. An empty lifecycle means ``complete``.

The delimiter is the most frequent of ``,`` ``;`` tab and ``|`` in the header
line unless given, or the one a first line ``sep=;`` names (Excel's hint).
Files ending in ``.gz`` are decompressed on the fly.
Case ids, activities and resources that a writer protected from
spreadsheets (``'=SUM(A1)``: a ``'`` before ``=`` ``+`` ``-`` ``@``, tab or
carriage return, see :func:`~procflow.eventlog.writer.protect_cell`) are read
without that one ``'``, so procflow's own logs read back exactly.
Every problem is an :class:`~procflow.errors.EventLogError` naming the file
and the line (physical lines, so they match an editor even when a quoted
field spans lines).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import IO, Protocol

import numpy as np

from procflow.errors import EventLogError
from procflow.eventlog.batch import Batch, Labels, distinct
from procflow.eventlog.columns import ColumnIndex, Columns, resolve
from procflow.eventlog.events import COMPLETES, STARTS, Event, LifecyclePairing, no_completed
from procflow.eventlog.logfile import open_binary, open_text
from procflow.eventlog.plaincsv import PlainChunk
from procflow.eventlog.timestamps import (
    OUTSIDE,
    TimestampError,
    first_outside,
    make_parser,
    parse_many,
)
from procflow.eventlog.writer import unprotect_cell

DELIMITERS = (",", ";", "\t", "|")
CHUNK_CHARS = 1 << 19
"""Characters read at a time (whole lines are kept together: about 6,000 rows)."""
CARRY_LIMIT = 1 << 22
"""Characters held at most while looking for the end of a row by counting quotes."""


SEP_HINT = re.compile(r"sep=(.)\r?\n?$")
"""Excel's first line naming the delimiter (``sep=;``), before the header."""


def sniff_delimiter(line: str) -> str:
    """The most frequent candidate delimiter in a header line (``,`` on a tie or none)."""
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _line_breaks(text: str) -> int:
    r"""Line ends in ``text``: ``\n``, ``\r\n`` or a lone ``\r``, as ``csv`` counts them."""
    breaks = text.count("\n")
    if "\r" in text:
        breaks += text.count("\r") - text.count("\r\n")
    return breaks


@dataclass
class Chunk:
    """Whole lines of a log: their text and the line the first one is on.

    ``breaks``, the number of line breaks in ``text``, is set by whoever
    already knows it (a plain chunk has one row a line), else counted.
    """

    text: str
    line: int
    breaks: int | None = None


class Table(Protocol):
    """The columns of one chunk (a :class:`~.plaincsv.PlainChunk` or a :class:`RowTable`)."""

    def texts(self, column: int) -> Sequence[str]: ...

    def labels(self, column: int) -> Sequence[str]:
        """A text column for the replay (:class:`~procflow.eventlog.batch.Labels` when cheap)."""
        ...

    def times(self, column: int) -> np.ndarray | None:
        """Seconds when the column can be decoded in bulk, else ``None`` (parse the texts)."""
        ...


class RowTable:
    """Columns of rows the ``csv`` module read (quoted, ragged or blank lines)."""

    def __init__(self, columns: list[list[str]]) -> None:
        self.columns = columns

    def texts(self, column: int) -> list[str]:
        return self.columns[column]

    labels = texts

    def times(self, column: int) -> None:
        return None


def _take(column: Sequence[str], rows: np.ndarray) -> Sequence[str]:
    """The texts of ``column`` at ``rows`` (a :class:`Labels` stays one)."""
    if isinstance(column, Labels):  # only the names still used, in order of first appearance
        codes = column.codes[rows]
        used, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        names = [column.names[int(code)] for code in used[order]]
        return Labels(names, rank[inverse].astype(np.int64))
    return [column[i] for i in rows.tolist()]


def unprotected(column: Sequence[str]) -> Sequence[str]:
    """``column`` with :func:`~procflow.eventlog.writer.unprotect_cell` applied to each text.

    A :class:`Labels` column is changed in its distinct names only (unless two
    of them become one, then it is a list); an unaffected column is returned as is.
    """
    if isinstance(column, Labels):
        if not any(name[:1] == "'" for name in column.names):
            return column
        names = [unprotect_cell(name) for name in column.names]
        if len(set(names)) == len(names):
            return Labels(names, column.codes)
        return [names[code] for code in column.codes.tolist()]
    if not any(text[:1] == "'" for text in column):
        return column
    return [unprotect_cell(text) for text in column]


class CsvLog:
    """A CSV event log; iterate it for :class:`Event` objects, or :meth:`batches`."""

    format = "csv"

    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: Columns | None = None,
        *,
        delimiter: str | None = None,
        time_format: str | None = None,
        chunk_chars: int = CHUNK_CHARS,
    ) -> None:
        self.path = os.fspath(path)
        self.columns = columns or Columns()
        self.delimiter = delimiter
        self.time_format = time_format
        self.chunk_chars = chunk_chars
        self.index: ColumnIndex | None = None
        self.header_line = 1
        """The header's line: 2 after Excel's ``sep=`` line."""
        self.skipped = 0
        """Rows skipped on the last pass (lifecycle transitions other than start/complete)."""
        self.unpaired_starts = 0
        """``start`` rows never completed on the last pass (and rows with a start time
        but no end: activities still running when the log was extracted)."""
        self.running = 0

    def __iter__(self) -> Iterator[Event]:
        for batch in self.batches():
            yield from batch.events()

    def batches(self) -> Iterator[Batch]:
        """The log as :class:`Batch` columns, in file order."""
        with open_text(self.path) as handle:
            yield from self._batches(handle)

    def _fail(self, message: str, line: int | None) -> EventLogError:
        return EventLogError(self.path, message, line)

    def _not_utf8(self) -> EventLogError:
        """Find the first line that is not UTF-8 (text decoding reads ahead, so re-scan)."""
        with open_binary(self.path) as raw:
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

    # -- reading ---------------------------------------------------------------

    def _header(self, handle: IO[str]) -> tuple[str, list[str]]:
        """The delimiter and the header row; :attr:`header_line` says which line it is."""
        self.header_line = 1
        try:
            first = handle.readline()
            hint = SEP_HINT.match(first)
            if hint is not None:  # Excel's `sep=;` line: the delimiter, then the header
                self.header_line = 2
                first = handle.readline()
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        except (OSError, EOFError) as exc:
            raise self._fail(f"cannot be read: {exc}", 1) from None
        line = self.header_line
        if not first.strip():
            raise self._fail("empty file: an event log needs a header row naming its columns", line)
        delimiter = self.delimiter or (hint.group(1) if hint else sniff_delimiter(first))
        try:
            header = next(csv.reader([first], delimiter=delimiter, strict=True), [])
        except csv.Error as exc:
            raise self._fail(f"not valid CSV: {exc}", line) from None
        return delimiter, header

    def _batches(self, handle: IO[str]) -> Iterator[Batch]:
        delimiter, header = self._header(handle)
        index = resolve(header, self.columns, self.path, self.header_line)
        self.index = index
        pairing = LifecyclePairing()
        self.skipped = 0
        self.unpaired_starts = 0
        self.running = 0
        width = len(header)
        used = [i for i in (index.case, index.activity, index.start, index.end,
                            index.resource, index.lifecycle) if i is not None]  # fmt: skip
        needed = max(used) + 1
        total = rows = 0
        for chunk in self._chunks(handle, delimiter):
            table, lines = self._split(chunk, delimiter, width, needed)
            if not lines.size:
                continue
            rows += int(lines.size)
            batch = self._columns(table, lines, index, pairing)
            if len(batch):
                total += len(batch)
                yield batch
        self.unpaired_starts = pairing.open_count + self.running
        if total == 0 and rows:
            raise self._fail(
                no_completed(rows, pairing.open_count + self.running, self.skipped),
                self.header_line + 1,
            )
        if total == 0:
            raise self._fail("the log has no events (only a header row)", self.header_line + 1)

    def _chunks(self, handle: IO[str], delimiter: str) -> Iterator[Chunk]:
        """Text of whole lines (and whole quoted fields), with the line number it starts on.

        A chunk ends at the last line break of what was read, unless that
        break is inside a quoted field (an odd number of quotes before it):
        then more is read. A quote in an unquoted field (``27" monitor``)
        or a file with only ``\\r`` line ends would have that go on to the end
        of the file; past :data:`CARRY_LIMIT` characters the rows are found
        exactly (:meth:`_row_end`), so memory stays bounded.
        """
        carry = ""
        line = self.header_line + 1
        limit = max(CARRY_LIMIT, 2 * self.chunk_chars)
        while True:
            try:
                block = handle.read(self.chunk_chars)
            except UnicodeDecodeError:
                raise self._not_utf8() from None
            except (OSError, EOFError) as exc:
                raise self._fail(f"cannot be read: {exc}", line) from None
            if not block:
                if carry:
                    yield Chunk(carry if carry.endswith("\n") else carry + "\n", line)
                return
            text = carry + block
            cut = text.rfind("\n") + 1
            # a line break inside a quoted field does not end a row: read on
            if cut == 0 or ('"' in text and text.count('"', 0, cut) % 2):
                if len(text) <= limit:
                    carry = text
                    continue
                cut = self._row_end(text, delimiter, line)
            chunk = Chunk(text[:cut], line)
            carry = text[cut:]
            yield chunk
            line += chunk.breaks if chunk.breaks is not None else _line_breaks(chunk.text)

    def _row_end(self, text: str, delimiter: str, line: int) -> int:
        """Where the last complete row of ``text`` ends, as the ``csv`` module reads it."""
        pieces: list[int] = []  # lengths of the physical lines (ends: \n, \r\n or \r)

        def physical() -> Iterator[str]:
            for piece in io.StringIO(text, newline=""):
                pieces.append(len(piece))
                yield piece

        reader = csv.reader(physical(), delimiter=delimiter, strict=True)
        complete = 0
        try:
            for _ in reader:
                complete = reader.line_num
        except csv.Error:
            pass  # a quoted field open at the end (or bad CSV, reported when parsed)
        if complete == len(pieces) and not text.endswith("\n"):
            complete -= 1  # the last line may go on in the next read
        if complete <= 0:
            raise self._fail(
                f"a row longer than {len(text):,} characters (is a quote never closed?)", line
            )
        return sum(pieces[:complete])

    def _split(
        self, chunk: Chunk, delimiter: str, width: int, needed: int
    ) -> tuple[Table, np.ndarray]:
        """The columns of a chunk of whole lines, and each row's line."""
        text, line = chunk.text, chunk.line
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        plain = PlainChunk.split(text, delimiter, width)
        if plain is not None:
            chunk.breaks = plain.rows  # one row a line: no need to count them again
            return plain, np.arange(line, line + plain.rows, dtype=np.int64)
        return self._split_csv(text, line, delimiter, width, needed)

    def _split_csv(
        self, chunk: str, line: int, delimiter: str, width: int, needed: int
    ) -> tuple[Table, np.ndarray]:
        """The same with the ``csv`` module: quotes, ragged and blank lines."""
        reader = csv.reader(io.StringIO(chunk, newline=""), delimiter=delimiter, strict=True)
        rows: list[list[str]] = []
        numbers: list[int] = []
        before = 0
        try:
            for row in reader:
                first, before = line + before, reader.line_num
                if len(row) < needed:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # a blank line
                    count = len(row)
                    raise self._fail(
                        f"has {count} field{'s' if count != 1 else ''} but the header has "
                        f"{width} (is the delimiter {delimiter!r} right?)",
                        first,
                    )
                rows.append(row)
                numbers.append(first)
        except csv.Error as exc:
            raise self._fail(f"not valid CSV: {exc}", line + before) from None
        columns = [list(map(itemgetter(j), rows)) for j in range(needed)]
        return RowTable(columns), np.asarray(numbers, dtype=np.int64)

    # -- columns to a batch ------------------------------------------------------

    def _times(
        self,
        table: Table,
        column: int,
        lines: np.ndarray,
        index: ColumnIndex,
        empty_ok: bool,
    ) -> np.ndarray:
        try:
            values = table.times(column) if self.time_format is None else None
            if values is None:
                values = parse_many(table.texts(column), make_parser(self.time_format))
        except TimestampError as exc:
            raise self._fail(
                f"column {index.names[column]!r}: {exc}", int(lines[exc.index])
            ) from None
        outside = first_outside(values)
        if outside is not None:
            raise self._fail(
                f"column {index.names[column]!r}: timestamp {table.texts(column)[outside][:40]!r} "
                f"{OUTSIDE}",
                int(lines[outside]),
            )
        if not empty_ok:
            missing = np.flatnonzero(np.isnan(values))
            if missing.size:
                raise self._fail(
                    f"empty timestamp in column {index.names[column]!r}", int(lines[missing[0]])
                )
        return values

    def _columns(
        self,
        table: Table,
        lines: np.ndarray,
        index: ColumnIndex,
        pairing: LifecyclePairing,
    ) -> Batch:
        cases = unprotected(table.labels(index.case))
        activities = unprotected(table.labels(index.activity))
        if "" in cases:
            at = list(cases).index("")
            raise self._fail(f"empty case id in column {index.name('case')!r}", int(lines[at]))
        if "" in activities:
            at = list(activities).index("")
            raise self._fail(f"empty activity in column {index.name('activity')!r}", int(lines[at]))
        si, ei = index.start, index.end
        start = None
        if si is not None:
            start = self._times(table, si, lines, index, empty_ok=ei is not None)
        if ei is not None:
            end = self._times(table, ei, lines, index, empty_ok=start is not None)
        else:
            assert start is not None
            end, start = start, None
        kept: np.ndarray | None = None
        if start is not None and ei is not None:
            running = np.isnan(end)
            if running.any():  # a start without an end: still running when the log was cut
                missing = np.flatnonzero(running & np.isnan(start))
                if missing.size:
                    raise self._fail(
                        f"empty timestamp in column {index.names[ei]!r}", int(lines[missing[0]])
                    )
                self.running += int(running.sum())
                keep = np.flatnonzero(~running)
                cases, activities = _take(cases, keep), _take(activities, keep)
                end, start, lines = end[keep], start[keep], lines[keep]
                kept = keep
        resources = (
            unprotected(table.labels(index.resource)) if index.resource is not None else None
        )
        if kept is not None and resources is not None:
            resources = _take(resources, kept)
        if index.lifecycle is not None:
            stages = table.labels(index.lifecycle)
            if kept is not None:
                stages = _take(stages, kept)
            if pairing or not {s.strip().lower() for s in distinct(stages)} <= COMPLETES | {""}:
                return self._pair(cases, activities, end, start, resources, lines, stages, pairing)
        if start is not None:
            backwards = np.flatnonzero(start > end)
            if backwards.size:
                at = int(backwards[0])
                raise self._fail(
                    f"activity {activities[at]!r} of case {cases[at]!r} starts after it ends",
                    int(lines[at]),
                )
            if np.isnan(start).all():
                start = None
        return Batch(cases, activities, end, start, resources, lines)

    def _pair(
        self,
        cases: Sequence[str],
        activities: Sequence[str],
        times: np.ndarray,
        start: np.ndarray | None,
        resources: Sequence[str] | None,
        lines: np.ndarray,
        stages: Sequence[str],
        pairing: LifecyclePairing,
    ) -> Batch:
        """Rows of lifecycle transitions: pair starts with completes, drop the others."""
        cases, activities = list(cases), list(activities)  # row by row: plain lists are faster
        resources = list(resources) if resources is not None else None
        keep: list[int] = []
        begins = np.full(len(cases), np.nan) if start is None else start.copy()
        for i, stage in enumerate(stages):
            stage = stage.strip().lower()
            if stage in STARTS:
                pairing.start(cases[i], activities[i], float(times[i]))
                continue
            if stage and stage not in COMPLETES:
                self.skipped += 1
                continue
            keep.append(i)
            paired = pairing.complete(cases[i], activities[i])
            if paired is not None and np.isnan(begins[i]):
                begins[i] = paired
        chosen = np.asarray(keep, dtype=np.int64)
        kept_begins = begins[chosen]
        kept_ends = times[chosen]
        backwards = np.flatnonzero(kept_begins > kept_ends)
        if backwards.size:
            at = keep[int(backwards[0])]
            raise self._fail(
                f"activity {activities[at]!r} of case {cases[at]!r} completes before it starts",
                int(lines[at]),
            )
        return Batch(
            [cases[i] for i in keep],
            [activities[i] for i in keep],
            kept_ends,
            None if np.isnan(kept_begins).all() else kept_begins,
            [resources[i] for i in keep] if resources is not None else None,
            lines[chosen],
        )
