"""Folder walks leave out `exclude` patterns and what .gitignore ignores (issue 11, section 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from procflow._lint import lint_paths
from procflow.cli import main
from procflow.config import LintConfig, load_config
from procflow.errors import ConfigError
from procflow.pathfilter import PathFilter

VALID = """\
process: {name}
owners:
  clerk: {{capacity: 2}}
arrivals: {{rate: 1/h}}
start: a
steps:
  a: {{owner: clerk, duration: 5m, next: done}}
  done: {{end: true}}
"""


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name.split(".")[0]
    path.write_text(text or VALID.format(name=name), encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository: processes/, a generated folder it ignores, a re-included file."""
    (tmp_path / ".git" / "info").mkdir(parents=True)
    write(tmp_path / ".gitignore", "generated/\n*.tmp.yaml\n")
    write(tmp_path / "processes" / ".gitignore", "scratch-*.yaml\n!scratch-keep.yaml\n")
    write(tmp_path / ".git" / "info" / "exclude", "local.yaml\n")
    for name in (
        "processes/a.yaml",
        "processes/b.tmp.yaml",
        "processes/scratch-1.yaml",
        "processes/scratch-keep.yaml",
        "processes/local.yaml",
        "processes/archive/old.yaml",
        "processes/generated/x.yaml",
        "generated/y.yaml",
    ):
        write(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def files(*paths: str, config: LintConfig | None = None) -> list[str]:
    return sorted(Path(f).as_posix() for f in lint_paths(list(paths), config).files)


def test_gitignore_files_are_respected_from_the_repository_root(repo: Path) -> None:
    assert files(".") == [
        "processes/a.yaml",
        "processes/archive/old.yaml",
        "processes/scratch-keep.yaml",
    ]


def test_inside_a_subfolder_the_root_gitignore_still_applies(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / "processes")
    assert files(".") == ["a.yaml", "archive/old.yaml", "scratch-keep.yaml"]


def test_globs_are_filtered_but_named_files_are_always_linted(repo: Path) -> None:
    assert files("processes/**/*.yaml") == [
        "processes/a.yaml",
        "processes/archive/old.yaml",
        "processes/scratch-keep.yaml",
    ]
    assert files("processes/scratch-1.yaml", "generated/y.yaml") == [
        "generated/y.yaml",
        "processes/scratch-1.yaml",
    ]


def test_gitignore_can_be_turned_off(repo: Path) -> None:
    assert len(files(".", config=LintConfig(respect_gitignore=False))) == 8


def test_outside_a_repository_gitignore_files_mean_nothing(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".git" / "info" / "exclude").unlink()
    (repo / ".git" / "info").rmdir()
    (repo / ".git").rmdir()
    assert len(files(".")) == 8


def test_exclude_patterns_from_the_config_are_relative_to_its_folder(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo / "pyproject.toml", '[tool.procflow.lint]\nexclude = ["processes/archive/"]\n')
    config = load_config(repo / "pyproject.toml")
    monkeypatch.chdir(repo / "processes")
    assert files(".", config=config) == ["a.yaml", "scratch-keep.yaml"]
    # a pattern without a slash matches at any depth, as in .gitignore
    assert files(".", config=LintConfig(exclude=("a.yaml",))) == [
        "archive/old.yaml",
        "scratch-keep.yaml",
    ]


def test_cli_exclude_adds_to_the_config(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo / "pyproject.toml", '[tool.procflow.lint]\nexclude = ["archive/"]\n')
    assert main(["lint", ".", "--format", "json"]) == 0
    assert '"files": 2' in capsys.readouterr().out
    assert main(["lint", ".", "--exclude", "scratch-*,nothing", "--format", "json"]) == 0
    assert '"files": 1' in capsys.readouterr().out
    assert main(["lint", ".", "--no-respect-gitignore", "--isolated", "--format", "json"]) == 0
    assert '"files": 8' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("exclude = 3", "exclude: expected a list of gitignore-style patterns"),
        ("exclude = [1]", "exclude: expected a list of gitignore-style patterns"),
        ('respect-gitignore = "no"', "respect-gitignore: expected true or false"),
        ("exclud = []", "did you mean 'exclude'"),
    ],
)
def test_bad_exclude_settings_are_config_errors(tmp_path: Path, toml: str, message: str) -> None:
    write(tmp_path / "procflow.toml", f"[lint]\n{toml}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "procflow.toml")


def test_path_filter_decides_folders_once(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".gitignore", "build/\n")
    keep = PathFilter([(str(tmp_path), ["*.bak.yaml"])])
    assert keep.skips(str(tmp_path / "build" / "deep" / "x.yaml"))
    assert keep.skips(str(tmp_path / "a.bak.yaml"))
    assert not keep.skips(str(tmp_path / "a.yaml"))
    assert keep.skips(str(tmp_path / "build"), is_dir=True)
    assert not keep.skips(str(tmp_path / "builder" / "x.yaml"))
