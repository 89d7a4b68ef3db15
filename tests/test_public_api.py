"""The public API is exactly what ``procflow.__all__`` says, and every name resolves.

Adding a public name is a decision: this test makes it a visible one (like
httpx's ``test_exported_members``).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import procflow

PUBLIC = [
    "Analysis",
    "Arrivals",
    "Calibration",
    "Case",
    "CaseError",
    "Change",
    "Comparison",
    "ConfigError",
    "EventLogError",
    "FileAccessError",
    "Finding",
    "Goal",
    "GraphvizNotFound",
    "HistoryRecord",
    "InvalidTrigger",
    "LeverRanking",
    "LintConfig",
    "LintReport",
    "LogReport",
    "Owner",
    "Position",
    "Problem",
    "Process",
    "ProcessError",
    "ProcflowError",
    "RenderError",
    "Severity",
    "SimulationError",
    "SimulationResult",
    "Step",
    "Transition",
    "__version__",
    "analyze",
    "calibrate",
    "check_log",
    "compare",
    "ensure_runnable",
    "json_schema",
    "levers",
    "lint",
    "lint_file",
    "lint_paths",
    "load",
    "load_change",
    "load_text",
    "read_log",
    "render",
    "simulate",
    "write_cases",
]


def test_all_is_pinned_and_sorted() -> None:
    assert procflow.__all__ == PUBLIC
    assert sorted(procflow.__all__) == procflow.__all__


def test_every_public_name_resolves() -> None:
    for name in procflow.__all__:
        assert getattr(procflow, name) is not None, name
    assert set(dir(procflow)) >= set(PUBLIC)


def test_errors_form_one_tree() -> None:
    for name in (
        "FileAccessError",
        "ProcessError",
        "ConfigError",
        "RenderError",
        "GraphvizNotFound",
        "SimulationError",
        "CaseError",
        "InvalidTrigger",
        "EventLogError",
    ):
        error = getattr(procflow, name)
        assert issubclass(error, procflow.ProcflowError), name
        assert error.exit_code == 2
    assert issubclass(procflow.GraphvizNotFound, procflow.RenderError)
    assert issubclass(procflow.InvalidTrigger, procflow.CaseError)


def test_import_is_lazy() -> None:
    """``import procflow`` must not pull in numpy, networkx, transitions or graphviz."""
    code = (
        "import sys, procflow; "
        "heavy = [m for m in ('numpy', 'networkx', 'transitions', 'graphviz', 'rich') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        procflow.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
