"""Diagrams of processes with attributes: conditions on edges, the priority in the legend."""

from __future__ import annotations

from pathlib import Path

from procflow._render.mermaid import to_mermaid
from procflow._render.spec import build_diagram
from procflow.loader import load_text

PROCESS = """
process: payments
owners: {clerk: {capacity: 2}}
attributes:
  severity: {p1: 5%, p2: 95%}
  amount: lognormal(2000, 3000)
priority: {by: severity, preemptive: true}
start: approve
steps:
  approve:
    owner: clerk
    duration: {by: severity, p1: 2m, else: 6m}
    on:
      auto: {to: paid, when: "amount < 1000"}
      manager: {to: paid, when: "amount >= 1000 and amount < 10000 and severity != 'p1'"}
      cfo: {to: paid}
  paid: {end: true}
"""


def test_conditions_are_on_the_edges_shortened_with_the_whole_text_in_the_tooltip() -> None:
    diagram = build_diagram(load_text(PROCESS))
    edges = {e.caption: e for e in diagram.edges if e.caption}
    assert "auto [amount < 1000]" in edges
    long = next(e for c, e in edges.items() if c.startswith("manager"))
    assert long.caption is not None
    assert long.caption.endswith("\u2026]")
    assert len(long.caption) < len(
        "manager [amount >= 1000 and amount < 10000 and severity != 'p1']"
    )
    assert "when amount >= 1000 and amount < 10000 and severity != 'p1'" in long.tooltip
    assert "cfo" in edges  # the default carries no condition


def test_the_legend_names_the_priority_and_explains_conditions() -> None:
    diagram = build_diagram(load_text(PROCESS))
    assert diagram.legend_lines == (
        "priority: severity p1 > p2 (preemptive)",
        "[condition] on an edge: taken when it holds, first in file order",
    )
    node = next(n for n in diagram.nodes if n.id == "approve")
    assert node.detail == "by severity"
    mermaid = to_mermaid(diagram)
    assert 'legend_line0["priority: severity p1 #62; p2 (preemptive)"]' in mermaid


def test_a_plain_process_has_no_legend_lines() -> None:
    text = (Path(__file__).parents[1] / "processes" / "customer-service.yaml").read_text()
    assert build_diagram(load_text(text)).legend_lines == ()
