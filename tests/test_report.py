"""The text, JSON and GitHub renderers of one sorted list of findings."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from procflow._lint import LintReport
from procflow.cli.console import THEME
from procflow.findings import Finding, Severity
from procflow.report import FORMATS, render
from procflow.report import github as github_report
from procflow.report import text as text_report

FINDINGS = (
    Finding(
        "processes/cs.yaml",
        14,
        5,
        "PF201",
        "missing-owner",
        Severity.ERROR,
        "step 'triage' has no owner",
        "customer-service",
        "triage",
    ),
    Finding(
        "processes/cs.yaml",
        20,
        3,
        "PF203",
        "unused-owner",
        Severity.WARNING,
        "owner 'tier3' is declared but never used [sic]",
        "customer-service",
        "tier3",
    ),
    Finding("processes/other.yaml", 1, 1, "PF303", "no-feedback", Severity.INFO, "no loops"),
)
FILES = tuple(f"processes/{name}.yaml" for name in ("cs", "other", "a", "b", "c", "d", "e"))


def report(findings: tuple[Finding, ...] = FINDINGS, files: tuple[str, ...] = FILES) -> LintReport:
    return LintReport(files, findings)


def test_formats() -> None:
    assert FORMATS == ("text", "json", "sarif", "github")
    with pytest.raises(ValueError, match="unknown format"):
        render(report(), "xml")


# --------------------------------------------------------------------------
# text


def test_text_lines_are_the_spec_format() -> None:
    lines = render(report(), "text").splitlines()
    assert lines == [
        "processes/cs.yaml:14:5: PF201 missing-owner: step 'triage' has no owner [error]",
        "processes/cs.yaml:20:3: PF203 unused-owner: owner 'tier3' is declared but never used "
        "[sic] [warning]",
        "processes/other.yaml:1:1: PF303 no-feedback: no loops [info]",
        "Found 1 error, 1 warning, 1 info in 2 of 7 files",
    ]


@pytest.mark.parametrize(
    ("findings", "files", "summary"),
    [
        ((), FILES, "All 7 files clean"),
        ((), FILES[:1], "1 file clean"),
        ((), (), "No process files found"),
        (FINDINGS[:1], FILES[:1], "Found 1 error in 1 of 1 file"),
        (FINDINGS[:1] * 3, FILES[:2], "Found 3 errors in 1 of 2 files"),
        (FINDINGS[1:2] * 2, FILES, "Found 2 warnings in 1 of 7 files"),
    ],
)
def test_text_summary(findings: tuple[Finding, ...], files: tuple[str, ...], summary: str) -> None:
    assert text_report.summary(report(findings, files)) == summary
    assert render(report(findings, files), "text").splitlines()[-1] == summary


def test_text_is_coloured_on_a_terminal_and_keeps_brackets_in_messages() -> None:
    stream = io.StringIO()
    console = Console(
        file=stream, theme=THEME, force_terminal=True, color_system="standard", highlight=False
    )
    text_report.print_report(report(), console)
    output = stream.getvalue()
    assert "\x1b[" in output
    assert "[sic]" in output
    assert "[error]" in output
    assert "[warning]" in output


def test_text_is_plain_when_piped() -> None:
    stream = io.StringIO()
    console = Console(file=stream, theme=THEME, color_system=None, width=200)
    text_report.print_report(report(), console)
    assert "\x1b[" not in stream.getvalue()
    assert stream.getvalue() == render(report(), "text")


# --------------------------------------------------------------------------
# JSON


def test_json_is_exactly_the_spec_shape() -> None:
    data = json.loads(render(report(FINDINGS[:1], FILES[:1]), "json"))
    assert data == {
        "version": 1,
        "findings": [
            {
                "code": "PF201",
                "name": "missing-owner",
                "severity": "error",
                "file": "processes/cs.yaml",
                "line": 14,
                "column": 5,
                "process": "customer-service",
                "subject": "triage",
                "message": "step 'triage' has no owner",
            }
        ],
        "summary": {"files": 1, "errors": 1, "warnings": 0, "infos": 0},
    }
    assert list(data) == ["version", "findings", "summary"]
    assert list(data["findings"][0]) == [
        "code",
        "name",
        "severity",
        "file",
        "line",
        "column",
        "process",
        "subject",
        "message",
    ]


def test_json_counts_and_nulls() -> None:
    data = json.loads(render(report(), "json"))
    assert data["summary"] == {"files": 7, "errors": 1, "warnings": 1, "infos": 1}
    assert data["findings"][2]["process"] is None
    assert data["findings"][2]["subject"] is None
    assert json.loads(render(report((), ()), "json")) == {
        "version": 1,
        "findings": [],
        "summary": {"files": 0, "errors": 0, "warnings": 0, "infos": 0},
    }


# --------------------------------------------------------------------------
# GitHub annotations


def test_github_annotations() -> None:
    lines = render(report(), "github").splitlines()
    assert lines == [
        "::error file=processes/cs.yaml,line=14,col=5,title=PF201 missing-owner::"
        "step 'triage' has no owner",
        "::warning file=processes/cs.yaml,line=20,col=3,title=PF203 unused-owner::"
        "owner 'tier3' is declared but never used [sic]",
        "::notice file=processes/other.yaml,line=1,col=1,title=PF303 no-feedback::no loops",
    ]
    assert render(report((), FILES), "github") == ""


def test_github_escapes_data_and_properties() -> None:
    finding = Finding(
        "odd,dir/a:b.yaml",
        2,
        3,
        "PF101",
        "unknown-target",
        Severity.ERROR,
        "100% broken\nsecond line\r::error::injected",
    )
    [line] = render(report((finding,), ("x",)), "github").splitlines()
    assert line == (
        "::error file=odd%2Cdir/a%3Ab.yaml,line=2,col=3,title=PF101 unknown-target::"
        "100%25 broken%0Asecond line%0D::error::injected"
    )
    assert github_report.escape_property("a:b,c%") == "a%3Ab%2Cc%25"
