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

Run: ``python benchmarks/analyze_bench.py [--repeat 7] [--steps 1000]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable

# One core, as promised: BLAS threads pinned to the same core would only fight each other.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402  (after the thread settings above)

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


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs in seconds (the machine is shared: the minimum is fair)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


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

    rows: list[tuple[str, float]] = [
        ("analyze (total)", best_of(args.repeat, lambda: analyze(process))),
        ("  ensure_runnable (lint gate)", best_of(args.repeat, lambda: ensure_runnable(process))),
        ("  build chain (unroll bounds)", best_of(args.repeat, lambda: build_chain(process))),
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
