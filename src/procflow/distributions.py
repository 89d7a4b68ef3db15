"""The duration distributions of docs/file-format.md#distributions, as validated, immutable values.

A distribution is written either as a call -- ``exponential(6m)``,
``uniform(2m, 10m)``, a bare ``6m`` meaning fixed -- or as a mapping
``{dist: exponential, mean: 6m}``. Both forms are parsed here into one of
the classes below, whose parameters are seconds. Parameter checks live in
the parser, not in the classes, because only the parser knows *where* in
the text a bad argument stands (the ``offset`` that lint turns into a
column).

The family is closed: :data:`AnyDistribution` lists every kind, and each
kind carries everything the rest of procflow asks of a distribution --
its parameter checks (:meth:`check`), its ``mean`` and ``variance`` (of the
variable that is actually sampled: the normal is truncated at 0, so its
mean is the mean of the truncated variable), its ``lower`` bound and its
:meth:`sampler`, the plain data the simulator draws from. Consumers call
these members on :data:`AnyDistribution`, so mypy checks that every kind
has them: a new distribution without a sampler fails type checking, not a
simulation. How to add one: ``docs/simulation-engine.md``.
"""

from __future__ import annotations

import functools
import math
import re
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Protocol, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from procflow.units import UnitError, format_duration, parse_duration

SamplerName = Literal[
    "fixed", "exponential", "uniform", "triangular", "normal", "lognormal", "gamma", "empirical"
]
"""The numpy samplers the simulator knows (:func:`procflow.sim.sampling.drawer`)."""


@dataclass(frozen=True)
class Sampler:
    """How to draw a distribution: a sampler and its numpy parameters (seconds).

    Plain, picklable data, so a compiled plan can be shipped to worker
    processes. A degenerate distribution (``uniform(5m, 5m)``) samples as
    ``fixed``.
    """

    name: SamplerName
    params: tuple[float, ...]


Fail = Callable[[str, str], PydanticCustomError]
"""``fail(param, message)``: the positioned error for a bad parameter (see :meth:`_Dist.check`)."""


class _Dist(BaseModel):
    """Common behaviour; subclasses set ``dist`` and their parameters (seconds).

    Every kind also defines ``lower`` and ``sampler()``; they are not
    declared here on purpose, so that mypy finds a kind that lacks them
    wherever :data:`AnyDistribution` is used.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The name, a literal in each subclass (declared here so it is the first field).
    dist: str
    #: The parameter names in call order, e.g. ``("min", "mode", "max")``.
    params: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def check(cls, values: dict[str, float], fail: Fail) -> None:
        """Refuse impossible parameters (given by their written names) with ``fail``.

        Durations are already known to be finite and non-negative here.
        """

    @property
    @abstractmethod
    def mean(self) -> float:
        """The mean of the sampled variable, seconds."""

    @property
    @abstractmethod
    def variance(self) -> float:
        """The variance of the sampled variable, seconds squared."""

    @property
    def sd(self) -> float:
        return math.sqrt(max(self.variance, 0.0))

    @property
    def scv(self) -> float:
        """Squared coefficient of variation, variance / mean² (1 for exponential)."""
        mean = self.mean
        # divided twice: mean * mean underflows to 0 for a mean below 1e-154 seconds
        return self.variance / mean / mean if mean > 0 else 0.0

    def args(self) -> tuple[float, ...]:
        """The parameters in call order, in seconds."""
        return tuple(float(getattr(self, name)) for name in self.params)

    def __str__(self) -> str:
        return f"{self.dist}({', '.join(format_duration(a, 6) for a in self.args())})"


class Fixed(_Dist):
    """Always the same duration."""

    dist: Literal["fixed"] = "fixed"
    value: float
    params: ClassVar[tuple[str, ...]] = ("value",)

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    @property
    def lower(self) -> float:
        return self.value

    def sampler(self) -> Sampler:
        return Sampler("fixed", (self.value,))

    def __str__(self) -> str:
        return format_duration(self.value, 6)


class Exponential(_Dist):
    """Memoryless durations with the given mean."""

    dist: Literal["exponential"] = "exponential"
    mean_: float = Field(alias="mean")
    params: ClassVar[tuple[str, ...]] = ("mean_",)
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @classmethod
    def check(cls, values: dict[str, float], fail: Fail) -> None:
        if values["mean"] <= 0:
            raise fail("mean", "the mean must be greater than 0")

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return self.mean_ * self.mean_

    @property
    def lower(self) -> float:
        return 0.0

    def sampler(self) -> Sampler:
        return Sampler("exponential", (self.mean_,))


def _ordered(values: dict[str, float], fail: Fail) -> None:
    if values["min"] > values["max"]:
        raise fail(
            "min",
            f"min ({format_duration(values['min'])}) is greater than max "
            f"({format_duration(values['max'])})",
        )


class Uniform(_Dist):
    """Any duration between ``min`` and ``max`` equally likely."""

    dist: Literal["uniform"] = "uniform"
    min: float
    max: float
    params: ClassVar[tuple[str, ...]] = ("min", "max")

    @classmethod
    def check(cls, values: dict[str, float], fail: Fail) -> None:
        _ordered(values, fail)

    @property
    def mean(self) -> float:
        return (self.min + self.max) / 2.0

    @property
    def variance(self) -> float:
        return (self.max - self.min) ** 2 / 12.0

    @property
    def lower(self) -> float:
        return self.min

    def sampler(self) -> Sampler:
        if self.min == self.max:
            return Sampler("fixed", (self.min,))
        return Sampler("uniform", (self.min, self.max))


class Triangular(_Dist):
    """Between ``min`` and ``max``, most likely ``mode``: the three-point estimate."""

    dist: Literal["triangular"] = "triangular"
    min: float
    mode: float
    max: float
    params: ClassVar[tuple[str, ...]] = ("min", "mode", "max")

    @classmethod
    def check(cls, values: dict[str, float], fail: Fail) -> None:
        _ordered(values, fail)
        low, mode, high = values["min"], values["mode"], values["max"]
        if not low <= mode <= high:
            raise fail(
                "mode",
                f"the mode ({format_duration(mode)}) must lie between min "
                f"({format_duration(low)}) and max ({format_duration(high)})",
            )

    @property
    def mean(self) -> float:
        return (self.min + self.mode + self.max) / 3.0

    @property
    def variance(self) -> float:
        a, c, b = self.min, self.mode, self.max
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0

    @property
    def lower(self) -> float:
        return self.min

    def sampler(self) -> Sampler:
        if self.min == self.max:  # numpy refuses a triangle of zero width
            return Sampler("fixed", (self.min,))
        return Sampler("triangular", (self.min, self.mode, self.max))


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _big_phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


class Normal(_Dist):
    """Normal with ``mean`` and ``sd``, truncated at 0: negative draws are redrawn.

    ``mean`` and ``variance`` are those of the truncated variable, so they
    differ from the parameters when ``sd`` is large next to ``mu``.
    """

    dist: Literal["normal"] = "normal"
    mu: float = Field(alias="mean")
    sigma: float = Field(alias="sd")
    params: ClassVar[tuple[str, ...]] = ("mu", "sigma")
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def _truncation(self) -> tuple[float, float]:
        alpha = -self.mu / self.sigma
        tail = 1.0 - _big_phi(alpha)
        hazard = _phi(alpha) / tail if tail > 0 else -alpha
        return alpha, hazard

    @property
    def mean(self) -> float:
        if self.sigma == 0:
            return max(self.mu, 0.0)
        _alpha, hazard = self._truncation()
        return self.mu + self.sigma * hazard

    @property
    def variance(self) -> float:
        if self.sigma == 0:
            return 0.0
        alpha, hazard = self._truncation()
        return self.sigma**2 * (1.0 + alpha * hazard - hazard * hazard)

    @property
    def lower(self) -> float:
        return max(self.mu, 0.0) if self.sigma == 0 else 0.0

    def sampler(self) -> Sampler:
        if self.sigma == 0:
            return Sampler("fixed", (max(self.mu, 0.0),))
        return Sampler("normal", (self.mu, self.sigma))


class _MeanSd(_Dist):
    """A distribution given by the ``mean`` and ``sd`` of the duration itself."""

    mean_: float = Field(alias="mean")
    sd_: float = Field(alias="sd")
    params: ClassVar[tuple[str, ...]] = ("mean_", "sd_")
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @classmethod
    def check(cls, values: dict[str, float], fail: Fail) -> None:
        if values["mean"] <= 0:
            raise fail("mean", "the mean must be greater than 0")
        ratio = values["sd"] / values["mean"]
        if not math.isfinite(ratio * ratio):
            # the shape (sd/mean)^2 is beyond floating point: no figure can be computed
            raise fail("sd", "the sd is too large next to the mean (sd/mean must be below 1e154)")

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return self.sd_ * self.sd_

    @property
    def lower(self) -> float:
        return 0.0


class Lognormal(_MeanSd):
    """Right-skewed durations, given by the ``mean`` and ``sd`` of the duration itself."""

    dist: Literal["lognormal"] = "lognormal"

    def sampler(self) -> Sampler:
        if self.sd_ == 0:
            return Sampler("fixed", (self.mean_,))
        return Sampler("lognormal", self.log_params)

    @property
    def log_params(self) -> tuple[float, float]:
        """``(mu, sigma)`` of the underlying normal, as numpy's ``lognormal`` wants them."""
        ratio = self.sd_ / self.mean_
        sigma2 = math.log1p(ratio * ratio)
        return math.log(self.mean_) - sigma2 / 2.0, math.sqrt(sigma2)


class Gamma(_MeanSd):
    """Gamma durations given by ``mean`` and ``sd`` (shape = mean²/sd², scale = sd²/mean)."""

    dist: Literal["gamma"] = "gamma"

    @classmethod
    def check(cls, values: dict[str, float], fail: Fail) -> None:
        super().check(values, fail)
        if values["sd"] <= 0:
            raise fail("sd", "the sd must be greater than 0 (use fixed(...) for no variation)")

    def sampler(self) -> Sampler:
        return Sampler("gamma", self.shape_scale)

    @property
    def shape_scale(self) -> tuple[float, float]:
        """``(shape, scale)`` as numpy's ``gamma`` wants them."""
        return (self.mean_ / self.sd_) ** 2, self.sd_**2 / self.mean_


class Empirical(_Dist):
    """Resample the observed durations with equal probability."""

    dist: Literal["empirical"] = "empirical"
    values: tuple[float, ...]
    params: ClassVar[tuple[str, ...]] = ("values",)

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / len(self.values)

    @property
    def variance(self) -> float:
        mean = self.mean
        return math.fsum((v - mean) ** 2 for v in self.values) / len(self.values)

    @property
    def lower(self) -> float:
        return min(self.values)

    def sampler(self) -> Sampler:
        if len(set(self.values)) == 1:
            return Sampler("fixed", (self.values[0],))
        return Sampler("empirical", tuple(self.values))

    def args(self) -> tuple[float, ...]:
        return self.values


AnyDistribution = (
    Fixed | Exponential | Uniform | Triangular | Normal | Lognormal | Gamma | Empirical
)

_CLASSES: dict[str, type[_Dist]] = {
    cls.model_fields["dist"].default: cls for cls in get_args(AnyDistribution)
}
#: Names a user may write, with the mapping keys / call arguments each takes:
#: ``{"fixed": ("value",), "exponential": ("mean",), "uniform": ("min", "max"), ...}``.
SIGNATURES: dict[str, tuple[str, ...]] = {
    name: tuple(cls.model_fields[param].alias or param for param in cls.params)
    for name, cls in _CLASSES.items()
}
_CALL_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$", re.DOTALL)


def _error(message: str, offset: int = 0, key: str | None = None) -> PydanticCustomError:
    """A schema error that remembers where in the value it is (offset or sub-key)."""
    context: dict[str, Any] = {"offset": offset}
    if key is not None:
        context["key"] = key
    return PydanticCustomError("procflow", message, context)


def _names() -> str:
    return ", ".join(SIGNATURES)


def _check(name: str, values: dict[str, float], where: dict[str, tuple[int, str | None]]) -> None:
    """Parameter sanity, by the kind's own :meth:`~_Dist.check`; ``where`` locates each
    parameter for the error."""

    def fail(param: str, message: str) -> PydanticCustomError:
        offset, key = where.get(param, (0, None))
        return _error(f"{name}: {message}", offset, key)

    _CLASSES[name].check(values, fail)


def _build(name: str, raw: list[tuple[Any, int, str | None]]) -> _Dist:
    """Make the distribution ``name`` from ``(value, offset, key)`` arguments."""
    params = SIGNATURES[name]
    if name == "empirical":
        if not raw:
            raise _error("empirical needs at least one observation, e.g. empirical(3m, 5m)")
        observed = []
        for value, offset, key in raw:
            try:
                observed.append(parse_duration(value))
            except UnitError as exc:
                raise _error(f"empirical: {exc}", offset + exc.offset, key) from None
        return Empirical(values=tuple(observed))
    if len(raw) != len(params):
        what = ", ".join(params)
        raise _error(
            f"{name} takes {len(params)} argument{'s' if len(params) > 1 else ''} "
            f"({what}), got {len(raw)}"
        )
    values: dict[str, float] = {}
    where: dict[str, tuple[int, str | None]] = {}
    for param, (value, offset, key) in zip(params, raw, strict=True):
        try:
            values[param] = parse_duration(value)
        except UnitError as exc:
            raise _error(f"{name}: {param}: {exc}", offset + exc.offset, key) from None
        where[param] = (offset, key)
    _check(name, values, where)
    return _CLASSES[name](**values)  # the aliases are the parameter names


def _split_args(body: str, base: int) -> list[tuple[str, int, None]]:
    """Split ``"2m, 10m"`` into ``[("2m", base), ("10m", base+4)]`` keeping offsets."""
    if not body.strip():
        return []
    parts: list[tuple[str, int, None]] = []
    start = base
    for piece in body.split(","):
        stripped = piece.lstrip()
        parts.append((stripped.rstrip(), start + len(piece) - len(stripped), None))
        start += len(piece) + 1
    return parts


def parse_distribution(value: Any) -> Any:
    """Turn the text or mapping form into a distribution instance (pydantic before-validator)."""
    if isinstance(value, _Dist):
        return value
    if isinstance(value, str):
        return _parse_text(value)
    return _parse_other(value)


@functools.lru_cache(maxsize=4096)
def _parse_text(value: str) -> _Dist:
    """The text form, memoized.

    Distributions are immutable values and the same few texts
    (``exponential(6m)``, ``10m``) recur across the steps and files of a
    repository. Errors are raised afresh each time (``lru_cache`` keeps no
    exceptions).
    """
    match = _CALL_RE.match(value)
    if match is None:
        try:
            return Fixed(value=parse_duration(value))
        except UnitError as exc:
            raise _error(
                f"{exc}; or write a distribution: {_names()} (e.g. exponential(6m))",
                exc.offset,
            ) from None
    name = match.group(1)
    if name not in SIGNATURES:
        raise _error(f"unknown distribution {name!r}: use one of {_names()}", match.start(1))
    return _build(name, list(_split_args(match.group(2), match.start(2))))


def _parse_other(value: Any) -> Any:
    """The mapping form, and the errors for values that are neither text nor a mapping."""
    if isinstance(value, Mapping):
        name = value.get("dist")
        if name is None:
            raise _error(f"a distribution mapping needs 'dist' (one of {_names()})")
        if name not in SIGNATURES:
            raise _error(f"unknown distribution {name!r}: use one of {_names()}", key="dist")
        params = SIGNATURES[name]
        unknown = [k for k in value if k != "dist" and k not in params]
        if unknown:
            raise _error(
                f"{name} takes {', '.join(params)}; unknown key {unknown[0]!r}", key=str(unknown[0])
            )
        missing = [p for p in params if p not in value]
        if missing:
            raise _error(f"{name} needs {', '.join(params)}; {missing[0]!r} is missing")
        if name == "empirical":
            observed = value["values"]
            if not isinstance(observed, Sequence) or isinstance(observed, str):
                raise _error("empirical: 'values' must be a list of durations", key="values")
            return _build(name, [(v, 0, "values") for v in observed])
        return _build(name, [(value[p], 0, p) for p in params])
    if isinstance(value, bool) or value is None:
        raise _error(f"expected a duration or distribution such as exponential(6m), got {value!r}")
    if isinstance(value, int | float):
        try:
            parse_duration(value)
        except UnitError as exc:
            raise _error(str(exc)) from None
    raise _error(
        f"expected a duration or distribution such as exponential(6m), got {type(value).__name__}"
    )


_DURATION_PATTERN = r"^\s*[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*(s|m|min|h|d)\s*$"
_PARAMETER_TEXT = {
    "value": "The duration every visit takes, e.g. '5m'.",
    "mean": "The mean duration, e.g. '6m'.",
    "sd": "The standard deviation, as a duration, e.g. '2m'.",
    "min": "The shortest duration, e.g. '2m'.",
    "max": "The longest duration, e.g. '10m'.",
    "mode": "The most likely duration, e.g. '4m'.",
    "values": "Observed durations, drawn from with equal probability, e.g. ['3m', '5m'].",
}
"""What each parameter of the mapping form means, shown by editors (``procflow schema``)."""
_DISTRIBUTION_JSON_SCHEMA: dict[str, Any] = {
    "title": "Distribution",
    "description": (
        "A duration ('6m': fixed) or a distribution: "
        + ", ".join(f"{n}({', '.join(p)})" for n, p in SIGNATURES.items())
        + "; or the mapping form {dist: exponential, mean: 6m}."
    ),
    "anyOf": [
        {"type": "string", "pattern": _DURATION_PATTERN},
        {
            "type": "string",
            "pattern": r"^\s*(" + "|".join(SIGNATURES) + r")\s*\(.*\)\s*$",
        },
        *[
            {
                "type": "object",
                "properties": {
                    "dist": {"const": name, "description": f"The distribution family: {name}."},
                    **{
                        p: (
                            {"type": "array", "items": {"type": "string"}, "minItems": 1}
                            if p == "values"
                            else {"type": "string", "pattern": _DURATION_PATTERN}
                        )
                        | {"description": _PARAMETER_TEXT.get(p, p)}
                        for p in params
                    },
                },
                "required": ["dist", *params],
                "additionalProperties": False,
            }
            for name, params in SIGNATURES.items()
        ],
    ],
}

Distribution = Annotated[
    AnyDistribution,
    Field(discriminator="dist"),
    BeforeValidator(parse_distribution),
    WithJsonSchema(_DISTRIBUTION_JSON_SCHEMA),
]
"""A duration distribution field: accepts the call text, the mapping form or an instance."""

DURATION_JSON_SCHEMA: dict[str, Any] = {"type": "string", "pattern": _DURATION_PATTERN}


class Kind(Protocol):
    """What every member of the family offers (checked by mypy over :data:`AnyDistribution`)."""

    @property
    def mean(self) -> float: ...

    @property
    def variance(self) -> float: ...

    @property
    def lower(self) -> float:
        """The shortest duration the distribution can produce."""

    def sampler(self) -> Sampler: ...


def kind(dist: AnyDistribution) -> Kind:
    """``dist`` as a :class:`Kind`: mypy refuses this function if a member of the family
    lacks a member of :class:`Kind` (a new distribution without a sampler, say)."""
    return dist
