"""The HTML report of every example process, opened in a real browser.

Headless Chromium from the Debian packages (``make setup`` installs it,
``scripts/ensure-chromium.sh``), driven by Playwright for Python with that
system browser (Playwright's own browser download is not used). Each page
must load with no console error and no uncaught exception, make no request
but the page itself (no network, no other file), draw every plot and the
diagram with a non-zero size, run no script (a hostile title would raise an
``alert`` dialog), and print. Full-page screenshots go to
``/tmp/report-shots/`` for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import procflow
from helpers import PROCESSES, ROOT, write
from test_htmlreport import HOSTILE, HOSTILE_PROCESS

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

SHOTS = Path("/tmp/report-shots")
EXAMPLES = sorted(PROCESSES.glob("*.yaml"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    assert executable, "chromium is not installed: run `make setup` (scripts/ensure-chromium.sh)"
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=ARGS)
        yield launched
        launched.close()


def open_page(browser: Any, path: Path) -> tuple[Any, dict[str, list[str]]]:
    """Open ``path``; record console errors, page errors, dialogs and every request."""
    seen: dict[str, list[str]] = {"errors": [], "requests": [], "dialogs": []}
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))

    def dialog(d: Any) -> None:
        seen["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    page.goto(path.as_uri(), wait_until="load")
    return page, seen


def assert_self_contained(seen: dict[str, list[str]], url: str) -> None:
    assert seen["errors"] == []
    assert seen["dialogs"] == []
    leaving = [u for u in seen["requests"] if u != url and not u.startswith("data:")]
    assert leaving == []
    assert seen["requests"][0] == url


def assert_drawn(page: Any, plots: int) -> None:
    figures = page.locator("figure.plot svg")
    assert figures.count() == plots
    for index in range(plots):
        box = figures.nth(index).bounding_box()
        assert box is not None, index
        assert box["width"] > 100, index
        assert box["height"] > 50, index
    for selector in ("figure.diagram svg",):
        box = page.locator(selector).first.bounding_box()
        assert box is not None
        assert box["width"] > 50
        assert box["height"] > 50
    # the diagram fits the page down to 3/4 px per drawing unit (10.5 px labels), never
    # enlarged; wider, it scrolls inside its figure: the page never outgrows the window
    diagram = page.locator("figure.diagram svg").first
    drawn = float(diagram.get_attribute("viewBox").split()[2])
    box = diagram.bounding_box()
    assert box is not None
    figure = page.locator("figure.diagram").first.bounding_box()
    assert figure is not None
    assert box["width"] <= drawn + 1.0, (box, drawn)
    assert box["width"] >= min(0.75 * drawn, figure["width"]) - 1.0, (box, drawn, figure)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # every plot has a text alternative: an accessible name and a data table
    for index in range(plots):
        svg = figures.nth(index)
        assert svg.get_attribute("role") == "img"
        assert svg.get_attribute("aria-label")
        assert svg.locator("title").count() == 1
        assert svg.locator("desc").count() == 1
    assert page.locator("figure.plot details table").count() == plots


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_report_opens_clean(browser: Any, example: Path, tmp_path: Path) -> None:
    changes = (
        [ROOT / "changes/hire-support-agent.yaml"] if example.stem == "customer-service" else []
    )
    target = tmp_path / f"{example.stem}.html"
    procflow.html_report(example, target, changes=changes, cases=300, runs=3, seed=1, jobs=1)
    page, seen = open_page(browser, target)
    assert_self_contained(seen, target.as_uri())
    html = target.read_text(encoding="utf-8")
    plots = html.count('<figure class="plot"')
    assert plots >= 3 + bool(changes)  # cycle time, utilization, WIP (+ scenarios), waiting if any
    assert_drawn(page, plots)
    wip = page.locator("figure.plot[id$='-wip'] svg")  # work in progress over time, drawn
    assert wip.count() == 1
    box = wip.bounding_box()
    assert box is not None
    assert box["width"] > 100
    assert box["height"] > 50
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{example.stem}.png"), full_page=True)
    assert page.pdf(format="A4")[:4] == b"%PDF"  # it prints
    page.close()


def test_hostile_titles_do_not_run_in_the_browser(browser: Any, tmp_path: Path) -> None:
    target = tmp_path / "hostile.html"
    procflow.html_report(
        write(tmp_path, "hostile.yaml", HOSTILE_PROCESS), target, cases=200, runs=2, jobs=1
    )
    page, seen = open_page(browser, target)
    assert_self_contained(seen, target.as_uri())
    assert page.locator("script, img").count() == 0
    assert page.locator("h1").inner_text().endswith(f"{HOSTILE} & co")
    assert HOSTILE in page.locator("figure.diagram").inner_text()
    page.screenshot(path=str(SHOTS / "hostile.png"), full_page=True)
    page.close()


def test_a_report_with_fidelity_opens_clean(browser: Any, tmp_path: Path) -> None:
    """With --log: the fidelity tables and the WIP per day, real and simulated, drawn."""
    example = PROCESSES / "customer-service.yaml"
    log = tmp_path / "events.csv"
    procflow.simulate(example, cases=400, runs=1, seed=99, log=log)
    target = tmp_path / "fidelity.html"
    procflow.html_report(example, target, log=log, cases=300, runs=2, seed=1, jobs=1)
    page, seen = open_page(browser, target)
    assert_self_contained(seen, target.as_uri())
    plots = target.read_text(encoding="utf-8").count('<figure class="plot"')
    assert_drawn(page, plots)
    figure = page.locator("figure.plot[id$='-fidelity-wip'] svg")
    assert figure.count() == 1
    box = figure.bounding_box()
    assert box is not None
    assert box["width"] > 100
    assert box["height"] > 50
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "customer-service-fidelity.png"), full_page=True)
    page.close()
