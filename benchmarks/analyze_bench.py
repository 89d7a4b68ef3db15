"""How fast is ``procflow.analyze`` on a 1,000-step process with loops, and which solve wins?

The workload is one generated process of ``--steps`` steps (default 1,000):
40 staffed owners and an external one, distributions of every kind, a
branch in most stages, and a rework loop in every stage of ten steps --
two in three bounded (``max: 2`` or ``3``, unrolled exactly into the chain),
one in three unbounded -- with a nested inner loop in every fourth stage.

Timed, each the best of ``--repeat`` runs on one core:

* ``analyze``: the whole :func:`procflow.analyze` (structural gate, chain,
  solve, queueing, goals) -- target under 200 ms;
* ``ensure_runnable``: the lint gate alone (structural rules);
* ``build chain``: unrolling the bounded loops into the routing chain;
* ``block solve``: :func:`~procflow.analysis.routing.solve_visits`, what
  analyze uses -- SCCs of the unrolled chain in topological order, a small
  dense solve per block, forward substitution between blocks;
* ``dense solve``: one ``numpy.linalg.solve`` of the full ``(I - Q)^T v = e``
  (the matrix build included), the textbook method -- on the unrolled chain,
  and for reference on the plain step chain with every bound ignored;
* ``sparse solve``: ``scipy.sparse.linalg.spsolve`` (SuperLU) of the same
  system, when scipy is installed (it is not a procflow dependency).

A second workload is one loop spanning the whole process (issue 11 §3):
``--loop-steps`` steps (default 5,000) in a ring, each going on with
``1 - q`` and back to the first with ``q = 1e-4``, 40 staffed owners -- one
strongly connected component of 5,000 states. Timed: the whole ``analyze``
(target under 1 s), procflow's block solve (sparse elimination of the one
block, :func:`~procflow.analysis.linear.eliminate`), the dense numpy solve
(what analyze did before: 3.8 s) and scipy's ``spsolve``, with the ratios,
and the visits checked against the closed form ``(1 - q) ** (i - n)``.

Run: ``python benchmarks/analyze_bench.py [--repeat 7] [--steps 1000] [--loop-steps 5000]``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

# One core, as promised: BLAS threads pinned to the same core would only fight each other.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402  (after the thread settings above)
from _timing import best_of  # noqa: E402  (the fastest of N wall-clock runs, gc before each)

DURATIONS = (
    "exponential(6m)",
    "lognormal(4m, 2m)",
    "triangular(20m, 40m, 90m)",
    "uniform(2m, 10m)",
    "5m",
    "gamma(10m, 4m)",
    "normal(10m, 2m)",
    "empirical(3m, 5m, 8m)",
)


def process_text(steps: int, owners: int = 40) -> str:
    """A sound process of ``steps`` steps in stages of ten, each with a rework loop."""
    roles = [f"role-{k:02d}" for k in range(owners)]
    out = ["process: analyze-bench", "owners:"]
    out += [f"  {role}: {{capacity: {60 + k % 9}}}" for k, role in enumerate(roles)]
    out += ["  customer: {external: true}", "arrivals: {rate: 4/h}", "start: s0000", "steps:"]
    last = steps - 1

    def sid(i: int) -> str:
        return f"s{i:04d}"

    for i in range(steps):
        out.append(f"  {sid(i)}:")
        if i == last:
            out.append("    end: true")
            break
        owner = "customer" if i % 13 == 12 else roles[i % owners]
        out.append(f"    owner: {owner}")
        out.append(f"    duration: {DURATIONS[i % len(DURATIONS)]}")
        stage, place = divmod(i, 10)
        if place == 9:  # end of a stage: rework back to its start
            bound = ("", ", max: 2", ", max: 3")[stage % 3]
            out.append("    on:")
            out.append(f"      ok: {{to: {sid(i + 1)}, p: 0.85}}")
            out.append(f"      rework: {{to: {sid(i - 9)}, p: 0.15, feedback: true{bound}}}")
        elif place == 6 and stage % 4 == 0:  # a nested inner loop
            out.append("    on:")
            out.append(f"      ok: {{to: {sid(i + 1)}, p: 0.8}}")
            out.append(f"      recheck: {{to: {sid(i - 2)}, p: 0.2, feedback: true, max: 1}}")
        elif place == 3 and i + 2 <= last:  # a branch that skips a step
            out.append("    on:")
            out.append(f"      simple: {{to: {sid(i + 1)}, p: 0.6}}")
            out.append(f"      complex: {{to: {sid(i + 2)}, p: 0.4}}")
        else:
            out.append(f"    next: {sid(i + 1)}")
    out += [
        "goals:",
        '  - {id: mean-time, metric: cycle_time, stat: mean, target: "<= 30d"}',
        '  - {id: busy, metric: "utilization:role-00", target: "<= 85%"}',
        '  - {id: redo, metric: rework_rate, target: "<= 90%"}',
    ]
    return "\n".join(out) + "\n"


def ring_text(steps: int, q: float = 1e-4, owners: int = 40) -> str:
    """One loop through ``steps`` steps: each goes on with ``1 - q``, back to the first with ``q``.

    The process is one strongly connected component; step ``i`` is visited
    ``(1 - q) ** (i - steps)`` times per case (a geometric number of passes).
    """
    roles = [f"role-{k:02d}" for k in range(owners)]
    out = ["process: loop-bench", "owners:"]
    out += [f"  {role}: {{capacity: 40}}" for role in roles]
    out += ["arrivals: {rate: 1/h}", "start: s0000", "steps:"]
    for i in range(steps):
        ahead = f"s{i + 1:04d}" if i + 1 < steps else "done"
        back = f"back: {{to: s0000, p: {q!r}, feedback: true}}"
        out.append(
            f"  s{i:04d}: {{owner: {roles[i % owners]}, duration: exponential(6m), on: "
            f"{{ok: {{to: {ahead}, p: {1 - q!r}}}, {back}}}}}"
        )
    out.append("  done: {end: true}")
    return "\n".join(out) + "\n"


def sparse_solver() -> Callable[[object], np.ndarray] | None:
    """``scipy.sparse`` SuperLU solve of the chain, or ``None`` without scipy."""
    try:
        from scipy.sparse import csc_matrix, identity
        from scipy.sparse.linalg import spsolve
    except ImportError:
        return None

    def solve(chain: object) -> np.ndarray:
        n = chain.size  # type: ignore[attr-defined]
        q = csc_matrix(
            (chain.prob, (chain.dst, chain.src)),  # type: ignore[attr-defined]
            shape=(n, n),
        )
        rhs = np.zeros(n)
        rhs[chain.start] = 1.0  # type: ignore[attr-defined]
        return np.asarray(spsolve((identity(n, format="csc") - q).tocsc(), rhs))

    return solve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--loop-steps", type=int, default=5000, help="0 skips the single loop")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as promised

    from procflow._lint import ensure_runnable
    from procflow.analysis import analyze
    from procflow.analysis.routing import build_chain, solve_dense, solve_visits
    from procflow.loader import load_text

    process = load_text(process_text(args.steps), "analyze-bench.yaml")
    analysis = analyze(process)  # warm up: imports and rule registration are not measured
    chain = build_chain(process)
    blocks = solve_visits(chain)
    dense = solve_dense(chain)
    assert np.allclose(blocks, dense, rtol=1e-9, atol=1e-12), "block and dense solves disagree"

    # a copy of the process compiles, gates and unrolls afresh: the process itself keeps its
    # chain and gate (simulate asks for them several times), so timing it again would time a
    # lookup
    rows: list[tuple[str, float]] = [
        ("analyze (total)", best_of(args.repeat, lambda: analyze(process.model_copy()))),
        (
            "  ensure_runnable (lint gate)",
            best_of(args.repeat, lambda: ensure_runnable(process.model_copy())),
        ),
        (
            "  build chain (unroll bounds)",
            best_of(args.repeat, lambda: build_chain(process.model_copy())),
        ),
        ("  block solve (used)", best_of(args.repeat, lambda: solve_visits(chain))),
        ("dense solve (numpy.linalg)", best_of(args.repeat, lambda: solve_dense(chain))),
    ]
    flat = build_chain(process, max_states=0)  # every bound dropped: one state per step
    rows.append(
        (f"  dense, {flat.size} steps, no bounds", best_of(args.repeat, lambda: solve_dense(flat)))
    )
    sparse = sparse_solver()
    if sparse is not None:
        assert np.allclose(sparse(chain), dense, rtol=1e-9, atol=1e-12)
        rows.append(("sparse solve (scipy spsolve)", best_of(args.repeat, lambda: sparse(chain))))
        rows.append(("  sparse, no bounds", best_of(args.repeat, lambda: sparse(flat))))

    print(
        f"{args.steps} steps, {len(process.owners)} owners, {chain.size} chain states "
        f"({len(chain.bounds)} bounded loops unrolled), {len(chain.blocks)} blocks "
        f"(largest {max(len(b) for b in chain.blocks)}); "
        f"bottleneck {analysis.bottleneck}, best of {args.repeat} on one core"
    )
    for label, seconds in rows:
        print(f"  {label:<32} {seconds * 1000:9.2f} ms")
    total = rows[0][1]
    block = rows[3][1]
    dense_time = rows[4][1]
    print(f"dense / block solve: {dense_time / block:.1f}x")
    if sparse is not None:
        print(f"sparse / block solve: {rows[6][1] / block:.1f}x")
    else:
        print("sparse solve: scipy not installed (not a procflow dependency), skipped")
    verdict = "OK" if total < 0.200 else "OVER TARGET"
    print(f"analyze: {total * 1000:.1f} ms for {args.steps} steps (target < 200 ms): {verdict}")
    if args.loop_steps:
        print()
        loop_bench(args.loop_steps, args.repeat, sparse)
    return 0


def loop_bench(steps: int, repeat: int, sparse: Callable[[object], np.ndarray] | None) -> None:
    """The single-loop workload: analyze, procflow's sparse block solve, numpy dense, scipy."""
    from procflow.analysis import analyze
    from procflow.analysis.routing import build_chain, solve_dense, solve_visits, step_visits
    from procflow.loader import load_text

    q = 1e-4
    process = load_text(ring_text(steps, q), "loop-bench.yaml")
    analyze(process)
    chain = build_chain(process)
    largest = max(len(b) for b in chain.blocks)
    visits = step_visits(chain, solve_visits(chain))
    worst = max(abs(visits[f"s{i:04d}"] / (1 - q) ** (i - steps) - 1) for i in range(steps))
    assert worst < 1e-12, f"visits off the closed form by {worst:.1e}"
    rows: list[tuple[str, float]] = [
        ("analyze (total)", best_of(repeat, lambda: analyze(process.model_copy()))),
        ("  block solve (sparse, used)", best_of(repeat, lambda: solve_visits(chain))),
        ("dense solve (numpy.linalg)", best_of(min(repeat, 2), lambda: solve_dense(chain))),
    ]
    dense = solve_dense(chain)
    assert np.allclose(solve_visits(chain), dense, rtol=1e-9, atol=1e-12)
    if sparse is not None:
        assert np.allclose(sparse(chain), dense, rtol=1e-9, atol=1e-12)
        rows.append(("sparse solve (scipy spsolve)", best_of(repeat, lambda: sparse(chain))))
    print(
        f"single loop: {steps} steps, {chain.size} chain states, largest block {largest}; "
        f"visits within {worst:.1e} of the closed form; best of {repeat} "
        f"({min(repeat, 2)} for the dense solve) on one core"
    )
    for label, seconds in rows:
        print(f"  {label:<32} {seconds * 1000:9.2f} ms")
    block = rows[1][1]
    print(f"dense / block solve: {rows[2][1] / block:.1f}x")
    if sparse is not None:
        print(f"scipy spsolve / block solve: {rows[3][1] / block:.2f}x")
    else:
        print("sparse solve: scipy not installed (not a procflow dependency), skipped")
    total = rows[0][1]
    verdict = "OK" if total < 1.0 else "OVER TARGET"
    print(
        f"analyze: {total * 1000:.1f} ms for a {steps}-step single loop (target < 1 s): {verdict}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
