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
from fractions import Fraction
from typing import TYPE_CHECKING

from procflow.analysis.linear import solve_blocks

if TYPE_CHECKING:
    import numpy as np

#: Above this many servers Erlang B is computed in log space, vectorized.
_RECURSION_LIMIT = 2000
#: Above this many Poisson terms the log-space sum gives way to the normal limit.
_LOG_TERMS = 1_000_000


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``load`` (Erlangs).

    >>> round(erlang_b(4, 3.0), 4)  # the textbook table value
    0.2061
    >>> erlang_b(1, 1.0)  # one server: a / (1 + a)
    0.5

    Past 2,000 servers it is computed in log space; it agrees with the
    recursion to nine digits:

    >>> b = 1.0
    >>> for k in range(1, 2501):
    ...     b = 2400.0 * b / (k + 2400.0 * b)
    >>> math.isclose(erlang_b(2500, 2400.0), b, rel_tol=1e-9)
    True
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
    if servers > load + spread:  # far above the load: blocking is nil
        return 0.0
    low = max(0, math.floor(load - spread))
    if servers - low > _LOG_TERMS:  # an astronomically large pool: the normal limit
        return _erlang_b_normal(servers, load)
    import numpy as np  # here only: pools of thousands are rare, numpy takes ~50 ms to import

    counts = np.arange(low, servers + 1, dtype=float)
    log_factorials = np.array([math.lgamma(k + 1.0) for k in range(low, servers + 1)])
    log_terms = counts * math.log(load) - log_factorials
    top = log_terms.max()
    return float(np.exp(log_terms[-1] - top) / np.exp(log_terms - top).sum())


def _erlang_b_normal(servers: int, load: float) -> float:
    """Erlang B for a huge load: Poisson(load) as a normal, with continuity correction.

    ``B = P(X = c) / P(X <= c)`` for ``X ~ Poisson(a)``; with ``a`` in the
    millions and more the normal density and distribution function give it
    to a relative error of order ``1 / sqrt(a)``.
    """
    sd = math.sqrt(load)
    z = (servers + 0.5 - load) / sd
    below = 0.5 * math.erfc(-z / math.sqrt(2.0))
    if below <= 0.0:
        return 1.0
    return min(1.0, math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) / sd / below)


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c (``load < servers``), else 1.

    >>> round(erlang_c(4, 3.0), 4)
    0.5094
    >>> erlang_c(1, 0.5)  # M/M/1: an arrival waits with probability rho
    0.5
    >>> erlang_c(4, 4.0)  # no spare capacity: everyone waits
    1.0
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
    >>> mmc_wait(1, 0.5, 10.0)  # M/M/1: rho / (1 - rho) x service
    10.0
    >>> mmc_wait(2, 2.0, 10.0)
    inf
    """
    if load <= 0.0 or service_mean <= 0.0:
        return 0.0
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * service_mean / (servers - load)


def allen_cunneen(wait_mmc: float, arrival_scv: float, service_scv: float) -> float:
    """Allen–Cunneen's GI/G/c mean wait from the M/M/c one.

    Exact for M/G/1 (the Pollaczek–Khinchine formula): a fixed service time
    halves the M/M/1 wait.

    >>> allen_cunneen(10.0, 1.0, 0.0)  # M/D/1 at rho = 0.5, service 10
    5.0
    """
    return wait_mmc * (arrival_scv + service_scv) / 2.0


def required_servers(load: float, utilization: float = 1.0) -> int:
    """Smallest number of servers that keeps ``load / servers`` strictly below ``utilization``.

    ``load`` must be finite. Past 2**52 servers, where floating point no
    longer tells ``n`` from ``n + 1``, the answer is computed in exact
    rational arithmetic.

    >>> required_servers(3.0), required_servers(3.0, 0.7), required_servers(4.0)
    (4, 5, 5)
    """
    if load <= 0.0:
        return 1
    ratio = load / utilization
    if not ratio < 2.0**52:
        return math.floor(Fraction(load) / Fraction(utilization)) + 1
    servers = max(1, math.ceil(ratio))
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
    source: Sequence[int] | np.ndarray,
    target: Sequence[int] | np.ndarray,
    rate: Sequence[float] | np.ndarray,
    external: Sequence[float] | np.ndarray,
    external_scv: float,
) -> np.ndarray:
    """SCV of the arrival stream at every station (QNA, see the module docstring).

    Entry ``k`` is a flow of ``rate[k]`` from station ``source[k]`` to
    ``target[k]``; ``external[j]`` is the rate of new cases entering at ``j``.
    Rates only matter relative to each other. Parallel flows between two
    stations are one stream. See :func:`qna_arrival_scvs`.
    """
    flows: dict[tuple[int, int], float] = {}
    for s, t, r in zip(source, target, rate, strict=True):
        key = (int(s), int(t))
        flows[key] = flows.get(key, 0.0) + float(r)
    import numpy as np  # the array interface; the analysis itself calls qna_arrival_scvs

    return np.array(
        qna_arrival_scvs(stations, flows, [float(x) for x in external], external_scv), dtype=float
    )


def qna_arrival_scvs(
    stations: Sequence[Station],
    flows: dict[tuple[int, int], float],
    external: Sequence[float],
    external_scv: float,
) -> list[float]:
    """SCV of the arrival stream at every station, from the streams ``flows[(i, j)]``.

    The linear system is solved block by block
    (:func:`~procflow.analysis.linear.solve_blocks`; a loop of thousands of
    stations sparsely), so thousands of stations cost little, and in plain
    Python, which for the few stations of a typical process is faster than
    setting up arrays. Infinite service SCVs (a duration distribution beyond
    floating point) count as 1e300.

    Regular arrivals (SCV 0) through a pure delay, half of them split off
    to a second station: splitting makes the stream more random,
    ``p cd² + 1 - p = 0.5``:

    >>> delay, desk = Station(0.0, None, 1.0), Station(0.5, 1, 1.0)
    >>> qna_arrival_scvs([delay, desk], {(0, 1): 0.5}, [1.0, 0.0], 0.0)
    [0.0, 0.5]

    With Poisson arrivals and exponential service every SCV stays 1 (M/M/c):

    >>> qna_arrival_scvs([Station(0.8, 1, 1.0), desk], {(0, 1): 1.0}, [1.0, 0.0], 1.0)
    [1.0, 1.0]
    """
    n = len(stations)
    if n == 0:
        return []
    external_scv = min(external_scv, 1e300)
    rho = [min(s.utilization, 1.0) if s.servers is not None else 0.0 for s in stations]
    x = [
        1.0 + (min(max(s.service_scv, 0.2), 1e300) - 1.0) / math.sqrt(s.servers)
        if s.servers is not None
        else 1.0
        for s in stations
    ]
    arrivals = [float(e) for e in external]
    for (_i, j), r in flows.items():
        arrivals[j] += r
    squares = [(e / a) ** 2 if a > 0.0 else 0.0 for e, a in zip(external, arrivals, strict=True)]
    for (_i, j), r in flows.items():
        if arrivals[j] > 0.0:
            squares[j] += (r / arrivals[j]) ** 2
    weight = []
    for j in range(n):
        nu = 1.0 / max(squares[j], 1e-300)
        staffed_rho = rho[j] if stations[j].servers is not None else 0.0
        weight.append(1.0 / (1.0 + 4.0 * (1.0 - staffed_rho) ** 2 * (nu - 1.0)))
    constant = [
        e / a * external_scv if a > 0.0 else 0.0 for e, a in zip(external, arrivals, strict=True)
    ]
    source: list[int] = []
    target: list[int] = []
    coefficient: list[float] = []
    for (i, j), r in flows.items():
        if arrivals[j] <= 0.0:
            continue
        p = r / arrivals[i] if arrivals[i] > 0.0 else r  # share of i's departures
        q = r / arrivals[j]  # share of j's arrivals
        constant[j] += q * ((1.0 - p) + p * rho[i] ** 2 * x[i])
        source.append(i)
        target.append(j)
        coefficient.append(weight[j] * q * p * (1.0 - rho[i] ** 2))
    rhs = [
        1.0 - w + w * c if a > 0.0 else 1.0
        for w, c, a in zip(weight, constant, arrivals, strict=True)
    ]
    solution = solve_blocks(n, source, target, coefficient, rhs)
    if not all(math.isfinite(v) for v in solution):  # pragma: no cover - every loop leaks
        return [1.0] * n
    return [max(v, 0.0) for v in solution]
