"""``analyze(process)``: visits, load, utilization, waiting, cycle time and goals.

This module puts the pieces together: :mod:`~procflow.analysis.routing`
gives the expected visits per case (exact, bounds unrolled),
:mod:`~procflow.analysis.queueing` the waiting at each staffed owner, and
:mod:`~procflow.analysis.goals` holds the goals against the result.

Per owner, offered load = arrival rate x Σ visits x mean duration over its
steps (Erlangs) and utilization = load / capacity. External owners and steps
without an owner are pure delays: no queue, their time counts in the cycle
time but nobody waits for them.

When are the figures exact? Waiting per owner is exactly M/M/c when the
network is of product form (Jackson / BCMP): Poisson arrivals, and every
staffed owner upstream of this one -- itself included -- serves all its steps
with exponential durations of *one* mean (FIFO needs class-independent
service for product form; pure delays may have any distribution). Then the
expected cycle time Σ visits x (wait + service) is exact too. Otherwise the
waits are Allen–Cunneen approximations and every figure that uses them says
``exact: false``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from procflow.analysis import queueing
from procflow.analysis.goals import estimate_goals
from procflow.analysis.results import (
    Analysis,
    CycleTime,
    OwnerFigures,
    Routing,
    StepFigures,
    StepShare,
)
from procflow.analysis.routing import (
    MAX_STATES,
    Chain,
    build_chain,
    fastest_path,
    rework_probability,
    solve_visits,
    step_flows,
    step_visits,
)
from procflow.distributions import (
    AnyDistribution,
    Empirical,
    Exponential,
    Fixed,
    Triangular,
    Uniform,
)
from procflow.errors import Problem, ProcessError, ProcflowError, SimulationError
from procflow.model import Process

#: Default utilization from which an owner counts as a bottleneck (PF502).
BOTTLENECK_THRESHOLD = 0.85


def lower_bound(distribution: AnyDistribution) -> float:
    """The shortest duration a distribution can produce (0 for unbounded-below shapes)."""
    if isinstance(distribution, Fixed):
        return distribution.value
    if isinstance(distribution, Uniform | Triangular):
        return distribution.min
    if isinstance(distribution, Empirical):
        return min(distribution.values)
    return 0.0  # exponential, normal (truncated at 0), lognormal, gamma


def _structure_problems(process: Process) -> list[Problem]:
    """The structural errors that make routing undefined (a subset of lint's errors)."""
    problems: list[Problem] = []
    if process.start not in process.steps:
        problems.append(
            Problem(
                "PF102",
                f"start step {process.start!r} does not exist",
                process.position(("start",), "value"),
            )
        )
    for step_id, step in process.steps.items():
        where = ("steps", step_id)
        if step.end and step.transitions:
            problems.append(
                Problem("PF106", f"end step {step_id!r} has transitions", process.position(where))
            )
        if not step.end and not step.transitions:
            problems.append(
                Problem(
                    "PF104", f"step {step_id!r} has no outgoing transition", process.position(where)
                )
            )
        if step.owner is not None and step.owner not in process.owners:
            problems.append(
                Problem(
                    "PF202",
                    f"step {step_id!r} names owner {step.owner!r}, which is not declared",
                    process.position((*where, "owner"), "value"),
                )
            )
        for transition in step.transitions:
            if transition.to not in process.steps:
                problems.append(
                    Problem(
                        "PF101",
                        f"transition {transition.trigger!r} of step {step_id!r} points to "
                        f"{transition.to!r}, which does not exist",
                        process.position(where),
                    )
                )
        given = [t.p for t in step.transitions if t.p is not None]
        if given and len(given) != len(step.transitions):
            problems.append(
                Problem(
                    "PF401",
                    f"only some transitions of step {step_id!r} have 'p'",
                    process.position(where),
                )
            )
        elif given and abs(math.fsum(given) - 1.0) > 1e-6:
            problems.append(
                Problem(
                    "PF401",
                    f"the probabilities of step {step_id!r} sum to {math.fsum(given):g}, not 1",
                    process.position(where),
                )
            )
    return problems


def ensure_analyzable(process: Process) -> None:
    """Raise :class:`ProcessError` (with positions) when routing is undefined.

    The lint engine's gate (:func:`procflow.lint.ensure_runnable`) decides,
    so analysis refuses exactly what simulation refuses; a local check of the
    few things the routing chain relies on backs it up.
    """
    from procflow.lint import ensure_runnable  # lint imports the rules, which import us

    ensure_runnable(process)
    problems = _structure_problems(process)
    if problems:
        raise ProcessError(problems, f"{process.source.file}: the process cannot be analyzed")


def _missing_durations(process: Process, chain: Chain) -> list[Problem]:
    reached = {chain.steps[u] for u in set(chain.state_step)}
    return [
        Problem(
            "PF402",
            f"step {step_id!r} has no duration: analysis needs one "
            "(e.g. duration: exponential(6m))",
            process.position(("steps", step_id)),
        )
        for step_id, step in process.steps.items()
        if step_id in reached and not step.end and step.duration is None
    ]


def _exponential_one_mean(process: Process, steps: list[str], visits: Mapping[str, float]) -> bool:
    """All visited steps exponential with the same mean (FIFO product form)."""
    means = set()
    for step_id in steps:
        if visits[step_id] <= 0.0:
            continue
        duration = process.steps[step_id].duration
        if not isinstance(duration, Exponential):
            return False
        means.add(duration.mean)
    return len(means) <= 1


@dataclass(frozen=True)
class _Durations:
    """Per step: mean, SCV and shortest possible duration (end steps take no time)."""

    mean: dict[str, float | None]
    scv: dict[str, float | None]
    minimum: dict[str, float | None]

    @classmethod
    def of(cls, process: Process) -> _Durations:
        mean: dict[str, float | None] = {}
        scv: dict[str, float | None] = {}
        minimum: dict[str, float | None] = {}
        for step_id, step in process.steps.items():
            if step.end:
                mean[step_id], scv[step_id], minimum[step_id] = 0.0, 0.0, 0.0
            elif step.duration is None:
                mean[step_id] = scv[step_id] = minimum[step_id] = None
            else:
                mean[step_id] = step.duration.mean
                scv[step_id] = step.duration.scv
                minimum[step_id] = lower_bound(step.duration)
        return cls(mean, scv, minimum)


def _service_mix(
    steps: list[str], visits: Mapping[str, float], durations: _Durations
) -> tuple[float | None, float | None]:
    """Mean and SCV of an owner's service time: the visit-weighted mixture of its steps."""
    weight = math.fsum(visits[s] for s in steps)
    if weight <= 0.0:
        return None, None
    means = [durations.mean[s] or 0.0 for s in steps]
    mean = math.fsum(visits[s] * m for s, m in zip(steps, means, strict=True)) / weight
    second = math.fsum(
        visits[s] * ((durations.scv[s] or 0.0) + 1.0) * m * m
        for s, m in zip(steps, means, strict=True)
    )
    return mean, (second / weight / (mean * mean) - 1.0) if mean > 0.0 else 0.0


def _network(
    process: Process,
    owned: Mapping[str, list[str]],
    visits: Mapping[str, float],
    flows: Mapping[tuple[str, str], float],
    loads: Mapping[str, float],
    service_scv: Mapping[str, float | None],
    durations: _Durations,
) -> tuple[dict[str, float], set[str]]:
    """QNA over the stations: ``(arrival SCV per staffed owner, owners not of product form)``.

    Stations are the staffed owners that get work and every visited pure-delay
    step. An owner is not of product form when it, or any staffed owner
    upstream of it, is not exponential with one mean: one forward sweep from
    those owners marks everything downstream.
    """
    assert process.arrivals is not None
    node_of: dict[str, int] = {}
    stations: list[queueing.Station] = []
    station_owner: list[str | None] = []
    for owner_id, owner in process.owners.items():
        if owner.external or math.fsum(visits[s] for s in owned[owner_id]) <= 0.0:
            continue
        for step_id in owned[owner_id]:
            node_of[step_id] = len(stations)
        scv = service_scv[owner_id] or 0.0
        stations.append(queueing.Station(loads[owner_id] / owner.capacity, owner.capacity, scv))
        station_owner.append(owner_id)
    for step_id, step in process.steps.items():
        if step.end or step_id in node_of or visits[step_id] <= 0.0:
            continue
        node_of[step_id] = len(stations)
        stations.append(queueing.Station(0.0, None, durations.scv[step_id] or 0.0))
        station_owner.append(None)
    source: list[int] = []
    target: list[int] = []
    rates: list[float] = []
    for (u, v), flow in flows.items():
        if u in node_of and v in node_of and flow > 0.0:
            source.append(node_of[u])
            target.append(node_of[v])
            rates.append(flow)
    external = np.zeros(len(stations))
    if process.start in node_of:
        external[node_of[process.start]] = 1.0
    scvs = queueing.arrival_scvs(
        stations,
        np.array(source, dtype=np.intp),
        np.array(target, dtype=np.intp),
        np.array(rates),
        external,
        process.arrivals.scv,
    )
    downstream: list[list[int]] = [[] for _ in stations]
    for i, j in zip(source, target, strict=True):
        downstream[i].append(j)
    frontier = [
        i
        for i, o in enumerate(station_owner)
        if o is not None and not _exponential_one_mean(process, owned[o], visits)
    ]
    tainted = set(frontier)
    while frontier:
        for j in downstream[frontier.pop()]:
            if j not in tainted:
                tainted.add(j)
                frontier.append(j)
    arrival_scv = {o: float(scvs[i]) for i, o in enumerate(station_owner) if o is not None}
    not_product_form = {o for i in tainted if (o := station_owner[i]) is not None}
    return arrival_scv, not_product_form


def _owner_figures(
    process: Process,
    owned: Mapping[str, list[str]],
    step_loads: Mapping[str, float],
    visits: Mapping[str, float],
    durations: _Durations,
    flows: Mapping[tuple[str, str], float],
    *,
    rate: float,
    exact_routing: bool,
    threshold: float,
) -> dict[str, OwnerFigures]:
    """Load, utilization and waiting of every owner, in declaration order."""
    assert process.arrivals is not None
    poisson = process.arrivals.every is None or isinstance(process.arrivals.every, Exponential)
    loads = {o: math.fsum(step_loads[s] for s in steps) for o, steps in owned.items()}
    service = {o: _service_mix(steps, visits, durations) for o, steps in owned.items()}
    arrival_scv, not_product_form = _network(
        process,
        owned,
        visits,
        flows,
        loads,
        {o: scv for o, (_m, scv) in service.items()},
        durations,
    )
    owners: dict[str, OwnerFigures] = {}
    for owner_id, owner in process.owners.items():
        steps, load = owned[owner_id], loads[owner_id]
        shares = sorted(((s, step_loads[s]) for s in steps if step_loads[s] > 0.0), key=_second)
        top = tuple(StepShare(s, x, x / load) for s, x in shares)
        per_hour = rate * 3600.0 * math.fsum(visits[s] for s in steps)
        mean, scv = service[owner_id]
        scv_in = arrival_scv.get(owner_id)
        if owner.external:
            owners[owner_id] = OwnerFigures(
                owner_id, True, None, load, None, 0.0, 0.0, True, True, top, per_hour, mean, scv,
                scv_in, None, None, owner.cost_per_hour,
            )  # fmt: skip
            continue
        utilization = load / owner.capacity
        stable = utilization < 1.0
        exact = poisson and exact_routing and owner_id not in not_product_form
        p_wait: float | None = None
        wait: float | None = None
        if stable and (load <= 0.0 or mean is None):
            p_wait = wait = 0.0
        elif stable and mean is not None:
            p_wait = queueing.erlang_c(owner.capacity, load)
            wait = queueing.mmc_wait(owner.capacity, load, mean)
            if not exact:
                wait = queueing.allen_cunneen(wait, 1.0 if scv_in is None else scv_in, scv or 0.0)
        owners[owner_id] = OwnerFigures(
            owner_id, False, owner.capacity, load, utilization, p_wait, wait, exact, stable, top,
            per_hour, mean, scv, scv_in, queueing.required_servers(load, 1.0),
            queueing.required_servers(load, threshold), owner.cost_per_hour,
        )  # fmt: skip
    return owners


def _second(item: tuple[str, float]) -> float:
    """Sort key: the larger load first."""
    return -item[1]


def _step_figures(
    process: Process,
    visits: Mapping[str, float],
    durations: _Durations,
    owners: Mapping[str, OwnerFigures],
) -> dict[str, StepFigures]:
    """Visits, service and wait of every step; pure delays and end steps never wait."""
    figures: dict[str, StepFigures] = {}
    for step_id, step in process.steps.items():
        delay = not step.end and (step.owner is None or process.owners[step.owner].external)
        wait: float | None = 0.0
        if not step.end and not delay and step.owner is not None:
            wait = owners[step.owner].wait_mean
        figures[step_id] = StepFigures(
            step_id,
            step.owner,
            visits[step_id],
            durations.mean[step_id],
            durations.scv[step_id],
            durations.minimum[step_id],
            wait,
            step.end,
            delay,
        )
    return figures


def _cycle_time(
    process: Process,
    chain: Chain,
    steps: Mapping[str, StepFigures],
    durations: _Durations,
    *,
    stable: bool,
    exact: bool,
) -> tuple[CycleTime, float | None]:
    """Expected cycle time (``None`` when unstable), the fastest path, and the wait per case."""
    active = [s for s in steps.values() if not s.end and s.visits > 0.0]
    expected: float | None = None
    wait_time: float | None = None
    if stable:
        wait_time = math.fsum(s.visits * (s.wait_mean or 0.0) for s in active)
        expected = wait_time + math.fsum(s.visits * (s.service_mean or 0.0) for s in active)
    is_end = [process.steps[s].end for s in chain.steps]
    fastest = fastest_path(chain, [durations.mean[s] or 0.0 for s in chain.steps], is_end)
    floor = fastest_path(chain, [durations.minimum[s] or 0.0 for s in chain.steps], is_end)
    cycle_time = CycleTime(
        expected,
        fastest[0] if fastest else None,
        floor[0] if floor else None,
        exact,
        tuple(fastest[1]) if fastest else (),
    )
    return cycle_time, wait_time


def analyze(
    process: Process,
    *,
    bottleneck_threshold: float = BOTTLENECK_THRESHOLD,
    max_states: int = MAX_STATES,
) -> Analysis:
    """The analytic model of SPEC section 4 for ``process``.

    Raises :class:`~procflow.errors.SimulationError` when the process declares
    no arrivals, and :class:`~procflow.errors.ProcessError` (with the position
    of each problem) when a reachable step has no duration or the routing is
    broken (unknown targets, bad probabilities, traps).

    >>> import procflow
    >>> p = procflow.load_text('''
    ... process: desk
    ... owners: {agent: {capacity: 4}}
    ... arrivals: {rate: 9/h}
    ... start: serve
    ... steps:
    ...   serve: {owner: agent, duration: exponential(20m), next: done}
    ...   done: {end: true}
    ... ''')
    >>> a = analyze(p)
    >>> round(a.owners["agent"].utilization, 4), round(a.owners["agent"].p_wait, 4)
    (0.75, 0.5094)
    """
    if not 0.0 < bottleneck_threshold <= 1.0:
        raise ValueError("bottleneck_threshold must be in (0, 1]")
    if process.arrivals is None:
        raise SimulationError(
            f"{process.position(())}: process {process.id!r} declares no arrivals: "
            "analysis needs them (e.g. arrivals: {rate: 8/h})"
        )
    rate = process.arrivals.rate_per_second
    if not math.isfinite(rate) or rate <= 0.0:
        raise SimulationError(
            f"{process.position(('arrivals',))}: arrivals must have a positive rate "
            "(a mean time between arrivals above 0)"
        )
    ensure_analyzable(process)
    chain = build_chain(process, max_states=max_states)
    missing = _missing_durations(process, chain)
    if missing:
        raise ProcessError(missing, f"{process.source.file}: the process cannot be analyzed")
    state_visits = solve_visits(chain)
    visits = step_visits(chain, state_visits)
    durations = _Durations.of(process)
    step_loads = {s: rate * visits[s] * (durations.mean[s] or 0.0) for s in process.steps}
    owned: dict[str, list[str]] = {owner: [] for owner in process.owners}
    for step_id, step in process.steps.items():
        if step.owner is not None and not step.end:
            owned[step.owner].append(step_id)

    owners = _owner_figures(
        process,
        owned,
        step_loads,
        visits,
        durations,
        step_flows(chain, state_visits),
        rate=rate,
        exact_routing=chain.exact,
        threshold=bottleneck_threshold,
    )
    steps = _step_figures(process, visits, durations, owners)
    staffed = [o for o in owners.values() if not o.external]
    loaded = [o for o in staffed if o.load > 0.0]
    stable = all(o.stable for o in staffed)
    cycle_time, wait_time = _cycle_time(
        process,
        chain,
        steps,
        durations,
        stable=stable,
        exact=chain.exact and all(o.exact for o in loaded),
    )
    peak = max((o.utilization or 0.0 for o in staffed), default=0.0)
    costly = [o for o in owners.values() if o.cost_per_hour is not None]
    cost = math.fsum(o.load / rate * (o.cost_per_hour or 0.0) / 3600.0 for o in costly)
    analysis = Analysis(
        process=process.id,
        arrival_rate_per_hour=rate * 3600.0,
        arrival_scv=process.arrivals.scv,
        poisson=process.arrivals.every is None or isinstance(process.arrivals.every, Exponential),
        bottleneck_threshold=bottleneck_threshold,
        steps=steps,
        owners=owners,
        bottleneck=max(loaded, key=lambda o: o.utilization or 0.0).id if loaded else None,
        cycle_time=cycle_time,
        goals=(),
        routing=Routing(chain.size, chain.bounds, chain.dropped),
        rework_rate=rework_probability(chain),
        throughput_per_hour=rate * 3600.0 / max(1.0, peak),
        wait_time=wait_time,
        wip=rate * cycle_time.expected if cycle_time.expected is not None else None,
        cost_per_case=cost if costly else None,
    )
    return replace(analysis, goals=estimate_goals(process.goals, analysis))


def analyze_or_none(
    process: Process, *, bottleneck_threshold: float = BOTTLENECK_THRESHOLD
) -> Analysis | None:
    """:func:`analyze`, or ``None`` when the process cannot be analyzed.

    That is the case without arrivals, with a reachable step that has no
    duration, or with structural errors -- which other lint rules report; the
    rules that need the model (PF501-PF503) then stay silent.
    """
    if process.arrivals is None:
        return None
    try:
        return analyze(process, bottleneck_threshold=bottleneck_threshold)
    except ProcflowError:
        return None
