"""The effect of a change on the KPIs: analytic (both versions analyzed) and simulated.

The analytic rows come from :func:`procflow.analyze` of each version:
expected cycle time and waiting, throughput, work in progress, rework,
cost per case, utilization per staffed owner, the bottleneck, and each
goal's estimate and verdict. A version that cannot be analyzed (no
arrivals, broken routing) gives no rows of its own; the reason is kept so
the report can say it and still show the structural diff.

The simulated rows come from :func:`procflow.compare` of OLD (the baseline)
and NEW on common random numbers, so each difference has a paired 95%
interval and a significance verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from procflow.diffing.result import KpiEffect, SimulatedEffect, Simulation, Unit
from procflow.errors import ConfigError, ProcessError, ProcflowError
from procflow.model import Process

_HEADLINE: tuple[tuple[str, str, Unit], ...] = (
    ("cycle_time.expected", "expected cycle time", "seconds"),
    ("wait_time", "expected waiting per case", "seconds"),
    ("throughput_per_hour", "throughput", "per_hour"),
    ("wip", "work in progress", "number"),
    ("rework_rate", "rework rate", "fraction"),
    ("cost_per_case", "cost per case", "number"),
)

_METRIC_UNITS: dict[str, Unit] = {
    "cycle_time": "seconds",
    "wait_time": "seconds",
    "step_time": "seconds",
    "throughput": "per_hour",
    "utilization": "fraction",
    "rework_rate": "fraction",
}


def error_text(error: ProcflowError) -> str:
    """One line for why a version cannot be analyzed or simulated."""
    if isinstance(error, ProcessError) and error.problems:
        first = error.problems[0]
        more = len(error.problems) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        return f"{first.position}: {first.message}{extra}"
    return str(error)


def figures(process: Process) -> tuple[dict[str, tuple[str, Unit, Any, bool | None]], str | None]:
    """``kpi -> (label, unit, value, met)`` for one version, or ``({}, why not)``."""
    from procflow.analysis import analyze

    try:
        analysis = analyze(process)
        found: dict[str, tuple[str, Unit, Any, bool | None]] = {}
        # visits counted approximately (docs/parallel-work.md#bounds-the-tokens-share)
        rough = "" if analysis.routing.exact else " (approximate routing)"
        values = {
            "cycle_time.expected": analysis.cycle_time.expected,
            "wait_time": analysis.wait_time,
            "throughput_per_hour": analysis.throughput_per_hour,
            "wip": analysis.wip,
            "rework_rate": analysis.rework_rate,
            "cost_per_case": analysis.cost_per_case,
        }
        for kpi, label, unit in _HEADLINE:
            found[kpi] = (
                label + rough if kpi != "throughput_per_hour" else label,
                unit,
                values[kpi],
                None,
            )
        for owner_id, load in analysis.loads.items():
            if not load.external:
                label = f"utilization of {owner_id}{rough}"
                found[f"utilization:{owner_id}"] = (label, "fraction", load.utilization, None)
        found["bottleneck"] = ("bottleneck", "text", analysis.bottleneck, None)
        for goal in analysis.goals:
            unit = _METRIC_UNITS.get((goal.metric or "").partition(":")[0], "number")
            shown = " ".join(x for x in (goal.stat, goal.metric, goal.target) if x)
            label = f"goal {goal.id}" + (f" ({shown})" if shown else "") + rough
            found[f"goal:{goal.id}"] = (label, unit, goal.estimate, goal.met)
    except ProcflowError as exc:
        return {}, error_text(exc)
    return found, None


def analytic_effects(
    old: Process, new: Process
) -> tuple[tuple[KpiEffect, ...], str | None, str | None]:
    """The KPI rows (OLD's order, then NEW's new ones) and each side's reason for having none."""
    before, old_error = figures(old)
    after, new_error = figures(new)
    keys = [*before, *(k for k in after if k not in before)]
    effects: list[KpiEffect] = []
    for key in keys:
        label, unit, old_value, old_met = before.get(key) or (*after[key][:2], None, None)
        label, unit, new_value, new_met = after.get(key) or (label, unit, None, None)
        effects.append(KpiEffect(key, label, unit, old_value, new_value, old_met, new_met))
    return tuple(effects), old_error, new_error


def _unit_of(key: str) -> Unit:
    base = key.partition(".")[0].partition(":")[0]
    if base in ("cycle_time", "wait_time", "step_time"):
        return "seconds"
    if base == "throughput_per_hour":
        return "per_hour"
    if base in ("utilization", "rework_rate"):
        return "fraction"
    return "number"


def _label_of(key: str) -> str:
    head, _, stat = key.partition(".")
    base, _, argument = head.partition(":")
    words = [base.replace("_per_hour", "").replace("_", " ")]
    if argument:
        words.append(f"of {argument}")
    if stat:
        words.insert(0, stat)
    return " ".join(words)


def simulated_effects(
    old: Process, new: Process, *, cases: int, runs: int, seed: int | None, **options: Any
) -> Simulation:
    """OLD and NEW simulated on common random numbers (:func:`procflow.compare`)."""
    from procflow.sim import compare

    try:
        comparison = compare(
            old, new, names=["new"], cases=cases, runs=runs, seed=seed, estimates=False, **options
        )  # the rows are paired differences: the run-length notes are not shown
    except ConfigError:
        raise  # the options (an unreachable scheduler), not a version: exit 2
    except ProcflowError as exc:
        return Simulation(cases, runs, seed, (), error_text(exc))
    rows = tuple(_rows(comparison.differences["new"]))
    return Simulation(cases, runs, seed, rows, None)


def _rows(differences: dict[str, Any]) -> Iterator[SimulatedEffect]:
    for key, diff in differences.items():
        yield SimulatedEffect(
            kpi=key,
            label=_label_of(key),
            unit=_unit_of(key),
            old=diff.baseline,
            new=diff.value,
            difference=diff.difference,
            ci95=diff.ci95,
            significant=diff.significant,
        )
