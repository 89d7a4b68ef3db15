"""processes/customer-service.yaml, the first example a user reads, works office hours.

The desk (agents) is staffed Mon-Fri 08:00-18:00 and tier 2 works 09:00-17:00
in Berlin; tickets come in while the lines are open (09:00-17:00, a weekday ×
hour profile); customers reply whenever they like. These tests hold the example
to that: in the written event log no staff work starts or ends outside its
owner's hours, customers do answer at night and at weekends, utilization is
the analytic on-duty figure, and elapsed cycle time exceeds working time.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import procflow
from helpers import CUSTOMER_SERVICE

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = {"support-agent": (8, 18), "tier2": (9, 17)}  # Mon-Fri, local time
START = "2027-06-07"  # a Monday; no public holiday in Berlin for the next 16 weeks


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[procflow.SimulationResult, Path]:
    log = tmp_path_factory.mktemp("cs") / "events.csv"
    result = procflow.simulate(CUSTOMER_SERVICE, cases=3000, runs=3, seed=5, log=log, start=START)
    return result, log


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(BERLIN)


def _on_duty(moment: datetime, hours: tuple[int, int]) -> bool:
    minutes = moment.hour * 60 + moment.minute + moment.second / 60
    return moment.weekday() < 5 and hours[0] * 60 <= minutes <= hours[1] * 60


def test_staff_work_only_in_their_hours_and_customers_answer_any_time(
    run: tuple[procflow.SimulationResult, Path],
) -> None:
    _result, log = run
    with open(log, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["start"].endswith("+02:00")  # summer time in Berlin
    staff = [row for row in rows if row["owner"] in HOURS]
    assert len(staff) > 3000 * 3  # intake, triage and resolve of every case at least
    for row in staff:
        hours = HOURS[row["owner"]]
        assert _on_duty(_local(row["start"]), hours), row
        assert _on_duty(_local(row["end"]), hours), row
    confirms = [row for row in rows if row["step"] == "confirm"]
    replies = [_local(row["end"]) for row in confirms]
    # the customer's exponential(4h) runs on the wall clock: nothing pauses it
    took = [(_local(row["end"]) - _local(row["start"])).total_seconds() for row in confirms]
    assert sum(took) / len(took) == pytest.approx(4 * 3600, rel=0.05)  # 3 standard errors
    closed = [moment for moment in replies if not _on_duty(moment, HOURS["support-agent"])]
    assert len(closed) > 0.2 * len(replies)  # evenings, nights ...
    assert any(moment.weekday() >= 5 for moment in closed)  # ... and weekends


def test_figures_are_on_duty_utilization_and_elapsed_cycle_time(
    run: tuple[procflow.SimulationResult, Path],
) -> None:
    result, _log = run
    analysis = procflow.analyze(CUSTOMER_SERVICE)
    for owner in ("support-agent", "tier2"):
        analytic = analysis.loads[owner].utilization  # weekly load over on-duty capacity
        assert result[f"utilization:{owner}"].mean == pytest.approx(analytic, abs=0.025)
    # analyze's waits are working time; the clock goes on over nights and weekends
    expected = analysis.cycle_time.expected
    assert expected is not None
    assert result["cycle_time.mean"].mean > 1.3 * expected
    (goal,) = result.goals
    assert goal.id == "resolve-within-a-day"
    assert goal.verdict == "met"
