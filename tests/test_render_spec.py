"""The neutral diagram spec and the words on a diagram (no drawing language involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from procflow._render.palette import Key, Level, Mark, level_of
from procflow._render.spec import Highlights, build_diagram, flow_order
from procflow._render.text import (
    clean,
    duration_text,
    edge_caption,
    percent,
    rate_text,
    wrap,
)
from procflow.distributions import parse_distribution
from procflow.findings import Finding, Severity
from procflow.loader import load, load_text
from procflow.model import Transition

FIXTURES = Path(__file__).parent / "fixtures" / "render"


@pytest.fixture(scope="module")
def customer_service():
    return load(FIXTURES / "customer-service.yaml")


def finding(code: str, subject: str | None, severity: Severity = Severity.WARNING) -> Finding:
    return Finding("p.yaml", 1, 1, code, "name", severity, f"about {subject}", "p", subject)


# --------------------------------------------------------------------------
# text


def test_wrap_breaks_on_words_and_cuts_with_an_ellipsis():
    assert wrap("Send welcome pack and document checklist") == (
        "Send welcome pack and",
        "document checklist",
    )
    assert wrap("a\nb") == ("a", "b")
    assert wrap("x" * 30, width=10) == ("x" * 10, "x" * 10, "x" * 10)
    long = wrap("word " * 40, width=10, max_lines=2)
    assert len(long) == 2
    assert long[-1].endswith("\u2026")
    assert wrap("") == ("",)


def test_clean_removes_control_characters_and_keeps_newlines():
    assert clean("a\tb\r\nc\x07d\u2028e") == "a b\nc d e"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6m", "6m"),
        ("fixed(2h)", "2h"),
        ("exponential(6m)", "exp 6m"),
        ("lognormal(4m, 2m)", "lognormal(4m, 2m)"),
        ("triangular(20m, 40m, 90m)", "triangular(20m, 40m, 1.5h)"),
        ("lognormal(9h, 40h)", "lognormal(9h, 1.67d)"),
        ("empirical(3m, 5m, 9m)", "empirical(3m, 5m, 9m)"),
        ("empirical(1m, 2m, 3m, 4m, 5m)", "empirical(5 values, mean 3m)"),
    ],
)
def test_duration_text(text, expected):
    assert duration_text(parse_distribution(text)) == expected


def test_duration_text_of_nothing_is_none():
    assert duration_text(None) is None


def test_percent_and_rates():
    assert [percent(p) for p in (0.7, 0.05, 0.125, 1 / 3, 1.0)] == [
        "70%",
        "5%",
        "12.5%",
        "33.3%",
        "100%",
    ]
    assert rate_text(8 / 3600) == "8/h"
    assert rate_text(30 / 86400) == "30/d"
    assert rate_text(4 / 86400) == "4/d"
    assert rate_text(2.5 / 3600) == "2.5/h"
    assert rate_text(0.5 / 3600) == "12/d"
    assert rate_text(1.2345 / 3600) == "1.23/h"


def test_edge_caption_leaves_out_next_and_shows_probability_and_bound(customer_service):
    assert edge_caption(Transition(to="b")) is None
    captions = [edge_caption(t) for _, t in customer_service.edges()]
    assert captions[0] is None  # intake: next: triage
    assert captions[-1] == "reopened 15% \u22643\u00d7"
    assert "fixed" in captions  # a trigger without p


def test_levels():
    assert [level_of(u) for u in (0.1, 0.7, 0.85, 0.99, 1.0, 3.0)] == [
        Level.LOW,
        Level.BUSY,
        Level.HIGH,
        Level.HIGH,
        Level.OVERLOADED,
        Level.OVERLOADED,
    ]


# --------------------------------------------------------------------------
# the diagram


def test_lanes_follow_owner_order_and_skip_owners_without_steps(customer_service):
    diagram = build_diagram(customer_service)
    assert [lane.id for lane in diagram.lanes] == ["support-agent", "tier2", "customer"]
    agent, tier2, customer = diagram.lanes
    assert agent.nodes == ("intake", "triage", "resolve")
    assert agent.caption == "capacity 5"
    assert tier2.nodes == ("escalate",)
    assert customer.external
    assert customer.caption == "external \u00b7 no queue"
    assert [node.id for node in diagram.free_nodes] == ["closed"]


def test_nodes_show_title_duration_start_and_end(customer_service):
    nodes = {node.id: node for node in build_diagram(customer_service).nodes}
    assert list(nodes) == ["intake", "triage", "escalate", "resolve", "confirm", "closed"]
    assert nodes["intake"].start
    assert not nodes["intake"].end
    assert nodes["intake"].title == ("intake",)
    assert nodes["intake"].detail == "exp 6m"
    assert nodes["closed"].end
    assert nodes["closed"].detail is None
    assert nodes["escalate"].lane == "tier2"
    assert "owner tier2" in nodes["escalate"].tooltip


def test_edges_carry_captions_and_mark_loops(customer_service):
    diagram = build_diagram(customer_service)
    edges = {(e.source, e.target): e for e in diagram.edges}
    assert len(edges) == 7
    assert edges[("intake", "triage")].caption is None
    assert edges[("triage", "resolve")].caption == "simple 70%"
    assert edges[("escalate", "resolve")].caption == "fixed"
    loop = edges[("confirm", "triage")]
    assert loop.feedback
    assert loop.back
    assert not loop.paired
    assert loop.caption == "reopened 15% \u22643\u00d7"
    assert not any(e.back for key, e in edges.items() if key != ("confirm", "triage"))
    assert diagram.arrivals == "8/h"
    assert diagram.subtitle == "customer-service \u00b7 arrivals 8/h"
    assert diagram.goals == (
        "goal \u2013 resolve-within-a-day: p90 cycle_time <= 24h by 2027-03-31",
    )


def test_legend_lists_only_what_the_diagram_uses(customer_service):
    diagram = build_diagram(customer_service)
    assert diagram.legend == (
        Key.START,
        Key.STEP,
        Key.END,
        Key.TRANSITION,
        Key.FEEDBACK,
        Key.LANE,
        Key.EXTERNAL,
    )
    assert build_diagram(customer_service, legend=False).legend == ()


def test_no_lanes_puts_the_owner_on_each_step(customer_service):
    diagram = build_diagram(customer_service, lanes=False)
    assert diagram.lanes == ()
    nodes = {node.id: node for node in diagram.nodes}
    assert nodes["intake"].detail == "support-agent \u00b7 exp 6m"
    assert nodes["confirm"].detail == "customer (external) \u00b7 exp 4h"
    assert Key.LANE not in diagram.legend


BROKEN = """\
process: broken
owners:
  clerk: {capacity: 1}
  idle: {capacity: 2}
start: first
steps:
  first:
    title: First step
    owner: clerk
    duration: 5m
    on:
      go: second
      lost: {to: nowhere}
  second:
    owner: ghost
    on:
      again: first
      done: finished
  finished:
    end: true
"""


def test_missing_targets_and_undeclared_owners_are_drawn_not_dropped():
    process = load_text(BROKEN, "broken.yaml")
    diagram = build_diagram(process)
    nodes = {node.id: node for node in diagram.nodes}
    assert nodes["nowhere"].missing
    assert nodes["nowhere"].lane is None
    assert nodes["second"].detail == "no duration"
    ghost = next(lane for lane in diagram.lanes if lane.id == "ghost")
    assert not ghost.declared
    assert ghost.caption == "not declared in owners"
    assert Key.MISSING in diagram.legend
    # an unmarked loop is still recognised as running against the flow
    back = [(e.source, e.target) for e in diagram.edges if e.back]
    assert back == [("second", "first")]
    assert next(e for e in diagram.edges if e.target == "second").paired


def test_a_start_that_names_no_step_gets_a_missing_node():
    process = load_text(BROKEN.replace("start: first", "start: gone"), "broken.yaml")
    nodes = {node.id: node for node in build_diagram(process).nodes}
    assert nodes["gone"].missing
    assert nodes["gone"].start


def test_highlights_go_to_the_steps_and_owners_they_concern():
    process = load_text(BROKEN, "broken.yaml")
    highlights = Highlights(
        findings=(
            finding("PF101", "first", Severity.ERROR),
            finding("PF402", "second"),
            finding("PF204", "clerk"),
            finding("PF203", "idle"),
            finding("PF603", None, Severity.INFO),
        ),
        utilization={"clerk": 0.9, "ghost": 0.2},
        bottleneck="clerk",
    )
    diagram = build_diagram(process, highlights=highlights)
    nodes = {node.id: node for node in diagram.nodes}
    lanes = {lane.id: lane for lane in diagram.lanes}
    assert nodes["first"].badge is not None
    assert nodes["first"].badge.mark is Mark.ERROR
    assert nodes["first"].badge.codes == ("PF101",)
    assert nodes["second"].badge is not None
    assert nodes["second"].badge.mark is Mark.WARNING
    assert lanes["clerk"].badge is not None
    assert lanes["clerk"].badge.codes == ("PF204",)
    assert lanes["clerk"].level is Level.HIGH
    assert lanes["clerk"].bottleneck
    assert lanes["clerk"].caption == "capacity 1 \u00b7 90% busy \u00b7 BOTTLENECK"
    assert lanes["ghost"].level is Level.LOW
    assert not lanes["ghost"].bottleneck
    # an owner without a lane, and a finding about nothing drawn, become notes
    assert [note.split(":")[0] for note in diagram.notes] == ["PF203 name", "PF603 name"]
    assert "bottleneck: clerk" in diagram.subtitle
    assert {Key.ERROR, Key.WARNING, Key.HIGH, Key.LOW, Key.BOTTLENECK} <= set(diagram.legend)


def test_owner_rules_win_when_a_step_and_an_owner_share_an_id():
    text = BROKEN.replace("  clerk: {capacity: 1}", "  first: {capacity: 1}").replace(
        "owner: clerk", "owner: first"
    )
    process = load_text(text, "broken.yaml")
    highlights = Highlights(findings=(finding("PF204", "first"), finding("PF402", "first")))
    diagram = build_diagram(process, highlights=highlights)
    lane = next(lane for lane in diagram.lanes if lane.id == "first")
    node = next(node for node in diagram.nodes if node.id == "first")
    assert lane.badge is not None
    assert lane.badge.codes == ("PF204",)
    assert node.badge is not None
    assert node.badge.codes == ("PF402",)


def test_without_lanes_owner_findings_and_load_become_notes():
    process = load_text(BROKEN, "broken.yaml")
    highlights = Highlights(findings=(finding("PF204", "clerk"),), utilization={"clerk": 0.5})
    diagram = build_diagram(process, lanes=False, highlights=highlights)
    assert diagram.notes[0] == "busiest owners: clerk 50%"
    assert diagram.notes[1].startswith("PF204")


def test_notes_are_capped():
    process = load_text(BROKEN, "broken.yaml")
    many = tuple(finding("PF603", None) for _ in range(20))
    diagram = build_diagram(process, highlights=Highlights(findings=many))
    assert len(diagram.notes) == 8
    assert diagram.notes[-1] == "\u2026 and 13 more (run procflow lint)"


def test_the_analysis_note_says_why_lanes_are_not_shaded():
    process = load_text(BROKEN, "broken.yaml")
    diagram = build_diagram(process, highlights=Highlights(analysis_note="no arrivals"))
    assert diagram.notes == ("no arrivals",)
    assert all(lane.level is None for lane in diagram.lanes)


def test_flow_order_is_a_topological_order_of_the_forward_edges(customer_service):
    order = flow_order(customer_service)
    assert order["intake"] == 0
    for source, transition in customer_service.edges():
        if not transition.feedback:
            assert order[source] < order[transition.to]


def test_flow_order_handles_a_thousand_steps_without_recursion():
    lines = ["process: long", "start: s0", "steps:"]
    for i in range(1500):
        lines += [f"  s{i}:", f"    next: s{i + 1}"]
    lines += ["  s1500:", "    end: true"]
    process = load_text("\n".join(lines) + "\n", "long.yaml")
    order = flow_order(process)
    assert order["s0"] == 0
    assert order["s1500"] == 1500
