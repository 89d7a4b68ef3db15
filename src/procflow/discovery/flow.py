"""Control flow from a log: the filtered directly-follows graph (:func:`discover_flow`).

Every pair of consecutive events in a case is a *directly-follows* edge
``a -> b``; a case's first and last events connect it to the start and
the end. An edge is kept when it carries at least ``min_share`` of the
departures from ``a`` (frequency filtering as in the Heuristics and Split
Miners) or, seen at least :data:`MIN_ENTRIES` times, of the arrivals at
``b`` (a main way into a rare activity: :func:`_enters`), and then the
graph is repaired rather than left broken:

* every kept activity keeps at least its most frequent exit;
* activities no kept edge reaches from a start are dropped (their events
  are reported as filtered);
* an activity that cannot reach the end gets its most frequent edge towards
  one that can.

Cycles are found by a depth-first search from the start, visiting the most
frequent edges first: its back edges close every cycle, so marking them
``feedback`` satisfies PF301. A back edge that is its activity's only way
on passes its mark to the choices inside the loop that lead to it
(:func:`_move_marks`). ``max`` is the most times one case took the edge;
a marked edge that is its activity's only exit has no ``max`` (a bounded
only-exit would be a dead end once used up: PF104).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from procflow.discovery.table import EventTable


@dataclass(frozen=True)
class Edge:
    """A kept transition: ``target`` is an activity code, or :data:`END`."""

    source: int
    target: int
    count: int
    feedback: bool = False
    max: int | None = None


END = -1
"""The target of a transition to the end of the case."""
MIN_ENTRIES = 2
"""The fewest times an edge must occur to be kept as a way into its target (:func:`_enters`)."""


@dataclass
class Flow:
    """The filtered directly-follows graph, in activity codes."""

    activities: list[int]
    """Kept activities in depth-first order from the start."""
    starts: dict[int, int]
    """Start activity -> cases starting there (kept ones only)."""
    edges: dict[int, list[Edge]]
    """Activity -> its kept exits, most frequent first."""
    frequency: dict[int, int]
    """Activity -> events of it in the log."""
    cases: int
    dropped_edges: int = 0
    dropped_pairs: int = 0
    dropped_activities: list[int] = field(default_factory=list)
    interleaving: list[tuple[int, int, int, int]] = field(default_factory=list)
    """(a, b, |a>b|, |b>a|): pairs seen often in both orders (candidates for parallel work)."""


def _pairs(table: EventTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directly-follows pairs as (source, target, case) columns."""
    same = table.case[1:] == table.case[:-1]
    return table.activity[:-1][same], table.activity[1:][same], table.case[1:][same]


def discover_flow(table: EventTable, min_share: float) -> Flow:
    """The filtered directly-follows graph of ``table``; see the module docstring."""
    n_act = len(table.activities)
    src, dst, case = _pairs(table)
    pair = src.astype(np.int64) * n_act + dst
    ids, counts = np.unique(pair, return_counts=True)
    count: dict[tuple[int, int], int] = {
        (int(i) // n_act, int(i) % n_act): int(c) for i, c in zip(ids, counts, strict=True)
    }
    first, last = table.case_first(), table.case_last()
    start_counts = np.bincount(table.activity[first], minlength=n_act)
    end_counts = np.bincount(table.activity[last], minlength=n_act)
    frequency = np.bincount(table.activity, minlength=n_act)
    cases = int(first.sum())
    exits: dict[int, list[tuple[int, int]]] = {a: [] for a in range(n_act)}
    for (a, b), c in count.items():
        exits[a].append((b, c))
    for a in range(n_act):
        if end_counts[a]:
            exits[a].append((END, int(end_counts[a])))
        exits[a].sort(key=lambda bc: (-bc[1], bc[0]))
    arrivals = frequency - start_counts
    kept: dict[int, list[tuple[int, int]]] = {}
    for a, options in exits.items():
        total = sum(c for _b, c in options)
        chosen = [
            (b, c)
            for b, c in options
            if (total and c / total >= min_share) or _enters(b, c, arrivals, min_share)
        ]
        kept[a] = chosen or options[:1]
    starts = {a: int(c) for a, c in enumerate(start_counts) if c and c / max(cases, 1) >= min_share}
    if not starts:
        top = int(np.argmax(start_counts))
        starts = {top: int(start_counts[top])}
    order = _reachable(starts, kept)
    _repair_ends(order, kept, exits)
    order = _reachable(starts, kept)
    live = set(order)
    edges, dropped_edges, dropped_pairs = _edges(order, kept, exits, live, table, pair, case)
    return Flow(
        activities=order,
        starts=starts,
        edges=edges,
        frequency={a: int(frequency[a]) for a in range(n_act)},
        cases=cases,
        dropped_edges=dropped_edges,
        dropped_pairs=dropped_pairs,
        dropped_activities=[a for a in range(n_act) if a not in live and frequency[a]],
        interleaving=_interleaving(count, live),
    )


def _enters(target: int, count: int, arrivals: np.ndarray, min_share: float) -> bool:
    """Whether an edge is one of the main ways into ``target`` (kept, however rare from its source).

    Rare activities sit on rare paths, and rare paths are often the long
    ones: the permit log's document requests (3% of the cases) are entered
    from ``T05`` 10 times in 1,300, an edge below 1% of ``T05``'s departures,
    and filtering on departures alone dropped those cases' weeks of waiting.
    An edge seen fewer than :data:`MIN_ENTRIES` times is noise either way.
    """
    return target != END and count >= MIN_ENTRIES and count >= min_share * float(arrivals[target])


def _reachable(starts: dict[int, int], kept: dict[int, list[tuple[int, int]]]) -> list[int]:
    """Activities reachable from the starts, in depth-first preorder (frequent edges first)."""
    seen: list[int] = []
    marked: set[int] = set()
    stack = sorted(starts, key=lambda a: (starts[a], -a))  # most frequent start popped first
    while stack:
        a = stack.pop()
        if a in marked:
            continue
        marked.add(a)
        seen.append(a)
        for b, _c in reversed(kept[a]):
            if b != END and b not in marked:
                stack.append(b)
    return seen


def _repair_ends(
    order: list[int],
    kept: dict[int, list[tuple[int, int]]],
    exits: dict[int, list[tuple[int, int]]],
) -> None:
    """Give every activity that cannot reach the end its best edge towards one that can."""
    while True:
        reaching = {a for a in order if any(b == END for b, _c in kept[a])}
        grown = True
        while grown:
            grown = False
            for a in order:
                if a not in reaching and any(b in reaching for b, _c in kept[a]):
                    reaching.add(a)
                    grown = True
        stuck = [a for a in order if a not in reaching]
        if not stuck:
            return
        a = stuck[0]
        options = [(b, c) for b, c in exits[a] if (b == END or b in reaching)]
        kept[a] = [*kept[a], options[0] if options else (END, 0)]


def _edges(
    order: list[int],
    kept: dict[int, list[tuple[int, int]]],
    exits: dict[int, list[tuple[int, int]]],
    live: set[int],
    table: EventTable,
    pair: np.ndarray,
    case: np.ndarray,
) -> tuple[dict[int, list[Edge]], int, int]:
    back = _move_marks(_back_edges(order, kept), kept)
    n_act = len(table.activities)
    most = _most_per_case(pair, case, {a * n_act + b for a, b in back})
    edges: dict[int, list[Edge]] = {}
    dropped_edges = dropped_pairs = 0
    for a in order:
        chosen = [(b, c) for b, c in kept[a] if b == END or b in live]
        targets = {b for b, _c in chosen}
        for b, c in exits[a]:
            if b not in targets:
                dropped_edges += 1
                dropped_pairs += c
        only_back = all((a, b) in back for b, _c in chosen)
        edges[a] = [
            Edge(
                a,
                b,
                c,
                feedback=(a, b) in back,
                max=None if only_back or (a, b) not in back else most.get(a * n_act + b, 1),
            )
            for b, c in chosen
        ]
    return edges, dropped_edges, dropped_pairs


def _back_edges(order: list[int], kept: dict[int, list[tuple[int, int]]]) -> set[tuple[int, int]]:
    """Edges closing a cycle in a depth-first search from the first activity of ``order``."""
    back: set[tuple[int, int]] = set()
    state: dict[int, int] = {}  # 1: on the stack, 2: done
    for root in order:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter([b for b, _c in kept[root] if b != END]))]
        while stack:
            node, children = stack[-1]
            for child in children:
                mark = state.get(child)
                if mark == 1:
                    back.add((node, child))
                elif mark is None:
                    state[child] = 1
                    stack.append((child, iter([b for b, _c in kept[child] if b != END])))
                    break
            else:
                state[node] = 2
                stack.pop()
    return back


def _move_marks(
    back: set[tuple[int, int]], kept: dict[int, list[tuple[int, int]]]
) -> set[tuple[int, int]]:
    """Move a back edge's mark to the choices that lead into it, where there are some.

    ``review -> decide`` closes the loop ``decide -> review -> decide`` in a
    search that met ``decide`` first, but ``review`` has no other way on: the
    choice to loop is made at ``decide``. Every edge into ``u`` from inside
    the cycle (``w -> u`` with ``w`` reachable from ``u``) then carries the
    mark instead, so every cycle through ``u -> v`` still has one, and a
    bound on it (``max``) does not make ``u`` a dead end.
    """
    moved = set(back)
    for u, v in sorted(back):
        exits = [b for b, _c in kept[u]]
        if len(exits) > 1:
            continue
        inside = _reaches(u, kept)
        into = [(w, u) for w in inside if any(b == u for b, _c in kept[w])]
        if into and all(len(kept[w]) > 1 for w, _u in into):
            moved.discard((u, v))
            moved.update(into)
    return moved


def _reaches(origin: int, kept: dict[int, list[tuple[int, int]]]) -> set[int]:
    seen = {origin}
    stack = [origin]
    while stack:
        for b, _c in kept[stack.pop()]:
            if b != END and b not in seen:
                seen.add(b)
                stack.append(b)
    return seen


def _most_per_case(pair: np.ndarray, case: np.ndarray, wanted: set[int]) -> dict[int, int]:
    """The most times one case took each of the ``wanted`` pairs."""
    if not wanted:
        return {}
    mask = np.isin(pair, np.fromiter(wanted, dtype=np.int64))
    if not mask.any():
        return {}
    keyed = np.stack([pair[mask], case[mask].astype(np.int64)], axis=1)
    rows, counts = np.unique(keyed, axis=0, return_counts=True)
    most: dict[int, int] = {}
    for (p, _c), k in zip(rows.tolist(), counts.tolist(), strict=True):
        most[p] = max(most.get(p, 0), k)
    return most


def _interleaving(
    count: dict[tuple[int, int], int], live: set[int]
) -> list[tuple[int, int, int, int]]:
    """Pairs whose Heuristics-Miner dependency is weak although both orders are frequent.

    dependency(a, b) = (|a>b| - |b>a|) / (|a>b| + |b>a| + 1); |dependency| < 0.5
    with each order seen at least 5 times marks a pair as interleaving.
    """
    found = []
    for (a, b), ab in count.items():
        if a >= b or a not in live or b not in live:
            continue
        ba = count.get((b, a), 0)
        if min(ab, ba) >= 5 and abs(ab - ba) / (ab + ba + 1) < 0.5:
            found.append((a, b, ab, ba))
    found.sort(key=lambda t: -(t[2] + t[3]))
    return found
