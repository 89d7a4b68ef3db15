"""A slow, obvious simulator: the executable specification the fast engine is tested against.

Everything here is done the textbook way -- explicit FIFO queues per owner,
a busy-server count, service-completion events, one event per pure delay,
every cycle time kept in a list, busy time clipped interval by interval,
WIP integrated over the changes of the number of cases in the system -- so
that :mod:`procflow.sim.engine`'s shortcuts (no queues, no completion
events, chained delays, statistics from consumed streams and window
snapshots) can be checked against it: on the same seed both must write the
same event log and the same statistics.

Random numbers follow the engine's protocol (see
:mod:`procflow.sim.sampling`): one stream per step and purpose; when a case
arrives at a staff step (or at the start), it draws that step's duration and
routing, and those of the pure-delay steps it will pass through before its
next staff or end step. Not for production use: it is several times slower
and keeps every case in memory.

Forks and joins (docs/parallel-work.md) are here too, the obvious way, to
check the token engine (:mod:`procflow.sim.tokens`) against: a case is a set
of tokens, each remembering the stack of fork instances it is inside; a join
counts the tokens that reached it per instance; ``join: first`` withdraws
every live token of the case whose stack holds the instance (in token
order), taking it out of its queue, cancelling its completion event and
freeing its server, or ending its delay.

Case attributes, priorities and rules (docs/attributes.md) are here too, to
check the token engine with attributes (:mod:`procflow.sim.attributed`)
against: a case draws its attributes when it arrives, from their own
streams; a rule-routed step tries its conditions in file order; a ``by:``
duration or ``p`` looks the case's class up; every staff owner's queue is a
plain list searched for the most urgent class (first come first served
within it); with ``preemptive: true`` an arriving case takes a unit from the
least urgent visit in progress (the earliest begun among equals), whose
completion event is cancelled and whose remaining work waits in the queue
again. Busy time is counted for each interval actually worked. The
conditions are compiled by :mod:`procflow.expressions` (the language, not
the routing).

Keep it independent of the engine on purpose: it shares with
:mod:`procflow.sim.engine` only what both must agree on as inputs and
outputs (the compiled :class:`~procflow.sim.plan.Plan`, the random streams of
:mod:`procflow.sim.sampling`, the :class:`~procflow.sim.engine.RunStats` and
histogram containers), never the simulation logic. Code that looks repeated
between the two is repeated deliberately; factoring it out would make the
engine be checked against itself.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from heapq import heappop, heappush
from typing import Any

import numpy as np

from procflow.expressions import Condition, compile_condition
from procflow.sim.caseplan import ATTRIBUTES, CasePlan
from procflow.sim.engine import EventSink, RunStats
from procflow.sim.groups import CaseTable
from procflow.sim.histogram import Histogram
from procflow.sim.plan import CHOICE, DELAY, END, GENERAL, SINGLE, STAFF, Plan, used_up
from procflow.sim.reference_time import Clock, Crew, OpenHours, Unit
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


@dataclass
class _Case:
    number: int
    arrived: float
    waited: float = 0.0
    reworked: bool = False
    counters: list[int] = field(default_factory=list)
    made: int = 0
    """Tokens made so far."""
    live: list[_Token] = field(default_factory=list)
    arrivals: dict[int, int] = field(default_factory=dict)
    """Fork instance -> tokens that reached its join."""
    values: dict[str, float | str] = field(default_factory=dict)
    """The case's attributes (docs/attributes.md)."""
    rank: int = 0
    """Its place in the priority queues: the class's position, unknown classes last."""


@dataclass(eq=False)
class _Visit:
    """A visit of a staff step, from arrival to completion, perhaps interrupted on the way."""

    token: _Token
    index: int
    origin: float
    """When the token arrived at the step."""
    total: float
    """The visit's whole work content."""
    since: float
    """When it last joined the queue (arrival, or the interruption)."""
    left: float = 0.0
    """The work still to do when its next piece begins."""
    start: float = -1.0
    """When its current piece of work began."""
    end: float = math.inf
    """When its current piece of work would complete."""
    interrupted: bool = False
    unit: Unit | None = None
    """On working time: the unit doing the work."""
    begun: int = 0
    """Begin order (to pick the earliest begun among the least urgent)."""
    stamp: int = 0
    """Queue order."""


@dataclass(eq=False)
class _Token:
    case: _Case
    number: int
    stack: tuple[tuple[int, int], ...]
    """The open fork instances it is inside, outermost first: ``(instance, fork)``."""
    segment: deque[tuple[int, float]] = field(default_factory=deque)
    then: int = -1
    after_fork: int = -1
    """The fork step whose branches come after the segment (-1: none)."""
    doing: tuple[Any, ...] | None = None
    """What it is doing: ``("queued", owner, visit)``, ``("busy", visit, sequence)`` or
    ``("delay", index, start, sequence)``."""


@dataclass
class ReferenceResult:
    """The reference run's statistics and the exact per-case values behind them."""

    stats: RunStats
    cycle_times: list[float]
    wait_times: list[float]
    step_times: dict[int, list[float]]


def run_reference(
    plan: Plan,
    run: int,
    seed: int,
    cases: int,
    warmup: int,
    log: EventSink | None = None,
) -> ReferenceResult:
    """Simulate like :func:`procflow.sim.engine.run_replication`, the slow and obvious way."""
    if plan.working is not None and plan.cases is not None and plan.cases.preemptive:
        raise ValueError(
            "the reference simulator has no preemption on working time: compare a plan "
            "with preemptive priorities around the clock (plan.with_working(None))"
        )
    return _Reference(plan, run, seed, cases, warmup, log).run()


def _take(buffer: Buffer | None) -> Any:
    """The next value of a pre-drawn stream, refilling it the way the engine does."""
    assert buffer is not None
    if not buffer.values:
        buffer.refill()
    return buffer.values.pop()


def _holds(condition: Condition | None, values: dict[str, float | str]) -> bool:
    """Whether a rule's condition holds (a default, ``None``, is not a condition)."""
    return condition is not None and condition(values)


def _arrival_times(plan: Plan, run: int, seed: int, cases: int) -> list[float]:
    """Every case's arrival time, read from the shared arrival stream up front.

    Taking them all first (rather than one at a time as the engine does) is
    the obvious way; the stream is the same, so the times are the same. With
    an arrival calendar or profile the stream's times are on the operational
    clock and each is mapped to real time by walking the open intervals
    (:meth:`OpenHours.invert`).
    """
    arrivals = ArrivalTimes(seed, run, plan.interarrival, cases)  # operational, if calendared
    times: list[float] = []
    source = arrivals.source()
    while len(times) < cases:
        times.extend(reversed([t for t in source() if t != math.inf]))
    return times


class _Reference:
    """One reference replication: its random streams, queues, event heap and tallies.

    A class rather than one long function with closures so that each piece
    of the textbook simulation (routing, a server starting work, a case
    moving on, recording a finished visit) can be read on its own; the state
    they share is the attributes set up in ``__init__``. ``run`` is the event
    loop and, after it, the statistics.
    """

    def __init__(
        self,
        plan: Plan,
        run: int,
        seed: int,
        cases: int,
        warmup: int,
        log: EventSink | None,
    ) -> None:
        self.plan = plan
        self.steps = plan.steps
        self.owners = plan.owners
        self.run_number = run
        self.cases = cases
        self.warmup = warmup
        self.log = log
        self.durations: list[Buffer | None] = [None] * len(self.steps)
        self.routes: list[Buffer | None] = [None] * len(self.steps)
        self.cases_plan: CasePlan | None = plan.cases
        self.class_durations: list[dict[str, Buffer]] = [{} for _ in self.steps]
        self.attribute_streams: list[Buffer] = []
        self._open_streams(seed, run)
        self.conditions: list[list[Condition | None] | None] = [None] * len(self.steps)
        self.scopes: list[Condition] = []
        if plan.cases is not None:
            self._case_streams(plan.cases, seed, run)

        self.clock = Clock(plan) if plan.working is not None else None
        self.arrival_times = _arrival_times(plan, run, seed, cases)
        if self.clock is not None:
            self.arrival_times = self.clock.arrivals(self.arrival_times)
        times = self.arrival_times
        self.window_start = times[warmup]
        self.arrival_span = times[-1] - (times[warmup - 1] if warmup > 0 else 0.0)
        self.window_end = times[-1] if times[-1] > self.window_start else math.inf

        # Events at the same instant: completions and ends of delays first, then
        # arrivals at staff steps in case order, then new cases (in case order).
        self.events: list[tuple[float, int, int, int, int, str, Any]] = []
        self.sequence = 0

        self.forks_at = {fork.step: i for i, fork in enumerate(plan.forks)}
        self.joins_at = {fork.join for fork in plan.forks}
        self.instances = 0
        self.cancelled: set[int] = set()

        self.busy = [0] * len(self.owners)
        self.queues: list[list[_Visit]] = [[] for _ in self.owners]
        self.running: list[list[_Visit]] = [[] for _ in self.owners]
        self.stamps = 0
        self.rows: list[tuple[float, float, int, int, int, int]] = []
        self.visits = [0.0] * len(self.steps)
        self.wait_sum = [0.0] * len(self.steps)
        self.service_sum = [0.0] * len(self.steps)
        self.busy_time = [0.0] * len(self.owners)
        self.changes: list[tuple[float, int]] = []
        self.cycle_times: list[float] = []
        self.wait_times: list[float] = []
        self.step_times: dict[int, list[float]] = {s: [] for s in plan.tracked}
        self.completions: list[float] = []
        self.rework = 0

    def _open_streams(self, seed: int, run: int) -> None:
        """One duration stream per step and one routing stream per branching step.

        The streams are those of :mod:`procflow.sim.sampling`, keyed by step,
        so that the reference draws exactly the numbers the engine draws.
        """
        for index, step in enumerate(self.steps):
            if step.kind == END or not step.edges:
                continue
            assert step.duration is not None
            self.durations[index] = Buffer(
                drawer(step.duration, generator(seed, run, DURATIONS, step.key))
            )
            if step.routing == CHOICE:
                cumulative = list(np.cumsum([e.p for e in step.edges]))
                self.routes[index] = ChoiceBuffer(
                    generator(seed, run, ROUTING, step.key),
                    tuple(float(c) for c in cumulative),
                    tuple(e.target for e in step.edges),
                )
            elif step.routing == GENERAL:
                self.routes[index] = Buffer(uniforms(generator(seed, run, ROUTING, step.key)))

    def _case_streams(self, cases: CasePlan, seed: int, run: int) -> None:
        """The attributes' own streams, the per-class duration streams, the compiled rules.

        Attribute ``a`` draws from spawn key ``(run, ATTRIBUTES, key(a))``: uniforms for a
        categorical one, the distribution's numbers for a numeric one. A ``by:`` duration's
        value ``v`` has its own duration stream; other values use the step's. A ``by:``
        probability decides with a uniform of the step's routing stream.
        """
        for a in cases.attributes:
            rng = generator(seed, run, ATTRIBUTES, a.key)
            self.attribute_streams.append(
                Buffer(drawer(a.spec, rng) if a.spec is not None else uniforms(rng))
            )
        for index, step in enumerate(self.steps):
            if not step.edges:
                continue
            by = cases.by_duration[index]
            if by is not None:
                for value, key, spec in by.options:
                    rng = generator(seed, run, DURATIONS, key)
                    self.class_durations[index][value] = Buffer(drawer(spec, rng))
            if cases.by_p[index] is not None:
                self.routes[index] = Buffer(uniforms(generator(seed, run, ROUTING, step.key)))
            whens = cases.rules[index]
            if whens is not None:
                self.conditions[index] = [
                    compile_condition(w) if w is not None else None for w in whens
                ]
        self.scopes = [compile_condition(text) for _goal, text in cases.wheres]

    def draw_attributes(self, case: _Case) -> None:
        """A new case's attributes, one draw from each attribute's stream, in declared order."""
        cases = self.cases_plan
        assert cases is not None
        for a, stream in zip(cases.attributes, self.attribute_streams, strict=True):
            u = float(_take(stream))
            if a.spec is not None:
                case.values[a.name] = u
                continue
            chosen = a.values[-1]
            for i, value in enumerate(a.values[:-1]):
                if u < math.fsum(a.shares[: i + 1]):
                    chosen = value
                    break
            case.values[a.name] = chosen
        if cases.priority is not None:
            known = [c for c in cases.classes if c == case.values.get(cases.priority)]
            case.rank = cases.classes.index(known[0]) if known else len(cases.classes)
        setter = getattr(self.log, "set_case_attributes", None)
        if setter is not None:
            setter(case.number + 1, case.values)

    def duration_of(self, case: _Case, index: int) -> float:
        """The next duration of step ``index`` for this case: its class's stream under ``by:``."""
        cases = self.cases_plan
        by = cases.by_duration[index] if cases is not None else None
        if by is not None:
            stream = self.class_durations[index].get(str(case.values.get(by.attribute)))
            if stream is not None:
                return float(_take(stream))
        return float(_take(self.durations[index]))

    def route_by_case(self, case: _Case, index: int) -> Any:
        """The edge a rule step (first true condition) or a ``by:`` probability step takes."""
        cases = self.cases_plan
        assert cases is not None
        edges = self.steps[index].edges
        open_ = [i for i, e in enumerate(edges) if e.bound < 0 or case.counters[e.bound] < e.max]
        if not open_:
            raise used_up(self.plan, index, case.number + 1)
        conditions = self.conditions[index]
        if conditions is not None:
            holding = [i for i in open_ if _holds(conditions[i], case.values)]
            defaults = [i for i in open_ if conditions[i] is None]
            return edges[(holding or defaults or open_[-1:])[0]]
        by_p = cases.by_p[index]
        assert by_p is not None
        attribute, per_edge, fallback = by_p
        value = str(case.values.get(attribute))
        weights = []
        for i in open_:
            listed = [p for v, p in per_edge[i] if v == value]
            weights.append(listed[0] if listed else fallback[i])
        u = float(_take(self.routes[index]))
        total = math.fsum(weights)
        if total <= 0:
            return edges[open_[min(int(u * len(open_)), len(open_) - 1)]]
        x = u * total
        chosen = [i for i, w in zip(open_, weights, strict=True) if w > 0][-1]
        for i, w in zip(open_, weights, strict=True):
            if w > 0:
                x -= w
                if x < 0:
                    chosen = i
                    break
        return edges[chosen]

    def route(self, case: _Case, index: int) -> int:
        """The step a case goes to after ``index``, honouring loop bounds (``max``).

        General routing renormalises the probabilities of the edges still
        available to this case, and counts bounded and feedback edges taken.
        Rules and ``by:`` probabilities choose by the case's attributes.
        """
        step = self.steps[index]
        cases = self.cases_plan
        if cases is not None and (cases.rules[index] is not None or cases.by_p[index] is not None):
            return self.took(case, self.route_by_case(case, index))
        if step.routing == SINGLE:
            return step.edges[0].target
        if step.routing == CHOICE:
            return int(_take(self.routes[index]))
        u = _take(self.routes[index])
        available = [e for e in step.edges if e.bound < 0 or case.counters[e.bound] < e.max]
        if not available:
            raise used_up(self.plan, index, case.number + 1)
        total = math.fsum(e.p for e in available)
        if total <= 0:
            chosen = available[min(int(u * len(available)), len(available) - 1)]
        else:
            x = u * total
            chosen = [e for e in available if e.p > 0][-1]
            running = 0.0
            for edge in available:
                running += edge.p
                if edge.p > 0 and x < running:
                    chosen = edge
                    break
        return self.took(case, chosen)

    def took(self, case: _Case, chosen: Any) -> int:
        """Count a taken edge (rework, loop bound) and return where it goes."""
        if chosen.feedback:
            case.reworked = True
        if chosen.bound >= 0:
            case.counters[chosen.bound] += 1
        return int(chosen.target)

    def draw_segment(self, token: _Token, index: int) -> None:
        """The draws for a staff step (or the start) and the pure delays after it.

        Drawn together, when the token arrives there, because that is the
        order in which the engine consumes the streams. The segment stops
        before a staff step, an end or a join, and after a fork's own draw.
        """
        token.segment.clear()
        token.after_fork = -1
        while True:
            token.segment.append((index, self.duration_of(token.case, index)))
            if index in self.forks_at:
                token.after_fork = index
                return
            index = self.route(token.case, index)
            if self.steps[index].kind != DELAY or index in self.joins_at:
                token.then = index
                return

    def schedule(self, time: float, kind: str, payload: Any, token: _Token | None = None) -> int:
        """Put an event on the heap; arrivals at staff steps sort after other events, by case
        and token. Returns the event's sequence number (to cancel it)."""
        self.sequence += 1
        if kind == "staff":
            assert token is not None
            key = (time, 1, token.case.number, token.number, self.sequence, kind, payload)
        elif kind == "dispatch":  # after every end of work at this instant, before arrivals
            key = (time, 0, 1, 0, self.sequence, kind, payload)
        else:
            key = (time, 0, 0, 0, self.sequence, kind, payload)
        heappush(self.events, key)
        return self.sequence

    def record(
        self,
        token: _Token,
        index: int,
        arrived: float,
        start: float,
        end: float,
        worked_from: float | None = None,
        work: float | None = None,
        hours: OpenHours | None = None,
    ) -> None:
        """Log one finished visit and, past the warm-up, count it; clip busy time to the window.

        ``worked_from``: when the last piece of an interrupted visit began (busy time of its
        earlier pieces was counted when they were interrupted). On working time ``work`` is
        the visit's work content -- what service and a step's time count (its wait plus its
        service, docs/metrics.md) -- and ``hours`` the calendar of the unit that did it: busy
        time is that calendar's open time in the window between start and end."""
        steps = self.steps
        case = token.case
        if self.log is not None:
            owner = steps[index].owner
            self.log.write_simulated(
                case.number + 1,
                steps[index].id,
                self.owners[owner].id if owner >= 0 else None,
                start,
                end,
            )
        service = end - start if work is None else work
        if case.number >= self.warmup:
            self.visits[index] += 1
            self.wait_sum[index] += start - arrived
            self.service_sum[index] += service
            if index in self.step_times:
                self.step_times[index].append(
                    end - arrived if work is None else start - arrived + service
                )
        if hours is not None:
            low, high = max(start, self.window_start), min(end, self.window_end)
            self.busy_time[steps[index].owner] += hours.open_between(low, high)
        elif steps[index].kind == STAFF:
            self.worked(steps[index].owner, start if worked_from is None else worked_from, end)

    def worked(self, owner: int, start: float, end: float) -> None:
        """A unit of ``owner`` worked from ``start`` to ``end``: count the part in the window."""
        low = max(start, self.window_start)
        high = min(end, self.window_end)
        if high > low:
            self.busy_time[owner] += high - low

    def new_token(self, case: _Case, stack: tuple[tuple[int, int], ...]) -> _Token:
        token = _Token(case, case.made, stack)
        case.made += 1
        case.live.append(token)
        return token

    def begin(self, visit: _Visit, now: float) -> None:
        """A server of the step's owner starts (or resumes) the visit's work; its completion
        is an event."""
        owner = self.steps[visit.index].owner
        self.busy[owner] += 1
        visit.token.case.waited += now - visit.since
        crew = self.crew(owner)
        if crew is not None:  # working time: a unit on duty now, until the work is done
            unit = crew.ready(now)
            assert unit is not None
            unit.visit, visit.unit = visit, unit
            visit.start, visit.end = now, unit.hours.work_done(now, visit.left)
        else:
            visit.start, visit.end = now, now + visit.left
        self.stamps += 1
        visit.begun = self.stamps
        self.running[owner].append(visit)
        sequence = self.schedule(visit.end, "done", visit)
        visit.token.doing = ("busy", visit, sequence)

    def interrupt(self, visit: _Visit, now: float) -> None:
        """Preemptive resume: stop the visit's work now; what is left of it waits again."""
        token = visit.token
        assert token.doing is not None
        assert token.doing[0] == "busy"
        self.cancelled.add(token.doing[2])
        owner = self.steps[visit.index].owner
        self.busy[owner] -= 1
        self.running[owner].remove(visit)
        self.worked(owner, visit.start, now)
        visit.interrupted = True
        visit.left = visit.end - now
        visit.since = now
        self.enqueue(visit)

    def enqueue(self, visit: _Visit) -> None:
        """The visit waits in its owner's queue, after everyone already there."""
        self.stamps += 1
        visit.stamp = self.stamps
        owner = self.steps[visit.index].owner
        self.queues[owner].append(visit)
        visit.token.doing = ("queued", owner, visit)

    def proceed(self, token: _Token, now: float) -> None:
        """Pass the remaining pure delays one event at a time, then go on."""
        if token.segment:
            index, duration = token.segment.popleft()
            hours = self.external_hours(index)
            end = now + duration if hours is None else hours.done(now, duration)
            sequence = self.schedule(end, "proceed", token)
            token.doing = ("delay", index, now, sequence, duration)
            return
        token.doing = None
        if token.after_fork >= 0:
            self.fork(token, token.after_fork, now)
            return
        self.reach(token, token.then, now)

    def reach(self, token: _Token, index: int, now: float) -> None:
        """The token reaches step ``index`` after its segment: a join, an end, a staff step."""
        if index in self.joins_at:
            self.join(token, index, now)
            return
        self.go_on(token, index, now)

    def go_on(self, token: _Token, index: int, now: float) -> None:
        """Start work at ``index`` (a join that has fired counts as any step)."""
        kind = self.steps[index].kind
        if kind == END:
            self.finish(token, index, now)
        elif kind == STAFF:
            self.schedule(now, "staff", (token, index), token)
        else:
            self.draw_segment(token, index)
            self.proceed(token, now)

    def fork(self, token: _Token, step: int, now: float) -> None:
        """A fork: the token is replaced by one new token per branch, in list order."""
        case = token.case
        case.live.remove(token)
        fork = self.forks_at[step]
        instance = self.instances
        self.instances += 1
        case.arrivals[instance] = 0
        stack = (*token.stack, (instance, fork))
        for branch in self.plan.forks[fork].branches:
            child = self.new_token(case, stack)
            self.reach(child, branch, now)

    def join(self, token: _Token, index: int, now: float) -> None:
        """A token reaches the join of its innermost fork instance."""
        case = token.case
        instance, fork_index = token.stack[-1]
        fork = self.plan.forks[fork_index]
        assert fork.join == index
        case.live.remove(token)
        case.arrivals[instance] += 1
        if fork.first:
            losers = sorted(
                (t for t in case.live if any(i == instance for i, _f in t.stack)),
                key=lambda t: t.number,
            )
            for loser in losers:
                self.withdraw(loser, now)
        elif case.arrivals[instance] < len(fork.branches):
            return
        del case.arrivals[instance]
        self.go_on(self.new_token(case, token.stack[:-1]), index, now)

    def withdraw(self, token: _Token, now: float) -> None:
        """Take a losing token away: out of its queue, or its work or delay cut short."""
        token.case.live.remove(token)
        doing = token.doing
        token.doing = None
        if doing is None:
            return
        if doing[0] == "queued":
            _what, owner, entry = doing
            self.queues[owner].remove(entry)
        elif doing[0] == "busy":
            _what, visit, sequence = doing
            self.cancelled.add(sequence)
            owner = self.steps[visit.index].owner
            self.running[owner].remove(visit)
            if visit.unit is not None:  # working time: the open time worked until now
                hours = visit.unit.hours
                done = hours.open_between(visit.start, now)
                self.record(token, visit.index, visit.origin, visit.start, now, None, done, hours)
                visit.unit.visit = None
            elif visit.interrupted:  # the work done in all its pieces, ending now
                done = visit.total - visit.left + (now - visit.start)
                self.record(token, visit.index, visit.origin, now - done, now, visit.start)
            else:
                self.record(token, visit.index, visit.origin, visit.start, now)
            self.free_server(owner, now)
        else:
            _what, index, start, sequence, _duration = doing
            self.cancelled.add(sequence)
            self.record(token, index, start, start, now, work=self.delay_work(index, start, now))

    def finish(self, token: _Token, index: int, now: float) -> None:
        """A case reaches an end step: it leaves the system and, past the warm-up, counts."""
        case = token.case
        case.live.remove(token)
        self.record(token, index, now, now, now)
        self.changes.append((now, -1))
        self.completions.append(now)
        if case.number >= self.warmup:
            self.cycle_times.append(now - case.arrived)
            self.wait_times.append(case.waited)
            self.rework += case.reworked
            if self.cases_plan is not None:
                self.tally(case, index, now)

    def tally(self, case: _Case, index: int, now: float) -> None:
        """One row per counted case: cycle, waiting, class, end step, goal scopes, rework."""
        cases = self.cases_plan
        assert cases is not None
        klass = case.rank if case.rank < len(cases.classes) else -1
        mask = sum(1 << bit for bit, scope in enumerate(self.scopes) if scope(case.values))
        self.rows.append((now - case.arrived, case.waited, klass, index, mask, case.reworked))

    def arrive_at_staff(self, token: _Token, index: int, now: float) -> None:
        """Draw the token's next segment, then start at once, take a unit from less urgent
        work (preemptive priority) or join the owner's queue."""
        self.draw_segment(token, index)
        _index, duration = token.segment.popleft()
        visit = _Visit(token, index, origin=now, total=duration, since=now, left=duration)
        owner = self.steps[index].owner
        if self.crew(owner) is not None:  # working time: wait for a unit on duty
            self.enqueue(visit)
            self.dispatch(owner, now)
            return
        if self.busy[owner] < self.owners[owner].capacity:
            self.begin(visit, now)
            return
        cases = self.cases_plan
        if cases is not None and cases.preemptive and self.running[owner]:
            least = max(v.token.case.rank for v in self.running[owner])
            if token.case.rank < least:
                victims = [v for v in self.running[owner] if v.token.case.rank == least]
                self.interrupt(min(victims, key=lambda v: v.begun), now)
                self.begin(visit, now)
                return
        self.enqueue(visit)

    def free_server(self, owner: int, now: float) -> None:
        """A server is free: it takes the most urgent in its owner's queue, first come first.

        On working time the queue is served by :meth:`dispatch` once every unit freed at this
        instant is free (a dispatch event), so that the tie rule sees all of them."""
        self.busy[owner] -= 1
        if self.crew(owner) is not None:
            self.schedule(now, "dispatch", owner)
            return
        queue = self.queues[owner]
        if queue:
            best = min(queue, key=lambda v: (v.token.case.rank, v.stamp))
            queue.remove(best)
            self.begin(best, now)

    def dispatch(self, owner: int, now: float) -> None:
        """Working time: free units on duty take the queue's most urgent work, first come
        first; if work is left and a unit is free but off duty, look again when one comes on
        duty (a dispatch event)."""
        crew = self.crew(owner)
        assert crew is not None
        queue = self.queues[owner]
        while queue:
            if crew.ready(now) is None:
                wake = crew.wake(now)
                if wake < math.inf:
                    self.schedule(wake, "dispatch", owner)
                return
            best = min(queue, key=lambda v: (v.token.case.rank, v.stamp))
            queue.remove(best)
            self.begin(best, now)

    def crew(self, owner: int) -> Crew | None:
        """The units of a calendared staff owner (``None``: around the clock)."""
        return None if self.clock is None else self.clock.crews[owner]

    def external_hours(self, index: int) -> OpenHours | None:
        """The open hours of step ``index``'s calendared external owner (``None``: none)."""
        owner = self.steps[index].owner
        return None if self.clock is None or owner < 0 else self.clock.externals[owner]

    def delay_work(self, index: int, start: float, end: float) -> float | None:
        """Working time: the open time a pure delay counted from ``start`` to ``end``."""
        if self.clock is None:
            return None
        hours = self.external_hours(index)
        return end - start if hours is None else hours.open_between(start, end)

    def complete(self, visit: _Visit, now: float) -> None:
        """A server finishes: record the visit, hand the server to the next in queue, move on.

        An interrupted visit is recorded once, now: its service is its whole work, its start
        that much before its end, its waiting everything else."""
        token, index = visit.token, visit.index
        owner = self.steps[index].owner
        self.running[owner].remove(visit)
        if visit.unit is not None:  # working time: service is the work content
            self.record(
                token, index, visit.origin, visit.start, now, None, visit.total, visit.unit.hours
            )
            visit.unit.visit = None
        elif visit.interrupted:
            self.record(token, index, visit.origin, now - visit.total, now, visit.start)
        else:
            self.record(token, index, visit.origin, visit.start, now)
        self.free_server(owner, now)
        self.proceed(token, now)

    def delay_over(self, token: _Token, now: float) -> None:
        """A pure delay ends: record it, then go on."""
        assert token.doing is not None
        _what, index, start, _sequence, duration = token.doing
        self.record(token, index, start, start, now, work=None if self.clock is None else duration)
        self.proceed(token, now)

    def run(self) -> ReferenceResult:
        """The event loop: every arrival, staff arrival, completion and delay end in time order."""
        plan = self.plan
        events = self.events
        for number, time in enumerate(self.arrival_times):
            heappush(events, (time, 2, number, 0, 0, "arrive", number))
        while events:
            now, _priority, _order, _token, sequence, kind, payload = heappop(events)
            if sequence in self.cancelled:
                continue
            if kind == "arrive":
                case = _Case(payload, now, counters=[0] * plan.bounded)
                if self.cases_plan is not None:
                    self.draw_attributes(case)
                token = self.new_token(case, ())
                self.changes.append((now, +1))
                if self.steps[plan.start].kind == STAFF:
                    self.arrive_at_staff(token, plan.start, now)
                else:
                    self.draw_segment(token, plan.start)
                    self.proceed(token, now)
            elif kind == "staff":
                token, index = payload
                if token in token.case.live:
                    self.arrive_at_staff(token, index, now)
            elif kind == "done":
                self.complete(payload, now)
            elif kind == "dispatch":
                self.dispatch(payload, now)
            else:  # "proceed"
                self.delay_over(payload, now)
        return self.result()

    def wip_area(self, window_end: float) -> float:
        """The integral of the number of cases in the system over the window."""
        area = 0.0
        population = 0
        previous = self.window_start
        for moment, change in sorted(self.changes):
            low = max(previous, self.window_start)
            high = min(moment, window_end)
            if high > low:
                area += population * (high - low)
            population += change
            previous = moment
        return area

    def result(self) -> ReferenceResult:
        """The run's statistics, in the engine's :class:`RunStats`, plus the raw values."""
        makespan = max(self.completions)
        window_start = self.window_start
        window_end = self.window_end
        if window_end == math.inf:
            window_end = max(makespan, window_start)
            # busy time was clipped at infinity: nothing to correct
        stats = RunStats(run=self.run_number, cases=self.cases, warmup=self.warmup)
        stats.counted = len(self.cycle_times)
        stats.window_start = window_start
        stats.window_end = window_end
        stats.makespan = makespan
        stats.cycle.add(np.asarray(self.cycle_times, dtype=np.float64))
        stats.wait.add(np.asarray(self.wait_times, dtype=np.float64))
        stats.rework = self.rework
        stats.visits = self.visits
        stats.wait_sum = self.wait_sum
        stats.service_sum = self.service_sum
        stats.busy = self.busy_time
        stats.wip_area = self.wip_area(window_end)
        stats.arrival_span = self.arrival_span
        stats.completed_in_window = sum(
            1 for e in self.completions if window_start <= e <= window_end
        )
        for index, values in self.step_times.items():
            histogram = Histogram()
            histogram.add(np.asarray(values, dtype=np.float64))
            stats.step_time[index] = histogram
        if self.clock is not None:
            stats.on_duty = self.clock.on_duty(self.plan, window_start, window_end)
        if self.cases_plan is not None:
            table = np.asarray(self.rows, dtype=np.float64).reshape(-1, 6)
            stats.groups = CaseTable(
                cycle=table[:, 0].copy(),
                wait=table[:, 1].copy(),
                klass=table[:, 2].astype(np.int64),
                outcome=table[:, 3].astype(np.int64),
                mask=table[:, 4].astype(np.int64),
                reworked=table[:, 5].astype(np.int64),
            )
        return ReferenceResult(stats, self.cycle_times, self.wait_times, self.step_times)


__all__ = ["ReferenceResult", "run_reference"]
