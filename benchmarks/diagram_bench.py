"""How fast is DOT generation for a 1,000-step process, and how long does ``dot`` take?

The workload is one generated process of ``--steps`` steps (default 1,000)
in stages of ten: 12 staffed owners and an external one (so 13 swimlanes),
distributions of several kinds, a two-way branch in every stage and a
feedback loop back to the stage's first step (bounded in two stages of
three), plus a long loop back to the start every hundred steps.

Timed, each the best of ``--repeat`` runs:

* ``spec``: :func:`procflow.render.build_diagram` -- lanes, labels, the
  flow order that finds the loops;
* ``dot text``: :func:`procflow.render.to_dot` on that spec;
* ``spec + dot text``: the two together, what ``procflow diagram -f dot``
  does after loading -- target under 200 ms;
* ``mermaid text``: :func:`procflow.render.to_mermaid` on the same spec;
* peer, ``graphviz.Digraph``: the same nodes, clusters and edges (labels
  and attributes as plain strings) built with the graphviz package and
  turned into source, the usual way Python tools write DOT;
* ``dot -Tsvg`` layout: Graphviz itself on the generated source, run once
  (``--layout-timeout`` seconds at most; ``--no-layout`` skips it). This is
  what a large diagram really costs; it is reported apart because it is
  Graphviz's time, not procflow's.

Run: ``python benchmarks/diagram_bench.py [--repeat 7] [--steps 1000]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from collections.abc import Callable

import _timing as timing
import graphviz

from procflow._render import build_diagram, to_dot, to_mermaid
from procflow._render.spec import Diagram
from procflow.loader import load_text
from procflow.model import Process

DURATIONS = (
    "exponential(6m)",
    "lognormal(4m, 2m)",
    "triangular(20m, 40m, 90m)",
    "uniform(2m, 10m)",
    "5m",
    "gamma(10m, 4m)",
)
STAGE = 10


def process_text(steps: int, owners: int = 12) -> str:
    """A process of ``steps`` steps in stages of ten, each with a branch and a rework loop."""
    roles = [f"team-{k:02d}" for k in range(owners)]
    out = ["process: diagram-bench", "title: Generated benchmark process", "owners:"]
    out += [f"  {role}: {{capacity: {2 + k % 5}, title: Team {k}}}" for k, role in enumerate(roles)]
    out += ["  customer: {external: true}", "arrivals: {rate: 4/h}", "start: s0000", "steps:"]
    last = steps - 1
    for i in range(steps):
        name = f"s{i:04d}"
        if i == last:
            out += [f"  {name}:", "    title: Done", "    end: true"]
            continue
        owner = "customer" if i % 37 == 5 else roles[(i // 3) % owners]
        out += [
            f"  {name}:",
            f"    title: Step {i} of the generated process",
            f"    owner: {owner}",
            f"    duration: {DURATIONS[i % len(DURATIONS)]}",
        ]
        nxt = f"s{i + 1:04d}"
        stage_start = i - i % STAGE
        if i % STAGE == STAGE - 1 and i > stage_start:
            bound = "" if (i // STAGE) % 3 == 2 else ", max: 3"
            out += [
                "    on:",
                f"      ok: {{to: {nxt}, p: 0.8}}",
                f"      rework: {{to: s{stage_start:04d}, p: 0.2, feedback: true{bound}}}",
            ]
        elif i % 100 == 50:
            out += [
                "    on:",
                f"      ok: {{to: {nxt}, p: 0.95}}",
                "      restart: {to: s0000, p: 0.05, feedback: true, max: 1}",
            ]
        elif i % STAGE == 3 and i + 3 < last:
            out += [
                "    on:",
                f"      simple: {{to: {nxt}, p: 0.7}}",
                f"      complex: {{to: s{i + 2:04d}, p: 0.3}}",
            ]
        else:
            out.append(f"    next: {nxt}")
    return "\n".join(out) + "\n"


def best_of(repeat: int, action: Callable[[], object]) -> float:
    """Best wall time of ``repeat`` runs, in seconds (garbage collection off while timing)."""
    return timing.best_of(repeat, action, pause_gc=True)


def with_graphviz_package(diagram: Diagram) -> str:
    """The peer: the same graph through ``graphviz.Digraph`` (plain-string labels)."""
    graph = graphviz.Digraph(diagram.id, graph_attr={"rankdir": "LR", "newrank": "true"})
    graph.attr("node", shape="box", style="rounded,filled", fontname="Helvetica")
    for lane in diagram.lanes:
        with graph.subgraph(name=f"cluster_{lane.id}") as cluster:
            cluster.attr(label=f"{lane.title}\n{lane.caption}", style="rounded,filled")
            for node in diagram.lane_nodes(lane):
                cluster.node(node.id, label="\n".join([*node.title, node.detail or ""]))
    for node in diagram.free_nodes:
        graph.node(node.id, label="\n".join(node.title))
    for edge in diagram.edges:
        attrs = {"style": "dashed", "dir": "back"} if edge.back else {}
        if edge.back:
            graph.edge(edge.target, edge.source, label=edge.caption or "", **attrs)
        else:
            graph.edge(edge.source, edge.target, label=edge.caption or "")
    return graph.source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--layout-timeout", type=float, default=300.0)
    parser.add_argument("--no-layout", action="store_true")
    args = parser.parse_args()

    process: Process = load_text(process_text(args.steps), "diagram-bench.yaml")
    diagram = build_diagram(process)
    source = to_dot(diagram)
    loops = sum(edge.back for edge in diagram.edges)
    print(
        f"process: {len(process.steps)} steps, {len(diagram.edges)} transitions "
        f"({loops} loops), {len(diagram.lanes)} lanes; DOT {len(source) / 1024:.0f} KiB"
    )

    spec = best_of(args.repeat, lambda: build_diagram(process))
    text = best_of(args.repeat, lambda: to_dot(diagram))
    both = best_of(args.repeat, lambda: to_dot(build_diagram(process)))
    mermaid = best_of(args.repeat, lambda: to_mermaid(diagram))
    peer = best_of(args.repeat, lambda: with_graphviz_package(diagram))
    target = 0.200
    rows = [
        ("spec (build_diagram)", spec),
        ("dot text (to_dot)", text),
        ("spec + dot text", both),
        ("mermaid text (to_mermaid)", mermaid),
        ("peer: graphviz.Digraph + .source", peer),
    ]
    print(f"best of {args.repeat}:")
    for name, seconds in rows:
        print(f"  {name:<34} {seconds * 1000:8.1f} ms")
    verdict = "OK" if both < target else "SLOWER THAN TARGET"
    print(f"  spec + dot text vs target {target * 1000:.0f} ms: {verdict}")
    print(f"  to_dot vs graphviz.Digraph: {peer / text:.1f}x faster")

    if args.no_layout:
        return
    if shutil.which("dot") is None:
        print("dot layout: skipped (Graphviz's dot is not installed)")
        return
    started = time.perf_counter()
    try:
        done = subprocess.run(
            ["dot", "-Tsvg"],
            input=source.encode(),
            capture_output=True,
            timeout=args.layout_timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        print(f"dot -Tsvg layout: did not finish in {args.layout_timeout:.0f} s")
        return
    elapsed = time.perf_counter() - started
    status = "ok" if done.returncode == 0 else f"failed ({done.returncode})"
    print(
        f"dot -Tsvg layout (Graphviz, one run): {elapsed:.2f} s, {status}, "
        f"SVG {len(done.stdout) / 1024:.0f} KiB"
    )


if __name__ == "__main__":
    main()
