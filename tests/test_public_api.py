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
    "Discovery",
    "EventLogError",
    "Fidelity",
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
    "Optimization",
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
    "diff",
    "discover",
    "ensure_runnable",
    "export_bpmn",
    "fidelity",
    "html_report",
    "import_bpmn",
    "json_schema",
    "levers",
    "lint",
    "lint_file",
    "lint_paths",
    "load",
    "load_change",
    "load_text",
    "optimize",
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


@pytest.mark.parametrize(
    "name", ["lint", "analyze", "render", "simulate", "compare", "check_log", "write_cases"]
)
def test_the_public_functions_are_plain_functions_with_their_own_signature_and_help(
    name: str,
) -> None:
    """No module poses as a function: signature and help() are the function's own."""
    import inspect
    import pydoc

    function = getattr(procflow, name)
    assert inspect.isfunction(function), name
    assert function.__module__.startswith("procflow._"), function.__module__
    first = next(iter(inspect.signature(function).parameters))
    assert first in {"process", "baseline", "path"}
    text = pydoc.render_doc(function, renderer=pydoc.plaintext)
    assert f"{name}(" in text
    assert function.__doc__ is not None
    assert function.__doc__.splitlines()[0] in text


def test_case_takes_a_path_at_the_api_and_only_a_process_in_the_runtime() -> None:
    import procflow.runtime

    assert issubclass(procflow.Case, procflow.runtime.Case)
    with pytest.raises(TypeError, match="takes a Process"):
        procflow.runtime.Case("processes/customer-service.yaml")  # type: ignore[arg-type]
