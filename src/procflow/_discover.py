"""``procflow.discover`` at the public API: a log or its path in, a linted process out.

The core (:mod:`procflow.discovery`) takes a stream of events; this layer
also opens a log file, lints the result (it must lint without errors:
docs/discover.md) and writes it atomically when asked.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from procflow._lint import lint
from procflow.discovery.discover import DEFAULT_MIN_SHARE, Discovery
from procflow.discovery.discover import discover as _discover
from procflow.eventlog.events import Event
from procflow.eventlog.reader import read_log
from procflow.fileio import write_atomic

__all__ = ["discover"]


def discover(
    log: Iterable[Event] | str | os.PathLike[str],
    *,
    min_share: float = DEFAULT_MIN_SHARE,
    process_id: str | None = None,
    output: str | os.PathLike[str] | None = None,
    forks: bool = True,
) -> Discovery:
    """Discover a process from an event log (a path, a read log or a list of events).

    The result's ``text`` is the process file, ``process`` the loaded
    process, ``findings`` its lint findings (never an error) and
    ``to_dict()`` the report of what was inferred and how sure it is.
    ``output`` writes the file atomically. ``forks=False`` writes
    interleaving activities as alternatives, not parallel branches.

    >>> import procflow
    >>> d = procflow.discover("examples/logs/receipt.csv")  # doctest: +SKIP
    >>> d.process.start                                      # doctest: +SKIP
    'confirmation-of-receipt'
    """
    events = read_log(log) if isinstance(log, str | os.PathLike) else log
    result = _discover(events, min_share=min_share, process_id=process_id, forks=forks)
    result.findings = tuple(lint(result.process))
    if output is not None:
        write_atomic(output, result.text)
    return result
