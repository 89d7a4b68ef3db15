"""Diagrams of processes: ``procflow.render(process, "diagrams/x.svg")``.

A process becomes a neutral :class:`~procflow._render.spec.Diagram`
(:mod:`~procflow._render.spec`: lanes, steps, edges, legend), which one of
two back-ends draws: :mod:`~procflow._render.dot` writes Graphviz DOT, which
:mod:`~procflow._render.layout` hands to the ``dot`` program for SVG, PNG
and PDF; :mod:`~procflow._render.mermaid` writes Mermaid for Markdown.

>>> import procflow
>>> p = procflow.load("processes/customer-service.yaml")  # doctest: +SKIP
>>> procflow.render(p, "diagrams/customer-service.svg")  # doctest: +SKIP
PosixPath('diagrams/customer-service.svg')
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from procflow._render.dot import to_dot
from procflow._render.layout import IMAGE_FORMATS, DotRunner, run_dot
from procflow._render.mermaid import to_markdown, to_mermaid
from procflow._render.spec import Diagram, Highlights, build_diagram
from procflow.errors import RenderError
from procflow.fileio import write_atomic
from procflow.model import ID_PATTERN

if TYPE_CHECKING:
    from procflow.model import Process

#: Every output format, and the file extension each is written with.
EXTENSIONS: dict[str, str] = {
    "svg": "svg",
    "png": "png",
    "pdf": "pdf",
    "dot": "dot",
    "mermaid": "mmd",
    "markdown": "md",
}
FORMATS: tuple[str, ...] = tuple(EXTENSIONS)

_SAFE_NAME = re.compile(ID_PATTERN.strip("^$"))

#: File suffix -> format, for ``render(process, path)`` without ``format``.
SUFFIXES: dict[str, str] = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".md": "markdown",
}


def format_for(path: str | os.PathLike[str]) -> str:
    """The output format a file name asks for (``x.svg`` -> ``svg``)."""
    suffix = Path(path).suffix.lower()
    try:
        return SUFFIXES[suffix]
    except KeyError:
        known = ", ".join(sorted(SUFFIXES))
        shown = repr(suffix) if suffix else "no suffix"
        raise RenderError(
            f"{os.fspath(path)}: cannot tell the diagram format from {shown}; "
            f"use one of {known} or pass format="
        ) from None


def output_path(folder: str | os.PathLike[str], process_id: str, format: str) -> Path:
    """Where ``procflow diagram`` writes a process: ``<folder>/<process-id>.<ext>``.

    The name comes from the process id only, and an id that is not a plain
    name (``^[a-z][a-z0-9_-]*$``) is refused, so no process file can make
    procflow write outside the output folder.
    """
    if format not in EXTENSIONS:
        raise RenderError(f"unknown diagram format {format!r}: use one of {', '.join(FORMATS)}")
    if not _SAFE_NAME.fullmatch(process_id):
        raise RenderError(f"process id {process_id!r} cannot be used as a file name")
    base = Path(folder)
    target = base / f"{process_id}.{EXTENSIONS[format]}"
    if target.parent != base:  # pragma: no cover - excluded by the pattern above
        raise RenderError(f"process id {process_id!r} would write outside {os.fspath(base)}")
    return target


def diagram(
    process: Process, *, lanes: bool = True, highlight: bool = False, legend: bool = True
) -> Diagram:
    """The neutral diagram of ``process``; ``highlight`` runs lint and the analytic model."""
    highlights = None
    if highlight:
        from procflow._render.highlight import collect_highlights

        highlights = collect_highlights(process)
    return build_diagram(process, lanes=lanes, highlights=highlights, legend=legend)


def render_bytes(
    process: Process,
    format: str,
    *,
    lanes: bool = True,
    highlight: bool = False,
    legend: bool = True,
    runner: DotRunner | None = None,
) -> bytes:
    """The diagram of ``process`` in ``format`` (one of :data:`FORMATS`), as bytes.

    ``svg``, ``png`` and ``pdf`` need Graphviz's ``dot`` (``runner`` replaces
    it, e.g. in tests); ``dot``, ``mermaid`` and ``markdown`` are text
    procflow writes itself.
    """
    if format not in EXTENSIONS:
        raise RenderError(f"unknown diagram format {format!r}: use one of {', '.join(FORMATS)}")
    drawn = diagram(process, lanes=lanes, highlight=highlight, legend=legend)
    if format == "mermaid":
        return to_mermaid(drawn).encode("utf-8")
    if format == "markdown":
        return to_markdown(drawn).encode("utf-8")
    source = to_dot(drawn)
    if format == "dot":
        return source.encode("utf-8")
    return (runner or run_dot)(source, format)


def render(
    process: Process | str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    lanes: bool = True,
    highlight: bool = False,
    legend: bool = True,
    runner: DotRunner | None = None,
) -> Path:
    """Draw ``process`` into ``path``, atomically; return the path written.

    The format comes from ``format`` or else from the file suffix (``.svg``,
    ``.png``, ``.pdf``, ``.dot``/``.gv``, ``.mmd``, ``.md``). ``lanes=False``
    draws a plain flow without owner swimlanes; ``highlight=True`` marks lint
    findings on the steps and owners they concern and shades owners by
    utilization. Raises :class:`~procflow.errors.GraphvizNotFound` when an
    image format is asked for and ``dot`` is missing, and
    :class:`~procflow.errors.RenderError` when ``dot`` fails.
    """
    from procflow.loader import as_process

    process = as_process(process, "render")
    chosen = format.lower() if format else format_for(path)
    data = render_bytes(
        process, chosen, lanes=lanes, highlight=highlight, legend=legend, runner=runner
    )
    target = Path(path)
    write_atomic(target, data)
    return target


__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "IMAGE_FORMATS",
    "SUFFIXES",
    "Diagram",
    "DotRunner",
    "Highlights",
    "build_diagram",
    "diagram",
    "format_for",
    "output_path",
    "render",
    "render_bytes",
    "to_dot",
    "to_markdown",
    "to_mermaid",
]
