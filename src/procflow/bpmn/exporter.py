"""A process as BPMN 2.0 XML with a diagram (``procflow export --to bpmn``).

One pool (a participant of a collaboration, and its process), one lane per
owner (external owners too, marked ``procflow:external``) and a lane for
unowned steps when there are any; a task per step, the start event before
the start step, an end event per end step, and an exclusive gateway after
every step with more than one transition, whose outgoing sequence flows are
named after the triggers; ``when:`` rules are the flows' BPMN
``conditionExpression``s and the gateway's ``default`` flow. What BPMN has
no attribute for -- step and owner ids, durations, capacities,
probabilities, feedback marks and ``max`` -- goes into procflow's namespace
(:data:`~procflow.bpmn.names.PF`), so ``procflow import`` reads the file
back to the same process; calendars and case attributes go into the
parameters JSON. What neither carries is named by :func:`export_notes`.
Goals and ``consulted``/``informed`` are not exported.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from procflow._version import __version__
from procflow.bpmn.calendars import arrival_interval
from procflow.bpmn.layout import Layout, lay_out
from procflow.bpmn.names import BPMN, BPMNDI, DC, DI, PF, XSI
from procflow.bpmn.params import average_p, representative, write_params
from procflow.casedata import ByDuration, ByValue
from procflow.errors import RenderError
from procflow.model import Process
from procflow.units import format_number

UNASSIGNED = "Lane__none"
"""The lane of steps without an owner (no owner id starts with ``_``, so no clash)."""
START = "StartEvent_1"

for _prefix, _uri in (
    ("bpmn", BPMN),
    ("bpmndi", BPMNDI),
    ("dc", DC),
    ("di", DI),
    ("procflow", PF),
    ("xsi", XSI),
):
    ET.register_namespace(_prefix, _uri)


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _pf(element: ET.Element, **values: Any) -> None:
    for key, value in values.items():
        if value is None or value is False:
            continue
        text = (
            "true"
            if value is True
            else (format_number(value, 15) if isinstance(value, float) else str(value))
        )
        element.set(_q(PF, key), text)


def _raw(value: Any, parsed: Any) -> str:
    return value if isinstance(value, str) else str(parsed)


class _Flows:
    """The flow graph of the export: nodes (id, kind, lane) and flows (id, from, to, ...)."""

    def __init__(self, process: Process) -> None:
        self.p = process
        self.nodes: list[tuple[str, str, str]] = []
        self.flows: list[dict[str, Any]] = []
        owners = list(process.owners)
        self.lane_of_owner = {o: f"Lane_{o}" for o in owners}
        self.lanes = [self.lane_of_owner[o] for o in owners]
        self._build()

    def step_lane(self, step_id: str) -> str:
        step = self.p.steps[step_id]
        if step.owner in self.lane_of_owner:
            return self.lane_of_owner[step.owner]
        if step.end:
            for source, edge in self.p.edges():
                if edge.to == step_id and not self.p.steps[source].end:
                    return self.step_lane(source)
        if UNASSIGNED not in self.lanes:
            self.lanes.append(UNASSIGNED)
        return UNASSIGNED

    def _build(self) -> None:
        p = self.p
        self.nodes.append((START, "event", self.step_lane(p.start)))
        joins = {step_id: f"Join_{step_id}" for step_id, s in p.steps.items() if s.join}
        self.flows.append({"id": "Flow_start", "from": START, "to": joins.get(p.start, p.start)})
        for step_id, step in p.steps.items():
            lane = self.step_lane(step_id)
            if step.join:  # every flow into a join step meets at its gateway first
                kind = "first" if step.join == "first" else "join"
                self.nodes.append((joins[step_id], kind, lane))
                self.flows.append(
                    {"id": f"Flow.join_{step_id}", "from": joins[step_id], "to": step_id}
                )
            self.nodes.append((step_id, "event" if step.end else "task", lane))
            if step.parallel:
                self._fork(step_id, step.parallel, lane, joins)
                continue
            edges = step.transitions
            source = step_id
            if len(edges) > 1:
                source = f"Gateway_{step_id}"
                self.nodes.append((source, "gateway", lane))
                self.flows.append({"id": f"Flow_{step_id}_split", "from": step_id, "to": source})
            for edge in edges:
                self.flows.append(
                    {
                        "id": f"Flow_{step_id}_{edge.trigger}",
                        "from": source,
                        "to": joins.get(edge.to, edge.to),
                        "edge": edge,
                        "split": len(edges) > 1,
                    }
                )

    def _fork(self, step_id: str, branches: list[str], lane: str, joins: dict[str, str]) -> None:
        """A fork step: a flow into a parallel gateway, and one flow from it per branch.

        Gateway and flow ids of forks and joins (``Fork_x``, ``Join_x``, ``Flow.fork_x``)
        cannot clash with a step id (lower case) or another flow's (no ``.`` in an id).
        """
        gateway = f"Fork_{step_id}"
        self.nodes.append((gateway, "fork", lane))
        self.flows.append({"id": f"Flow.fork_{step_id}", "from": step_id, "to": gateway})
        for number, branch in enumerate(branches, 1):
            self.flows.append(
                {
                    "id": f"Flow.branch_{step_id}_{number}",
                    "from": gateway,
                    "to": joins.get(branch, branch),
                }
            )


def export_notes(process: Process, *, params: bool = False) -> list[str]:
    """What the export cannot carry, one sentence each (docs/bpmn.md#what-is-lost).

    Neither BPMN nor the Prosimos parameters have a place for a priority
    or a value chosen by an attribute (``by:``); without ``params`` the
    attributes and calendars are lost too. Export names them, never refuses.
    """
    notes: list[str] = []
    if process.priority is not None:
        notes.append(
            f"priority ({process.priority.by}) is not exported: BPMN and the parameters "
            "have no queue order"
        )
    for step_id, step in process.steps.items():
        if isinstance(step.duration, ByDuration):
            notes.append(
                f"step {step_id!r}: the duration by {step.duration.by} is exported as "
                f"{representative(process, step.duration)}, its most common class's"
            )
    for step_id, edge in process.edges():
        if isinstance(edge.p, ByValue):
            notes.append(
                f"transition {step_id}.{edge.trigger}: p by {edge.p.by} is exported as its "
                f"share-weighted average {format_number(average_p(process, edge) or 0.0, 6)}"
            )
    if process.arrivals is not None and process.arrivals.profile is not None:
        notes.append("the arrival profile is not exported: the arrivals keep only their mean rate")
    if process.goals:
        notes.append(
            f"goals ({', '.join(goal.id for goal in process.goals)}) are not exported: "
            "BPMN and the parameters have no place for them"
        )
    raci = [s for s, step in process.steps.items() if step.consulted or step.informed]
    if raci:
        notes.append(
            f"consulted/informed of {len(raci)} step{'s' if len(raci) != 1 else ''} "
            f"({', '.join(raci)}) are not exported: BPMN lanes say only who does a step"
        )
    if not params:
        if process.attributes:
            notes.append(
                f"attributes ({', '.join(process.attributes)}) go only into --params "
                "(case_attributes): not exported"
            )
        if process.calendars:
            notes.append(
                f"calendars ({', '.join(process.calendars)}) go only into --params "
                "(resource_calendars): not exported"
            )
    return notes


def export(process: object, *, params: bool = False) -> tuple[bytes, str | None]:
    """BPMN 2.0 XML bytes for ``process``, and the Prosimos JSON text when ``params``."""
    if not isinstance(process, Process):
        raise TypeError(
            f"export_bpmn() takes a Process (procflow.load(path)), not {type(process).__name__}"
        )
    graph = _Flows(process)
    known = {n for n, _, _ in graph.nodes}
    for flow in graph.flows:
        if flow["to"] not in known:
            raise RenderError(
                f"{process.id}: transition to {flow['to']!r} names no step; "
                "run `procflow lint` and fix the process first"
            )
    layout = lay_out(
        [
            (ident, "gateway" if kind in _PARALLEL else kind, lane)
            for ident, kind, lane in graph.nodes
        ],
        [
            (f["id"], f["from"], f["to"], bool(f.get("edge") and f["edge"].feedback))
            for f in graph.flows
        ],
        graph.lanes,
    )
    root = _definitions(process, graph, layout)
    ET.indent(root, "  ")
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + ET.tostring(root, encoding="utf-8", xml_declaration=False)
        + b"\n"
    )
    return data, (write_params(process) if params else None)


def _definitions(process: Process, graph: _Flows, layout: Layout) -> ET.Element:
    root = ET.Element(
        _q(BPMN, "definitions"),
        {
            "id": f"Definitions_{process.id}",
            "targetNamespace": "https://procflow.dev/bpmn/export",
            "exporter": "procflow",
            "exporterVersion": __version__,
        },
    )
    collaboration = ET.SubElement(root, _q(BPMN, "collaboration"), {"id": "Collaboration_1"})
    ET.SubElement(
        collaboration,
        _q(BPMN, "participant"),
        {
            "id": "Participant_1",
            "name": process.title or process.id,
            "processRef": f"Process_{process.id}",
        },
    )
    bpmn_process = ET.SubElement(
        root, _q(BPMN, "process"), {"id": f"Process_{process.id}", "isExecutable": "false"}
    )
    if process.title:
        bpmn_process.set("name", process.title)
    arrivals = process.document.get("arrivals")
    arrival_text = None
    if process.arrivals is not None and process.arrivals.profile is not None:
        rate = 3600.0 / arrival_interval(process)  # the note says so
        arrival_text = f"rate: {format_number(rate, 9)}/h"
    elif process.arrivals is not None and isinstance(arrivals, dict):
        key = "rate" if process.arrivals.rate is not None else "every"
        arrival_text = f"{key}: {_raw(arrivals.get(key), process.arrivals.every)}"
    _pf(
        bpmn_process,
        process=process.id,
        title=process.title,
        description=process.description,
        owner=process.owner,
        arrivals=arrival_text,
    )
    _lanes(process, graph, bpmn_process)
    _nodes(process, graph, bpmn_process)
    _sequence_flows(process, graph, bpmn_process)
    _diagram(root, graph, layout)
    return root


def _lanes(process: Process, graph: _Flows, parent: ET.Element) -> None:
    lane_set = ET.SubElement(parent, _q(BPMN, "laneSet"), {"id": "LaneSet_1"})
    members: dict[str, list[str]] = {lane: [] for lane in graph.lanes}
    for ident, _kind, lane in graph.nodes:
        members[lane].append(ident)
    owner_of = {lane: owner for owner, lane in graph.lane_of_owner.items()}
    for lane in graph.lanes:
        element = ET.SubElement(lane_set, _q(BPMN, "lane"), {"id": lane})
        owner_id = owner_of.get(lane)
        if owner_id is None:
            element.set("name", "(no owner)")
            _pf(element, unassigned=True)
        else:
            owner = process.owners[owner_id]
            element.set("name", owner.title or owner_id)
            _pf(
                element,
                owner=owner_id,
                title=owner.title,
                description=owner.description,
                external=owner.external,
                capacity=None if owner.external else owner.units,
                cost_per_hour=owner.cost_per_hour,
            )
        for ident in members[lane]:
            ET.SubElement(element, _q(BPMN, "flowNodeRef")).text = ident


#: Gateway kinds of forks and joins -> (BPMN element, gatewayDirection). A ``join: first``
#: is a complex gateway (BPMN's discriminator), marked ``procflow:join="first"``.
_PARALLEL = {
    "fork": ("parallelGateway", "Diverging"),
    "join": ("parallelGateway", "Converging"),
    "first": ("complexGateway", "Converging"),
}


def _flow_lists(graph: _Flows) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for flow in graph.flows:
        outgoing.setdefault(flow["from"], []).append(flow["id"])
        incoming.setdefault(flow["to"], []).append(flow["id"])
    return incoming, outgoing


def _nodes(process: Process, graph: _Flows, parent: ET.Element) -> None:
    incoming, outgoing = _flow_lists(graph)
    docs = process.document.get("steps", {})
    for ident, kind, _lane in graph.nodes:
        if ident == START:
            element = ET.SubElement(parent, _q(BPMN, "startEvent"), {"id": START})
        elif kind == "gateway":
            element = ET.SubElement(parent, _q(BPMN, "exclusiveGateway"), {"id": ident})
            default = _default_flow(graph, ident)
            if default is not None:
                element.set("default", default)
        elif kind in _PARALLEL:
            tag, direction = _PARALLEL[kind]
            element = ET.SubElement(
                parent, _q(BPMN, tag), {"id": ident, "gatewayDirection": direction}
            )
            if kind == "first":  # BPMN's complex gateway: the first branch to arrive goes on
                _pf(element, join="first")
        else:
            step = process.steps[ident]
            tag = "endEvent" if step.end else "task"
            element = ET.SubElement(
                parent, _q(BPMN, tag), {"id": ident, "name": step.title or step.activity or ident}
            )
            raw = docs.get(ident, {}) if isinstance(docs, dict) else {}
            duration = None
            if isinstance(step.duration, ByDuration):
                duration = str(representative(process, step.duration))
            elif step.duration is not None:
                duration = _raw(
                    raw.get("duration") if isinstance(raw, dict) else None, step.duration
                )
            _pf(
                element,
                step=ident,
                title=step.title,
                description=step.description,
                activity=step.activity,
                owner=step.owner,
                duration=duration,
            )
        for ref in incoming.get(ident, []):
            ET.SubElement(element, _q(BPMN, "incoming")).text = ref
        for ref in outgoing.get(ident, []):
            ET.SubElement(element, _q(BPMN, "outgoing")).text = ref


def _default_flow(graph: _Flows, gateway: str) -> str | None:
    """The flow without ``when`` out of a gateway whose other flows have conditions."""
    out = [f for f in graph.flows if f["from"] == gateway and f.get("edge") is not None]
    if not any(f["edge"].when is not None for f in out):
        return None
    return next((f["id"] for f in out if f["edge"].when is None), None)


def _sequence_flows(process: Process, graph: _Flows, parent: ET.Element) -> None:
    for flow in graph.flows:
        element = ET.SubElement(
            parent,
            _q(BPMN, "sequenceFlow"),
            {"id": flow["id"], "sourceRef": flow["from"], "targetRef": flow["to"]},
        )
        edge = flow.get("edge")
        if edge is None:
            continue
        if edge.trigger != "next" or flow["split"]:
            element.set("name", edge.trigger)
        if edge.description:
            ET.SubElement(element, _q(BPMN, "documentation")).text = edge.description
        if edge.when is not None:  # BPMN's own condition, which every modeler shows
            condition = ET.SubElement(
                element,
                _q(BPMN, "conditionExpression"),
                {_q(XSI, "type"): "bpmn:tFormalExpression"},
            )
            condition.text = edge.when
        _pf(
            element,
            trigger=edge.trigger,
            p=average_p(process, edge),
            feedback=edge.feedback,
            max=edge.max,
        )


def _diagram(root: ET.Element, graph: _Flows, layout: Layout) -> None:
    diagram = ET.SubElement(root, _q(BPMNDI, "BPMNDiagram"), {"id": "BPMNDiagram_1"})
    plane = ET.SubElement(
        diagram, _q(BPMNDI, "BPMNPlane"), {"id": "BPMNPlane_1", "bpmnElement": "Collaboration_1"}
    )

    def bounds(parent: ET.Element, box: Any) -> None:
        ET.SubElement(
            parent,
            _q(DC, "Bounds"),
            {
                k: format_number(round(v, 1), 9)
                for k, v in (("x", box.x), ("y", box.y), ("width", box.w), ("height", box.h))
            },
        )

    shape = ET.SubElement(
        plane,
        _q(BPMNDI, "BPMNShape"),
        {"id": "Participant_1_di", "bpmnElement": "Participant_1", "isHorizontal": "true"},
    )
    bounds(shape, layout.pool)
    for lane, box in layout.lanes.items():
        shape = ET.SubElement(
            plane,
            _q(BPMNDI, "BPMNShape"),
            {"id": f"{lane}_di", "bpmnElement": lane, "isHorizontal": "true"},
        )
        bounds(shape, box)
    for ident, kind, _lane in graph.nodes:
        attrs = {"id": f"{ident}_di", "bpmnElement": ident}
        if kind == "gateway":
            attrs["isMarkerVisible"] = "true"
        shape = ET.SubElement(plane, _q(BPMNDI, "BPMNShape"), attrs)
        bounds(shape, layout.nodes[ident])
    for flow in graph.flows:
        edge = ET.SubElement(
            plane, _q(BPMNDI, "BPMNEdge"), {"id": f"{flow['id']}_di", "bpmnElement": flow["id"]}
        )
        for x, y in layout.edges[flow["id"]]:
            ET.SubElement(
                edge,
                _q(DI, "waypoint"),
                {"x": format_number(round(x, 1), 9), "y": format_number(round(y, 1), 9)},
            )
