"""Per-class and per-outcome rows: one reading of the KPIs, shown by the text and HTML reports."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

import procflow
from helpers import PROCESSES
from procflow.sim import SimulationResult
from procflow.sim.groups import GroupRow, group_rows
from procflow.sim.stats import Estimate

PRIORITIES = PROCESSES / "incident-priorities.yaml"


def test_rows_read_each_prefix_and_leave_missing_figures_none() -> None:
    kpis = {
        "class:sev=p1.share": Estimate(0.25, (0.2, 0.3), (0.2, 0.3)),
        "class:sev=p1.cycle_time.mean": Estimate(3600.0, (3000.0, 4200.0), (3000.0, 4200.0)),
        "class:sev=p1.cycle_time.p90": Estimate(7200.0, None, (7200.0,)),
        "class:sev=p1.wait_time.mean": Estimate(60.0, None, (60.0,)),
        "class:sev=p2.share": Estimate(0.0, None, (0.0,)),
    }
    rows = list(group_rows(kpis, [("class:sev=p1", "p1"), ("class:sev=p2", "p2")]))
    assert rows == [
        GroupRow("p1", 0.25, 3600.0, (3000.0, 4200.0), 7200.0, 60.0),
        GroupRow("p2", 0.0, None, None, None, None),
    ]


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return procflow.simulate(PRIORITIES, cases=600, runs=3, seed=2, jobs=1)


def test_text_and_html_show_the_same_rows(result: SimulationResult) -> None:
    from procflow.cli.simreport import group_table
    from procflow.htmlreport import sections

    assert result.groups is not None
    classes, outcomes = result.groups
    rows = list(group_rows(result.kpis, classes))
    assert [row.label for row in rows] == [label for _prefix, label in classes]
    for row, (prefix, _label) in zip(rows, classes, strict=True):
        assert row.share == result.kpis[f"{prefix}.share"].mean
        assert row.cycle_ci95 == result.kpis[f"{prefix}.cycle_time.mean"].ci95
        assert row.wait_mean == result.kpis[f"{prefix}.wait_time.mean"].mean

    buffer = io.StringIO()
    Console(file=buffer, width=200, no_color=True).print(group_table(result, "t", classes))
    text = buffer.getvalue()

    class Data:
        simulation = result

    html = "".join(sections.groups(Data()))  # type: ignore[arg-type]
    for row in rows:
        assert row.share is not None
        assert row.cycle_mean is not None
        assert sections.percent(row.share) in html
        assert sections.duration(row.cycle_mean) in html
        line = next(line for line in text.splitlines() if line.strip().startswith(row.label))
        assert sections.percent(row.share) in line
    assert "By outcome (end step)" in html
    assert len(list(group_rows(result.kpis, outcomes))) == len(outcomes)
