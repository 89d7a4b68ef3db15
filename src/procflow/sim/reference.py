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
    steps = plan.steps
    owners = plan.owners
    durations: list[Buffer | None] = [None] * len(steps)
    routes: list[Buffer | None] = [None] * len(steps)
    for index, step in enumerate(steps):
        if step.kind == END or not step.edges:
            continue
        assert step.duration is not None
        durations[index] = Buffer(drawer(step.duration, generator(seed, run, DURATIONS, step.key)))
        if step.routing == CHOICE:
            cumulative = list(np.cumsum([e.p for e in step.edges]))
            routes[index] = ChoiceBuffer(
                generator(seed, run, ROUTING, step.key),
                tuple(float(c) for c in cumulative),
                tuple(e.target for e in step.edges),
            )
        elif step.routing == GENERAL:
            routes[index] = Buffer(uniforms(generator(seed, run, ROUTING, step.key)))

    def take(buffer: Buffer | None) -> Any:
        assert buffer is not None
        if not buffer.values:
            buffer.refill()
        return buffer.values.pop()

    def route(case: _Case, index: int) -> int:
        step = steps[index]
        if step.routing == SINGLE:
            return step.edges[0].target
        if step.routing == CHOICE:
            return int(take(routes[index]))
        u = take(routes[index])
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

    def draw_segment(case: _Case, index: int) -> None:
        """The draws for a staff step (or the start) and the pure delays after it."""
        case.segment.clear()
        while True:
            case.segment.append((index, take(durations[index])))
            index = route(case, index)
            if steps[index].kind != DELAY:
                case.then = index
                return

    arrivals = ArrivalTimes(seed, run, plan.interarrival, cases)
    arrival_times: list[float] = []
    source = arrivals.source()
    while len(arrival_times) < cases:
        arrival_times.extend(reversed([t for t in source() if t != math.inf]))
    window_start = arrival_times[warmup]
    arrival_span = arrival_times[-1] - (arrival_times[warmup - 1] if warmup > 0 else 0.0)
    window_end = arrival_times[-1] if arrival_times[-1] > window_start else math.inf

    # Events at the same instant: completions and ends of delays first, then
    # arrivals at staff steps in case order, then new cases (in case order).
    events: list[tuple[float, int, int, int, str, Any]] = []
    sequence = 0

    def schedule(time: float, kind: str, payload: Any) -> None:
        nonlocal sequence
        sequence += 1
        if kind == "staff":
            heappush(events, (time, 1, payload[0].number, sequence, kind, payload))
        else:
            heappush(events, (time, 0, 0, sequence, kind, payload))

    for number, time in enumerate(arrival_times):
        heappush(events, (time, 2, number, 0, "arrive", number))

    busy = [0] * len(owners)
    queues: list[deque[tuple[_Case, int, float]]] = [deque() for _ in owners]
    visits = [0.0] * len(steps)
    wait_sum = [0.0] * len(steps)
    service_sum = [0.0] * len(steps)
    busy_time = [0.0] * len(owners)
    changes: list[tuple[float, int]] = []
    cycle_times: list[float] = []
    wait_times: list[float] = []
    step_times: dict[int, list[float]] = {s: [] for s in plan.tracked}
    completions: list[float] = []
    rework = 0

    def record(case: _Case, index: int, arrived: float, start: float, end: float) -> None:
        if log is not None:
            owner = steps[index].owner
            log.write_simulated(
                case.number + 1,
                steps[index].id,
                owners[owner].id if owner >= 0 else None,
                start,
                end,
            )
        if case.number >= warmup:
            visits[index] += 1
            wait_sum[index] += start - arrived
            service_sum[index] += end - start
            if index in step_times:
                step_times[index].append(end - arrived)
        owner = steps[index].owner
        if steps[index].kind == STAFF:
            low = max(start, window_start)
            high = min(end, window_end)
            if high > low:
                busy_time[owner] += high - low

    def begin(case: _Case, index: int, arrived: float, now: float) -> None:
        owner = steps[index].owner
        busy[owner] += 1
        case.waited += now - arrived
        _index, duration = case.segment.popleft()
        schedule(now + duration, "done", (case, index, arrived, now))

    def proceed(case: _Case, now: float) -> None:
        """Pass the remaining pure delays one event at a time, then go on."""
        if case.segment:
            index, duration = case.segment.popleft()
            record(case, index, now, now, now + duration)
            schedule(now + duration, "proceed", case)
            return
        index = case.then
        if steps[index].kind == END:
            nonlocal rework
            record(case, index, now, now, now)
            changes.append((now, -1))
            completions.append(now)
            if case.number >= warmup:
                cycle_times.append(now - case.arrived)
                wait_times.append(case.waited)
                rework += case.reworked
            return
        schedule(now, "staff", (case, index))

    def arrive_at_staff(case: _Case, index: int, now: float) -> None:
        draw_segment(case, index)
        owner = steps[index].owner
        if busy[owner] < owners[owner].capacity:
            begin(case, index, now, now)
        else:
            queues[owner].append((case, index, now))

    while events:
        now, _priority, _order, _seq, kind, payload = heappop(events)
        if kind == "arrive":
            case = _Case(payload, now, counters=[0] * plan.bounded)
            changes.append((now, +1))
            if steps[plan.start].kind == STAFF:
                arrive_at_staff(case, plan.start, now)
            else:
                draw_segment(case, plan.start)
                proceed(case, now)
        elif kind == "staff":
            case, index = payload
            arrive_at_staff(case, index, now)
        elif kind == "done":
            case, index, arrived, start = payload
            record(case, index, arrived, start, now)
            owner = steps[index].owner
            busy[owner] -= 1
            if queues[owner]:
                waiting, step, since = queues[owner].popleft()
                begin(waiting, step, since, now)
            proceed(case, now)
        else:  # "proceed"
            proceed(payload, now)

    makespan = max(completions)
    if window_end == math.inf:
        window_end = max(makespan, window_start)
        # busy time was clipped at infinity: nothing to correct
    area = 0.0
    population = 0
    previous = window_start
    for moment, change in sorted(changes):
        low = max(previous, window_start)
        high = min(moment, window_end)
        if high > low:
            area += population * (high - low)
        population += change
        previous = moment

    stats = RunStats(run=run, cases=cases, warmup=warmup)
    stats.counted = len(cycle_times)
    stats.window_start = window_start
    stats.window_end = window_end
    stats.makespan = makespan
    stats.cycle.add(np.asarray(cycle_times, dtype=np.float64))
    stats.wait.add(np.asarray(wait_times, dtype=np.float64))
    stats.rework = rework
    stats.visits = visits
    stats.wait_sum = wait_sum
    stats.service_sum = service_sum
    stats.busy = busy_time
    stats.wip_area = area
    stats.arrival_span = arrival_span
    stats.completed_in_window = sum(1 for e in completions if window_start <= e <= window_end)
    for index, values in step_times.items():
        histogram = Histogram()
        histogram.add(np.asarray(values, dtype=np.float64))
        stats.step_time[index] = histogram
    return ReferenceResult(stats, cycle_times, wait_times, step_times)


__all__ = ["ReferenceResult", "run_reference"]
