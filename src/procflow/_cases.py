"""``procflow.Case`` and ``procflow.write_cases``: live cases at the public API.

The runtime (:mod:`procflow.runtime`) takes a loaded
:class:`~procflow.model.Process` and returns data; this layer adds what a
user of the API may also pass or want: the path of a process file instead
of the process, and the event log written to a file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from procflow.eventlog.sinks import event_writer
from procflow.loader import as_process
from procflow.model import Process
from procflow.runtime import Case as _RuntimeCase
from procflow.runtime import Clock, HistoryRecord, visit_rows

__all__ = ["Case", "write_cases"]


class Case(_RuntimeCase):
    """One live case of a process; ``process`` may also be the path of a process file.

    See :class:`procflow.runtime.Case` for triggers, history and JSON.
    """

    def __init__(
        self,
        process: Process | str | os.PathLike[str],
        case_id: str | None = None,
        clock: Clock | None = None,
        *,
        attributes: Mapping[str, float | str] | None = None,
        _history: list[HistoryRecord] | None = None,
    ) -> None:
        super().__init__(
            as_process(process, "Case"), case_id, clock, attributes=attributes, _history=_history
        )


def write_cases(path: str | os.PathLike[str], cases: Iterable[_RuntimeCase]) -> int:
    """Write the cases' completed step visits as an event log; return the visits written.

    One row per visit that has been left (``case, step, owner, start, end``,
    where start is when the step was entered and end when it was left) and,
    for a finished case, one zero-length row for its end step -- the layout
    of the simulator's ``--log``, which ``check-log`` and ``calibrate`` read.
    A name ending in ``.xes`` or ``.xes.gz`` is written as XES (a start and a
    complete event per visit), any other as CSV (``.gz``: compressed).
    The file is written atomically: a wrong argument leaves nothing behind.
    """
    listed = list(cases)
    names: dict[str, None] = {}
    for case in listed:
        names.update(dict.fromkeys(getattr(case, "attributes", {})))
    with event_writer(path, attributes=tuple(names)) as log:
        for case in listed:
            if names and isinstance(case, _RuntimeCase):
                log.set_case_attributes(case.id, case.attributes)
        for case_id, step, owner, start, end in visit_rows(listed):
            log.write(case_id, step, owner, start, end)
        return log.rows
