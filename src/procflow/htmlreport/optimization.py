"""The report's optimization part: the cheapest staffing at which every goal is met.

With ``procflow report --optimize`` every process is searched as
``procflow optimize`` does (docs/optimize.md), with the report's cases,
runs and seed: the staffing before and after per owner with its cost, the
total cost before and after, every goal's verdict at the staffing found
with its interval, and the evaluations the search spent.
"""

from __future__ import annotations

from procflow._optimize import Optimization
from procflow.htmlreport import elements
from procflow.htmlreport.collect import ProcessData
from procflow.htmlreport.sections import DASH, interval, shower
from procflow.metrics import kpi_key
from procflow.units import format_number


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _staffing(found: Optimization) -> str:
    rows = []
    for row in found.staffing:
        rate = row.cost_per_hour
        change = "more" if row.after > row.before else "fewer" if row.after < row.before else ""
        rows.append(
            (
                row.name,  # owner@calendar for a shift (docs/optimize.md#shifts)
                row.before,
                row.after,
                change,
                DASH if rate is None else format_number(rate),
                DASH if rate is None else format_number(found.price(row) * row.after),
            )
        )
    return elements.table(
        ("owner", "before", "after", "", "cost/h per unit", "cost/h after"),
        rows,
        numeric=(1, 2, 4, 5),
    )


def _goals(found: Optimization) -> str:
    rows = []
    for goal in found.goals:
        name, _, argument = goal.metric.partition(":")
        key = kpi_key(name, argument or None, goal.stat) or goal.metric
        show = shower(key, goal.target)
        rows.append(
            (
                goal.id,
                goal.metric + (f" {goal.stat}" if goal.stat else ""),
                goal.target,
                show(goal.value),
                interval(goal.ci95, show),
                goal.verdict or "cannot be measured",
            )
        )
    return elements.table(
        ("goal", "metric", "target", "simulated", "95% interval", "verdict"),
        rows,
        numeric=(3, 4),
    )


def optimization(data: ProcessData, anchor: str) -> str:
    """The section, or a note saying why there is none; '' when not asked for."""
    if data.optimization is None and data.optimization_error is None:
        return ""
    head = f'<h3 id="{elements.esc(anchor)}-optimize">Cheapest staffing meeting every goal</h3>'
    found = data.optimization
    if found is None:
        return head + elements.note(f"No optimization: {data.optimization_error}")
    unit = "staffing cost per hour" if found.costed else "head count"
    outcome = (
        "The cheapest staffing at which every goal is met with 95% confidence"
        if found.feasible
        else f"No staffing meets every goal ({found.reason}); shown: the last one tried"
    )
    summary = (
        f"<p>{elements.esc(outcome)}: {unit} {format_number(found.cost_before)} → "
        f"{format_number(found.cost_after)}. {_count(found.evaluations, 'staffing')} simulated "
        f"({found.runs} runs × {found.cases:,} cases each, seed {found.seed}, common random "
        f"numbers) after {_count(found.screened, 'analytic evaluation')}; "
        "<code>procflow optimize -o</code> writes it as a change file.</p>"
    )
    return "\n".join((head, summary, _staffing(found), _goals(found)))
