"""Sparse linear systems ``x = b + M x`` solved block by block, and the SCCs that order them.

Both systems of the analytic model have this shape: expected visits (``M``
the routing probabilities) and QNA's arrival variabilities (``M`` the
share of variability each station passes on). ``M`` is sparse and mostly
acyclic -- only loops couple unknowns -- so the unknowns are grouped into
strongly connected components, taken in topological order, each solved as
a small dense system given everything upstream of it. A process with
``n`` steps and small loops costs ``O(n)`` instead of a dense ``O(n^3)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from procflow.graph import strongly_connected

#: Up to this many unknowns a dense system is solved in pure Python: numpy's
#: call overhead is larger than the arithmetic of a small system (and a
#: process whose loops are all small never imports numpy).
SMALL_SYSTEM = 12


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
            rows = [[0.0] * len(members) for _ in members]
            for i, m in enumerate(members):
                rows[i][i] += 1.0
                for k in outgoing[m]:
                    j = local.get(target[k])
                    if j is not None:
                        rows[j][i] -= coefficient[k]
            solution = solve_dense_rows(rows, [pending[m] for m in members])
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
