"""The one catalogue of metrics: what a goal may name and what procflow reports.

Every KPI procflow knows -- the goal metrics of ``docs/metrics.md``
(``cycle_time``, ``wait_time``, ``step_time:<step>``, ``throughput``,
``utilization:<owner>``, ``rework_rate``, ``cost_per_case``, ``wip``,
``busy_cost_per_case``) -- is
one :class:`Metric` entry in :data:`REGISTRY`. The model validates goal
metrics and their targets from it, the analytic model and the simulator
key their figures by it, ``compare`` picks its headline rows and the
direction of an improvement from it, and the reports format values by
its ``kind``. Adding a KPI is one entry here plus its computation (in
:mod:`procflow.sim.results` for the simulator and, when the analytic
model can estimate it, :mod:`procflow.analysis.goals`); a test checks
that every entry has both.

This module sits below the model (it imports nothing of procflow), so
everything above may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["duration", "rate", "percent", "number"]
"""How a value is read and shown: seconds, cases per hour, a fraction, a plain number."""

Argument = Literal["step", "owner"]

STATS: tuple[str, ...] = ("mean", "p50", "p90", "p95", "p99")
"""The statistics of a distribution metric (``stat:`` of a goal)."""


@dataclass(frozen=True)
class Metric:
    """One KPI: its name, unit, direction and where it is reported.

    ``key`` is the base of the KPI key in simulation results
    (``throughput_per_hour`` for ``throughput``); a metric with an
    ``argument`` is keyed ``<key>:<argument>`` and a ``distribution`` is
    keyed per statistic, ``<key>.<stat>`` (``cycle_time.p90``,
    ``step_time:triage.mean``).
    """

    name: str
    title: str
    kind: Kind
    unit: str
    lower_is_better: bool | None
    """``None`` when neither direction is an improvement in itself (utilization)."""
    targets: frozenset[str]
    """The target kinds a goal on this metric may use (duration, rate, number, percent)."""
    description: str
    argument: Argument | None = None
    distribution: bool = False
    """Measured per case: a goal names a ``stat`` (mean, p50 ... p99)."""
    key: str = ""
    most: float | None = None
    """The largest value the metric can take (1 for a share); intervals stop there."""
    fixed: bool = False
    """Fixed by the declared arrivals, probabilities, durations and capacities (no queueing)."""
    headline: tuple[str, ...] = ()
    """What ``simulate`` and ``compare`` always report: the statistics of a
    distribution, ``("",)`` for a plain figure, ``()`` for neither (reported per
    argument or only when a goal names it)."""
    optional: bool = False
    """Left out of the text report when it has no value (cost without any cost rate)."""

    @property
    def kpi(self) -> str:
        return self.key or self.name

    def kpi_key(self, argument: str | None = None, stat: str | None = None) -> str:
        """The key of this metric's figure: ``cycle_time.p90``, ``utilization:tier2``."""
        key = self.kpi if argument is None else f"{self.kpi}:{argument}"
        return f"{key}.{stat or 'mean'}" if self.distribution else key

    @property
    def syntax(self) -> str:
        """How a goal names it: ``step_time:<step>``."""
        return f"{self.name}:<{self.argument}>" if self.argument else self.name


_DURATION = frozenset({"duration"})

REGISTRY: tuple[Metric, ...] = (
    Metric(
        "cycle_time",
        "cycle time",
        "duration",
        "s",
        True,
        _DURATION,
        "time from a case's arrival to its end step",
        distribution=True,
        headline=("mean", "p50", "p90", "p95"),
    ),
    Metric(
        "wait_time",
        "waiting per case",
        "duration",
        "s",
        True,
        _DURATION,
        "time a case spends queueing for staff, summed over its steps",
        distribution=True,
        headline=("mean", "p90"),
    ),
    Metric(
        "step_time",
        "step time",
        "duration",
        "s",
        True,
        _DURATION,
        "wait plus service per visit of one step",
        argument="step",
        distribution=True,
    ),
    Metric(
        "throughput",
        "throughput",
        "rate",
        "cases/h",
        False,
        frozenset({"number", "rate"}),
        "cases completed per hour",
        key="throughput_per_hour",
        fixed=True,
        headline=("",),
    ),
    Metric(
        "utilization",
        "utilization",
        "percent",
        "fraction",
        None,
        frozenset({"number", "percent"}),
        "busy share of a staff owner's capacity",
        argument="owner",
        most=1.0,
        fixed=True,
    ),
    Metric(
        "rework_rate",
        "rework rate",
        "percent",
        "fraction",
        True,
        frozenset({"number", "percent"}),
        "share of cases that take any feedback edge",
        most=1.0,
        fixed=True,
        headline=("",),
    ),
    Metric(
        "cost_per_case",
        "cost per case",
        "number",
        "cost",
        True,
        frozenset({"number"}),
        "staffing cost (capacity x cost_per_hour, paid busy or idle) per completed case",
        fixed=True,
        headline=("",),
        optional=True,
    ),
    Metric(
        "wip",
        "WIP",
        "number",
        "cases",
        True,
        frozenset({"number"}),
        "time-average number of cases in progress",
        headline=("",),
    ),
    Metric(
        "busy_cost_per_case",
        "busy cost per case",
        "number",
        "cost",
        True,
        frozenset({"number"}),
        "service hours x the owner's cost_per_hour, summed over a case",
        fixed=True,
        headline=("",),
        optional=True,
    ),
)
"""Every metric, in the order goals list them (docs/metrics.md)."""

BY_NAME: dict[str, Metric] = {metric.name: metric for metric in REGISTRY}
_BY_KPI: dict[str, Metric] = {metric.kpi: metric for metric in REGISTRY}

REPORTED: tuple[str, ...] = (
    "cycle_time",
    "wait_time",
    "throughput",
    "wip",
    "rework_rate",
    "cost_per_case",
    "busy_cost_per_case",
)
"""The order ``simulate`` and ``compare`` report their headline metrics in."""

SCOPED: tuple[str, ...] = ("cycle_time", "wait_time", "rework_rate")
"""The per-case metrics a goal's ``where:`` can scope (docs/attributes.md)."""

NAMES: tuple[str, ...] = tuple(metric.name for metric in REGISTRY)
DISTRIBUTIONS: frozenset[str] = frozenset(m.name for m in REGISTRY if m.distribution)


def metric(name: str) -> Metric | None:
    """The metric a goal names (``step_time`` of ``step_time:triage``), or None."""
    return BY_NAME.get(name)


def metric_of_key(key: str) -> Metric | None:
    """The metric of a KPI key (``cycle_time.p90``, ``utilization:tier2``), or None."""
    return _BY_KPI.get(key.partition(".")[0].partition(":")[0])


def kind_of_key(key: str) -> Kind:
    """How the figure under ``key`` is shown (``number`` for keys of no metric)."""
    found = metric_of_key(key)
    return found.kind if found is not None else "number"


def kpi_key(name: str | None, argument: str | None, stat: str | None) -> str | None:
    """The KPI key a goal metric is measured by, or None (unknown, or a missing argument)."""
    found = BY_NAME.get(name or "")
    if found is None or (found.argument is not None and not argument):
        return None
    return found.kpi_key(argument if found.argument else None, stat)


def headline_keys() -> tuple[str, ...]:
    """The KPI keys every simulation reports and every comparison shows first."""
    keys: list[str] = []
    for name in REPORTED:
        found = BY_NAME[name]
        keys.extend(f"{found.kpi}.{s}" if s else found.kpi for s in found.headline)
    return tuple(keys)


__all__ = [
    "BY_NAME",
    "DISTRIBUTIONS",
    "NAMES",
    "REGISTRY",
    "REPORTED",
    "SCOPED",
    "STATS",
    "Argument",
    "Kind",
    "Metric",
    "headline_keys",
    "kind_of_key",
    "kpi_key",
    "metric",
    "metric_of_key",
]
