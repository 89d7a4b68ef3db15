"""Diagrams of forks and joins: parallel gateways in the spec, DOT/SVG and Mermaid."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from procflow._render import to_dot, to_mermaid
from procflow._render.palette import Key
from procflow._render.spec import build_diagram, flow_order, gateway_id
from procflow.loader import load
from procflow.model import Process

FORKS = Path(__file__).parent / "fixtures" / "forks2"


@pytest.fixture
def hire() -> Process:
    return load(FORKS / "hire.yaml")


@pytest.fixture
def race() -> Process:
    return load(FORKS / "race.yaml")


def test_a_fork_and_a_join_are_gateway_nodes_in_the_lanes_of_their_steps(hire: Process) -> None:
    diagram = build_diagram(hire)
    gateways = {n.id: n for n in diagram.nodes if n.gateway is not None}
    assert {k: (n.gateway, n.lane) for k, n in gateways.items()} == {
        "approve-hire.fork": ("fork", "hiring-manager"),
        "ready.join": ("join", "hr"),
    }
    lanes = {lane.id: lane.nodes for lane in diagram.lanes}
    assert lanes["hiring-manager"] == ("approve-hire", "approve-hire.fork")
    assert lanes["hr"] == ("hr-paperwork", "ready.join", "ready")
    assert "it-setup, hr-paperwork start at once" in gateways["approve-hire.fork"].tooltip


def test_arrows_run_through_the_gateways(hire: Process) -> None:
    arrows = [(e.source, e.target, e.caption) for e in build_diagram(hire).edges]
    assert arrows == [
        ("approve-hire", "approve-hire.fork", None),
        ("approve-hire.fork", "it-setup", None),
        ("approve-hire.fork", "hr-paperwork", None),
        ("it-setup", "ready.join", None),
        ("hr-paperwork", "ready.join", "signed 90%"),
        ("hr-paperwork", "hr-paperwork", "redo 10% \u22642\u00d7"),
        ("ready.join", "ready", None),
        ("ready", "first-day", None),
    ]
    order = flow_order(hire)
    assert order["approve-hire"] < order["approve-hire.fork"] < order["it-setup"]
    assert order["it-setup"] < order["ready.join"] < order["ready"]


def test_the_legend_explains_each_kind_of_gateway_in_use(hire: Process, race: Process) -> None:
    assert {Key.FORK, Key.JOIN} <= set(build_diagram(hire).legend)
    assert Key.JOIN_FIRST not in build_diagram(hire).legend
    legend = build_diagram(race).legend
    assert {Key.FORK, Key.JOIN, Key.JOIN_FIRST} <= set(legend)
    first = [e for e in build_diagram(race).edges if e.source == gateway_id("answered", "first")]
    assert [(e.target, e.caption) for e in first] == [("answered", "first to arrive")]


def test_dot_draws_a_diamond_with_a_plus_or_an_asterisk(race: Process) -> None:
    dot = to_dot(build_diagram(race))
    diamonds = re.findall(r'^\s*"([^"]+)" \[shape=diamond, label=<<FONT[^>]*><B>(.)</B>', dot, re.M)
    assert diamonds == [
        ("ask.fork", "+"),
        ("checks.fork", "+"),
        ("checked.join", "+"),
        ("answered.first", "*"),
    ]
    assert '"ask.fork" -> "reply"' in dot
    assert '"timeout" -> "answered.first"' in dot


def test_mermaid_draws_fork_and_join_bars(hire: Process) -> None:
    source = to_mermaid(build_diagram(hire))
    assert "    fork_approve_dhire@{ shape: fork }" in source
    assert "    join_ready@{ shape: join }" in source
    assert "  fork_approve_dhire --> s_it_dsetup" in source
    assert '  s_hr_dpaperwork -->|"signed 90%"| join_ready' in source
    # the feedback loop keeps its style: its index counts the gateway arrows
    assert "linkStyle 6 stroke:#c05621" in source


def test_a_process_without_forks_draws_no_gateway() -> None:
    diagram = build_diagram(load(FORKS.parent / "render" / "customer-service.yaml"))
    assert all(n.gateway is None for n in diagram.nodes)
    assert not {Key.FORK, Key.JOIN, Key.JOIN_FIRST} & set(diagram.legend)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_dot_lays_the_gateways_out_in_svg(race: Process, tmp_path: Path) -> None:
    from procflow._render import render

    svg = render(race, tmp_path / "race.svg").read_text()
    assert svg.count('<polygon fill="#fffbea"') == 4  # four diamonds
    assert "fork after ask: reply, timeout start at once" in svg


def test_a_fork_or_join_step_that_does_no_work_is_drawn_as_its_gateway_alone() -> None:
    from procflow.loader import load_text

    process = load_text(
        """
process: g
owners: {x: {capacity: 1}, wait: {external: true}}
start: a
steps:
  a: {owner: x, duration: 1m, next: split}
  split: {owner: wait, duration: 0s, parallel: [b, c]}
  b: {owner: x, duration: 1m, next: meet}
  c: {owner: x, duration: 1m, next: meet}
  meet: {owner: wait, duration: 0s, join: all, next: done}
  done: {end: true}
""",
        "g.yaml",
    )
    diagram = build_diagram(process)
    gateways = {n.id: n.gateway for n in diagram.nodes if n.gateway}
    assert gateways == {"split": "fork", "meet": "join"}
    arrows = [(e.source, e.target) for e in diagram.edges]
    assert arrows == [
        ("a", "split"),
        ("split", "b"),
        ("split", "c"),
        ("b", "meet"),
        ("c", "meet"),
        ("meet", "done"),
    ]
    assert '"split" [shape=diamond' in to_dot(diagram)
