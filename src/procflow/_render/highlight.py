"""What ``--highlight`` marks, gathered from the linter and the analytic model.

Kept apart from :mod:`procflow._render.spec` so the spec stays a pure
function of its inputs (tests hand it made-up :class:`Highlights`), and so
the renderer imports lint and analyze only when a highlighted diagram is
asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from procflow._render.spec import Highlights

if TYPE_CHECKING:
    from procflow.model import Process


def collect_highlights(process: Process) -> Highlights:
    """Lint findings of ``process`` and its owners' utilization from the analytic model.

    When the model cannot run (no arrivals, a step without a duration, a
    structural error) the lanes are not shaded and a note says why.
    """
    from procflow._lint import lint
    from procflow.analysis import analyze_or_none

    findings = tuple(lint(process))
    analysis = analyze_or_none(process)
    if analysis is None:
        reason = (
            "no arrivals declared"
            if process.arrivals is None
            else "a step has no duration or the structure has errors"
        )
        return Highlights(
            findings=findings,
            analysis_note=f"utilization not shown: {reason} (see procflow analyze)",
        )
    utilization = {
        owner_id: figures.utilization
        for owner_id, figures in analysis.owners.items()
        if figures.utilization is not None
    }
    return Highlights(findings=findings, utilization=utilization, bottleneck=analysis.bottleneck)
