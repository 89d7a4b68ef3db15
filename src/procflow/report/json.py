"""JSON output, exactly the shape of SPEC section 3 (versioned from day one)::

{"version": 1,
 "findings": [{"code", "name", "severity", "file", "line", "column",
               "process", "subject", "message"}, ...],
 "summary": {"files", "errors", "warnings", "infos"}}
"""

from __future__ import annotations

import json
from typing import Any

from procflow._lint import LintReport

VERSION = 1


def document(report: LintReport) -> dict[str, Any]:
    """The report as JSON-ready data."""
    return {
        "version": VERSION,
        "findings": [finding.to_dict() for finding in report.findings],
        "summary": report.summary(),
    }


def render(report: LintReport) -> str:
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"
