"""The process model of docs/file-format.md, as pydantic v2 models.

These models are the single definition of what a process file may say:
the loader validates YAML data against them, ``procflow schema`` prints the
JSON Schema generated from them, and every engine (lint, analyze, simulate,
render, live cases) reads the validated objects. Validation here is about
*shape* (types, units, parameters); whether the parts fit together (a
target step exists, an owner is declared, probabilities sum to 1) is the
linter's job, so one file can report all of its problems at once.

Models are frozen: a process is a value. What-if changes make new
processes (:meth:`Process.apply`, :meth:`Process.with_changes`) from the
document the process was validated from, as JSON Merge Patch (RFC 7386).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, PydanticKnownError

from procflow import metrics
from procflow.calendars import (
    DEFAULT_TIMEZONE,
    Calendar,
    HoursError,
    TimezoneError,
    Week,
    check_country,
    weekly_hours,
    weekly_profile,
    zone,
)
from procflow.casedata import (
    ATTRIBUTE_JSON_SCHEMA,
    BY_JSON_SCHEMA,
    PRIORITY_JSON_SCHEMA,
    Attribute,
    ByDuration,
    ByValue,
    Categorical,
    Numeric,
    Priority,
    parse_attribute,
    parse_by,
    parse_condition,
    parse_priority,
)
from procflow.distributions import (
    _DISTRIBUTION_JSON_SCHEMA,
    DURATION_JSON_SCHEMA,
    AnyDistribution,
    Distribution,
    parse_distribution,
)
from procflow.errors import Position, Problem, ProcessError
from procflow.source import Locator, NullSource, PatchedSource, Path, problems_from_errors
from procflow.units import UnitError, format_duration, format_number, parse_duration, parse_rate

ID_PATTERN = r"^[a-z][a-z0-9_-]*$"
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""Ids of processes, steps, owners, triggers and goals."""

#: Metrics a goal may name (:data:`procflow.metrics.REGISTRY`); ``step_time`` and
#: ``utilization`` take an argument.
METRICS: tuple[str, ...] = metrics.NAMES
#: Metrics that are distributions and therefore need a ``stat``.
DISTRIBUTION_METRICS = metrics.DISTRIBUTIONS
STATS: tuple[str, ...] = metrics.STATS

MAX_CAPACITY = 10**15
"""The largest staff pool: beyond it a capacity is a typo, and 10**15 is still exact as a float."""

_CONFIG = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


def _rate(value: Any) -> Any:
    try:
        return parse_rate(value)
    except UnitError as exc:
        raise PydanticCustomError("procflow", str(exc), {"offset": exc.offset}) from None


PerSecond = Annotated[
    float,
    BeforeValidator(_rate),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*\d+(\.\d*)?\s*/\s*(s|m|min|h|d|week|month)\s*$",
            "description": "A rate such as '12/h' (cases per hour).",
        }
    ),
]
"""A rate: written ``12/h``, held as events per second."""


class CalendarSpec(BaseModel):
    """A working calendar: weekly open hours in a time zone, with holidays.

    See docs/working-time.md.
    """

    model_config = _CONFIG

    title: str | None = Field(default=None, description="A short human name for the calendar.")
    timezone: str = Field(
        default=DEFAULT_TIMEZONE, description="IANA time zone, e.g. 'Europe/Amsterdam'."
    )
    hours: dict[str, str] = Field(
        min_length=1,
        description="Open hours by day: keys 'mon', 'mon-fri', 'mon,wed'; values "
        "'09:00-12:30, 13:30-17:00' (a range may cross midnight: '22:00-06:00').",
    )
    holidays: list[Annotated[date, Field(strict=False)]] = Field(
        default_factory=list, description="Whole days closed (YYYY-MM-DD)."
    )
    country: str | None = Field(
        default=None, description="Also closed on this country's public holidays, e.g. 'NL'."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            zone(name)
        except TimezoneError as exc:
            raise PydanticCustomError("procflow", str(exc), {}) from None
        return name

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, hours: dict[str, str]) -> dict[str, str]:
        for key, value in hours.items():
            try:
                weekly_hours({key: value})
            except HoursError as exc:
                part = "key" if "day" in str(exc).split(" ")[:2] else "value"
                raise PydanticCustomError(
                    "procflow",
                    str(exc),
                    {"key": key, "part": part, "offset": exc.offset if part == "value" else 0},
                ) from None
        return hours

    @field_validator("country")
    @classmethod
    def _known_country(cls, country: str | None) -> str | None:
        if country is not None:
            try:
                check_country(country)
            except ValueError as exc:
                raise PydanticCustomError("procflow", str(exc), {}) from None
        return country

    @cached_property
    def calendar(self) -> Calendar:
        """The calendar itself, for working-time arithmetic."""
        return Calendar(
            weekly_hours(self.hours), self.timezone, frozenset(self.holidays), self.country
        )


class Shift(BaseModel):
    """Capacity that works one calendar: ``{calendar: nights, capacity: 2}``."""

    model_config = _CONFIG

    calendar: Id = Field(description="The calendar these units work.")
    capacity: int = Field(default=1, ge=1, le=MAX_CAPACITY, description="Units on this shift.")


def _percent(value: Any) -> Any:
    """``"65%"`` -> ``0.65``; anything else is left to the field's own validation."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100.0
        except ValueError:
            raise PydanticCustomError(
                "procflow", "{value!r} is not a percentage: write e.g. 65%", {"value": value}
            ) from None
    return value


class Owner(BaseModel):
    """A role that does or answers for work: a staff pool of ``capacity``, or external."""

    model_config = _CONFIG

    title: str | None = Field(default=None, description="A short human name for the owner.")
    description: str | None = Field(default=None, description="What the owner is for, in prose.")
    capacity: int = Field(
        default=1,
        ge=1,
        le=MAX_CAPACITY,
        description="People working in parallel (at most 10**15: exact as a float).",
    )
    external: bool = Field(
        default=False, description="Not staff (customer, supplier): a pure delay, no queue."
    )
    cost_per_hour: float | None = Field(
        default=None,
        ge=0,
        description="What one unit of capacity costs per hour (staffing cost, cost per case).",
    )
    cost_per_step: float | None = Field(
        default=None, ge=0, description="A fixed amount paid for each step the owner does."
    )
    calendar: Id | None = Field(
        default=None, description="The calendar the owner works (default: around the clock)."
    )
    shifts: list[Shift] | None = Field(
        default=None,
        min_length=1,
        description="Capacity by calendar: [{calendar: office, capacity: 6}, ...].",
    )

    @model_validator(mode="after")
    def _calendar_or_shifts(self) -> Owner:
        if self.shifts is not None and self.calendar is not None:
            raise PydanticCustomError(
                "procflow",
                "give either 'calendar' (all units work it) or 'shifts' (capacity by calendar), "
                "not both",
                {"key": "shifts", "part": "key"},
            )
        if self.shifts is not None and "capacity" in self.model_fields_set:
            raise PydanticCustomError(
                "procflow",
                "an owner with 'shifts' takes its capacity from them: drop 'capacity'",
                {"key": "capacity", "part": "key"},
            )
        if self.shifts is not None and self.external:  # every command ignored them
            raise PydanticCustomError(
                "procflow",
                "an external owner has no capacity to split into shifts: give it a "
                "'calendar' for its working hours, or drop 'external'",
                {"key": "shifts", "part": "key"},
            )
        return self

    @property
    def calendars(self) -> tuple[tuple[str | None, int], ...]:
        """``(calendar or None, units)`` of each group of units (one group without shifts)."""
        if self.shifts is not None:
            return tuple((shift.calendar, shift.capacity) for shift in self.shifts)
        return ((self.calendar, self.capacity),)

    @property
    def units(self) -> int:
        """Units of capacity over all shifts."""
        return sum(units for _, units in self.calendars)


class Arrivals(BaseModel):
    """How cases arrive: Poisson at ``rate``, or inter-arrival times drawn from ``every``."""

    model_config = _CONFIG

    rate: PerSecond | None = Field(default=None, description="Poisson arrivals, e.g. '8/h'.")
    every: Distribution | None = Field(
        default=None, description="Inter-arrival time distribution, e.g. 'exponential(5m)'."
    )
    calendar: Id | None = Field(
        default=None,
        description="Cases arrive only while this calendar is open ('rate' and 'every' count "
        "open time); a profile is read in its time zone and skips its holidays.",
    )
    profile: dict[str, PerSecond] | None = Field(
        default=None,
        min_length=1,
        description="A weekly rate profile: 'mon-fri 08:00-12:00': 12/h; times not listed: "
        "no arrivals (non-homogeneous Poisson).",
    )

    @field_validator("profile")
    @classmethod
    def _valid_profile(cls, profile: dict[str, float] | None) -> dict[str, float] | None:
        if profile is None:
            return None
        for key in profile:
            try:
                weekly_profile({key: 1.0})
            except HoursError as exc:
                raise PydanticCustomError(
                    "procflow", str(exc), {"key": key, "part": "key"}
                ) from None
        try:
            weekly_profile(profile)
        except HoursError as exc:
            raise PydanticCustomError("procflow", str(exc), {}) from None
        return profile

    @cached_property
    def profile_week(self) -> Week | None:
        """The profile as rates by hour of the week (per second), or ``None``."""
        return None if self.profile is None else weekly_profile(self.profile)

    @field_validator("every")
    @classmethod
    def _positive_interval(cls, every: Distribution | None) -> Distribution | None:
        if every is not None and not (every.mean > 0.0 and math.isfinite(1.0 / every.mean)):
            raise PydanticCustomError(  # 1e-320s too: its rate, 1/mean, is infinite
                "procflow",
                "the mean time between arrivals must be positive (got {every}): an interval "
                "of zero would bring every case at once",
                {"every": str(every)},
            )
        return every

    @model_validator(mode="after")
    def _exactly_one(self) -> Arrivals:
        given = [self.rate is not None, self.every is not None, self.profile is not None]
        if sum(given) != 1:
            if self.profile is not None:
                raise PydanticCustomError(
                    "procflow",
                    "a 'profile' gives the rates itself: drop 'rate'/'every' or the profile",
                    {},
                )
            raise PydanticCustomError(
                "procflow",
                "give either 'rate' (e.g. rate: 8/h) or 'every' (e.g. every: exponential(5m)), "
                "not both and not neither",
                {},
            )
        return self

    @property
    def mean_interarrival(self) -> float:
        """Mean seconds between arrivals (while open, with a calendar; see
        :func:`procflow.analysis` for the weekly mean with calendars)."""
        if self.profile_week is not None:
            week_total = sum(
                (end - start) * 60.0 * rate for day in self.profile_week for start, end, rate in day
            )
            return 7 * 86400.0 / week_total
        if self.rate is not None:
            return 1.0 / self.rate
        assert self.every is not None
        return self.every.mean

    @property
    def rate_per_second(self) -> float:
        mean = self.mean_interarrival
        return 1.0 / mean if mean > 0 else math.inf

    @property
    def rate_per_hour(self) -> float:
        return self.rate_per_second * 3600.0

    @property
    def scv(self) -> float:
        """Squared coefficient of variation of inter-arrival times (1 for Poisson)."""
        return 1.0 if self.every is None else self.every.scv


# --------------------------------------------------------------------------
# case attributes (docs/attributes.md): the parsers live in procflow.casedata


def _probability(value: Any) -> Any:
    """``p``: a number in [0, 1], or the ``by:`` form of such numbers."""
    if isinstance(value, ByValue):
        return value
    if isinstance(value, Mapping) and "by" in value:
        return parse_by(value, _one_probability)
    return _one_probability(value)


def _one_probability(value: Any) -> float:
    """A number in [0, 1], refused with pydantic's own error types (same messages as a
    constrained float field); ``"65%"`` is 0.65."""
    value = _percent(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticKnownError("float_type")
    if not math.isfinite(value):
        raise PydanticKnownError("finite_number")
    if value < 0.0:
        raise PydanticKnownError("greater_than_equal", {"ge": 0.0})
    if value > 1.0:
        raise PydanticKnownError("less_than_equal", {"le": 1.0})
    return float(value)


def _step_duration(value: Any) -> Any:
    """``duration``: a distribution, or the ``by:`` form of distributions."""
    if isinstance(value, ByDuration):
        return value
    if isinstance(value, Mapping) and "by" in value:
        by = parse_by(value, parse_distribution)
        return ByDuration(by.by, by.cases, by.fallback)
    return parse_distribution(value)


def _dump(value: Any) -> Any:
    """Plain data for ``model_dump`` of the attribute-related values (as a file writes them)."""
    if isinstance(value, ByValue):
        cases = {key: _dump(v) for key, v in value.cases}
        fallback = {} if value.fallback is None else {"else": _dump(value.fallback)}
        return {"by": value.by, **cases, **fallback}
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, Categorical):
        return dict(zip(value.values, value.shares, strict=True))
    if isinstance(value, Numeric):
        return value.text
    if isinstance(value, Priority):
        order = {} if value.order is None else {"order": list(value.order)}
        return {"by": value.by, **order, "preemptive": value.preemptive}
    return value


Probability = Annotated[
    float | ByValue[float],
    PlainValidator(_probability),
    PlainSerializer(_dump),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 1},
                {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]*)?\s*%\s*$"},
                BY_JSON_SCHEMA,
            ]
        }
    ),
]
"""A transition's ``p``: a number in [0, 1] (or a percentage, ``65%``) or
``{by: attr, value: p, else: p}``."""

StepDuration = Annotated[
    AnyDistribution | ByDuration,
    PlainValidator(_step_duration),
    PlainSerializer(_dump),
    WithJsonSchema({"anyOf": [_DISTRIBUTION_JSON_SCHEMA, BY_JSON_SCHEMA]}),
]
"""A step's ``duration``: a distribution or ``{by: attr, value: dist, else: dist}``."""

AttributeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
"""An attribute's name: like an id but without '-', which a condition would read as minus."""

AttributeSpec = Annotated[
    Attribute,
    PlainValidator(parse_attribute),
    PlainSerializer(_dump),
    WithJsonSchema(ATTRIBUTE_JSON_SCHEMA),
]
PrioritySpec = Annotated[
    Priority,
    PlainValidator(parse_priority),
    PlainSerializer(_dump),
    WithJsonSchema(PRIORITY_JSON_SCHEMA),
]


def weigh_by_durations(process: Process) -> None:
    """Give every ``by:`` duration the shares of its attribute (for its overall mean)."""
    for step in process.steps.values():
        if isinstance(step.duration, ByDuration):
            step.duration.weigh(process.attributes.get(step.duration.by))


class Transition(BaseModel):
    """One outgoing edge of a step: where to, how likely, and whether it sends work back."""

    model_config = _CONFIG

    to: Id = Field(description="The step this transition leads to.")
    p: Probability | None = Field(
        default=None,
        description="Probability (0.65 or '65%'), or {by: attribute, value: p, else: p}.",
    )
    when: Annotated[str, BeforeValidator(parse_condition)] | None = Field(
        default=None,
        description='A condition over case attributes ("amount < 1000"); the first '
        "transition whose condition holds is taken, one without 'when' is the default.",
    )
    feedback: bool = Field(
        default=False, description="Marks an edge that sends work back (rework, reopen)."
    )
    max: int | None = Field(
        default=None, ge=1, description="How often one case may take this edge."
    )
    description: str | None = Field(
        default=None, description="When or why cases take this transition, in prose."
    )

    # The trigger is not a field (a file never writes it: it is the key under
    # ``on:``); the step stores it in the instance dict, which this
    # non-data descriptor reads first. Cheaper than a pydantic private
    # attribute, which costs a Python-level __getattr__ on every read.
    @cached_property
    def trigger(self) -> str:
        """The trigger name: ``next`` for the ``next:`` form, else the key under ``on:``."""
        return "next"


def _short_transition(value: Any) -> Any:
    return {"to": value} if isinstance(value, str) else value


TransitionSpec = Annotated[
    Transition,
    BeforeValidator(_short_transition, json_schema_input_type=Id | Transition),
]


class Step(BaseModel):
    """A step of the process: who owns it, how long it takes and where it leads."""

    model_config = _CONFIG

    title: str | None = Field(default=None, description="A short human name for the step.")
    description: str | None = Field(default=None, description="What the step is for, in prose.")
    owner: Id | None = Field(
        default=None, description="The owner who does the step (an id under 'owners')."
    )
    duration: StepDuration | None = Field(
        default=None,
        description="How long one visit takes: a duration ('5m', fixed) or a distribution "
        "such as 'exponential(6m)', 'triangular(2m, 4m, 10m)', 'lognormal(1h, 20m)'; or "
        "{by: attribute, value: distribution, else: distribution}.",
    )
    next: Id | None = Field(default=None, description="The one unconditional next step.")
    on: dict[Id, TransitionSpec] | None = Field(
        default=None, description="Named transitions: trigger -> step or {to, p, feedback, max}."
    )
    parallel: list[Id] | None = Field(
        default=None,
        min_length=2,
        description="Fork: when this step's work is done the case continues in every listed "
        "step at once, one token per branch (two or more; replaces 'next' and 'on'). The "
        "branches meet again at a step with 'join'.",
    )
    join: Literal["all", "first"] | None = Field(
        default=None,
        description="Join of the innermost open fork: 'all' waits until every branch has "
        "arrived, 'first' continues with the first branch to arrive and withdraws the others "
        "(their queued work is removed, their work in progress abandoned).",
    )
    end: bool = Field(default=False, description="An end step: the case is done.")
    consulted: list[Id] = Field(
        default_factory=list, description="Owners consulted during the step (RACI 'C')."
    )
    informed: list[Id] = Field(
        default_factory=list, description="Owners informed when the step is done (RACI 'I')."
    )
    activity: str | None = Field(default=None, description="The name of this step in event logs.")

    @model_validator(mode="after")
    def _next_or_on(self) -> Step:
        if self.next is not None and self.on is not None:
            raise PydanticCustomError(
                "procflow",
                "has both 'next' and 'on': use 'next' for one unconditional transition "
                "or 'on' for named ones",
                {"key": "on", "part": "key"},
            )
        if self.parallel is not None and (self.next is not None or self.on is not None):
            raise PydanticCustomError(
                "procflow",
                "has both 'parallel' and '{other}': a fork continues in every branch listed "
                "under 'parallel', so it has no other transitions",
                {"key": "parallel", "part": "key", "other": "next" if self.next else "on"},
            )
        return self

    # Built on first use and kept in the instance dict (a cached property is
    # not a field: it is not validated, dumped or compared).
    @cached_property
    def transitions(self) -> tuple[Transition, ...]:
        """Outgoing transitions in file order, each knowing its trigger."""
        edges: list[Transition] = []
        if self.next is not None:
            edges.append(Transition(to=self.next))
        for trigger, transition in (self.on or {}).items():
            edge = transition
            if edge.__dict__.get("trigger", trigger) != trigger:  # one object under two keys
                edge = edge.model_copy()
            edge.__dict__["trigger"] = trigger
            edges.append(edge)
        return tuple(edges)

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(t.trigger for t in self.transitions)


_TARGET_RE = re.compile(r"^\s*(<=|>=|<|>|==|=)\s*(.+?)\s*$")


@dataclass(frozen=True)
class Target:
    """A goal's target: ``<= 24h`` is ``Target("<=", 86400.0, "duration")``.

    ``kind`` is ``duration`` (seconds), ``rate`` (per hour), ``percent``
    (held as a fraction) or ``number``.
    """

    op: str
    value: float
    kind: str
    text: str

    def met_by(self, observed: float) -> bool:
        """Whether an observed or estimated value meets the target."""
        if math.isnan(observed):
            return False
        return {
            "<=": observed <= self.value,
            "<": observed < self.value,
            ">=": observed >= self.value,
            ">": observed > self.value,
            "==": math.isclose(observed, self.value, rel_tol=1e-9, abs_tol=1e-12),
        }[self.op]

    def __str__(self) -> str:
        return self.text


def parse_target(value: Any) -> Target:
    """Parse ``"<= 24h"``, ``">= 0.9"``, ``"> 10/h"`` or ``"<= 85%"``."""
    if isinstance(value, Target):
        return value
    if not isinstance(value, str):
        shown = format_number(value) if isinstance(value, int | float) else repr(value)
        raise PydanticCustomError(
            "procflow",
            f'a target is a comparison in quotes, such as "<= 24h" or ">= 0.9"; got {shown}',
            {},
        )
    match = _TARGET_RE.match(value)
    if match is None:
        raise PydanticCustomError(
            "procflow",
            f'target {value!r} needs a comparison: write "<= {value.strip()}" or '
            f'">= {value.strip()}"',
            {},
        )
    op, amount = match.groups()
    op = "==" if op == "=" else op
    offset = match.start(2)
    text = amount.strip()
    try:
        if text.endswith("%"):
            return Target(op, float(text[:-1]) / 100.0, "percent", value.strip())
        if "/" in text:
            return Target(op, parse_rate(text) * 3600.0, "rate", value.strip())
        try:
            number = float(text)
        except ValueError:
            return Target(op, parse_duration(text), "duration", value.strip())
        if not math.isfinite(number):
            raise UnitError(f"target {text!r} is not a finite number")
        return Target(op, number, "number", value.strip())
    except UnitError as exc:
        raise PydanticCustomError(
            "procflow", f"target: {exc}", {"offset": offset + exc.offset}
        ) from None


TargetSpec = Annotated[
    Target,
    BeforeValidator(parse_target),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*(<=|>=|<|>|==|=)\s*\S.*$",
            "description": "A comparison: '<= 24h', '>= 0.9', '> 10/h', '<= 85%'.",
        }
    ),
]


def parse_metric(metric: str) -> tuple[str, str | None]:
    """Split ``"step_time:triage"`` into ``("step_time", "triage")``."""
    name, _, argument = metric.partition(":")
    return name.strip(), (argument.strip() or None) if _ else None


class Goal(BaseModel):
    """A SMART goal: a metric, a statistic, a target and a deadline, with an owner."""

    model_config = _CONFIG

    id: Id = Field(description="The goal id, used by reports and JSON.")
    title: str | None = Field(default=None, description="A short human name for the goal.")
    description: str | None = Field(default=None, description="What the goal is for, in prose.")
    metric: str | None = Field(
        default=None,
        description=", ".join(m.syntax for m in metrics.REGISTRY[:-1])
        + f" or {metrics.REGISTRY[-1].syntax}.",
    )
    stat: Literal["mean", "p50", "p90", "p95", "p99"] | None = Field(
        default=None,
        description="The statistic of a distribution metric: mean or a percentile.",
    )
    target: TargetSpec | None = Field(
        default=None, description="The comparison to meet: '<= 24h', '>= 0.9', '<= 85%'."
    )
    deadline: Annotated[date, Field(strict=False)] | None = Field(
        default=None, description="When the goal must be met (a date, YYYY-MM-DD)."
    )
    owner: Id | None = Field(default=None, description="Who answers for the goal (an owner id).")
    where: Annotated[str, BeforeValidator(parse_condition)] | None = Field(
        default=None,
        description="Scope the goal to cases whose attributes meet a condition "
        "(\"severity == 'p1'\").",
    )

    @model_validator(mode="after")
    def _target_fits_metric(self) -> Goal:
        if self.where is not None and self.metric is not None:
            scoped = parse_metric(self.metric)[0]
            if metrics.metric(scoped) is not None and scoped not in metrics.SCOPED:
                # the simulator could only say "cannot measure" of it, which lint did not
                raise PydanticCustomError(
                    "procflow",
                    f"'where' scopes the per-case metrics {', '.join(metrics.SCOPED)} only, "
                    f"not {self.metric!r}: remove 'where' or measure a per-case metric",
                    {"key": "where"},
                )
        if self.metric is None or self.target is None:
            return self
        name, _argument = parse_metric(self.metric)
        known = metrics.metric(name)
        kinds = known.targets if known is not None else None
        if kinds is not None and self.target.kind not in kinds:
            wanted = {
                "duration": 'a duration such as "<= 24h"',
                "rate": 'a rate such as ">= 10/h"',
                "number": "a number",
                "percent": 'a percentage such as "<= 85%"',
            }
            options = " or ".join(wanted[k] for k in sorted(kinds))
            raise PydanticCustomError(
                "procflow",
                f"the target of metric {self.metric!r} must be {options}, not {self.target.text!r}",
                {"key": "target"},
            )
        return self

    @property
    def metric_name(self) -> str | None:
        return parse_metric(self.metric)[0] if self.metric else None

    @property
    def metric_argument(self) -> str | None:
        return parse_metric(self.metric)[1] if self.metric else None


class Process(BaseModel):
    """A business process: owners, arrivals, steps with their transitions, and goals."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        title="procflow process",
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://procflow.dev/schema/process.json",
        },
    )

    process: Id = Field(description="The process id.")
    title: str | None = Field(default=None, description="A short human name for the process.")
    description: str | None = Field(default=None, description="What the process is for, in prose.")
    owner: Id | None = Field(default=None, description="Accountable for the whole process.")
    roster: str | None = Field(
        default=None, description="A shared owners file, relative to this file."
    )
    owners: dict[Id, Owner] = Field(
        default_factory=dict, description="The roles doing the work, by id."
    )
    calendars: dict[Id, CalendarSpec] = Field(
        default_factory=dict,
        description="Working calendars by id, for owners, shifts and arrivals "
        "(docs/working-time.md).",
    )
    arrivals: Arrivals | None = Field(
        default=None, description="How cases arrive (needed to analyze and simulate)."
    )
    start: Id = Field(description="The first step.")
    steps: dict[Id, Step] = Field(min_length=1, description="The steps of the process, by id.")
    goals: list[Goal] = Field(
        default_factory=list, description="Targets the process should meet (SMART goals)."
    )
    attributes: dict[AttributeName, AttributeSpec] = Field(
        default_factory=dict,
        description="Case attributes drawn once per case at arrival, by name: "
        "{value: share} (categorical) or a distribution of numbers.",
    )
    priority: PrioritySpec | None = Field(
        default=None, description="The attribute whose values order the queues."
    )

    @model_validator(mode="after")
    def _weigh_by_durations(self) -> Process:
        weigh_by_durations(self)
        return self

    @field_validator("goals")
    @classmethod
    def _unique_goal_ids(cls, goals: list[Goal]) -> list[Goal]:
        first: dict[str, int] = {}
        for index, goal in enumerate(goals):
            if goal.id in first:
                raise PydanticCustomError(
                    "procflow",
                    "goal id '{id}' is already used by goal {first} of the list: reports and "
                    "JSON name goals by id, so give each its own",
                    {"id": goal.id, "first": first[goal.id] + 1, "key": [index, "id"]},
                )
            first[goal.id] = index
        return goals

    _source: Locator = PrivateAttr(default_factory=NullSource)
    _document: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def id(self) -> str:
        return self.process

    @property
    def timezone(self) -> str:
        """The process time zone: the first calendar's, else UTC (docs/working-time.md)."""
        for spec in self.calendars.values():
            return spec.timezone
        return DEFAULT_TIMEZONE

    @property
    def uses_calendars(self) -> bool:
        """Whether any owner or the arrivals keep working time (else: around the clock)."""
        arrivals = self.arrivals
        if arrivals is not None and (arrivals.calendar is not None or arrivals.profile):
            return True
        return any(
            calendar is not None
            for owner in self.owners.values()
            for calendar, _ in owner.calendars
        )

    @property
    def source(self) -> Locator:
        """Where each part of the process was written (``source.locate(path)``)."""
        return self._source

    @property
    def document(self) -> dict[str, Any]:
        """A copy of the data this process was validated from (roster owners merged in)."""
        return copy.deepcopy(self._document)

    def written(self, path: Sequence[str | int]) -> str | None:
        """A text or number of the process as its file wrote it (``exponential(1e15s)``, not
        the ``exponential(1.15741e+10d)`` procflow reads it as); ``None`` for anything else.

        Messages quote data literally: a value the user wrote is shown as written.
        """
        value: Any = self._document
        for key in path:
            if isinstance(value, dict) and key in value:
                value = value[key]
            elif isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
                value = value[key]
            else:
                return None
        if isinstance(value, str):
            return value
        return self._source.written(path) if isinstance(value, int | float) else None

    def edges(self) -> Iterator[tuple[str, Transition]]:
        """Every transition as ``(from_step, transition)``, in file order."""
        for step_id, step in self.steps.items():
            for transition in step.transitions:
                yield step_id, transition

    def position(
        self, path: Sequence[str | int], part: Literal["key", "value"] = "key"
    ) -> Position:
        """The file position of a part of the process, e.g. ``("steps", "triage")``."""
        return self._source.locate(path, part)

    def with_changes(self, patch: Mapping[str, Any], name: str = "<patch>") -> Process:
        """A new process with ``patch`` (JSON Merge Patch, ``None`` deletes) applied."""
        if not isinstance(patch, Mapping):
            raise TypeError(
                "Process.with_changes() takes a mapping (a JSON Merge Patch such as "
                f"{{'owners': {{'agent': {{'capacity': 5}}}}}}), not {type(patch).__name__}"
            )
        patched = merge_patch(self._document, patch)
        source = PatchedSource(self._source, NullSource(name), patch, ())
        return validate_process(patched, source)

    def apply(self, change: Change) -> Process:
        """A new process with a change file's patch applied; errors point into the change."""
        if not isinstance(change, Change):
            raise TypeError(
                "Process.apply() takes a Change (procflow.load_change(path)), "
                f"not {type(change).__name__}; for a plain patch use with_changes()"
            )
        patched = merge_patch(self._document, change.patch)
        source = PatchedSource(self._source, change.source, change.patch, ("patch",))
        return validate_process(patched, source)


class Change(BaseModel):
    """A what-if scenario: a JSON Merge Patch on a process document."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    change: Id = Field(description="The change id.")
    title: str | None = Field(default=None, description="A short human name for the change.")
    description: str | None = Field(default=None, description="What the change is for, in prose.")
    patch: dict[str, Any] = Field(description="JSON Merge Patch; null deletes a key.")

    _source: Locator = PrivateAttr(default_factory=lambda: NullSource("<change>"))

    @property
    def id(self) -> str:
        return self.change

    @property
    def source(self) -> Locator:
        return self._source


class Roster(BaseModel):
    """A shared owners file: a top-level ``owners:`` mapping."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    owners: dict[Id, Owner] = Field(description="The shared owners, by id.")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch; returns a new value and leaves both inputs untouched.

    >>> merge_patch({"a": 1, "b": {"c": 2}}, {"b": {"c": None, "d": 3}})
    {'a': 1, 'b': {'d': 3}}
    """
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --------------------------------------------------------------------------
# validation with positions


def describe(path: Path, data: Any = None) -> str:
    """Name the part of a process a path points at: ``step 'triage'``, ``goal 'fast'``."""
    if not path:
        return ""
    head = path[0]
    if head == "steps" and len(path) >= 2:
        step = f"step {path[1]!r}"
        if len(path) >= 4 and path[2] == "on":
            return f"transition {path[3]!r} of {step}"
        if len(path) >= 3 and path[2] == "next":
            return f"transition 'next' of {step}"
        if len(path) >= 4 and path[2] == "parallel" and isinstance(path[3], int):
            return f"branch {path[3] + 1} of {step}"
        return step
    if head == "owners" and len(path) >= 2:
        return f"owner {path[1]!r}"
    if head == "goals" and len(path) >= 2:
        goal = path[1]
        try:
            name = data["goals"][goal]["id"] if data is not None else None
        except (KeyError, IndexError, TypeError):
            name = None
        return f"goal {name!r}" if isinstance(name, str) else f"goal #{int(goal) + 1}"
    if head == "arrivals":
        return "arrivals"
    if head == "attributes" and len(path) >= 2:
        return f"attribute {path[1]!r}"
    if head == "priority":
        return "priority"
    if head == "patch":
        return f"patch {'.'.join(str(p) for p in path[1:])}".strip()
    return ""


_FIELDS: dict[str, tuple[str, ...]] = {
    "process": tuple(Process.model_fields),
    "owner": tuple(Owner.model_fields),
    "step": tuple(Step.model_fields),
    "transition": tuple(Transition.model_fields),
    "goal": tuple(Goal.model_fields),
    "arrivals": tuple(Arrivals.model_fields),
    "calendar": tuple(CalendarSpec.model_fields),
    "shift": tuple(Shift.model_fields),
    "change": tuple(Change.model_fields),
}


def _allowed_keys(path: Path) -> Sequence[str]:
    if not path:
        return _FIELDS["process"]
    if path[0] == "steps" and len(path) == 2:
        return _FIELDS["step"]
    if path[0] == "steps" and len(path) == 4:
        return _FIELDS["transition"]
    if path[0] == "owners" and len(path) == 2:
        return _FIELDS["owner"]
    if path[0] == "goals" and len(path) == 2:
        return _FIELDS["goal"]
    if path == ("arrivals",):
        return _FIELDS["arrivals"]
    if path[0] == "calendars" and len(path) == 2:
        return _FIELDS["calendar"]
    if path[0] == "owners" and len(path) == 4 and path[2] == "shifts":
        return _FIELDS["shift"]
    return ()


def _not_a_mapping(data: Any, locator: Locator, what: str, keys: str) -> ProcessError:
    shown = "empty" if data is None else f"a {type(data).__name__}"
    if isinstance(data, list):
        shown = "a list"
    elif isinstance(data, str):
        shown = "a single text value"
    return ProcessError(
        [
            Problem(
                "PF002",
                f"a {what} file must be a mapping with {keys}; this file is {shown}",
                locator.locate(()),
            )
        ],
        f"{locator.file}: not a valid {what} file",
    )


_Model = TypeVar("_Model", bound=BaseModel)


def _validate(
    model: type[_Model],
    data: Any,
    locator: Locator,
    shape: tuple[str, str],
    allowed_keys: Callable[[Path], Sequence[str]],
) -> _Model:
    """``data`` as ``model``, or a :class:`ProcessError` with every problem, positioned.

    ``shape`` names the kind of file and the keys it needs, for data that is
    not even a mapping; ``allowed_keys`` lists the keys known at a path, for
    the did-you-mean hint on an unknown key.
    """
    if not isinstance(data, Mapping):
        raise _not_a_mapping(data, locator, *shape)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_errors(
            exc.errors(include_url=False),
            data,
            locator,
            lambda path: describe(path, data),
            allowed_keys,
        )
        raise ProcessError(problems, f"{locator.file}: not a valid {shape[0]} file") from None


def validate_process(data: Any, locator: Locator) -> Process:
    """Validate plain data as a process; raise :class:`ProcessError` with every problem."""
    shape = ("process", "'process', 'start' and 'steps'")
    process = _validate(Process, data, locator, shape, _allowed_keys)
    process._source = locator
    process._document = dict(data)
    return process


def validate_change(data: Any, locator: Locator) -> Change:
    """Validate plain data as a change file."""
    shape = ("change", "'change' and 'patch'")
    change = _validate(Change, data, locator, shape, lambda path: () if path else _FIELDS["change"])
    change._source = locator
    return change


def validate_roster(data: Any, locator: Locator) -> Roster:
    """Validate plain data as a roster (shared owners) file."""
    shape = ("roster", "a top-level 'owners' mapping")
    return _validate(
        Roster, data, locator, shape, lambda path: _allowed_keys(path) if path else ("owners",)
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a process file, generated from :class:`Process`.

    Two rules the loader enforces are added where pydantic cannot say them:
    a mapping keyed by ids (``steps``, ``owners``, ``on``) has no other keys
    (so ``Bad-Id`` fails in an editor too), and a step has ``next`` or
    ``on``, not both (and ``parallel`` with neither).
    """
    schema = Process.model_json_schema(by_alias=True)
    _closed_id_maps(schema)
    step = schema.get("$defs", {}).get("Step")
    if step is not None:
        step["not"] = {
            "anyOf": [
                {"required": ["next", "on"]},
                {"required": ["parallel", "next"]},
                {"required": ["parallel", "on"]},
            ]
        }
    return schema


def _closed_id_maps(node: Any) -> None:
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _closed_id_maps(value)
    elif isinstance(node, list):
        for value in node:
            _closed_id_maps(value)


__all__ = [
    "DISTRIBUTION_METRICS",
    "DURATION_JSON_SCHEMA",
    "ID_PATTERN",
    "METRICS",
    "STATS",
    "Arrivals",
    "CalendarSpec",
    "Change",
    "Goal",
    "Owner",
    "Process",
    "Roster",
    "Shift",
    "Step",
    "Target",
    "Transition",
    "describe",
    "format_duration",
    "json_schema",
    "merge_patch",
    "parse_metric",
    "parse_target",
    "validate_change",
    "validate_process",
    "validate_roster",
]
