"""The lint engine: rules in isolation, positions, selection, suppressions, broken files."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

import procflow
from helpers import CLEAN, CUSTOMER_SERVICE, ROOT, write
from procflow._lint import (
    LintReport,
    Plan,
    Suppressions,
    available_rules,
    blocking_problems,
    document_kind,
    enabled_rules,
    ensure_runnable,
    lint,
    lint_file,
    lint_paths,
)
from procflow.config import LintConfig, Selection
from procflow.errors import ConfigError, FileAccessError, ProcessError
from procflow.findings import Finding, Severity
from procflow.loader import load_text
from procflow.rules.base import REGISTRY, LintContext, Rule, Violation, rule

UNUSED_OWNER = CLEAN.replace("  clerk: {capacity: 2}\n", "  clerk: {capacity: 2}\n  idle: {}\n")


def codes(findings: Iterable[Finding]) -> list[str]:
    return [f.code for f in findings]


@pytest.fixture
def temporary_rule() -> Iterator[list[str]]:
    """Register rules for one test and remove them afterwards."""
    added: list[str] = []
    yield added
    for code in added:
        REGISTRY.pop(code, None)


def register(added: list[str], code: str, name: str, severity: Severity, check: object) -> None:
    rule(code, name, severity)(check)  # type: ignore[arg-type]
    added.append(code)


# --------------------------------------------------------------------------
# the public API


def test_procflow_lint_is_callable_on_a_process() -> None:
    process = procflow.load(CUSTOMER_SERVICE)
    findings = procflow.lint(process)
    assert isinstance(findings, list)
    assert all(isinstance(f, Finding) for f in findings)
    assert findings == sorted(findings)


@pytest.mark.parametrize(
    "statement",
    [
        "import procflow; f = procflow.lint",
        "from procflow._lint import lint_paths; import procflow; f = procflow.lint",
    ],
)
def test_procflow_lint_is_callable_whatever_was_imported_first(statement: str) -> None:
    code = (
        f"{statement}\n"
        "p = __import__('procflow').load_text(open(r'%s').read(), 'x.yaml')\n"
        "print(type(f(p)).__name__)\n" % CUSTOMER_SERVICE
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "list"


def test_clean_process_has_no_findings() -> None:
    assert lint(load_text(CLEAN, "tiny.yaml")) == []


def test_finding_points_at_the_key_of_what_it_is_about() -> None:
    findings = lint(load_text(UNUSED_OWNER, "p.yaml"))
    assert [(f.code, f.line, f.column, f.subject) for f in findings] == [("PF203", 4, 3, "idle")]
    assert findings[0].process == "tiny"
    assert findings[0].file == "p.yaml"
    assert findings[0].severity is Severity.WARNING


ROSTER_PROCESS = CLEAN.replace(
    "owners:\n  clerk: {capacity: 2}\n", "roster: team.yaml\narrivals: {rate: 30/h}\n"
)


def test_roster_owner_findings_point_into_the_roster_file(tmp_path: Path) -> None:
    write(tmp_path, "team.yaml", "owners:\n  spare: {capacity: 3}\n  clerk: {capacity: 1}\n")
    findings = lint_file(write(tmp_path, "p.yaml", ROSTER_PROCESS))
    overloaded = [(Path(f.file).name, f.line, f.column) for f in findings if f.code == "PF501"]
    assert overloaded == [("team.yaml", 3, 3)]


# --------------------------------------------------------------------------
# broken files are findings, and never hide the others


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("process: x\nsteps: [a\n", "PF001", 3),
        ("process: x\nstart: a\nsteps:\n  a: {end: true, colour: red}\n", "PF002", 4),
        ("process: x\nstart: a\nsteps:\n  a: {end: true}\n  a: {end: true}\n", "PF003", 5),
        ("", "PF002", 1),
        ("- a\n- b\n", "PF002", 1),
        ("\x00\x01binary", "PF001", 1),
    ],
)
def test_broken_files_become_findings(tmp_path: Path, text: str, code: str, line: int) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(text.encode("utf-8"))
    findings = lint_file(path)
    assert code in codes(findings)
    first = next(f for f in findings if f.code == code)
    assert first.line == line
    assert first.file == str(path)
    assert first.severity is Severity.ERROR


def test_duplicate_keys_do_not_stop_the_rules(tmp_path: Path) -> None:
    text = UNUSED_OWNER.replace("start: check\n", "start: check\nstart: check\n")
    findings = lint_file(write(tmp_path, "dup.yaml", text))
    assert codes(findings) == ["PF203", "PF003"]  # sorted by line: owner (4), duplicate (6)


def test_fifty_files_three_broken_reports_the_three_and_lints_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "processes"
    for index in range(50):
        text = UNUSED_OWNER.replace("process: tiny", f"process: p{index:02d}")
        write(folder, f"p{index:02d}.yaml", text)
    write(folder, "p07.yaml", "process: p07\nsteps: {a: [\n")  # not YAML
    write(folder, "p21.yaml", "process: p21\nstart: a\nsteps: 3\n")  # not a process
    (folder / "p42.yaml").write_bytes(b"process: p42\n\xff\xfe oops\n")  # not UTF-8
    report = lint_paths([folder])
    assert len(report.files) == 50
    broken = {Path(f.file).name: f.code for f in report.findings if f.code in ("PF001", "PF002")}
    assert broken == {"p07.yaml": "PF001", "p21.yaml": "PF002", "p42.yaml": "PF001"}
    linted = {Path(f.file).name for f in report.findings if f.code == "PF203"}
    assert len(linted) == 47
    assert report.exit_code == 1
    assert list(report.findings) == sorted(report.findings)


def test_a_missing_path_is_an_access_error(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError):
        lint_paths([tmp_path / "nope.yaml"])


def test_the_same_file_given_twice_is_linted_once(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", UNUSED_OWNER)
    report = lint_paths([path, tmp_path, str(tmp_path / "*.yaml")])
    assert report.files == (str(path),)
    assert codes(report.findings) == ["PF203"]


def test_change_and_roster_files_are_linted_as_what_they_are(tmp_path: Path) -> None:
    write(tmp_path, "team.yaml", "owners:\n  clerk: {capacity: 2}\n")
    write(tmp_path, "hire.yaml", "change: hire\npatch:\n  owners:\n    clerk: {capacity: 3}\n")
    write(tmp_path, "bad-change.yaml", "change: Bad Name\npatch: {}\n")
    write(tmp_path, "bad-team.yaml", "owners:\n  clerk: {capacity: 0}\n")
    report = lint_paths([tmp_path])
    assert [(Path(f.file).name, f.code) for f in report.findings] == [
        ("bad-change.yaml", "PF002"),
        ("bad-team.yaml", "PF002"),
    ]


def test_document_kind() -> None:
    assert document_kind({"owners": {}}) == "roster"
    assert document_kind({"change": "x", "patch": {}}) == "change"
    assert document_kind({"process": "x", "owners": {}}) == "process"
    assert document_kind({}) == "process"
    assert document_kind(None) == "process"
    assert document_kind([1]) == "process"


# --------------------------------------------------------------------------
# a rule that crashes is a finding, not an aborted run


def test_a_crashing_rule_becomes_a_finding_and_the_others_still_run(
    tmp_path: Path, temporary_rule: list[str]
) -> None:
    def explode(ctx: LintContext) -> Iterable[Violation]:
        """Always crashes."""
        yield Violation("first", "check", ("steps", "check"))
        raise ZeroDivisionError("division by zero")

    register(temporary_rule, "PF990", "test-explodes", Severity.INFO, explode)
    findings = lint_file(write(tmp_path, "p.yaml", UNUSED_OWNER))
    crash = [f for f in findings if f.code == "PF990"]
    assert [(f.line, f.severity) for f in crash] == [(1, Severity.ERROR), (7, Severity.INFO)]
    assert "internal error" in crash[0].message
    assert "ZeroDivisionError" in crash[0].message
    assert "PF203" in codes(findings)  # the other rules ran


def test_a_violation_with_an_unknown_path_falls_back_to_the_nearest_node(
    temporary_rule: list[str],
) -> None:
    def odd(ctx: LintContext) -> Iterable[Violation]:
        """Points somewhere that does not exist."""
        yield Violation("odd", None, ("steps", "check", "nothing", 3))

    register(temporary_rule, "PF991", "test-odd-path", Severity.WARNING, odd)
    [finding] = [f for f in lint(load_text(CLEAN, "p.yaml")) if f.code == "PF991"]
    assert (finding.line, finding.column) == (6, 3)


# --------------------------------------------------------------------------
# selection: longest match wins, ignore wins ties, layers


def fake_catalog() -> list[Rule]:
    def none(ctx: LintContext) -> Iterable[Violation]:
        return ()

    return [
        Rule(code, name, Severity.WARNING, none)
        for code, name in [
            ("PF101", "unknown-target"),
            ("PF105", "no-way-out"),
            ("PF201", "missing-owner"),
            ("PF203", "unused-owner"),
            ("PF301", "unmarked-loop"),
        ]
    ]


@pytest.mark.parametrize(
    ("select", "ignore", "expected"),
    [
        (None, (), ["PF101", "PF105", "PF201", "PF203", "PF301"]),
        (("PF2",), (), ["PF201", "PF203"]),
        (("PF1", "PF2"), ("PF203",), ["PF101", "PF105", "PF201"]),
        (("PF203",), ("PF2",), ["PF203"]),  # the longer selector wins
        (("PF2",), ("PF2",), []),  # ignore wins a tie
        (("unused-owner",), (), ["PF203"]),  # names
        (None, ("no-way-out", "PF3"), ["PF101", "PF201", "PF203"]),
        (("ALL",), ("PF1",), ["PF201", "PF203", "PF301"]),
        (("PF",), ("PF10",), ["PF201", "PF203", "PF301"]),
    ],
)
def test_select_and_ignore(
    select: tuple[str, ...] | None, ignore: tuple[str, ...], expected: list[str]
) -> None:
    config = LintConfig(select=select, ignore=ignore)
    assert [r.code for r in enabled_rules(config, fake_catalog())] == expected


def test_command_line_layer_wins_over_the_file() -> None:
    catalog = fake_catalog()
    file = LintConfig(select=("PF1", "PF2"), ignore=("PF203",), origin="pyproject.toml")
    # an ignore-only layer adjusts what the file enabled
    assert [r.code for r in enabled_rules(file.override(ignore=["PF105"]), catalog)] == [
        "PF101",
        "PF201",
    ]
    # a select layer starts again from nothing
    assert [r.code for r in enabled_rules(file.override(select=["PF203"]), catalog)] == ["PF203"]
    assert file.override(select=["PF3"]).selections == (
        Selection(("PF1", "PF2"), ("PF203",), "pyproject.toml"),
        Selection(("PF3",), (), "the command line"),
    )


@pytest.mark.parametrize("selector", ["PF9", "PF1011", "nonsense", "pf-203"])
def test_unknown_selectors_are_config_errors(selector: str) -> None:
    with pytest.raises(ConfigError, match="unknown rule"):
        enabled_rules(LintConfig(select=(selector,)), fake_catalog())
    with pytest.raises(ConfigError, match="--ignore"):
        enabled_rules(LintConfig().override(ignore=[selector]), fake_catalog())


def test_select_applies_to_loader_findings_too(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", UNUSED_OWNER.replace("start: check\n", "start: check\n" * 2))
    assert codes(lint_file(path, LintConfig(ignore=("PF003",)))) == ["PF203"]
    assert codes(lint_file(path, LintConfig(select=("duplicate-key",)))) == ["PF003"]


def test_severity_overrides_most_specific_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", UNUSED_OWNER)
    config = LintConfig(severity={"PF2": Severity.INFO, "unused-owner": Severity.ERROR})
    [finding] = lint_file(path, config)
    assert finding.severity is Severity.ERROR
    [finding] = lint_file(path, LintConfig(severity={"PF2": "info"}))  # type: ignore[dict-item]
    assert finding.severity is Severity.INFO
    with pytest.raises(ConfigError, match="severity"):
        Plan.build(LintConfig(severity={"PF999": Severity.INFO}))


def test_settings_reach_the_rules(temporary_rule: list[str]) -> None:
    seen = []

    def spy(ctx: LintContext) -> Iterable[Violation]:
        """Records the settings."""
        seen.append((ctx.settings.bottleneck_threshold, ctx.settings.today.isoformat()))
        return ()

    register(temporary_rule, "PF992", "test-spy", Severity.INFO, spy)
    from datetime import date

    config = LintConfig(bottleneck_threshold=0.7, today=date(2030, 1, 2), select=("PF992",))
    lint(load_text(CLEAN), config)
    assert seen == [(0.7, "2030-01-02")]


# --------------------------------------------------------------------------
# suppression comments


@pytest.mark.parametrize(
    "comment",
    [
        "# procflow: ignore[PF203]",
        "# procflow: ignore[unused-owner]",
        "# procflow: ignore[PF101, unused-owner]",
        "#procflow:ignore[PF2]",
        "# procflow: ignore",
        "# a note   # procflow: ignore[pf203]",
    ],
)
def test_line_suppressions(tmp_path: Path, comment: str) -> None:
    text = UNUSED_OWNER.replace("  idle: {}\n", f"  idle: {{}}   {comment}\n")
    assert lint_file(write(tmp_path, "p.yaml", text)) == []


@pytest.mark.parametrize(
    "comment",
    [
        "# procflow: ignore[PF201]",  # another code
        "# procflow: ignore[missing-owner]",
        "# procflow: ignore-me",
    ],
)
def test_line_suppressions_of_other_codes_do_not_silence(tmp_path: Path, comment: str) -> None:
    text = UNUSED_OWNER.replace("  idle: {}\n", f"  idle: {{}}   {comment}\n")
    assert codes(lint_file(write(tmp_path, "p.yaml", text))) == ["PF203"]


def test_a_suppression_on_another_line_does_not_silence(tmp_path: Path) -> None:
    text = UNUSED_OWNER.replace("start: check\n", "start: check  # procflow: ignore[PF203]\n")
    assert codes(lint_file(write(tmp_path, "p.yaml", text))) == ["PF203"]


@pytest.mark.parametrize(
    ("comment", "left"),
    [
        ("# procflow: ignore-file[PF203]", ["PF003"]),
        ("# procflow: ignore-file[PF003, unused-owner]", []),
        ("# procflow: ignore-file[PF003]", ["PF203"]),
        ("# procflow: ignore-file[PF0]", ["PF203"]),
        ("# procflow: ignore-file", []),
    ],
)
def test_file_suppressions(tmp_path: Path, comment: str, left: list[str]) -> None:
    text = UNUSED_OWNER.replace("start: check\n", "start: check\nstart: check\n")
    text = text + comment + "\n"
    assert sorted(codes(lint_file(write(tmp_path, "p.yaml", text)))) == left


def test_suppressions_in_a_roster_apply_to_its_findings(tmp_path: Path) -> None:
    write(tmp_path, "team.yaml", "owners:\n  clerk: {capacity: 1}  # procflow: ignore[PF501]\n")
    findings = lint_file(write(tmp_path, "p.yaml", ROSTER_PROCESS))
    assert "PF501" not in codes(findings)
    assert "PF204" in codes(findings)  # it points at the step, in the process file


def test_suppressions_parse() -> None:
    parsed = Suppressions.parse(
        "a: 1  # procflow: ignore[PF101,  PF2 ]\n"
        "b: 2\n"
        "c: 3  # procflow: ignore\n"
        "# procflow: ignore-file[PF303]\n"
    )
    assert parsed.lines == {1: ("PF101", "PF2"), 3: None}
    assert parsed.file == [("PF303",)]
    assert not Suppressions.parse("a: 1  # nothing here\n")


# --------------------------------------------------------------------------
# the gate for analyze / simulate / live cases


def test_ensure_runnable_accepts_a_sound_process() -> None:
    ensure_runnable(procflow.load(CUSTOMER_SERVICE))
    ensure_runnable(load_text(CLEAN))


def test_ensure_runnable_accepts_owner_less_steps() -> None:
    text = CLEAN.replace("    owner: clerk\n", "")
    ensure_runnable(load_text(text))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (("to: done, p: 0.9", "to: gone, p: 0.9"), "PF101"),
        (("start: check", "start: nowhere"), "PF102"),
        (("p: 0.9", "p: 0.5"), "PF401"),
        (("owner: clerk", "owner: ghost"), "PF202"),
        (("  done:\n    end: true\n", "  done:\n    end: true\n    next: check\n"), "PF106"),
    ],
)
def test_ensure_runnable_refuses_structural_errors(change: tuple[str, str], code: str) -> None:
    text = CLEAN.replace(*change)
    process = load_text(text, "p.yaml")
    with pytest.raises(ProcessError) as caught:
        ensure_runnable(process)
    assert code in [p.code for p in caught.value.problems]
    assert all(p.position.file == "p.yaml" and p.position.line > 1 for p in caught.value.problems)
    assert "cannot be run" in caught.value.summary


def test_unknown_goal_owner_does_not_block() -> None:
    text = CLEAN + "goals:\n  - id: g\n    metric: wip\n    target: '<= 3'\n    owner: ghost\n"
    process = load_text(text)
    assert "PF202" in codes(lint(process))
    assert blocking_problems(process) == []


# --------------------------------------------------------------------------
# reports


def test_report_counts_and_exit_code() -> None:
    def finding(severity: Severity, file: str = "a.yaml") -> Finding:
        return Finding(file, 1, 1, "PF999", "x", severity, "m")

    report = LintReport(
        ("a.yaml", "b.yaml", "c.yaml"),
        (finding(Severity.ERROR), finding(Severity.WARNING, "b.yaml"), finding(Severity.INFO)),
    )
    assert (report.errors, report.warnings, report.infos) == (1, 1, 1)
    assert report.files_with_findings == 2
    assert report.summary() == {"files": 3, "errors": 1, "warnings": 1, "infos": 1}
    assert report.exit_code == 1
    warnings_only = LintReport(("a.yaml",), (finding(Severity.WARNING),))
    assert warnings_only.exit_code == 0
    assert LintReport(("a.yaml",), (finding(Severity.WARNING),), Severity.WARNING).exit_code == 1
    assert LintReport(("a.yaml",), (finding(Severity.INFO),), Severity.WARNING).exit_code == 0


def test_catalog_includes_loader_codes() -> None:
    catalog = {r.code: r.name for r in available_rules()}
    assert catalog["PF001"] == "yaml-syntax"
    assert catalog["PF002"] == "schema"
    assert catalog["PF003"] == "duplicate-key"


def test_procflow_lint_is_always_the_function() -> None:
    """No module shares a public function's name, so nothing can shadow it."""
    code = (
        "import procflow, procflow._lint, procflow._render.dot, procflow.analysis, inspect\n"
        "for name in ('lint', 'analyze', 'render'):\n"
        "    f = getattr(procflow, name)\n"
        "    assert inspect.isfunction(f), name\n"
        "    assert list(inspect.signature(f).parameters)[0] == 'process', name\n"
        "from importlib.util import find_spec\n"
        "print([find_spec('procflow.' + n) for n in ('lint', 'analyze', 'render')])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[None, None, None]"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("process: [unclosed\n", "PF001"),
        ("", "PF002"),
        (CLEAN.replace("owner: clerk", "onwer: clerk"), "PF002"),
    ],
)
@pytest.mark.parametrize(
    "config",
    [
        LintConfig(select=("PF3",)),
        LintConfig(ignore=("PF001", "PF002", "schema")),
        LintConfig(select=("PF1",), severity={"PF0": Severity.INFO}),
    ],
)
def test_a_file_that_is_not_a_process_is_never_selected_away(
    tmp_path: Path, text: str, code: str, config: LintConfig
) -> None:
    """Like ruff's syntax errors: select, ignore, severity and comments keep PF001/PF002."""
    path = write(tmp_path, "broken.yaml", text + "# procflow: ignore-file[PF0]\n")
    findings = lint_paths([str(path)], config).findings
    assert [(f.code, f.severity) for f in findings][:1] == [(code, Severity.ERROR)]
