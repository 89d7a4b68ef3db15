"""Data is printed literally: rich markup in names is text, control characters are escaped.

Every command and format is run on names, descriptions and file names that
hold markup (``[/x]``, ``[link=...]``), escape sequences, C1 controls,
bidirectional overrides and line breaks that forge a GitHub Actions command.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from helpers import CUSTOMER_SERVICE
from procflow.cli import main
from procflow.safetext import json_text, printable, printable_lines

ESC = "\x1b[31mred\x1b[0m"
OSC8 = "\x1b]8;;https://evil.example\x1b\\"
FORGED = "\n::error file=evil.yaml,line=1::pwned"
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Any control character but a line break, or a bidirectional override."""

LOG = (
    "case,activity,timestamp,resource\n"
    f"{ESC},intake,2024-01-01T08:00:00,[/bold]\n"
    f"{ESC},triage,2024-01-01T08:10:00,\x9b2J\u202eevil\n"
    "c2,[/x],2024-01-01T09:00:00,r\n"
    "c3,[link=https://evil.example]click[/link],2024-01-01T10:00:00,r\n"
    "c3,intake,2024-01-01T10:05:00,[link=https://evil.example]x[/link]\n"
)


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _clean(text: str) -> None:
    """No control character, no OSC 8 hyperlink, no line that a runner reads as a command."""
    assert RAW.search(text) is None, repr(text)
    assert "]8;" not in text or "\\x1b]8;" in text
    assert not [line for line in text.splitlines() if line.startswith("::")], text


def test_printable_escapes_what_a_terminal_would_obey() -> None:
    assert printable(ESC) == "\\x1b[31mred\\x1b[0m"
    assert printable("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert printable("\x9b\u202e\u2066x") == "\\x9b\\u202e\\u2066x"
    assert printable("[/bold] C:\\new") == "[/bold] C:\\new"
    assert printable_lines("one\ntwo\x07") == "one\ntwo\\x07"


def test_json_text_is_inert_and_reads_back_exactly() -> None:
    data = {"k": ESC + "\x9b\u202e\x7f\n"}
    text = json_text(data)
    assert RAW.search(text) is None
    assert json.loads(text) == data


def test_check_log_prints_markup_and_escapes_literally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "evil.csv"
    log.write_text(LOG)
    code, out, err = _run(capsys, "check-log", str(CUSTOMER_SERVICE), str(log))
    assert code == 0, err
    _clean(out + err)
    assert "'[/x]'" in out
    assert "[link=https://evil.example]click[/link]" in out
    assert "[/bold]" in out  # a resource, shown under top resources
    assert "\\x1b[31mred\\x1b[0m" in out  # the case id, escaped
    assert "\\x9b2J\\u202eevil" in out


def test_check_log_on_a_colour_terminal_makes_no_hyperlink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    log = tmp_path / "evil.csv"
    log.write_text(LOG)
    code, out, _err = _run(capsys, "check-log", str(CUSTOMER_SERVICE), str(log))
    assert code == 0
    assert "\x1b]8;" not in out  # OSC 8: a hyperlink
    assert "\x1b[31mred" not in out  # the data's own colour
    assert "\x9b" not in out
    assert "\x1b[" in out  # procflow's own colours are still there


def test_check_log_json_keeps_the_data_exact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "evil.csv"
    log.write_text(LOG)
    code, out, _err = _run(capsys, "check-log", str(CUSTOMER_SERVICE), str(log), "--format", "json")
    assert code == 0
    assert RAW.search(out) is None
    assert "\x9b2J\u202eevil" in json.dumps(json.loads(out), ensure_ascii=False)


def test_calibrate_prints_names_literally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "evil.csv"
    log.write_text(LOG)
    out_file = tmp_path / "[red]\x1b[2J.yaml"
    code, out, err = _run(capsys, "calibrate", str(CUSTOMER_SERVICE), str(log), "-o", str(out_file))
    assert code == 0, err
    _clean(out + err)
    assert "[red]\\x1b[2J.yaml" in out
    assert out_file.exists()


def _hostile_file(folder: Path, text: str, name: str = "[red]\x1b[2J\u202e.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_analyze_and_simulate_show_file_names_literally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _hostile_file(tmp_path, CUSTOMER_SERVICE.read_text())
    for args in (["analyze", str(path)], ["simulate", str(path), "--cases", "200", "--seed", "1"]):
        code, out, err = _run(capsys, *args)
        assert code == 0, err
        _clean(out + err)
        assert "[red]\\x1b[2J\\u202e.yaml" in out


def test_simulate_log_path_is_shown_literally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "[red]\x1b[2J.csv"
    code, out, err = _run(
        capsys, "simulate", str(CUSTOMER_SERVICE), "--cases", "50", "--seed", "1", "--log", str(log)
    )
    assert code == 0, err
    _clean(out + err)
    assert "[red]\\x1b[2J.csv" in out


def test_compare_shows_a_change_description_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change = tmp_path / "c.yaml"
    description = json.dumps(f"[/x] [link=https://evil.example]y[/link]{ESC}{FORGED}")
    change.write_text(
        "change: more-agents\n"
        f"description: {description}\n"
        "patch:\n  owners:\n    support-agent: {capacity: 6}\n"
    )
    code, out, err = _run(
        capsys,
        "compare",
        str(CUSTOMER_SERVICE),
        "--change",
        str(change),
        *("--cases", "200", "--runs", "2", "--seed", "1"),
    )
    assert code == 0, err
    _clean(out + err)
    assert "[/x] [link=https://evil.example]y[/link]\\x1b[31mred" in out
    assert "\\n::error file=evil.yaml" in out


def test_lint_text_cannot_forge_a_workflow_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _hostile_file(tmp_path, "process: [unclosed\n", f"a{FORGED}{ESC}.yaml")
    for output_format in ("text", "github"):
        code, out, err = _run(capsys, "lint", str(path), "--format", output_format)
        assert code == 1
        _clean(out.replace("::error file=", "") if output_format == "github" else out)
        _clean(err)
        lines = out.splitlines()
        if output_format == "github":
            assert len(lines) == 1
            assert lines[0].startswith("::error file=")
            assert "%0A%3A%3Aerror file=evil.yaml" in lines[0]
            assert "\\x1b[31mred" in lines[0]
        else:
            assert lines[0].startswith(str(tmp_path))
            assert "a\\n::error file=evil.yaml,line=1::pwned\\x1b[31mred" in lines[0]


def test_lint_json_and_sarif_read_back_the_exact_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"b\x9b2J\u202e{ESC}.yaml"
    path = _hostile_file(tmp_path, "process: [unclosed\n", name)
    code, out, _err = _run(capsys, "lint", str(path), "--format", "json")
    assert code == 1
    assert RAW.search(out) is None
    assert json.loads(out)["findings"][0]["file"] == str(path)
    code, out, _err = _run(capsys, "lint", str(path), "--format", "sarif")
    assert code == 1
    assert RAW.search(out) is None
    json.loads(out)


def test_diagram_and_errors_show_paths_literally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / f"[red]{ESC}"
    code, out, err = _run(capsys, "diagram", str(CUSTOMER_SERVICE), "-o", str(out_dir), "-f", "dot")
    assert code == 0, err
    _clean(out + err)
    assert "[red]\\x1b[31mred" in out
    missing = str(tmp_path / f"gone{FORGED}{ESC}.yaml")
    for command in ("analyze", "simulate", "diagram", "lint"):
        code, out, err = _run(capsys, command, missing)
        assert code == 2, command
        _clean(out + err)
        assert "gone\\n::error" in err, (command, err)


def test_a_crash_message_escapes_the_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import procflow.cli.schema as schema

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"[/x]{ESC}")

    monkeypatch.setattr(schema, "json_schema", boom)
    monkeypatch.delenv("PROCFLOW_DEBUG", raising=False)
    code, _out, err = _run(capsys, "schema")
    assert code == 2
    _clean(err)
    assert "[/x]\\x1b[31mred" in err


@pytest.mark.skipif(os.name == "nt", reason="POSIX file names")
def test_no_command_module_imports_rich_markup_escape_directly() -> None:
    """Data goes through procflow.cli.console (safe/literal), which escapes controls too."""
    root = Path(__file__).resolve().parents[1] / "src" / "procflow"
    offenders = [
        str(path.relative_to(root))
        for path in sorted((root / "cli").glob("*.py"))
        if path.name != "console.py" and "from rich.markup import escape" in path.read_text()
    ]
    assert offenders == []


def test_error_messages_keep_to_one_line_but_install_instructions() -> None:
    from procflow.cli.console import error_text
    from procflow.errors import ConfigError, GraphvizNotFound

    assert error_text(ConfigError(f"bad{FORGED}")) == "bad\\n::error file=evil.yaml,line=1::pwned"
    assert error_text(GraphvizNotFound("install it:\n  apt-get install graphviz\x1b")) == (
        "install it:\n  apt-get install graphviz\\x1b"
    )
