"""``procflow lint`` through the command line: exit codes, formats, options, configuration."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CLEAN, PROCESSES, run, write

WARNING = CLEAN.replace("  clerk: {capacity: 2}\n", "  clerk: {capacity: 2}\n  idle: {}\n")
ERROR = CLEAN.replace("process: tiny\n", "process: tiny\nowner: clerk\n").replace(
    "    owner: clerk", "    owner: ghost"
)
INFO = CLEAN.replace(", max: 2", "")  # PF302 unbounded-loop


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated working folder (no configuration file above it is picked up).

    It is the working directory, given as a relative path: the files written
    in it are named on the command line (and in the output) as ``a.yaml``.
    """
    monkeypatch.chdir(tmp_path)
    (tmp_path / "procflow.toml").write_text("[lint]\n", encoding="utf-8")
    return Path()


# --------------------------------------------------------------------------
# exit codes


def test_clean_files_exit_0(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(folder, "p/a.yaml", CLEAN)
    write(folder, "p/b.yml", CLEAN.replace("tiny", "tiny-b"))
    code, out, _ = run(capsys, "lint", "p")
    assert code == 0
    assert out == "All 2 files clean\n"


def test_errors_exit_1(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(folder, "a.yaml", ERROR)
    code, out, _ = run(capsys, "lint", path)
    assert code == 1
    assert out.startswith("a.yaml:8:12: PF202 unknown-owner: ")
    assert out.endswith("Found 1 error in 1 of 1 file\n")


def test_warnings_exit_0_unless_fail_on_warning(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(folder, "a.yaml", WARNING)
    assert run(capsys, "lint", path)[0] == 0
    assert run(capsys, "lint", path, "--fail-on", "warning")[0] == 1
    assert run(capsys, "lint", path, "--fail-on", "info")[0] == 1
    info = write(folder, "b.yaml", INFO)
    assert run(capsys, "lint", info, "--fail-on", "warning")[0] == 0
    assert run(capsys, "lint", info, "--fail-on", "info")[0] == 1


@pytest.mark.parametrize(
    "text", ["process: [\n", "", "just text\n", "process: x\n", "- 1\n", "a: 1\na: 2\n"]
)
def test_broken_files_exit_1_with_a_finding(
    folder: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = write(folder, "bad.yaml", text)
    code, out, _ = run(capsys, "lint", path)
    assert code == 1
    assert out.startswith("bad.yaml:")
    assert "PF00" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lint"], "give the process files or folders to lint"),
        (["lint", "missing.yaml"], "missing.yaml: no such file or directory"),
        (["lint", "nothing-*.yaml"], "no files match this pattern"),
        (["lint", "a.yaml", "--format", "xml"], "Invalid value for '--format'"),
        (["lint", "a.yaml", "--fail-on", "fatal"], "Invalid value for '--fail-on'"),
        (["lint", "a.yaml", "--select", "PF999"], "--select: unknown rule 'PF999'"),
        (["lint", "a.yaml", "--ignore", "nonsense"], "--ignore: unknown rule 'nonsense'"),
        (["lint", "a.yaml", "--severity", "PF203"], "expected CODE=LEVEL"),
        (["lint", "a.yaml", "--severity", "PF203=loud"], "expected one of error, warning"),
        (["lint", "a.yaml", "--config", "nope.toml"], "nope.toml: configuration file not found"),
        (["lint", "a.yaml", "--bottleneck-threshold", "2"], "bottleneck-threshold must be"),
        (["lint", "a.yaml", "--isolated", "--config", "x.toml"], "cannot be used together"),
    ],
)
def test_usage_and_path_errors_exit_2(
    folder: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    write(folder, "a.yaml", CLEAN)
    code, out, err = run(capsys, *args)
    assert code == 2
    assert message in out + err


def test_bad_configuration_file_exits_2(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(folder, "a.yaml", CLEAN)
    write(folder, "procflow.toml", "[lint]\nselct = ['PF1']\n")
    code, _, err = run(capsys, "lint", "a.yaml")
    assert code == 2
    assert "procflow.toml: [lint]: unknown key 'selct' (did you mean 'select'?)" in err
    write(folder, "procflow.toml", "[lint]\nselect = ['PF9']\n")
    code, _, err = run(capsys, "lint", "a.yaml")
    assert code == 2
    assert "unknown rule 'PF9'" in err


def test_unreadable_file_exits_2(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read anything")
    path = folder / "a.yaml"
    path.write_text(CLEAN, encoding="utf-8")
    path.chmod(0)
    assert run(capsys, "lint", "a.yaml")[0] == 2


def test_an_empty_folder_is_clean_with_a_warning(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "empty").mkdir()
    code, out, err = run(capsys, "lint", "empty")
    assert code == 0
    assert out == "No process files found\n"
    assert "no *.yaml or *.yml files found" in err


# --------------------------------------------------------------------------
# formats and output


def test_json_format(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(folder, "a.yaml", ERROR)
    write(folder, "b.yaml", CLEAN.replace("tiny", "other"))
    code, out, _ = run(capsys, "lint", "a.yaml", "b.yaml", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["summary"] == {"files": 2, "errors": 1, "warnings": 0, "infos": 0}
    assert data["findings"][0]["code"] == "PF202"
    assert data["findings"][0]["file"] == "a.yaml"


def test_sarif_format(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(folder, "a.yaml", ERROR)
    code, out, _ = run(capsys, "lint", "a.yaml", "--format", "sarif")
    assert code == 1
    data = json.loads(out)
    assert data["version"] == "2.1.0"
    assert data["runs"][0]["results"][0]["ruleId"] == "PF202"


def test_github_format(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(folder, "a.yaml", ERROR)
    code, out, _ = run(capsys, "lint", "a.yaml", "--format", "github")
    assert code == 1
    assert out.startswith("::error file=a.yaml,line=8,col=12,title=PF202 unknown-owner::")


def test_output_file(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(folder, "a.yaml", ERROR)
    code, out, _ = run(capsys, "lint", "a.yaml", "--format", "json", "-o", "out/report.json")
    assert code == 1
    assert out == ""
    assert json.loads((folder / "out" / "report.json").read_text())["summary"]["errors"] == 1
    run(capsys, "lint", "a.yaml", "--output", "report.txt")
    assert (folder / "report.txt").read_text().endswith("Found 1 error in 1 of 1 file\n")
    assert not list(folder.rglob("*.tmp"))


def test_output_dash_is_stdout(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``-o -`` means standard output, as for new, calibrate and diagram."""
    write(folder, "a.yaml", ERROR)
    code, out, _ = run(capsys, "lint", "a.yaml", "--format", "json", "-o", "-")
    assert code == 1
    assert json.loads(out)["summary"]["errors"] == 1
    code, out, _ = run(capsys, "schema", "-o", "-")
    assert code == 0
    assert json.loads(out)["title"] == "procflow process"
    assert not (folder / "-").exists()


def test_stdin(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(ERROR.encode())))
    code, out, _ = run(capsys, "lint", "-")
    assert code == 1
    assert out.startswith("<stdin>:8:12: PF202")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(ERROR.encode())))
    code, out, _ = run(capsys, "lint", "-", "--stdin-filename", "processes/x.yaml")
    assert out.startswith("processes/x.yaml:8:12: PF202")


# --------------------------------------------------------------------------
# selection, severity and configuration


def test_select_and_ignore_options(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        folder, "a.yaml", ERROR.replace("  clerk: {capacity: 2}\n", "  clerk: {}\n  idle: {}\n")
    )
    _, out, _ = run(capsys, "lint", path, "--format", "json")
    assert {f["code"] for f in json.loads(out)["findings"]} == {"PF202", "PF203"}
    _, out, _ = run(capsys, "lint", path, "--format", "json", "--ignore", "PF202,unused-owner")
    assert json.loads(out)["findings"] == []
    _, out, _ = run(
        capsys, "lint", path, "--format", "json", "--select", "PF2", "--ignore", "PF202"
    )
    assert [f["code"] for f in json.loads(out)["findings"]] == ["PF203"]
    _, out, _ = run(
        capsys, "lint", path, "--format", "json", "--select", "PF1", "--select", "unused-owner"
    )
    assert [f["code"] for f in json.loads(out)["findings"]] == ["PF203"]


def test_severity_option(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(folder, "a.yaml", WARNING)
    code, out, _ = run(capsys, "lint", path, "--severity", "PF203=error")
    assert code == 1
    assert out.splitlines()[0].endswith("[error]")


def test_configuration_is_discovered_and_the_command_line_wins(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        folder,
        "pyproject.toml",
        "[tool.procflow.lint]\nfail-on = 'warning'\n"
        "[tool.procflow.lint.severity]\nPF302 = 'warning'\n",
    )
    (folder / "procflow.toml").unlink()
    path = write(folder, "p/a.yaml", INFO)
    monkeypatch.chdir(folder / "p")
    code, out, _ = run(capsys, "lint", "a.yaml")
    assert code == 1  # PF302 raised to a warning, and warnings fail
    assert "PF302 unbounded-loop" in out
    assert out.splitlines()[0].endswith("[warning]")
    assert run(capsys, "lint", "a.yaml", "--fail-on", "error")[0] == 0
    assert run(capsys, "lint", "a.yaml", "--isolated")[0] == 0
    assert path == Path("p/a.yaml")


def test_config_option_overrides_discovery(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(folder, "procflow.toml", "[lint]\nignore = ['PF2']\n")
    write(folder, "strict.toml", "[lint]\nfail-on = 'warning'\n")
    path = write(folder, "a.yaml", WARNING)
    assert run(capsys, "lint", path)[1] == "1 file clean\n"
    code, out, _ = run(capsys, "lint", path, "--config", "strict.toml")
    assert code == 1
    assert "PF203" in out


def test_bottleneck_threshold_option(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    busy = CLEAN.replace("start: check", "arrivals: {rate: 18/h}\nstart: check")
    path = write(folder, "a.yaml", busy)  # clerk: 18/h x 5m x 1.11 visits / 2 = 0.83 utilization
    _, out, _ = run(capsys, "lint", path, "--format", "json")
    assert "PF502" not in out
    _, out, _ = run(capsys, "lint", path, "--format", "json", "--bottleneck-threshold", "0.5")
    assert "PF502" in out


def test_example_processes_lint_without_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", str(PROCESSES), "--isolated", "--format", "json")
    data = json.loads(out)
    assert data["summary"]["files"] >= 5
    assert data["summary"]["errors"] == 0, data["findings"]
    assert code == 0


# --------------------------------------------------------------------------
# the real command


def test_the_installed_command(tmp_path: Path) -> None:
    (tmp_path / "procflow.toml").write_text("[lint]\n", encoding="utf-8")
    (tmp_path / "a.yaml").write_text(ERROR, encoding="utf-8")
    (tmp_path / "b.yaml").write_bytes(b"\xff\xfeb\x00a\x00d\x00")
    done = subprocess.run(
        [sys.executable, "-m", "procflow", "lint", ".", "--format", "github"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "file=a.yaml,line=8,col=12,title=PF202" in done.stdout
    assert "file=b.yaml,line=1,col=4,title=PF001" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "procflow", "lint", "-"],
        input=CLEAN,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "1 file clean\n")


def test_a_crash_is_one_line_and_exit_2_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last line of defence: a bug says it is one, and PROCFLOW_DEBUG shows the traceback."""
    import procflow._lint

    def broken(*args: object, **kwargs: object) -> None:
        raise OverflowError("int too large to convert to float")

    monkeypatch.setattr(procflow._lint, "lint_paths", broken)
    monkeypatch.setattr("procflow.cli.lint.lint_paths", broken, raising=False)
    path = write(tmp_path, "ok.yaml", CLEAN)
    monkeypatch.delenv("PROCFLOW_DEBUG", raising=False)
    code, _out, err = run(capsys, "lint", path)
    assert code == 2
    assert "crashed running `procflow lint" in err
    assert "OverflowError: int too large" in err
    assert "This is a bug in procflow" in err
    monkeypatch.setenv("PROCFLOW_DEBUG", "1")
    with pytest.raises(OverflowError):
        run(capsys, "lint", path)
