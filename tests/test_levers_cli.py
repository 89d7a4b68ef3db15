"""``procflow levers`` on the command line: the ranked table, JSON, literal output, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import ROOT, run, write

BOTTLENECK = ROOT / "tests" / "fixtures" / "levers" / "bottleneck.yaml"
QUICK = ("--cases", "400", "--runs", "3", "--jobs", "1")


def test_the_text_table_ranks_the_bottleneck_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "levers", BOTTLENECK, "--cases", "2000", "--runs", "5", "--jobs", "1"
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("bottleneck")
    assert "levers ranked by mean cycle time: baseline " in lines[1]
    assert lines[2].startswith(
        "screening: 17 levers on common random numbers (3 runs × 400 cases, seed 1; "
        "the undecided ones again on seeds 2-3), "
    )
    # one reason for every lever the screening dropped: said once, not on every row
    assert lines[2].endswith(
        " screened out (cannot beat the 3rd best (automate receive) by 1% in screening), "
        "2 with no effect (analytic)"
    )
    assert lines[3].startswith("confirmation: ")
    assert lines[3].endswith(
        "levers and the baseline, 5 runs × 2,000 cases (200 warm-up, 1,800 counted) · seed 0"
    )
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["rank", "lever"])
    first = lines[header + 1].split()
    assert first[:5] == ["1", "+1", "clerk", "2", "→"]
    assert "yes" in first
    assert first[-1].startswith("-")  # per cost/h: a shorter cycle time per 1/h of staff
    archivist = next(line for line in lines if "+1 archivist" in line)
    assert "0s (screening)" in archivist
    assert "screened out" in archivist
    assert "no cost_per_hour" in archivist
    assert "cannot beat" not in archivist
    never = next(line for line in lines if "confirm --disputed-->" in line)
    assert "no effect (analytic)" in never
    assert "never taken" in never


def test_full_simulates_every_lever_with_the_full_replications(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "levers", BOTTLENECK, "--full", *QUICK)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[2] == (
        "3 runs × 400 cases (98 warm-up, 302 counted) · seed 0 · 17 levers simulated on "
        "common random numbers, 2 with no effect (analytic)"
    )
    assert "screened out" not in out
    archivist = next(line for line in lines if "+1 archivist" in line)
    assert " no " in archivist  # measured in full: a difference of exactly 0, not significant


def test_top_limits_the_ranked_rows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "levers", BOTTLENECK, "--top", "3", *QUICK)
    assert code == 0
    ranks = [line.split()[0] for line in out.splitlines() if line[:5].strip().isdigit()]
    assert ranks == ["1", "2", "3"]
    screened = [line for line in out.splitlines() if line.split()[:1] == ["-"]]
    assert len(screened) == 2
    assert all("no effect (analytic)" in line for line in screened)


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "levers", BOTTLENECK, "--format", "json", "--seed", "3", *QUICK)
    assert code == 0
    document = json.loads(out)
    assert document["version"] == 1
    assert document["file"] == str(BOTTLENECK)
    assert (document["cases"], document["runs"], document["seed"]) == (400, 3, 3)
    assert document["goal"]["kpi"] == "cycle_time.mean"
    assert [lever["rank"] for lever in document["levers"][:3]] == [1, 2, 3]
    assert document["levers"][0]["lever"] == "capacity:clerk"
    assert document["design"]["method"] == "two-stage"
    screening = document["design"]["screening"]
    assert (screening["runs"], screening["cases"], screening["seed"]) == (3, 80, 4)
    assert 1 <= screening["rounds"] <= 3


def test_a_goal_by_id(capsys: pytest.CaptureFixture[str]) -> None:
    path = ROOT / "processes" / "customer-service.yaml"
    code, out, _ = run(capsys, "levers", path, "--goal", "resolve-within-a-day", *QUICK)
    assert code == 0
    assert "levers ranked by goal resolve-within-a-day (p90 cycle time <= 24h)" in out


def test_values_from_files_are_printed_literally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file name that looks like rich markup is printed as it is, not styled away."""
    path = write(tmp_path, "[bold]p[/bold].yaml", BOTTLENECK.read_text(encoding="utf-8"))
    code, out, _ = run(capsys, "levers", path, "--top", "1", *QUICK)
    assert code == 0
    assert "[bold]p[/bold].yaml" in out.splitlines()[0]


def test_a_process_without_arrivals_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "\n".join(
        line
        for line in BOTTLENECK.read_text(encoding="utf-8").splitlines()
        if not line.startswith(("arrivals:", "  rate:"))
    )
    path = write(tmp_path, "p.yaml", text)
    code, out, err = run(capsys, "levers", path)
    assert code == 2
    assert out == ""
    assert f"{path}:4:1: process 'bottleneck' has no arrivals, and levers need them" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--goal", "nope"), "has no goal 'nope' (it has no goals)"),
        (("--top", "0"), "Invalid value for '--top'"),
        (("--confirm", "0"), "Invalid value for '--confirm'"),
        (("--runs", "0"), "Invalid value for '--runs'"),
        (("--format", "xml"), "Invalid value for '--format'"),
    ],
)
def test_bad_options_exit_2(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "levers", BOTTLENECK, *args)
    assert code == 2
    assert message in err
    assert out == ""


def test_a_broken_file_is_positioned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = BOTTLENECK.read_text(encoding="utf-8").replace("exponential(6m)", "exponential(6)")
    path = write(tmp_path, "p.yaml", text)
    code, _, err = run(capsys, "levers", path)
    assert code == 2
    assert f"{path}:34:27: PF002 step 'review'" in err
    assert "PF002" in err


def test_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "levers", tmp_path / "none.yaml")
    assert code == 2
    assert "none.yaml" in err


def test_the_scheduler_option_sends_the_runs_to_dask(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    from procflow.sim import runner

    monkeypatch.setattr(runner, "DASK_TIMEOUT", "1s")
    code, _, err = run(capsys, "levers", BOTTLENECK, *QUICK, "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err


@pytest.mark.parametrize(
    ("args", "tty", "shown"),
    [
        ((), True, True),
        ((), False, False),
        (("--format", "json"), True, False),
        (("-q",), True, False),
    ],
)
def test_the_progress_bar_only_on_a_terminal_for_text_and_not_quiet(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    tty: bool,
    shown: bool,
) -> None:
    import procflow.cli.progress as command

    made: list[bool] = []
    real = command.progress_bar

    def spy(output_format: str, label: str) -> object:
        bar = real(output_format, label)
        made.append(bar.enabled)
        return bar

    monkeypatch.setattr(command, "progress_bar", spy)
    monkeypatch.setattr("sys.stderr.isatty", lambda: tty)
    code, _, err = run(capsys, "levers", BOTTLENECK, *QUICK, *args)
    assert code == 0, err
    assert made == [shown]
