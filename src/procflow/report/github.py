"""GitHub Actions workflow commands: one annotation per finding on the pull request.

``::error file=F,line=L,col=C,title=PF201 missing-owner::message`` -- info
findings become ``notice`` annotations. Values are escaped as the runner
expects (``%`` ``\\r`` ``\\n`` everywhere; ``:`` and ``,`` in properties), so a
message can never end an annotation early or inject another command.
"""

from __future__ import annotations

from procflow._lint import LintReport
from procflow.findings import Finding, Severity

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """Escape a message (the part after ``::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``file=``, ``title=``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    properties = ",".join(
        [
            f"file={escape_property(finding.file)}",
            f"line={finding.line}",
            f"col={finding.column}",
            f"title={escape_property(f'{finding.code} {finding.name}')}",
        ]
    )
    return f"::{_COMMAND[finding.severity]} {properties}::{escape_data(finding.message)}"


def render(report: LintReport) -> str:
    return "".join(annotation(f) + "\n" for f in report.findings)
