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

from procflow.sim.engine import EventSink, RunStats
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


@dataclass
class _Case:
    number: int
    arrived: float
    waited: float = 0.0
    reworked: bool = False
    counters: list[int] = field(default_factory=list)
    segment: deque[tuple[int, float]] = field(default_factory=deque)
    then: int = -1


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
    if plan.working is not None:
        raise ValueError(
            "the reference simulator has no working time: compare a plan with calendars "
            "around the clock (plan.with_working(None))"
        )
    return _Reference(plan, run, seed, cases, warmup, log).run()


def _take(buffer: Buffer | None) -> Any:
    """The next value of a pre-drawn stream, refilling it the way the engine does."""
    assert buffer is not None
    if not buffer.values:
        buffer.refill()
    return buffer.values.pop()


def _arrival_times(plan: Plan, run: int, seed: int, cases: int) -> list[float]:
    """Every case's arrival time, read from the shared arrival stream up front.

    Taking them all first (rather than one at a time as the engine does) is
    the obvious way; the stream is the same, so the times are the same.
    """
    arrivals = ArrivalTimes(seed, run, plan.interarrival, cases)
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
        self._open_streams(seed, run)

        self.arrival_times = _arrival_times(plan, run, seed, cases)
        times = self.arrival_times
        self.window_start = times[warmup]
        self.arrival_span = times[-1] - (times[warmup - 1] if warmup > 0 else 0.0)
        self.window_end = times[-1] if times[-1] > self.window_start else math.inf

        # Events at the same instant: completions and ends of delays first, then
        # arrivals at staff steps in case order, then new cases (in case order).
        self.events: list[tuple[float, int, int, int, str, Any]] = []
        self.sequence = 0

        self.busy = [0] * len(self.owners)
        self.queues: list[deque[tuple[_Case, int, float]]] = [deque() for _ in self.owners]
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

    def route(self, case: _Case, index: int) -> int:
        """The step a case goes to after ``index``, honouring loop bounds (``max``).

        General routing renormalises the probabilities of the edges still
        available to this case, and counts bounded and feedback edges taken.
        """
        step = self.steps[index]
        if step.routing == SINGLE:
            return step.edges[0].target
        if step.routing == CHOICE:
            return int(_take(self.routes[index]))
        u = _take(self.routes[index])
        available = [e for e in step.edges if e.bound < 0 or case.counters[e.bound] < e.max]
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
        if chosen.feedback:
            case.reworked = True
        if chosen.bound >= 0:
            case.counters[chosen.bound] += 1
        return chosen.target

    def draw_segment(self, case: _Case, index: int) -> None:
        """The draws for a staff step (or the start) and the pure delays after it.

        Drawn together, when the case arrives there, because that is the
        order in which the engine consumes the streams.
        """
        case.segment.clear()
        while True:
            case.segment.append((index, _take(self.durations[index])))
            index = self.route(case, index)
            if self.steps[index].kind != DELAY:
                case.then = index
                return

    def schedule(self, time: float, kind: str, payload: Any) -> None:
        """Put an event on the heap; arrivals at staff steps sort after other events."""
        self.sequence += 1
        if kind == "staff":
            heappush(self.events, (time, 1, payload[0].number, self.sequence, kind, payload))
        else:
            heappush(self.events, (time, 0, 0, self.sequence, kind, payload))

    def record(self, case: _Case, index: int, arrived: float, start: float, end: float) -> None:
        """Log one finished visit and, past the warm-up, count it; clip busy time to the window."""
        steps = self.steps
        if self.log is not None:
            owner = steps[index].owner
            self.log.write_simulated(
                case.number + 1,
                steps[index].id,
                self.owners[owner].id if owner >= 0 else None,
                start,
                end,
            )
        if case.number >= self.warmup:
            self.visits[index] += 1
            self.wait_sum[index] += start - arrived
            self.service_sum[index] += end - start
            if index in self.step_times:
                self.step_times[index].append(end - arrived)
        owner = steps[index].owner
        if steps[index].kind == STAFF:
            low = max(start, self.window_start)
            high = min(end, self.window_end)
            if high > low:
                self.busy_time[owner] += high - low

    def begin(self, case: _Case, index: int, arrived: float, now: float) -> None:
        """A server of the step's owner starts the case's work; its completion is an event."""
        owner = self.steps[index].owner
        self.busy[owner] += 1
        case.waited += now - arrived
        _index, duration = case.segment.popleft()
        self.schedule(now + duration, "done", (case, index, arrived, now))

    def proceed(self, case: _Case, now: float) -> None:
        """Pass the remaining pure delays one event at a time, then go on."""
        if case.segment:
            index, duration = case.segment.popleft()
            self.record(case, index, now, now, now + duration)
            self.schedule(now + duration, "proceed", case)
            return
        index = case.then
        if self.steps[index].kind == END:
            self.finish(case, index, now)
            return
        self.schedule(now, "staff", (case, index))

    def finish(self, case: _Case, index: int, now: float) -> None:
        """A case reaches an end step: it leaves the system and, past the warm-up, counts."""
        self.record(case, index, now, now, now)
        self.changes.append((now, -1))
        self.completions.append(now)
        if case.number >= self.warmup:
            self.cycle_times.append(now - case.arrived)
            self.wait_times.append(case.waited)
            self.rework += case.reworked

    def arrive_at_staff(self, case: _Case, index: int, now: float) -> None:
        """Draw the case's next segment, then start at once or join the owner's FIFO queue."""
        self.draw_segment(case, index)
        owner = self.steps[index].owner
        if self.busy[owner] < self.owners[owner].capacity:
            self.begin(case, index, now, now)
        else:
            self.queues[owner].append((case, index, now))

    def complete(self, case: _Case, index: int, arrived: float, start: float, now: float) -> None:
        """A server finishes: record the visit, hand the server to the next in queue, move on."""
        self.record(case, index, arrived, start, now)
        owner = self.steps[index].owner
        self.busy[owner] -= 1
        if self.queues[owner]:
            waiting, step, since = self.queues[owner].popleft()
            self.begin(waiting, step, since, now)
        self.proceed(case, now)

    def run(self) -> ReferenceResult:
        """The event loop: every arrival, staff arrival, completion and delay end in time order."""
        plan = self.plan
        events = self.events
        for number, time in enumerate(self.arrival_times):
            heappush(events, (time, 2, number, 0, "arrive", number))
        while events:
            now, _priority, _order, _seq, kind, payload = heappop(events)
            if kind == "arrive":
                case = _Case(payload, now, counters=[0] * plan.bounded)
                self.changes.append((now, +1))
                if self.steps[plan.start].kind == STAFF:
                    self.arrive_at_staff(case, plan.start, now)
                else:
                    self.draw_segment(case, plan.start)
                    self.proceed(case, now)
            elif kind == "staff":
                case, index = payload
                self.arrive_at_staff(case, index, now)
            elif kind == "done":
                case, index, arrived, start = payload
                self.complete(case, index, arrived, start, now)
            else:  # "proceed"
                self.proceed(payload, now)
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
        return ReferenceResult(stats, self.cycle_times, self.wait_times, self.step_times)


__all__ = ["ReferenceResult", "run_reference"]
