"""The analytic model of a process (docs/analysis-method.md): instant queueing math, no simulation.

* :mod:`~procflow.analysis.routing` -- expected visits from an absorbing Markov
  chain, ``max`` bounds unrolled exactly into the state;
* :mod:`~procflow.analysis.queueing` -- Erlang C, Allen–Cunneen, QNA;
* :mod:`~procflow.analysis.analyzer` -- :func:`analyze`, putting them together;
* :mod:`~procflow.analysis.goals` -- goals held against the estimates;
* :mod:`~procflow.analysis.results` -- the read-only result and its JSON shape;
* :mod:`~procflow.analysis.linear` -- SCCs and the small dense solves.

:class:`Analysis` computes each figure the first time it is read: lint's
capacity rules read :attr:`Analysis.loads` (utilizations, no queueing
network) and judge goals with cheap bounds first, so linting a 50-step
process costs about half a millisecond of analysis. The solves are plain
Python, block by block; numpy is imported only where arrays pay (a dense
block of more than a dozen states, Erlang B for thousands of servers), so a
typical ``procflow lint`` never loads it.
"""

from __future__ import annotations

from procflow.analysis.analyzer import BOTTLENECK_THRESHOLD, analyze, analyze_or_none
from procflow.analysis.results import (
    Analysis,
    CycleTime,
    GoalEstimate,
    OwnerFigures,
    OwnerLoad,
    Routing,
    StepFigures,
    StepShare,
)

__all__ = [
    "BOTTLENECK_THRESHOLD",
    "Analysis",
    "CycleTime",
    "GoalEstimate",
    "OwnerFigures",
    "OwnerLoad",
    "Routing",
    "StepFigures",
    "StepShare",
    "analyze",
    "analyze_or_none",
]
