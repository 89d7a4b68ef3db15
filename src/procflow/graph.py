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

The analyses run on a :class:`StepGraph`, the same graph as flat lists of
step indices: lint builds one per process and never imports networkx. The
functions that take a networkx graph convert it once and keep the
conversion in networkx's per-graph cache, ``G.__networkx_cache__``, which
networkx empties whenever the graph's structure changes through its
methods. Change edge or node attributes in place (``feedback``, ``owner``)
and you must empty it yourself.

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

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from procflow import digraph
from procflow.compiled import CompiledProcess, Edge
from procflow.digraph import strongly_connected
from procflow.digraph import topological as _topological

if TYPE_CHECKING:
    import networkx as nx

    from procflow.model import Process, Step

__all__ = [
    "Edge",
    "Handoff",
    "PingPong",
    "StepGraph",
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
    "steps_reaching_end",
    "strongly_connected",
    "traps",
    "unknown_target_edges",
    "unmarked_cycles",
    "unreachable_steps",
]


def process_edges(process: Process) -> tuple[Edge, ...]:
    """Every transition of ``process`` as a compiled :class:`Edge`, in file order.

    Transitions to unknown steps are included, with ``target`` -1.
    """
    return CompiledProcess.of(process).edges


def has_transitions(step: Step) -> bool:
    """Whether the step has any outgoing transition (``next:`` or a non-empty ``on:``)."""
    return step.next is not None or bool(step.on)


def unknown_target_edges(process: Process) -> list[Edge]:
    """The transitions that point to a step that does not exist, in file order.

    They are the edges :func:`process_graph` leaves out (and lint reports, PF101).
    """
    compiled = CompiledProcess.of(process)
    return [compiled.edges[k] for k in compiled.unknown]


def has_unknown_targets(process: Process) -> bool:
    """Whether some transition points to a step that does not exist."""
    return CompiledProcess.of(process).unknown_targets


def process_graph(process: Process) -> nx.MultiDiGraph:
    """The step graph of ``process``: nodes are steps in file order, edges are transitions.

    Edges are keyed by trigger (``next`` for the ``next:`` form) and carry
    ``to``, ``p``, ``feedback``, ``max`` and ``trigger``; transitions to
    unknown steps are left out. ``G.graph`` holds ``process`` (the id) and
    ``start``. A view of the compiled process, built on each call.
    """
    import networkx as nx  # here only: the lint path never builds a networkx graph

    compiled = CompiledProcess.of(process)
    graph = nx.MultiDiGraph(process=process.id, start=process.start)
    add_node = graph.add_node  # add_nodes_from takes a slow exception path for (node, data)
    for step_id, step in process.steps.items():
        add_node(step_id, owner=step.owner, end=step.end, title=step.title)
    add_edge = graph.add_edge  # one call per edge: add_edges_from goes through slow views
    steps = compiled.steps
    for edge in compiled.edges:
        if edge.target >= 0:
            add_edge(
                steps[edge.source],
                edge.to,
                edge.trigger,
                to=edge.to,
                p=edge.p,
                feedback=edge.feedback,
                max=edge.max,
                trigger=edge.trigger,
            )
    return graph


# --------------------------------------------------------------------------
# the step graph as plain lists


class StepGraph:
    """The step graph as lists of step indices: what the analyses below walk.

    The same graph as :func:`process_graph` -- steps in file order (index
    ``i`` is ``nodes[i]``), one edge per transition to a known step. For a
    process (:meth:`of`) it is a thin view of the process's
    :class:`~procflow.compiled.CompiledProcess` (:attr:`compiled`), so
    lint never imports networkx (~100 ms) and builds nothing twice. The
    networkx-facing functions below convert a graph once
    (:meth:`of_networkx`, cached per graph) and call the same methods, so
    both give the same answers.

    Edges are in insertion order: transitions in file order for :meth:`of`,
    networkx's edge order for :meth:`of_networkx`. Where networkx's own
    iteration order decided a result (which of several loops' transitions
    is reported, the topological order a search follows), the methods here
    follow the same order, so results do not depend on which view built them.
    """

    compiled: CompiledProcess | None
    """The compiled process this graph views (``None`` for :meth:`of_networkx`)."""
    nodes: Sequence[Any]
    """The steps (node ids), in order: node ``i`` is ``nodes[i]``."""
    index: Mapping[Any, int]
    """Node id -> index."""
    owner: Sequence[Any]
    """Per node: its owner, or ``None``."""
    end: Sequence[bool]
    """Per node: whether it is an end step."""
    start: Any
    """The start node as written (it may not be a node)."""
    unknown_targets: bool
    """Whether a transition was left out for pointing to an unknown step (:meth:`of` only)."""

    def __init__(
        self,
        nodes: list[Any],
        owner: list[Any],
        end: list[bool],
        start: Any,
        edges: Iterable[tuple[int, int, Any, bool]],
    ) -> None:
        self.compiled = None
        self.nodes = nodes
        self.index = {node: i for i, node in enumerate(nodes)}
        self.owner = owner
        self.end = end
        self.start = start
        out: list[list[tuple[int, Any, bool]]] = [[] for _ in nodes]
        for u, v, key, feedback in edges:
            out[u].append((v, key, feedback))
        self.__dict__["out"] = out
        self.unknown_targets = False

    @classmethod
    def of(cls, process: Process) -> StepGraph:
        """The step graph of ``process``: a view of its compiled form."""
        compiled = CompiledProcess.of(process)
        graph = cls.__new__(cls)
        graph.compiled = compiled
        graph.nodes = list(compiled.steps)
        graph.index = compiled.index
        graph.owner = list(compiled.owner)
        graph.end = list(compiled.end)
        graph.start = compiled.start_id
        graph.unknown_targets = compiled.unknown_targets
        graph.__dict__["successors"] = compiled.successors
        return graph

    @classmethod
    def of_networkx(cls, graph: nx.MultiDiGraph) -> StepGraph:
        """The step graph of a networkx graph (attributes ``owner``, ``end``, ``feedback``)."""
        nodes = list(graph)
        index = {node: i for i, node in enumerate(nodes)}
        owner = [data.get("owner") for _node, data in graph.nodes(data=True)]
        end = [bool(data.get("end")) for _node, data in graph.nodes(data=True)]
        edges = (
            (index[u], index[v], key, bool(feedback))
            for u, v, key, feedback in graph.edges(keys=True, data="feedback")
        )
        return cls(nodes, owner, end, graph.graph.get("start"), edges)

    def _position(self, start: Any) -> int:
        """Index of ``start`` (default: the process start), -1 when it is not a step."""
        node = self.start if start is None else start
        try:
            return self.index.get(node, -1)
        except TypeError:  # unhashable
            return -1

    @cached_property
    def out(self) -> list[list[tuple[int, Any, bool]]]:
        """``out[u]``: step ``u``'s edges as ``(target, key, feedback)``, in insertion order."""
        assert self.compiled is not None  # set in __init__ for the networkx view
        return [
            [(e.target, e.trigger, e.feedback) for e in edges if e.target >= 0]
            for edges in self.compiled.outgoing
        ]

    @cached_property
    def successors(self) -> Sequence[Sequence[int]]:
        """Targets of every step's edges (repeated for parallel edges)."""
        return [[v for v, _key, _feedback in edges] for edges in self.out]

    @cached_property
    def forward(self) -> list[list[int]]:
        """Successors along the :func:`forward_graph`: no feedback edges, no exits of end steps.

        Each target once, in the order networkx's ``DiGraph`` would hold them
        (first appearance among *all* the step's edges).
        """
        result: list[list[int]] = []
        out: Iterable[Sequence[tuple[int, Any, bool]]] = (
            self.out
            if self.compiled is None
            else (
                [(e.target, e.trigger, e.feedback) for e in edges if e.target >= 0]
                for edges in self.compiled.outgoing
            )
        )
        for u, edges in enumerate(out):
            if self.end[u] or not edges:
                result.append([])
                continue
            if len(edges) == 1:
                v, _key, feedback = edges[0]
                result.append([] if feedback else [v])
                continue
            kept: dict[int, bool] = {}
            for v, _key, feedback in edges:
                kept[v] = kept.get(v, False) or not feedback
            result.append([v for v, forward in kept.items() if forward])
        return result

    @cached_property
    def forward_topological(self) -> list[int] | None:
        """A topological order of the forward graph (networkx's), ``None`` when it has a cycle."""
        return _topological(self.forward)

    # ------------------------------------------------------------------
    # reachability

    def reached(self, start: Any = None, extra: Iterable[tuple[int, int]] = ()) -> list[bool]:
        """Which steps a case can reach from ``start`` along any edge (and the ``extra`` ones)."""
        return digraph.reached(self.successors, self._position(start), extra)

    @cached_property
    def sources(self) -> Sequence[Sequence[int]]:
        """The steps with an edge to each step, each once, in file order."""
        if self.compiled is not None:
            return self.compiled.predecessors
        sources: list[list[int]] = [[] for _ in self.nodes]
        for u, targets in enumerate(self.successors):
            for v in targets:
                if not sources[v] or sources[v][-1] != u:
                    sources[v].append(u)
        return sources

    def predecessors(self, node: Any, extra: Iterable[tuple[int, int]] = ()) -> list[Any]:
        """Steps with an edge to ``node``, each once: in file order, then the ``extra`` sources."""
        v = self.index[node]
        found = dict.fromkeys(self.sources[v])
        found.update(dict.fromkeys(u for u, t in extra if t == v))
        return [self.nodes[u] for u in found]

    def reaching_end(self) -> list[bool]:
        """Which steps have some path (along any edge) to an end step, end steps included."""
        if self.compiled is not None:
            return list(self.compiled.reaching_end)
        return digraph.reaching(self.successors, self.end)

    def traps(self) -> list[list[Any]]:
        """Weakly connected groups of the steps that cannot reach an end (see :func:`traps`)."""
        groups = digraph.trap_groups(self.successors, self.reaching_end())
        return [[self.nodes[u] for u in group] for group in groups]

    def has_closed_loop(self, group: Iterable[Any], avoid: set[Any]) -> bool:
        """Whether ``group`` holds a loop with no way on inside ``group``, and none in ``avoid``.

        That is a terminal strongly connected component of the subgraph on
        ``group`` that is a cycle (two or more steps, or a self loop).
        """
        members = [self.index[node] for node in group]
        avoided = [u for u in members if self.nodes[u] in avoid]
        return digraph.closed_loop(self.successors, members, avoided)

    def is_acyclic(self) -> bool:
        """Whether no cycle at all goes through the graph (feedback edges and self loops count)."""
        return _topological(self.successors) is not None

    # ------------------------------------------------------------------
    # loops

    def unmarked_cycles(self) -> list[list[Any]]:
        """See :func:`unmarked_cycles`."""
        if self.forward_topological is not None:
            return []
        forward = self.forward
        groups = [
            sorted(component)
            for component in strongly_connected(len(forward), forward)
            if len(component) > 1 or component[0] in forward[component[0]]
        ]
        groups.sort()
        return [[self.nodes[u] for u in group] for group in groups]

    def edges_from(self, node: Any) -> list[tuple[Any, Any, bool]]:
        """``(target, key, feedback)`` of ``node``'s edges, grouped by target as in networkx."""
        grouped: dict[int, list[tuple[Any, bool]]] = {}
        for v, key, feedback in self.out[self.index[node]]:
            grouped.setdefault(v, []).append((key, feedback))
        return [(self.nodes[v], k, f) for v, pairs in grouped.items() for k, f in pairs]

    # ------------------------------------------------------------------
    # dominance

    def immediate_dominators(self, start: Any = None) -> list[int]:
        """``idom[u]`` of every step (-1 when unreachable; the start is its own).

        Cooper, Harvey and Kennedy's iterative algorithm over the reverse
        postorder, as networkx computes it; the dominator tree is unique.
        """
        n = len(self.nodes)
        idom = [-1] * n
        origin = self._position(start)
        if origin < 0:
            return idom
        successors = self.successors
        postorder: list[int] = []
        seen = [False] * n
        seen[origin] = True
        work: list[tuple[int, Iterator[int]]] = [(origin, iter(successors[origin]))]
        while work:
            node, children = work[-1]
            for child in children:
                if not seen[child]:
                    seen[child] = True
                    work.append((child, iter(successors[child])))
                    break
            else:
                work.pop()
                postorder.append(node)
        rank = [-1] * n
        for i, u in enumerate(postorder):
            rank[u] = i
        predecessors: list[list[int]] = [[] for _ in range(n)]
        for u in postorder:
            for v in successors[u]:
                predecessors[v].append(u)
        idom[origin] = origin
        order = postorder[::-1][1:]
        changed = True
        while changed:
            changed = False
            for u in order:
                new = -1
                for p in predecessors[u]:
                    if idom[p] < 0:
                        continue
                    if new < 0:
                        new = p
                        continue
                    a, b = p, new
                    while a != b:
                        while rank[a] < rank[b]:
                            a = idom[a]
                        while rank[b] < rank[a]:
                            b = idom[b]
                    new = a
                if idom[u] != new:
                    idom[u] = new
                    changed = True
        return idom

    def mandatory_steps(self, start: Any = None) -> list[Any]:
        """See :func:`mandatory_steps`."""
        idom = self.immediate_dominators(start)
        ends = [u for u, end in enumerate(self.end) if end and idom[u] >= 0]
        if not ends:
            return []

        def chain(u: int) -> list[int]:
            steps = [u]
            while idom[u] != u:
                u = idom[u]
                steps.append(u)
            return steps

        common = chain(ends[0])
        on_chain = set(common)
        for end in ends[1:]:
            u = end
            while u not in on_chain:
                u = idom[u]
            common = chain(u)  # the nearest common dominator and everything above it
            on_chain = set(common)
        common.reverse()
        return [self.nodes[u] for u in common]

    # ------------------------------------------------------------------
    # ownership

    def _forward_order(self) -> tuple[list[list[int]], list[int]]:
        """An acyclic version of the forward graph and a topological order of it.

        When the forward graph has unmarked loops, self loops are dropped and,
        inside each strongly connected component, only the edges that go down
        the file are kept, so that every path of the result visits no step
        twice in the original graph; edges between components are all kept.
        """
        forward = self.forward
        topological = self.forward_topological
        if topological is not None:
            return forward, topological
        component_of = [0] * len(forward)
        for c, component in enumerate(strongly_connected(len(forward), forward)):
            for u in component:
                component_of[u] = c
        acyclic = [
            [v for v in targets if not (component_of[v] == component_of[u] and v <= u)]
            for u, targets in enumerate(forward)
        ]
        order = _topological(acyclic)
        assert order is not None
        return acyclic, order

    def ping_pongs(self) -> list[PingPong]:
        """See :func:`ping_pongs`."""
        owner_of = self.owner
        forward = self.forward
        directed = set()
        for u, targets in enumerate(forward):
            a = owner_of[u]
            if a is None:
                continue
            for v in targets:
                b = owner_of[v]
                if b is not None and a != b:
                    directed.add((a, b))
        two_way = {(a, b) for a, b in directed if (b, a) in directed}
        if not two_way:
            return []
        successors, topological = self._forward_order()
        predecessors: list[list[int]] = [[] for _ in successors]
        for u, targets in enumerate(successors):  # in file order, as networkx keeps them
            for v in targets:
                predecessors[v].append(u)
        # runs[v][p] = (length, predecessor, predecessor's key or None when the run starts
        # there): the longest run of alternating handoffs between p and owner(v) ending at v.
        runs: list[dict[Any, tuple[int, int, Any]] | None] = [None] * len(successors)
        found: dict[frozenset[Any], tuple[int, Any]] = {}
        # a run starts only at a handoff of a two-way pair and carries over only within one
        # owner's turn, so a step of an owner in no such pair never ends a run: skipped
        involved = {owner for pair in two_way for owner in pair}
        for v in topological:
            b = owner_of[v]
            if b is None or b not in involved:
                continue
            here: dict[Any, tuple[int, int, Any]] = {}
            for u in predecessors[v]:
                a = owner_of[u]
                if a is None:
                    continue
                before = runs[u] or {}
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
        result: list[tuple[int, PingPong]] = []
        for v, p in found.values():
            path = [v]
            state: tuple[int, Any] | None = (v, p)
            while state is not None:
                run = runs[state[0]]
                assert run is not None
                _length, pred, key = run[state[1]]
                path.append(pred)
                state = (pred, key) if key is not None else None
            path.reverse()
            owners = (owner_of[path[0]], owner_of[path[-1]])
            result.append((path[0], PingPong(owners, tuple(self.nodes[u] for u in path))))
        result.sort(key=lambda item: (item[0], item[1].owners))
        return [ping for _first, ping in result]


# --------------------------------------------------------------------------
# the analyses on a networkx graph


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


def _steps(graph: nx.MultiDiGraph) -> StepGraph:
    """The :class:`StepGraph` of a networkx graph, kept in its cache."""
    steps: StepGraph = _cached(graph, "steps", lambda: StepGraph.of_networkx(graph))
    return steps


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
    import networkx as nx

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
    steps = _steps(graph)
    return {node for node, seen in zip(steps.nodes, steps.reached(start), strict=True) if seen}


def unreachable_steps(graph: nx.MultiDiGraph, start: str | None = None) -> list[str]:
    """Steps no case can reach from ``start``, in file order.

    Every step when ``start`` is not a step (the linter reports that as
    PF102 instead).

    >>> from procflow.loader import load_text
    >>> p = load_text('{process: p, start: a, steps: {a: {next: b}, b: {end: true}, c: {next: b}}}')
    >>> unreachable_steps(process_graph(p))
    ['c']
    """
    steps = _steps(graph)
    return [node for node, seen in zip(steps.nodes, steps.reached(start), strict=True) if not seen]


def steps_reaching_end(graph: nx.MultiDiGraph) -> set[str]:
    """Steps from which some path leads to an end step (end steps included)."""
    steps = _steps(graph)
    return {node for node, reach in zip(steps.nodes, steps.reaching_end(), strict=True) if reach}


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
    return _steps(graph).traps()


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
    return _steps(graph).unmarked_cycles()


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
    steps = _steps(graph)
    idom = steps.immediate_dominators(start)
    nodes = steps.nodes
    return {nodes[u]: None if d == u else nodes[d] for u, d in enumerate(idom) if d >= 0}


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
    return _steps(graph).mandatory_steps(start)


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
    return _steps(graph).ping_pongs()
