"""What ``procflow optimize`` returns: the staffing found, its cost and its goals.

The JSON is described in docs/json.md#optimize.

Kept apart from the search (:mod:`procflow._optimize.search`) so the CLI's
text report and JSON read one typed value and never the search's state.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

JSON_VERSION = 1


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class Staffing:
    """One staff owner: capacity before and after, and what one unit costs per hour."""

    owner: str
    before: int
    after: int
    cost_per_hour: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "before": self.before,
            "after": self.after,
            "cost_per_hour": self.cost_per_hour,
        }


@dataclass(frozen=True)
class GoalOutcome:
    """One goal at the staffing found: its simulated mean, 95 % interval and verdict."""

    id: str
    metric: str
    stat: str | None
    target: str
    value: float | None
    ci95: tuple[float, float] | None
    verdict: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "metric": self.metric,
            "stat": self.stat,
            "target": self.target,
            "value": _number(self.value),
            "ci95": None if self.ci95 is None else [_number(v) for v in self.ci95],
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class Optimization:
    """The cheapest staffing found at which every goal is met with 95 % confidence.

    ``feasible`` is False when no staffing within ``max_capacity`` per owner
    meets every goal; ``staffing`` and ``goals`` then describe the last one
    tried and ``reason`` says why the search stopped. ``costed`` says whether cost is
    money (some owner has ``cost_per_hour``) or head count. ``evaluations``
    counts the scenarios simulated (each ``runs`` replications of ``cases``);
    ``screened`` the analytic evaluations that chose where to start.
    """

    process: str
    feasible: bool
    costed: bool
    staffing: tuple[Staffing, ...]
    goals: tuple[GoalOutcome, ...]
    evaluations: int
    screened: int
    cases: int
    runs: int
    seed: int
    reason: str | None = None
    """Why no staffing was found (``None`` when ``feasible``)."""

    def price(self, row: Staffing) -> float:
        """What one unit of ``row``'s owner costs: its cost per hour, or 1 (head count)."""
        if not self.costed:
            return 1.0
        return row.cost_per_hour or 0.0

    def _total(self, after: bool) -> float:
        return sum((row.after if after else row.before) * self.price(row) for row in self.staffing)

    @property
    def cost_before(self) -> float:
        """Staffing cost per hour of the searched owners before (head count without costs)."""
        return self._total(False)

    @property
    def cost_after(self) -> float:
        """Staffing cost per hour of the searched owners after (head count without costs)."""
        return self._total(True)

    def change(self) -> dict[str, Any]:
        """The change file (docs/file-format.md) that applies this staffing: for ``compare``."""
        changed = {row.owner: {"capacity": row.after} for row in self.staffing}
        described = ", ".join(f"{r.owner} {r.before} -> {r.after}" for r in self.staffing)
        return {
            "change": "optimized-staffing",
            "description": f"cheapest staffing meeting every goal (procflow optimize): {described}",
            "patch": {"owners": changed},
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "process": self.process,
            "feasible": self.feasible,
            "reason": self.reason,
            "costed": self.costed,
            "staffing": [row.to_dict() for row in self.staffing],
            "cost_per_hour_before": self.cost_before,
            "cost_per_hour_after": self.cost_after,
            "goals": [goal.to_dict() for goal in self.goals],
            "evaluations": self.evaluations,
            "screened": self.screened,
            "cases": self.cases,
            "runs": self.runs,
            "seed": self.seed,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)
