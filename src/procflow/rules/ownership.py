"""PF2xx: who does the work -- owners declared, used, and not stretched thin.

Owners are referenced in four places (docs/file-format.md#owners): a step's ``owner``, a
step's RACI lists ``consulted``/``informed``, a goal's ``owner`` and the
process ``owner``; a goal's ``utilization:<owner>`` metric names one too.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from itertools import pairwise

from procflow.checks import violations
from procflow.findings import Severity
from procflow.graph import has_transitions, has_unknown_targets
from procflow.model import Process
from procflow.rules import did_you_mean, quote_list
from procflow.rules.base import LintContext, Violation, path_of_owner, path_of_step, rule


def _owner_list(process: Process) -> str:
    names = list(process.owners)
    return f" (declared: {quote_list(names)})" if names else " (no owners are declared yet)"


@rule("PF201", "missing-owner", Severity.ERROR)
def missing_owner(ctx: LintContext) -> Iterator[Violation]:
    """A non-end step has no owner.

    ## What it does
    Reports every step that is not an end step and has no `owner:`. (A
    step with no transitions at all is left to PF104: it is usually an end
    step that lacks `end: true`.)

    ## Why is this bad?
    Work nobody owns is work nobody does: the step has no queue and no
    capacity in analysis and simulation (it becomes a pure delay), and in
    real life it waits until someone notices it. Naming the owner is the
    first step to measuring and improving the step.

    ## Example
    ```yaml
    steps:
      triage:
        duration: 4m
        next: resolve
    ```

    ## Use instead
    ```yaml
    steps:
      triage:
        owner: support-agent
        duration: 4m
        next: resolve
    ```
    """
    process = ctx.process
    for step_id, step in process.steps.items():
        if step.end or step.owner is not None or not has_transitions(step):
            continue  # a step with no transition at all is PF104's
        yield Violation(
            f"step {step_id!r} has no owner: add `owner:` naming who does it{_owner_list(process)}",
            step_id,
            path_of_step(step_id),
        )


def _unknown(process: Process, name: str, where: str) -> str:
    return (
        f"{where} names owner {name!r}, which is not declared{did_you_mean(name, process.owners)}: "
        f"declare it under `owners:` or use a declared one{_owner_list(process)}"
    )


@rule("PF202", "unknown-owner", Severity.ERROR)
def unknown_owner(ctx: LintContext) -> Iterable[Violation]:
    """A step, goal, RACI list or the process `owner` names an owner that is not declared.

    ## What it does
    Checks every owner reference -- a step's `owner`, the owners listed in
    its `consulted` and `informed` lists, a goal's `owner` and the process
    `owner` -- against the `owners:` mapping (and the shared `roster:`),
    and suggests the closest declared owner for a likely typo.

    ## Why is this bad?
    An undeclared owner has no capacity and no cost, so the load on the
    people who really do the work is wrong, and a typo silently creates a
    second, idle team.

    ## Example
    ```yaml
    owners:
      support-agent: {capacity: 5}
    steps:
      triage:
        owner: suport-agent
        next: resolve
    ```

    ## Use instead
    ```yaml
    owners:
      support-agent: {capacity: 5}
    steps:
      triage:
        owner: support-agent
        next: resolve
    ```
    """
    return violations(ctx.process, "PF202")


def referenced_owners(process: Process) -> set[str]:
    """Every owner name the process refers to (declared or not)."""
    used: set[str] = set()
    if process.owner is not None:
        used.add(process.owner)
    for step in process.steps.values():
        if step.owner is not None:
            used.add(step.owner)
        used.update(step.consulted)
        used.update(step.informed)
    for goal in process.goals:
        if goal.owner is not None:
            used.add(goal.owner)
        if goal.metric_name == "utilization" and goal.metric_argument:
            used.add(goal.metric_argument)
    return used


@rule("PF203", "unused-owner", Severity.WARNING)
def unused_owner(ctx: LintContext) -> Iterator[Violation]:
    """A declared owner is referenced nowhere.

    ## What it does
    Reports an owner declared under `owners:` that no step (`owner`,
    `consulted`, `informed`), goal (`owner`, `utilization:<owner>`) or the
    process `owner` refers to. Owners that come from a shared `roster:`
    file are not reported: a roster serves many processes, and each uses
    only some of its owners. An owner whose name is close to an undeclared
    reference (a typo, PF202) counts as used by it.

    ## Why is this bad?
    An unused owner is usually a leftover from a removed step, or the
    intended owner of a step that names someone else by mistake. It also
    makes the process look staffed by people who do nothing in it.

    ## Example
    ```yaml
    owners:
      support-agent: {capacity: 5}
      night-shift: {capacity: 2}     # no step uses it
    ```

    ## Use instead
    ```yaml
    owners:
      support-agent: {capacity: 5}
    ```
    """
    process = ctx.process
    used = referenced_owners(process)
    declared = list(process.owners)
    for name in used - process.owners.keys():  # a mistyped reference (PF202) means its match
        used.update(difflib.get_close_matches(name, declared, n=1, cutoff=0.6))
    shared: frozenset[str] = getattr(process.source, "roster_owners", frozenset())
    for name in process.owners:
        if name in used or name in shared:
            continue
        yield Violation(
            f"owner {name!r} is declared but no step, RACI list, goal or process `owner` "
            "refers to it: give it a step or remove it",
            name,
            path_of_owner(name),
        )


@rule("PF204", "single-point-of-failure", Severity.WARNING)
def single_point_of_failure(ctx: LintContext) -> Iterator[Violation]:
    """An owner with capacity 1 owns a step that every case must pass through.

    ## What it does
    Finds the steps every finished case passes through (the dominators of
    all reachable end steps: there is no way round them; inside a fork with
    `join: all` every branch runs, so the steps each branch must pass on its
    way to the join count too) and reports each one owned by a staff owner
    of `capacity: 1`. One finding per step, at
    the step's `owner:`, naming the step and the owner. External owners
    (a pure delay) are not reported, nor is anything while a transition
    points to an unknown step (PF101), since the paths are not known yet.

    ## Why is this bad?
    When that one person is ill, on holiday or simply busy, every case in
    the process stops; and a single server in the path of all the work is
    where queues form first.

    ## Example
    ```yaml
    owners:
      manager: {capacity: 1}
    steps:
      approve:
        owner: manager           # every purchase passes here
        next: order
    ```

    ## Use instead
    ```yaml
    owners:
      approvers: {capacity: 2}   # the manager and a deputy share the step
    steps:
      approve:
        owner: approvers
        next: order
    ```
    """
    process = ctx.process
    single = {
        name for name, owner in process.owners.items() if owner.capacity == 1 and not owner.external
    }
    if not single or process.start not in process.steps or has_unknown_targets(process):
        return  # with PF101/PF102 errors the paths of a case are not known yet
    if not any(step.owner in single for step in process.steps.values()):
        return
    for step_id in _mandatory_steps(ctx):
        owner = process.steps[step_id].owner
        if owner is None or owner not in single:
            continue
        yield Violation(
            f"step {step_id!r} is on the path of every case and its owner {owner!r} has "
            "capacity 1: when that person is away, all work stops; add capacity, a deputy, "
            "or a way round the step",
            owner,
            ("steps", step_id, "owner"),
            "value",
        )


def _mandatory_steps(ctx: LintContext) -> list[str]:
    """The steps every case passes through: the dominators of all end steps and, inside each
    such fork with ``join: all``, the steps every branch passes on its way to the join (a
    fork reaches all of its branches, docs/parallel-work.md)."""
    graph = ctx.step_graph
    found = list(graph.mandatory_steps())
    compiled = ctx.compiled
    structure = compiled.forks
    if not structure.forks or not structure.sound:
        return found
    seen = set(found)
    for step_id in found:  # grows while it is walked: nested forks are reached in turn
        position = structure.fork_at.get(compiled.index[step_id])
        if position is None:
            continue
        fork = structure.forks[position]
        if fork.kind != "all":
            continue  # a race: no branch is sure to run to its end
        for branch in fork.branches:
            idom = graph.immediate_dominators(compiled.steps[branch])
            v = fork.join
            while 0 <= idom[v] != v:  # from the join up to the branch start
                v = idom[v]
                if compiled.steps[v] not in seen:
                    seen.add(compiled.steps[v])
                    found.append(compiled.steps[v])
    return found


@rule("PF205", "ping-pong", Severity.WARNING)
def ping_pong(ctx: LintContext) -> Iterator[Violation]:
    """Work goes back and forth between the same two owners: A → B → A → B.

    ## What it does
    Looks for a path that visits no step twice along which ownership
    alternates between the same two owners in three consecutive handoffs.
    Consecutive steps of one owner count as one turn; feedback edges are
    ignored (going round a rework loop is not ping-pong); a step without an
    owner interrupts the count. One finding per pair of owners, at the
    first step of the path, naming the steps and owners.

    ## Why is this bad?
    Every handoff adds waiting, context switching and a chance to drop
    the ball. Work that bounces between two teams usually means the work
    is split in the wrong place: one of them could finish it, or the two
    could do it together.

    ## Example
    ```yaml
    steps:
      draft:    {owner: sales, next: review}
      review:   {owner: legal, next: revise}
      revise:   {owner: sales, next: sign-off}
      sign-off: {owner: legal, next: signed}
      signed:   {end: true}
    ```

    ## Use instead
    ```yaml
    steps:
      draft:    {owner: sales, next: review}
      review:   {owner: legal, next: sign-off}   # legal revises and signs off
      sign-off: {owner: legal, next: signed}
      signed:   {end: true}
    ```
    """
    process = ctx.process
    owned = {step.owner for step in process.steps.values() if step.owner is not None}
    if len(owned) < 2:
        return
    for found in ctx.step_graph.ping_pongs():
        first, second = found.owners
        shown = " → ".join(
            f"{step} ({process.steps[step].owner})" for step in _turns(process, found.path)
        )
        yield Violation(
            f"work goes back and forth between {first!r} and {second!r}: {shown}; let one "
            "owner finish the work, or merge the steps",
            found.path[0],
            path_of_step(found.path[0]),
        )


def _turns(process: Process, path: tuple[str, ...]) -> list[str]:
    """The steps of ``path`` where the owner changes (the first of each turn), and the first."""
    shown = [path[0]]
    for previous, step in pairwise(path):
        if process.steps[step].owner != process.steps[previous].owner:
            shown.append(step)
    return shown
