"""procflow: process-as-code for operations teams.

Declare a business process as a small YAML state machine, then lint it,
draw it, analyze its load, simulate it and what-if changes to it, run live
cases on it and hold it against real event logs::

    import procflow
    p = procflow.load("processes/customer-service.yaml")
    findings = procflow.lint(p)
    a = procflow.analyze(p)
    r = procflow.simulate(p, cases=10_000, runs=20, seed=1)

The public API is this module's ``__all__``; everything else is private and
may change. Names are imported on first use so that ``import procflow``
(and the command line) starts fast. The functions that take the path of a
process file (``lint``, ``analyze``, ``render``, ``simulate``, ``compare``,
``check_log``, ``Case``) live in private modules (``procflow._analyze``,
``procflow._simulate``, ...) that load the file and hand the process to
the core, which takes objects only; no module shares a public function's
name, so ``procflow.lint`` is always the function.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from procflow._version import __version__ as __version__

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "Arrivals": "procflow.model",
    "Change": "procflow.model",
    "Goal": "procflow.model",
    "Owner": "procflow.model",
    "Process": "procflow.model",
    "Step": "procflow.model",
    "Transition": "procflow.model",
    "json_schema": "procflow.model",
    "load": "procflow.loader",
    "load_change": "procflow.loader",
    "load_text": "procflow.loader",
    "lint": "procflow._lint",
    "lint_file": "procflow._lint",
    "lint_paths": "procflow._lint",
    "LintReport": "procflow._lint",
    "ensure_runnable": "procflow.gate",
    "LintConfig": "procflow.config",
    "analyze": "procflow._analyze",
    "Analysis": "procflow.analysis",
    "render": "procflow._render",
    "html_report": "procflow.htmlreport",
    "import_bpmn": "procflow.bpmn",
    "export_bpmn": "procflow.bpmn",
    "simulate": "procflow._simulate",
    "compare": "procflow._simulate",
    "SimulationResult": "procflow.sim",
    "Comparison": "procflow.sim",
    "diff": "procflow.diffing",
    "Case": "procflow._cases",
    "levers": "procflow._levers",
    "LeverRanking": "procflow._levers",
    "optimize": "procflow._optimize",
    "Optimization": "procflow._optimize",
    "HistoryRecord": "procflow.runtime",
    "write_cases": "procflow._cases",
    "read_log": "procflow.eventlog.reader",
    "check_log": "procflow._logs",
    "LogReport": "procflow.eventlog.conformance",
    "calibrate": "procflow.eventlog.calibrate",
    "Calibration": "procflow.eventlog.calibrate",
    "fidelity": "procflow.distance.fidelity",
    "discover": "procflow._discover",
    "Discovery": "procflow.discovery",
    "Fidelity": "procflow.distance.result",
    "Finding": "procflow.findings",
    "Severity": "procflow.findings",
    "CaseError": "procflow.errors",
    "ConfigError": "procflow.errors",
    "EventLogError": "procflow.errors",
    "FileAccessError": "procflow.errors",
    "GraphvizNotFound": "procflow.errors",
    "InvalidTrigger": "procflow.errors",
    "Position": "procflow.errors",
    "Problem": "procflow.errors",
    "ProcessError": "procflow.errors",
    "ProcflowError": "procflow.errors",
    "RenderError": "procflow.errors",
    "SimulationError": "procflow.errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'procflow' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from procflow._analyze import analyze
    from procflow._cases import Case, write_cases
    from procflow._discover import discover
    from procflow._levers import LeverRanking, levers
    from procflow._lint import LintReport, lint, lint_file, lint_paths
    from procflow._logs import check_log
    from procflow._optimize import Optimization, optimize
    from procflow._render import render
    from procflow._simulate import compare, simulate
    from procflow.analysis import Analysis
    from procflow.bpmn import export_bpmn, import_bpmn
    from procflow.config import LintConfig
    from procflow.diffing import diff
    from procflow.discovery import Discovery
    from procflow.distance.fidelity import fidelity
    from procflow.distance.result import Fidelity
    from procflow.errors import (
        CaseError,
        ConfigError,
        EventLogError,
        FileAccessError,
        GraphvizNotFound,
        InvalidTrigger,
        Position,
        Problem,
        ProcessError,
        ProcflowError,
        RenderError,
        SimulationError,
    )
    from procflow.eventlog.calibrate import Calibration, calibrate
    from procflow.eventlog.conformance import LogReport
    from procflow.eventlog.reader import read_log
    from procflow.findings import Finding, Severity
    from procflow.gate import ensure_runnable
    from procflow.htmlreport import html_report
    from procflow.loader import load, load_change, load_text
    from procflow.model import (
        Arrivals,
        Change,
        Goal,
        Owner,
        Process,
        Step,
        Transition,
        json_schema,
    )
    from procflow.runtime import HistoryRecord
    from procflow.sim import Comparison, SimulationResult
