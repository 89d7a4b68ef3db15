"""The DOT back-end: a :class:`~procflow._render.spec.Diagram` as Graphviz source text.

The text is written by hand rather than through ``graphviz.Digraph`` for
two reasons. *Exact, stable bytes*: every statement is emitted in the
diagram's (file) order with fixed attribute order, so the same process
always gives byte-identical DOT that diffs well in git. *Escaping we
control*: ``graphviz.Digraph`` passes any string that looks like ``<...>``
through as an HTML label, so a step titled ``<B>x</B>`` would change the
drawing; here every piece of user text goes through exactly one of two
escapers -- :func:`html` for HTML-like labels, :func:`quote` for quoted
strings -- and nothing else reaches the output. A quoted string longer than
Graphviz's scanner takes (a 17 KB description in a tooltip) is written as
pieces joined with ``+``, so the full text still reaches the tooltip. The
``graphviz`` package is still what runs ``dot`` (see :mod:`procflow._render.layout`).

Layout choices, for readability at 30+ steps: left to right
(``rankdir=LR``), one cluster per owner with ``newrank=true`` so ranks run
across lanes, loops drawn so that they never stretch or reorder
the ranks (loops are written reversed with ``dir=back``, see :func:`_edge`),
and edges drawn under nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from procflow._render import palette as P
from procflow._render.palette import Key
from procflow._render.spec import Badge, Diagram, Edge, Lane, Node
from procflow._render.text import wrap

START_NODE = "_start"
"""The start marker's node name; step ids start with a lower-case letter, so it cannot clash."""

_INDENT = "  "


def quote(text: str) -> str:
    """``text`` as a DOT double-quoted string that Graphviz shows literally.

    Backslashes are doubled (so ``\\N``, ``\\G`` or ``\\l`` in a title are not
    expanded), quotes are escaped and newlines become centred line breaks.

    >>> print(quote('say "hi" \\\\ bye'))
    "say \\"hi\\" \\\\ bye"
    """
    escaped = xml_safe(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if len(escaped) <= QUOTED_CHUNK:
        return f'"{escaped}"'
    return " + ".join(f'"{piece}"' for piece in _pieces(escaped))


QUOTED_CHUNK = 4000
"""Characters per DOT quoted string: Graphviz's scanner refuses one longer than 16,384 bytes
(4,000 characters are at most 16,000 bytes of UTF-8); longer texts are joined with ``+``."""


def _pieces(escaped: str) -> Iterator[str]:
    """``escaped`` in pieces of at most :data:`QUOTED_CHUNK` characters, no escape split."""
    start = 0
    while start < len(escaped):
        end = min(start + QUOTED_CHUNK, len(escaped))
        if end < len(escaped):
            backslashes = len(escaped[start:end]) - len(escaped[start:end].rstrip("\\"))
            end -= backslashes % 2  # never end a piece between a backslash and what it escapes
        yield escaped[start:end]
        start = end


def tooltip(text: str) -> str:
    """``text`` as a DOT tooltip string that Graphviz shows literally.

    Graphviz unescapes a tooltip twice (the string, then ``\\N``/``\\G``
    expansion), so a backslash takes four: ``\\N`` in a description must
    not turn into the node's name in the SVG.
    """
    return quote(text.replace("\\", "\\\\"))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (control characters, U+FFFE, U+FFFF).

    Graphviz writes SVG and parses HTML-like labels as XML: one such
    character in a title (YAML's ``"\\x01"`` or ``"\\uFFFE"`` escapes make
    them) fails the whole layout. Each becomes U+FFFD, the replacement character.
    """
    return _NOT_XML.sub("\ufffd", text)


def html(text: str) -> str:
    """``text`` escaped for the inside of a Graphviz HTML-like label.

    Markup characters become entities, and backslashes are doubled:
    Graphviz still expands ``\\N``, ``\\G`` and ``\\E`` inside HTML labels
    (even written as ``&#92;N``), and reads a doubled backslash as one.

    >>> html('<b>"Tom" & Jerry\\'s</b>')
    '&lt;b&gt;&quot;Tom&quot; &amp; Jerry&#39;s&lt;/b&gt;'
    >>> html(r"C:\\N")
    'C:\\\\\\\\N'
    """
    return (
        xml_safe(text)
        .replace("\\", "\\\\")
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _attrs(pairs: list[tuple[str, str]]) -> str:
    """``[a=1, b="x"]``; values are already quoted or HTML (``<...>``)."""
    return "[" + ", ".join(f"{key}={value}" for key, value in pairs) + "]"


def _lines(lines: tuple[str, ...], bold: bool = False) -> str:
    parts = [html(line) for line in lines]
    if bold:
        parts = [f"<B>{part}</B>" if part else part for part in parts]
    return "<BR/>".join(parts)


def _small(text: str, color: str = P.FAINT, size: int = 9) -> str:
    return f'<FONT POINT-SIZE="{size}" COLOR="{color}">{html(text)}</FONT>'


def _badge_cell(badge: Badge) -> str:
    style = P.MARK_STYLE[badge.mark]
    return (
        f'<TD BGCOLOR="{style.badge}" CELLPADDING="2">'
        f'<FONT POINT-SIZE="8" COLOR="#ffffff"><B>{html(badge.text)}</B></FONT></TD>'
    )


def _label_table(rows: list[str], badge: Badge | None, align: str = "CENTER") -> str:
    """An HTML label: the given rows, and the badge as a row of its own."""
    if badge is None:
        if align == "LEFT":
            return "<" + "".join(f'{row}<BR ALIGN="LEFT"/>' for row in rows) + ">"
        return "<" + "<BR/>".join(rows) + ">"
    cells = "".join(f'<TR><TD ALIGN="{align}">{row}</TD></TR>' for row in rows)
    badge_row = f'<TR><TD ALIGN="{align}"><TABLE BORDER="0" CELLSPACING="0"><TR>'
    badge_row += _badge_cell(badge) + "</TR></TABLE></TD></TR>"
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
        f"{cells}{badge_row}</TABLE>>"
    )


# --------------------------------------------------------------------------
# statements


#: The marker inside a gateway's diamond: BPMN's parallel gateway (+) for a fork and a
#: ``join: all``, the complex gateway's asterisk for a ``join: first``.
GATEWAY_MARKER = {"fork": "+", "join": "+", "first": "*"}


def _gateway(node: Node) -> str:
    """A fork or join: a small diamond with its marker, in the gateway colours."""
    assert node.gateway is not None
    marker = html(GATEWAY_MARKER[node.gateway])
    attrs: list[tuple[str, str]] = [
        ("shape", "diamond"),
        ("label", f'<<FONT POINT-SIZE="20"><B>{marker}</B></FONT>>'),
        ("width", "0.5"),
        ("height", "0.5"),
        ("fixedsize", "true"),
        ("style", "filled"),
        ("fillcolor", quote(P.GATEWAY_FILL)),
        ("color", quote(P.GATEWAY_BORDER)),
        ("penwidth", "1.5"),
        ("tooltip", tooltip(node.tooltip)),
    ]
    return f"{quote(node.id)} {_attrs(attrs)};"


def _node(node: Node) -> str:
    if node.gateway is not None:
        return _gateway(node)
    rows = [_lines(node.title, bold=True)]
    if node.detail:
        rows.append(_small(node.detail))
    attrs: list[tuple[str, str]] = [("label", _label_table(rows, node.badge))]
    fill, border, penwidth = P.PAPER, P.MUTED, "1.2"
    if node.start:
        fill, border, penwidth = P.START_FILL, P.START_BORDER, "2.5"
    if node.end:
        attrs.append(("shape", "box"))
        attrs.append(("peripheries", "2"))
        fill, border = P.END_FILL, P.END_BORDER
    if node.missing:
        attrs.append(("style", quote("dashed,rounded,filled")))
        border = P.MISSING_BORDER
    if node.badge is not None:
        style = P.MARK_STYLE[node.badge.mark]
        fill, border = style.fill, style.border
        penwidth = "2.5" if node.start else "2"
    if fill != P.PAPER:
        attrs.append(("fillcolor", quote(fill)))
    if border != P.MUTED:
        attrs.append(("color", quote(border)))
    if penwidth != "1.2":
        attrs.append(("penwidth", penwidth))
    tip = node.tooltip
    if node.badge is not None:
        tip += "\n" + "\n".join(node.badge.messages)
    attrs.append(("tooltip", tooltip(tip)))
    return f"{quote(node.id)} {_attrs(attrs)};"


_LANE_PENWIDTH = {P.Weight.PLAIN: "1", P.Weight.MARKED: "2", P.Weight.BOTTLENECK: "3"}


def _lane(lane: Lane, nodes: tuple[Node, ...]) -> Iterator[str]:
    name = quote(f"cluster_{lane.id}")
    rows = [f"<B>{html(lane.title)}</B>", _small(lane.caption, P.MUTED)]
    look = P.lane_look(lane)
    style = "dashed,rounded,filled" if look.dashed else "rounded,filled"
    tip = lane.tooltip
    if lane.badge is not None:
        tip += "\n" + "\n".join(lane.badge.messages)
    attrs: list[tuple[str, str]] = [
        ("label", _label_table(rows, lane.badge, align="LEFT")),
        ("labelloc", "t"),
        ("labeljust", "l"),
        ("peripheries", "1"),
        ("style", quote(style)),
        ("fillcolor", quote(look.fill)),
        ("color", quote(look.border)),
        ("penwidth", _LANE_PENWIDTH[look.weight]),
        ("tooltip", tooltip(tip)),
    ]
    yield f"subgraph {name} {{"
    yield f"{_INDENT}graph {_attrs(attrs)};"
    for node in nodes:
        yield _INDENT + _node(node)
    yield "}"


def _edge(edge: Edge, missing: frozenset[str]) -> str:
    """An edge statement; a loop (``edge.back``) is written reversed with ``dir=back``.

    Written target -> source, a loop constrains the ranks the same way as
    the forward path it closes, so dot keeps the flow left to right and
    routes the loop beside it instead of across the drawing. A feedback edge
    that points forward gets ``constraint=false`` instead: it must not pull
    its target along. A loop between two steps that also have a forward edge
    leaves and enters them from below, or dot would draw the two on top of
    each other.
    """
    attrs: list[tuple[str, str]] = []
    if edge.caption:
        attrs.append(("label", quote(edge.caption)))
    if edge.feedback:
        attrs += [
            ("style", "dashed"),
            ("color", quote(P.FEEDBACK)),
            ("fontcolor", quote(P.FEEDBACK)),
            ("penwidth", "1.4"),
        ]
        if not edge.back:
            attrs.append(("constraint", "false"))
    elif edge.target in missing:
        attrs += [("color", quote(P.MISSING_BORDER)), ("style", "dashed")]
    attrs.append(("tooltip", tooltip(edge.tooltip)))
    if edge.back:
        attrs.append(("dir", "back"))
        if edge.paired:  # leave and enter below the steps, apart from the forward edge
            attrs += [("tailport", "s"), ("headport", "s")]
        return f"{quote(edge.target)} -> {quote(edge.source)} {_attrs(attrs)};"
    return f"{quote(edge.source)} -> {quote(edge.target)} {_attrs(attrs)};"


def _legend_sample(key: Key) -> str:
    """The swatch drawn beside a legend entry."""

    def box(fill: str, border: str, style: str = "ROUNDED", width: int = 1) -> str:
        return (
            f'<TD BGCOLOR="{fill}" COLOR="{border}" BORDER="{width}" STYLE="{style}" '
            'WIDTH="34" HEIGHT="14"> </TD>'
        )

    def line(color: str, glyph: str) -> str:
        return f'<TD WIDTH="34"><FONT COLOR="{color}"><B>{glyph}</B></FONT></TD>'

    if key is Key.START:
        return box(P.START_FILL, P.START_BORDER, width=2)
    if key is Key.STEP:
        return box(P.PAPER, P.MUTED)
    if key is Key.END:
        return box(P.END_FILL, P.END_BORDER, style="SOLID", width=2)
    if key is Key.MISSING:
        return box(P.PAPER, P.MISSING_BORDER, style="DASHED")
    if key is Key.TRANSITION:
        return line(P.EDGE, "\u2014\u2014\u25b6")
    if key is Key.FEEDBACK:
        return line(P.FEEDBACK, "- - \u25b6")
    if key in (Key.FORK, Key.JOIN, Key.JOIN_FIRST):
        glyph = "*" if key is Key.JOIN_FIRST else "+"
        return (
            f'<TD WIDTH="34"><FONT POINT-SIZE="14" COLOR="{P.GATEWAY_BORDER}">'
            f"<B>\u25c7{glyph}</B></FONT></TD>"
        )
    if key is Key.LANE:
        return box(P.LANE_FILL, P.LANE_BORDER)
    if key is Key.EXTERNAL:
        return box(P.EXTERNAL_FILL, P.EXTERNAL_BORDER, style="DASHED")
    if key is Key.HOURS:
        return line(P.MUTED, "9\u201317")
    if key in P.KEY_MARK:
        style = P.MARK_STYLE[P.KEY_MARK[key]]
        return (
            f'<TD BGCOLOR="{style.badge}" WIDTH="34">'
            '<FONT POINT-SIZE="8" COLOR="#ffffff"><B>PF</B></FONT></TD>'
        )
    if key in P.KEY_LEVEL:
        return box(P.LEVEL_FILL[P.KEY_LEVEL[key]], P.LANE_BORDER)
    return box(P.PAPER, P.BOTTLENECK_BORDER, width=3)  # Key.BOTTLENECK


#: Characters per line of a note before it wraps.
NOTE_WRAP = 90

#: Legend entries per row: the legend sits under a wide left-to-right drawing.
LEGEND_COLUMNS = 3


def _legend_table(diagram: Diagram) -> str:
    cells = [
        f'{_legend_sample(key)}<TD ALIGN="LEFT">{_small(P.LEGEND_TEXT[key], P.INK, 9)}</TD>'
        for key in diagram.legend
    ]
    rows = [
        "<TR>" + "".join(cells[i : i + LEGEND_COLUMNS]) + "</TR>"
        for i in range(0, len(cells), LEGEND_COLUMNS)
    ]
    span = 2 * min(len(cells), LEGEND_COLUMNS)
    head = f'<TR><TD COLSPAN="{span}" ALIGN="LEFT"><B>Legend</B></TD></TR>'
    rows += [
        f'<TR><TD COLSPAN="{span}" ALIGN="LEFT">{_small(line, P.INK, 9)}</TD></TR>'
        for line in diagram.legend_lines
    ]
    return (
        '<TABLE BORDER="1" COLOR="#cbd5e0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2" '
        f'BGCOLOR="#ffffff">{head}{"".join(rows)}</TABLE>'
    )


def _notes_table(diagram: Diagram) -> str:
    """One bordered cell, text from the top: a stretched cell keeps its lines together."""
    lines = ["<B>Notes</B>"]
    for note in diagram.notes:
        lines += [_small(part, P.INK, 9) for part in wrap(note, NOTE_WRAP, max_lines=4)]
    text = "".join(f'{line}<BR ALIGN="LEFT"/>' for line in lines)
    return (
        '<TABLE BORDER="1" COLOR="#cbd5e0" CELLBORDER="0" CELLPADDING="6" BGCOLOR="#fffdf5">'
        f'<TR><TD ALIGN="LEFT" VALIGN="TOP">{text}</TD></TR></TABLE>'
    )


def _title_block(diagram: Diagram) -> str:
    rows = [f'<FONT POINT-SIZE="16"><B>{html(diagram.title)}</B></FONT>']
    rows.append(_small(diagram.subtitle, P.MUTED, 10))
    rows += [_small(goal, P.MUTED, 9) for goal in diagram.goals]
    return "".join(f'{row}<BR ALIGN="LEFT"/>' for row in rows)


def _header(diagram: Diagram) -> str:
    """The graph label: title, legend and notes side by side above the drawing.

    The root graph's label is placed outside everything dot draws, edges
    included, so no loop can ever run across the legend.
    """
    tables = [_title_block(diagram)]
    if diagram.legend:
        tables.append(_legend_table(diagram))
    if diagram.notes:
        tables.append(_notes_table(diagram))
    cells = "".join(f'<TD ALIGN="LEFT" VALIGN="TOP">{table}</TD>' for table in tables)
    return f'<<TABLE BORDER="0" CELLSPACING="10" CELLPADDING="0"><TR>{cells}</TR></TABLE>>'


def to_dot(diagram: Diagram) -> str:
    """DOT source for ``diagram``: deterministic, every user string escaped."""
    graph_attrs: list[tuple[str, str]] = [
        ("rankdir", "LR"),
        ("newrank", "true"),
        ("nodesep", "0.3"),
        ("ranksep", "0.45"),
        ("pad", "0.3"),
        ("outputorder", "edgesfirst"),
        ("fontname", quote(P.FONT)),
        ("fontcolor", quote(P.INK)),
        ("label", _header(diagram)),
        ("labelloc", "t"),
        ("labeljust", "l"),
        ("tooltip", tooltip(diagram.tooltip or diagram.title)),
    ]
    node_attrs: list[tuple[str, str]] = [
        ("shape", "box"),
        ("style", quote("rounded,filled")),
        ("fillcolor", quote(P.PAPER)),
        ("color", quote(P.MUTED)),
        ("penwidth", "1.2"),
        ("fontname", quote(P.FONT)),
        ("fontsize", "11"),
        ("fontcolor", quote(P.INK)),
        ("margin", quote("0.14,0.07")),
    ]
    edge_attrs: list[tuple[str, str]] = [
        ("color", quote(P.EDGE)),
        ("fontname", quote(P.FONT)),
        ("fontsize", "9"),
        ("fontcolor", quote(P.MUTED)),
        ("arrowsize", "0.7"),
    ]
    out = [
        f"// {diagram.id}: generated by procflow diagram; edit the process file, not this one",
        f"digraph {quote(diagram.id)} {{",
        f"{_INDENT}graph {_attrs(graph_attrs)};",
        f"{_INDENT}node {_attrs(node_attrs)};",
        f"{_INDENT}edge {_attrs(edge_attrs)};",
        "",
    ]
    start_attrs: list[tuple[str, str]] = [
        ("shape", "circle"),
        ("label", '""'),
        ("width", "0.22"),
        ("style", "filled"),
        ("fillcolor", quote(P.START_BORDER)),
        ("color", quote(P.START_BORDER)),
        ("tooltip", tooltip("cases start here")),
    ]
    body = [f"{START_NODE} {_attrs(start_attrs)};"]
    for lane in diagram.lanes:
        body.extend(_lane(lane, diagram.lane_nodes(lane)))
    body.extend(_node(node) for node in diagram.free_nodes)
    out.extend(_INDENT + line for line in body)
    out.append("")
    start_edge: list[tuple[str, str]] = [("color", quote(P.START_BORDER)), ("penwidth", "1.5")]
    if diagram.arrivals:
        start_edge.insert(0, ("label", quote(diagram.arrivals)))
    start_edge.append(
        ("tooltip", tooltip("arrivals" + (f" {diagram.arrivals}" if diagram.arrivals else "")))
    )
    out.append(f"{_INDENT}{START_NODE} -> {quote(diagram.start)} {_attrs(start_edge)};")
    missing = frozenset(node.id for node in diagram.nodes if node.missing)
    out.extend(_INDENT + _edge(edge, missing) for edge in diagram.edges)
    out.append("}")
    return "\n".join(out) + "\n"
