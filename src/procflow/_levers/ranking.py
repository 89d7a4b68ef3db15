"""``procflow._levers``: rank single changes by their effect on a goal, on common random numbers.

The levers of :mod:`~procflow._levers.candidates` are screened analytically
(:mod:`~procflow._levers.screen`); the rest are simulated *once*, all in one
:func:`procflow.compare` call with the baseline: the same seed, so every
lever sees the same arrivals and, step by step, the same duration and
routing draws as the baseline. Each lever's effect is then the paired
difference of the goal's KPI, run by run, with its Student-t 95% interval;
it is *significant* when that interval excludes 0. Levers are ranked by how
much they improve the goal (largest first); the screened ones follow.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from procflow._levers.candidates import Lever, all_levers
from procflow._levers.goal import GoalSpec, resolve_goal
from procflow._levers.screen import screen
from procflow.analysis import Analysis, analyze
from procflow.analysis.routing import share_chain
from procflow.errors import ConfigError, SimulationError
from procflow.loader import load
from procflow.model import Process
from procflow.sim import Comparison, Difference, compare
from procflow.sim.workingtime import start_of

JSON_VERSION = 1
DEFAULT_CASES = 2_000
DEFAULT_RUNS = 5
DEFAULT_SEED = 0

Progress = Callable[[int, int], None]
"""Called with (cases done, cases in all) as the simulation goes, as by :func:`procflow.compare`."""


@dataclass(frozen=True)
class LeverEffect:
    """One lever and what it did to the goal's KPI (all ``None`` when screened).

    ``difference`` is lever − baseline in KPI units (seconds, fractions, per
    hour) with its paired 95% interval ``ci95``; ``improvement`` is the same
    signed so that positive is better for the goal; ``rank`` is 1 for the
    best simulated lever and ``None`` for a screened one.
    """

    lever: Lever
    rank: int | None
    screened: str | None
    value: float | None = None
    difference: float | None = None
    relative: float | None = None
    ci95: tuple[float, float] | None = None
    significant: bool | None = None
    improvement: float | None = None

    @property
    def per_cost(self) -> float | None:
        """The difference per unit of staffing cost per hour the lever adds, where it has one.

        ``None`` for levers without a staffing cost (durations, feedback,
        automation) and for owners without ``cost_per_hour`` or with a cost of 0.
        """
        cost = self.lever.cost_per_hour
        if self.difference is None or cost is None or cost <= 0.0:
            return None
        return self.difference / cost

    def to_dict(self) -> dict[str, Any]:
        lever = self.lever
        return {
            "rank": self.rank,
            "lever": lever.id,
            "kind": lever.kind,
            "subject": lever.subject,
            "description": lever.description,
            "before": lever.before,
            "after": lever.after,
            "screened": self.screened,
            "value": _number(self.value),
            "difference": _number(self.difference),
            "relative": _number(self.relative),
            "ci95": _interval(self.ci95),
            "significant": self.significant,
            "improvement": _number(self.improvement),
            "cost_per_hour": lever.cost_per_hour,
            "per_cost": _number(self.per_cost),
        }


@dataclass(frozen=True)
class LeverRanking:
    """What :func:`levers` returns: the goal, the baseline and the levers, best first.

    ``effects`` holds the ranked levers (at most ``top``), then the screened
    ones; ``considered`` counts every lever, ``simulated`` those simulated.
    ``ranking["capacity:tier2"]`` finds one lever's effect by id.
    """

    process: str
    goal: GoalSpec
    cases: int
    runs: int
    seed: int
    warmup: int
    baseline: float
    baseline_ci95: tuple[float, float] | None
    effects: tuple[LeverEffect, ...]
    considered: int
    simulated: int
    notes: tuple[str, ...] = ()

    def __getitem__(self, lever_id: str) -> LeverEffect:
        for effect in self.effects:
            if effect.lever.id == lever_id:
                return effect
        raise KeyError(lever_id)

    @property
    def ranked(self) -> tuple[LeverEffect, ...]:
        """The simulated levers, best first."""
        return tuple(effect for effect in self.effects if effect.rank is not None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``procflow levers --format json``."""
        return {
            "version": JSON_VERSION,
            "process": self.process,
            "goal": self.goal.to_dict(),
            "cases": self.cases,
            "runs": self.runs,
            "seed": self.seed,
            "warmup": self.warmup,
            "baseline": {"value": _number(self.baseline), "ci95": _interval(self.baseline_ci95)},
            "considered": self.considered,
            "simulated": self.simulated,
            "screened": sum(1 for effect in self.effects if effect.screened is not None),
            "levers": [effect.to_dict() for effect in self.effects],
            "notes": list(self.notes),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False) + "\n"


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _interval(ci: tuple[float, float] | None) -> list[float] | None:
    if ci is None or not all(math.isfinite(v) for v in ci):
        return None
    return [ci[0], ci[1]]


def _process_of(process: Process | str | os.PathLike[str]) -> Process:
    if isinstance(process, str | os.PathLike):
        return load(process)
    if not isinstance(process, Process):
        raise TypeError(
            "levers() takes a Process (procflow.load(path)) or the path of a process file, "
            f"not {type(process).__name__}"
        )
    return process


def _check_top(top: int | None) -> None:
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ConfigError(f"top must be a whole number of at least 1, got {top!r}")


def _require_arrivals(process: Process) -> None:
    if process.arrivals is None:
        raise SimulationError(
            f"{process.position(('process',))}: process {process.id!r} has no arrivals, and "
            "levers need them: a lever's effect is measured by simulating cases arriving "
            "(queues, waiting and utilization all depend on how often work comes in); "
            "add e.g. 'arrivals: {rate: 8/h}'"
        )


def _screened(
    process: Process, analysis: Analysis, goal: GoalSpec, candidates: Sequence[Lever]
) -> dict[str, str]:
    """Lever id -> why it provably has no effect, for the levers that need no simulation."""
    found: dict[str, str] = {}
    for lever in candidates:
        reason = screen(process, analysis, goal, lever)
        if reason is not None:
            found[lever.id] = reason
    return found


def levers(
    process: Process | str | os.PathLike[str],
    goal: str | None = None,
    top: int | None = None,
    *,
    cases: int = DEFAULT_CASES,
    runs: int = DEFAULT_RUNS,
    seed: int = DEFAULT_SEED,
    warmup: int | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    progress: Progress | None = None,
    start: str | datetime | None = None,
) -> LeverRanking:
    """Rank the single changes of ``process`` by their effect on ``goal`` (a goal id).

    Without ``goal``, by mean cycle time. ``top`` keeps the best ``top``
    simulated levers (the screened ones are listed after them either way).
    ``cases``, ``runs``, ``seed``, ``warmup``, ``jobs`` and ``scheduler`` are
    those of :func:`procflow.compare`, which simulates the baseline and
    every lever in one call; so is ``start`` (ISO 8601 text or an aware datetime: when a
    process with calendars starts, docs/working-time.md). Raises
    :class:`~procflow.errors.ProcessError`
    or :class:`~procflow.errors.SimulationError` (with positions) for a
    process that cannot be simulated, and
    :class:`~procflow.errors.ConfigError` for an unknown goal or bad options.
    """
    process = _process_of(process)
    _check_top(top)
    _require_arrivals(process)
    analysis = analyze(process)  # also the gate: a broken process is refused here, positioned
    spec = resolve_goal(process, goal)
    candidates = all_levers(process)
    screened = _screened(process, analysis, spec, candidates)
    chosen = [lever for lever in candidates if lever.id not in screened]
    scenarios = [lever.apply(process) for lever in chosen]
    for scenario in scenarios:  # only feedback levers change the routing: one chain for the rest
        share_chain(process, scenario)
    comparison = compare(
        process,
        *scenarios,
        names=[lever.id for lever in chosen],
        cases=cases,
        runs=runs,
        seed=seed,
        warmup=warmup,
        jobs=jobs,
        scheduler=scheduler,
        progress=progress,
        start=start_of(process, start),
        estimates=False,  # the ranking reads the goal's KPI only, never the bias notes
    )
    return _rank(process, spec, comparison, candidates, chosen, screened, top)


def _effect(lever: Lever, diff: Difference | None, goal: GoalSpec) -> LeverEffect:
    """The paired difference a simulated lever made to the goal's KPI (none without a value)."""
    if diff is None or diff.value is None or diff.difference is None or diff.baseline is None:
        return LeverEffect(lever, None, None)
    return LeverEffect(
        lever,
        None,
        None,
        diff.value,
        diff.difference,
        diff.relative,
        diff.ci95,
        diff.significant,
        goal.improvement(diff.difference, diff.baseline),
    )


def _rank(
    process: Process,
    spec: GoalSpec,
    comparison: Comparison,
    candidates: Sequence[Lever],
    chosen: Sequence[Lever],
    screened: dict[str, str],
    top: int | None,
) -> LeverRanking:
    base = comparison.baseline
    found = base.kpis.get(spec.kpi)
    if found is None or found.mean is None:
        raise SimulationError(
            f"{process.position(('process',))}: the simulation of {process.id!r} has no value "
            f"for {spec.label} ({spec.kpi}), so no lever can be ranked by it"
        )
    measured = [
        _effect(lever, comparison.differences[lever.id].get(spec.kpi), spec) for lever in chosen
    ]
    order = {lever.id: index for index, lever in enumerate(candidates)}
    valued = [e for e in measured if e.improvement is not None]
    valued.sort(key=lambda e: (-(e.improvement or 0.0), order[e.lever.id]))
    if top is not None:
        valued = valued[:top]
    ranked = [replace(effect, rank=rank) for rank, effect in enumerate(valued, start=1)]
    unvalued = [e for e in measured if e.improvement is None]
    skipped = [
        LeverEffect(lever, None, screened[lever.id]) for lever in candidates if lever.id in screened
    ]
    return LeverRanking(
        process=process.id,
        goal=spec,
        cases=base.cases,
        runs=base.runs,
        seed=base.seed,
        warmup=base.warmup,
        baseline=found.mean,
        baseline_ci95=found.ci95,
        effects=(*ranked, *unvalued, *skipped),
        considered=len(candidates),
        simulated=len(chosen),
        notes=tuple(base.notes),
    )


__all__ = [
    "DEFAULT_CASES",
    "DEFAULT_RUNS",
    "DEFAULT_SEED",
    "JSON_VERSION",
    "LeverEffect",
    "LeverRanking",
    "levers",
]
