"""Fork and join in the model, the schema and the compiled process (docs/parallel-work.md)."""

from __future__ import annotations

import pytest

from helpers import ROOT
from procflow.compiled import CompiledProcess
from procflow.errors import ProcessError
from procflow.loader import load, load_text
from procflow.model import json_schema

FIXTURES = ROOT / "tests" / "fixtures" / "forks"


def _compiled(text: str) -> CompiledProcess:
    return CompiledProcess.of(load_text(text, "p.yaml"))


def test_parallel_and_join_are_read_and_compiled() -> None:
    process = load(FIXTURES / "onboarding.yaml")
    step = process.steps["approve-hire"]
    assert step.parallel == ["it-setup", "hr-paperwork"]
    assert process.steps["ready"].join == "all"
    c = CompiledProcess.of(process)
    f = c.index["approve-hire"]
    assert c.fork[f]
    assert not any(c.fork[u] for u in range(c.size) if u != f)
    assert [(e.trigger, c.steps[e.target], e.path) for e in c.outgoing[f]] == [
        ("parallel", "it-setup", ("steps", "approve-hire", "parallel", 0)),
        ("parallel", "hr-paperwork", ("steps", "approve-hire", "parallel", 1)),
    ]
    # every branch is taken
    assert [c.probability[e.number] for e in c.outgoing[f]] == [1.0, 1.0]
    structure = c.forks
    assert structure.sound
    (fork,) = structure.forks
    assert fork.step == f
    assert c.step_ids(fork.branches) == ["it-setup", "hr-paperwork"]
    assert c.steps[fork.join] == "ready"
    assert fork.kind == "all"
    assert sorted(c.step_ids(sorted(fork.region))) == ["hr-paperwork", "it-setup"]
    assert structure.join_of == {c.index["ready"]: 0}
    assert c.has_forks


def test_nested_forks_close_innermost_first() -> None:
    c = CompiledProcess.of(load(FIXTURES / "nested.yaml"))
    structure = c.forks
    assert structure.sound
    by_step = {c.steps[f.step]: f for f in structure.forks}
    assert c.steps[by_step["left"].join] == "l-join"
    assert c.steps[by_step["open"].join] == "outer"
    assert by_step["open"].kind == "first"
    # the inner block (its fork, branches and join) lies inside the outer region
    assert {"left", "l1", "l2", "l-join", "right", "wait"} == set(
        c.step_ids(sorted(by_step["open"].region))
    )


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ("a: {parallel: [b], end: false}", "at least 2"),
        ("a: {parallel: [b, c], next: b}", "has both 'parallel' and 'next'"),
        ("a: {parallel: [b, c], on: {x: b}}", "has both 'parallel' and 'on'"),
        ("a: {join: some, next: b}", "'all' or 'first'"),
        ("a: {parallel: b}", "expected a list"),
    ],
)
def test_bad_fork_keys_are_schema_errors(steps: str, message: str) -> None:
    text = f"{{process: p, start: a, steps: {{{steps}, b: {{end: true}}, c: {{end: true}}}}}}"
    with pytest.raises(ProcessError) as info:
        load_text(text, "p.yaml")
    problems = info.value.problems
    assert problems
    assert all(p.code == "PF002" for p in problems)
    assert any(message in p.message for p in problems), [p.message for p in problems]
    assert problems[0].position.line == 1


def test_schema_describes_parallel_and_join() -> None:
    step = json_schema()["$defs"]["Step"]
    assert "every listed step at once" in step["properties"]["parallel"]["description"]
    assert step["properties"]["parallel"]["anyOf"][0]["minItems"] == 2
    assert "innermost open fork" in step["properties"]["join"]["description"]
    assert {"required": ["parallel", "on"]} in step["not"]["anyOf"]


def test_a_plain_process_has_no_forks() -> None:
    c = _compiled("{process: p, start: a, steps: {a: {next: b}, b: {end: true}}}")
    assert not c.has_forks
    assert c.forks.forks == ()
    assert c.forks.sound
    assert c.fork == (False, False)
    assert c.join == (None, None)


def test_forks_nest_deeper_than_the_recursion_limit() -> None:
    """1,100 forks each nested in the previous one's first branch: lint and the analysis walk
    them without recursion (no internal error), and the cycle time is the one path."""
    import sys

    from procflow._lint import lint
    from procflow.analysis import analyze

    n = 1_100
    assert n > sys.getrecursionlimit()
    steps = []
    for i in range(n):
        inner = f"f{i + 1}" if i + 1 < n else "leaf"
        after = f"j{i - 1}" if i > 0 else "done"
        steps.append(f"  f{i}: {{owner: a, duration: 1m, parallel: [{inner}, s{i}]}}")
        steps.append(f"  s{i}: {{owner: a, duration: 1m, next: j{i}}}")
        steps.append(f"  j{i}: {{join: all, owner: a, duration: 1m, next: {after}}}")
    text = "\n".join(
        [
            "process: deep",
            "owners: {a: {capacity: 500}}",
            "arrivals: {rate: 1/h}",
            "start: f0",
            "steps:",
            *steps,
            f"  leaf: {{owner: a, duration: 1m, next: j{n - 1}}}",
            "  done: {end: true}",
        ]
    )
    process = load_text(text, "deep.yaml")
    assert process.steps  # loaded
    structure = CompiledProcess.of(process).forks
    assert structure.sound
    assert len(structure.forks) == n
    findings = lint(process)
    assert not [f for f in findings if "internal error" in f.message]
    expected = analyze(process).cycle_time.expected
    assert expected is not None
    # f0 .. f1099, leaf, j1099 .. j0 (each s-branch runs beside a longer one): no waiting
    assert expected == pytest.approx((2 * n + 1) * 60.0, rel=1e-3)
