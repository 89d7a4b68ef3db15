"""Replay an event log on a process, in one streamed pass: :func:`replay`.

Every event is matched to a step (:mod:`~procflow.eventlog.matching`) and
moved along the process graph of its case, from ``start``. What is checked:

* the first event of a case must be the ``start`` step (else *wrong-start*);
* every next event must be a declared transition from the case's current
  step, and a bounded edge (``max``) may be taken at most ``max`` times per
  case (else *undeclared-transition* or *max-exceeded*);
* activities that match no step are *unknown-activity* (the case stays at
  its step); events after an end step are *after-end*;
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

Branching under ``max``: docs/file-format.md#transitions skips a bounded edge once a case has used
it up and renormalizes the remaining ``p``, so a departure made after that
is not a draw from the declared ``p``. Each transition is therefore counted
twice: every time it was taken (:attr:`Measurements.edge_counts`), and only
at *free* departures, those where every bounded edge of the step was still
available to the case (:attr:`Measurements.free_counts`). Whether a
departure is free depends only on the case's past, never on the choice made
there, so the free departures are a plain multinomial sample of the
declared ``p``: their shares estimate it without bias, and a binomial
(Wilson) interval per transition applies. The departures left out carry
information only when at least two transitions remain available; using them
would need a choice model fitted iteratively (maximum likelihood of
``p_e / sum of p over the available set``), for a small gain on
rare step shapes, and would lose the simple per-transition interval.

How: the log arrives in :class:`~procflow.eventlog.batch.Batch` columns.
Case ids, activities and resources that come as
:class:`~procflow.eventlog.batch.Labels` (the CSV reader's unquoted chunks)
are looked up once per distinct value, not once per event. Each batch is
sorted by case (stably, so each case keeps its file order) and then handled
with numpy a column at a time; only events on bounded or parallel
transitions, whose outcome depends on the case's earlier uses, are walked
one by one.

Memory: events are never stored. Each case seen keeps a fixed row of
numbers and its id in a dictionary (about 300 bytes in all, measured) until
the end of the log, because a case's events may be interleaved with others' anywhere in
the file; the duration summaries are fixed-size
(:class:`~procflow.eventlog.stats.Sample`). Within a case, events must come
in time order (by completion); a case going back in time is an error naming
both lines, because silently re-ordering would need the whole log in memory.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from typing import ClassVar

import numpy as np

from procflow.compiled import CompiledProcess, Edge
from procflow.errors import EventLogError
from procflow.eventlog.batch import Batch, Labels, batches_of
from procflow.eventlog.events import Event
from procflow.eventlog.matching import StepMatcher
from procflow.eventlog.stats import Sample
from procflow.eventlog.tokens import CaseTokens, Tokens, silent_steps
from procflow.model import Process

RESOURCE_LIMIT = 100_000
"""Distinct (step, resource) pairs counted; later newcomers are lumped as '(others)'."""
NAME_LIMIT = 10_000
"""Distinct unknown activities named in reports."""

DEVIATION_KINDS = (
    "wrong-start",
    "unknown-activity",
    "undeclared-transition",
    "max-exceeded",
    "after-end",
    "not-finished",
    "skipped-branch",
    "incomplete-branch",
)
_KIND = {name: number for number, name in enumerate(DEVIATION_KINDS, start=1)}


class ProcessIndex:
    """Routing tables of a process for fast replay (steps and edges numbered in file order).

    Read from the process's :class:`~procflow.compiled.CompiledProcess`:
    edges are its :class:`~procflow.compiled.Edge` values (``number`` is
    their position, ``source``/``target`` step indices, ``to`` the target's
    id); the dictionaries here key them by step id, as events name steps.
    """

    def __init__(self, process: Process) -> None:
        compiled = CompiledProcess.of(process)
        self.process = process
        self.compiled = compiled
        self.start = process.start
        self.step_ids: list[str] = list(compiled.steps)
        self.number: Mapping[str, int] = compiled.index
        self.ends = frozenset(compiled.steps[u] for u in compiled.ends)
        self.is_end = np.array(compiled.end, dtype=bool)
        self.edges: list[Edge] = list(compiled.edges)
        self.between: dict[tuple[str, str], tuple[Edge, ...]] = {}
        self.to_end: dict[str, tuple[Edge, ...]] = {}
        self.out: dict[str, tuple[Edge, ...]] = {}
        for edge in self.edges:
            source = compiled.steps[edge.source]
            key = (source, edge.to)
            self.between[key] = (*self.between.get(key, ()), edge)
            self.out[source] = (*self.out.get(source, ()), edge)
            if edge.to in self.ends:
                self.to_end[source] = (*self.to_end.get(source, ()), edge)
        size = len(self.step_ids)
        # route[a, b]: the one unbounded edge a -> b (>= 0), none (-1), several (-2: walked
        # one by one), or the one bounded edge k (-10 - k: counted per case)
        self.route = np.full((size, size), -1, dtype=np.int64)
        for (source, target), edges in self.between.items():
            if source not in self.number or target not in self.number:
                continue
            if len(edges) > 1:
                code = -2
            elif edges[0].max is None:
                code = edges[0].number
            else:
                code = -10 - edges[0].number
            self.route[self.number[source], self.number[target]] = code
        # through[a, b]: the edge w -> b of a silent step w between a and b (-1: none)
        self.through = np.full((size, size), -1, dtype=np.int64)
        self._contract_silent(process, compiled)
        self.bounded = {e.number: k for k, e in enumerate(e for e in self.edges if e.max)}
        bounded_edges = [e for e in self.edges if e.max]
        # per slot (bounded edge): its source step and its max
        self.slot_source = np.array([e.source for e in bounded_edges], dtype=np.int64)
        self.slot_limit = np.array([e.max or 0 for e in bounded_edges], dtype=np.int64)
        # guarded[a]: step a has a bounded edge, so its departures are free only while unused up
        self.guarded = np.zeros(size, dtype=bool)
        self.guarded[self.slot_source] = True
        self.edge_source = np.array([e.source for e in self.edges], dtype=np.int64)
        self.slot = np.array([self.bounded.get(e.number, -1) for e in self.edges], dtype=np.int64)
        self.limit = np.array([e.max or 0 for e in self.edges], dtype=np.int64)
        self.feedback = np.array([e.feedback for e in self.edges] + [False], dtype=bool)
        # the end edge a case at each step takes when the log stops there (-1: none, -2: per case)
        self.final = np.full(size, -1, dtype=np.int64)
        for source, edges in self.to_end.items():
            first = edges[0]
            self.final[self.number[source]] = first.number if first.max is None else -2

    def _contract_silent(self, process: Process, compiled: CompiledProcess) -> None:
        """Let a log skip silent steps: ``a -> w -> b`` replays as ``a -> b`` when ``a -> b``
        is not declared itself (see :func:`silent_steps`).

        The event of ``b`` then arrives by the edge ``a -> w`` (``route``) and
        the edge ``w -> b`` is counted beside it (``through``), as a gateway
        fork or join is passed without an event of its own.
        """
        for w, edge in silent_steps(process, compiled).items():
            for a in range(len(self.step_ids)):
                code = int(self.route[a, w])
                if code == -1 or code == -2 or self.route[a, edge.target] != -1:
                    continue
                self.route[a, edge.target] = code
                self.through[a, edge.target] = edge.number


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
    free_departures: int = 0
    """Of those, the departures at which every bounded transition of the step was still
    available to the case (all of them at a step without ``max``): the ones that follow
    the declared ``p``."""
    other_departures: int = 0
    """Times a case left the step to somewhere the process does not declare."""


@dataclass
class Measurements:
    """Everything one pass over a log learned about a process."""

    index: ProcessIndex
    path: str
    steps: dict[str, StepMeasure]
    edge_counts: list[int]
    """Times each edge (by :attr:`Edge.number`) was taken."""
    free_counts: list[int]
    """Times each edge was taken at a free departure (every bounded edge of its step still
    available): the counts that estimate the declared ``p``."""
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


class _Cases:
    """Per-case state as growable numpy columns, indexed by case number (first seen, first)."""

    step: np.ndarray
    last_end: np.ndarray
    first: np.ndarray
    events: np.ndarray
    last_line: np.ndarray
    kind: np.ndarray
    source: np.ndarray
    target: np.ndarray
    feedback: np.ndarray

    #: column -> (fill value, dtype)
    COLUMNS: ClassVar[dict[str, tuple[float | int | bool, type]]] = {
        "step": (-1, np.int64),  # the last known step (-1: none yet)
        "last_end": (-np.inf, np.float64),
        "first": (np.nan, np.float64),
        "events": (0, np.int64),
        "last_line": (0, np.int64),
        "kind": (0, np.int8),  # the first deviation (0: none)
        "source": (-1, np.int64),
        "target": (-1, np.int64),
        "feedback": (False, np.bool_),
    }

    def __init__(self, bounded: int) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []
        self.bounded = bounded
        self.size = 1024
        for name, (fill, dtype) in self.COLUMNS.items():
            setattr(self, name, np.full(self.size, fill, dtype=dtype))
        self.uses = np.zeros((self.size, bounded), dtype=np.int32)

    def _grow(self, needed: int) -> None:
        size = self.size
        while size < needed:
            size *= 2
        for name, (fill, dtype) in self.COLUMNS.items():
            column: np.ndarray = np.full(size, fill, dtype=dtype)
            column[: self.size] = getattr(self, name)
            setattr(self, name, column)
        uses = np.zeros((size, self.bounded), dtype=np.int32)
        uses[: self.size] = self.uses
        self.uses = uses
        self.size = size

    def numbers(self, cases: Sequence[str], distinct: bool = False) -> np.ndarray:
        """Case numbers of a column of case ids, numbering new cases as they come.

        ``distinct``: the ids are all different (the names of :class:`Labels`).
        """
        ids = self.ids
        found = np.fromiter(map(ids.get, cases, repeat(-1)), dtype=np.int64, count=len(cases))
        missing = found < 0
        if missing.any():
            names = self.names
            first = len(names)
            if distinct:
                fresh = list(compress(cases, missing.tolist()))
                found[missing] = np.arange(first, first + len(fresh))
            else:
                unseen = list(compress(cases, missing.tolist()))
                fresh = list(dict.fromkeys(unseen))  # first appearance order, once each
            ids.update(zip(fresh, range(first, first + len(fresh)), strict=True))
            names.extend(fresh)
            if not distinct:
                found[missing] = list(map(ids.__getitem__, unseen))
            if len(names) > self.size:
                self._grow(len(names))
        return found

    def order(self, cases: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(numbers, order)``: the case numbers and the rows sorted by case, stably."""
        if not isinstance(cases, Labels):
            numbers = self.numbers(cases)
            return numbers, np.argsort(numbers, kind="stable")
        # each distinct id looked up once; rows sorted by the rank of their case's number,
        # a small integer, so that numpy's stable sort is a radix sort
        distinct = self.numbers(cases.names, distinct=True)
        rank = np.empty(distinct.size, dtype=np.uint16 if distinct.size <= 1 << 16 else np.int64)
        rank[np.argsort(distinct)] = np.arange(distinct.size)
        return distinct[cases.codes], np.argsort(rank[cases.codes], kind="stable")

    def __len__(self) -> int:
        return len(self.names)


class _Replay:
    """The state of one replay; :meth:`feed` takes batches, :meth:`finish` closes the cases."""

    def __init__(self, process: Process, path: str, numbering: str = "line") -> None:
        self.index = index = ProcessIndex(process)
        self.path = path
        self.numbering = numbering
        self.match = StepMatcher(process)
        self.codes: dict[str, int] = {}
        self.unknown_names: list[str] = []
        self.steps = [StepMeasure() for _ in index.step_ids]
        self.cases = _Cases(len(index.bounded))
        self.edge_counts = np.zeros(len(index.edges), dtype=np.int64)
        self.free_counts = np.zeros(len(index.edges), dtype=np.int64)
        self.visits = np.zeros(len(index.step_ids), dtype=np.int64)
        self.other_departures = np.zeros(len(index.step_ids), dtype=np.int64)
        self.resource_ids: dict[str | None, int] = {None: 0, "": 0}
        self.no_resource = 0
        self.resource_pairs: dict[int, int] = {}
        self.unknown: Counter[str] = Counter()
        self.events = 0
        self.with_start = 0
        self.overlaps = 0
        self.unknown_events = 0
        self.first_time = math.inf
        self.last_time = -math.inf
        self.start_code = index.number.get(process.start, -1)
        # a silent start step (a delay before the first recorded step) may be skipped too
        self.start_edge = silent_steps(process, index.compiled).get(self.start_code)
        # a process with forks is replayed on tokens, event by event (docs/parallel-work.md)
        self.tokens = (
            Tokens(index.compiled, silent_steps(process, index.compiled))
            if index.compiled.has_forks
            else None
        )
        self.token_cases: dict[int, CaseTokens] = {}

    # -- matching --------------------------------------------------------------

    def _codes(self, activities: Sequence[str]) -> np.ndarray:
        """Step number per activity; unknown activities get -2 - (their number)."""
        if isinstance(activities, Labels):  # each distinct name once, in order of appearance
            codes: np.ndarray = self._code(activities.names)[activities.codes]
            return codes
        return self._code(activities)

    def _code(self, activities: Sequence[str]) -> np.ndarray:
        codes = self.codes
        found = np.fromiter(
            map(codes.get, activities, repeat(-1)), dtype=np.int64, count=len(activities)
        )
        missing = np.flatnonzero(found == -1)
        if missing.size:
            number = self.index.number
            for i in missing.tolist():
                activity = activities[i]
                code = codes.get(activity)
                if code is None:
                    step = self.match(activity)
                    if step is not None:
                        code = number[step]
                    else:
                        code = -2 - len(self.unknown_names)
                        self.unknown_names.append(activity)
                    if len(codes) < 1_000_000:
                        codes[activity] = code
                found[i] = code
        return found

    # -- one batch ---------------------------------------------------------------

    def feed(self, batch: Batch) -> None:
        n = len(batch)
        if n == 0:
            return
        cases = self.cases
        number, order = cases.order(batch.cases)
        code = self._codes(batch.activities)
        end = np.asarray(batch.end, dtype=float)
        start = batch.start
        lines = np.asarray(batch.lines, dtype=np.int64)
        self.events += n
        self.last_time = max(self.last_time, float(end.max()))
        if start is not None:
            has_start = ~np.isnan(start)
            self.with_start += int(has_start.sum())
            earliest = np.where(has_start, start, end)
        else:
            earliest = end
        self.first_time = min(self.first_time, float(earliest.min()))

        c = number[order]
        s = code[order]
        e = end[order]
        b = start[order] if start is not None else None
        ln = lines[order]
        positions = np.arange(n)
        head = np.empty(n, dtype=bool)
        head[0] = True
        np.not_equal(c[1:], c[:-1], out=head[1:])
        group_start = np.maximum.accumulate(np.where(head, positions, 0))
        rank = positions - group_start
        before = cases.events[c] + rank  # earlier events of the case, all batches
        prev_end = np.empty(n)
        prev_end[1:] = e[:-1]
        prev_end[head] = cases.last_end[c[head]]
        prev_line = np.empty(n, dtype=np.int64)
        prev_line[1:] = ln[:-1]
        prev_line[head] = cases.last_line[c[head]]

        backwards = np.flatnonzero(e < prev_end)
        if backwards.size:
            at = backwards[np.argmin(order[backwards])]
            self._out_of_order(batch, int(order[at]), float(prev_end[at]), int(prev_line[at]))

        known = s >= 0
        if self.tokens is not None:
            self._walk_tokens(c, s, e, b, known)
            self._case_state(batch, code, c, e, b, ln, head, rank, before)
            return
        has_prev = before > 0
        # the last known step before each event (unknown activities leave the case where it was)
        known_at = np.maximum.accumulate(np.where(known, positions, -1))
        prior = np.empty(n, dtype=np.int64)
        prior[0] = -1
        prior[1:] = known_at[:-1]
        prev_step = np.where(prior >= group_start, s[np.maximum(prior, 0)], cases.step[c])

        self._durations(s, e, b, prev_end, known, has_prev)
        self.visits += np.bincount(s[known], minlength=self.visits.size)

        kind = np.zeros(n, dtype=np.int8)
        source = np.full(n, -1, dtype=np.int64)
        target = s.copy()  # for unknown activities: their code (< -1)
        # unknown activities
        unknown = ~known
        if unknown.any():
            kind[unknown] = _KIND["unknown-activity"]
            source[unknown] = prev_step[unknown]
            self._count_unknown(s[unknown])
        # the first event of a case must be the start step
        wrong = known & (before == 0) & (s != self.start_code)
        if self.start_edge is not None:
            skipped = wrong & (s == self.start_edge.target)
            wrong &= ~skipped
            if skipped.any():
                passes = int(skipped.sum())
                self.edge_counts[self.start_edge.number] += passes
                self.free_counts[self.start_edge.number] += passes
                self.visits[self.start_code] += passes
        kind[wrong] = _KIND["wrong-start"]
        # transitions
        moving = known & (prev_step >= 0)
        if moving.any():
            self._transitions(np.flatnonzero(moving), c, s, prev_step, kind, source, group_start)
        # the first deviation of each case that has none yet
        deviating = np.flatnonzero(kind)
        if deviating.size:
            firsts = deviating[np.unique(c[deviating], return_index=True)[1]]
            fresh = firsts[cases.kind[c[firsts]] == 0]
            cases.kind[c[fresh]] = kind[fresh]
            cases.source[c[fresh]] = source[fresh]
            cases.target[c[fresh]] = target[fresh]

        last = self._case_state(batch, code, c, e, b, ln, head, rank, before)
        known_last = known_at[last]
        moved = known_last >= group_start[last]
        cases.step[c[last[moved]]] = s[known_last[moved]]

    def _case_state(
        self,
        batch: Batch,
        code: np.ndarray,
        c: np.ndarray,
        e: np.ndarray,
        b: np.ndarray | None,
        ln: np.ndarray,
        head: np.ndarray,
        rank: np.ndarray,
        before: np.ndarray,
    ) -> np.ndarray:
        """Keep each case's first start, events, last end and line; count resources.

        Returns the rows that are the last of their case in the batch.
        """
        cases = self.cases
        n = len(c)
        tail = np.empty(n, dtype=bool)
        tail[-1] = True
        tail[:-1] = head[1:]
        last = np.flatnonzero(tail)
        new = head & (before == 0)
        if new.any():
            began = e[new] if b is None else np.where(np.isnan(b[new]), e[new], b[new])
            cases.first[c[new]] = began
        cases.events[c[last]] += rank[last] + 1
        cases.last_end[c[last]] = e[last]
        cases.last_line[c[last]] = ln[last]
        if batch.resources is not None:
            self._count_resources(code, batch.resources)
        return last

    def _walk_tokens(
        self,
        c: np.ndarray,
        s: np.ndarray,
        e: np.ndarray,
        b: np.ndarray | None,
        known: np.ndarray,
    ) -> None:
        """Replay the rows (sorted by case) one by one on tokens (:mod:`.tokens`).

        Each event's elapsed and waiting time are measured from the previous
        event of its own branch, which :meth:`Tokens.move` reports.
        """
        tokens = self.tokens
        assert tokens is not None
        cases = self.cases
        since = np.full(len(c), np.nan)
        edge_counts, free_counts = self.edge_counts, self.free_counts
        feedback = self.index.feedback
        for i, (case, step, end) in enumerate(zip(c.tolist(), s.tolist(), e.tolist(), strict=True)):
            state = self.token_cases.get(case)
            if state is None:
                state = self.token_cases[case] = CaseTokens()
            if step < 0:  # an unknown activity: the case stays where it was
                if cases.kind[case] == 0:
                    latest = max(state.tokens, key=lambda t: t.since, default=None)
                    cases.kind[case] = _KIND["unknown-activity"]
                    cases.source[case] = -1 if latest is None else max(latest.step, -1)
                    cases.target[case] = step
                continue
            move = tokens.move(state, step, end)
            since[i] = move.since
            for number, free in move.edges:
                edge_counts[number] += 1
                if free:
                    free_counts[number] += 1
                if feedback[number]:
                    cases.feedback[case] = True
            for passed in move.passed:
                self.visits[passed] += 1
            if move.kind is not None and cases.kind[case] == 0:
                cases.kind[case] = _KIND[move.kind]
                cases.source[case] = move.source
                cases.target[case] = move.target
        if not known.all():
            self._count_unknown(s[~known])
        self.visits += np.bincount(s[known], minlength=self.visits.size)
        # each time measured within its branch: from the branch's previous event, when known
        self._durations(s, e, b, since, known, ~np.isnan(since))

    def _out_of_order(self, batch: Batch, at: int, previous: float, previous_line: int) -> None:
        case = batch.cases[at]
        line = int(batch.lines[at])
        if self.numbering == "event":  # XES: events are numbered within their trace
            where, row = f"event {previous_line} of the trace", None
            what = f"event {line} of case {case!r} ({batch.activities[at]!r}) ends"
        else:
            where, row = (f"line {previous_line}" if previous_line else "earlier"), line or None
            what = f"case {case!r} ends {batch.activities[at]!r}"
        raise EventLogError(
            self.path,
            f"events out of order: {what} at {_iso(float(batch.end[at]))}, before its "
            f"previous event ({where}) at {_iso(previous)}; sort the log by case and time, "
            "or use --sort",
            row,
        )

    def _durations(
        self,
        s: np.ndarray,
        e: np.ndarray,
        b: np.ndarray | None,
        prev_end: np.ndarray,
        known: np.ndarray,
        has_prev: np.ndarray,
    ) -> None:
        by_step = _ByStep(s, known, self.steps)
        by_step.add("elapsed", known & has_prev, lambda rows: e[rows] - prev_end[rows])
        if b is None:
            return
        started = known & ~np.isnan(b)
        by_step.add("service", started, lambda rows: e[rows] - b[rows])

        def wait(rows: np.ndarray) -> np.ndarray:
            wait = b[rows] - prev_end[rows]
            negative = wait < 0
            self.overlaps += int(negative.sum())
            clipped: np.ndarray = np.where(negative, 0.0, wait)
            return clipped

        by_step.add("wait", started & has_prev, wait)

    def _transitions(
        self,
        at: np.ndarray,
        c: np.ndarray,
        s: np.ndarray,
        prev_step: np.ndarray,
        kind: np.ndarray,
        source: np.ndarray,
        group_start: np.ndarray,
    ) -> None:
        """Count the transitions into the events at ``at`` (rows sorted by case)."""
        index = self.index
        frm = prev_step[at]
        to = s[at]
        source[at] = frm
        watched = np.flatnonzero(index.guarded[frm]) if index.bounded else None
        # the uses of the watched departures' cases as the batch begins (before any is counted)
        uses_before = self.cases.uses[c[at[watched]]] if watched is not None else None
        after_end = index.is_end[frm]
        if after_end.any():
            kind[at[after_end]] = _KIND["after-end"]
            np.add.at(self.other_departures, frm[after_end], 1)
        route = np.where(after_end, -3, index.route[frm, to])
        taken = np.maximum(route, -1)  # the edge each event arrived by (-1: none yet)
        undeclared = route == -1
        if undeclared.any():
            kind[at[undeclared]] = _KIND["undeclared-transition"]
            np.add.at(self.other_departures, frm[undeclared], 1)
        uses: list[tuple[np.ndarray, np.ndarray]] = []  # (rows, slots) of bounded edges taken
        bounded = np.flatnonzero(route <= -10)
        if bounded.size:
            uses.append(self._bounded(at, bounded, -10 - route[bounded], c, frm, kind, taken))
        parallel = np.flatnonzero(route == -2)
        if parallel.size:  # parallel edges: in case order
            uses.append(self._step_by_step(at, parallel, c, frm, to, kind, taken))
        declared = taken[taken >= 0]
        counts = np.bincount(declared, minlength=self.edge_counts.size)
        passed = index.through[frm, to][taken >= 0]
        passed = passed[passed >= 0]
        if passed.size:  # silent steps passed on the way: their edges, and a visit each
            counts += np.bincount(passed, minlength=counts.size)
            edge_source = index.edge_source[passed]
            self.visits += np.bincount(edge_source, minlength=self.visits.size)
        self.edge_counts += counts
        if watched is not None and watched.size:
            assert uses_before is not None
            spent = watched[self._spent_before(at, watched, uses_before, uses, frm, group_start)]
            spent = taken[spent]
            counts -= np.bincount(spent[spent >= 0], minlength=counts.size)
        self.free_counts += counts
        rework = index.feedback[taken]  # (index -1: the extra False at the end)
        if rework.any():
            self.cases.feedback[c[at[rework]]] = True

    def _spent_before(
        self,
        at: np.ndarray,
        watched: np.ndarray,
        uses_before: np.ndarray,
        uses: list[tuple[np.ndarray, np.ndarray]],
        frm: np.ndarray,
        group_start: np.ndarray,
    ) -> np.ndarray:
        """Which ``watched`` departures (from steps with bounded edges) were *not* free.

        Free: every bounded edge of the step had been used fewer than ``max`` times by
        the case *before* this departure -- its uses as the batch began plus its uses
        earlier in the batch. Rows are sorted by case, so the uses earlier in the same
        case are those between the case's first row and this one: two binary searches
        in the sorted rows of each bounded edge's uses.
        """
        index = self.index
        spent = np.zeros(watched.size, dtype=bool)
        rows = np.concatenate([r for r, _ in uses]) if uses else np.empty(0, dtype=np.int64)
        slots = np.concatenate([k for _, k in uses]) if uses else np.empty(0, dtype=np.int64)
        steps = frm[watched]
        for slot, step in enumerate(index.slot_source.tolist()):
            mine = np.flatnonzero(steps == step)
            if not mine.size:
                continue
            used = uses_before[mine, slot]
            batch_uses = np.sort(rows[slots == slot])
            if batch_uses.size:
                here = at[watched[mine]]
                used = used + (
                    np.searchsorted(batch_uses, here)
                    - np.searchsorted(batch_uses, group_start[here])
                )
            spent[mine] |= used >= index.slot_limit[slot]
        return spent

    def _bounded(
        self,
        at: np.ndarray,
        which: np.ndarray,
        edges: np.ndarray,
        c: np.ndarray,
        frm: np.ndarray,
        kind: np.ndarray,
        taken: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Events ``at[which]`` on a pair of steps joined by one bounded edge: allowed while
        uses < max. Returns the rows and slots of the uses counted."""
        index = self.index
        rows = at[which]
        cases = c[rows]
        slots = index.slot[edges]
        key = cases * max(len(index.bounded), 1) + slots
        order = np.argsort(key, kind="stable")  # each (case, edge) in file order
        ordered = key[order]
        head = np.empty(ordered.size, dtype=bool)
        head[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=head[1:])
        positions = np.arange(ordered.size)
        earlier = positions - np.maximum.accumulate(np.where(head, positions, 0))
        used = self.cases.uses[cases[order], slots[order]] + earlier
        allowed = np.empty(ordered.size, dtype=bool)
        allowed[order] = used < index.limit[edges[order]]
        if allowed.any():
            taken[which[allowed]] = edges[allowed]
            np.add.at(self.cases.uses, (cases[allowed], slots[allowed]), 1)
        refused = ~allowed
        if refused.any():
            kind[rows[refused]] = _KIND["max-exceeded"]
            np.add.at(self.other_departures, frm[which[refused]], 1)
        return rows[allowed], slots[allowed]

    def _step_by_step(
        self,
        at: np.ndarray,
        which: np.ndarray,
        c: np.ndarray,
        frm: np.ndarray,
        to: np.ndarray,
        kind: np.ndarray,
        taken: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Events ``at[which]`` between steps joined by several edges: the first edge in file
        order that is still allowed. Returns the rows and slots of the bounded uses."""
        index = self.index
        uses = self.cases.uses
        rows: list[int] = []
        slots: list[int] = []
        for i in which.tolist():
            position = int(at[i])
            case = int(c[position])
            pair = (index.step_ids[int(frm[i])], index.step_ids[int(to[i])])
            for edge in index.between[pair]:
                if edge.max is not None:
                    slot = index.bounded[edge.number]
                    if uses[case, slot] >= edge.max:
                        continue
                    uses[case, slot] += 1
                    rows.append(position)
                    slots.append(slot)
                taken[i] = edge.number
                break
            else:
                kind[position] = _KIND["max-exceeded"]
                self.other_departures[int(frm[i])] += 1
        return np.array(rows, dtype=np.int64), np.array(slots, dtype=np.int64)

    def _count_unknown(self, codes: np.ndarray) -> None:
        self.unknown_events += int(codes.size)
        names = self.unknown_names
        values, counts = np.unique(codes, return_counts=True)
        for code, count in zip(values.tolist(), counts.tolist(), strict=True):
            name = names[-2 - code]
            if name in self.unknown or len(self.unknown) < NAME_LIMIT:
                self.unknown[name] += count

    def _count_resources(self, code: np.ndarray, resources: Sequence[str | None]) -> None:
        """Count (step, resource) pairs with numpy: resources are numbered like cases."""
        if isinstance(resources, Labels):
            # each distinct name looked up once; the pairs counted on the batch's own small
            # numbers (a bincount), then turned into the log's
            numbers = self._resource_numbers(resources.names)
            distinct = len(resources.names)
            wanted = (code >= 0) & (numbers[resources.codes] != self.no_resource)
            local = np.bincount(
                code[wanted] * distinct + resources.codes[wanted],
                minlength=len(self.steps) * distinct,
            )
            seen = np.flatnonzero(local)
            steps, names = np.divmod(seen, distinct)
            pairs = steps * (RESOURCE_LIMIT + 2) + numbers[names]
            weights = local[seen]
        else:
            found = self._resource_numbers(resources)
            wanted = (code >= 0) & (found != self.no_resource)
            pairs = code[wanted] * (RESOURCE_LIMIT + 2) + found[wanted]
            weights = None
        values, inverse = np.unique(pairs, return_inverse=True)
        counts = np.bincount(inverse.ravel(), weights=weights, minlength=values.size)
        total = self.resource_pairs
        for pair, count in zip(values.tolist(), counts.astype(np.int64).tolist(), strict=True):
            total[pair] = total.get(pair, 0) + count

    def _resource_numbers(self, resources: Sequence[str | None]) -> np.ndarray:
        ids = self.resource_ids
        found = np.fromiter(
            map(ids.get, resources, repeat(-1)), dtype=np.int64, count=len(resources)
        )
        missing = np.flatnonzero(found < 0)
        if missing.size:
            for i in missing.tolist():
                name = resources[i]
                number = ids.get(name)
                if number is None:
                    if len(ids) >= RESOURCE_LIMIT:
                        number = ids.setdefault("(others)", len(ids))
                    else:
                        number = ids[name] = len(ids)
                found[i] = number
        return found

    # -- closing ---------------------------------------------------------------

    def finish(self) -> Measurements:
        cases = self.cases
        count = len(cases)
        kind = cases.kind[:count]
        source = cases.source[:count]
        target = cases.target[:count]
        if self.tokens is not None:
            self._close_tokens(kind, source, target)
        else:
            self._close_cases(count, kind, source, target)
        return self._measurements(count, kind, source, target)

    def _close_tokens(self, kind: np.ndarray, source: np.ndarray, target: np.ndarray) -> None:
        """At the end of the log, each case's open branches and its last step (tokens)."""
        tokens = self.tokens
        assert tokens is not None
        for case, state in self.token_cases.items():
            move = tokens.finish(state)
            for number, free in move.edges:
                self.edge_counts[number] += 1
                if free:
                    self.free_counts[number] += 1
                if self.index.feedback[number]:
                    self.cases.feedback[case] = True
            for passed in move.passed:
                self.visits[passed] += 1
            if move.kind is not None and kind[case] == 0:
                kind[case] = _KIND[move.kind]
                source[case] = move.source
                target[case] = move.target

    def _close_cases(
        self, count: int, kind: np.ndarray, source: np.ndarray, target: np.ndarray
    ) -> None:
        """At the end of the log, the transition into an end step of each open case."""
        index = self.index
        cases = self.cases
        step = cases.step[:count]
        at_step = step >= 0
        open_ = np.flatnonzero(at_step & ~index.is_end[np.maximum(step, 0)])
        final = index.final[step[open_]]
        simple = final >= 0
        closing = open_[simple]
        edges = final[simple]
        counts = np.bincount(edges, minlength=self.edge_counts.size)
        self.edge_counts += counts
        if index.bounded:  # free: no bounded edge of the step used up by the case
            guarded = index.guarded[step[closing]]
            spent = self._spent(closing[guarded], step[closing[guarded]])
            counts -= np.bincount(edges[guarded][spent], minlength=counts.size)
        self.free_counts += counts
        targets = np.array([e.target for e in index.edges], dtype=np.int64)
        if edges.size:  # (edges into end steps: their targets exist)
            np.add.at(self.visits, targets[edges], 1)
            cases.feedback[closing[index.feedback[edges]]] = True
        stuck = list(open_[final == -1])
        for case in open_[final == -2].tolist():  # the end edges are bounded: check the uses
            if not self._close_step_by_step(case):
                stuck.append(case)
        stuck_array = np.asarray(stuck, dtype=np.int64)
        undecided = stuck_array[kind[stuck_array] == 0] if stuck_array.size else stuck_array
        kind[undecided] = _KIND["not-finished"]
        source[undecided] = step[undecided]
        target[undecided] = -1

    def _measurements(
        self, count: int, kind: np.ndarray, source: np.ndarray, target: np.ndarray
    ) -> Measurements:
        index = self.index
        cases = self.cases
        result = Measurements(
            index,
            self.path,
            {},
            self.edge_counts.tolist(),
            self.free_counts.tolist(),
        )
        size = len(index.step_ids)
        departures = np.bincount(index.edge_source, self.edge_counts, minlength=size)
        free = np.bincount(index.edge_source, self.free_counts, minlength=size)
        for i, step_id in enumerate(index.step_ids):
            measure = self.steps[i]
            measure.visits = int(self.visits[i])
            measure.departures = int(departures[i])
            measure.free_departures = int(free[i])
            measure.other_departures = int(self.other_departures[i])
            result.steps[step_id] = measure
        names: dict[int, str] = {}
        for name, number in self.resource_ids.items():
            if name:
                names.setdefault(number, name)
        for pair, n in self.resource_pairs.items():
            step_number, resource = divmod(pair, RESOURCE_LIMIT + 2)
            self.steps[step_number].resources[names[resource]] += n
        result.cases = count
        result.events = self.events
        result.with_start = self.with_start
        result.overlaps = self.overlaps
        result.unknown_events = self.unknown_events
        result.unknown_activities = self.unknown
        result.first_time = self.first_time if self.events else math.nan
        result.last_time = self.last_time if self.events else math.nan
        result.conforming = int((kind == 0).sum())
        result.rework_cases = int(cases.feedback[:count].sum())
        self._group_deviations(result, kind, source, target)
        result.cycle_time.extend(cases.last_end[:count] - cases.first[:count])
        firsts = np.sort(cases.first[:count])
        if firsts.size > 1:
            result.interarrival.extend(np.diff(firsts))
        result.case_starts = count
        result.flush()
        return result

    def _spent(self, cases: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Whether each case has used up a bounded edge of the matching step."""
        index = self.index
        spent = np.zeros(cases.size, dtype=bool)
        for slot, step in enumerate(index.slot_source.tolist()):
            mine = steps == step
            if mine.any():
                spent[mine] |= self.cases.uses[cases[mine], slot] >= index.slot_limit[slot]
        return spent

    def _close_step_by_step(self, case: int) -> bool:
        index = self.index
        number = int(self.cases.step[case])
        step_id = index.step_ids[number]
        spent = self._spent(np.array([case]), np.array([number]))
        for edge in index.to_end.get(step_id, ()):
            if edge.max is not None:
                slot = index.bounded[edge.number]
                if self.cases.uses[case, slot] >= edge.max:
                    continue
            self.edge_counts[edge.number] += 1
            if not spent[0]:
                self.free_counts[edge.number] += 1
            self.visits[edge.target] += 1
            if edge.feedback:
                self.cases.feedback[case] = True
            return True
        return False

    def _group_deviations(
        self, result: Measurements, kind: np.ndarray, source: np.ndarray, target: np.ndarray
    ) -> None:
        deviating = np.flatnonzero(kind)
        if not deviating.size:
            return
        keys = np.stack([kind[deviating].astype(np.int64), source[deviating], target[deviating]])
        unique, first, counts = np.unique(keys, axis=1, return_index=True, return_counts=True)
        names = self.index.step_ids
        for column in range(unique.shape[1]):
            k, frm, to = (int(v) for v in unique[:, column])
            label = DEVIATION_KINDS[k - 1]
            from_name = names[frm] if frm >= 0 else None
            if to >= 0:
                to_name: str | None = names[to]
            elif to <= -2:
                to_name = self.unknown_names[-2 - to]
            else:
                to_name = None
            key = (label, from_name, to_name)
            result.deviations[key] += int(counts[column])
            result.examples.setdefault(key, self.cases.names[int(deviating[first[column]])])


class _ByStep:
    """The rows of a batch by step, stably: how each step's samples receive their values."""

    def __init__(self, s: np.ndarray, known: np.ndarray, steps: list[StepMeasure]) -> None:
        self.s = s
        self.steps = steps
        key = np.where(known, s, -1)  # unknown activities first, never chosen
        small = np.int16 if len(steps) < 1 << 15 else np.int64  # int16: a radix sort
        self.order = np.argsort(key.astype(small), kind="stable")

    def add(
        self, which: str, chosen: np.ndarray, values_of: Callable[[np.ndarray], np.ndarray]
    ) -> None:
        """Append ``values_of(rows)`` of the ``chosen`` rows to their step's ``which`` sample."""
        rows = self.order[chosen[self.order]]
        if not rows.size:
            return
        counts = np.bincount(self.s[rows], minlength=len(self.steps))
        ends = np.cumsum(counts)
        values = values_of(rows)
        present = np.flatnonzero(counts)
        for number, low, high in zip(
            present.tolist(), (ends - counts)[present].tolist(), ends[present].tolist(), strict=True
        ):
            sample: Sample = getattr(self.steps[number], which)
            sample.extend(values[low:high])


def replay(process: Process, log: Iterable[Event], path: str = "<log>") -> Measurements:
    """Replay a log (an event log, batches or events, in file order) on ``process``."""
    numbering = "event" if getattr(log, "format", "csv") == "xes" else "line"
    state = _Replay(process, path, numbering)
    for batch in batches_of(log):
        state.feed(batch)
    return state.finish()


def _iso(seconds: float) -> str:
    from procflow.eventlog.timestamps import to_datetime

    try:
        return to_datetime(seconds).isoformat()
    except (OverflowError, OSError, ValueError):
        return f"{seconds:g}s"
