"""The token engine with case attributes: priority queues, rules, per-class draws.

A process that uses ``attributes:``, ``priority:``, ``when:``, ``by:`` or a
goal's ``where:`` (docs/attributes.md) runs here: the token engine of
:mod:`procflow.sim.tokens` (explicit per-owner queues, completion events,
forks), extended through its documented extension points
(:class:`~procflow.sim.tokens.TokenEngine`) where attributes change the semantics:

* **arrival** -- a case draws each attribute from the attribute's own stream
  (:mod:`procflow.sim.caseplan`), in case order, so adding an attribute
  changes no other stream's numbers;
* **durations** -- a step whose duration is ``by:`` an attribute draws a case
  of class ``v`` from that class's stream, others from the ``else`` stream
  (the case's duration source, chosen once when it arrives: the token
  engine's segment loop draws from it as from its own streams);
* **routing** -- a step with rules takes the first transition whose
  condition holds for the case (bounded transitions used up are skipped; no
  condition and no default: the last open transition); a ``p`` given ``by:``
  an attribute decides with the step's routing stream and the class's ``p``;
* **queues** -- with ``priority:`` every staff owner's queue serves the most
  urgent class first, first come first served within a class
  (:class:`PriorityQueue`, on the :class:`~procflow.sim.queues.Queue` seam).
  ``preemptive: true``: an arriving case of a more urgent class than some
  work in progress takes that unit at once; the interrupted work goes back
  to the queue with its remaining work content and resumes later
  (preemptive resume). Its visit is recorded once, when it completes: its
  service is its whole duration and its waiting everything else.

Every counted case also leaves a row (cycle time, waiting, class, end step,
which goal scopes it meets): :mod:`procflow.sim.groups` turns the rows into
the KPIs per class and per outcome.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from procflow.casestats import first_true
from procflow.expressions import Condition, compile_condition
from procflow.sim.budget import MAX_VISITS
from procflow.sim.caseplan import ATTRIBUTES, CasePlan
from procflow.sim.engine import EventSink, Progress, RunStats, run_replication
from procflow.sim.groups import CaseTable
from procflow.sim.plan import OwnerPlan, Plan, used_up
from procflow.sim.pools import Pool, Staff
from procflow.sim.queues import Queue, fifo
from procflow.sim.sampling import (
    DURATIONS,
    ROUTING,
    Buffer,
    drawer,
    generator,
    uniforms,
)
from procflow.sim.tokens import Case, Token, TokenEngine, Work, run_tokens
from procflow.sim.workingtime import Shifts

__all__ = ["PriorityQueue", "replication", "run_attributed"]


def replication(plan: Plan) -> Callable[..., RunStats]:
    """The engine for ``plan``: attributes here, forks on tokens, the fast engine otherwise."""
    if plan.cases is not None:
        return run_attributed
    return run_tokens if plan.forks else run_replication


class PriorityQueue(Queue):
    """Most urgent class first, FIFO within a class; preemptive or not (module docstring)."""

    __slots__ = ("preemptive",)

    def __init__(self, preemptive: bool) -> None:
        super().__init__()
        self.preemptive = preemptive

    def rank(self, item: Any) -> tuple[Any, ...]:
        return (item.token.case.rank,)

    def preempts(self, item: Any, running_rank: tuple[Any, ...]) -> bool:
        return self.preemptive and self.rank(item) < running_rank


class _AttributedCase(Case):
    __slots__ = ("klass", "mask", "rank", "values")

    def __init__(
        self, number: int, arrived: float, bounded: int, durations: list[Buffer | None]
    ) -> None:
        super().__init__(number, arrived, bounded, durations)
        self.values: dict[str, float | str] = {}
        self.rank = 0
        self.klass = -1
        self.mask = 0


class _AttributedEngine(TokenEngine):
    """One replication of a plan with a :class:`~procflow.sim.caseplan.CasePlan`, on the
    token engine's extension points: cases with attributes and their class's durations,
    rule routing, per-case rows; queues by ``queue`` (priorities, :func:`run_attributed`)."""

    def __init__(self, plan: Plan, run: int, seed: int, *args: Any) -> None:
        cases = plan.cases
        assert cases is not None
        self.case_plan: CasePlan = cases
        super().__init__(plan, run, seed, *args)
        self.rules: list[tuple[Condition | None, ...] | None] = [
            None if whens is None else tuple(compile_condition(w) if w else None for w in whens)
            for whens in cases.rules
        ]
        self.wheres = [compile_condition(text) for _goal, text in cases.wheres]
        self.attribute_draws = [
            Buffer(
                drawer(a.spec, generator(seed, run, ATTRIBUTES, a.key))
                if a.spec is not None
                else uniforms(generator(seed, run, ATTRIBUTES, a.key))
            )
            for a in cases.attributes
        ]
        self.attribute_cumulative = [
            [math.fsum(a.shares[: i + 1]) for i in range(len(a.shares) - 1)]
            for a in cases.attributes
        ]
        self.rows: list[tuple[float, float, int, int, int, int]] = []
        self.class_of: dict[float | str, int] = {v: k for k, v in enumerate(cases.classes)}
        self.log_attributes: Callable[[int, dict[str, float | str]], None] | None = getattr(
            self.log, "set_case_attributes", None
        )
        self.special = [
            r is not None or p is not None for r, p in zip(self.rules, cases.by_p, strict=True)
        ]

    def _streams(self, seed: int, run: int) -> None:
        super()._streams(seed, run)
        cases = self.case_plan
        self.class_streams: list[tuple[int, str, dict[str, Buffer]]] = []
        """``(step, attribute, value -> stream)`` of each step whose duration is ``by:``."""
        self.p_draws: list[Buffer | None] = [None] * len(self.steps)
        for index, step in enumerate(self.steps):
            by = cases.by_duration[index]
            if by is not None and step.edges:
                streams = {
                    value: Buffer(drawer(spec, generator(seed, run, DURATIONS, key)))
                    for value, key, spec in by.options
                }
                self.class_streams.append((index, by.attribute, streams))
            if cases.by_p[index] is not None and step.edges:
                self.p_draws[index] = Buffer(uniforms(generator(seed, run, ROUTING, step.key)))
        self.sources: dict[tuple[str | None, ...], list[Buffer | None]] = {}
        """The duration sources made so far, by the class of each ``by:`` step."""

    # ------------------------------------------------------------------ arrivals

    def _open_case(self, number: int, now: float) -> Case:
        """Case ``number`` arrives: it draws its attributes (their streams, in attribute
        order), takes its rank and goal scopes, and the duration source of its classes."""
        case = _AttributedCase(number, now, self.plan.bounded, self.durations)
        cases = self.case_plan
        values = case.values
        for a, buffer, cumulative in zip(
            cases.attributes, self.attribute_draws, self.attribute_cumulative, strict=True
        ):
            pending = buffer.values
            if not pending:
                buffer.refill()
            drawn = float(pending.pop())
            values[a.name] = (
                drawn if a.spec is not None else a.values[bisect_right(cumulative, drawn)]
            )
        priority = cases.priority
        if priority is not None:
            klass = self.class_of.get(values.get(priority, ""), -1)
            case.klass = klass
            case.rank = klass if klass >= 0 else len(cases.classes)
        if self.wheres:
            mask = 0
            for bit, condition in enumerate(self.wheres):
                if condition(values):
                    mask |= 1 << bit
            case.mask = mask
        if self.class_streams:
            case.durations = self._source(values)
        if self.log_attributes is not None:
            self.log_attributes(number + 1, values)
        return case

    def _source(self, values: dict[str, float | str]) -> list[Buffer | None]:
        """Per step, the stream a case with ``values`` draws its durations from: under
        ``by:`` its class's stream (the step's own one, the ``else``, for other values)."""
        classes: list[str | None] = []
        for _index, attribute, streams in self.class_streams:
            value = str(values.get(attribute))
            classes.append(value if value in streams else None)
        key = tuple(classes)
        source = self.sources.get(key)
        if source is None:
            source = list(self.durations)
            for (index, _attribute, streams), name in zip(self.class_streams, key, strict=True):
                if name is not None:
                    source[index] = streams[name]
            self.sources[key] = source
        return source

    # ------------------------------------------------------------------ routing

    def _route(self, case: Case, index: int) -> int:
        if not self.special[index]:
            return TokenEngine._route(self, case, index)
        rules = self.rules[index]
        by_p = self.case_plan.by_p[index]
        assert isinstance(case, _AttributedCase)
        edges = self.steps[index].edges
        counters = case.counters
        open_ = [i for i, e in enumerate(edges) if e.bound < 0 or counters[e.bound] < e.max]
        if not open_:
            raise used_up(self.plan, index, case.number + 1)
        if rules is not None:
            chosen = edges[open_[first_true([rules[i] for i in open_], case.values)]]
        else:
            assert by_p is not None
            attribute, per_value, fallback = by_p
            value = case.values.get(attribute)
            ps = [dict(per_value[i]).get(str(value), fallback[i]) for i in open_]
            u = float(self._draw(self.p_draws[index]))
            chosen = edges[open_[_pick(ps, u)]]
        return self._took(case, chosen)

    # ------------------------------------------------------------------ tallies

    def _finish(self, token: Token, index: int, now: float) -> None:
        case = token.case
        assert isinstance(case, _AttributedCase)
        if case.number >= self.warmup:
            row = (now - case.arrived, case.waited, case.klass, index, case.mask, case.reworked)
            self.rows.append(row)
        super()._finish(token, index, now)

    def _stats(self) -> RunStats:
        stats = super()._stats()
        table = np.asarray(self.rows, dtype=np.float64).reshape(-1, 6)
        stats.groups = CaseTable(
            cycle=table[:, 0].copy(),
            wait=table[:, 1].copy(),
            klass=table[:, 2].astype(np.int64),
            outcome=table[:, 3].astype(np.int64),
            mask=table[:, 4].astype(np.int64),
            reworked=table[:, 5].astype(np.int64),
        )
        return stats


class _Piece(Work):
    """A visit of a staff step that may be interrupted: its first arrival and whole work."""

    __slots__ = ("origin", "total")

    def __init__(self, token: Token, step: int, arrived: float, duration: float) -> None:
        super().__init__(token, step, arrived, duration)
        self.origin = arrived
        self.total = duration


class _PreemptiveEngine(_AttributedEngine):
    """Preemptive priorities (``preemptive: true``, module docstring): visits are
    :class:`_Piece`; an arriving visit that finds every unit busy may interrupt the least
    urgent work in progress, which goes back to the queue with its remaining work."""

    work_class = _Piece

    def __init__(self, plan: Plan, run: int, seed: int, *args: Any) -> None:
        super().__init__(plan, run, seed, *args)
        self.running: list[dict[Work, None]] = [{} for _ in plan.owners]

    def _wait(self, work: Work, owner: int, now: float) -> None:
        victim = self._victim(owner, work)
        if victim is None:
            super()._wait(work, owner, now)
            return
        self._interrupt(victim, now)
        if self.duty[owner]:  # working time: the unit freed starts it if it is on duty
            super()._wait(work, owner, now)
        else:
            self._begin(work, now)

    def _victim(self, owner: int, work: Work) -> Work | None:
        """The least urgent work in progress ``work`` preempts, or None (on working time
        only when every unit holds work: else a free unit takes it when on duty)."""
        queue = self.queues[owner]
        running = self.running[owner]
        if not running:
            return None
        pool = self.pools[owner]
        if self.duty[owner] and pool is not None and self.busy_units[owner] < pool.capacity:
            return None
        worst = max(running, key=queue.rank)  # the first started among the least urgent
        return worst if queue.preempts(work, queue.rank(worst)) else None

    def _interrupt(self, work: Work, now: float) -> None:
        """Stop ``work`` at ``now`` and queue its remaining work content (preemptive resume)."""
        assert isinstance(work, _Piece)
        owner = self.steps[work.step].owner
        pool = self.pools[owner]
        assert pool is not None
        left = work.end - now  # on working time: the work still to do, not the time it takes
        if self.working and isinstance(pool, Shifts):  # asked while its unit holds the work
            left = pool.worked(work.start, work.end, work.duration, now, work.end)
        pool.release(work.end, now)
        self.busy_units[owner] -= 1
        del self.running[owner][work]
        self._busy(work.step, work.start, now, work.duration - left)  # the piece just worked
        rest = _Piece(work.token, work.step, now, max(left, 0.0))
        rest.origin, rest.total = work.origin, work.total
        work.token.work = rest  # the interrupted completion event is now stale
        self.queues[owner].push(rest)

    def _begin(self, work: Work, now: float) -> None:
        super()._begin(work, now)
        self.running[self.steps[work.step].owner][work] = None

    def _complete(self, work: Work, now: float) -> None:
        assert isinstance(work, _Piece)
        token = work.token
        token.work = None
        owner = self.steps[work.step].owner
        self.running[owner].pop(work, None)
        if work.origin == work.arrived:  # never interrupted
            self._record(token, work.step, work.origin, work.start, now, work.total)
        else:  # the earlier pieces' busy time was counted when they were interrupted
            self._record(token, work.step, work.origin, now - work.total, now, work.total, False)
            self._busy(work.step, work.start, now, work.duration)
        self._free_unit(owner, now)
        self._proceed(token, now)

    def _abandon(self, token: Token, now: float) -> None:
        work = token.work
        if work is not None:
            self.running[self.steps[work.step].owner].pop(work, None)
            resumed = isinstance(work, _Piece) and work.origin != work.arrived
            if resumed and work.queued is None and work.start >= 0.0:
                self._abandon_resumed(token, work, now)
                return
        super()._abandon(token, now)

    def _abandon_resumed(self, token: Token, work: Work, now: float) -> None:
        """Withdraw work in progress that was interrupted before: recorded once, like a
        completed visit, with the work of all its pieces as service (busy time of the
        earlier pieces was counted when they were interrupted)."""
        assert isinstance(work, _Piece)
        token.alive = False
        token.work = None
        owner = self.steps[work.step].owner
        pool = self.pools[owner]
        assert pool is not None
        stop = max(work.start, now)
        pool.release(work.end, stop)
        span = work.end - work.start
        piece = stop - work.start
        if self.working:
            piece = work.duration * piece / span if span > 0.0 else 0.0
        done = work.total - work.duration + piece
        self._record(token, work.step, work.origin, stop - done, stop, done, False)
        self._busy(work.step, work.start, stop, piece)
        self._free_unit(owner, now)

    def _event(self, now: float, payload: Any) -> None:
        if payload.__class__ is _Piece:  # a completion; stale once interrupted or withdrawn
            if payload.token.alive and payload.token.work is payload:
                self._complete(payload, now)
        else:
            super()._event(now, payload)


def _pick(ps: list[float], u: float) -> int:
    """The index chosen by ``u`` in [0, 1) among weights ``ps`` (renormalized; equal if all 0)."""
    total = math.fsum(ps)
    if total <= 0.0:
        return min(int(u * len(ps)), len(ps) - 1)
    x = u * total
    last = 0
    for i, p in enumerate(ps):
        if p > 0.0:
            last = i
            x -= p
            if x < 0.0:
                return i
    return last


def run_attributed(
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
    """Simulate run ``run`` of ``plan`` (which has a case plan) on tokens with attributes.

    Parameters and result as :func:`procflow.sim.engine.run_replication`;
    the result also carries the per-case rows (``RunStats.groups``).
    """
    if cases < 1 or not 0 <= warmup < cases:
        raise ValueError("need cases >= 1 and 0 <= warmup < cases")
    case_plan = plan.cases
    assert case_plan is not None
    preemptive = case_plan.preemptive
    queue: Callable[[OwnerPlan], Queue] = fifo
    if case_plan.priority is not None:
        queue = partial(_priority_queue, preemptive)
    kind = _PreemptiveEngine if preemptive else _AttributedEngine
    engine = kind(plan, run, seed, cases, warmup, log, progress, max_visits, pool, observe, queue)
    return engine.run()


def _priority_queue(preemptive: bool, owner: OwnerPlan) -> Queue:
    """The queue of a staff owner when the process has ``priority:``."""
    return PriorityQueue(preemptive)
