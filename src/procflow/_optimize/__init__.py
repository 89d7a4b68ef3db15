"""``procflow._optimize``: the cheapest staffing at which every goal is met (docs/optimize.md).

* :mod:`~procflow._optimize.search` -- the analytic floor and screen, then
  greedy marginal analysis with back-off on common random numbers;
* :mod:`~procflow._optimize.result` -- :class:`Optimization`, what it returns.

The package is private (``_optimize``) so that no module shares the name of
the public function: ``procflow.optimize`` is always the function, whatever
was imported before (as ``procflow._levers`` does for ``procflow.levers``).
"""

from __future__ import annotations

from procflow._optimize.result import GoalOutcome, Optimization, Staffing
from procflow._optimize.search import (
    DEFAULT_CASES,
    DEFAULT_MAX_CAPACITY,
    DEFAULT_RUNS,
    DEFAULT_SEED,
    optimize,
)

__all__ = [
    "DEFAULT_CASES",
    "DEFAULT_MAX_CAPACITY",
    "DEFAULT_RUNS",
    "DEFAULT_SEED",
    "GoalOutcome",
    "Optimization",
    "Staffing",
    "optimize",
]
