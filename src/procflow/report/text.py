"""Text output: ``file:line:col: CODE name: message [severity]`` per finding, then a summary.

The line format is the one of docs/commands.md, which editors and CI log
viewers turn into links. On a terminal the same lines are coloured
(:func:`print_report`); piped or written to a file they are plain.

File names and messages are shown literally, control characters escaped
(:func:`procflow.safetext.printable`): a file named ``a\n::error ...`` must
not start a line that a CI runner reads as a command, nor ``[/x]`` end a style.

Rendering strategy, for speed and for safety: no finding ever goes through
Rich *markup*, and none goes through Rich's layout engine: parsing markup
cost ~0.15 ms a finding, laying out one big :class:`~rich.text.Text` ~0.2 ms
(1.5-2 s for 10,000 findings, more than linting them), and markup is the
wrong tool for text that comes from data anyway. Plain output is the plain
lines written straight to the stream. Coloured output is (text, style)
pieces (:func:`styled`), each wrapped in the ANSI codes of its theme style
(from :meth:`rich.style.Style.render`) and written in one go; the text is
taken literally. Only a legacy Windows console, which Rich drives
through the Win32 API instead of ANSI codes, gets a :class:`~rich.text.Text`.
"""

from __future__ import annotations

from rich.console import COLOR_SYSTEMS, Console
from rich.control import strip_control_codes
from rich.text import Text

from procflow._lint import LintReport
from procflow.findings import Finding, Severity
from procflow.safetext import printable

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
    """One finding as plain text (``str(finding)`` with its texts made printable)."""
    return (
        f"{printable(finding.file)}:{finding.line}:{finding.column}: {finding.code} "
        f"{printable(finding.name)}: {printable(finding.message)} [{finding.severity}]"
    )


def styled(finding: Finding) -> list[tuple[str, str | None]]:
    """One finding as (text, style) pieces: coloured path, code and severity.

    Joined, the pieces are exactly :func:`line`; the text is taken literally.
    """
    style = _STYLE[finding.severity]
    return [
        (f"{printable(finding.file)}:{finding.line}:{finding.column}", "path"),
        (": ", None),
        (finding.code, "code"),
        (f" {printable(finding.name)}: {printable(finding.message)} ", None),
        (f"[{finding.severity}]", style),
    ]


def render(report: LintReport, *, quiet: bool = False) -> str:
    """The whole report as plain text, ending with the summary line (not when ``quiet``)."""
    lines = [line(f) for f in report.findings]
    if not quiet:
        lines.append(summary(report))
    return "".join(text + "\n" for text in lines)


def summary_style(report: LintReport) -> str:
    """The theme style of the summary line: red when lint fails, yellow with findings."""
    if report.failed:
        return "error"
    return "warning" if report.findings else "ok"


def _ansi(console: Console, name: str) -> tuple[str, str]:
    """The ANSI codes that open and close theme style ``name`` on ``console``."""
    system = COLOR_SYSTEMS[console.color_system or "standard"]
    opening, _, closing = console.get_style(name).render("\0", color_system=system).partition("\0")
    return opening, closing


def print_report(report: LintReport, console: Console, *, quiet: bool = False) -> None:
    """Print the report on ``console``: coloured on a terminal, plain when piped.

    ``quiet`` leaves out the summary line: the findings are what matters.
    """
    if console.color_system is None:  # plain: the same bytes as --output
        console.file.write(render(report, quiet=quiet))
        console.file.flush()
        return
    if console.legacy_windows:
        text = Text(end="")
        for finding in report.findings:
            for piece, style in styled(finding):
                text.append(piece, style)
            text.append("\n")
        if not quiet:
            text.append(summary(report) + "\n", summary_style(report))
        console.print(text, soft_wrap=True)
        return
    path_on, path_off = _ansi(console, "path")
    code_on, code_off = _ansi(console, "code")
    tags = {}
    for severity, name in _STYLE.items():
        on, off = _ansi(console, name)
        tags[severity] = f"{on}[{severity}]{off}"
    out = [
        f"{path_on}{printable(f.file)}:{f.line}:{f.column}{path_off}: {code_on}{f.code}{code_off} "
        f"{printable(f.name)}: {printable(f.message)} {tags[f.severity]}\n"
        for f in report.findings
    ]
    if not quiet:
        on, off = _ansi(console, summary_style(report))
        out.append(f"{on}{summary(report)}{off}\n")
    # one finding, one line (the terminal wraps it); control codes dropped as rich.text.Text does
    console.file.write(strip_control_codes("".join(out)))
    console.file.flush()
