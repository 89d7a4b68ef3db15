"""The one compiled form of a process: steps, edges and owners as indexed, immutable tables.

Every part of procflow that walks a process -- the lint rules, the runnable
gate, the analytic model, the simulator's plan, event-log replay, live
cases -- needs the same facts: the steps numbered in file order, each
transition with its target, trigger, probability, ``feedback`` and
``max``, which steps end a case, who owns each step and whether that owner
is a staff pool or external, what a case can reach from the start, and the
strongly connected components. :class:`CompiledProcess` computes them once
per :class:`~procflow.model.Process` (:meth:`CompiledProcess.of` keeps it on
the process object itself, so it lives and dies with the process), and
everyone reads them from here instead of walking ``process.steps`` again.

A compiled process exists for every *valid* process, runnable or not:
transitions to steps that do not exist are kept with target ``-1`` (lint
reports them, PF101) and an unknown ``start`` has index ``-1`` (PF102).
:func:`procflow.gate.runnable` is the gate that returns it only when no
blocking error is left; what passes the gate needs no checking again.

Derived tables (successors, predecessors, components, reachability) are
computed on first use and then kept: the compiled process is immutable, so
they never go stale.

>>> from procflow.loader import load_text
>>> p = load_text('''{process: p, start: a, owners: {x: {capacity: 2}, c: {external: true}},
...   steps: {a: {owner: x, duration: 5m, next: b},
...           b: {owner: c, on: {ok: {to: done, p: 0.9}, redo: {to: a, p: 0.1, feedback: true}}},
...           done: {end: true}}}''')
>>> c = CompiledProcess.of(p)
>>> c.steps, c.start, c.ends
(('a', 'b', 'done'), 0, (2,))
>>> [StepKind(k).name for k in c.kind]
['STAFF', 'DELAY', 'END']
>>> [(e.source, e.target, e.trigger, e.p, e.feedback) for e in c.outgoing[1]]
[(1, 2, 'ok', 0.9, False), (1, 0, 'redo', 0.1, True)]
>>> c.outgoing[1][1].path
('steps', 'b', 'on', 'redo')
>>> CompiledProcess.of(p) is c
True
"""

from __future__ import annotations

import enum
import weakref
from collections.abc import Mapping, Sequence
from functools import cached_property, lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NamedTuple

from procflow import digraph
from procflow.casedata import ByValue
from procflow.casestats import Points, first_true_shares, mean_by
from procflow.expressions import parse
from procflow.forks import ForkStructure, fork_structure

if TYPE_CHECKING:
    from procflow.casedata import Attribute
    from procflow.model import Owner, Process, StepDuration, Transition

__all__ = ["CompiledProcess", "Edge", "OwnerInfo", "StepKind"]


class StepKind(enum.IntEnum):
    """What a step is to a case passing through it."""

    STAFF = 0
    """Work for a staff pool: the step's owner is declared and not external (a queue)."""
    DELAY = 1
    """A pure delay: the owner is external, undeclared, or the step has none (no queue)."""
    END = 2
    """An end step: the case is done there."""


class Edge(NamedTuple):
    """One transition of the process, compiled.

    The one edge type of procflow: what the lint checks, the analytic
    model, the simulator and replay read of a transition.
    """

    number: int
    """Position among :attr:`CompiledProcess.edges` (file order)."""
    source: int
    """Index of the step the transition leaves."""
    target: int
    """Index of the step it goes to, or -1 when no step has that id (PF101)."""
    to: str
    """The target step id, as written (also when it is not a step)."""
    trigger: str
    """The trigger: the ``on:`` key, ``"next"`` for the ``next:`` form, or ``"parallel"``
    for a branch of a fork (``path`` then ends with the branch's position in the list)."""
    p: float | None
    """The probability ``p`` as written, or ``None`` (see :attr:`CompiledProcess.probability`)."""
    feedback: bool
    """Whether the transition sends work back (``feedback: true``)."""
    max: int | None
    """How often one case may take it (``max:``), or ``None`` for no bound."""
    path: tuple[str | int, ...]
    """Model path of the transition's key, for positions: ``("steps", s, "next")``,
    ``("steps", s, "on", trigger)`` or ``("steps", s, "parallel", i)``."""


class OwnerInfo(NamedTuple):
    """One declared owner, compiled."""

    id: str
    """The owner id (the key under ``owners:``)."""
    capacity: int
    """People working in parallel (the staff pool's servers)."""
    external: bool
    """Not staff (customer, supplier): its steps are pure delays, no queue."""
    cost_per_hour: float | None
    """Cost of one person for one hour, or ``None``."""
    cost_per_step: float | None = None
    """A fixed amount for each step the owner does, or ``None`` (docs/working-time.md)."""


_tuple_new = tuple.__new__

#: Where :meth:`CompiledProcess.of` keeps the compiled form in a process's instance dict.
_KEY = "_procflow_compiled"


def _nothing() -> None:
    """What an unpickled compiled process becomes (see :meth:`CompiledProcess.__reduce__`)."""


# builds an Edge without NamedTuple's keyword handling


def _rule_shares(
    edges: list[Edge], start: int, on: Mapping[str, Transition], attributes: Mapping[str, Attribute]
) -> None:
    """Give the conditional transitions of one step (``edges[start:]``) their shares as ``p``.

    First-true routing over the attributes' joint distribution
    (:mod:`procflow.casestats`: exact for categories, sampled for numbers),
    so that every part of procflow that reads ``p`` -- the analytic model,
    the probability checks -- sees how many cases really take each edge.
    """
    whens = tuple(t.when for t in on.values())
    names: set[str] = set()
    for when in whens:
        if when is not None:
            names |= _names(when)
    used = tuple((name, attributes[name]) for name in attributes if name in names)
    try:
        shares = _shares(whens, used)
    except TypeError:  # a declaration that cannot be hashed: computed without the memo
        shares = _shares.__wrapped__(whens, used)
    for i, share in enumerate(shares):
        edges[start + i] = edges[start + i]._replace(p=share)


@lru_cache(maxsize=256)
def _shares(
    whens: tuple[str | None, ...], used: tuple[tuple[str, Attribute], ...]
) -> tuple[float, ...]:
    """:func:`first_true_shares` of ``whens`` over the attributes they read, remembered.

    A pure function of the conditions and of those attributes' declarations (a
    sampled joint distribution has a fixed seed), which the variants ``levers`` and
    ``optimize`` compile by the dozen leave unchanged: each would otherwise
    sample and route 100,000 points per step with rules again.
    """
    return first_true_shares(whens, Points.of(dict(used), {name for name, _ in used}))


def _names(when: str) -> frozenset[str]:
    return parse(when).names


class CompiledProcess:
    """A valid process as indexed, immutable tables (see the module docstring).

    Steps are numbered in file order; ``steps[i]`` is the id of step ``i``.
    Per-step tables are tuples indexed by step; :attr:`edges` holds every
    transition in file order and :attr:`outgoing` the same edges per step.
    Build it with :meth:`of`, never directly: that is what keeps one
    compiled process per process object.
    """

    process: str
    """The process id."""
    steps: tuple[str, ...]
    """Step ids in file order: step ``i`` is ``steps[i]``."""
    index: Mapping[str, int]
    """Step id -> index (read-only by convention: do not change it)."""
    start: int
    """Index of the start step, or -1 when ``start`` names no step (PF102)."""
    start_id: str
    """The ``start`` step id, as written."""
    end: tuple[bool, ...]
    """Per step: whether it is an end step."""
    ends: tuple[int, ...]
    """The end steps' indices, in file order."""
    fork: tuple[bool, ...]
    """Per step: whether it is a fork (``parallel:``); its edges are then its branches."""
    join: tuple[str | None, ...]
    """Per step: its ``join`` (``"all"`` or ``"first"``), or ``None`` when it joins nothing."""
    owner: tuple[str | None, ...]
    """Per step: the owner id as written, or ``None``."""
    duration: tuple[StepDuration | None, ...]
    """Per step: its duration distribution (or ``by:`` form), or ``None``."""
    edges: tuple[Edge, ...]
    """Every transition in file order (unknown targets included, with target -1)."""
    first: tuple[int, ...]
    """``edges[first[u]:first[u + 1]]`` are the transitions of step ``u`` (length n + 1)."""
    outgoing: tuple[tuple[Edge, ...], ...]
    """Per step: its transitions, in file order."""
    unknown: tuple[int, ...]
    """Indices (into :attr:`edges`) of transitions whose target is not a step."""
    _process: weakref.ref[Process]
    _memo: dict[str, Any]
    _owners: Mapping[str, Owner]

    __slots__ = (
        "__dict__",  # the cached properties
        "_memo",
        "_owners",
        "_process",
        "duration",
        "edges",
        "end",
        "ends",
        "first",
        "fork",
        "index",
        "join",
        "outgoing",
        "owner",
        "process",
        "start",
        "start_id",
        "steps",
        "unknown",
    )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a compiled process is immutable (cannot set {name!r})")

    # ------------------------------------------------------------------
    # building

    @classmethod
    def of(cls, process: Process) -> CompiledProcess:
        """The compiled form of ``process``: built on first call, then kept on the process.

        Kept like a cached property, in the process's instance dict (not a
        field: never validated, dumped or compared), so it lives and dies
        with the process. The process is frozen, so its compiled form never
        goes stale; a copy of it (``model_copy``, a what-if change,
        unpickling) compiles its own.
        """
        cached: CompiledProcess | None = process.__dict__.get(_KEY)
        if cached is not None and cached._process() is process:
            return cached
        compiled = cls._build(process)
        process.__dict__[_KEY] = compiled
        return compiled

    @classmethod
    def _build(cls, process: Process) -> CompiledProcess:
        """Read every step and transition once (lint pays for this on every file: keep it lean)."""
        steps = process.steps
        ids = tuple(steps)
        index = {step_id: i for i, step_id in enumerate(ids)}
        values = steps.values()
        edges: list[Edge] = []
        first: list[int] = []
        unknown: list[int] = []
        add, mark, new, get = edges.append, unknown.append, _tuple_new, index.get
        attributes = process.attributes
        for u, (step_id, step) in enumerate(steps.items()):
            k = len(edges)
            first.append(k)
            to = step.next
            if to is not None:
                v = get(to, -1)
                if v < 0:
                    mark(k)
                add(new(Edge, (k, u, v, to, "next", None, False, None, ("steps", step_id, "next"))))
            elif step.parallel:
                for i, to in enumerate(step.parallel):
                    v = get(to, -1)
                    if v < 0:
                        mark(k)
                    path: tuple[str | int, ...] = ("steps", step_id, "parallel", i)
                    add(new(Edge, (k, u, v, to, "parallel", None, False, None, path)))
                    k += 1
            elif step.on:
                for trigger, t in step.on.items():
                    to = t.to
                    v = get(to, -1)
                    if v < 0:
                        mark(k)
                    path = ("steps", step_id, "on", trigger)
                    p = mean_by(t.p, attributes) if isinstance(t.p, ByValue) else t.p
                    add(new(Edge, (k, u, v, to, trigger, p, t.feedback, t.max, path)))
                    k += 1
                if step.on and any(t.when is not None for t in step.on.values()):
                    _rule_shares(edges, first[-1], step.on, attributes)
        first.append(len(edges))
        all_edges = tuple(edges)
        end = tuple([step.end for step in values])
        self = object.__new__(cls)
        put = object.__setattr__
        put(self, "_process", weakref.ref(process))
        put(self, "_memo", {})
        put(self, "process", process.process)
        put(self, "steps", ids)
        put(self, "index", index)
        put(self, "start", get(process.start, -1))
        put(self, "start_id", process.start)
        put(self, "end", end)
        put(self, "ends", tuple([u for u, e in enumerate(end) if e]))
        put(self, "fork", tuple([step.parallel is not None for step in values]))
        put(self, "join", tuple([step.join for step in values]))
        put(self, "owner", tuple([step.owner for step in values]))
        put(self, "duration", tuple([step.duration for step in values]))
        put(self, "edges", all_edges)
        put(self, "first", tuple(first))
        put(self, "outgoing", tuple([all_edges[a:b] for a, b in pairwise(first)]))
        put(self, "unknown", tuple(unknown))
        put(self, "_owners", process.owners)
        return self

    def __repr__(self) -> str:
        return (
            f"<CompiledProcess {self.process!r}: {len(self.steps)} steps, "
            f"{len(self.edges)} edges, {len(self.owners)} owners>"
        )

    def __reduce__(self) -> Any:
        """Pickled as nothing: a process unpickled elsewhere compiles itself again."""
        return (_nothing, ())

    # ------------------------------------------------------------------
    # memoized results of checks (procflow.checks): per compiled process, never global

    def memo(self, key: str) -> Any:
        """A result kept under ``key`` by :meth:`remember` (``None`` when there is none)."""
        return self._memo.get(key)

    def remember(self, key: str, value: Any) -> Any:
        """Keep ``value`` (an immutable result derived from this process) under ``key``."""
        self._memo[key] = value
        return value

    # ------------------------------------------------------------------
    # owners, kinds and bounds, computed on first use (lint needs none of them)

    @cached_property
    def owners(self) -> tuple[OwnerInfo, ...]:
        """The declared owners, in file order (roster owners included)."""
        return tuple(
            OwnerInfo(name, o.units, o.external, o.cost_per_hour, o.cost_per_step)
            for name, o in self._owners.items()
        )

    @cached_property
    def owner_index(self) -> Mapping[str, int]:
        """Owner id -> index into :attr:`owners` (read-only by convention)."""
        return {name: i for i, name in enumerate(self._owners)}

    @cached_property
    def owner_of(self) -> tuple[int, ...]:
        """Per step: index into :attr:`owners` of its owner, -1 without a declared owner."""
        index = self.owner_index
        return tuple(-1 if name is None else index.get(name, -1) for name in self.owner)

    @cached_property
    def kind(self) -> tuple[StepKind, ...]:
        """Per step: :class:`StepKind` -- a staff queue, a pure delay, or an end."""
        owners = self.owners
        return tuple(
            StepKind.END
            if end
            else StepKind.STAFF
            if o >= 0 and not owners[o].external
            else StepKind.DELAY
            for end, o in zip(self.end, self.owner_of, strict=True)
        )

    @cached_property
    def bounded(self) -> tuple[int, ...]:
        """Indices (into :attr:`edges`) of the transitions with ``max``, in file order."""
        return tuple(e.number for e in self.edges if e.max is not None)

    @cached_property
    def slot(self) -> tuple[int, ...]:
        """Per edge: its position among :attr:`bounded` (a case's counter), or -1."""
        slots = [-1] * len(self.edges)
        for position, k in enumerate(self.bounded):
            slots[k] = position
        return tuple(slots)

    # ------------------------------------------------------------------
    # derived graph tables, computed on first use

    @property
    def size(self) -> int:
        """The number of steps."""
        return len(self.steps)

    @property
    def unknown_targets(self) -> bool:
        """Whether some transition points to a step that does not exist (PF101)."""
        return bool(self.unknown)

    @cached_property
    def successors(self) -> tuple[list[int], ...]:
        """Per step: the targets of its transitions to known steps (repeats kept, file order)."""
        return tuple([e.target for e in out if e.target >= 0] for out in self.outgoing)

    @cached_property
    def predecessors(self) -> tuple[list[int], ...]:
        """Per step: the steps with a transition to it, each once, in file order."""
        sources: list[list[int]] = [[] for _ in self.steps]
        for u, targets in enumerate(self.successors):
            for v in targets:
                if not sources[v] or sources[v][-1] != u:
                    sources[v].append(u)
        return tuple(sources)

    @cached_property
    def reachable(self) -> tuple[bool, ...]:
        """Per step: whether a case can reach it from the start (all false without a start)."""
        return tuple(digraph.reached(self.successors, self.start))

    @cached_property
    def reach_order(self) -> tuple[int, ...]:
        """The steps a case can reach, breadth first from the start along edges in file order."""
        if self.start < 0:
            return ()
        seen = {self.start}
        order = [self.start]
        successors = self.successors
        for u in order:  # grows while it is walked: a queue
            for v in successors[u]:
                if v not in seen:
                    seen.add(v)
                    order.append(v)
        return tuple(order)

    @cached_property
    def reaching_end(self) -> tuple[bool, ...]:
        """Per step: whether some path (along any edge) leads to an end step, ends included."""
        return tuple(digraph.reaching(self.successors, self.end))

    @cached_property
    def components(self) -> tuple[tuple[int, ...], ...]:
        """Strongly connected components along every edge, in reverse topological order."""
        return tuple(tuple(c) for c in digraph.strongly_connected(len(self.steps), self.successors))

    @cached_property
    def component_of(self) -> tuple[int, ...]:
        """Per step: the index of its component in :attr:`components`."""
        of = [0] * len(self.steps)
        for c, component in enumerate(self.components):
            for u in component:
                of[u] = c
        return tuple(of)

    @cached_property
    def forks(self) -> ForkStructure:
        """The forks, their branches and joins, and their problems (docs/parallel-work.md)."""
        return fork_structure(self)

    @property
    def has_forks(self) -> bool:
        """Whether some step is a fork (the simulation then runs on tokens)."""
        return any(self.fork)

    @cached_property
    def probability(self) -> tuple[float, ...]:
        """Per edge: its ``p``, or an equal share of its step when the step gives none.

        Meaningful for a runnable process (PF401 passed: all of a step's
        edges have ``p`` or none has); an edge without ``p`` on a step where
        others have one gets an equal share too. The branches of a fork are
        all taken: each has 1.
        """
        result: list[float] = []
        for u, out in enumerate(self.outgoing):
            if self.fork[u]:  # every branch of a fork is taken
                result.extend(1.0 for _ in out)
                continue
            share = 1.0 / len(out) if out else 0.0
            result.extend(share if e.p is None else e.p for e in out)
        return tuple(result)

    def edges_between(self, source: int, target: int) -> list[Edge]:
        """The transitions from step ``source`` to step ``target``, in file order."""
        return [e for e in self.outgoing[source] if e.target == target]

    def step_ids(self, indices: Sequence[int]) -> list[str]:
        """The ids of the steps ``indices``."""
        return [self.steps[u] for u in indices]
