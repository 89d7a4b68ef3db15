"""Sparse linear systems ``x = b + M x`` solved block by block, and the SCCs that order them.

Both systems of the analytic model have this shape: expected visits (``M``
the routing probabilities) and QNA's arrival variabilities (``M`` the
share of variability each station passes on). ``M`` is sparse and mostly
acyclic -- only loops couple unknowns -- so the unknowns are grouped into
strongly connected components, taken in topological order, each solved as
one block given everything upstream of it (:func:`solve_loop`). A process
with ``n`` steps and small loops costs ``O(n)`` instead of a dense ``O(n^3)``.

A block is solved densely (Gaussian elimination, LAPACK's ``gesv`` past
:data:`SMALL_SYSTEM` unknowns) up to :data:`SPARSE_FROM` unknowns, and by
sparse elimination beyond (:func:`eliminate`): one loop spanning a
5,000-step process costs milliseconds instead of a dense 5,000-squared
solve (see docs/analysis-method.md for the method and the measured speed).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence

from procflow.digraph import strongly_connected

#: Up to this many unknowns a dense system is solved in pure Python: numpy's
#: call overhead is larger than the arithmetic of a small system (and a
#: process whose loops are all small never imports numpy).
SMALL_SYSTEM = 12

#: Blocks of more unknowns than this are solved by sparse elimination
#: (:func:`eliminate`); smaller ones densely, exactly as before the sparse
#: solver existed, so the figures of ordinary processes do not move by a bit.
SPARSE_FROM = 200

#: Relative residual a sparse solution must meet (against the original
#: equations, each scaled by the size of its terms); else the dense solve is used.
RESIDUAL = 1e-9

#: One block's couplings: ``passes[i]`` lists ``(j, c)``, unknown ``i`` passes
#: ``c x[i]`` on to unknown ``j`` (``j == i`` for a loop back to itself).
Passes = Sequence[Sequence[tuple[int, float]]]


def safe_sum(values: Iterable[float]) -> float:
    """``math.fsum`` of non-negative terms, ``inf`` when the sum is beyond floating point.

    ``fsum`` raises ``OverflowError`` when finite terms overflow (and
    ``ValueError`` for ``inf - inf``, which non-negative terms cannot give);
    callers here check the result instead.
    """
    try:
        return math.fsum(values)
    except (OverflowError, ValueError):
        return math.inf


def solve_dense_rows(rows: list[list[float]], rhs: Sequence[float]) -> list[float]:
    """Solve ``rows @ x = rhs`` (``rows`` is modified); Gaussian elimination for small systems.

    Partial pivoting, like LAPACK's ``gesv`` that :func:`numpy.linalg.solve`
    uses for larger ones. A singular system gives non-finite values instead
    of raising; callers check.
    """
    n = len(rows)
    if n > SMALL_SYSTEM:
        import numpy as np  # here only: ~50 ms to import, and most processes never need it

        try:
            return [float(v) for v in np.linalg.solve(np.array(rows), np.array(rhs, dtype=float))]
        except np.linalg.LinAlgError:
            return [math.nan] * n
    b = [float(v) for v in rhs]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        if pivot != col:
            rows[col], rows[pivot] = rows[pivot], rows[col]
            b[col], b[pivot] = b[pivot], b[col]
        head = rows[col]
        lead = head[col]
        if lead == 0.0:
            return [math.nan] * n
        for r in range(col + 1, n):
            row = rows[r]
            factor = row[col] / lead
            if factor != 0.0:
                for c in range(col + 1, n):
                    row[c] -= factor * head[c]
                b[r] -= factor * b[col]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        row = rows[r]
        rest = b[r]
        for c in range(r + 1, n):
            rest -= row[c] * x[c]
        x[r] = rest / row[r]
    return x


def solve_blocks(
    n: int,
    source: Sequence[int],
    target: Sequence[int],
    coefficient: Sequence[float],
    rhs: Sequence[float],
) -> list[float]:
    """Solve ``x[t] = rhs[t] + Σ coefficient[k] x[source[k]]``, summed over ``target[k] = t``.

    A singular block (a closed loop that passes everything on) gives
    non-finite values.
    """
    outgoing: list[list[int]] = [[] for _ in range(n)]
    for k, s in enumerate(source):
        outgoing[s].append(k)
    successors = [[target[k] for k in ks] for ks in outgoing]
    blocks = strongly_connected(n, successors)
    blocks.reverse()
    block_of = [0] * n
    for b, members in enumerate(blocks):
        for member in members:
            block_of[member] = b
    pending = [float(v) for v in rhs]
    x = [0.0] * n
    for b, members in enumerate(blocks):
        if len(members) == 1:
            m = members[0]
            loop = 0.0
            for k in outgoing[m]:
                if target[k] == m:
                    loop += coefficient[k]
            kept = 1.0 - loop
            x[m] = pending[m] / kept if kept != 0.0 else math.nan  # a loop passing all on
        else:
            local = {member: i for i, member in enumerate(members)}
            passes = [
                [
                    (j, coefficient[k])
                    for k in outgoing[m]
                    if (j := local.get(target[k])) is not None
                ]
                for m in members
            ]
            solution = solve_loop(passes, [pending[m] for m in members])
            for m, value in zip(members, solution, strict=True):
                x[m] = value
        for m in members:
            value = x[m]
            if value == 0.0:
                continue
            for k in outgoing[m]:
                if block_of[target[k]] != b:
                    pending[target[k]] += coefficient[k] * value
    return x


def solve_loop(
    passes: Passes,
    rhs: Sequence[float],
    exits: Sequence[float] | None = None,
    *,
    method: str = "auto",
) -> list[float]:
    """Solve one block ``x[j] = rhs[j] + Σ c x[i]`` over the ``(j, c)`` in ``passes[i]``.

    ``exits[i]`` is the share of ``x[i]`` that leaves the block -- ``1 - Σ c``
    over ``passes[i]``, but callers that know it as a sum of the moves that
    leave (the visits) give it so, free of cancellation; without it it is
    computed as ``1 - Σ c``. ``method`` is ``"dense"``, ``"sparse"`` or
    ``"auto"`` (sparse past :data:`SPARSE_FROM` unknowns). A sparse solve
    that cannot finish (a singular block, a non-positive pivot, more fill
    than a dense solve would cost) or whose residual is above
    :data:`RESIDUAL` gives way to the dense solve, which returns
    non-finite values for a singular block.

    >>> # a two-step loop: every case goes a -> b, b sends 1/4 back to a
    >>> solve_loop([[(1, 1.0)], [(0, 0.25)]], [1.0, 0.0])
    [1.3333333333333333, 1.3333333333333333]
    >>> solve_loop([[(1, 1.0)], [(0, 0.25)]], [1.0, 0.0], [0.0, 0.75], method="sparse")
    [1.3333333333333333, 1.3333333333333333]
    """
    n = len(passes)
    if method == "sparse" or (method == "auto" and n > SPARSE_FROM):
        if exits is None:
            exits = [1.0 - math.fsum(c for _j, c in moves) for moves in passes]
        solution = eliminate(passes, rhs, exits)
        if solution is not None and residual(passes, rhs, solution) <= RESIDUAL:
            return solution
    rows = [[0.0] * n for _ in range(n)]
    for i, moves in enumerate(passes):
        rows[i][i] += 1.0
        for j, c in moves:
            rows[j][i] -= c
    return solve_dense_rows(rows, rhs)


def eliminate(passes: Passes, rhs: Sequence[float], exits: Sequence[float]) -> list[float] | None:
    """Sparse Gaussian elimination of one block, or ``None`` when it cannot finish.

    State reduction: unknowns are eliminated one at a time, cheapest first
    (Markowitz order: fewest ``predecessors x successors``, ties by index),
    each one's couplings passed on to its neighbours -- ``i -> k -> j``
    becomes ``i -> j`` with ``c_ik c_kj / d_k`` -- and its right-hand side
    to its successors; back substitution in reverse order gives ``x``.

    The pivot ``d_k = 1 - c_kk`` is computed as the unknown's exit share plus
    its couplings to the others still left (Grassmann, Taksar and Heyman's
    form): no subtraction, so a loop left with a probability of 1e-12 keeps
    its digits where ``1 - 0.999999999999`` would lose them. Diagonal pivots
    are stable here because the visit systems are M-matrices (column
    diagonally dominant); a pivot that is not positive stops the
    elimination (``None``), as does fill beyond what a dense solve would
    cost (``n**3 / 200,000`` updates, at least 50,000: a pure-Python update
    costs about what 200,000 flops of LAPACK do).
    """
    n = len(passes)
    out: list[dict[int, float]] = [{} for _ in range(n)]
    into: list[set[int]] = [set() for _ in range(n)]
    for i, moves in enumerate(passes):
        row = out[i]
        for j, c in moves:
            if j != i and c != 0.0:
                row[j] = row.get(j, 0.0) + c
                into[j].add(i)
    b = [float(v) for v in rhs]
    leave = [float(v) for v in exits]
    order: list[tuple[int, float, float, list[tuple[int, float]]]] = []
    heap = [(len(into[i]) * len(out[i]), i) for i in range(n)]
    heapq.heapify(heap)
    done = [False] * n
    budget, work = max(n**3 // 200_000, 50_000), 0
    while heap:
        cost, k = heapq.heappop(heap)
        if done[k]:
            continue
        now = len(into[k]) * len(out[k])
        if now != cost:
            heapq.heappush(heap, (now, k))
            continue
        successors = out[k]
        pivot = leave[k] + math.fsum(successors.values())
        if not pivot > 0.0 or not math.isfinite(pivot):
            return None
        done[k] = True
        predecessors = into[k]
        work += len(predecessors) * len(successors) + 1
        if work > budget:
            return None
        order.append((k, pivot, b[k], [(i, out[i][k]) for i in predecessors]))
        if b[k] != 0.0:
            share = b[k] / pivot
            for j, c in successors.items():
                b[j] += share * c
        for j in successors:
            into[j].discard(k)
        for i in predecessors:
            row = out[i]
            factor = row.pop(k) / pivot
            leave[i] += factor * leave[k]
            for j, c in successors.items():
                if j == i:
                    continue  # a loop back to i: part of its pivot, never stored
                if j in row:
                    row[j] += factor * c
                else:
                    row[j] = factor * c
                    into[j].add(i)
            heapq.heappush(heap, (len(into[i]) * len(row), i))
        for j in successors:
            heapq.heappush(heap, (len(into[j]) * len(out[j]), j))
        out[k] = {}
        into[k] = set()
    x = [0.0] * n
    for k, pivot, arriving, feeding in reversed(order):
        x[k] = (arriving + math.fsum(c * x[i] for i, c in feeding)) / pivot
    return x


def residual(passes: Passes, rhs: Sequence[float], x: Sequence[float]) -> float:
    """Largest relative residual of ``x`` in ``x[j] = rhs[j] + Σ c x[i]``.

    Each equation's residual is divided by the sum of its terms' magnitudes,
    the scale its rounding errors have; ``inf`` when ``x`` is not finite.
    """
    if not all(math.isfinite(v) for v in x):
        return math.inf
    terms: list[list[float]] = [[-v, float(r)] for v, r in zip(x, rhs, strict=True)]
    for i, moves in enumerate(passes):
        value = x[i]
        for j, c in moves:
            terms[j].append(c * value)
    worst = 0.0
    for parts in terms:
        scale = math.fsum(abs(t) for t in parts)
        if scale > 0.0:
            worst = max(worst, abs(math.fsum(parts)) / scale)
    return worst
