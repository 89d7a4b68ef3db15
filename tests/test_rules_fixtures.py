"""Every rule fires where its fixtures say, and stays quiet where they say nothing.

``tests/fixtures/rules/<CODE>/fire-*.yaml`` must produce a finding of
``<CODE>``; ``quiet-*.yaml`` must produce none. Each ``# expect: CODE line:col``
comment is one finding, and a fixture's findings must be exactly the ones it
declares -- of every code, not only the rule under test -- so a fixture also
pins that a problem is reported once, by the rule it belongs to, and not
again by another.

Everything goes through the lint engine, as ``procflow lint`` does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from procflow._lint import lint_file
from procflow.config import LintConfig

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
EXPECT = re.compile(r"^#\s*expect:\s*(PF\d{3})\s+(\d+):(\d+)\s*$", re.MULTILINE)


def rule_fixtures() -> list[Path]:
    return sorted(
        path for path in FIXTURES.glob("PF*/*.yaml") if path.name.startswith(("fire-", "quiet-"))
    )


def expected(path: Path) -> set[tuple[str, int, int]]:
    return {
        (code, int(line), int(column)) for code, line, column in EXPECT.findall(path.read_text())
    }


@pytest.mark.parametrize("path", rule_fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_findings_are_exactly_the_declared_ones(path: Path) -> None:
    code = path.parent.name
    wanted = expected(path)
    codes = {c for c, _line, _column in wanted}
    if path.name.startswith("fire-"):
        assert code in codes, f"{path}: a fire fixture must expect at least one {code}"
    else:
        assert code not in codes, f"{path}: a quiet fixture must not expect {code}"
    findings = lint_file(path, LintConfig())
    got = {(f.code, f.line, f.column) for f in findings}
    assert got == wanted, "\n".join(str(f) for f in findings)
    assert len(findings) == len(got), "a finding is reported twice"
    for finding in findings:
        assert "internal error" not in finding.message


def test_every_fixture_file_is_named_fire_or_quiet() -> None:
    for path in FIXTURES.glob("PF*/*.yaml"):
        assert path.name.startswith(("fire-", "quiet-")), path
