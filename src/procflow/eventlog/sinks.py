"""Which writer an event log goes to, and what its activities are called.

``--log`` names a file; :func:`event_writer` opens the writer its name asks
for -- :class:`~procflow.eventlog.xeswriter.XesEventWriter` for ``.xes`` and
``.xes.gz``, else :class:`~procflow.eventlog.writer.CsvEventWriter` -- both
event sinks of the simulator (``write_simulated``) and of live cases
(``write``). Logs meant for other tools (XES, pm4py's CSV columns) name
activities as the organisation does (:func:`activity_names`); procflow's
own CSV columns keep step ids.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from procflow.errors import ConfigError
from procflow.eventlog.matching import StepMatcher
from procflow.eventlog.writer import SIMULATION_EPOCH, CsvEventWriter
from procflow.model import Process

if TYPE_CHECKING:
    from procflow.eventlog.xeswriter import XesEventWriter


def activity_names(process: Process) -> dict[str, str]:
    """The name each step goes by in a log for other tools: ``{step id: name}``.

    A step's ``activity``, else its ``title``, else its id -- the order in
    which ``check-log`` matches an activity to a step -- but only a name that
    matches back to the same step (two steps may share a title, a title may
    equal another step's id): any other step keeps its id, so a written log
    always reads back to the steps that made it.
    """
    matcher = StepMatcher(process)
    names: dict[str, str] = {}
    for step_id, step in process.steps.items():
        name = step.activity or step.title or step_id
        names[step_id] = name if matcher(name) == step_id else step_id
    return names


def event_writer(
    path: str | os.PathLike[str],
    process: Process | None = None,
    *,
    columns: str = "procflow",
    epoch: datetime | None = None,
    attributes: Sequence[str] = (),
) -> CsvEventWriter | XesEventWriter:
    """The writer for ``path``: XES for ``.xes``/``.xes.gz``, else CSV (``.gz``: gzip).

    With ``process``, XES logs and pm4py-column CSV logs name activities
    by :func:`activity_names` (procflow's own CSV columns keep step ids) and
    an XES log writes each case's trace as soon as it reaches an end step.
    ``columns`` is refused for XES, whose attribute names are fixed. ``epoch`` is
    where simulation time 0 falls (default :data:`~procflow.eventlog.writer.SIMULATION_EPOCH`;
    a process with calendars gives its start, docs/working-time.md).
    """
    start = SIMULATION_EPOCH if epoch is None else epoch
    names = activity_names(process) if process is not None else None
    if is_xes(path):
        # imported here: only an XES log needs the XML writer (``simulate`` starts faster)
        from procflow.eventlog.xeswriter import XesEventWriter, writable

        if columns != "procflow":
            raise ConfigError(
                f"{os.fspath(path)}: --log-columns is for CSV logs; XES names its attributes "
                "concept:name, org:resource, lifecycle:transition, time:timestamp"
            )
        ends = [i for i, s in process.steps.items() if s.end] if process is not None else ()
        if names is not None:  # a title XML cannot carry (a control character): the id instead
            names = {step: name if writable(name) else step for step, name in names.items()}
        return XesEventWriter(path, start, names=names, ends=ends)
    attributes = tuple(process.attributes) if process is not None else tuple(attributes)
    return CsvEventWriter(
        path,
        start,
        columns=columns,
        names=names if columns != "procflow" else None,
        attributes=attributes,
    )


def is_xes(path: str | os.PathLike[str]) -> bool:
    """Whether a log written to ``path`` is XES (its name ends in ``.xes`` or ``.xes.gz``)."""
    return os.fspath(path).lower().endswith((".xes", ".xes.gz"))
