"""The Mermaid back-end: a :class:`~procflow._render.spec.Diagram` as a ``flowchart LR``.

GitHub, GitLab and most wikis render Mermaid inside Markdown, so this
output puts the same diagram in a README or a pull request without any
image: one ``subgraph`` per owner lane, steps with their duration, edges
with trigger and probability, feedback edges dotted (``-.->``) and orange,
start and end steps with their own shapes, and a legend.

Mermaid's syntax is much looser than DOT's, so two things are done with
care:

* **Ids.** Step ids may contain ``-`` (which Mermaid reads as part of an
  arrow) and may be ``end`` (a keyword). Every node and lane gets a
  generated id: ``s_`` / ``lane_`` plus the id with ``_`` written ``__``
  and ``-`` written ``_d``, which is injective, so two steps can never
  share a Mermaid id.
* **Text.** Every user string is written inside double quotes with the
  characters Mermaid or its HTML renderer would interpret (``"`` ``#`` ``&``
  ``<`` ``>`` `````` ``|``) replaced by Mermaid entity codes (``#34;``),
  so titles show as text and cannot add nodes, edges or markup.
"""

from __future__ import annotations

import json

from procflow._render import palette as P
from procflow._render.palette import Key
from procflow._render.spec import Diagram, Edge, Lane, Node

_INDENT = "  "
_ENTITIES = {ch: f"#{ord(ch)};" for ch in '"#&<>`|;\\'}
#: Characters that are only markup in company: ``%%`` starts a comment or an
#: ``%%{init}%%`` directive anywhere in the text, ``$$`` a KaTeX formula, and a
#: line with ``style``, ``:`` and ``#`` loses its last ``;`` (an entity's end).
_QUIRKS = (("%%", "%"), ("$$", "$"), ("style", ":"))
_START = "pf_start"


def mermaid_id(prefix: str, name: str) -> str:
    """An identifier Mermaid reads as one plain name.

    >>> mermaid_id("s", "end"), mermaid_id("s", "a-b"), mermaid_id("s", "a_db")
    ('s_end', 's_a_db', 's_a__db')
    """
    return f"{prefix}_" + name.replace("_", "__").replace("-", "_d")


def text(value: str) -> str:
    """``value`` escaped for the inside of a double-quoted Mermaid label.

    >>> text('say "hi" <b>#1</b> & more')
    'say #34;hi#34; #60;b#62;#35;1#60;/b#62; #38; more'
    """
    entities = dict(_ENTITIES)
    for trigger, ch in _QUIRKS:
        if trigger in value.lower():
            entities[ch] = f"#{ord(ch)};"
    escaped = "".join(entities.get(ch, ch) for ch in value)
    return escaped.replace("\n", "<br/>")


def _node_label(node: Node) -> str:
    parts = ["<b>" + "<br/>".join(text(line) for line in node.title) + "</b>"]
    if node.detail:
        parts.append(f"<small>{text(node.detail)}</small>")
    if node.badge is not None:
        parts.append(f"<b>[{text(node.badge.text)}]</b>")
    return "<br/>".join(parts)


def node_name(node_id: str) -> str:
    """The Mermaid id of a step, or of a fork or join gateway (``x.fork`` -> ``fork_x``).

    >>> node_name("a-b"), node_name("a-b.fork"), node_name("a-b.join")
    ('s_a_db', 'fork_a_db', 'join_a_db')
    """
    step, dot, kind = node_id.rpartition(".")
    return mermaid_id(kind, step) if dot else mermaid_id("s", node_id)


def _node(node: Node) -> str:
    if node.gateway is not None:  # Mermaid's fork/join bar (flowchart shape, Mermaid 11.3+)
        return f"{node_name(node.id)}@{{ shape: {'fork' if node.gateway == 'fork' else 'join'} }}"
    name = mermaid_id("s", node.id)
    label = f'"{_node_label(node)}"'
    if node.end:
        shape = f"((({label})))"
    elif node.start:
        shape = f"([{label}])"
    elif node.missing:
        shape = f"{{{{{label}}}}}"
    else:
        shape = f"({label})"
    return name + shape


def _lane(lane: Lane, nodes: tuple[Node, ...]) -> list[str]:
    label = f"<b>{text(lane.title)}</b><br/><small>{text(lane.caption)}</small>"
    if lane.badge is not None:
        label += f"<br/><b>[{text(lane.badge.text)}]</b>"
    lines = [f'subgraph {mermaid_id("lane", lane.id)}["{label}"]']
    lines += [_INDENT + _node(node) for node in nodes]
    lines.append("end")
    return lines


_LANE_WIDTH = {P.Weight.PLAIN: "1px", P.Weight.MARKED: "2px", P.Weight.BOTTLENECK: "4px"}


def _lane_style(lane: Lane) -> str:
    look = P.lane_look(lane)
    dashes = ",stroke-dasharray:5 5" if look.dashed else ""
    return (
        f"style {mermaid_id('lane', lane.id)} "
        f"fill:{look.fill},stroke:{look.border},stroke-width:{_LANE_WIDTH[look.weight]}{dashes}"
    )


def _edge(edge: Edge) -> str:
    arrow = "-.->" if edge.feedback else "-->"
    caption = f'|"{text(edge.caption)}"|' if edge.caption else ""
    return f"{node_name(edge.source)} {arrow}{caption} {node_name(edge.target)}"


_CLASSES: dict[str, str] = {
    "step": f"fill:{P.PAPER},stroke:{P.MUTED},color:{P.INK}",
    "start": f"fill:{P.START_FILL},stroke:{P.START_BORDER},stroke-width:3px,color:{P.INK}",
    "endstep": f"fill:{P.END_FILL},stroke:{P.END_BORDER},stroke-width:2px,color:{P.INK}",
    "missing": f"fill:{P.PAPER},stroke:{P.MISSING_BORDER},stroke-dasharray:4 3,color:{P.INK}",
    "startmarker": f"fill:{P.START_BORDER},stroke:{P.START_BORDER}",
    **{
        mark.value: f"fill:{style.fill},stroke:{style.border},stroke-width:2px,color:{P.INK}"
        for mark, style in P.MARK_STYLE.items()
    },
}


def _node_class(node: Node) -> str:
    if node.badge is not None:
        return node.badge.mark.value
    if node.missing:
        return "missing"
    if node.end:
        return "endstep"
    if node.start:
        return "start"
    return "step"


_BAR_STYLE = f"fill:{P.GATEWAY_FILL},stroke:{P.GATEWAY_BORDER},color:{P.INK}"


def _legend_node(key: Key) -> tuple[str, str, str]:
    """``(id, node text, style)`` of one legend entry, drawn in the style it explains."""
    name = f"legend_{key.value}"
    label = f'"{text(P.LEGEND_TEXT[key])}"'
    styles: dict[Key, str] = {
        Key.START: _CLASSES["start"],
        Key.STEP: _CLASSES["step"],
        Key.END: _CLASSES["endstep"],
        Key.MISSING: _CLASSES["missing"],
        Key.TRANSITION: f"fill:{P.PAPER},stroke:{P.EDGE},color:{P.EDGE}",
        Key.FEEDBACK: f"fill:{P.PAPER},stroke:{P.FEEDBACK},stroke-dasharray:4 3,color:{P.FEEDBACK}",
        Key.LANE: f"fill:{P.LANE_FILL},stroke:{P.LANE_BORDER}",
        **dict.fromkeys((Key.FORK, Key.JOIN, Key.JOIN_FIRST), _BAR_STYLE),
        Key.HOURS: f"fill:{P.PAPER},stroke:{P.LANE_BORDER},color:{P.MUTED}",
        Key.EXTERNAL: f"fill:{P.EXTERNAL_FILL},stroke:{P.EXTERNAL_BORDER},stroke-dasharray:5 5",
        **{key: _CLASSES[mark.value] for key, mark in P.KEY_MARK.items()},
        **{
            key: f"fill:{P.LEVEL_FILL[level]},stroke:{P.LANE_BORDER}"
            for key, level in P.KEY_LEVEL.items()
        },
        Key.BOTTLENECK: f"fill:{P.PAPER},stroke:{P.BOTTLENECK_BORDER},stroke-width:4px",
    }
    prefix = {
        Key.TRANSITION: "\u2192 ",
        Key.FEEDBACK: "\u21e2 ",
        Key.FORK: "\u25ac ",
        Key.JOIN: "\u25ac ",
        Key.JOIN_FIRST: "\u25ac ",
    }.get(key, "")
    if prefix:
        label = f'"{prefix}{text(P.LEGEND_TEXT[key])}"'
    return name, f"{name}[{label}]", styles[key]


def to_mermaid(diagram: Diagram) -> str:
    """Mermaid ``flowchart LR`` source for ``diagram``; deterministic, every string escaped."""
    out = [
        "---",
        f"title: {json.dumps(diagram.title, ensure_ascii=False)}",
        "---",
        "flowchart LR",
        f"{_INDENT}%% {diagram.id}: generated by procflow diagram; edit the process file",
    ]
    out.append(f'{_INDENT}{_START}((" "))')
    for lane in diagram.lanes:
        out.extend(_INDENT + line for line in _lane(lane, diagram.lane_nodes(lane)))
    out.extend(_INDENT + _node(node) for node in diagram.free_nodes)

    start_caption = f'|"{text(diagram.arrivals)}"|' if diagram.arrivals else ""
    edges = [f"{_START} ==>{start_caption} {mermaid_id('s', diagram.start)}"]
    edges += [_edge(edge) for edge in diagram.edges]
    out.extend(_INDENT + edge for edge in edges)

    info = [f"<b>{text(diagram.subtitle)}</b>", *(text(goal) for goal in diagram.goals)]
    info += [text(note) for note in diagram.notes]
    out.append(f'{_INDENT}subgraph pf_about["{text("About" if not diagram.notes else "Notes")}"]')
    out.append(f'{_INDENT * 2}pf_info["{"<br/>".join(info)}"]')
    out.append(f"{_INDENT}end")
    legend_styles: list[str] = []
    if diagram.legend:
        out.append(f'{_INDENT}subgraph pf_legend["Legend"]')
        for key in diagram.legend:
            name, statement, style = _legend_node(key)
            out.append(_INDENT * 2 + statement)
            legend_styles.append(f"style {name} {style}")
        for number, line in enumerate(diagram.legend_lines):
            out.append(f'{_INDENT * 2}legend_line{number}["{text(line)}"]')
        out.append(f"{_INDENT}end")

    for name, css in _CLASSES.items():
        out.append(f"{_INDENT}classDef {name} {css}")
    groups: dict[str, list[str]] = {}
    for node in diagram.nodes:
        if node.gateway is None:  # a bar keeps Mermaid's own fork/join look
            groups.setdefault(_node_class(node), []).append(mermaid_id("s", node.id))
    groups["startmarker"] = [_START]
    for name in _CLASSES:
        if name in groups:
            out.append(f"{_INDENT}class {','.join(groups[name])} {name}")
    out.extend(_INDENT + _lane_style(lane) for lane in diagram.lanes)
    out.append(f"{_INDENT}style pf_about fill:{P.PAPER},stroke:#cbd5e0")
    out.append(f"{_INDENT}style pf_info fill:{P.PAPER},stroke:{P.PAPER},color:{P.INK}")
    if diagram.legend:
        out.append(f"{_INDENT}style pf_legend fill:{P.PAPER},stroke:#cbd5e0")
        out.extend(_INDENT + style for style in legend_styles)

    out.append(f"{_INDENT}linkStyle default stroke:{P.EDGE},color:{P.MUTED}")
    out.append(f"{_INDENT}linkStyle 0 stroke:{P.START_BORDER},stroke-width:2px")
    feedback = [str(i + 1) for i, edge in enumerate(diagram.edges) if edge.feedback]
    if feedback:
        out.append(
            f"{_INDENT}linkStyle {','.join(feedback)} "
            f"stroke:{P.FEEDBACK},stroke-width:2px,color:{P.FEEDBACK}"
        )
    missing = {node.id for node in diagram.nodes if node.missing}
    broken = [
        str(i + 1)
        for i, edge in enumerate(diagram.edges)
        if edge.target in missing and not edge.feedback
    ]
    if broken:
        out.append(f"{_INDENT}linkStyle {','.join(broken)} stroke:{P.MISSING_BORDER}")
    return "\n".join(out) + "\n"


def to_markdown(diagram: Diagram) -> str:
    """A Markdown page: the title and the Mermaid diagram in a fenced block GitHub renders."""
    title = diagram.title.replace("\\", "\\\\")
    for ch in "`*_[]<>#|":
        title = title.replace(ch, "\\" + ch)
    return f"# {title}\n\n```mermaid\n{to_mermaid(diagram)}```\n"
