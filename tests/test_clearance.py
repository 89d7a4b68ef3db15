"""Lint's clearance (procflow.analysis.clearance): a proof of silence, never a changed finding.

Clearance lets lint skip the analytic model when upper bounds already show
that PF501-PF503 have nothing to report. It must never clear a process on
which the model finds something: these tests hold it to that on thousands
of random processes -- loads from a few percent to overload, bounded and
unbounded loops, goals of every metric, stat and operator -- and check that
it clears often enough to matter (else the tests could not fail).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import procflow.analysis.clearance as clearance
from procflow._lint import lint_paths
from procflow.analysis import analyze_or_none
from procflow.analysis.goals import infeasibility
from procflow.analysis.routing import build_chain, step_visits
from procflow.compiled import CompiledProcess
from procflow.loader import load_text
from procflow.model import Process

ROOT = Path(__file__).resolve().parent.parent

DURATIONS = (
    "exponential({a}m)",
    "lognormal({a}m, {b}m)",
    "triangular({b}m, {c}m, {d}m)",
    "uniform({b}m, {c}m)",
    "{a}m",
    "gamma({a}m, {b}m)",
    "normal({c}m, {b}m)",
    "empirical({b}m, {a}m, {c}m)",
)

GOALS = (
    ("cycle_time", ("mean", "p90", "p50", "p99", None), ("<=", "<", ">=")),
    ("wait_time", ("mean", "p90"), ("<=", "<")),
    ("step_time:s0", ("mean", "p95"), ("<=", "<")),
    ("wip", (None, "mean"), ("<=", ">=")),
    ("throughput", (None,), (">=", "<=", ">")),
    ("utilization:o0", (None,), ("<=", "<", ">=")),
    ("rework_rate", (None,), ("<=",)),
    ("cost_per_case", (None,), ("<=",)),
)


def _duration(rng: random.Random) -> str:
    a = rng.choice((1, 2, 5, 12, 30, 90, 400))
    b = max(1, a // rng.choice((1, 2, 3)))
    return rng.choice(DURATIONS).format(a=a, b=b, c=a + b, d=2 * a + b)


def _goal(rng: random.Random, index: int) -> list[str]:
    metric, stats, ops = rng.choice(GOALS)
    stat = rng.choice(stats)
    op = rng.choice(ops)
    if metric.startswith(("cycle_time", "wait_time", "step_time")):
        value = f"{rng.choice((0.5, 2, 20, 90, 600, 3000, 60000))}m"
    elif metric == "throughput":
        value = f"{rng.choice((0.1, 1, 5, 30, 200))}/h"
    elif metric.startswith("utilization") or metric == "rework_rate":
        value = f"{rng.choice((5, 40, 70, 90, 99))}%"
    else:
        value = str(rng.choice((0.5, 3, 20, 1000, 100000)))
    lines = [f"  - id: g{index}", f"    metric: {metric}", f'    target: "{op} {value}"']
    if stat is not None:
        lines.insert(2, f"    stat: {stat}")
    return lines


def random_process(rng: random.Random) -> str:
    """A random sound process: owners near and far from capacity, loops with and without
    ``max``, an external owner, goals of every kind."""
    size = rng.randint(2, 9)
    owners = rng.randint(1, 3)
    lines = ["process: rnd", "owners:"]
    for k in range(owners):
        cost = rng.choice(("cost_per_hour: 30", "cost_per_step: 4", "cost_per_hour: 5"))
        lines.append(f"  o{k}: {{capacity: {rng.choice((1, 2, 3, 5, 20, 80, 300))}, {cost}}}")
    lines.append(
        rng.choice(("  ext: {external: true}", "  ext: {external: true, cost_per_hour: 9}"))
    )
    rate = rng.choice((0.002, 0.01, 0.05, 0.3, 1, 3, 8))
    every = rng.choice(("", ', every: "uniform(1m, 9m)"', ", every: 2m"))
    lines += [f"arrivals: {{rate: {rate}/h{every}}}" if not every else f"arrivals: {{{every[2:]}}}"]
    lines += ["start: s0", "steps:"]
    for i in range(size):
        owner = "ext" if rng.random() < 0.15 else f"o{rng.randrange(owners)}"
        lines += [f"  s{i}:", f"    owner: {owner}", f"    duration: {_duration(rng)}", "    on:"]
        forward = [f"s{j}" for j in range(i + 1, size)] + ["done"]
        targets = rng.sample(forward, k=min(len(forward), rng.randint(1, 2)))
        edges = [(t, "") for t in targets]
        if rng.random() < 0.5:
            back = f"s{rng.randint(0, i)}"
            bound = f", max: {rng.randint(1, 4)}" if rng.random() < 0.8 else ""
            edges.append((back, f", feedback: true{bound}"))
        weights = [rng.random() + 0.05 for _ in edges]
        total = sum(weights)
        ps = [round(w / total, 4) for w in weights]
        ps[-1] = round(1 - sum(ps[:-1]), 4)
        for k, ((target, extra), p) in enumerate(zip(edges, ps, strict=True)):
            lines.append(f"      t{k}: {{to: {target}, p: {p}{extra}}}")
    lines.append("  done: {end: true}")
    goals = rng.randint(0, 4)
    if goals:
        lines.append("goals:")
    for index in range(goals):
        lines += _goal(rng, index)
    return "\n".join(lines) + "\n"


def exact_findings(process: Process, threshold: float) -> list[str]:
    """What PF501-PF503 would say, from the model (the reference clearance is held to)."""
    analysis = analyze_or_none(process, bottleneck_threshold=threshold)
    if analysis is None:
        return []
    found = [
        f"PF50x {owner.id}"
        for owner in analysis.loads.values()
        if owner.utilization is not None and owner.utilization >= threshold
    ]
    found += [f"PF503 {goal.id}" for goal in process.goals if infeasibility(goal, analysis)]
    return found


def test_clearance_never_clears_a_process_the_model_finds_something_in() -> None:
    rng = random.Random(20261207)
    cleared = silent = 0
    for _ in range(3000):
        text = random_process(rng)
        try:
            process = load_text(text, "rnd.yaml")
        except Exception:  # an invalid random combination: not what is tested here
            continue
        threshold = rng.choice((0.85, 0.5, 0.95, 1.0))
        findings = exact_findings(process, threshold)
        if clearance.clear(process, threshold):
            cleared += 1
            assert findings == [], text
        elif not findings:
            silent += 1
    # clearance decides a good share of the silent processes, or it would be useless
    assert cleared >= 200, (cleared, silent)


def test_visit_bounds_bound_the_exact_visits() -> None:
    rng = random.Random(7)
    checked = 0
    for _ in range(800):
        process = load_text(random_process(rng), "rnd.yaml")
        bounds = clearance.visit_bounds(CompiledProcess.of(process))
        if bounds is None:
            continue
        try:
            chain = build_chain(process)
            exact = step_visits(chain, chain.visits)
        except Exception:  # a dead end once bounds are used up: the model refuses it
            continue
        checked += 1
        for step, bound in zip(process.steps, bounds, strict=True):
            assert exact[step] <= bound * (1 + 1e-9), (step, exact[step], bound)
    assert checked >= 300


def test_an_unbounded_loop_is_not_cleared() -> None:
    text = """
process: p
owners: {a: {capacity: 50}}
arrivals: {rate: 1/h}
start: s
steps:
  s: {owner: a, duration: 5m, on: {ok: {to: done, p: 0.9}, again: {to: s, p: 0.1}}}
  done: {end: true}
"""
    process = load_text(text, "p.yaml")
    assert clearance.visit_bounds(CompiledProcess.of(process)) is None
    assert not clearance.clear(process, 0.85)


def test_a_bounded_loop_is_cleared_with_its_visits_bounded_by_one_plus_max() -> None:
    text = """
process: p
owners: {a: {capacity: 50}}
arrivals: {rate: 1/h}
start: s
steps:
  s: {owner: a, duration: 5m, next: t}
  t: {owner: a, duration: 5m, on: {ok: {to: done, p: 0.9}, again: {to: s, p: 0.1, max: 3}}}
  done: {end: true}
"""
    process = load_text(text, "p.yaml")
    assert clearance.visit_bounds(CompiledProcess.of(process)) == [4.0, 4.0, 1.0]
    assert clearance.clear(process, 0.85)


def test_a_bottleneck_is_not_cleared_and_lint_still_reports_it(tmp_path: Path) -> None:
    path = tmp_path / "busy.yaml"
    path.write_text(
        """process: busy
owners: {a: {capacity: 1}}
arrivals: {rate: 5.4/h}
start: s
steps:
  s: {owner: a, duration: 10m, next: done}
  done: {end: true}
""",
        encoding="utf-8",
    )
    assert not clearance.clear(load_text(path.read_text(encoding="utf-8"), "busy.yaml"), 0.85)
    codes = [f.code for f in lint_paths([str(path)]).findings]
    assert "PF502" in codes  # 5.4/h x 10m: 90%, above the 85% threshold


def lint_texts(paths: list[str]) -> list[tuple[str, int, int, str, str]]:
    report = lint_paths(paths)
    return [(f.file, f.line, f.column, f.code, f.message) for f in report.findings]


def test_lint_findings_are_the_same_with_and_without_clearance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(99)
    for index in range(150):
        (tmp_path / f"rnd-{index:03d}.yaml").write_text(random_process(rng), encoding="utf-8")
    paths = [str(tmp_path), str(ROOT / "processes"), str(ROOT / "examples")]
    with_clearance = lint_texts(paths)
    monkeypatch.setattr(clearance, "clear", lambda process, threshold: False)
    without = lint_texts(paths)
    assert with_clearance == without
    assert any(code == "PF503" for _f, _l, _c, code, _m in without)  # the rules did speak
