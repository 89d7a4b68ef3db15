"""Case attributes in event logs: written by simulate and write_cases, read back, checked
against the rules, fitted by calibrate."""

from __future__ import annotations

import csv
from pathlib import Path

import procflow
from procflow.cli import main
from procflow.eventlog.calibrate import calibrate
from procflow.eventlog.reader import read_log
from procflow.eventlog.rules import check_rules, read_attributes
from procflow.loader import load_text

PROCESS = """
process: payments
owners: {clerk: {capacity: 5}}
arrivals: {rate: 20/h}
attributes:
  tier: {gold: 20%, silver: 80%}
  amount: lognormal(2000, 3000)
start: approve
steps:
  approve:
    owner: clerk
    duration: exponential(5m)
    on:
      auto:    {to: pay, when: "amount < 1000 or tier == 'gold'"}
      manager: {to: review, when: "amount < 10000"}
      cfo:     {to: review}
  review: {owner: clerk, duration: exponential(5m), next: pay}
  pay: {owner: clerk, duration: 1m, next: paid}
  paid: {end: true}
"""


def _simulated_log(tmp_path: Path, name: str = "events.csv") -> Path:
    p = load_text(PROCESS)
    log = tmp_path / name
    procflow.simulate(p, cases=2_000, runs=1, seed=4, log=str(log))
    return log


def test_simulate_writes_attribute_columns_and_check_log_finds_the_rules_followed(
    tmp_path: Path,
) -> None:
    log = _simulated_log(tmp_path)
    with log.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[-2:] == ["tier", "amount"]
    assert {r["tier"] for r in rows} == {"gold", "silver"}
    p = load_text(PROCESS)
    values, bad = read_attributes(str(log), p)
    assert bad == 0
    assert len(values) == 2_000
    report = check_rules(p, read_log(log), values)
    assert report is not None
    assert report.checked == report.followed == 2_000  # every case leaves `approve` once


def test_a_log_that_breaks_a_rule_is_caught(tmp_path: Path) -> None:
    log = _simulated_log(tmp_path)
    text = log.read_text(encoding="utf-8").splitlines()
    header, rows = text[0], [r.split(",") for r in text[1:]]
    # case 1 claims to be gold with a huge amount: the rules send gold to `pay`
    victim = rows[0][0]
    for row in rows:
        if row[0] == victim:
            row[-2], row[-1] = "gold", "50000"
    changed = [r for r in rows if r[0] == victim]
    went_to_review = any(r[1] == "review" for r in changed)
    log.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    p = load_text(PROCESS)
    values, _bad = read_attributes(str(log), p)
    report = check_rules(p, read_log(log), values)
    assert report is not None
    approve = report.steps["approve"]
    assert approve.checked == 2_000
    assert approve.followed == 2_000 - int(went_to_review)
    if went_to_review:
        assert approve.examples[0]["case"] == victim
        assert approve.examples[0]["expected"] == "pay"


def test_check_log_json_and_calibrate_shares(tmp_path: Path, capsys: object) -> None:
    log = _simulated_log(tmp_path)
    process_file = tmp_path / "payments.yaml"
    process_file.write_text(PROCESS.replace("gold: 20%, silver: 80%", "gold: 50%, silver: 50%"))
    p = procflow.load(process_file)
    values, _bad = read_attributes(str(log), p)
    result = calibrate(p, read_log(log), attributes=values)
    tier = result.process.attributes["tier"]
    gold = sum(v["tier"] == "gold" for v in values.values()) / 2_000
    assert abs(tier.shares[0] - gold) <= 0.0005 + 1e-12  # three decimals  # type: ignore[union-attr]
    assert abs(tier.shares[0] - 0.2) < 0.03  # type: ignore[union-attr]
    # rule-routed steps keep their rules: calibrate fits no p onto them
    on = result.process.steps["approve"].on
    assert on is not None
    assert all(t.p is None for t in on.values())
    code = main(["check-log", str(process_file), str(log), "--format", "json"])
    assert code == 0


def test_xes_logs_carry_attributes_on_traces(tmp_path: Path) -> None:
    log = _simulated_log(tmp_path, "events.xes")
    text = log.read_text(encoding="utf-8")
    assert '<string key="tier" value="gold"/>' in text
    assert '<float key="amount"' in text


def test_write_cases_adds_attribute_columns(tmp_path: Path) -> None:
    p = load_text(PROCESS)
    case = procflow.Case(p, "c1", attributes={"tier": "gold", "amount": 12.5})
    case.advance()
    case.advance()
    out = tmp_path / "cases.csv"
    procflow.write_cases(out, [case])
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["tier"] == "gold"
    assert rows[0]["amount"] == "12.5"
    plain = tmp_path / "plain.csv"
    procflow.write_cases(plain, [procflow.Case(p, "c2")])
    assert plain.read_text(encoding="utf-8").splitlines()[0] == "case,step,owner,start,end"
