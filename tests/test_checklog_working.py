"""check-log measures calendared owners in working time (docs/working-time.md).

A declared duration is working time of the owner's calendar, and utilization
is busy time over on-duty time; the log's ``end - start`` is elapsed. So for
an owner with a calendar or shifts the steps table shows service in working
time, and the owners table busy working time over the unit-seconds on duty
in the log's period, marked and explained in a caption.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import procflow
from helpers import PROCESSES, run
from procflow.eventlog.reader import read_log

DESK = """\
process: desk
calendars:
  office: {timezone: UTC, hours: {mon-fri: "09:00-17:00"}}
owners:
  clerk: {capacity: 1, calendar: office}
  helper: {capacity: 2}
arrivals: {rate: 1/h, calendar: office}
start: handle
steps:
  handle: {owner: clerk, duration: 2h, next: file}
  file: {owner: helper, duration: 1h, next: done}
  done: {end: true}
"""

# 2027-01-08 is a Friday. Case 1's 2 h of work starts at 16:00, pauses over the weekend
# and ends Monday 10:00 (66 h elapsed); case 2's runs Monday 13:00-15:00.
LOG = """\
case,step,owner,start,end
1,handle,clerk,2027-01-08T16:00:00+00:00,2027-01-11T10:00:00+00:00
1,file,helper,2027-01-11T10:00:00+00:00,2027-01-11T11:00:00+00:00
2,handle,clerk,2027-01-11T13:00:00+00:00,2027-01-11T15:00:00+00:00
2,file,helper,2027-01-11T14:00:00+00:00,2027-01-11T15:00:00+00:00
"""
HOUR = 3600.0


@pytest.fixture
def desk(tmp_path: Path) -> tuple[Path, Path]:
    process, log = tmp_path / "desk.yaml", tmp_path / "events.csv"
    process.write_text(DESK)
    log.write_text(LOG)
    return process, log


def test_hand_computed_working_service_and_utilization(
    capsys: pytest.CaptureFixture[str], desk: tuple[Path, Path]
) -> None:
    code, out, err = run(capsys, "check-log", *desk, "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    handle = document["steps"]["handle"]
    assert handle["service"]["mean"] == pytest.approx(34 * HOUR)  # elapsed: (66 h + 2 h) / 2
    assert handle["working_service"]["mean"] == pytest.approx(2 * HOUR)  # as declared
    assert "working_service" not in document["steps"]["file"]  # the helper works around the clock
    clerk, helper = document["owners"]["clerk"], document["owners"]["helper"]
    # on duty from Friday 16:00 to Monday 15:00: Friday 16-17 and Monday 09-15, 7 h
    assert clerk["measured"] == "working"
    assert clerk["on_duty_seconds"] == pytest.approx(7 * HOUR)
    assert clerk["busy_seconds"] == pytest.approx(4 * HOUR)
    assert clerk["utilization"] == pytest.approx(4 / 7)
    # around the clock: elapsed busy (2 h) over capacity 2 x the period (71 h), as before
    assert "measured" not in helper
    assert helper["utilization"] == pytest.approx(2 / (2 * 71))
    # the duration verdicts read the same working-time sample
    (check,) = [d for d in document["durations"] if d["step"] == "handle"]
    assert check["observed_mean"] == pytest.approx(2 * HOUR)


def test_the_text_marks_working_time_and_says_so(
    capsys: pytest.CaptureFixture[str], desk: tuple[Path, Path]
) -> None:
    code, out, err = run(capsys, "check-log", *desk)
    assert code == 0, err
    (handle,) = [line for line in out.splitlines() if line.lstrip().startswith("handle")]
    assert "⏱ 2h" in handle
    assert "1.42d" not in handle  # 34 h elapsed is not shown as the service
    clerk, _hours = [line for line in out.splitlines() if line.lstrip().startswith("clerk")]
    assert "⏱ 4h" in clerk
    assert "⏱ 57.1%" in clerk
    helper = next(line for line in out.splitlines() if line.lstrip().startswith("helper"))
    assert "⏱" not in helper
    assert "service (mean, p50, p90) in working time" in out
    assert "utilization over on-duty time" in out


def test_a_log_simulated_from_purchase_approval(tmp_path: Path) -> None:
    """The simulator's utilization is busy over on-duty time: check-log now measures the
    same thing from its log, and the step's working service is the declared duration."""
    path = PROCESSES / "purchase-approval.yaml"
    log = tmp_path / "events.csv"
    result = procflow.simulate(
        path, cases=3_000, runs=1, warmup=0, seed=4, jobs=1, log=log, start="2027-01-04T00:00"
    )
    report = procflow.check_log(procflow.load(path), read_log(log))
    loads = {load.owner: load for load in report.owners}
    for owner in ("procurement", "budget-holder", "cfo", "finance"):
        simulated = result.owners[owner].utilization
        assert simulated is not None
        measured = loads[owner].utilization
        assert loads[owner].on_duty is not None
        assert measured is not None
        # the log's period also holds the last cases draining (about a week of six months)
        assert measured == pytest.approx(simulated.mean, rel=0.1)
    process = procflow.load(path)
    for step in ("review-request", "budget-approval", "match-invoice"):
        declared = process.steps[step].duration
        assert declared is not None
        sample = report.working_service[step]
        assert sample.mean == pytest.approx(declared.mean, rel=0.08)
        # elapsed service is longer: work that crosses a closing time pauses overnight
        assert report.measurements.steps[step].service.mean > 1.5 * sample.mean
