"""Replay an event log on a process, in one streamed pass: :func:`replay`.

Every event is matched to a step (:mod:`~procflow.eventlog.matching`) and
moved along the process graph of its case, from ``start``. What is checked:

* the first event of a case must be the ``start`` step (else *wrong-start*);
* every next event must be a declared transition from the case's current
  step, and a bounded edge (``max``) may be taken at most ``max`` times per
  case (else *undeclared-transition* or *max-exceeded*);
* activities that match no step are *unknown-activity*; events after an
  end step are *after-end*;
* at the end of the log each case must be finished: at an end step, or at a
  step with a (still allowed) transition into an end step -- end steps
  rarely appear in logs, so that last transition is inferred and counted
  (else *not-finished*).

A case conforms when none of these happens; its *first* deviation is the one
reported. After a deviation the replay re-synchronises on the event's step,
so durations and branching keep being measured for every case.

Measured on the way, per step: service time (``end - start``, when the log
has starts), waiting time (``start`` - the previous event's ``end`` in the
case) and elapsed time (``end`` - the previous event's ``end``: waiting plus
service, all a complete-only log can tell); per transition: how often it
was taken; per case: cycle time (first start or end to last end) and
whether it took a feedback edge (rework).

Memory: events are never stored. Each case seen keeps a small state
(about 200 bytes) until the end of the log, because a case's events may be
interleaved with others' anywhere in the file; the duration summaries are
fixed-size (:class:`~procflow.eventlog.stats.Sample`). Within a case,
events must come in time order (by completion); a case going back in time
is an error naming both lines, because silently re-ordering would need the
whole log in memory.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from procflow.errors import EventLogError
from procflow.eventlog.events import Event
from procflow.eventlog.matching import StepMatcher
from procflow.eventlog.stats import BLOCK, Sample
from procflow.model import Process

RESOURCE_LIMIT = 10_000
"""Distinct resources counted per step; more are lumped together."""
NAME_LIMIT = 10_000
"""Distinct unknown activities and deviation kinds kept."""

DEVIATION_KINDS = (
    "wrong-start",
    "unknown-activity",
    "undeclared-transition",
    "max-exceeded",
    "after-end",
    "not-finished",
)


@dataclass(frozen=True)
class Edge:
    """A declared transition, numbered in file order."""

    index: int
    source: str
    trigger: str
    target: str
    p: float | None
    feedback: bool
    max: int | None


class ProcessIndex:
    """Routing tables of a process for fast replay."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.start = process.start
        self.ends = frozenset(s for s, step in process.steps.items() if step.end)
        self.edges: list[Edge] = []
        self.between: dict[tuple[str, str], tuple[Edge, ...]] = {}
        self.to_end: dict[str, tuple[Edge, ...]] = {}
        self.out: dict[str, tuple[Edge, ...]] = {}
        for source, transition in process.edges():
            edge = Edge(
                len(self.edges),
                source,
                transition.trigger,
                transition.to,
                transition.p,
                transition.feedback,
                transition.max,
            )
            self.edges.append(edge)
            key = (source, transition.to)
            self.between[key] = (*self.between.get(key, ()), edge)
            self.out[source] = (*self.out.get(source, ()), edge)
            if transition.to in self.ends:
                self.to_end[source] = (*self.to_end.get(source, ()), edge)


class CaseState:
    """What the replay remembers about one case between its events."""

    __slots__ = (
        "deviation",
        "events",
        "feedback",
        "first",
        "last_end",
        "last_line",
        "step",
        "uses",
    )

    def __init__(self, first: float) -> None:
        self.step: str | None = None
        self.deviation: tuple[str, str | None, str | None] | None = None
        self.first = first
        self.last_end = -math.inf
        self.last_line = 0
        self.events = 0
        self.feedback = False
        self.uses: dict[int, int] | None = None


@dataclass
class StepMeasure:
    """What was observed of one step."""

    visits: int = 0
    service: Sample = field(default_factory=lambda: Sample(1))
    wait: Sample = field(default_factory=lambda: Sample(2))
    elapsed: Sample = field(default_factory=lambda: Sample(3))
    resources: Counter[str] = field(default_factory=Counter)
    departures: int = 0
    """Times a case left the step by a declared transition (observed or inferred at the end)."""
    other_departures: int = 0
    """Times a case left the step to somewhere the process does not declare."""


@dataclass
class Measurements:
    """Everything one pass over a log learned about a process."""

    index: ProcessIndex
    path: str
    steps: dict[str, StepMeasure]
    edge_counts: list[int]
    cases: int = 0
    events: int = 0
    conforming: int = 0
    unknown_events: int = 0
    with_start: int = 0
    overlaps: int = 0
    rework_cases: int = 0
    unknown_activities: Counter[str] = field(default_factory=Counter)
    deviations: Counter[tuple[str, str | None, str | None]] = field(default_factory=Counter)
    examples: dict[tuple[str, str | None, str | None], str] = field(default_factory=dict)
    cycle_time: Sample = field(default_factory=lambda: Sample(4))
    interarrival: Sample = field(default_factory=lambda: Sample(5))
    first_time: float = math.inf
    last_time: float = -math.inf
    case_starts: int = 0

    @property
    def process(self) -> Process:
        return self.index.process

    @property
    def period(self) -> float:
        """Seconds between the first and the last timestamp of the log."""
        return self.last_time - self.first_time if self.events else 0.0

    @property
    def has_starts(self) -> bool:
        """Whether most events carry a start time (service times are measured)."""
        return self.with_start * 2 > self.events

    def flush(self) -> None:
        for measure in self.steps.values():
            measure.service.flush()
            measure.wait.flush()
            measure.elapsed.flush()
        self.cycle_time.flush()
        self.interarrival.flush()


def replay(process: Process, events: Iterable[Event], path: str = "<log>") -> Measurements:
    """Replay ``events`` (in file order) on ``process``; see the module docstring."""
    index = ProcessIndex(process)
    match = StepMatcher(process)
    steps = {step_id: StepMeasure() for step_id in process.steps}
    result = Measurements(index, path, steps, [0] * len(index.edges))
    edge_counts = result.edge_counts
    between = index.between
    ends = index.ends
    start_step = index.start
    cases: dict[str, CaseState] = {}
    unknown = result.unknown_activities
    total = 0
    with_start = 0
    overlaps = 0
    unknown_events = 0
    first_time = math.inf
    last_time = -math.inf

    for event in events:
        total += 1
        if not total & (BLOCK - 1):
            result.flush()
        case = event.case
        end = event.end
        start = event.start
        state = cases.get(case)
        if state is None:
            state = CaseState(end if start is None else start)
            cases[case] = state
            previous = None
        else:
            if end < state.last_end:
                raise EventLogError(
                    path,
                    f"events out of order: case {case!r} ends {event.activity!r} at "
                    f"{_iso(end)}, before its previous event (line {state.last_line}) at "
                    f"{_iso(state.last_end)}; sort the log by case and time, or use --sort",
                    event.line or None,
                )
            previous = state.step
        if end > last_time:
            last_time = end
        step = match(event.activity)
        if step is None:
            unknown_events += 1
            if len(unknown) < NAME_LIMIT or event.activity in unknown:
                unknown[event.activity] += 1
            if state.deviation is None:
                state.deviation = ("unknown-activity", previous, event.activity)
        else:
            measure = steps[step]
            measure.visits += 1
            if start is not None:
                with_start += 1
                measure.service.add(end - start)
                if start < first_time:
                    first_time = start
                if state.events:
                    wait = start - state.last_end
                    if wait < 0:
                        overlaps += 1
                        wait = 0.0
                    measure.wait.add(wait)
            elif end < first_time:
                first_time = end
            if state.events:
                measure.elapsed.add(end - state.last_end)
            resource = event.resource
            if resource is not None:
                counter = measure.resources
                if len(counter) < RESOURCE_LIMIT or resource in counter:
                    counter[resource] += 1
                else:
                    counter["(others)"] += 1
            if previous is None:
                if state.events == 0 and step != start_step and state.deviation is None:
                    state.deviation = ("wrong-start", None, step)
            elif previous in ends:
                if state.deviation is None:
                    state.deviation = ("after-end", previous, step)
                steps[previous].other_departures += 1
            else:
                candidates = between.get((previous, step))
                taken = None
                if candidates is not None:
                    for edge in candidates:
                        if edge.max is not None:
                            uses = state.uses
                            if uses is None:
                                uses = state.uses = {}
                            used = uses.get(edge.index, 0)
                            if used >= edge.max:
                                continue
                            uses[edge.index] = used + 1
                        taken = edge
                        break
                if taken is not None:
                    edge_counts[taken.index] += 1
                    steps[previous].departures += 1
                    if taken.feedback:
                        state.feedback = True
                else:
                    steps[previous].other_departures += 1
                    if state.deviation is None:
                        kind = "undeclared-transition" if candidates is None else "max-exceeded"
                        state.deviation = (kind, previous, step)
            state.step = step
        state.events += 1
        state.last_end = end
        state.last_line = event.line

    result.events = total
    result.with_start = with_start
    result.overlaps = overlaps
    result.unknown_events = unknown_events
    result.first_time = first_time if total else math.nan
    result.last_time = last_time if total else math.nan
    _finish(result, cases)
    return result


def _finish(result: Measurements, cases: dict[str, CaseState]) -> None:
    """Close every case: infer final transitions into end steps, collect per-case figures."""
    index = result.index
    steps = result.steps
    deviations = result.deviations
    examples = result.examples
    cycle = result.cycle_time.add
    firsts: list[float] = []
    for case, state in cases.items():
        step = state.step
        if step is not None and step not in index.ends:
            finished = False
            for edge in index.to_end.get(step, ()):
                if edge.max is not None and (state.uses or {}).get(edge.index, 0) >= edge.max:
                    continue
                result.edge_counts[edge.index] += 1
                steps[step].departures += 1
                steps[edge.target].visits += 1
                if edge.feedback:
                    state.feedback = True
                finished = True
                break
            if not finished and state.deviation is None:
                state.deviation = ("not-finished", step, None)
        elif step is None and state.deviation is None:  # only unknown activities
            state.deviation = ("unknown-activity", None, None)
        deviation = state.deviation
        if deviation is None:
            result.conforming += 1
        elif deviation in deviations or len(deviations) < NAME_LIMIT:
            deviations[deviation] += 1
            examples.setdefault(deviation, case)
        if state.feedback:
            result.rework_cases += 1
        cycle(state.last_end - state.first)
        firsts.append(state.first)
    result.cases = len(cases)
    firsts.sort()
    gaps = result.interarrival.add
    for before, after in pairwise(firsts):
        gaps(after - before)
    result.case_starts = len(firsts)
    result.flush()


def _iso(seconds: float) -> str:
    from procflow.eventlog.timestamps import to_datetime

    try:
        return to_datetime(seconds).isoformat()
    except (OverflowError, OSError, ValueError):
        return f"{seconds:g}s"
