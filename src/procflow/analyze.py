"""``procflow.analyze``: the analytic model of SPEC section 4 (see :mod:`procflow.analysis`).

Kept as the stable import path (``from procflow.analyze import analyze``); the
implementation lives in the :mod:`procflow.analysis` package.
"""

from __future__ import annotations

from procflow.analysis import (
    BOTTLENECK_THRESHOLD,
    Analysis,
    CycleTime,
    GoalEstimate,
    OwnerFigures,
    Routing,
    StepFigures,
    StepShare,
    analyze,
    analyze_or_none,
)

__all__ = [
    "BOTTLENECK_THRESHOLD",
    "Analysis",
    "CycleTime",
    "GoalEstimate",
    "OwnerFigures",
    "Routing",
    "StepFigures",
    "StepShare",
    "analyze",
    "analyze_or_none",
]
