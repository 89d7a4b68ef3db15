"""``procflow report``: the HTML page's content, escaping, sanitizing, determinism and errors.

The browser checks (no console error, no request, plots drawn) are in
``test_htmlreport_browser.py``; these run without a browser.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

import procflow
from helpers import CUSTOMER_SERVICE, ROOT, run, write
from procflow.htmlreport.svg import sanitize_svg

SMALL = {"cases": 300, "runs": 3, "seed": 1, "jobs": 1}
HOSTILE = "<script>alert(1)</script>"

HOSTILE_PROCESS = f"""\
process: hostile
title: "{HOSTILE} & co"
description: "<img src=https://example.com/x.png onerror=alert(2)>"
owners:
  clerk: {{capacity: 2}}
arrivals: {{rate: 6/h}}
start: check
steps:
  check:
    title: "{HOSTILE}"
    owner: clerk
    duration: exponential(5m)
    next: done
  done: {{end: true}}
goals:
  - id: quick
    metric: cycle_time
    stat: p90
    target: "<= 1h"
"""


class _Tags(HTMLParser):
    """Every start tag and attribute the browser would build from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


@pytest.fixture(scope="module")
def customer_page() -> str:
    return procflow.html_report(
        CUSTOMER_SERVICE, changes=[ROOT / "changes/hire-support-agent.yaml"], **SMALL
    )


def test_the_page_has_every_part(customer_page: str) -> None:
    for part in (
        "Diagram",
        "Lint findings",
        "Analysis (queueing model)",
        "Cycle-time distribution of customer-service",
        "Utilization per owner of customer-service",
        "Waiting per step of customer-service",
        "Goals",
        "resolve-within-a-day",
        "Comparison with changes",
        "Cycle time by scenario of customer-service",
        "changes/hire-support-agent.yaml",
        "Work in progress over time of customer-service",
    ):
        assert part in customer_page, part
    assert customer_page.count("<svg") == 6  # diagram + five plots
    assert customer_page.count("<details>") == 5  # one data table per plot


def test_the_numbers_are_the_simulation_s(customer_page: str) -> None:
    """The page shows what procflow.simulate/analyze compute, formatted, not other numbers."""
    from procflow.htmlreport.sections import duration, percent

    result = procflow.simulate(CUSTOMER_SERVICE, **SMALL)
    analysis = procflow.analyze(CUSTOMER_SERVICE)
    assert duration(result["cycle_time.p90"].mean) in customer_page
    low, high = result["cycle_time.p90"].ci95
    assert f"{duration(low)} – {duration(high)}" in customer_page
    util = result.owners["support-agent"].utilization.mean
    assert percent(util) in customer_page
    assert percent(analysis.owners["support-agent"].utilization) in customer_page
    assert duration(analysis.cycle_time.expected) in customer_page


def analysis_section(page: str) -> str:
    return page.split("<h3>Analysis (queueing model)</h3>")[1].split("<h3>")[0]


def test_calendared_analytic_waits_are_labelled_working_time(
    customer_page: str, tmp_path: Path
) -> None:
    """As ``procflow analyze`` says: with calendars the waits are approximate, in working time."""
    from procflow.htmlreport.sections import duration

    analysis = procflow.analyze(CUSTOMER_SERVICE)
    section = analysis_section(customer_page)
    expected = duration(analysis.cycle_time.expected)
    assert f"{expected}, approximate (working time, waits while on duty)" in section
    for owner in ("support-agent", "tier2"):  # the owners with office hours
        wait = duration(analysis.owners[owner].wait_mean)
        assert f"<td>{owner}</td>" in section
        assert f"{wait} (working time, approximate)" in section
    triage = duration(analysis.steps["triage"].wait_mean)
    assert f"{triage} (working time, approximate)" in section.split("<h4>Steps</h4>")[1]
    assert "Working time (support-agent, tier2): utilization is the weekly load" in section
    # the customer's replies (external, a pure delay) wait for no one: no label
    assert '<td>customer</td><td class="num">—</td><td class="num">external</td>' in section
    assert '<td class="num">external</td><td class="num">0s</td>' in section
    # around the clock nothing is labelled
    plain = analysis_section(
        procflow.html_report(write(tmp_path, "p.yaml", HOSTILE_PROCESS), **SMALL)
    )
    assert "working time" not in plain.lower()
    assert "approximate" not in plain


def test_nothing_in_the_page_can_fetch_or_run(customer_page: str) -> None:
    for tag, attrs in tags(customer_page):
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "xlink:href", "src"):
                assert (value or "").startswith("#"), (tag, name, value)
    namespaces = (
        'xmlns="http://www.w3.org/2000/svg"',
        'xmlns:xlink="http://www.w3.org/1999/xlink"',
    )
    text = customer_page
    for declaration in namespaces:
        text = text.replace(declaration, "")
    assert "http://" not in text
    assert "https://" not in text
    assert "url(http" not in customer_page
    assert "default-src 'none'" in customer_page


def test_hostile_titles_are_text(tmp_path: Path) -> None:
    path = write(tmp_path, "hostile.yaml", HOSTILE_PROCESS)
    page = procflow.html_report(path, **SMALL)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page  # heading and nav
    assert "&lt;img src=https://example.com/x.png onerror=alert(2)&gt;" in page
    # the step title reached the diagram, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.split('class="diagram"')[1]
    for tag, attrs in tags(page):
        assert tag not in ("script", "img")
        assert not any(name.startswith("on") for name in attrs)


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first = procflow.html_report(CUSTOMER_SERVICE, tmp_path / "a.html", **SMALL)
    second = procflow.html_report(CUSTOMER_SERVICE, tmp_path / "b.html", **SMALL)
    assert first == second
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    today = datetime.now(UTC).date()
    assert today.isoformat() not in first  # no timestamp unless asked
    assert "Generated" not in first
    other = procflow.html_report(CUSTOMER_SERVICE, **{**SMALL, "seed": 2})
    assert other != first
    dated = procflow.html_report(CUSTOMER_SERVICE, **SMALL, date="2027-01-04")
    assert "Generated 2027-01-04." in dated


def test_several_processes_share_a_page_with_unique_ids() -> None:
    paths = [CUSTOMER_SERVICE, ROOT / "processes/order-fulfilment.yaml"]
    page = procflow.html_report(paths, **SMALL)
    assert page.count('<section class="process"') == 2
    assert "procflow report: 2 processes" in page
    ids = [attrs["id"] for _, attrs in tags(page) if "id" in attrs]
    assert len(ids) == len(set(ids)) > 100  # graphviz's node1... and matplotlib's ids prefixed
    # and every local reference still points at an id of the page
    defined = set(ids)
    for reference in re.findall(r"url\(#([^)]+)\)", page):
        assert reference in defined, reference


def test_a_broken_process_still_gets_its_section(tmp_path: Path) -> None:
    """No arrivals: lint findings and the diagram are shown, the simulation says why not."""
    text = HOSTILE_PROCESS.replace("arrivals: {rate: 6/h}\n", "")
    page = procflow.html_report(write(tmp_path, "no-arrivals.yaml", text), **SMALL)
    assert "No simulation:" in page
    assert "No analysis:" in page
    assert "PF" in page  # the lint finding about the missing arrivals


def test_the_sanitizer_removes_what_could_run_or_fetch() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'onload="alert(1)"><title>G</title><script>alert(2)</script>'
        '<a xlink:href="https://example.com" target="_blank"><text>x</text></a>'
        '<image href="http://example.com/i.png"/><foreignObject><div/></foreignObject>'
        '<rect style="fill: url(http://example.com/p)" fill="url(#local)"/>'
        '<use href="#local"/></svg>'
    )
    clean = sanitize_svg(svg, label=HOSTILE, description="d")
    root = ET.fromstring(clean)
    names = {element.tag.rpartition("}")[2] for element in root.iter()}
    assert names == {"svg", "title", "desc", "g", "text", "rect", "use"}
    assert "example.com" not in clean
    assert "onload" not in clean
    assert 'fill="url(#local)"' in clean
    assert 'href="#local"' in clean
    assert root.find("{http://www.w3.org/2000/svg}title").text == HOSTILE  # type: ignore[union-attr]
    assert "&lt;script&gt;" in clean
    assert root.get("role") == "img"
    assert root.get("aria-label") == HOSTILE


def test_cli_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "report.html"
    code, out, err = run(
        capsys,
        "report",
        str(ROOT / "processes/c*-service.yaml"),
        "-o",
        target,
        "--cases",
        "200",
        "--runs",
        "2",
        "--seed",
        "3",
        "--jobs",
        "1",
        "--change",
        ROOT / "changes/hire-support-agent.yaml",
        "--date",
        "today",
    )
    assert (code, out) == (0, "")
    assert f"wrote {target}" in err
    page = target.read_text(encoding="utf-8")
    assert page == procflow.html_report(
        CUSTOMER_SERVICE,
        changes=[ROOT / "changes/hire-support-agent.yaml"],
        cases=200,
        runs=2,
        seed=3,
        jobs=1,
        date="today",
    ).replace(str(CUSTOMER_SERVICE), str(ROOT / "processes/customer-service.yaml"))
    code, out, _ = run(capsys, "report", CUSTOMER_SERVICE, "--cases", "100", "--runs", "2")
    assert code == 0
    assert out.startswith("<!DOCTYPE html>")


def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "report", tmp_path / "missing.yaml")
    assert code == 2
    assert "missing.yaml" in err
    bad = write(tmp_path, "bad.yaml", "process: x\nsteps: [\n")
    code, _, err = run(capsys, "report", bad)
    assert code == 2
    assert "bad.yaml:" in err
    code, _, err = run(capsys, "report", CUSTOMER_SERVICE, "--runs", "0")
    assert code == 2
    assert "--runs" in err
    code, _, err = run(capsys, "report")
    assert code == 2
    assert "PATHS" in err


def test_missing_matplotlib_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    code, out, err = run(capsys, "report", CUSTOMER_SERVICE, "--cases", "50", "--runs", "1")
    assert code == 2
    assert out == ""
    assert "pip install 'procflow[report]'" in " ".join(err.split())


def test_an_unreachable_scheduler_stops_the_report(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A bad --scheduler is the options' fault, not the process's: exit 2, no page."""
    pytest.importorskip("distributed")
    from procflow.sim import runner

    monkeypatch.setattr(runner, "DASK_TIMEOUT", "1s")
    page = tmp_path / "r.html"
    args = ("--cases", "200", "--runs", "2", "--scheduler", "tcp://127.0.0.1:9", "-o", page)
    code, _, err = run(capsys, "report", CUSTOMER_SERVICE, *args)
    assert code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert not page.exists()


@pytest.fixture(scope="module")
def real_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An event log of customer-service (another seed): what a real one would look like."""
    log = tmp_path_factory.mktemp("log") / "events.csv"
    procflow.simulate(CUSTOMER_SERVICE, cases=600, runs=1, seed=99, log=log)
    return log


def test_a_log_adds_the_fidelity_of_every_process(real_log: Path) -> None:
    from procflow.htmlreport.fidelity import _number

    page = procflow.html_report(CUSTOMER_SERVICE, log=real_log, **SMALL)
    truth = procflow.fidelity(CUSTOMER_SERVICE, real_log, runs=SMALL["runs"], seed=SMALL["seed"])
    assert "Fidelity against the event log" in page
    assert f"Measured against the event log {real_log}." in page
    for measure in truth.measures:  # the page shows procflow.fidelity's numbers
        assert f"<td>{measure.title}</td>" in page, measure.key
        assert f'<td class="num">{_number(measure.value, measure.unit)}</td>' in page
        assert f"<td>{measure.verdict}</td>" in page
    assert "Work in progress per day of customer-service, real and simulated" in page
    assert "Cycle-time distribution of customer-service, real and simulated" in page
    assert "Events by weekday and hour of customer-service, real and simulated" in page
    # cycle time, utilization, waiting, WIP; the fidelity's cycle times, week and WIP per day
    assert page.count("<details>") == 7


def test_fidelity_of_a_process_that_cannot_be_simulated_is_a_note(
    real_log: Path, tmp_path: Path
) -> None:
    text = HOSTILE_PROCESS.replace("arrivals: {rate: 6/h}\n", "")
    page = procflow.html_report(write(tmp_path, "no-arrivals.yaml", text), log=real_log, **SMALL)
    assert "No fidelity:" in page


def test_a_bad_log_stops_the_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.csv", "case,activity,timestamp\n1,intake,yesterday\n")
    page = tmp_path / "r.html"
    code, _, err = run(capsys, "report", CUSTOMER_SERVICE, "--log", bad, "-o", page, "--runs", "2")
    assert code == 2
    assert "bad.csv:2" in err
    assert not page.exists()
    code, _, err = run(capsys, "report", CUSTOMER_SERVICE, "--log", tmp_path / "none.csv")
    assert code == 2
    assert "none.csv" in err


def test_optimize_adds_the_cheapest_staffing(tmp_path: Path) -> None:
    options = {"cases": 600, "runs": 2, "seed": 1, "jobs": 1}
    page = procflow.html_report(CUSTOMER_SERVICE, optimize=True, **options)
    truth = procflow.optimize(CUSTOMER_SERVICE, **options)  # the same search, the same answer
    assert "Cheapest staffing meeting every goal" in page
    for row in truth.staffing:
        assert f'<td>{row.owner}</td><td class="num">{row.before}</td>' in page
        assert f'<td class="num">{row.after}</td>' in page
    assert f"{truth.evaluations:,} staffing" in page
    # 5 agents × 32 an hour, on duty 50 of the week's 168 hours
    assert f"staffing cost per hour {5 * 32 * 50 / 168:.2f} → " in page
    no_goals = HOSTILE_PROCESS.split("goals:")[0]
    page = procflow.html_report(
        write(tmp_path, "no-goals.yaml", no_goals), optimize=True, **options
    )
    assert "No optimization:" in page
    assert "no goals with a metric and a target" in page
