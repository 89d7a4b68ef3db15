"""calibrate on a log without start times: overload is reported, processing time estimated.

The log: tickets opened, resolved 10 minutes later and closed 29 days
later by the same agents, 3 minutes after resolving a newer ticket. The time between
completions (29 days) as the close step's duration overloads the agents;
the processing time discover estimates does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import procflow
from helpers import run, write

PROCESS = """\
process: helpdesk
owners:
  agent: {capacity: 2}
  portal: {external: true}
arrivals:
  rate: 12/d
start: open
steps:
  open:
    activity: Open
    owner: portal
    duration: 0s
    next: resolve
  resolve:
    activity: Resolve
    owner: agent
    duration: 10m
    next: close
  close:
    activity: Close
    owner: agent
    duration: 5m
    next: done
  done:
    end: true
"""
DAY = 86400.0
EPOCH = 1_799_020_800.0  # 2027-01-04, a Monday


def helpdesk_log(folder: Path) -> Path:
    rows = ["case,activity,resource,time"]
    for i in range(600):
        arrive = EPOCH + i * 7200.0
        agent = f"agent{i % 2}"
        rows.append(f"t{i},Open,,{arrive:.0f}")
        rows.append(f"t{i},Resolve,{agent},{arrive + 600:.0f}")
        if i < 252:  # closed 3 minutes after the agent resolved ticket i + 348
            rows.append(f"t{i},Close,{agent},{arrive + 29 * DAY + 780:.0f}")
    return write(folder, "helpdesk.csv", "\n".join(rows) + "\n")


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path, "helpdesk.yaml", PROCESS), helpdesk_log(tmp_path)


def test_elapsed_times_overload_and_the_command_says_so(
    capsys: pytest.CaptureFixture[str], files: tuple[Path, Path], tmp_path: Path
) -> None:
    process, log = files
    out = tmp_path / "fitted.yaml"
    code, stdout, _err = run(capsys, "calibrate", process, log, "-o", out)
    assert code == 1
    assert "PF501 owner 'agent' is overloaded" in stdout
    assert out.exists()  # written, and reported
    code, stdout, _err = run(capsys, "calibrate", process, log, "-o", out, "--format", "json")
    overloaded = json.loads(stdout)["overloaded"]
    assert [o["owner"] for o in overloaded] == ["agent"]
    assert overloaded[0]["utilization"] > 10


def test_processing_time_is_estimated_from_resource_availability(
    files: tuple[Path, Path],
) -> None:
    process, log = files
    result = procflow.calibrate(
        procflow.load(process), procflow.read_log(log), processing_time=True
    )
    assert result.overloaded == []
    close = result.process.steps["close"].duration
    assert close is not None
    assert close.mean == pytest.approx(180.0, rel=0.01)  # after the agent's last resolve
    resolve = result.process.steps["resolve"].duration
    assert resolve is not None
    assert resolve.mean == pytest.approx(600.0, rel=0.01)  # since the ticket was opened
    notes = {c.subject: c.note for c in result.changes}
    assert notes["close"].startswith("processing times estimated from resource availability")
