"""The token engine with attributes against the slow reference: the same log and statistics.

Two independent implementations of attributes drawn at arrival, first-true rules, ``by:``
durations and probabilities, and priority queues with and without preemption
(docs/attributes.md): on the same seed they must write the same event log, the same case
attributes and the same statistics, per class and outcome too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT
from procflow.loader import load
from procflow.sim.attributed import replication, run_attributed
from procflow.sim.reference import run_reference
from procflow.sim.simulation import prepare
from test_sim_engine import Rows, _same_stats

FIXTURES = ROOT / "tests" / "fixtures" / "attributes-reference"


class AttributeRows(Rows):
    """An event sink keeping every row and every case's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: dict[int | str, dict[str, float | str]] = {}

    def set_case_attributes(self, case: int | str, attributes: dict[str, float | str]) -> None:
        self.attributes[case] = dict(attributes)


@pytest.mark.parametrize(
    ("path", "cases", "warmup"),
    [
        (ROOT / "processes" / "incident-priorities.yaml", 3_000, 300),
        (FIXTURES / "preemptive.yaml", 3_000, 300),
        (FIXTURES / "rules.yaml", 3_000, 300),
        (FIXTURES / "forks.yaml", 2_000, 200),
    ],
    ids=lambda p: p.stem if isinstance(p, Path) else str(p),
)
def test_attributed_engine_and_reference_agree_exactly(path: Path, cases: int, warmup: int) -> None:
    plan = prepare(load(path)).with_working(None)
    assert replication(plan) is run_attributed
    fast_log, slow_log = AttributeRows(), AttributeRows()
    fast = run_attributed(plan, 1, 7, cases, warmup, log=fast_log)
    slow = run_reference(plan, 1, 7, cases, warmup, log=slow_log)
    assert len(fast_log.rows) > 3 * cases
    assert sorted(fast_log.rows) == sorted(slow_log.rows)
    assert len(fast_log.attributes) == cases
    assert fast_log.attributes == slow_log.attributes
    _same_stats(fast, slow.stats)
    a, b = fast.groups, slow.stats.groups
    for column in ("klass", "outcome", "mask", "reworked"):
        assert np.array_equal(np.sort(getattr(a, column)), np.sort(getattr(b, column))), column
    order_a, order_b = np.lexsort((a.cycle, a.outcome)), np.lexsort((b.cycle, b.outcome))
    assert np.allclose(a.cycle[order_a], b.cycle[order_b], rtol=1e-12, atol=1e-6)
    assert np.allclose(a.wait[order_a], b.wait[order_b], rtol=1e-12, atol=1e-6)
