"""Parallel branches from a log: fork/join blocks (:func:`find_blocks`).

Two activities are **concurrent** (the alpha/Heuristics-Miner relation
``a || b``) when each directly follows the other in at least
:data:`MIN_BOTH` cases' worth of pairs, the rarer order is at least
:data:`MIN_ORDER_SHARE` of the two, and they are not a short loop (the
patterns ``a b a`` and ``b a b`` together below :data:`MAX_SHORT_LOOP` of
the rarer order). Connected groups of concurrent activities are candidate
blocks. Inside a group, activities that follow each other but are not
concurrent are *causally linked*, when the pairs (both orders) are at
least :data:`LINK_SHARE` of the rarer activity's events (a handful of
stray pairs is noise, not a link); the linked components are the branches
(``T02 -> T04 -> T05`` and ``T06 -> T10`` in the permit log). When
the log has start times, two activities whose intervals overlap in at
least :data:`MIN_BOTH` cases are concurrent too (a branch that always
finishes first never shows the other order, but it runs at the same time). A group
becomes a fork/join block only when it is clean in the log:

* at least two branches, and no causal link across branches;
* each case's events of the group form *runs* (maximal stretches of
  consecutive events of the group); at least :data:`CLEAN_SHARE` of the
  runs hold an event of every branch.

Each run is then one event of a new *block activity* in the table the
top-level flow is discovered from (:mod:`.flow`, unchanged), and each
branch's own flow is discovered from the runs projected on its activities
(a run is a case there, so a loop round the whole block is no loop inside
a branch). A branch whose runs start at several activities keeps the most
frequent start (the others are deviations, reported as filtered). Groups
that fail a condition stay alternatives, and the report says why
(docs/discover.md#parallel-work).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from procflow.discovery.flow import Flow, discover_flow
from procflow.discovery.table import EventTable

MIN_BOTH = 2
"""Fewest directly-follows pairs in each order for a concurrent pair."""
MIN_ORDER_SHARE = 0.25
"""The rarer order's least share of a concurrent pair's pairs."""
MAX_SHORT_LOOP = 0.2
"""``a b a`` plus ``b a b`` patterns (share of the rarer order) from which a pair is a loop."""
LINK_SHARE = 0.1
"""Least directly-follows pairs (both orders, share of the rarer activity's events) of a link."""
LOOK_AHEAD = 4
"""Later events of a case each event is compared with for overlap."""
CLEAN_SHARE = 0.9
"""Least share of a group's runs holding every branch for the group to become a block."""


@dataclass
class Block:
    """A fork/join block: its branches and their flows, in activity codes of the log."""

    code: int
    """The block's activity code in :attr:`Parallel.table`."""
    branches: list[list[int]]
    flows: list[Flow]
    runs: int
    clean: int


@dataclass
class Parallel:
    """The blocks found, the table with each block's runs as one event, and notes."""

    table: EventTable
    blocks: list[Block] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_blocks(table: EventTable, min_share: float) -> Parallel:
    """The clean fork/join blocks of ``table``; see the module docstring."""
    count, loops = _follows(table)
    groups = _groups(count, loops)
    result = Parallel(table)
    blocks: list[tuple[set[int], list[list[int]], int, int]] = []
    for group in groups:
        names = ", ".join(repr(table.activities[a]) for a in sorted(group))
        branches = _branches(group, count, loops, np.bincount(table.activity))
        if len(branches) < 2:
            result.notes.append(f"{names}: interleave, but form no two separate branches")
            continue
        runs, clean = _runs(table, group, branches)
        if runs == 0 or clean / runs < CLEAN_SHARE:
            share = clean / runs if runs else 0.0
            result.notes.append(
                f"{names}: interleave, but only {share:.0%} of their stretches in a case "
                f"hold every branch (a block needs {CLEAN_SHARE:.0%}): kept as alternatives"
            )
            continue
        blocks.append((group, branches, runs, clean))
    macro = table
    for group, branches, runs, clean in blocks:
        code = len(macro.activities)
        flows = [_branch_flow(table, group, branch, min_share) for branch in branches]
        macro = _collapse(macro, group, code, "parallel: " + " + ".join(str(b) for b in branches))
        result.blocks.append(Block(code, branches, flows, runs, clean))
    result.table = macro
    return result


def _follows(table: EventTable) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """Directly-follows counts, and ``a b a`` pattern counts keyed ``(a, b)``."""
    same = table.case[1:] == table.case[:-1]
    count = _counted(table.activity[:-1][same], table.activity[1:][same])
    act = table.activity
    same2 = (table.case[2:] == table.case[:-2]) & (act[2:] == act[:-2]) & (act[1:-1] != act[:-2])
    loops = _counted(act[:-2][same2], act[1:-1][same2])
    for (a, b), n in _overlaps(table).items():
        loops[(-1 - a, b)] = n
    return count, loops


def _counted(src: np.ndarray, dst: np.ndarray) -> dict[tuple[int, int], int]:
    """How often each ``(src, dst)`` pair occurs (whole-column work, no loop per event)."""
    width = int(max(src.max(initial=0), dst.max(initial=0))) + 1
    ids, counts = np.unique(src.astype(np.int64) * width + dst, return_counts=True)
    return {
        (int(i) // width, int(i) % width): int(c)
        for i, c in zip(ids.tolist(), counts.tolist(), strict=True)
    }


def _overlaps(table: EventTable) -> dict[tuple[int, int], int]:
    """Pairs of events of one case whose intervals overlap (with start times), ``(low, high)``.

    Each event is compared with the next :data:`LOOK_AHEAD` events of its
    case (the table is sorted by start). Stored in ``loops`` under the key
    ``(-1 - low, high)``, which no activity pair uses.
    """
    found: dict[tuple[int, int], int] = {}
    if not table.has_starts:
        return found
    start = np.where(np.isnan(table.start), table.end, table.start)
    for k in range(1, LOOK_AHEAD + 1):
        same = table.case[k:] == table.case[:-k]
        over = same & (start[k:] < table.end[:-k]) & (table.end[k:] > start[:-k])
        a, b = table.activity[:-k][over], table.activity[k:][over]
        low, high = np.minimum(a, b), np.maximum(a, b)
        for pair, n in _counted(low[low != high], high[low != high]).items():
            found[pair] = found.get(pair, 0) + n
    return found


def concurrent(
    a: int, b: int, count: dict[tuple[int, int], int], loops: dict[tuple[int, int], int]
) -> bool:
    """``a || b``: overlapping in time, or both orders often enough and not a short loop."""
    if loops.get((-1 - min(a, b), max(a, b)), 0) >= MIN_BOTH:
        return a != b
    ab, ba = count.get((a, b), 0), count.get((b, a), 0)
    rarer = min(ab, ba)
    if a == b or rarer < MIN_BOTH or rarer < MIN_ORDER_SHARE * (ab + ba):
        return False
    return loops.get((a, b), 0) + loops.get((b, a), 0) < MAX_SHORT_LOOP * rarer


def _groups(count: dict[tuple[int, int], int], loops: dict[tuple[int, int], int]) -> list[set[int]]:
    """Connected components of the concurrency relation, largest first."""
    neighbours: dict[int, set[int]] = {}
    pairs = {(min(a, b), max(a, b)) for a, b in count}
    pairs |= {(-1 - a, b) for a, b in loops if a < 0}
    for a, b in sorted(pairs):
        if a != b and concurrent(a, b, count, loops):
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
    return _components(set(neighbours), neighbours)


def _components(nodes: set[int], neighbours: dict[int, set[int]]) -> list[set[int]]:
    seen: set[int] = set()
    found: list[set[int]] = []
    for origin in sorted(nodes):
        if origin in seen:
            continue
        part, stack = {origin}, [origin]
        while stack:
            for b in neighbours.get(stack.pop(), set()):
                if b in nodes and b not in part:
                    part.add(b)
                    stack.append(b)
        seen |= part
        found.append(part)
    found.sort(key=lambda p: (-len(p), min(p)))
    return found


def _branches(
    group: set[int],
    count: dict[tuple[int, int], int],
    loops: dict[tuple[int, int], int],
    frequency: np.ndarray,
) -> list[list[int]]:
    """The causally linked components of ``group`` (no link crosses two of them)."""
    linked: dict[int, set[int]] = {}
    for a, b in count:
        if a not in group or b not in group or a == b or concurrent(a, b, count, loops):
            continue
        if count[(a, b)] + count.get((b, a), 0) >= LINK_SHARE * min(frequency[a], frequency[b]):
            linked.setdefault(a, set()).add(b)
            linked.setdefault(b, set()).add(a)
    parts = _components(group, linked)
    return [sorted(p) for p in sorted(parts, key=min)]


def _run_ids(table: EventTable, group: set[int]) -> np.ndarray:
    """For each event, the number of its run of ``group`` events (-1 outside the group)."""
    inside = np.isin(table.activity, np.fromiter(group, dtype=table.activity.dtype))
    begins = inside.copy()
    begins[1:] &= ~(inside[:-1] & (table.case[1:] == table.case[:-1]))
    run = np.cumsum(begins) - 1
    return np.where(inside, run, -1)


def _runs(table: EventTable, group: set[int], branches: list[list[int]]) -> tuple[int, int]:
    """(runs of ``group``, runs that hold an event of every branch)."""
    run = _run_ids(table, group)
    inside = run >= 0
    runs = int(run.max()) + 1 if inside.any() else 0
    holds = np.ones(runs, dtype=bool)
    for branch in branches:
        mine = inside & np.isin(table.activity, branch)
        has = np.zeros(runs, dtype=bool)
        has[run[mine]] = True
        holds &= has
    return runs, int(holds.sum())


def _branch_flow(table: EventTable, group: set[int], branch: list[int], min_share: float) -> Flow:
    """The flow of one branch: its activities' events, one case per run, from the top start."""
    run = _run_ids(table, group)
    keep = (run >= 0) & np.isin(table.activity, branch)
    sub = _subset(table, keep, run[keep])
    first = sub.case_first()
    starts = np.bincount(sub.activity[first], minlength=len(sub.activities))
    top = int(np.argmax(starts))
    chosen = np.isin(sub.case, sub.case[first][sub.activity[first] == top])
    return discover_flow(_subset(sub, chosen, sub.case[chosen]), min_share)


def _subset(table: EventTable, keep: np.ndarray, case: np.ndarray) -> EventTable:
    return replace(
        table,
        case=case,
        activity=table.activity[keep],
        resource=table.resource[keep],
        start=table.start[keep],
        end=table.end[keep],
    )


def _collapse(table: EventTable, group: set[int], code: int, name: str) -> EventTable:
    """``table`` with each run of ``group`` one event of activity ``code`` (spanning the run)."""
    run = _run_ids(table, group)
    inside = run >= 0
    head = inside.copy()
    head[1:] &= run[1:] != run[:-1]
    keep = ~inside | head
    activity = np.where(head, code, table.activity)
    end = table.end.copy()
    if inside.any():
        last = np.zeros(int(run.max()) + 1)
        np.maximum.at(last, run[inside], table.end[inside])
        end[head] = last[run[head]]
    out = _subset(replace(table, activity=activity, end=end), keep, table.case[keep])
    return replace(out, activities=[*table.activities, name])
