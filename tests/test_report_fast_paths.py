"""The fast text and JSON renderers give exactly the bytes of the obvious slow ones.

``report/json.py`` formats findings without ``json.dumps(indent=2)`` and
``report/text.py`` colours findings without Rich markup or layout (both for
speed: issue 11). These tests pin that nothing but the speed changed, for
any characters a file name or message can hold.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from procflow._lint import LintReport
from procflow.cli.console import THEME
from procflow.findings import Finding, Severity
from procflow.report import json as json_report
from procflow.report import render
from procflow.report import text as text_report
from procflow.safetext import json_text

texts = st.text(max_size=30)
findings = st.builds(
    Finding,
    file=texts,
    line=st.integers(1, 10**6),
    column=st.integers(1, 10**4),
    code=st.from_regex(r"PF[0-9]{3}", fullmatch=True),
    name=texts,
    severity=st.sampled_from(list(Severity)),
    message=texts,
    process=st.none() | texts,
    subject=st.none() | texts,
)
reports = st.builds(
    lambda fs, files: LintReport(tuple(files), tuple(sorted(fs))),
    st.lists(findings, max_size=5),
    st.lists(texts, max_size=3),
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@given(reports)
def test_json_is_byte_for_byte_json_dumps(report: LintReport) -> None:
    # json.dumps, then DEL, C1 and bidirectional characters as \\uXXXX (procflow.safetext)
    expected = json_text(json_report.document(report)) + "\n"
    assert json_report.render(report) == expected


def _terminal() -> tuple[Console, io.StringIO]:
    stream = io.StringIO()
    console = Console(
        file=stream, theme=THEME, force_terminal=True, color_system="standard", highlight=False
    )
    return console, stream


@given(reports.filter(lambda r: all("\x1b" not in str(f) for f in r.findings)))
def test_colour_is_the_plain_text_with_ansi_codes(report: LintReport) -> None:
    console, stream = _terminal()
    text_report.print_report(report, console)
    coloured = stream.getvalue()
    plain = render(report, "text")
    # Rich's rule for terminal text: a few control codes (BEL, BS, VT, FF, CR) are dropped
    for code in "\x07\x08\x0b\x0c\x0d":
        plain = plain.replace(code, "")
    assert ANSI.sub("", coloured) == plain


def test_colours_follow_the_theme() -> None:
    finding = Finding("p.yaml", 3, 5, "PF201", "missing-owner", Severity.ERROR, "no [b]owner[/b]")
    console, stream = _terminal()
    text_report.print_report(LintReport(("p.yaml",), (finding,)), console)
    assert stream.getvalue() == (
        "\x1b[1mp.yaml:3:5\x1b[0m: \x1b[35mPF201\x1b[0m missing-owner: no [b]owner[/b] "
        "\x1b[1;31m[error]\x1b[0m\n"
        "\x1b[1;31mFound 1 error in 1 of 1 file\x1b[0m\n"
    )


def test_quiet_keeps_the_findings_and_drops_the_summary() -> None:
    finding = Finding("p.yaml", 3, 5, "PF203", "unused-owner", Severity.WARNING, "m")
    report = LintReport(("p.yaml",), (finding,))
    assert text_report.render(report, quiet=True) == str(finding) + "\n"
    console, stream = _terminal()
    text_report.print_report(report, console, quiet=True)
    assert ANSI.sub("", stream.getvalue()) == str(finding) + "\n"
    clean = LintReport(("p.yaml",), ())
    assert text_report.render(clean, quiet=True) == ""


def test_plain_console_writes_the_plain_report() -> None:
    finding = Finding("p.yaml", 3, 5, "PF203", "unused-owner", Severity.WARNING, "[/x] m")
    report = LintReport(("p.yaml",), (finding,))
    stream = io.StringIO()
    text_report.print_report(report, Console(file=stream, theme=THEME, color_system=None))
    assert stream.getvalue() == render(report, "text")


def test_a_typo_hint_is_worked_out_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Thousands of findings naming one misspelt owner ask difflib once (issue 11: 30 s)."""
    import difflib

    from procflow._lint import lint_paths
    from procflow.errors import did_you_mean

    calls: list[str] = []
    real = difflib.get_close_matches

    def counting(word: str, *args: object, **kwargs: object) -> list[str]:
        calls.append(word)
        return real(word, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(difflib, "get_close_matches", counting)
    steps = "".join(
        f"  s{i}: {{owner: clrek-unique, duration: 1m, next: s{i + 1}}}\n" for i in range(300)
    )
    text = (
        "process: typos\nowners: {clerk-unique: {capacity: 9}}\narrivals: {rate: 1/h}\n"
        f"start: s0\nsteps:\n{steps}  s300: {{end: true}}\n"
    )
    target = tmp_path / "typos.yaml"
    target.write_text(text, encoding="utf-8")
    findings = [f for f in lint_paths([str(target)]).findings if f.code == "PF202"]
    assert len(findings) == 300
    assert all("did you mean 'clerk-unique'?" in f.message for f in findings)
    # once for the hint, once in PF203 (an owner misspelt everywhere is not "unused"); not 300
    assert calls.count("clrek-unique") == 2
    assert did_you_mean("clrek-unique", ["clerk-unique"]) == " (did you mean 'clerk-unique'?)"
    assert did_you_mean("zzz", ["clerk-unique"]) == ""
