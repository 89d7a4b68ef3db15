"""Atomic writes: a full disk, dangling links and SIGTERM are said plainly, leave no trace."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import CUSTOMER_SERVICE, ROOT
from procflow.cli import main
from procflow.errors import FileAccessError
from procflow.eventlog.writer import CsvEventWriter
from procflow.fileio import open_atomic, write_atomic


def _full_disk(*args: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_is_a_cannot_write_error_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    monkeypatch.setattr(os, "fsync", _full_disk)
    with pytest.raises(FileAccessError) as caught:
        write_atomic(target, "new")
    assert str(caught.value) == f"{target}: cannot write: No space left on device"
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_full_disk_while_streaming_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "log.csv"

    class Full:
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def stream() -> None:
        with open_atomic(target, "w") as handle:
            handle.write("a,b\n")
            Full().write("x")  # what a handle on a full disk does

    with pytest.raises(FileAccessError, match=r"log\.csv: cannot write: No space left"):
        stream()
    assert list(tmp_path.iterdir()) == []


def test_every_command_reports_a_full_disk_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "fsync", _full_disk)
    log = tmp_path / "events.csv"
    runs = [
        ["lint", str(CUSTOMER_SERVICE), "--format", "json", "-o", str(tmp_path / "r.json")],
        ["simulate", str(CUSTOMER_SERVICE), "--cases", "50", "--seed", "1", "--log", str(log)],
        ["schema", "-o", str(tmp_path / "schema.json")],
    ]
    for args in runs:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert "cannot write: No space left on device" in err, (args, err)
        assert "bug" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_csv_writer_on_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fsync", _full_disk)

    def stream() -> None:
        with CsvEventWriter(tmp_path / "e.csv.gz") as log:
            log.write_simulated("c1", "a", None, 0.0, 1.0)

    with pytest.raises(FileAccessError, match="cannot write: No space left on device"):
        stream()
    assert list(tmp_path.iterdir()) == []


def test_a_dangling_link_on_the_way_is_named(tmp_path: Path) -> None:
    (tmp_path / "out").symlink_to(tmp_path / "missing")
    with pytest.raises(FileAccessError) as caught:
        write_atomic(tmp_path / "out" / "x.json", "{}")
    message = str(caught.value)
    assert "File exists" not in message
    assert "symbolic link" in message
    assert "missing" in message
    assert "does not exist" in message


def test_a_dangling_link_output_is_refused_by_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out").symlink_to(tmp_path / "missing" / "deeper")
    assert main(["schema", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "symbolic link" in err
    assert "does not exist" in err


def test_a_link_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    link = tmp_path / "link.txt"
    link.symlink_to(real)  # dangling until written
    write_atomic(link, "one")
    assert link.is_symlink()
    assert real.read_text() == "one"
    write_atomic(link, "two")
    assert link.is_symlink()
    assert real.read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_during_a_log_leaves_no_temporary_file(tmp_path: Path) -> None:
    log = tmp_path / "events.csv"
    command = [
        sys.executable,
        "-c",
        "import sys; from procflow.cli import main; sys.exit(main())",
        "simulate",
        str(CUSTOMER_SERVICE),
        *("--cases", "5000000", "--runs", "1", "--log", str(log)),
    ]
    child = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60.0
        while not list(tmp_path.glob(".events.csv.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(tmp_path.glob(".events.csv.*.tmp")), "the log was never started"
        time.sleep(0.2)
        child.send_signal(signal.SIGTERM)
        code = child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert code == 128 + signal.SIGTERM  # as a shell reports a process the signal ended
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_sigterm_with_workers_ends_them_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    log = tmp_path / "events.csv.gz"
    command = [
        sys.executable,
        "-c",
        "import sys; from procflow.cli import main; sys.exit(main())",
        "simulate",
        str(CUSTOMER_SERVICE),
        *("--cases", "3000000", "--runs", "4", "--jobs", "3", "--log", str(log)),  # 2 workers
    ]
    child = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60.0
        while time.monotonic() < deadline:
            workers = _children(child.pid)
            if len(workers) >= 2 and list(tmp_path.glob(".events.csv.gz.*.tmp")):
                break
            time.sleep(0.05)
        assert len(workers) >= 2, "the workers never started"
        child.send_signal(signal.SIGTERM)
        code = child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert code == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []
    deadline = time.monotonic() + 10.0
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)]


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state


def test_the_signal_handler_is_only_installed_while_writing(tmp_path: Path) -> None:
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with open_atomic(tmp_path / "x.txt") as handle:
        handle.write("x")
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_standard_output_on_a_full_disk_is_said_plainly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sys.stdout, "write", full)
    assert main(["schema"]) == 2
    err = capsys.readouterr().err
    assert "error: standard output: cannot write: No space left on device" in err
    assert "bug" not in err
