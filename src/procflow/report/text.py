"""Text output: ``file:line:col: CODE name: message [severity]`` per finding, then a summary.

The line format is the one of SPEC section 3, which editors and CI log
viewers turn into links. On a terminal the same lines are coloured
(:func:`print_report`); piped or written to a file they are plain.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from procflow._lint import LintReport
from procflow.findings import Finding, Severity

_STYLE = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(report: LintReport) -> str:
    """``Found 3 errors, 1 warning in 2 of 7 files`` or ``All 7 files clean``."""
    files = len(report.files)
    if not report.findings:
        if files == 0:
            return "No process files found"
        return "1 file clean" if files == 1 else f"All {files} files clean"
    parts = [
        _plural(count, word)
        for count, word in (
            (report.errors, "error"),
            (report.warnings, "warning"),
            (report.infos, "info"),
        )
        if count
    ]
    checked = _plural(report.files_checked, "file")
    return f"Found {', '.join(parts)} in {report.files_with_findings} of {checked}"


def line(finding: Finding) -> str:
    """One finding as plain text."""
    return str(finding)


def markup(finding: Finding) -> str:
    """One finding as rich markup (coloured path, code and severity)."""
    style = _STYLE[finding.severity]
    return (
        f"[path]{escape(finding.file)}:{finding.line}:{finding.column}[/path]: "
        f"[code]{finding.code}[/code] {escape(finding.name)}: {escape(finding.message)} "
        f"[{style}]\\[{finding.severity}][/{style}]"
    )


def render(report: LintReport) -> str:
    """The whole report as plain text, ending with the summary line."""
    lines = [line(f) for f in report.findings]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def print_report(report: LintReport, console: Console) -> None:
    """Print the report on ``console``: coloured on a terminal, plain when piped."""
    for finding in report.findings:
        console.print(markup(finding), soft_wrap=True)  # one finding, one line: let it wrap
    if report.failed:
        style = "error"
    elif report.findings:
        style = "warning"
    else:
        style = "ok"
    console.print(f"[{style}]{escape(summary(report))}[/{style}]")
