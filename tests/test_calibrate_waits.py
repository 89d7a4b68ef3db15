"""``calibrate`` refits discover's delay steps and pace regime from a log.

A log never records a ``wait-<step>`` delay step, so calibrate's replay
has nothing to fit it with: it measures the extraneous waits as
``discover`` does (discovery/refit.py). The process of
tests/test_discover_regimes.py (40% prompt cases; delayed cases wait
``empirical(0s, 0s, 1d, 3d)`` before ``check`` and before ``send``) is
discovered, its regime and waits spoiled, and calibrated back from the
same log: the prompt share and each wait's mean come back.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import procflow
from helpers import write
from procflow.eventlog.calibrate import calibrate
from procflow.eventlog.reader import read_log
from test_discover_regimes import TRUE_SHARE, discovered

DAY = 86400.0


def spoiled(text: str) -> str:
    """Every class equally likely and every per-class wait an hour."""
    pace = re.search(r"pace: \{([^}]*)\}", text)
    assert pace is not None
    names = [part.split(":")[0].strip() for part in pace.group(1).split(",")]
    shares = [0.5] if len(names) == 2 else [0.34, 0.33]
    shares.append(round(1 - sum(shares), 2))
    even = ", ".join(f"{n}: {s}" for n, s in zip(names, shares, strict=True))
    text = text.replace(pace.group(0), f"pace: {{{even}}}")
    return re.sub(r"(\n      (?:delayed|slow|else): )[^\n]*", r"\g<1>1h", text)


def test_calibrate_refits_the_waits_and_the_regime(tmp_path: Path) -> None:
    found = discovered(tmp_path, regime=True)
    path = write(tmp_path, "spoiled.yaml", spoiled(found.text))
    bad = procflow.load(path)
    assert bad.steps["wait-check"].duration is not None
    assert bad.steps["wait-check"].duration.mean < 2 * 3600.0
    result = calibrate(bad, read_log(tmp_path / "log.csv"))
    process = result.process
    assert process.attributes["pace"].share("prompt") == pytest.approx(TRUE_SHARE, abs=0.05)
    for step in ("wait-check", "wait-send"):
        duration = process.steps[step].duration
        assert duration is not None
        # the truth: 60% of the cases delayed, half of their waits 1d or 3d
        assert duration.mean == pytest.approx((1 - TRUE_SHARE) * DAY, rel=0.15)
        change = next(c for c in result.changes if c.subject == step)
        assert "as discover measures them" in change.note
    assert any(c.subject == "pace" for c in result.changes)
    # the delay steps are not also listed as kept for lack of observations
    assert not [k for k in result.kept if k.subject in ("wait-check", "wait-send")]


def test_a_hand_written_external_step_keeps_its_duration(tmp_path: Path) -> None:
    found = discovered(tmp_path, regime=False)
    renamed = found.text.replace("wait-check", "hold-for-customer")
    path = write(tmp_path, "renamed.yaml", renamed)
    result = calibrate(procflow.load(path), read_log(tmp_path / "log.csv"))
    assert not [c for c in result.changes if c.subject == "hold-for-customer"]
    # a discovered delay step without a regime gets one distribution
    change = next(c for c in result.changes if c.subject == "wait-send")
    assert change.new.startswith("mean ")
