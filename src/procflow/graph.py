"""The step graph of a process, and pure analyses over it.

:func:`process_graph` turns a :class:`~procflow.model.Process` into a
networkx :class:`~networkx.MultiDiGraph`: one node per step in file order
(attributes ``owner``, ``end``, ``title``), one edge per transition keyed
by its trigger (attributes ``to``, ``p``, ``feedback``, ``max``,
``trigger``). Transitions to steps that do not exist are left out -- the
linter reports them (PF101) -- so every analysis here can trust the graph.
The start step is kept as the graph attribute ``start``.

The analyses are plain functions of that graph, in the manner of
``networkx.algorithms``: the lint rules call them, and so can users (to
find the mandatory steps of a process, or where work bounces between two
teams). Every one runs in time near-linear in the size of the graph, since
they run on 10,000-step processes inside the lint time budget: nothing
here enumerates paths.

Results that are lists of steps are in file order, the order a reader of
the YAML file sees, so findings and tests are deterministic.

Views that several analyses share (the :func:`forward_graph`, its
topological order, the file order) are computed once per graph and kept in
networkx's per-graph cache, ``G.__networkx_cache__``, which networkx empties
whenever the graph's structure changes through its methods. Change edge
attributes in place (``feedback``) and you must empty it yourself.

>>> from procflow.loader import load_text
>>> p = load_text('''{process: p, start: a, owners: {x: {}, y: {}},
...   steps: {a: {owner: x, next: b}, b: {owner: y, on: {ok: done, redo: {to: a, feedback: true}}},
...           done: {end: true}}}''')
>>> G = process_graph(p)
>>> list(G), G.graph["start"]
(['a', 'b', 'done'], 'a')
>>> sorted((u, v, k) for u, v, k in G.edges(keys=True))
[('a', 'b', 'next'), ('b', 'a', 'redo'), ('b', 'done', 'ok')]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import networkx as nx

if TYPE_CHECKING:
    from procflow.model import Process, Step

__all__ = [
    "Edge",
    "Handoff",
    "PingPong",
    "dominators",
    "end_steps",
    "feedback_edges",
    "forward_graph",
    "handoffs",
    "has_transitions",
    "has_unknown_targets",
    "mandatory_steps",
    "ping_pongs",
    "process_edges",
    "process_graph",
    "reachable_steps",
    "step_edges",
    "steps_reaching_end",
    "traps",
    "unknown_target_edges",
    "unmarked_cycles",
    "unreachable_steps",
]


class Edge(NamedTuple):
    """One transition of a step, flattened: the fields lint and the graph need."""

    source: str
    target: str
    trigger: str
    p: float | None
    feedback: bool
    max: int | None


def step_edges(step_id: str, step: Step) -> list[Edge]:
    """The transitions of one step as :class:`Edge` values, in file order.

    Reads the public ``next``/``on`` fields directly, which is much faster
    than :attr:`Step.transitions` on large processes.
    """
    if step.next is not None:
        return [Edge(step_id, step.next, "next", None, False, None)]
    if not step.on:
        return []
    return [Edge(step_id, t.to, trigger, t.p, t.feedback, t.max) for trigger, t in step.on.items()]


def process_edges(process: Process) -> Iterator[Edge]:
    """Every transition of ``process`` as an :class:`Edge`, in file order (unknown targets too)."""
    for step_id, step in process.steps.items():
        yield from step_edges(step_id, step)


def has_transitions(step: Step) -> bool:
    """Whether the step has any outgoing transition (``next:`` or a non-empty ``on:``)."""
    return step.next is not None or bool(step.on)


def unknown_target_edges(process: Process) -> Iterator[Edge]:
    """The transitions that point to a step that does not exist, in file order.

    They are the edges :func:`process_graph` leaves out (and lint reports, PF101).
    """
    steps = process.steps
    for step_id, step in steps.items():
        if step.next is not None:
            if step.next not in steps:
                yield from step_edges(step_id, step)
        elif step.on and any(t.to not in steps for t in step.on.values()):
            yield from (edge for edge in step_edges(step_id, step) if edge.target not in steps)


def has_unknown_targets(process: Process) -> bool:
    """Whether some transition points to a step that does not exist."""
    return next(unknown_target_edges(process), None) is not None


def process_graph(process: Process) -> nx.MultiDiGraph:
    """The step graph of ``process``: nodes are steps in file order, edges are transitions.

    Edges are keyed by trigger (``next`` for the ``next:`` form) and carry
    ``to``, ``p``, ``feedback``, ``max`` and ``trigger``; transitions to
    unknown steps are left out. ``G.graph`` holds ``process`` (the id) and
    ``start``.
    """
    steps = process.steps
    graph = nx.MultiDiGraph(process=process.id, start=process.start)
    add_node = graph.add_node  # add_nodes_from takes a slow exception path for (node, data)
    for step_id, step in steps.items():
        add_node(step_id, owner=step.owner, end=step.end, title=step.title)
    add_edge = graph.add_edge  # one call per edge: add_edges_from goes through slow views
    for edge in process_edges(process):
        if edge.target in steps:
            add_edge(
                edge.source,
                edge.target,
                edge.trigger,
                to=edge.target,
                p=edge.p,
                feedback=edge.feedback,
                max=edge.max,
                trigger=edge.trigger,
            )
    return graph


# --------------------------------------------------------------------------
# helpers


def _start(graph: nx.MultiDiGraph, start: str | None) -> str | None:
    return start if start is not None else graph.graph.get("start")


def _cached(graph: nx.MultiDiGraph, name: str, compute: Callable[[], Any]) -> Any:
    """A value derived from ``graph``, computed once and kept in networkx's per-graph cache.

    networkx clears ``__networkx_cache__`` whenever the graph's structure
    changes through its methods, so a derived value never outlives the
    graph it was computed from.
    """
    cache = getattr(graph, "__networkx_cache__", None)
    if cache is None:  # networkx without the cache
        return compute()
    ours = cache.setdefault("procflow", {})
    if name not in ours:
        ours[name] = compute()
    return ours[name]


def _order(graph: nx.MultiDiGraph) -> dict[str, int]:
    """Position of every step in file order (the node insertion order)."""
    order: dict[str, int] = _cached(
        graph, "order", lambda: {node: index for index, node in enumerate(graph)}
    )
    return order


def _forward(graph: nx.MultiDiGraph) -> nx.DiGraph:
    """The shared (cached) forward graph; callers must not change it."""
    return _cached(graph, "forward", lambda: forward_graph(graph))


def _forward_topological(graph: nx.MultiDiGraph) -> list[str] | None:
    """A topological order of the forward graph, or ``None`` when it has a cycle."""

    def compute() -> list[str] | None:
        try:
            return list(nx.topological_sort(_forward(graph)))
        except nx.NetworkXUnfeasible:
            return None

    order: list[str] | None = _cached(graph, "forward-topological", compute)
    return order


def forward_graph(graph: nx.MultiDiGraph) -> nx.DiGraph:
    """The transitions a case takes going forward, as a plain :class:`~networkx.DiGraph`.

    Feedback edges are left out, and so are transitions out of end steps
    (a case is done at an end step, so it never takes them; PF106 reports
    them). A well-formed process gives an acyclic graph here, because
    every loop contains a feedback edge. Parallel transitions between two
    steps become one edge. The result is a new graph, free to change.

    >>> from procflow.loader import load_text
    >>> p = load_text('''{process: p, start: a, steps: {a: {next: b},
    ...   b: {on: {ok: c, back: {to: a, feedback: true}}}, c: {end: true}}}''')
    >>> sorted(forward_graph(process_graph(p)).edges)
    [('a', 'b'), ('b', 'c')]
    """
    ends = dict(graph.nodes(data="end"))
    forward = nx.DiGraph()
    forward.add_nodes_from(graph)
    forward.add_edges_from(
        (u, v) for u, v, feedback in graph.edges(data="feedback") if not (feedback or ends[u])
    )
    return forward


# --------------------------------------------------------------------------
# reachability


def end_steps(graph: nx.MultiDiGraph) -> list[str]:
    """The end steps (``end: true``), in file order."""
    return [node for node, end in graph.nodes(data="end") if end]


def reachable_steps(graph: nx.MultiDiGraph, start: str | None = None) -> set[str]:
    """Steps a case can reach from ``start`` (default: the process start), ``start`` included.

    Empty when ``start`` is not a step.

    >>> from procflow.loader import load_text
    >>> p = load_text('{process: p, start: a, steps: {a: {next: b}, b: {end: true}, c: {next: b}}}')
    >>> sorted(reachable_steps(process_graph(p)))
    ['a', 'b']
    """
    start = _start(graph, start)
    if start is None or start not in graph:
        return set()
    reached: set[str] = nx.descendants(graph, start)
    reached.add(start)
    return reached


def unreachable_steps(graph: nx.MultiDiGraph, start: str | None = None) -> list[str]:
    """Steps no case can reach from ``start``, in file order.

    Every step when ``start`` is not a step (the linter reports that as
    PF102 instead).

    >>> from procflow.loader import load_text
    >>> p = load_text('{process: p, start: a, steps: {a: {next: b}, b: {end: true}, c: {next: b}}}')
    >>> unreachable_steps(process_graph(p))
    ['c']
    """
    reached = reachable_steps(graph, start)
    return [node for node in graph if node not in reached]


def steps_reaching_end(graph: nx.MultiDiGraph) -> set[str]:
    """Steps from which some path leads to an end step (end steps included)."""
    ends = end_steps(graph)
    if not ends:
        return set()
    reverse = graph.reverse(copy=False)
    return {node for layer in nx.bfs_layers(reverse, ends) for node in layer}


def traps(graph: nx.MultiDiGraph) -> list[list[str]]:
    """Groups of steps from which no end step can ever be reached.

    A case that enters such a step never finishes: it circles in a loop
    with no exit, runs into a step with nowhere to go, or follows a chain
    into one of those. The steps that cannot reach an end are grouped by
    *weak connectivity*: a loop with no exit and every chain that leads only
    into it form one group, two separate loops form two groups. Each group
    is in file order, groups are ordered by their first step.

    When the process has no end step at all, every step is in a trap.

    >>> from procflow.loader import load_text
    >>> p = load_text('''{process: p, start: a, steps: {a: {on: {go: b, other: x}},
    ...   b: {next: c}, c: {next: b}, x: {next: done}, done: {end: true}}}''')
    >>> traps(process_graph(p))
    [['b', 'c']]
    """
    reaching = steps_reaching_end(graph)
    if len(reaching) == len(graph):
        return []
    stuck = graph.subgraph(node for node in graph if node not in reaching)
    order = _order(graph)
    groups = [
        sorted(component, key=order.__getitem__)
        for component in nx.weakly_connected_components(stuck)
    ]
    return sorted(groups, key=lambda group: order[group[0]])


# --------------------------------------------------------------------------
# loops


def feedback_edges(graph: nx.MultiDiGraph) -> list[tuple[str, str, str]]:
    """Transitions marked ``feedback: true`` as ``(from_step, to_step, trigger)``, in file order.

    >>> from procflow.loader import load_text
    >>> p = load_text('''{process: p, start: a, steps: {a: {next: b},
    ...   b: {on: {ok: c, back: {to: a, feedback: true}}}, c: {end: true}}}''')
    >>> feedback_edges(process_graph(p))
    [('b', 'a', 'back')]
    """
    return [
        (u, v, key) for u, v, key, feedback in graph.edges(keys=True, data="feedback") if feedback
    ]


def unmarked_cycles(graph: nx.MultiDiGraph) -> list[list[str]]:
    """Loops that remain when feedback edges are removed, one per strongly connected component.

    Each returned group is a strongly connected component of the
    :func:`forward_graph` (no feedback edges, no exits of end steps) that
    contains a cycle (two or more steps, or one
    step with a transition to itself): somewhere in it an edge that sends
    work back is not marked ``feedback: true``. Groups are in file order,
    ordered by their first step.

    >>> from procflow.loader import load_text
    >>> p = load_text('''{process: p, start: a, steps: {a: {next: b},
    ...   b: {on: {ok: c, back: a}}, c: {end: true}}}''')
    >>> unmarked_cycles(process_graph(p))
    [['a', 'b']]
    """
    if _forward_topological(graph) is not None:
        return []
    forward = _forward(graph)
    order = _order(graph)
    groups = [
        sorted(component, key=order.__getitem__)
        for component in nx.strongly_connected_components(forward)
        if len(component) > 1 or forward.has_edge(*(2 * tuple(component)))
    ]
    return sorted(groups, key=lambda group: order[group[0]])


# --------------------------------------------------------------------------
# dominance


def dominators(graph: nx.MultiDiGraph, start: str | None = None) -> dict[str, str | None]:
    """The immediate dominator of every step reachable from ``start`` (``None`` for ``start``).

    Step ``d`` dominates step ``s`` when every path from the start to ``s``
    passes through ``d``; the immediate dominator is the closest such step.
    Empty when ``start`` is not a step.

    >>> from procflow.loader import load_text
    >>> p = load_text('''{process: p, start: a, steps: {a: {on: {x: b, y: c}},
    ...   b: {next: d}, c: {next: d}, d: {end: true}}}''')
    >>> dominators(process_graph(p))
    {'a': None, 'b': 'a', 'c': 'a', 'd': 'a'}
    """
    start = _start(graph, start)
    if start is None or start not in graph:
        return {}
    idom: dict[str, str | None] = dict(nx.immediate_dominators(graph, start))
    idom[start] = None  # networkx < 3.5 maps start to itself, newer versions leave it out
    order = _order(graph)
    return dict(sorted(idom.items(), key=lambda item: order[item[0]]))


def mandatory_steps(graph: nx.MultiDiGraph, start: str | None = None) -> list[str]:
    """Steps every finished case passes through, from the start along the way to its end.

    These are the dominators of every reachable end step -- equivalently of
    a virtual sink that all end steps lead to -- computed as the common
    part of the end steps' dominator chains. Empty when ``start`` is not a
    step or no end step is reachable.

    >>> from procflow.loader import load_text
    >>> p = load_text('''{process: p, start: a, steps: {a: {next: b},
    ...   b: {on: {x: c, y: d}}, c: {next: e}, d: {next: e}, e: {next: f},
    ...   f: {on: {done: g, cancel: h}}, g: {end: true}, h: {end: true}}}''')
    >>> mandatory_steps(process_graph(p))
    ['a', 'b', 'e', 'f']
    """
    idom = dominators(graph, start)
    ends = [step for step in end_steps(graph) if step in idom]
    if not ends:
        return []

    def chain(step: str | None) -> list[str]:
        steps: list[str] = []
        while step is not None:
            steps.append(step)
            step = idom[step]
        return steps

    common = chain(ends[0])
    on_chain = set(common)
    for end in ends[1:]:
        step: str | None = end
        while step is not None and step not in on_chain:
            step = idom[step]
        common = chain(step)  # the nearest common dominator and everything above it
        on_chain = set(common)
    common.reverse()
    return common


# --------------------------------------------------------------------------
# ownership


class Handoff(NamedTuple):
    """Work passing from one owner to another along a transition."""

    source: str
    target: str
    trigger: str
    from_owner: str
    to_owner: str


def handoffs(graph: nx.MultiDiGraph) -> list[Handoff]:
    """Transitions between steps of two different owners, in file order.

    Steps without an owner take part in no handoff.

    >>> from procflow.loader import load_text
    >>> p = load_text('''{process: p, start: a, owners: {x: {}, y: {}}, steps: {
    ...   a: {owner: x, next: b}, b: {owner: x, next: c}, c: {owner: y, next: d},
    ...   d: {end: true}}}''')
    >>> handoffs(process_graph(p))
    [Handoff(source='b', target='c', trigger='next', from_owner='x', to_owner='y')]
    """
    owners = graph.nodes(data="owner")
    result: list[Handoff] = []
    for u, v, key in graph.edges(keys=True):
        a, b = owners[u], owners[v]
        if a is not None and b is not None and a != b:
            result.append(Handoff(u, v, key, a, b))
    return result


class PingPong(NamedTuple):
    """Work bouncing between two owners: ``owners[0]`` -> ``owners[1]`` -> back -> again.

    ``path`` runs from the last step of the first owner's turn to the first
    step of the second owner's second turn, every step in between included.
    """

    owners: tuple[str, str]
    path: tuple[str, ...]


def _forward_order(graph: nx.MultiDiGraph) -> tuple[nx.DiGraph, list[str]]:
    """An acyclic version of the forward graph and a topological order of it.

    When the forward graph has unmarked loops, self loops are dropped and,
    inside each strongly connected component, only the edges that go down
    the file are kept, so that every path of the result visits no step
    twice in the original graph; edges between components are all kept.
    """
    forward = _forward(graph)
    topological = _forward_topological(graph)
    if topological is not None:
        return forward, topological
    order = _order(graph)
    acyclic = forward.copy()
    acyclic.remove_edges_from(list(nx.selfloop_edges(acyclic)))
    component_of: dict[str, int] = {}
    for index, component in enumerate(nx.strongly_connected_components(acyclic)):
        for node in component:
            component_of[node] = index
    acyclic.remove_edges_from(
        [
            (u, v)
            for u, v in acyclic.edges
            if component_of[u] == component_of[v] and order[v] < order[u]
        ]
    )
    return acyclic, list(nx.topological_sort(acyclic))


def _two_way_handoffs(forward: nx.DiGraph, owner_of: dict[str, Any]) -> set[tuple[str, str]]:
    """Handoffs ``(a, b)`` whose reverse ``(b, a)`` also occurs: a ping-pong needs both."""
    directed = set()
    for u, v in forward.edges:
        a, b = owner_of[u], owner_of[v]
        if a is not None and b is not None and a != b:
            directed.add((a, b))
    return {(a, b) for a, b in directed if (b, a) in directed}


def ping_pongs(graph: nx.MultiDiGraph) -> list[PingPong]:
    """Pairs of owners between whom work goes back and forth: A -> B -> A -> B.

    A ping-pong is a path that visits no step twice, ignores feedback edges
    (going round a rework loop is not ping-pong), and along which ownership
    alternates between the same two owners in three consecutive handoffs.
    Consecutive steps of one owner are one turn (no handoff between them).
    A step without an owner interrupts the count: no handoff goes into or
    out of it, so the alternation starts afresh after it.

    One :class:`PingPong` is returned per pair of owners -- the first found
    in topological order of the forward graph -- ordered by the first step
    of its path.

    The search is dynamic programming over the forward graph in topological
    order: for each step and each owner that handed work to the step's
    owner, it keeps the longest run of alternating handoffs ending there.
    That is linear in the number of transitions times the (small) number of
    owners. Should unmarked loops (PF301) remain, only the paths that go
    down the file inside each loop are considered, so no path that repeats
    a step is ever reported.

    >>> from procflow.loader import load_text
    >>> p = load_text('''{process: p, start: a, owners: {x: {}, y: {}}, steps: {
    ...   a: {owner: x, next: b}, b: {owner: y, next: c}, c: {owner: x, next: d},
    ...   d: {owner: x, next: e}, e: {owner: y, next: f}, f: {end: true}}}''')
    >>> ping_pongs(process_graph(p))
    [PingPong(owners=('x', 'y'), path=('a', 'b', 'c', 'd', 'e'))]
    """
    owner_of: dict[str, Any] = dict(graph.nodes(data="owner"))
    two_way = _two_way_handoffs(_forward(graph), owner_of)
    if not two_way:
        return []
    order = _order(graph)
    forward, topological = _forward_order(graph)
    # runs[v][p] = (length, predecessor, predecessor's key or None when the run starts there):
    # the longest run of alternating handoffs between p and owner(v) ending at v.
    runs: dict[str, dict[str, tuple[int, str, str | None]]] = {}
    found: dict[frozenset[str], tuple[str, str]] = {}
    for v in topological:
        b = owner_of[v]
        here: dict[str, tuple[int, str, str | None]] = {}
        if b is not None:
            for u in forward.pred[v]:
                a = owner_of[u]
                if a is None:
                    continue
                before = runs.get(u, {})
                if a == b:  # same owner: the turn goes on, runs carry over
                    for p, (length, _pred, _key) in before.items():
                        if length > here.get(p, (0,))[0]:
                            here[p] = (length, u, p)
                    continue
                if (a, b) not in two_way:  # never handed back: cannot start a ping-pong
                    continue
                previous = before.get(b)
                length, key = (previous[0] + 1, b) if previous else (1, None)
                if length > here.get(a, (0,))[0]:
                    here[a] = (length, u, key)
            for p, (length, _pred, _key) in here.items():
                if length >= 3 and frozenset((p, b)) not in found:
                    found[frozenset((p, b))] = (v, p)
        if here:
            runs[v] = here
    result: list[PingPong] = []
    for v, p in found.values():
        path = [v]
        state: tuple[str, str] | None = (v, p)
        while state is not None:
            _length, pred, key = runs[state[0]][state[1]]
            path.append(pred)
            state = (pred, key) if key is not None else None
        path.reverse()
        first, second = owner_of[path[0]], owner_of[path[-1]]
        result.append(PingPong((first, second), tuple(path)))
    return sorted(result, key=lambda ping: (order[ping.path[0]], ping.owners))
