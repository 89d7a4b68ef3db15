"""``max:`` inside forks: a bound counts per case, across all the case's tokens.

docs/parallel-work.md ("tokens of one case share the counters") and SPEC 1.1 ("how
often one case may take that edge"). Per case and per token give the same counts while
only one token of a case can reach a bounded edge; these models make them differ:

* SHARED: both branches of a fork reach the same step, whose self-loop (``p: 1``) is
  bounded ``max: 2``. Per case the step is visited 2 + 2 = 4 times; counted per token
  it would be 2 x 3 = 6.
* OUTER: a bounded loop in one branch of a fork that is itself inside a bounded loop;
  per case the inner bound is used once over all the fork's instances, so ``left`` is
  visited E[K] + 1 - E[0.5^K] = 2.40625 times per case (K, the fork's instances:
  1, 2, 3 with probability 1/2, 1/4, 1/4); per fork instance it would be 1.75 x 1.5.

The token engine, the engine with attributes and the reference simulator must each count
per case and agree with one another event for event. ``analyze`` moves a case's tokens
one at a time with one counter set and finds the per-case figures exactly (4 and
2.40625), saying how and naming the shared bound (docs/parallel-work.md, "Bounds the
tokens share"; tests/test_analyze_shared_bounds.py checks it against every interleaving).
"""

from __future__ import annotations

from collections import Counter

import pytest

from procflow.analysis import analyze
from procflow.loader import load_text
from procflow.sim import simulate
from procflow.sim.attributed import replication as attributed_replication
from procflow.sim.attributed import run_attributed
from procflow.sim.plan import Plan
from procflow.sim.reference import run_reference
from procflow.sim.simulation import prepare
from procflow.sim.tokens import replication, run_tokens
from test_sim_engine import Rows, _same_stats

SHARED = """\
process: shared-loop
owners:
  desk: {capacity: 2}
arrivals: {rate: 2/h}
start: split
steps:
  split: {duration: 0s, parallel: [left, right]}
  left: {owner: desk, duration: exponential(5m), next: check}
  right: {owner: desk, duration: exponential(7m), next: check}
  check:
    owner: desk
    duration: exponential(3m)
    on:
      again: {to: check, p: 1.0, feedback: true, max: 2}
      ok: {to: meet, p: 0.0}
  meet: {join: all, owner: desk, duration: 0s, next: done}
  done: {end: true}
"""

OUTER = """\
process: outer-loop
owners:
  desk: {capacity: 2}
arrivals: {rate: 1/h}
start: split
steps:
  split: {owner: desk, duration: exponential(2m), parallel: [left, right]}
  left:
    owner: desk
    duration: exponential(5m)
    on:
      again: {to: left, p: 0.5, feedback: true, max: 1}
      ok: {to: meet, p: 0.5}
  right: {owner: desk, duration: exponential(7m), next: meet}
  meet:
    owner: desk
    join: all
    duration: 1m
    on:
      redo: {to: split, p: 0.5, feedback: true, max: 2}
      done: {to: done, p: 0.5}
  done: {end: true}
"""

CROSS = """\
process: cross
owners:
  desk: {capacity: 3}
arrivals: {rate: 1/h}
start: split
steps:
  split: {duration: 0s, parallel: [left, right]}
  left: {owner: desk, duration: exponential(5m), next: s}
  right: {owner: desk, duration: exponential(7m), next: s}
  s:
    owner: desk
    duration: exponential(3m)
    on:
      x: {to: t, p: 0.5, max: 1}
      y: {to: meet, p: 0.5}
  t: {owner: desk, duration: 1m, next: meet}
  meet: {join: all, owner: desk, duration: 0s, next: done}
  done: {end: true}
"""
"""Both branches reach 's', whose edge to 't' (in no loop) a case may take once: 't' is
visited 1 - 0.5 x 0.5 = 0.75 times per case, once per token would be 2 x 0.5 = 1."""

WITH_ATTRIBUTE = "attributes:\n  tier: {gold: 50%, plain: 50%}\n"
"""Any attribute puts the same model on the engine with attributes (it draws nothing else)."""


def _plan(text: str, attributes: bool = False) -> Plan:
    head, steps = text.split("start:", 1)
    return prepare(load_text(head + (WITH_ATTRIBUTE if attributes else "") + "start:" + steps))


def test_two_tokens_of_a_case_share_the_bound_of_one_loop() -> None:
    """Every case visits 'check' exactly four times, on every engine."""
    plan = _plan(SHARED)
    assert replication(plan) is run_tokens
    with_attributes = _plan(SHARED, attributes=True)
    assert attributed_replication(with_attributes) is run_attributed
    check = plan.step_index("check")
    runs = {
        "tokens": run_tokens,
        "attributes": lambda *args, **kw: run_attributed(with_attributes, *args[1:], **kw),
        "reference": lambda *args, **kw: run_reference(*args, **kw).stats,
    }
    logs = {}
    for name, run in runs.items():
        log = Rows()
        stats = run(plan, 0, 5, 600, 60, log=log)
        visits = Counter(case for case, step, *_ in log.rows if step == "check")
        assert len(visits) == 600, name
        assert set(visits.values()) == {4}, (name, Counter(visits.values()))
        assert stats.visits[check] == 4 * stats.counted, name
        assert stats.rework == stats.counted, name  # every case took the feedback edge
        logs[name] = sorted(log.rows)
    assert logs["tokens"] == logs["reference"] == logs["attributes"]


def test_a_bound_inside_a_fork_counts_over_all_the_forks_instances() -> None:
    """The inner bound is used at most once per case, however often the fork runs."""
    plan = _plan(OUTER)
    token_log, slow_log = Rows(), Rows()
    tokens = run_tokens(plan, 1, 3, 3_000, 300, log=token_log)
    slow = run_reference(plan, 1, 3, 3_000, 300, log=slow_log)
    assert sorted(token_log.rows) == sorted(slow_log.rows)
    _same_stats(tokens, slow.stats)
    per_case = Counter(case for case, step, *_ in token_log.rows if step == "left")
    splits = Counter(case for case, step, *_ in token_log.rows if step == "split")
    assert all(per_case[case] - splits[case] in (0, 1) for case in splits)  # one use at most
    assert max(per_case[case] - splits[case] for case in splits) == 1
    result = simulate(load_text(OUTER), cases=4_000, runs=8, seed=2, warmup=0)
    left = result.steps["left"].visits
    assert left.ci95 is not None
    low, high = left.ci95
    assert low <= 2.40625 <= high, (low, high)
    assert high < 1.75 * 1.5  # per fork instance would be 2.625


def test_the_analysis_counts_a_shared_bound_per_case() -> None:
    """The per-case count (4 visits of 'check'), exact, the shared bound named: JSON says
    ``method: sequential``. Counted per token (the chain past its state limit) it would be
    2 x 3, and then the routing says approximate."""
    analysis = analyze(load_text(SHARED))
    assert analysis.steps["check"].visits == pytest.approx(4.0)
    routing = analysis.routing.to_dict()
    assert routing["method"] == "sequential"
    assert routing["exact"] is True
    assert routing["dropped_bounds"] == []
    assert routing["shared_bounds"] == ["check --again--> check (max 2)"]
    assert "one at a time" in routing["note"]
    per_token = analyze(load_text(SHARED), max_states=8)  # the case chain has 9 states
    assert per_token.steps["check"].visits == pytest.approx(6.0)  # per token: 3 per branch
    assert per_token.routing.to_dict()["method"] == "approximate"
    assert "per token" in per_token.routing.to_dict()["note"]
    assert per_token.exact is False
    assert all(not owner.exact for owner in per_token.owners.values())


def test_a_counter_that_outlives_the_join_is_counted_per_case() -> None:
    """OUTER: 'left' 2.40625 visits per case (the per-token chain would say 2.5078)."""
    analysis = analyze(load_text(OUTER))
    assert analysis.steps["left"].visits == pytest.approx(2.40625)
    assert analysis.routing.exact is True
    assert [str(b) for b in analysis.routing.shared] == ["left --again--> left (max 1)"]
    assert analysis.routing.dropped == ()


def test_a_bound_one_token_holds_stays_exact() -> None:
    """The same loops with the counter in one branch only, reset before the fork runs again
    (no loop round it): per token and per case agree, and the routing says exact."""
    once = OUTER.replace(
        "redo: {to: split, p: 0.5, feedback: true, max: 2}", "redo: {to: again, p: 0.5}"
    )
    once = once.replace(
        "  done: {end: true}",
        "  again: {owner: desk, duration: 1m, next: done}\n  done: {end: true}",
    )
    analysis = analyze(load_text(once))
    assert analysis.routing.exact is True
    assert analysis.routing.shared == ()
    assert "shared_bounds" not in analysis.routing.to_dict()
    assert analysis.steps["left"].visits == pytest.approx(1.5)  # 1 + 0.5, max 1


def test_the_text_report_says_which_bound_is_shared_and_how() -> None:
    from procflow.cli.analyze import notes

    (line,) = [line for line in notes(analyze(load_text(SHARED))) if "routing" in line]
    assert line.startswith("routing: the tokens of a fork share")
    assert line.endswith(": check --again--> check (max 2)")
    (line,) = [line for line in notes(analyze(load_text(SHARED), max_states=8)) if "rout" in line]
    assert line.startswith("approximate routing: the tokens of a fork share")


def test_a_bound_in_no_loop_that_two_branches_reach_is_shared_too() -> None:
    """CROSS: per token the edge to 't' is taken once at most (no counter needed), but two
    tokens of a case would take it twice: the case chain counts it, 0.75 (per token: 1)."""
    analysis = analyze(load_text(CROSS))
    assert analysis.steps["t"].visits == pytest.approx(0.75)
    assert [str(b) for b in analysis.routing.bounds] == ["s --x--> t (max 1)"]
    assert [str(b) for b in analysis.routing.shared] == ["s --x--> t (max 1)"]
    assert analysis.routing.exact is True
    visits = simulate(load_text(CROSS), cases=3_000, runs=4, seed=5, warmup=0).steps["t"].visits
    assert visits.ci95 is not None
    low, high = visits.ci95
    assert low <= 0.75 <= high < 1.0, (low, high)
