"""``procflow new NAME``: a commented starter process that lints clean, never clobbering files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from procflow._lint import lint
from procflow.cli import main
from procflow.cli.new import starter
from procflow.errors import ConfigError
from procflow.loader import load_text


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_starter_lints_clean_with_zero_findings() -> None:
    process = load_text(starter("order-intake"), "processes/order-intake.yaml")
    assert process.id == "order-intake"
    assert process.title == "Order intake"
    assert lint(process) == []


def test_the_starter_is_commented_and_shows_the_format() -> None:
    text = starter("x")
    comments = [line for line in text.splitlines() if "#" in line]
    assert len(comments) >= 15
    for part in ("owners:", "external: true", "arrivals:", "feedback: true", "max:", "goals:"):
        assert part in text


def test_the_goal_deadline_is_a_year_ahead() -> None:
    process = load_text(starter("x", today=date(2028, 2, 29)))
    assert process.goals[0].deadline == date(2029, 2, 28)


@pytest.mark.parametrize("name", ["Bad", "1st", "with space", "", "a.b", "ünï"])
def test_the_name_must_be_an_id(name: str) -> None:
    with pytest.raises(ConfigError, match="not a valid process id"):
        starter(name)


def test_new_writes_processes_name_yaml(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "claims"]) == 0
    written = folder / "processes" / "claims.yaml"
    assert written.is_file()
    assert "processes/claims.yaml" in capsys.readouterr().out
    assert main(["lint", str(written), "--isolated"]) == 0
    assert "procflow lint processes/claims.yaml" in written.read_text(encoding="utf-8")


def test_new_refuses_to_overwrite_without_force(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = folder / "mine.yaml"
    target.write_text("precious\n", encoding="utf-8")
    assert main(["new", "mine", "-o", str(target)]) == 2
    assert "already exists; use --force" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "precious\n"
    assert main(["new", "mine", "-o", str(target), "--force"]) == 0
    assert target.read_text(encoding="utf-8").startswith("# mine:")


def test_new_into_a_folder_and_to_stdout(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "flows").mkdir()
    assert main(["new", "a-flow", "-o", "flows"]) == 0
    assert (folder / "flows" / "a-flow.yaml").is_file()
    capsys.readouterr()
    assert main(["new", "b-flow", "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith("# b-flow:")


def test_new_with_a_bad_name_exits_2(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "Bad Name"]) == 2
    assert "not a valid process id" in capsys.readouterr().err
    assert not (folder / "processes").exists()
