"""``procflow.analyze``: the analytic model at the public API, for a process or its file.

The model itself (:mod:`procflow.analysis`) takes a loaded
:class:`~procflow.model.Process`; the public function also takes the path
of a process file, which it loads here.
"""

from __future__ import annotations

import os

from procflow import analysis
from procflow.analysis import BOTTLENECK_THRESHOLD, Analysis
from procflow.analysis.routing import MAX_STATES
from procflow.loader import as_process
from procflow.model import Process

__all__ = ["Analysis", "analyze"]


def analyze(
    process: Process | str | os.PathLike[str],
    *,
    bottleneck_threshold: float = BOTTLENECK_THRESHOLD,
    max_states: int = MAX_STATES,
) -> Analysis:
    """The analytic model of ``process`` (a :class:`~procflow.model.Process` or its file).

    Utilizations, waits (Erlang C, Allen-Cunneen, QNA), cycle time and goal
    estimates, computed when first read; see :func:`procflow.analysis.analyze`
    for the errors it raises.

    >>> import procflow
    >>> a = procflow.analyze("processes/customer-service.yaml")  # doctest: +SKIP
    >>> a.bottleneck  # doctest: +SKIP
    'support-agent'
    """
    return analysis.analyze(
        as_process(process, "analyze"),
        bottleneck_threshold=bottleneck_threshold,
        max_states=max_states,
    )
