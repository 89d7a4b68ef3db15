"""Delayed cases of two kinds: a split of the delayed regime by how long it waits (:func:`split`).

The prompt/delayed mixture of :mod:`.regimes` treats every wait of a
delayed case as independent of its other waits. Real cases are not so:
in the permit log a case that waits at one step only waits *long* there
(a median of 101 hours of cycle time), while the independent draws gave
such a case whatever wait its step has on average (48 hours), and a case
that waits at several steps is no longer than one that waits at one. A
second delayed class with its own chances of waiting and its own wait
length describes that: a case is prompt, *delayed* (waits often, each
wait shorter) or *slow* (waits rarely, each wait longer) -- or the other
way round; the classes are named by their mean wait per case, shortest
first.

The model: under delayed class ``c`` each visit of activity ``a`` passes
without a wait with probability ``z_c[a]``; a wait's length, as its
normal score among its activity's waits (:func:`_normal_scores`: so
activities with long waits do not make a class of their own, nor do waits
of an odd shape), is normal with mean ``u_c`` and deviation ``s_c``.
The prompt class never waits. Fitted by EM (maximum likelihood) and kept
only when it beats the one-delayed-class model by the Bayesian
information criterion for its extra parameters plus
:data:`~procflow.discovery.regimes.EVIDENCE` x ln(cases), and every class
holds enough cases (at least 30 and 5% of them, as in :mod:`.regimes`).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

ROUNDS = 300
"""EM iterations at most."""
MIN_SPREAD = 0.05
"""The smallest deviation of a class's log waits (a class of equal waits has no density)."""
LOG_2PI = math.log(2.0 * math.pi)


class Waits:
    """The per-visit data of the split: which visits waited, and how long (centred log)."""

    def __init__(
        self, case: np.ndarray, activity: np.ndarray, extraneous: np.ndarray, threshold: float
    ) -> None:
        self.case, self.activity = case, activity
        self.cases = int(case.max()) + 1
        self.acts = int(activity.max()) + 1
        self.known = np.isfinite(extraneous)
        self.waited = self.known & (np.nan_to_num(extraneous, nan=0.0) >= threshold)
        self.y = _normal_scores(activity, extraneous, self.waited, self.acts)
        self.calm = np.bincount(case, weights=self.waited, minlength=self.cases) == 0
        self.present = np.bincount(case, minlength=self.cases) > 0

    def class_loglik(self, weight: np.ndarray) -> np.ndarray:
        """Per case, its log-likelihood under a delayed class whose cases weigh ``weight``."""
        w = weight[self.case]
        seen = np.bincount(self.activity, weights=w * self.known, minlength=self.acts)
        still = np.bincount(
            self.activity, weights=w * (self.known & ~self.waited), minlength=self.acts
        )
        z = np.clip(np.where(seen > 0, still / np.maximum(seen, 1e-300), 1.0), 1e-12, 1 - 1e-12)
        ww = w * self.waited
        total = float(ww.sum())
        u = float((ww * self.y).sum()) / total if total > 0 else 0.0
        s = math.sqrt(float((ww * (self.y - u) ** 2).sum()) / total) if total > 0 else 1.0
        s = max(s, MIN_SPREAD)
        density = -0.5 * ((self.y - u) / s) ** 2 - math.log(s) - 0.5 * LOG_2PI
        visit = np.where(
            self.waited,
            np.log1p(-z[self.activity]) + density,
            np.where(self.known, np.log(z[self.activity]), 0.0),
        )
        result: np.ndarray = np.bincount(self.case, weights=visit, minlength=self.cases)
        return result

    def fit(self, start: np.ndarray) -> tuple[np.ndarray, float]:
        """EM from the memberships ``start`` (cases x classes, column 0 prompt).

        Returns the memberships and the log-likelihood of the mixture.
        """
        member = start
        previous = -math.inf
        total = -math.inf
        for _ in range(ROUNDS):
            share = member[self.present].mean(axis=0)
            loglik = np.empty_like(member)
            loglik[:, 0] = np.where(self.calm, 0.0, -np.inf)
            for c in range(1, member.shape[1]):
                loglik[:, c] = self.class_loglik(member[:, c] * self.present)
            with np.errstate(divide="ignore"):
                joint = loglik + np.log(share)
            top = joint.max(axis=1, keepdims=True)
            mixed = top[:, 0] + np.log(np.exp(joint - top).sum(axis=1))
            member = np.where(self.present[:, None], np.exp(joint - mixed[:, None]), 0.0)
            total = float(mixed[self.present].sum())
            if total - previous < 1e-6:
                break
            previous = total
        return member, total


def _normal_scores(
    activity: np.ndarray, extraneous: np.ndarray, waited: np.ndarray, acts: int
) -> np.ndarray:
    """Each wait's normal score among its activity's waits (0 where no wait).

    The rank of the wait within its activity, as a quantile of the normal
    distribution: every activity's waits then have the same, normal,
    distribution whatever their own shape (two fixed timers, a long tail),
    so a class of its own can only be won by waits that go together within
    cases, not by the shape of the waits (a two-point wait, fitted with one
    normal, would be split in two classes that each fit one point). Ties
    keep the order of the log.
    """
    rows = np.flatnonzero(waited)
    order = rows[np.lexsort((extraneous[rows], activity[rows]))]
    acts_sorted = activity[order]
    firsts = np.searchsorted(acts_sorted, np.arange(acts))
    counts = np.bincount(acts_sorted, minlength=acts)
    rank = np.arange(order.size) - firsts[acts_sorted]
    quantile = (rank + 0.5) / counts[acts_sorted]
    inverse = NormalDist().inv_cdf
    scores = np.zeros(extraneous.size)
    scores[order] = [inverse(float(q)) for q in quantile]
    return scores


def split(
    case: np.ndarray,
    activity: np.ndarray,
    extraneous: np.ndarray,
    prompt: np.ndarray,
    threshold: float,
    evidence: float | None,
) -> np.ndarray | None:
    """Memberships (cases x 3: prompt and two delayed classes, shorter waits first), or ``None``.

    ``prompt``: each case's probability of being prompt in the two-class
    fit (:func:`~procflow.discovery.regimes.delay_regimes`), the start and
    the model to beat. ``evidence`` ``None``: split whatever the gain (a
    written regime refitted).
    """
    data = Waits(case, activity, extraneous, threshold)
    one = np.stack([prompt, np.where(data.present, 1.0 - prompt, 0.0)], axis=1)
    _member, base = data.fit(one)
    per_case = np.bincount(case, weights=data.y * data.waited, minlength=data.cases)
    count = np.bincount(case, weights=data.waited, minlength=data.cases)
    mean_y = per_case / np.maximum(count, 1)
    waiting = ~data.calm & data.present
    if not waiting.any():
        return None
    cut = float(np.median(mean_y[waiting]))
    longer = np.where(data.calm, 0.5, (mean_y > cut).astype(float))
    start = (
        np.stack([prompt, (1.0 - prompt) * (1.0 - longer), (1.0 - prompt) * longer], axis=1)
        * data.present[:, None]
    )
    member, total = data.fit(start)
    cases = int(data.present.sum())
    extra = data.acts + 3  # a mixture weight, the z of each activity, a mean and a deviation
    if evidence is not None and total - base < (0.5 * extra + evidence) * math.log(cases):
        return None
    waited_total = np.bincount(
        case, weights=np.nan_to_num(extraneous, nan=0.0) * data.waited, minlength=data.cases
    )
    weights = member[:, 1:].sum(axis=0)
    mean_wait = (member[:, 1:] * waited_total[:, None]).sum(axis=0) / np.maximum(weights, 1e-300)
    order = [0, *(1 + np.argsort(mean_wait, kind="stable"))]
    ordered: np.ndarray = member[:, order]
    return ordered
