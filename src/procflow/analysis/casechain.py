"""Exact visits when the tokens of a fork share ``max:`` counters: the branches in sequence.

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

So one interleaving is as good as any: this module runs a case's branches
**one after the other** with one counter set -- branch 1 of a fork to its
join, then branch 2 from where the counters stand, and so on; the last
branch to arrive makes the join's visit. That is a Markov chain on
``(step, open forks with the branch running in each, counters)``, built
breadth first over the reachable states and solved block by block
(:func:`~procflow.analysis.routing.solve_visits`). A counter its edge's
source can no longer reach (from the running token or a branch still to
run) is reset to 0, which keeps sequential loops from multiplying states.

``join: first`` is different: a race withdraws the losing branches part
way, after they may have moved a shared counter, so how far they got --
timing -- decides the visits. A shared bound inside a race is left to the
per-token chain, labelled approximate, as are chains beyond the state
limit (:func:`case_chain` returns the reason instead of a chain).

The chain it returns is a :class:`~procflow.analysis.routing.Chain` like
the per-token one, with ``per_case`` set: state visits, rework and block
order mean the same. A move that ends a branch other than the last goes
on to the next branch's first step; :attr:`Chain.also` lists the fork's
edge to that branch with it, so flows per edge count every token move.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from procflow.analysis.routing import Bound, Chain, _Graph, solve_visits
from procflow.compiled import CompiledProcess
from procflow.digraph import strongly_connected

State = tuple[int, tuple[tuple[int, int], ...], tuple[int, ...]]
"""``(step, open forks outer to inner as (fork step, branch running), counters)``."""


class _Abandon(Exception):
    """The process has a shape the sequential chain does not follow (the gate's business)."""


@dataclass
class _Setup:
    """What the state expansion reads: the graph, the counted edges and the forks."""

    graph: _Graph
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


def _setup(compiled: CompiledProcess, graph: _Graph, shared_edges: Sequence[int]) -> _Setup:
    """Count every bounded edge in a loop (as the per-token chain does) and every shared one."""
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


class _Builder:
    """Breadth-first walk over the reachable states, recording transitions state by state."""

    def __init__(self, setup: _Setup, max_states: int) -> None:
        self.setup = setup
        self.max_states = max_states
        self.index: dict[State, int] = {}
        self.states: list[State] = []
        self.src: list[int] = []
        self.dst: list[int] = []
        self.prob: list[float] = []
        self.edge: list[int] = []
        self.also: dict[int, tuple[int, ...]] = {}
        self.out: list[Sequence[int]] = []
        self._dead: dict[tuple[int, tuple[tuple[int, int], ...]], tuple[int, ...]] = {}

    def state(self, u: int, stack: tuple[tuple[int, int], ...], counters: tuple[int, ...]) -> int:
        """The index of the state, added when new; counters no one can use again set to 0."""
        dead = self._dead.get((u, stack))
        if dead is None:
            dead = self._dead[u, stack] = self._unreachable(u, stack)
        if dead and any(counters[i] for i in dead):
            values = list(counters)
            for i in dead:
                values[i] = 0
            counters = tuple(values)
        key = (u, stack, counters)
        found = self.index.get(key)
        if found is None:
            if len(self.states) >= self.max_states:
                raise _Abandon(f"more than {self.max_states:,} states")
            found = self.index[key] = len(self.states)
            self.states.append(key)
        return found

    def _unreachable(self, u: int, stack: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
        """Counters whose edge neither the running token nor a branch still to run can reach."""
        ahead = [u]
        for fork, running in stack:
            ahead.extend(self.setup.branches[fork][running + 1 :])
        return tuple(
            i for i, mark in enumerate(self.setup.reaching) if not any(mark[v] for v in ahead)
        )

    def walk(self) -> None:
        graph = self.setup.graph
        self.state(graph.start, (), (0,) * len(self.setup.caps))
        position = 0
        while position < len(self.states):  # grows while it is walked: a queue
            u, stack, counters = self.states[position]
            first = len(self.dst)
            if graph.end[u]:
                if stack:
                    raise _Abandon("a branch ends the case")
            elif graph.fork[u]:
                self._move(position, u, stack, counters, graph.first[u], 1.0)
            else:
                for e, p in self._choices(u, counters):
                    self._move(position, u, stack, counters, e, p)
                if len(self.dst) == first:
                    raise _Abandon("a step with every edge used up")
            self.out.append(range(first, len(self.dst)))
            position += 1

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

    def _move(
        self,
        s: int,
        u: int,
        stack: tuple[tuple[int, int], ...],
        counters: tuple[int, ...],
        e: int,
        p: float,
    ) -> None:
        """Record the move of state ``s`` (at ``u``) along edge ``e`` with probability ``p``."""
        setup = self.setup
        also: list[int] = []
        if setup.graph.fork[u]:  # the first branch starts; the others wait their turn
            stack = (*stack, (u, 0))
            v = setup.branches[u][0]
        else:
            i = setup.slot.get(e, -1)
            if i >= 0:
                counters = (*counters[:i], counters[i] + 1, *counters[i + 1 :])
            v = setup.graph.target[e]
        while v in setup.joins and stack and setup.join[stack[-1][0]] == v:
            fork, running = stack[-1]
            branches = setup.branches[fork]
            if running + 1 == len(branches):  # the last branch arrives: the join's visit
                stack = stack[:-1]
                break
            stack = (*stack[:-1], (fork, running + 1))
            also.append(setup.graph.first[fork] + running + 1)
            v = branches[running + 1]
        else:
            if v in setup.joins:
                raise _Abandon("a join reached outside its fork")
        k = len(self.dst)
        self.src.append(s)
        self.dst.append(self.state(v, stack, counters))
        self.prob.append(p)
        self.edge.append(e)
        if also:
            self.also[k] = tuple(also)


def case_chain(
    compiled: CompiledProcess,
    graph: _Graph,
    shared_edges: Sequence[int],
    shared: tuple[Bound, ...],
    max_states: int,
) -> Chain | str:
    """The sequential chain of the module docstring, or why it cannot be had exactly."""
    why = eligible(compiled, shared_edges)
    if why is not None:
        return why
    setup = _setup(compiled, graph, shared_edges)
    builder = _Builder(setup, max_states)
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
    counted = sorted(setup.slot, key=setup.slot.__getitem__)
    chain = Chain(
        steps=graph.steps,
        feedback=tuple(graph.feedback),
        state_step=[state[0] for state in builder.states],
        src=builder.src,
        dst=builder.dst,
        prob=builder.prob,
        edge=builder.edge,
        start=0,
        blocks=blocks,
        bounds=tuple(
            Bound(
                graph.steps[compiled.edges[e].source],
                graph.trigger[e],
                graph.steps[graph.target[e]],
                setup.caps[i],
            )
            for i, e in enumerate(counted)
        ),
        dropped=(),
        zero_edges=0.0 in graph.weight,
        _out=builder.out,
        _first=graph.first,
        shared=shared,
        per_case=True,
        also=builder.also,
        ends=[(edge.source, edge.target) for edge in compiled.edges],
    )
    chain.visits = solve_visits(chain)
    return chain


def _all_end(builder: _Builder, successors: list[list[int]]) -> bool:
    """Whether an end step can be reached from every state (else a trap the gate lets by)."""
    end = builder.setup.graph.end
    predecessors: list[list[int]] = [[] for _ in successors]
    for s, targets in enumerate(successors):
        for t in targets:
            predecessors[t].append(s)
    frontier = [s for s, state in enumerate(builder.states) if end[state[0]]]
    seen = bytearray(len(successors))
    for s in frontier:
        seen[s] = 1
    while frontier:
        for w in predecessors[frontier.pop()]:
            if not seen[w]:
                seen[w] = 1
                frontier.append(w)
    return all(seen)
