"""The sparse solve of large loops: equal to the dense one, exact on a 5,000-step ring.

Loops of more than :data:`~procflow.analysis.linear.SPARSE_FROM` states are
solved by sparse elimination (:func:`~procflow.analysis.linear.eliminate`)
instead of a dense LAPACK solve. These tests check it against the dense
solve on random processes and random systems, and against a closed form on
a ring of 5,000 steps that is one strongly connected component.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from procflow.analysis import analyze, linear
from procflow.analysis.routing import build_chain, solve_dense, solve_visits, step_visits
from procflow.errors import ProcessError, SimulationError
from procflow.loader import load_text
from procflow.model import Process


@st.composite
def process_texts(draw: st.DrawFn) -> str:
    """A random process with loops: forward edges, and back edges that make the loops large."""
    size = draw(st.integers(2, 16))
    lines = ["process: rnd", "owners: {agent: {capacity: 500}}", "arrivals: {rate: 1/h}"]
    lines += ["start: s0", "steps:"]
    for i in range(size):
        lines += [f"  s{i}:", "    owner: agent", "    duration: exponential(1m)", "    on:"]
        ahead = f"s{i + 1}" if i + 1 < size else "end"
        edges = [(ahead, "")]
        if i + 2 < size and draw(st.booleans()):
            edges.append((f"s{draw(st.integers(i + 2, size - 1))}", ""))
        for _ in range(draw(st.integers(0, 2))):
            back = draw(st.integers(0, i))
            bound = draw(st.sampled_from(["", "", "", "", ", max: 1", ", max: 2"]))
            edges.append((f"s{back}", f", feedback: true{bound}"))
        weights = [draw(st.integers(1, 20)) for _ in edges]
        total = sum(weights)
        for k, ((to, extra), w) in enumerate(zip(edges, weights, strict=True)):
            lines.append(f"      t{k}: {{to: {to}, p: {w / total!r}{extra}}}")
    lines.append("  end: {end: true}")
    return "\n".join(lines) + "\n"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(process_texts())
def test_sparse_solve_equals_the_dense_one_on_random_processes(text: str) -> None:
    try:
        chain = build_chain(load_text(text, "rnd.yaml"))
    except (ProcessError, SimulationError):
        chain = None
    assume(chain is not None)
    assert chain is not None
    assume(chain.size <= 600)  # numpy's dense solve of the whole chain stays small
    largest = max(len(block) for block in chain.blocks)
    assume(largest > 1)  # a loop of several states: something for the block solver to do
    event(f"largest loop {'> 8' if largest > 8 else '<= 8'} states")
    with mock.patch.object(linear, "solve_dense_rows", side_effect=AssertionError("fell back")):
        sparse = solve_visits(chain, method="sparse")  # the elimination itself, no fallback
    dense = solve_visits(chain, method="dense")
    reference = solve_dense(chain)
    assert sparse == pytest.approx(dense, rel=1e-9, abs=1e-12)
    assert sparse == pytest.approx(list(reference), rel=1e-9, abs=1e-12)
    feedback = chain.feedback
    skip_sparse = solve_visits(chain, skip=lambda e: feedback[e], method="sparse")
    skip_dense = solve_visits(chain, skip=lambda e: feedback[e], method="dense")
    assert skip_sparse == pytest.approx(skip_dense, rel=1e-9, abs=1e-12)


@st.composite
def visit_systems(
    draw: st.DrawFn,
) -> tuple[list[list[tuple[int, float]]], list[float], list[float]]:
    """One strongly coupled block of a visit system: substochastic moves, some leaving."""
    n = draw(st.integers(2, 40))
    passes: list[list[tuple[int, float]]] = []
    exits: list[float] = []
    for i in range(n):
        targets = [(i + 1) % n, *draw(st.lists(st.integers(0, n - 1), max_size=3))]
        weights = [draw(st.floats(0.05, 1.0)) for _ in targets]
        out = draw(st.floats(0.0, 1.0)) if i % 3 == 0 else 0.0
        total = math.fsum(weights) + out
        passes.append([(j, w / total) for j, w in zip(targets, weights, strict=True)])
        exits.append(out / total)
    assume(any(e > 0.01 for e in exits))  # the loop is left: a unique, moderate solution
    rhs = [draw(st.floats(0.0, 1.0)) for _ in range(n)]
    return passes, rhs, exits


def dense_reference(passes: Sequence[Sequence[tuple[int, float]]], rhs: list[float]) -> np.ndarray:
    matrix = np.eye(len(passes))
    for i, moves in enumerate(passes):
        for j, c in moves:
            matrix[j, i] -= c
    return np.asarray(np.linalg.solve(matrix, np.array(rhs)))


@settings(max_examples=200, deadline=None)
@given(visit_systems())
def test_elimination_equals_a_dense_solve_on_random_loops(
    system: tuple[list[list[tuple[int, float]]], list[float], list[float]],
) -> None:
    passes, rhs, exits = system
    solution = linear.eliminate(passes, rhs, exits)
    assert solution is not None  # an M-matrix: every pivot is positive
    assert solution == pytest.approx(list(dense_reference(passes, rhs)), rel=1e-8, abs=1e-12)
    assert linear.residual(passes, rhs, solution) <= linear.RESIDUAL
    without_exits = linear.solve_loop(passes, rhs, method="sparse")  # exits computed as 1 - Σ c
    assert without_exits == pytest.approx(solution, rel=1e-8, abs=1e-12)


def test_a_singular_loop_gives_way_to_the_dense_solve() -> None:
    closed = [[(1, 1.0)], [(0, 1.0)]]  # a loop passing everything on: no solution
    assert linear.eliminate(closed, [1.0, 0.0], [0.0, 0.0]) is None
    assert not all(math.isfinite(v) for v in linear.solve_loop(closed, [1.0, 0.0], method="sparse"))


def test_small_loops_keep_the_dense_solve_bit_for_bit() -> None:
    passes = [[(1, 0.7), (2, 0.3)], [(2, 1.0)], [(0, 0.4)]]
    rhs = [1.0, 0.0, 0.0]
    assert len(passes) <= linear.SPARSE_FROM
    assert linear.solve_loop(passes, rhs) == linear.solve_loop(passes, rhs, method="dense")


def ring(n: int, q: float, *, owned: bool = True) -> Process:
    """``n`` steps in a ring: each goes on with ``1 - q`` and back to the first with ``q``.

    Every step is the agent's, or (``owned=False``) only the first: the
    others are pure delays, each a queueing station of its own.
    """
    lines = ["process: ring", "owners: {agent: {capacity: 100000}}", "arrivals: {rate: 1/h}"]
    lines += ["start: s0", "steps:"]
    for i in range(n):
        ahead = f"s{i + 1}" if i + 1 < n else "done"
        owner = "owner: agent, " if owned or i == 0 else ""
        lines.append(
            f"  s{i}: {{{owner}duration: 1m, on: {{ok: {{to: {ahead}, p: {1 - q!r}}}, "
            f"back: {{to: s0, p: {q!r}, feedback: true}}}}}}"
        )
    lines.append("  done: {end: true}")
    return load_text("\n".join(lines) + "\n", "ring.yaml")


def test_a_5000_step_loop_is_one_block_solved_sparsely_and_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Visits of a ring are geometric: step ``i`` is reached ``(1 - q)**i`` per pass,
    the case leaves after a pass with ``(1 - q)**n``, so it visits ``(1 - q)**(i - n)``."""
    n, q = 5000, 1e-4
    dense_sizes = watch_dense(monkeypatch)
    process = ring(n, q)
    chain = build_chain(process)
    assert max(len(block) for block in chain.blocks) == n  # one strongly connected component
    visits = step_visits(chain, chain.visits)
    for i in range(n):
        assert visits[f"s{i}"] == pytest.approx((1 - q) ** (i - n), rel=1e-12)
    assert visits["done"] == pytest.approx(1.0, rel=1e-12)
    analysis = analyze(process)
    assert analysis.steps["s4999"].visits == pytest.approx(1 / (1 - q), rel=1e-12)
    expected_load = sum((1 - q) ** (i - n) for i in range(n)) / 60  # 1/h x 1 min per visit
    assert analysis.owners["agent"].load == pytest.approx(expected_load, rel=1e-12)
    assert analysis.rework_rate == pytest.approx(1 - (1 - q) ** n, rel=1e-9)
    assert all(size <= linear.SPARSE_FROM for size in dense_sizes)  # no dense 5,000² solve


def watch_dense(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of every dense solve from now on."""
    sizes: list[int] = []
    dense = linear.solve_dense_rows

    def watched(rows: list[list[float]], rhs: Sequence[float]) -> list[float]:
        sizes.append(len(rows))
        return dense(rows, rhs)

    monkeypatch.setattr(linear, "solve_dense_rows", watched)
    return sizes


def test_a_5000_station_qna_loop_is_solved_sparsely(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ownerless steps are stations of their own: QNA's system is one 5,000-station block."""
    n, q = 5000, 1e-4
    dense_sizes = watch_dense(monkeypatch)
    analysis = analyze(ring(n, q, owned=False))
    scv = analysis.owners["agent"].arrival_scv
    assert scv is not None
    assert 0.0 < scv < 1.0  # deterministic delays smooth the stream the agent gets
    assert analysis.cycle_time.expected == pytest.approx(
        sum((1 - q) ** (i - n) for i in range(n)) * 60.0, rel=1e-9
    )
    assert all(size <= linear.SPARSE_FROM for size in dense_sizes)


def test_qna_sparse_and_dense_agree_on_a_ring_of_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    process = ring(400, 0.01, owned=False)
    sparse = analyze(process).owners["agent"].arrival_scv
    dense_sizes = watch_dense(monkeypatch)
    monkeypatch.setattr(linear, "SPARSE_FROM", 10**9)
    dense = analyze(process).owners["agent"].arrival_scv
    assert max(dense_sizes) == 400  # the dense path did solve the whole ring
    assert sparse == pytest.approx(dense, rel=1e-9)
