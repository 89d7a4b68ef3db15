"""Case attributes read back from XES trace attributes: typed values, check-log, calibrate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import procflow
from procflow.cli import main
from procflow.eventlog.rules import read_attributes
from procflow.eventlog.xes import XesLog
from procflow.loader import load_text
from test_attributes_logs import PROCESS


def _simulated(tmp_path: Path, name: str) -> Path:
    log = tmp_path / name
    procflow.simulate(load_text(PROCESS), cases=1_500, runs=1, seed=4, log=str(log))
    return log


def test_simulate_to_xes_reads_back_the_same_attributes_as_csv(tmp_path: Path) -> None:
    p = load_text(PROCESS)
    from_xes, bad_xes = read_attributes(str(_simulated(tmp_path, "events.xes")), p)
    from_csv, bad_csv = read_attributes(str(_simulated(tmp_path, "events.csv")), p)
    assert bad_xes == bad_csv == 0
    assert len(from_xes) == 1_500
    assert from_xes == from_csv  # the same seed: the same cases, values to the last bit
    assert all(isinstance(v["amount"], float) for v in from_xes.values())
    assert {v["tier"] for v in from_xes.values()} == {"gold", "silver"}


def test_check_log_checks_the_rules_on_an_xes_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _simulated(tmp_path, "events.xes")
    process_file = tmp_path / "payments.yaml"
    process_file.write_text(PROCESS, encoding="utf-8")
    assert main(["check-log", str(process_file), str(log), "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)["rules"]
    assert rules["cases_with_attributes"] == 1_500
    assert rules["cases_without_attributes"] == 0
    assert rules["checked"] == rules["followed"] == 1_500  # every case leaves `approve` once

    # one trace claims a gold tier with a huge amount: gold goes to `pay`, so a case of it
    # that went to `review` is a deviation
    text = log.read_text(encoding="utf-8")
    p = load_text(PROCESS)
    values, _bad = read_attributes(str(log), p)
    victim = next(c for c, v in values.items() if v["tier"] == "silver" and v["amount"] >= 1000)
    head, sep, rest = text.partition(f'<string key="concept:name" value="{victim}"/>')
    trace, end, tail = rest.partition("</trace>")
    trace = trace.replace('value="silver"', 'value="gold"')
    log.write_text(head + sep + trace + end + tail, encoding="utf-8")
    assert main(["check-log", str(process_file), str(log), "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)["rules"]
    assert rules["checked"] == 1_500
    assert rules["followed"] == 1_499
    example = rules["steps"]["approve"]["examples"][0]
    assert example["case"] == victim
    assert (example["expected"], example["observed"]) == ("pay", "review")


TYPED = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0">
  <trace>
    <string key="concept:name" value="a"/>
    <string key="tier" value="gold"/>
    <int key="amount" value="1200"/>
    <event><string key="concept:name" value="approve"/>
      <date key="time:timestamp" value="2026-01-01T10:00:00Z"/></event>
  </trace>
  <trace>
    <float key="amount" value="2.5e3"/>
    <string key="tier" value="silver"/>
    <string key="tier" value="gold"/>
    <event><string key="concept:name" value="approve"/>
      <date key="time:timestamp" value="2026-01-01T11:00:00Z"/></event>
  </trace>
  <trace>
    <string key="concept:name" value="c"/>
    <string key="tier" value="platinum"/>
    <boolean key="amount" value="true"/>
    <event><string key="concept:name" value="approve"/>
      <date key="time:timestamp" value="2026-01-01T12:00:00Z"/></event>
  </trace>
  <trace>
    <string key="concept:name" value="d"/>
    <string key="amount" value="750.25"/>
    <date key="tier" value="2026-01-01T12:00:00Z"/>
    <list key="tier"><string key="x" value="gold"/></list>
    <event><string key="concept:name" value="approve"/>
      <date key="time:timestamp" value="2026-01-01T13:00:00Z"/></event>
  </trace>
  <trace>
    <event><string key="concept:name" value="approve"/>
      <date key="time:timestamp" value="2026-01-01T14:00:00Z"/></event>
  </trace>
</log>
"""


def test_typed_trace_attributes(tmp_path: Path) -> None:
    """int and float are numbers, a string holding a number too; the first value of a key
    counts; an undeclared category, a boolean for a number and a date are unreadable; an
    unnamed trace is ``trace-<n>`` in the events and the attributes alike."""
    path = tmp_path / "typed.xes"
    path.write_text(TYPED, encoding="utf-8")
    values, bad = read_attributes(str(path), load_text(PROCESS))
    assert values == {
        "a": {"tier": "gold", "amount": 1200.0},
        "trace-2": {"tier": "silver", "amount": 2500.0},
        "c": {},
        "d": {"amount": 750.25},
    }
    assert bad == 3  # platinum, boolean amount, date tier
    assert sorted({e.case for e in XesLog(path)}) == ["a", "c", "d", "trace-2", "trace-5"]


def test_a_log_read_without_asking_keeps_no_attributes(tmp_path: Path) -> None:
    path = tmp_path / "typed.xes"
    path.write_text(TYPED, encoding="utf-8")
    log = XesLog(path)
    assert len(list(log)) == 5
    assert log.case_attributes == {}
