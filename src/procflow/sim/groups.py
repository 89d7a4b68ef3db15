"""KPIs per class of the priority attribute, per outcome (end step) and per goal scope.

The token engine with attributes (:mod:`procflow.sim.attributed`) leaves one
row per counted case: cycle time, waiting, class, end step, the goal scopes
(``where:``) it meets, whether it took a feedback edge. Per run, each group
of rows gives its share of the cases, its cycle time (mean and quantiles),
its waiting and its rework rate, under keys such as
``class:severity=p1.cycle_time.p90`` or ``outcome:closed.wait_time.mean``;
the simulation then averages them over runs with 95 % intervals like every
other KPI. A goal with ``where:`` is measured on its scope's rows
(``where:<goal id>:cycle_time.p90``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from procflow.sim.plan import Plan
    from procflow.sim.stats import Estimate

__all__ = ["GROUP_STATS", "CaseTable", "GroupRow", "group_kpis", "group_prefixes", "group_rows"]

GROUP_STATS = ("mean", "p50", "p90", "p95")
"""The statistics of cycle time reported per group."""


@dataclass(frozen=True)
class CaseTable:
    """The counted cases of one run, one row each (columns as arrays)."""

    cycle: NDArray[np.float64]
    wait: NDArray[np.float64]
    klass: NDArray[np.int64]
    """Index into the priority classes, -1 when the process has no priority."""
    outcome: NDArray[np.int64]
    """Index of the end step the case reached."""
    mask: NDArray[np.int64]
    """Bit ``i``: the case meets the ``where`` of the i-th scoped goal."""
    reworked: NDArray[np.int64]


SCOPE_STATS = ("mean", "p50", "p90", "p95", "p99")
"""The statistics of cycle and waiting time of a goal's scope: every ``stat`` a goal takes."""


def _figures(
    prefix: str,
    rows: NDArray[np.bool_],
    table: CaseTable,
    cycle_stats: tuple[str, ...] = GROUP_STATS,
    wait_stats: tuple[str, ...] = ("mean", "p90"),
) -> dict[str, float | None]:
    n = int(rows.sum())
    total = len(table.cycle)
    out: dict[str, float | None] = {f"{prefix}.share": n / total if total else None}
    columns = (("cycle_time", table.cycle, cycle_stats), ("wait_time", table.wait, wait_stats))
    for name, column, stats in columns:
        values = column[rows]
        for stat in stats:
            key = f"{prefix}.{name}.{stat}"
            if n == 0:
                out[key] = None
            elif stat == "mean":
                out[key] = float(values.mean())
            else:
                out[key] = float(np.quantile(values, int(stat[1:]) / 100.0))
    out[f"{prefix}.rework_rate"] = float(table.reworked[rows].mean()) if n else None
    return out


def group_prefixes(plan: Plan) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(class prefixes, outcome prefixes)`` as ``(prefix, label)`` pairs, in report order."""
    cases = plan.cases
    classes: list[tuple[str, str]] = []
    if cases is not None and cases.priority is not None:
        classes = [(f"class:{cases.priority}={v}", v) for v in cases.classes]
    ends = [s.id for s in plan.steps if s.kind == 2]  # StepKind.END
    return classes, [(f"outcome:{end}", end) for end in ends]


def group_kpis(plan: Plan, table: CaseTable | None) -> dict[str, float | None]:
    """The per-run KPIs of every class, outcome and goal scope (empty without a table)."""
    if table is None or plan.cases is None:
        return {}
    out: dict[str, float | None] = {}
    classes, outcomes = group_prefixes(plan)
    for k, (prefix, _label) in enumerate(classes):
        out.update(_figures(prefix, table.klass == k, table))
    ends = [i for i, s in enumerate(plan.steps) if s.kind == 2]
    for end, (prefix, _label) in zip(ends, outcomes, strict=True):
        out.update(_figures(prefix, table.outcome == end, table))
    for bit, (goal, _text) in enumerate(plan.cases.wheres):
        rows = (table.mask >> bit) & 1 == 1
        scoped = _figures(f"where:{goal}:", rows, table, SCOPE_STATS, SCOPE_STATS)
        out.update({key.replace(":.", ":"): value for key, value in scoped.items()})
    return out


class GroupRow(NamedTuple):
    """One class's or outcome's line of a report table: figures as means over runs (seconds).

    A figure is None when the simulation has no estimate for it (no case of
    the group was counted); each report formats the row its own way (text:
    :mod:`procflow.cli.simreport`, HTML: :mod:`procflow.htmlreport.sections`).
    """

    label: str
    share: float | None
    cycle_mean: float | None
    cycle_ci95: tuple[float, float] | None
    cycle_p90: float | None
    wait_mean: float | None


def group_rows(
    kpis: Mapping[str, Estimate], groups: Sequence[tuple[str, str]]
) -> Iterator[GroupRow]:
    """The report rows of ``groups`` (``(prefix, label)`` pairs of :func:`group_prefixes`).

    Reads the averaged KPIs under each prefix -- share, cycle time (mean,
    its interval, p90) and mean waiting -- so the text and HTML reports
    show the same figures from one reading.
    """
    for prefix, label in groups:
        share = kpis.get(f"{prefix}.share")
        mean = kpis.get(f"{prefix}.cycle_time.mean")
        p90 = kpis.get(f"{prefix}.cycle_time.p90")
        wait = kpis.get(f"{prefix}.wait_time.mean")
        yield GroupRow(
            label,
            share.mean if share is not None else None,
            mean.mean if mean is not None else None,
            mean.ci95 if mean is not None else None,
            p90.mean if p90 is not None else None,
            wait.mean if wait is not None else None,
        )
