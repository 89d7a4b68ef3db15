"""Two stages: screen every lever briefly, confirm the best ones with the full replications.

Simulating every lever with the full replications costs one full scenario
per lever, and most levers of a real process move the goal little: on the
example processes that was 30 to 40 CPU seconds for the largest. This is
the screen-then-confirm design of ranking-and-selection procedures
(Nelson, Swann, Goldsman & Song, "Simple procedures for selecting the best
simulated system when the number of alternatives is large", Operations
Research 49(6), 2001): a cheap first stage on every alternative drops the
ones that are clearly worse than the best few, and a second stage measures
only the survivors.

* **Screening** -- the baseline and every lever, :data:`SCREEN_RUNS` runs
  of a fifth of the cases (:func:`screening_design`), on common random
  numbers from a seed of its own (``seed + 1``), so the confirmation's runs
  are independent of the data that chose them. The levers a round leaves
  undecided are screened again, pooled with the runs before, on the next
  seed (:func:`screen_in_rounds`), up to :data:`SCREEN_ROUNDS` rounds.
* **Selection** (:func:`select`) -- the ``K`` levers that improved the goal
  most in screening are confirmed, and so is every lever that may beat the
  ``K``-th by more than the indifference zone ``δ`` (:data:`INDIFFERENCE`: 1%
  of the baseline's value). Common random numbers pair the levers with each
  other too, run by run, so "may beat" is the paired Student-t 95% interval
  of (the lever's improvement − the ``K``-th's) reaching ``δ`` or beyond. A
  lever whose improvement screening could not measure is confirmed. Without
  ``δ`` almost every lever would be confirmed: most levers of a real process
  move the goal by less than 1%, and screening cannot tell them apart from
  a ``K``-th best that is small too (nor can the full replications, whose
  intervals of such levers overlap as well).
* **Confirmation** -- the baseline and the confirmed levers with the full
  cases and runs, on the caller's seed: every interval and significance
  the ranking reports comes from here.

Screening is skipped (every lever is confirmed, as with ``--full``) when it
cannot pay: when no more than ``K`` levers are left, or when screening plus
the least confirmation would cost as many cases as simulating everything
(:func:`worth_screening`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from procflow.sim.stats import estimate

DEFAULT_CONFIRM = 3
"""Levers confirmed with the full replications at least (``--confirm K``)."""
SCREEN_RUNS = 3
"""Runs of the screening stage: the fewest whose Student-t quantile (4.30) is not huge."""
SCREEN_SHARE = 5
"""The screening stage simulates a fifth of the cases per run."""
MIN_SCREEN_CASES = 50
"""Screening runs have at least this many cases (or all of them, when fewer)."""
INDIFFERENCE = 0.01
"""The indifference zone, as a share of the baseline's value: a lever that cannot beat the
``K``-th best by more than this is not confirmed."""
SCREEN_ROUNDS = 3
"""Screening rounds at most: the levers still undecided after a round are screened again."""
SCREEN_SEED_OFFSET = 1
"""The screening seed is the seed plus this: its runs are independent of the confirmation's."""


@dataclass(frozen=True)
class Screening:
    """The run length of a screening round (``warmup`` ``None``: the default for its cases);
    round ``i`` runs on ``seed + i - 1``, and ``rounds`` were run."""

    runs: int
    cases: int
    warmup: int | None
    seed: int
    rounds: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "cases": self.cases,
            "warmup": self.warmup,
            "seed": self.seed,
            "rounds": self.rounds,
        }


def screening_design(cases: int, seed: int, warmup: int | None) -> Screening:
    """The screening stage of a ranking whose confirmation runs ``cases`` cases per run.

    A fifth of the cases (at least :data:`MIN_SCREEN_CASES`), :data:`SCREEN_RUNS`
    runs; an explicit ``warmup`` is scaled with the cases.
    """
    short = min(cases, max(cases // SCREEN_SHARE, MIN_SCREEN_CASES))
    scaled = None if warmup is None else min(warmup * short // cases, short - 1)
    return Screening(SCREEN_RUNS, short, scaled, seed + SCREEN_SEED_OFFSET)


def worth_screening(levers: int, confirm: int, screening: Screening, cases: int, runs: int) -> bool:
    """Whether screening ``levers`` levers can save work over simulating them all in full.

    It pays when screening every scenario (the baseline too) plus confirming the
    fewest it could keep (``confirm`` and the baseline) simulates fewer cases than
    every scenario in full.
    """
    if levers <= confirm:
        return False
    full = (levers + 1) * runs * cases
    least = (levers + 1) * screening.runs * screening.cases + (confirm + 1) * runs * cases
    return least < full


@dataclass(frozen=True)
class Screened:
    """A lever's screening figures and what they decided.

    ``improvement`` is the mean over the screening runs (positive: better for
    the goal), ``runs`` the improvement run by run; ``rank`` its place in
    screening; ``confirmed`` whether it goes on to the confirmation, and
    ``reason`` why not. ``value``, ``difference`` and ``ci95`` are the lever's
    KPI, lever − baseline and its paired interval in screening (as in the
    ranking, filled in by :func:`~procflow._levers.ranking.levers`).
    """

    improvement: float | None
    runs: tuple[float | None, ...]
    rank: int | None
    confirmed: bool
    reason: str | None = None
    value: float | None = None
    difference: float | None = None
    ci95: tuple[float, float] | None = None


def select(
    improvements: Mapping[str, Sequence[float | None]],
    order: Sequence[str],
    confirm: int,
    indifference: float,
    titles: Mapping[str, str],
) -> dict[str, Screened]:
    """Which levers go on to the confirmation, from their improvement run by run in screening.

    ``improvements[lever]`` is the lever's improvement over the baseline in each
    screening run (same seeds, so run ``r`` of every lever is paired with run ``r``
    of every other); ``order`` breaks ties (the order the levers were built in).
    The ``confirm`` best by mean improvement are confirmed, and so is every lever
    whose paired 95% interval of (its improvement − the ``confirm``-th's) reaches
    ``indifference`` (in KPI units) or beyond (module docstring).
    """
    means = {lever: estimate(list(runs)).mean for lever, runs in improvements.items()}
    position = {lever: index for index, lever in enumerate(order)}
    measured = [lever for lever in order if means[lever] is not None]
    measured.sort(key=lambda lever: (-(means[lever] or 0.0), position[lever]))
    found: dict[str, Screened] = {}
    cut = measured[min(confirm, len(measured)) - 1] if measured else None
    for rank, lever in enumerate(measured, start=1):
        runs = tuple(improvements[lever])
        if rank <= confirm or cut is None:
            found[lever] = Screened(means[lever], runs, rank, True)
            continue
        if _may_beat(runs, improvements[cut], indifference):
            found[lever] = Screened(means[lever], runs, rank, True)
            continue
        reason = (
            f"cannot beat the {_ordinal(confirm)} best ({titles[cut]}) "
            f"by {INDIFFERENCE:.0%} in screening"
        )
        found[lever] = Screened(means[lever], runs, rank, False, reason)
    for lever in order:
        if lever not in found:  # no value in screening: only the confirmation can say
            found[lever] = Screened(None, tuple(improvements[lever]), None, True)
    return found


Runs = list[float | None]
RoundResult = tuple[Runs, dict[str, Runs]]
"""One screening round: the goal's KPI run by run for the baseline and for each lever."""


def screen_in_rounds(
    levers: Sequence[str],
    confirm: int,
    design: Screening,
    titles: Mapping[str, str],
    simulate: Callable[[Sequence[str], int], RoundResult],
    improvement: Callable[[float, float], float],
    confirmation_cost: int,
) -> tuple[dict[str, Screened], int]:
    """Screen ``levers`` in up to :data:`SCREEN_ROUNDS` rounds; their figures and the rounds run.

    ``simulate(levers, seed)`` runs one round (the baseline and ``levers``,
    ``design.runs`` runs of ``design.cases`` cases on ``seed``) and returns the
    goal's KPI run by run; ``improvement(difference, baseline)`` signs a
    difference so that positive is better. After each round :func:`select` runs
    on every run so far; the levers it drops are final. The levers it keeps
    beyond the best ``confirm`` (the undecided ones) are screened again, with
    the best ``confirm``, on the next seed -- while there are any, and while
    another round costs fewer cases than confirming them
    (``confirmation_cost`` cases per lever).
    """
    base: Runs = []
    values: dict[str, Runs] = {lever: [] for lever in levers}
    alive = list(levers)
    final: dict[str, Screened] = {}
    found: dict[str, Screened] = {}
    rounds = 0
    while True:
        rounds += 1
        round_base, round_values = simulate(alive, design.seed + rounds - 1)
        base.extend(round_base)
        for lever in alive:
            values[lever].extend(round_values[lever])
        level = estimate(base).mean
        zone = INDIFFERENCE * abs(level) if level is not None else 0.0
        gains = {lever: _gains(values[lever], base, improvement) for lever in alive}
        found = select(gains, alive, confirm, zone, titles)
        for lever in alive:
            if not found[lever].confirmed:
                final[lever] = _figures(found[lever], values[lever], base)
        alive = [lever for lever in alive if found[lever].confirmed]
        undecided = [lever for lever in alive if (found[lever].rank or 0) > confirm]
        again = (len(alive) + 1) * design.runs * design.cases
        if rounds >= SCREEN_ROUNDS or not undecided:
            break
        if again >= len(undecided) * confirmation_cost:
            break
    for lever in alive:
        final[lever] = _figures(found[lever], values[lever], base)
    return _ranked(final, levers), rounds


def _gains(
    values: Runs, base: Runs, improvement: Callable[[float, float], float]
) -> list[float | None]:
    """A lever's improvement over the baseline, run by run (``None`` where a run has no value)."""
    return [
        None if v is None or b is None else improvement(v - b, b)
        for v, b in zip(values, base, strict=True)
    ]


def _figures(found: Screened, values: Runs, base: Runs) -> Screened:
    """``found`` with the lever's KPI, lever − baseline and its paired interval over its runs."""
    value = estimate(values).mean
    if None in values or None in base:
        return replace(found, value=value)
    diff = estimate([v - b for v, b in zip(values, base, strict=True)])  # type: ignore[operator]
    return replace(found, value=value, difference=diff.mean, ci95=diff.ci95)


def _ranked(found: dict[str, Screened], order: Sequence[str]) -> dict[str, Screened]:
    """Every lever's place by its last screening improvement, best first (built order on ties)."""
    position = {lever: index for index, lever in enumerate(order)}
    measured = [lever for lever in order if found[lever].improvement is not None]
    measured.sort(key=lambda lever: (-(found[lever].improvement or 0.0), position[lever]))
    ranks = {lever: rank for rank, lever in enumerate(measured, start=1)}
    return {lever: replace(found[lever], rank=ranks.get(lever)) for lever in order}


def _may_beat(
    lever: Sequence[float | None], cut: Sequence[float | None], indifference: float
) -> bool:
    """Whether the paired 95% interval of ``lever − cut`` (run by run) reaches ``indifference``.

    Without an interval (a run without a value, a single run) it may.
    """
    pairs = [(a, b) for a, b in zip(lever, cut, strict=True) if a is not None and b is not None]
    if len(pairs) != len(cut):
        return True
    found = estimate([a - b for a, b in pairs])
    return found.ci95 is None or found.ci95[1] >= indifference


def _ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``11th``, ``22nd``."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{({1: 'st', 2: 'nd', 3: 'rd'}).get(n % 10, 'th')}"


__all__ = [
    "DEFAULT_CONFIRM",
    "INDIFFERENCE",
    "MIN_SCREEN_CASES",
    "SCREEN_ROUNDS",
    "SCREEN_RUNS",
    "SCREEN_SHARE",
    "Screened",
    "Screening",
    "screen_in_rounds",
    "screening_design",
    "select",
    "worth_screening",
]
