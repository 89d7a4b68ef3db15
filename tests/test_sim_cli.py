"""``procflow simulate`` through the command line: output, JSON, goals, logs, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from helpers import CUSTOMER_SERVICE_247, ROOT, run

FIXTURES = ROOT / "tests" / "fixtures" / "sim"
# the example around the clock: 8/h, Erlang C utilizations, a clock that starts 2027-01-04
EXAMPLE = str(CUSTOMER_SERVICE_247)
LOOPS = str(FIXTURES / "loops.yaml")


def test_text_report_is_plain_when_piped(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "simulate", EXAMPLE, "--cases", "2000", "--runs", "3", "--seed", "4"
    )
    assert code == 0
    assert err == ""
    assert "\x1b[" not in out
    lines = out.splitlines()
    assert lines[0].startswith("customer-service  ")
    assert "3 runs × 2,000 cases (200 warm-up, 1,800 counted) · seed 4" in lines[1]
    for title in ("Key figures", "Owners", "Steps", "Goals"):
        assert title in lines
    cycle = next(line for line in lines if line.strip().startswith("cycle time"))
    assert "…" in cycle  # the interval
    assert cycle.rstrip().endswith("h")  # durations are human
    assert any("support-agent" in line and "%" in line and "█" in line for line in lines)
    assert any(line.strip().startswith("resolve-within-a-day") for line in lines)
    assert all(line == line.rstrip() for line in lines)


def test_json_has_the_spec_shape(capsys: pytest.CaptureFixture[str]) -> None:
    options = ["--cases", "2000", "--runs", "3", "--seed", "1", "--format", "json"]
    code, out, _ = run(capsys, "simulate", EXAMPLE, *options)
    assert code == 0
    doc = json.loads(out)
    assert doc["version"] == 1
    assert doc["process"] == "customer-service"
    assert (doc["cases"], doc["runs"], doc["seed"], doc["warmup"]) == (2000, 3, 1, 200)
    kpis = doc["kpis"]
    for name in ("cycle_time", "wait_time"):
        assert {"mean", "p50", "p90", "p95", "ci95"} <= kpis[name].keys()
        low, high = kpis[name]["ci95"]
        assert low <= kpis[name]["mean"] <= high
        assert kpis[name]["p50"] <= kpis[name]["p90"] <= kpis[name]["p95"]
    for name in ("throughput_per_hour", "wip", "rework_rate", "cost_per_case"):
        assert {"mean", "ci95"} <= kpis[name].keys()
    assert kpis["throughput_per_hour"]["mean"] == pytest.approx(8.0, rel=0.1)
    assert set(doc["steps"]) == {"intake", "triage", "escalate", "resolve", "confirm", "closed"}
    assert {"visits", "wait_mean", "service_mean"} <= doc["steps"]["triage"].keys()
    assert doc["steps"]["intake"]["visits"] == 1.0
    assert doc["steps"]["intake"]["service_mean"] == pytest.approx(360.0, rel=0.05)
    assert doc["owners"]["support-agent"]["utilization"] == pytest.approx(0.66, abs=0.03)
    assert doc["owners"]["customer"]["utilization"] is None
    assert doc["owners"]["customer"]["external"] is True
    (goal,) = doc["goals"]
    assert goal["id"] == "resolve-within-a-day"
    assert goal["met"] is True
    assert goal["value"] == kpis["cycle_time"]["p90"]
    assert len(doc["per_run"]) == 3
    assert doc["file"].endswith("customer-service-247.yaml")
    assert doc["changes"] == []


def test_same_seed_same_bytes_other_seed_other_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    args = [LOOPS, "--cases", "1500", "--runs", "2", "--format", "json"]
    _, first, _ = run(capsys, "simulate", *args, "--seed", "9")
    _, again, _ = run(capsys, "simulate", *args, "--seed", "9")
    _, other, _ = run(capsys, "simulate", *args, "--seed", "10")
    assert first == again
    assert (
        json.loads(first)["kpis"]["cycle_time"]["mean"]
        != json.loads(other)["kpis"]["cycle_time"]["mean"]
    )


def test_jobs_do_not_change_results(capsys: pytest.CaptureFixture[str]) -> None:
    args = [LOOPS, "--cases", "1500", "--runs", "4", "--seed", "2", "--format", "json"]
    _, one, _ = run(capsys, "simulate", *args, "--jobs", "1")
    _, two, _ = run(capsys, "simulate", *args, "--jobs", "2")
    assert one == two


def test_check_goals(capsys: pytest.CaptureFixture[str]) -> None:
    # loops.yaml: 'quick-overall' (mean cycle time <= 10m) cannot be met
    code, out, _ = run(capsys, "simulate", LOOPS, "--cases", "1000", "--runs", "2", "--check-goals")
    assert code == 1
    goal_lines = [line for line in out.splitlines() if line.startswith(" quick-overall")]
    assert goal_lines
    assert goal_lines[0].rstrip().endswith("not met")
    assert run(capsys, "simulate", LOOPS, "--cases", "1000", "--runs", "2")[0] == 0
    assert (
        run(capsys, "simulate", EXAMPLE, "--cases", "2000", "--runs", "2", "--check-goals")[0] == 0
    )


def test_step_time_goal_quantile(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "simulate", LOOPS, "--cases", "3000", "--runs", "2", "--format", "json")
    doc = json.loads(out)
    goals = {g["id"]: g for g in doc["goals"]}
    review = goals["fast-review"]
    assert review["metric"] == "step_time:review"
    assert review["stat"] == "p90"
    # p90 of wait + service at review: above its mean service (~6m), well under an hour
    assert 360 < review["value"] < 3600
    assert goals["reviewers-busy"]["value"] == doc["owners"]["reviewer"]["utilization"]
    assert goals["quick-overall"]["met"] is False


def test_log_writes_every_event_of_the_first_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "out" / "events.csv"
    options = ["--cases", "300", "--runs", "2", "--jobs", "2", "--log", str(log)]
    code, out, _ = run(capsys, "simulate", EXAMPLE, *options)
    assert code == 0
    assert "event log of run 1 written to" in out
    with open(log, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["case"] for row in rows} == {str(n) for n in range(1, 301)}
    first = [row for row in rows if row["case"] == "1"]
    assert first[0]["step"] == "intake"
    assert first[0]["owner"] == "support-agent"
    assert first[-1]["step"] == "closed"
    assert first[0]["start"].startswith("2027-01-04T")
    assert all(row["start"] <= row["end"] for row in rows)
    assert not list(tmp_path.glob("out/.*.tmp"))  # written atomically


def test_change_files_apply_before_simulating(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    change = tmp_path / "more-tier2.yaml"
    change.write_text("change: more-tier2\npatch:\n  owners:\n    tier2: {capacity: 8}\n")
    args = [EXAMPLE, "--cases", "1000", "--runs", "2", "--format", "json"]
    _, base, _ = run(capsys, "simulate", *args)
    code, changed, _ = run(capsys, "simulate", *args, "--change", str(change))
    assert code == 0
    doc = json.loads(changed)
    assert doc["owners"]["tier2"]["capacity"] == 8
    assert doc["changes"] == [{"change": "more-tier2", "file": str(change)}]
    before = json.loads(base)["owners"]["tier2"]["utilization"]
    assert doc["owners"]["tier2"]["utilization"] == pytest.approx(before / 2, rel=0.05)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.yaml"], "missing.yaml: no such file"),
        ([str(FIXTURES / "no-arrivals.yaml")], "no-arrivals.yaml:1:1: process 'no-arrivals'"),
        ([str(FIXTURES / "no-duration.yaml")], "no-duration.yaml:12:3: step 'check' has no"),
        ([EXAMPLE, "--cases", "0"], "Invalid value for '--cases'"),
        ([EXAMPLE, "--cases", "10", "--warmup", "10"], "warmup (10) must be smaller"),
        ([EXAMPLE, "--format", "xml"], "Invalid value for '--format'"),
        ([EXAMPLE, "--change", "nope.yaml"], "nope.yaml: no such file"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "simulate", *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out


def test_an_invalid_change_is_reported_in_the_change_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    change = tmp_path / "bad.yaml"
    change.write_text(
        "change: bad\npatch:\n  owners:\n    tier2:\n      capacity: 0\n"
        "  steps:\n    triage:\n      next: nowhere\n      on: null\n"
    )
    code, _, err = run(capsys, "simulate", EXAMPLE, "--change", str(change))
    assert code == 2
    assert f"{change}:5:17: PF002 owner 'tier2': 0 must be at least 1" in err
    assert "Traceback" not in err


def test_a_change_that_breaks_the_structure_points_into_the_change(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    change = tmp_path / "break.yaml"
    change.write_text(
        "change: break\npatch:\n  steps:\n    triage:\n      on:\n"
        "        complex: null\n        simple: {to: nowhere, p: 1}\n"
    )
    code, _, err = run(capsys, "simulate", EXAMPLE, "--change", str(change))
    assert code == 2
    assert f"{change}:7:22: PF101 unknown-target: transition 'simple'" in err
    assert f"error: {change}: change 'break' leaves process 'customer-service' invalid" in err


def test_scheduler_without_dask_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    options = ["--cases", "100", "--runs", "2", "--scheduler", "tcp://127.0.0.1:1"]
    code, _, err = run(capsys, "simulate", EXAMPLE, *options)
    assert code == 2
    assert "pip install 'procflow[dask]'" in err


def test_an_overloaded_owner_is_noted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    change = tmp_path / "overload.yaml"
    change.write_text("change: overload\npatch:\n  owners:\n    tier2: {capacity: 1}\n")
    args = [EXAMPLE, "--change", str(change), "--cases", "1500", "--runs", "2"]
    code, out, _ = run(capsys, "simulate", *args)
    assert code == 0
    assert out.splitlines()[-1].startswith("note: tier2 is overloaded (offered load 235%")
    _, out, _ = run(capsys, "simulate", *args, "--format", "json")
    (note,) = json.loads(out)["notes"]
    assert "needs a capacity of at least 3" in note
    _, out, _ = run(
        capsys, "simulate", EXAMPLE, "--cases", "1500", "--runs", "1", "--format", "json"
    )
    assert json.loads(out)["notes"] == []
    # too few counted cases is a note too (a bias warning, docs/run-length-and-verdicts.md)
    _, out, err = run(
        capsys, "simulate", EXAMPLE, "--cases", "500", "--runs", "1", "--format", "json"
    )
    (note,) = json.loads(out)["notes"]
    assert note.startswith("only 367 cases are counted (fewer than 1,000)")
    assert err == f"warning: {note}\n"


@pytest.mark.parametrize("command", ["simulate", "compare"])
def test_log_dash_is_a_usage_error_not_a_file_named_dash(
    command: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    change = (
        ["--change", str(ROOT / "changes" / "halve-reopens.yaml")] if command == "compare" else []
    )
    code, out, err = run(capsys, command, EXAMPLE, *change, "--cases", "10", "--log", "-")
    assert code == 2
    assert out == ""
    assert "Invalid value for '--log': '-' is not supported: give a file name" in err
    assert list(tmp_path.iterdir()) == []


UNMEASURABLE = """\
process: fixed
owners:
  clerk: {capacity: 5}
  courier: {external: true}
arrivals: {rate: 2/h}
start: a
steps:
  a:
    owner: clerk
    duration: 5m
    next: b
  b:
    owner: courier
    duration: 10m
    next: done
  done: {end: true}
goals:
  - {id: cheap, metric: cost_per_case, target: "<= 10"}
  - {id: courier-busy, metric: utilization:courier, target: "<= 80%"}
  - {id: fast, metric: cycle_time, target: "<= 1h"}
"""


def test_check_goals_warns_about_goals_it_cannot_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "fixed.yaml"
    path.write_text(UNMEASURABLE, encoding="utf-8")
    options = ["--cases", "300", "--runs", "2"]
    code, out, err = run(capsys, "simulate", path, *options, "--check-goals")
    assert code == 0  # cannot be measured is not "not met"
    assert "cannot measure" in out
    assert err.splitlines() == [
        "warning: only 270 cases are counted (fewer than 1,000): intervals are wide and "
        "percentiles unreliable; use --cases auto or more --cases",
        "warning: goal 'cheap' (cost_per_case) cannot be checked: no owner has a cost_per_hour",
        "warning: goal 'courier-busy' (utilization:courier) cannot be checked: owner "
        "'courier' is external: a pure delay without capacity",
    ]
    code, _, err = run(capsys, "simulate", path, *options)  # without --check-goals: no goals
    assert code == 0
    assert "cannot be checked" not in err
    change = tmp_path / "slow.yaml"
    change.write_text("change: slow\npatch:\n  steps:\n    a: {duration: 70m}\n")
    code, _, err = run(capsys, "compare", path, "--change", change, *options, "--check-goals")
    assert code == 1  # 'fast' is not met by the change
    assert "warning: goal 'cheap' (cost_per_case) cannot be checked (baseline, slow): " in err
