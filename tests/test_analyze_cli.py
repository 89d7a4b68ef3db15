"""``procflow analyze``: text and JSON output, standard input, exit codes."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from procflow.cli import main

ROOT = Path(__file__).parent.parent
# the example around the clock: its figures are Erlang C and Allen–Cunneen by hand
EXAMPLE = str(ROOT / "tests" / "fixtures" / "customer-service-247.yaml")
FIXTURES = Path(__file__).parent / "fixtures" / "analyze"
ANSI = re.compile(r"\x1b\[")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, EXAMPLE)
    assert code == 0, err
    assert not ANSI.search(out)  # plain when piped
    assert all(line == line.rstrip() for line in out.splitlines())
    lines = out.splitlines()
    assert lines[0].startswith("customer-service")
    assert "arrivals 8/h (Poisson)" in lines[1]
    owners = [line.split()[0] for line in lines[lines.index("Owners") + 2 :][:4]]
    assert owners == ["support-agent", "tier2", "support-lead", "customer"]  # by utilization
    bottleneck = next(line for line in lines if "bottleneck" in line)
    assert bottleneck.split()[:3] == ["support-agent", "◀", "bottleneck"]
    assert "66.2%" in bottleneck
    assert "approx" in bottleneck
    triage = next(line for line in lines if line.split()[:1] == ["triage"])
    assert triage.split()[2] == "1.176"  # visits: reopened cases come back
    assert "expected  5.53h" in out
    assert "minimum   4.37h" in out
    assert "intake → triage → resolve → confirm → closed" in out
    assert "resolve-within-a-day" in out
    assert "not estimable analytically" in out
    assert "Allen–Cunneen" in out


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, EXAMPLE, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["version"] == 1
    assert data["process"] == "customer-service"
    assert data["bottleneck"] == "support-agent"
    assert data["file"].endswith("customer-service-247.yaml")
    assert data["steps"]["escalate"]["service_mean"] == pytest.approx(3000.0)
    assert data["owners"]["customer"]["utilization"] is None
    assert data["cycle_time"]["minimum"] == pytest.approx(15720.0)


def test_mmc_figures_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, str(FIXTURES / "mmc.yaml"), "--format", "json")
    assert code == 0
    agent = json.loads(out)["owners"]["agent"]
    assert agent["utilization"] == pytest.approx(0.75, rel=1e-3)
    assert agent["p_wait"] == pytest.approx(0.5094, rel=1e-3)
    assert agent["wait_mean"] == pytest.approx(10.19 * 60, rel=1e-3)
    assert agent["exact"] is True
    code, text, _err = run(capsys, str(FIXTURES / "mmc.yaml"))
    assert "exact" in text
    assert "10.2m" in text


def test_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (FIXTURES / "mmc.yaml").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _err = run(capsys, "-", "--format", "json")
    assert code == 0
    assert json.loads(out)["file"] == "<stdin>"


def test_overloaded_owner_is_reported_not_failed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, str(FIXTURES / "overloaded.yaml"))
    assert code == 0
    assert "OVERLOADED: needs 4" in out
    assert "expected  unbounded" in out
    assert "needs a capacity of at least 4" in out
    code, out, _err = run(capsys, str(FIXTURES / "overloaded.yaml"), "--format", "json")
    data = json.loads(out)
    assert data["owners"]["agent"]["stable"] is False
    assert data["owners"]["agent"]["wait_mean"] is None
    assert data["owners"]["agent"]["required_capacity"] == 4
    assert data["cycle_time"]["expected"] is None
    assert "Infinity" not in out
    assert "NaN" not in out


def test_bottleneck_threshold_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(
        capsys, str(FIXTURES / "mmc.yaml"), "--format", "json", "--bottleneck-threshold", "0.5"
    )
    assert code == 0
    data = json.loads(out)
    assert data["bottleneck_threshold"] == 0.5
    assert data["owners"]["agent"]["capacity_below_threshold"] == 7  # 3 / 7 < 0.5
    code, _out, err = run(capsys, EXAMPLE, "--bottleneck-threshold", "1.5")
    assert code == 2
    assert "bottleneck-threshold" in err


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no-arrivals.yaml", "declares no arrivals"),
        (
            "missing-duration.yaml",
            "missing-duration.yaml:12:3: PF402 step 'answer' has no duration",
        ),
        ("broken.yaml", "broken.yaml:11:11: PF101"),
    ],
)
def test_processes_that_cannot_be_analyzed_exit_2(
    capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    code, out, err = run(capsys, str(FIXTURES / name))
    assert code == 2
    assert out == ""
    assert message in err.replace(str(FIXTURES) + "/", "")
    assert "Traceback" not in err


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "no/such/process.yaml")
    assert code == 2
    assert "no such file" in err


def test_colour_on_request(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, out, _err = run(capsys, str(FIXTURES / "overloaded.yaml"))
    assert code == 0
    assert ANSI.search(out)


def test_text_says_when_routing_is_approximate() -> None:
    from procflow.analysis import analyze
    from procflow.cli.analyze import notes
    from procflow.loader import load_text

    process = load_text(
        """
process: loops
owners: {agent: {capacity: 9}}
arrivals: {rate: 1/h}
start: a
steps:
  a:
    owner: agent
    duration: exponential(5m)
    on:
      again: {to: a, p: 0.3, feedback: true, max: 4}
      on: {to: b, p: 0.7}
  b: {owner: agent, duration: exponential(5m), next: end}
  end: {end: true}
""",
        "loops.yaml",
    )
    assert not any("approximate routing" in line for line in notes(analyze(process)))
    approximate = analyze(process, max_states=3)
    (line,) = [line for line in notes(approximate) if "approximate routing" in line]
    assert "a --again--> a (max 4)" in line
