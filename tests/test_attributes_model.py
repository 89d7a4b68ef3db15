"""Case attributes in the process file: parsing, error positions, shares in the compiled form."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from procflow.casedata import ByDuration, ByValue, Categorical, Numeric
from procflow.casestats import SAMPLE_SIZE
from procflow.compiled import CompiledProcess
from procflow.errors import ProcessError
from procflow.loader import load_text

BASE = """
process: payments
owners: {clerk: {capacity: 2}}
arrivals: {rate: 6/h}
attributes:
  severity: {p1: 5%, p2: 25%, p3: 0.7}
  amount: lognormal(2000, 3000)
priority: {by: severity, order: [p1, p2, p3], preemptive: true}
start: approve
steps:
  approve:
    owner: clerk
    duration: {by: severity, p1: exponential(2m), else: exponential(6m)}
    on:
      auto:    {to: done, when: "amount < 1000"}
      manager: {to: done, when: "amount < 10000"}
      cfo:     {to: done}
  done: {end: true}
"""


def test_attributes_priority_and_by_forms_parse() -> None:
    p = load_text(BASE)
    severity = p.attributes["severity"]
    assert isinstance(severity, Categorical)
    assert severity.values == ("p1", "p2", "p3")
    assert severity.shares == pytest.approx((0.05, 0.25, 0.7))
    amount = p.attributes["amount"]
    assert isinstance(amount, Numeric)
    assert amount.distribution.mean == 2000.0
    assert amount.distribution.sd == pytest.approx(3000)
    assert p.priority is not None
    assert p.priority.order == ("p1", "p2", "p3")
    assert p.priority.preemptive is True
    duration = p.steps["approve"].duration
    assert isinstance(duration, ByDuration)
    # the overall mean weighs each class by its share: 5% at 2m, 95% at 6m
    assert duration.mean == pytest.approx(0.05 * 120 + 0.95 * 360)
    # variance of the mixture: E[X^2] - mean^2 with E[X^2] = 2 m^2 for exponentials
    second = 0.05 * 2 * 120**2 + 0.95 * 2 * 360**2
    assert duration.variance == pytest.approx(second - duration.mean**2)
    assert p.steps["approve"].on is not None
    assert p.steps["approve"].on["auto"].when == "amount < 1000"


def test_numeric_routing_shares_match_the_cdf_within_the_documented_error() -> None:
    compiled = CompiledProcess.of(load_text(BASE))
    shares = [e.p for e in compiled.outgoing[0]]
    sigma2 = math.log1p((3000 / 2000) ** 2)
    cdf = stats.lognorm(math.sqrt(sigma2), scale=math.exp(math.log(2000) - sigma2 / 2)).cdf
    truth = [cdf(1000), cdf(10000) - cdf(1000), 1 - cdf(10000)]
    for share, exact in zip(shares, truth, strict=True):
        assert share is not None
        error = math.sqrt(exact * (1 - exact) / SAMPLE_SIZE)
        assert abs(share - exact) < 4 * error


def test_categorical_shares_are_exact_and_p_by_attribute_averages() -> None:
    p = load_text(
        BASE.replace('"amount < 1000"', "\"severity == 'p1'\"")
        .replace('"amount < 10000"', "\"severity in ['p2']\"")
        .replace("cfo:     {to: done}", "cfo:     {to: done}\n  other: {owner: clerk}")
    )
    shares = [e.p for e in CompiledProcess.of(p).outgoing[0]]
    assert shares == pytest.approx([0.05, 0.25, 0.7], abs=1e-12)
    q = load_text(
        BASE.replace(
            '{to: done, when: "amount < 1000"}', "{to: done, p: {by: severity, p1: 1, else: 0}}"
        )
        .replace(
            '{to: done, when: "amount < 10000"}', "{to: done, p: {by: severity, p1: 0, else: 0.5}}"
        )
        .replace("cfo:     {to: done}", "cfo: {to: done, p: {by: severity, p1: 0, else: 0.5}}")
    )
    given = q.steps["approve"].on
    assert given is not None
    assert isinstance(given["auto"].p, ByValue)
    shares = [e.p for e in CompiledProcess.of(q).outgoing[0]]
    assert shares == pytest.approx([0.05, 0.475, 0.475])


@pytest.mark.parametrize(
    ("old", "new", "where", "words"),
    [
        ("p3: 0.7}", "p3: 60%}", (6, 13), "add up to 90%"),
        ("lognormal(2000, 3000)", "lognormal(2000, 3m)", (7, 27), "plain non-negative number"),
        ("preemptive: true", "preemptive: maybe", (8, 59), "true or false"),
        ('"amount < 1000"', '"amount < "', (15, 42), "not a valid condition"),
        ("exponential(2m)", "exponential(2x)", (13, 47), "unknown time unit"),
        ("cfo:     {to: done}", "cfo: {to: done, p: {by: severity, p1: 7}}", (17, 45), "p1: 7"),
    ],
)
def test_errors_are_schema_findings_at_the_spot(
    old: str, new: str, where: tuple[int, int], words: str
) -> None:
    with pytest.raises(ProcessError) as caught:
        load_text(BASE.replace(old, new, 1))
    problems = [pr for pr in caught.value.problems if words in pr.message]
    assert problems, [pr.message for pr in caught.value.problems]
    assert problems[0].code == "PF002"
    assert (problems[0].position.line, problems[0].position.column) == where


def test_a_process_without_attributes_has_none() -> None:
    p = load_text(BASE.split("attributes:")[0] + "start: a\nsteps: {a: {end: true}}\n")
    assert p.attributes == {}
    assert p.priority is None
