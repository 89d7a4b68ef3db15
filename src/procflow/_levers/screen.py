"""Analytic screening: the levers that provably cannot move the goal, found without simulating.

Every lever costs one more scenario in the simulation, so a lever whose
effect the analytic model (:func:`procflow.analyze`) shows to be zero is
not simulated; it is still listed, as "no effect (analytic)", with the
reason. Only *provable* zeros are screened -- a lever with a small effect
is simulated like any other:

* a step no case reaches (0 expected visits): shortening, automating or
  halving a feedback edge out of it changes nothing; an owner none of whose
  reachable steps takes any time: one more unit changes nothing;
* an owner for whom no case ever waits (analytic probability of waiting
  0): one more unit changes no case's times -- unless the goal is that
  owner's utilization or the cost per case, which capacity can change
  without any waiting;
* a step that takes no time on average: it cannot be 10% shorter;
* a step that is already a pure delay (an external owner, or none):
  there is no queue to remove;
* a feedback edge with probability 0;
* for a rework-rate goal, every lever but the feedback ones: the rework
  rate depends on routing alone (a case's path is drawn step by step,
  whatever the times), so capacity, durations and automation leave its
  expectation unchanged.
"""

from __future__ import annotations

from procflow._levers.candidates import Lever, effective_probabilities
from procflow._levers.goal import GoalSpec
from procflow.analysis import Analysis
from procflow.model import Process


def screen(process: Process, analysis: Analysis, goal: GoalSpec, lever: Lever) -> str | None:
    """Why ``lever`` provably has no effect on ``goal``, or ``None`` when it must be simulated."""
    if goal.kpi == "rework_rate" and lever.kind != "feedback":
        return "routing alone sets the rework rate"
    if lever.kind == "capacity":
        return _capacity(analysis, goal, lever.subject.partition("@")[0])  # a shift: its owner
    step_id = lever.subject.partition(".")[0] if lever.kind == "feedback" else lever.subject
    figures = analysis.steps.get(step_id)
    # a fork's shared max: counters counted per token may miss a step only cases reach
    proven = analysis.routing.exact or not analysis.routing.shared
    if figures is None or (figures.visits <= 0.0 and proven):
        return "no case reaches the step"
    if lever.kind == "duration":
        if figures.service_mean is not None and figures.service_mean <= 0.0:
            return "the step takes no time"
        return None
    if lever.kind == "automation":
        step = process.steps[step_id]
        owner = process.owners.get(step.owner) if step.owner is not None else None
        if owner is None or owner.external:
            return "no queue to remove: external or no owner"
        return None
    trigger = lever.subject.partition(".")[2]
    triggers = process.steps[step_id].triggers
    probabilities = effective_probabilities(process, step_id)
    if probabilities is not None and probabilities[triggers.index(trigger)] <= 0.0:
        return "the transition is never taken (p = 0)"
    return None


def _capacity(analysis: Analysis, goal: GoalSpec, owner_id: str) -> str | None:
    figures = analysis.owners.get(owner_id)
    if figures is None:
        return None
    if figures.load <= 0.0:
        return "no work reaches this owner"
    capacity_counts = goal.kpi in (f"utilization:{owner_id}", "cost_per_case")
    if figures.p_wait == 0.0 and not capacity_counts:
        return "no case waits (analytic P(wait) = 0)"
    return None


__all__ = ["screen"]
