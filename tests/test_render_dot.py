"""The DOT back-end: structure, escaping, stability, golden files, and dot itself.

Golden files: ``tests/fixtures/render/<name>.dot`` is the DOT of the frozen
copy ``tests/fixtures/render/<name>.yaml``. After an intended change to the
drawing, regenerate them with

    PROCFLOW_REGEN_GOLDEN=1 .venv/bin/pytest tests/test_render_dot.py

and review the diff like any other change.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from helpers import PROCESSES
from procflow._render import diagram, to_dot
from procflow._render.dot import html, quote
from procflow._render.spec import Highlights, build_diagram
from procflow.findings import Finding, Severity
from procflow.loader import load, load_text

FIXTURES = Path(__file__).parent / "fixtures" / "render"
GOLDEN = ("customer-service", "employee-onboarding")
EXAMPLES = sorted((PROCESSES).glob("*.yaml"))

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed (make setup installs it)"
)


def dot_of(path: Path, **options: bool) -> str:
    return to_dot(diagram(load(path), **options))


def run_dot(source: str, fmt: str) -> str:
    done = subprocess.run(
        ["dot", f"-T{fmt}"], input=source.encode(), capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def plain_counts(source: str) -> tuple[int, int]:
    """(nodes, edges) as dot itself parsed them."""
    lines = run_dot(source, "plain").splitlines()
    return (
        sum(line.startswith("node ") for line in lines),
        sum(line.startswith("edge ") for line in lines),
    )


# --------------------------------------------------------------------------
# escaping


def test_quote_escapes_what_dot_would_interpret():
    assert quote("plain") == '"plain"'
    assert quote('say "hi"') == '"say \\"hi\\""'
    assert quote("a\\Nb") == '"a\\\\Nb"'  # \N would become the node name
    assert quote("trailing\\") == '"trailing\\\\"'  # must not escape the closing quote
    assert quote("two\nlines") == '"two\\nlines"'


def test_html_escapes_markup():
    assert html("<b>&\"'</b>") == "&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;"


HOSTILE = """\
process: hostile
title: 'Evil <B>bold</B> "quote" \\N {x} -> y & z'
owners:
  clerk:
    title: '<TABLE> "} subgraph cluster_x { a -> b'
    capacity: 2
start: first
steps:
  first:
    title: "</B><FONT COLOR='red'>x</FONT>\\nnew line \\\\ back\\\\slash ] ; -> b"
    description: 'desc "with" quotes \\ and <html> -> edges'
    owner: clerk
    duration: 5m
    on:
      'go': {to: second, description: '"; b -> c [color=red'}
  second:
    title: '"} -> injected; { "'
    owner: clerk
    duration: 5m
    next: done
  done:
    title: '\\G \\E \\T \\H \\L \\l \\r'
    end: true
"""

BENIGN = re.sub(r"(title|description): .*", r"\1: plain", HOSTILE)
BENIGN = BENIGN.replace("{to: second, description: plain", "{to: second}")


def test_benign_twin_is_a_valid_process():
    load_text(BENIGN, "benign.yaml")


def test_hostile_text_cannot_change_the_dot_structure():
    hostile = to_dot(build_diagram(load_text(HOSTILE, "hostile.yaml")))
    benign = to_dot(build_diagram(load_text(BENIGN, "benign.yaml")))
    statements = re.compile(r"^\s*(\"[a-z_-]+\"|_start) (->|\[)|^\s*subgraph ", re.M)
    assert len(statements.findall(hostile)) == len(statements.findall(benign))
    # markup in titles is escaped in HTML labels, and quoted in tooltips
    assert "<B>Evil &lt;B&gt;bold&lt;/B&gt; &quot;quote&quot; \\\\N" in hostile
    assert 'tooltip="Evil <B>bold</B> \\"quote\\" \\\\\\\\N {x} -> y & z"' in hostile


@needs_dot
def test_hostile_text_renders_as_text_and_dot_parses_it():
    hostile = to_dot(build_diagram(load_text(HOSTILE, "hostile.yaml")))
    benign = to_dot(build_diagram(load_text(BENIGN, "benign.yaml")))
    assert plain_counts(hostile) == plain_counts(benign)
    svg = run_dot(hostile, "svg")
    assert "Evil &lt;B&gt;bold&lt;/B&gt; &quot;quote&quot; \\N {x} &#45;&gt; y &amp; z" in svg
    assert "&lt;/B&gt;&lt;FONT" in svg  # wrapped over two lines, but text
    assert "COLOR=&#39;red&#39;&gt;x&lt;/FONT&gt;" in svg
    assert "injected" in svg
    assert 'fill="red"' not in svg
    # the escString sequences in the end step's title stay literal
    assert "\\G \\E \\T \\H \\L \\l \\r" in svg
    # tooltips are unescaped twice by Graphviz: \N stays \N there too, not the node's name
    tip = 'xlink:title="Evil &lt;B&gt;bold&lt;/B&gt; &quot;quote&quot; \\N {x} &#45;&gt; y &amp; z"'
    assert tip in svg


@needs_dot
def test_characters_xml_forbids_do_not_break_the_svg() -> None:
    """U+FFFE, U+FFFF and control characters (YAML escapes make them) become U+FFFD."""
    text = (
        "process: odd\nstart: first\nsteps:\n"
        '  first: {title: "x\\uFFFEy\\x01z\\uFFFF", duration: 5m, next: done}\n'
        "  done: {end: true}\n"
    )
    assert "x\ufffey" in (load_text(text, "odd.yaml").steps["first"].title or "")
    svg = run_dot(to_dot(build_diagram(load_text(text, "odd.yaml"))), "svg")
    assert "x\ufffdy" in svg
    assert "z\ufffd" in svg


# --------------------------------------------------------------------------
# structure


def test_graph_is_left_to_right_with_lanes_and_a_start_marker():
    source = dot_of(FIXTURES / "customer-service.yaml")
    assert source.startswith("// customer-service: generated by procflow diagram")
    assert 'digraph "customer-service" {' in source
    assert "rankdir=LR" in source
    assert "newrank=true" in source
    lanes = re.findall(r'subgraph "cluster_([a-z0-9_-]+)" \{', source)
    assert lanes == ["support-agent", "tier2", "customer"]
    assert "<B>support-agent</B>" in source
    assert "capacity 5" in source
    assert '_start -> "intake" [label="8/h"' in source


def lane_block(source: str, lane: str) -> str:
    start = source.index(f'subgraph "cluster_{lane}" {{')
    return source[start : source.index("\n  }", start)]


def test_external_lanes_are_dashed_and_say_so():
    source = dot_of(FIXTURES / "customer-service.yaml")
    customer = lane_block(source, "customer")
    assert 'style="dashed,rounded,filled"' in customer
    assert "external · no queue" in customer
    assert '"confirm" [' in customer
    assert "dashed" not in lane_block(source, "tier2").split("\n")[1]


def test_end_steps_are_double_boxes_and_start_is_bold():
    source = dot_of(FIXTURES / "customer-service.yaml")
    closed = next(line for line in source.splitlines() if line.strip().startswith('"closed" ['))
    assert "peripheries=2" in closed
    intake = next(line for line in source.splitlines() if line.strip().startswith('"intake" ['))
    assert "penwidth=2.5" in intake


def test_loops_are_dashed_coloured_and_reversed():
    source = dot_of(FIXTURES / "customer-service.yaml")
    loop = next(line for line in source.splitlines() if "reopened" in line and "->" in line)
    assert loop.strip().startswith('"triage" -> "confirm"')  # written with the flow ...
    assert "dir=back" in loop  # ... and drawn pointing back
    assert "style=dashed" in loop
    assert 'color="#c05621"' in loop
    assert 'label="reopened 15% ≤3×"' in loop
    assert 'tooltip="confirm → triage: reopened 15% ≤3×"' in loop
    forward = [line for line in source.splitlines() if "->" in line and "dir=back" not in line]
    assert not any("dashed" in line for line in forward)


def test_paired_loops_leave_from_below():
    source = dot_of(FIXTURES / "employee-onboarding.yaml")
    loop = next(line for line in source.splitlines() if "incomplete" in line)
    assert loop.strip().startswith('"collect-documents" -> "verify-documents"')
    assert "tailport=s, headport=s" in loop


def test_a_feedback_edge_that_points_forward_does_not_constrain_the_layout():
    text = """\
process: forward-feedback
start: a
steps:
  a:
    on:
      skip: {to: c, feedback: true, max: 1, p: 0.5}
      go: {to: b, p: 0.5}
  b: {next: c}
  c: {end: true}
"""
    source = to_dot(build_diagram(load_text(text, "f.yaml")))
    edge = next(line for line in source.splitlines() if "skip" in line)
    assert edge.strip().startswith('"a" -> "c"')
    assert "constraint=false" in edge
    assert "dir=back" not in edge


def test_no_lanes_means_no_clusters_but_the_owner_on_each_step():
    source = dot_of(FIXTURES / "customer-service.yaml", lanes=False)
    assert 'subgraph "cluster_' not in source
    assert "support-agent · exp 6m" in source


def test_legend_explains_what_is_drawn_and_can_be_left_out():
    source = dot_of(FIXTURES / "customer-service.yaml")
    assert "<B>Legend</B>" in source
    assert "feedback loop (rework)" in source
    assert "external owner" in source
    assert "missing step" not in source  # nothing is missing here
    bare = dot_of(FIXTURES / "customer-service.yaml", legend=False)
    assert "Legend" not in bare
    assert "<B>Notes</B>" not in bare


def test_highlight_marks_steps_and_lanes_with_badges():
    process = load(FIXTURES / "customer-service.yaml")
    highlights = Highlights(
        findings=(
            Finding("f", 1, 1, "PF402", "missing-duration", Severity.WARNING, "m", "p", "triage"),
            Finding("f", 1, 1, "PF101", "unknown-target", Severity.ERROR, "m", "p", "triage"),
            Finding("f", 1, 1, "PF204", "spof", Severity.WARNING, "m", "p", "tier2"),
        ),
        utilization={"support-agent": 0.95, "tier2": 0.4},
        bottleneck="support-agent",
    )
    source = to_dot(build_diagram(process, highlights=highlights))
    triage = next(line for line in source.splitlines() if line.strip().startswith('"triage" ['))
    assert "<B>PF101 PF402</B>" in triage
    assert 'BGCOLOR="#c53030"' in triage  # error badge: the worst severity wins
    assert 'fillcolor="#fde2e2"' in triage
    agent = lane_block(source, "support-agent")
    assert 'fillcolor="#fcd9b6"' in agent
    assert 'color="#9b2c2c"' in agent
    assert "penwidth=3" in agent
    assert "95% busy · BOTTLENECK" in agent
    tier2 = lane_block(source, "tier2")
    assert "<B>PF204</B>" in tier2
    assert 'fillcolor="#e6f6ec"' in tier2
    assert "bottleneck: the busiest owner" in source


def test_highlight_through_lint_and_analyze():
    """End to end: the real linter and the real analytic model feed the marks."""
    source = dot_of(FIXTURES / "customer-service.yaml", highlight=True)
    assert "BOTTLENECK" in source
    assert "% busy" in source


# --------------------------------------------------------------------------
# stability and golden files


def test_same_input_gives_identical_dot():
    path = FIXTURES / "customer-service.yaml"
    assert dot_of(path) == dot_of(path)
    assert dot_of(path, highlight=True) == dot_of(path, highlight=True)


def test_identical_across_processes_with_different_hash_seeds():
    code = (
        "import sys, procflow._render as r, procflow.loader as l;"
        "sys.stdout.write(r.to_dot(r.diagram(l.load(sys.argv[1]), highlight=True)))"
    )
    outputs = set()
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code, str(FIXTURES / "employee-onboarding.yaml")],
            capture_output=True,
            env=env,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_dot(name):
    actual = dot_of(FIXTURES / f"{name}.yaml")
    golden = FIXTURES / f"{name}.dot"
    if os.environ.get("PROCFLOW_REGEN_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8"), (
        f"DOT of {name} changed; if intended, regenerate with "
        "PROCFLOW_REGEN_GOLDEN=1 pytest tests/test_render_dot.py"
    )


# --------------------------------------------------------------------------
# dot renders every example


@needs_dot
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_dot_renders_every_example_with_every_step(path):
    process = load(path)
    svg = run_dot(to_dot(diagram(process, highlight=True)), "svg")
    assert svg.lstrip().startswith("<?xml")
    titles = {unescape(t) for t in re.findall(r"<title>([^<]*)</title>", svg)}
    for step_id in process.steps:
        assert step_id in titles, f"step {step_id!r} missing from the SVG"


def test_examples_exist():
    assert len(EXAMPLES) >= 5
