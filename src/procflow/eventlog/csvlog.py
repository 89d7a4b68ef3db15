"""Reading CSV event logs, streamed row by row.

The file is never read whole: :class:`CsvLog` reads it with the ``csv``
module a batch of rows at a time (:class:`~procflow.eventlog.batch.Batch`,
columns of up to 32,768 rows, timestamps parsed a column at a time) and
hands each batch on before reading the next, so a log of any size passes
through in constant memory (only lifecycle ``start`` rows waiting for their
``complete`` are held). Iterating yields :class:`Event` objects; iterating
twice reads the file twice.

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
from collections.abc import Iterator, Sequence
from itertools import islice
from operator import itemgetter
from typing import IO

import numpy as np

from procflow.errors import EventLogError, FileAccessError
from procflow.eventlog.batch import BATCH_ROWS, Batch
from procflow.eventlog.columns import ColumnIndex, Columns, resolve
from procflow.eventlog.events import COMPLETES, STARTS, Event, LifecyclePairing
from procflow.eventlog.timestamps import TimestampError, make_parser, parse_many

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
    """A CSV event log; iterate it for :class:`Event` objects, or :meth:`batches`."""

    format = "csv"

    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: Columns | None = None,
        *,
        delimiter: str | None = None,
        time_format: str | None = None,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self.path = os.fspath(path)
        self.columns = columns or Columns()
        self.delimiter = delimiter
        self.time_format = time_format
        self.batch_rows = batch_rows
        self.index: ColumnIndex | None = None
        self.skipped = 0
        """Rows skipped on the last pass (lifecycle transitions other than start/complete)."""
        self.unpaired_starts = 0
        """``start`` rows never completed on the last pass."""

    def __iter__(self) -> Iterator[Event]:
        for batch in self.batches():
            yield from batch.events()

    def batches(self) -> Iterator[Batch]:
        """The log as :class:`Batch` columns, in file order."""
        handle = open_text(self.path)
        try:
            yield from self._batches(handle)
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

    def _header(self, handle: IO[str]) -> tuple[str, list[str]]:
        try:
            first = handle.readline()
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        except (OSError, EOFError) as exc:
            raise self._fail(f"cannot be read: {exc}", 1) from None
        if not first.strip():
            raise self._fail("empty file: an event log needs a header row naming its columns", 1)
        delimiter = self.delimiter or sniff_delimiter(first)
        try:
            header = next(csv.reader([first], delimiter=delimiter, strict=True), [])
        except csv.Error as exc:
            raise self._fail(f"not valid CSV: {exc}", 1) from None
        return delimiter, header

    def _batches(self, handle: IO[str]) -> Iterator[Batch]:
        delimiter, header = self._header(handle)
        index = resolve(header, self.columns, self.path, 1)
        self.index = index
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        pairing = LifecyclePairing()
        self.skipped = 0
        self.unpaired_starts = 0
        width = len(header)
        used = [i for i in (index.case, index.activity, index.start, index.end,
                            index.resource, index.lifecycle) if i is not None]  # fmt: skip
        needed = max(used) + 1
        consumed = 1  # physical lines read so far (the header)
        total = 0
        while True:
            try:
                rows = list(islice(reader, self.batch_rows))
            except UnicodeDecodeError:
                raise self._not_utf8() from None
            except csv.Error as exc:
                raise self._fail(f"not valid CSV: {exc}", reader.line_num + 1) from None
            if not rows:
                break
            lines = _line_numbers(rows, consumed, reader.line_num + 1)
            consumed = reader.line_num + 1
            if min(map(len, rows)) < needed:
                rows, lines = self._drop_blank(rows, lines, needed, width, delimiter)
                if not rows:
                    continue
            batch = self._columns(rows, lines, index, pairing)
            if len(batch):
                total += len(batch)
                yield batch
        self.unpaired_starts = pairing.open_count
        if total == 0:
            raise self._fail("the log has no events (only a header row)", 2)

    def _drop_blank(
        self, rows: list[list[str]], lines: np.ndarray, needed: int, width: int, delimiter: str
    ) -> tuple[list[list[str]], np.ndarray]:
        keep: list[int] = []
        for i, row in enumerate(rows):
            if len(row) >= needed:
                keep.append(i)
            elif row and not (len(row) == 1 and not row[0].strip()):
                count = len(row)
                raise self._fail(
                    f"has {count} field{'s' if count != 1 else ''} but the header has {width} "
                    f"(is the delimiter {delimiter!r} right?)",
                    int(lines[i]),
                )
        return [rows[i] for i in keep], lines[keep]

    def _times(
        self,
        texts: Sequence[str],
        column: int,
        lines: np.ndarray,
        index: ColumnIndex,
        empty_ok: bool,
    ) -> np.ndarray:
        parse = make_parser(self.time_format)
        try:
            values = parse_many(texts, parse)
        except TimestampError as exc:
            raise self._fail(
                f"column {index.names[column]!r}: {exc}", int(lines[exc.index])
            ) from None
        if not empty_ok:
            missing = np.flatnonzero(np.isnan(values))
            if missing.size:
                raise self._fail(
                    f"empty timestamp in column {index.names[column]!r}", int(lines[missing[0]])
                )
        return values

    def _columns(
        self,
        rows: list[list[str]],
        lines: np.ndarray,
        index: ColumnIndex,
        pairing: LifecyclePairing,
    ) -> Batch:
        cases = list(map(itemgetter(index.case), rows))
        activities = list(map(itemgetter(index.activity), rows))
        if "" in cases:
            at = cases.index("")
            raise self._fail(f"empty case id in column {index.name('case')!r}", int(lines[at]))
        if "" in activities:
            at = activities.index("")
            raise self._fail(f"empty activity in column {index.name('activity')!r}", int(lines[at]))
        si, ei = index.start, index.end
        start = None
        if si is not None:
            start = self._times(
                list(map(itemgetter(si), rows)), si, lines, index, empty_ok=ei is not None
            )
        if ei is not None:
            end = self._times(list(map(itemgetter(ei), rows)), ei, lines, index, empty_ok=False)
        else:
            assert start is not None
            end, start = start, None
        resources = (
            list(map(itemgetter(index.resource), rows)) if index.resource is not None else None
        )
        if index.lifecycle is not None:
            stages = list(map(itemgetter(index.lifecycle), rows))
            if pairing or not {s.strip().lower() for s in set(stages)} <= COMPLETES | {""}:
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
        cases: list[str],
        activities: list[str],
        times: np.ndarray,
        start: np.ndarray | None,
        resources: list[str] | None,
        lines: np.ndarray,
        stages: list[str],
        pairing: LifecyclePairing,
    ) -> Batch:
        """Rows of lifecycle transitions: pair starts with completes, drop the others."""
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


def _line_numbers(rows: list[list[str]], before: int, after: int) -> np.ndarray:
    """The file line of each row: consecutive unless quoted fields span lines."""
    if after - before == len(rows):
        return np.arange(before + 1, after + 1, dtype=np.int64)
    numbers = np.empty(len(rows), dtype=np.int64)
    line = before + 1
    for i, row in enumerate(rows):
        numbers[i] = line
        line += 1 + sum(field.count("\n") for field in row)
    return numbers
