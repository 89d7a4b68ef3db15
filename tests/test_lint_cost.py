"""What linting a file leaves behind and builds: the per-file costs of ``procflow lint``.

Lint pauses the cyclic collector around each file (cli/collector.py) and
drops the file's process after its rules: everything it built must then be
freed by reference counting alone. A reference cycle through the process
(an analysis kept on its compiled form, which refers to the process) left
every file's models, YAML nodes and marks -- ~3,300 objects for a 50-step
file -- for the collector to find, a third of the analytic rules' cost on
a folder of small processes (benchmarks/lint_bench.py). No timings here:
the tests check the causes, the benchmark the seconds.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from helpers import ROOT
from procflow._lint import Plan, lint_file
from procflow.analysis import analyze_or_none
from procflow.compiled import CompiledProcess
from procflow.loader import load

PROCESSES = sorted((ROOT / "processes").glob("*.yaml"))


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.name)
def test_linting_a_file_leaves_no_cyclic_garbage(path: Path) -> None:
    plan = Plan.build()
    lint_file(path, plan)  # imports and module-level caches first
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        lint_file(path, plan)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


def test_an_analysis_not_kept_is_used_when_kept_and_not_kept_when_new() -> None:
    process = load(ROOT / "processes" / "customer-service.yaml")
    fresh = analyze_or_none(process, keep=False)
    assert fresh is not None
    assert analyze_or_none(process, keep=False) is not fresh  # nothing was kept
    kept = analyze_or_none(process)
    assert kept is not None
    assert kept is not fresh
    assert analyze_or_none(process, keep=False) is kept  # a kept one is used
    assert CompiledProcess.of(process).memo("analysis 0.85") is kept
