"""The step data of an import, and the pure operations on it.

The importer builds each step as plain data (what the YAML will say); these
functions turn the ways out of a step into its ``next``/``on`` keys, mark
loops, find the steps cut off by elements left out, and make ids.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

Steps = dict[str, dict[str, Any]]

YAML_WORDS = frozenset({"null", "true", "false"})
"""Ids YAML reads as a null or a boolean where the process file writes them plain."""


@dataclass
class Path:
    """One way from a step to the next step, through gateways."""

    target: str
    p: float
    names: list[str]
    feedback: bool = False
    max: int | None = None
    trigger: str | None = None
    when: str | None = None
    """The condition of the way (conditions along it joined by ``and``); None: default."""
    chance: bool = False
    """The way passes a choice by shares (a gateway without conditions)."""


def mixed(paths: list[Path]) -> bool:
    """Whether the ways out of a step mix conditions and shares (then shares win, PF803)."""
    return any(p.when is not None for p in paths) and any(p.chance for p in paths)


def slug(text: str, fallback: str = "x") -> str:
    """An id in the project's id pattern from any text: ``Check Invoice`` -> ``check-invoice``.

    >>> slug("Prüfen & Freigeben!"), slug("42"), slug(""), slug("Null", "step")
    ('prufen-freigeben', 'x-42', 'x', 'step-null')
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    plain = re.sub(r"[^a-z0-9_-]+", "-", plain).strip("-_")
    plain = re.sub(r"-{2,}", "-", plain)[:60].strip("-_")
    if not plain:
        plain = fallback
    if not plain[0].isalpha() or plain in YAML_WORDS:
        plain = f"{fallback}-{plain}"
    return plain


def unique(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def transitions(paths: list[Path]) -> dict[str, Any]:
    """The ``next``/``on`` keys of a step from its paths."""
    only = paths[0] if len(paths) == 1 else None
    if (
        only is not None
        and (only.trigger or "next") == "next"
        and not only.feedback
        and only.max is None
        and only.when is None
        and (not only.names or only.trigger == "next")
    ):
        return {"next": only.target}
    taken: set[str] = set()
    on: dict[str, dict[str, Any]] = {}
    conditional = any(path.when is not None for path in paths) and not mixed(paths)
    for path in paths:
        if path.trigger:
            base = path.trigger
        elif path.names:
            base = slug("-".join(path.names), "to")
        else:
            base = f"to-{path.target}"
        trigger = unique(base, taken)
        edge: dict[str, Any] = {"to": path.target}
        if path.when is not None and conditional:
            edge["when"] = path.when
        elif len(paths) > 1 and not conditional:
            edge["p"] = path.p
        if path.feedback:
            edge["feedback"] = True
        if path.max is not None:
            edge["max"] = path.max
        on[trigger] = edge
    return {"on": on}


def mark_loops(steps: dict[str, dict[str, Any]], start: str) -> None:
    """Mark DFS back edges ``feedback: true``; marked edges (an export's) are not walked.

    So a cycle drawn in a modeler after export is marked too, and a cycle
    procflow's marks already break is left as it was.
    """
    state: dict[str, int] = {}
    stack: list[tuple[str, list[dict[str, Any]]]] = []

    def edges(step: str) -> list[dict[str, Any]]:
        body = steps[step]
        if "next" in body:
            body["on"] = {"next": {"to": body.pop("next")}}
        # edges already marked (procflow's own export) break their cycles already
        walk = [e for e in body.get("on", {}).values() if not e.get("feedback")]
        return walk + [{"to": branch} for branch in body.get("parallel", [])]  # walked only

    state[start] = 1
    stack.append((start, edges(start)))
    while stack:
        step, todo = stack[-1]
        if not todo:
            state[step] = 2
            stack.pop()
            continue
        edge = todo.pop(0)
        target = edge["to"]
        if state.get(target) == 1:
            edge["feedback"] = True
        elif target not in state:
            state[target] = 1
            stack.append((target, edges(target)))
    for body in steps.values():  # back to the short form where nothing was marked
        on = body.get("on")
        if on is not None and list(on) == ["next"] and list(on["next"]) == ["to"]:
            body["next"] = body.pop("on")["next"]["to"]


def _targets(body: dict[str, Any]) -> list[str]:
    if "next" in body:
        return [body["next"]]
    if "parallel" in body:
        return list(body["parallel"])
    return [edge["to"] for edge in body.get("on", {}).values()]


def cut_off(steps: Steps, start: str, severed: set[str]) -> list[str]:
    """The steps only reached through ``severed`` ones (whose incoming flows were left out).

    A severed step that no other step leads to is cut off, and so, in turn,
    is a step that only cut-off steps lead to.
    """
    preds: dict[str, set[str]] = {step: set() for step in steps}
    for step, body in steps.items():
        for target in _targets(body):
            preds.setdefault(target, set()).add(step)
    removed: list[str] = []
    changed = True
    while changed:
        changed = False
        for step in steps:
            if step in removed or step == start:
                continue
            live = preds.get(step, set()) - set(removed)
            if not live and (step in severed or preds.get(step)):
                removed.append(step)
                changed = True
    return removed


def join_ends(steps: Steps, fork: str, owner: str, taken: set[str]) -> tuple[str, list[str]] | None:
    """Join the branches of ``fork`` that end apart: BPMN ends the case when all have ended.

    When no step of the branches joins and none is reached from outside
    them, every transition of the branches into an end step goes to a new
    step ``<fork>-all-ended`` instead (``join: all``, no work, owned by
    ``owner``), which leads to the first of those end steps; a branch that
    is an end step itself starts at a step of its own that leads there.
    Returns the new step and the end steps dropped, or ``None`` (left as it was).
    """
    branches = steps[fork].get("parallel") or []
    region: set[str] = set()
    todo = list(branches)
    while todo:
        step = todo.pop()
        if step not in region and step in steps:
            region.add(step)
            todo.extend(_targets(steps[step]))
    inside = [step for step in steps if step in region]  # file order
    if any("join" in steps[s] or "parallel" in steps[s] for s in inside) or fork in region:
        return None
    for step, body in steps.items():
        if step not in region and step != fork and any(t in region for t in _targets(body)):
            return None  # the branches are reached from outside: not theirs alone
    ends = [s for s in inside if steps[s].get("end")]
    if not ends:
        return None
    join = unique(f"{fork}-all-ended", taken)

    def to_join(target: str) -> str:
        return join if target in ends else target

    for step in inside:
        body = steps[step]
        if "next" in body:
            body["next"] = to_join(body["next"])
        for edge in body.get("on", {}).values():
            edge["to"] = to_join(edge["to"])
    starts = []
    for number, branch in enumerate(branches, 1):
        if branch in ends:
            branch = unique(f"{fork}-branch-{number}", taken)
            steps[branch] = {"owner": owner, "duration": "0s", "next": join}
        starts.append(branch)
    steps[fork]["parallel"] = starts
    steps[join] = {"owner": owner, "duration": "0s", "join": "all", "next": ends[0]}
    for end in ends[1:]:
        del steps[end]
    return join, ends[1:]
