"""GitHub Actions workflow commands: one annotation per finding on the pull request.

``::error file=F,line=L,col=C,title=PF201 missing-owner::message`` -- info
findings become ``notice`` annotations. Values are escaped as the runner
expects (``%`` ``\\r`` ``\\n`` everywhere; ``:`` and ``,`` in properties), so a
message can never end an annotation early or inject another command. Other
control characters (an escape sequence in a file name) are shown as
backslash escapes first (:func:`procflow.safetext.printable_breaks`).
"""

from __future__ import annotations

from procflow._lint import LintReport
from procflow.findings import Finding, Severity
from procflow.safetext import printable_breaks

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
            f"file={escape_property(printable_breaks(finding.file))}",
            f"line={finding.line}",
            f"col={finding.column}",
            f"title={escape_property(printable_breaks(f'{finding.code} {finding.name}'))}",
        ]
    )
    message = escape_data(printable_breaks(finding.message))
    return f"::{_COMMAND[finding.severity]} {properties}::{message}"


def render(report: LintReport) -> str:
    return "".join(annotation(f) + "\n" for f in report.findings)
