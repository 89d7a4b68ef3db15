"""The case attributes of a process as a distribution: exact for categories, sampled for numbers.

Rules route by conditions over attributes (``when:``), and a duration or
``p`` can depend on an attribute (``by:``). The analytic model, lint and
the compiled process need the *shares* these make: which fraction of the
cases takes each transition, what ``p`` a transition has on average. They
come from the joint distribution of the attributes a question names:

* categorical attributes are enumerated exactly: every combination of
  values, weighted by the product of their shares (attributes are drawn
  independently of each other);
* as soon as a numeric attribute is involved, the joint distribution is
  sampled: :data:`SAMPLE_SIZE` cases drawn with seed :data:`SAMPLE_SEED`
  (categorical attributes drawn alongside). A share ``s`` then has a
  standard error of ``sqrt(s (1 - s) / SAMPLE_SIZE)``, at most 0.0016;
  results computed this way say ``exact = False``.

Routing is first-true (docs/attributes.md): the first transition in file
order whose condition holds, else the default (the one without ``when``),
else -- when no condition holds and there is no default, which lint warns
about (PF802) -- the last transition.

>>> from procflow.casedata import Categorical
>>> points = Points.of({"s": Categorical(("a", "b"), (0.25, 0.75))}, {"s"})
>>> points.exact, [(w, dict(v)) for w, v in points]
(True, [(0.25, {'s': 'a'}), (0.75, {'s': 'b'})])
>>> first_true_shares(("s == 'a'", None), points)
(0.25, 0.75)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from procflow.casedata import Attribute, ByValue, Categorical, Numeric
from procflow.expressions import Condition, Value, compile_condition

if TYPE_CHECKING:  # numpy is imported where a numeric attribute is sampled, not for lint
    import numpy as np

__all__ = [
    "MAX_COMBINATIONS",
    "SAMPLE_SEED",
    "SAMPLE_SIZE",
    "Points",
    "draw_numeric",
    "first_true",
    "first_true_shares",
    "mean_by",
]

SAMPLE_SIZE = 100_000
"""How many cases are sampled when a numeric attribute is involved."""
SAMPLE_SEED = 20261207
"""The seed of that sample: the estimate is the same on every run."""
MAX_COMBINATIONS = 100_000
"""Beyond this many combinations of categorical values, they are sampled too."""


def draw_numeric(attribute: Numeric, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` values of a numeric attribute (same sampling as the simulator's durations)."""
    import numpy as np

    sampler = attribute.distribution.sampler()
    params = sampler.params
    match sampler.name:
        case "fixed":
            return np.full(n, float(params[0]))
        case "exponential":
            return rng.exponential(params[0], n)
        case "uniform":
            return rng.uniform(params[0], params[1], n)
        case "triangular":
            return rng.triangular(params[0], params[1], params[2], n)
        case "lognormal":
            return rng.lognormal(params[0], params[1], n)
        case "gamma":
            return rng.gamma(params[0], params[1], n)
        case "empirical":
            values = np.asarray(params, dtype=np.float64)
            return values[rng.integers(0, len(values), n)]
        case _:  # normal, truncated at 0 by redrawing
            out = rng.normal(params[0], params[1], n)
            while (bad := out < 0.0).any():
                out[bad] = rng.normal(params[0], params[1], int(bad.sum()))
            return out


@dataclass(frozen=True)
class Points:
    """A weighted set of attribute combinations standing for the joint distribution."""

    weights: tuple[float, ...]
    values: tuple[Mapping[str, Value], ...]
    exact: bool

    def __iter__(self) -> Iterator[tuple[float, Mapping[str, Value]]]:
        return iter(zip(self.weights, self.values, strict=True))

    @classmethod
    def of(
        cls,
        attributes: Mapping[str, Attribute],
        names: set[str] | frozenset[str],
        fixed: Mapping[str, Value] | None = None,
    ) -> Points:
        """The joint distribution of the declared attributes among ``names``.

        ``fixed`` pins attributes to a value (a class of the priority
        attribute, say): the distribution is then conditional on it.
        """
        fixed = dict(fixed or {})
        used = [n for n in attributes if n in names and n not in fixed]
        categorical = [n for n in used if isinstance(attributes[n], Categorical)]
        size = math.prod(len(_cat(attributes[n]).values) for n in categorical)
        if len(categorical) == len(used) and size <= MAX_COMBINATIONS:
            return cls._enumerated(attributes, categorical, fixed)
        return cls._sampled(attributes, used, fixed)

    @classmethod
    def _enumerated(
        cls, attributes: Mapping[str, Attribute], names: list[str], fixed: dict[str, Value]
    ) -> Points:
        options = [
            list(zip(_cat(attributes[n]).values, _cat(attributes[n]).shares, strict=True))
            for n in names
        ]
        weights: list[float] = []
        values: list[Mapping[str, Value]] = []
        for combination in itertools.product(*options):
            weight = math.prod(share for _, share in combination)
            if weight > 0.0:
                weights.append(weight)
                values.append(
                    {**fixed, **{n: v for n, (v, _) in zip(names, combination, strict=True)}}
                )
        if not names:
            weights, values = [1.0], [dict(fixed)]
        return cls(tuple(weights), tuple(values), True)

    @classmethod
    def _sampled(
        cls, attributes: Mapping[str, Attribute], names: list[str], fixed: dict[str, Value]
    ) -> Points:
        import numpy as np

        rng = np.random.default_rng(SAMPLE_SEED)
        columns: dict[str, list[Value]] = {}
        for name in names:
            attribute = attributes[name]
            if isinstance(attribute, Categorical):
                picks = rng.choice(len(attribute.values), SAMPLE_SIZE, p=list(attribute.shares))
                columns[name] = [attribute.values[i] for i in picks]
            else:
                columns[name] = [float(x) for x in draw_numeric(attribute, rng, SAMPLE_SIZE)]
        weight = 1.0 / SAMPLE_SIZE
        values = tuple({**fixed, **{n: columns[n][i] for n in names}} for i in range(SAMPLE_SIZE))
        return cls((weight,) * SAMPLE_SIZE, values, False)


def _cat(attribute: Attribute) -> Categorical:
    assert isinstance(attribute, Categorical)
    return attribute


def first_true(conditions: Sequence[Condition | None], values: Mapping[str, Value]) -> int:
    """The index of the transition first-true routing takes for these attribute values."""
    default = -1
    for i, condition in enumerate(conditions):
        if condition is None:
            if default < 0:
                default = i
        elif condition(values):
            return i
    return default if default >= 0 else len(conditions) - 1


def first_true_shares(whens: Sequence[str | None], points: Points) -> tuple[float, ...]:
    """The share of cases each transition takes (conditions given as text, ``None`` = default)."""
    conditions = [compile_condition(w) if w is not None else None for w in whens]
    shares = [0.0] * len(whens)
    for weight, values in points:
        shares[first_true(conditions, values)] += weight
    total = math.fsum(shares)
    return tuple(s / total for s in shares) if total > 0 else tuple(shares)


def mean_by(by: ByValue[float], attributes: Mapping[str, Attribute]) -> float:
    """The average of a ``by:`` number over the attribute's shares (equal weights otherwise)."""
    attribute = attributes.get(by.by)
    if isinstance(attribute, Categorical):
        return math.fsum(
            share * (by.for_value(value) or 0.0)
            for value, share in zip(attribute.values, attribute.shares, strict=True)
        )
    options = by.options()
    return math.fsum(options) / len(options)
