"""Case attributes, priorities and values chosen ``by:`` an attribute (docs/attributes.md).

The parsed forms of the keys a process file uses for data-driven work:

* ``attributes:`` -- each case draws one value per attribute at arrival,
  either a category with shares (``severity: {p1: 5%, p2: 25%, p3: 70%}``)
  or a number from a distribution of plain numbers
  (``amount: lognormal(2000, 3000)``): :class:`Categorical`, :class:`Numeric`;
* ``priority:`` -- which attribute orders the queues, in what order, and
  whether a more urgent case interrupts work in progress: :class:`Priority`;
* ``{by: severity, p1: exponential(2m), else: exponential(6m)}`` for a
  ``duration`` or a ``p``: :class:`ByValue`.

The parsers here are pydantic before-validators that raise positioned
schema errors (offset inside the text, or the sub-key), so a bad share or
argument becomes PF002 at the exact spot. Conditions (``when:``,
``where:``) live in :mod:`procflow.expressions`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic_core import PydanticCustomError, PydanticKnownError

from procflow.distributions import SIGNATURES, AnyDistribution, parse_distribution
from procflow.expressions import ExpressionError, parse
from procflow.units import format_number

__all__ = [
    "ATTRIBUTE_JSON_SCHEMA",
    "BY_JSON_SCHEMA",
    "PRIORITY_JSON_SCHEMA",
    "ByValue",
    "Categorical",
    "Numeric",
    "Priority",
    "parse_attribute",
    "parse_by",
    "parse_condition",
    "parse_priority",
]

_VALUE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_CALL_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$", re.DOTALL)
_NUMBER_RE = re.compile(r"^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _error(message: str, offset: int = 0, key: Any = None) -> PydanticCustomError:
    context: dict[str, Any] = {"offset": offset}
    if key is not None:
        context["key"] = key
    return PydanticCustomError("procflow", message, context)


@dataclass(frozen=True)
class Categorical:
    """A categorical attribute: its values in file order and their shares (summing to 1)."""

    values: tuple[str, ...]
    shares: tuple[float, ...]

    def share(self, value: str) -> float:
        return dict(zip(self.values, self.shares, strict=True)).get(value, 0.0)

    def __str__(self) -> str:
        parts = ", ".join(
            f"{v}: {format_number(s * 100)}%" for v, s in zip(self.values, self.shares, strict=True)
        )
        return "{" + parts + "}"


@dataclass(frozen=True)
class Numeric:
    """A numeric attribute: a distribution whose "seconds" are plain numbers."""

    distribution: AnyDistribution
    text: str

    def __str__(self) -> str:
        return self.text


Attribute = Categorical | Numeric


def _share(raw: Any, value: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _error(f"the share of {value!r} must be a number or a percentage", key=value)
    text = str(raw).strip()
    percent = text.endswith("%")
    try:
        number = float(text[:-1] if percent else text)
    except ValueError:
        raise _error(
            f"the share of {value!r} is {text!r}: write a percentage (5%) or a fraction (0.05)",
            key=value,
        ) from None
    number = number / 100.0 if percent else number
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise _error(f"the share of {value!r} must be between 0 and 100%", key=value)
    return number


def _categorical(data: Mapping[Any, Any]) -> Categorical:
    if not data:
        raise _error("a categorical attribute needs values with shares, e.g. {p1: 5%, p2: 95%}")
    values: list[str] = []
    shares: list[float] = []
    for raw_value, raw_share in data.items():
        value = str(raw_value) if isinstance(raw_value, int | float | str) else ""
        if isinstance(raw_value, bool) or not _VALUE_RE.match(value):
            raise _error(
                f"{raw_value!r} is not a usable value name: letters, digits, _ . + -",
                key=raw_value,
            )
        values.append(value)
        shares.append(_share(raw_share, value))
    total = math.fsum(shares)
    if abs(total - 1.0) > 1e-6:
        raise _error(f"the shares add up to {format_number(total * 100)}%, not 100%")
    return Categorical(tuple(values), tuple(shares))


def _numeric_text(text: str) -> Numeric:
    match = _CALL_RE.match(text)
    if match is None:
        stripped = text.strip()
        if not _NUMBER_RE.match(stripped):
            raise _error(
                f"{text!r} is neither a number nor a distribution of numbers such as "
                "lognormal(2000, 3000); a categorical attribute is a mapping {value: share}"
            )
        return Numeric(parse_distribution(f"{stripped}s"), stripped)
    name = match.group(1)
    if name not in SIGNATURES:
        raise _error(
            f"unknown distribution {name!r}: use one of {', '.join(SIGNATURES)}", match.start(1)
        )
    body, base = match.group(2), match.start(2)
    pieces: list[str] = []
    start = base
    for piece in body.split(","):
        stripped = piece.strip()
        offset = start + len(piece) - len(piece.lstrip())
        if not _NUMBER_RE.match(stripped):
            raise _error(
                f"{name}: {stripped!r} is not a plain non-negative number (attributes "
                "take numbers, not durations)",
                offset,
            )
        pieces.append(f"{stripped}s")
        start += len(piece) + 1
    try:
        distribution = parse_distribution(f"{name}({', '.join(pieces)})")
    except PydanticCustomError as exc:
        raise _error(exc.message().replace("s)", ")"), base) from None
    return Numeric(distribution, f"{name}({', '.join(p.strip() for p in body.split(','))})")


def parse_attribute(value: Any) -> Any:
    """Parse one entry of ``attributes:`` (pydantic before-validator)."""
    if isinstance(value, Categorical | Numeric):
        return value
    if isinstance(value, Mapping):
        return _categorical(value)
    if isinstance(value, bool) or value is None:
        raise _error(
            "an attribute is a mapping of values to shares ({p1: 5%, p2: 95%}) or a "
            "distribution of numbers (lognormal(2000, 3000))"
        )
    if isinstance(value, int | float):
        return _numeric_text(format_number(value))
    if isinstance(value, str):
        return _numeric_text(value)
    raise _error(f"an attribute cannot be {type(value).__name__}")


@dataclass(frozen=True)
class Priority:
    """How queues are ordered: by attribute ``by``, most urgent first (``order``)."""

    by: str
    order: tuple[str, ...] | None
    preemptive: bool

    def __str__(self) -> str:
        shown = " > ".join(self.order) if self.order else ""
        kind = "preemptive" if self.preemptive else "non-preemptive"
        return f"{self.by} ({shown}, {kind})" if shown else f"{self.by} ({kind})"


def parse_priority(value: Any) -> Any:
    """Parse ``priority:``: an attribute name, or ``{by, order, preemptive}``."""
    if isinstance(value, Priority):
        return value
    if isinstance(value, str):
        if not re.match(r"^[a-z][a-z0-9_]*$", value):
            raise _error(f"priority names an attribute; {value!r} is not an attribute name")
        return Priority(value, None, False)
    if not isinstance(value, Mapping):
        raise _error("priority is an attribute name or {by: attr, order: [..], preemptive: false}")
    unknown = [k for k in value if k not in ("by", "order", "preemptive")]
    if unknown:
        raise _error(
            f"unknown key {unknown[0]!r}; expected one of: by, order, preemptive", key=unknown[0]
        )
    by = value.get("by")
    if not isinstance(by, str):
        raise _error("priority needs 'by': the attribute that orders the queues")
    order = value.get("order")
    if order is not None and (
        not isinstance(order, list) or not order or not all(isinstance(v, str) for v in order)
    ):
        raise _error("'order' is a list of the attribute's values, most urgent first", key="order")
    if order is not None and len(set(order)) != len(order):
        raise _error("'order' names a value twice", key="order")
    preemptive = value.get("preemptive", False)
    if not isinstance(preemptive, bool):
        raise _error("'preemptive' is true or false", key="preemptive")
    return Priority(by, tuple(order) if order is not None else None, preemptive)


T = TypeVar("T")


@dataclass(frozen=True)
class ByValue(Generic[T]):
    """A value chosen by a categorical attribute: ``{by: severity, p1: X, else: Y}``.

    ``fallback`` is the ``else:`` value, or ``None`` when every value of the
    attribute is listed (lint checks that, PF801).
    """

    by: str
    cases: tuple[tuple[str, T], ...]
    fallback: T | None

    def for_value(self, value: object) -> T | None:
        """The value for a case whose attribute is ``value``."""
        for key, chosen in self.cases:
            if key == value:
                return chosen
        return self.fallback

    def options(self) -> tuple[T, ...]:
        """Every value it can give, ``else`` last."""
        found = [v for _, v in self.cases]
        return (*found, self.fallback) if self.fallback is not None else tuple(found)

    def __str__(self) -> str:
        parts = [f"{k}: {v}" for k, v in self.cases]
        if self.fallback is not None:
            parts.append(f"else: {self.fallback}")
        return f"by {self.by} {{{', '.join(parts)}}}"


def parse_by(value: Mapping[Any, Any], parse_one: Any) -> ByValue[Any]:
    """Parse the ``by:`` form with ``parse_one`` for each value (errors at the value's key)."""
    by = value.get("by")
    if not isinstance(by, str):
        raise _error("the 'by' form needs 'by': the categorical attribute that chooses")
    cases: list[tuple[str, Any]] = []
    fallback = None
    for key, raw in value.items():
        if key == "by":
            continue
        try:
            parsed = parse_one(raw)
        except PydanticCustomError as exc:
            context = dict(exc.context or {})
            raise _error(exc.message(), int(context.get("offset", 0) or 0), key) from None
        except PydanticKnownError as exc:
            raise _error(f"{key}: {raw!r} is not valid: {exc.message()}", 0, key) from None
        if key == "else":
            fallback = parsed
        else:
            cases.append((str(key), parsed))
    if not cases and fallback is None:
        raise _error("the 'by' form lists no values: add e.g. p1: ... and else: ...")
    return ByValue(by, tuple(cases), fallback)


def parse_condition(value: Any) -> Any:
    """Check a ``when:``/``where:`` condition's syntax; keep the text (before-validator)."""
    if not isinstance(value, str):
        raise _error("a condition is text in quotes, e.g. \"severity == 'p1'\"")
    try:
        parse(value)
    except ExpressionError as exc:
        raise _error(str(exc), exc.offset) from None
    return value


ATTRIBUTE_JSON_SCHEMA: dict[str, Any] = {
    "description": "Categorical: {value: share} with shares as fractions or percentages "
    "summing to 100%; numeric: a number or a distribution of plain numbers such as "
    "'lognormal(2000, 3000)'.",
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    {"type": "number", "minimum": 0, "maximum": 1},
                    {"type": "string", "pattern": r"^\s*\d+(\.\d*)?\s*%\s*$"},
                ]
            },
            "minProperties": 1,
        },
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*[A-Za-z_]+\s*\(.*\)\s*$|^\s*\d+(\.\d*)?\s*$"},
    ],
}
PRIORITY_JSON_SCHEMA: dict[str, Any] = {
    "description": "The attribute that orders queues (values in their declared order, most "
    "urgent first), or {by, order, preemptive}.",
    "anyOf": [
        {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
        {
            "type": "object",
            "properties": {
                "by": {"type": "string", "description": "The categorical attribute."},
                "order": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 1,
                    "description": "Its values, most urgent first (default: declared order).",
                },
                "preemptive": {
                    "type": "boolean",
                    "description": "Whether a more urgent case interrupts work in progress "
                    "(resumed later); default false.",
                },
            },
            "required": ["by"],
            "additionalProperties": False,
        },
    ],
}
BY_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A value chosen by a categorical attribute: "
    "{by: severity, p1: <value>, else: <fallback>}.",
    "properties": {
        "by": {"type": "string", "description": "The categorical attribute that chooses."},
        "else": {"description": "The value for every attribute value not listed."},
    },
    "required": ["by"],
}


@dataclass(frozen=True)
class ByDuration(ByValue[AnyDistribution]):
    """A duration chosen by a categorical attribute, and the mixture it makes overall.

    The overall figures (``mean``, ``variance``...) weigh each value's
    distribution by the attribute's shares, which the process sets once it
    has read ``attributes:`` (:meth:`weigh`); before that, or for an
    attribute that is not categorical, the listed values weigh equally.
    Analyses that do not look at classes read these; the token simulator
    draws from the distribution of the case's own value.
    """

    weights: tuple[float, ...] = ()

    def weigh(self, attribute: Attribute | None) -> None:
        """Set the weights of :meth:`options` from the attribute's shares."""
        options = self.options()
        if isinstance(attribute, Categorical):
            listed = [attribute.share(key) for key, _ in self.cases]
            weights = listed + ([max(1.0 - math.fsum(listed), 0.0)] if self.fallback else [])
        else:
            weights = [1.0] * len(options)
        total = math.fsum(weights)
        if total <= 0.0:
            weights, total = [1.0] * len(options), float(len(options))
        object.__setattr__(self, "weights", tuple(w / total for w in weights))

    def _weighted(self) -> list[tuple[float, AnyDistribution]]:
        options = self.options()
        weights = self.weights or tuple(1.0 / len(options) for _ in options)
        return list(zip(weights, options, strict=True))

    @property
    def mean(self) -> float:
        return math.fsum(w * d.mean for w, d in self._weighted())

    @property
    def variance(self) -> float:
        second = math.fsum(w * (d.variance + d.mean * d.mean) for w, d in self._weighted())
        return max(second - self.mean**2, 0.0)

    @property
    def sd(self) -> float:
        return math.sqrt(self.variance)

    @property
    def scv(self) -> float:
        mean = self.mean
        return self.variance / (mean * mean) if mean > 0 else 0.0

    @property
    def lower(self) -> float:
        return min(d.lower for d in self.options())


def check_values(attributes: Mapping[str, Attribute], values: Mapping[Any, Any]) -> dict[str, Any]:
    """A case's attribute values, checked against the declared attributes.

    Raises :class:`ValueError` naming the attribute: one that is not
    declared, a category that is not one of its values, a number that is
    not a finite number. Numbers come back as floats. Attributes left out
    stay unset (conditions over them are false).
    """
    checked: dict[str, Any] = {}
    for name, value in values.items():
        attribute = attributes.get(name) if isinstance(name, str) else None
        if attribute is None:
            declared = ", ".join(attributes) or "none"
            raise ValueError(f"attribute {name!r} is not declared (declared: {declared})")
        if isinstance(attribute, Categorical):
            if value not in attribute.values:
                raise ValueError(
                    f"attribute {name!r} has no value {value!r} "
                    f"(its values: {', '.join(attribute.values)})"
                )
            checked[name] = value
        else:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"attribute {name!r} is a number, not {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"attribute {name!r} must be finite, not {value!r}")
            checked[name] = float(value)
    return checked
