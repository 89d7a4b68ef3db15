"""The lint engine: a function of (rules, configuration, documents) -> sorted findings.

The engine resolves which rules run (select/ignore, longest match wins),
runs each one in isolation on a process, and turns what they report into
:class:`~procflow.findings.Finding` values:

* YAML, schema and duplicate-key problems found by the loader become
  PF001/PF002/PF003 findings, so one broken file never hides the others;
* a rule that raises becomes one finding (its code, "internal error", line 1)
  instead of an aborted run;
* a violation's model path becomes ``file:line:col`` through
  ``process.source.locate`` -- only for findings, so clean files pay nothing;
* severity overrides, ``# procflow: ignore[...]`` comments on the line a
  finding points at, and ``# procflow: ignore-file[...]`` comments anywhere
  are applied last; findings are sorted by file, line, column, code.

The runnable gate that analysis, simulation and live cases pass through
(:func:`procflow.gate.runnable`, :func:`ensure_runnable`) lives below the
linter: the blocking rules and the gate run the same checks
(:mod:`procflow.checks`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from procflow.config import CLI_ORIGIN, LintConfig, Selection
from procflow.errors import ConfigError, Position, Problem, ProcessError
from procflow.findings import Finding, Severity
from procflow.gate import BLOCKING_CODES, blocking_problems, ensure_runnable
from procflow.loader import (
    STDIN,
    Document,
    Skip,
    as_process,
    iter_yaml_files,
    parse_process,
    parse_yaml,
    read_document,
    read_text,
)
from procflow.model import Process, validate_change, validate_roster
from procflow.rules.base import REGISTRY, LintContext, LintSettings, Rule, Violation

if TYPE_CHECKING:
    from procflow.pathfilter import PathFilter

#: The loader's own findings: code -> (name, default severity), used when the
#: rule catalog does not (yet) register them itself.
LOADER_RULES: dict[str, tuple[str, Severity, str]] = {
    "PF001": ("yaml-syntax", Severity.ERROR, "The file is not valid YAML."),
    "PF002": (
        "schema",
        Severity.ERROR,
        "A key is unknown, missing or of the wrong type; a duration, rate or "
        "distribution does not parse or has invalid parameters.",
    ),
    "PF003": (
        "duplicate-key",
        Severity.ERROR,
        "A mapping repeats a key: YAML loaders silently keep the last one, which would lose "
        "a step.",
    ),
}

#: A file that is not YAML or not a valid process never passes lint: every
#: other command would refuse it (docs/exit-codes.md#per-command: such a file "is reported as PF001/
#: PF002 findings, so exit 1"). Like ruff's syntax errors, these two are always
#: on and always errors; select, ignore, severity and comments do not touch them.
ALWAYS_ON: frozenset[str] = frozenset({"PF001", "PF002"})


# --------------------------------------------------------------------------
# the rule catalog and selection


def _noop(context: LintContext) -> Iterable[Violation]:
    return ()


def available_rules() -> list[Rule]:
    """Every rule of the catalog (rule modules imported), PF001-PF003 included, by code."""
    import procflow.rules

    rules: dict[str, Rule] = {}
    all_rules = getattr(procflow.rules, "all_rules", None)
    if all_rules is not None:  # imports every rule module
        rules.update((r.code, r) for r in all_rules())
    rules.update((code, r) for code, r in REGISTRY.items() if code not in rules)
    for code, (name, severity, doc) in LOADER_RULES.items():
        if code not in rules:
            rules[code] = Rule(code, name, severity, _noop, doc, doc)
    return [rules[code] for code in sorted(rules)]


def _specificity(selector: str, rule: Rule) -> int:
    """How precisely ``selector`` names ``rule``: -1 not at all, 0 ``ALL``, 100 exactly."""
    if selector == rule.code or selector == rule.name:
        return 100
    if selector == "ALL":
        return 0
    if selector.startswith("PF") and rule.code.startswith(selector):
        return len(selector)
    return -1


def _check_selectors(selectors: Iterable[str], rules: Sequence[Rule], where: str) -> None:
    for selector in selectors:
        if not any(_specificity(selector, r) >= 0 for r in rules):
            import difflib

            names = [r.code for r in rules] + [r.name for r in rules]
            close = difflib.get_close_matches(selector, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{where}: unknown rule {selector!r}{hint}: use a code such as PF203, a prefix "
                "such as PF2, a rule name such as unused-owner, or ALL (`procflow rules` "
                "lists them)"
            )


def enabled_rules(config: LintConfig, rules: Sequence[Rule] | None = None) -> list[Rule]:
    """The rules ``config`` selects, resolved layer by layer (ruff semantics).

    Raises :class:`ConfigError` for a selector that matches no rule.
    """
    catalog = list(rules) if rules is not None else available_rules()
    enabled = {r.code: True for r in catalog}
    for layer in config.selections:
        _apply_layer(layer, catalog, enabled)
    return [r for r in catalog if enabled[r.code] or r.code in ALWAYS_ON]


def _apply_layer(layer: Selection, catalog: Sequence[Rule], enabled: dict[str, bool]) -> None:
    origin = layer.origin or "configuration"
    cli = origin == CLI_ORIGIN
    if layer.select is not None:
        _check_selectors(layer.select, catalog, "--select" if cli else f"{origin} select")
    _check_selectors(layer.ignore, catalog, "--ignore" if cli else f"{origin} ignore")
    if layer.select is None and not layer.ignore:
        return
    for rule in catalog:
        best: tuple[int, int] | None = None
        for selector in layer.select or ():
            spec = _specificity(selector, rule)
            if spec >= 0 and (best is None or (spec, 0) > best):
                best = (spec, 0)
        for selector in layer.ignore:
            spec = _specificity(selector, rule)
            if spec >= 0 and (best is None or (spec, 1) > best):
                best = (spec, 1)
        if best is not None:
            enabled[rule.code] = best[1] == 0
        elif layer.select is not None:
            enabled[rule.code] = False


def _severities(config: LintConfig, catalog: Sequence[Rule]) -> dict[str, Severity]:
    """Effective severity per code: the most specific override, else the rule's default."""
    for selector in config.severity:  # command-line overrides are merged in: name both
        _check_selectors([selector], catalog, f"{config.path or '--severity'}: severity")
    result: dict[str, Severity] = {}
    for rule in catalog:
        level, best = rule.severity, -1
        for selector, override in config.severity.items():
            spec = _specificity(selector, rule)
            if spec > best:
                level, best = override, spec
        result[rule.code] = Severity.ERROR if rule.code in ALWAYS_ON else level
    return result


@dataclass(frozen=True)
class Plan:
    """A configuration resolved against the catalog: what runs, at which severity."""

    rules: tuple[Rule, ...]
    selected: tuple[Rule, ...]
    names: Mapping[str, str]
    severity: Mapping[str, Severity]
    enabled: frozenset[str]
    settings: LintSettings
    fail_on: Severity = Severity.ERROR

    @classmethod
    def build(cls, config: LintConfig | None = None) -> Plan:
        config = config or LintConfig()
        catalog = available_rules()
        chosen = enabled_rules(config, catalog)
        settings = LintSettings(
            bottleneck_threshold=config.bottleneck_threshold,
            today=config.today or date.today(),
        )
        return cls(
            rules=tuple(r for r in chosen if r.code not in LOADER_RULES),
            selected=tuple(chosen),
            names={r.code: r.name for r in catalog},
            severity=_severities(config, catalog),
            enabled=frozenset(r.code for r in chosen),
            settings=settings,
            fail_on=config.fail_on,
        )


# --------------------------------------------------------------------------
# suppression comments

_SUPPRESS_RE = re.compile(r"#\s*procflow:\s*(ignore-file|ignore)(?![\w-])\s*(?:\[([^\]]*)\])?")


@dataclass
class Suppressions:
    """``# procflow: ignore[...]`` per line and ``# procflow: ignore-file[...]`` of one file.

    A code list of ``None`` (a bare ``# procflow: ignore``) silences every code.
    """

    lines: dict[int, tuple[str, ...] | None] = field(default_factory=dict)
    file: list[tuple[str, ...] | None] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> Suppressions:
        found = cls()
        if "procflow:" not in text:
            return found
        for number, line in enumerate(text.splitlines(), start=1):
            if "procflow:" not in line:
                continue
            for match in _SUPPRESS_RE.finditer(line):
                kind, listed = match.groups()
                codes = None if listed is None else _split_codes(listed)
                if kind == "ignore-file":
                    found.file.append(codes)
                else:
                    previous = found.lines.get(number, ())
                    if codes is None or previous is None:
                        found.lines[number] = None
                    else:
                        found.lines[number] = (*previous, *codes)
        return found

    def __bool__(self) -> bool:
        return bool(self.lines or self.file)

    def silences(self, finding: Finding) -> bool:
        for codes in (*self.file, self.lines.get(finding.line, ())):
            if codes is None:
                return True
            for code in codes:
                if code in (finding.code, finding.name) or (
                    code.startswith("PF") and finding.code.startswith(code)
                ):
                    return True
        return False


def _split_codes(listed: str) -> tuple[str, ...]:
    return tuple(
        c.upper() if c[:2].upper() == "PF" else c
        for c in (part.strip() for part in listed.split(","))
        if c
    )


def _source_texts(locator: Any, into: dict[str, str]) -> dict[str, str]:
    """``file -> text`` of every YAML file behind a process (main, roster, change)."""
    text = getattr(locator, "text", None)
    if isinstance(text, str):
        into.setdefault(locator.file, text)
    for part in ("main", "roster", "base", "change"):
        child = getattr(locator, part, None)
        if child is not None:
            _source_texts(child, into)
    return into


def _apply_suppressions(findings: list[Finding], texts: Mapping[str, str]) -> list[Finding]:
    parsed: dict[str, Suppressions] = {}
    kept = []
    for finding in findings:
        suppressions = parsed.get(finding.file)
        if suppressions is None:
            text = texts.get(finding.file, "")
            suppressions = parsed[finding.file] = Suppressions.parse(text)
        if not suppressions or finding.code in ALWAYS_ON or not suppressions.silences(finding):
            kept.append(finding)
    return kept


# --------------------------------------------------------------------------
# running rules


def _run_rule(rule: Rule, context: LintContext) -> tuple[list[Violation], Exception | None]:
    found: list[Violation] = []
    try:
        for violation in rule.check(context):
            found.append(violation)
    except Exception as exc:  # a broken rule is a finding, never an aborted run
        return found, exc
    return found, None


def _internal_error(rule: Rule, process: Process, exc: Exception) -> Finding:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return Finding(
        file=process.source.file,
        line=1,
        column=1,
        code=rule.code,
        name=rule.name,
        severity=Severity.ERROR,
        message=f"internal error in rule {rule.code} {rule.name} ({detail}); the rule was "
        "skipped for this file -- please report this",
        process=process.id,
        subject=None,
    )


def _check_process(process: Process, plan: Plan) -> list[Finding]:
    """Run the plan's rules on one process.

    The blocking rules' results are kept on the process's compiled form
    (:func:`procflow.checks.violations`), so the analytic rules' pass
    through the runnable gate does not run them again.
    """
    context = LintContext(process, plan.settings)
    locate = process.source.locate
    findings: list[Finding] = []
    for rule in plan.rules:
        violations, error = _run_rule(rule, context)
        severity = plan.severity.get(rule.code, rule.severity)
        for violation in violations:
            try:
                position = locate(violation.path, violation.part)
            except Exception:  # a path the source cannot resolve: the file, line 1
                position = Position(process.source.file, 1, 1)
            findings.append(
                Finding(
                    file=position.file,
                    line=position.line,
                    column=position.column,
                    code=rule.code,
                    name=rule.name,
                    severity=severity,
                    message=violation.message,
                    process=process.id,
                    subject=violation.subject,
                )
            )
        if error is not None:
            findings.append(_internal_error(rule, process, error))
    return findings


def _problem_findings(
    problems: Iterable[Problem], plan: Plan, process: str | None = None
) -> list[Finding]:
    findings = []
    for problem in problems:
        if problem.code not in plan.enabled:
            continue
        position = problem.position
        findings.append(
            Finding(
                file=position.file,
                line=position.line,
                column=position.column,
                code=problem.code,
                name=plan.names.get(problem.code, problem.code.lower()),
                severity=plan.severity.get(problem.code, Severity.ERROR),
                message=problem.message,
                process=process,
                subject=None,
            )
        )
    return findings


def _finish(findings: list[Finding], texts: Mapping[str, str]) -> list[Finding]:
    if texts and findings:
        findings = _apply_suppressions(findings, texts)
    findings.sort()
    return findings


def _plan(config: LintConfig | Plan | None) -> Plan:
    return config if isinstance(config, Plan) else Plan.build(config)


def lint(
    process: Process | str | os.PathLike[str], config: LintConfig | Plan | None = None
) -> list[Finding]:
    """Lint a loaded process (or the process file a path names): every finding, sorted.

    >>> import procflow
    >>> p = procflow.load("processes/customer-service.yaml")  # doctest: +SKIP
    >>> [f.code for f in procflow.lint(p)]  # doctest: +SKIP
    []
    """
    process = as_process(process, "lint")
    plan = _plan(config)
    findings = _check_process(process, plan)
    return _finish(findings, _source_texts(process.source, {}))


def _process_id(data: Any) -> str | None:
    if isinstance(data, dict):
        value = data.get("process")
        if isinstance(value, str):
            return value
    return None


def document_kind(data: Any) -> str:
    """``process``, ``change`` or ``roster``: what a YAML file in a process folder is.

    Change files (``change:``/``patch:``) and shared rosters (only ``owners:``)
    live beside processes; lint validates each as what it is.
    """
    if isinstance(data, dict) and not ({"process", "steps", "start"} & data.keys()):
        if data and data.keys() <= {"owners"}:
            return "roster"
        if {"change", "patch"} & data.keys():
            return "change"
    return "process"


def lint_document(document: Document, config: LintConfig | Plan | None = None) -> list[Finding]:
    """Lint one parsed document: loader problems, then (for a process) every rule."""
    plan = _plan(config)
    texts = {document.path: document.text}
    kind = document_kind(document.data)
    if kind != "process":
        validate = validate_change if kind == "change" else validate_roster
        problems = list(document.problems)
        try:
            validate(document.data, document.source)
        except ProcessError as exc:
            problems.extend(exc.problems)
        return _finish(_problem_findings(problems, plan), texts)
    process, problems = parse_process(document)
    findings = _problem_findings(problems, plan, _process_id(document.data))
    if process is not None:
        findings.extend(_check_process(process, plan))
        _source_texts(process.source, texts)
    return _finish(findings, texts)


def lint_file(
    path: str | os.PathLike[str],
    config: LintConfig | Plan | None = None,
    *,
    name: str | None = None,
) -> list[Finding]:
    """Lint one file (``-`` for standard input; ``name`` shows it under another name).

    A file that is not YAML, or not UTF-8 text, is a PF001 finding; a path
    that does not exist raises :class:`~procflow.errors.FileAccessError`.
    """
    plan = _plan(config)
    try:
        document = parse_yaml(read_text(path), name) if name else read_document(path)
    except ProcessError as exc:
        return _finish(_problem_findings(exc.problems, plan), {})
    return lint_document(document, plan)


@dataclass(frozen=True)
class LintReport:
    """The result of linting files: which files, which findings (sorted), and the verdict.

    ``rules`` are the rules that were selected (for SARIF's rule catalog).
    """

    files: tuple[str, ...]
    findings: tuple[Finding, ...]
    fail_on: Severity = Severity.ERROR
    rules: tuple[Rule, ...] = ()

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def errors(self) -> int:
        return self.count(Severity.ERROR)

    @property
    def warnings(self) -> int:
        return self.count(Severity.WARNING)

    @property
    def infos(self) -> int:
        return self.count(Severity.INFO)

    @property
    def files_with_findings(self) -> int:
        return len({f.file for f in self.findings})

    @property
    def files_checked(self) -> int:
        """The files linted, plus any roster a process read that has findings of its own."""
        return len(set(self.files) | {f.file for f in self.findings})

    @property
    def failed(self) -> bool:
        """Whether any finding is at or above ``fail_on``."""
        return any(f.severity >= self.fail_on for f in self.findings)

    @property
    def exit_code(self) -> int:
        """0 when nothing is at or above ``fail_on``, else 1 (docs/exit-codes.md)."""
        return 1 if self.failed else 0

    def summary(self) -> dict[str, int]:
        """The ``summary`` object of the JSON output."""
        return {
            "files": self.files_checked,
            "errors": self.errors,
            "warnings": self.warnings,
            "infos": self.infos,
        }


def path_filter(config: LintConfig) -> PathFilter:
    """What walks leave out under ``config``: its ``exclude`` layers and, unless off, .gitignore."""
    from procflow.pathfilter import PathFilter

    return PathFilter(config.exclusions(), gitignore=config.respect_gitignore)


def lint_paths(
    paths: Sequence[str | os.PathLike[str]],
    config: LintConfig | Plan | None = None,
    *,
    stdin_name: str | None = None,
    around_file: Callable[[], AbstractContextManager[object]] = nullcontext,
    skip: Skip | None = None,
) -> LintReport:
    """Lint files, folders (walked for ``*.yaml``/``*.yml``) and globs; ``-`` is standard input.

    Raises :class:`~procflow.errors.FileAccessError` for a path that does not
    exist or cannot be read; everything wrong *inside* a file is a finding.
    ``around_file`` is entered around the linting of each file: the seam
    where the command line tunes the garbage collector (the library itself
    never switches it).
    Walks leave out what ``skip(path, is_dir)`` says; by default, with a
    :class:`LintConfig`, its ``exclude`` patterns and ``.gitignore`` files
    (:class:`procflow.pathfilter.PathFilter`).
    """
    if skip is None and isinstance(config, LintConfig | None):
        skip = path_filter(config or LintConfig())
    plan = _plan(config)
    seen: set[str] = set()
    files: list[str] = []
    findings: list[Finding] = []
    for path in iter_yaml_files([os.fspath(p) for p in paths], skip):
        key = path if path == STDIN else os.path.normpath(path)
        if key in seen:
            continue
        seen.add(key)
        name = stdin_name if path == STDIN and stdin_name else None
        files.append(name or ("<stdin>" if path == STDIN else path))
        with around_file():
            findings.extend(lint_file(path, plan, name=name))
    findings.sort()
    return LintReport(tuple(files), tuple(findings), plan.fail_on, plan.selected)


__all__ = [
    "BLOCKING_CODES",
    "LOADER_RULES",
    "LintReport",
    "Plan",
    "Suppressions",
    "available_rules",
    "blocking_problems",
    "document_kind",
    "enabled_rules",
    "ensure_runnable",
    "lint",
    "lint_document",
    "lint_file",
    "lint_paths",
]
