"""Cases that wait as a whole, or not at all: a per-case delay regime (:func:`delay_regimes`).

Extraneous waits are rarely independent from step to step. In the permit
log half the cases go through without a single wait no resource explains
(the whole case done within the hour) and the other half wait days, at
one step or several. Fitted step by step, each delay is a point mass at
zero plus a long tail, and a simulated case draws each of them on its
own: almost every case then hits one long wait somewhere, and the median
case takes hours where the real one takes minutes.

So the cases are a two-class mixture. A *prompt* case never waits
:data:`PROMPT_WAIT` or more; a *delayed* case waits at each visit of
activity ``a`` with its own probability, independently, so it may also
happen not to wait at all. The prompt share is fitted by EM (maximum
likelihood), not read off as the share of calm cases, and the split is
only kept when it explains the waits better than independent waits by
:data:`EVIDENCE` x ln(cases) of log-likelihood and both classes hold at
least :data:`MIN_CLASS_SHARE` of the cases and :data:`MIN_CLASS_CASES`
cases. It becomes a categorical case attribute (``pace``, drawn once per
case) and every delay step's duration and every choice's shares are
fitted per class (``by: pace``), each case weighted by its probability of
being in the class: the correlation within a case is kept, and a prompt
case's small waits stay in its class's distribution (docs/discover.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from procflow.discovery.paces import split
from procflow.discovery.table import EventTable

ATTRIBUTE = "pace"
PROMPT = "prompt"
DELAYED = "delayed"
SLOW = "slow"
PROMPT_WAIT = 300.0
"""A wait this long (seconds) counts as one (the delay-step threshold); a prompt case has none."""
MIN_CLASS_SHARE = 0.05
"""Both classes need at least this share of the cases to be told apart ..."""
MIN_CLASS_CASES = 30
"""... and this many cases (a split of a handful of cases would fit noise)."""
EVIDENCE = 2.0
"""The log-likelihood the split must gain over independent waits, per log of the cases
(BIC asks 0.5 for the one more parameter; this is stricter)."""
ROUNDS = 200
"""EM iterations at most (each is a few numpy passes over the events)."""


@dataclass(frozen=True)
class Regimes:
    """The mixture: per-case membership of each class (prompt first) and the class shares."""

    member: np.ndarray
    """Per case code and class: the probability that the case is in the class."""
    shares: tuple[float, ...]
    """The mixture weight of each class (maximum likelihood), in :attr:`names` order."""
    names: tuple[str, ...]
    """``prompt``, ``delayed`` and, when delayed cases are of two kinds, ``slow``."""
    cases: int

    @property
    def share(self) -> float:
        """The mixture weight of the prompt class."""
        return self.shares[0]

    @property
    def prompt_cases(self) -> int:
        return round(self.share * self.cases)

    def class_cases(self) -> list[int]:
        """Cases per class (rounded so that they add up to :attr:`cases`)."""
        counts = [round(s * self.cases) for s in self.shares]
        counts[-1] = self.cases - sum(counts[:-1])
        return counts

    def weights(self, case: np.ndarray, k: int) -> np.ndarray:
        """Per event (``case`` codes): the weight of its case in class ``k``."""
        weight: np.ndarray = self.member[case, k]
        return weight


def delay_regimes(
    case: np.ndarray, activity: np.ndarray, extraneous: np.ndarray, *, classes: int | None = None
) -> Regimes | None:
    """The prompt/delayed mixture of the cases, or ``None`` when one regime describes them.

    ``classes`` (2 or 3): fit that many classes whatever the evidence (as
    ``calibrate`` refits a written regime); ``None`` for as many as the log
    shows (1 -- no regime --, 2, or 3 with the slow class of :mod:`.paces`).

    ``case``, ``activity``: codes per event; ``extraneous``: each event's
    extraneous wait in seconds (NaN: unknown, as for a case's first event:
    left out). A case that waited :data:`PROMPT_WAIT` anywhere
    is delayed; one that did not is prompt, *or* delayed and lucky: under
    the delayed class each visit of activity ``a`` passes without a wait
    with probability ``z[a]``, independently. The share of prompt cases and
    the ``z`` are fitted by expectation-maximization (maximum likelihood of
    this zero-inflated latent-class model), so the prompt share is not
    inflated by delayed cases that happened not to wait.
    """
    if case.size == 0:
        return None
    cases = int(case.max()) + 1
    present = np.bincount(case, minlength=cases) > 0
    waited = np.nan_to_num(extraneous, nan=0.0) >= PROMPT_WAIT
    waiting_case = np.bincount(case, weights=waited, minlength=cases) > 0
    calm = present & ~waiting_case
    total = int(present.sum())
    forced = classes is not None
    if not forced and not _separable(int(calm.sum()), total):
        return None
    model = _Model(case, activity, waited & np.isfinite(extraneous), np.isfinite(extraneous))
    share, prompt = model.fit(calm, present)
    gain = model.loglik(share, prompt, calm, present) - model.loglik(0.0, None, calm, present)
    if not forced and (
        gain < EVIDENCE * math.log(total) or not _separable(round(share * total), total)
    ):
        return None
    if classes is None or classes > 2:
        evidence = None if forced else EVIDENCE
        member = split(case, activity, extraneous, prompt, PROMPT_WAIT, evidence)
        shares = None if member is None else member[present].mean(axis=0)
        if (
            member is not None
            and shares is not None
            and (forced or all(_separable(round(float(s) * total), total) for s in shares))
        ):
            return Regimes(member, tuple(float(s) for s in shares), (PROMPT, DELAYED, SLOW), total)
    two = np.stack([prompt, np.where(present, 1.0 - prompt, 0.0)], axis=1)
    return Regimes(two, (share, 1.0 - share), (PROMPT, DELAYED), total)


class _Model:
    """The zero-inflated latent-class model of :func:`delay_regimes`, fitted by EM."""

    def __init__(
        self, case: np.ndarray, activity: np.ndarray, waited: np.ndarray, known: np.ndarray
    ) -> None:
        self.case, self.activity, self.waited, self.known = case, activity, waited, known
        self.cases = int(case.max()) + 1
        self.acts = int(activity.max()) + 1

    def z(self, prompt: np.ndarray | None, present: np.ndarray) -> np.ndarray:
        """Per activity: the chance that a delayed case's visit passes without a wait."""
        weight = np.ones(self.cases) if prompt is None else np.where(present, 1.0 - prompt, 0.0)
        other = weight[self.case] * self.known
        seen = np.bincount(self.activity, weights=other, minlength=self.acts)
        still = np.bincount(self.activity, weights=other * ~self.waited, minlength=self.acts)
        z: np.ndarray = np.clip(np.where(seen > 0, still / np.maximum(seen, 1e-300), 1.0), 1e-12, 1)
        return z

    def per_case(self, values: np.ndarray) -> np.ndarray:
        """Sum of per-event ``values`` over each case's known visits."""
        return np.bincount(self.case, weights=values * self.known, minlength=self.cases)

    def fit(self, calm: np.ndarray, present: np.ndarray) -> tuple[float, np.ndarray]:
        """EM, starting halfway: each calm case prompt with probability 0.5."""
        share = float(calm[present].mean()) / 2.0
        prompt = np.where(calm, 0.5, 0.0)
        for _ in range(ROUNDS):
            z = self.z(prompt, present)
            lucky = np.exp(self.per_case(np.log(z[self.activity])))
            prompt = np.where(calm, share / np.maximum(share + (1.0 - share) * lucky, 1e-300), 0.0)
            new = float(prompt[present].mean())
            done = abs(new - share) < 1e-7
            share = new
            if done:
                break
        return share, prompt

    def loglik(
        self, share: float, prompt: np.ndarray | None, calm: np.ndarray, present: np.ndarray
    ) -> float:
        """Log-likelihood of the waits (``share`` 0: every case delayed, independent waits)."""
        z = self.z(prompt, present)
        visit = z[self.activity]
        log_z = np.where(self.waited, np.log1p(-np.minimum(visit, 1 - 1e-12)), np.log(visit))
        delayed = self.per_case(log_z)
        mixed = np.where(
            calm, np.log(share + (1.0 - share) * np.exp(delayed)), np.log1p(-share) + delayed
        )
        return float(mixed[present].sum())


def _separable(prompt: int, total: int) -> bool:
    """Whether both classes are big enough (:data:`MIN_CLASS_SHARE`, :data:`MIN_CLASS_CASES`)."""
    smaller = min(prompt, total - prompt)
    return smaller >= MIN_CLASS_CASES and smaller >= MIN_CLASS_SHARE * total


def weighted_sample(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``round(sum of weights)`` values that follow the weighted distribution of ``values``.

    The weighted quantiles at evenly spaced levels: with weights of 0 and 1
    this is exactly the values of weight 1 (sorted); a case that is prompt
    with probability 0.3 adds 0.7 of its waits to the delayed class.
    """
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    total = float(weights.sum())
    n = round(total)
    if n == 0:
        return np.empty(0)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    levels = (np.arange(n) + 0.5) * (total / n)
    index = np.minimum(np.searchsorted(cumulative, levels, side="right"), values.size - 1)
    sample: np.ndarray = values[order][index]
    return sample


def class_counts(table: EventTable, regimes: Regimes) -> dict[tuple[int, int], tuple[float, ...]]:
    """Directly-follows departures ``(a, b)`` (``b`` -1: the end) weighed by class.

    Each pair counts its case's probability of being in each class towards
    that class's figure (in :attr:`Regimes.names` order).
    """
    same = table.case[1:] == table.case[:-1]
    source = np.concatenate([table.activity[:-1][same], table.activity[table.case_last()]])
    target = np.concatenate([table.activity[1:][same], np.full(int(table.case_last().sum()), -1)])
    case = np.concatenate([table.case[1:][same], table.case[table.case_last()]])
    width = len(table.activities) + 1
    key = source.astype(np.int64) * width + (target + 1)
    keys, inverse = np.unique(key, return_inverse=True)
    per_class = [
        np.bincount(inverse, weights=regimes.weights(case, k), minlength=keys.size)
        for k in range(len(regimes.names))
    ]
    return {
        (int(key) // width, int(key) % width - 1): tuple(float(c[i]) for c in per_class)
        for i, key in enumerate(keys)
    }
