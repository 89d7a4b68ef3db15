"""The loader's everyday behaviour: YAML 1.2 scalars, positions, walking folders, transitions."""

from __future__ import annotations

import gc
import math
import weakref
from pathlib import Path

import pytest

from helpers import CLEAN
from procflow.cli import collector
from procflow.cli.collector import paused as gc_paused
from procflow.errors import FileAccessError, ProcessError
from procflow.loader import iter_yaml_files, load_text, parse_yaml, resolve_plain


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("on", "on"),
        ("off", "off"),
        ("yes", "yes"),
        ("No", "No"),
        ("y", "y"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("12", 12),
        ("-3", -3),
        ("0o17", 15),
        ("0x1F", 31),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("2027-03-31", "2027-03-31"),
        ("12:30", "12:30"),
        ("1_000", "1_000"),
        ("exponential(6m)", "exponential(6m)"),
    ],
)
def test_yaml_12_core_scalars(text: str, value: object) -> None:
    assert resolve_plain(text) == value
    assert type(resolve_plain(text)) is type(value)


def test_special_floats() -> None:
    assert resolve_plain(".inf") == math.inf
    assert resolve_plain("-.Inf") == -math.inf
    assert math.isnan(resolve_plain(".NaN"))


def test_quoted_scalars_stay_text_and_explicit_tags_apply() -> None:
    data = parse_yaml("a: '12'\nb: \"true\"\nc: !!str 3\nd: !!int '7'\ne: !!float 2\n", "x").data
    assert data == {"a": "12", "b": "true", "c": "3", "d": 7, "e": 2.0}
    with pytest.raises(ProcessError, match="not a valid int"):
        parse_yaml("a: !!int seven\n", "x")


def test_positions_of_keys_and_values() -> None:
    document = parse_yaml(CLEAN, "p.yaml")
    source = document.source
    assert str(source.locate(("steps", "check"), "key")) == "p.yaml:6:3"
    assert str(source.locate(("steps", "check", "duration"))) == "p.yaml:8:15"
    assert str(source.locate(("steps", "check", "on", "redo", "max"))) == "p.yaml:11:54"
    assert str(source.locate(("steps", "nowhere", "owner"), "key")) == "p.yaml:5:1"


def test_transitions_know_their_triggers_and_are_built_once() -> None:
    process = load_text(CLEAN)
    check = process.steps["check"]
    assert [(t.trigger, t.to, t.p, t.max) for t in check.transitions] == [
        ("ok", "done", 0.9, None),
        ("redo", "check", 0.1, 2),
    ]
    assert check.transitions is check.transitions
    assert check.triggers == ("ok", "redo")
    assert process.steps["done"].transitions == ()
    nxt = load_text("process: n\nstart: a\nsteps:\n  a: {next: b}\n  b: {end: true}\n")
    [edge] = nxt.steps["a"].transitions
    assert (edge.trigger, edge.to, edge.p, edge.feedback) == ("next", "b", None, False)


def test_transitions_are_not_fields() -> None:
    process = load_text(CLEAN)
    process.steps["check"].transitions  # noqa: B018 - builds the cache
    dumped = process.steps["check"].model_dump()
    assert "transitions" not in dumped
    assert "trigger" not in dumped["on"]["ok"]
    assert load_text(CLEAN).steps["check"] == process.steps["check"]


def test_the_command_pauses_gc_inside_and_restores_it_after() -> None:
    """The command line's pause (the library never switches the collector)."""
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError
    assert gc.isenabled()


def test_a_command_line_that_ends_with_the_command_freezes_what_it_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``paused(last=True)`` collects nothing at the end of ``procflow CMD`` (the process
    ends), and behaves as a plain pause for a caller of ``main(args)`` that goes on."""

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    alive: weakref.WeakSet[Cycle] = weakref.WeakSet()

    def command() -> None:
        with gc_paused(last=True):
            for _ in range(1_000):
                alive.add(Cycle())  # garbage in reference cycles, as a simulation leaves

    monkeypatch.setattr(collector, "_ENDING", False)
    command()  # main(args): the cycles are left to the collector
    gc.collect()
    assert len(alive) == 0
    collector.ending()  # main() of the real command line says so
    try:
        command()
        assert gc.isenabled()
        gc.collect()
        assert len(alive) == 1_000  # frozen, not walked: the process ends now
    finally:
        gc.unfreeze()
    gc.collect()
    assert len(alive) == 0


def make_tree(root: Path) -> None:
    for name in (
        "processes/a.yaml",
        "processes/b.yml",
        "processes/sub/c.yaml",
        "processes/README.md",
        "processes/.hidden.yaml",
        ".github/workflows/ci.yml",
        ".venv/lib/site-packages/x/y.yaml",
        "node_modules/pkg/z.yaml",
        "venv/lib/w.yaml",
        "top.yaml",
    ):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x: 1\n", encoding="utf-8")


def test_walking_a_folder_skips_hidden_and_tool_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert list(iter_yaml_files(["."])) == [
        "processes/a.yaml",
        "processes/b.yml",
        "processes/sub/c.yaml",
        "top.yaml",
    ]
    assert list(iter_yaml_files(["processes"])) == [
        "processes/a.yaml",
        "processes/b.yml",
        "processes/sub/c.yaml",
    ]


def test_files_given_by_name_are_kept_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    named = [".github/workflows/ci.yml", "processes/README.md", "-"]
    assert list(iter_yaml_files(named)) == named


def test_globs_keep_yaml_files_and_walk_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert list(iter_yaml_files(["processes/*"])) == [
        "processes/a.yaml",
        "processes/b.yml",
        "processes/sub/c.yaml",
    ]
    assert list(iter_yaml_files(["processes/**/*.yaml"])) == [
        "processes/a.yaml",
        "processes/sub/c.yaml",
    ]
    with pytest.raises(FileAccessError, match="no files match"):
        list(iter_yaml_files(["nothing/*.yaml"]))
    with pytest.raises(FileAccessError, match="no such file"):
        list(iter_yaml_files(["missing.yaml"]))
