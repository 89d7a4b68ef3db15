"""Per-class figures: the priority attribute's classes and the outcomes (docs/attributes.md).

Each value of the ``priority`` attribute is a *class* of cases. For each
class this module builds the process as that class sees it -- rules
(``when:``) replaced by the class's routing shares
(:mod:`procflow.casestats`: exact for categorical attributes, sampled for
numeric ones), ``p`` and ``duration`` given ``by:`` the priority attribute
replaced by the class's own value -- and reads its visits and service
times from the ordinary analytic model. Waiting at a staffed owner then
comes from the priority queueing formulas, classes served most urgent
first:

* **non-preemptive** (Cobham 1954): class *k* waits
  ``W0 / ((1 - σ[k-1]) (1 - σ[k]))`` at a single server, where
  ``σ[k]`` is the utilization brought by classes 1..k and
  ``W0 = Σ λ_i E[S_i²] / 2`` the mean residual work found in service.
  Exact for M/G/1 with Poisson arrivals (so for M/M/1). With ``c``
  servers the FIFO wait of the owner's own model is rescaled,
  ``W_FIFO (1 - σ) / ((1 - σ[k-1]) (1 - σ[k]))``: exact for M/M/c with
  one service rate, approximate otherwise;
* **preemptive resume**: a class does not see the classes below it. At a
  single server class *k* waits (in queue and interrupted)
  ``E[S_k] σ[k-1] / (1 - σ[k-1]) + R_k / ((1 - σ[k-1]) (1 - σ[k]))`` with
  ``R_k = Σ_{i<=k} λ_i E[S_i²] / 2`` (exact for M/G/1). With ``c`` servers,
  by work conservation: the FIFO M/M/c response of classes 1..k together
  minus that of classes 1..k-1, weighted by load (exact for M/M/c with one
  service rate, approximate otherwise).

A figure is labelled ``exact`` when the formula is exact for the owner:
Poisson arrivals, one server (or exponential service with one mean), and
each class visiting the owner's steps at most once per case.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from procflow.analysis.queueing import mmc_wait
from procflow.casedata import ByDuration, ByValue, Categorical
from procflow.casestats import Points, first_true_shares
from procflow.expressions import parse

if TYPE_CHECKING:
    from procflow.model import Process


class _OwnerWait(Protocol):
    @property
    def wait_mean(self) -> float | None: ...


class Overall(Protocol):
    """What this module reads of the whole process's analysis (:class:`Analysis`)."""

    @property
    def arrival_rate_per_hour(self) -> float: ...

    @property
    def poisson(self) -> bool: ...

    @property
    def owners(self) -> Mapping[str, _OwnerWait]: ...

    @property
    def steps(self) -> Mapping[str, Any]: ...


__all__ = ["ClassFigures", "ClassOwner", "Classes", "class_process", "classes_of"]


@dataclass(frozen=True)
class ClassOwner:
    """One class at one staffed owner: jobs per second, service moments, wait."""

    rate: float
    service_mean: float
    service_second: float
    wait_mean: float = math.nan
    exact: bool = False


@dataclass(frozen=True)
class ClassFigures:
    """The analytic figures of one class of cases."""

    value: str
    share: float
    visits: Mapping[str, float]
    service: Mapping[str, float]
    owners: Mapping[str, ClassOwner] = field(default_factory=dict)

    def wait_per_case(self, owner_of: Mapping[str, str | None]) -> float:
        return math.fsum(
            self.visits[s] * self.owners[o].wait_mean
            for s, o in owner_of.items()
            if o is not None and o in self.owners and self.visits.get(s, 0.0) > 0.0
        )

    def cycle_time(self, owner_of: Mapping[str, str | None]) -> float:
        work = math.fsum(self.visits[s] * self.service[s] for s in self.visits)
        return work + self.wait_per_case(owner_of)


@dataclass(frozen=True)
class Classes:
    """Figures per class of the priority attribute, and per outcome (end step)."""

    attribute: str
    order: tuple[str, ...]
    preemptive: bool
    figures: tuple[ClassFigures, ...]
    outcomes: Mapping[str, float]
    owner_of: Mapping[str, str | None]
    exact_shares: bool

    def to_dict(self) -> dict[str, Any]:
        """``by_class`` and ``by_outcome`` of the analyze JSON (seconds)."""
        by_class = {
            f.value: {
                "share": f.share,
                "cycle_time": {"expected": f.cycle_time(self.owner_of)},
                "wait_time": f.wait_per_case(self.owner_of),
                "owners": {
                    o: {"wait_mean": c.wait_mean, "exact": c.exact} for o, c in f.owners.items()
                },
            }
            for f in self.figures
        }
        return {
            "priority": {
                "by": self.attribute,
                "order": list(self.order),
                "preemptive": self.preemptive,
                "method": "Cobham (preemptive resume)" if self.preemptive else "Cobham",
            },
            "by_class": {self.attribute: by_class},
            "by_outcome": {end: {"share": share} for end, share in self.outcomes.items()},
            "routing_shares_exact": self.exact_shares,
        }


def class_process(process: Process, attribute: str, value: str) -> tuple[Process, bool]:
    """``process`` as the cases with ``attribute == value`` see it, and whether it is exact.

    Rules become that class's shares as ``p``, and ``by:`` forms on
    ``attribute`` become the class's own value.
    """
    attributes = process.attributes
    steps: dict[str, Any] = {}
    exact = True
    for step_id, step in process.steps.items():
        patch: dict[str, Any] = {}
        duration = step.duration
        if isinstance(duration, ByDuration) and duration.by == attribute:
            patch["duration"] = duration.for_value(value)
        on = step.on or {}
        whens = [t.when for t in on.values()]
        if any(w is not None for w in whens):
            names = set().union(*(parse(w).names for w in whens if w is not None))
            points = Points.of(attributes, names, {attribute: value})
            exact = exact and points.exact
            shares = first_true_shares(whens, points)
            patch["on"] = {
                k: {"to": t.to, "when": None, "p": s}
                for (k, t), s in zip(on.items(), shares, strict=True)
            }
        elif any(isinstance(t.p, ByValue) for t in on.values()):
            patch["on"] = {
                k: {"to": t.to, "p": t.p.for_value(value)}
                for k, t in on.items()
                if isinstance(t.p, ByValue) and t.p.by == attribute
            }
        if patch:
            steps[step_id] = patch
    return process.with_changes({"steps": steps} if steps else {}, f"<class {value}>"), exact


def classes_of(
    process: Process, analysis: Overall, analyze: Callable[[Process], Overall]
) -> Classes | None:
    """The per-class figures of a process with a categorical ``priority`` (else ``None``).

    ``analyze`` is :func:`procflow.analysis.analyze` (passed in: the
    analyzer calls this module, not the other way round).
    """
    priority = process.priority
    attribute = process.attributes.get(priority.by) if priority is not None else None
    if priority is None or not isinstance(attribute, Categorical):
        return None
    order = priority.order or attribute.values
    rate = analysis.arrival_rate_per_hour / 3600.0
    figures: list[ClassFigures] = []
    exact_shares = True
    for value in order:
        share = attribute.share(value)
        variant, exact = class_process(process, priority.by, value)
        exact_shares = exact_shares and exact
        sub = analyze(variant)
        service: dict[str, float] = {}
        second: dict[str, float] = {}
        for step_id, step in variant.steps.items():
            d = step.duration
            mean = 0.0 if d is None or step.end else d.mean
            service[step_id] = mean
            second[step_id] = 0.0 if d is None or step.end else d.variance + mean * mean
        visits = {s: f.visits for s, f in sub.steps.items()}
        owners = _class_owners(process, rate * share, visits, service, second)
        figures.append(ClassFigures(value, share, visits, service, owners))
    waited = _waits(process, analysis, figures, priority.preemptive)
    ends = [s for s, st in process.steps.items() if st.end]
    outcomes = {e: math.fsum(f.share * f.visits.get(e, 0.0) for f in figures) for e in ends}
    owner_of = {s: st.owner for s, st in process.steps.items()}
    return Classes(
        priority.by, tuple(order), priority.preemptive, waited, outcomes, owner_of, exact_shares
    )


def _class_owners(
    process: Process,
    rate: float,
    visits: Mapping[str, float],
    service: Mapping[str, float],
    second: Mapping[str, float],
) -> dict[str, ClassOwner]:
    """Per staffed owner: the class's job rate and service moments (visits-weighted)."""
    result: dict[str, ClassOwner] = {}
    for owner_id, owner in process.owners.items():
        if owner.external:
            continue
        mine = [s for s, st in process.steps.items() if st.owner == owner_id and not st.end]
        jobs = math.fsum(visits.get(s, 0.0) for s in mine)
        if jobs <= 0.0:
            result[owner_id] = ClassOwner(0.0, 0.0, 0.0)
            continue
        mean = math.fsum(visits.get(s, 0.0) * service[s] for s in mine) / jobs
        moment = math.fsum(visits.get(s, 0.0) * second[s] for s in mine) / jobs
        result[owner_id] = ClassOwner(rate * jobs, mean, moment)
    return result


def _waits(
    process: Process, analysis: Overall, figures: list[ClassFigures], preemptive: bool
) -> tuple[ClassFigures, ...]:
    """The figures with each class's wait at each staffed owner filled in."""
    waits: dict[tuple[int, str], tuple[float, bool]] = {}
    for owner_id, owner in process.owners.items():
        if owner.external:
            continue
        rows = [f.owners[owner_id] for f in figures]
        c = owner.capacity
        once = all(
            f.visits.get(s, 0.0) <= 1.0 + 1e-12
            for f in figures
            for s, st in process.steps.items()
            if st.owner == owner_id
        )
        exponential_one_mean = _exponential_one_mean(rows)
        exact = analysis.poisson and once and (c == 1 or exponential_one_mean)
        known = analysis.owners[owner_id].wait_mean if owner_id in analysis.owners else None
        fifo = math.nan if known is None else known
        for k, wait in enumerate(_priority_waits(rows, c, preemptive, fifo)):
            waits[(k, owner_id)] = (wait, bool(exact))
    result = []
    for k, f in enumerate(figures):
        owners = {
            o: ClassOwner(r.rate, r.service_mean, r.service_second, *waits[(k, o)])
            for o, r in f.owners.items()
        }
        result.append(ClassFigures(f.value, f.share, f.visits, f.service, owners))
    return tuple(result)


def _exponential_one_mean(rows: list[ClassOwner]) -> bool:
    """Every class's service has the moments of one exponential (E[S²] = 2 E[S]²), one mean."""
    used = [r for r in rows if r.rate > 0.0]
    means = {round(r.service_mean, 9) for r in used}
    return len(means) <= 1 and all(
        math.isclose(r.service_second, 2.0 * r.service_mean**2, rel_tol=1e-9) for r in used
    )


def _priority_waits(
    rows: list[ClassOwner], servers: int, preemptive: bool, fifo_wait: float
) -> list[float]:
    """Mean wait per class (most urgent first) at one owner; ``inf`` when overloaded."""
    loads = [r.rate * r.service_mean / servers for r in rows]
    sigma = [math.fsum(loads[: k + 1]) for k in range(len(rows))]
    waits: list[float] = []
    for k, row in enumerate(rows):
        before, upto = (sigma[k - 1] if k else 0.0), sigma[k]
        if row.rate <= 0.0:
            waits.append(0.0)
        elif upto >= 1.0:
            waits.append(math.inf)
        elif servers == 1 and not preemptive:
            residual = math.fsum(r.rate * r.service_second / 2.0 for r in rows)
            waits.append(residual / ((1.0 - before) * (1.0 - upto)))
        elif servers == 1:
            residual = math.fsum(r.rate * r.service_second / 2.0 for r in rows[: k + 1])
            waits.append(
                row.service_mean * before / (1.0 - before)
                + residual / ((1.0 - before) * (1.0 - upto))
            )
        elif not preemptive:
            total = sigma[-1]
            waits.append(fifo_wait * (1.0 - total) / ((1.0 - before) * (1.0 - upto)))
        else:
            waits.append(_preemptive_many(rows, k, servers))
    return waits


def _preemptive_many(rows: list[ClassOwner], k: int, servers: int) -> float:
    """Preemptive resume with ``servers`` servers, by conservation over classes 1..k."""

    def response(upto: int) -> tuple[float, float]:
        group = [r for r in rows[: upto + 1] if r.rate > 0.0]
        rate = math.fsum(r.rate for r in group)
        if rate <= 0.0:
            return 0.0, 0.0
        mean = math.fsum(r.rate * r.service_mean for r in group) / rate
        return rate, mmc_wait(servers, rate * mean, mean) + mean

    rate_k, t_k = response(k)
    rate_before, t_before = response(k - 1) if k else (0.0, 0.0)
    row = rows[k]
    mine = (rate_k * t_k - rate_before * t_before) / row.rate
    return max(mine - row.service_mean, 0.0)
