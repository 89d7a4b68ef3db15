"""``procflow.check_log`` at the public API: a process or its file, against an event log.

Conformance (:mod:`procflow.eventlog.conformance`) takes a loaded
:class:`~procflow.model.Process`; the public function also takes the path
of a process file, which it loads here.
"""

from __future__ import annotations

import os

from procflow.eventlog import conformance
from procflow.eventlog.conformance import LogReport
from procflow.eventlog.events import Event
from procflow.eventlog.reader import EventLog
from procflow.loader import as_process
from procflow.model import Process

__all__ = ["check_log"]


def check_log(
    process: Process | str | os.PathLike[str],
    log: EventLog | list[Event],
    path: str | None = None,
) -> LogReport:
    """Replay a log (from :func:`procflow.read_log`, or a list of events) on ``process``.

    ``process`` is a :class:`~procflow.model.Process` or the path of a
    process file; ``path`` names the log in the report (default: the log's
    own path).

    >>> report = check_log("p.yaml", read_log("events.csv"))   # doctest: +SKIP
    >>> f"{report.conformance:.0%}"                            # doctest: +SKIP
    '87%'
    """
    return conformance.check_log(as_process(process, "check_log"), log, path)
