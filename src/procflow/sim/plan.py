"""From a :class:`~procflow.model.Process` to the plain tables the event loop runs on.

The simulator never touches the pydantic model in its hot loop: a process's
:class:`~procflow.compiled.CompiledProcess` (what the runnable gate returns:
steps, edges, owners as indexed tables) is turned once into a :class:`Plan`
-- steps and owners as integer indices,
distributions as :class:`~procflow.sim.sampling.DistSpec`, routing as
cumulative probabilities -- which is small, immutable and picklable, so it
can be shipped to worker processes or a Dask cluster.

Compiling is also where a process is checked for what a simulation needs
beyond a valid structure: arrivals, a duration on every step a case can
reach, and a guarantee that every case eventually ends.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from procflow.analysis.routing import refuse_dead_ends
from procflow.casedata import ByDuration
from procflow.compiled import CompiledProcess, StepKind
from procflow.distributions import AnyDistribution
from procflow.errors import SimulationError
from procflow.gate import runnable
from procflow.model import Process
from procflow.sim.caseplan import CasePlan, case_plan
from procflow.sim.sampling import DistSpec, spec_of, stream_key
from procflow.units import format_duration, format_number


class Routing(IntEnum):
    """How a case leaves a step."""

    SINGLE = 0
    """One plain edge."""
    CHOICE = 1
    """Several plain edges: the next steps are drawn ahead in blocks."""
    GENERAL = 2
    """Feedback or ``max`` edges: decided per case, from a uniform draw and its counters."""


STAFF, DELAY, END = StepKind.STAFF, StepKind.DELAY, StepKind.END
SINGLE, CHOICE, GENERAL = Routing.SINGLE, Routing.CHOICE, Routing.GENERAL


@dataclass(frozen=True)
class Edge:
    """One outgoing transition, compiled: target index, probability, bound, feedback."""

    target: int
    p: float
    bound: int
    """Index of this edge's counter among the process's bounded edges, or -1."""
    max: int
    feedback: bool


@dataclass(frozen=True)
class StepPlan:
    """One step, compiled."""

    id: str
    key: int
    kind: StepKind
    owner: int
    """Index into :attr:`Plan.owners`, or -1 for a step without owner."""
    duration: DistSpec | None
    routing: Routing
    edges: tuple[Edge, ...]


@dataclass(frozen=True)
class OwnerPlan:
    """One owner: a staff pool of ``capacity`` servers, or external (a pure delay)."""

    id: str
    capacity: int
    external: bool
    cost_per_hour: float | None
    cost_per_step: float | None = None
    """A fixed amount per step done (SPEC 7.1), added to both costs per case."""


@dataclass(frozen=True)
class ForkPlan:
    """One fork (docs/parallel-work.md): its step, branch starts in ``parallel`` order, its join."""

    step: int
    branches: tuple[int, ...]
    join: int
    first: bool
    """``join: first`` (a race: the first branch to arrive wins, the others are withdrawn)."""


@dataclass(frozen=True)
class Plan:
    """A process compiled for the event loop (see the module docstring)."""

    process: str
    steps: tuple[StepPlan, ...]
    owners: tuple[OwnerPlan, ...]
    start: int
    interarrival: DistSpec
    bounded: int
    """How many bounded (``max``) edges the process has: the size of a case's counters."""
    tracked: tuple[int, ...] = ()
    """Steps whose per-visit time distribution is recorded (for ``step_time`` goals)."""
    forks: tuple[ForkPlan, ...] = ()
    """The forks, in file order; a plan with forks runs on tokens (:mod:`procflow.sim.tokens`)."""
    working: Any = None
    """A :class:`procflow.sim.workingtime.WorkingTime` -- calendars on a real clock -- or
    ``None``: around the clock. (Typed ``Any``: that module builds on this one.)"""
    cases: CasePlan | None = None
    """Case attributes, priorities and rules (:mod:`procflow.sim.caseplan`); a plan with them
    runs on the token engine with attributes (:mod:`procflow.sim.attributed`)."""

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without what the engine keeps with a plan (its private ``_`` entries):
        a worker makes those again from the fields."""
        return {key: value for key, value in self.__dict__.items() if not key.startswith("_")}

    def step_index(self, step_id: str) -> int:
        for index, step in enumerate(self.steps):
            if step.id == step_id:
                return index
        raise KeyError(step_id)

    def with_tracked(self, step_ids: tuple[str, ...]) -> Plan:
        """The same plan, recording the per-visit time of ``step_ids``."""
        indices = tuple(sorted({self.step_index(s) for s in step_ids}))
        return Plan(
            self.process,
            self.steps,
            self.owners,
            self.start,
            self.interarrival,
            self.bounded,
            indices,
            self.forks,
            self.working,
            self.cases,
        )

    def with_working(self, working: Any) -> Plan:
        """The same plan on the working time ``working`` (docs/working-time.md)."""
        return dataclasses.replace(self, working=working)


def _fail(process: Process, path: tuple[str | int, ...], message: str) -> SimulationError:
    return SimulationError(f"{process.position(path)}: {message}")


MAX_STATES = 200_000
"""Routing states explored to prove that every case ends; beyond, a safe rule is used."""


def _successors(step: StepPlan, counters: tuple[int, ...]) -> list[tuple[int, tuple[int, ...]]]:
    """Where a case at ``step`` with ``counters`` can go next, as the engine decides it."""
    available = [e for e in step.edges if e.bound < 0 or counters[e.bound] < e.max]
    if any(e.p > 0 for e in available):
        available = [e for e in available if e.p > 0]
    found = []
    for edge in available:
        after = counters
        if edge.bound >= 0:
            after = (*counters[: edge.bound], counters[edge.bound] + 1, *counters[edge.bound + 1 :])
        found.append((edge.target, after))
    return found


def _ending(edges: dict[Any, list[Any]], ends: set[Any]) -> set[Any]:
    """The nodes of ``edges`` (node -> successors) from which a node of ``ends`` can be
    reached: one backward search, linear in the edges."""
    before: dict[Any, list[Any]] = {}
    for node, following in edges.items():
        for successor in following:
            before.setdefault(successor, []).append(node)
    found = set(ends)
    stack = list(ends)
    while stack:
        for node in before.get(stack.pop(), ()):
            if node not in found:
                found.add(node)
                stack.append(node)
    return found


def _trapped(steps: tuple[StepPlan, ...], start: int, bounded: int) -> list[int] | None:
    """Steps where a case can get stuck for ever (a loop it can never leave), exactly.

    Explores the states ``(step, counters of bounded edges)`` a case can
    reach and keeps those from which no end step can be reached. Returns
    None when there are more than :data:`MAX_STATES` states.
    """
    first = (start, (0,) * bounded)
    seen = {first}
    queue = deque([first])
    edges: dict[tuple[int, tuple[int, ...]], list[tuple[int, tuple[int, ...]]]] = {}
    while queue:
        state = queue.popleft()
        step = steps[state[0]]
        if step.kind == END:
            edges[state] = []
            continue
        following = _successors(step, state[1])
        edges[state] = following
        for successor in following:
            if successor not in seen:
                if len(seen) >= MAX_STATES:
                    return None
                seen.add(successor)
                queue.append(successor)
    ending = _ending(edges, {state for state in seen if steps[state[0]].kind == END})
    return sorted({state[0] for state in seen if state not in ending})


def _trapped_safe(steps: tuple[StepPlan, ...], reachable: list[int]) -> list[int]:
    """A sufficient rule, linear in the edges: every step must reach an end over edges
    without ``max`` and with ``p > 0``, which are available to a case in any state."""
    always = {s: [e.target for e in steps[s].edges if e.bound < 0 and e.p > 0] for s in reachable}
    can_end = _ending(always, {s for s in reachable if steps[s].kind == END})
    return [s for s in reachable if s not in can_end]


def _check_termination(
    process: Process, steps: tuple[StepPlan, ...], start: int, bounded: int, reachable: list[int]
) -> None:
    """Refuse a process in which some cases would loop for ever (the run would never end).

    The sufficient rule comes first: when every step reaches an end over
    edges that are always available, no case can be trapped, and the exact
    exploration of counter states (exponential in the bounded edges) is not
    needed. Only when it flags steps is the exact answer looked for.
    """
    trapped: list[int] | None = _trapped_safe(steps, reachable)
    if not trapped:
        return
    trapped = _trapped(steps, start, bounded)
    if trapped is None:
        trapped = _trapped_safe(steps, reachable)
        why = "cannot reach an end step over transitions without 'max' and with p > 0"
    else:
        why = "can be reached by cases that then can never reach an end step"
    if trapped:
        names = ", ".join(repr(steps[s].id) for s in trapped)
        raise _fail(
            process,
            ("steps", steps[trapped[0]].id),
            f"cases could loop for ever: {names} {why} (a bounded exit used up?)",
        )


MAX_MEAN_SECONDS = 1e12
"""The longest mean duration (of a step, or between arrivals) the simulator times: about
31,700 years. The clock is a float of seconds; far beyond this, sums of durations lose
whole seconds and the statistics of a run overflow."""


def _too_long(dist: AnyDistribution) -> bool:
    try:
        return not dist.mean <= MAX_MEAN_SECONDS
    except ArithmeticError:
        return True


def _mean_or_inf(dist: AnyDistribution) -> float:
    try:
        return dist.mean
    except ArithmeticError:
        return math.inf


def _check_durations(process: Process, reachable: list[str]) -> None:
    """Refuse durations too long to simulate (``duration: 1e300h``), with their position."""
    limit = format_duration(MAX_MEAN_SECONDS, 3)
    every = process.arrivals.every if process.arrivals is not None else None
    if every is not None and _too_long(every):
        raise _fail(
            process,
            ("arrivals", "every"),
            f"arrivals every {process.written(('arrivals', 'every')) or every} are too far "
            "apart to simulate: the simulator times "
            f"means up to {limit}",
        )
    arrivals = process.arrivals
    if arrivals is not None and every is None:  # 1e-300/month: the arrival clock overflows
        try:
            mean = arrivals.mean_interarrival
        except ArithmeticError:
            mean = math.inf
        if not mean <= MAX_MEAN_SECONDS:
            raise _fail(
                process,
                ("arrivals", "rate" if arrivals.rate is not None else "profile"),
                f"arrivals at {format_number(3600.0 / mean)}/h on average are too far apart "
                f"to simulate: the simulator times means up to {limit} between arrivals",
            )
    for step_id in reachable:
        duration = process.steps[step_id].duration
        if isinstance(duration, ByDuration):  # every class's distribution must be timeable
            duration = max(duration.options(), key=_mean_or_inf)
        if duration is not None and _too_long(duration):
            shown = process.written(("steps", step_id, "duration")) or duration
            raise _fail(
                process,
                ("steps", step_id, "duration"),
                f"step {step_id!r}: a duration of {shown} is too long to simulate: the "
                f"simulator times mean durations up to {limit}",
            )


def used_up(plan: Plan, index: int, case: int) -> SimulationError:
    """The error of case number ``case`` (1-based) reaching step ``index`` with every edge
    used up by its tokens together (the counters of ``max:`` are per case).

    :func:`compile_process` refuses such a process up front (PF104) when the case chain
    decides it; a process past the chain's state limit can still get here, and then the
    simulators say so instead of failing on an empty list of edges.
    """
    step = plan.steps[index]
    bounds = ", ".join(
        f"to {plan.steps[e.target].id!r} max: {e.max}" for e in step.edges if e.bound >= 0
    )
    return SimulationError(
        f"process {plan.process!r}: case {case} reached step {step.id!r} with every edge "
        f"used up by its tokens together ({bounds}; the counters are per case): add a "
        "transition without 'max'"
    )


def compile_process(process: Process) -> Plan:
    """Check ``process`` for simulation and compile it into a :class:`Plan`.

    The plan is read from the process's :class:`~procflow.compiled.CompiledProcess`,
    which :func:`procflow.gate.runnable` returns once no blocking error is left:
    structure (targets, start, dead ends), declared step owners and the
    probabilities (all given or none, summing to 1) are the gate's guarantees
    and are not checked again. Raises :class:`~procflow.errors.ProcessError`
    for those and for a step the tokens of a fork use up together (PF104, as
    analyze: :func:`~procflow.analysis.routing.refuse_dead_ends`), and
    :class:`~procflow.errors.SimulationError` for what a simulation needs
    beyond them: arrivals, a duration on every step a case can reach (one it
    can time), a start that is not an end, and a guarantee that every case
    eventually ends.
    """
    compiled = runnable(process)
    refuse_dead_ends(process)
    interarrival = _interarrival(process)
    reachable = list(compiled.reach_order)
    if compiled.end[compiled.start]:
        raise _fail(
            process,
            ("start",),
            f"the start step {process.start!r} is an end step: cases do nothing",
        )
    ids = compiled.steps
    missing = [ids[u] for u in reachable if not compiled.end[u] and compiled.duration[u] is None]
    if missing:
        names = ", ".join(repr(s) for s in missing)
        raise _fail(
            process,
            ("steps", missing[0]),
            f"step{'s' if len(missing) > 1 else ''} {names} "
            f"{'have' if len(missing) > 1 else 'has'} no duration: add e.g. "
            "'duration: exponential(10m)' to simulate the process",
        )
    _check_durations(process, [ids[u] for u in reachable])
    reached = compiled.reachable
    steps = tuple(_step_plan(compiled, u, reached[u]) for u in range(len(ids)))
    owners = tuple(OwnerPlan(*owner) for owner in compiled.owners)
    bounded = len(compiled.bounded)
    _check_termination(process, steps, compiled.start, bounded, reachable)
    forks = tuple(
        ForkPlan(f.step, f.branches, f.join, f.kind == "first") for f in compiled.forks.forks
    )
    cases = case_plan(process)
    return Plan(
        process.id, steps, owners, compiled.start, interarrival, bounded, (), forks, cases=cases
    )


def _interarrival(process: Process) -> DistSpec:
    if process.arrivals is None:
        raise _fail(
            process,
            ("arrivals",),
            f"process {process.id!r} has no arrivals: add e.g. 'arrivals: {{rate: 8/h}}' "
            "to simulate it",
        )
    arrivals = process.arrivals
    if arrivals.profile is not None:  # unit-rate draws, mapped through the profile's intensity
        return DistSpec("exponential", (1.0,))
    if arrivals.rate is not None:
        return DistSpec("exponential", (1.0 / arrivals.rate,))
    assert arrivals.every is not None
    return spec_of(arrivals.every)


def _spec(duration: AnyDistribution | ByDuration | None) -> DistSpec | None:
    """The sampler of a duration; of a ``by:`` duration, its ``else`` (or first) value's --
    the token engine draws each class from its own (:mod:`procflow.sim.caseplan`)."""
    if isinstance(duration, ByDuration):
        return spec_of(duration.fallback if duration.fallback is not None else duration.cases[0][1])
    return spec_of(duration) if duration is not None else None


def _step_plan(compiled: CompiledProcess, u: int, reached: bool) -> StepPlan:
    """Step ``u`` of the compiled process, as the event loop needs it (edges only when a
    case can reach it)."""
    step_id = compiled.steps[u]
    kind = compiled.kind[u]
    if kind == StepKind.END:
        return StepPlan(step_id, stream_key(step_id), END, compiled.owner_of[u], None, SINGLE, ())
    duration = compiled.duration[u]
    edges: tuple[Edge, ...] = ()
    if reached:
        out = compiled.outgoing[u]
        given = [e.p for e in out]
        if all(p is None for p in given):
            shares = [1.0 / len(out)] * len(out)
        else:  # all given (the gate's PF401), summing to 1 within its tolerance
            total = sum(p for p in given if p is not None)
            shares = [float(p) / total for p in given if p is not None]
        edges = tuple(
            Edge(e.target, share, compiled.slot[e.number], e.max or 0, e.feedback)
            for e, share in zip(out, shares, strict=True)
        )
    plain = all(e.bound < 0 and not e.feedback for e in edges)
    if len(edges) == 1 and plain:
        routing = SINGLE
    elif plain:
        routing = CHOICE
    else:
        routing = GENERAL
    return StepPlan(
        step_id,
        stream_key(step_id),
        kind,
        compiled.owner_of[u],
        _spec(duration),
        routing,
        edges,
    )


__all__ = [
    "CHOICE",
    "DELAY",
    "END",
    "GENERAL",
    "SINGLE",
    "STAFF",
    "Edge",
    "ForkPlan",
    "OwnerPlan",
    "Plan",
    "Routing",
    "StepKind",
    "StepPlan",
    "compile_process",
    "used_up",
]
