"""Colours, line styles and legend texts shared by the DOT and Mermaid back-ends.

The diagram spec names *roles* (a start step, an external lane, a feedback
edge, a step with an error, a lane at 90 % utilization); this module is the
one place that says how each role looks and how the legend explains it, so
both back-ends draw the same picture and the legend can never drift from
the styles it explains.

Colours are chosen to stay readable when printed in grey and for the common
forms of colour blindness: severity and load are told apart by lightness as
well as hue, feedback edges by their dashes as well as their orange, and
every highlight also carries a text badge with the rule code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

FONT = "Helvetica,Arial,sans-serif"

INK = "#1a202c"  # text
MUTED = "#4a5568"  # secondary text, normal edges and borders
FAINT = "#718096"  # durations and captions
PAPER = "#ffffff"  # step fill

START_BORDER = "#2f855a"
START_FILL = "#f0fff4"
END_BORDER = "#2d3748"
END_FILL = "#e2e8f0"
MISSING_BORDER = "#c53030"

LANE_FILL = "#f4f7fb"
LANE_BORDER = "#a0aec0"
EXTERNAL_FILL = "#ffffff"
EXTERNAL_BORDER = "#718096"

FEEDBACK = "#c05621"  # dark orange: loops and rework
EDGE = MUTED


class Level(enum.Enum):
    """How busy an owner is, from the analytic model's utilization."""

    LOW = "low"
    BUSY = "busy"
    HIGH = "high"
    OVERLOADED = "overloaded"


#: Lower bounds of the utilization levels; HIGH starts at lint's default
#: bottleneck threshold (PF502), OVERLOADED where the queue grows without bound (PF501).
LEVEL_BOUNDS: tuple[tuple[Level, float], ...] = (
    (Level.OVERLOADED, 1.0),
    (Level.HIGH, 0.85),
    (Level.BUSY, 0.7),
    (Level.LOW, 0.0),
)

LEVEL_FILL: dict[Level, str] = {
    Level.LOW: "#e6f6ec",
    Level.BUSY: "#fdf3c4",
    Level.HIGH: "#fcd9b6",
    Level.OVERLOADED: "#f9c6c6",
}

BOTTLENECK_BORDER = "#9b2c2c"


def level_of(utilization: float) -> Level:
    """The load level of a utilization (``0.9`` is :attr:`Level.HIGH`)."""
    for level, bound in LEVEL_BOUNDS:
        if utilization >= bound:
            return level
    return Level.LOW


class Mark(enum.Enum):
    """How serious the worst lint finding on a step or lane is."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class MarkStyle:
    fill: str
    border: str
    badge: str  # badge background; badge text is white


MARK_STYLE: dict[Mark, MarkStyle] = {
    Mark.ERROR: MarkStyle(fill="#fde2e2", border="#c53030", badge="#c53030"),
    Mark.WARNING: MarkStyle(fill="#fef5d6", border="#b7791f", badge="#975a16"),
    Mark.INFO: MarkStyle(fill="#e6f0fb", border="#2b6cb0", badge="#2b6cb0"),
}


class Weight(enum.Enum):
    """How heavy a lane's border is; each back-end says in its own units how wide."""

    PLAIN = "plain"
    MARKED = "marked"  # a lint finding on the owner
    BOTTLENECK = "bottleneck"


@dataclass(frozen=True)
class LaneLook:
    fill: str
    border: str
    dashed: bool  # an external owner: a pure delay, not a staffed lane
    weight: Weight


class _Badged(Protocol):
    @property
    def mark(self) -> Mark: ...


class LaneRoles(Protocol):
    """What :func:`lane_look` reads of a lane (:class:`procflow._render.spec.Lane` is one).

    A protocol, so this module needs nothing from the spec that imports it.
    """

    @property
    def external(self) -> bool: ...
    @property
    def level(self) -> Level | None: ...
    @property
    def badge(self) -> _Badged | None: ...
    @property
    def bottleneck(self) -> bool: ...


def lane_look(lane: LaneRoles) -> LaneLook:
    """How a swimlane looks: the load level fills it, a finding and the bottleneck outline it."""
    fill, border, dashed, weight = LANE_FILL, LANE_BORDER, False, Weight.PLAIN
    if lane.external:
        fill, border, dashed = EXTERNAL_FILL, EXTERNAL_BORDER, True
    if lane.level is not None:
        fill = LEVEL_FILL[lane.level]
    if lane.badge is not None:
        border, weight = MARK_STYLE[lane.badge.mark].border, Weight.MARKED
    if lane.bottleneck:
        border, weight = BOTTLENECK_BORDER, Weight.BOTTLENECK
    return LaneLook(fill, border, dashed, weight)


class Key(enum.Enum):
    """One legend entry; a diagram lists only the keys it uses, in this order."""

    START = "start"
    STEP = "step"
    END = "end"
    MISSING = "missing"
    TRANSITION = "transition"
    FEEDBACK = "feedback"
    LANE = "lane"
    HOURS = "hours"
    EXTERNAL = "external"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    LOW = "low"
    BUSY = "busy"
    HIGH = "high"
    OVERLOADED = "overloaded"
    BOTTLENECK = "bottleneck"


LEGEND_TEXT: dict[Key, str] = {
    Key.START: "start step (cases enter here; arrival rate on the arrow)",
    Key.STEP: "step: title and duration",
    Key.END: "end step (the case is done)",
    Key.MISSING: "missing step (a transition names no step)",
    Key.TRANSITION: "transition: trigger and probability",
    Key.FEEDBACK: "feedback loop (rework); \u2264N\u00d7 = at most N times per case",
    Key.LANE: "owner lane: staff pool, capacity = people in parallel",
    Key.HOURS: "working hours under an owner: durations are working time, work pauses outside them",
    Key.EXTERNAL: "external owner: pure delay, no queue",
    Key.ERROR: "lint error (badge: rule codes)",
    Key.WARNING: "lint warning (badge: rule codes)",
    Key.INFO: "lint info (badge: rule codes)",
    Key.LOW: "owner under 70% busy",
    Key.BUSY: "owner 70\u201385% busy",
    Key.HIGH: "owner 85\u2013100% busy (bottleneck risk)",
    Key.OVERLOADED: "owner overloaded (\u2265100%: queue grows without bound)",
    Key.BOTTLENECK: "bottleneck: the busiest owner",
}

LEVEL_KEY: dict[Level, Key] = {
    Level.LOW: Key.LOW,
    Level.BUSY: Key.BUSY,
    Level.HIGH: Key.HIGH,
    Level.OVERLOADED: Key.OVERLOADED,
}

MARK_KEY: dict[Mark, Key] = {Mark.ERROR: Key.ERROR, Mark.WARNING: Key.WARNING, Mark.INFO: Key.INFO}

#: The other way round: the level or mark a legend key explains.
KEY_LEVEL: dict[Key, Level] = {key: level for level, key in LEVEL_KEY.items()}
KEY_MARK: dict[Key, Mark] = {key: mark for mark, key in MARK_KEY.items()}
