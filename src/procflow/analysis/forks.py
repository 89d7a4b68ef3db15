"""Time through fork blocks: the analytic approximation of docs/parallel-work.md.

Visits are exact with forks (the routing chain, :mod:`procflow.analysis.routing`:
every branch is taken, a join counts one visit per fork), but for bounds whose
counter the tokens of a fork share (:func:`~procflow.analysis.routing.shared_bounds`).
The *time* a case spends between a fork and its join is not a sum of step times: it is the
slowest branch's time (``join: all``) or the fastest's (``join: first``).
Its expectation needs the branch times' distributions, which the analysis
does not have; it approximates them, in three steps:

1. **Moments of a branch's time.** A branch is a small absorbing chain from
   its first step to the join. A step's time per visit has mean
   ``r = wait + service`` and variance ``s2 = Var(service) + Var(wait)``
   (the wait of an M/M/c queue: 0 with probability ``1 - P(wait)``, else
   exponential, so ``Var(wait) = E[W]^2 (2 / P(wait) - 1)``). With ``P``
   the branch's transition probabilities (``max`` bounds ignored, the one
   approximation of the routing here) the total time ``R`` from each step
   has ``m = (I - P)^-1 r`` and ``E[R^2] = (I - P)^-1 (r^2 + s2 + 2 r P m)``.
   A nested fork is one step of its branch, with the time of its own block.
2. **Two-moment fit.** Each branch's time is replaced by a distribution with
   the same mean and variance: a shifted exponential when its coefficient
   of variation is at most 1 (a fixed time when it is 0), a hyperexponential
   with balanced means when it is above 1. Both are exact for an
   exponential time, and the first for a fixed one.
3. **Maximum or minimum.** Branches are taken as independent:
   ``E[max] = ∫ (1 - Π F_i(t)) dt`` and ``E[min] = ∫ Π (1 - F_i(t)) dt`` (and
   the second moments with ``2t``), integrated numerically (Gauss-Legendre
   on pieces between the fits' shifts and along their scales).

For two exponential branches with means ``a`` and ``b`` this is the closed
form: ``a + b - ab/(a+b)`` and ``ab/(a+b)``. The error elsewhere comes from
the fit (branch times far from the two families), from branches that share
owners (their times are not independent) and from ``join: first``, whose
withdrawn branches the visits count as if they ran to the join; the
measured errors are in docs/parallel-work.md.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from procflow.compiled import CompiledProcess
from procflow.forks import Fork

__all__ = [
    "BlockTimes",
    "extreme_moments",
    "fit",
    "floor_through",
    "race_visits",
    "wait_variance",
]

Moments = tuple[float, float]
"""``(mean, variance)``."""

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)


def fit(
    mean: float, variance: float
) -> tuple[Callable[[NDArray[np.float64]], NDArray[np.float64]], list[float]]:
    """The CDF of the two-moment fit of step 2, and the points where it bends (its shift and
    scales), for the integration."""
    mean = max(mean, 0.0)
    variance = max(variance, 0.0)
    if mean <= 0.0:
        return (lambda t: np.ones_like(t)), [0.0]
    scv = variance / (mean * mean)
    if scv <= 1.0:
        scale = math.sqrt(variance)
        shift = mean - scale
        if scale <= 0.0:
            return (lambda t: (t >= shift).astype(np.float64)), [shift]

        def shifted(t: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.where(t < shift, 0.0, -np.expm1(-(np.maximum(t, shift) - shift) / scale))

        return shifted, [shift, scale]
    root = math.sqrt((scv - 1.0) / (scv + 1.0))
    # 1 - p without cancellation: at a huge scv (lognormal(1s, 1e6h)) p rounds to 1 and the
    # slow phase's rate to 0, whose 1/rate was a ZeroDivisionError
    q = 1.0 / ((scv + 1.0) * (1.0 + root))
    p = 1.0 - q
    rate1, rate2 = 2.0 * p / mean, 2.0 * q / mean

    def hyper(t: NDArray[np.float64]) -> NDArray[np.float64]:
        return 1.0 - p * np.exp(-rate1 * t) - q * np.exp(-rate2 * t)

    return hyper, [0.0, 1.0 / rate1] + ([1.0 / rate2] if rate2 > 0.0 else [])


def extreme_moments(branches: Sequence[Moments], largest: bool) -> Moments:
    """Mean and variance of the maximum (``largest``) or minimum of independent branch times."""
    if not branches:
        return 0.0, 0.0
    cdfs, points = [], [0.0]
    horizon = 0.0
    for mean, variance in branches:
        cdf, bends = fit(mean, variance)
        cdfs.append(cdf)
        shift = bends[0]
        points.append(max(shift, 0.0))
        for scale in bends[1:]:
            points.extend(max(shift, 0.0) + scale * 2.0**k for k in range(-3, 7))
            horizon = max(horizon, max(shift, 0.0) + 60.0 * scale)
        horizon = max(horizon, shift)
    cuts = np.unique(np.asarray([p for p in points if p <= horizon] + [horizon]))
    first = second = 0.0
    for low, high in pairwise(cuts.tolist()):
        if high <= low:
            continue
        t = 0.5 * (high - low) * _NODES + 0.5 * (high + low)
        weight = 0.5 * (high - low) * _WEIGHTS
        if largest:
            below = np.ones_like(t)
            for cdf in cdfs:
                below *= cdf(t)
            tail = 1.0 - below
        else:
            tail = np.ones_like(t)
            for cdf in cdfs:
                tail *= 1.0 - cdf(t)
        first += float(np.dot(weight, tail))
        second += float(np.dot(weight, 2.0 * t * tail))
    return first, max(second - first * first, 0.0)


class BlockTimes:
    """The time through every fork block of a process (see the module docstring)."""

    def __init__(
        self,
        compiled: CompiledProcess,
        per_visit: Mapping[int, Moments],
    ) -> None:
        self.compiled = compiled
        self.per_visit = per_visit
        """Per step index: mean and variance of its time per visit (waiting and work)."""
        self.structure = compiled.forks
        self._blocks: dict[int, Moments] = {}

    def block(self, step: int) -> Moments:
        """Mean and variance of the time from the end of fork ``step``'s work to its join."""
        if not self._blocks:  # inner blocks first (smaller regions): no recursion, any depth
            for fork in sorted(self.structure.forks, key=lambda f: (len(f.region), f.step)):
                branches = [self.branch(fork, i) for i in range(len(fork.branches))]
                self._blocks[fork.step] = extreme_moments(branches, fork.kind != "first")
        return self._blocks[step]

    def branch(self, fork: Fork, position: int) -> Moments:
        """Mean and variance of branch ``position``'s time, from its first step to the join."""
        start = fork.branches[position]
        if start == fork.join:
            return 0.0, 0.0
        own = set(fork.paths[position])
        for g in fork.paths[position]:
            inner = self.structure.fork_at.get(g)
            if inner is not None:
                own -= self.structure.forks[inner].region
        order = sorted(own)
        where = {u: i for i, u in enumerate(order)}
        found = self._moments(order, where, capped=False)
        if found is None:  # no way out but through the bounds: read them as caps
            found = self._moments(order, where, capped=True)
        if found is None:
            return math.inf, math.inf
        m, second = found
        i = where[start]
        return float(m[i]), float(max(second[i] - m[i] * m[i], 0.0))

    def _moments(
        self, order: list[int], where: dict[int, int], capped: bool
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """First and second moments of the time from each of ``order``'s steps to the join,
        or ``None`` when the system has no finite solution.

        Uncapped, ``max:`` bounds are ignored (step 1 of the module docstring). A branch
        that can only leave a loop because of its bounds (a ``p: 1`` rework with ``max``)
        has no finite solution so; ``capped`` then reads each bounded edge as a geometric
        count cut at ``max`` -- for a loop back to its own step with ``p`` and ``max: N``
        the probability ``p (1 - p^N) / (1 - p^(N+1))`` (``N / (N+1)`` at ``p = 1``), the
        exact visits of that loop -- and gives the rest to the step's other edges."""
        n = len(order)
        moves = np.zeros((n, n))
        reward = np.zeros(n)
        noise = np.zeros(n)
        for i, u in enumerate(order):
            mean, variance = self.per_visit.get(u, (0.0, 0.0))
            inner = self.structure.fork_at.get(u)
            if inner is not None:  # a nested fork: its step, then its block, then its join
                block_mean, block_variance = self.block(u)
                mean, variance = mean + block_mean, variance + block_variance
                join = self.structure.forks[inner].join
                if join in where:
                    moves[i, where[join]] += 1.0
            else:
                for target, p in self._shares(u, capped):
                    if target in where:
                        moves[i, where[target]] += p
            reward[i], noise[i] = mean, variance
        system = np.eye(n) - moves
        try:
            m = np.linalg.solve(system, reward)
            second = np.linalg.solve(system, reward * reward + noise + 2.0 * reward * (moves @ m))
        except np.linalg.LinAlgError:
            return None
        if not (np.all(np.isfinite(second)) and np.all(m >= 0.0)):
            return None
        return np.asarray(m, dtype=np.float64), np.asarray(second, dtype=np.float64)

    def _shares(self, u: int, capped: bool) -> list[tuple[int, float]]:
        """``(target, probability)`` of step ``u``'s edges (see :meth:`_moments`)."""
        edges = self.compiled.outgoing[u]
        probability = self.compiled.probability
        total = math.fsum(probability[e.number] for e in edges) or 1.0
        shares = [probability[e.number] / total for e in edges]
        if not capped or all(e.max is None for e in edges):
            return [(e.target, p) for e, p in zip(edges, shares, strict=True)]
        kept = [
            p if e.max is None else _capped(p, e.max) for e, p in zip(edges, shares, strict=True)
        ]
        free = [i for i, e in enumerate(edges) if e.max is None]
        spare = 1.0 - math.fsum(kept)
        if free and spare > 0.0:
            weight = math.fsum(shares[i] for i in free)
            for i in free:
                kept[i] += spare * (shares[i] / weight if weight > 0.0 else 1.0 / len(free))
        return [(e.target, p) for e, p in zip(edges, kept, strict=True)]

    def top_level(self) -> list[int]:
        """The fork steps that lie in no other fork's branches."""
        inside: set[int] = set()
        for fork in self.structure.forks:
            inside |= fork.region
        return [fork.step for fork in self.structure.forks if fork.step not in inside]

    def regions(self) -> set[int]:
        """Every step inside some fork's branches."""
        inside: set[int] = set()
        for fork in self.structure.forks:
            inside |= fork.region
        return inside


def _capped(p: float, most: int) -> float:
    """The per-visit probability of a loop edge taken with ``p`` at most ``most`` times in a
    row that gives its step the loop's exact expected visits (geometric count cut at ``most``)."""
    if p >= 1.0:
        return most / (most + 1.0)
    if p <= 0.0:
        return 0.0
    return p * -math.expm1(most * math.log(p)) / -math.expm1((most + 1) * math.log(p))


def wait_variance(wait_mean: float, p_wait: float | None) -> float:
    """Var(W) of an M/M/c wait with mean ``wait_mean`` and probability ``p_wait`` of waiting."""
    if wait_mean <= 0.0 or not p_wait or p_wait <= 0.0:
        return 0.0
    return wait_mean * wait_mean * (2.0 / p_wait - 1.0)


def floor_through(
    compiled: CompiledProcess, cost: Sequence[float], race_cost: Sequence[float]
) -> tuple[float, list[str]] | None:
    """The fastest way through the process when a ``join: all`` block takes its slowest
    branch's fastest path and a ``join: first`` block its fastest branch's: a shortest path
    (Dijkstra) over steps in which each fork leads straight to its join at the block's cost.
    Step times are ``cost``, and ``race_cost`` inside a race (``join: first``): the mean of a
    minimum is below the minimum of the means, so a lower bound needs the shortest times
    there. Returns the time and the steps of the path (a block shown by its fork and join)."""
    structure = compiled.forks
    memo: dict[int, float] = {}

    def path(start: int, stop: int, shortest: Sequence[float] = cost) -> tuple[float, list[int]]:
        best = {start: shortest[start]}
        came: dict[int, int] = {}
        frontier = [(shortest[start], start)]
        done: set[int] = set()
        while frontier:
            cost, u = heapq.heappop(frontier)
            if u in done:
                continue
            done.add(u)
            if (stop < 0 and compiled.end[u]) or u == stop:
                steps = [u]
                while steps[-1] in came:
                    steps.append(came[steps[-1]])
                return cost - (shortest[u] if u == stop else 0.0), steps[::-1]
            position = structure.fork_at.get(u)
            if position is not None:
                fork = structure.forks[position]
                targets = [(fork.join, block(u))] if fork.join >= 0 else []
            else:
                targets = [(v, 0.0) for v in compiled.successors[u]]
            for v, extra in targets:
                c = cost + extra + shortest[v]
                if c < best.get(v, math.inf):
                    best[v] = c
                    came[v] = u
                    heapq.heappush(frontier, (c, v))
        return math.inf, []

    def block(u: int) -> float:
        return memo[u]

    for fork in sorted(structure.forks, key=lambda f: (len(f.region), f.step)):  # inner first
        u = fork.step
        if fork.join >= 0:
            inside = race_cost if fork.kind == "first" else cost
            times = [
                0.0 if b == fork.join else path(b, fork.join, inside)[0] for b in fork.branches
            ]
            memo[u] = max(times) if fork.kind != "first" else min(times)

    total, steps = path(compiled.start, -1)
    return (total, compiled.step_ids(steps)) if math.isfinite(total) else None


def race_visits(
    compiled: CompiledProcess, visits: Mapping[str, float], per_visit: Mapping[int, Moments]
) -> dict[str, float]:
    """Visits with the withdrawn work of ``join: first`` races taken out (approximate).

    Every branch of a race is active for the race's time, ``E[min]`` of the
    branch times; a branch that would take ``E[T_i]`` to finish has done about
    ``E[min] / E[T_i]`` of its work when the race ends. Its steps' visits (of
    nested blocks too) are scaled by that share, computed from the work
    content alone (``per_visit``, no waiting: the waits depend on these
    visits). The visits of ``join: all`` blocks stay exact.
    """
    structure = compiled.forks
    races = [fork for fork in structure.forks if fork.kind == "first" and fork.join >= 0]
    if not races:
        return dict(visits)
    times = BlockTimes(compiled, per_visit)
    share = [1.0] * compiled.size
    for fork in races:
        race = times.block(fork.step)[0]
        for position, path in enumerate(fork.paths):
            own = times.branch(fork, position)[0]
            fraction = min(race / own, 1.0) if own > 0.0 else 1.0
            for u in dict.fromkeys(path):
                if fork.branch_of(u) == position:
                    share[u] *= fraction
    return {step: visits[step] * share[u] for u, step in enumerate(compiled.steps)}
