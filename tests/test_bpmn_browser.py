"""Every example's BPMN export, opened in bpmn-js (the bpmn.io viewer) in a real browser.

The schema test (``test_bpmn_export.py``) proves the file is valid; this one
proves the tool most people will open it with draws it. Headless Chromium
from the Debian packages (``make setup``, ``scripts/ensure-chromium.sh``) is
driven by Playwright for Python, as in ``test_htmlreport_browser.py``. The
viewer is bpmn-js's prebuilt bundle, vendored in ``tests/fixtures/bpmnio/``
(version in its README), so the test needs no network and no npm.

For each export, ``importXML`` must resolve with no warning and no console
error, and bpmn-js's element registry must hold exactly the diagram's
elements with their BPMN types: a shape for every task, event, gateway, lane
and the pool, an edge for every sequence flow. The drawing is checked as a
reader sees it: every edge starts on its source shape and ends on its target
shape, and no two flow nodes overlap. Screenshots go to
``/tmp/bpmnio-<name>.png`` for a person to look at.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import PROCESSES, ROOT
from procflow.bpmn import export_bpmn
from procflow.bpmn.names import BPMN, BPMNDI
from test_htmlreport_browser import ARGS

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

BUNDLE = ROOT / "tests" / "fixtures" / "bpmnio" / "bpmn-viewer.production.min.js"
EXAMPLES = sorted(PROCESSES.glob("*.yaml"))
PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
html, body, #canvas { margin: 0; width: 100%; height: 100%; }
</style></head><body><div id="canvas"></div></body></html>"""
IMPORT = """async (xml) => {
  const viewer = new BpmnJS({ container: '#canvas' });
  const result = await viewer.importXML(xml);
  viewer.get('canvas').zoom('fit-viewport');
  const elements = viewer.get('elementRegistry').getAll()
    .filter((e) => e.type !== 'label' && e.parent)
    .map((e) => ({
      id: e.id, type: e.type,
      x: e.x, y: e.y, width: e.width, height: e.height,
      source: e.source ? e.source.id : null, target: e.target ? e.target.id : null,
      waypoints: e.waypoints ? e.waypoints.map((p) => [p.x, p.y]) : null,
    }));
  return { warnings: result.warnings.map((w) => String(w.message)), elements };
}"""
#: Flow-node kinds whose shapes must not overlap (lanes and the pool contain them).
NODE_KINDS = ("Task", "Event", "Gateway")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    assert executable, "chromium is not installed: run `make setup` (scripts/ensure-chromium.sh)"
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=ARGS)
        yield launched
        launched.close()


def expected_elements(xml: bytes) -> dict[str, str]:
    """Every element the diagram draws, by id, with the type bpmn-js gives it (``bpmn:Task``)."""
    root = ET.fromstring(xml)
    kinds = {
        element.get("id"): element.tag.split("}")[1]
        for element in root.iter()
        if element.tag.startswith(f"{{{BPMN}}}") and element.get("id")
    }
    drawn: dict[str, str] = {}
    for tag in ("BPMNShape", "BPMNEdge"):
        for di in root.iter(f"{{{BPMNDI}}}{tag}"):
            ref = di.get("bpmnElement", "")
            kind = kinds[ref]
            drawn[ref] = f"bpmn:{kind[0].upper()}{kind[1:]}"
    return drawn


def on_box(point: list[float], box: dict[str, Any]) -> bool:
    """Whether ``point`` lies on or inside the shape's bounds (1px tolerance)."""
    x, y = point
    return bool(
        box["x"] - 1 <= x <= box["x"] + box["width"] + 1
        and box["y"] - 1 <= y <= box["y"] + box["height"] + 1
    )


def overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def open_in_bpmnjs(browser: Any, xml: bytes) -> tuple[Any, dict[str, Any], list[str]]:
    """Load the vendored viewer into a blank page and import ``xml``; record console errors."""
    errors: list[str] = []
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1600, "height": 1000})

    def console(message: Any) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.set_content(PAGE)
    page.add_script_tag(path=str(BUNDLE))
    result: dict[str, Any] = page.evaluate(IMPORT, xml.decode("utf-8"))
    assert [u for u in requests if not u.startswith(("about:", "data:"))] == []
    return page, result, errors


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_bpmnjs_draws_every_export(path: Path, browser: Any) -> None:
    xml, _params = export_bpmn(path)
    page, result, errors = open_in_bpmnjs(browser, xml)
    try:
        page.screenshot(path=f"/tmp/bpmnio-{path.stem}.png")
    finally:
        page.close()
    assert result["warnings"] == []
    assert errors == []
    elements = {e["id"]: e for e in result["elements"]}
    drawn = {e["id"]: e["type"] for e in result["elements"]}
    expected = expected_elements(xml)
    assert drawn == expected
    kinds = set(expected.values())
    for kind in ("bpmn:Participant", "bpmn:Lane", "bpmn:StartEvent", "bpmn:EndEvent"):
        assert kind in kinds
    assert any(kind.endswith("Task") for kind in kinds)
    for edge in (e for e in elements.values() if e["type"] == "bpmn:SequenceFlow"):
        assert len(edge["waypoints"]) >= 2, edge["id"]
        assert on_box(edge["waypoints"][0], elements[edge["source"]]), edge["id"]
        assert on_box(edge["waypoints"][-1], elements[edge["target"]]), edge["id"]
    nodes = [e for e in elements.values() if e["type"].endswith(NODE_KINDS)]
    clashes = [
        (a["id"], b["id"]) for i, a in enumerate(nodes) for b in nodes[i + 1 :] if overlap(a, b)
    ]
    assert clashes == []
