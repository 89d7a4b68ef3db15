"""The rule framework: a rule is metadata plus a check; it knows nothing of output.

A rule is a function decorated with :func:`rule`, which records its stable
code (``PF###``, the hundreds digit is the family), its kebab-case name and
default severity, and takes its documentation from the docstring. The check
receives a :class:`LintContext` and yields :class:`Violation` values that
point at a *model path* such as ``("steps", "triage")``; the lint engine
turns paths into file positions, applies severity overrides and
suppressions, and collects everything into findings. A check that raises
becomes a finding too (the engine's business), never an aborted run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

from procflow.compiled import CompiledProcess
from procflow.findings import Severity, Violation
from procflow.graph import StepGraph, process_graph

if TYPE_CHECKING:
    import networkx as nx

    from procflow.analysis import Analysis
    from procflow.model import Process


Check = Callable[["LintContext"], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    """A lint rule: stable code and name, default severity, documentation, check."""

    code: str
    name: str
    severity: Severity
    check: Check = field(compare=False, repr=False)
    summary: str = ""
    doc: str = ""

    @property
    def family(self) -> str:
        """``PF1`` for PF101: the prefix select/ignore match on."""
        return self.code[:3]


#: Every registered rule by code. Filled as the rule modules are imported.
REGISTRY: dict[str, Rule] = {}


def rule(code: str, name: str, severity: Severity) -> Callable[[Check], Check]:
    """Register a check as rule ``code``/``name``; its docstring is the rule's documentation.

    The first docstring line is the one-line summary shown by ``procflow rules``.
    """

    def register(check: Check) -> Check:
        if code in REGISTRY:
            raise RuntimeError(f"rule code {code} registered twice")
        doc = inspect.cleandoc(check.__doc__ or "")
        summary = doc.splitlines()[0] if doc else ""
        REGISTRY[code] = Rule(code, name, severity, check, summary, doc)
        return check

    return register


@dataclass
class LintSettings:
    """Rule parameters that configuration may set."""

    bottleneck_threshold: float = 0.85
    today: date = field(default_factory=date.today)


class LintContext:
    """What a check may look at: the process, settings and lazily built analyses.

    The graph and the analytic model are computed once per process, on first
    use, and shared by every rule that needs them.
    """

    def __init__(self, process: Process, settings: LintSettings | None = None) -> None:
        self.process = process
        self.settings = settings or LintSettings()

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The networkx view of the process (:func:`procflow.graph.process_graph`)."""
        return process_graph(self.process)

    @cached_property
    def compiled(self) -> CompiledProcess:
        """The process's compiled form (:class:`procflow.compiled.CompiledProcess`)."""
        return CompiledProcess.of(self.process)

    @cached_property
    def step_graph(self) -> StepGraph:
        """The step graph as plain lists (:class:`procflow.graph.StepGraph`).

        What the structural rules walk: the same graph as :attr:`graph`, a
        view of the compiled process, searched without importing networkx.
        """
        return StepGraph.of(self.process)

    @cached_property
    def analytically_clear(self) -> bool:
        """Whether PF501-PF503 provably have nothing to report, without the model.

        A cheap proof from upper bounds of the visits
        (:mod:`procflow.analysis.clearance`); ``False`` only means "compute
        :attr:`analysis` and see". Lint then skips the model on the many
        processes that are nowhere near a finding.
        """
        from procflow.analysis.clearance import clear

        try:
            return clear(self.process, self.settings.bottleneck_threshold)
        except Exception:  # only a shortcut: whatever it cannot read, the model decides
            return False

    @cached_property
    def analysis(self) -> Analysis | None:
        """The analytic model, or ``None`` when arrivals or durations are missing.

        Imported here, on first use: most rules never need the model. Held
        by the context, not kept with the process: lint drops each process
        after its rules, and a kept analysis would make it cyclic garbage
        (:func:`~procflow.analysis.analyze_or_none`).
        """
        from procflow.analysis import analyze_or_none

        return analyze_or_none(self.process, keep=False)


def path_of_step(step: str) -> tuple[str, ...]:
    return ("steps", step)


def path_of_owner(owner: str) -> tuple[str, ...]:
    return ("owners", owner)


def path_of_transition(process: Process, step: str, trigger: str) -> tuple[str, ...]:
    """The key of a transition: the ``next`` key, or ``on.<trigger>``."""
    if trigger == "next" and process.steps[step].next is not None:
        return ("steps", step, "next")
    return ("steps", step, "on", trigger)


def path_of_goal(index: int) -> tuple[str | int, ...]:
    return ("goals", index)


def first_in_file_order(process: Process, steps: Sequence[str]) -> str:
    """The step of ``steps`` declared first in the file."""
    order = {step: index for index, step in enumerate(process.steps)}
    return min(steps, key=lambda s: order.get(s, len(order)))


__all__ = [
    "REGISTRY",
    "Check",
    "LintContext",
    "LintSettings",
    "Rule",
    "Violation",
    "first_in_file_order",
    "path_of_goal",
    "path_of_owner",
    "path_of_step",
    "path_of_transition",
    "rule",
]
