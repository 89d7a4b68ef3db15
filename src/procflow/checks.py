"""The blocking checks: the structural errors that make running a process meaningless.

Twelve checks, one per blocking lint code, as pure functions of a process
and its :class:`~procflow.compiled.CompiledProcess`:

=======  ==================  ============================================
PF101    unknown-target      a transition points to a step that does not exist
PF102    unknown-start       ``start`` names no step
PF104    dead-end            a non-end step has nowhere (left) to go
PF105    no-way-out          a loop with no exit: steps that never reach an end
PF106    end-has-exit        an end step has transitions
PF107    no-end              no step is an end step
PF202    unknown-owner       an owner that is not declared
PF401    bad-probabilities   a step's ``p`` values are partial or do not sum to 1
PF701    unjoined-branch     a branch of a fork never reaches the fork's join
PF702    stray-join          a join that no fork, or several forks, reach
PF703    crossing-edge       a transition into or out of a fork's branches
PF801    unknown-attribute   a ``when``/``by``/``priority`` no case can match
=======  ==================  ============================================

They are the single implementation of these codes: the lint rules of the
same codes (:mod:`procflow.rules`) yield what :func:`violations` returns
and carry the documentation, and the runnable gate (:mod:`procflow.gate`)
turns the same violations into :class:`~procflow.errors.Problem` values.
:func:`violations` keeps each result on the compiled process, so linting a
file and then analysing it runs every check once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from procflow import digraph
from procflow.attributechecks import unknown_attribute
from procflow.compiled import CompiledProcess, Edge
from procflow.errors import did_you_mean
from procflow.findings import Violation
from procflow.model import Process
from procflow.units import format_number
from procflow.wording import plural, quote_list

__all__ = [
    "BLOCKING",
    "TOLERANCE",
    "Check",
    "describe_transition",
    "is_dead_end",
    "violations",
    "without_duration",
]

#: How far the probabilities of one step may sum from 1.
TOLERANCE = 1e-6

#: A blocking check: the violations of one code in a process.
Check = Callable[[Process, CompiledProcess], Iterable[Violation]]


def describe_transition(compiled: CompiledProcess, edge: Edge) -> str:
    """``transition 'fixed' of step 'escalate'`` (or ``'next' of step ...``, or
    ``branch 'it-setup' of fork 'approve-hire'``)."""
    if compiled.fork[edge.source]:
        return f"branch {edge.to!r} of fork {compiled.steps[edge.source]!r}"
    return f"transition {edge.trigger!r} of step {compiled.steps[edge.source]!r}"


def is_dead_end(compiled: CompiledProcess, u: int) -> bool:
    """A non-end step with nowhere to go once its bounded feedback edges are used up.

    True when the step has no transition at all, or when every transition
    it has is a feedback edge with a ``max``.
    """
    if compiled.end[u]:
        return False
    return all(e.feedback and e.max is not None for e in compiled.outgoing[u])


def dead_ends(compiled: CompiledProcess) -> list[int]:
    """The steps :func:`is_dead_end` holds for, in file order (one pass, no call per step)."""
    end = compiled.end
    found = []
    for u, edges in enumerate(compiled.outgoing):
        if end[u] or (edges and not (edges[0].feedback and edges[0].max is not None)):
            continue  # an end step, or a first edge that moves work on: not a dead end
        if all(e.feedback and e.max is not None for e in edges):
            found.append(u)
    return found


# --------------------------------------------------------------------------
# PF1xx: the shape of the step graph


def unknown_target(process: Process, compiled: CompiledProcess) -> Iterator[Violation]:
    """PF101: transitions to steps that do not exist, with the closest step id as a hint."""
    if not compiled.unknown:
        return
    steps = process.steps
    raw: dict[str, Any] | None = None
    for k in compiled.unknown:
        edge = compiled.edges[k]
        source = compiled.steps[edge.source]
        path: tuple[str | int, ...] = edge.path
        if path[2] == "on":  # the long form {to: x} points at x, the short form is x
            if raw is None:
                raw = _raw_steps(process)
            if isinstance(_get(raw, source, "on", edge.trigger), dict):
                path = (*path, "to")
        yield Violation(
            f"{describe_transition(compiled, edge)} goes to {edge.to!r}, which is not a step"
            f"{did_you_mean(edge.to, steps)}: point it at an existing step or add "
            f"step {edge.to!r}",
            source,
            path,
            "value",
        )


def _raw_steps(process: Process) -> dict[str, Any]:
    steps = process.document.get("steps")
    return steps if isinstance(steps, dict) else {}


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def unknown_start(process: Process, compiled: CompiledProcess) -> Iterator[Violation]:
    """PF102: ``start`` is not the id of a step."""
    if compiled.start >= 0:
        return
    first = compiled.steps[0]
    hint = did_you_mean(process.start, process.steps) or f" (the first step is {first!r})"
    yield Violation(
        f"start {process.start!r} is not a step{hint}: name the step where every case begins",
        process.start,
        ("start",),
        "value",
    )


def dead_end(process: Process, compiled: CompiledProcess) -> Iterator[Violation]:
    """PF104: non-end steps without transitions, or with bounded feedback ones only."""
    for u in dead_ends(compiled):
        step_id = compiled.steps[u]
        edges = compiled.outgoing[u]
        if not edges:
            message = (
                f"step {step_id!r} has no outgoing transition and is not an end step: "
                "add `next:` or `on:`, or mark it `end: true` if the case is done there"
            )
        else:
            bounded = quote_list([f"{e.trigger!r} (max {e.max})" for e in edges], quote="")
            message = (
                f"step {step_id!r} only has bounded feedback transitions ({bounded}): once a "
                "case has used them up it is stuck; add a transition that moves work forward"
            )
        yield Violation(message, step_id, ("steps", step_id))


def broken_steps(compiled: CompiledProcess) -> list[int]:
    """Steps PF104 or PF101 already report as having nowhere (known) to go."""
    broken = set(dead_ends(compiled))
    broken.update(compiled.edges[k].source for k in compiled.unknown)
    return sorted(broken)


def no_way_out(process: Process, compiled: CompiledProcess) -> Iterator[Violation]:
    """PF105: loops with no exit, one violation per trap group, at its first step.

    A group only counts when one of its terminal components is a cycle that
    no dead end (PF104) or unknown target (PF101) explains.
    """
    if not compiled.ends:
        return
    successors = compiled.successors
    groups = digraph.trap_groups(successors, compiled.reaching_end)
    if not groups:
        return
    broken = broken_steps(compiled)
    for group in groups:
        if not digraph.closed_loop(successors, group, broken):
            continue
        names = compiled.step_ids(group)
        first = names[0]
        noun = plural(len(names), "step")
        verb = "it" if len(names) == 1 else "them"
        yield Violation(
            f"{noun} {quote_list(names, limit=12)} can never reach an end step: a case that "
            f"enters {verb} never finishes; give one of {verb} a transition that leads "
            "towards an end step",
            first,
            ("steps", first),
        )


def end_has_exit(process: Process, compiled: CompiledProcess) -> Iterator[Violation]:
    """PF106: end steps with ``next:`` or ``on:`` transitions."""
    for u in compiled.ends:
        edges = compiled.outgoing[u]
        if not edges:
            continue
        step_id = compiled.steps[u]
        key = edges[0].path[2]  # "next" or "on"
        yield Violation(
            f"end step {step_id!r} has outgoing transitions (`{key}:`), but a case is done "
            "at an end step so they are never taken: remove them, or remove `end: true`",
            step_id,
            ("steps", step_id, key),
        )


def no_end(process: Process, compiled: CompiledProcess) -> Iterator[Violation]:
    """PF107: the process has no end step."""
    if compiled.ends:
        return
    yield Violation(
        f"process {process.id!r} has no end step: mark the step where a case is done "
        "with `end: true`",
        None,
        ("steps",),
    )


# --------------------------------------------------------------------------
# PF202: owners


def _owner_list(process: Process) -> str:
    names = list(process.owners)
    return f" (declared: {quote_list(names)})" if names else " (no owners are declared yet)"


def _unknown(process: Process, name: str, where: str) -> str:
    return (
        f"{where} names owner {name!r}, which is not declared{did_you_mean(name, process.owners)}: "
        f"declare it under `owners:` or use a declared one{_owner_list(process)}"
    )


def unknown_owner(process: Process, compiled: CompiledProcess) -> Iterator[Violation]:
    """PF202: a step, goal, RACI list or the process ``owner`` names an undeclared owner.

    Only the steps' own owners block running the process (see
    :func:`procflow.gate.blocks`); the other references are reported by lint.
    """
    owners = process.owners
    if process.owner is not None and process.owner not in owners:
        yield Violation(
            _unknown(process, process.owner, "the process `owner`"),
            process.owner,
            ("owner",),
            "value",
        )
    for step_id, step in process.steps.items():
        if step.owner is not None and step.owner not in owners:
            yield Violation(
                _unknown(process, step.owner, f"step {step_id!r}"),
                step.owner,
                ("steps", step_id, "owner"),
                "value",
            )
        for role in ("consulted", "informed"):
            for index, name in enumerate(getattr(step, role)):
                if name not in owners:
                    yield Violation(
                        _unknown(process, name, f"the `{role}` list of step {step_id!r}"),
                        name,
                        ("steps", step_id, role, index),
                        "value",
                    )
    for index, goal in enumerate(process.goals):
        if goal.owner is not None and goal.owner not in owners:
            yield Violation(
                _unknown(process, goal.owner, f"goal {goal.id!r}"),
                goal.owner,
                ("goals", index, "owner"),
                "value",
            )


# --------------------------------------------------------------------------
# PF401: probabilities


def bad_probabilities(process: Process, compiled: CompiledProcess) -> Iterator[Violation]:
    """PF401: a step whose transitions mix given and missing ``p``, or whose ``p`` sum is off."""
    for u, edges in enumerate(compiled.outgoing):
        if not edges or edges[0].path[2] == "next":
            continue  # `next:` carries no probability
        values = [edge.p for edge in edges if edge.p is not None]
        if not values or (len(values) == len(edges) and abs(math.fsum(values) - 1.0) <= TOLERANCE):
            continue  # none given (equal shares), or all given and summing to 1
        given = [edge for edge in edges if edge.p is not None]
        step_id = compiled.steps[u]
        if len(given) < len(edges):
            missing = [edge.trigger for edge in edges if edge.p is None]
            with_p = [edge.trigger for edge in given]
            yield Violation(
                f"step {step_id!r}: {quote_list(with_p)} "
                f"{'has' if len(with_p) == 1 else 'have'} a probability `p` but "
                f"{quote_list(missing)} {'has' if len(missing) == 1 else 'have'} none: give "
                "every transition of the step a `p` (summing to 1), or none",
                step_id,
                next(e.path for e in edges if e.p is None),
            )
            continue
        total = math.fsum(edge.p for edge in given if edge.p is not None)
        if not abs(total - 1.0) <= TOLERANCE:
            parts = " + ".join(format_number(edge.p or 0.0, 8) for edge in given)
            yield Violation(
                f"step {step_id!r}: the probabilities of its transitions sum to "
                f"{format_number(total, 8)} ({parts}), not 1: adjust the `p` values",
                step_id,
                ("steps", step_id, "on"),
            )


# --------------------------------------------------------------------------
# PF402: durations (not blocking: analysis and simulation need them on reachable steps)


def without_duration(compiled: CompiledProcess) -> list[int]:
    """Non-end steps that have transitions but no ``duration:``, in file order.

    The PF402 rule reports them all; analysis and simulation refuse to run
    when a step a case can reach is among them. (A step with no transition
    at all is a dead end, PF104, and blocks anyway.)
    """
    return [
        u
        for u in range(compiled.size)
        if not compiled.end[u] and compiled.duration[u] is None and compiled.outgoing[u]
    ]


# --------------------------------------------------------------------------
# PF701-PF703: forks and joins (docs/parallel-work.md)


def _branch_name(compiled: CompiledProcess, fork: int, position: int) -> str:
    edge = compiled.outgoing[fork][position]
    return edge.to


def unjoined_branch(process: Process, compiled: CompiledProcess) -> Iterator[Violation]:
    """PF701: a branch of a fork reaches an end step or a trap without passing the join."""
    structure = compiled.forks
    for found in structure.unjoined:
        fork = structure.forks[structure.fork_at[found.fork]]
        fork_id = compiled.steps[found.fork]
        branch = _branch_name(compiled, found.fork, found.branch)
        step = compiled.steps[found.step]
        if fork.join < 0:
            why = (
                f"reaches {'end step' if compiled.end[found.step] else 'step'} {step!r} and "
                "no step with `join:`: the branches of a fork must meet again at a join "
                "(add `join: all` to the step where they meet)"
            )
        elif compiled.end[found.step]:
            why = (
                f"reaches end step {step!r} without passing its join "
                f"{compiled.steps[fork.join]!r}: the case would end with the other branches "
                "still running; lead the branch to the join"
            )
        else:
            why = (
                f"reaches step {step!r}, from which its join {compiled.steps[fork.join]!r} "
                "can never be reached: the join would wait for it for ever"
            )
        yield Violation(
            f"branch {branch!r} of fork {fork_id!r} {why}",
            fork_id,
            ("steps", fork_id, "parallel", found.branch),
            "value",
        )


def stray_join(process: Process, compiled: CompiledProcess) -> Iterator[Violation]:
    """PF702: a join no fork's branches reach, or that the branches of several forks reach."""
    for found in compiled.forks.stray:
        step = compiled.steps[found.join]
        kind = compiled.join[found.join]
        if not found.forks:
            message = (
                f"step {step!r} has `join: {kind}` but no fork's branches reach it: there is "
                "nothing to join; remove `join:` or lead the branches of a fork to it"
            )
        else:
            names = quote_list(compiled.step_ids(found.forks))
            message = (
                f"join {step!r} is reached by the branches of forks {names}: a join closes "
                "the innermost open fork, so forks must nest; give each fork its own join"
            )
        yield Violation(message, step, ("steps", step, "join"), "value")


def crossing_edge(process: Process, compiled: CompiledProcess) -> Iterator[Violation]:
    """PF703: a transition enters a fork's branches from outside, or leaves them elsewhere."""
    structure = compiled.forks
    for found in structure.crossing:
        edge = compiled.edges[found.edge]
        fork = structure.forks[structure.fork_at[found.fork]]
        fork_id = compiled.steps[found.fork]
        inside = edge.target if found.enters else edge.source
        position = fork.branch_of(inside)
        within = (  # a step in no one branch (the fork step itself): say so, not '?'
            f"branch {_branch_name(compiled, found.fork, position)!r} of fork {fork_id!r}"
            if position >= 0
            else f"the branches of fork {fork_id!r}"
        )
        if found.enters and edge.target == fork.join:
            message = (
                f"{describe_transition(compiled, edge)} goes to {compiled.steps[edge.target]!r}, "
                f"the join of fork {fork_id!r}, from outside the fork's branches: a join only "
                "counts the branch tokens of its fork; lead the transition to the fork step, "
                "or to a step after the join"
            )
        elif found.enters:
            message = (
                f"{describe_transition(compiled, edge)} enters {within} "
                f"at step {compiled.steps[edge.target]!r} from outside the fork: "
                "that work was never forked and its join would count it wrongly; route it "
                "through the fork step"
            )
        else:
            join = (
                f"the join {compiled.steps[fork.join]!r}"
                if fork.join >= 0
                else "a join (the fork has none yet)"
            )
            message = (
                f"{describe_transition(compiled, edge)} leaves {within} "
                f"for step {compiled.steps[edge.target]!r}, not for {join}: a branch token "
                "must end at its join; lead it there"
            )
        yield Violation(message, compiled.steps[edge.source], edge.path)


# --------------------------------------------------------------------------
# the table and the memo

#: The blocking codes: code -> (rule name, check), in code order.
BLOCKING: dict[str, tuple[str, Check]] = {
    "PF101": ("unknown-target", unknown_target),
    "PF102": ("unknown-start", unknown_start),
    "PF104": ("dead-end", dead_end),
    "PF105": ("no-way-out", no_way_out),
    "PF106": ("end-has-exit", end_has_exit),
    "PF107": ("no-end", no_end),
    "PF202": ("unknown-owner", unknown_owner),
    "PF401": ("bad-probabilities", bad_probabilities),
    "PF701": ("unjoined-branch", unjoined_branch),
    "PF702": ("stray-join", stray_join),
    "PF703": ("crossing-edge", crossing_edge),
    "PF801": ("unknown-attribute", lambda process, _compiled: unknown_attribute(process)),
}


def violations(process: Process, code: str) -> tuple[Violation, ...]:
    """The violations of blocking check ``code`` in ``process``, computed once per process.

    The result is kept on the process's compiled form, so the lint rule of
    the code and the runnable gate share one run. A check that raises keeps
    nothing and raises again next time.
    """
    compiled = CompiledProcess.of(process)
    key = f"check:{code}"
    found: tuple[Violation, ...] | None = compiled.memo(key)
    if found is None:
        _name, check = BLOCKING[code]
        found = compiled.remember(key, tuple(check(process, compiled)))
    return found
