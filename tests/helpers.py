"""What many test modules need: the project's paths, a small clean process, files, the CLI.

Imported as ``from helpers import ...`` (pytest puts ``tests/`` on the path),
like :mod:`shared_data`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from procflow.cli import main

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
CUSTOMER_SERVICE = PROCESSES / "customer-service.yaml"
# The same example around the clock (no calendars), for closed forms and exact figures
CUSTOMER_SERVICE_247 = ROOT / "tests" / "fixtures" / "customer-service-247.yaml"

CLEAN = """\
process: tiny
owners:
  clerk: {capacity: 2}
start: check
steps:
  check:
    owner: clerk
    duration: 5m
    on:
      ok: {to: done, p: 0.9}
      redo: {to: check, p: 0.1, feedback: true, max: 2}
  done:
    end: true
"""
"""A process that lints clean: one owner, a branch and a bounded feedback loop."""


def write(folder: Path, name: str, data: str | bytes) -> Path:
    """Write ``data`` to ``folder/name`` (creating folders); text is UTF-8."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str | os.PathLike[str]) -> tuple[int, str, str]:
    """``procflow ARGS...`` in-process: the exit code, stdout and stderr (never a traceback)."""
    code = main([os.fspath(arg) for arg in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err
