"""SPEC 3: every command takes files and globs, not only lint and diagram."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import CLEAN, ROOT, run, write


def test_analyze_reads_the_one_file_a_glob_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "tiny.yaml", CLEAN.replace("start:", "arrivals: {rate: 2/h}\nstart:"))
    code, out, _ = run(capsys, "analyze", str(tmp_path / "ti*.y*ml"), "--format", "json")
    assert code == 0
    assert json.loads(out)["process"] == "tiny"
    assert json.loads(out)["file"] == str(path)


def test_a_glob_matching_several_files_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "a.yaml", CLEAN)
    write(tmp_path, "b.yaml", CLEAN)
    code, _, err = run(capsys, "analyze", str(tmp_path / "*.yaml"))
    assert code == 2
    assert "matches 2 files" in err
    assert "a.yaml" in err
    assert "reads one" in err


def test_a_glob_matching_nothing_is_reported_as_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "simulate", str(tmp_path / "nothing-*.yaml"))
    assert code == 2
    assert "nothing-*.yaml" in err
    assert "no such file" in err


def test_compare_takes_a_glob_of_change_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("hire-support-agent", "halve-reopens"):
        write(tmp_path, f"cs-{name}.yaml", (ROOT / "changes" / f"{name}.yaml").read_text())
    code, out, _ = run(
        capsys,
        "compare",
        ROOT / "processes" / "customer-service.yaml",
        "--change",
        str(tmp_path / "cs-*.yaml"),
        "--cases",
        "300",
        "--runs",
        "2",
        "--format",
        "json",
    )
    assert code == 0
    changes = [c["change"] for c in json.loads(out)["changes"]]
    assert changes == ["halve-reopens", "hire-support-agent"]  # sorted by file name
