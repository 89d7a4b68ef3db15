"""BPMN flow graph -> procflow process document (docs/commands.md, ``procflow import``).

The mapping (docs/bpmn.md has the table): lanes become owners, activities
steps (``activity`` = the task's name), end events end steps, intermediate
timer events delay steps of an external ``wait`` owner. Gateways and
pass-through events are not steps: every path from a step through them to
the next steps becomes one transition of that step, its probability the
product of the branch probabilities along it (so a gateway after a gateway
stays exact), its trigger the sequence flows' names. Cycles become
``feedback: true`` transitions: the back edges of a depth-first search
from the start step (edges the file already marks, as procflow's export does, are not walked).

Parallel gateways fork and join (docs/parallel-work.md#bpmn): a step whose
one outgoing flow enters a parallel split becomes a fork (``parallel:``
lists the branches), and a step that only a parallel join leads to gets
``join: all`` (``join: first`` for a complex gateway marked
``procflow:join="first"``, procflow's own export of a race). A parallel
gateway that sits elsewhere -- after a choice, before a merge -- becomes a
*gateway step* of its own that does no work (``duration: 0s``, owned by the
external ``wait`` owner): event logs need not record it. Other gateways
procflow cannot represent are named in a :class:`~procflow.bpmn.graph.Notice`
and imported as an exclusive choice with equal shares (a split) or a merge
(a join).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import PydanticCustomError

from procflow.bpmn.graph import Flow, FlowNode, Lane, Model, Notice
from procflow.bpmn.names import (
    BPMN,
    GATEWAYS_CHOICE,
    GATEWAYS_NOT_REPRESENTED,
    GATEWAYS_PARALLEL,
    PF,
    TASKS,
)
from procflow.bpmn.params import Params
from procflow.bpmn.steps import (
    YAML_WORDS,
    Path,
    Steps,
    cut_off,
    join_ends,
    mark_loops,
    mixed,
    slug,
    transitions,
    unique,
)
from procflow.bpmn.timers import timer_duration
from procflow.bpmn.xmltree import BpmnError, Node
from procflow.distributions import parse_distribution
from procflow.expressions import ExpressionError, parse
from procflow.model import ID_PATTERN
from procflow.units import UnitError, format_number, parse_rate

WAIT_OWNER = "wait"
LOOPS = {
    "standardLoopCharacteristics": "a loop",
    "multiInstanceLoopCharacteristics": "a multi-instance",
}
"""Markers that make an activity repeat: procflow's step is done once per visit."""
FLOW_INSIDE = frozenset(
    {"sequenceFlow", "exclusiveGateway", "parallelGateway", *GATEWAYS_NOT_REPRESENTED}
)
"""Elements that make a sub-process expanded (``incoming``, ``outgoing``, data do not)."""
MAX_WAYS = 10_000
"""Most ways through gateways unfolded into transitions (gateway chains multiply them)."""


@dataclass
class Draft:
    """The process as plain data plus what the writer comments on."""

    process: str
    title: str | None
    owners: dict[str, dict[str, Any]]
    start: str
    steps: dict[str, dict[str, Any]]
    arrivals: dict[str, str] | None
    warnings: list[str] = field(default_factory=list)
    owner: str | None = None
    description: str | None = None
    calendars: dict[str, dict[str, Any]] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)


def feel(text: str) -> str:
    """A FEEL comparison in procflow's condition language: its ``=`` (equality) as ``==``.

    Camunda 8 writes conditions as FEEL expressions marked by a leading
    ``=`` (``=amount > 1000``, ``=risk = "high"``); FEEL's ``=`` compares,
    outside string literals. What else FEEL says that procflow's language
    does not is left as written, and refused by the parser with its reason.

    >>> feel('risk = "a=b" and amount >= 10 or x != 2')
    'risk == "a=b" and amount >= 10 or x != 2'
    """
    out: list[str] = []
    quote = ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif (
            char == "="
            and text[i - 1 : i] not in ("<", ">", "!", "=")
            and text[i + 1 : i + 2] != "="
        ):
            out.append("==")
            continue
        out.append(char)
    return "".join(out)


class Importer:
    """Builds a :class:`Draft` from a :class:`Model` and optional parameters."""

    def __init__(self, model: Model, params: Params | None) -> None:
        self.m = model
        self.params = params or Params()
        self.warnings: list[str] = list(self.params.notes)
        self.exported = model.process.get("process", PF) is not None
        self.step_of: dict[str, str] = {}
        self.owner_of_lane: dict[str, str | None] = {}
        self.owners: dict[str, dict[str, Any]] = {}
        self.noticed: set[str] = set()
        self.ways = 0
        self.warned: set[str] = set()
        self.taken: set[str] = set()
        self.fork_at: dict[str, FlowNode] = {}
        """Step node id -> the parallel split its one outgoing flow enters (the step forks)."""
        self.join_on: dict[str, str] = {}
        """Step node id -> ``all``/``first``: only a parallel join leads to it."""
        self.gateway_steps: dict[str, str] = {}
        """Gateway node id -> the id of the gateway step made for it."""
        self.extra: dict[str, dict[str, Any]] = {}
        """Steps made for gateways (and for branches that begin with a choice)."""

    def where(self, node: FlowNode) -> str:
        return f"{self.m.path}:{node.node.line}:{node.node.column}"

    # ---------------------------------------------------------------- owners

    def build_owners(self) -> None:
        taken: set[str] = set()
        for lane in self.m.lanes.values():
            if lane.node.get("unassigned", PF) == "true":
                self.owner_of_lane[lane.id] = None
                continue
            ident = self.ident(lane.node, "owner") or unique(
                slug(lane.name or lane.id, "owner"), taken
            )
            taken.add(ident)
            self.owner_of_lane[lane.id] = ident
            owner: dict[str, Any] = {}
            title = lane.node.get("title", PF)
            if title is None and lane.name and lane.name != ident:
                title = lane.name
            if title is not None:
                owner["title"] = title
            if lane.node.get("description", PF) is not None:
                owner["description"] = lane.node.get("description", PF)
            self._owner_numbers(lane.node.get, owner, lane)
            p = self.params
            members = p.profiles.get(ident) or p.profiles.get(lane.id) or p.profiles.get(lane.name)
            self._owner_calendar(ident, owner, members or [])
            self.owners[ident] = owner

    def _owner_calendar(self, ident: str, owner: dict[str, Any], members: list[str]) -> None:
        """The calendar (or shifts) of an owner from its resources' Prosimos calendars."""
        p = self.params
        groups = [
            (p.resource_calendar.get(r), p.resources[r][0]) for r in members if r in p.resources
        ]
        calendars = {c for c, _ in groups}
        if calendars == {None} or not groups:
            return
        if len(calendars) == 1:
            owner["calendar"] = groups[0][0]
        elif None in calendars or owner.get("external"):
            self.warnings.append(
                f"owner {ident}: some of its resources work around the clock, others by a "
                "calendar: imported around the clock"
            )
        else:
            owner.pop("capacity", None)
            owner["shifts"] = [{"calendar": c, "capacity": n} for c, n in groups]

    def _owner_numbers(self, get: Any, owner: dict[str, Any], lane: Lane) -> None:
        if get("external", PF) == "true":
            owner["external"] = True
            return
        capacity: int | None = self.whole(lane.node, "capacity")
        cost: float | None = self.number(lane.node, "cost_per_hour")
        if capacity is None:
            capacity, cost = self._pool_from_params(lane)
        if capacity is not None:
            owner["capacity"] = capacity
        if cost is not None and cost > 0:
            owner["cost_per_hour"] = cost

    def number(self, node: Node, name: str) -> float | None:
        """A ``procflow:`` number attribute of ``node``, or a positioned :class:`BpmnError`."""
        text = node.get(name, PF)
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise BpmnError(
                self.m.path,
                f"procflow:{name}={text!r} of {node.tag} {node.get('id') or '?'!r} is not a "
                "number of 0 or more",
                node.line,
                node.column,
            )
        return value

    def ident(self, node: Node, name: str) -> str | None:
        """A ``procflow:`` id attribute of ``node`` (step, owner...), or a positioned error."""
        text = node.get(name, PF)
        if text is not None and (re.fullmatch(ID_PATTERN, text) is None or text in YAML_WORDS):
            raise BpmnError(
                self.m.path,
                f"procflow:{name}={text!r} of {node.tag} {node.get('id') or '?'!r} is not an id "
                "(lower-case letters, digits, '-' and '_', starting with a letter; not null, "
                "true or false)",
                node.line,
                node.column,
            )
        return text

    def distribution(self, node: Node) -> str | None:
        """The ``procflow:duration`` of ``node``, or a positioned error when it is none."""
        text = node.get("duration", PF)
        if text is not None:
            try:
                parse_distribution(text)
            except PydanticCustomError as exc:
                raise BpmnError(
                    self.m.path,
                    f"procflow:duration={text!r} of {node.tag} {node.get('id') or '?'!r}: "
                    f"{exc.message()}",
                    node.line,
                    node.column,
                ) from None
        return text

    def whole(self, node: Node, name: str) -> int | None:
        """A ``procflow:`` count (``capacity``, ``max``) of ``node``, or a positioned error."""
        value = self.number(node, name)
        if value is None:
            return None
        if not value.is_integer() or value < 1:
            raise BpmnError(
                self.m.path,
                f"procflow:{name}={node.get(name, PF)!r} of {node.tag} "
                f"{node.get('id') or '?'!r} is not a whole number of 1 or more",
                node.line,
                node.column,
            )
        return int(value)

    def _pool_from_params(self, lane: Any) -> tuple[int | None, float | None]:
        p = self.params
        members = p.profiles.get(lane.id) or p.profiles.get(lane.name)
        if members is None:
            used = {
                r
                for n in self.m.nodes.values()
                if n.lane == lane.id
                for r in p.task_resources.get(n.id, [])
            }
            members = sorted(used)
        known = [p.resources[r] for r in members if r in p.resources]
        if not known:
            return None, None
        return sum(a for a, _ in known), max(c for _, c in known)

    # ---------------------------------------------------------------- steps

    def is_step(self, node: FlowNode) -> bool:
        return node.kind in TASKS or node.kind in ("endEvent", "intermediateCatchEvent")

    def build_steps(self) -> dict[str, dict[str, Any]]:
        taken = self.taken
        steps: dict[str, dict[str, Any]] = {}
        for node in self.m.nodes.values():
            if not self.is_step(node):
                continue
            base = self.ident(node.node, "step") or slug(
                node.name or node.id, "end" if node.kind == "endEvent" else "step"
            )
            ident = unique(base, taken)
            self.step_of[node.id] = ident
            body = self.step_body(node)
            if node.node.get("step", PF) is None and node.name and node.name != ident:
                body = {"title": node.name, **body}  # diagrams show the BPMN's names
            steps[ident] = body
        return steps

    def step_body(self, node: FlowNode) -> dict[str, Any]:
        get = node.node.get
        body: dict[str, Any] = {}
        for key in ("title", "description"):
            if get(key, PF) is not None:
                body[key] = get(key, PF)
        if node.kind == "endEvent":
            body["end"] = True
            return body
        if node.kind == "intermediateCatchEvent":
            return self.delay_body(node, body)
        if node.kind in ("subProcess", "transaction", "adHocSubProcess") and any(
            c.ns == BPMN and (c.tag in FLOW_INSIDE or c.tag in TASKS or c.tag.endswith("Event"))
            for c in node.node.children
        ):
            self.notify(node, "the inside of a sub-process is not imported: it is one step")
        for child in node.node.children:
            if child.ns == BPMN and child.tag in LOOPS:
                self.m.notices.append(
                    Notice(
                        node.kind,
                        node.id,
                        child.line,
                        child.column,
                        f"{LOOPS[child.tag]} (<{child.tag}>) is not represented: imported as "
                        "a step done once per visit",
                    )
                )
        owner = self.ident(node.node, "owner")
        if owner is None:
            if node.lane is not None:
                owner = self.owner_of_lane.get(node.lane)  # None: a lane of unowned steps
            else:
                owner = self.owner_from_params(node.id) or self.default_owner()
        if owner:
            body["owner"] = owner
        duration = self.distribution(node.node) or self.params.durations.get(node.id)
        if duration is not None:
            body["duration"] = duration
        ours = get("step", PF) is not None
        activity = get("activity", PF) if ours else (node.name or None)
        if activity is not None:
            body["activity"] = activity
        return body

    def delay_body(self, node: FlowNode, body: dict[str, Any]) -> dict[str, Any]:
        body["owner"] = self.wait_owner()
        timer = next(
            (c for c in node.node.children if c.ns == BPMN and c.tag == "timerEventDefinition"),
            None,
        )
        duration = self.params.durations.get(node.id)
        if timer is not None and duration is None:
            duration = timer_duration(timer, self.m.path)
        if duration is not None:
            body["duration"] = duration
        elif timer is None:
            self.warnings.append(
                f"{self.where(node)}: {node.id} waits for an event (message, signal, ...): "
                "imported as a delay step without a duration; give it one"
            )
        else:
            self.warnings.append(
                f"{self.where(node)}: timer {node.id} has no timeDuration procflow reads: "
                "imported as a delay step without a duration"
            )
        if node.name:
            body["activity"] = node.name
        return body

    def wait_owner(self) -> str:
        if WAIT_OWNER not in self.owners:
            self.owners[WAIT_OWNER] = {
                "title": "Waiting",
                "external": True,
            }
        return WAIT_OWNER

    def owner_from_params(self, task: str) -> str | None:
        """Without lanes, the resource profile of a task's first resource is its owner."""
        resources = self.params.task_resources.get(task) or []
        profile = self.params.profile_of.get(resources[0]) if resources else None
        if profile is None:
            return None
        ident = slug(profile, "owner")
        if ident not in self.owners:
            members = self.params.profiles.get(profile, [])
            known = [self.params.resources[r] for r in members if r in self.params.resources]
            owner: dict[str, Any] = {"title": profile} if profile != ident else {}
            owner["capacity"] = sum(amount for amount, _ in known)
            cost = max((c for _, c in known), default=0.0)
            if cost > 0:
                owner["cost_per_hour"] = cost
            self._owner_calendar(ident, owner, members)
            self.owners[ident] = owner
        return ident

    def default_owner(self) -> str:
        name = slug(self.m.pool_name, "staff") if self.m.pool_name else "staff"
        if name not in self.owners:
            owner: dict[str, Any] = {}
            if self.m.pool_name and self.m.pool_name != name:
                owner["title"] = self.m.pool_name
            members = [r for rs in self.params.task_resources.values() for r in rs]
            amounts = {r: self.params.resources[r] for r in members if r in self.params.resources}
            if amounts:
                owner["capacity"] = sum(a for a, _ in amounts.values())
            self._owner_calendar(name, owner, sorted(amounts))
            self.owners[name] = owner
            self.warnings.append(
                f"{self.m.path}: activities outside any lane are owned by {name!r}"
            )
        return name

    def warn_once(self, key: str, message: str) -> None:
        if key not in self.warned:
            self.warned.add(key)
            self.warnings.append(message)

    def notify(self, node: FlowNode, message: str) -> None:
        if node.id not in self.noticed:
            self.noticed.add(node.id)
            self.m.notice(node.node, message)

    # ---------------------------------------------------------------- transitions

    def parallel_kind(self, node: FlowNode) -> str | None:
        """``all`` for a parallel gateway, ``first`` for procflow's race gateway, else ``None``."""
        if node.kind in GATEWAYS_PARALLEL:
            return "all"
        if node.kind == "complexGateway" and node.node.get("join", PF) == "first":
            return "first"
        return None

    def paths(self, node: FlowNode) -> list[Path]:
        """Every way from ``node`` (a step or the start event) to the next steps.

        A step whose one flow enters a parallel split has none: it forks
        (:attr:`fork_at`), and its branches are read by :meth:`branches`.
        """
        flows = node.outgoing
        if len(flows) == 1 and self.is_step(node):
            split = self.m.nodes[self.m.flows[flows[0]].target]
            if (
                self.parallel_kind(split) == "all"
                and len(split.outgoing) > 1
                and len(split.incoming) == 1
                and not self.m.flows[flows[0]].name
            ):
                self.fork_at[node.id] = split
                return []
        if len(flows) > 1 and node.kind not in GATEWAYS_CHOICE:
            conditional = any(
                c.ns == BPMN and c.tag == "conditionExpression"
                for f in flows
                for c in self.m.flows[f].node.children
            )
            kind = (
                "conditional flows (an inclusive choice)"
                if conditional
                else ("several outgoing flows (a parallel split in BPMN)")
            )
            self.notify(node, f"{kind} cannot be represented: imported as {self.exclusive(flows)}")
        out: list[Path] = []
        chance = len(flows) > 1 and not self.conditional(flows)
        for flow_id, share, when in self.choice(node, flows):
            out.extend(self.follow(flow_id, share, [], (node.id,), when, None, chance))
        if mixed(out):
            self.warn_once(
                f"mixed {node.id}",
                f"{self.where(node)}: the ways out of {node.id} mix conditions and shares: "
                "imported with shares, the conditions left out",
            )
        return out

    def exclusive(self, flows: list[str]) -> str:
        """How a split procflow cannot represent is imported: by its conditions, else shares."""
        if self.conditional(flows):
            return "an exclusive choice: the first flow whose condition holds, else the default"
        return "an exclusive choice with equal shares"

    def conditional(self, flows: list[str]) -> bool:
        """Whether a choice over ``flows`` is made by conditions (all of them readable)."""
        conditions = [self.condition(self.m.flows[f]) for f in flows]
        return any(c is not None for c in conditions) and all(c is not False for c in conditions)

    def choice(self, node: FlowNode, flows: list[str]) -> list[tuple[str, float, str | None]]:
        """Each way out of ``node``: its flow, share and condition.

        Conditional flows (``conditionExpression``; see
        docs/bpmn.md#rules-conditions-and-the-default-flow) come first in
        file order and the others (the ``default``) after them, so that
        procflow's "first condition that holds" is BPMN's choice. A
        condition procflow cannot read is named, and the choice falls back
        to shares.
        """
        conditions = [self.condition(self.m.flows[f]) for f in flows]
        if len(flows) > 1 and self.conditional(flows):
            ways = [
                (f, 1.0 / len(flows), c if isinstance(c, str) else None)
                for f, c in zip(flows, conditions, strict=True)
            ]
            return [w for w in ways if w[2] is not None] + [w for w in ways if w[2] is None]
        shares = self.shares(node, flows)
        return [(f, share, None) for f, share in zip(flows, shares, strict=True)]

    def condition(self, flow: Flow) -> str | bool | None:
        """A flow's condition as procflow text; ``None`` without one, ``False`` if unreadable."""
        found = [c for c in flow.node.children if c.ns == BPMN and c.tag == "conditionExpression"]
        if not found:
            return None
        text = found[0].text.strip()
        if len(text) > 3 and text[0] in "$#" and text[1] == "{" and text.endswith("}"):
            text = text[2:-1].strip()  # a JUEL/SpEL wrapper: ${amount > 1000}
        elif text.startswith("="):
            text = feel(text[1:].strip())  # Camunda 8's FEEL: =risk = "high"
        try:
            parse(text)
        except ExpressionError as exc:
            if flow.id not in self.noticed:
                self.noticed.add(flow.id)
                self.m.notice(
                    flow.node,
                    f"condition {found[0].text.strip()!r} is not one procflow reads ({exc}; "
                    "docs/attributes.md#the-condition-language): the gateway is imported "
                    "with shares instead of conditions",
                )
            return False
        return text

    def shares(self, node: FlowNode, flows: list[str]) -> list[float]:
        if len(flows) <= 1:
            return [1.0] * len(flows)
        given = self.params.branching.get(node.id)
        if given is None:
            attrs = [self.number(self.m.flows[f].node, "p") for f in flows]
            if all(a is not None for a in attrs):
                given = {f: a for f, a in zip(flows, attrs, strict=True) if a is not None}
        if given is not None and all(f in given for f in flows):
            total = sum(given[f] for f in flows)
            if total > 0:
                if abs(total - 1.0) > 1e-6:
                    self.warn_once(
                        node.id,
                        f"{self.where(node)}: branching probabilities of {node.id} sum to "
                        f"{format_number(total)}: scaled to 1",
                    )
                top = max(given[f] for f in flows)  # scaled first: a sum of huge ones is inf
                scaled = [given[f] / top for f in flows]
                return [share / sum(scaled) for share in scaled]
        self.warn_once(
            node.id,
            f"{self.where(node)}: no branching probabilities for {node.id}"
            + (" in the parameters" if self.params.branching else " (no --params)")
            + f": each of its {len(flows)} ways is taken with probability 1/{len(flows)}",
        )
        return [1.0 / len(flows)] * len(flows)

    def follow(
        self,
        flow_id: str,
        p: float,
        names: list[str],
        seen: tuple[str, ...],
        when: str | None = None,
        outer: str | None = None,
        chance: bool = False,
    ) -> list[Path]:
        flow = self.m.flows[flow_id]
        # the conditions along the way, joined by `and`
        when = when or outer if when is None or outer is None else f"({outer}) and ({when})"
        target = self.m.nodes[flow.target]
        names = [*names, flow.name] if flow.name else names
        feedback = flow.node.get("feedback", PF) == "true"
        bound = self.whole(flow.node, "max")
        trigger = self.ident(flow.node, "trigger")
        if self.is_step(target):
            self.ways += 1
            if self.ways > MAX_WAYS:
                raise BpmnError(
                    self.m.path,
                    f"more than {MAX_WAYS:,} ways through the gateways before this element: "
                    "a chain of gateways without activities that procflow does not unfold",
                    target.node.line,
                    target.node.column,
                )
            return [
                Path(
                    self.step_of[target.id],
                    p,
                    names,
                    feedback,
                    bound or None,
                    trigger,
                    when,
                    chance,
                )
            ]
        if target.id in seen:
            raise BpmnError(
                self.m.path,
                f"gateway {target.id} is on a loop of gateways with no activity: a case would "
                "circle without end",
                target.node.line,
                target.node.column,
            )
        kind = self.parallel_kind(target)
        if kind is not None and (
            len(target.outgoing) > 1
            or (len(target.incoming) > 1 and not self.joins_a_step(target, kind))
        ):
            return [
                Path(self.gateway_step(target), p, names, feedback, None, trigger, when, chance)
            ]
        if target.kind in GATEWAYS_NOT_REPRESENTED and kind is None:
            what = "split" if len(target.outgoing) > 1 else "join"
            self.notify(
                target,
                f"{target.kind} ({what}) cannot be represented yet: imported as "
                + (self.exclusive(target.outgoing) if what == "split" else "a merge"),
            )
        if not target.outgoing:
            self.notify(target, "a gateway or event without outgoing flow: the case ends here")
            return [Path(self.implicit_end(), p, names, feedback, None, trigger, when, chance)]
        out: list[Path] = []
        split = len(target.outgoing) > 1 and not self.conditional(target.outgoing)
        for next_flow, share, condition in self.choice(target, target.outgoing):
            for path in self.follow(
                next_flow, p * share, names, (*seen, target.id), condition, when, chance or split
            ):
                path.feedback = path.feedback or feedback
                path.max = path.max or bound or None
                out.append(path)
        return out

    def joins_a_step(self, gateway: FlowNode, kind: str) -> bool:
        """Whether a join gateway leads straight to a step that only it leads to.

        That step then gets ``join:`` (remembered in :attr:`join_on`), and
        the ways through the gateway end at it.
        """
        if len(gateway.outgoing) != 1 or len(gateway.incoming) < 2:
            return False
        step = self.m.nodes[self.m.flows[gateway.outgoing[0]].target]
        if not self.is_step(step):
            return False
        if any(self.m.flows[f].source != gateway.id for f in step.incoming):
            return False
        self.join_on[step.id] = kind
        return True

    def gateway_step(self, gateway: FlowNode) -> str:
        """The id of the step that stands for ``gateway``: it forks, joins, or both."""
        ident = self.gateway_steps.get(gateway.id)
        if ident is not None:
            return ident
        ident = unique(slug(gateway.name or gateway.id, "gateway"), self.taken)
        self.gateway_steps[gateway.id] = ident
        body: dict[str, Any] = {"owner": self.wait_owner(), "duration": "0s"}
        self.extra[ident] = body
        if len(gateway.incoming) > 1:
            body["join"] = self.parallel_kind(gateway)
        if len(gateway.outgoing) > 1:
            body["parallel"] = self.branches(gateway)
        else:
            body.update(transitions(self.paths(gateway)))
        return ident

    def branches(self, split: FlowNode) -> list[str]:
        """The first step of each branch of a parallel split.

        A branch that begins with a choice starts at a step of its own
        that makes the choice and does no work.
        """
        starts: list[str] = []
        for number, flow in enumerate(split.outgoing, 1):
            ways = self.follow(flow, 1.0, [], (split.id,))
            if len(ways) == 1 and not ways[0].feedback:
                starts.append(ways[0].target)
                continue
            ident = unique(slug(f"{split.name or split.id}-branch-{number}", "branch"), self.taken)
            self.extra[ident] = {"owner": self.wait_owner(), "duration": "0s", **transitions(ways)}
            starts.append(ident)
        return starts

    def implicit_end(self) -> str:
        if "__end__" not in self.step_of:
            self.step_of["__end__"] = unique("end", set(self.step_of.values()))
        return self.step_of["__end__"]

    def start(self, steps: dict[str, dict[str, Any]]) -> tuple[str, list[Path]]:
        starts = [n for n in self.m.nodes.values() if n.kind == "startEvent"]
        for extra in starts[1:]:
            self.notify(extra, "only one start event is imported: this one is left out")
            extra.cut_off = True  # and with it the steps only it leads to
        if not starts:
            first = next(
                (n for n in self.m.nodes.values() if self.is_step(n) and not n.incoming), None
            )
            if first is None:
                raise BpmnError(
                    self.m.path,
                    "the process has no start event",
                    self.m.process.line,
                    self.m.process.column,
                )
            self.warnings.append(
                f"{self.where(first)}: no start event: the process starts at {first.id}"
            )
            return self.step_of[first.id], []
        paths = self.paths(starts[0])
        if len(paths) == 1:
            return paths[0].target, []
        if not paths:
            raise BpmnError(
                self.m.path,
                "the start event has no outgoing flow",
                starts[0].node.line,
                starts[0].node.column,
            )
        ident = unique("start", set(steps))
        return ident, paths

    def build(self) -> Draft:
        self.build_owners()
        steps = self.build_steps()
        for node in self.m.nodes.values():
            if node.kind == "endEvent" and node.outgoing:  # BPMN forbids it; some tools write it
                self.notify(node, "flows leaving an end event are left out: an end step has none")
            if self.is_step(node) and node.kind != "endEvent":
                paths = self.paths(node)
                split = self.fork_at.get(node.id)
                if split is not None:
                    steps[self.step_of[node.id]]["parallel"] = self.branches(split)
                    continue
                if not paths:
                    paths = [Path(self.implicit_end(), 1.0, [])]
                steps[self.step_of[node.id]].update(transitions(paths))
        start, start_paths = self.start(steps)
        for node_id, kind in self.join_on.items():
            body = steps[self.step_of[node_id]]
            steps[self.step_of[node_id]] = {"join": kind, **body}
        steps.update(self.extra)
        if start_paths:
            owner = self.wait_owner()
            steps = {
                start: {"owner": owner, "duration": "0s", **transitions(start_paths)},
                **steps,
            }
        if "__end__" in self.step_of:
            steps[self.step_of["__end__"]] = {"end": True}
        self.drop_cut_off(steps, start)
        self.join_apart(steps)
        mark_loops(steps, start)
        process = self.m.process
        name = process.get("name") or self.m.pool_name
        ident = self.ident(process, "process") or slug(
            name or process.get("id") or "process", "process"
        )
        return Draft(
            process=ident,
            title=process.get("title", PF) if self.exported else (name or None),
            owners=self.owners,
            start=start,
            steps=steps,
            arrivals=self.arrivals(),
            warnings=self.warnings,
            owner=self.ident(process, "owner"),
            description=process.get("description", PF),
            calendars=dict(self.params.calendars),
            attributes=dict(self.params.attributes),
        )

    def join_apart(self, steps: Steps) -> None:
        """Forks whose branches end apart (each at an end event) join before the end."""
        for fork in [s for s, body in steps.items() if body.get("parallel")]:
            taken = set(steps) | self.taken
            joined = join_ends(steps, fork, WAIT_OWNER, taken)
            if joined is None:
                continue
            self.wait_owner()
            join, dropped = joined
            self.warnings.append(
                f"{self.m.path}: the branches of fork {fork} end apart (BPMN ends the case when "
                f"all of them have ended): they join at a step {join}"
                + (f"; end steps {', '.join(dropped)} are left out" if dropped else "")
            )

    def drop_cut_off(self, steps: Steps, start: str) -> None:
        """Leave out (and name) the steps only reached from elements that were left out."""
        node_of = {step: self.m.nodes[n] for n, step in self.step_of.items() if n in self.m.nodes}
        severed = {step for step, node in node_of.items() if node.cut_off}
        # a gateway (or a second start event) cut off passes it on to the steps after it
        todo = [n for n in self.m.nodes.values() if n.cut_off and not self.is_step(n)]
        seen = {n.id for n in todo}
        while todo:
            for flow in todo.pop().outgoing:
                target = self.m.nodes[self.m.flows[flow].target]
                if self.is_step(target):
                    severed.add(self.step_of[target.id])
                elif target.id not in seen:
                    seen.add(target.id)
                    todo.append(target)
        for step in cut_off(steps, start, severed):
            del steps[step]
            self.notify(
                node_of[step], "only reached from an element that is left out: left out with it"
            )

    def arrivals(self) -> dict[str, str] | None:
        out = self._arrival_rate()
        if out is not None and self.params.arrival_calendar is not None:
            out["calendar"] = self.params.arrival_calendar
        return out

    def _arrival_rate(self) -> dict[str, str] | None:
        own = self.m.process.get("arrivals", PF)
        if own is not None:
            key, _, value = (part.strip() for part in own.partition(":"))
            try:
                if key == "rate":
                    parse_rate(value)
                elif key == "every":
                    parse_distribution(value)
                else:
                    raise UnitError("expected 'rate: 12/h' or 'every: exponential(5m)'")
            except (UnitError, PydanticCustomError) as exc:
                node = self.m.process
                why = exc.message() if isinstance(exc, PydanticCustomError) else str(exc)
                raise BpmnError(
                    self.m.path,
                    f"procflow:arrivals={own!r} of process {node.get('id') or '?'!r}: {why}",
                    node.line,
                    node.column,
                ) from None
            return {key: value}
        if self.params.arrival_mean is not None and self.params.arrival_mean > 0:
            return {"rate": f"{format_number(3600.0 / self.params.arrival_mean, 9)}/h"}
        if self.params.arrivals is not None:
            return {"every": self.params.arrivals}
        return None
