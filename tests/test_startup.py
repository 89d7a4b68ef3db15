"""``procflow lint`` starts fast: it imports only what linting needs.

It runs in pre-commit hooks and CI, once per commit, so its start-up is most
of its cost on a small change. numpy alone takes ~50 ms to import; the
analytic model (which lint's capacity and goal rules use) solves a process's
small loops in plain Python and imports numpy only for a dense block of more
than a dozen states. These checks run in a fresh interpreter, since the test
session has long imported everything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import write

#: A small process that exercises every part of the analysis lint uses: staffed
#: and external owners, Poisson arrivals, a bounded feedback loop, an unbounded
#: two-step loop (a dense block), and goals the capacity rules check.
PROCESS = """\
process: desk
owners:
  agent: {capacity: 3}
  expert: {capacity: 2}
  customer: {external: true}
arrivals: {rate: 6/h}
start: intake
steps:
  intake: {owner: agent, duration: exponential(6m), next: triage}
  triage:
    owner: agent
    duration: lognormal(4m, 2m)
    on:
      simple: {to: resolve, p: 0.7}
      complex: {to: investigate, p: 0.3}
  investigate:
    owner: expert
    duration: triangular(10m, 20m, 60m)
    on:
      solved: {to: resolve, p: 0.6}
      ask: {to: clarify, p: 0.4}
  clarify:
    owner: customer
    duration: exponential(2h)
    next: investigate
  resolve:
    owner: agent
    duration: exponential(12m)
    next: confirm
  confirm:
    owner: customer
    duration: exponential(4h)
    on:
      accepted: {to: closed, p: 0.85}
      reopened: {to: triage, p: 0.15, feedback: true, max: 3}
  closed: {end: true}
goals:
  - id: within-a-day
    metric: cycle_time
    stat: p90
    target: "<= 24h"
    deadline: 2099-12-31
  - id: quick-intake
    metric: step_time:intake
    stat: mean
    target: "<= 1h"
    deadline: 2099-12-31
"""

PROBE = """\
import gc, io, sys
from contextlib import redirect_stdout
from procflow.cli import main
for args in ({commands}):
    with redirect_stdout(io.StringIO()):
        code = main(args)
    print(args[0], code, "numpy" in sys.modules, gc.isenabled())
"""


def run_fresh(*commands: list[str]) -> list[str]:
    """Run procflow ``commands`` one after another in a new interpreter; one line each:
    ``command exit-code numpy-imported collector-enabled``."""
    code = PROBE.format(commands=", ".join(repr(c) for c in commands) + ",")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


def test_lint_and_analyze_of_a_small_process_do_not_import_numpy(tmp_path: Path) -> None:
    path = str(write(tmp_path, "desk.yaml", PROCESS))
    lines = run_fresh(
        ["lint", "--isolated", path],
        ["analyze", path],
        ["analyze", "--format", "json", path],
    )
    # exit code 0: the analysis ran (goals met, nobody overloaded), yet no numpy;
    # and the collector, paused while the command modules load, runs again
    assert lines == [
        "lint 0 False True",
        "analyze 0 False True",
        "analyze 0 False True",
    ]
