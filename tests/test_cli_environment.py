"""NO_COLOR / FORCE_COLOR, -q/--quiet and shell completion: the command line's manners.

Colour follows https://no-color.org (a non-empty NO_COLOR turns it off, an
empty one is ignored) and FORCE_COLOR as Rich and Node read it, except that
``FORCE_COLOR=0`` does not force (Rich would). Quiet drops chatter, never
findings or errors.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from procflow.cli import main
from procflow.cli.console import colour_choice, is_quiet

ROOT = Path(__file__).resolve().parents[1]
BROKEN = """\
process: p
owners:
  clerk: {}
  idle: {}
start: a
steps:
  a: {owner: clerk, next: b}
  b: {end: true}
"""


@pytest.mark.parametrize(
    ("environ", "choice"),
    [
        ({}, None),
        ({"NO_COLOR": ""}, None),  # empty: ignored (no-color.org)
        ({"NO_COLOR": "1"}, False),
        ({"NO_COLOR": "0"}, False),  # any non-empty value, even 0
        ({"FORCE_COLOR": ""}, None),
        ({"FORCE_COLOR": "0"}, None),  # does not force
        ({"FORCE_COLOR": "1"}, True),
        ({"FORCE_COLOR": "3"}, True),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": ""}, True),
    ],
)
def test_colour_choice(environ: dict[str, str], choice: bool | None) -> None:
    assert colour_choice(environ) is choice


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "p.yaml").write_text(BROKEN, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


def lint_output(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["lint", "p.yaml", "--isolated", "--select", "PF203", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.usefixtures("broken")
@pytest.mark.parametrize(
    ("environ", "coloured"),
    [
        ({}, False),
        ({"FORCE_COLOR": "1"}, True),
        ({"FORCE_COLOR": "0"}, False),
        ({"FORCE_COLOR": ""}, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": ""}, True),
    ],
)
def test_lint_colour_when_piped(
    environ: dict[str, str],
    coloured: bool,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    out = lint_output(capsys)
    assert ("\x1b[" in out) is coloured
    assert "PF203" in out
    assert "unused-owner: owner 'idle' is declared" in out


@pytest.mark.usefixtures("broken")
@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_lint_keeps_findings_and_drops_the_summary(
    where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    loud = lint_output(capsys)
    assert loud.splitlines()[-1] == "Found 1 warning in 1 of 1 file"
    if where == "before":
        assert main(["-q", "lint", "p.yaml", "--isolated", "--select", "PF203"]) == 0
        quiet = capsys.readouterr().out
    else:
        quiet = lint_output(capsys, "--quiet")
    assert quiet.splitlines() == loud.splitlines()[:-1]
    assert "PF203" in quiet
    # main() resets the flag: the next command is not quiet
    assert lint_output(capsys) == loud
    assert not is_quiet()


@pytest.mark.usefixtures("broken")
def test_quiet_lint_clean_prints_nothing_but_errors_still_show(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["lint", "p.yaml", "--isolated", "-q", "--select", "PF101"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["lint", "missing.yaml", "--isolated", "-q"]) == 2
    assert "missing.yaml" in capsys.readouterr().err


def test_quiet_new_and_diagram(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "demo"]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert main(["new", "other", "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert (tmp_path / "processes" / "other.yaml").is_file()
    assert main(["diagram", "processes", "-f", "dot", "-o", "out"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["-q", "diagram", "processes", "-f", "mermaid", "-o", "out"]) == 0
    assert capsys.readouterr().out == ""
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "demo.dot",
        "demo.mmd",
        "other.dot",
        "other.mmd",
    ]


def test_quiet_is_offered_where_it_means_something() -> None:
    import click

    from procflow.cli import QUIET_COMMANDS, cli

    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None
        has = any(p.name == "quiet" for p in command.params)
        assert has is (name in QUIET_COMMANDS), name


def _complete(shell_var: str, words: str, cword: int) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "_PROCFLOW_COMPLETE": shell_var,
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    return subprocess.run(
        [sys.executable, "-c", "import sys; from procflow.cli import main; sys.exit(main())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_bash_completion_script_is_produced() -> None:
    result = _complete("bash_source", "", 0)
    assert result.returncode == 0, result.stderr
    assert "_procflow_completion()" in result.stdout
    assert "complete -o nosort -F _procflow_completion procflow" in result.stdout


@pytest.mark.parametrize("shell", ["zsh_source", "fish_source"])
def test_other_shells_get_a_script(shell: str) -> None:
    result = _complete(shell, "", 0)
    assert result.returncode == 0, result.stderr
    assert "procflow" in result.stdout
    assert len(result.stdout) > 200


def test_bash_completion_completes_commands_and_options() -> None:
    commands = _complete("bash_complete", "procflow ch", 1)
    assert commands.returncode == 0, commands.stderr
    assert "plain,check-log" in commands.stdout.splitlines()
    options = _complete("bash_complete", "procflow lint --fo", 2)
    assert "plain,--format" in options.stdout.splitlines()
    formats = _complete("bash_complete", "procflow lint --format s", 3)
    assert formats.stdout.splitlines() == ["plain,sarif"]
