"""The token engine: a general discrete-event simulation, for processes with forks.

Semantics (docs/parallel-work.md, docs/simulation-engine.md). A case is a set
of *tokens*. A case arrives as one token at the start step. At a step owned
by a staff pool a token waits in the owner's queue (:mod:`procflow.sim.queues`)
for one unit, holds it for a sampled duration (a service-completion event),
releases it; a step of an external owner or of no owner is a pure delay (an
event at its end); then the token takes one outgoing transition. A fork
(``parallel:``) turns the token into one token per branch, created in
``parallel`` order. A token reaching a join (``join:``) closes the innermost
open fork of its case:

* ``join: all`` waits until every branch token of that fork has arrived;
* ``join: first`` goes on with the first and *withdraws* the other tokens of
  the fork, nested forks included: queued work leaves its queue, work in
  progress is abandoned and its unit is free at once (the pool's
  :meth:`~procflow.sim.pools.Pool.release`), a pure delay in progress stops.

Either way one token goes on from the join step, with its work and
transitions. The case completes when a token reaches an end step.

Why a second engine. The fast engine (:mod:`procflow.sim.engine`) knows every
visit's start when it arrives, which holds only while work never leaves a
line and lines are first-come-first-served. Withdrawn branches and (issue 14)
priority queues break both, so this engine keeps explicit queues and
completion events. Plain processes stay on the fast engine: this one is
used when the plan has forks (:func:`replication`).

**The random-number protocol is the fast engine's** (docs/simulation-engine.md),
extended to tokens: a token draws a staff step's duration and routing, and
those of the pure delays it will pass before its next staff step, join, fork
branches or end, *when it arrives at that staff step* (arrivals at the same
instant in case order, then token order); a token created at a pure-delay
branch start, or going on from a pure-delay join, draws at once. A fork draws
nothing for its branches (all are taken). So on a plain process this engine
makes exactly the fast engine's run: the same event log and the same
statistics (``tests/test_sim_tokens.py``).

**Owners** are asked through the pool seam (:mod:`procflow.sim.pools`):
``take(t, work)`` when a unit starts work (``next_free``/``finish``: working
hours plug in there), ``release`` when work in progress is abandoned. On
working time (a :class:`~procflow.sim.workingtime.Shifts` owner) work always
joins the queue and starts only when a unit is free and on duty
(:meth:`TokenEngine._dispatch`, with a wake-up event when a unit comes on
duty), so the queue discipline picks it, as in the reference simulator.

**Statistics**, in :class:`~procflow.sim.engine.RunStats`: per step, every
visit of a counted case's token (an abandoned visit counts, with the work
done until it was withdrawn; a withdrawn queued visit does not); a case's
cycle time from its arrival to the end step; its waiting time is the
waiting of all its tokens' visits; busy time is clipped to the observation
window interval by interval.

**Extending it.** :class:`TokenEngine` lists the methods a subclass may override
(the engine with case attributes, :mod:`procflow.sim.attributed`, is one): the
event loop, segments, forks and joins exist once, here.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from functools import partial
from heapq import heappop, heappush
from typing import Any

import numpy as np
from numpy.typing import NDArray

from procflow.errors import SimulationError
from procflow.sim.budget import MAX_VISITS, count
from procflow.sim.engine import (
    Completions,
    EventSink,
    Hooks,
    Progress,
    RunStats,
    on_duty,
    run_replication,
)
from procflow.sim.histogram import Histogram
from procflow.sim.plan import CHOICE, DELAY, END, GENERAL, STAFF, OwnerPlan, Plan, used_up
from procflow.sim.pools import Pool, Staff
from procflow.sim.queues import Queue, fifo
from procflow.sim.sampling import (
    BLOCK,
    DURATIONS,
    ROUTING,
    ArrivalTimes,
    Buffer,
    ChoiceBuffer,
    drawer,
    generator,
    uniforms,
)
from procflow.sim.workingtime import OffHours, Shifts, map_arrivals

__all__ = ["Case", "Replicate", "Token", "TokenEngine", "Work", "replication", "run_tokens"]

Replicate = Callable[..., RunStats]
"""``run_replication``'s signature: ``(plan, run, seed, cases, warmup, log=..., ...)``."""

# event priorities at one instant: ends of work and delays, then arrivals at staff steps
# (case order, then token order), then new cases
_DONE, _STAFF, _NEW = 0, 1, 2
_STAFF_KIND, _END_KIND = int(STAFF), int(END)
_FORK = -1
"""A token's ``then`` when its segment ends at a fork: its branches come next."""


def replication(plan: Plan) -> Replicate:
    """The engine for ``plan``: tokens when it has forks, the fast engine otherwise."""
    return run_tokens if plan.forks else run_replication


class Case:
    """One case: what its tokens share (an extension point: subclass it to carry more).

    ``counters`` are the case's uses of bounded edges: shared by all its tokens, since
    ``max:`` bounds how often one *case* takes an edge, across branches
    (docs/parallel-work.md). ``durations`` is the case's duration source, per step the
    stream its visits draw from: the engine's own streams, or (cases with attributes,
    :mod:`procflow.sim.attributed`) the streams of the case's class.
    """

    __slots__ = ("arrived", "counters", "durations", "number", "reworked", "tokens", "waited")

    def __init__(
        self, number: int, arrived: float, bounded: int, durations: list[Buffer | None]
    ) -> None:
        self.number = number
        self.arrived = arrived
        self.waited = 0.0
        self.reworked = 0
        self.counters = [0] * bounded
        self.durations = durations
        self.tokens = 0
        """Tokens made so far: the next token's number."""


class _Frame:
    """An open fork of one case: its live tokens and the open forks nested in it."""

    __slots__ = ("arrived", "children", "fork", "members", "parent")

    def __init__(self, fork: int, parent: _Frame | None) -> None:
        self.fork = fork
        self.parent = parent
        self.members: dict[Token, None] = {}
        self.children: dict[_Frame, None] = {}
        self.arrived = 0


class Token:
    """A thread of work of a case: where it is, what it drew, what it holds."""

    __slots__ = ("alive", "case", "delay", "frame", "last", "number", "segment", "then", "work")

    def __init__(self, case: Case, frame: _Frame | None) -> None:
        self.case = case
        self.number = case.tokens
        case.tokens += 1
        self.frame = frame
        if frame is not None:
            frame.members[self] = None
        self.alive = True
        self.segment: list[tuple[int, float]] = []
        """Draws still to use, ``(step, duration)``, last first (``pop()``)."""
        self.then = -1
        self.last = -1
        """The last step of the segment (the fork, when ``then`` is :data:`_FORK`)."""
        self.work: Work | None = None
        self.delay: tuple[int, float, float] | None = None
        """``(step, start, duration)`` of the pure delay in progress."""


class Work:
    """A visit of a staff step: waiting in the owner's queue, then in service."""

    __slots__ = ("arrived", "duration", "end", "queued", "start", "step", "token")

    def __init__(self, token: Token, step: int, arrived: float, duration: float) -> None:
        self.token = token
        self.step = step
        self.arrived = arrived
        self.duration = duration
        self.start = -1.0
        self.end = -1.0
        self.queued: int | None = None


class TokenEngine:
    """One replication on tokens: streams, owners, the event heap, the tallies.

    **Extension points** (what :mod:`procflow.sim.attributed` overrides; everything
    else is the engine's own and may change):

    * :meth:`_streams` -- make the random streams (call ``super()`` first);
    * :meth:`_open_case` -- make an arriving case (a :class:`Case` subclass may carry
      more) and choose its duration source (:attr:`Case.durations`);
    * :meth:`_route` -- where a token goes after a step with a general routing;
      :meth:`_took` counts the edge taken (rework, ``max:``) and says where it goes;
    * :attr:`work_class` -- the class of staff visits (a :class:`Work` subclass);
      :meth:`_wait` -- a visit finds every unit busy (FIFO: it joins the queue; on
      working time every visit comes here and :meth:`_dispatch` serves the queue);
    * :meth:`_begin`, :meth:`_complete`, :meth:`_abandon`, :meth:`_event` -- a visit
      starts, ends, is withdrawn; an event is handled (preemption overrides these);
    * :meth:`_finish`, :meth:`_stats` -- a case ends; the statistics at the end.

    Helpers an extension may call: :meth:`_record`, :meth:`_busy`, :meth:`_free_unit`,
    :meth:`_proceed`, :meth:`_draw`, :meth:`_refill`. The queue discipline is the
    ``queue`` factory (:mod:`procflow.sim.queues`), not a method.
    """

    work_class: type[Work] = Work
    """The class of a staff visit (:meth:`_arrive_at_staff` makes one per visit)."""

    def __init__(
        self,
        plan: Plan,
        run: int,
        seed: int,
        cases: int,
        warmup: int,
        log: EventSink | None,
        progress: Progress | None,
        max_visits: int,
        pool: Callable[[OwnerPlan], Pool],
        observe: Callable[[NDArray[np.float64]], None] | None,
        queue: Callable[[OwnerPlan], Queue],
    ) -> None:
        self.plan, self.steps, self.run_number = plan, plan.steps, run
        self.cases, self.warmup, self.log = cases, warmup, log
        self.progress, self.max_visits = progress, max_visits
        n = len(plan.steps)
        self.fork_at = [-1] * n
        self.join_at = [False] * n
        for i, fork in enumerate(plan.forks):
            self.fork_at[fork.step] = i
            if fork.join >= 0:
                self.join_at[fork.join] = True
        self.durations: list[Buffer | None] = [None] * n
        self.routes: list[Buffer | None] = [None] * n
        self._streams(seed, run)
        self._tables()
        working = plan.working
        clock = None
        if working is not None:  # calendars: units with working hours, arrivals on a real clock
            if pool == Staff.of:
                pool = working.pool
            line = working.arrival_timeline()
            if line is not None:
                clock = partial(map_arrivals, line)
        self.working = working is not None
        self.pools: list[Pool | None] = [
            (None if working is None else working.external(owner))
            if owner.external
            else pool(owner)
            for owner in plan.owners
        ]
        self.delay_pools: list[Pool | None] = [
            self.pools[step.owner] if step.kind != STAFF and step.owner >= 0 else None
            for step in plan.steps
        ]
        self.queues = [queue(owner) for owner in plan.owners]
        self.busy_units = [0] * len(plan.owners)
        self.duty = [isinstance(p, Shifts) for p in self.pools]
        """Per owner: on working time (:class:`Shifts`), its work waits for a unit on duty."""
        self.room = [0 if p is None or isinstance(p, Shifts) else p.capacity for p in self.pools]
        """Per owner, the units that may hold work before an arrival queues: its capacity,
        or 0 on working time, where every arrival queues and :meth:`_dispatch` serves it."""
        self.waking = [math.inf] * len(plan.owners)
        """Per owner on working time, the earliest wake-up (:meth:`_dispatch`) still to come."""
        self.times = ArrivalTimes(seed, run, plan.interarrival, cases, clock)
        before, self.window_start, last = self.times.at(max(warmup - 1, 0), warmup, cases - 1)
        self.window_end = last if last > self.window_start else math.inf
        self.arrival_span = last - (before if warmup > 0 else 0.0)
        self.events: list[tuple[float, int, int, int, int, Any]] = []
        self.sequence = 0
        self.visits_made = 0
        self.stats = RunStats(run=run, cases=cases, warmup=warmup)
        self.visit_count = self.stats.visits = [0.0] * n
        self.wait_total = self.stats.wait_sum = [0.0] * n
        self.service_total = self.stats.service_sum = [0.0] * n
        self.busy_time = self.stats.busy = [0.0] * len(plan.owners)
        window = (self.window_start, self.window_end)
        self.completions = Completions(self.stats, Hooks(plan, log), window, n, observe)
        """Completed cases, folded into the statistics block by block (the fast engine's)."""
        self.tracked = self.completions.hooks.tracked
        self.done = self.completions.done

    def _streams(self, seed: int, run: int) -> None:
        for index, step in enumerate(self.steps):
            if step.kind == END or not step.edges:
                continue
            assert step.duration is not None
            self.durations[index] = Buffer(
                drawer(step.duration, generator(seed, run, DURATIONS, step.key))
            )
            if self.fork_at[index] >= 0:
                continue  # every branch is taken: nothing to draw
            if step.routing == CHOICE:
                running, cumulative = 0.0, []
                for edge in step.edges:
                    running += edge.p
                    cumulative.append(running)
                targets = tuple(e.target for e in step.edges)
                rng = generator(seed, run, ROUTING, step.key)
                self.routes[index] = ChoiceBuffer(rng, tuple(cumulative), targets)
            elif step.routing == GENERAL:
                self.routes[index] = Buffer(uniforms(generator(seed, run, ROUTING, step.key)))

    # ------------------------------------------------------------------ draws

    def _draw(self, buffer: Buffer | None) -> Any:
        assert buffer is not None
        if not buffer.values:
            buffer.refill()
        return buffer.values.pop()

    def _tables(self) -> None:
        """Per step, what the hot paths read, as plain lists (no attribute chains per visit)."""
        steps = self.steps
        self.kind = [int(step.kind) for step in steps]
        self.stop = [
            int(step.kind) != int(DELAY) or self.join_at[u] for u, step in enumerate(steps)
        ]
        """Per step: a segment ends before it (a staff step, a join or an end)."""
        self.single = [
            step.edges[0].target if len(step.edges) == 1 and step.routing != GENERAL else -1
            for step in steps
        ]
        self.cumulative: list[list[float]] = []
        for step in steps:
            running, cumulative = 0.0, []
            for edge in step.edges[:-1]:
                running += edge.p
                cumulative.append(running)
            self.cumulative.append(cumulative)
        owners = self.plan.owners
        self.names = [step.id for step in steps]
        self.owner_names = [owners[step.owner].id if step.owner >= 0 else None for step in steps]
        self.staffed = [step.kind == STAFF for step in steps]

    def _route(self, case: Case, index: int) -> int:
        """The next step after ``index``: by ``p``, bounded edges used up skipped."""
        step = self.steps[index]
        if step.routing == CHOICE:
            return int(self._draw(self.routes[index]))
        u = float(self._draw(self.routes[index]))
        counters = case.counters
        open_ = [e for e in step.edges if e.bound < 0 or counters[e.bound] < e.max]
        if len(open_) == len(step.edges):
            chosen = step.edges[bisect_right(self.cumulative[index], u)]
        elif open_:
            chosen = _renormalized(open_, u)
        else:
            raise used_up(self.plan, index, case.number + 1)
        return self._took(case, chosen)

    def _took(self, case: Case, edge: Any) -> int:
        """``case`` takes ``edge``: a feedback edge marks it reworked, a bounded one counts
        against the case's ``max:`` (shared by all its tokens). Returns the target step."""
        if edge.feedback:
            case.reworked = 1
        if edge.bound >= 0:
            case.counters[edge.bound] += 1
        return int(edge.target)

    def _segment(self, token: Token, index: int) -> None:
        """Draw step ``index`` and the pure delays after it, up to a staff step, join, fork or
        end (the protocol of the module docstring), durations from the case's source
        (:attr:`Case.durations`). Part of the hot path: locals only."""
        drawn: list[tuple[int, float]] = []
        durations, fork_at, single = token.case.durations, self.fork_at, self.single
        stop = self.stop
        while True:
            buffer = durations[index]
            assert buffer is not None
            values = buffer.values
            if not values:
                self._refill(buffer, index)
            drawn.append((index, values.pop()))
            if fork_at[index] >= 0:
                token.last, token.then = index, _FORK
                break
            following = single[index]
            index = following if following >= 0 else self._route(token.case, index)
            if stop[index]:
                token.last, token.then = -1, index
                break
        drawn.reverse()
        token.segment = drawn

    def _refill(self, buffer: Buffer, index: int) -> None:
        """Refill a duration stream; stop a run past its visit budget (one draw per visit)."""
        before = buffer.drawn
        buffer.refill()
        self.visits_made += buffer.drawn - before
        if self.visits_made - len(buffer.values) > self.max_visits:
            raise SimulationError(
                f"process {self.plan.process!r}: run {self.run_number + 1} passed "
                f"{count(self.max_visits)} step visits (step {self.steps[index].id!r}) before "
                f"its {count(self.cases)} cases ended: cases almost never leave a loop; make "
                "leaving it more likely, bound it with 'max:', or simulate fewer --cases"
            )

    # ------------------------------------------------------------------ events

    def _schedule(self, time: float, priority: int, token: Token, payload: Any) -> None:
        self.sequence += 1
        if priority == _STAFF:
            key = (time, _STAFF, token.case.number, token.number, self.sequence, payload)
        else:
            key = (time, priority, 0, 0, self.sequence, payload)
        heappush(self.events, key)

    def _enter(self, token: Token, index: int, now: float, joined: bool = False) -> None:
        """``token`` reaches step ``index`` at ``now`` (``joined``: its join has fired)."""
        if self.join_at[index] and not joined:
            self._join(token, index, now)
            return
        kind = self.kind[index]
        if kind == _STAFF_KIND:
            self._schedule(now, _STAFF, token, (token, index))
        elif kind == _END_KIND:
            self._finish(token, index, now)
        else:
            self._segment(token, index)
            self._proceed(token, now)

    def _arrive_at_staff(self, token: Token, index: int, now: float) -> None:
        self._segment(token, index)
        first, duration = token.segment.pop()
        work = self.work_class(token, first, now, duration)
        token.work = work
        owner = self.steps[index].owner
        if self.busy_units[owner] < self.room[owner]:
            self._begin(work, now)
        else:
            self._wait(work, owner, now)

    def _wait(self, work: Work, owner: int, now: float) -> None:
        """``work`` finds every unit of ``owner`` busy at ``now`` (on working time: always):
        it joins the queue."""
        self.queues[owner].push(work)
        if self.duty[owner]:
            self._dispatch(owner, now)

    def _dispatch(self, owner: int, now: float) -> None:
        """Working time (docs/working-time.md): while work waits and a unit is free and on duty
        now, that unit takes the queue's next work (the discipline decides: priorities).
        Work left with a free unit off duty: look again when one comes on duty (a wake-up).

        Work is never committed ahead to a unit off duty or still busy: it could not be
        withdrawn cleanly (``join: first``) nor overtaken by more urgent work."""
        queue = self.queues[owner]
        pool = self.pools[owner]
        assert isinstance(pool, Shifts)
        while len(queue):
            if not pool.ready(now):
                wake = pool.wake(now)
                if wake < self.waking[owner]:  # else an earlier wake-up looks again
                    self.waking[owner] = wake
                    self._wake(wake, owner)
                return
            self._begin(queue.pop(), now)

    def _wake(self, time: float, owner: int) -> None:
        """A dispatch of ``owner``'s queue at ``time``: after every end of work at that
        instant (so the tie rule sees every unit freed then), before arrivals at staff steps.
        It rides the staff-arrival payload with a token never alive (:data:`_WAKE`), so the
        hot path of :meth:`_event` pays nothing for it."""
        self.sequence += 1
        heappush(self.events, (time, _DONE, 1, 0, self.sequence, (_WAKE, owner)))

    def _begin(self, work: Work, now: float) -> None:
        owner = self.steps[work.step].owner
        pool = self.pools[owner]
        assert pool is not None
        self.busy_units[owner] += 1
        if pool.units_in_memory() < self.busy_units[owner] or self.working:
            # shifts: each shift needs that many units (units_in_memory sums the shifts)
            pool.reserve(self.busy_units[owner])
        work.start, work.end = pool.take(now, work.duration)
        work.token.case.waited += work.start - work.arrived
        self._schedule(work.end, _DONE, work.token, work)

    def _free_unit(self, owner: int, now: float) -> None:
        self.busy_units[owner] -= 1
        queue = self.queues[owner]
        if len(queue):
            if self.duty[owner]:  # working time: once every unit freed now is free
                self._wake(now, owner)
            else:
                self._begin(queue.pop(), now)

    def _complete(self, work: Work, now: float) -> None:
        token = work.token
        token.work = None
        self._record(token, work.step, work.arrived, work.start, now, work.duration)
        self._free_unit(self.steps[work.step].owner, now)
        self._proceed(token, now)

    def _proceed(self, token: Token, now: float) -> None:
        """Pass the token's drawn pure delays (one event each), then go on."""
        if token.segment:
            index, duration = token.segment.pop()
            token.delay = (index, now, duration)
            pool = self.delay_pools[index]  # an external owner with a calendar: open hours only
            end = now + duration if pool is None else pool.finish(now, duration)
            self._schedule(end, _DONE, token, token)
            return
        if token.then == _FORK:
            self._fork(token, token.last, now)
        else:
            self._enter(token, token.then, now)

    def _delay_over(self, token: Token, now: float) -> None:
        assert token.delay is not None
        index, start, duration = token.delay
        token.delay = None
        # an external owner's calendar: its service is the open time it counted, the duration
        work = duration if self.delay_pools[index] is not None else None
        self._record(token, index, start, start, now, work)
        self._proceed(token, now)

    # ------------------------------------------------------------------ forks and joins

    def _fork(self, token: Token, step: int, now: float) -> None:
        """The token becomes one token per branch, in ``parallel`` order."""
        fork = self.fork_at[step]
        parent = token.frame
        frame = _Frame(fork, parent)
        token.alive = False
        if parent is not None:
            del parent.members[token]
            parent.children[frame] = None
        join = self.plan.forks[fork].join
        empty: list[Token] = []
        for branch in self.plan.forks[fork].branches:
            if branch == join:  # a branch that is the join itself arrives once all exist:
                empty.append(Token(token.case, frame))  # it won a race before they did
                continue
            self._enter(Token(token.case, frame), branch, now)
        for arrived in empty:
            if arrived.alive:  # not withdrawn by an earlier empty branch's race
                self._enter(arrived, join, now)

    def _join(self, token: Token, index: int, now: float) -> None:
        frame = token.frame
        assert frame is not None, "a join outside a fork (the gate's PF702)"
        fork = self.plan.forks[frame.fork]
        assert fork.join == index, "a join of another fork (the gate's PF702/PF703)"
        token.alive = False
        del frame.members[token]
        frame.arrived += 1
        if fork.first:
            self._withdraw(frame, now)
        elif frame.arrived < len(fork.branches):
            return
        parent = frame.parent
        if parent is not None:
            del parent.children[frame]
        self._enter(Token(token.case, parent), index, now, joined=True)

    def _withdraw(self, frame: _Frame, now: float) -> None:
        """Withdraw every token of ``frame`` and of the forks open inside it, in creation order."""
        tokens: list[Token] = []
        frames = [frame]
        for open_ in frames:  # grows while it is walked
            tokens.extend(open_.members)
            open_.members.clear()
            frames.extend(open_.children)
            open_.children.clear()
        tokens.sort(key=_number)
        for token in tokens:
            self._abandon(token, now)

    def _abandon(self, token: Token, now: float) -> None:
        token.alive = False
        work = token.work
        if work is not None:
            token.work = None
            owner = self.steps[work.step].owner
            if work.queued is not None:
                self.queues[owner].remove(work)
            elif work.start >= 0.0:
                pool = self.pools[owner]
                assert pool is not None
                span = work.end - work.start
                if isinstance(pool, Shifts):  # the open time of its unit's shift until now
                    done = pool.worked(work.start, work.end, work.duration, work.start, now)
                else:
                    done = work.duration * (now - work.start) / span if span > 0.0 else 0.0
                pool.release(work.end, now)  # after worked(): its unit still holds the work
                self._record(token, work.step, work.arrived, work.start, now, done)
                self._free_unit(owner, now)
        if token.delay is not None:
            index, start, _duration = token.delay
            token.delay = None
            pool = self.delay_pools[index]
            opened = pool.open_time(start, now) if isinstance(pool, OffHours) else None
            self._record(token, index, start, start, now, opened)

    # ------------------------------------------------------------------ tallies

    def _record(
        self,
        token: Token,
        index: int,
        arrived: float,
        start: float,
        end: float,
        work: float | None = None,
        busy: bool = True,
    ) -> None:
        """A visit is over: log it and, past the warm-up, count it; busy time inside the window.

        ``work`` is the work content of a staff visit. On working time it is what service and
        busy time count (a job paused overnight was not worked on); around the clock it is
        ``end - start`` and the elapsed span is counted, as :mod:`procflow.sim.engine` does.
        ``busy=False``: the caller counts the busy time (a visit worked in pieces).
        """
        worked = work if self.working and work is not None else end - start
        case = token.case
        if self.log is not None:
            self.log.write_simulated(
                case.number + 1, self.names[index], self.owner_names[index], start, end
            )
        if case.number >= self.warmup:
            self.visit_count[index] += 1
            self.wait_total[index] += start - arrived
            self.service_total[index] += worked
            if self.tracked:
                sink = self.tracked.get(index)
                if sink is not None:
                    # wait plus service (docs/metrics.md), as the step's mean and the fast
                    # engine count it: on working time the service is the work, not the span
                    sink.append(start - arrived + worked if self.working else end - arrived)
        if busy and self.staffed[index]:
            self._busy(index, start, end, worked)

    def _busy(self, index: int, start: float, end: float, worked: float) -> None:
        """Count the busy time of staff step ``index``'s work from ``start`` to ``end`` (work
        content ``worked``) that falls inside the window."""
        low = start if start > self.window_start else self.window_start
        high = end if end < self.window_end else self.window_end
        if high > low:
            if self.working:  # the work done inside the window, not the time it took
                pool = self.pools[self.steps[index].owner]
                if isinstance(pool, Shifts) and (low > start or high < end):
                    high = pool.worked(start, end, worked, low, high)
                else:
                    high = worked
                low = 0.0
            self.busy_time[self.steps[index].owner] += high - low

    def _finish(self, token: Token, index: int, now: float) -> None:
        self._record(token, index, now, now, now)
        token.alive = False
        case = token.case
        counted = case.number >= self.warmup
        code = (index << 1 | case.reworked) if counted else -1
        done = self.done  # four numbers a case, folded every BLOCK cases
        done.extend((case.arrived, now, case.waited, code))
        if len(done) >= 4 * BLOCK:
            self.completions.fold()

    # ------------------------------------------------------------------ the loop

    def run(self) -> RunStats:
        """Every event in time order (see :data:`_DONE`), then the statistics."""
        for index in self.plan.tracked:
            self.stats.step_time[index] = Histogram()
        events, source = self.events, self.times.source()
        block: list[float] = []
        upcoming, number = math.inf, 0
        block = source()
        upcoming = block.pop()
        while True:
            if events and events[0][0] <= upcoming:  # same instant: events before a new case
                now, _priority, _case, _token, _seq, payload = heappop(events)
                self._event(now, payload)
                continue
            if upcoming == math.inf:
                break
            self._new_case(number, upcoming)
            number += 1
            if self.progress is not None and number % BLOCK == 0:
                self.progress(number)
            if not block:
                block = source()
            upcoming = block.pop()
        self.completions.fold()
        if self.progress is not None:
            self.progress(self.cases)
        return self._stats()

    def _event(self, now: float, payload: Any) -> None:
        if payload.__class__ is Work:
            if payload.token.alive and payload.token.work is payload:
                self._complete(payload, now)
        elif payload.__class__ is Token:
            if payload.alive:
                self._delay_over(payload, now)
        else:  # (token, step): a token arrives at a staff step
            token, index = payload
            if token.alive:
                self._arrive_at_staff(token, index, now)
            elif token is _WAKE:  # (_WAKE, owner): working time, a dispatch
                if self.waking[index] == now:
                    self.waking[index] = math.inf
                self._dispatch(index, now)

    def _new_case(self, number: int, now: float) -> None:
        token = Token(self._open_case(number, now), None)
        start = self.plan.start
        if self.steps[start].kind == STAFF and not self.join_at[start]:
            self._arrive_at_staff(token, start, now)
        else:
            self._enter(token, start, now)

    def _open_case(self, number: int, now: float) -> Case:
        """Case ``number`` arrives at ``now``: it draws from the engine's duration streams."""
        return Case(number, now, self.plan.bounded, self.durations)

    def _stats(self) -> RunStats:
        stats, completions = self.stats, self.completions
        stats.makespan = completions.makespan
        stats.window_start = self.window_start
        end = self.window_end
        stats.window_end = end if end < math.inf else max(stats.makespan, self.window_start)
        stats.counted = stats.cycle.n
        stats.rework = completions.rework
        stats.wip_area = completions.area
        stats.completed_in_window = completions.in_window
        stats.arrival_span = self.arrival_span
        if self.working:
            stats.on_duty = on_duty(self.pools, stats.window_start, stats.window_end)
        return stats


class _Wake:
    """The token of a wake-up event (:meth:`TokenEngine._wake`): never alive."""

    __slots__ = ()
    alive = False


_WAKE = _Wake()


def _number(token: Token) -> int:
    return token.number


def _renormalized(edges: list[Any], u: float) -> Any:
    """Pick among the edges still open, their probabilities renormalized (equal if all 0)."""
    total = math.fsum(e.p for e in edges)
    if total <= 0.0:
        return edges[min(int(u * len(edges)), len(edges) - 1)]
    x = u * total
    chosen = edges[0]
    for edge in edges:
        if edge.p > 0.0:
            chosen = edge
            x -= edge.p
            if x < 0.0:
                return edge
    return chosen


def run_tokens(
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
    queue: Callable[[OwnerPlan], Queue] = fifo,
) -> RunStats:
    """Simulate run ``run`` of ``plan`` on tokens: ``cases`` arrivals, the first ``warmup``
    not counted. The parameters and the result are those of
    :func:`procflow.sim.engine.run_replication`; ``queue`` makes each staff owner's waiting
    line (:mod:`procflow.sim.queues`: the seam for other queue disciplines)."""
    if cases < 1 or not 0 <= warmup < cases:
        raise ValueError("need cases >= 1 and 0 <= warmup < cases")
    engine = TokenEngine(
        plan, run, seed, cases, warmup, log, progress, max_visits, pool, observe, queue
    )
    return engine.run()
