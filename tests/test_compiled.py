"""The compiled process and the runnable gate (procflow.compiled, procflow.checks, procflow.gate).

One compiled form per process object, built once; the gate returns it only
when no blocking error is left, and the blocking lint rules and the gate
agree finding for finding, because they run the same checks.
"""

from __future__ import annotations

import doctest
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import procflow.compiled
import procflow.digraph
import procflow.gate
from helpers import CLEAN, CUSTOMER_SERVICE
from procflow._lint import lint
from procflow.compiled import CompiledProcess, StepKind
from procflow.config import LintConfig
from procflow.errors import ProcessError
from procflow.findings import Severity
from procflow.gate import BLOCKING_CODES, blocking_problems, ensure_runnable, runnable
from procflow.loader import load, load_text

FIXTURES = Path(__file__).parent / "fixtures" / "rules"

BRANCHY = """\
process: branchy
owners:
  clerk: {capacity: 3, cost_per_hour: 40}
  customer: {external: true}
start: intake
steps:
  intake: {owner: clerk, duration: 5m, next: check}
  check:
    owner: customer
    duration: 1h
    on:
      ok: {to: done, p: 0.7}
      redo: {to: intake, p: 0.2, feedback: true, max: 2}
      drop: {to: gone, p: 0.1}
  lonely: {duration: 1m, next: done}
  done: {end: true}
  gone: {end: true}
"""


def test_doctests() -> None:
    for module in (procflow.compiled, procflow.digraph, procflow.gate):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__
        assert result.attempted > 0, module.__name__


def test_steps_owners_and_kinds_are_indexed_in_file_order() -> None:
    c = CompiledProcess.of(load_text(BRANCHY))
    assert c.process == "branchy"
    assert c.steps == ("intake", "check", "lonely", "done", "gone")
    assert dict(c.index) == {"intake": 0, "check": 1, "lonely": 2, "done": 3, "gone": 4}
    assert (c.start, c.start_id, c.ends) == (0, "intake", (3, 4))
    assert c.end == (False, False, False, True, True)
    assert c.kind == (StepKind.STAFF, StepKind.DELAY, StepKind.DELAY, StepKind.END, StepKind.END)
    assert c.owner == ("clerk", "customer", None, None, None)
    assert c.owner_of == (0, 1, -1, -1, -1)
    assert [(o.id, o.capacity, o.external, o.cost_per_hour) for o in c.owners] == [
        ("clerk", 3, False, 40.0),
        ("customer", 1, True, None),
    ]
    assert c.duration[0] is not None
    assert c.duration[3] is None


def test_edges_carry_trigger_probability_feedback_bound_and_path() -> None:
    c = CompiledProcess.of(load_text(BRANCHY))
    assert [(e.number, e.source, e.target, e.to, e.trigger) for e in c.edges] == [
        (0, 0, 1, "check", "next"),
        (1, 1, 3, "done", "ok"),
        (2, 1, 0, "intake", "redo"),
        (3, 1, 4, "gone", "drop"),
        (4, 2, 3, "done", "next"),
    ]
    redo = c.edges[2]
    assert (redo.p, redo.feedback, redo.max) == (0.2, True, 2)
    assert redo.path == ("steps", "check", "on", "redo")
    assert c.edges[0].path == ("steps", "intake", "next")
    assert c.first == (0, 1, 4, 5, 5, 5)
    assert c.outgoing[1] == c.edges[1:4]
    assert c.outgoing[3] == ()
    assert (c.bounded, c.slot) == ((2,), (-1, -1, 0, -1, -1))
    assert c.probability == (1.0, 0.7, 0.2, 0.1, 1.0)
    assert c.edges_between(1, 0) == [redo]
    assert not c.unknown_targets


def test_derived_tables() -> None:
    c = CompiledProcess.of(load_text(BRANCHY))
    assert c.successors == ([1], [3, 0, 4], [3], [], [])
    assert c.predecessors == ([1], [0], [], [1, 2], [1])
    assert c.reachable == (True, True, False, True, True)
    assert c.reach_order == (0, 1, 3, 4)
    assert c.reaching_end == (True,) * 5
    assert sorted(map(sorted, c.components)) == [[0, 1], [2], [3], [4]]
    assert c.component_of[0] == c.component_of[1] != c.component_of[2]


def test_unknown_targets_and_start_are_kept_with_index_minus_one() -> None:
    p = load_text(
        "{process: p, start: nowhere, steps: {a: {on: {x: b, y: ghost}}, b: {end: true}}}"
    )
    c = CompiledProcess.of(p)
    assert c.start == -1
    assert c.start_id == "nowhere"
    assert c.unknown == (1,)
    assert c.edges[1].target == -1
    assert c.edges[1].to == "ghost"
    assert c.successors == ([1], [])
    assert c.reachable == (False, False)
    assert c.reach_order == ()


def test_built_once_per_process_object_and_never_shared_with_a_copy() -> None:
    p = load_text(CLEAN)
    c = CompiledProcess.of(p)
    assert CompiledProcess.of(p) is c
    copy = p.model_copy()
    assert CompiledProcess.of(copy) is not c
    assert copy == p  # the compiled form is not a field: equality, dumps and repr ignore it
    assert "compiled" not in repr(p)
    assert p.model_dump() == copy.model_dump()
    changed = p.with_changes({"steps": {"check": {"owner": None}}})
    assert CompiledProcess.of(changed).owner[0] is None
    assert c.owner[0] == "clerk"


def test_immutable_and_pickles_without_its_compiled_form() -> None:
    p = load_text(CLEAN)
    c = CompiledProcess.of(p)
    with pytest.raises(AttributeError, match="immutable"):
        c.steps = ()
    again = pickle.loads(pickle.dumps(p))
    assert again.model_dump() == p.model_dump()
    assert CompiledProcess.of(again).steps == c.steps
    assert CompiledProcess.of(again) is not c


def test_the_gate_returns_the_compiled_process_as_its_proof() -> None:
    p = load(CUSTOMER_SERVICE)
    assert runnable(p) is CompiledProcess.of(p)
    assert blocking_problems(p) == []
    ensure_runnable(p)


def test_the_gate_lists_every_blocking_problem_with_its_position() -> None:
    text = """\
process: broken
owners: {a: {}}
start: one
steps:
  one: {owner: ghost, next: two}
  two: {owner: a, on: {x: {to: three, p: 0.5}, y: {to: nowhere, p: 0.2}}}
  three: {end: true, next: one}
"""
    p = load_text(text, "broken.yaml")
    with pytest.raises(ProcessError) as caught:
        runnable(p)
    problems = caught.value.problems
    assert [(q.code, q.position.line) for q in problems] == [
        ("PF202", 5),
        ("PF401", 6),
        ("PF101", 6),
        ("PF106", 7),
    ]
    assert problems[0].message.startswith("unknown-owner: step 'one' names owner 'ghost'")
    assert caught.value.summary == (
        "broken.yaml: process 'broken' cannot be run until these errors are fixed "
        "(procflow lint broken.yaml)"
    )


def test_an_unknown_owner_outside_the_steps_does_not_block() -> None:
    p = load_text(
        "{process: p, owner: nobody, start: a, steps: {a: {informed: [x], next: b}, "
        "b: {end: true}}}"
    )
    assert blocking_problems(p) == []
    codes = [f.code for f in lint(p)]
    assert codes.count("PF202") == 2


def _fixtures() -> list[Path]:
    return sorted(p for code in BLOCKING_CODES for p in (FIXTURES / code).glob("*.yaml"))


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_gate_and_the_blocking_rules_agree(path: Path) -> None:
    """Each blocking error lint reports on a step is a gate problem, at the same place."""
    try:
        process = load(path)
    except ProcessError:
        pytest.skip("not a valid process: neither lint's rules nor the gate see it")
    findings = lint(process, LintConfig())
    from_lint = sorted(
        (f.code, f.line, f.column)
        for f in findings
        if f.code in BLOCKING_CODES
        and f.severity == Severity.ERROR
        and (f.code != "PF202" or f.subject in {s.owner for s in process.steps.values()})
    )
    from_gate = sorted(
        (q.code, q.position.line, q.position.column) for q in blocking_problems(process)
    )
    assert from_gate == from_lint
    for problem in blocking_problems(process):
        assert any(problem.message.endswith(f.message) for f in findings)


def test_the_gate_imports_neither_the_linter_nor_the_maths() -> None:
    code = (
        "import sys, procflow.gate; "
        "print(sorted(m for m in sys.modules if m.startswith(('procflow.lint', "
        "'procflow._lint', 'procflow.rules', 'procflow.analysis', 'procflow.sim'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


def test_the_library_never_switches_the_garbage_collector() -> None:
    """Only the command line may tune the collector (procflow.cli.collector)."""
    src = Path(procflow.gate.__file__).parent
    for path in src.rglob("*.py"):
        if "cli" not in path.relative_to(src).parts:
            assert "gc.disable" not in path.read_text(), path


def test_no_module_level_caches_of_runnable_processes() -> None:
    src = Path(procflow.gate.__file__).parent
    for path in src.rglob("*.py"):
        text = path.read_text()
        assert "_GATE" not in text, path
        assert "_RUNNABLE" not in text, path
