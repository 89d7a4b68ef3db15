"""What discovery found, before it is written: :class:`Found` and its parts.

Plain data between the estimators (:mod:`.flow`, :mod:`.roles`,
:mod:`.timing`) and the two outputs, the process file (:mod:`.writer`)
and the report (:mod:`.discover`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from procflow.discovery.fit import DurationFit


@dataclass
class StepFound:
    """One activity as a step."""

    id: str
    activity: str
    owner: str
    events: int
    duration: DurationFit | None
    exits: list[tuple[str, str, int, bool, int | None]]
    """(trigger, target step, count, feedback, max), most frequent first."""
    exits_by: list[tuple[float, ...]] | None = None
    """Per exit: its departures by the cases of each class, prompt first (:mod:`.regimes`)."""
    delay: DurationFit | None = None
    """The extraneous delay in front of the step, when there is one."""
    delay_owner: str = "waiting"
    """The external owner of the delay step (one per role with calendars: its regular hours)."""
    delay_by: tuple[DurationFit | None, ...] | None = None
    """The delay fitted on each class's cases, prompt first (:mod:`.regimes`)."""
    wait_mean: float = 0.0
    contention_mean: float = 0.0
    parallel: list[str] | None = None
    """A fork gateway's branch starts (then ``exits`` is empty)."""
    join: bool = False
    """A join gateway (``join: all``)."""


@dataclass
class RoleFound:
    """One role: its activities, members, pool and working hours."""

    id: str
    activities: list[str]
    members: list[str]
    capacity: int
    peak: int
    events: int
    hours: np.ndarray
    """When it can work: its regular hours and the rare ones it also worked."""
    regular: np.ndarray | None = None
    """Its regular hours, when they differ from :attr:`hours` (waits end in them)."""
    raised_from: int | None = None
    """The on-duty estimate, when the pool had to be raised to carry the log's work."""


@dataclass
class Found:
    """Everything discovery infers from one log."""

    process: str
    log: str
    events: int
    cases: int
    timing: str
    min_share: float
    start: str
    steps: list[StepFound]
    roles: list[RoleFound]
    arrivals: int
    arrival_rate: float
    arrival_profile: np.ndarray
    """Arrivals per hour, for each of the 168 hours of the week (UTC)."""
    calendars: bool
    """Whether the model takes calendars and arrival profiles (written when it does)."""
    starts: list[tuple[str, int]] = field(default_factory=list)
    dropped_edges: int = 0
    dropped_pairs: int = 0
    dropped_activities: list[str] = field(default_factory=list)
    interleaving: list[tuple[str, str, int, int]] = field(default_factory=list)
    on_duty_total: int = 0
    blocks: list[BlockFound] = field(default_factory=list)
    parallel_notes: list[str] = field(default_factory=list)
    """Why groups of interleaving activities stayed alternatives."""
    prompt_share: float | None = None
    """The share of cases without extraneous waits, when delays are fitted per class."""
    prompt_cases: int = 0
    regime_classes: list[tuple[str, int]] = field(default_factory=list)
    """Each class of the regime (prompt first) and its cases."""
    resolution: str | None = None
    """What the timestamps' resolution allows, when it is coarser than the clock (dates only)."""


@dataclass
class BlockFound:
    """A fork/join block: gateway step ids and each branch's activities."""

    fork: str
    join: str
    branches: list[list[str]]
    runs: int
    clean: int


_NOT_ID = re.compile(r"[^a-z0-9]+")


def slug(text: str, taken: set[str], limit: int = 40) -> str:
    """A process id from any text: lower case, ``-`` between words, unique in ``taken``.

    >>> slug("T02 Check confirmation of receipt", set())
    't02-check-confirmation-of-receipt'
    >>> slug("1st call", {"a-1st-call"})
    'a-1st-call-2'
    >>> slug("NULL", set())
    'a-null'
    """
    base = _NOT_ID.sub("-", text.lower()).strip("-")[:limit].strip("-") or "step"
    if not base[0].isalpha() or base in ("null", "true", "false"):  # YAML would not read text
        base = f"a-{base}"
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}-{number}"
    taken.add(name)
    return name
