"""Namespaces and element kinds of BPMN 2.0, and procflow's own extension namespace.

procflow writes what BPMN cannot say (a step's id, its duration distribution,
an owner's capacity, a feedback mark and its ``max``) as attributes in its own
namespace :data:`PF`. BPMN allows attributes of other namespaces on every
element, so the file stays valid against the OMG schema, other tools ignore
them, and ``procflow import`` reads them back for an exact round trip.
"""

from __future__ import annotations

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PF = "https://procflow.dev/bpmn"

#: Activities imported as steps.
TASKS = frozenset(
    {
        "task",
        "userTask",
        "serviceTask",
        "manualTask",
        "scriptTask",
        "businessRuleTask",
        "sendTask",
        "receiveTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
    }
)

#: Gateways a case passes through choosing one way (collapsed into transitions).
GATEWAYS_CHOICE = frozenset({"exclusiveGateway"})

#: Gateways that fork or join (docs/parallel-work.md#bpmn): a parallel gateway, and a
#: complex gateway marked ``procflow:join="first"`` (procflow's export of ``join: first``).
GATEWAYS_PARALLEL = frozenset({"parallelGateway"})

#: Gateways procflow's model cannot say: imported as a choice (a split) or a merge (a join).
GATEWAYS_NOT_REPRESENTED = frozenset({"inclusiveGateway", "complexGateway", "eventBasedGateway"})

#: Flow elements that carry no work and no choice: a case passes straight on.
PASS_THROUGH = frozenset({"intermediateThrowEvent"})

#: The kind given to an intermediate catch event with a ``linkEventDefinition``: the
#: other end of a link throw event (an off-page connector), passed through.
LINK_CATCH = "linkCatchEvent"

#: Elements that are not part of the flow and are read for nothing (artifacts,
#: data, definitions a flow element refers to).
IGNORED = frozenset(
    {
        "laneSet",
        "lane",
        "sequenceFlow",
        "textAnnotation",
        "association",
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        "dataInputAssociation",
        "dataOutputAssociation",
        "documentation",
        "extensionElements",
        "ioSpecification",
        "property",
        "group",
        "category",
        "incoming",
        "outgoing",
        "auditing",
        "monitoring",
        "performer",
        "humanPerformer",
        "potentialOwner",
        "resourceRole",
        "correlationSubscription",
        "supports",
    }
)
