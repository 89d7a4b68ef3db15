"""Routing as an absorbing Markov chain: expected visits, flows, rework, fastest path.

The method
----------
A case moves from step to step by the transition probabilities (``p``, or
equal shares when a step gives none); end steps absorb it. Without bounds
this is an absorbing Markov chain over steps, and the expected number of
visits ``v`` to each transient step solves ``(I - Q)^T v = e_start``, where
``Q`` holds the step-to-step probabilities (the first row of the
fundamental matrix ``N = (I - Q)^-1``).

``max: N`` on an edge makes routing depend on history: once a case has
taken the edge ``N`` times the edge is skipped and the remaining ``p`` are
renormalized (docs/analysis-method.md, section 1). That is still a Markov
chain on a larger state: ``(step, how often each bounded edge has been
taken)``. Unrolling the
counters into the state makes the bounds **exact**. Two observations keep
the unrolled chain small:

* Only a bounded edge *inside* a strongly connected component (SCC) of the
  step graph can be taken twice; an edge between components is taken at most
  once per case, so its bound never binds and needs no counter.
* A case never returns to a component it has left, so a state only carries
  the counters of the bounded edges of its own component; entering a new
  component starts its counters at zero. Sequential loops therefore *add*
  states instead of multiplying them: the state space has
  ``sum over components of |component| x prod(max + 1)`` states at most, and
  only the reachable ones are built.

The linear system is block-triangular, and its blocks follow from the step
graph without looking at the states: taking a bounded edge raises a
counter and counters never fall inside a component, so the counter vectors
of a component -- read as one mixed-radix number, its *layer* -- only ever
grow. Components in topological order, their layers in increasing order,
and within a layer the SCCs of the component without its counted edges in
topological order: that is a topological order of the state graph's
blocks. :func:`build_chain` walks the reachable states in exactly that
order and solves each block as it goes (a single state divides by its exit
probability; a loop is one linear system given the flow into it, solved by
:func:`~procflow.analysis.linear.solve_loop`: densely up to 200 states,
by sparse elimination beyond), pushing the outflow forward. A process whose
every loop is bounded is solved by forward substitution in linear time; a
full dense solve of the same system (:func:`solve_dense`, kept for
cross-checks) costs ``O(n^3)``.

The pieces: :class:`_Graph` is the compiled process's edges as columns;
:class:`StateLayout` says where each state ``(step, counters)`` lives in
flat lists and what its :class:`Moves` are; :class:`_Unroller` walks the
blocks in order and solves them; :func:`_thin` fits the weights of dropped
bounds.

The approximation
-----------------
When the unrolled state space would exceed ``max_states`` (100,000 by
default: several nested loops with large ``max`` in one component), bounds
are dropped one at a time -- from the component contributing most states,
the bound with the largest ``max`` first (a large bound is the least likely
to be reached, so it changes the visits least) -- until the state space
fits. A dropped edge is not left unbounded (several of them in one loop
would compound into visits no case can make): it is *thinned*. Its
uncapped expected takes ``m`` give a capped target ``r (1 - r^N) / (1 - r)``
with ``r = m / (1 + m)`` -- the mean of a geometric count cut at ``N``,
exact for a loop back to its own step and never above ``N`` -- and its
weight is scaled until the chain takes it that often (secant steps on a
log scale, fitted on a coarse chain of at most 4,096 states, then refined
by two solves of the full chain; see :func:`_thin`). On rings of review
steps that each send work back to the first (tests/test_analyze.py) the
visits stay within 2% of the unrolled truth; on a ring of 20 steps with
``max: 3`` each (14 bounds dropped) the first step's 54.4 visits compare
with 54.8 simulated. :class:`Chain` lists every dropped bound
and the analysis says ``approximate`` wherever they are used.

Forks
-----
A fork takes every branch (probability 1 each) and a join scales the
tokens arriving there by 1/k, so each token is followed on its own with
the counters it forked with. That is exact while one token of a case moves
a counter; where tokens share one (:func:`shared_bounds`: a bounded edge two
branches reach, or one in a loop round the fork) this chain would count per
token and the case counts per case. :func:`build_chain` then builds the
per-case chain of :mod:`procflow.analysis.casechain` instead (exact for
``join: all``); where that cannot be had (a shared bound in a race, too many
states) it keeps this one and :attr:`Chain.shared` makes the routing approximate.

Rework (the share of cases that take any ``feedback: true`` edge at least
once) is exact too: it is the total flow through feedback edges in the same
chain with every feedback edge leading to an absorbing "reworked" state.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, NamedTuple

from procflow.analysis.linear import safe_sum, solve_loop
from procflow.compiled import CompiledProcess, Edge
from procflow.digraph import reached, strongly_connected
from procflow.errors import Problem, ProcessError, SimulationError
from procflow.gate import runnable
from procflow.model import Process

if TYPE_CHECKING:
    import numpy as np

    from procflow.analysis.casechain import CaseStates

#: Default limit of the unrolled state space before bounds are approximated.
MAX_STATES = 100_000


@dataclass(frozen=True)
class Bound:
    """A ``max: N`` edge: ``trigger`` of ``step`` leading to ``to``."""

    step: str
    trigger: str
    to: str
    max: int

    def __str__(self) -> str:
        return f"{self.step} --{self.trigger}--> {self.to} (max {self.max})"


@dataclass
class Chain:
    """The unrolled routing chain of a process, reachable states only.

    State ``i`` is at step ``steps[state_step[i]]``. Transition ``k`` goes from
    state ``src[k]`` to ``dst[k]`` with probability ``prob[k] > 0`` along the
    ``edge[k]``-th edge of the process (its index in ``edges``). ``blocks``
    are the SCCs of the state graph in topological order (a block may join
    a few SCCs that only ``p: 0`` edges separate); ``visits`` the expected
    visits of every state per case, solved while the chain was built.
    ``zero_edges`` says that some transition has ``p: 0``.
    """

    steps: tuple[str, ...]
    feedback: tuple[bool, ...]
    state_step: list[int]
    src: list[int]
    dst: list[int]
    prob: list[float]
    edge: list[int]
    start: int
    blocks: list[list[int]]
    bounds: tuple[Bound, ...]
    dropped: tuple[Bound, ...]
    visits: list[float] = field(default_factory=list, repr=False)
    zero_edges: bool = False
    _out: list[Sequence[int]] = field(default_factory=list, repr=False)
    _first: Sequence[int] = field(default_factory=list, repr=False)
    _unstable: list[list[int]] = field(default_factory=list, repr=False)
    _dropped_edges: tuple[tuple[int, int], ...] = field(default=(), repr=False)
    share: Sequence[float] = field(default=(), repr=False)
    """Per step: the share of the tokens arriving there that makes a visit (``1/k`` at the
    join of ``k`` branches, docs/parallel-work.md; empty: 1 everywhere)."""
    shared: tuple[Bound, ...] = ()
    """Counted bounds whose counter the tokens of one case share in a way the per-token chain
    cannot follow (:func:`shared_bounds`): their visits are approximate, unless ``per_case``."""
    per_case: bool = False
    """The chain moves a case's tokens one at a time with one counter set
    (:mod:`procflow.analysis.casechain`): exact for the ``shared`` bounds too."""
    also: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False)
    """Per-case chains only: a fork's transition -> its edges to the branches after the
    first (the one move starts them all)."""
    fallback: str | None = None
    """Why a process with ``shared`` bounds kept the per-token chain (approximate)."""
    ends: Sequence[tuple[int, int]] = field(default=(), repr=False)
    """Per-case chains only: per process edge, its ``(source, target)`` steps."""

    @property
    def size(self) -> int:
        return len(self.state_step)

    @property
    def exact(self) -> bool:
        """False when bounds had to be dropped to keep the state space small, or when the
        tokens of a fork share a bound's counter (:attr:`shared`)."""
        return not self.dropped and (not self.shared or self.per_case)

    @property
    def edges(self) -> tuple[tuple[str, int], ...]:
        """Edge ``e`` is the ``k``-th transition of step ``s``: ``edges[e] == (s, k)``."""
        first = self._first
        return tuple(
            (step, e - first[u])
            for u, step in enumerate(self.steps)
            for e in range(first[u], first[u + 1])
        )


# --------------------------------------------------------------------------
# building the unrolled chain


def _problem(process: Process, code: str, message: str, path: tuple[str | int, ...]) -> Problem:
    return Problem(code, message, process.position(path))


@dataclass
class _Graph:
    """The compiled step graph as columns: step ``u``'s edges are ``first[u]`` to ``first[u+1]``.

    Read from the :class:`~procflow.compiled.CompiledProcess` the runnable gate
    returned (so every target and the start exist and the probabilities are
    consistent: nothing here checks them again), as plain sequences for the
    unrolling's inner loops. ``successors`` lists the target of every edge
    per step, for the SCCs; ``bounded`` the ``(step, edge)`` of every edge
    with ``max``.
    """

    steps: tuple[str, ...]
    end: Sequence[bool]
    first: Sequence[int]
    target: list[int]
    weight: list[float | None]
    bound: list[int | None]
    feedback: list[bool]
    trigger: list[str]
    successors: Sequence[Sequence[int]]
    start: int
    bounded: list[tuple[int, int]]
    fork: Sequence[bool]
    share: list[float]

    @classmethod
    def of(cls, compiled: CompiledProcess) -> _Graph:
        edges = compiled.edges
        # an Edge is a tuple: its columns in one C-level transpose, not a pass per column
        columns = list(zip(*edges, strict=True)) if edges else [()] * len(Edge._fields)
        return cls(
            steps=compiled.steps,
            end=compiled.end,
            first=compiled.first,
            target=list(columns[_TARGET]),
            weight=list(columns[_P]),
            bound=list(columns[_MAX]),
            feedback=list(columns[_FEEDBACK]),
            trigger=list(columns[_TRIGGER]),
            successors=compiled.successors,
            start=compiled.start,
            bounded=[(edges[e].source, e) for e in compiled.bounded],
            fork=compiled.fork,
            share=_join_shares(compiled),
        )


_TARGET, _TRIGGER, _P, _FEEDBACK, _MAX = (
    Edge._fields.index(name) for name in ("target", "trigger", "p", "feedback", "max")
)


def _join_shares(compiled: CompiledProcess) -> list[float]:
    """Per step: the share of the tokens arriving there that is a visit -- ``1/k`` at the join
    of a fork of ``k`` branches (all its branch tokens arrive, one token goes on), else 1."""
    share = [1.0] * compiled.size
    if compiled.has_forks:
        for fork in compiled.forks.forks:
            if fork.join >= 0:
                share[fork.join] = 1.0 / len(fork.branches)
    return share


def _tracked_bounds(
    graph: _Graph,
    component_of: list[int],
    sizes_of: list[int],
    max_states: int,
) -> tuple[
    dict[int, int],
    dict[int, list[int]],
    tuple[Bound, ...],
    tuple[Bound, ...],
    tuple[tuple[int, int], ...],
]:
    """Choose the bounded edges to unroll; drop the least binding ones past ``max_states``.

    Returns ``(slot, caps, kept, dropped, dropped_edges)``: ``slot[edge]`` is
    the position of a counted edge in its component's counter vector,
    ``caps[component]`` the ``max`` of each counter in that order, and
    ``dropped_edges`` the ``(edge, max)`` of every dropped bound.
    """
    candidates: dict[int, list[tuple[int, int, int]]] = {}
    target, bounds = graph.target, graph.bound
    for u, e in graph.bounded:
        c = component_of[u]
        if component_of[target[e]] == c:
            most = bounds[e]
            assert most is not None
            candidates.setdefault(c, []).append((u, e, most))
    if not candidates:
        return {}, {}, (), (), ()
    sizes = {c: sizes_of[c] for c in candidates}

    def states(component: int) -> float:
        return sizes[component] * math.prod(m + 1 for _u, _e, m in candidates[component])

    dropped: list[tuple[int, int, int]] = []
    total = len(component_of) + sum(states(c) - sizes[c] for c in candidates)
    while total > max_states and any(candidates.values()):
        worst = max((c for c in candidates if candidates[c]), key=states)
        before = states(worst)
        largest = max(range(len(candidates[worst])), key=lambda i: candidates[worst][i][2])
        dropped.append(candidates[worst].pop(largest))
        total += states(worst) - before

    def bound(u: int, e: int, most: int) -> Bound:
        return Bound(graph.steps[u], graph.trigger[e], graph.steps[target[e]], most)

    slot: dict[int, int] = {}
    caps: dict[int, list[int]] = {}
    kept: list[Bound] = []
    for component, edges in candidates.items():
        if edges:
            caps[component] = [most for _u, _e, most in edges]
        for i, (u, e, most) in enumerate(edges):
            slot[e] = i
            kept.append(bound(u, e, most))
    return (
        slot,
        caps,
        tuple(kept),
        tuple(bound(u, e, m) for u, e, m in dropped),
        tuple((e, m) for _u, e, m in dropped),
    )


def _layer_blocks(
    graph: _Graph,
    components: list[list[int]],
    component_of: list[int],
    slot: dict[int, int],
    caps: dict[int, list[int]],
) -> dict[int, list[list[int]]]:
    """Per component with counters: its SCCs without the counted edges, in topological order.

    ``p: 0`` edges are left out (no case takes them), unless the step may fall
    back on them once its counted edges are used up (the format renormalizes
    to equal shares when only ``p: 0`` edges remain).
    """
    members = [u for c in caps for u in components[c]]
    local = {u: i for i, u in enumerate(members)}
    first, target, weight = graph.first, graph.target, graph.weight
    successors: list[list[int]] = []
    for u in members:
        edges = range(first[u], first[u + 1])
        counted = any(e in slot for e in edges)
        fallback = counted and all(weight[e] == 0.0 for e in edges if e not in slot)
        successors.append(
            [
                local[target[e]]
                for e in edges
                if e not in slot
                and component_of[target[e]] == component_of[u]
                and (fallback or weight[e] != 0.0)
            ]
        )
    blocks: dict[int, list[list[int]]] = {c: [] for c in caps}
    for block in reversed(strongly_connected(len(members), successors)):
        steps = [members[i] for i in block]
        blocks[component_of[steps[0]]].append(steps)
    return blocks


def build_chain(process: Process, *, max_states: int = MAX_STATES) -> Chain:
    """Unroll the routing of ``process`` into a Markov chain and solve its visits.

    See the module docstring. The process goes through the runnable gate
    (:func:`procflow.gate.runnable`, answered from its memo when analyze or
    lint has asked already), which raises :class:`ProcessError` for the
    structural errors (unknown targets or start, bad probabilities, ...);
    the routing reads the compiled process the gate returns and checks none
    of that again. What only the unrolled chain shows is raised here: a
    state from which nothing is left to take -- every remaining edge used up
    -- raises PF104 at that step, and states that can never reach an end
    raise PF105. A loop that cases leave with a probability too small to
    compute with (visits beyond floating point) raises :class:`SimulationError`.

    The chain is built once per process object and ``max_states`` (kept in the
    compiled process's memo): ``simulate`` asks for it from the run-length
    estimate, the overload notes and the event budget, and on a 5,000-step
    process each build takes about a second. Callers must not change it.
    """
    compiled = runnable(process)
    key = f"chain:{max_states}"
    cached: Chain | None = compiled.memo(key)
    if cached is not None:
        return cached
    graph = _Graph.of(compiled)
    fallback = None
    if compiled.has_forks and compiled.bounded and (edges := _shared_edges(compiled)):
        from procflow.analysis.casechain import DeadEnd, case_chain  # only for shared counters

        try:
            found = case_chain(compiled, edges, max_states)
        except DeadEnd as stuck:
            step = compiled.steps[stuck.step]
            bounds = ", ".join(
                f"{edge.trigger!r} max: {edge.max}"
                for edge in compiled.edges
                if edge.source == stuck.step and edge.max is not None
            )
            message = (
                f"step {step!r} is a dead end once the tokens of a fork have used up its "
                f"bounded edges ({bounds}) together (the counters are per case): add a "
                "transition without 'max'"
            )
            raise ProcessError([_problem(process, "PF104", message, ("steps", step))]) from None
        if not isinstance(found, str):
            chain = _per_case(compiled, graph, found, tuple(_bound(compiled, e) for e in edges))
            _check_finite(process, chain)
            compiled.remember(key, chain)
            return chain
        fallback = found
    chain = _unroll(process, graph, max_states)
    if chain.dropped:
        chain = _thin(process, graph, max_states, chain)
    if compiled.has_forks and compiled.bounded:
        chain.shared = shared_bounds(compiled, chain.dropped)
        chain.fallback = fallback if chain.shared else None
    _check_finite(process, chain)
    compiled.remember(key, chain)
    return chain


def refuse_dead_ends(process: Process) -> None:
    """Raise the PF104 of :func:`build_chain` before a simulation starts.

    Inside a fork the tokens of one case share the counters of ``max:``
    (docs/parallel-work.md); together they can use up every edge out of a
    step, which no structural check sees but the case chain does. The
    simulators would bring a token to that step with no edge left to take:
    refusing up front gives analyze's positioned message instead. Only
    PF104 is raised here: the chain's other problems are the simulators' own
    checks, which say them in their words. Costs nothing extra: the budget
    of every simulate asks for the same chain, which :func:`build_chain`
    remembers.
    """
    compiled = runnable(process)
    if not (compiled.has_forks and compiled.bounded):
        return  # one token per case: the gate's PF104 already covers used-up edges
    try:
        build_chain(process)
    except ProcessError as error:
        if any(problem.code == "PF104" for problem in error.problems):
            raise
    except SimulationError:
        return  # visits beyond floating point: the run's budget says so (sim/budget.py)


def _per_case(
    compiled: CompiledProcess, graph: _Graph, states: CaseStates, shared: tuple[Bound, ...]
) -> Chain:
    """The chain of a case chain's states (:mod:`procflow.analysis.casechain`), solved."""
    chain = Chain(
        steps=graph.steps,
        feedback=tuple(graph.feedback),
        state_step=states.state_step,
        src=states.src,
        dst=states.dst,
        prob=states.prob,
        edge=states.edge,
        start=0,
        blocks=states.blocks,
        bounds=tuple(
            Bound(graph.steps[compiled.edges[e].source], graph.trigger[e],
                  graph.steps[graph.target[e]], most)
            for e, most in zip(states.counted, states.caps, strict=True)
        ),
        dropped=(),
        zero_edges=0.0 in graph.weight,
        _out=states.out,
        _first=graph.first,
        shared=shared,
        per_case=True,
        also=states.also,
        ends=[(edge.source, edge.target) for edge in compiled.edges],
    )  # fmt: skip
    chain.visits = solve_visits(chain)
    return chain


def shared_bounds(compiled: CompiledProcess, dropped: Sequence[Bound] = ()) -> tuple[Bound, ...]:
    """The bounds whose counter the chain keeps per token where the case shares it.

    The chain follows each token of a fork on its own, carrying the counters
    it forked with; the simulators count per case (docs/parallel-work.md:
    the tokens of one case share the counters). The two agree while at most
    one token of a case ever moves a counter. They part when a bounded edge
    starts at a step that

    * two branches of one fork can reach: each token may take the edge up to
      ``max`` times, where the case may take it ``max`` times in all (an edge
      in no loop too: once per token is twice per case);
    * lies inside a fork and in the same loop as its join: the counter
      outlives the join, where the chain mixes the counters of the branch
      tokens arriving there (one token's count, weighed 1/k each) instead of
      adding them up.

    Those bounds (but the ``dropped`` ones, approximate already) are listed
    here; :func:`build_chain` counts them per case
    (:mod:`procflow.analysis.casechain`) or, where it cannot, labels the
    routing approximate.
    """
    dropped_set = set(dropped)
    return tuple(
        bound for e in _shared_edges(compiled) if (bound := _bound(compiled, e)) not in dropped_set
    )


def _bound(compiled: CompiledProcess, e: int) -> Bound:
    edge = compiled.edges[e]
    assert edge.max is not None
    return Bound(compiled.steps[edge.source], edge.trigger, compiled.steps[edge.target], edge.max)


def _shared_edges(compiled: CompiledProcess) -> list[int]:
    """The bounded edges of :func:`shared_bounds` (indices into the compiled edges)."""
    forks = compiled.forks.forks
    if not forks:
        return []
    component = [0] * compiled.size
    for c, members in enumerate(strongly_connected(compiled.size, compiled.successors)):
        for member in members:
            component[member] = c
    found = []
    for e in compiled.bounded:
        u = compiled.edges[e].source
        for fork in forks:
            if u not in fork.region:
                continue
            branches = sum(u in path for path in fork.paths)
            if branches > 1 or (fork.join >= 0 and component[fork.join] == component[u]):
                found.append(e)
                break
    return found


def share_chain(source: Process, target: Process, *, max_states: int = MAX_STATES) -> bool:
    """Give ``target`` the chain of ``source`` when both have the same step graph.

    The chain reads nothing but the step graph (steps, end steps, each
    edge's target, ``p``, ``max``, feedback flag and trigger, the start), so
    a variant of a process that changes only capacities, durations or
    owners -- what ``levers`` and ``optimize`` simulate by the dozen -- has
    exactly its chain; building it again costs as much as the first time
    (seconds on a process with bounded loops). After a ``True``,
    :func:`build_chain` of ``target`` answers from its memo; ``False``
    (another graph) leaves ``target`` to build its own.
    """
    into = runnable(target)
    key = f"chain:{max_states}"
    if into.memo(key) is not None:
        return True
    if _Graph.of(runnable(source)) != _Graph.of(into):
        return False
    into.remember(key, build_chain(source, max_states=max_states))
    return True


def _unroll(
    process: Process,
    graph: _Graph,
    max_states: int,
    factors: dict[int, float] | None = None,
) -> Chain:
    """The chain of :func:`build_chain`; ``factors`` scale the weights of dropped bounds."""
    layout = StateLayout.of(process, graph, max_states, factors)
    return _Unroller(process, layout).walk()


class Moves(NamedTuple):
    """The moves out of one state, edge by edge (``p: 0`` edges left out).

    ``positions`` are the layout positions the moves lead to; a position
    flagged 1 in ``flags`` was computed in layer 0 and is shifted by the
    caller to the layer of the state it leaves (a step without counted
    edges moves alike in every layer, so its moves are computed once).
    ``leaving`` is the probability of moving to another state, ``None``
    when the step has no loop back to itself.
    """

    edges: list[int]
    probabilities: list[float]
    positions: list[int]
    flags: list[int]
    leaving: float | None


@dataclass
class StateLayout:
    """The unrolled state space: where the state ``(step, counters)`` lives in flat lists.

    Components of the step graph (``components``, topological order) are
    laid out one after another from ``base[c]``. A component with counted
    edges (``caps[c]`` their maxima) reads its counter vector as one
    mixed-radix number, its *layer* (digit ``i`` weighs ``strides[c][i]``):
    state ``(u, layer)`` lives at ``base[c] + layer * |c| + local[u]``, and
    ``at0[u]`` is its position in layer 0 (every other component has one
    layer). ``sub_blocks[c]`` are the SCCs of a counted component without
    its counted edges, in topological order: taken layer by layer they are
    the state graph's blocks in topological order. ``one_way[u]`` is the
    layer-0 position a step with one uncounted edge always leads to, else -1.
    """

    graph: _Graph
    weight: list[float | None]
    components: list[list[int]]
    component_of: list[int]
    local: list[int]
    slot: dict[int, int]
    caps: dict[int, list[int]]
    strides: dict[int, list[int]]
    layers: list[int]
    base: list[int]
    total: int
    at0: list[int]
    counted: list[bool]
    one_way: list[int]
    sub_blocks: dict[int, list[list[int]]]
    kept: tuple[Bound, ...]
    dropped: tuple[Bound, ...]
    dropped_edges: tuple[tuple[int, int], ...]
    _cache: dict[int, Moves] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        process: Process,
        graph: _Graph,
        max_states: int,
        factors: dict[int, float] | None = None,
    ) -> StateLayout:
        """Choose the counted bounds (dropping some past ``max_states``) and lay the states out."""
        weight = graph.weight
        if factors:
            weight = list(weight)
            for e, factor in factors.items():
                weight[e] = (1.0 if weight[e] is None else weight[e]) * factor  # type: ignore[operator]
        n = len(graph.steps)
        components = strongly_connected(n, graph.successors)
        components.reverse()  # topological order
        component_of = [0] * n
        local = [0] * n
        for c, members in enumerate(components):
            for i, member in enumerate(members):
                component_of[member] = c
                local[member] = i
        slot: dict[int, int] = {}
        caps: dict[int, list[int]] = {}
        kept: tuple[Bound, ...] = ()
        dropped: tuple[Bound, ...] = ()
        dropped_edges: tuple[tuple[int, int], ...] = ()
        if graph.bounded:
            sizes = [len(members) for members in components]
            slot, caps, kept, dropped, dropped_edges = _tracked_bounds(
                graph, component_of, sizes, max_states
            )
        counted = [False] * n
        for u, e in graph.bounded:
            if e in slot:
                counted[u] = True
        sub_blocks = _layer_blocks(graph, components, component_of, slot, caps) if caps else {}
        layers = [1] * len(components)
        strides: dict[int, list[int]] = {}
        for c, maxima in caps.items():  # counters as one mixed-radix number
            stride, count = [], 1
            for most in maxima:
                stride.append(count)
                count *= most + 1
            layers[c] = count
            strides[c] = stride
        spans = [count * len(members) for count, members in zip(layers, components, strict=True)]
        base = [0, *accumulate(spans)]
        total = base.pop()
        at0 = [base[component_of[u]] + local[u] for u in range(n)]
        first, target, end = graph.first, graph.target, graph.end
        one_way = [
            at0[target[first[u]]]
            if first[u + 1] - first[u] == 1 and not end[u] and not counted[u]
            else -1
            for u in range(n)
        ]
        return cls(
            graph, weight, components, component_of, local, slot, caps, strides, layers, base,
            total, at0, counted, one_way, sub_blocks, kept, dropped, dropped_edges,
        )  # fmt: skip

    def moves(self, u: int, layer: int) -> Moves:
        """The moves of step ``u`` in ``layer``: its edges not yet used up."""
        first = self.graph.first
        if not self.counted[u]:
            found = self._cache.get(u)
            if found is None:
                found = self._cache[u] = self._moves(u, range(first[u], first[u + 1]), 0)
            return found
        c = self.component_of[u]
        stride, cap, slot = self.strides[c], self.caps[c], self.slot
        available = [
            e
            for e in range(first[u], first[u + 1])
            if (i := slot.get(e, -1)) < 0 or layer // stride[i] % (cap[i] + 1) < cap[i]
        ]
        return self._moves(u, available, layer)

    def _moves(self, u: int, edges: Sequence[int], layer: int) -> Moves:
        """Probabilities and target positions of ``edges`` of step ``u`` in ``layer``."""
        weight, target, component_of, slot = (
            self.weight,
            self.graph.target,
            self.component_of,
            self.slot,
        )
        local = self.local
        weights = [1.0 if (w := weight[e]) is None else w for e in edges]
        share = 1.0 if self.graph.fork[u] else math.fsum(weights)  # a fork takes every branch
        if share <= 0.0:  # only p = 0 edges are left: equal shares, as documented
            weights, share = [1.0] * len(weights), float(len(weights))
        c = component_of[u]
        size = len(self.components[c])
        start = self.base[c]
        shifted = not self.counted[u]  # positions in layer 0, shifted when used
        here = start + (0 if shifted else layer * size) + local[u]
        taken, probabilities, positions, flags = [], [], [], []
        for e, w in zip(edges, weights, strict=True):
            if w <= 0.0:
                continue
            v = target[e]
            taken.append(e)
            probabilities.append(w / share)
            if component_of[v] != c:
                positions.append(self.at0[v])
                flags.append(0)
            elif (i := slot.get(e, -1)) >= 0:
                positions.append(start + (layer + self.strides[c][i]) * size + local[v])
                flags.append(0)
            else:
                positions.append(start + (0 if shifted else layer * size) + local[v])
                flags.append(1 if shifted else 0)
        leaving: float | None = None
        if here in positions:
            leaving = math.fsum(
                p for p, t in zip(probabilities, positions, strict=True) if t != here
            )
        return Moves(taken, probabilities, positions, flags, leaving)


class _Unroller:
    """Walks the reachable states of a :class:`StateLayout` in block order, solving as it goes.

    ``state_of[q]`` is the state at layout position ``q`` (-1 until reached);
    ``inflow[q]`` the flow that has arrived there from upstream blocks. Each
    block is solved the moment it is reached -- everything upstream of it is
    final by then -- and its outflow pushed forward; the transitions are
    recorded as parallel lists (``src``, ``dst``, ``prob``, ``via``).

    Block kinds: :meth:`solve_step` (one state; one way on passes all on),
    :meth:`solve_one` (one state, its inflow over its exit share) and
    :meth:`solve_block` (several states: one linear system).
    """

    def __init__(self, process: Process, layout: StateLayout) -> None:
        self.process = process
        self.layout = layout
        self.state_of = [-1] * layout.total
        self.inflow = [0.0] * layout.total
        self.state_step: list[int] = []
        self.src: list[int] = []
        self.dst: list[int] = []
        self.prob: list[float] = []
        self.via: list[int] = []
        self.out: list[Sequence[int]] = []
        self.visits: list[float] = []
        self.blocks: list[list[int]] = []
        self.traps: list[list[int]] = []
        self.unstable: list[list[int]] = []

    def state(self, q: int, step: int) -> int:
        """The state at position ``q`` (at ``step``), added when first reached."""
        s = self.state_of[q]
        if s < 0:
            s = self.state_of[q] = len(self.state_step)
            self.state_step.append(step)
            self.visits.append(0.0)
            self.out.append(_NOTHING)
        return s

    def walk(self) -> Chain:
        """Every reachable state, block by block in topological order; the solved chain."""
        layout = self.layout
        origin = layout.graph.start
        self.state(layout.at0[origin], origin)
        self.inflow[layout.at0[origin]] = 1.0
        for c, members in enumerate(layout.components):
            if c in layout.caps:  # a loop with counted edges: layer by layer
                self.walk_layers(c)
            elif len(members) > 1:
                self.solve_block(members, 0, layout.base[c], 0)
            else:  # one step, one layer: most of a process
                u = members[0]
                self.solve_step(u, 0, layout.base[c], 0, layout.one_way[u])
        if self.traps:
            raise ProcessError([self.trap(t) for t in self.traps])
        return self.chain()

    def walk_layers(self, c: int) -> None:
        """A component with counted edges: its layers in increasing order, sub-blocks in order."""
        layout = self.layout
        size = len(layout.components[c])
        state_of, local, one_way = self.state_of, layout.local, layout.one_way
        first, target, component_of = layout.graph.first, layout.graph.target, layout.component_of
        for layer in range(layout.layers[c]):
            offset = layout.base[c] + layer * size
            if max(state_of[offset : offset + size]) < 0:
                continue  # no state of this layer is reached (layers only ever grow)
            shift = layer * size
            for block in layout.sub_blocks[c]:
                if len(block) > 1:
                    self.solve_block(block, layer, offset, shift)
                    continue
                u = block[0]
                t = one_way[u]
                if t >= 0 and component_of[target[first[u]]] == c:
                    t += shift
                self.solve_step(u, layer, offset + local[u], shift, t)

    def solve_step(self, u: int, layer: int, q: int, shift: int, t: int) -> None:
        """A block of one state: step ``u`` at position ``q``; ``t`` its one way on, else -1."""
        s = self.state_of[q]
        if s < 0:
            return
        if t < 0 or t == q:  # several ways on, or its only way on is itself (a trap)
            self.solve_one(u, layer, q, shift)
            return
        self.blocks.append([s])  # one way on: all that arrives moves on
        value = self.visits[s] = self.inflow[q]
        e = self.layout.graph.first[u]
        v = self.layout.graph.target[e]
        state = self.state(t, v)
        dst = self.dst
        self.out[s] = range(len(dst), len(dst) + 1)
        dst.append(state)
        self.src.append(s)
        self.prob.append(1.0)
        self.via.append(e)
        self.inflow[t] += value * self.layout.graph.share[v]

    def solve_one(self, u: int, layer: int, q: int, shift: int) -> None:
        """Visits of the state of step ``u`` at position ``q``: its inflow over its exit share."""
        s = self.state_of[q]
        if s < 0:
            return
        self.blocks.append([s])
        arriving = self.inflow[q]
        if self.layout.graph.end[u]:
            self.visits[s] = arriving
            return
        edges, probabilities, positions, flags, leaving = self.layout.moves(u, layer)
        if not edges:
            raise self.dead_end(u)
        if leaving is None:
            value = arriving
        elif leaving > 0.0:
            value = arriving / leaving
        else:
            self.traps.append([s])
            return
        self.visits[s] = value
        dst, inflow, target = self.dst, self.inflow, self.layout.graph.target
        share = self.layout.graph.share
        k0 = len(dst)
        for e, p, t, f in zip(edges, probabilities, positions, flags, strict=True):
            if f:
                t += shift
            dst.append(self.state(t, target[e]))
            if t != q:
                inflow[t] += value * p * share[target[e]]
        self.src.extend([s] * len(edges))
        self.prob.extend(probabilities)
        self.via.extend(edges)
        self.out[s] = range(k0, len(dst))

    def solve_block(self, members: list[int], layer: int, offset: int, shift: int) -> None:
        """A block of several states (a loop) in ``layer``, solved given the flow into it."""
        inside = {offset + self.layout.local[u]: u for u in members}
        index: dict[int, int] = {}
        order: list[int] = []
        for q in inside:
            if self.state_of[q] >= 0:
                index[q] = len(order)
                order.append(q)
        if not order:
            return
        taken, arriving = self.expand_loop(inside, index, order, layer, shift)
        states = [self.state_of[q] for q in order]
        self.blocks.append(states)
        stuck = _stuck(index, [positions for _p, positions in taken])
        if stuck:
            self.traps.append([states[i] for i in stuck])
            return
        passes = [
            [
                (j, p * a)
                for p, t, a in zip(probabilities, positions, shares, strict=True)
                if (j := index.get(t)) is not None
            ]
            for (probabilities, positions), shares in zip(taken, arriving, strict=True)
        ]
        exits = [
            math.fsum(p for p, t in zip(probabilities, positions, strict=True) if t not in index)
            for probabilities, positions in taken
        ]
        entering = [self.inflow[q] for q in order]
        solution = solve_loop(passes, entering, exits)
        leaving = []
        inflow, visits = self.inflow, self.visits
        for i, (probabilities, positions) in enumerate(taken):
            value = solution[i]
            visits[states[i]] = value
            for p, t, a in zip(probabilities, positions, arriving[i], strict=True):
                if t not in index:
                    inflow[t] += value * p * a
                    leaving.append(value * p)
        # every case that enters a loop leaves it: when the solve lost that balance (a loop
        # left with a probability near the underflow limit) its visits are not to be trusted
        arrived = safe_sum(entering)
        if min(solution) < 0.0 or not abs(safe_sum(leaving) - arrived) <= 1e-6 * arrived:
            self.unstable.append(states)

    def expand_loop(
        self,
        inside: dict[int, int],
        index: dict[int, int],
        order: list[int],
        layer: int,
        shift: int,
    ) -> tuple[list[tuple[list[float], list[int]]], list[list[float]]]:
        """Record the moves of a loop's states; states reached only from inside join ``order``.

        Returns the ``(probabilities, positions)`` of each state of ``order``, and per state
        the arrival share (:attr:`Chain.share`) of each move's target.
        """
        dst, target, state_of = self.dst, self.layout.graph.target, self.state_of
        share = self.layout.graph.share
        taken: list[tuple[list[float], list[int]]] = []
        arriving: list[list[float]] = []
        i = 0
        while i < len(order):
            q = order[i]
            u = inside[q]
            edges, probabilities, positions, flags, _leaving = self.layout.moves(u, layer)
            if not edges:
                raise self.dead_end(u)
            if shift:
                positions = [t + shift if f else t for t, f in zip(positions, flags, strict=True)]
            s = state_of[q]
            k0 = len(dst)
            for e, t in zip(edges, positions, strict=True):
                dst.append(self.state(t, target[e]))
                if t in inside and t not in index:
                    index[t] = len(order)
                    order.append(t)
            self.src.extend([s] * len(edges))
            self.prob.extend(probabilities)
            self.via.extend(edges)
            self.out[s] = range(k0, len(dst))
            taken.append((probabilities, positions))
            arriving.append([share[target[e]] for e in edges])
            i += 1
        return taken, arriving

    def dead_end(self, u: int) -> ProcessError:
        step = self.layout.graph.steps[u]
        return ProcessError(
            [
                _problem(
                    self.process,
                    "PF104",
                    f"step {step!r} is a dead end once its bounded edges are used up: "
                    "add a transition without 'max'",
                    ("steps", step),
                )
            ]
        )

    def trap(self, states: list[int]) -> Problem:
        return _trap(
            self.process, self.layout.graph.steps, self.state_step, self.layout.kept, states
        )

    def chain(self) -> Chain:
        layout = self.layout
        return Chain(
            steps=layout.graph.steps,
            feedback=tuple(layout.graph.feedback),
            state_step=self.state_step,
            src=self.src,
            dst=self.dst,
            prob=self.prob,
            edge=self.via,
            start=0,
            blocks=self.blocks,
            bounds=layout.kept,
            dropped=layout.dropped,
            visits=self.visits,
            zero_edges=0.0 in layout.weight,
            _out=self.out,
            _first=layout.graph.first,
            _unstable=self.unstable,
            _dropped_edges=layout.dropped_edges,
            share=layout.graph.share if any(layout.graph.fork) else (),
        )


_NOTHING = range(0)


def _stuck(index: dict[int, int], positions: list[list[int]]) -> list[int]:
    """States of a block (by local index) from which no move ever leaves the block."""
    predecessors: list[list[int]] = [[] for _ in positions]
    frontier = []
    for i, targets in enumerate(positions):
        for t in targets:
            j = index.get(t)
            if j is None:
                frontier.append(i)
            elif j != i:
                predecessors[j].append(i)
    leaves = [False] * len(positions)
    for i in frontier:
        leaves[i] = True
    while frontier:
        for i in predecessors[frontier.pop()]:
            if not leaves[i]:
                leaves[i] = True
                frontier.append(i)
    return [i for i, ok in enumerate(leaves) if not ok]


def _trap(
    process: Process,
    steps: Sequence[str],
    state_step: list[int],
    bounds: tuple[Bound, ...],
    states: list[int],
) -> Problem:
    names = sorted({state_step[s] for s in states})
    shown = ", ".join(repr(steps[u]) for u in names)
    return _problem(
        process,
        "PF105",
        f"cases are trapped in {shown}: no way out to an end step"
        + (" once the bounded edges are used up" if bounds else ""),
        ("steps", steps[names[0]]),
    )


def _check_finite(process: Process, chain: Chain) -> None:
    """Raise when a loop is left so rarely that its visits are beyond floating point."""
    visits, blocks, unstable = chain.visits, chain.blocks, chain._unstable
    if not unstable and math.isfinite(sum(visits)):
        return
    for block in unstable + blocks:
        if block in unstable or not all(math.isfinite(visits[s]) for s in block):
            step = chain.steps[min(chain.state_step[s] for s in block)]
            raise SimulationError(
                f"{process.position(('steps', step))}: cases leave the loop through step "
                f"{step!r} so rarely that the expected visits are beyond floating point: "
                "give its exits a larger probability"
            )


#: Rounds of :func:`_thin`, and the state space of the coarse chain its rounds solve.
THIN_ROUNDS = 12
THIN_STATES = 4096
#: Work (sum of cubed loop sizes) of a coarse chain past which the rounds are cut.
THIN_WORK = 10**8
#: Rounds of refinement on the full chain, when it has at most REFINE_STATES states.
REFINE_ROUNDS = 2
REFINE_STATES = 100_000


def bounded_takes(unbounded: float, most: int) -> float:
    """Expected takes of an edge capped at ``most`` whose uncapped takes average ``unbounded``.

    Reads the uncapped count as geometric (``P(K >= k) = r**k`` with mean
    ``unbounded``): exact for a loop back to the same step, and never more
    than ``most``.

    >>> round(bounded_takes(0.25, 1), 6)  # p = 0.2 back to itself, max 1
    0.2
    """
    cap = float(min(most, 10**300))  # a max of 400 digits is no cap a float can tell
    if not math.isfinite(unbounded) or unbounded > 1e15:
        return cap
    if unbounded <= 0.0:
        return 0.0
    r = unbounded / (1.0 + unbounded)
    return r * -math.expm1(cap * math.log(r)) / (1.0 - r)


def edge_takes(chain: Chain, edges: Sequence[int]) -> dict[int, float]:
    """Expected times per case each of ``edges`` (indices into the process's edges) is taken."""
    wanted = dict.fromkeys(edges, 0.0)
    visits, prob = chain.visits, chain.prob
    for k, e in enumerate(chain.edge):
        if e in wanted:
            wanted[e] += visits[chain.src[k]] * prob[k]
    return wanted


def _thin(process: Process, graph: _Graph, max_states: int, chain: Chain) -> Chain:
    """The chain with each dropped bound's edge made rarer, so it is taken about as often as capped.

    A dropped ``max: N`` edge would otherwise count as unbounded, and several
    of them in one loop compound into visits no case can make. Each dropped
    edge gets a target, :func:`bounded_takes` of its uncapped takes (never
    more than ``N``), and a factor on its weight, fitted by secant steps on
    a log scale (:func:`_fit`): first on a coarse chain (at most
    :data:`THIN_STATES` states, so a few more bounds are dropped and fitted
    there too), then -- where the full chain is small enough to solve again
    -- :data:`REFINE_ROUNDS` more rounds on the full chain, whose bounds the
    coarse one had thinned instead of counting exactly.
    """
    coarse_states = min(max_states, THIN_STATES)
    coarse = chain if chain.size <= coarse_states else _unroll(process, graph, coarse_states)
    most = dict(coarse._dropped_edges)
    takes = edge_takes(coarse, list(most))
    goal = {e: bounded_takes(takes[e], most[e]) for e in most}
    log_factor = dict.fromkeys(most, 0.0)
    coarse = _fit(process, graph, coarse_states, coarse, goal, log_factor, _rounds(coarse))
    if coarse_states == max_states:
        return coarse
    _check_finite(process, coarse)  # still beyond floating point: say so before a long unroll
    wanted = {e: log_factor[e] for e, _most in chain._dropped_edges}
    full = _unroll(process, graph, max_states, _factors(wanted))
    rounds = REFINE_ROUNDS if full.size <= REFINE_STATES else 0
    return _fit(process, graph, max_states, full, goal, wanted, rounds)


def _rounds(chain: Chain) -> int:
    """Fitting rounds for ``chain``: fewer where its loops are large (each round solves it)."""
    work = sum(len(block) ** 3 for block in chain.blocks) + chain.size
    return max(3, min(THIN_ROUNDS, int(THIN_ROUNDS * THIN_WORK / work)))


def _fit(
    process: Process,
    graph: _Graph,
    states: int,
    chain: Chain,
    goal: dict[int, float],
    log_factor: dict[int, float],
    rounds: int,
) -> Chain:
    """Scale the weights of ``log_factor``'s edges until each is taken ``goal`` times.

    Secant steps on a log scale, to a relative 1e-4 or ``rounds`` chain
    solves; ``log_factor`` is updated in place and the last chain returned.
    """
    edges = list(log_factor)
    takes = edge_takes(chain, edges)
    before: dict[int, tuple[float, float]] = {}
    for _ in range(rounds):
        moved = False
        for e in edges:
            t, g, x = takes[e], goal[e], log_factor[e]
            if g <= 0.0 or abs(t - g) <= 1e-4 * g:
                continue
            moved = True
            if not math.isfinite(t) or t > 1e15:
                step = -5.0  # beyond floating point: a hundred and fifty times rarer
            else:
                # d log(takes) / d log(factor): 1 + takes for a loop back to its own
                # step; measured from the last round once there is one
                slope = 1.0 + min(t, g)
                if e in before:
                    x0, t0 = before[e]
                    if abs(x - x0) > 1e-12 and 0.0 < t0 < 1e15 and t > 0.0:
                        slope = min(max((math.log(t) - math.log(t0)) / (x - x0), 0.25), 1.0 + 2 * g)
                step = (math.log(g) - math.log(max(t, 1e-300))) / slope
            before[e] = (x, t)
            log_factor[e] = min(max(x + step, -40.0), 0.0)
        if not moved:
            break
        chain = _unroll(process, graph, states, _factors(log_factor))
        takes = edge_takes(chain, edges)
    return chain


def _factors(log_factor: dict[int, float]) -> dict[int, float]:
    return {e: math.exp(x) for e, x in log_factor.items() if x != 0.0}


# --------------------------------------------------------------------------
# visits, flows, rework, fastest path


def solve_visits(
    chain: Chain, *, skip: Callable[[int], bool] | None = None, method: str = "auto"
) -> list[float]:
    """Expected visits of every state per case, block by block in topological order.

    ``skip(edge)`` removes the transitions along process edge ``edge`` (they
    lead out of the chain), which is how rework is measured. Without
    ``skip`` this solves the system again from the chain's transitions (the
    same numbers as ``chain.visits``). ``method`` picks the solve of loops
    (:func:`~procflow.analysis.linear.solve_loop`: ``"auto"``, ``"dense"``
    or ``"sparse"``).
    """
    n = chain.size
    inflow = [0.0] * n
    inflow[chain.start] = 1.0
    visits = [0.0] * n
    dst, edge, out = chain.dst, chain.edge, chain._out
    prob = _arriving(chain)
    kept = [True] * len(dst) if skip is None else [not skip(e) for e in edge]
    block_of = [0] * n
    for b, members in enumerate(chain.blocks):
        for member in members:
            block_of[member] = b
    for b, members in enumerate(chain.blocks):
        if len(members) == 1:
            x = members[0]
            arriving = inflow[x]
            ks = out[x]
            if any(dst[k] == x and kept[k] for k in ks):  # leaving: every other move, skipped too
                leaving = math.fsum(chain.prob[k] for k in ks if dst[k] != x or not kept[k])
                value = arriving / leaving if leaving > 0.0 else math.inf
            else:
                value = arriving
            visits[x] = value
            if value != 0.0:
                for k in ks:
                    if dst[k] != x and kept[k]:
                        inflow[dst[k]] += value * prob[k]
            continue
        local = {member: i for i, member in enumerate(members)}
        passes = [
            [(j, prob[k]) for k in out[m] if (j := local.get(dst[k])) is not None and kept[k]]
            for m in members
        ]
        exits = [
            math.fsum(chain.prob[k] for k in out[m] if not kept[k] or dst[k] not in local)
            for m in members
        ]
        solution = solve_loop(passes, [inflow[m] for m in members], exits, method=method)
        for m, value in zip(members, solution, strict=True):
            visits[m] = value
            for k in out[m]:
                if block_of[dst[k]] != b and kept[k]:
                    inflow[dst[k]] += value * prob[k]
    return visits


def _arriving(chain: Chain) -> list[float]:
    """Per transition: its probability times the arrival share of its target (docs/parallel-work.md:
    only one of the ``k`` branch tokens arriving at a join makes a visit)."""
    if not chain.share:
        return chain.prob
    share, steps = chain.share, chain.state_step
    return [p * share[steps[d]] for p, d in zip(chain.prob, chain.dst, strict=True)]


def solve_dense(chain: Chain) -> np.ndarray:
    """The same visits from one dense ``numpy.linalg.solve`` of ``(I - Q)^T v = e_start``.

    ``O(n^3)``: kept to cross-check :func:`build_chain` and :func:`solve_visits`.
    """
    import numpy as np  # here only: a cross-check, and numpy takes ~50 ms to import

    n = chain.size
    matrix = np.eye(n)
    np.subtract.at(matrix, (np.array(chain.dst), np.array(chain.src)), np.array(_arriving(chain)))
    rhs = np.zeros(n)
    rhs[chain.start] = 1.0
    return np.asarray(np.linalg.solve(matrix, rhs))


def step_visits(chain: Chain, state_visits: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Sum state visits per step; every step of the process appears (0 if never visited)."""
    totals = [0.0] * len(chain.steps)
    for u, value in zip(chain.state_step, state_visits, strict=True):
        totals[u] += value
    return {step: float(total) for step, total in zip(chain.steps, totals, strict=True)}


def step_moves(
    chain: Chain, state_visits: Sequence[float] | np.ndarray
) -> Iterator[tuple[int, int, float]]:
    """``(from step, to step, expected moves per case)`` of every transition, in order.

    A per-case chain (:attr:`Chain.per_case`) says where a token went by the
    edge it took (the state a transition leads to is the whole case, whose next
    moving token may be another one), and a fork's edges to the branches after
    the first (:attr:`Chain.also`) are moves of their own.
    """
    state_step, dst, prob = chain.state_step, chain.dst, chain.prob
    if not chain.per_case:
        for k, s in enumerate(chain.src):
            yield state_step[s], state_step[dst[k]], float(state_visits[s]) * prob[k]
        return
    ends, edge, also = chain.ends, chain.edge, chain.also
    for k, s in enumerate(chain.src):
        flow = float(state_visits[s]) * prob[k]
        yield state_step[s], ends[edge[k]][1], flow
        for e in also.get(k, ()):
            yield ends[e][0], ends[e][1], flow


def step_flows(
    chain: Chain, state_visits: Sequence[float] | np.ndarray
) -> dict[tuple[str, str], float]:
    """Expected number of moves per case from one step to another."""
    flows: dict[tuple[str, str], float] = {}
    steps = chain.steps
    for u, v, flow in step_moves(chain, state_visits):
        key = (steps[u], steps[v])
        flows[key] = flows.get(key, 0.0) + flow
    return flows


#: The most states of a case chain built for the rework rate alone (about a quarter second;
#: the permit example's forks need more and keep the per-token figure).
REWORK_STATES = 5_000


def case_rework(process: Process) -> float | None:
    """The rework rate per case where tokens of one fork can each take a feedback edge.

    :func:`rework_probability` of a per-token chain adds up the flows of the
    tokens' first feedback edges: with feedback in two branches of one fork
    (``p: 0.1`` each) that is 0.2 where a case reworks with probability
    ``1 - 0.9^2 = 0.19``. The case chain (:mod:`procflow.analysis.casechain`)
    follows one path per case, so its rework rate is exact. ``None`` when the
    per-token figure is right (no two tokens of one case can take feedback edges) or the
    case chain cannot be had (a race, too many states: the per-token figure stands).
    """
    compiled = runnable(process)
    if not compiled.has_forks or not _concurrent_feedback(compiled):
        return None
    from procflow.analysis.casechain import DeadEnd, case_chain

    try:
        found = case_chain(compiled, (), REWORK_STATES)
    except DeadEnd:
        return None
    if isinstance(found, str):
        return None
    return rework_probability(_per_case(compiled, _Graph.of(compiled), found, ()))


def _concurrent_feedback(compiled: CompiledProcess) -> bool:
    """Whether two branches of a ``join: all`` fork reach feedback edges, or one does and
    a feedback edge can follow its join (no race anywhere: what a withdrawn branch did
    depends on timing)."""
    forks = compiled.forks.forks
    if any(fork.kind == "first" for fork in forks):
        return False
    sources = {edge.source for edge in compiled.edges if edge.feedback}
    for fork in forks:
        inside = sum(1 for path in fork.paths if sources.intersection(path))
        if inside > 1:
            return True
        if inside and fork.join >= 0:
            # a feedback edge after the join: the token chain's join flow counts the branches
            # that reworked as clean ones, and adds the case's second feedback to its first
            after = reached(compiled.successors, fork.join)
            if any(after[s] for s in sources):
                return True
    return False


def rework_probability(chain: Chain) -> float:
    """Probability that a case takes at least one ``feedback: true`` edge."""
    if not any(chain.feedback):
        return 0.0
    feedback = chain.feedback
    clean = solve_visits(chain, skip=lambda e: feedback[e])
    flow = safe_sum(
        clean[s] * chain.prob[k] for k, s in enumerate(chain.src) if feedback[chain.edge[k]]
    )
    if not math.isfinite(flow):
        return 1.0
    return min(max(flow, 0.0), 1.0)


def fastest_path(
    chain: Chain, cost: Sequence[float], is_end: Sequence[bool]
) -> tuple[float, list[str]] | None:
    """Cheapest way from the start to an end step: ``(sum of cost, steps)`` (Dijkstra).

    ``cost[u]`` is paid on leaving step ``u`` (its duration); only transitions a
    case can actually take are followed, so used-up bounds are honoured.
    Returns ``None`` when no end step is reachable.
    """
    best = [math.inf] * chain.size
    previous = [-1] * chain.size
    best[chain.start] = 0.0
    heap = [(0.0, chain.start)]
    state_step, out, dst = chain.state_step, chain._out, chain.dst
    while heap:
        distance, x = heapq.heappop(heap)
        if distance > best[x]:
            continue
        u = state_step[x]
        if is_end[u]:
            path = []
            while x != -1:
                path.append(chain.steps[state_step[x]])
                x = previous[x]
            return distance, path[::-1]
        candidate = distance + cost[u]
        for k in out[x]:
            y = dst[k]
            if candidate < best[y]:
                best[y] = candidate
                previous[y] = x
                heapq.heappush(heap, (candidate, y))
    return None
