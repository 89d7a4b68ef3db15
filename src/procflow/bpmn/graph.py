"""A BPMN file read into a flow graph: nodes, sequence flows, lanes, and what was left out.

:func:`read_model` picks the one process to import (of those with flow
elements, the one with the most activities; other pools are named as not
imported), collects its flow nodes with their lane, its sequence flows, and
a :class:`Notice` with the id and ``file:line:col`` of every element
procflow cannot represent. Nothing is
decided about steps here: :mod:`procflow.bpmn.importer` does that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from procflow.bpmn.names import (
    BPMN,
    GATEWAYS_NOT_REPRESENTED,
    GATEWAYS_PARALLEL,
    IGNORED,
    LINK_CATCH,
    PASS_THROUGH,
    TASKS,
)
from procflow.bpmn.xmltree import BpmnError, Node


@dataclass(frozen=True)
class Notice:
    """An element that cannot be represented: what it is, where, and what import did."""

    element: str
    id: str
    line: int
    column: int
    message: str


@dataclass
class FlowNode:
    id: str
    kind: str
    name: str
    node: Node
    lane: str | None = None
    outgoing: list[str] = field(default_factory=list)
    incoming: list[str] = field(default_factory=list)
    cut_off: bool = False
    """A flow into it came from an element left out (a boundary event, say)."""


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str
    node: Node


@dataclass
class Lane:
    id: str
    name: str
    node: Node


@dataclass
class Model:
    path: str
    process: Node
    nodes: dict[str, FlowNode] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    lanes: dict[str, Lane] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    pool_name: str = ""

    def notice(self, node: Node, message: str) -> None:
        self.notices.append(
            Notice(node.tag, node.get("id") or "?", node.line, node.column, message)
        )


def _has_flow(process: Node) -> bool:
    return any(
        c.ns == BPMN and (c.tag in TASKS or c.tag.endswith("Event")) for c in process.children
    )


def _activities(process: Node) -> int:
    return sum(1 for c in process.children if c.ns == BPMN and c.tag in TASKS)


def read_model(root: Node, path: str) -> Model:
    """The importable process of a parsed BPMN document, or a positioned :class:`BpmnError`."""
    if root.ns != BPMN or root.tag != "definitions":
        shown = f"{{{root.ns}}}{root.tag}" if root.ns else root.tag
        raise BpmnError(
            path,
            f"the root element is <{shown}>, not BPMN 2.0 <definitions> "
            f"(namespace {BPMN}): not a BPMN model",
            root.line,
            root.column,
        )
    processes = root.find(BPMN, "process")
    with_flow = [p for p in processes if _has_flow(p)]
    if not with_flow:
        raise BpmnError(path, "no <process> with a start event or a task", root.line, root.column)
    # the pool with the most activities: in a collaboration the customer's pool (a few
    # events and a task, often drawn first) is not the process being modelled
    chosen = max(with_flow, key=_activities)
    model = Model(path, chosen)
    names = _participants(root)
    model.pool_name = names.get(chosen.get("id") or "", "") or chosen.get("name") or ""
    for other in with_flow:
        if other is not chosen:
            model.notice(
                other,
                "another pool's process is not imported (one process per file: the one with "
                "the most activities)",
            )
    _read_collaborations(root, model)
    _read_elements(chosen, model)
    _read_lanes(chosen, model)
    _link(model)
    _check_flows(model)
    return model


def _link_name(node: Node) -> str | None:
    """The link name of a link event (its ``linkEventDefinition``'s, else the event's name)."""
    for child in node.children:
        if child.ns == BPMN and child.tag == "linkEventDefinition":
            return (child.get("name") or node.get("name") or "").strip()
    return None


def _link(model: Model) -> None:
    """Join each link throw event to the link catch event of its name: a case goes on there.

    A link catch event is a connector, not a wait: it is passed through
    (kind :data:`LINK_CATCH`) like a throw event.
    """
    catches: dict[str, FlowNode] = {}
    for node in model.nodes.values():
        name = _link_name(node.node)
        if node.kind == "intermediateCatchEvent" and name is not None:
            node.kind = LINK_CATCH
            catches.setdefault(name, node)
    for node in list(model.nodes.values()):
        name = _link_name(node.node)
        if node.kind != "intermediateThrowEvent" or name is None:
            continue
        catch = catches.get(name)
        if catch is None:  # the importer names it: an event without outgoing flow
            continue
        ident = f"link@{node.id}"
        model.flows[ident] = Flow(ident, node.id, catch.id, "", node.node)


def _participants(root: Node) -> dict[str, str]:
    out: dict[str, str] = {}
    for collaboration in root.find(BPMN, "collaboration"):
        for participant in collaboration.find(BPMN, "participant"):
            ref = participant.get("processRef")
            if ref:
                out[ref] = participant.get("name") or ""
    return out


def _read_collaborations(root: Node, model: Model) -> None:
    for collaboration in root.find(BPMN, "collaboration"):
        for child in collaboration.children:
            if child.ns == BPMN and child.tag in ("messageFlow", "conversation", "choreography"):
                model.notice(child, "message flows between pools are not represented: left out")


def _read_elements(process: Node, model: Model) -> None:
    for child in process.children:
        if child.ns != BPMN:
            continue
        tag = child.tag
        ident = child.get("id")
        if tag == "sequenceFlow":
            source, target = child.get("sourceRef"), child.get("targetRef")
            if not source or not target:
                raise BpmnError(
                    model.path,
                    "a <sequenceFlow> needs sourceRef and targetRef",
                    child.line,
                    child.column,
                )
            if not ident:  # the schema allows it: nothing can refer to such a flow
                ident = f"sequenceFlow@{child.line}:{child.column}"
            if ident in model.flows or ident in model.nodes:
                raise BpmnError(model.path, f"id {ident!r} is used twice", child.line, child.column)
            model.flows[ident] = Flow(
                ident, source, target, (child.get("name") or "").strip(), child
            )
            continue
        if tag in IGNORED:
            continue
        if tag == "subProcess" and child.get("triggeredByEvent") == "true":
            model.notice(child, "an event sub-process is not represented: left out")
            continue
        if tag in TASKS and child.get("isForCompensation") == "true":
            model.notice(child, "a compensation activity is not represented: left out")
            continue
        if tag == "boundaryEvent":
            model.notice(
                child,
                "boundary events are not represented: left out, with the flows that leave them",
            )
            continue
        known = (
            tag in TASKS
            or tag in ("startEvent", "endEvent", "intermediateCatchEvent", "exclusiveGateway")
            or tag in PASS_THROUGH
            or tag in GATEWAYS_NOT_REPRESENTED
            or tag in GATEWAYS_PARALLEL
        )
        if not known:  # with or without an id: nothing refers to it
            model.notice(child, f"<{tag}> is not represented: left out")
            continue
        if not ident:
            raise BpmnError(model.path, f"a <{tag}> without an id", child.line, child.column)
        if ident in model.nodes or ident in model.flows:
            raise BpmnError(model.path, f"id {ident!r} is used twice", child.line, child.column)
        model.nodes[ident] = FlowNode(
            ident, tag, " ".join((child.get("name") or "").split()), child
        )


def _read_lanes(process: Node, model: Model) -> None:
    def visit(lane_set: Node) -> None:
        for lane in lane_set.find(BPMN, "lane"):
            nested = lane.find(BPMN, "childLaneSet")
            if nested:  # the innermost lanes are the roles
                for inner in nested:
                    visit(inner)
            ident = lane.get("id") or f"lane-{lane.line}"
            mine = 0
            for ref in lane.find(BPMN, "flowNodeRef"):
                flow_node = model.nodes.get(ref.text.strip())
                if flow_node is not None and flow_node.lane is None:
                    flow_node.lane = ident
                    mine += 1
            if mine or not nested:  # a parent lane is a role only for nodes no child lane has
                model.lanes[ident] = Lane(ident, " ".join((lane.get("name") or "").split()), lane)

    for lane_set in process.find(BPMN, "laneSet"):
        visit(lane_set)


def _check_flows(model: Model) -> None:
    left_out = {notice.id for notice in model.notices}
    for flow in list(model.flows.values()):
        ends = (model.nodes.get(flow.source), model.nodes.get(flow.target))
        if ends[0] is None or ends[1] is None:
            missing = flow.source if ends[0] is None else flow.target
            if missing not in left_out:
                raise BpmnError(
                    model.path,
                    f"sequence flow {flow.id!r} names {missing!r}, which is no flow element "
                    "of this process",
                    flow.node.line,
                    flow.node.column,
                )
            # a flow from or to an element left out (and named) goes with it
            if ends[1] is not None:
                ends[1].cut_off = True
            del model.flows[flow.id]
            continue
        ends[0].outgoing.append(flow.id)
        ends[1].incoming.append(flow.id)
