"""Coordinates for the BPMN diagram (BPMNDI): Graphviz orders, lanes band.

``dot`` lays out the flow graph left to right (feedback edges do not
constrain the ranks, so rework loops run backwards as people draw them);
its x coordinates place every node. Lanes are horizontal bands of the pool
in owner order: in its lane, each node keeps dot's top-to-bottom order and
takes the first row where it overlaps nothing, so a lane is as tall as it
needs. Sequence flows are routed orthogonally; of a few candidate routes
(forwards: turning near the source, midway or near the target; backwards:
below or above both ends) the one through the fewest other nodes is taken.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from procflow._render.layout import run_dot_plain

SCALE = 72.0
"""Pixels per inch of dot's coordinates (BPMN tools draw at 1 unit = 1 pixel)."""
SIZES = {"task": (100.0, 80.0), "event": (36.0, 36.0), "gateway": (50.0, 50.0)}
ROW = 120.0
EMPTY = 60.0
"""Height of a lane without nodes (an owner who only answers for the process or a goal)."""
LABEL = 30.0
LEFT = 160.0
TOP = 80.0


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass
class Layout:
    nodes: dict[str, Box] = field(default_factory=dict)
    lanes: dict[str, Box] = field(default_factory=dict)
    pool: Box = field(default_factory=lambda: Box(LEFT, TOP, 0, 0))
    edges: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def _dot_source(
    nodes: list[tuple[str, str]], edges: list[tuple[str, str, str, bool]]
) -> tuple[str, dict[str, str]]:
    names = {ident: f"n{index}" for index, (ident, _kind) in enumerate(nodes)}
    lines = [
        "digraph g {",
        "rankdir=LR; nodesep=0.4; ranksep=0.8;",
        "node [shape=box, fixedsize=true];",
    ]
    for ident, kind in nodes:
        w, h = SIZES[kind]
        lines.append(f'{names[ident]} [width={w / SCALE:.4f}, height={h / SCALE:.4f}, label=""];')
    for _flow, source, target, back in edges:
        extra = " [constraint=false]" if back else ""
        lines.append(f"{names[source]} -> {names[target]}{extra};")
    lines.append("}")
    return "\n".join(lines), names


def _positions(plain: str, names: dict[str, str]) -> dict[str, tuple[float, float]]:
    by_name = {name: ident for ident, name in names.items()}
    out: dict[str, tuple[float, float]] = {}
    for line in plain.splitlines():
        parts = line.split()
        if parts and parts[0] == "node" and parts[1] in by_name:
            out[by_name[parts[1]]] = (float(parts[2]) * SCALE, -float(parts[3]) * SCALE)
    return out


def lay_out(
    nodes: list[tuple[str, str, str]],
    edges: list[tuple[str, str, str, bool]],
    lanes: list[str],
) -> Layout:
    """Place ``nodes`` (id, kind, lane) in ``lanes`` and route ``edges`` (id, from, to, back)."""
    source, names = _dot_source([(n, k) for n, k, _ in nodes], edges)
    at = _positions(run_dot_plain(source), names)
    kinds = {n: k for n, k, _ in nodes}
    layout = Layout()
    width = max((at[n][0] + SIZES[kinds[n]][0] / 2 for n in at), default=0.0) + 2 * LABEL + 60
    y = TOP
    for lane in lanes:
        members = sorted(
            (n for n, _, where in nodes if where == lane), key=lambda n: (at[n][1], at[n][0])
        )
        rows: list[list[tuple[float, float]]] = []
        for ident in members:
            x, _ = at[ident]
            w = SIZES[kinds[ident]][0]
            span = (x - w / 2 - 10, x + w / 2 + 10)
            row = next(
                (
                    i
                    for i, taken in enumerate(rows)
                    if all(span[1] < a or span[0] > b for a, b in taken)
                ),
                None,
            )
            if row is None:
                rows.append([])
                row = len(rows) - 1
            rows[row].append(span)
            bw, bh = SIZES[kinds[ident]]
            cx = LEFT + 2 * LABEL + 30 + x
            cy = y + row * ROW + ROW / 2
            layout.nodes[ident] = Box(cx - bw / 2, cy - bh / 2, bw, bh)
        height = len(rows) * ROW if rows else EMPTY
        layout.lanes[lane] = Box(LEFT + LABEL, y, width - LABEL, height)
        y += height
    layout.pool = Box(LEFT, TOP, width, y - TOP)
    for flow, src, dst, _back in edges:
        others = [box for ident, box in layout.nodes.items() if ident not in (src, dst)]
        layout.edges[flow] = _route(layout.nodes[src], layout.nodes[dst], others)
    return layout


def _crossings(points: list[tuple[float, float]], boxes: list[Box]) -> int:
    """How many node boxes an orthogonal polyline passes through."""
    count = 0
    for box in boxes:
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            low_x, high_x, low_y, high_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
            if (
                low_x < box.x + box.w
                and high_x > box.x
                and low_y < box.y + box.h
                and high_y > box.y
            ):
                count += 1
                break
    return count


def _route(a: Box, b: Box, others: list[Box]) -> list[tuple[float, float]]:
    """Waypoints from ``a`` to ``b``: the candidate route that crosses the fewest other nodes."""
    if b.x >= a.x + a.w:  # forwards: turn near the source, in the middle or near the target
        start, end = (a.x + a.w, a.cy), (b.x, b.cy)
        if abs(a.cy - b.cy) < 1:
            candidates = [[start, end]]
        else:
            candidates = [
                [start, (x, a.cy), (x, b.cy), end]
                for x in (start[0] + 15, (start[0] + end[0]) / 2, end[0] - 15)
            ]
        candidates.append([(a.cx, a.y + a.h if b.cy > a.cy else a.y), (a.cx, b.cy), end])
    elif abs(a.cx - b.cx) < 1:  # straight up or down
        candidates = [
            [(a.cx, a.y + a.h), (b.cx, b.y)] if b.y > a.y else [(a.cx, a.y), (b.cx, b.y + b.h)]
        ]
    else:  # backwards: below both ends, or above them
        below = max(a.y + a.h, b.y + b.h) + 12
        above = min(a.y, b.y) - 12
        candidates = [
            [(a.cx, a.y + a.h), (a.cx, below), (b.cx, below), (b.cx, b.y + b.h)],
            [(a.cx, a.y), (a.cx, above), (b.cx, above), (b.cx, b.y)],
        ]
    return min(candidates, key=lambda points: _crossings(points, others))
