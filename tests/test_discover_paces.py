"""Delayed cases of two kinds (discovery/paces.py): the split is found where it is, and only there.

Synthetic waits with a known answer: 30% of the cases never wait; 35%
wait often and briefly (each of 4 visits with probability 0.7, about an
hour); 35% wait rarely and long (probability 0.2, about three days).
Discovery must find the three classes and their shares. Delayed cases that
all wait alike (probability 0.45 per visit), each wait an hour or three
days at random, have two lengths of wait but no two kinds of cases: no
split (the waits' normal scores keep their two-point shape from making one).
"""

from __future__ import annotations

import numpy as np
import pytest

from procflow.discovery.regimes import DELAYED, PROMPT, SLOW, delay_regimes

CASES = 3000
VISITS = 4
HOUR = 3600.0


def waits(correlated: bool, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(case, activity, extraneous, true class per case): a first event, then 4 visits."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, size=CASES, p=[0.3, 0.35, 0.35])  # 0 prompt, 1 brief, 2 long
    case = np.repeat(np.arange(CASES), VISITS + 1)
    activity = np.tile(np.arange(VISITS + 1), CASES)
    chance = np.array([0.0, 0.7, 0.2] if correlated else [0.0, 0.45, 0.45])[kind]
    waited = rng.random((CASES, VISITS)) < chance[:, None]
    if correlated:
        median = np.array([HOUR, HOUR, 72 * HOUR])[kind][:, None]
    else:
        median = np.where(rng.random((CASES, VISITS)) < 0.5, HOUR, 72 * HOUR)
    length = median * np.exp(0.3 * rng.standard_normal((CASES, VISITS)))
    extraneous = np.column_stack([np.full(CASES, np.nan), np.where(waited, length, 0.0)])
    return case, activity, extraneous.ravel(), kind


def test_two_kinds_of_delayed_cases_are_found() -> None:
    case, activity, extraneous, kind = waits(correlated=True)
    regimes = delay_regimes(case, activity, extraneous)
    assert regimes is not None
    assert regimes.names == (PROMPT, DELAYED, SLOW)
    # prompt, then the class of shorter waits per case (brief, often), then the slow one
    assert regimes.shares == pytest.approx((0.3, 0.35, 0.35), abs=0.04)
    assert regimes.class_cases() == [round(s * CASES) for s in regimes.shares[:2]] + [
        CASES - sum(round(s * CASES) for s in regimes.shares[:2])
    ]
    # nearly every case that waited is placed in its own class
    waited = np.bincount(case, weights=np.nan_to_num(extraneous) > 0, minlength=CASES) > 0
    placed = regimes.member.argmax(axis=1)
    assert np.mean(placed[waited] == kind[waited]) > 0.9


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_waits_of_two_lengths_drawn_per_visit_are_no_split(seed: int) -> None:
    case, activity, extraneous, kind = waits(correlated=False, seed=seed)
    regimes = delay_regimes(case, activity, extraneous)
    assert regimes is not None
    assert regimes.names == (PROMPT, DELAYED)
    assert regimes.share == pytest.approx(float(np.mean(kind == 0)), abs=0.04)


def test_a_forced_class_count_is_fitted_whatever_the_evidence() -> None:
    case, activity, extraneous, _kind = waits(correlated=True)
    two = delay_regimes(case, activity, extraneous, classes=2)
    assert two is not None
    assert two.names == (PROMPT, DELAYED)
    assert sum(two.shares) == pytest.approx(1.0)
