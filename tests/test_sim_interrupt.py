"""Ctrl-C during a parallel simulation: exit 130 at once and leave no worker running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import CUSTOMER_SERVICE, ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_sigint_with_jobs_ends_the_workers_and_exits_130(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-c",
        "import sys; from procflow.cli import main; sys.exit(main())",
        "simulate",
        str(CUSTOMER_SERVICE),
        *("--cases", "3000000", "--runs", "4", "--jobs", "3"),  # two workers and this process
    ]
    out_path, err_path = tmp_path / "out", tmp_path / "err"
    workers: list[int] = []
    # files, not pipes: workers that outlive the parent would hold a pipe open
    with out_path.open("w") as out_file, err_path.open("w") as err_file:
        child = subprocess.Popen(command, cwd=ROOT, stdout=out_file, stderr=err_file)
        try:
            deadline = time.monotonic() + 20.0
            while len(workers) < 2 and time.monotonic() < deadline:  # both workers running
                time.sleep(0.1)
                workers = _children(child.pid)
            assert len(workers) >= 2, "the worker processes never started"
            time.sleep(0.5)
            child.send_signal(signal.SIGINT)
            code = child.wait(timeout=60.0)  # a guard against a hang, not a time budget
            time.sleep(0.2)
            left = [pid for pid in workers if _alive(pid)]
        finally:
            for pid in [child.pid, *workers]:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            child.wait()
    err = err_path.read_text()
    # Stopped, not finished: exit 130 and no report (4 runs of 3,000,000 cases end in one).
    assert code == 130
    assert "Aborted" in err
    assert "Traceback" not in err
    assert out_path.read_text() == ""
    assert left == []
