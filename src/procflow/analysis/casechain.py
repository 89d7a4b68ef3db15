"""Exact visits when the tokens of a fork share ``max:`` counters: one token at a time.

Why it is exact (docs/parallel-work.md, "Bounds the tokens share")
-----------------------------------------------------------------
The routing chain of :mod:`~procflow.analysis.routing` follows each token of
a fork on its own, with the counters it forked with; the simulators keep
*one* set of counters per case. Where two tokens of a case can move the
same counter (:func:`~procflow.analysis.routing.shared_bounds`) the two
part, and which token reaches the shared edge first depends on timing.

For ``join: all`` the order does not matter. A counter belongs to one
edge, and only its source step ever reads or raises it: the routing of a
step depends on nothing but the step, the counters of its own edges and a
fresh draw. Give every step a stack of draws, its ``k``-th routing taking
the ``k``-th draw (that is how the simulators draw: one stream per step).
Each step is then a machine that maps the ``k``-th token it routes to a
target fixed by its own stack alone, and a ``join: all`` fires once per
``k`` arrivals of its fork instance: a network of such local machines is
*abelian* (Diaconis and Fulton's stack model; Bond and Levine, "Abelian
networks"), so every complete run over the same stacks routes each step the
same number of times, in whatever order the tokens move. The visits per
step are a function of the stacks, not of the interleaving, and so is
their distribution.

So one interleaving is as good as any: this module moves a case's tokens
**one at a time, in a fixed order**, with one set of counters -- always the
token at the step that comes first in a topological order of the step
graph's components. That is a Markov chain on (the case's tokens as a tree
of open fork instances, the counters), built breadth first over the
reachable states and solved block by block
(``procflow.analysis.routing.solve_visits``). A token reaching its
fork instance's join waits there (the instance counts the arrivals); the
last one to arrive becomes the join's token. A counter whose edge no token
can reach any more is reset to 0; with the order above every token leaves a
loop before any goes past it, so shared loops in a row add states instead
of multiplying them.

``join: first`` is different: a race withdraws the losing branches part
way, after they may have moved a shared counter, so how far they got --
timing -- decides the visits. A shared bound inside a race is left to the
per-token chain, labelled approximate, as are chains beyond the state
limit (:func:`case_chain` returns the reason instead of a chain).

:func:`~procflow.analysis.routing.build_chain` makes a ``Chain`` of the
states like the per-token one, with ``per_case`` set: a state is a visit of
the step its moving token is at, and state visits, rework and block order
mean the same. A fork's move starts all its branches; ``Chain.also`` lists
its edges to the branches after the first, so flows per edge count every
token move. (This module reads the compiled process only: routing imports
it, not the other way round.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from procflow.compiled import CompiledProcess
from procflow.digraph import strongly_connected


class _Abandon(Exception):
    """The process has a shape the sequential chain does not follow (the gate's business)."""


class DeadEnd(Exception):
    """A case reaches ``step`` when its tokens together have used up every edge out of it."""

    def __init__(self, step: int) -> None:
        super().__init__(step)
        self.step = step


@dataclass(frozen=True)
class _Tables:
    """The step graph as columns: step ``u``'s edges are ``first[u]`` to ``first[u+1]``."""

    first: Sequence[int]
    target: list[int]
    weight: list[float | None]
    bound: list[int | None]
    end: Sequence[bool]
    fork: Sequence[bool]
    start: int

    @classmethod
    def of(cls, compiled: CompiledProcess) -> _Tables:
        edges = compiled.edges
        return cls(
            compiled.first,
            [e.target for e in edges],
            [e.p for e in edges],
            [e.max for e in edges],
            compiled.end,
            compiled.fork,
            compiled.start,
        )


@dataclass(frozen=True)
class CaseStates:
    """The reachable states of a case chain and its transitions, for
    :func:`procflow.analysis.routing.build_chain` to make a
    :class:`~procflow.analysis.routing.Chain` of.

    State ``s`` is a visit of step ``state_step[s]``; transition ``k`` goes from
    ``src[k]`` to ``dst[k]`` with probability ``prob[k]`` along process edge ``edge[k]``
    (and ``also[k]``, a fork's edges to its other branches); ``out[s]`` are the
    transitions of state ``s``; ``blocks`` its SCCs in topological order; ``counted`` the
    edges with a counter and ``caps`` their ``max``.
    """

    state_step: list[int]
    src: list[int]
    dst: list[int]
    prob: list[float]
    edge: list[int]
    also: dict[int, tuple[int, ...]]
    out: list[Sequence[int]]
    blocks: list[list[int]]
    counted: list[int]
    caps: list[int]


@dataclass
class _Setup:
    """What the state expansion reads: the graph, the counted edges and the forks."""

    graph: _Tables
    slot: dict[int, int]
    """Counted edge -> position in the counter vector."""
    caps: list[int]
    reaching: list[bytearray]
    """Per counter: 1 at every step from which its edge's source can be reached."""
    branches: dict[int, tuple[int, ...]]
    """Fork step -> its branches' first steps."""
    join: dict[int, int]
    """Fork step -> its join step."""
    joins: frozenset[int]


def eligible(compiled: CompiledProcess, shared_edges: Sequence[int]) -> str | None:
    """Why the sequential chain cannot give exact visits here, or ``None`` when it can."""
    forks = compiled.forks.forks
    if any(fork.join < 0 for fork in forks):
        return "a fork without a join"
    races = [fork.region for fork in forks if fork.kind == "first"]
    for e in shared_edges:
        if any(compiled.edges[e].source in region for region in races):
            return "a race (join: first) withdraws branches after they used the shared counter"
    return None


def _setup(compiled: CompiledProcess, shared_edges: Sequence[int]) -> _Setup:
    """Count every bounded edge in a loop (as the per-token chain does) and every shared one."""
    graph = _Tables.of(compiled)
    component = compiled.component_of
    counted = [
        e
        for e in compiled.bounded
        if e in shared_edges or component[graph.target[e]] == component[compiled.edges[e].source]
    ]
    slot = {e: i for i, e in enumerate(counted)}
    caps = [int(graph.bound[e] or 0) for e in counted]
    predecessors = compiled.predecessors
    reaching = []
    for e in counted:  # backwards from the edge's source
        mark = bytearray(compiled.size)
        source = compiled.edges[e].source
        mark[source] = 1
        frontier = [source]
        while frontier:
            for w in predecessors[frontier.pop()]:
                if not mark[w]:
                    mark[w] = 1
                    frontier.append(w)
        reaching.append(mark)
    structure = compiled.forks
    return _Setup(
        graph,
        slot,
        caps,
        reaching,
        {fork.step: fork.branches for fork in structure.forks},
        {fork.step: fork.join for fork in structure.forks},
        frozenset(fork.join for fork in structure.forks),
    )


Entry = tuple[int, Any]
"""``(0, step)``: a token at ``step``; ``(1, (fork step, arrived, entries))``: an open fork
instance, how many of its branch tokens reached the join, and what is inside it."""
State = tuple[tuple[Entry, ...], tuple[int, ...]]
"""The case's tokens as a tree of fork instances (entries sorted: one form per state), and
its counters."""

#: Forks nested deeper than this in one case are left to the per-token chain.
MAX_DEPTH = 64

#: The most states of a case chain (or ``max_states`` when smaller). A state costs tens of
#: microseconds to build (a tree of tokens, not one step): 20,000 is about a second, the
#: shapes that need more (many shared loops whose counters all live at once, such as
#: rework in each of ten branches inside a loop round the fork) fall back to the per-token
#: chain, labelled approximate. Loops in a row need few (1,611 for 8 x 20).
CASE_STATES = 20_000


class _Builder:
    """Breadth-first walk over the reachable states, recording transitions state by state.

    In each state one token moves: the one at the step that comes first in a topological
    order of the step graph's components (the smallest step index among ties). The order
    does not change the visits (the module docstring); this one moves every token through
    a loop before any goes past it, so the loop's counters are dropped (no token can reach
    them again) before the next loop's start counting, and shared loops in a row add states
    instead of multiplying them. State ``s`` is a visit of the step its moving token is at.
    """

    def __init__(self, setup: _Setup, compiled: CompiledProcess, max_states: int) -> None:
        self.setup = setup
        self.max_states = max_states
        component = compiled.component_of
        self.rank = [(-component[u], u) for u in range(compiled.size)]
        self.index: dict[State, int] = {}
        self.states: list[State] = []
        self.state_step: list[int] = []
        self.src: list[int] = []
        self.dst: list[int] = []
        self.prob: list[float] = []
        self.edge: list[int] = []
        self.also: dict[int, tuple[int, ...]] = {}
        self.out: list[Sequence[int]] = []
        self._dead: dict[frozenset[int], tuple[int, ...]] = {}

    def state(self, entries: tuple[Entry, ...], counters: tuple[int, ...]) -> int:
        """The index of the state, added when new; counters no token can use again set to 0."""
        steps = frozenset(_token_steps(entries))
        dead = self._dead.get(steps)
        if dead is None:
            marks = self.setup.reaching
            dead = self._dead[steps] = tuple(
                i for i, mark in enumerate(marks) if not any(mark[v] for v in steps)
            )
        if dead and any(counters[i] for i in dead):
            values = list(counters)
            for i in dead:
                values[i] = 0
            counters = tuple(values)
        key = (entries, counters)
        found = self.index.get(key)
        if found is None:
            if len(self.states) >= self.max_states:
                raise _Abandon(f"more than {self.max_states:,} states")
            found = self.index[key] = len(self.states)
            self.states.append(key)
        return found

    def walk(self) -> None:
        graph = self.setup.graph
        self.state(((0, graph.start),), (0,) * len(self.setup.caps))
        position = 0
        while position < len(self.states):  # grows while it is walked: a queue
            entries, counters = self.states[position]
            path, u = self._mover(entries)
            self.state_step.append(u)
            first = len(self.dst)
            if graph.end[u]:
                if len(path) > 1 or len(entries) > 1:
                    raise _Abandon("a branch ends the case")
            elif graph.fork[u]:
                k = len(self.setup.branches[u])
                moved = _update(entries, path, partial(_replaced, self._forked(u)))
                also = tuple(range(graph.first[u] + 1, graph.first[u] + k))
                self._record(position, moved, counters, graph.first[u], 1.0, also)
            else:
                for e, p in self._choices(u, counters):
                    values = counters
                    i = self.setup.slot.get(e, -1)
                    if i >= 0:
                        values = (*counters[:i], counters[i] + 1, *counters[i + 1 :])
                    moved = self._moved(entries, path, graph.target[e])
                    self._record(position, moved, values, e, p, ())
                if len(self.dst) == first:
                    raise DeadEnd(u)
            self.out.append(range(first, len(self.dst)))
            position += 1

    def _record(
        self,
        s: int,
        entries: tuple[Entry, ...],
        counters: tuple[int, ...],
        e: int,
        p: float,
        also: tuple[int, ...],
    ) -> None:
        k = len(self.dst)
        self.src.append(s)
        self.dst.append(self.state(entries, counters))
        self.prob.append(p)
        self.edge.append(e)
        if also:
            self.also[k] = also

    def _mover(self, entries: tuple[Entry, ...]) -> tuple[tuple[int, ...], int]:
        """The path (entry positions, outer to inner) and step of the token that moves next."""
        rank = self.rank
        best: tuple[tuple[int, int], tuple[int, ...]] | None = None
        pending: list[tuple[tuple[Entry, ...], tuple[int, ...]]] = [(entries, ())]
        while pending:
            items, prefix = pending.pop()
            if len(prefix) > MAX_DEPTH:
                raise _Abandon(f"forks nested more than {MAX_DEPTH} deep")
            for i, (kind, value) in enumerate(items):
                if kind:
                    pending.append((value[2], (*prefix, i)))
                elif best is None or rank[value] < best[0]:
                    best = (rank[value], (*prefix, i))
        assert best is not None, "a state without tokens"
        return best[1], best[0][1]

    def _forked(self, u: int) -> list[Entry]:
        """What a token at fork ``u`` becomes: a fork instance with a token per branch (a
        branch that starts at the join has arrived already)."""
        join = self.setup.join[u]
        branches = self.setup.branches[u]
        tokens = sorted((0, b) for b in branches if b != join)
        if not tokens:
            return [(0, join)]
        return [(1, (u, len(branches) - len(tokens), tuple(tokens)))]

    def _moved(
        self, entries: tuple[Entry, ...], path: tuple[int, ...], v: int
    ) -> tuple[Entry, ...]:
        """The tree after the token at ``path`` moved to ``v`` (arriving, when ``v`` is the
        join of its fork instance; the last arrival becomes the join's token)."""
        setup = self.setup
        if v not in setup.joins:
            return _update(entries, path, partial(_replaced, [(0, v)]))
        if len(path) < 2:
            raise _Abandon("a join reached outside its fork")
        where = path[-1]

        def arrive(entry: Entry) -> list[Entry]:
            fork, arrived, inner = entry[1]
            if setup.join[fork] != v:
                raise _Abandon("a join reached from another fork's branches")
            if arrived + 1 == len(setup.branches[fork]):
                return [(0, v)]
            return [(1, (fork, arrived + 1, inner[:where] + inner[where + 1 :]))]

        return _update(entries, path[:-1], arrive)

    def _choices(self, u: int, counters: tuple[int, ...]) -> list[tuple[int, float]]:
        """The edges of ``u`` still open and their renormalized probabilities (equal if all 0)."""
        graph, slot, caps = self.setup.graph, self.setup.slot, self.setup.caps
        open_ = [
            e
            for e in range(graph.first[u], graph.first[u + 1])
            if (i := slot.get(e, -1)) < 0 or counters[i] < caps[i]
        ]
        weights = [1.0 if (w := graph.weight[e]) is None else w for e in open_]
        total = math.fsum(weights)
        if total <= 0.0:
            weights, total = [1.0] * len(open_), float(len(open_))
        return [(e, w / total) for e, w in zip(open_, weights, strict=True) if w > 0.0]


def _replaced(made: list[Entry], _entry: Entry) -> list[Entry]:
    """A change for :func:`_update` that puts ``made`` in the entry's place."""
    return made


def _token_steps(entries: tuple[Entry, ...]) -> list[int]:
    """The steps of every token in the tree."""
    steps: list[int] = []
    pending = [entries]
    while pending:
        for kind, value in pending.pop():
            if kind:
                pending.append(value[2])
            else:
                steps.append(value)
    return steps


def _update(
    entries: tuple[Entry, ...], path: tuple[int, ...], change: Callable[[Entry], list[Entry]]
) -> tuple[Entry, ...]:
    """The tree with the entry at ``path`` replaced by ``change(entry)``, kept sorted."""
    if len(path) == 1:
        items = list(entries)
        items[path[0] : path[0] + 1] = change(entries[path[0]])
        return tuple(sorted(items))
    fork, arrived, inner = entries[path[0]][1]
    items = list(entries)
    items[path[0]] = (1, (fork, arrived, _update(inner, path[1:], change)))
    return tuple(sorted(items))


def case_chain(
    compiled: CompiledProcess, shared_edges: Sequence[int], max_states: int
) -> CaseStates | str:
    """The states of the case chain of the module docstring, or why it cannot be had exactly.

    Raises :class:`DeadEnd` when the tokens of a case, sharing the counters, can use up
    every edge out of a step before the last of them gets there."""
    why = eligible(compiled, shared_edges)
    if why is not None:
        return why
    setup = _setup(compiled, shared_edges)
    builder = _Builder(setup, compiled, min(max_states, CASE_STATES))
    try:
        builder.walk()
    except _Abandon as reason:
        return str(reason)
    n = len(builder.states)
    successors: list[list[int]] = [[builder.dst[k] for k in builder.out[s]] for s in range(n)]
    if not _all_end(builder, successors):
        return "cases that can never end"
    blocks = strongly_connected(n, successors)
    blocks.reverse()  # topological order
    return CaseStates(
        builder.state_step,
        builder.src,
        builder.dst,
        builder.prob,
        builder.edge,
        builder.also,
        builder.out,
        blocks,
        sorted(setup.slot, key=setup.slot.__getitem__),
        setup.caps,
    )


def _all_end(builder: _Builder, successors: list[list[int]]) -> bool:
    """Whether an end step can be reached from every state (else a trap the gate lets by)."""
    end = builder.setup.graph.end
    predecessors: list[list[int]] = [[] for _ in successors]
    for s, targets in enumerate(successors):
        for t in targets:
            predecessors[t].append(s)
    frontier = [s for s, u in enumerate(builder.state_step) if end[u]]
    seen = bytearray(len(successors))
    for s in frontier:
        seen[s] = 1
    while frontier:
        for w in predecessors[frontier.pop()]:
            if not seen[w]:
                seen[w] = 1
                frontier.append(w)
    return all(seen)
