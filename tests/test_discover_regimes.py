"""Per-case delay regimes: a log of cases fast or slow as a whole is discovered back.

A known process draws ``pace`` per case (40% prompt). Prompt cases never
wait; delayed cases wait before ``check`` and before ``send``, each wait
zero half of the time (``empirical(0s, 0s, 1d, 3d)``), so a quarter of the
delayed cases happen not to wait at all: 55% of the cases show no wait.
Discovery must find the mixture weight of the prompt class (0.4, not the
0.55 that counting calm cases gives) and write the regime; the same waits
drawn independently of the case (no regime) must not be written as one.
The hold steps are left out of the log, as a real log never records them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import procflow
from helpers import write
from procflow.discovery.regimes import delay_regimes, weighted_sample
from test_discover_roundtrip import people

TRUE_SHARE = 0.4


def model(regime: bool) -> str:
    hold = (
        "      by: pace\n      prompt: 0s\n      else: empirical(0s, 0s, 1d, 3d)\n"
        if regime
        else "      empirical(0s, 0s, 1d, 3d)\n"
    )
    duration = "    duration:\n" + hold if regime else "    duration: " + hold.strip() + "\n"
    attributes = f"attributes:\n  pace: {{prompt: {TRUE_SHARE}, delayed: 0.6}}\n" if regime else ""
    return f"""\
process: regimes
owners:
  clerk: {{capacity: 3}}
  timer: {{external: true}}
{attributes}arrivals:
  rate: 3/h
start: intake
steps:
  intake:
    owner: clerk
    duration: exponential(5m)
    next: hold-check
  hold-check:
    owner: timer
{duration}    next: check
  check:
    owner: clerk
    duration: exponential(8m)
    next: hold-send
  hold-send:
    owner: timer
{duration}    next: send
  send:
    owner: clerk
    duration: exponential(4m)
    next: sent
  sent:
    end: true
"""


def discovered(folder: Path, regime: bool) -> procflow.Discovery:
    path = write(folder, "regimes.yaml", model(regime))
    simulated = folder / "simulated.csv"
    procflow.simulate(path, cases=2500, runs=1, seed=5, warmup=0, jobs=1, log=simulated)
    with simulated.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if not r["step"].startswith(("hold", "sent"))]
    people(rows)
    log = folder / "log.csv"
    with log.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["case", "step", "owner", "start", "end"])
        writer.writeheader()
        writer.writerows({k: r[k] for k in ("case", "step", "owner", "start", "end")} for r in rows)
    return procflow.discover(str(log), min_share=0.02)


def test_the_mixture_weight_of_prompt_cases_is_recovered(tmp_path: Path) -> None:
    found = discovered(tmp_path, regime=True)
    share = found.found.prompt_share
    assert share is not None
    assert share == pytest.approx(TRUE_SHARE, abs=0.05)  # calm cases are 0.55
    assert "pace" in found.process.attributes
    assert found.to_dict()["regime"]["prompt_share"] == share
    classes = found.to_dict()["regime"]["classes"]
    assert [c["value"] for c in classes] == ["prompt", "delayed"]  # one kind of delayed case
    assert sum(c["cases"] for c in classes) == found.found.cases
    for step in ("wait-check", "wait-send"):
        duration = found.process.steps[step].duration
        assert duration is not None
        # each class's waits: the prompt class none, the delayed one a mean of (1d + 3d) / 4
        assert duration.mean == pytest.approx((1 - TRUE_SHARE) * 86400.0, rel=0.15)
    assert not [f for f in found.findings if f.severity.name == "ERROR"]


def test_independent_waits_are_not_written_as_a_regime(tmp_path: Path) -> None:
    found = discovered(tmp_path, regime=False)
    assert found.found.prompt_share is None
    assert "pace" not in found.process.attributes
    assert found.to_dict()["regime"] is None


def test_calm_cases_that_are_all_lucky_give_no_regime() -> None:
    # 200 cases, 3 visits each; every visit waits with probability 0.5 independently
    rng = np.random.default_rng(3)
    case = np.repeat(np.arange(200), 3)
    activity = np.tile(np.arange(3), 200)
    waits = np.where(rng.random(600) < 0.5, 0.0, 7200.0)
    assert delay_regimes(case, activity, waits) is None


def test_weighted_sample_follows_the_weights() -> None:
    values = np.array([5.0, 1.0, 3.0, 2.0])
    assert weighted_sample(values, np.array([1.0, 0.0, 1.0, 1.0])).tolist() == [2.0, 3.0, 5.0]
    # 4 values from a total weight of 4: a quarter (rounded) at the lighter value
    mixed = weighted_sample(np.array([10.0, 0.0]), np.array([2.5, 1.5]))
    assert mixed.tolist() == [0.0, 10.0, 10.0, 10.0]
