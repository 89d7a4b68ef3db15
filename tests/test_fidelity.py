"""``procflow.fidelity`` and ``procflow fidelity``: a model against its own log, and a wrong one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import procflow
from helpers import run, write

MODEL = """\
process: desk
owners:
  clerk: {capacity: 3}
arrivals: {rate: 4/h}
start: intake
steps:
  intake:
    owner: clerk
    duration: exponential(20m)
    on:
      ok: {to: done, p: 0.8}
      check: {to: review, p: 0.2}
  review:
    owner: clerk
    duration: gamma(30m, 10m)
    next: done
  done:
    end: true
"""


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The model and a log of 2,000 of its cases (simulated with another seed)."""
    folder = tmp_path_factory.mktemp("fidelity")
    model = write(folder, "desk.yaml", MODEL)
    log = folder / "events.csv"
    procflow.simulate(model, cases=2_000, runs=1, seed=99, log=log)
    return model, log


def test_a_model_is_close_to_its_own_log(logged: tuple[Path, Path]) -> None:
    model, log = logged
    result = procflow.fidelity(model, log, runs=3, seed=5)
    assert isinstance(result, procflow.Fidelity)
    assert result.real.cases == result.simulated.cases == 2_000
    assert result["ngram"].value is not None
    assert result["ngram"].value < 0.05
    assert result["activity_frequency"].value < 0.02
    assert result["cycle_time_relative"].value < 0.1
    for measure in result.measures:
        ratio = measure.ratio
        assert ratio is not None, measure.key
        assert ratio < 3.0, (measure.key, measure.value, measure.noise_floor)
    # procflow's own logs record the end step, so the simulated side keeps it too
    assert any(row.activity == "done" for row in result.activities)


def test_end_steps_the_log_never_records_are_left_out(
    logged: tuple[Path, Path], tmp_path: Path
) -> None:
    model, log = logged
    lines = log.read_text().splitlines(keepends=True)
    real = write(tmp_path, "real.csv", "".join(x for x in lines if ",done," not in x))
    result = procflow.fidelity(model, real, runs=1, seed=5)
    assert [row.activity for row in result.activities] == ["intake", "review"]
    assert result["activity_frequency"].value < 0.02


def test_a_slower_model_is_far_beyond_the_noise(logged: tuple[Path, Path], tmp_path: Path) -> None:
    _, log = logged
    slow = write(tmp_path, "slow.yaml", MODEL.replace("exponential(20m)", "exponential(40m)"))
    result = procflow.fidelity(slow, log, runs=2, seed=5)
    cycle = result["cycle_time_relative"]
    assert cycle.ratio is not None
    assert cycle.ratio > 5
    assert cycle.verdict.endswith("× the noise")
    assert result.simulated.cycle_mean > 1.5 * result.real.cycle_mean
    assert result["ngram"].verdict == "within noise" or result["ngram"].ratio < 3


def test_cli_json_and_text(logged: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    model, log = logged
    code, out, _ = run(capsys, "fidelity", model, log, "--runs", "2", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["version"] == 1
    assert document["runs"] == 2
    keys = [m["id"] for m in document["measures"]]
    assert keys[:3] == ["ngram", "cycle_time", "cycle_time_relative"]
    assert "wip_error" in keys
    ngram = document["measures"][0]
    assert len(ngram["runs"]) == 2
    assert ngram["ci95"][0] <= ngram["value"] <= ngram["ci95"][1]
    assert sum(document["noise_floor"]["cases"]) == document["real"]["cases"] == 2_000
    assert len(document["wip_daily"]["real"]) >= 20
    percentiles = document["cycle_time_percentiles_s"]
    assert len(percentiles["real"]) == len(percentiles["simulated"]) == 101
    assert percentiles["real"] == sorted(percentiles["real"])
    week = document["week_utc"]["real"]
    assert [len(row) for row in week] == [24] * 7
    assert sum(map(sum, week)) > 2 * document["real"]["cases"]  # a start and an end per event
    code, out, _ = run(capsys, "fidelity", model, log, "--runs", "1")
    assert code == 0
    assert "control flow (3-gram distance)" in out
    assert "noise floor" in out


def test_cli_writes_the_report_to_a_file(
    logged: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, log = logged
    target = tmp_path / "report.json"
    code, out, _ = run(
        capsys, "fidelity", model, log, "--runs", "1", "--format", "json", "-o", target
    )
    assert code == 0
    assert out == ""
    assert json.loads(target.read_text())["version"] == 1


def test_bad_inputs_exit_2_with_a_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = write(tmp_path, "desk.yaml", MODEL)
    bad = write(
        tmp_path,
        "bad.csv",
        "case,activity,timestamp\n1,intake,2024-01-01T10:00:00\n1,done,yesterday\n",
    )
    code, _, err = run(capsys, "fidelity", model, bad)
    assert code == 2
    assert "bad.csv:3" in err
    empty = write(tmp_path, "empty.csv", "case,activity,timestamp\n")
    code, _, err = run(capsys, "fidelity", model, empty)
    assert code == 2
    assert "no events" in err
    broken = write(tmp_path, "broken.yaml", MODEL.replace("next: done", "next: nowhere"))
    log = write(tmp_path, "ok.csv", "case,activity,timestamp\n1,intake,2024-01-01T10:00:00\n")
    code, _, err = run(capsys, "fidelity", broken, log)
    assert code == 2
    assert "broken.yaml:" in err
    code, _, err = run(capsys, "fidelity", model, log, "--runs", "0")
    assert code == 2


def test_api_refuses_bad_runs(tmp_path: Path) -> None:
    model = write(tmp_path, "desk.yaml", MODEL)
    log = write(tmp_path, "ok.csv", "case,activity,timestamp\n1,intake,2024-01-01T10:00:00\n")
    with pytest.raises(procflow.ConfigError):
        procflow.fidelity(model, log, runs=0)
