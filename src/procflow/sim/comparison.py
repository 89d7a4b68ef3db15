"""``procflow.compare``: a baseline and what-if changes, on common random numbers.

Every scenario is simulated with the same seed, so run ``r`` of the
baseline and run ``r`` of a change see the same arrivals and, step by step,
the same duration and routing draws (:mod:`procflow.sim.sampling`). The
difference of a KPI is then measured run by run, and its paired-t 95 %
interval is far narrower than two independent intervals would allow: a
change is *significant* when that interval excludes 0.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from procflow import metrics
from procflow.model import Change, Process
from procflow.sim.engine import EventSink
from procflow.sim.results import (
    JSON_VERSION,
    SimulationResult,
    goal_key,
    json_interval,
    json_number,
)
from procflow.sim.runlength import Cases
from procflow.sim.runner import ProgressCallback
from procflow.sim.simulation import (
    DEFAULT_CASES,
    DEFAULT_RUNS,
    DEFAULT_SEED,
    aggregate,
    prepare,
    run_length,
)
from procflow.sim.stats import Difference, paired
from procflow.sim.workingtime import default_start

HEADLINE: tuple[str, ...] = metrics.headline_keys()
"""The KPIs every comparison shows, before utilizations and goal metrics."""


def compared_keys(process: Process, results: Sequence[SimulationResult]) -> list[str]:
    """Headline KPIs, then each staff owner's utilization, then the goals' own metrics."""
    keys = list(HEADLINE)
    per_owner = [m for m in metrics.REGISTRY if m.argument == "owner"]
    for result in results:
        for owner_id, owner in result.owners.items():
            for found in per_owner:
                key = found.kpi_key(owner_id)
                if not owner.external and key not in keys:
                    keys.append(key)
    for goal in process.goals:
        measured = goal_key(goal)
        present = any(measured in r.kpis for r in results)
        if measured is not None and measured not in keys and present:
            keys.append(measured)
    return keys


@dataclass(frozen=True)
class Comparison:
    """What ``procflow.compare`` returns.

    ``differences[name][kpi]`` is a :class:`~procflow.sim.stats.Difference`
    (``baseline``, ``value``, ``difference``, ``ci95``, ``significant``) of
    change ``name`` against the baseline.
    """

    baseline: SimulationResult
    changes: dict[str, SimulationResult]
    keys: tuple[str, ...]
    differences: dict[str, dict[str, Difference]]

    @property
    def goals_met(self) -> bool:
        """True when no change has a goal whose verdict is ``not met`` (``--check-goals``)."""
        return all(result.goals_met for result in self.changes.values())

    @property
    def goals_certain(self) -> bool:
        """True when every change meets every measurable goal beyond doubt (``--strict-goals``)."""
        return all(result.goals_certain for result in self.changes.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON: the baseline's and each change's simulation, and the paired differences."""
        base = self.baseline
        return {
            "version": JSON_VERSION,
            "process": base.process,
            "cases": base.cases,
            "runs": base.runs,
            "seed": base.seed,
            "warmup": base.warmup,
            "baseline": base.to_dict(),
            "changes": [
                {
                    "change": name,
                    "result": result.to_dict(),
                    "differences": {
                        key: {
                            "baseline": json_number(diff.baseline),
                            "value": json_number(diff.value),
                            "difference": json_number(diff.difference),
                            "relative": json_number(diff.relative),
                            "ci95": json_interval(diff.ci95),
                            "significant": diff.significant,
                        }
                        for key, diff in self.differences[name].items()
                    },
                }
                for name, result in self.changes.items()
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False) + "\n"


def scenario_names(changes: Sequence[Process | Change], names: Sequence[str] | None) -> list[str]:
    """The labels of the changes: ``names`` where given, else the change ids (made unique).

    ``baseline`` is never a change's label; the baseline is always that.
    """
    chosen: list[str] = []
    for index, change in enumerate(changes):
        name: str
        if names is not None and index < len(names):
            name = names[index]
        elif isinstance(change, Change):
            name = change.id
        else:
            name = f"change-{index + 1}"
        base, counter = name, 2
        while name in chosen or name == "baseline":
            name = f"{base}-{counter}"
            counter += 1
        chosen.append(name)
    return chosen


def simulate_scenarios(
    processes: Sequence[Process],
    *,
    cases: Cases = DEFAULT_CASES,
    runs: int = DEFAULT_RUNS,
    seed: int | None = DEFAULT_SEED,
    warmup: int | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    log: Sequence[EventSink | None] | None = None,
    progress: ProgressCallback | None = None,
    start: datetime | None = None,
    estimates: bool = True,
    notes: bool = True,
) -> list[SimulationResult]:
    """Simulate ``processes`` (a baseline first, then its variants) on common random numbers.

    The scenario machinery that :func:`compare`, ``levers``, ``optimize``
    and ``diff --simulate`` share: one clock (``start``, default the
    baseline's next Monday), one set of options (the warm-up of ``cases="auto"``
    is the largest over the scenarios; an explicit number's default warm-up is the
    baseline's), one budget check over all of them, and every run of every
    scenario in one batch of replications.

    With an explicit number of ``cases``, the run-length estimate of each
    scenario (a pilot run: a whole extra run 1 of every scenario, and its
    analysis) decides nothing: it only gives each result its bias notes and
    ``warmup_estimate``. ``estimates=False`` skips it there, for callers that
    read neither (levers, optimize and diff read only KPIs and goal verdicts); the
    KPIs are the same either way. With ``cases="auto"`` the estimates set the
    warm-up, so they are always made. ``notes=False`` gives only the baseline its
    overload notes (each variant's would cost an analysis of it), for callers that
    read the baseline's alone (levers).
    """
    origin = start if start is not None else default_start(processes[0])
    plans = [prepare(process, origin) for process in processes]
    options, found = run_length(
        processes,
        plans,
        cases=cases,
        runs=runs,
        seed=seed,
        warmup=warmup,
        jobs=jobs,
        estimates=estimates,
    )
    stats = options.replicate(plans, scheduler=scheduler, log=log, progress=progress)
    return [
        aggregate(process, plan, runs_stats, options, estimate, notes=notes or index == 0)
        for index, (process, plan, runs_stats, estimate) in enumerate(
            zip(processes, plans, stats, found, strict=True)
        )
    ]


def compare(
    baseline: Process,
    *changes: Process | Change,
    names: Sequence[str] | None = None,
    cases: Cases = DEFAULT_CASES,
    runs: int = DEFAULT_RUNS,
    seed: int | None = DEFAULT_SEED,
    warmup: int | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    log: Sequence[EventSink | None] | None = None,
    progress: ProgressCallback | None = None,
    start: datetime | None = None,
    estimates: bool = True,
    notes: bool = True,
) -> Comparison:
    """Simulate ``baseline`` and every change with common random numbers and compare KPIs.

    ``baseline`` is a loaded :class:`~procflow.model.Process` (the public
    :func:`procflow.compare` also takes a path). A change is a changed
    :class:`~procflow.model.Process` (``p.apply(c)``, ``p.with_changes({...})``)
    or a :class:`~procflow.model.Change`, applied to ``baseline`` here (a
    change that leaves an invalid process raises
    :class:`~procflow.errors.ProcessError` pointing into the change file).
    ``names`` labels the changes (default: the change ids). Options are
    those of :func:`procflow.simulate`; ``log`` gives one
    :class:`~procflow.sim.engine.EventSink` (or ``None``) per scenario, the
    baseline first, for the events of run 1 (the public
    :func:`procflow.compare` opens one file per scenario). ``start`` (an aware datetime;
    default: the next Monday 00:00 in the baseline's time zone) is when simulation time 0
    falls for every scenario with calendars: one clock, so the scenarios stay paired.
    ``estimates=False`` skips what only the results' bias notes and ``warmup_estimate``
    need (see :func:`simulate_scenarios`): for callers that read neither; ``notes=False``
    the changes' overload notes (the baseline keeps its own).
    """
    if not isinstance(baseline, Process):
        raise TypeError(
            f"compare() takes a Process (procflow.load(path)), not {type(baseline).__name__}"
        )
    for change in changes:
        if not isinstance(change, Process | Change):
            raise TypeError(
                "compare() takes changes as changed Processes (p.apply(c)) or Changes "
                f"(procflow.load_change(path)), not {type(change).__name__}"
            )
    labels = scenario_names(changes, names)
    processes = [
        baseline.apply(change) if isinstance(change, Change) else change for change in changes
    ]
    base, *others = simulate_scenarios(
        [baseline, *processes],
        cases=cases,
        runs=runs,
        seed=seed,
        warmup=warmup,
        jobs=jobs,
        scheduler=scheduler,
        log=log,
        progress=progress,
        start=start,
        estimates=estimates,
        notes=notes,
    )
    results = dict(zip(labels, others, strict=True))
    keys = compared_keys(baseline, [base, *results.values()])
    missing: tuple[None, ...] = (None,) * base.runs
    differences = {
        label: {
            key: paired(
                base.kpis[key].runs if key in base.kpis else missing,
                result.kpis[key].runs if key in result.kpis else missing,
            )
            for key in keys
        }
        for label, result in results.items()
    }
    return Comparison(base, results, tuple(keys), differences)


__all__ = [
    "HEADLINE",
    "Comparison",
    "compare",
    "compared_keys",
    "scenario_names",
    "simulate_scenarios",
]
