"""The event loop: one replication of a compiled process, as fast as plain Python goes.

Semantics (SPEC section 5). Cases arrive per the plan's inter-arrival
distribution and start at the start step. At a step owned by a staff pool
a case waits first-come-first-served for one of the owner's ``capacity``
servers, holds it for a sampled duration and releases it; a step of an
external owner or of no owner is a pure delay; then the case takes one
outgoing transition by its probability, skipping bounded (``max``) edges
it has used up and renormalizing the others; at an end step it completes.

How it is fast, and why it is still exactly that:

* **One heap of event times** (plain floats, the cheapest thing for
  ``heapq`` to compare) and a dict from each time to its event, a tuple
  ``(step, case, arrived, waited, reworked, counters)``. An event means
  "case arrives at a staff step". Events at the same instant (rare with
  continuous durations) are kept in case order: cases that reach an owner
  at once are served in the order they entered the system, and an
  arriving case comes after them. Runs are deterministic.
* **FIFO pools without queues.** Events are handled in time order, so the
  cases arriving at one owner are handled in arrival order; each owner
  keeps a heap of its servers' free times, and a case that arrives at
  ``t`` starts at ``max(t, earliest free time)`` on that server. That is
  exactly first-come-first-served with ``capacity`` servers -- no queue,
  no service-completion event.
* **Pure delays are chained**: the time of an external or owner-less step
  is added to the case's clock without an event, up to the next staff or
  end step.
* **Arrivals are merged** from a pre-drawn sorted block, not the heap.
* **Random numbers are drawn in blocks** (:mod:`procflow.sim.sampling`):
  durations and routing choices are popped from Python lists. The draws
  for a staff step and for the pure delays chained after it are made when
  the case arrives at that staff step (in arrival order), which is the
  protocol :mod:`procflow.sim.reference` follows too. (The reference is
  an independent re-implementation to test this loop against: do not share
  simulation code with it.)
* **Statistics are online and bounded**: visits and service totals come
  from how much each step's duration stream was consumed, waiting from the
  queueing branch; completions are batched and folded into fixed-size
  histograms every :data:`~procflow.sim.sampling.BLOCK` arrivals. Memory
  does not grow with the number of cases, only with the cases in flight.

On the benchmark model of ``benchmarks/sim_bench.py`` this generic loop is
as fast as a heapq loop written by hand for that one model, and about ten
times as fast as SimPy.

Observation window. Time-based figures (utilization, WIP) are measured
between the arrival of the first counted case (after the warm-up) and the
arrival of the last case: after that no case arrives and the system
drains, which is not the steady state. With a single counted case the
window runs to the last completion instead. Throughput is not counted in
that window (see :func:`procflow.sim.results.throughput_per_hour`): the
run also records the span of the counted cases' arrivals. Busy time in the window is
computed from the consumed service time at the window's edges minus the
work still assigned to each server after the edge (which, since every
later start is at a server's free time, is one unbroken stretch).
"""

from __future__ import annotations

import math
from bisect import bisect_right, insort
from collections.abc import Callable
from dataclasses import dataclass, field
from heapq import heappop, heappush, heapreplace
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from procflow.errors import SimulationError
from procflow.sim.budget import MAX_VISITS, count
from procflow.sim.histogram import Histogram
from procflow.sim.plan import CHOICE, DELAY, END, GENERAL, SINGLE, STAFF, Plan
from procflow.sim.sampling import (
    DURATIONS,
    ROUTING,
    ArrivalTimes,
    Buffer,
    ChoiceBuffer,
    drawer,
    generator,
    uniforms,
)

INF = math.inf
assert (STAFF, DELAY, SINGLE, CHOICE) == (0, 1, 0, 1), "the event loop uses these literals"


class EventSink(Protocol):
    """Where ``--log`` events go (``CsvEventWriter`` is one)."""

    def write_simulated(
        self, case: str | int, step: str, owner: str | None, start: float, end: float
    ) -> None: ...


Progress = Callable[[int], None]
"""Called with the number of cases that have arrived so far, every few thousand."""


@dataclass
class RunStats:
    """The raw totals of one replication; :mod:`procflow.sim.results` turns them into KPIs."""

    run: int
    cases: int
    warmup: int
    counted: int = 0
    window_start: float = 0.0
    window_end: float = 0.0
    makespan: float = 0.0
    cycle: Histogram = field(default_factory=Histogram)
    wait: Histogram = field(default_factory=Histogram)
    rework: int = 0
    visits: list[float] = field(default_factory=list)
    """Visits of counted cases per step (end steps: completions there)."""
    wait_sum: list[float] = field(default_factory=list)
    service_sum: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    """Busy server time per owner inside the window (0 for external owners)."""
    wip_area: float = 0.0
    completed_in_window: int = 0
    arrival_span: float = 0.0
    """From the arrival before the first counted case (or time 0) to the last arrival:
    ``counted`` inter-arrival times, the time the counted cases took to arrive."""
    step_time: dict[int, Histogram] = field(default_factory=dict)

    @property
    def horizon(self) -> float:
        return self.window_end - self.window_start


def _general_table(plan: Plan, index: int) -> tuple[Any, ...]:
    """``(bounds, cumulative, rows)`` for a GENERAL step.

    ``bounds`` are its ``(counter, max)`` pairs; ``cumulative`` the running
    sums of the probabilities but the last, so that ``bisect_right(cumulative,
    u)`` is the edge a uniform ``u`` picks when nothing is used up; ``rows``
    the edges as ``(cumulative_p, target, counter, max, feedback, p, effect)``.
    """
    edges = plan.steps[index].edges
    rows = []
    running = 0.0
    for edge in edges:
        running += edge.p
        effect = edge.feedback or edge.bound >= 0
        rows.append((running, edge.target, edge.bound, edge.max, edge.feedback, edge.p, effect))
    bounds = tuple((e.bound, e.max) for e in edges if e.bound >= 0)
    return bounds, [row[0] for row in rows[:-1]], tuple(rows)


def _renormalized(edges: tuple[Any, ...], u: float, counters: tuple[int, ...]) -> Any:
    """Pick among the edges not used up, their probabilities renormalized (equal if all 0)."""
    available = [e for e in edges if e[2] < 0 or counters[e[2]] < e[3]]
    total = math.fsum(e[5] for e in available)
    if total <= 0.0:
        return available[min(int(u * len(available)), len(available) - 1)]
    x = u * total
    for edge in available:
        if edge[5] > 0.0:
            chosen = edge
            x -= edge[5]
            if x < 0.0:
                return edge
    return chosen


class _Together(list):  # type: ignore[type-arg]
    """Events that fall on the same instant, in case order (see :func:`_at_the_same_instant`)."""

    __slots__ = ()


def _case_of(item: tuple[Any, ...]) -> int:
    return int(item[1])


def _at_the_same_instant(pending: dict[float, Any], t: float, earlier: Any, item: Any) -> None:
    """Keep simultaneous events in case order: cases that reach staff at the same instant
    are served in the order they arrived in the system (rare with continuous durations)."""
    if earlier.__class__ is _Together:
        insort(earlier, item, key=_case_of)
    else:
        pending[t] = _Together(sorted((earlier, item), key=_case_of))


def _bump(counters: tuple[int, ...], index: int) -> tuple[int, ...]:
    return (*counters[:index], counters[index] + 1, *counters[index + 1 :])


def run_replication(
    plan: Plan,
    run: int,
    seed: int,
    cases: int,
    warmup: int,
    log: EventSink | None = None,
    progress: Progress | None = None,
    max_visits: int = MAX_VISITS,
    observe: Callable[[NDArray[np.float64]], None] | None = None,
) -> RunStats:
    """Simulate run ``run`` of ``plan``: ``cases`` arrivals, the first ``warmup`` not counted.

    ``observe``, when given, sees every block of completed cases before it is
    folded into the statistics: an ``(n, 4)`` array of ``arrived, ended,
    waited, code`` rows (code -1 for a warm-up case), in completion order
    (:mod:`procflow.sim.runlength` estimates the warm-up from it).

    Raises :class:`~procflow.errors.SimulationError` once the run has made
    more than ``max_visits`` step visits (the backstop of
    :mod:`procflow.sim.budget`: checked when a step's block of draws runs
    out, so it costs nothing per event).
    """
    if cases < 1 or not 0 <= warmup < cases:
        raise ValueError("need cases >= 1 and 0 <= warmup < cases")
    steps = plan.steps
    nsteps = len(steps)
    owners = plan.owners
    stats = RunStats(run=run, cases=cases, warmup=warmup)
    stats.visits = [0.0] * nsteps
    stats.wait_sum = [0.0] * nsteps
    stats.service_sum = [0.0] * nsteps
    stats.busy = [0.0] * len(owners)

    arrivals = ArrivalTimes(seed, run, plan.interarrival, cases)
    before, window_start, last_arrival = arrivals.at(max(warmup - 1, 0), warmup, cases - 1)
    window_end = last_arrival if last_arrival > window_start else INF
    stats.arrival_span = last_arrival - (before if warmup > 0 else 0.0)

    # -- random streams ------------------------------------------------------
    durations: list[Buffer | None] = [None] * nsteps
    routes: list[Buffer | None] = [None] * nsteps
    general: list[Any] = [None] * nsteps
    for index, step in enumerate(steps):
        if step.kind == END or not step.edges:
            continue
        assert step.duration is not None
        durations[index] = Buffer(drawer(step.duration, generator(seed, run, DURATIONS, step.key)))
        if step.routing == CHOICE:
            cumulative = []
            running = 0.0
            for edge in step.edges:
                running += edge.p
                cumulative.append(running)
            routes[index] = ChoiceBuffer(
                generator(seed, run, ROUTING, step.key),
                tuple(cumulative),
                tuple(e.target for e in step.edges),
            )
        elif step.routing == GENERAL:
            routes[index] = Buffer(uniforms(generator(seed, run, ROUTING, step.key)))
            general[index] = _general_table(plan, index)
    pools: list[list[float] | None] = [
        None if owner.external else [0.0] * owner.capacity for owner in owners
    ]

    # -- per-visit hooks: warm-up accounting, step-time goals, the event log --
    warm_visits = [0] * nsteps
    warm_wait = [0.0] * nsteps
    warm_service = [0.0] * nsteps
    tracked: dict[int, list[float]] = {s: [] for s in plan.tracked}
    for s in plan.tracked:
        stats.step_time[s] = Histogram()
    step_names = [s.id for s in steps]
    owner_names = [owners[s.owner].id if s.owner >= 0 else None for s in steps]

    def make_hook(index: int, warm: bool) -> Callable[[int, int, float, float, float], None] | None:
        name = step_names[index]
        owner = owner_names[index]
        sink = tracked.get(index) if not warm else None
        if warm:

            def account(case: int, s: int, arrived: float, start: float, d: float) -> None:
                warm_visits[s] += 1
                warm_wait[s] += start - arrived
                warm_service[s] += d

        if log is None and not warm and sink is None:
            return None
        write = log.write_simulated if log is not None else None

        def hook(case: int, s: int, arrived: float, start: float, d: float) -> None:
            if warm:
                account(case, s, arrived, start, d)
            elif sink is not None:
                sink.append(start - arrived + d)
            if write is not None:
                write(case + 1, name, owner, start, start + d)

        return hook

    def table(warm: bool) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for index, step in enumerate(steps):
            buffer = durations[index]
            route = routes[index]
            hook = make_hook(index, warm) if step.kind != END or log is not None else None
            if step.kind == END or buffer is None:
                rows.append((END, None, None, SINGLE, index, hook))
                continue
            if step.routing == SINGLE:
                target: Any = step.edges[0].target
            else:
                assert route is not None
                target = route.values
            pool = pools[step.owner] if step.kind == STAFF else None
            rows.append((step.kind, pool, buffer.values, step.routing, target, hook))
        return rows

    counted_table = table(warm=False)
    warm_table = table(warm=True)
    kinds = [row[0] for row in counted_table]
    live = [b for b in durations if b is not None]

    def refiller(index: int, buffer: Buffer) -> Callable[[], None]:
        def refill() -> None:
            buffer.refill()
            made = sum(b.consumed for b in live)
            if made > max_visits:
                raise SimulationError(
                    f"process {plan.process!r}: run {run + 1} passed {count(max_visits)} step "
                    f"visits (step {steps[index].id!r} alone {count(buffer.consumed)}) before "
                    f"its {count(cases)} cases ended: cases almost never leave a loop; make "
                    "leaving it more likely, bound it with 'max:', or simulate fewer --cases"
                )

        return refill

    refill_duration = [refiller(i, b) if b is not None else None for i, b in enumerate(durations)]
    refill_route = [b.refill if b is not None else None for b in routes]
    wait_all = [0.0] * nsteps

    # -- completions, folded into statistics block by block --------------------
    done: list[float] = []
    """Completed cases, four numbers each: arrived, ended, waited, code (see below)."""
    end_counts = np.zeros(nsteps, dtype=np.int64)
    totals = {"rework": 0, "area": 0.0, "in_window": 0, "makespan": 0.0}

    def fold() -> None:
        if tracked:
            for s, values in tracked.items():
                stats.step_time[s].add(np.asarray(values, dtype=np.float64))
                values.clear()
        if not done:
            return
        table = np.asarray(done, dtype=np.float64).reshape(-1, 4)
        done.clear()
        if observe is not None:
            observe(table)
        arrived, ended, waited = table[:, 0], table[:, 1], table[:, 2]
        code: NDArray[np.int64] = table[:, 3].astype(np.int64)
        inside = np.minimum(ended, window_end) - np.maximum(arrived, window_start)
        totals["area"] += float(inside[inside > 0.0].sum())
        totals["in_window"] += int(((ended >= window_start) & (ended <= window_end)).sum())
        totals["makespan"] = max(totals["makespan"], float(ended.max()))
        counted = code >= 0
        if counted.any():
            mine = code[counted]
            stats.cycle.add(ended[counted] - arrived[counted])
            stats.wait.add(waited[counted])
            totals["rework"] += int((mine & 1).sum())
            end_counts[:] += np.bincount(mine >> 1, minlength=nsteps)

    # -- the observation window's edges -----------------------------------------
    snapshots: list[list[float]] = []

    def busy_until(moment: float) -> list[float]:
        """Server time consumed up to ``moment`` per owner (see the module docstring)."""
        busy = [0.0] * len(owners)
        for index, step in enumerate(steps):
            buffer = durations[index]
            if step.kind == STAFF and buffer is not None:
                busy[step.owner] += buffer.consumed_sum()
        for index, pool in enumerate(pools):
            if pool is not None:
                busy[index] -= math.fsum(f - moment for f in pool if f > moment)
        return busy

    marks = [warmup] + ([cases - 1] if window_end < INF else [])

    def snapshot(moment: float) -> int:
        snapshots.append(busy_until(moment))
        return marks[len(snapshots)] if len(snapshots) < len(marks) else -1

    source = arrivals.source()
    arrived_so_far = [0]

    def next_arrivals() -> list[float]:
        fold()
        block = source()
        if progress is not None:
            progress(arrived_so_far[0])
        arrived_so_far[0] += len(block)
        return block

    # -- the loop -------------------------------------------------------------------
    inf = INF
    heap: list[float] = []
    pending: dict[float, Any] = {}
    push = heappush
    pop = heappop
    replace = heapreplace
    choose = bisect_right
    start_step = plan.start
    zero: tuple[int, ...] = (0,) * plan.bounded
    warm_limit = warmup
    mark = marks[0]
    next_case = 0
    block = next_arrivals()
    upcoming = block.pop()
    add_done = done.extend

    while True:
        if heap and heap[0] <= upcoming:
            t = pop(heap)
            item = pending.pop(t)
            if item.__class__ is _Together:  # several events at this instant
                together = item
                item = together.pop(0)
                if together:
                    pending[t] = together
                    push(heap, t)
            s, c, a, w, r, k = item
        elif upcoming != inf:
            t = a = upcoming
            s = start_step
            c = next_case
            next_case += 1
            w = 0.0
            r = 0
            k = zero
            if c == mark:
                mark = snapshot(t)
            if block:
                upcoming = block.pop()
            else:
                block = next_arrivals()
                upcoming = block.pop()
        else:
            break
        tab = counted_table if c >= warm_limit else warm_table
        while True:
            kind, pool, dv, rk, rx, hook = tab[s]
            try:
                d = dv.pop()
            except IndexError:
                refill_duration[s]()  # type: ignore[misc]
                d = dv.pop()
            if kind == 0:  # STAFF
                f = pool[0]
                if f > t:
                    wait_all[s] += f - t
                    w += f - t
                    if hook is not None:
                        hook(c, s, t, f, d)
                    t = f + d
                else:
                    if hook is not None:
                        hook(c, s, t, t, d)
                    t += d
                replace(pool, t)
            else:
                if hook is not None:
                    hook(c, s, t, t, d)
                t += d
            if rk == 0:  # SINGLE
                s = rx
            elif rk == 1:
                try:
                    s = rx.pop()
                except IndexError:
                    refill_route[s]()  # type: ignore[misc]
                    s = rx.pop()
            else:
                try:
                    u = rx.pop()
                except IndexError:
                    refill_route[s]()  # type: ignore[misc]
                    u = rx.pop()
                bounds, cumulative, rows = general[s]
                for b, m in bounds:
                    if k[b] >= m:  # a bounded edge is used up: renormalize
                        row = _renormalized(rows, u, k)
                        break
                else:
                    row = rows[choose(cumulative, u)]
                s = row[1]
                if row[6]:  # the edge has an effect: feedback, or a bound to count
                    if row[4]:
                        r = 1
                    if row[2] >= 0:
                        k = _bump(k, row[2])
            kind = kinds[s]
            if kind == 1:  # DELAY
                continue
            if kind == 0:  # STAFF: an event at the next staff step
                item = (s, c, a, w, r, k)
                earlier = pending.setdefault(t, item)
                if earlier is item:
                    push(heap, t)
                else:
                    _at_the_same_instant(pending, t, earlier, item)
                break
            # an end step: the case is done at t
            hook = tab[s][5]
            if hook is not None:
                hook(c, s, t, t, 0.0)
            add_done((a, t, w, (s << 1 | r) if c >= warm_limit else -1))
            break

    fold()
    if progress is not None:
        progress(cases)
    # -- totals -------------------------------------------------------------------------
    stats.makespan = totals["makespan"]
    if len(snapshots) < 2:
        snapshots.append(busy_until(stats.makespan))
    stats.window_start = window_start
    stats.window_end = window_end if window_end < INF else max(stats.makespan, window_start)
    stats.busy = [end - begin for begin, end in zip(snapshots[0], snapshots[1], strict=True)]
    stats.counted = stats.cycle.n
    stats.rework = int(totals["rework"])
    stats.wip_area = float(totals["area"])
    stats.completed_in_window = int(totals["in_window"])
    for index, step in enumerate(steps):
        buffer = durations[index]
        if step.kind == END:
            stats.visits[index] = float(end_counts[index])
        elif buffer is not None:
            stats.visits[index] = float(buffer.consumed - warm_visits[index])
            stats.service_sum[index] = buffer.consumed_sum() - warm_service[index]
            stats.wait_sum[index] = wait_all[index] - warm_wait[index]
    return stats


__all__ = ["EventSink", "Progress", "RunStats", "run_replication"]
