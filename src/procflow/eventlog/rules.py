"""Case attributes in event logs, and whether the log's routing follows the process's rules.

A CSV log written by procflow for a process with ``attributes:`` has one
column per attribute after the standard ones (``simulate --log``,
:func:`procflow.write_cases`); real logs often carry the same facts (a
ticket's priority, a claim's amount) as columns. :func:`read_attributes`
reads them: a column named like a declared attribute is that attribute,
the case's first non-empty value counts, categorical values must be
declared values and numbers must be numbers (others are counted as
unreadable, not guessed). An XES log's trace attributes
(:attr:`procflow.eventlog.xes.XesLog.case_attributes`) are read the same
way, by their type: ``string``, ``int``, ``float`` and ``boolean`` values
are the attribute's value when they fit it (a declared category; a finite
number for a numeric attribute, from an ``int`` or ``float`` -- or a
``string`` holding a number); others (a ``date``, a ``boolean`` for a
number) count as unreadable.

:func:`check_rules` replays each case's steps in time order and, at every
step routed by ``when:`` rules (docs/attributes.md), compares the step the
case went to with the one first-true routing chooses for its attributes
(``max:`` bounds counted per case). :func:`attribute_shares` counts the
values of the categorical attributes and :func:`attribute_numbers` collects
those of the numeric ones, for calibration.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from procflow.casedata import Categorical
from procflow.casestats import first_true
from procflow.errors import EventLogError
from procflow.eventlog.columns import Columns, resolve
from procflow.eventlog.csvlog import SEP_HINT, sniff_delimiter
from procflow.eventlog.events import Event
from procflow.eventlog.logfile import open_text
from procflow.eventlog.matching import StepMatcher
from procflow.eventlog.xes import XesLog
from procflow.expressions import Value, compile_condition
from procflow.model import Process

__all__ = [
    "RuleCheck",
    "RuleReport",
    "attribute_numbers",
    "attribute_shares",
    "check_rules",
    "read_attributes",
]

CASE_COLUMNS = ("case", "case:concept:name", "case_id", "caseid", "case id")
"""Header names read as the case column when the log is not procflow's own."""
MAX_EXAMPLES = 5
"""Deviating cases named per step."""


def read_attributes(
    path: str,
    process: Process,
    *,
    columns: Columns | None = None,
    delimiter: str | None = None,
) -> tuple[dict[str, dict[str, Value]], int]:
    """``({case: {attribute: value}}, unreadable cells)`` from a CSV log's attribute columns.

    Returns no cases when the log has no column (or XES trace attribute) named
    like an attribute. The case column is found as the log's reader finds it
    (``columns``, as ``--case-column`` names it, else the recognised names),
    and the delimiter is ``delimiter`` or the one detected.
    """
    if not process.attributes:
        return {}, 0
    if path.lower().removesuffix(".gz").endswith((".xes", ".xml")):
        return _xes_values(path, process)
    try:
        with open_text(path) as handle:
            first = handle.readline()
            hint = SEP_HINT.match(first)
            if hint is not None:  # Excel's `sep=;` line before the header
                first = handle.readline()
                delimiter = delimiter or hint.group(1)
            delimiter = delimiter or sniff_delimiter(first)
            header = next(csv.reader([first], delimiter=delimiter), [])
            try:
                case_column = resolve(header, columns or Columns(), path).case
            except EventLogError:  # not a log the reader reads: the usual names, else the first
                lowered = [h.strip().lower() for h in header]
                case_column = next((i for i, h in enumerate(lowered) if h in CASE_COLUMNS), 0)
            wanted = {i: h.strip() for i, h in enumerate(header) if h.strip() in process.attributes}
            if not wanted:
                return {}, 0
            return _values(csv.reader(handle, delimiter=delimiter), case_column, wanted, process)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EventLogError(path, f"cannot read its attribute columns: {exc}") from None


def _values(
    rows: Iterable[list[str]], case_column: int, wanted: Mapping[int, str], process: Process
) -> tuple[dict[str, dict[str, Value]], int]:
    found: dict[str, dict[str, Value]] = {}
    bad = 0
    for row in rows:
        if len(row) <= case_column:
            continue
        values = found.setdefault(row[case_column], {})
        for column, name in wanted.items():
            if name in values or column >= len(row) or not row[column].strip():
                continue
            value = _parse(row[column].strip(), process.attributes[name])
            if value is None:
                bad += 1
            else:
                values[name] = value
    return found, bad


def _xes_values(path: str, process: Process) -> tuple[dict[str, dict[str, Value]], int]:
    """The typed trace attributes of an XES log named like declared attributes."""
    log = XesLog(path, attributes=process.attributes)
    for _event in log:  # the trace attributes are collected while the log is read
        pass
    found: dict[str, dict[str, Value]] = {}
    bad = 0
    for case, kept in log.case_attributes.items():
        values = found.setdefault(case, {})
        for name, (kind, text) in kept.items():
            attribute = process.attributes[name]
            fits = kind in ("string", "int", "float", "boolean") and (
                isinstance(attribute, Categorical) or kind != "boolean"
            )
            value = _parse(text.strip(), attribute) if fits else None
            if value is None:
                bad += 1
            else:
                values[name] = value
    return found, bad


def _parse(text: str, attribute: object) -> Value | None:
    if isinstance(attribute, Categorical):
        return text if text in attribute.values else None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass
class RuleCheck:
    """How the cases of the log left one rule-routed step."""

    step: str
    checked: int = 0
    followed: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "followed": self.followed,
            "deviations": self.checked - self.followed,
            "examples": self.examples,
        }


@dataclass
class RuleReport:
    """Rule conformance of a log: per rule-routed step, and the cases without attributes."""

    steps: dict[str, RuleCheck]
    cases_with_attributes: int
    cases_without: int
    unreadable: int

    @property
    def checked(self) -> int:
        return sum(c.checked for c in self.steps.values())

    @property
    def followed(self) -> int:
        return sum(c.followed for c in self.steps.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "cases_with_attributes": self.cases_with_attributes,
            "cases_without_attributes": self.cases_without,
            "unreadable_values": self.unreadable,
            "checked": self.checked,
            "followed": self.followed,
            "steps": {s: c.to_dict() for s, c in self.steps.items()},
        }


def check_rules(
    process: Process,
    events: Iterable[Event],
    attributes: Mapping[str, Mapping[str, Value]],
    unreadable: int = 0,
) -> RuleReport | None:
    """Check every departure from a rule-routed step against first-true routing (or None
    when the process has no rules)."""
    ruled = {
        step_id: [
            (t.trigger, t.to, compile_condition(t.when) if t.when else None, t.max)
            for t in step.transitions
        ]
        for step_id, step in process.steps.items()
        if any(t.when is not None for t in step.transitions)
    }
    if not ruled:
        return None
    match = StepMatcher(process)
    traces: dict[str, list[tuple[float, str]]] = {}
    for event in events:
        step = match(event.activity)
        if step is not None:
            moment = event.start if event.start is not None else event.end
            traces.setdefault(event.case, []).append((moment, step))
    checks = {step: RuleCheck(step) for step in ruled}
    without = 0
    for case, trace in traces.items():
        values = attributes.get(case)
        if values is None:
            without += 1
            continue
        trace.sort(key=lambda item: item[0])
        used: Counter[tuple[str, str]] = Counter()
        for (_when, step), (_next_when, after) in pairwise(trace):
            options = ruled.get(step)
            if options is None:
                continue
            open_ = [o for o in options if o[3] is None or used[(step, o[0])] < o[3]]
            if not open_:
                continue
            chosen = open_[first_true([o[2] for o in open_], values)]
            taken = next((o for o in options if o[1] == after), None)
            if taken is not None:
                used[(step, taken[0])] += 1
            check = checks[step]
            check.checked += 1
            if chosen[1] == after:
                check.followed += 1
            elif len(check.examples) < MAX_EXAMPLES:
                check.examples.append(
                    {
                        "case": case,
                        "expected": chosen[1],
                        "observed": after,
                        "attributes": dict(values),
                    }
                )
    return RuleReport(checks, len(traces) - without, without, unreadable)


def attribute_numbers(
    process: Process, attributes: Mapping[str, Mapping[str, Value]]
) -> dict[str, list[float]]:
    """Per numeric attribute present in the log: the cases' values, in case order."""
    result: dict[str, list[float]] = {}
    for name, attribute in process.attributes.items():
        if isinstance(attribute, Categorical):
            continue
        numbers = [float(v[name]) for v in attributes.values() if name in v]
        if numbers:
            result[name] = numbers
    return result


def attribute_shares(
    process: Process, attributes: Mapping[str, Mapping[str, Value]]
) -> dict[str, tuple[int, dict[str, float]]]:
    """Per categorical attribute present in the log: ``(cases, {value: share})``."""
    result: dict[str, tuple[int, dict[str, float]]] = {}
    for name, attribute in process.attributes.items():
        if not isinstance(attribute, Categorical):
            continue
        counts = Counter(v[name] for v in attributes.values() if name in v)
        total = sum(counts.values())
        if total:
            result[name] = (total, {value: counts[value] / total for value in attribute.values})
    return result
