"""``procflow.simulate``: check the options, compile the process, run, aggregate."""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from procflow.errors import ConfigError
from procflow.model import Process
from procflow.sim.budget import check_budget, check_dates
from procflow.sim.budget import estimate as estimate_cost
from procflow.sim.engine import EventSink, RunStats
from procflow.sim.plan import Plan, compile_process
from procflow.sim.results import SimulationResult, build_result, tracked_steps
from procflow.sim.runlength import (
    AUTO,
    COUNTED,
    WARMUP_CYCLES,
    Cases,
    WarmupEstimate,
    auto_warmup,
    bias_notes,
    check_cases,
    estimate_warmup,
)
from procflow.sim.runner import ProgressCallback, run_replications
from procflow.sim.workingtime import working_time

DEFAULT_CASES: Cases = AUTO
"""``--cases auto``: the estimated warm-up plus 10,000 counted cases (:mod:`.runlength`)."""
DEFAULT_RUNS = 10
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Options:
    """Validated simulation options (the CLI's and the API's)."""

    cases: int
    runs: int
    seed: int
    warmup: int
    jobs: int | None
    visits: float | None = None
    """The expected step visits of the whole run (every scenario, case and run), when the
    analytic model knows them: whether worker processes are worth starting."""

    @classmethod
    def check(
        cls,
        cases: int = COUNTED,
        runs: int = DEFAULT_RUNS,
        seed: int | None = DEFAULT_SEED,
        warmup: int | None = None,
        jobs: int | None = None,
        *,
        process: Process | None = None,
    ) -> Options:
        """Refuse impossible options with a :class:`ConfigError` (exit 2).

        Without ``warmup``, the warm-up :func:`default_warmup` gives ``process``
        (a tenth of the cases without one).
        """
        for name, value in (("cases", cases), ("runs", runs)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a whole number of at least 1, got {value!r}")
        if warmup is None:
            warmup = cases // 10 if process is None else default_warmup(process, cases)
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ConfigError(f"warmup must be a whole number of at least 0, got {warmup!r}")
        if warmup >= cases:
            raise ConfigError(
                f"warmup ({warmup}) must be smaller than cases ({cases}): no case would be counted"
            )
        if seed is None:
            seed = secrets.randbits(32)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed must be a whole number of at least 0, got {seed!r}")
        if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
            raise ConfigError(f"jobs must be a whole number of at least 1, got {jobs!r}")
        return cls(cases, runs, seed, warmup, jobs)

    def replicate(
        self,
        plans: Sequence[Plan],
        *,
        scheduler: Any = None,
        log: EventSink | Sequence[EventSink | None] | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[list[RunStats]]:
        """Run the replications of every plan with these options (common random numbers)."""
        return run_replications(
            plans,
            runs=self.runs,
            seed=self.seed,
            cases=self.cases,
            warmup=self.warmup,
            jobs=self.jobs,
            scheduler=scheduler,
            log=log,
            progress=progress,
            visits=self.visits,
        )


def default_warmup(process: Process, cases: int) -> int:
    """Cases to leave uncounted when ``--cases N`` is given without ``--warmup``.

    A run starts empty; until the cases that arrived first have had time to
    finish, queues and the number of cases in the system are below their
    steady state. The default skips the arrivals of about three expected
    cycle times (from the analytic model), at least a tenth of the cases and
    at most half of them; when that is less than the process needs, the
    result says so (:func:`procflow.sim.runlength.bias_notes`).
    """
    from procflow.analysis import analyze_or_none

    least = cases // 10
    analysis = analyze_or_none(process)
    expected = analysis.cycle_time.expected if analysis is not None else None
    if analysis is None or expected is None or not math.isfinite(expected):
        return least
    covering = math.ceil(WARMUP_CYCLES * expected * analysis.arrival_rate_per_hour / 3600.0)
    return max(least, min(covering, cases // 2))


def overload_notes(process: Process) -> tuple[str, ...]:
    """Warnings for owners whose offered load reaches their capacity (no steady state)."""
    from procflow.analysis import analyze_or_none

    analysis = analyze_or_none(process)
    if analysis is None:
        return ()
    notes = []
    for owner in analysis.owners.values():
        if not owner.external and not owner.stable:
            utilization = owner.utilization or 0.0
            needed = (
                f"; it needs a capacity of at least {owner.required_capacity}"
                if owner.required_capacity
                else ""
            )
            notes.append(
                f"{owner.id} is overloaded (offered load {utilization:.0%} of its capacity): "
                f"its queue grows through every run, so waiting and cycle time grow with "
                f"--cases{needed}"
            )
    return tuple(notes)


def prepare(process: Process, start: datetime | None = None) -> Plan:
    """Check and compile ``process`` for simulation, recording what its goals need; with
    calendars, on a real clock from ``start`` (default: the next Monday 00:00 in the
    process time zone, docs/working-time.md)."""
    plan = compile_process(process).with_tracked(tracked_steps(process))
    working = working_time(process, start)
    return plan if working is None else plan.with_working(working)


def run_length(
    processes: Sequence[Process],
    plans: Sequence[Plan],
    *,
    cases: object,
    runs: int,
    seed: int | None,
    warmup: int | None,
    jobs: int | None,
    estimates: bool = True,
) -> tuple[Options, list[WarmupEstimate | None]]:
    """The options of a run of ``processes`` (a baseline and its changes) and their warm-ups.

    ``cases="auto"``: the warm-up is the largest estimate over the
    processes (or ``warmup`` when given), plus :data:`~.runlength.COUNTED`
    counted cases. Explicit ``cases``: as given, and the estimates tell
    :func:`aggregate` whether to warn about bias; ``estimates=False`` skips them
    there (each a pilot run) for callers that show no bias note.

    The run's cost is checked here, before anything long is simulated
    (:func:`~procflow.sim.budget.check_budget`), once for the whole run:
    within :data:`~procflow.sim.budget.BUDGET` step visits.
    """
    chosen = check_cases(cases)
    if isinstance(chosen, str):
        first = Options.check(COUNTED + (warmup or 0), runs, seed, warmup or 0, jobs)
        check_dates(processes, _origins(plans), cases=first.cases)  # before the pilot runs
        found = [
            estimate_warmup(process, plan, first.seed, AUTO)
            for process, plan in zip(processes, plans, strict=True)
        ]
        skip = warmup if warmup is not None else auto_warmup(found)
        options = Options.check(skip + COUNTED, runs, first.seed, skip, jobs)
        return _costed(processes, plans, options), list(found)
    options = _costed(
        processes, plans, Options.check(chosen, runs, seed, warmup, jobs, process=processes[0])
    )
    if not estimates:
        return options, [None] * len(processes)
    return options, [
        estimate_warmup(process, plan, options.seed, options.cases)
        for process, plan in zip(processes, plans, strict=True)
    ]


def _costed(processes: Sequence[Process], plans: Sequence[Plan], options: Options) -> Options:
    """``options`` with the expected visits of the run, once it is within the budget and
    its arrivals within the dates there are."""
    check_dates(processes, _origins(plans), cases=options.cases)
    check_budget(processes, cases=options.cases, runs=options.runs)
    cost = estimate_cost(processes, cases=options.cases, runs=options.runs)
    return options if cost is None else replace(options, visits=cost.visits)


def _origins(plans: Sequence[Plan]) -> list[datetime | None]:
    """Where each plan's clock starts on dates (``None`` without calendars)."""
    return [None if plan.working is None else plan.working.origin for plan in plans]


def aggregate(
    process: Process,
    plan: Plan,
    runs: Sequence[RunStats],
    options: Options,
    warmup: WarmupEstimate | None = None,
    *,
    notes: bool = True,
) -> SimulationResult:
    """The result of the runs of one process, with notes on its overloaded owners
    and on bias from too short a warm-up or too few counted cases; ``notes=False``
    leaves out the overload notes (an analysis of the process) for a caller that
    reads none."""
    result = build_result(process, plan, runs, seed=options.seed)
    bias = (
        bias_notes(warmup, cases=options.cases, warmup=options.warmup) if warmup is not None else ()
    )
    return replace(
        result,
        notes=overload_notes(process) if notes else (),
        bias=bias,
        warmup_estimate=warmup.cases if warmup is not None and warmup.known else None,
    )


def simulate(
    process: Process,
    *,
    cases: Cases = DEFAULT_CASES,
    runs: int = DEFAULT_RUNS,
    seed: int | None = DEFAULT_SEED,
    warmup: int | None = None,
    jobs: int | None = None,
    scheduler: Any = None,
    log: EventSink | None = None,
    progress: ProgressCallback | None = None,
    start: datetime | None = None,
) -> SimulationResult:
    """Simulate ``process`` (docs/simulation-engine.md) and return KPIs with 95 % intervals.

    ``process`` is a loaded :class:`~procflow.model.Process` (the public
    :func:`procflow.simulate` also takes a path). ``cases`` arrive in each of
    ``runs`` independent replications; the first ``warmup`` are not counted.
    ``cases="auto"`` (the default) runs the warm-up the process needs
    (MSER-5 on run 1's cycle times, at least three expected cycle times of
    arrivals) plus 10,000 counted cases; with a number of ``cases``,
    ``warmup`` defaults to :func:`default_warmup` and the result's ``notes``
    say when the figures
    are biased (docs/run-length-and-verdicts.md). The same ``seed`` gives
    the same result, whatever ``jobs`` (worker processes; default: the
    machine's cores) or ``scheduler`` (a Dask scheduler address or
    ``distributed.Client``) runs it; ``seed=None`` draws a fresh seed, which
    the result records. ``log``, an :class:`~procflow.sim.engine.EventSink`
    (an object with ``write_simulated``), receives the events of the first
    run; writing them to a file is the caller's business. ``start`` (an aware
    datetime) is when simulation time 0 falls for a process with calendars
    (docs/working-time.md).

    Raises :class:`~procflow.errors.ProcessError` when the process has
    structural errors, :class:`~procflow.errors.SimulationError` when it
    lacks arrivals or durations or would need more than
    :data:`~procflow.sim.budget.MAX_VISITS` step visits (a loop cases
    almost never leave), :class:`~procflow.errors.ConfigError` for
    impossible options.

    >>> import procflow
    >>> p = procflow.load("processes/customer-service.yaml")  # doctest: +SKIP
    >>> r = procflow.simulate(p, cases=2_000, runs=5, seed=1)  # doctest: +SKIP
    >>> r["cycle_time.mean"].mean / 3600  # doctest: +SKIP
    5.6...
    """
    plan = prepare(process, start)
    options, (estimate,) = run_length(
        [process], [plan], cases=cases, runs=runs, seed=seed, warmup=warmup, jobs=jobs
    )
    (runs_stats,) = options.replicate([plan], scheduler=scheduler, log=log, progress=progress)
    return aggregate(process, plan, runs_stats, options, estimate)


__all__ = [
    "DEFAULT_CASES",
    "DEFAULT_RUNS",
    "DEFAULT_SEED",
    "Options",
    "aggregate",
    "prepare",
    "run_length",
    "simulate",
]
