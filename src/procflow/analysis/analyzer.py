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
from dataclasses import replace

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
    flows = step_flows(chain, state_visits)
    poisson = process.arrivals.every is None or isinstance(process.arrivals.every, Exponential)

    # --- per step: durations ------------------------------------------------
    means: dict[str, float | None] = {}
    scvs: dict[str, float | None] = {}
    minimums: dict[str, float | None] = {}
    for step_id, step in process.steps.items():
        duration = None if step.end else step.duration
        means[step_id] = duration.mean if duration is not None else None
        scvs[step_id] = duration.scv if duration is not None else None
        minimums[step_id] = lower_bound(duration) if duration is not None else None
    if any(step.end for step in process.steps.values()):
        for step_id, step in process.steps.items():
            if step.end:
                means[step_id], minimums[step_id] = 0.0, 0.0

    def load_of(step_id: str) -> float:
        return rate * visits[step_id] * (means[step_id] or 0.0)

    # --- per owner: load ----------------------------------------------------
    owned: dict[str, list[str]] = {owner: [] for owner in process.owners}
    for step_id, step in process.steps.items():
        if step.owner is not None and not step.end:
            owned[step.owner].append(step_id)
    staffed = [o for o, owner in process.owners.items() if not owner.external]

    service: dict[str, tuple[float | None, float | None]] = {}
    for owner_id, steps in owned.items():
        weight = math.fsum(visits[s] for s in steps)
        if weight <= 0.0:
            service[owner_id] = (None, None)
            continue
        mean = math.fsum(visits[s] * (means[s] or 0.0) for s in steps) / weight
        second = (
            math.fsum(visits[s] * ((scvs[s] or 0.0) + 1.0) * (means[s] or 0.0) ** 2 for s in steps)
            / weight
        )
        service[owner_id] = (mean, second / (mean * mean) - 1.0 if mean > 0.0 else 0.0)

    # --- QNA: arrival variability at every station --------------------------
    node_of: dict[str, int] = {}
    stations: list[queueing.Station] = []
    station_owner: list[str | None] = []
    for owner_id in staffed:
        if math.fsum(visits[s] for s in owned[owner_id]) > 0.0:
            owner = process.owners[owner_id]
            utilization = math.fsum(load_of(s) for s in owned[owner_id]) / owner.capacity
            for s in owned[owner_id]:
                node_of[s] = len(stations)
            stations.append(
                queueing.Station(utilization, owner.capacity, service[owner_id][1] or 0.0)
            )
            station_owner.append(owner_id)
    for step_id, step in process.steps.items():
        if step.end or step_id in node_of or visits[step_id] <= 0.0:
            continue
        node_of[step_id] = len(stations)
        stations.append(queueing.Station(0.0, None, scvs[step_id] or 0.0))
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
    arrival_scv = queueing.arrival_scvs(
        stations,
        np.array(source, dtype=np.intp),
        np.array(target, dtype=np.intp),
        np.array(rates),
        external,
        process.arrivals.scv,
    )

    # exactness: Poisson in, and no staffed station upstream (itself included) breaks
    # product form -- everything downstream of one that does is tainted
    tainted = [
        i
        for i, o in enumerate(station_owner)
        if o is not None and not _exponential_one_mean(process, owned[o], visits)
    ]
    downstream: list[list[int]] = [[] for _ in stations]
    for i, j in zip(source, target, strict=True):
        downstream[i].append(j)
    not_product_form = set(tainted)
    frontier = list(tainted)
    while frontier:
        for j in downstream[frontier.pop()]:
            if j not in not_product_form:
                not_product_form.add(j)
                frontier.append(j)

    # --- per owner: figures -------------------------------------------------
    owners: dict[str, OwnerFigures] = {}
    waits: dict[str, float | None] = {}
    for owner_id, owner in process.owners.items():
        steps = owned[owner_id]
        load = math.fsum(load_of(s) for s in steps)
        contributions = sorted(
            ((s, load_of(s)) for s in steps if load_of(s) > 0.0), key=lambda item: -item[1]
        )
        top = tuple(StepShare(s, x, x / load) for s, x in contributions)
        arrivals_per_hour = rate * 3600.0 * math.fsum(visits[s] for s in steps)
        service_mean, service_scv = service[owner_id]
        station = node_of.get(steps[0]) if steps else None
        scv_in = float(arrival_scv[station]) if station is not None and load > 0.0 else None
        if owner.external:
            owners[owner_id] = OwnerFigures(
                owner_id, True, None, load, None, 0.0, 0.0, True, True, top,
                arrivals_per_hour, service_mean, service_scv, scv_in, None, None,
                owner.cost_per_hour,
            )  # fmt: skip
            waits[owner_id] = 0.0
            continue
        capacity = owner.capacity
        utilization = load / capacity
        stable = utilization < 1.0
        exact = poisson and chain.exact and (station is None or station not in not_product_form)
        p_wait: float | None
        wait: float | None
        if not stable:
            p_wait = wait = None
        elif load <= 0.0 or service_mean is None:
            p_wait = wait = 0.0
        else:
            p_wait = queueing.erlang_c(capacity, load)
            wait = queueing.mmc_wait(capacity, load, service_mean)
            if not exact:
                wait = queueing.allen_cunneen(
                    wait, 1.0 if scv_in is None else scv_in, service_scv or 0.0
                )
        waits[owner_id] = wait
        owners[owner_id] = OwnerFigures(
            owner_id, False, capacity, load, utilization, p_wait, wait, exact, stable, top,
            arrivals_per_hour, service_mean, service_scv, scv_in,
            queueing.required_servers(load, 1.0),
            queueing.required_servers(load, bottleneck_threshold),
            owner.cost_per_hour,
        )  # fmt: skip

    # --- per step -----------------------------------------------------------
    steps_out: dict[str, StepFigures] = {}
    for step_id, step in process.steps.items():
        delay = not step.end and (step.owner is None or process.owners[step.owner].external)
        wait_mean: float | None = 0.0
        if not step.end and not delay and step.owner is not None:
            wait_mean = waits[step.owner]
        steps_out[step_id] = StepFigures(
            step_id,
            step.owner,
            visits[step_id],
            means[step_id],
            0.0 if step.end else scvs[step_id],
            minimums[step_id],
            wait_mean,
            step.end,
            delay,
        )

    loaded = [o for o in staffed if owners[o].load > 0.0]
    bottleneck = max(loaded, key=lambda o: owners[o].utilization or 0.0) if loaded else None
    stable = all(owners[o].stable for o in staffed)
    active = [s for s in steps_out.values() if not s.end and s.visits > 0.0]
    expected: float | None = None
    wait_time: float | None = None
    if stable:
        wait_time = math.fsum(s.visits * (s.wait_mean or 0.0) for s in active)
        expected = wait_time + math.fsum(s.visits * (s.service_mean or 0.0) for s in active)
    is_end = [process.steps[s].end for s in chain.steps]
    fastest = fastest_path(chain, [means[s] or 0.0 for s in chain.steps], is_end)
    floor = fastest_path(chain, [minimums[s] or 0.0 for s in chain.steps], is_end)
    exact_all = chain.exact and all(owners[o].exact for o in loaded)
    cycle_time = CycleTime(
        expected,
        fastest[0] if fastest else None,
        floor[0] if floor else None,
        exact_all,
        tuple(fastest[1]) if fastest else (),
    )
    peak = max((owners[o].utilization or 0.0 for o in staffed), default=0.0)
    throughput = rate * 3600.0 / max(1.0, peak)
    costly = [o for o, owner in process.owners.items() if owner.cost_per_hour is not None]
    cost = (
        math.fsum(owners[o].load / rate * (owners[o].cost_per_hour or 0.0) / 3600.0 for o in costly)
        if costly
        else None
    )
    analysis = Analysis(
        process=process.id,
        arrival_rate_per_hour=rate * 3600.0,
        arrival_scv=process.arrivals.scv,
        poisson=poisson,
        bottleneck_threshold=bottleneck_threshold,
        steps=steps_out,
        owners=owners,
        bottleneck=bottleneck,
        cycle_time=cycle_time,
        goals=(),
        routing=Routing(chain.size, chain.bounds, chain.dropped),
        rework_rate=rework_probability(chain),
        throughput_per_hour=throughput,
        wait_time=wait_time,
        wip=rate * expected if expected is not None else None,
        cost_per_case=cost,
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
