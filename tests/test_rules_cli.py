"""``procflow rules`` and ``procflow rule CODE|NAME`` through the command line."""

from __future__ import annotations

import json

import pytest

from helpers import run
from procflow.rules import all_rules


def test_rules_lists_the_catalog_as_an_aligned_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "rules")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["code", "name", "severity", "summary"]
    rows = {line.split()[0]: line for line in lines[1:] if line.startswith("PF")}
    assert list(rows) == [r.code for r in all_rules()]
    assert rows["PF105"].split()[1:4] == ["no-way-out", "error", "Some"]
    assert rows["PF302"].split()[2] == "info"
    summary_column = lines[0].index("summary")
    assert all(
        line.index(rule.summary) == summary_column
        for rule in all_rules()
        for line in [rows[rule.code]]
    )
    assert all(line == line.rstrip() for line in lines)  # piped: no padding, no colour codes
    assert "\x1b[" not in out


def test_rules_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "rules", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["version"] == 1
    by_code = {r["code"]: r for r in data["rules"]}
    assert by_code["PF204"] == {
        "code": "PF204",
        "name": "single-point-of-failure",
        "severity": "warning",
        "summary": "An owner with capacity 1 owns a step that every case must pass through.",
    }
    assert len(by_code) == len(all_rules())


@pytest.mark.parametrize("rule_id", ["PF105", "pf105", "no-way-out"])
def test_rule_prints_the_documentation(capsys: pytest.CaptureFixture[str], rule_id: str) -> None:
    code, out, _err = run(capsys, "rule", rule_id)
    assert code == 0
    assert out.startswith("PF105 no-way-out (error by default)\n\n")
    assert "## What it does" in out
    assert "## Use instead" in out
    assert "```yaml" in out


def test_rule_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "rule", "unused-owner", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["code"], data["severity"]) == ("PF203", "warning")
    assert data["doc"].startswith(data["summary"])


def test_rule_renders_markdown_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, out, _err = run(capsys, "rule", "PF205")
    assert code == 0
    assert "\x1b[" in out
    assert "## What it does" not in out  # rendered as a heading, not shown as markup
    assert "What it does" in out


def test_unknown_rule_exits_2_and_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "rule", "PF1O5")
    assert code == 2
    assert out == ""
    assert "unknown rule 'PF1O5'" in err
    assert "did you mean PF105 no-way-out" in err
    assert "Traceback" not in err
