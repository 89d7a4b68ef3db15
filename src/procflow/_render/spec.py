"""The neutral diagram spec: what a process diagram shows, before any drawing language.

:func:`build_diagram` turns a :class:`~procflow.model.Process` (and, for
``--highlight``, lint findings and utilization) into a :class:`Diagram`:
lanes, nodes, edges, notes and the legend keys in use, all as plain,
immutable values in file order. The DOT and Mermaid back-ends only
*draw* a Diagram; every decision about content (which lanes exist, what a
label says, which edge is a loop, what the legend must explain) is made
here once, so the two outputs cannot disagree, and the content can be
tested without any drawing language at all.

Everything is ordered by the process file -- owners as declared, steps as
written, transitions as listed -- and nothing depends on dict or set
iteration of computed data, so the same file always gives the same diagram.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from procflow._render.palette import LEVEL_KEY, MARK_KEY, Key, Level, Mark, level_of
from procflow._render.text import (
    MAX_LINES,
    busy_text,
    duration_text,
    edge_caption,
    one_line,
    rate_text,
    wrap,
)
from procflow.calendars import describe_week, hours_of
from procflow.casedata import Categorical
from procflow.findings import Finding, Severity
from procflow.model import Goal, Owner, Process, Step, Transition
from procflow.units import format_number

#: Rules whose subject is an owner even when a step has the same id.
OWNER_CODES = frozenset({"PF203", "PF204", "PF501", "PF502"})
#: At most this many notes are listed under a highlighted diagram.
MAX_NOTES = 8
#: Seconds in a week: an arrival profile is shown as its cases per week.
WEEK_SECONDS = 7 * 86400.0

_LEGEND_KEY_OF = {"fork": Key.FORK, "join": Key.JOIN, "first": Key.JOIN_FIRST}

_SEVERITY_MARK = {
    Severity.ERROR: Mark.ERROR,
    Severity.WARNING: Mark.WARNING,
    Severity.INFO: Mark.INFO,
}


@dataclass(frozen=True)
class Badge:
    """The lint findings about one step or owner: the worst severity and the codes."""

    mark: Mark
    codes: tuple[str, ...]
    messages: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.codes)


@dataclass(frozen=True)
class Node:
    """A step (or a placeholder for a step a transition names but nobody wrote)."""

    id: str
    title: tuple[str, ...]
    detail: str | None = None
    lane: str | None = None
    start: bool = False
    end: bool = False
    missing: bool = False
    tooltip: str = ""
    badge: Badge | None = None
    gateway: str | None = None
    """``fork``, ``join`` or ``first`` (a ``join: first``) for a parallel gateway: no step
    of its own, drawn beside the step that forks or joins (docs/parallel-work.md)."""


@dataclass(frozen=True)
class Lane:
    """A swimlane: one owner, with the steps it owns (ids, in file order)."""

    id: str
    title: str
    caption: str
    nodes: tuple[str, ...]
    external: bool = False
    declared: bool = True
    level: Level | None = None
    utilization: float | None = None
    bottleneck: bool = False
    badge: Badge | None = None
    tooltip: str = ""
    hours: str | None = None
    """The owner's working hours in words (docs/working-time.md); ``None``: around the clock."""


@dataclass(frozen=True)
class Edge:
    """A transition from one step to another.

    ``back`` says the edge runs against the flow (its target comes before
    its source in :func:`flow_order`): a loop. Back-ends that lay out by
    rank draw such an edge reversed, so loops never pull steps backwards.
    ``paired`` says another edge joins the same two steps the other way
    (``check -> fix -> check``), so the two must be drawn apart.
    """

    source: str
    target: str
    caption: str | None = None
    feedback: bool = False
    back: bool = False
    paired: bool = False
    tooltip: str = ""


@dataclass(frozen=True)
class Diagram:
    """Everything a back-end needs to draw one process."""

    id: str
    title: str
    subtitle: str
    goals: tuple[str, ...]
    start: str
    arrivals: str | None
    lanes: tuple[Lane, ...]
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    notes: tuple[str, ...] = ()
    legend: tuple[Key, ...] = ()
    highlight: bool = False
    tooltip: str = ""
    """The title block's tooltip: the full title and goals when the drawing shortens them."""
    legend_lines: tuple[str, ...] = ()
    """Text lines under the legend's keys: the priority attribute, what ``[..]`` on an edge is."""

    def lane_nodes(self, lane: Lane) -> tuple[Node, ...]:
        by_id = {node.id: node for node in self.nodes}
        return tuple(by_id[node_id] for node_id in lane.nodes)

    @property
    def free_nodes(self) -> tuple[Node, ...]:
        """Nodes outside every lane (owner-less steps, missing steps, or ``--no-lanes``)."""
        return tuple(node for node in self.nodes if node.lane is None)


@dataclass(frozen=True)
class Highlights:
    """What ``--highlight`` marks: lint findings, utilization per owner, the bottleneck.

    ``utilization`` is empty and ``bottleneck`` ``None`` when the analytic
    model cannot run (no arrivals or durations); ``analysis_note`` then says why.
    """

    findings: Sequence[Finding] = ()
    utilization: Mapping[str, float] = field(default_factory=dict)
    bottleneck: str | None = None
    analysis_note: str | None = None


def build_diagram(
    process: Process,
    *,
    lanes: bool = True,
    highlights: Highlights | None = None,
    legend: bool = True,
) -> Diagram:
    """The diagram of ``process``; ``highlights`` marks findings and load (``--highlight``)."""
    step_badges, owner_badges, notes = _assign_findings(process, highlights, lanes)
    lane_list = _lanes(process, highlights, owner_badges) if lanes else ()
    lane_list = tuple(_with_gateways(process, lane) for lane in lane_list)
    lane_of = {node_id: lane.id for lane in lane_list for node_id in lane.nodes}

    nodes: list[Node] = []
    for step_id, step in process.steps.items():
        detail = duration_text(step.duration)
        if not step.end and detail is None:
            detail = "no duration"
        if not lanes and step.owner is not None:
            owner = process.owners.get(step.owner)
            who = step.owner + (" (external)" if owner is not None and owner.external else "")
            detail = f"{who} \u00b7 {detail}" if detail else who
        nodes.append(
            Node(
                id=step_id,
                title=wrap(step.title or step_id),
                detail=detail,
                lane=lane_of.get(step_id),
                start=step_id == process.start,
                end=step.end,
                tooltip=_step_tooltip(process, step_id),
                badge=step_badges.get(step_id),
                gateway=_own_gateway(step),
            )
        )

    nodes.extend(_gateway_nodes(process, lane_of))
    missing: list[str] = []
    known = set(process.steps)
    wanted = [process.start, *(target for _, target, _ in _arrows(process) if "." not in target)]
    for target in wanted:
        if target not in known and target not in missing:
            missing.append(target)
    nodes.extend(
        Node(
            id=target,
            title=wrap(target),
            detail="not a step",
            missing=True,
            start=target == process.start,
            tooltip=f"{target}: no step has this id",
        )
        for target in missing
    )

    arrows = _arrows(process)
    order = _flow_order(process.start, process.steps, arrows)
    pairs = {(source, target) for source, target, _ in arrows}
    edges = tuple(
        Edge(
            source=source,
            target=target,
            caption=edge_caption(transition) if transition is not None else _race(source),
            feedback=transition is not None and transition.feedback,
            back=source != target and order[target] < order[source],
            paired=source != target and (target, source) in pairs,
            tooltip=_edge_tooltip(source, transition)
            if transition is not None
            else f"{source} \u2192 {target}",
        )
        for source, target, transition in arrows
    )

    arrivals = arrivals_text(process)
    subtitle = process.id + (f" \u00b7 arrivals {arrivals}" if arrivals else "")
    if highlights is not None and highlights.bottleneck is not None:
        subtitle += f" \u00b7 bottleneck: {highlights.bottleneck}"
    title = one_line(process.title or process.id)
    goals = [_goal_text(goal) for goal in process.goals]
    full = [text for text in (title, *goals) if len(text) > LABEL_CHARS]
    diagram = Diagram(
        id=process.id,
        title=shorten(title),
        subtitle=subtitle,
        goals=tuple(shorten(goal) for goal in goals),
        start=process.start,
        arrivals=arrivals,
        lanes=lane_list,
        nodes=tuple(nodes),
        edges=edges,
        notes=notes,
        highlight=highlights is not None,
        tooltip="\n".join(full) if full else title,
    )
    if not legend:
        return diagram
    return replace(diagram, legend=_legend_keys(diagram), legend_lines=_attribute_lines(process))


def flow_order(process: Process) -> dict[str, int]:
    """A position for every step (and missing target) along the flow, start first.

    A depth-first search from ``start`` that follows transitions in file
    order but not those marked ``feedback``, numbered in reverse postorder:
    every edge that is not a loop goes from a lower to a higher number, and
    an edge back to a lower number closes a loop. Steps the search does not
    reach are searched from in file order. Iterative, so 1,000-step
    processes do not hit the recursion limit. Fork and join gateways
    (:func:`gateway_id`) are numbered with the steps.
    """
    return _flow_order(process.start, process.steps, _arrows(process))


def _flow_order(
    start: str, steps: Iterable[str], arrows: Sequence[tuple[str, str, Transition | None]]
) -> dict[str, int]:
    forward: dict[str, list[str]] = {step_id: [] for step_id in steps}
    for source, target, transition in arrows:
        forward.setdefault(source, [])
        forward.setdefault(target, [])
        if transition is None or not transition.feedback:
            forward[source].append(target)
    forward.setdefault(start, [])
    postorder: list[str] = []
    visited: set[str] = set()
    for root in (start, *forward):
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(forward[root]))]
        while stack:
            node, targets = stack[-1]
            for target in targets:
                if target not in visited:
                    visited.add(target)
                    stack.append((target, iter(forward[target])))
                    break
            else:
                stack.pop()
                postorder.append(node)
    total = len(postorder)
    return {node: total - 1 - index for index, node in enumerate(postorder)}


# --------------------------------------------------------------------------
# fork and join gateways (docs/parallel-work.md#diagrams)


def gateway_id(step_id: str, kind: str) -> str:
    """The node id of the ``fork`` after, or the ``join``/``first`` before, ``step_id``.

    A dot never occurs in a step id (ids are ``[a-z][a-z0-9_-]*``), so a
    gateway cannot clash with a step.

    >>> gateway_id("approve-hire", "fork")
    'approve-hire.fork'
    """
    return f"{step_id}.{kind}"


def _own_gateway(step: Step) -> str | None:
    """The gateway kind of a step that is only a gateway: a fork or (non-end) join that does
    no work (``duration: 0s``) is drawn as the diamond alone, without a box."""
    if step.end or step.duration is None or step.duration.mean != 0.0:
        return None
    if step.parallel:
        return "fork"
    return _join_kind(step.join) if step.join else None


def _join_kind(join: str) -> str:
    """The gateway kind of a ``join:`` value: ``join`` (all) or ``first``."""
    return "first" if join == "first" else "join"


def _race(source: str) -> str | None:
    """The caption of the arrow out of a ``join: first`` gateway (Mermaid draws all bars alike)."""
    return "first to arrive" if source.endswith(".first") else None


def _arrows(process: Process) -> list[tuple[str, str, Transition | None]]:
    """Every arrow of the drawing, ``(source, target, transition or None)``, in file order.

    Without forks these are the process's transitions exactly. A fork step
    gets one arrow into its fork gateway and one from the gateway into each
    branch; every transition into a join step ends at the step's join
    gateway instead, which has one arrow into the step.
    """
    joins = {
        step_id: _join_kind(step.join)
        for step_id, step in process.steps.items()
        if step.join and _own_gateway(step) is None
    }
    arrows: list[tuple[str, str, Transition | None]] = []
    for step_id, step in process.steps.items():
        if step_id in joins:
            arrows.append((gateway_id(step_id, joins[step_id]), step_id, None))
        if step.parallel:
            fork = step_id if _own_gateway(step) else gateway_id(step_id, "fork")
            if fork != step_id:
                arrows.append((step_id, fork, None))
            arrows.extend((fork, branch, None) for branch in step.parallel)
            continue
        for transition in step.transitions:
            target = transition.to
            if target in joins:
                target = gateway_id(target, joins[target])
            arrows.append((step_id, target, transition))
    return arrows


def _gateway_nodes(process: Process, lane_of: Mapping[str, str]) -> list[Node]:
    """One node per fork and per join gateway, in the lane of its step."""
    nodes: list[Node] = []
    for step_id, step in process.steps.items():
        if _own_gateway(step) is not None:
            continue  # drawn as its own gateway
        if step.join:
            kind = _join_kind(step.join)
            tip = (
                f"join before {step_id}: the first branch to arrive continues, the others "
                "are withdrawn"
                if kind == "first"
                else f"join before {step_id}: waits until every branch has arrived"
            )
            gateway = gateway_id(step_id, kind)
            nodes.append(Node(gateway, (), lane=lane_of.get(step_id), tooltip=tip, gateway=kind))
        if step.parallel:
            branches = ", ".join(step.parallel)
            tip = f"fork after {step_id}: {branches} start at once"
            gateway = gateway_id(step_id, "fork")
            nodes.append(Node(gateway, (), lane=lane_of.get(step_id), tooltip=tip, gateway="fork"))
    return nodes


def _with_gateways(process: Process, lane: Lane) -> Lane:
    """``lane`` with its steps' gateways: a join just before its step, a fork just after."""
    members: list[str] = []
    for step_id in lane.nodes:
        step = process.steps[step_id]
        if _own_gateway(step) is not None:
            members.append(step_id)
            continue
        if step.join:
            members.append(gateway_id(step_id, _join_kind(step.join)))
        members.append(step_id)
        if step.parallel:
            members.append(gateway_id(step_id, "fork"))
    return replace(lane, nodes=tuple(members)) if len(members) != len(lane.nodes) else lane


# --------------------------------------------------------------------------
# lanes


def _lanes(
    process: Process, highlights: Highlights | None, badges: Mapping[str, Badge]
) -> tuple[Lane, ...]:
    members: dict[str, list[str]] = {}
    for step_id, step in process.steps.items():
        if step.owner is not None:
            members.setdefault(step.owner, []).append(step_id)
    order = [owner for owner in process.owners if owner in members]
    order += [owner for owner in members if owner not in process.owners]
    result: list[Lane] = []
    for owner_id in order:
        owner = process.owners.get(owner_id)
        parts: list[str] = []
        title = owner_id
        if owner is not None and owner.title:
            title = one_line(owner.title)
            parts.append(owner_id)
        external = owner is not None and owner.external
        if owner is None:
            parts.append("not declared in owners")
        elif external:
            parts.append("external \u00b7 no queue")
        else:
            parts.append(f"capacity {owner.units}")
        hours = _hours_of(process, owner) if owner is not None else None
        if hours is not None:
            parts.append(hours)
        level = None
        utilization = None
        bottleneck = False
        if highlights is not None and not external:
            utilization = highlights.utilization.get(owner_id)
            if utilization is not None:
                level = level_of(utilization)
                parts.append(f"{busy_text(utilization)} busy")
            bottleneck = highlights.bottleneck == owner_id
            if bottleneck:
                parts.append("BOTTLENECK")
        tooltip = owner_id
        if len(title) > LABEL_CHARS:
            tooltip += f" ({title})"
        if owner is not None and owner.description:
            tooltip += f": {one_line(owner.description)}"
        result.append(
            Lane(
                id=owner_id,
                title=shorten(title),
                caption=" \u00b7 ".join(parts),
                nodes=tuple(members[owner_id]),
                external=external,
                declared=owner is not None,
                level=level,
                utilization=utilization,
                bottleneck=bottleneck,
                badge=badges.get(owner_id),
                tooltip=tooltip,
                hours=hours,
            )
        )
    return tuple(result)


def arrivals_text(process: Process) -> str | None:
    """The arrival arrow's label: ``8/h``; with working time, when cases come, as the lanes
    say when owners work (docs/working-time.md).

    A profile is its cases per week and the hours it covers (``316/week, Mon-Fri
    09:00-17:00``); a rate on a calendar names the calendar and its hours
    (``3/h while office is open (Mon-Fri 09:00-17:00)``).
    """
    arrivals = process.arrivals
    if arrivals is None:
        return None
    if arrivals.profile_week is not None:
        weekly = format_number(arrivals.rate_per_second * WEEK_SECONDS, 3)
        return f"{weekly}/week, {describe_week(hours_of(arrivals.profile_week))}"
    text = rate_text(arrivals.rate_per_second)
    if arrivals.calendar is None:
        return text
    text = f"{text} while {arrivals.calendar} is open"
    spec = process.calendars.get(arrivals.calendar)
    return text if spec is None else f"{text} ({describe_week(spec.calendar.week)})"


def _hours_of(process: Process, owner: Owner) -> str | None:
    """An owner's calendar in words -- ``Mon-Fri 09:00-17:00, Europe/Amsterdam`` -- or its
    shifts (``6 × Mon-Fri 09:00-17:00 + 2 × Mon-Sun 22:00-06:00, Europe/Amsterdam``);
    ``None`` for one working around the clock (docs/working-time.md)."""
    groups = [(process.calendars.get(name), units) for name, units in owner.calendars if name]
    known = [(spec.calendar, units) for spec, units in groups if spec is not None]
    if not known:
        return None
    zones = {calendar.timezone for calendar, _ in known}
    if owner.shifts is None:
        return known[0][0].describe()
    texts = [f"{units} \u00d7 {describe_week(calendar.week)}" for calendar, units in known]
    shown = " + ".join(texts)
    return f"{shown}, {zones.pop()}" if len(zones) == 1 else shown


# --------------------------------------------------------------------------
# findings


def _badge(findings: Sequence[Finding]) -> Badge:
    worst = max(finding.severity for finding in findings)
    codes = tuple(sorted({finding.code for finding in findings}))
    messages = tuple(f"{f.code} {one_line(f.message)}" for f in findings)
    return Badge(_SEVERITY_MARK[worst], codes, messages)


def _assign_findings(
    process: Process, highlights: Highlights | None, lanes: bool
) -> tuple[dict[str, Badge], dict[str, Badge], tuple[str, ...]]:
    """Findings grouped onto the steps and owners they are about; the rest become notes."""
    if highlights is None:
        return {}, {}, ()
    by_step: dict[str, list[Finding]] = {}
    by_owner: dict[str, list[Finding]] = {}
    loose: list[Finding] = []
    drawn_owners = {step.owner for step in process.steps.values() if step.owner} if lanes else set()
    for finding in sorted(highlights.findings):
        subject = finding.subject
        if subject is None:
            loose.append(finding)
            continue
        is_step = subject in process.steps
        if subject in drawn_owners and (finding.code in OWNER_CODES or not is_step):
            by_owner.setdefault(subject, []).append(finding)
        elif is_step:
            by_step.setdefault(subject, []).append(finding)
        else:
            loose.append(finding)
    notes: list[str] = []
    if highlights.analysis_note:
        notes.append(highlights.analysis_note)
    elif not lanes and highlights.utilization:
        loaded = [(owner, u) for owner, u in highlights.utilization.items() if u > 0]
        busy = sorted(loaded, key=lambda item: (-item[1], item[0]))
        shown = ", ".join(f"{owner} {busy_text(u)}" for owner, u in busy[:4])
        notes.append(f"busiest owners: {shown}")
    notes.extend(f"{f.code} {f.name}: {one_line(f.message)}" for f in loose)
    if len(notes) > MAX_NOTES:
        extra = len(notes) - (MAX_NOTES - 1)
        notes = [*notes[: MAX_NOTES - 1], f"\u2026 and {extra} more (run procflow lint)"]
    return (
        {key: _badge(found) for key, found in by_step.items()},
        {key: _badge(found) for key, found in by_owner.items()},
        tuple(notes),
    )


# --------------------------------------------------------------------------
# text


LABEL_CHARS = 200
"""Longest one-line text drawn (process, owner and goal titles); the tooltip keeps the rest.

Graphviz cannot lay out a label longer than 16 KB, and a title that long
is not readable in a drawing anyway."""


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """``text``, or its first ``limit - 1`` characters and an ellipsis.

    >>> shorten("x" * 10, 5)
    'xxxx\u2026'
    """
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _step_tooltip(process: Process, step_id: str) -> str:
    step = process.steps[step_id]
    parts = [step_id]
    if step.owner:
        parts.append(f"owner {step.owner}")
    if step.duration is not None:
        parts.append(f"duration {step.duration}")
    if step.consulted:
        parts.append("consulted " + ", ".join(step.consulted))
    if step.informed:
        parts.append("informed " + ", ".join(step.informed))
    text = " \u00b7 ".join(parts)
    if step.title and len(wrap(step.title, max_lines=len(step.title))) > MAX_LINES:
        text += f"\n{one_line(step.title)}"  # the label shows only its first lines
    if step.description:
        text += f"\n{one_line(step.description)}"
    return text


def _edge_tooltip(source: str, transition: Transition) -> str:
    caption = edge_caption(transition)
    text = f"{source} \u2192 {transition.to}" + (f": {caption}" if caption else "")
    if transition.when is not None:
        text += f"\nwhen {one_line(transition.when)}"
    if transition.description:
        text += f"\n{one_line(transition.description)}"
    return text


def _attribute_lines(process: Process) -> tuple[str, ...]:
    """Legend lines for case attributes (docs/attributes.md): priority, and rules on edges."""
    lines: list[str] = []
    priority = process.priority
    if priority is not None:
        attribute = process.attributes.get(priority.by)
        values: tuple[str, ...] = attribute.values if isinstance(attribute, Categorical) else ()
        order = priority.order or values
        kind = "preemptive" if priority.preemptive else "non-preemptive"
        shown = " > ".join(order)
        lines.append(f"priority: {priority.by}" + (f" {shown}" if shown else "") + f" ({kind})")
    if any(t.when is not None for _, t in process.edges()):
        lines.append("[condition] on an edge: taken when it holds, first in file order")
    return tuple(lines)


def _goal_text(goal: Goal) -> str:
    parts = [goal.stat or "", goal.metric or "?", goal.target.text if goal.target else ""]
    text = " ".join(part for part in parts if part)
    if goal.deadline is not None:
        text += f" by {goal.deadline.isoformat()}"
    name = one_line(goal.title) if goal.title else goal.id
    return f"goal \u2013 {name}: {one_line(text)}"


def _legend_keys(diagram: Diagram) -> tuple[Key, ...]:
    used: set[Key] = {Key.START, Key.TRANSITION}
    for node in diagram.nodes:
        if node.gateway is not None:
            used.add(_LEGEND_KEY_OF[node.gateway])
            continue
        if node.end:
            used.add(Key.END)
        elif node.missing:
            used.add(Key.MISSING)
        elif not node.start:
            used.add(Key.STEP)
        if node.badge is not None:
            used.add(MARK_KEY[node.badge.mark])
    if any(edge.feedback for edge in diagram.edges):
        used.add(Key.FEEDBACK)
    for lane in diagram.lanes:
        used.add(Key.EXTERNAL if lane.external else Key.LANE)
        if lane.hours is not None:
            used.add(Key.HOURS)
        if lane.level is not None:
            used.add(LEVEL_KEY[lane.level])
        if lane.bottleneck:
            used.add(Key.BOTTLENECK)
        if lane.badge is not None:
            used.add(MARK_KEY[lane.badge.mark])
    return tuple(key for key in Key if key in used)
