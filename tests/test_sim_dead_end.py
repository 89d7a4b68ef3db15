"""A step the tokens of one case use up together: simulate refuses it as analyze does.

Three branches of a fork reach 's', whose two edges a case may take once each
(``max: 1``, counted per case: docs/parallel-work.md), so the third token of every
case finds both used up. ``analyze`` reports PF104 at the step
(tests/test_analyze_shared_bounds.py); ``simulate`` and ``compare`` refuse the process
up front with the same problem, and an engine handed such a plan anyway (the case
chain can give up past its state limit) stops with a :class:`SimulationError` naming
the step and the case, never an IndexError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import procflow
from helpers import run, write
from procflow.errors import ProcessError, SimulationError
from procflow.loader import load_text
from procflow.sim import plan as plan_module
from procflow.sim.attributed import run_attributed
from procflow.sim.plan import Plan
from procflow.sim.reference import run_reference
from procflow.sim.simulation import prepare
from procflow.sim.tokens import run_tokens

DEAD = """\
process: used-up
owners:
  desk: {capacity: 3}
arrivals: {rate: 1/h}
start: split
steps:
  split: {duration: 0s, parallel: [left, right, third]}
  left: {owner: desk, duration: exponential(5m), next: s}
  right: {owner: desk, duration: exponential(7m), next: s}
  third: {owner: desk, duration: exponential(4m), next: s}
  s:
    owner: desk
    duration: exponential(3m)
    on:
      x: {to: t, p: 0.5, max: 1}
      y: {to: meet, p: 0.5, max: 1}
  t: {owner: desk, duration: 1m, next: meet}
  meet: {join: all, owner: desk, duration: 0s, next: done}
  done: {end: true}
"""
S_LINE = DEAD.splitlines().index("  s:") + 1
ATTRIBUTE = "attributes:\n  tier: {gold: 50%, plain: 50%}\nstart: split\n"
RULES = DEAD.replace("start: split\n", ATTRIBUTE).replace(
    "x: {to: t, p: 0.5, max: 1}\n      y: {to: meet, p: 0.5, max: 1}",
    "x: {to: t, when: \"tier == 'gold'\", max: 1}\n      y: {to: meet, max: 1}",
)
"""The same dead end on a rule step: the engine with attributes and the reference route
it by the case's attributes, not by ``p``."""


def test_simulate_refuses_the_dead_end_with_analyzes_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "dead.yaml", DEAD)
    code, out, err = run(capsys, "simulate", path, "--cases", "200")
    assert code == 2
    assert out == ""
    assert "crashed" not in err
    assert f"dead.yaml:{S_LINE}:3: PF104 step 's' is a dead end" in err
    assert "('x' max: 1, 'y' max: 1)" in err
    assert "per case" in err
    code, _, analyzed = run(capsys, "analyze", path)
    assert code == 2
    assert analyzed.splitlines()[0] == err.splitlines()[0]  # the very same problem


def test_compare_refuses_a_change_that_makes_the_dead_end(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The baseline (``y`` unbounded) runs; the change bounding it is refused."""
    base = write(
        tmp_path,
        "base.yaml",
        DEAD.replace("y: {to: meet, p: 0.5, max: 1}", "y: {to: meet, p: 0.5}"),
    )
    change = write(
        tmp_path,
        "bound.yaml",
        'change: bound-y\npatch:\n  steps:\n    s:\n      "on":\n        y: {max: 1}\n',
    )
    code, out, err = run(
        capsys, "compare", base, "--change", change, "--cases", "200", "--runs", "2"
    )
    assert code == 2, (out, err)
    assert "crashed" not in err
    assert "PF104 step 's' is a dead end" in err


def test_the_api_raises_process_error_at_the_step(tmp_path: Path) -> None:
    path = write(tmp_path, "dead.yaml", DEAD)
    with pytest.raises(ProcessError) as caught:
        procflow.simulate(path, cases=200, runs=1)
    (problem,) = caught.value.problems
    assert problem.code == "PF104"
    assert problem.position.line == S_LINE
    assert "'s' is a dead end" in problem.message
    with pytest.raises(ProcessError):
        prepare(load_text(RULES))


def _unchecked(text: str, monkeypatch: pytest.MonkeyPatch) -> Plan:
    """The plan of ``text`` without the up-front refusal, as when the case chain gives up."""
    monkeypatch.setattr(plan_module, "refuse_dead_ends", lambda process: None)
    return prepare(load_text(text))


ENGINES: dict[str, Callable[..., Any]] = {
    "tokens": run_tokens,
    "attributes": run_attributed,
    "reference": run_reference,
}


@pytest.mark.parametrize(
    ("engine", "text"),
    [
        ("tokens", DEAD),
        ("attributes", DEAD.replace("start: split\n", ATTRIBUTE)),
        ("attributes", RULES),
        ("reference", DEAD),
        ("reference", RULES),
    ],
)
def test_an_engine_stops_a_case_with_no_edge_left(
    monkeypatch: pytest.MonkeyPatch, engine: str, text: str
) -> None:
    """Every case's third token finds both edges used up: the first case stops the run."""
    plan = _unchecked(text, monkeypatch)
    with pytest.raises(SimulationError) as caught:
        ENGINES[engine](plan, 0, 1, 50, 0)
    message = str(caught.value)
    assert re.fullmatch(
        r"process 'used-up': case 1 reached step 's' with every edge used up by its tokens "
        r"together \(to 't' max: 1, to 'meet' max: 1; the counters are per case\): add a "
        r"transition without 'max'",
        message,
    ), message


def test_an_open_edge_left_keeps_the_engines_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """With 'y' unbounded the same fork runs on every engine: the error is for the dead end
    only, and every case still takes 'x' (to 't') at most once."""
    text = DEAD.replace("y: {to: meet, p: 0.5, max: 1}", "y: {to: meet, p: 0.5}")
    for engine, model in (
        ("tokens", text),
        ("attributes", text.replace("start: split\n", ATTRIBUTE)),
        ("reference", text),
    ):
        plan = _unchecked(model, monkeypatch)
        result = ENGINES[engine](plan, 0, 1, 300, 0)
        stats = getattr(result, "stats", result)
        assert stats.counted == 300, engine
        assert 0 < stats.visits[plan.step_index("t")] <= stats.counted, engine
