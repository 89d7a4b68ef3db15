"""``procflow diagram``: outputs, formats, exit codes and messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import PROCESSES
from procflow.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "render"
CS = str(FIXTURES / "customer-service.yaml")
OB = str(FIXTURES / "employee-onboarding.yaml")
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed"
)


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_dot_format_writes_one_file_per_process(tmp_path, capsys):
    assert main(["diagram", CS, OB, "-o", str(tmp_path / "out"), "-f", "dot"]) == 0
    assert files(tmp_path / "out") == ["customer-service.dot", "employee-onboarding.dot"]
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'out' / 'customer-service.dot'}" in out
    assert "2 diagrams (dot) in" in out


def test_folders_and_globs_are_expanded(tmp_path):
    assert main(["diagram", str(FIXTURES), "-o", str(tmp_path), "-f", "mermaid"]) == 0
    assert files(tmp_path) == ["customer-service.mmd", "employee-onboarding.mmd"]
    glob = str(FIXTURES / "customer-*.yaml")
    assert main(["diagram", glob, "-o", str(tmp_path / "g"), "-f", "markdown"]) == 0
    assert files(tmp_path / "g") == ["customer-service.md"]


def test_default_output_folder_is_diagrams(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["diagram", CS, "-f", "dot"]) == 0
    assert files(tmp_path / "diagrams") == ["customer-service.dot"]


def test_output_to_stdout(capsysbinary):
    assert main(["diagram", CS, "-o", "-", "-f", "dot"]) == 0
    captured = capsysbinary.readouterr()
    assert captured.out.startswith(b"// customer-service")
    assert b"wrote" not in captured.out


def test_stdout_takes_one_process_only(tmp_path, capsys):
    assert main(["diagram", CS, OB, "-o", "-", "-f", "dot"]) == 2
    assert "-o - writes one diagram" in capsys.readouterr().err


def test_lanes_highlight_and_legend_options(tmp_path):
    args = ["diagram", CS, "-f", "dot", "--no-lanes", "--highlight", "--no-legend"]
    assert main([*args, "-o", str(tmp_path)]) == 0
    source = (tmp_path / "customer-service.dot").read_text(encoding="utf-8")
    assert 'subgraph "cluster_' not in source
    assert "Legend" not in source
    assert "busiest owners: support-agent" in source


def test_a_bad_file_exits_2_with_its_position_and_the_others_are_drawn(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("process: bad\nstart: a\nsteps:\n  a:\n    duration: 5\n    end: true\n")
    assert main(["diagram", str(bad), CS, "-o", str(tmp_path / "out"), "-f", "dot"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:5:15: PF002" in err
    assert "Traceback" not in err
    assert files(tmp_path / "out") == ["customer-service.dot"]


def test_invalid_yaml_exits_2(tmp_path, capsys):
    bad = tmp_path / "broken.yaml"
    bad.write_text("process: [unclosed\n")
    assert main(["diagram", str(bad), "-o", str(tmp_path), "-f", "dot"]) == 2
    assert f"{bad}:2:1: PF001" in capsys.readouterr().err


def test_a_missing_path_exits_2(tmp_path, capsys):
    assert main(["diagram", str(tmp_path / "nope.yaml"), "-o", str(tmp_path)]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_an_empty_folder_exits_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["diagram", str(tmp_path / "empty"), "-f", "dot"]) == 2
    assert "no .yaml or .yml files found" in capsys.readouterr().err


def test_two_files_with_one_process_id_are_refused(tmp_path, capsys):
    twin = tmp_path / "twin.yaml"
    twin.write_text(Path(CS).read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["diagram", CS, str(twin), "-o", str(tmp_path / "out"), "-f", "dot"]) == 2
    err = capsys.readouterr().err
    assert "'customer-service' is also declared in" in err
    assert files(tmp_path / "out") == ["customer-service.dot"]


def test_missing_dot_exits_2_with_install_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert main(["diagram", CS, "-o", str(tmp_path / "out"), "-f", "svg"]) == 2
    err = capsys.readouterr().err
    assert "Graphviz's `dot` program is needed" in err
    assert "sudo apt-get install graphviz" in err
    assert not (tmp_path / "out").exists()
    # dot and mermaid need no Graphviz
    assert main(["diagram", CS, "-o", str(tmp_path / "out"), "-f", "dot"]) == 0
    assert main(["diagram", CS, "-o", str(tmp_path / "out"), "-f", "mermaid"]) == 0
    assert files(tmp_path / "out") == ["customer-service.dot", "customer-service.mmd"]


def test_a_failing_dot_exits_2_naming_the_file(tmp_path, monkeypatch, capsys):
    program = tmp_path / "bin" / "dot"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\necho 'Error: out of memory' >&2\nexit 3\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(program.parent))
    assert main(["diagram", CS, "-o", str(tmp_path / "out"), "-f", "png"]) == 2
    err = capsys.readouterr().err
    assert f"error: {CS}: dot could not lay out the diagram: Error: out of memory" in err


def test_output_folder_that_is_a_file_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["diagram", CS, "-o", str(blocker), "-f", "dot"]) == 2
    assert "cannot create folder" in capsys.readouterr().err


def test_bad_format_is_a_usage_error(capsys):
    assert main(["diagram", CS, "-f", "gif"]) == 2
    assert "Invalid value for '-f' / '--format'" in capsys.readouterr().err


@needs_dot
def test_svg_of_every_example(tmp_path):
    examples = sorted((PROCESSES).glob("*.yaml"))
    assert main(["diagram", str(PROCESSES), "-o", str(tmp_path), "-f", "svg"]) == 0
    assert len(files(tmp_path)) == len(examples)
    for name in files(tmp_path):
        assert (tmp_path / name).read_bytes().startswith(b"<?xml")


def test_standard_input(tmp_path, monkeypatch):
    import io
    import sys

    data = Path(CS).read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert main(["diagram", "-", "-o", str(tmp_path), "-f", "dot"]) == 0
    assert files(tmp_path) == ["customer-service.dot"]
