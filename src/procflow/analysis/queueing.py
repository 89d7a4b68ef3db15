"""Queueing formulas: Erlang B/C for M/M/c, Allen–Cunneen, and QNA arrival variability.

A staffed owner is a pool of ``c`` identical servers taking work first come,
first served. With Poisson arrivals at rate ``λ`` and exponential service of
mean ``s`` it is an M/M/c queue, offered load ``a = λ s`` (Erlangs),
utilization ``ρ = a / c``, and for ``ρ < 1``:

* the probability that an arriving case waits is Erlang C, ``C(c, a)``;
* the mean wait is ``Wq = C(c, a) · s / (c (1 - ρ))``.

Erlang C is computed from the Erlang B recursion ``B(k) = a B(k-1) / (k +
a B(k-1))``, whose terms stay in ``[0, 1]`` -- no factorials, no overflow,
stable for any ``c`` -- and ``C = B / (1 - ρ (1 - B))``; very large pools use
the same quantity in log space.

For other distributions the Allen–Cunneen approximation scales the M/M/c
wait by the variability of arrivals and service::

    Wq ≈ Wq(M/M/c) · (ca² + cs²) / 2

with ``ca²`` and ``cs²`` the squared coefficients of variation (SCV) of the
inter-arrival and service times (1 and 1 for M/M/c, so it reduces to the
exact figure). The service SCV of an owner that does several steps is that
of the *mixture* of their durations, weighted by how often each step comes.

The arrival SCV at an owner deep inside a process is not that of the
external arrivals: routing splits streams (which makes them more random,
closer to Poisson), merges them (ditto), and queues smooth or burst them.
:func:`arrival_scvs` uses Whitt's QNA traffic-variability equations (W. Whitt,
"The Queueing Network Analyzer", Bell System Technical Journal 62(9), 1983):

* departures of a station: ``cd² = ρ² x + (1 - ρ²) ca²`` with
  ``x = 1 + (max(cs², 0.2) - 1) / sqrt(c)``; a pure delay passes its arrivals'
  variability on (``ρ = 0``);
* a stream split off with probability ``p``: ``p cd² + 1 - p``;
* merged streams: their rate-weighted SCVs, pulled toward 1 by the weight
  ``w = 1 / (1 + 4 (1 - ρ)² (ν - 1))``, ``ν = 1 / Σ q²`` (``q`` the shares of
  the arrival rate), which is the QNA "hybrid" of the asymptotic and the
  stationary-interval methods.

These equations are linear in the unknown arrival SCVs; they are solved
block by block like the visits (only loops couple stations). With Poisson
arrivals and exponential durations every SCV is 1 and the figures are
exactly M/M/c.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from procflow.analysis.linear import solve_blocks

#: Above this many servers Erlang B is computed in log space, vectorized.
_RECURSION_LIMIT = 2000


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``load`` (Erlangs).

    >>> round(erlang_b(4, 3.0), 4)
    0.2061
    """
    if servers < 0:
        raise ValueError("servers must be >= 0")
    if load <= 0.0:
        return 0.0 if servers > 0 else 1.0
    if servers <= _RECURSION_LIMIT:
        blocking = 1.0
        for k in range(1, servers + 1):
            blocking = load * blocking / (k + load * blocking)
        return blocking
    # B = P(c) / sum_{k<=c} P(k) with P the Poisson(load) weights, in log space. Terms more
    # than ~50 standard deviations below the mode are below double precision: skip them.
    spread = 50.0 * math.sqrt(load) + 50.0
    low = max(0, math.floor(load - spread))
    if servers > load + spread:  # far above the load: blocking is nil
        return 0.0
    counts = np.arange(low, servers + 1, dtype=float)
    log_factorials = np.array([math.lgamma(k + 1.0) for k in range(low, servers + 1)])
    log_terms = counts * math.log(load) - log_factorials
    top = log_terms.max()
    return float(np.exp(log_terms[-1] - top) / np.exp(log_terms - top).sum())


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c (``load < servers``), else 1.

    >>> round(erlang_c(4, 3.0), 4)
    0.5094
    """
    if load <= 0.0:
        return 0.0
    if load >= servers:
        return 1.0
    blocking = erlang_b(servers, load)
    rho = load / servers
    return blocking / (1.0 - rho * (1.0 - blocking))


def mmc_wait(servers: int, load: float, service_mean: float) -> float:
    """Mean wait in queue of M/M/c; ``inf`` when ``load >= servers``.

    >>> round(mmc_wait(4, 3.0, 20.0), 2)   # 9/h, 20 minutes, 4 servers
    10.19
    """
    if load <= 0.0 or service_mean <= 0.0:
        return 0.0
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * service_mean / (servers - load)


def allen_cunneen(wait_mmc: float, arrival_scv: float, service_scv: float) -> float:
    """Allen–Cunneen's GI/G/c mean wait from the M/M/c one."""
    return wait_mmc * (arrival_scv + service_scv) / 2.0


def required_servers(load: float, utilization: float = 1.0) -> int:
    """Smallest number of servers that keeps ``load / servers`` strictly below ``utilization``."""
    if load <= 0.0:
        return 1
    servers = max(1, math.ceil(load / utilization))
    while load / servers >= utilization:
        servers += 1
    return servers


@dataclass(frozen=True)
class Station:
    """A node of the QNA network: a staffed pool (``servers``) or a pure delay (``None``)."""

    utilization: float
    servers: int | None
    service_scv: float


def arrival_scvs(
    stations: Sequence[Station],
    source: np.ndarray,
    target: np.ndarray,
    rate: np.ndarray,
    external: np.ndarray,
    external_scv: float,
) -> np.ndarray:
    """SCV of the arrival stream at every station (QNA, see the module docstring).

    Entry ``k`` is a flow of ``rate[k]`` from station ``source[k]`` to
    ``target[k]``; ``external[j]`` is the rate of new cases entering at ``j``.
    Rates only matter relative to each other. The linear system is solved
    block by block (:func:`~procflow.analysis.linear.solve_blocks`), so
    thousands of stations cost little.
    """
    n = len(stations)
    if n == 0:
        return np.zeros(0)
    # one stream per (source, target) pair: QNA splits and merges whole streams
    pairs, inverse = np.unique(
        np.stack([np.asarray(source, dtype=np.intp), np.asarray(target, dtype=np.intp)]),
        axis=1,
        return_inverse=True,
    )
    source, target = pairs[0], pairs[1]
    rate = np.bincount(
        inverse.ravel(), weights=np.asarray(rate, dtype=float), minlength=len(source)
    )
    staffed = np.array([s.servers is not None for s in stations])
    rho = np.array([min(s.utilization, 1.0) if s.servers is not None else 0.0 for s in stations])
    x = np.array(
        [
            1.0 + (max(s.service_scv, 0.2) - 1.0) / math.sqrt(s.servers)
            if s.servers is not None
            else 1.0
            for s in stations
        ]
    )
    arrivals = external + np.bincount(target, weights=rate, minlength=n)
    reached = arrivals > 0.0
    safe = np.where(reached, arrivals, 1.0)
    p = rate / safe[source]  # share of the source's departures (every arrival departs)
    q = rate / safe[target]  # share of the target's arrivals
    q_external = external / safe
    nu = 1.0 / np.maximum(q_external**2 + np.bincount(target, weights=q * q, minlength=n), 1e-300)
    rho_target = np.where(staffed, rho, 0.0)
    weight = 1.0 / (1.0 + 4.0 * (1.0 - rho_target) ** 2 * (nu - 1.0))
    passed = q * ((1.0 - p) + p * rho[source] ** 2 * x[source])
    constant = q_external * external_scv + np.bincount(target, weights=passed, minlength=n)
    rhs = np.where(reached, 1.0 - weight + weight * constant, 1.0)
    coefficient = np.where(reached[target], weight[target] * q * p * (1.0 - rho[source] ** 2), 0.0)
    try:
        solution = solve_blocks(
            n, source.tolist(), target.tolist(), coefficient.tolist(), rhs.tolist()
        )
    except np.linalg.LinAlgError:  # pragma: no cover - every loop leaks variability
        return np.ones(n)
    return np.asarray(np.maximum(solution, 0.0))
