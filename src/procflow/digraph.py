"""Graph algorithms over steps numbered ``0..n-1``: pure functions of successor lists.

The compiled process (:mod:`procflow.compiled`), the runnable gate
(:mod:`procflow.checks`), the step graph the lint rules walk
(:class:`procflow.graph.StepGraph`) and the analytic model all number steps
in file order and keep each step's successors as a list of indices. The
algorithms they share live here, once: strongly connected components,
topological order, reachability forwards and backwards, and the trap
groups of steps that can never reach an end.

Every function is iterative (deep processes do not hit Python's recursion
limit) and near-linear in the number of edges; none enumerates paths.
Results are in file order where there is a choice, so findings and tests
are deterministic.

>>> successors = [[1], [2, 0], [], [3]]
>>> strongly_connected(4, successors)
[[2], [1, 0], [3]]
>>> reached(successors, 0)
[True, True, True, False]
>>> reaching(successors, [False, False, True, False])
[True, True, True, False]
>>> trap_groups(successors, reaching(successors, [False, False, True, False]))
[[3]]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

__all__ = [
    "closed_loop",
    "reached",
    "reaching",
    "strongly_connected",
    "topological",
    "trap_groups",
]


def topological(successors: Sequence[Sequence[int]]) -> list[int] | None:
    """networkx's topological order (Kahn, generation by generation); ``None`` on a cycle."""
    n = len(successors)
    indegree = [0] * n
    for targets in successors:
        for v in targets:
            indegree[v] += 1
    generation = [u for u in range(n) if not indegree[u]]
    order: list[int] = []
    while generation:
        order += generation
        following = []
        for u in generation:
            for v in successors[u]:
                indegree[v] -= 1
                if not indegree[v]:
                    following.append(v)
        generation = following
    return order if len(order) == n else None


def strongly_connected(n: int, successors: Sequence[Sequence[int]]) -> list[list[int]]:
    """Strongly connected components of ``0..n-1`` (Tarjan), in *reverse* topological order.

    Iterative, so deep processes do not hit Python's recursion limit. The
    step graph's checks and the analytic model's blocks both use it (lint runs
    it on every file: lean). A step put in a component gets index ``n``, above
    every ``low``, which tells "done" from "on the stack" without a flag per step.
    """
    index = [-1] * n
    low = [0] * n
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        work: list[tuple[int, Iterator[int]]] = [(root, iter(successors[root]))]
        while work:
            node, children = work[-1]
            for child in children:
                seen = index[child]
                if seen == -1:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    work.append((child, iter(successors[child])))
                    break
                if seen < low[node]:  # on the stack (a finished step has index n)
                    low[node] = seen
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    if low[node] < low[parent]:
                        low[parent] = low[node]
                if low[node] == index[node]:
                    component: list[int] = []
                    while True:
                        member = stack.pop()
                        index[member] = n
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def reached(
    successors: Sequence[Sequence[int]], origin: int, extra: Iterable[tuple[int, int]] = ()
) -> list[bool]:
    """Which steps a case can reach from ``origin`` (-1: none), along any edge and ``extra``."""
    n = len(successors)
    seen = [False] * n
    if origin < 0:
        return seen
    more: dict[int, list[int]] = {}
    for u, v in extra:
        more.setdefault(u, []).append(v)
    seen[origin] = True
    stack = [origin]
    while stack:
        u = stack.pop()
        for v in successors[u]:
            if not seen[v]:
                seen[v] = True
                stack.append(v)
        for v in more.get(u, ()):
            if not seen[v]:
                seen[v] = True
                stack.append(v)
    return seen


def reaching(successors: Sequence[Sequence[int]], targets: Sequence[bool]) -> list[bool]:
    """Which steps have some path (along any edge) to a step of ``targets``, those included."""
    n = len(successors)
    reverse: list[list[int]] = [[] for _ in range(n)]
    for u, following in enumerate(successors):
        for v in following:
            reverse[v].append(u)
    reach = list(targets)
    stack = [u for u in range(n) if reach[u]]
    while stack:
        v = stack.pop()
        for u in reverse[v]:
            if not reach[u]:
                reach[u] = True
                stack.append(u)
    return reach


def trap_groups(successors: Sequence[Sequence[int]], reach: Sequence[bool]) -> list[list[int]]:
    """The steps that cannot reach an end (``reach[u]`` false), grouped by weak connectivity.

    A loop with no exit and every chain that leads only into it form one
    group; two separate loops form two. Each group is sorted, and groups
    are ordered by their first step.
    """
    n = len(successors)
    if all(reach):
        return []
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for u, targets in enumerate(successors):
        if reach[u]:
            continue
        for v in targets:
            if not reach[v]:
                neighbours[u].append(v)
                neighbours[v].append(u)
    group_of = [-1] * n
    groups: list[list[int]] = []
    for root in range(n):  # in file order: groups come out ordered by their first step
        if reach[root] or group_of[root] >= 0:
            continue
        group_of[root] = len(groups)
        members, stack = [root], [root]
        while stack:
            for v in neighbours[stack.pop()]:
                if group_of[v] < 0:
                    group_of[v] = group_of[root]
                    members.append(v)
                    stack.append(v)
        groups.append(sorted(members))
    return groups


def closed_loop(
    successors: Sequence[Sequence[int]], members: Sequence[int], avoid: Iterable[int] = ()
) -> bool:
    """Whether ``members`` hold a loop with no way on inside ``members``, avoiding ``avoid``.

    That is a terminal strongly connected component of the subgraph on
    ``members`` that is a cycle (two or more steps, or a self loop) and
    contains no step of ``avoid``.
    """
    local = {u: i for i, u in enumerate(members)}
    avoided = {local[u] for u in avoid if u in local}
    sub = [[local[v] for v in successors[u] if v in local] for u in members]
    components = strongly_connected(len(members), sub)
    component_of = [0] * len(members)
    for c, component in enumerate(components):
        for i in component:
            component_of[i] = c
    for c, component in enumerate(components):
        if any(component_of[j] != c for i in component for j in sub[i]):
            continue
        is_cycle = len(component) > 1 or component[0] in sub[component[0]]
        if is_cycle and not any(i in avoided for i in component):
            return True
    return False
