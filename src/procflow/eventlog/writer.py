"""Writing event logs as CSV, streamed and atomic.

One writer serves the simulator's ``--log``, live cases and anything else
that produces events, so every log procflow writes has the same columns and
timestamp format and reads back with ``check-log`` and ``calibrate``:

``case,step,owner,start,end`` -- timestamps in ISO 8601 with milliseconds
and a UTC offset. Simulated time (seconds from 0) is placed on the calendar
from :data:`SIMULATION_EPOCH`, a Monday, so logs look like real ones.
"""

from __future__ import annotations

import csv
import os
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import IO, Any

from procflow.errors import ConfigError
from procflow.fileio import open_atomic

COLUMNS: tuple[str, ...] = ("case", "step", "owner", "start", "end")
SIMULATION_EPOCH = datetime(2027, 1, 4, 0, 0, 0, tzinfo=UTC)
"""Where simulated time 0 falls on the calendar (a Monday, midnight UTC)."""


def format_timestamp(moment: datetime) -> str:
    """``2027-01-04T08:30:00.000+00:00``: ISO 8601, milliseconds, explicit offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="milliseconds")


class CsvEventWriter(AbstractContextManager["CsvEventWriter"]):
    """Stream events to ``path``; the file appears (atomically) when the writer closes.

    Use ``write_simulated`` for simulation seconds and ``write`` for real datetimes::

        with CsvEventWriter("events.csv") as log:
            log.write_simulated("c1", "intake", "support-agent", 0.0, 312.5)
    """

    def __init__(self, path: str | os.PathLike[str], epoch: datetime = SIMULATION_EPOCH) -> None:
        if os.fspath(path).lower().endswith((".xes", ".xes.gz")):
            raise ConfigError(
                f"{os.fspath(path)}: event logs are written as CSV; name the file .csv"
            )
        self.path = path
        self.epoch = epoch
        self.rows = 0
        self._context: AbstractContextManager[IO[Any]] | None = None
        self._writer: Any = None

    def __enter__(self) -> CsvEventWriter:
        self._context = open_atomic(self.path, "w", newline="")
        handle = self._context.__enter__()
        self._writer = csv.writer(handle, lineterminator="\n")
        self._writer.writerow(COLUMNS)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._context is not None
        self._context.__exit__(kind, error, trace)
        self._context = None

    def write(
        self, case: str, step: str, owner: str | None, start: datetime, end: datetime
    ) -> None:
        """One event with calendar timestamps."""
        self._writer.writerow(
            (case, step, owner or "", format_timestamp(start), format_timestamp(end))
        )
        self.rows += 1

    def write_simulated(
        self, case: str | int, step: str, owner: str | None, start: float, end: float
    ) -> None:
        """One event with simulation times in seconds from the epoch."""
        epoch = self.epoch
        self._writer.writerow(
            (
                case,
                step,
                owner or "",
                format_timestamp(epoch + timedelta(seconds=start)),
                format_timestamp(epoch + timedelta(seconds=end)),
            )
        )
        self.rows += 1
