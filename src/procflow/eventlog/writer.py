"""Writing event logs as CSV, streamed and atomic; choosing CSV or XES by file name.

One writer serves the simulator's ``--log``, live cases and anything else
that produces events, so every log procflow writes has the same columns and
timestamp format and reads back with ``check-log`` and ``calibrate``:

``case,step,owner,start,end`` -- timestamps in ISO 8601 with milliseconds
and a UTC offset. Simulated time (seconds from 0) is placed on the calendar
from :data:`SIMULATION_EPOCH`, a Monday, so logs look like real ones. A path
ending in ``.gz`` is written gzip-compressed (the readers decompress it).
``columns="pm4py"`` (``--log-columns pm4py``) names the same five columns
``case:concept:name,concept:name,org:resource,start_timestamp,time:timestamp``
so that ``pm4py.format_dataframe`` reads the log with its defaults.
:func:`~procflow.eventlog.sinks.event_writer` picks this writer or the XES one
(:mod:`procflow.eventlog.xeswriter`) by the file's name.

Spreadsheet formulas: a cell that starts with ``=`` ``+`` ``-`` ``@``, a tab
or a carriage return would be run as a formula by a spreadsheet opening the
log (``=HYPERLINK(...)``, OWASP "CSV injection"). Such a cell is written with
a leading ``'``, as spreadsheets expect, and so is a cell that already starts
with ``'`` before one of those characters, so that the readers
(:func:`unprotect_cell`) can take exactly one ``'`` off again and every value
reads back as it was written.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import IO, Any

from procflow.errors import ConfigError, SimulationError
from procflow.fileio import open_atomic
from procflow.units import format_duration

COLUMNS: tuple[str, ...] = ("case", "step", "owner", "start", "end")
PM4PY_COLUMNS: tuple[str, ...] = (
    "case:concept:name",
    "concept:name",
    "org:resource",
    "start_timestamp",
    "time:timestamp",
)
"""The same five columns named as pm4py names them (``pm4py.format_dataframe`` defaults)."""
LOG_COLUMNS: dict[str, tuple[str, ...]] = {"procflow": COLUMNS, "pm4py": PM4PY_COLUMNS}
"""``--log-columns``: the header of a CSV log, by name."""
SIMULATION_EPOCH = datetime(2027, 1, 4, 0, 0, 0, tzinfo=UTC)
"""Where simulated time 0 falls on the calendar (a Monday, midnight UTC)."""


FORMULA_START = frozenset("=+-@\t\r")
"""First characters that make a spreadsheet read a cell as a formula."""
_PROTECTED = re.compile(r"'*[=+\-@\t\r]")
_PREFIXED = re.compile(r"'+[=+\-@\t\r]")


def protect_cell(value: str) -> str:
    """``value`` with a ``'`` in front when a spreadsheet would read it as a formula.

    >>> protect_cell("=1+1"), protect_cell("intake"), protect_cell("'=1")
    ("'=1+1", 'intake', "''=1")
    """
    return "'" + value if _PROTECTED.match(value) else value


def unprotect_cell(value: str) -> str:
    """The value :func:`protect_cell` was given: one leading ``'`` off a protected cell.

    >>> unprotect_cell("'=1"), unprotect_cell("''=1"), unprotect_cell("'quoted'")
    ('=1', "'=1", "'quoted'")
    """
    return value[1:] if _PREFIXED.match(value) else value


def simulated_instant(epoch: datetime, seconds: float) -> datetime:
    """Simulation time ``seconds`` as a datetime: elapsed seconds after ``epoch``, shown in
    ``epoch``'s zone (a process with calendars logs local times with their offsets, right
    across a DST change: the arithmetic is done in UTC, docs/working-time.md)."""
    zone = epoch.tzinfo
    try:
        if zone is None or zone is UTC:
            return epoch + timedelta(seconds=seconds)
        return (epoch.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(zone)
    except OverflowError:  # a run from --start 9999-12-31, or cases 800 years apart
        raise SimulationError(
            f"the simulated clock passes the year 9999 ({format_duration(seconds)} after "
            f"{epoch.isoformat()}), where dates end: the event log cannot say when; choose "
            "an earlier --start or fewer --cases"
        ) from None


def format_timestamp(moment: datetime) -> str:
    """``2027-01-04T08:30:00.000+00:00``: ISO 8601, milliseconds, explicit offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="milliseconds")


class TextOutput:
    """A text file written atomically, gzip-compressed when its name ends in ``.gz``.

    The compressed bytes are deterministic (no file name, time 0 in the gzip
    header): the same log gives the same file. Shared by the CSV and XES writers.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._context: AbstractContextManager[IO[Any]] | None = None
        self._zipped: gzip.GzipFile | None = None
        self._text: io.TextIOWrapper | None = None

    def open(self) -> IO[str]:
        """The handle to write text to (``newline=""``: what is written is what lands)."""
        compressed = os.fspath(self.path).lower().endswith(".gz")
        self._context = open_atomic(self.path, "wb" if compressed else "w", newline="")
        handle: IO[Any] = self._context.__enter__()
        if compressed:  # the name and time left out of the header: the same log, the same bytes
            self._zipped = gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0)
            handle = self._text = io.TextIOWrapper(self._zipped, encoding="utf-8", newline="")
        return handle

    def close(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Finish the file: renamed into place when ``error`` is None, else removed."""
        assert self._context is not None
        context, self._context = self._context, None
        text, zipped, self._text, self._zipped = self._text, self._zipped, None, None
        if text is not None and zipped is not None:
            try:
                text.close()  # flushes, writes the gzip trailer; the file itself stays open
            except BaseException as failure:
                with contextlib.suppress(Exception):
                    zipped.close()  # inert from now on, even if the trailer could not go out
                if error is None:
                    context.__exit__(type(failure), failure, failure.__traceback__)
                    raise
        context.__exit__(kind, error, trace)


class CsvEventWriter(AbstractContextManager["CsvEventWriter"]):
    """Stream events to ``path``; the file appears (atomically) when the writer closes.

    Use ``write_simulated`` for simulation seconds and ``write`` for real datetimes::

        with CsvEventWriter("events.csv") as log:
            log.write_simulated("c1", "intake", "support-agent", 0.0, 312.5)

    ``columns="pm4py"`` names the columns as pm4py does
    (:data:`PM4PY_COLUMNS`) and ``names`` maps step ids to the activity
    names written (default: the step id), see :func:`~procflow.eventlog.sinks.activity_names`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        epoch: datetime = SIMULATION_EPOCH,
        *,
        columns: str = "procflow",
        names: Mapping[str, str] | None = None,
        attributes: Sequence[str] = (),
    ) -> None:
        if os.fspath(path).lower().endswith((".xes", ".xes.gz")):
            raise ConfigError(
                f"{os.fspath(path)}: an XES log is written by XesEventWriter "
                "(procflow.eventlog.sinks.event_writer picks the writer by name)"
            )
        if columns not in LOG_COLUMNS:
            raise ConfigError(
                f"log columns {columns!r}: choose one of {', '.join(sorted(LOG_COLUMNS))}"
            )
        self.path = path
        self.epoch = epoch
        self.header = (*LOG_COLUMNS[columns], *attributes)
        self.attributes = tuple(attributes)
        """Case attribute columns written after the standard ones (docs/attributes.md)."""
        self._values: dict[str, tuple[str, ...]] = {}
        self.names = dict(names or {})
        self.rows = 0
        self._output = TextOutput(path)
        self._writer: Any = None
        self._quoting: Any = None

    def __enter__(self) -> CsvEventWriter:
        handle = self._output.open()
        self._writer = csv.writer(handle, lineterminator="\n")
        # csv quotes a field with a line feed but (before Python 3.12) not one with a lone
        # carriage return, which readers take for a line end: such rows are quoted whole
        self._quoting = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
        self._writer.writerow(self.header)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._output.close(kind, error, trace)

    def set_case_attributes(self, case: str | int, attributes: Mapping[str, object]) -> None:
        """The case's attribute values, written in the attribute columns of its rows."""
        if self.attributes:
            self._values[str(case)] = tuple(_cell(attributes.get(name)) for name in self.attributes)

    def _extra(self, case: str | int) -> tuple[str, ...]:
        if not self.attributes:
            return ()
        return self._values.get(str(case), ("",) * len(self.attributes))

    def write(
        self, case: str, step: str, owner: str | None, start: datetime, end: datetime
    ) -> None:
        """One event with calendar timestamps."""
        activity = self.names.get(step, step)
        row = (protect_cell(case), protect_cell(activity), protect_cell(owner or ""))
        writer = self._quoting if any("\r" in cell for cell in row) else self._writer
        writer.writerow((*row, format_timestamp(start), format_timestamp(end), *self._extra(case)))
        self.rows += 1

    def write_simulated(
        self, case: str | int, step: str, owner: str | None, start: float, end: float
    ) -> None:
        """One event with simulation times in seconds from the epoch."""
        epoch = self.epoch
        writer = self._writer
        if not isinstance(case, int):
            case = protect_cell(case)
            if "\r" in case:
                writer = self._quoting
        if self.names:
            step = protect_cell(self.names.get(step, step))
            if "\r" in step:
                writer = self._quoting
        writer.writerow(
            (
                case,
                step,
                owner or "",
                format_timestamp(simulated_instant(epoch, start)),
                format_timestamp(simulated_instant(epoch, end)),
                *self._extra(case),
            )
        )
        self.rows += 1


def _cell(value: object) -> str:
    """An attribute value as a CSV cell: numbers in full precision, text protected."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return protect_cell(str(value))
