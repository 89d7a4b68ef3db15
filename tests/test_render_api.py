"""``procflow.render(process, path)``: formats, the dot seam, errors and safe names."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from procflow._render import format_for, output_path, render, render_bytes
from procflow._render.layout import run_dot
from procflow.errors import GraphvizNotFound, RenderError
from procflow.loader import load

FIXTURES = Path(__file__).parent / "fixtures" / "render"
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed"
)


@pytest.fixture(scope="module")
def process():
    return load(FIXTURES / "customer-service.yaml")


def fake_dot(folder: Path, script: str) -> None:
    """Put a ``dot`` program running ``script`` (sh) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / "dot"
    program.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IEXEC)


def test_public_name_is_callable_even_after_the_subpackage_is_imported(process, tmp_path):
    import procflow._render.dot  # binds procflow.render to the subpackage

    written = procflow.render(process, tmp_path / "cs.dot")
    assert written == tmp_path / "cs.dot"
    assert written.read_text(encoding="utf-8").startswith("// customer-service")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.svg", "svg"),
        ("a.PNG", "png"),
        ("a.pdf", "pdf"),
        ("a.dot", "dot"),
        ("a.gv", "dot"),
        ("a.mmd", "mermaid"),
        ("a.md", "markdown"),
    ],
)
def test_format_from_suffix(name, fmt):
    assert format_for(name) == fmt


@pytest.mark.parametrize("name", ["diagram.txt", "diagram"])
def test_unknown_suffix_is_a_render_error(name, process, tmp_path):
    with pytest.raises(RenderError, match="cannot tell the diagram format"):
        render(process, tmp_path / name)
    assert not list(tmp_path.iterdir())


def test_explicit_format_wins_over_the_suffix(process, tmp_path):
    target = render(process, tmp_path / "out.txt", format="mermaid")
    assert target.read_text(encoding="utf-8").startswith("---\ntitle:")


def test_unknown_format(process):
    with pytest.raises(RenderError, match="unknown diagram format 'gif'"):
        render_bytes(process, "gif")


def test_runner_seam_replaces_dot(process, tmp_path):
    calls = []

    def runner(source: str, fmt: str) -> bytes:
        calls.append((source[:19], fmt))
        return b"<svg>fake</svg>"

    target = render(process, tmp_path / "x.svg", runner=runner)
    assert target.read_bytes() == b"<svg>fake</svg>"
    assert calls == [("// customer-service", "svg")]


def test_missing_dot_raises_with_install_instructions(process, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GraphvizNotFound) as raised:
        render(process, tmp_path / "x.svg")
    message = str(raised.value)
    assert "apt-get install graphviz" in message
    assert "brew install graphviz" in message
    assert raised.value.exit_code == 2
    assert not (tmp_path / "x.svg").exists()
    # text formats need no dot at all
    assert render(process, tmp_path / "x.dot").exists()
    assert render(process, tmp_path / "x.mmd").exists()


def test_a_failing_dot_is_a_render_error_quoting_dot(process, tmp_path, monkeypatch):
    fake_dot(tmp_path / "bin", 'echo "Error: <stdin>: syntax error in line 3" >&2\nexit 1')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(RenderError, match=r"dot could not lay out .*syntax error in line 3"):
        render(process, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_run_dot_refuses_text_formats():
    with pytest.raises(RenderError, match="dot cannot write format 'dot'"):
        run_dot("digraph {}", "dot")


@needs_dot
@pytest.mark.parametrize(
    ("fmt", "magic"), [("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")]
)
def test_real_images(process, tmp_path, fmt, magic):
    target = render(process, tmp_path / f"cs.{fmt}", highlight=True)
    assert target.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"cs.{fmt}"]  # no temp files left


def test_output_path_uses_the_process_id_only(tmp_path):
    assert output_path(tmp_path, "customer-service", "mermaid") == tmp_path / "customer-service.mmd"
    assert output_path("diagrams", "x", "svg") == Path("diagrams") / "x.svg"
    for bad in ("../up", "a/b", "/abs", "..", "", "Upper", "a\\b", "a\x00"):
        with pytest.raises(RenderError, match="cannot be used as a file name"):
            output_path(tmp_path, bad, "svg")


def test_render_replaces_an_existing_file_atomically(process, tmp_path):
    target = tmp_path / "cs.dot"
    target.write_text("old", encoding="utf-8")
    render(process, target)
    assert target.read_text(encoding="utf-8").startswith("// customer-service")
    assert os.listdir(tmp_path) == ["cs.dot"]
