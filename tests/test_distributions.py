"""Distributions: both written forms, parameter checks with positions, moments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import BaseModel, ValidationError

from procflow.distributions import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Normal,
    Triangular,
    Uniform,
)


class Holder(BaseModel):
    d: Distribution


def parse(value: object) -> object:
    return Holder(d=value).d  # type: ignore[arg-type]


def error_of(value: object) -> dict[str, object]:
    with pytest.raises(ValidationError) as info:
        Holder(d=value)  # type: ignore[arg-type]
    errors = info.value.errors()
    assert len(errors) == 1
    return dict(errors[0])


@pytest.mark.parametrize(
    ("text", "cls", "mean"),
    [
        ("6m", Fixed, 360.0),
        ("fixed(6m)", Fixed, 360.0),
        ("exponential(6m)", Exponential, 360.0),
        ("uniform(2m, 10m)", Uniform, 360.0),
        ("triangular(2m, 5m, 11m)", Triangular, 360.0),
        ("lognormal(10m, 4m)", Lognormal, 600.0),
        ("gamma(10m, 4m)", Gamma, 600.0),
        ("empirical(3m, 5m, 5m, 9m)", Empirical, 330.0),
        ("normal(10m, 2m)", Normal, 600.0),
    ],
)
def test_call_form(text: str, cls: type, mean: float) -> None:
    dist = parse(text)
    assert isinstance(dist, cls)
    assert dist.mean == pytest.approx(mean, rel=1e-6)  # type: ignore[attr-defined]


def test_mapping_form_equals_call_form() -> None:
    assert parse({"dist": "exponential", "mean": "6m"}) == parse("exponential(6m)")
    assert parse({"dist": "triangular", "min": "2m", "mode": "5m", "max": "15m"}) == parse(
        "triangular(2m, 5m, 15m)"
    )
    assert parse({"dist": "empirical", "values": ["3m", "5m"]}) == parse("empirical(3m, 5m)")


def test_str_round_trips() -> None:
    for text in ("exponential(6m)", "uniform(2m, 10m)", "lognormal(4m, 2m)", "6m"):
        assert str(parse(text)) == text
        assert parse(str(parse(text))) == parse(text)


@pytest.mark.parametrize(
    ("value", "message", "offset"),
    [
        ("uniform(10m, 2m)", "min (10m) is greater than max (2m)", 8),
        ("triangular(2m, 20m, 15m)", "mode (20m) must lie between", 15),
        ("exponential(0m)", "greater than 0", 12),
        ("exponential(5)", "no unit", 12),
        ("expo(5m)", "unknown distribution 'expo'", 0),
        ("uniform(1m)", "takes 2 arguments", 0),
        ("gamma(10m, 0m)", "sd must be greater than 0", 11),
        ("empirical()", "at least one", 0),
        ("fast", "is not a duration", 0),
    ],
)
def test_bad_parameters_point_at_the_argument(value: str, message: str, offset: int) -> None:
    error = error_of(value)
    assert message in str(error["msg"])
    assert error["ctx"]["offset"] == offset  # type: ignore[index]


def test_mapping_errors_name_the_key() -> None:
    error = error_of({"dist": "uniform", "min": "10m", "max": "2m"})
    assert error["ctx"]["key"] == "min"  # type: ignore[index]
    error = error_of({"dist": "exponential", "mean": "6m", "sd": "1m"})
    assert "unknown key 'sd'" in str(error["msg"])
    assert "needs 'dist'" in str(error_of({"mean": "6m"})["msg"])
    assert "no unit" in str(error_of(6)["msg"])


def test_truncated_normal_moments_match_sampling() -> None:
    dist = Normal(mean=60.0, sd=60.0)  # a third of draws would be negative
    rng = np.random.default_rng(7)
    draws = rng.normal(60.0, 60.0, 2_000_000)
    kept = draws[draws >= 0]
    assert dist.mean == pytest.approx(kept.mean(), rel=3e-3)
    assert dist.variance == pytest.approx(kept.var(), rel=5e-3)


def test_moments() -> None:
    assert Exponential(mean=10.0).scv == pytest.approx(1.0)
    assert Uniform(min=0.0, max=12.0).variance == pytest.approx(12.0)
    assert Triangular(min=0.0, mode=0.0, max=3.0).variance == pytest.approx(0.5)
    lognormal = Lognormal(mean=10.0, sd=4.0)
    mu, sigma = lognormal.log_params
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(10.0)
    shape, scale = Gamma(mean=10.0, sd=4.0).shape_scale
    assert shape * scale == pytest.approx(10.0)
    assert shape * scale**2 == pytest.approx(16.0)
    assert Empirical(values=(1.0, 3.0)).variance == pytest.approx(1.0)
    assert Fixed(value=5.0).scv == 0.0


@pytest.mark.parametrize(
    ("text", "lower", "sampler"),
    [
        ("6m", 360.0, ("fixed", (360.0,))),
        ("exponential(6m)", 0.0, ("exponential", (360.0,))),
        ("uniform(1m, 2m)", 60.0, ("uniform", (60.0, 120.0))),
        ("uniform(2m, 2m)", 120.0, ("fixed", (120.0,))),
        ("triangular(1m, 2m, 4m)", 60.0, ("triangular", (60.0, 120.0, 240.0))),
        ("normal(10m, 2m)", 0.0, ("normal", (600.0, 120.0))),
        ("normal(10m, 0s)", 600.0, ("fixed", (600.0,))),
        ("gamma(10m, 5m)", 0.0, ("gamma", (4.0, 150.0))),
        ("empirical(3m, 5m)", 180.0, ("empirical", (180.0, 300.0))),
    ],
)
def test_each_kind_carries_its_lower_bound_and_sampler(
    text: str, lower: float, sampler: tuple[str, tuple[float, ...]]
) -> None:
    from procflow.distributions import Sampler, kind, parse_distribution

    dist = kind(parse_distribution(text))
    assert dist.lower == lower
    assert dist.sampler() == Sampler(*sampler)  # type: ignore[arg-type]


def test_every_kind_in_the_family_has_a_sampler_and_its_checks() -> None:
    """The closed family: every name a user may write maps to a class with all of Kind."""
    from typing import get_args

    from procflow.distributions import SIGNATURES, AnyDistribution, SamplerName

    classes = get_args(AnyDistribution)
    assert {c.model_fields["dist"].default for c in classes} == set(SIGNATURES)
    assert set(get_args(SamplerName)) == set(SIGNATURES)
    for cls in classes:
        assert callable(cls.sampler)
        assert hasattr(cls, "lower")
        assert callable(cls.check)
