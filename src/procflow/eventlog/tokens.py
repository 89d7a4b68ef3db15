"""Token replay of one case of a process with forks (docs/parallel-work.md#event-logs).

A process without forks is one path at a time, and
:mod:`~procflow.eventlog.replay` checks each event against the case's one
current step, a column at a time. A fork puts the case in several steps at
once, and the log then shows the branches' events in any interleaving. This
module replays such a case on *tokens*, as the simulator runs it: one token
per open branch, each at the step of its last event.

For each event (in the case's time order) :meth:`Tokens.move` finds the
token that can take it, in this order:

1. a token waiting to enter its branch at that step (started by a fork,
   no event of the branch yet);
2. a token at a step with a declared transition to it (within ``max``); when
   the step is the join of the token's innermost fork, the branches meet
   there: ``join: all`` needs every other branch of the fork at a step with
   a transition into the join (else *skipped-branch*, naming the branch that
   has no event, or *incomplete-branch*, naming where the branch stopped),
   ``join: first`` withdraws the other branches;
3. a token at a fork step, or at a step with a transition to a fork that
   does no work (``duration: 0s``), when the event is one of its branches:
   the fork opens, one token per branch;
4. the branches of a join that does no work, when the event follows that
   join.

Between 2. and 3., a token may also pass a *silent* delay step (an
external step without ``activity:`` and one way on, :func:`silent_steps`)
without an event, as it passes a gateway.

A fork or join step with a zero duration is a *gateway*: no one works
there, so a log need not record it (it may: then it is an event like any
other). When no token can take the event, the case deviates as a case
without forks would (*undeclared-transition*, *max-exceeded*,
*after-end*) and the most recently moved token re-synchronises on the
event's step, so durations keep being measured.

Each event's elapsed time is measured from the previous event *of its
branch* (the fork's event for a branch's first, the last branch to arrive
for a join), not from whatever event of the case came before: that is what
lets calibration fit each branch's durations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from procflow.compiled import CompiledProcess, Edge
from procflow.model import Process

__all__ = ["CaseTokens", "Move", "Tokens", "silent_steps"]


@dataclass(eq=False)
class _Token:
    """One place of a case: a step (or a branch not yet entered) and the forks it is inside."""

    step: int
    """The step of its last event, or -1 while it waits to enter its branch at ``entry``."""
    entry: int
    since: float
    """When its last event (or the fork that started its branch) completed."""
    forks: tuple[int, ...]
    """The fork instances it is inside, outermost first (numbers in :attr:`CaseTokens.opened`)."""


@dataclass(eq=False)
class CaseTokens:
    """The replay state of one case."""

    tokens: list[_Token] = field(default_factory=list)
    uses: dict[int, int] = field(default_factory=dict)
    """Uses of each bounded transition (by edge number)."""
    opened: list[int] = field(default_factory=list)
    """Per fork instance (the case's n-th fork opened is number n): the fork step."""


class Move(NamedTuple):
    """What one event (or the end of the log) did to a case."""

    edges: tuple[tuple[int, bool], ...]
    """The transitions taken, as ``(edge number, free)``: free when every bounded transition
    of its step was still available to the case (the departures that follow ``p``)."""
    passed: tuple[int, ...]
    """Gateway steps passed without an event of their own (each a visit)."""
    since: float
    """The completion the event's elapsed time is measured from (nan: none)."""
    kind: str | None
    """The deviation, or ``None``."""
    source: int
    target: int
    """The deviation's steps (see ``conformance.Deviation``); -1 when not a step."""


_NONE = Move((), (), math.nan, None, -1, -1)


class Tokens:
    """Token replay over a compiled process with forks (see the module docstring)."""

    def __init__(self, compiled: CompiledProcess, silent: dict[int, Edge] | None = None) -> None:
        self.c = compiled
        self.silent = silent or {}
        """Silent delay steps (:func:`silent_steps`) and their one way on."""
        structure = compiled.forks
        self.fork_of_join = {
            fork.join: fork for fork in structure.forks if fork.join >= 0 and fork.kind
        }
        self.branches = {fork.step: fork.branches for fork in structure.forks}
        self.join_of_fork = {fork.step: fork.join for fork in structure.forks}
        self.gateway = tuple(
            (compiled.fork[u] or compiled.join[u] is not None) and d is not None and d.mean == 0.0
            for u, d in enumerate(compiled.duration)
        )
        bounded: list[list[Edge]] = [[] for _ in compiled.steps]
        for edge in compiled.edges:
            if edge.max is not None:
                bounded[edge.source].append(edge)
        self.bounded = tuple(tuple(b) for b in bounded)

    # -- transitions ---------------------------------------------------------

    def _free(self, case: CaseTokens, step: int) -> bool:
        return all(case.uses.get(e.number, 0) < (e.max or 0) for e in self.bounded[step])

    def _edge(self, case: CaseTokens, source: int, target: int) -> tuple[Edge | None, bool]:
        """The first allowed transition ``source -> target``; ``(None, True)``: one was used up."""
        spent = False
        for edge in self.c.outgoing[source]:
            if edge.target != target or self.c.fork[source]:
                continue
            if edge.max is not None and case.uses.get(edge.number, 0) >= edge.max:
                spent = True
                continue
            return edge, spent
        return None, spent

    def _take(self, case: CaseTokens, edge: Edge) -> tuple[int, bool]:
        free = self._free(case, edge.source)
        if edge.max is not None:
            case.uses[edge.number] = case.uses.get(edge.number, 0) + 1
        return edge.number, free

    # -- one event -----------------------------------------------------------

    def move(self, case: CaseTokens, step: int, end: float) -> Move:
        """Replay the event of ``step`` completed at ``end`` (see the module docstring)."""
        if not case.tokens:
            case.tokens.append(_Token(step, -1, end, ()))
            kind = None if step == self.c.start else "wrong-start"
            return Move((), (), math.nan, kind, -1, step)
        for token in case.tokens:  # 1. the first event of a branch
            if token.step < 0 and token.entry == step and self._at_own_join(case, token, step):
                return self._join(case, token, None, step, end)  # an empty branch: the join
            if token.step < 0 and token.entry == step:
                token.step, since, token.since = step, token.since, end
                return Move((), (), since, None, -1, -1)
            onward = self._past_silent(token.entry, step) if token.step < 0 else None
            if onward is not None:  # its first step is a delay the log does not record
                token.step, since, token.since = step, token.since, end
                return Move((self._take(case, onward),), (token.entry,), since, None, -1, -1)
        spent = False
        for token in reversed(case.tokens):  # 2. a declared transition (latest token first)
            if token.step < 0:
                continue
            edge, used_up = self._edge(case, token.step, step)
            spent = spent or used_up
            if edge is not None:
                return self._arrive(case, token, edge, step, end)
        for token in reversed(case.tokens):  # 2b. through a silent delay step
            if token.step < 0:
                continue
            found = self._through_silent(case, token, step, end)
            if found is not None:
                return found
        for token in reversed(case.tokens):  # 3. a fork opens
            found = self._fork(case, token, step, end)
            if found is not None:
                return found
        found = self._through_gateway_join(case, step, end)  # 4.
        if found is not None:
            return found
        return self._deviate(case, step, end, spent)

    def _at_own_join(self, case: CaseTokens, token: _Token, step: int) -> bool:
        """Whether ``step`` is the join of ``token``'s innermost fork."""
        fork = self.fork_of_join.get(step)
        return fork is not None and bool(token.forks) and case.opened[token.forks[-1]] == fork.step

    def _arrive(self, case: CaseTokens, token: _Token, edge: Edge, step: int, end: float) -> Move:
        taken = self._take(case, edge)
        if self._at_own_join(case, token, step):
            return self._join(case, token, taken, step, end)
        token.step, since, token.since = step, token.since, end
        return Move((taken,), (), since, None, -1, -1)

    def _join(
        self,
        case: CaseTokens,
        token: _Token,
        taken: tuple[int, bool] | None,
        join: int,
        end: float,
    ) -> Move:
        """``token`` reaches the join of its innermost fork; the branches become one token.

        ``taken`` is ``None`` for a branch that is the join itself (``parallel: [x, j]``):
        it is there from the fork on, with no event and no transition of its own.
        """
        instance = token.forks[-1]
        others = [t for t in case.tokens if t is not token and instance in t.forks]
        edges = [taken] if taken is not None else []
        since = token.since
        kind: str | None = None
        source = target = -1
        if self.c.join[join] == "all":
            for other in others:
                if other.step < 0 and other.entry == join and other.forks[-1] == instance:
                    since = max(since, other.since)  # an empty branch: at the join already
                    continue
                if other.step < 0 or other.forks[-1] != instance:
                    if kind is None:  # a branch with no event, or inside a nested fork
                        skipped = other.step < 0 and other.forks[-1] == instance
                        kind = "skipped-branch" if skipped else "incomplete-branch"
                        source, target = _branch_deviation(case, other, instance, join)
                    continue
                edge, _ = self._edge(case, other.step, join)
                if edge is None:
                    if kind is None:
                        kind, source, target = "incomplete-branch", other.step, join
                    continue
                edges.append(self._take(case, edge))
                since = max(since, other.since)
        for other in others:
            case.tokens.remove(other)
        token.step, token.forks, token.since = join, token.forks[:-1], end
        return Move(tuple(edges), (), since, kind, source, target)

    def _past_silent(self, entry: int, step: int) -> Edge | None:
        """The way on from ``entry`` to ``step`` when ``entry`` is a silent delay step.

        Never into a join: branches meet there by their own transitions only.
        """
        if step in self.fork_of_join:
            return None
        onward = self.silent.get(entry)
        return onward if onward is not None and onward.target == step else None

    def _starts_branch(self, fork: int, step: int) -> bool:
        """Whether an event of ``step`` can be the first of a branch of ``fork``."""
        return any(
            entry == step or self._past_silent(entry, step) is not None
            for entry in self.branches.get(fork, ())
        )

    def _through_silent(
        self, case: CaseTokens, token: _Token, step: int, end: float
    ) -> Move | None:
        """``token``'s step -> a silent delay step -> ``step``, the delay not in the log."""
        for silent in self.silent:
            onward = self._past_silent(silent, step)
            if onward is None:
                continue
            edge, _ = self._edge(case, token.step, silent)
            if edge is None or self._edge(case, token.step, step)[0] is not None:
                continue
            taken = self._take(case, edge)
            token.step, since, token.since = step, token.since, end
            return Move((taken, self._take(case, onward)), (silent,), since, None, -1, -1)
        return None

    def _fork(self, case: CaseTokens, token: _Token, step: int, end: float) -> Move | None:
        """Open the fork at ``token``'s step (or a gateway fork right after it) into ``step``."""
        if token.step < 0:
            return None
        edges: list[tuple[int, bool]] = []
        passed: tuple[int, ...] = ()
        fork = token.step
        if not self.c.fork[fork]:
            gateway = next(
                (
                    e
                    for e in self.c.outgoing[fork]
                    if e.target >= 0
                    and self.gateway[e.target]
                    and self.c.fork[e.target]
                    and self._starts_branch(e.target, step)
                ),
                None,
            )
            if gateway is None or self._edge(case, fork, gateway.target)[0] is None:
                return None
            edges.append(self._take(case, gateway))
            fork = gateway.target
            passed = (fork,)
        if not self._starts_branch(fork, step):
            return None
        case.opened.append(fork)
        instance = len(case.opened) - 1
        case.tokens.remove(token)
        since = token.since
        joined: _Token | None = None
        for edge in self.c.outgoing[fork]:
            edges.append(self._take(case, edge))
            onward = self._past_silent(edge.target, step) if step >= 0 else None
            if onward is not None:  # the branch's delay step, not in the log
                edges.append(self._take(case, onward))
                passed = (*passed, edge.target)
            entered = edge.target == step or onward is not None
            place = _Token(step if entered else -1, edge.target, end if entered else since, ())
            place.forks = (*token.forks, instance)
            if entered and edge.target == self.join_of_fork.get(fork):
                place.step, place.since, joined = -1, since, place  # an empty branch: the join
            if entered:
                step = -2  # the event enters one branch only (parallel: [a, a] is PF704)
            case.tokens.append(place)
        if joined is not None:  # the join's event, right after the fork's
            met = self._join(case, joined, None, joined.entry, end)
            return Move((*edges, *met.edges), passed, since, met.kind, met.source, met.target)
        return Move(tuple(edges), passed, since, None, -1, -1)

    def _through_gateway_join(self, case: CaseTokens, step: int, end: float) -> Move | None:
        """The branches meet at a join that does no work, and the case goes on to ``step``."""
        for token in reversed(case.tokens):
            if token.step < 0 or not token.forks:
                continue
            join = self.join_of_fork.get(case.opened[token.forks[-1]], -1)
            if join < 0 or not self.gateway[join]:
                continue
            into, _ = self._edge(case, token.step, join)
            onward, _ = self._edge(case, join, step)
            if into is None or onward is None:
                continue
            joined = self._join(case, token, self._take(case, into), join, math.nan)
            after = self._take(case, onward)
            token.step, token.since = step, end
            edges = (*joined.edges, after)
            return Move(edges, (join,), joined.since, joined.kind, joined.source, joined.target)
        return None

    def _deviate(self, case: CaseTokens, step: int, end: float, spent: bool) -> Move:
        """No token can take the event: the latest token re-synchronises on ``step``."""
        token = max(case.tokens, key=lambda t: t.since)
        at = token.step if token.step >= 0 else token.entry
        if all(t.step >= 0 and self.c.end[t.step] for t in case.tokens):
            kind = "after-end"
        else:
            kind = "max-exceeded" if spent else "undeclared-transition"
        token.step, since, token.since = step, token.since, end
        return Move((), (), since, kind, at, step)

    # -- the end of the log --------------------------------------------------

    def finish(self, case: CaseTokens) -> Move:
        """Close a case at the end of the log: infer the transitions into end steps.

        Open forks whose join is an end step or a gateway are joined (each
        branch needs a transition into it); a case left elsewhere is not finished.
        """
        edges: list[tuple[int, bool]] = []
        passed: list[int] = []
        kind: str | None = None
        source = target = -1
        while case.tokens:
            inside = [t for t in case.tokens if t.forks]
            if not inside:
                token = case.tokens[0]
                if self.c.end[token.step]:
                    break
                edge = next(
                    (
                        e
                        for e in self.c.outgoing[token.step]
                        if e.target >= 0
                        and self.c.end[e.target]
                        and self._edge(case, token.step, e.target)[0] is e
                    ),
                    None,
                )
                if edge is None:
                    kind = kind or "not-finished"
                    source = source if source >= 0 else token.step
                    break
                edges.append(self._take(case, edge))
                passed.append(edge.target)
                token.step = edge.target
                break
            instance = max(inside, key=lambda t: len(t.forks)).forks[-1]
            innermost = [t for t in inside if t.forks[-1] == instance]
            join = self.join_of_fork.get(case.opened[instance], -1)
            closable = join >= 0 and (self.c.end[join] or self.gateway[join])
            token, into = innermost[-1], None
            for candidate in innermost if closable else ():
                into = self._edge(case, candidate.step, join)[0] if candidate.step >= 0 else None
                if into is not None:
                    token = candidate
                    break
            if into is None:
                if kind is None:
                    kind, source = "not-finished", token.step if token.step >= 0 else token.entry
                break
            joined = self._join(case, token, self._take(case, into), join, math.nan)
            edges.extend(joined.edges)
            passed.append(join)
            if kind is None and joined.kind is not None:
                kind, source, target = joined.kind, joined.source, joined.target
        return Move(tuple(edges), tuple(passed), math.nan, kind, source, target)


def silent_steps(process: Process, compiled: CompiledProcess) -> dict[int, Edge]:
    """Steps a log never records, by index, with their one way on.

    A step of an external owner with no ``activity:`` whose only exit is one
    unbounded transition is a pure delay: the waits ``procflow discover``
    writes in front of steps (``wait-…``, docs/discover.md) or a timer.
    Like a gateway that does no work (docs/parallel-work.md#event-logs), a
    log need not record it; when it does, its event is replayed as any other.
    """
    external = {k for k, o in process.owners.items() if o.external}
    silent: dict[int, Edge] = {}
    for u, step_id in enumerate(compiled.steps):
        step = process.steps[step_id]
        exits = compiled.outgoing[u]
        if (
            step.owner in external
            and step.activity is None
            and not compiled.end[u]
            and not compiled.fork[u]
            and compiled.join[u] is None
            and len(exits) == 1
            and exits[0].max is None
            and exits[0].target >= 0
            and exits[0].target != u
        ):
            silent[u] = exits[0]
    return silent


def _branch_deviation(case: CaseTokens, token: _Token, instance: int, join: int) -> tuple[int, int]:
    """``(source, target)`` of a branch that did not reach ``join``.

    A branch with no event: ``(fork step, branch start)`` (*skipped-branch*);
    a branch inside a nested fork: ``(its step, join)`` (*incomplete-branch*).
    """
    if token.step < 0 and token.forks[-1] == instance:
        return case.opened[instance], token.entry
    return (token.step if token.step >= 0 else token.entry), join
