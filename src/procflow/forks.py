"""Forks and joins of a process: which branches each fork starts, where they meet, what is wrong.

A step with ``parallel: [s1, s2, ...]`` is a *fork*: when its work is done
the case continues in every listed step at once, one token per branch. A
step with ``join: all | first`` closes the *innermost open fork*: the fork
whose branches reach it (docs/parallel-work.md). This module finds, once
per compiled process, for every fork

* its branches (the targets of ``parallel``, in list order),
* its join: the join step its branches reach. Walking from a branch, the
  walk stops at the first join step; a nested fork is passed whole (its own
  branches up to its own join, then on from that join), so an inner join
  never closes an outer fork,
* its *region*: every step a branch token can be at (branches and nested
  blocks; not the fork, not the join),

and the structural problems the lint rules report (PF701 unjoined-branch,
PF702 stray-join, PF703 crossing-edge, PF704 single-branch). The simulator,
the analysis and live cases may rely on the structure only when none of
PF701-PF703 is left (the runnable gate blocks on them).

It reads a compiled process through :class:`Tables` (the few tables it
needs), so that ``procflow.compiled`` can import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

__all__ = ["Crossing", "Fork", "ForkStructure", "StrayJoin", "Tables", "Unjoined", "fork_structure"]


class _Edge(Protocol):
    @property
    def number(self) -> int: ...
    @property
    def source(self) -> int: ...
    @property
    def target(self) -> int: ...


class Tables(Protocol):
    """What the fork analysis reads of a compiled process."""

    @property
    def steps(self) -> tuple[str, ...]: ...
    @property
    def end(self) -> tuple[bool, ...]: ...
    @property
    def fork(self) -> tuple[bool, ...]: ...
    @property
    def join(self) -> tuple[str | None, ...]: ...
    @property
    def successors(self) -> tuple[list[int], ...]: ...
    @property
    def edges(self) -> Sequence[_Edge]: ...
    @property
    def outgoing(self) -> Sequence[Sequence[_Edge]]: ...


class Fork(NamedTuple):
    """One fork: its step, its branches, its join and the steps in between."""

    step: int
    """The fork step's index."""
    branches: tuple[int, ...]
    """The branch start steps in ``parallel`` order (-1 for a step that does not exist)."""
    join: int
    """The join step closing this fork, or -1 when its branches reach none."""
    kind: str
    """The join's kind, ``"all"`` or ``"first"`` (``""`` without a join)."""
    region: frozenset[int]
    """Every step a branch token can be at: branches and nested blocks, not fork or join."""
    paths: tuple[tuple[int, ...], ...]
    """Per branch: the steps its token can be at, in walk order (a step may be in several)."""

    def branch_of(self, step: int) -> int:
        """The position of the first branch whose token can be at ``step`` (-1: none)."""
        return next((i for i, path in enumerate(self.paths) if step in path), -1)


class Unjoined(NamedTuple):
    """PF701: a branch of a fork reaches ``step``, from which the fork's join is never reached."""

    fork: int
    branch: int
    """Position of the branch in ``parallel``."""
    step: int
    """An end step, or the first step of the branch from which the join is out of reach."""


class StrayJoin(NamedTuple):
    """PF702: a join step that no fork's branches reach, or that several forks' branches reach."""

    join: int
    forks: tuple[int, ...]
    """The forks (step indices) whose branches reach it, in file order (empty: none)."""


class Crossing(NamedTuple):
    """PF703: a transition entering a fork's branches (or its join) from outside, or leaving
    them other than into the join."""

    edge: int
    """Index into the compiled edges."""
    fork: int
    """The fork (step index) whose branches it crosses: the innermost one."""
    enters: bool
    """True when it enters the branches from outside, False when it leaves them."""


class ForkStructure(NamedTuple):
    """Every fork of a process and the structural problems of forks and joins."""

    forks: tuple[Fork, ...]
    """The forks, in file order of their steps."""
    fork_at: Mapping[int, int]
    """Fork step index -> position in :attr:`forks`."""
    join_of: Mapping[int, int]
    """Join step index -> position in :attr:`forks` of the fork it closes."""
    unjoined: tuple[Unjoined, ...]
    stray: tuple[StrayJoin, ...]
    crossing: tuple[Crossing, ...]

    @property
    def sound(self) -> bool:
        """Whether tokens can run: every fork is joined, properly nested, with no crossing edge."""
        return not (self.unjoined or self.stray or self.crossing)


class _Block(NamedTuple):
    join: int
    region: frozenset[int]
    reached: tuple[tuple[int, int], ...]  # (join step, branch position) where a walk stopped
    order: tuple[tuple[int, ...], ...]  # per branch: its steps in walk order


def fork_structure(c: Tables) -> ForkStructure:
    """Find every fork's branches, join and region, and the PF701-PF704 problems."""
    blocks: dict[int, _Block] = {}
    for f in range(len(c.steps)):
        if c.fork[f]:
            _block(c, f, blocks, set())
    forks = tuple(_fork(c, f, blocks[f]) for f in sorted(blocks))
    fork_at = {fork.step: i for i, fork in enumerate(forks)}
    reached_by: dict[int, set[int]] = {}
    for f, block in blocks.items():
        for join, _branch in block.reached:
            reached_by.setdefault(join, set()).add(f)
    stray = tuple(
        StrayJoin(j, tuple(sorted(reached_by.get(j, ()))))
        for j in range(len(c.steps))
        if c.join[j] is not None and len(reached_by.get(j, ())) != 1
    )
    shared = join_of_conflicts(stray)
    join_of = {
        fork.join: i for i, fork in enumerate(forks) if fork.join >= 0 and fork.join not in shared
    }
    # a fork whose branches pass a join that several forks share is PF702's problem alone
    unjoined = tuple(
        u
        for fork in forks
        if not (fork.region & shared)
        for u in _unjoined(c, fork, blocks[fork.step])
    )
    return ForkStructure(forks, fork_at, join_of, unjoined, stray, _crossings(c, forks, shared))


def join_of_conflicts(stray: Sequence[StrayJoin]) -> frozenset[int]:
    """The join steps reached by several forks (they close none of them)."""
    return frozenset(s.join for s in stray if len(s.forks) > 1)


def _fork(c: Tables, f: int, block: _Block) -> Fork:
    branches = tuple(e.target for e in c.outgoing[f])
    kind = (c.join[block.join] or "") if block.join >= 0 else ""
    return Fork(f, branches, block.join, kind, block.region, block.order)


def _block(c: Tables, f: int, blocks: dict[int, _Block], open_: set[int]) -> _Block:
    """Fork ``f``'s block, walking nested forks' blocks first (without recursion: forks nest
    as deep as a file likes)."""
    pending = [f]
    while pending:
        g = pending[-1]
        if g in blocks:
            pending.pop()
            continue
        open_.add(g)
        inner = _walk(c, g, blocks, open_)
        if inner >= 0:  # a nested fork to walk first
            pending.append(inner)
            continue
        open_.discard(g)
        pending.pop()
    return blocks[f]


def _walk(c: Tables, f: int, blocks: dict[int, _Block], open_: set[int]) -> int:
    """Walk every branch of fork ``f`` up to the first join step, passing nested forks whole.

    Returns a nested fork whose block is still unknown (walk it, then ``f`` again), or -1
    once ``f``'s block is in ``blocks``. A fork nested in its own branches (a cycle) counts
    as a block without join: crossing edges report it.
    """
    region: set[int] = set()
    reached: list[tuple[int, int]] = []
    order: list[tuple[int, ...]] = []
    successors, join, end, fork = c.successors, c.join, c.end, c.fork
    empty = _Block(-1, frozenset(), (), ())
    for position, edge in enumerate(c.outgoing[f]):
        seen: set[int] = set()
        walk: list[int] = []
        stack = [edge.target] if edge.target >= 0 else []
        while stack:
            u = stack.pop()
            if u in seen or u == f:
                continue
            seen.add(u)
            if join[u] is not None:
                reached.append((u, position))
                continue
            walk.append(u)
            if end[u]:
                continue
            if fork[u]:
                inner = blocks.get(u)
                if inner is None:
                    if u not in open_:
                        return u
                    inner = empty
                walk.extend(sorted(inner.region))
                seen.update(inner.region)
                if inner.join >= 0:
                    walk.append(inner.join)
                    seen.add(inner.join)
                    stack.extend(reversed(successors[inner.join]))
                continue
            stack.extend(reversed(successors[u]))
        region.update(walk)
        order.append(tuple(walk))
    blocks[f] = _Block(_choose_join(reached), frozenset(region), tuple(reached), tuple(order))
    return -1


def _choose_join(reached: Sequence[tuple[int, int]]) -> int:
    """The join most branches reach (ties: the one reached first); -1 when none is reached."""
    if not reached:
        return -1
    branches: dict[int, set[int]] = {}
    for join, branch in reached:
        branches.setdefault(join, set()).add(branch)
    return max(branches, key=lambda j: len(branches[j]))  # max keeps the first of equals


def _unjoined(c: Tables, fork: Fork, block: _Block) -> list[Unjoined]:
    """PF701: per branch, the first step (an end preferred) from which the join is out of reach."""
    reaches: set[int] = set()
    if fork.join >= 0:
        inside = fork.region
        predecessors: dict[int, list[int]] = {}
        for u in inside:
            for v in c.successors[u]:
                predecessors.setdefault(v, []).append(u)
        stack = [fork.join]
        while stack:
            v = stack.pop()
            for u in predecessors.get(v, ()):
                if u not in reaches:
                    reaches.add(u)
                    stack.append(u)
    found: list[Unjoined] = []
    for position, walk in enumerate(block.order):
        lost = [u for u in walk if u not in reaches]
        if not lost:
            continue
        ends = [u for u in lost if c.end[u]]
        found.append(Unjoined(fork.step, position, (ends or lost)[0]))
    return found


def _crossings(c: Tables, forks: Sequence[Fork], shared: frozenset[int]) -> tuple[Crossing, ...]:
    """PF703: each crossing transition once, for the innermost fork it crosses (transitions
    into a join that several forks share are PF702's)."""
    found: dict[int, Crossing] = {}
    for fork in sorted(forks, key=lambda k: (len(k.region), k.step)):
        region = fork.region
        for edge in c.edges:
            u, v = edge.source, edge.target
            if v < 0 or edge.number in found or v in shared:
                continue
            outside = u not in region and u != fork.step
            if (outside and (v in region or v == fork.join)) or u == v == fork.step:
                # into the branches or the join from outside (the join itself included), or
                # a fork that lists itself as a branch
                found[edge.number] = Crossing(edge.number, fork.step, True)
            elif u in region and v not in region and v != fork.join and c.join[v] is None:
                found[edge.number] = Crossing(edge.number, fork.step, False)
    return tuple(found[k] for k in sorted(found))
