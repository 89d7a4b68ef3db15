"""What :func:`procflow.diff` returns: structural changes, KPI effects, a simulated comparison.

Plain frozen dataclasses so a caller (or a renderer) reads them without
knowing how they were made; :meth:`ProcessDiff.to_dict` is the JSON
document of ``procflow diff --format json`` (docs/json.md).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Any, Literal

from procflow.errors import Position

JSON_VERSION = 1

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class StructuralChange:
    """One thing added, removed or changed between two versions of a process.

    ``subject`` names what it is about (``step 'triage'``, ``transition
    'simple' of step 'triage'``, ``owner 'agent'``, ``goal 'fast'``,
    ``arrivals``, ``process``); ``key`` the field changed within it (``p``,
    ``duration``), or ``None`` when the subject itself was added or
    removed. ``old`` and ``new`` are the values in the file's notation
    (``None`` on the side where it does not exist). ``path`` is the identity
    path (goals by id, a ``next:`` transition as ``next``). ``position`` is
    where the change is in NEW, or in OLD for a removal; ``new_position`` is
    always in NEW (for a removal, the nearest part that still exists).
    """

    kind: Kind
    path: tuple[str, ...]
    subject: str
    key: str | None
    old: str | None
    new: str | None
    position: Position
    new_position: Position

    @property
    def what(self) -> str:
        """``p of transition 'simple' of step 'triage'`` or ``step 'review'``."""
        return f"{self.key} of {self.subject}" if self.key else self.subject

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": list(self.path),
            "subject": self.subject,
            "key": self.key,
            "old": self.old,
            "new": self.new,
            "position": _position(self.position),
            "new_position": _position(self.new_position),
        }


Unit = Literal["seconds", "per_hour", "fraction", "number", "text"]


@dataclass(frozen=True)
class KpiEffect:
    """One analytic KPI in OLD and NEW and the difference (``None`` when a side has none).

    ``unit`` says how to read the numbers: ``seconds``, ``per_hour``,
    ``fraction``, ``number``, or ``text`` (the bottleneck's id). A goal's
    row also says whether each version meets it (``old_met``, ``new_met``).
    """

    kpi: str
    label: str
    unit: Unit
    old: float | str | None
    new: float | str | None
    old_met: bool | None = None
    new_met: bool | None = None

    @property
    def difference(self) -> float | None:
        if isinstance(self.old, int | float) and isinstance(self.new, int | float):
            value = float(self.new) - float(self.old)
            return value if math.isfinite(value) else None
        return None

    @property
    def known(self) -> bool:
        """Whether either version has a figure or a verdict to show."""
        values = (self.old, self.new, self.old_met, self.new_met)
        return any(value is not None for value in values)

    @property
    def changed(self) -> bool:
        return self.old != self.new or self.old_met != self.new_met

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "kpi": self.kpi,
            "label": self.label,
            "unit": self.unit,
            "old": _finite(self.old),
            "new": _finite(self.new),
            "difference": self.difference,
        }
        if self.kpi.startswith("goal:"):
            document["old_met"] = self.old_met
            document["new_met"] = self.new_met
        return document


@dataclass(frozen=True)
class SimulatedEffect:
    """A KPI simulated in both versions on common random numbers: paired difference, 95% CI."""

    kpi: str
    label: str
    unit: Unit
    old: float | None
    new: float | None
    difference: float | None
    ci95: tuple[float, float] | None
    significant: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi,
            "label": self.label,
            "unit": self.unit,
            "old": _finite(self.old),
            "new": _finite(self.new),
            "difference": _finite(self.difference),
            "ci95": None if self.ci95 is None else [_finite(v) for v in self.ci95],
            "significant": self.significant,
        }


@dataclass(frozen=True)
class Simulation:
    """The ``--simulate`` part: the options used and one row per KPI (or why it could not run)."""

    cases: int
    runs: int
    seed: int | None
    effects: tuple[SimulatedEffect, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "runs": self.runs,
            "seed": self.seed,
            "error": self.error,
            "effects": [effect.to_dict() for effect in self.effects],
        }


@dataclass(frozen=True)
class Version:
    """One side of the diff: the file it came from, the process id, and why it has no KPIs."""

    file: str
    process: str
    analysis_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "process": self.process, "analysis_error": self.analysis_error}


@dataclass(frozen=True)
class ProcessDiff:
    """What changed between two versions of a process, and what it does to the KPIs."""

    old: Version
    new: Version
    changes: tuple[StructuralChange, ...]
    kpis: tuple[KpiEffect, ...]
    simulation: Simulation | None = None

    @property
    def differs(self) -> bool:
        """True when the two versions differ in structure (KPIs follow from structure)."""
        return bool(self.changes)

    def count(self, kind: Kind) -> int:
        return sum(1 for change in self.changes if change.kind == kind)

    def relabel(self, files: dict[str, str]) -> ProcessDiff:
        """The same diff with file names replaced (a temporary copy shown as ``REV:path``)."""

        def name(position: Position) -> Position:
            return replace(position, file=files.get(position.file, position.file))

        changes = tuple(
            replace(c, position=name(c.position), new_position=name(c.new_position))
            for c in self.changes
        )
        old = replace(self.old, file=files.get(self.old.file, self.old.file))
        new = replace(self.new, file=files.get(self.new.file, self.new.file))
        return replace(self, old=old, new=new, changes=changes)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``procflow diff --format json`` (see docs/json.md)."""
        return {
            "version": JSON_VERSION,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "differs": self.differs,
            "summary": {kind: self.count(kind) for kind in ("added", "removed", "changed")},
            "changes": [change.to_dict() for change in self.changes],
            "kpis": [effect.to_dict() for effect in self.kpis],
            "simulation": None if self.simulation is None else self.simulation.to_dict(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False) + "\n"


def _position(position: Position) -> dict[str, Any]:
    return {"file": position.file, "line": position.line, "column": position.column}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
