"""``procflow.discover``: a process from an event log alone.

The steps, in order: read the log into columns (:mod:`.table`); the
filtered directly-follows graph (:mod:`.flow`); roles and pools
(:mod:`.roles`); each role's working hours (:mod:`.hours`); processing
time, contention and extraneous waiting per event (:mod:`.timing`);
duration fits (:mod:`.fit`); the arrival rate and weekly profile; the
process file (:mod:`.writer`), loaded back and passed through the
runnable gate before it is returned. docs/discover.md explains each
estimate and how sure the report says it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from procflow.analysis.analyzer import analyze_or_none
from procflow.discovery.fit import DurationFit, fit_duration
from procflow.discovery.flow import END, Edge, Flow, discover_flow
from procflow.discovery.hours import (
    HOURS_A_WEEK,
    hour_of_week,
    local_offset,
    possible_mask,
    slot_counts,
)
from procflow.discovery.measure import measure
from procflow.discovery.model import BlockFound, Found, RoleFound, StepFound, slug
from procflow.discovery.parallel import Block, Parallel, find_blocks
from procflow.discovery.regimes import Regimes, class_counts, delay_regimes, weighted_sample
from procflow.discovery.report import found_dict
from procflow.discovery.table import EventTable, read_table
from procflow.discovery.timing import Timing
from procflow.discovery.writer import END_STEP, WAITING, process_text
from procflow.errors import ConfigError
from procflow.eventlog.events import Event
from procflow.findings import Finding
from procflow.gate import ensure_runnable
from procflow.loader import load_text
from procflow.model import Arrivals, Process

DEFAULT_MIN_SHARE = 0.05
MIN_DELAY = 300.0
"""Mean extraneous wait (seconds) below which no delay step is written."""
DELAY_RATIO = 0.25
"""... nor when it is below this share of the step's mean processing time."""
MIN_DELAY_OBSERVATIONS = 5
MAX_RAISES = 12
"""Rounds of raising overloaded pools (each at least doubles them)."""


@dataclass
class Discovery:
    """The discovered process (text and loaded) and what was inferred."""

    text: str
    process: Process
    found: Found
    findings: tuple[Finding, ...] = ()
    """Lint findings of ``process`` (filled in by :func:`procflow.discover`)."""

    def to_dict(self) -> dict[str, Any]:
        return found_dict(self.found)


def supports_calendars() -> bool:
    """Whether this procflow's process model has calendars and arrival profiles."""
    return "calendars" in Process.model_fields and "profile" in Arrivals.model_fields


def discover(
    log: Iterable[Event],
    *,
    min_share: float = DEFAULT_MIN_SHARE,
    process_id: str | None = None,
    calendars: bool | None = None,
    path: str = "",
    forks: bool = True,
) -> Discovery:
    """Discover a process from ``log`` (an event log or a list of events).

    ``min_share``: the smallest share of a step's departures an edge needs
    to be kept. ``calendars``: write role calendars and the arrival profile
    (default: when the model supports them). ``forks``: write interleaving
    activities as parallel branches where they form a clean block.

    >>> from procflow.eventlog.reader import read_log
    >>> d = discover(read_log("receipt.csv"))  # doctest: +SKIP
    >>> print(d.text)                          # doctest: +SKIP
    """
    if not 0.0 <= min_share < 1.0:
        raise ConfigError(f"min_share must be at least 0 and below 1, got {min_share!r}")
    table = read_table(log, path)
    use_calendars = supports_calendars() if calendars is None else calendars
    found = infer(table, min_share, process_id, use_calendars, forks=forks)
    text = process_text(found)
    process = load_text(text, f"{found.process}.yaml")
    ensure_runnable(process)
    for _attempt in range(MAX_RAISES):
        if not _carry_the_load(found, process):
            break
        text = process_text(found)
        process = load_text(text, f"{found.process}.yaml")
    return Discovery(text, process, found)


def _carry_the_load(found: Found, process: Process) -> bool:
    """Raise a pool the discovered process would overload (PF501) to the capacity it needs.

    The log shows the work was done, so a pool too small for it is an
    under-estimate of who was on duty; the report keeps the on-duty figure
    (``peak``) beside the raised ``capacity`` and says so.
    """
    analysis = analyze_or_none(process)
    if analysis is None:
        return False
    raised = False
    for role in found.roles:
        load = analysis.loads.get(role.id)
        if load is None or load.stable:
            continue
        if role.raised_from is None:
            role.raised_from = role.capacity
        needed = load.required_capacity or 0
        role.capacity = needed if needed > role.capacity else 2 * role.capacity
        raised = True
    return raised


def infer(
    table: EventTable,
    min_share: float,
    process_id: str | None,
    calendars: bool,
    *,
    forks: bool = True,
) -> Found:
    """Every estimate of ``table`` as a :class:`Found`.

    ``forks``: write clean groups of interleaving activities as fork/join
    blocks (:mod:`.parallel`); without it they are alternatives.
    """
    par = find_blocks(table, min_share) if forks else Parallel(table)
    flow = discover_flow(par.table, min_share)
    blocks = {b.code: b for b in par.blocks if b.code in flow.activities}
    order, edges, end_of = _layout(flow, blocks)
    measured = measure(table, order, calendars)
    calendars = calendars and not measured.dates_only
    roles, masks, role_of = measured.roles, measured.masks, measured.role_of
    possible, keeps, timing = measured.possible, measured.keeps, measured.timing
    taken: set[str] = {END_STEP, "begin", "waiting"}
    gateways = {code: (f"fork-{i + 1}", f"join-{i + 1}") for i, code in enumerate(blocks)}
    taken |= {g for pair in gateways.values() for g in pair}
    ids = {a: slug(table.activities[a], taken) for a in order}
    ids |= {code: fork for code, (fork, _join) in gateways.items()}
    end_of |= {
        a: gateways[code][1] for code, b in blocks.items() for f in b.flows for a in f.activities
    }
    role_ids = [f"role-{i + 1}" for i in range(len(roles))]
    owners = {a: role_ids[int(role_of[a])] if role_of[a] < len(roles) else WAITING for a in order}
    regimes = delay_regimes(table.case, table.activity, timing.extraneous)
    made = _steps(table, timing, ids, owners, order, edges, end_of, regimes)
    if not any(s.delay_by is not None for s in made.values()):
        regimes = None
    if regimes is not None:
        _route_by_class(made, edges, class_counts(par.table, regimes))
    steps = _with_gateways(flow, blocks, made, ids, gateways)
    found_roles = [
        RoleFound(
            role_ids[i],
            [table.activities[a] for a in role.activities],
            [table.resources[r] for r in role.members],
            role.capacity,
            role.peak,
            role.events,
            possible[i],
            None if np.array_equal(possible[i], masks[i]) else masks[i],
        )
        for i, role in enumerate(roles)
    ]
    kept_hours = {role_ids[i] for i in range(len(roles)) if keeps[i]}
    for step in steps:
        if step.delay is not None and step.owner in kept_hours:
            step.delay_owner = f"{WAITING}-{step.owner}"
    name = process_id or slug(os.path.basename(table.path).split(".")[0] or "discovered", set())
    on_duty = np.asarray(np.any(possible[: len(roles)], axis=0), dtype=bool)
    rate, profile = _arrivals(timing.arrival, on_duty)
    start = max(flow.starts, key=lambda a: flow.starts[a])
    in_blocks = {a for b in blocks.values() for branch in b.branches for a in branch}
    return Found(
        process=name,
        log=os.path.basename(table.path),
        events=len(table),
        cases=flow.cases,
        timing=timing.basis,
        min_share=min_share,
        start=ids[start],
        steps=steps,
        roles=found_roles,
        arrivals=int(timing.arrival.size),
        arrival_rate=rate,
        arrival_profile=profile,
        calendars=calendars,
        starts=[(ids[a], c) for a, c in sorted(flow.starts.items(), key=lambda ac: -ac[1])],
        dropped_edges=flow.dropped_edges,
        dropped_pairs=flow.dropped_pairs,
        dropped_activities=[
            table.activities[a] for a in flow.dropped_activities if a < len(table.activities)
        ],
        interleaving=[
            (table.activities[a], table.activities[b], ab, ba)
            for a, b, ab, ba in _interleaving(table, min_share)
            if a not in in_blocks or b not in in_blocks
        ][:10],
        on_duty_total=_on_duty_total(table),
        blocks=[
            BlockFound(
                fork,
                join,
                [[table.activities[a] for a in f.activities] for f in blocks[code].flows],
                blocks[code].runs,
                blocks[code].clean,
            )
            for code, (fork, join) in gateways.items()
        ],
        parallel_notes=par.notes,
        prompt_share=None if regimes is None else regimes.share,
        prompt_cases=0 if regimes is None else regimes.prompt_cases,
        regime_classes=[]
        if regimes is None
        else list(zip(regimes.names, regimes.class_cases(), strict=True)),
        resolution=_resolution(measured.date_share, measured.midnight)
        if measured.dates_only
        else None,
    )


def _resolution(share: float, midnight: float) -> str:
    """The report's line on a date-only log (docs/discover.md#date-only-timestamps)."""
    offset = local_offset(midnight)
    sign = "+" if offset >= 0 else "-"
    minutes = round(abs(offset) / 60.0)
    return (
        f"timestamps carry dates only ({share:.0%} at 00:00 local, offset"
        f" {sign}{minutes // 60:02d}:{minutes % 60:02d}): no working hours or arrival profile"
        " inferred (roles work around the clock); processing times and waits are whole days"
        " (below a day they cannot be measured: day resolution, low confidence for anything"
        " shorter)"
    )


def _interleaving(table: EventTable, min_share: float) -> list[tuple[int, int, int, int]]:
    """The interleaving pairs of the plain directly-follows graph (for the report)."""
    return discover_flow(table, min_share).interleaving


def _layout(
    flow: Flow, blocks: dict[int, Block]
) -> tuple[list[int], dict[int, list[Edge]], dict[int, str]]:
    """Activities in the order a case meets them (blocks' branches in place), exits, end targets."""
    order: list[int] = []
    edges: dict[int, list[Edge]] = {}
    end_of: dict[int, str] = {}
    for a in flow.activities:
        block = blocks.get(a)
        if block is None:
            order.append(a)
            edges[a] = flow.edges[a]
            end_of[a] = END_STEP
            continue
        for branch in block.flows:
            order += branch.activities
            edges |= {b: branch.edges[b] for b in branch.activities}
    return order, edges, end_of


def _with_gateways(
    flow: Flow,
    blocks: dict[int, Block],
    made: dict[int, StepFound],
    ids: dict[int, str],
    gateways: dict[int, tuple[str, str]],
) -> list[StepFound]:
    """The steps in order, each block as its fork, its branches' steps and its join."""
    steps: list[StepFound] = []
    for a in flow.activities:
        block = blocks.get(a)
        if block is None:
            steps.append(made[a])
            continue
        fork, join = gateways[a]
        starts = [ids[max(f.starts, key=f.starts.__getitem__)] for f in block.flows]
        steps.append(
            StepFound(
                fork, "Start the parallel branches", WAITING, block.runs, None, [], parallel=starts
            )
        )
        steps += [made[b] for f in block.flows for b in f.activities]
        exits = [
            (
                "end" if e.target == END else ids[e.target],
                END_STEP if e.target == END else ids[e.target],
                e.count,
                e.feedback,
                e.max,
            )
            for e in flow.edges[a]
        ]
        steps.append(
            StepFound(join, "Wait for every branch", WAITING, block.runs, None, exits, join=True)
        )
    delayed = {s.id for s in steps if s.delay is not None}
    for step in steps:
        step.exits = [
            (t, f"wait-{to}" if to in delayed else to, c, f, m) for t, to, c, f, m in step.exits
        ]
        if step.parallel is not None:
            step.parallel = [f"wait-{to}" if to in delayed else to for to in step.parallel]
    return steps


def _steps(
    table: EventTable,
    timing: Timing,
    ids: dict[int, str],
    owners: dict[int, str],
    order: list[int],
    edges: dict[int, list[Edge]],
    end_of: dict[int, str],
    regimes: Regimes | None = None,
) -> dict[int, StepFound]:
    first = table.case_first()
    steps: dict[int, StepFound] = {}
    for a in order:
        rows = table.activity == a
        later = rows & ~first
        processing = timing.processing[later] if later.sum() >= 5 else timing.processing[rows]
        duration = fit_duration(processing, seed=a)
        extraneous = timing.extraneous[later]
        delay: DurationFit | None = None
        delay_by: tuple[DurationFit | None, ...] | None = None
        known = extraneous[np.isfinite(extraneous)]
        mean_processing = duration.mean if duration is not None else 0.0
        if known.size >= MIN_DELAY_OBSERVATIONS and float(known.mean()) >= max(
            MIN_DELAY, DELAY_RATIO * mean_processing
        ):
            delay = fit_duration(known, seed=a + 7919, wait=True)
            delay_by = None if regimes is None else _delay_by(table.case, timing, later, regimes, a)
        exits = [
            (
                ("end" if end_of[a] == END_STEP else end_of[a])
                if e.target == END
                else ids[e.target],
                end_of[a] if e.target == END else ids[e.target],
                e.count,
                e.feedback,
                e.max,
            )
            for e in edges[a]
        ]
        waits = timing.waiting[later]
        steps[a] = StepFound(
            id=ids[a],
            activity=table.activities[a],
            owner=owners[a],
            events=int(rows.sum()),
            duration=duration,
            exits=exits,
            delay=delay,
            delay_by=delay_by,
            wait_mean=float(np.nanmean(waits)) if np.isfinite(waits).any() else 0.0,
            contention_mean=float(np.nanmean(timing.contention[later]))
            if np.isfinite(timing.contention[later]).any()
            else 0.0,
        )
    return steps


def _route_by_class(
    made: dict[int, StepFound],
    edges: dict[int, list[Edge]],
    counts: dict[tuple[int, int], tuple[float, ...]],
) -> None:
    """Give each choice its departures per class (prompt, delayed, …), where the log shows them.

    Prompt and delayed cases take different paths (a case sent back for
    rework waits for it), so a choice's shares are written per class.
    """
    for a, step in made.items():
        exits = edges.get(a, [])
        if len(exits) < 2 or any((a, e.target) not in counts for e in exits):
            continue
        by = [counts[a, e.target] for e in exits]
        if all(sum(c[k] for c in by) > 0 for k in range(len(by[0]))):
            step.exits_by = by


def _delay_by(
    table_case: np.ndarray, timing: Timing, later: np.ndarray, regimes: Regimes, seed: int
) -> tuple[DurationFit | None, ...]:
    """The delay fitted separately on each class's cases (:mod:`.regimes`), prompt first."""
    fits = []
    rows = later & np.isfinite(timing.extraneous)
    for k in range(len(regimes.names)):
        values = weighted_sample(timing.extraneous[rows], regimes.weights(table_case, k)[rows])
        fits.append(fit_duration(values, seed=seed + 7919 + int(k == 0) + 2 * k, wait=True))
    return tuple(fits)


def _arrivals(arrival: np.ndarray, on_duty: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean arrival rate (per second) and arrivals per hour for each hour of the week.

    The profile keeps the hours that hold the arrivals (at least 1% of a busy
    hour's: :func:`~procflow.discovery.hours.possible_mask`, so the rare
    Saturday case is kept) and in which some role can work (work arriving
    when nobody works would only wait: PF504), and
    is scaled so that the weekly volume is that of the log.
    """
    moments = np.sort(arrival[np.isfinite(arrival)])
    profile = np.zeros(HOURS_A_WEEK)
    if moments.size < 2 or moments[-1] <= moments[0]:
        return 1.0 / 86400.0, profile
    span = float(moments[-1] - moments[0])
    rate = (moments.size - 1) / span
    counts = slot_counts(moments).astype(float)
    hours = np.arange(np.floor(moments[0] / 3600.0), np.ceil(moments[-1] / 3600.0)) * 3600.0
    occurrences = np.bincount(hour_of_week(hours), minlength=HOURS_A_WEEK).astype(float)
    mask = possible_mask(slot_counts(moments))
    if (mask & on_duty).any():
        mask &= on_duty
    with np.errstate(divide="ignore", invalid="ignore"):
        profile = np.where(mask & (occurrences > 0), counts / occurrences, 0.0)
    weekly = float(profile.sum())
    if weekly > 0:
        profile *= rate * 3600.0 * HOURS_A_WEEK / weekly
    return rate, profile


def _on_duty_total(table: EventTable) -> int:
    """The most distinct resources recording work in any one clock hour."""
    has = table.resource >= 0
    if not has.any():
        return 0
    hour = np.floor(table.end[has] / 3600.0).astype(np.int64)
    keyed = np.unique(hour * (len(table.resources) + 1) + table.resource[has])
    _h, counts = np.unique(keyed // (len(table.resources) + 1), return_counts=True)
    return int(counts.max())
