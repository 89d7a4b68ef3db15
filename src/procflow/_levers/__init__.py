"""``procflow._levers``: which single change would help a goal most (SPEC 7.5).

* :mod:`~procflow._levers.goal` -- the KPI a goal is measured by and which way is better;
* :mod:`~procflow._levers.candidates` -- the levers: one more unit of staff, 10% shorter
  durations, feedback half as likely, a step automated;
* :mod:`~procflow._levers.screen` -- the levers the analytic model shows cannot matter;
* :mod:`~procflow._levers.ranking` -- one simulation of all of them on common random
  numbers, ranked by their paired effect.

The package is private (``_levers``) so that no module shares the name of
the public function: ``procflow.levers`` is always the function, whatever was
imported before. The public names are ``procflow.levers`` and
``procflow.LeverRanking``; the core here takes loaded processes, and only
:func:`~procflow._levers.ranking.levers` also takes a path.
"""

from __future__ import annotations

from procflow._levers.candidates import Lever, scale_duration
from procflow._levers.goal import GoalSpec
from procflow._levers.ranking import (
    DEFAULT_CASES,
    DEFAULT_RUNS,
    DEFAULT_SEED,
    LeverEffect,
    LeverRanking,
    levers,
)

__all__ = [
    "DEFAULT_CASES",
    "DEFAULT_RUNS",
    "DEFAULT_SEED",
    "GoalSpec",
    "Lever",
    "LeverEffect",
    "LeverRanking",
    "levers",
    "scale_duration",
]
