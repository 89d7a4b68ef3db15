"""Case attributes read back from XES trace attributes: typed values, check-log, calibrate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import procflow
from procflow.casedata import Numeric
from procflow.cli import main
from procflow.eventlog.calibrate import calibrate
from procflow.eventlog.reader import read_log
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


def test_calibrate_fits_a_numeric_attribute_from_the_cases_values(tmp_path: Path) -> None:
    """amount is simulated lognormal(2000, 3000); a process that declares uniform(0, 50) gets
    the distribution fitted to the log's values: the moments matched (to the three digits it
    is written with) and the lognormal chosen by AIC over the other families."""
    log = _simulated(tmp_path, "events.xes")
    wrong = PROCESS.replace("amount: lognormal(2000, 3000)", "amount: uniform(0, 50)")
    p = load_text(wrong)
    values, bad = read_attributes(str(log), p)
    assert bad == 0
    result = calibrate(p, read_log(log), attributes=values)
    amounts = np.array([v["amount"] for v in values.values()], dtype=float)
    fitted = result.process.attributes["amount"]
    assert isinstance(fitted, Numeric)
    assert fitted.text.startswith("lognormal(")
    mean, sd = (float(x) for x in fitted.text[len("lognormal(") : -1].split(","))
    assert abs(mean - amounts.mean()) <= 0.005 * amounts.mean()
    assert abs(sd - amounts.std(ddof=1)) <= 0.005 * amounts.std(ddof=1)
    assert abs(mean - 2000) < 0.15 * 2000  # and near the truth, for 1,500 cases
    change = next(c for c in result.changes if c.subject == "amount")
    assert (change.old, change.new, change.observations) == ("uniform(0, 50)", fitted.text, 1_500)
    # the categorical attribute is fitted too, and a second calibration changes nothing
    again = calibrate(result.process, read_log(log), attributes=values)
    assert not [c for c in again.changes if c.kind == "attribute"]


def test_calibrate_cli_reads_numeric_attributes_from_xes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _simulated(tmp_path, "events.xes")
    process_file = tmp_path / "payments.yaml"
    process_file.write_text(
        PROCESS.replace("amount: lognormal(2000, 3000)", "amount: 7"), encoding="utf-8"
    )
    out = tmp_path / "calibrated.yaml"
    assert main(["calibrate", str(process_file), str(log), "-o", str(out)]) == 0
    capsys.readouterr()
    calibrated = procflow.load(out)
    amount = calibrated.attributes["amount"]
    assert isinstance(amount, Numeric)
    assert amount.text.startswith("lognormal(")
