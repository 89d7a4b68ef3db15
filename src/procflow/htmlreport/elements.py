"""The HTML pieces the report's sections are made of: escaped text, tables, figures, notes.

Every value from data reaches the page through :func:`esc` (directly or via
:func:`table`), so a step titled ``<script>`` is shown as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from procflow.htmlreport.plots import Plot
from procflow.htmlreport.svg import prefix_ids


def esc(value: object) -> str:
    """Any value as HTML text: ``<``, ``>``, ``&`` and quotes escaped."""
    return html.escape(str(value), quote=True)


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()
) -> str:
    """An HTML table; columns whose index is in ``numeric`` are right-aligned."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            css = ' class="num"' if index in numeric else ""
            cells.append(f"<td{css}>{esc(cell)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure(plot: Plot, anchor: str) -> str:
    """A plot with its caption and its data table in a ``<details>`` (the text alternative)."""
    data = table(plot.table.headers, plot.table.rows, numeric=(1, 2, 3))
    return (
        f'<figure class="plot" id="{esc(anchor)}" aria-label="{esc(plot.label)}">'
        f"<figcaption>{esc(plot.label)}</figcaption>"
        f"{prefix_ids(plot.svg, anchor + '-')}"
        f'<p class="meta">{esc(plot.description)}</p>'
        f"<details><summary>The data of this plot</summary>{data}</details>"
        "</figure>"
    )


def note(text: str) -> str:
    """A short paragraph: why something is missing, or how to read it."""
    return f'<p class="note">{esc(text)}</p>'
