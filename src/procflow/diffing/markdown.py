"""The diff as a pull-request comment: a summary line, then GitHub tables.

Every value from the files is printed literally: it goes into a code span
(so ``*``, ``_``, ``<b>``, ``@someone`` and links are not interpreted, and
nobody is mentioned), pipes are escaped (GFM splits table cells on ``|``
even inside code spans), and line breaks become spaces (a table row is one
line). The tables render on GitHub and in any GFM renderer; the tests parse
them with markdown-it-py.
"""

from __future__ import annotations

import re

from procflow.diffing.result import ProcessDiff, StructuralChange
from procflow.diffing.shown import (
    DASH,
    difference,
    expected_cycle_time,
    figure,
    kpi_new,
    kpi_old,
)

MAX_VALUE = 300
"""Characters of one value shown in a cell; longer values end with an ellipsis."""


def code(text: str | None) -> str:
    """``text`` as an inline code span safe inside a table cell."""
    if text is None or text == "":
        return DASH
    flat = re.sub(r"\s*[\r\n]+\s*", " ", text)
    if len(flat) > MAX_VALUE:
        flat = flat[: MAX_VALUE - 1] + "…"
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {flat} " if flat.startswith("`") or flat.endswith("`") or longest else flat
    return f"{fence}{padded}{fence}".replace("|", "\\|")


def plain(text: str) -> str:
    """Text of procflow's own making (labels), escaped for a table cell all the same."""
    escaped = re.sub(r"([\\`*_\[\]<>|~&@])", r"\\\1", text)
    return re.sub(r"\s*[\r\n]+\s*", " ", escaped)


def render_markdown(result: ProcessDiff) -> str:
    """The whole comment: heading, summary, changes table, KPI table, simulation table."""
    lines = [f"### procflow diff: {code(result.new.process)}", "", _summary(result), ""]
    if result.changes:
        lines += ["| | what | old | new | where |", "|---|---|---|---|---|"]
        lines += [_change_row(change) for change in result.changes]
        lines.append("")
    lines += _kpis(result)
    lines += _simulation(result)
    return "\n".join(lines).rstrip("\n") + "\n"


def _summary(result: ProcessDiff) -> str:
    if not result.changes:
        text = f"No structural changes between {code(result.old.file)} and {code(result.new.file)}."
    else:
        counts = ", ".join(
            f"{result.count(kind)} {kind}" for kind in ("added", "removed", "changed")
        )
        total = len(result.changes)
        noun = "change" if total == 1 else "changes"
        text = (
            f"**{total} structural {noun}** ({counts}) from {code(result.old.file)} "
            f"to {code(result.new.file)}."
        )
    expected = expected_cycle_time(result, "→")
    if expected is not None:
        text += f" {expected[:1].upper()}{expected[1:]}."
    return text


_KIND = {"added": "➕ added", "removed": "➖ removed", "changed": "✏️ changed"}


def _change_row(change: StructuralChange) -> str:
    position = change.position
    where = code(f"{position.file}:{position.line}:{position.column}")
    subject = code(change.subject)
    what = f"{plain(change.key)} of {subject}" if change.key else subject
    return f"| {_KIND[change.kind]} | {what} | {code(change.old)} | {code(change.new)} | {where} |"


def _kpis(result: ProcessDiff) -> list[str]:
    lines: list[str] = []
    for side, version in (("old", result.old), ("new", result.new)):
        if version.analysis_error is not None:
            lines.append(f"The {side} version cannot be analyzed: {code(version.analysis_error)}")
            lines.append("")
    rows = [effect for effect in result.kpis if effect.known]
    if not rows:
        return lines
    lines += ["#### Effect on the analytic KPIs", ""]
    lines += ["| KPI | old | new | difference |", "|---|--:|--:|--:|"]
    for effect in rows:
        # a goal's label quotes its metric and target from the file: literal, in code
        label = code(effect.label) if effect.kpi.startswith("goal:") else plain(effect.label)
        if effect.changed:
            label = f"**{label}**"
        change = difference(effect.unit, effect.difference)
        lines.append(
            f"| {label} | {plain(kpi_old(effect))} | {plain(kpi_new(effect))} | {plain(change)} |"
        )
    lines.append("")
    return lines


def _simulation(result: ProcessDiff) -> list[str]:
    simulation = result.simulation
    if simulation is None:
        return []
    title = (
        f"#### Simulated (common random numbers: {simulation.runs} runs of "
        f"{simulation.cases} cases, seed {simulation.seed})"
    )
    if simulation.error is not None:
        return [title, "", f"The simulation could not run: {code(simulation.error)}", ""]
    lines = [title, "", "| KPI | old | new | difference | 95% interval | significant |"]
    lines.append("|---|--:|--:|--:|--:|:-:|")
    for row in simulation.effects:
        interval = DASH
        if row.ci95 is not None:
            interval = f"{difference(row.unit, row.ci95[0])} … {difference(row.unit, row.ci95[1])}"
        significant = {True: "yes", False: "no", None: DASH}[row.significant]
        cells = [
            plain(row.label),
            plain(figure(row.unit, row.old)),
            plain(figure(row.unit, row.new)),
            plain(difference(row.unit, row.difference)),
            plain(interval),
            significant,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    return lines
