"""Four small renderers of one sorted list of findings: text, JSON, SARIF, GitHub annotations.

Each renderer is a pure function ``render(report) -> str`` of a
:class:`~procflow.lint.LintReport`; none of them lints, reads files or
decides exit codes. The text renderer can also print with colour
(:func:`procflow.report.text.print_report`).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

from procflow.htmlreport import report
from procflow.lint import LintReport
from procflow.report import github, json, sarif, text

Renderer = Callable[[LintReport], str]

#: ``--format`` name -> renderer.
RENDERERS: dict[str, Renderer] = {
    "text": text.render,
    "json": json.render,
    "sarif": sarif.render,
    "github": github.render,
}
FORMATS: tuple[str, ...] = tuple(RENDERERS)


def render(report: LintReport, format: str = "text") -> str:
    """The report in ``format`` (one of :data:`FORMATS`), as plain text."""
    try:
        renderer = RENDERERS[format]
    except KeyError:
        raise ValueError(f"unknown format {format!r}: use {', '.join(FORMATS)}") from None
    return renderer(report)


class _CallableModule(types.ModuleType):
    """Lets ``procflow.report(paths)`` (the HTML report) work after ``import procflow.report``.

    Importing this subpackage binds it as the attribute ``procflow.report``,
    shadowing the public function of the same name (:func:`procflow.htmlreport.report`);
    calling the module calls that function.
    """

    __call__ = staticmethod(report)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["FORMATS", "RENDERERS", "render", "report"]
