"""The HTML page: one self-contained document, every value from data escaped.

The page holds everything it shows: inline CSS, inline SVG (sanitized by
:mod:`procflow.htmlreport.svg`) and tables; no script, font, image or
style sheet is fetched, and a Content-Security-Policy of ``default-src
'none'`` makes the browser refuse any request should something slip in.
Text from process files only ever reaches the page through :func:`esc`
(or the SVG serializer, which escapes too), so a step titled
``<script>alert(1)</script>`` shows as that text.

The page carries no timestamp unless one is given (``--date``): the same
inputs and seed give the same bytes, so two reports diff.
"""

from __future__ import annotations

from collections.abc import Sequence

from procflow.htmlreport import sections
from procflow.htmlreport.collect import ProcessData, Settings
from procflow.htmlreport.elements import esc
from procflow.htmlreport.fidelity import fidelity
from procflow.htmlreport.optimization import optimization

CSS = """
:root { color-scheme: light; --ink: #1f2937; --muted: #4b5563; --line: #d1d5db; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); margin: 0 auto; max-width: 72rem; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid var(--ink); padding-bottom: .2rem;
  margin-top: 2.5rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
.meta, .note { color: var(--muted); }
.note { border-left: 4px solid var(--line); padding: .2rem .7rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .25rem .55rem; text-align: left;
  vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { background: #f3f4f6; }
figure { margin: 1rem 0 1.5rem; }
figure svg { max-width: 100%; height: auto; display: block; }
figure.plot svg { width: 100%; max-width: 60rem; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
.diagram { overflow-x: auto; }
.diagram svg { width: 100%; max-width: var(--drawing-width, 100%);
  min-width: calc(var(--drawing-width, 0px) * 0.75); }
.verdict-met::before { content: "✔ "; }
.verdict-missed::before { content: "✘ "; }
.verdict-unknown::before { content: "? "; }
.verdict-missed { font-weight: 700; }
details summary { cursor: pointer; color: var(--muted); }
nav ul { columns: 2; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav { display: none; }
  section.process { break-before: page; }
  section.process:first-of-type { break-before: auto; }
  figure, table { break-inside: avoid; }
  .diagram svg { max-width: 100%; }
  details > summary { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def process_section(data: ProcessData, anchor: str) -> str:
    """One process: diagram, lint, analysis, simulation, goals, comparison, staffing, fidelity."""
    process = data.process
    title = process.title or process.id
    parts = [
        f'<section class="process" id="{esc(anchor)}" aria-labelledby="{esc(anchor)}-h">',
        f'<h2 id="{esc(anchor)}-h">{esc(title)}</h2>',
        f'<p class="meta">process <code>{esc(process.id)}</code> · file '
        f"<code>{esc(data.name)}</code></p>",
    ]
    if process.description:
        parts.append(f"<p>{esc(process.description)}</p>")
    parts.append(sections.diagram(data, anchor))
    parts.append(sections.findings(data))
    parts.append(sections.analysis(data))
    parts.append(sections.simulation(data, anchor))
    parts.append(sections.comparison(data, anchor))
    parts.append(optimization(data, anchor))
    parts.append(fidelity(data, anchor))
    for extra in data.extras:  # seam: sections added by later options
        parts.append(str(extra))
    parts.append("</section>")
    return "\n".join(parts)


def page(processes: Sequence[ProcessData], settings: Settings, date: str | None = None) -> str:
    """The whole HTML document."""
    if len(processes) == 1:
        heading = f"procflow report: {processes[0].process.title or processes[0].process.id}"
    else:
        heading = f"procflow report: {len(processes)} processes"
    anchors = [f"p{index + 1}-{data.process.id}" for index, data in enumerate(processes)]
    toc = "".join(
        f'<li><a href="#{esc(anchor)}">{esc(data.process.title or data.process.id)}</a> '
        f'<span class="meta">({esc(data.name)})</span></li>'
        for anchor, data in zip(anchors, processes, strict=True)
    )
    changes = ", ".join(name for name, _ in settings.changes) or "none"
    started = f", starting {esc(str(settings.start))}" if settings.start is not None else ""
    against = f" Measured against the event log {esc(settings.log.path)}." if settings.log else ""
    generated = f" Generated {esc(date)}." if date else ""
    body = "\n".join(
        process_section(data, anchor) for anchor, data in zip(anchors, processes, strict=True)
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="procflow report">\n'
        f"<title>{esc(heading)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(heading)}</h1>"
        f'<p class="meta">Simulated with {settings.cases:,} cases × {settings.runs} runs, '
        f"seed {settings.seed}{started}; changes compared: {esc(changes)}. Intervals are 95% "
        f"confidence intervals over runs.{against}{generated}</p></header>\n"
        f'<nav aria-label="Processes"><ul>{toc}</ul></nav>\n<main>\n{body}\n</main>\n'
        "</body>\n</html>\n"
    )
