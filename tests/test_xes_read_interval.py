"""pm4py's interval logs: one XES event per activity carrying ``start_timestamp`` and its end."""

from __future__ import annotations

from pathlib import Path

import pytest

import procflow
from helpers import CLEAN
from procflow.eventlog.xes import XesError, XesLog

INTERVAL = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">
  <trace>
    <string key="concept:name" value="c1"/>
    <event>
      <string key="concept:name" value="check"/>
      <string key="org:resource" value="ann"/>
      <date key="start_timestamp" value="2027-01-04T08:00:00.000+00:00"/>
      <date key="time:timestamp" value="2027-01-04T08:05:00.000+00:00"/>
    </event>
    <event>
      <string key="concept:name" value="done"/>
      <date key="start_timestamp" value="2027-01-04T08:05:00+00:00"/>
      <date key="time:timestamp" value="2027-01-04T08:05:00+00:00"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="c2"/>
    <event>
      <string key="concept:name" value="check"/>
      <date key="time:timestamp" value="2027-01-04T09:05:00.000+00:00"/>
    </event>
  </trace>
</log>
"""


def test_start_timestamp_is_the_start_of_the_step(tmp_path: Path) -> None:
    path = tmp_path / "interval.xes"
    path.write_text(INTERVAL, encoding="utf-8")
    events = list(XesLog(path))
    assert [
        (e.case, e.activity, e.end - e.start if e.start is not None else None) for e in events
    ] == [("c1", "check", 300.0), ("c1", "done", 0.0), ("c2", "check", None)]
    process = procflow.load_text(CLEAN, "tiny.yaml")
    report = procflow.check_log(process, procflow.read_log(path))
    assert report.conforming == report.cases == 2
    check = report.to_dict()["steps"]["check"]
    assert check["service"]["n"] == 1  # c1's start_timestamp; c2 has none
    assert check["service"]["mean"] == 300.0


def test_an_unreadable_start_timestamp_names_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.xes"
    path.write_text(
        INTERVAL.replace("2027-01-04T08:00:00.000+00:00", "yesterday"), encoding="utf-8"
    )
    with pytest.raises(
        XesError, match=r"bad\.xes:8:\d+: trace 'c1', event 1 \('check'\): start_timestamp"
    ):
        list(XesLog(path))
