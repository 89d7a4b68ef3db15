"""``procflow.analyze``: the analytic model of SPEC section 4 (see :mod:`procflow.analysis`).

Kept as the stable import path (``from procflow.analyze import analyze``); the
implementation lives in the :mod:`procflow.analysis` package.
"""

from __future__ import annotations

import os
import sys
import types

from procflow.analysis import (
    BOTTLENECK_THRESHOLD,
    Analysis,
    CycleTime,
    GoalEstimate,
    OwnerFigures,
    OwnerLoad,
    Routing,
    StepFigures,
    StepShare,
    analyze,
    analyze_or_none,
)
from procflow.analysis.routing import MAX_STATES
from procflow.model import Process

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


class _CallableModule(types.ModuleType):
    """Lets ``procflow.analyze(process)`` work even after ``import procflow.analyze``.

    Importing this submodule binds it as the package attribute
    ``procflow.analyze``, shadowing the function the public API exports;
    calling the module calls :func:`analyze`.
    """

    def __call__(
        self,
        process: Process | str | os.PathLike[str],
        *,
        bottleneck_threshold: float = BOTTLENECK_THRESHOLD,
        max_states: int = MAX_STATES,
    ) -> Analysis:
        return analyze(process, bottleneck_threshold=bottleneck_threshold, max_states=max_states)


sys.modules[__name__].__class__ = _CallableModule
