"""A process's wait steps and pace regime refitted from a log (:func:`refit_waits`).

``procflow discover`` writes the waiting no resource explains as delay
steps (``wait-<step>``: an external owner, no ``activity:``, one way on,
to the step it delays) and, when cases wait as a whole or not at all, a
categorical ``pace`` attribute whose classes each have their own delays
(docs/discover.md). A log never records such a step, so ``calibrate``'s
replay has nothing to fit them with; this module measures them as
``discover`` does -- roles, hours and each event's extraneous wait
(:func:`~procflow.discovery.measure.measure`) -- for the structure the
process has: the classes it declares (refitted by EM whatever the
evidence, :func:`~procflow.discovery.regimes.delay_regimes`) and the
steps it has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeGuard

import numpy as np

from procflow.casedata import ByDuration, Categorical
from procflow.discovery.fit import DurationFit, fit_duration
from procflow.discovery.measure import measure
from procflow.discovery.regimes import (
    ATTRIBUTE,
    DELAYED,
    PROMPT,
    SLOW,
    delay_regimes,
    weighted_sample,
)
from procflow.discovery.table import read_table
from procflow.eventlog.events import Event
from procflow.eventlog.matching import StepMatcher
from procflow.model import Process

NAMES = (PROMPT, DELAYED, SLOW)


@dataclass(frozen=True)
class WaitFit:
    """One wait step's delay: one fit, or one per class (``keys`` the ``by:`` keys)."""

    step: str
    activity_step: str
    """The step it delays."""
    keys: tuple[str, ...]
    """``()`` for one distribution; else the ``by:`` keys, each with its fit in :attr:`fits`."""
    fits: tuple[DurationFit | None, ...]
    n: int
    """Waits measured (visits of the delayed step, a case's first event left out)."""


@dataclass(frozen=True)
class RegimeFit:
    """The pace attribute's class shares, in the declared order."""

    values: tuple[str, ...]
    shares: tuple[float, ...]
    cases: int


def wait_steps(process: Process) -> dict[str, str]:
    """Delay step id -> the step it delays.

    A delay step is what discover writes: ``wait-<step>``, an external
    owner's step without ``activity:`` whose only way on leads to ``<step>``,
    a step with an ``activity:``. (A hand-written external step keeps its
    duration: it may stand for anything.)
    """
    external = {k for k, o in process.owners.items() if o.external}
    found: dict[str, str] = {}
    for step_id, step in process.steps.items():
        if step.end or step.activity is not None or step.owner not in external:
            continue
        targets = {t.to for t in step.transitions}
        if len(targets) == 1:
            target = next(iter(targets))
            named = step_id == f"wait-{target}" and target in process.steps
            if named and process.steps[target].activity is not None:
                found[step_id] = target
    return found


def declared_classes(process: Process) -> tuple[str, ...] | None:
    """The classes of the ``pace`` attribute, when it is discover's regime (prompt first)."""
    declared = process.attributes.get(ATTRIBUTE)
    if not isinstance(declared, Categorical):
        return None
    values = tuple(declared.values)
    if values[0] != PROMPT or set(values) - set(NAMES) or len(values) < 2:
        return None
    return values


def refit_waits(
    process: Process, log: Iterable[Event], path: str = ""
) -> tuple[list[WaitFit], RegimeFit | None]:
    """Each wait step's delay and the pace regime, measured from ``log`` as discover does."""
    waits = wait_steps(process)
    if not waits:
        return [], None
    table = read_table(log, path)
    matcher = StepMatcher(process)
    step_of = [matcher(name) for name in table.activities]
    order = [a for a, step in enumerate(step_of) if step is not None]
    calendars = bool(getattr(process, "uses_calendars", False))
    timing = measure(table, order, calendars).timing
    classes = declared_classes(process)
    regimes = None
    if classes is not None:
        regimes = delay_regimes(table.case, table.activity, timing.extraneous, classes=len(classes))
    later = ~table.case_first() & np.isfinite(timing.extraneous)
    fits: list[WaitFit] = []
    for wait, target in waits.items():
        codes = [a for a in order if step_of[a] == target]
        rows = later & np.isin(table.activity, np.asarray(codes, dtype=table.activity.dtype))
        values = timing.extraneous[rows]
        duration = process.steps[wait].duration
        if regimes is None or classes is None or not _by_pace(duration):
            fits.append(WaitFit(wait, target, (), (fit_duration(values, wait=True),), values.size))
            continue
        per_class = []
        keys = _by_keys(duration, classes)
        for members in keys.values():
            weight = sum(
                (regimes.weights(table.case, regimes.names.index(m))[rows] for m in members),
                np.zeros(values.size),
            )
            per_class.append(fit_duration(weighted_sample(values, weight), wait=True))
        fits.append(WaitFit(wait, target, tuple(keys), tuple(per_class), values.size))
    regime = None
    if regimes is not None and classes is not None:
        shares = tuple(regimes.shares[regimes.names.index(v)] for v in classes)
        regime = RegimeFit(classes, shares, regimes.cases)
    return fits, regime


def _by_pace(duration: object) -> TypeGuard[ByDuration]:
    return isinstance(duration, ByDuration) and duration.by == ATTRIBUTE


def _by_keys(duration: ByDuration, classes: tuple[str, ...]) -> dict[str, list[str]]:
    """The keys of a ``by: pace`` duration to refit, each with the classes it stands for.

    A listed class stands for itself, ``else`` for every class not listed.
    """
    listed = [k for k, _v in duration.cases if k in classes]
    keys = {k: [k] for k in listed}
    rest = [c for c in classes if c not in listed]
    if duration.fallback is not None and rest:
        keys["else"] = rest
    return keys
