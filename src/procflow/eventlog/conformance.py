"""Hold an event log against a process: :func:`check_log` -> :class:`LogReport`.

Conformance comes from the replay (:mod:`~procflow.eventlog.replay`): the
share of cases the process allows and, for the others, their first deviation,
grouped and counted. Measured performance is set next to what the process
declares:

* **durations** -- a declared duration is *contradicted* when at least
  :data:`MIN_OBSERVATIONS` observations put the observed mean more than
  :data:`TOLERANCE` (10 %) away from the declared mean *and* more than
  :data:`Z_CRITICAL` (3.29, two-sided 99.9 %) standard errors away. With
  service times (logs with start and end) both directions count. A
  complete-only log shows elapsed time (waiting + service), which can only
  bound the service time from above: there, only a declared mean *longer*
  than the elapsed time contradicts.
* **branching** -- each transition's observed share of the departures from
  its step, with a 99 % Wilson interval; the declared ``p`` (or the equal
  share when none is declared) is *inconsistent* when it falls outside.
  At a step with a bounded transition (``max``) only the departures where
  every bounded transition was still available to the case count: after a
  case has used one up, docs/file-format.md#transitions renormalizes the remaining ``p``, so those
  departures do not follow the declared ones (see
  :mod:`~procflow.eventlog.replay` for why this estimate is unbiased).
* **owners** -- events and distinct resources per declared owner; with
  service times, the busy time and the observed utilization
  (busy time / log period / capacity).
* **bottleneck** -- with service times, the staff owner with the highest
  observed utilization; always, the step where cases spend the largest
  share of their time (waiting included).
* **rework** -- the share of cases that took a feedback edge, next to the
  share the declared routing implies (from :func:`procflow.analyze`, when
  the process has arrivals and durations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from procflow.compiled import Edge
from procflow.errors import ProcflowError
from procflow.eventlog.columns import ColumnIndex
from procflow.eventlog.events import Event
from procflow.eventlog.reader import EventLog
from procflow.eventlog.replay import Measurements, replay
from procflow.eventlog.stats import Sample, wilson_interval
from procflow.eventlog.timestamps import to_datetime
from procflow.eventlog.workhours import (
    WorkingHours,
    on_duty_seconds,
    working_hours,
    working_service,
)
from procflow.model import Process

MIN_OBSERVATIONS = 30
TOLERANCE = 0.10
Z_CRITICAL = 3.29

_MESSAGES = {
    "wrong-start": "the case does not begin at the start step",
    "unknown-activity": "an activity matches no step",
    "undeclared-transition": "a transition the process does not declare",
    "max-exceeded": "a bounded transition taken more often than its max",
    "after-end": "events after the case reached an end step",
    "not-finished": "the case stops at a step with no transition into an end step",
    "skipped-branch": "a branch of a fork has no event before its join",
    "incomplete-branch": "a branch of a fork stops before its join",
}


@dataclass(frozen=True)
class Deviation:
    """A group of non-conforming cases that deviate first in the same way."""

    kind: str
    source: str | None
    target: str | None
    cases: int
    example: str

    @property
    def message(self) -> str:
        if self.kind == "wrong-start":
            return f"begins at {self.target!r}, not at the start step"
        if self.kind == "unknown-activity":
            after = f" after {self.source!r}" if self.source else ""
            return f"activity {self.target!r} matches no step{after}"
        if self.kind == "undeclared-transition":
            return f"{self.source!r} -> {self.target!r} is not a declared transition"
        if self.kind == "max-exceeded":
            return f"{self.source!r} -> {self.target!r} taken more often than its max"
        if self.kind == "after-end":
            return f"{self.target!r} after the end step {self.source!r}"
        if self.kind == "skipped-branch":
            return (
                f"branch {self.target!r} of the fork at {self.source!r} is skipped: "
                "it has no event before the branches join"
            )
        if self.kind == "incomplete-branch":
            return (
                f"a branch stops at {self.source!r} before the join {self.target!r}: "
                "there is no transition into the join from there"
            )
        if self.kind == "not-finished":
            return (
                f"case not finished: its last event is {self.source!r}, "
                "which has no transition into an end step"
            )
        return _MESSAGES.get(self.kind, self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "from": self.source,
            "to": self.target,
            "cases": self.cases,
            "example": self.example,
            "message": self.message,
        }


FREE_BASIS = "departures with every transition available"
"""What branch shares are computed from at a step with a bounded transition."""
ALL_BASIS = "all departures"
"""What branch shares are computed from at a step without one."""


@dataclass(frozen=True)
class BranchCheck:
    """One transition of a step with several: declared vs observed share.

    ``observed`` of ``departures`` are the counts the share is computed from:
    at a step with a bounded transition (``bounded_step``), the departures
    at which every bounded transition of the step was still available to the
    case; elsewhere, all departures. ``taken`` of ``all_departures`` count
    every departure, including those made after a bound was used up.
    """

    edge: Edge
    declared: float
    observed: int
    departures: int
    low: float
    high: float
    taken: int
    all_departures: int
    bounded_step: bool
    source: str
    """The id of the step the transition leaves (``edge.source`` is its index)."""

    @property
    def basis(self) -> str:
        """What ``observed`` / ``departures`` count (:data:`FREE_BASIS` or :data:`ALL_BASIS`)."""
        return FREE_BASIS if self.bounded_step else ALL_BASIS

    @property
    def share(self) -> float:
        return self.observed / self.departures if self.departures else math.nan

    @property
    def consistent(self) -> bool:
        return self.departures == 0 or self.low <= self.declared <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "trigger": self.edge.trigger,
            "to": self.edge.to,
            "feedback": self.edge.feedback,
            "declared_p": self.declared,
            "p_declared": self.edge.p is not None,
            "observed": self.observed,
            "departures": self.departures,
            "basis": self.basis,
            "share": _num(self.share),
            "ci99": [self.low, self.high],
            "consistent": self.consistent,
            "taken": self.taken,
            "all_departures": self.all_departures,
        }


@dataclass(frozen=True)
class DurationCheck:
    """A declared duration against what the log shows."""

    step: str
    declared: str
    declared_mean: float
    kind: str  # "service" or "elapsed"
    n: int
    observed_mean: float
    standard_error: float
    verdict: str  # "consistent", "contradicted", "too-few"

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "declared": self.declared,
            "declared_mean": self.declared_mean,
            "measured": self.kind,
            "n": self.n,
            "observed_mean": _num(self.observed_mean),
            "standard_error": _num(self.standard_error),
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class OwnerLoad:
    """Work the log shows for one declared owner."""

    owner: str
    capacity: int | None
    external: bool
    steps: tuple[str, ...]
    events: int
    resources: int
    top: tuple[tuple[str, int], ...]
    busy: float | None
    utilization: float | None
    on_duty: float | None = None
    """Unit-seconds on duty over the log's period, for an owner with a calendar or shifts:
    then ``busy`` is working time and ``utilization`` is busy over on-duty time
    (docs/working-time.md); ``None``: elapsed busy time over capacity x period."""

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "capacity": self.capacity,
            "external": self.external,
            "steps": list(self.steps),
            "events": self.events,
            "resources": self.resources,
            "top_resources": [{"resource": r, "events": n} for r, n in self.top],
            "busy_seconds": self.busy,
            "utilization": self.utilization,
        }
        if self.on_duty is not None:
            document |= {"measured": "working", "on_duty_seconds": self.on_duty}
        return document


@dataclass
class LogReport:
    """The result of :func:`check_log` (``to_dict()`` is the ``--format json`` shape)."""

    measurements: Measurements
    log_format: str
    columns: dict[str, str | None] | None
    deviations: list[Deviation]
    branches: list[BranchCheck]
    durations: list[DurationCheck]
    owners: list[OwnerLoad]
    skipped: int = 0
    unpaired_starts: int = 0
    renamed_traces: int = 0
    """XES traces that shared an earlier trace's name, read as cases of their own."""
    _expected_rework: float | None = field(default=None, repr=False)
    working: WorkingHours | None = None
    """Events by weekday and hour against the owners' calendars (processes with
    ``calendars:`` only, docs/working-time.md)."""
    working_service: dict[str, Sample] = field(default_factory=dict)
    """Per step of an owner with a calendar or shifts, its service in *working* time (the
    open seconds between start and end); the steps table shows it instead of elapsed."""

    @property
    def process(self) -> Process:
        return self.measurements.process

    @property
    def cases(self) -> int:
        return self.measurements.cases

    @property
    def conforming(self) -> int:
        return self.measurements.conforming

    @property
    def conformance(self) -> float:
        """Share of cases whose sequence of steps the process allows."""
        cases = self.measurements.cases
        return self.measurements.conforming / cases if cases else math.nan

    @property
    def rework_rate(self) -> float:
        cases = self.measurements.cases
        return self.measurements.rework_cases / cases if cases else math.nan

    @property
    def expected_rework_rate(self) -> float | None:
        """The rework rate the declared routing implies (``procflow.analyze``), if computable."""
        if self._expected_rework is None:
            try:
                from procflow.analysis import analyze

                rate = analyze(self.process).rework_rate
            except ProcflowError:  # no arrivals or durations: nothing to compare with
                rate = math.nan
            self._expected_rework = rate
        return None if math.isnan(self._expected_rework) else self._expected_rework

    @property
    def timing(self) -> str:
        """``"start-end"`` when service times are measured, else ``"complete-only"``."""
        return "start-end" if self.measurements.has_starts else "complete-only"

    def step_time_shares(self) -> dict[str, float]:
        """Share of all time inside cases that falls on each step (waiting included)."""
        totals = {}
        for step_id, measure in self.measurements.steps.items():
            totals[step_id] = measure.elapsed.total + (
                measure.service.total if measure.elapsed.n == 0 else 0.0
            )
        grand = sum(totals.values())
        return {s: (t / grand if grand > 0 else 0.0) for s, t in totals.items()}

    @property
    def bottleneck_step(self) -> str | None:
        shares = self.step_time_shares()
        if not shares or max(shares.values()) <= 0:
            return None
        return max(shares, key=lambda s: shares[s])

    @property
    def bottleneck_owner(self) -> str | None:
        loaded = [o for o in self.owners if o.utilization is not None and not o.external]
        if not loaded:
            return None
        return max(loaded, key=lambda o: o.utilization or 0.0).owner

    @property
    def arrival_rate(self) -> float | None:
        """Observed cases per second (from first to last case start)."""
        gaps = self.measurements.interarrival
        if gaps.n == 0 or gaps.mean <= 0:
            return None
        return 1.0 / gaps.mean

    def to_dict(self) -> dict[str, Any]:
        m = self.measurements
        process = m.process
        shares = self.step_time_shares()
        steps: dict[str, Any] = {}
        for step_id, measure in m.steps.items():
            step = process.steps[step_id]
            steps[step_id] = {
                "owner": step.owner,
                "end": step.end,
                "visits": measure.visits,
                "visits_per_case": measure.visits / m.cases if m.cases else 0.0,
                "declared": str(step.duration) if step.duration is not None else None,
                "declared_mean": step.duration.mean if step.duration is not None else None,
                "service": measure.service.summary(),
                **(
                    {"working_service": self.working_service[step_id].summary()}
                    if step_id in self.working_service
                    else {}
                ),
                "wait": measure.wait.summary(),
                "elapsed": measure.elapsed.summary(),
                "time_share": shares.get(step_id, 0.0),
                "resources": len(measure.resources),
                "undeclared_departures": measure.other_departures,
            }
        rate = self.arrival_rate
        declared_rate = process.arrivals.rate_per_hour if process.arrivals else None
        return {
            "version": 1,
            "process": process.id,
            "log": {
                "path": m.path,
                "format": self.log_format,
                "columns": self.columns,
                "events": m.events,
                "cases": m.cases,
                "first": _when(m.first_time),
                "last": _when(m.last_time),
                "period_seconds": _num(m.period),
                "timing": self.timing,
                "skipped_lifecycle_events": self.skipped,
                "unpaired_starts": self.unpaired_starts,
                "renamed_traces": self.renamed_traces,
                "overlapping_events": m.overlaps,
            },
            "conformance": {
                "cases": m.cases,
                "conforming": m.conforming,
                "share": _num(self.conformance),
                "deviations": [d.to_dict() for d in self.deviations],
            },
            "unknown_activities": dict(m.unknown_activities.most_common()),
            "steps": steps,
            "owners": {o.owner: o.to_dict() for o in self.owners},
            "transitions": [b.to_dict() for b in self.branches],
            "durations": [d.to_dict() for d in self.durations],
            "rework_rate": {
                "observed": _num(self.rework_rate),
                "cases": m.rework_cases,
                "expected": self.expected_rework_rate,
            },
            "cycle_time": m.cycle_time.summary(),
            "arrivals": {
                "observed_per_hour": rate * 3600.0 if rate is not None else None,
                "declared_per_hour": declared_rate,
            },
            "bottleneck": {
                "step": self.bottleneck_step,
                "time_share": shares.get(self.bottleneck_step or "", None),
                "owner": self.bottleneck_owner,
            },
        } | ({} if self.working is None else {"working_hours": self.working.to_dict()})


def _num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _when(seconds: float) -> str | None:
    if not math.isfinite(seconds):
        return None
    try:
        return to_datetime(seconds).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def _deviations(m: Measurements) -> list[Deviation]:
    groups = [
        Deviation(kind, source, target, count, m.examples[(kind, source, target)])
        for (kind, source, target), count in m.deviations.items()
    ]
    groups.sort(key=lambda d: (-d.cases, d.kind, d.source or "", d.target or ""))
    return groups


def _branches(m: Measurements) -> list[BranchCheck]:
    checks: list[BranchCheck] = []
    for edges in m.index.out.values():
        if len(edges) < 2 or m.index.compiled.fork[edges[0].source]:
            continue  # (a fork's branches are all taken: no shares to compare)
        bounded = any(e.max is not None for e in edges)
        departures = sum(m.free_counts[e.number] for e in edges)
        every = sum(m.edge_counts[e.number] for e in edges)
        for edge in edges:
            declared = edge.p if edge.p is not None else 1.0 / len(edges)
            observed = m.free_counts[edge.number]
            low, high = wilson_interval(observed, departures)
            checks.append(
                BranchCheck(
                    edge,
                    declared,
                    observed,
                    departures,
                    low,
                    high,
                    m.edge_counts[edge.number],
                    every,
                    bounded,
                    m.index.step_ids[edge.source],
                )
            )
    return checks


def judge_duration(declared_mean: float, sample: Sample, kind: str) -> tuple[str, float, float]:
    """``(verdict, observed mean, standard error)`` by the rule in the module docstring."""
    n = sample.n
    mean = sample.mean
    error = sample.standard_error()
    if n < MIN_OBSERVATIONS:
        return "too-few", mean, error
    difference = mean - declared_mean
    relative = abs(difference) / declared_mean if declared_mean > 0 else math.inf
    significant = abs(difference) > Z_CRITICAL * error if error > 0 else difference != 0
    if kind == "elapsed" and difference >= 0:
        return "consistent", mean, error
    if relative > TOLERANCE and significant:
        return "contradicted", mean, error
    return "consistent", mean, error


def _durations(m: Measurements) -> list[DurationCheck]:
    checks: list[DurationCheck] = []
    for step_id, step in m.process.steps.items():
        if step.end or step.duration is None:
            continue
        measure = m.steps[step_id]
        kind = "service" if measure.service.n else "elapsed"
        sample = measure.service if kind == "service" else measure.elapsed
        if sample.n == 0:
            continue
        verdict, mean, error = judge_duration(step.duration.mean, sample, kind)
        checks.append(
            DurationCheck(
                step_id,
                str(step.duration),
                step.duration.mean,
                kind,
                sample.n,
                mean,
                error,
                verdict,
            )
        )
    return checks


def _owners(m: Measurements) -> list[OwnerLoad]:
    process = m.process
    loads: list[OwnerLoad] = []
    period = m.period
    names = list(process.owners)
    for step in process.steps.values():
        if step.owner is not None and step.owner not in names:
            names.append(step.owner)
    for owner_id in names:
        owner = process.owners.get(owner_id)
        owned = tuple(s for s, step in process.steps.items() if step.owner == owner_id)
        if not owned:
            continue
        events = sum(m.steps[s].visits for s in owned if not process.steps[s].end)
        resources: dict[str, int] = {}
        busy = 0.0
        measured = False
        for s in owned:
            for name, count in m.steps[s].resources.items():
                resources[name] = resources.get(name, 0) + count
            if m.steps[s].service.n:
                measured = True
                busy += m.steps[s].service.total
        top = tuple(sorted(resources.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
        capacity = owner.capacity if owner is not None and not owner.external else None
        external = bool(owner is not None and owner.external)
        utilization = None
        if measured and period > 0 and capacity:
            utilization = busy / period / capacity
        loads.append(
            OwnerLoad(
                owner_id,
                capacity,
                external,
                owned,
                events,
                len(resources),
                top,
                busy if measured else None,
                utilization,
            )
        )
    return loads


def report_from(
    m: Measurements,
    log_format: str = "csv",
    columns: dict[str, str | None] | None = None,
    skipped: int = 0,
    unpaired_starts: int = 0,
) -> LogReport:
    """Turn replay measurements into a report."""
    return LogReport(
        m,
        log_format,
        columns,
        _deviations(m),
        _branches(m),
        _durations(m),
        _owners(m),
        skipped,
        unpaired_starts,
    )


def check_log(
    process: Process,
    log: EventLog | list[Event],
    path: str | None = None,
) -> LogReport:
    """Replay a log (from :func:`~procflow.eventlog.reader.read_log`, or a list of events).

    >>> report = check_log(process, read_log("events.csv"))   # doctest: +SKIP
    >>> f"{report.conformance:.0%}"                             # doctest: +SKIP
    '87%'
    """
    if not isinstance(process, Process):
        raise TypeError(
            f"check_log() takes a Process (procflow.load(path)), not {type(process).__name__}"
        )
    name = str(path or getattr(log, "path", "<events>"))
    measurements = replay(process, log, name)
    index = getattr(log, "index", None)
    report = report_from(
        measurements,
        getattr(log, "format", "events"),
        index.describe() if isinstance(index, ColumnIndex) else None,
        getattr(log, "skipped", 0),
        getattr(log, "unpaired_starts", 0),
    )
    report.renamed_traces = int(getattr(log, "renamed_traces", 0))
    if process.calendars:  # a second pass, only when there are hours to hold it to
        report.working = working_hours(process, log)
        report.working_service = {
            step: sample for step, sample in working_service(process, log).items() if sample.n
        }
        report.durations = _working_durations(report.durations, report.working_service)
        report.owners = _working_owners(report)
    return report


def _working_owners(report: LogReport) -> list[OwnerLoad]:
    """Owners with a calendar or shifts, measured in working time: busy is the working
    service of their steps, utilization is that over their on-duty unit-seconds in the
    log's period (docs/working-time.md); other owners as they were."""
    m = report.measurements
    on_duty = on_duty_seconds(report.process, m.first_time, m.last_time)
    loads = []
    for load in report.owners:
        duty = on_duty.get(load.owner)
        samples = [report.working_service[s] for s in load.steps if s in report.working_service]
        if duty is not None and samples and not load.external:
            busy = sum(sample.total for sample in samples)
            utilization = busy / duty if duty > 0 else None
            load = replace(load, busy=busy, utilization=utilization, on_duty=duty)
        loads.append(load)
    return loads


def _working_durations(
    checks: list[DurationCheck], samples: dict[str, Sample]
) -> list[DurationCheck]:
    """Service times of calendared owners judged in their working hours: a declared
    duration is working time (docs/working-time.md), the log's end - start is elapsed."""
    judged = []
    for check in checks:
        sample = samples.get(check.step)
        if check.kind == "service" and sample is not None and sample.n:
            verdict, mean, error = judge_duration(check.declared_mean, sample, "service")
            check = replace(
                check, n=sample.n, observed_mean=mean, standard_error=error, verdict=verdict
            )
        judged.append(check)
    return judged
