"""Process files a user or an attacker could write, at the edges of the contract (SPEC 1, 7).

Each test is one defect found by a sweep of odd but valid (or invalid) files through every
command: no traceback, lint and the other commands agree, numbers stay finite.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from helpers import run, write
from procflow.analysis.forks import extreme_moments, fit

RACE_WIDE = """\
process: wide
owners:
  a: {capacity: 2}
arrivals: {rate: 1/h}
start: s
steps:
  s: {owner: a, duration: 5m, parallel: [x, y]}
  x: {owner: a, duration: "lognormal(1s, 1e6h)", next: j}
  y: {owner: a, duration: 10m, next: j}
  j: {join: first, owner: a, duration: 1m, next: e}
  e: {end: true}
"""


def test_a_race_with_a_huge_spread_branch_is_analyzed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """lognormal(1s, 1e6h) has an scv of 1e19: the two-moment fit's slow rate rounded to 0."""
    _cdf, bends = fit(1.0, (3.6e9) ** 2)
    assert all(math.isfinite(b) and b >= 0.0 for b in bends)
    mean, variance = extreme_moments([(1.0, (3.6e9) ** 2), (600.0, 0.0)], largest=False)
    assert math.isfinite(mean)
    assert 0.0 <= mean <= 600.0
    assert math.isfinite(variance)
    code, _out, err = run(capsys, "analyze", write(tmp_path, "wide.yaml", RACE_WIDE))
    assert code == 0, err
    assert "bug in procflow" not in err
