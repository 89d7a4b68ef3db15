"""PF3xx: feedback loops -- marked, bounded, and present at all.

A cycle in the step graph is a feedback loop (docs/file-format.md#transitions): work sent back
for rework, a reopened ticket, a rejected review. procflow wants each loop
to say which edge sends work back (``feedback: true``) and how often
(``max: N``), because analysis, simulation and diagrams treat those edges
specially.
"""

from __future__ import annotations

from collections.abc import Iterator

from procflow.findings import Severity
from procflow.graph import StepGraph
from procflow.rules import quote_list
from procflow.rules.base import LintContext, Violation, path_of_transition, rule


@rule("PF301", "unmarked-loop", Severity.WARNING)
def unmarked_loop(ctx: LintContext) -> Iterator[Violation]:
    """A cycle contains no edge marked `feedback: true`.

    ## What it does
    Removes the transitions marked `feedback: true` and looks for cycles
    that remain. One finding per group of interlocked loops (a strongly
    connected component), at the transition that most likely sends work
    back -- the first one in the loop that goes up the file, to a step
    declared earlier -- naming the steps of the loop.

    ## Why is this bad?
    A loop nobody marked is often a mistake (a transition pointed at the
    wrong step). When it is intended, marking it tells readers, diagrams
    and the analysis which edge is the rework, and lets you bound it with
    `max:`.

    ## Example
    ```yaml
    steps:
      resolve:
        owner: support-agent
        next: confirm
      confirm:
        owner: customer
        on:
          accepted: closed
          reopened: resolve
      closed:
        end: true
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
    graph: StepGraph = ctx.step_graph
    groups = graph.unmarked_cycles()
    if not groups:
        return
    process = ctx.process
    order = graph.index
    for group in groups:
        members = set(group)
        back = [
            (order[u], u, key, v)
            for u in group
            for v, key, feedback in graph.edges_from(u)
            if v in members and not feedback and order[v] <= order[u]
        ]
        _rank, source, trigger, target = min(back, key=lambda edge: edge[0])
        if len(group) == 1:
            loop = f"transition {trigger!r} of step {source!r} leads back to the step itself"
            advice = "if it sends work back"
        else:
            loop = f"the loop through {quote_list(group, limit=10)} has no transition marked"
            loop += " `feedback: true`"
            advice = f"if {trigger!r} of step {source!r} (back to {target!r}) sends work back"
        yield Violation(
            f"{loop}: {advice}, mark it `feedback: true` and bound it with `max:`; "
            "otherwise point it forward",
            source,
            path_of_transition(process, source, trigger),
        )


@rule("PF302", "unbounded-loop", Severity.INFO)
def unbounded_loop(ctx: LintContext) -> Iterator[Violation]:
    """A feedback edge has no `max`.

    ## What it does
    Reports each transition marked `feedback: true` that has no `max:`,
    the most times one case may take it.

    ## Why is this bad?
    Without a bound, a case may in principle loop for ever, and the
    simulation lets an unlucky case do exactly that. Real processes have a
    limit ("after three rejections it goes to the manager"); writing it
    down makes the model honest and the tail of the cycle time realistic.

    ## Example
    ```yaml
    confirm:
      owner: customer
      on:
        accepted: {to: closed, p: 0.85}
        reopened: {to: triage, p: 0.15, feedback: true}
    ```

    ## Use instead
    ```yaml
    confirm:
      owner: customer
      on:
        accepted: {to: closed, p: 0.85}
        reopened: {to: triage, p: 0.15, feedback: true, max: 3}
    ```
    """
    process = ctx.process
    for step_id, step in process.steps.items():
        if not step.on:  # `next:` is never a feedback edge
            continue
        for trigger, transition in step.on.items():
            if transition.feedback and transition.max is None:
                yield Violation(
                    f"feedback transition {trigger!r} of step {step_id!r} has no `max`: "
                    "a case may take it without limit; add e.g. `max: 3`",
                    step_id,
                    ("steps", step_id, "on", trigger),
                )


@rule("PF303", "no-feedback", Severity.INFO)
def no_feedback(ctx: LintContext) -> Iterator[Violation]:
    """The process has no feedback loop at all.

    ## What it does
    Reports a process in which no transition is marked `feedback: true`
    and no step can come round to itself. (A process with an unmarked loop
    gets PF301 instead.)

    ## Why is this bad?
    Real processes have rework: a review that rejects, a customer who
    reopens, a check that fails. A model with none describes the happy
    path only, so its cycle time, load and rework rate are optimistic.
    If the process truly has no rework, ignore this rule for the file.

    ## Example
    ```yaml
    steps:
      review:
        owner: editor
        next: publish
    ```

    ## Use instead
    ```yaml
    steps:
      review:
        owner: editor
        on:
          ok: {to: publish, p: 0.8}
          revise: {to: draft, p: 0.2, feedback: true, max: 2}
    ```
    """
    process = ctx.process
    if any(t.feedback for step in process.steps.values() if step.on for t in step.on.values()):
        return
    if not ctx.step_graph.is_acyclic():
        return
    yield Violation(
        f"process {process.id!r} has no feedback loop: if work is ever sent back (a "
        "rejected review, a reopened case), model it with a transition marked "
        "`feedback: true`",
        None,
        ("steps",),
    )
