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
    """One searched capacity -- a staff owner's, or one shift's of an owner with
    ``shifts:`` -- before and after, and what one of its units costs per hour on duty."""

    owner: str
    before: int
    after: int
    cost_per_hour: float | None
    shift: int | None = None
    """The index of the shift in the owner's ``shifts:`` (``None``: the owner's capacity)."""
    calendar: str | None = None
    """The calendar these units work (``None``: around the clock)."""
    on_duty_share: float = 1.0
    """The share of the week one unit is on duty: a unit costs ``cost_per_hour`` x this
    per elapsed hour."""

    @property
    def name(self) -> str:
        """The owner id, or ``owner@calendar`` for a shift (docs/optimize.md#shifts)."""
        return self.owner if self.shift is None else f"{self.owner}@{self.calendar}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "shift": self.shift,
            "calendar": self.calendar,
            "before": self.before,
            "after": self.after,
            "cost_per_hour": self.cost_per_hour,
            "on_duty_share": self.on_duty_share,
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
        """What one unit of ``row`` costs per elapsed hour: its cost per on-duty hour x the
        share of the week it is on duty, or 1 (head count)."""
        if not self.costed:
            return 1.0
        return (row.cost_per_hour or 0.0) * row.on_duty_share

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
        """The change file (docs/file-format.md) that applies this staffing: for ``compare``.

        An owner's capacity is ``{capacity: n}``; an owner with shifts gets its whole
        ``shifts:`` list, each with its calendar and new capacity, in the order declared
        (a JSON Merge Patch replaces a list: every searched shift is in it).
        """
        changed: dict[str, dict[str, Any]] = {}
        for row in self.staffing:
            if row.shift is None:
                changed[row.owner] = {"capacity": row.after}
                continue
            shifts = changed.setdefault(row.owner, {"shifts": []})["shifts"]
            shifts.append({"calendar": row.calendar, "capacity": row.after})
        described = ", ".join(f"{r.name} {r.before} -> {r.after}" for r in self.staffing)
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
