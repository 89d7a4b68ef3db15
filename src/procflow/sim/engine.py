"""The event loop: one replication of a compiled process, as fast as plain Python goes.

Semantics (docs/simulation-engine.md). Cases arrive per the plan's inter-arrival
distribution and start at the start step. At a step owned by a staff pool
a case waits first-come-first-served for one of the owner's ``capacity``
units, holds it for a sampled duration and releases it; a step of an
external owner or of no owner is a pure delay; then the case takes one
outgoing transition by its probability, skipping bounded (``max``) edges
it has used up and renormalizing the others; at an end step it completes.

The design, in the order :func:`run_replication` sets it up
(``docs/simulation-engine.md`` tells the whole story):

* :class:`Streams`: the random numbers, one stream per step and purpose,
  drawn in growing chunks (:mod:`procflow.sim.sampling`).
* **Pools** (:mod:`procflow.sim.pools`): the one seam between the loop and
  an owner. The loop asks a staff owner's pool ``take(t, work) -> (start,
  end)`` and never how it answers -- always-available units today, units
  with working hours next.
* :class:`Row`: what the loop needs of a step in one tuple, one table for
  counted cases and one for warm-up cases (:class:`Hooks` differ).
* :class:`Completions` and :class:`Window`: the statistics, folded in
  blocks and measured at the observation window's edges.
* :func:`_loop`: the event loop itself.

How it is fast, and why it is still exactly those semantics:

* **One heap of event times** (plain floats, the cheapest thing for
  ``heapq`` to compare) and a dict from each time to its :class:`Visit`
  (a case arriving at a staff step). Events at the same instant (rare with
  continuous durations) are kept in case order: cases that reach an owner
  at once are served in the order they entered the system, and an arriving
  case comes after them. Runs are deterministic.
* **FIFO pools without queues** (see :mod:`procflow.sim.pools`): no queue,
  no service-completion event.
* **Pure delays are chained**: the time of an external or owner-less step
  is added to the case's clock without an event, up to the next staff or
  end step.
* **Arrivals are merged** from a pre-drawn sorted block, not the heap.
* **Random numbers are drawn in blocks**: durations and routing choices
  are popped from Python lists. The draws for a staff step and for the
  pure delays chained after it are made when the case arrives at that
  staff step (in arrival order), which is the protocol
  :mod:`procflow.sim.reference` follows too. (The reference is an
  independent re-implementation to test this loop against: do not share
  simulation code with it.)
* **Statistics are online and bounded**: visits and service totals come
  from how much each step's duration stream was consumed, waiting from the
  pools' answers; completions are batched and folded into fixed-size
  histograms every :data:`~procflow.sim.sampling.BLOCK` arrivals. Memory
  does not grow with the number of cases, only with the cases in flight.

On the benchmark model of ``benchmarks/sim_bench.py`` this generic loop is
faster than a heapq loop written by hand for that one model, and about ten
times as fast as SimPy.

Observation window. Time-based figures (utilization, WIP) are measured
between the arrival of the first counted case (after the warm-up) and the
arrival of the last case: after that no case arrives and the system
drains, which is not the steady state. With a single counted case the
window runs to the last completion instead. Throughput is not counted in
that window (see :func:`procflow.sim.results.throughput_per_hour`): the
run also records the span of the counted cases' arrivals. Busy time in the
window is computed from the consumed service time at the window's edges
minus the work still assigned to each pool after the edge
(:meth:`~procflow.sim.pools.Pool.work_after`).
"""

from __future__ import annotations

import math
from bisect import bisect_right, insort
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from functools import partial
from heapq import heappop, heappush, heapreplace
from typing import Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

from procflow.errors import SimulationError
from procflow.sim.budget import MAX_VISITS, count
from procflow.sim.histogram import Histogram
from procflow.sim.plan import OwnerPlan, Plan, Routing, StepKind
from procflow.sim.pools import Pool, Staff
from procflow.sim.sampling import (
    DURATIONS,
    ROUTING,
    ArrivalTimes,
    Buffer,
    Source,
    choices,
    sampler,
    seed_words,
    seeder,
    total_handed_out,
    uniforms,
)
from procflow.sim.workingtime import OffHours, Shifts, map_arrivals

INF = math.inf


class EventSink(Protocol):
    """Where ``--log`` events go (``CsvEventWriter`` is one)."""

    def write_simulated(
        self, case: str | int, step: str, owner: str | None, start: float, end: float
    ) -> None: ...


Progress = Callable[[int], None]
"""Called with the number of cases that have arrived so far, every few thousand."""

Hook = Callable[[int, int, float, float, float, float], None]
"""Called per visit with ``(case, step, arrived, start, end, work)``: logs and warm-up tallies."""


class Visit(NamedTuple):
    """An event: case ``case`` arrives at staff step ``step`` (the heap holds the time)."""

    step: int
    case: int
    arrived: float
    """When the case entered the system."""
    waited: float
    """Its waiting so far."""
    reworked: int
    """1 once it took a feedback edge."""
    counters: tuple[int, ...]
    """How often it took each bounded edge."""


class RowKind(IntEnum):
    """What a visit of a step is, as the loop dispatches it (:class:`StepKind`, with staff
    steps split by how their pool is asked)."""

    ALWAYS = 0
    """A staff step whose units are always available: the loop answers the pool's
    :meth:`~procflow.sim.pools.Pool.take` itself (the fast path of :mod:`procflow.sim.pools`)."""
    DELAY = 1
    """A pure delay."""
    END = 2
    """An end step."""
    POOLED = 3
    """A staff step whose pool is asked (:meth:`~procflow.sim.pools.Pool.take`)."""


class Row(NamedTuple):
    """A step as the loop needs it: one tuple, unpacked once per visit."""

    kind: int
    """:class:`RowKind`."""
    unit: Any
    """ALWAYS: the pool's heap of free times (:attr:`~procflow.sim.pools.Pool.always`);
    POOLED: its :meth:`~procflow.sim.pools.Pool.take`; else None."""
    draws: list[float] | None
    """The step's durations, popped (None for end steps)."""
    routing: int
    """:class:`~procflow.sim.plan.Routing`."""
    route: Any
    """SINGLE: the next step; CHOICE: the list of pre-drawn next steps; GENERAL: the
    list of uniforms."""
    hook: Hook | None


class Edge(NamedTuple):
    """A GENERAL step's edge as the loop reads it."""

    cumulative: float
    target: int
    bound: int
    max: int
    feedback: bool
    p: float
    effect: bool
    """Taking it changes the case: feedback, or a bound to count."""


class General(NamedTuple):
    """How a GENERAL step (feedback or bounded edges) picks its next step."""

    bounds: tuple[tuple[int, int], ...]
    """``(counter, max)`` of its bounded edges."""
    cumulative: list[float]
    """Running sums of the probabilities but the last: ``bisect_right(cumulative, u)`` is
    the edge a uniform ``u`` picks when nothing is used up."""
    edges: tuple[Edge, ...]

    def pick(self, u: float, counters: tuple[int, ...]) -> Edge:
        """The edge ``u`` picks for a case with ``counters``."""
        for b, m in self.bounds:
            if counters[b] >= m:  # a bounded edge is used up: renormalize
                return Edge._make(_renormalized(self.edges, u, counters))
        return self.edges[bisect_right(self.cumulative, u)]


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
    on_duty: list[float] = field(default_factory=list)
    """With calendars: unit-seconds on duty per owner inside the window (the denominator of
    utilization and the hours staffing cost pays); empty for a process without calendars."""
    groups: Any = None
    """Per counted case rows for KPIs by class and outcome (:class:`procflow.sim.groups.CaseTable`),
    from the token engine with attributes; None elsewhere."""

    @property
    def horizon(self) -> float:
        return self.window_end - self.window_start


def general_table(plan: Plan, index: int) -> General:
    """The :class:`General` table of step ``index``."""
    edges = []
    running = 0.0
    for edge in plan.steps[index].edges:
        running += edge.p
        effect = edge.feedback or edge.bound >= 0
        edges.append(
            Edge(running, edge.target, edge.bound, edge.max, edge.feedback, edge.p, effect)
        )
    bounds = tuple((e.bound, e.max) for e in edges if e.bound >= 0)
    return General(bounds, [e.cumulative for e in edges[:-1]], tuple(edges))


def _renormalized(
    edges: tuple[tuple[Any, ...], ...], u: float, counters: tuple[int, ...]
) -> tuple[Any, ...]:
    """Pick among the edges not used up, their probabilities renormalized (equal if all 0).

    ``edges`` are :class:`Edge` values or the plain tuples the loop keeps of them."""
    named = [Edge._make(e) for e in edges]
    available = [e for e in named if e.bound < 0 or counters[e.bound] < e.max]
    total = math.fsum(e.p for e in available)
    if total <= 0.0:
        return available[min(int(u * len(available)), len(available) - 1)]
    x = u * total
    for edge in available:
        if edge.p > 0.0:
            chosen = edge
            x -= edge.p
            if x < 0.0:
                return edge
    return chosen


class Tables(NamedTuple):
    """What every run of a plan reads of its steps, made once per plan (:func:`tables_of`):
    a run's set-up then only makes its own lists, buffers and pools."""

    keys: NDArray[np.uint64]
    """Per step, its stream key (:func:`~procflow.sim.sampling.stream_key`)."""
    drawn: list[bool]
    """Per step, whether it has a duration stream (a non-end step a case can reach)."""
    staff: list[bool]
    """Per step, whether it is a staff step (its durations are its owner's busy time)."""
    owner: list[int]
    routing: list[int]
    """:class:`~procflow.sim.plan.Routing` per step (SINGLE for one without a stream)."""
    single: list[int]
    """Per SINGLE step with a stream, its next step; else its own index."""
    samplers: list[Callable[[np.random.Generator], Source] | None]
    """Per step with a duration stream, how to make it from the run's generator
    (:func:`~procflow.sim.sampling.sampler`)."""
    random: list[bool]
    """Per step, whether its durations are random (a fixed duration needs no generator)."""
    choice: list[tuple[NDArray[np.float64], NDArray[np.int64]] | None]
    """Per CHOICE step, its cumulative probabilities and targets (as :func:`choices` reads
    them: made once per plan, not once per run)."""
    general: list[tuple[Any, ...] | None]
    """Each GENERAL step's :class:`General` table, as plain tuples (the loop unpacks them)."""
    names: list[str]
    owner_names: list[str | None]


_NO_GENERATOR = np.random.Generator(np.random.PCG64(0))
"""What a fixed duration's sampler is given: it draws nothing (a step of fixed duration
costs no generator)."""

_TABLES = "_engine_tables"
"""Where :func:`tables_of` keeps a plan's tables (in its instance dict; not pickled)."""


def tables_of(plan: Plan) -> Tables:
    """The :class:`Tables` of ``plan``: made on first use, then kept with the plan."""
    found: Tables | None = plan.__dict__.get(_TABLES)
    if found is not None:
        return found
    steps = plan.steps
    drawn = [step.kind != StepKind.END and bool(step.edges) for step in steps]
    routing = [
        int(step.routing) if d else int(Routing.SINGLE)
        for step, d in zip(steps, drawn, strict=True)
    ]
    choice: list[tuple[NDArray[np.float64], NDArray[np.int64]] | None] = [None] * len(steps)
    general: list[tuple[Any, ...] | None] = [None] * len(steps)
    for index, step in enumerate(steps):
        if not drawn[index]:
            continue
        if step.routing == Routing.CHOICE:
            cumulative = []
            running = 0.0
            for edge in step.edges:
                running += edge.p
                cumulative.append(running)
            choice[index] = (
                np.array(cumulative, dtype=np.float64),
                np.array([e.target for e in step.edges], dtype=np.int64),
            )
        elif step.routing == Routing.GENERAL:
            table = general_table(plan, index)  # plain tuples again, for the fast unpack
            general[index] = (table.bounds, table.cumulative, tuple(map(tuple, table.edges)))
    owners = plan.owners
    found = Tables(
        keys=np.array([step.key for step in steps], dtype=np.uint64),
        drawn=drawn,
        staff=[step.kind == StepKind.STAFF for step in steps],
        owner=[step.owner for step in steps],
        routing=routing,
        single=[
            step.edges[0].target if d and r == Routing.SINGLE else index
            for index, (step, d, r) in enumerate(zip(steps, drawn, routing, strict=True))
        ],
        samplers=[
            sampler(step.duration) if d and step.duration is not None else None
            for step, d in zip(steps, drawn, strict=True)
        ],
        random=[step.duration is not None and step.duration.name != "fixed" for step in steps],
        choice=choice,
        general=general,
        names=[step.id for step in steps],
        owner_names=[owners[s.owner].id if s.owner >= 0 else None for s in steps],
    )
    plan.__dict__[_TABLES] = found
    return found


class Streams:
    """The random numbers of one run: a duration and a routing stream per step.

    A step's streams are made when a case first needs them -- a step no case
    reaches costs no generator -- and all of a run's generators are seeded
    from one vectorized :func:`~procflow.sim.sampling.seed_words` per purpose.
    The lists the loop pops from exist from the start (the loop's rows hold
    them); a buffer adopts its list when it is made.

    Also the budget's backstop: every refill of a duration stream counts its
    draws, and a run that has drawn more than ``max_visits`` durations (one
    per visit) stops with a :class:`SimulationError`.
    """

    def __init__(self, plan: Plan, run: int, seed: int, max_visits: int, cases: int) -> None:
        tables = tables_of(plan)
        n = len(plan.steps)
        self.plan = plan
        self.tables = tables
        self.run = run
        self.seed = seed
        self.cases = cases
        self.max_visits = max_visits
        self.drawn = 0
        self.touched: list[int] = []
        """The steps whose durations were drawn from, in the order of their first draw: the
        only steps a run's totals have to look at (a 10-case run of 5,000 steps visits few)."""
        self.durations: list[Buffer | None] = [None] * n
        self.routes: list[Buffer | None] = [None] * n
        self.duration_values: list[list[float] | None] = [
            [] if drawn else None for drawn in tables.drawn
        ]
        """Per step with a duration stream, the list its buffer hands out (the loop pops it)."""
        self.route_values: list[list[Any] | None] = [
            [] if routing != Routing.SINGLE else None for routing in tables.routing
        ]
        self.general = tables.general
        self._seeders: dict[int, Callable[[int], np.random.Generator]] = {}

    def _generator(self, purpose: int, index: int) -> np.random.Generator:
        """Step ``index``'s generator for ``purpose`` (the words of every step made at once)."""
        make = self._seeders.get(purpose)
        if make is None:
            words = seed_words(self.seed, self.run, purpose, self.tables.keys)
            make = self._seeders[purpose] = seeder(words)
        return make(index)

    def refill_duration(self, index: int) -> None:
        """Refill step ``index``'s durations; stop a run past its visit budget."""
        buffer = self.durations[index]
        if buffer is None:  # the step's first draw in this run
            tables = self.tables
            make = tables.samplers[index]
            assert make is not None
            rng = self._generator(DURATIONS, index) if tables.random[index] else _NO_GENERATOR
            buffer = self.durations[index] = Buffer(make(rng), values=self.duration_values[index])
            self.touched.append(index)
        before = buffer.drawn
        buffer.refill()
        self.drawn += buffer.drawn - before
        if self.drawn - len(buffer.values) > self.max_visits:
            raise SimulationError(
                f"process {self.plan.process!r}: run {self.run + 1} passed "
                f"{count(self.max_visits)} step visits (step {self.plan.steps[index].id!r} "
                f"alone {count(buffer.consumed)}) before its {count(self.cases)} cases ended: "
                "cases almost never leave a loop; make leaving it more likely, bound it with "
                "'max:', or simulate fewer --cases"
            )

    def refill_route(self, index: int) -> None:
        route = self.routes[index]
        if route is None:
            rng = self._generator(ROUTING, index)
            choice = self.tables.choice[index]
            source = uniforms(rng) if choice is None else choices(rng, *choice)
            route = self.routes[index] = Buffer(
                source, summed=False, values=self.route_values[index]
            )
        route.refill()


class Hooks:
    """Per-visit work besides the loop's own: warm-up tallies, step-time goals, the log.

    The warm-up tally and the log are one function each for every step (a hook is
    told its step); only steps that goals track have one of their own.
    """

    def __init__(self, plan: Plan, log: EventSink | None) -> None:
        n = len(plan.steps)
        tables = tables_of(plan)
        self.plan = plan
        self.log = log
        self.warm_visits = [0] * n
        self.warm_wait = [0.0] * n
        self.warm_service = [0.0] * n
        self.tracked: dict[int, list[float]] = {s: [] for s in plan.tracked}
        self.names = tables.names
        self.owner_names = tables.owner_names
        self._shared: dict[bool, Hook | None] = {
            True: self._make(None, warm=True),
            False: None if log is None else self._make(None, warm=False),
        }

    def hook(self, index: int, warm: bool) -> Hook | None:
        """What a visit of step ``index`` by a warm-up (or counted) case must also do."""
        sink = self.tracked.get(index) if not warm else None
        if sink is None:
            return self._shared[warm]
        return self._make(sink, warm=False)

    def _make(self, sink: list[float] | None, *, warm: bool) -> Hook:
        write = self.log.write_simulated if self.log is not None else None
        names, owners = self.names, self.owner_names
        visits, wait, service = self.warm_visits, self.warm_wait, self.warm_service

        def hook(case: int, s: int, arrived: float, start: float, end: float, d: float) -> None:
            if warm:
                visits[s] += 1
                wait[s] += start - arrived
                service[s] += d
            elif sink is not None:
                sink.append(start - arrived + d)  # waiting plus work content
            if write is not None:
                write(case + 1, names[s], owners[s], start, end)

        return hook


def _rows(
    plan: Plan, streams: Streams, pools: list[Pool | None], hooks: Hooks, warm: bool
) -> list[tuple[Any, ...]]:
    """The loop's table: one :class:`Row` per step, for warm-up or for counted cases.

    Stored as plain tuples: CPython unpacks an exact tuple on its fast path, a
    subclass not; kinds and routings as plain ints, which the loop compares with
    ints. Made from the plan's :class:`Tables` and the run's lists and pools."""
    tables = streams.tables
    owner_rows: list[tuple[int, Any]] = []
    for pool in pools:  # None: a pure delay
        if pool is None:
            owner_rows.append((int(RowKind.DELAY), None))
        elif pool.always is not None:
            owner_rows.append((int(RowKind.ALWAYS), pool.always))
        else:
            owner_rows.append((int(RowKind.POOLED), pool.take))
    delay = (int(RowKind.DELAY), None)
    end, single = int(RowKind.END), int(Routing.SINGLE)
    end_hooks = hooks.log is not None
    rows: list[tuple[Any, ...]] = []
    add = rows.append
    routes = streams.route_values
    # one hook for every step unless goals track some step's time (hooks of their own)
    same = warm or not hooks.tracked
    shared = hooks.hook(-1, warm) if same else None
    steps = zip(
        streams.duration_values, tables.owner, tables.routing, tables.single, routes, strict=True
    )
    for index, (values, owner, routing, next_step, route) in enumerate(steps):
        hook = shared if same else hooks.hook(index, warm)
        if values is None:
            add((end, None, None, single, index, hook if end_hooks else None))
            continue
        kind, unit = owner_rows[owner] if owner >= 0 else delay
        add((kind, unit, values, routing, next_step if routing == single else route, hook))
    return rows


class Completions:
    """Completed cases, four numbers each, folded into the statistics block by block."""

    def __init__(
        self,
        stats: RunStats,
        hooks: Hooks,
        window: tuple[float, float],
        n: int,
        observe: Callable[[NDArray[np.float64]], None] | None = None,
    ) -> None:
        self.stats = stats
        self.observe = observe
        self.hooks = hooks
        self.window_start, self.window_end = window
        self.done: list[float] = []
        """``arrived, ended, waited, code`` per case: code ``end step << 1 | reworked``,
        or -1 for a warm-up case."""
        self.end_counts = np.zeros(n, dtype=np.int64)
        self.rework = 0
        self.area = 0.0
        self.in_window = 0
        self.makespan = 0.0
        self.finished = 0
        """Cases folded so far."""

    def fold(self) -> None:
        stats = self.stats
        for s, values in self.hooks.tracked.items():
            stats.step_time[s].add(np.asarray(values, dtype=np.float64))
            values.clear()
        if not self.done:
            return
        table = np.asarray(self.done, dtype=np.float64).reshape(-1, 4)
        self.done.clear()
        if self.observe is not None:
            self.observe(table)
        self.finished += len(table)
        arrived, ended, waited = table[:, 0], table[:, 1], table[:, 2]
        code: NDArray[np.int64] = table[:, 3].astype(np.int64)
        start, end = self.window_start, self.window_end
        inside = np.minimum(ended, end) - np.maximum(arrived, start)
        self.area += float(inside[inside > 0.0].sum())
        self.in_window += int(((ended >= start) & (ended <= end)).sum())
        self.makespan = max(self.makespan, float(ended.max()))
        counted = code >= 0
        if counted.any():
            mine = code[counted]
            stats.cycle.add(ended[counted] - arrived[counted])
            stats.wait.add(waited[counted])
            self.rework += int((mine & 1).sum())
            self.end_counts[:] += np.bincount(mine >> 1, minlength=len(self.end_counts))


class Window:
    """Server time consumed per owner at the observation window's edges."""

    def __init__(self, plan: Plan, streams: Streams, pools: list[Pool | None], marks: list[int]):
        self.plan = plan
        self.streams = streams
        self.pools = pools
        self.marks = marks
        """The cases whose arrival is an edge (the first counted one, the last one)."""
        self.snapshots: list[list[float]] = []
        self.wait_all = [0.0] * len(plan.steps)
        """Waiting per step, all cases (the loop adds to it)."""

    def busy_until(self, moment: float) -> list[float]:
        """Server time consumed up to ``moment`` per owner (see the module docstring).

        The durations handed out to an owner's staff steps so far, summed exactly and
        rounded once (:func:`~procflow.sim.sampling.total_handed_out`); only the steps
        drawn from so far are looked at."""
        busy = [0.0] * len(self.plan.owners)
        tables, durations = self.streams.tables, self.streams.durations
        by_owner: dict[int, list[Buffer]] = {}
        for index in self.streams.touched:
            buffer = durations[index]
            if tables.staff[index] and buffer is not None:
                by_owner.setdefault(tables.owner[index], []).append(buffer)
        for owner, buffers in by_owner.items():
            busy[owner] = total_handed_out(buffers)
        for index, pool in enumerate(self.pools):
            if pool is not None:
                busy[index] -= pool.work_after(moment)
        return busy

    def snapshot(self, moment: float) -> int:
        """Take the edge at ``moment``; returns the case of the next edge (-1: none)."""
        self.snapshots.append(self.busy_until(moment))
        taken = len(self.snapshots)
        return self.marks[taken] if taken < len(self.marks) else -1


class _Together(list):  # type: ignore[type-arg]
    """Visits that fall on the same instant, in case order (see :func:`_at_the_same_instant`)."""

    __slots__ = ()


def _case_of(item: Visit) -> int:
    return item[1]


def _at_the_same_instant(pending: dict[float, Any], t: float, earlier: Any, item: Visit) -> None:
    """Keep simultaneous visits in case order: cases that reach staff at the same instant
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
    pool: Callable[[OwnerPlan], Pool] = Staff.of,
    observe: Callable[[NDArray[np.float64]], None] | None = None,
) -> RunStats:
    """Simulate run ``run`` of ``plan``: ``cases`` arrivals, the first ``warmup`` not counted.

    ``pool`` makes the pool of each staff owner (:mod:`procflow.sim.pools`): the
    seam where owners with working hours plug in.

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
    stats = RunStats(run=run, cases=cases, warmup=warmup)
    for s in plan.tracked:
        stats.step_time[s] = Histogram()
    working = plan.working
    clock = None
    if working is not None:  # calendars: units with working hours, arrivals on a real clock
        if pool == Staff.of:
            pool = working.pool
        line = working.arrival_timeline()
        if line is not None:
            clock = partial(map_arrivals, line)
    arrivals = ArrivalTimes(seed, run, plan.interarrival, cases, clock)
    before, window_start, last_arrival = arrivals.at(max(warmup - 1, 0), warmup, cases - 1)
    window_end = last_arrival if last_arrival > window_start else INF
    stats.arrival_span = last_arrival - (before if warmup > 0 else 0.0)

    streams = Streams(plan, run, seed, max_visits, cases)
    pools: list[Pool | None] = [
        (None if working is None else working.external(owner)) if owner.external else pool(owner)
        for owner in plan.owners
    ]
    hooks = Hooks(plan, log)
    completions = Completions(stats, hooks, (window_start, window_end), len(plan.steps), observe)
    window = Window(plan, streams, pools, [warmup] + ([cases - 1] if window_end < INF else []))
    counted = _rows(plan, streams, pools, hooks, False)
    tables = (counted, _rows(plan, streams, pools, hooks, True) if warmup else counted)
    feed = _Arrivals(arrivals, completions, pools, progress)
    _loop(_setup(plan, streams, tables, feed, completions, window, warmup))
    completions.fold()
    if progress is not None:
        progress(cases)
    _totals(stats, plan, streams, hooks, completions, window)
    return stats


class _Arrivals:
    """The arrival times in blocks. Between blocks, statistics are folded, progress is told
    and pools hold units for the cases that can be in the system until the next block."""

    def __init__(
        self,
        arrivals: ArrivalTimes,
        completions: Completions,
        pools: list[Pool | None],
        progress: Progress | None,
    ) -> None:
        self.source = arrivals.source()
        self.completions = completions
        self.pools = [pool for pool in pools if pool is not None]
        self.progress = progress
        self.so_far = 0

    def next_block(self) -> list[float]:
        self.completions.fold()
        block = self.source()
        if self.progress is not None:
            self.progress(self.so_far)
        in_system = self.so_far - self.completions.finished + len(block)
        for pool in self.pools:
            pool.reserve(in_system)
        self.so_far += len(block)
        return block


class _Setup(NamedTuple):
    """Everything the loop reads, made by :func:`_setup`: the loop binds it to locals."""

    counted_table: list[tuple[Any, ...]]
    warm_table: list[tuple[Any, ...]]
    kinds: list[int]
    """Per step, what arriving there is: STAFF (an event), DELAY or END."""
    general: list[tuple[Any, ...] | None]
    refill_duration: Callable[[int], None]
    refill_route: Callable[[int], None]
    wait_all: list[float]
    add_done: Callable[[tuple[float, float, float, int]], None]
    start: int
    zero: tuple[int, ...]
    warmup: int
    arrivals: _Arrivals
    window: Window
    heap: list[float]
    """The event times."""
    pending: dict[float, Any]
    """Event time -> :class:`Visit` (a plain tuple), or :class:`_Together`."""


def _setup(
    plan: Plan,
    streams: Streams,
    tables: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]],
    arrivals: _Arrivals,
    completions: Completions,
    window: Window,
    warmup: int,
) -> _Setup:
    counted, warm = tables
    pooled = {int(RowKind.ALWAYS), int(RowKind.POOLED)}
    staff, delay = int(StepKind.STAFF), int(StepKind.DELAY)
    # A pure delay stays one, also when its (calendared external) owner's pool is asked: it is
    # chained without an event and drawn with the staff step before it (the draw protocol).
    kinds = [
        delay if step.kind == StepKind.DELAY else staff if row[0] in pooled else row[0]
        for step, row in zip(plan.steps, counted, strict=True)
    ]
    return _Setup(
        counted,
        warm,
        kinds,
        streams.general,
        streams.refill_duration,
        streams.refill_route,
        window.wait_all,
        completions.done.extend,
        plan.start,
        (0,) * plan.bounded,
        warmup,
        arrivals,
        window,
        [],
        {},
    )


def _effect(reworked: int, counters: tuple[int, ...], feedback: bool, bound: int) -> Any:
    """A case took an edge with an effect: feedback marks it reworked, a bound is counted."""
    return (1 if feedback else reworked), (_bump(counters, bound) if bound >= 0 else counters)


def _next_together(pending: dict[float, Any], heap: list[float], t: float, together: Any) -> Any:
    """The first of several visits at instant ``t``; the others stay pending."""
    item = together.pop(0)
    if together:
        pending[t] = together
        heappush(heap, t)
    return item


# The constants the loop compares with (ints, CPython's fast path): RowKind and Routing.
_ALWAYS, _DELAY, _STAFF, _SINGLE, _CHOICE = 0, 1, 0, 0, 1
assert (_ALWAYS, _DELAY, _STAFF) == (RowKind.ALWAYS, RowKind.DELAY, StepKind.STAFF)
assert (_SINGLE, _CHOICE) == (Routing.SINGLE, Routing.CHOICE)


def _loop(setup: _Setup) -> None:
    """The event loop, the hot path: locals only, plain tuples, kinds compared as ints. A staff
    step's pool decides when work starts and ends (:mod:`procflow.sim.pools`)."""
    counted_table, warm_table, kinds, general, refill_duration, refill_route = setup[:6]
    wait_all, add_done, start_step, zero, warm_limit, arrivals, window, heap, pending = setup[6:]
    inf, push, pop, replace, choose = INF, heappush, heappop, heapreplace, bisect_right
    mark, next_case, block = window.marks[0], 0, arrivals.next_block()
    upcoming = block.pop()
    while True:
        if heap and heap[0] <= upcoming:  # the next event: a case reaches a staff step
            t = pop(heap)
            item: Any = pending.pop(t)
            if item.__class__ is _Together:  # several events at this instant
                item = _next_together(pending, heap, t, item)
            s, c, a, w, r, k = item
        elif upcoming != inf:  # the next case arrives
            t = a = upcoming
            s, c, w, r, k = start_step, next_case, 0.0, 0, zero
            next_case += 1
            if c == mark:
                mark = window.snapshot(t)
            if not block:
                block = arrivals.next_block()
            upcoming = block.pop()
        else:
            break
        tab = counted_table if c >= warm_limit else warm_table
        while True:  # the case's visits up to its next staff step or its end
            kind, unit, dv, rk, rx, hook = tab[s]
            try:
                d = dv.pop()
            except IndexError:
                refill_duration(s)
                d = dv.pop()
            if kind == _ALWAYS:  # Pool.take of always-available units, written out
                f = unit[0]
                if f > t:  # it waits for the unit free first
                    wait_all[s] += f - t
                    w += f - t
                    if hook is not None:
                        hook(c, s, t, f, f + d, d)
                    t = f + d
                else:
                    if hook is not None:
                        hook(c, s, t, t, t + d, d)
                    t += d
                replace(unit, t)
            elif kind == _DELAY:
                if hook is not None:
                    hook(c, s, t, t, t + d, d)
                t += d
            else:  # POOLED: the seam, the pool decides (Pool.take)
                f, e = unit(t, d)
                if hook is not None:
                    hook(c, s, t, f, e, d)
                if f > t:
                    wait_all[s] += f - t
                    w += f - t
                t = e
            if rk == _SINGLE:
                s = rx
            else:
                try:
                    u = rx.pop()  # CHOICE: the next step; GENERAL: a uniform
                except IndexError:
                    refill_route(s)
                    u = rx.pop()
                if rk == _CHOICE:
                    s = u
                else:  # GENERAL: General.pick, written out
                    bounds, cumulative, edges = general[s]
                    for b, m in bounds:
                        if k[b] >= m:  # a bounded edge is used up: renormalize
                            edge = _renormalized(edges, u, k)
                            break
                    else:
                        edge = edges[choose(cumulative, u)]
                    _, s, bound, _, feedback, _, effect = edge
                    if effect:  # feedback, or a bound to count
                        r, k = _effect(r, k, feedback, bound)
            kind = kinds[s]
            if kind == _STAFF:  # an event at the next staff step
                item = (s, c, a, w, r, k)
                earlier = pending.setdefault(t, item)
                if earlier is item:
                    push(heap, t)
                else:
                    _at_the_same_instant(pending, t, earlier, item)
                break
            if kind == _DELAY:
                continue
            hook = tab[s][-1]  # an end step (its row's hook): the case is done at t
            if hook is not None:
                hook(c, s, t, t, t, 0.0)
            add_done((a, t, w, (s << 1 | r) if c >= warm_limit else -1))
            break


def _totals(
    stats: RunStats,
    plan: Plan,
    streams: Streams,
    hooks: Hooks,
    completions: Completions,
    window: Window,
) -> None:
    """Fill ``stats`` from what the loop left behind."""
    stats.makespan = completions.makespan
    snapshots = window.snapshots
    if len(snapshots) < 2:
        snapshots.append(window.busy_until(stats.makespan))
    stats.window_start = completions.window_start
    end = completions.window_end
    stats.window_end = end if end < INF else max(stats.makespan, completions.window_start)
    stats.busy = [e - b for b, e in zip(snapshots[0], snapshots[1], strict=True)]
    if plan.working is not None:
        stats.on_duty = on_duty(window.pools, stats.window_start, stats.window_end)
    stats.counted = stats.cycle.n
    stats.rework = completions.rework
    stats.wip_area = completions.area
    stats.completed_in_window = completions.in_window
    n = len(plan.steps)
    stats.visits, stats.wait_sum, stats.service_sum = [0.0] * n, [0.0] * n, [0.0] * n
    # Only steps some case reached: an untouched step's figures are all 0.0 already.
    for index in np.flatnonzero(completions.end_counts).tolist():
        stats.visits[index] = float(completions.end_counts[index])
    for index in sorted(streams.touched):
        _step_totals(stats, index, streams, hooks, window)


def on_duty(pools: list[Pool | None], start: float, end: float) -> list[float]:
    """Unit-seconds on duty per owner in ``[start, end)`` (0 for external owners)."""
    return [
        0.0
        if pool is None or isinstance(pool, OffHours)
        else pool.on_duty(start, end)
        if isinstance(pool, Shifts)
        else pool.capacity * (end - start)
        for pool in pools
    ]


def _step_totals(
    stats: RunStats, index: int, streams: Streams, hooks: Hooks, window: Window
) -> None:
    """Visits, service and waiting of counted cases at non-end step ``index``, which was drawn
    from (:attr:`Streams.touched`): what was consumed minus the warm-up's share."""
    buffer = streams.durations[index]
    assert buffer is not None
    stats.visits[index] = float(buffer.consumed - hooks.warm_visits[index])
    stats.service_sum[index] = buffer.consumed_sum() - hooks.warm_service[index]
    stats.wait_sum[index] = window.wait_all[index] - hooks.warm_wait[index]


__all__ = ["EventSink", "Hook", "Progress", "Row", "RunStats", "Visit", "run_replication"]
