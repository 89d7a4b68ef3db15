"""An output never replaces an input of the same command (audit of 2026-12-07).

``simulate P --log P``, ``discover LOG -o LOG``, ``report P -o P``, ``import
M.bpmn -o M.bpmn`` and the like used to overwrite the file they had just read
with exit 0: the process, log or model was gone. Every reader notes what it
opens (fileio.note_input) and every writer refuses a noted file by any name.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import run, write
from procflow import fileio

PROCESS = """\
process: small
owners:
  a: {capacity: 2}
arrivals: {rate: 4/h}
start: s1
steps:
  s1: {owner: a, duration: exponential(10m), next: done}
  done: {end: true}
goals:
  - {id: quick, metric: cycle_time, stat: p90, target: "<= 2h", deadline: 2030-01-01}
"""

LOG = """\
case,step,owner,start,end
c1,s1,a,2027-01-04T09:00:00,2027-01-04T09:10:00
c2,s1,a,2027-01-04T09:20:00,2027-01-04T09:35:00
"""

BPMN = """\
<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <process id="p">
    <startEvent id="s"/><task id="t" name="Work"/><endEvent id="e"/>
    <sequenceFlow id="a" sourceRef="s" targetRef="t"/>
    <sequenceFlow id="b" sourceRef="t" targetRef="e"/>
  </process>
</definitions>
"""

REFUSED = "is an input of this command: refusing to overwrite it"


def _refused(capsys: pytest.CaptureFixture[str], target: Path, *args: str | Path) -> None:
    before = target.read_bytes()
    code, _out, err = run(capsys, *args)
    assert code == 2, err
    assert f"{target.name}: {REFUSED}" in err
    assert "Traceback" not in err
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    ("args", "target"),
    [
        (("simulate", "p.yaml", "--cases", "50", "--runs", "1", "--log", "p.yaml"), "p.yaml"),
        (("discover", "log.csv", "-o", "log.csv"), "log.csv"),
        (("calibrate", "p.yaml", "log.csv", "-o", "log.csv"), "log.csv"),
        (("export", "p.yaml", "--to", "bpmn", "-o", "p.yaml"), "p.yaml"),
        (("import", "m.bpmn", "-o", "m.bpmn"), "m.bpmn"),
        (("import", "m.bpmn", "--params", "params.json", "-o", "params.json"), "params.json"),
    ],
)
def test_an_output_naming_an_input_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    target: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "p.yaml", PROCESS)
    write(tmp_path, "log.csv", LOG)
    write(tmp_path, "m.bpmn", BPMN)
    write(tmp_path, "params.json", "{}")
    _refused(capsys, tmp_path / target, *args)


def test_a_change_file_and_links_to_an_input_are_inputs_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "p.yaml", PROCESS)
    write(tmp_path, "c.yaml", "change: more\npatch: {owners: {a: {capacity: 3}}}\n")
    os.symlink("p.yaml", tmp_path / "soft.yaml")
    os.link(tmp_path / "p.yaml", tmp_path / "hard.yaml")
    sim = ("simulate", "p.yaml", "--cases", "50", "--runs", "1")
    _refused(capsys, tmp_path / "c.yaml", *sim, "--change", "c.yaml", "--log", "c.yaml")
    for name in ("soft.yaml", "hard.yaml"):
        code, _out, err = run(capsys, *sim, "--log", name)
        assert code == 2
        assert f"{name}: {REFUSED}" in err
    assert (tmp_path / "p.yaml").read_text() == PROCESS
    assert (tmp_path / "soft.yaml").is_symlink()


def test_other_outputs_are_written_and_the_api_does_not_guard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "p.yaml", PROCESS)
    code, _out, err = run(
        capsys, "simulate", "p.yaml", "--cases", "50", "--runs", "1", "--log", "l.csv"
    )
    assert code == 0, err
    assert (tmp_path / "l.csv").read_text().startswith("case,step,owner,start,end")
    # outside a command a script may rewrite what it read: nothing is remembered
    fileio.note_input(tmp_path / "p.yaml")
    fileio.write_atomic(tmp_path / "p.yaml", PROCESS.replace("4/h", "5/h"))
    assert "5/h" in (tmp_path / "p.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "target", "work"),
    [
        (("optimize", "p.yaml", "-o", "p.yaml"), "p.yaml", "procflow.cli.optimize.optimize"),
        (("discover", "log.csv", "-o", "hard.csv"), "hard.csv", "procflow._discover.discover"),
        (("report", "p.yaml", "-o", "p.yaml"), "p.yaml", "procflow.htmlreport.html_report"),
        (
            ("report", "p.yaml", "--log", "log.csv", "-o", "log.csv"),
            "log.csv",
            "procflow.htmlreport.html_report",
        ),
    ],
)
def test_long_commands_refuse_an_input_as_output_before_working(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    target: str,
    work: str,
) -> None:
    """optimize -o P searched for minutes and was refused only when it wrote: now the
    command refuses before its work starts (the work here fails the test if it runs)."""

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the work ran before the output was checked")

    monkeypatch.chdir(tmp_path)
    write(tmp_path, "p.yaml", PROCESS)
    write(tmp_path, "log.csv", LOG)
    os.link(tmp_path / "log.csv", tmp_path / "hard.csv")
    monkeypatch.setattr(work, never)
    _refused(capsys, tmp_path / target, *args)  # named, exit 2, the file's bytes untouched
