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
renormalized (SPEC 1.1). That is still a Markov chain on a larger state:
``(step, how often each bounded edge has been taken)``. Unrolling the
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

The linear system is solved block by block: the SCCs of the *unrolled* graph
are ordered topologically (a block-triangular matrix), each block is solved
densely with numpy given the flow into it, and its outflow is pushed
forward. Taking a bounded edge raises a counter, so bounded loops unroll
into a chain of small blocks and a process whose every loop is bounded is
solved by forward substitution in linear time; a full dense solve of the
same system (:func:`solve_dense`, kept for cross-checks and the benchmark)
costs ``O(n^3)``.

The approximation
-----------------
When the unrolled state space would exceed ``max_states`` (100,000 by
default: several nested loops with large ``max`` in one component), bounds
are dropped one at a time -- from the component contributing most states,
the bound with the largest ``max`` first (a large bound is the least likely
to be reached, so it changes the visits least) -- until the state space
fits. A dropped bound is treated as no bound, which overstates the visits
of its loop. :class:`Chain` lists every dropped bound and the analysis says
``approximate`` wherever they are used.

Rework (the share of cases that take any ``feedback: true`` edge at least
once) is exact too: it is the total flow through feedback edges in the same
chain with every feedback edge leading to an absorbing "reworked" state.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from procflow.analysis.linear import strongly_connected
from procflow.errors import Problem, ProcessError
from procflow.model import Process

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
    are the SCCs of the state graph in topological order.
    """

    steps: tuple[str, ...]
    edges: tuple[tuple[str, int], ...]
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
    _out: list[list[int]] = field(default_factory=list, repr=False)

    @property
    def size(self) -> int:
        return len(self.state_step)

    @property
    def exact(self) -> bool:
        """False when bounds had to be dropped to keep the state space small."""
        return not self.dropped


# --------------------------------------------------------------------------
# building the unrolled chain


def _problem(process: Process, code: str, message: str, path: tuple[str | int, ...]) -> Problem:
    return Problem(code, message, process.position(path))


def _tracked_bounds(
    process: Process, steps: list[str], component_of: list[int], max_states: int
) -> tuple[dict[tuple[int, int], tuple[int, int]], list[int], tuple[Bound, ...], tuple[Bound, ...]]:
    """Choose the bounded edges to unroll; drop the least binding ones past ``max_states``.

    Returns ``(slot, width, kept, dropped)``: ``slot[(step, edge)] = (component,
    position)`` in that component's counter tuple; ``width[component]`` is the
    tuple length.
    """
    position = {step: i for i, step in enumerate(steps)}
    sizes: dict[int, int] = {}
    for component in component_of:
        sizes[component] = sizes.get(component, 0) + 1
    candidates: dict[int, list[tuple[int, int, int]]] = {}
    for u, step_id in enumerate(steps):
        for k, transition in enumerate(process.steps[step_id].transitions):
            target = position.get(transition.to)
            if transition.max is None or target is None:
                continue
            if component_of[target] == component_of[u]:
                candidates.setdefault(component_of[u], []).append((u, k, transition.max))

    def states(component: int) -> float:
        return sizes[component] * math.prod(m + 1 for _u, _k, m in candidates[component])

    dropped: list[tuple[int, int, int]] = []
    total = sum(sizes.values()) + sum(states(c) - sizes[c] for c in candidates)
    while total > max_states and any(candidates.values()):
        worst = max((c for c in candidates if candidates[c]), key=states)
        before = states(worst)
        largest = max(range(len(candidates[worst])), key=lambda i: candidates[worst][i][2])
        dropped.append(candidates[worst].pop(largest))
        total += states(worst) - before

    def bound(u: int, k: int) -> Bound:
        transition = process.steps[steps[u]].transitions[k]
        assert transition.max is not None
        return Bound(steps[u], transition.trigger, transition.to, transition.max)

    slot: dict[tuple[int, int], tuple[int, int]] = {}
    width = [0] * (max(component_of) + 1 if component_of else 0)
    kept: list[Bound] = []
    for component, edges in candidates.items():
        for i, (u, k, _m) in enumerate(edges):
            slot[(u, k)] = (component, i)
            kept.append(bound(u, k))
        width[component] = len(edges)
    return slot, width, tuple(kept), tuple(bound(u, k) for u, k, _m in dropped)


def build_chain(process: Process, *, max_states: int = MAX_STATES) -> Chain:
    """Unroll the routing of ``process`` into a Markov chain (see the module docstring).

    The process must be structurally sound (targets exist, probabilities
    valid); a state from which nothing is left to take -- every remaining edge
    used up -- raises :class:`ProcessError` (PF104) at that step, and a set of
    states that can never reach an end raises PF105.
    """
    steps = list(process.steps)
    position = {step: i for i, step in enumerate(steps)}
    successors = [
        [position[t.to] for t in process.steps[s].transitions if t.to in position] for s in steps
    ]
    components = strongly_connected(len(steps), successors)
    component_of = [0] * len(steps)
    for c, members in enumerate(components):
        for member in members:
            component_of[member] = c
    slot, width, kept, dropped = _tracked_bounds(process, steps, component_of, max_states)

    edges: list[tuple[str, int]] = []
    edge_id: dict[tuple[int, int], int] = {}
    feedback: list[bool] = []
    for u, step_id in enumerate(steps):
        for k, transition in enumerate(process.steps[step_id].transitions):
            edge_id[(u, k)] = len(edges)
            edges.append((step_id, k))
            feedback.append(transition.feedback)

    start = position[process.start]
    index: dict[tuple[int, tuple[int, ...]], int] = {}
    state_step: list[int] = []
    src: list[int] = []
    dst: list[int] = []
    prob: list[float] = []
    via: list[int] = []

    def state(u: int, counters: tuple[int, ...]) -> int:
        key = (u, counters)
        found = index.get(key)
        if found is None:
            found = index[key] = len(state_step)
            state_step.append(u)
            queue.append(key)
        return found

    queue: deque[tuple[int, tuple[int, ...]]] = deque()
    first = state(start, (0,) * width[component_of[start]])
    while queue:
        u, counters = queue.popleft()
        here = index[(u, counters)]
        step = process.steps[steps[u]]
        if step.end:
            continue
        available: list[tuple[int, float | None, int | None]] = []
        for k, transition in enumerate(step.transitions):
            place = slot.get((u, k))
            if place is not None:
                assert transition.max is not None
                if counters[place[1]] >= transition.max:
                    continue
            available.append((k, transition.p, None if place is None else place[1]))
        if not available:
            raise ProcessError(
                [
                    _problem(
                        process,
                        "PF104",
                        f"step {steps[u]!r} is a dead end once its bounded edges are used up: "
                        "add a transition without 'max'",
                        ("steps", steps[u]),
                    )
                ]
            )
        weights = [p if p is not None else 1.0 for _k, p, _s in available]
        total = math.fsum(weights)
        if total <= 0.0:  # only p = 0 edges remain: take them with equal shares
            weights, total = [1.0] * len(available), float(len(available))
        for (k, _p, counter), weight in zip(available, weights, strict=True):
            if weight <= 0.0:
                continue
            v = position[step.transitions[k].to]
            if component_of[v] == component_of[u]:
                after = counters
                if counter is not None:
                    after = (*counters[:counter], counters[counter] + 1, *counters[counter + 1 :])
            else:
                after = (0,) * width[component_of[v]]
            target = state(v, after)
            src.append(here)
            dst.append(target)
            prob.append(weight / total)
            via.append(edge_id[(u, k)])

    n = len(state_step)
    out: list[list[int]] = [[] for _ in range(n)]
    for k, s in enumerate(src):
        out[s].append(k)
    state_successors = [[dst[k] for k in ks] for ks in out]
    blocks = strongly_connected(n, state_successors)
    blocks.reverse()
    chain = Chain(
        steps=tuple(steps),
        edges=tuple(edges),
        feedback=tuple(feedback),
        state_step=state_step,
        src=src,
        dst=dst,
        prob=prob,
        edge=via,
        start=first,
        blocks=blocks,
        bounds=kept,
        dropped=dropped,
        _out=out,
    )
    _check_absorbing(process, chain)
    return chain


def _check_absorbing(process: Process, chain: Chain) -> None:
    """Raise PF105 when some reachable states can never reach an end step."""
    block_of = [0] * chain.size
    for b, members in enumerate(chain.blocks):
        for member in members:
            block_of[member] = b
    traps: list[list[int]] = []
    for b, members in enumerate(chain.blocks):
        if len(members) == 1 and process.steps[chain.steps[chain.state_step[members[0]]]].end:
            continue
        leaves = any(block_of[chain.dst[k]] != b for m in members for k in chain._out[m])
        if not leaves:
            traps.append(members)
    if not traps:
        return
    problems = []
    for members in traps:
        names = sorted({chain.steps[chain.state_step[m]] for m in members}, key=chain.steps.index)
        shown = ", ".join(repr(name) for name in names)
        problems.append(
            _problem(
                process,
                "PF105",
                f"cases are trapped in {shown}: no way out to an end step"
                + (" once the bounded edges are used up" if chain.bounds else ""),
                ("steps", names[0]),
            )
        )
    raise ProcessError(problems)


# --------------------------------------------------------------------------
# solving for visits


def solve_visits(chain: Chain, *, skip: Callable[[int], bool] | None = None) -> np.ndarray:
    """Expected visits of every state per case, block by block in topological order.

    ``skip(edge)`` removes the transitions along process edge ``edge`` (they
    lead out of the chain), which is how rework is measured.
    """
    n = chain.size
    inflow = [0.0] * n
    inflow[chain.start] = 1.0
    visits = [0.0] * n
    block_of = [0] * n
    for b, members in enumerate(chain.blocks):
        for member in members:
            block_of[member] = b
    dst, prob, edge, out = chain.dst, chain.prob, chain.edge, chain._out
    for b, members in enumerate(chain.blocks):
        if len(members) == 1:
            x = members[0]
            loop = 0.0
            for k in out[x]:
                if dst[k] == x and not (skip is not None and skip(edge[k])):
                    loop += prob[k]
            value = inflow[x] / (1.0 - loop)
            visits[x] = value
            if value == 0.0:
                continue
            for k in out[x]:
                if dst[k] != x and not (skip is not None and skip(edge[k])):
                    inflow[dst[k]] += value * prob[k]
            continue
        local = {member: i for i, member in enumerate(members)}
        size = len(members)
        matrix = np.eye(size)
        rhs = np.array([inflow[m] for m in members])
        for m in members:
            for k in out[m]:
                if block_of[dst[k]] == b and not (skip is not None and skip(edge[k])):
                    matrix[local[dst[k]], local[m]] -= prob[k]
        solution = np.linalg.solve(matrix, rhs)
        for m, value in zip(members, solution.tolist(), strict=True):
            visits[m] = value
            for k in out[m]:
                if block_of[dst[k]] != b and not (skip is not None and skip(edge[k])):
                    inflow[dst[k]] += value * prob[k]
    return np.array(visits)


def solve_dense(chain: Chain) -> np.ndarray:
    """The same visits from one dense ``numpy.linalg.solve`` of ``(I - Q)^T v = e_start``.

    ``O(n^3)``: kept to cross-check :func:`solve_visits` and for the benchmark.
    """
    n = chain.size
    matrix = np.eye(n)
    np.subtract.at(matrix, (np.array(chain.dst), np.array(chain.src)), np.array(chain.prob))
    rhs = np.zeros(n)
    rhs[chain.start] = 1.0
    return np.asarray(np.linalg.solve(matrix, rhs))


def step_visits(chain: Chain, state_visits: np.ndarray) -> dict[str, float]:
    """Sum state visits per step; every step of the process appears (0 if never visited)."""
    totals = np.bincount(
        np.array(chain.state_step, dtype=np.intp), weights=state_visits, minlength=len(chain.steps)
    )
    return {step: float(totals[i]) for i, step in enumerate(chain.steps)}


def step_flows(chain: Chain, state_visits: np.ndarray) -> dict[tuple[str, str], float]:
    """Expected number of moves per case from one step to another."""
    flows: dict[tuple[str, str], float] = {}
    for k, s in enumerate(chain.src):
        key = (chain.steps[chain.state_step[s]], chain.steps[chain.state_step[chain.dst[k]]])
        flows[key] = flows.get(key, 0.0) + float(state_visits[s]) * chain.prob[k]
    return flows


def rework_probability(chain: Chain) -> float:
    """Probability that a case takes at least one ``feedback: true`` edge."""
    if not any(chain.feedback):
        return 0.0
    feedback = chain.feedback
    clean = solve_visits(chain, skip=lambda e: feedback[e])
    total = math.fsum(
        float(clean[s]) * chain.prob[k] for k, s in enumerate(chain.src) if feedback[chain.edge[k]]
    )
    return min(max(total, 0.0), 1.0)


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
    while heap:
        distance, x = heapq.heappop(heap)
        if distance > best[x]:
            continue
        u = chain.state_step[x]
        if is_end[u]:
            path = []
            while x != -1:
                path.append(chain.steps[chain.state_step[x]])
                x = previous[x]
            return distance, path[::-1]
        for k in chain._out[x]:
            y = chain.dst[k]
            candidate = distance + cost[u]
            if candidate < best[y]:
                best[y] = candidate
                previous[y] = x
                heapq.heappush(heap, (candidate, y))
    return None
