"""BPMN 2.0 interchange: ``import_bpmn`` (file -> process text), ``export_bpmn`` (process -> XML).

Small modules with one job each: :mod:`xmltree` (safe, positioned XML),
:mod:`graph` (the flow graph of one pool), :mod:`importer` (graph -> process
data), :mod:`yamltext` (process data -> commented YAML), :mod:`params`
(Prosimos-style simulation parameters), :mod:`timers` (ISO 8601 delays),
:mod:`exporter` (process -> BPMN with BPMNDI) and :mod:`layout` (Graphviz
coordinates). docs/bpmn.md describes the mapping.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from procflow.bpmn.graph import Notice, read_model
from procflow.bpmn.importer import Importer
from procflow.bpmn.params import ParamsError, read_params
from procflow.bpmn.xmltree import BpmnError, parse

if TYPE_CHECKING:
    from procflow.model import Process


@dataclass(frozen=True)
class BpmnImport:
    """What ``import_bpmn`` made: the process file text, its id, and what it could not carry."""

    text: str
    process_id: str
    notices: tuple[Notice, ...]
    warnings: tuple[str, ...]


def import_bpmn(
    path: str | os.PathLike[str], params: str | os.PathLike[str] | None = None
) -> BpmnImport:
    """Read a BPMN 2.0 file (and Prosimos-style parameters) as procflow process text.

    Raises :class:`BpmnError` (positioned) for a file that is not a BPMN
    model procflow can read. Elements it cannot represent are in
    ``notices``, each with its id and line; nothing is left out silently.
    """
    from procflow.bpmn.yamltext import render

    name = os.fspath(path)
    model = read_model(parse(name), name)
    draft = Importer(model, read_params(params) if params is not None else None).build()
    notices = sorted(model.notices, key=lambda n: (n.line, n.column))
    notes = [f"{n.element} {n.id} (line {n.line}): {n.message}" for n in notices]
    text = render(draft, os.path.basename(name), notes)
    return BpmnImport(text, draft.process, tuple(notices), tuple(draft.warnings))


def export_bpmn(
    process: Process | str | os.PathLike[str], *, params: bool = False
) -> tuple[bytes, str | None]:
    """A process (or the process file a path names) as BPMN 2.0 XML bytes with its diagram.

    With ``params``, the second item is the Prosimos-style simulation
    parameters as JSON text (else ``None``). Graphviz's ``dot`` lays out the
    diagram: :class:`~procflow.errors.GraphvizNotFound` when it is missing.
    """
    from procflow.bpmn.exporter import export
    from procflow.loader import as_process

    return export(as_process(process, "export_bpmn"), params=params)


__all__ = ["BpmnError", "BpmnImport", "Notice", "ParamsError", "export_bpmn", "import_bpmn"]
