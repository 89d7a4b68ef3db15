"""The Mermaid back-end: structure, ids, escaping and the Markdown wrapper."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from procflow._render import diagram, to_markdown, to_mermaid
from procflow._render.mermaid import mermaid_id, text
from procflow._render.spec import Highlights, build_diagram
from procflow.loader import load, load_text

FIXTURES = Path(__file__).parent / "fixtures" / "render"


@pytest.fixture(scope="module")
def source() -> str:
    return to_mermaid(diagram(load(FIXTURES / "customer-service.yaml")))


def test_flowchart_with_a_title_and_one_subgraph_per_lane(source):
    lines = source.splitlines()
    assert lines[:4] == ["---", 'title: "Customer service tickets"', "---", "flowchart LR"]
    lanes = re.findall(r"^  subgraph (lane_\w+)\[", source, re.M)
    assert lanes == ["lane_support_dagent", "lane_tier2", "lane_customer"]
    assert source.count("\n  end\n") == 5  # three lanes, the notes and the legend


def test_steps_have_shapes_and_durations(source):
    assert '    s_intake(["<b>intake</b><br/><small>exp 6m</small>"])' in source
    assert '    s_triage("<b>triage</b><br/><small>lognormal(4m, 2m)</small>")' in source
    assert '  s_closed((("<b>closed</b>")))' in source
    assert "  class s_intake start" in source
    assert "  class s_closed endstep" in source


def test_edges_carry_captions_and_loops_are_dotted_and_coloured(source):
    edges = re.findall(r"^  (\S+) (-->|-\.->|==>)(\|\"[^\"]*\"\|)? (\S+)$", source, re.M)
    assert len(edges) == 8  # the arrival arrow and seven transitions
    assert ("pf_start", "==>", '|"8/h"|', "s_intake") in edges
    assert ("s_triage", "-->", '|"simple 70%"|', "s_resolve") in edges
    assert ("s_intake", "-->", "", "s_triage") in edges
    assert ("s_confirm", "-.->", '|"reopened 15% ≤3×"|', "s_triage") in edges
    loop_index = [i for i, edge in enumerate(edges) if edge[1] == "-.->"]
    assert loop_index == [7]
    assert "  linkStyle 7 stroke:#c05621,stroke-width:2px,color:#c05621" in source


def test_external_lanes_are_dashed(source):
    assert (
        "  style lane_customer fill:#ffffff,stroke:#718096,stroke-width:1px,"
        "stroke-dasharray:5 5" in source
    )


def test_legend_and_goals(source):
    assert '  subgraph pf_legend["Legend"]' in source
    assert "legend_feedback" in source
    assert "goal – resolve-within-a-day: p90 cycle_time #60;= 24h by 2027-03-31" in source


def test_ids_are_injective_and_never_keywords():
    names = ["end", "a-b", "a_b", "a_db", "a__b", "a-_b", "a_-b", "graph"]
    ids = [mermaid_id("s", name) for name in names]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"s_[a-z0-9_]+", i) for i in ids)
    assert mermaid_id("s", "end") == "s_end"


def test_text_escapes_everything_mermaid_would_read():
    escaped = text('"quotes" #1 & <b>html</b> `tick` |pipe|\nline')
    assert escaped == (
        "#34;quotes#34; #35;1 #38; #60;b#62;html#60;/b#62; #96;tick#96; #124;pipe#124;<br/>line"
    )


HOSTILE = """\
process: end
title: 'x"] --> injected["y'
owners:
  end:
    title: 'owner"] end subgraph z["'
start: end
steps:
  end:
    title: 'a"]; end; b["<script>alert(1)</script>'
    owner: end
    duration: 5m
    on:
      'go': {to: o-x}
  o-x:
    title: 'o-->x |pipe| %% not a comment'
    owner: end
    duration: 5m
    next: done
  done:
    end: true
"""


def statements(source: str) -> list[str]:
    """Lines outside quoted strings: what Mermaid parses as structure."""
    return [re.sub(r'"[^"]*"', '""', line) for line in source.splitlines()]


def test_hostile_text_cannot_add_nodes_or_edges():
    process = load_text(HOSTILE, "hostile.yaml")
    hostile = to_mermaid(build_diagram(process))
    benign = to_mermaid(
        build_diagram(load_text(re.sub(r"title: .*", "title: plain", HOSTILE), "benign.yaml"))
    )
    assert len(statements(hostile)) == len(statements(benign))
    for line in statements(hostile)[4:]:
        assert "<script>" not in line
    assert "#60;script#62;" in hostile
    # every quoted label is balanced: an even number of quotes on every line
    assert all(line.count('"') % 2 == 0 for line in hostile.splitlines()[4:])
    assert '  s_end -->|"go"| s_o_dx' in hostile


def test_highlight_classes_and_lane_shading():
    process = load(FIXTURES / "customer-service.yaml")
    highlights = Highlights(utilization={"support-agent": 1.2}, bottleneck="support-agent")
    source = to_mermaid(build_diagram(process, highlights=highlights))
    assert "style lane_support_dagent fill:#f9c6c6,stroke:#9b2c2c,stroke-width:4px" in source
    assert "capacity 5 · 120% busy · BOTTLENECK" in source


def test_markdown_wraps_the_diagram_in_a_mermaid_fence():
    process = load(FIXTURES / "customer-service.yaml")
    page = to_markdown(build_diagram(process))
    assert page.startswith("# Customer service tickets\n\n```mermaid\n---\n")
    assert page.endswith("```\n")


def test_mermaid_is_stable():
    process = load(FIXTURES / "employee-onboarding.yaml")
    assert to_mermaid(diagram(process, highlight=True)) == to_mermaid(
        diagram(process, highlight=True)
    )


@pytest.mark.parametrize(
    ("title", "forbidden"),
    [
        ("Team A %%{init: {'theme':'dark'}}%%", "%%"),
        ("%%{init:{}}%%x", "%%"),
        ("area $$x^2$$", "$$"),
        ("Goal style a:b<c;", "style a:"),
        ("back\\nslash", "\\n"),
    ],
)
def test_titles_cannot_carry_mermaid_directives_or_markup(title: str, forbidden: str) -> None:
    """``%%{init}%%`` restyles the whole diagram, ``$$`` is KaTeX: in a title they are text."""
    assert forbidden not in text(title)
    assert "#" in text(title)
