"""The import graph of procflow reads as the data flow, and has no cycles.

Layers, lowest first (docs/architecture.md says what each owns):

model -> load -> compiled process -> analysis -> rules / simulation / logs /
live cases -> lint engine -> reports / renderers -> API -> CLI

A module may import its own layer and the layers below it, never one above;
and no two modules import each other, directly or through others -- not even
through an import inside a function. Every import is read from the source
(``ast``), wherever it is written, ``TYPE_CHECKING`` blocks included.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "procflow"

#: (layer, module-name prefixes): a module belongs to the layer of its longest prefix.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundation",
        (
            "procflow._version",
            "procflow.errors",
            "procflow.units",
            "procflow.source",
            "procflow.findings",
            "procflow.wording",
            "procflow.fileio",
            "procflow.distributions",
            "procflow.metrics",
            "procflow.pathfilter",
            "procflow.safetext",
            "procflow.calendars",
            "procflow.expressions",
            "procflow.casedata",
        ),
    ),
    ("model", ("procflow.model",)),
    ("load", ("procflow.loader", "procflow.config")),
    (
        "compiled process",
        (
            "procflow.digraph",
            "procflow.casestats",
            "procflow.forks",
            "procflow.compiled",
            "procflow.attributechecks",
            "procflow.checks",
            "procflow.gate",
            "procflow.graph",
        ),
    ),
    ("analysis", ("procflow.analysis",)),
    (
        "rules / simulation / logs / live cases",
        (
            "procflow.rules",
            "procflow.sim",
            "procflow.eventlog",
            "procflow.runtime",
            "procflow.distance",
            "procflow.discovery",
        ),
    ),
    ("lint engine", ("procflow._lint",)),
    ("reports / renderers", ("procflow.report", "procflow._render", "procflow.bpmn")),
    (
        "API",
        (
            "procflow._analyze",
            "procflow._cases",
            "procflow._discover",
            "procflow._logs",
            "procflow._simulate",
            "procflow.diffing",
            "procflow.htmlreport",
            "procflow._levers",
            "procflow._optimize",
            "procflow.__init__",
        ),
    ),
    ("CLI", ("procflow.cli", "procflow.__main__", "procflow.templates")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1 and parts[:-1] != ["procflow"]:
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_module(name: str, known: dict[str, Path]) -> bool:
    return name in known or f"{name}.__init__" in known


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Every procflow module ``path`` imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [
                f"{node.module}.{alias.name}"
                if is_module(f"{node.module}.{alias.name}", known)
                else node.module
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            if name == "procflow":
                name = "procflow.__init__"
            if name.startswith("procflow.") and (name in known or is_module(name, known)):
                found.add(name if name in known else f"{name}.__init__")
    return found


def layer_of(module: str) -> int:
    best, level = -1, -1
    for index, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), index
    return level


@functools.cache
def graph() -> dict[str, set[str]]:
    known = modules()
    return {module: imports(path, known) - {module} for module, path in known.items()}


def test_every_module_has_a_layer() -> None:
    assert [m for m in modules() if layer_of(m) < 0] == []


@pytest.mark.parametrize("module", sorted(modules()))
def test_nothing_imports_a_layer_above_its_own(module: str) -> None:
    here = layer_of(module)
    above = sorted(
        f"{target} ({LAYERS[layer_of(target)][0]})"
        for target in graph()[module]
        if layer_of(target) > here
    )
    assert above == [], f"{module} ({LAYERS[here][0]}) imports a higher layer"


def test_no_import_cycles() -> None:
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan; the graph is a few hundred modules deep at most
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert cycles == []


def test_paths_are_loaded_only_at_the_api() -> None:
    """``as_process`` (a path -> a loaded process) is called by the API and the lint engine only."""
    callers = set()
    for module, path in modules().items():
        if "as_process(" in path.read_text(encoding="utf-8") and module != "procflow.loader":
            callers.add(module)
    assert callers <= {
        "procflow._analyze",
        "procflow._cases",
        "procflow._logs",
        "procflow._simulate",
        "procflow._lint",
        "procflow._render",
        "procflow.bpmn",
        "procflow.diffing",
        "procflow.htmlreport",
    }


def test_the_layer_test_sees_function_level_imports() -> None:
    known = modules()
    found = imports(PACKAGE / "_render" / "highlight.py", known)
    assert "procflow._lint" in found  # imported inside collect_highlights()
