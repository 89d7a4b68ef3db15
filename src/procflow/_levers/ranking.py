"""``procflow._levers``: rank single changes by their effect on a goal, on common random numbers.

The levers of :mod:`~procflow._levers.candidates` are screened analytically
(:mod:`~procflow._levers.screen`); the rest are simulated in two stages
(:mod:`~procflow._levers.stages`): a short screening of them all, then the
confirmation of the best few with the full replications, each stage one
:func:`procflow.compare` call with the baseline -- the same seed, so every
lever sees the same arrivals and, step by step, the same duration and
routing draws as the baseline. ``confirm=None`` (``--full``) simulates
every lever with the full replications instead. Each confirmed lever's
effect is the paired difference of the goal's KPI, run by run, with its
Student-t 95% interval; it is *significant* when that interval excludes 0.
Levers are ranked by how much they improve the goal (largest first); the
levers screening dropped follow, then the ones the analytic model screened.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from procflow._levers.candidates import Lever, all_levers
from procflow._levers.goal import GoalSpec, resolve_goal
from procflow._levers.screen import screen
from procflow._levers.stages import (
    DEFAULT_CONFIRM,
    INDIFFERENCE,
    RoundResult,
    Screened,
    Screening,
    screen_in_rounds,
    screening_design,
    worth_screening,
)
from procflow.analysis import Analysis, analyze
from procflow.analysis.routing import share_chain
from procflow.errors import ConfigError, SimulationError
from procflow.loader import load
from procflow.model import Process
from procflow.sim import Comparison, Difference, SimulationResult, compare
from procflow.sim.simulation import Options
from procflow.sim.workingtime import start_of

JSON_VERSION = 1
DEFAULT_CASES = 2_000
DEFAULT_RUNS = 5
DEFAULT_SEED = 0

Progress = Callable[[int, int], None]
"""Called with (cases done, cases in all) as the simulation goes, as by :func:`procflow.compare`."""

Stage = Literal["analytic", "screening", "confirmation", "full"]
"""Which stage decided a lever: screened analytically, dropped by the screening stage,
measured in the confirmation, or measured with every lever in full (``--full``)."""


@dataclass(frozen=True)
class LeverEffect:
    """One lever and what it did to the goal's KPI (all ``None`` when screened).

    ``difference`` is lever − baseline in KPI units (seconds, fractions, per
    hour) with its paired 95% interval ``ci95``; ``improvement`` is the same
    signed so that positive is better for the goal; ``rank`` is 1 for the
    best simulated lever and ``None`` for a screened one. These come from
    the full replications only (the confirmation, or ``--full``). ``stage``
    says which stage decided the lever; ``screening`` holds its figures from
    the screening stage, where it had one (``screening.reason``: why it was
    not confirmed).
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
    stage: Stage = "full"
    screening: Screened | None = None

    @property
    def screened_out(self) -> str | None:
        """Why the screening stage did not confirm the lever (``None`` when it did)."""
        if self.screening is None or self.screening.confirmed:
            return None
        return self.screening.reason

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
            "stage": self.stage,
            "screened_out": self.screened_out,
            "screening": _screening(self.screening),
        }


def _screening(found: Screened | None) -> dict[str, Any] | None:
    """A lever's screening figures in JSON (``None`` when it had no screening)."""
    if found is None:
        return None
    return {
        "rank": found.rank,
        "runs": len(found.runs),
        "value": _number(found.value),
        "difference": _number(found.difference),
        "ci95": _interval(found.ci95),
        "improvement": _number(found.improvement),
        "confirmed": found.confirmed,
    }


@dataclass(frozen=True)
class LeverRanking:
    """What :func:`levers` returns: the goal, the baseline and the levers, best first.

    ``effects`` holds the ranked levers (at most ``top``), then those the
    screening stage dropped (none with ``top``), then the analytically
    screened ones; ``considered`` counts every lever, ``simulated`` those
    simulated. ``cases``, ``runs``, ``seed`` and ``warmup`` are the full
    replications'; ``screening`` the screening stage's run length (``None``
    when every lever was simulated in full), ``confirm`` the levers it
    confirms at least (``None``: ``--full``).
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
    confirm: int | None = None
    screening: Screening | None = None

    @property
    def confirmed(self) -> int:
        """The levers simulated with the full replications."""
        return sum(1 for e in self.effects if e.stage in ("confirmation", "full"))

    @property
    def screened_out(self) -> int:
        """The levers the screening stage dropped."""
        return sum(1 for e in self.effects if e.stage == "screening")

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
            "design": {
                "method": "full" if self.screening is None else "two-stage",
                "confirm": self.confirm,
                "indifference": INDIFFERENCE if self.screening is not None else None,
                "screening": None if self.screening is None else self.screening.to_dict(),
                "confirmed": self.confirmed,
                "screened_out": self.screened_out,
            },
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


def _check_top(top: int | None, name: str = "top") -> None:
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ConfigError(f"{name} must be a whole number of at least 1, got {top!r}")


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
    confirm: int | None = DEFAULT_CONFIRM,
) -> LeverRanking:
    """Rank the single changes of ``process`` by their effect on ``goal`` (a goal id).

    Without ``goal``, by mean cycle time. ``top`` keeps the best ``top``
    simulated levers (the screened ones are listed after them either way).
    ``cases``, ``runs``, ``seed``, ``warmup``, ``jobs`` and ``scheduler`` are
    those of :func:`procflow.compare` for the full replications; so is
    ``start`` (ISO 8601 text or an aware datetime: when a
    process with calendars starts, docs/working-time.md). ``confirm`` is how
    many levers the screening stage keeps at least for the full replications
    (at least ``top``; docs/levers.md); ``confirm=None`` simulates every lever
    with the full replications (``--full``). Raises
    :class:`~procflow.errors.ProcessError`
    or :class:`~procflow.errors.SimulationError` (with positions) for a
    process that cannot be simulated, and
    :class:`~procflow.errors.ConfigError` for an unknown goal or bad options.
    """
    process = _process_of(process)
    _check_top(top)
    _check_top(confirm, "confirm")
    checked = Options.check(cases, runs, seed, warmup, jobs)  # bad options fail before any run
    _require_arrivals(process)
    analysis = analyze(process)  # also the gate: a broken process is refused here, positioned
    spec = resolve_goal(process, goal)
    candidates = all_levers(process)
    screened = _screened(process, analysis, spec, candidates)
    chosen = [lever for lever in candidates if lever.id not in screened]
    scenarios = {lever.id: lever.apply(process) for lever in chosen}
    for scenario in scenarios.values():  # only feedback levers change the routing: one chain
        share_chain(process, scenario)
    keep = None if confirm is None else max(confirm, top or 0)
    design = None if keep is None else screening_design(cases, checked.seed, warmup)
    shared = {"jobs": jobs, "scheduler": scheduler, "start": start_of(process, start)}
    run = _Levers(process, spec, chosen, scenarios, cases, runs, checked.seed, warmup, shared)
    if (
        design is None
        or keep is None
        or not worth_screening(len(chosen), keep, design, cases, runs)
    ):
        comparison = run.simulate(chosen, cases, runs, checked.seed, warmup, progress)
        return _rank(process, spec, comparison, candidates, {}, screened, top, keep, None)
    comparison, found, design = run.two_stages(keep, design, _Stages(progress, 0))
    return _rank(process, spec, comparison, candidates, found, screened, top, keep, design)


@dataclass(frozen=True)
class _Levers:
    """The simulations of one ranking: the baseline and its levers' scenarios, the full run
    length and the options every stage shares (jobs, scheduler, start)."""

    process: Process
    spec: GoalSpec
    chosen: Sequence[Lever]
    scenarios: dict[str, Process]
    cases: int
    runs: int
    seed: int
    warmup: int | None
    options: dict[str, Any]

    def simulate(
        self,
        levers: Sequence[Lever],
        cases: int,
        runs: int,
        seed: int,
        warmup: int | None,
        progress: Progress | None,
    ) -> Comparison:
        """The baseline and ``levers`` in one :func:`procflow.compare` call (common random
        numbers)."""
        return compare(
            self.process,
            *(self.scenarios[lever.id] for lever in levers),
            names=[lever.id for lever in levers],
            cases=cases,
            runs=runs,
            seed=seed,
            warmup=warmup,
            estimates=False,  # the ranking reads the goal's KPI only, never the bias notes,
            notes=False,  # and the baseline's overload notes only
            progress=progress,
            **self.options,
        )

    def two_stages(
        self, keep: int, design: Screening, stages: _Stages
    ) -> tuple[Comparison, dict[str, Screened], Screening]:
        """Screen every lever in rounds, then confirm the ones screening keeps in full."""
        by_id = {lever.id: lever for lever in self.chosen}
        full = self.runs * self.cases

        def screening_round(ids: Sequence[str], round_seed: int) -> RoundResult:
            stages.rest = (keep + 1) * full
            levers = [by_id[i] for i in ids]
            found = self.simulate(
                levers, design.cases, design.runs, round_seed, design.warmup, stages
            )
            stages.finished((len(ids) + 1) * design.runs * design.cases)
            kpis = {i: _kpi_runs(found.changes[i], self.spec) for i in ids}
            return _kpi_runs(found.baseline, self.spec), kpis

        found, rounds = screen_in_rounds(
            list(by_id),
            keep,
            design,
            {lever.id: lever.title for lever in self.chosen},
            screening_round,
            self.spec.improvement,
            full,
        )
        kept = [lever for lever in self.chosen if found[lever.id].confirmed]
        stages.rest = 0
        comparison = self.simulate(kept, self.cases, self.runs, self.seed, self.warmup, stages)
        return comparison, found, replace(design, rounds=rounds)


class _Stages:
    """One progress bar over every stage: the screening rounds, then the confirmation.

    A stage reports its own cases; the bar adds the stages finished before it
    and ``rest``, the fewest cases the stages after it will have.
    """

    def __init__(self, progress: Progress | None, rest: int) -> None:
        self.progress = progress
        self.before = 0
        self.rest = rest

    def __call__(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(self.before + done, self.before + total + self.rest)

    def finished(self, cases: int) -> None:
        self.before += cases


def _kpi_runs(result: SimulationResult, spec: GoalSpec) -> list[float | None]:
    """The goal's KPI in each run of ``result`` (``None`` in every run without the KPI)."""
    found = result.kpis.get(spec.kpi)
    return [None] * result.runs if found is None else list(found.runs)


def _effect(
    lever: Lever, diff: Difference | None, goal: GoalSpec, stage: Stage, found: Screened | None
) -> LeverEffect:
    """The paired difference a simulated lever made to the goal's KPI (none without a value)."""
    if diff is None or diff.value is None or diff.difference is None or diff.baseline is None:
        return LeverEffect(lever, None, None, stage=stage, screening=found)
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
        stage=stage,
        screening=found,
    )


def _rank(
    process: Process,
    spec: GoalSpec,
    comparison: Comparison,
    candidates: Sequence[Lever],
    found: dict[str, Screened],
    screened: dict[str, str],
    top: int | None,
    keep: int | None,
    design: Screening | None,
) -> LeverRanking:
    """The ranking: confirmed levers by their full-replication improvement, then the rest."""
    base = comparison.baseline
    measured_kpi = base.kpis.get(spec.kpi)
    if measured_kpi is None or measured_kpi.mean is None:
        raise SimulationError(
            f"{process.position(('process',))}: the simulation of {process.id!r} has no value "
            f"for {spec.label} ({spec.kpi}), so no lever can be ranked by it"
        )
    stage: Stage = "full" if design is None else "confirmation"
    measured = [
        _effect(
            lever, comparison.differences[lever.id].get(spec.kpi), spec, stage, found.get(lever.id)
        )
        for lever in candidates
        if lever.id in comparison.differences
    ]
    order = {lever.id: index for index, lever in enumerate(candidates)}
    valued = [e for e in measured if e.improvement is not None]
    valued.sort(key=lambda e: (-(e.improvement or 0.0), order[e.lever.id]))
    if top is not None:
        valued = valued[:top]
    ranked = [replace(effect, rank=rank) for rank, effect in enumerate(valued, start=1)]
    unvalued = [e for e in measured if e.improvement is None]
    dropped = sorted(
        (
            LeverEffect(lever, None, None, stage="screening", screening=found[lever.id])
            for lever in candidates
            if lever.id in found and not found[lever.id].confirmed
        ),
        key=lambda e: (
            e.screening.rank if e.screening and e.screening.rank else 0,
            order[e.lever.id],
        ),
    )
    if top is not None:
        dropped = []
    skipped = [
        LeverEffect(lever, None, screened[lever.id], stage="analytic")
        for lever in candidates
        if lever.id in screened
    ]
    return LeverRanking(
        process=process.id,
        goal=spec,
        cases=base.cases,
        runs=base.runs,
        seed=base.seed,
        warmup=base.warmup,
        baseline=measured_kpi.mean,
        baseline_ci95=measured_kpi.ci95,
        effects=(*ranked, *unvalued, *dropped, *skipped),
        considered=len(candidates),
        simulated=len(candidates) - len(screened),
        notes=tuple(base.notes),
        confirm=keep,
        screening=design,
    )


__all__ = [
    "DEFAULT_CASES",
    "DEFAULT_CONFIRM",
    "DEFAULT_RUNS",
    "DEFAULT_SEED",
    "JSON_VERSION",
    "LeverEffect",
    "LeverRanking",
    "levers",
]
