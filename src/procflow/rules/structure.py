"""PF1xx: the shape of the step graph -- targets, start, reachability, ends.

These rules say whether a case can get from ``start`` to an end step at
all. Each reports its own problem only, so one mistake gives one finding:

* an unknown target is PF101; the step its id most resembles counts as
  reached through it (PF103), and a loop whose exit is the unknown target
  is not a trap (PF105);
* with an unknown ``start`` (PF102) nothing is reported as unreachable;
* a dead end (PF104) is not reported again as a trap, nor -- when it has
  no transition at all, usually a forgotten ``end: true`` -- as a step
  without owner (PF201) or duration (PF402);
* without any end step (PF107) no step is reported as unable to reach one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from procflow.checks import violations
from procflow.compiled import CompiledProcess
from procflow.findings import Severity
from procflow.graph import StepGraph
from procflow.rules.base import LintContext, Violation, path_of_step, rule
from procflow.wording import quote_list

# --------------------------------------------------------------------------


@rule("PF101", "unknown-target", Severity.ERROR)
def unknown_target(ctx: LintContext) -> Iterable[Violation]:
    """A transition points to a step that does not exist.

    ## What it does
    Checks that the target of every transition -- `next: x`, `on: {t: x}`
    or `on: {t: {to: x}}` -- is a step of the process, and suggests the
    closest step id when the target looks like a typo.

    ## Why is this bad?
    A case that takes the transition has nowhere to go: analysis and
    simulation cannot run, and a live case would fail at that point.

    ## Example
    ```yaml
    steps:
      escalate:
        owner: tier2
        on:
          fixed: resolv
      resolve:
        owner: support-agent
        next: closed
    ```

    ## Use instead
    ```yaml
    steps:
      escalate:
        owner: tier2
        on:
          fixed: resolve
      resolve:
        owner: support-agent
        next: closed
    ```
    """
    return violations(ctx.process, "PF101")


def _typo_edges(compiled: CompiledProcess) -> list[tuple[int, int]]:
    """``(step, meant)`` for each unknown target that is close to the id of a step."""
    edges = []
    for k in compiled.unknown:
        edge = compiled.edges[k]
        close = difflib.get_close_matches(edge.to, list(compiled.steps), n=1, cutoff=0.6)
        if close:
            edges.append((edge.source, compiled.index[close[0]]))
    return edges


@rule("PF102", "unknown-start", Severity.ERROR)
def unknown_start(ctx: LintContext) -> Iterable[Violation]:
    """`start` names no step.

    ## What it does
    Checks that `start` is the id of a step of the process.

    ## Why is this bad?
    Every case begins at `start`. If it is not a step, no case can begin:
    nothing can be analyzed, simulated or run.

    ## Example
    ```yaml
    start: intak
    steps:
      intake:
        owner: support-agent
        next: triage
    ```

    ## Use instead
    ```yaml
    start: intake
    steps:
      intake:
        owner: support-agent
        next: triage
    ```
    """
    return violations(ctx.process, "PF102")


@rule("PF103", "unreachable-step", Severity.ERROR)
def unreachable_step(ctx: LintContext) -> Iterator[Violation]:
    """A step cannot be reached from `start`.

    ## What it does
    Follows every transition from `start` and reports each step no case
    can ever get to. The message says whether no transition leads to the
    step at all, or only transitions from steps that are unreachable
    themselves. Nothing is reported while `start` is unknown (PF102), and
    a step whose id is close to a transition's unknown target (PF101) counts
    as reached through it: fixing the typo reaches it.

    ## Why is this bad?
    An unreachable step is dead weight that readers take for part of the
    process -- or, more often, a step that lost its incoming transition
    when the process was edited, so work that should pass through it
    silently skips it.

    ## Example
    ```yaml
    start: intake
    steps:
      intake:
        owner: support-agent
        next: resolve
      quality-check:           # nothing leads here any more
        owner: support-lead
        next: resolve
      resolve:
        owner: support-agent
        next: closed
    ```

    ## Use instead
    ```yaml
    start: intake
    steps:
      intake:
        owner: support-agent
        next: quality-check
      quality-check:
        owner: support-lead
        next: resolve
      resolve:
        owner: support-agent
        next: closed
    ```
    """
    process = ctx.process
    if process.start not in process.steps:
        return
    graph: StepGraph = ctx.step_graph
    # reach what a mistyped target (PF101) most likely means, as if fixed
    typos = _typo_edges(CompiledProcess.of(process)) if graph.unknown_targets else []
    reached = graph.reached(extra=typos)
    unreachable = [step for step, seen in zip(graph.nodes, reached, strict=True) if not seen]
    for step_id in unreachable:
        sources = graph.predecessors(step_id, typos)
        if len(sources) == 1:
            why = f"only step {sources[0]!r} leads to it, and that is unreachable too"
        elif sources:
            why = f"only steps {quote_list(sources)} lead to it, and they are unreachable too"
        else:
            why = "no transition leads to it"
        yield Violation(
            f"step {step_id!r} cannot be reached from start {process.start!r}: {why}; "
            "add a transition to it or remove it",
            step_id,
            path_of_step(step_id),
        )


@rule("PF104", "dead-end", Severity.ERROR)
def dead_end(ctx: LintContext) -> Iterable[Violation]:
    """A non-end step has no outgoing transition.

    ## What it does
    Reports a step that is not marked `end: true` and has no transition
    (`next:` or `on:`), or whose only transitions are feedback edges with
    `max:` -- once a case has used them up, nowhere is left to go.

    ## Why is this bad?
    A case that reaches the step is stuck forever: it never finishes, and
    analysis and simulation cannot say where it goes next.

    ## Example
    ```yaml
    steps:
      approve:
        owner: manager
        on:
          rework: {to: draft, feedback: true, max: 2}
      archive:
        owner: clerk
    ```

    ## Use instead
    ```yaml
    steps:
      approve:
        owner: manager
        on:
          approved: archive
          rework: {to: draft, feedback: true, max: 2}
      archive:
        owner: clerk
        next: done
      done:
        end: true
    ```
    """
    return violations(ctx.process, "PF104")


@rule("PF105", "no-way-out", Severity.ERROR)
def no_way_out(ctx: LintContext) -> Iterable[Violation]:
    """Some steps can never reach an end step: a loop with no exit.

    ## What it does
    Finds the steps from which no path leads to an end step: a loop with
    no exit, and every chain of steps that leads only into one. One
    finding per trap, at its first step in file order, naming every step
    that cannot reach an end. (Steps that are stuck only because of a dead
    end, PF104, or an unknown target, PF101, are left to those rules; a
    process with no end step at all is PF107.)

    ## Why is this bad?
    A case that enters the trap goes round for ever and never finishes:
    it piles up as work in progress, and analysis and simulation of the
    process cannot converge.

    ## Example
    ```yaml
    steps:
      review:
        owner: editor
        next: revise
      revise:
        owner: author
        next: review           # and back to revise, for ever
      published:
        end: true
    ```

    ## Use instead
    ```yaml
    steps:
      review:
        owner: editor
        on:
          accept: {to: published, p: 0.8}
          revise: {to: revise, p: 0.2, feedback: true, max: 3}
      revise:
        owner: author
        next: review
      published:
        end: true
    ```
    """
    return violations(ctx.process, "PF105")


@rule("PF106", "end-has-exit", Severity.ERROR)
def end_has_exit(ctx: LintContext) -> Iterable[Violation]:
    """An end step has outgoing transitions.

    ## What it does
    Reports a step marked `end: true` that also has `next:` or `on:`
    transitions.

    ## Why is this bad?
    A case is done when it reaches an end step, so the transitions are
    never taken. Either the step is not really the end (remove
    `end: true`) or the transitions are left over from an edit.

    ## Example
    ```yaml
    steps:
      closed:
        end: true
        next: survey
    ```

    ## Use instead
    ```yaml
    steps:
      closed:
        owner: support-agent
        next: survey
      survey:
        end: true
    ```
    """
    return violations(ctx.process, "PF106")


@rule("PF107", "no-end", Severity.ERROR)
def no_end(ctx: LintContext) -> Iterable[Violation]:
    """The process has no end step.

    ## What it does
    Checks that at least one step is marked `end: true`.

    ## Why is this bad?
    Without an end step no case can ever finish: cycle time, throughput
    and every goal are undefined, and simulated work piles up for ever.

    ## Example
    ```yaml
    steps:
      resolve:
        owner: support-agent
        next: confirm
      confirm:
        owner: customer
        next: resolve
    ```

    ## Use instead
    ```yaml
    steps:
      resolve:
        owner: support-agent
        next: confirm
      confirm:
        owner: customer
        on:
          accepted: closed
          reopened: {to: resolve, feedback: true, max: 3}
      closed:
        end: true
    ```
    """
    return violations(ctx.process, "PF107")
