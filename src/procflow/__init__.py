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
(and the command line) starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

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
    "lint": "procflow.lint",
    "lint_file": "procflow.lint",
    "lint_paths": "procflow.lint",
    "ensure_runnable": "procflow.lint",
    "LintReport": "procflow.lint",
    "LintConfig": "procflow.config",
    "analyze": "procflow.analyze",
    "Analysis": "procflow.analyze",
    "render": "procflow.render",
    "simulate": "procflow.sim",
    "compare": "procflow.sim",
    "SimulationResult": "procflow.sim",
    "Comparison": "procflow.sim",
    "levers": "procflow._levers",
    "LeverRanking": "procflow._levers",
    "Case": "procflow.runtime",
    "HistoryRecord": "procflow.runtime",
    "write_cases": "procflow.runtime",
    "read_log": "procflow.eventlog.reader",
    "check_log": "procflow.eventlog.conformance",
    "LogReport": "procflow.eventlog.conformance",
    "calibrate": "procflow.eventlog.calibrate",
    "Calibration": "procflow.eventlog.calibrate",
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
    imported = import_module(module)
    # ``procflow.lint`` is both a function and its module; importing the module
    # binds the module here anyway, so the (callable) module is the one answer.
    same = module == f"{__name__}.{name}" and callable(imported)
    value = imported if same else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from procflow._levers import LeverRanking, levers
    from procflow.analyze import Analysis, analyze
    from procflow.config import LintConfig
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
    from procflow.eventlog.conformance import LogReport, check_log
    from procflow.eventlog.reader import read_log
    from procflow.findings import Finding, Severity
    from procflow.lint import LintReport, ensure_runnable, lint, lint_file, lint_paths
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
    from procflow.render import render
    from procflow.runtime import Case, HistoryRecord, write_cases
    from procflow.sim import Comparison, SimulationResult, compare, simulate
