"""The simulator's building blocks: random streams, distributions, histograms, intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import CUSTOMER_SERVICE
from procflow import compare, simulate
from procflow.distributions import parse_distribution
from procflow.loader import load, load_text
from procflow.sim.histogram import Histogram
from procflow.sim.sampling import (
    BLOCK,
    DURATIONS,
    FIRST,
    ArrivalTimes,
    Buffer,
    DistSpec,
    Stream,
    drawer,
    exact_sum,
    generator,
    plus,
    rounded,
    spec_of,
    stream_key,
)
from procflow.sim.stats import estimate, paired, t_cdf, t_quantile

DISTRIBUTIONS = [
    "fixed(6m)",
    "exponential(6m)",
    "uniform(2m, 10m)",
    "triangular(2m, 5m, 15m)",
    "normal(10m, 2m)",
    "normal(2m, 3m)",  # heavily truncated: a third of the raw draws are negative
    "lognormal(10m, 4m)",
    "gamma(10m, 4m)",
    "empirical(3m, 5m, 5m, 9m)",
]


@pytest.mark.parametrize("text", DISTRIBUTIONS)
def test_sampling_matches_the_distribution(text: str) -> None:
    """Sample mean and variance agree with procflow.distributions (truncation included)."""
    dist = parse_distribution(text)
    values = drawer(spec_of(dist), np.random.default_rng(7))(400_000)
    assert values.min() >= 0.0
    assert values.mean() == pytest.approx(dist.mean, rel=0.01)
    assert values.var() == pytest.approx(dist.variance, rel=0.03, abs=1e-9)
    if text.startswith("empirical"):
        assert set(np.unique(values)) == {180.0, 300.0, 540.0}
        assert (values == 300.0).mean() == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("text", DISTRIBUTIONS)
def test_the_kth_draw_does_not_depend_on_block_sizes(text: str) -> None:
    spec = spec_of(parse_distribution(text))
    whole = drawer(spec, np.random.default_rng(3))(1_000)
    draw = drawer(spec, np.random.default_rng(3))
    pieces = np.concatenate([draw(1), draw(10), draw(333), draw(656)])
    assert np.array_equal(whole, pieces)


def test_degenerate_distributions_become_fixed() -> None:
    assert spec_of(parse_distribution("uniform(5m, 5m)")) == DistSpec("fixed", (300.0,))
    assert spec_of(parse_distribution("triangular(5m, 5m, 5m)")) == DistSpec("fixed", (300.0,))
    assert spec_of(parse_distribution("normal(5m, 0s)")) == DistSpec("fixed", (300.0,))
    assert spec_of(parse_distribution("lognormal(5m, 0s)")) == DistSpec("fixed", (300.0,))
    assert spec_of(parse_distribution("empirical(5m, 5m)")) == DistSpec("fixed", (300.0,))


def test_buffer_hands_out_the_stream_in_order_and_counts_it() -> None:
    spec = spec_of(parse_distribution("exponential(6m)"))
    expected = drawer(spec, generator(1, 0, DURATIONS, 5))(BLOCK + 10)
    buffer = Buffer(drawer(spec, generator(1, 0, DURATIONS, 5)))
    taken = []
    for _ in range(BLOCK + 10):
        if not buffer.values:
            buffer.refill()
        taken.append(buffer.values.pop())
    assert taken == expected.tolist()
    assert buffer.consumed == BLOCK + 10
    assert buffer.consumed_sum() == math.fsum(taken)


class Counting:
    """A stream that records every draw it makes: nothing may be drawn ahead."""

    def __init__(self, text: str) -> None:
        self.draw = drawer(spec_of(parse_distribution(text)), generator(1, 0, DURATIONS, 7))
        self.sizes: list[int] = []

    def __call__(self, n: int) -> np.ndarray:
        self.sizes.append(n)
        return self.draw(n)


@pytest.mark.parametrize("text", DISTRIBUTIONS)
@pytest.mark.parametrize("taken", [1, 17, 1000, BLOCK, BLOCK + 1, 2 * BLOCK + 100])
def test_growing_chunks_give_the_same_stream_and_the_sum_of_what_was_handed_out(
    text: str, taken: int
) -> None:
    """The same values whatever the chunks; ``consumed_sum`` is ``math.fsum`` of the values
    handed out (rounded once), also when asked in the middle of a chunk, and asking draws
    nothing ahead."""
    source = Counting(text)
    buffer = Buffer(Stream(source))
    seen = []
    for i in range(taken):
        if not buffer.values:
            buffer.refill()
        seen.append(buffer.values.pop())
        if i in (0, taken // 3):
            drawn = sum(source.sizes)
            assert buffer.consumed_sum() == math.fsum(seen)  # a window snapshot mid-chunk
            assert sum(source.sizes) == drawn
    spec = spec_of(parse_distribution(text))
    assert seen == drawer(spec, generator(1, 0, DURATIONS, 7))(taken).tolist()
    assert buffer.consumed == taken
    assert buffer.consumed_sum() == math.fsum(seen)
    assert sum(source.sizes) == buffer.drawn < taken + max(source.sizes) + 1


def test_a_step_visited_ten_times_draws_a_small_chunk() -> None:
    """Memory follows use: ten visits draw FIRST values, not a whole block."""
    buffer = Buffer(drawer(spec_of(parse_distribution("exponential(6m)")), generator(1, 0, 1, 2)))
    for _ in range(10):
        if not buffer.values:
            buffer.refill()
        buffer.values.pop()
    assert buffer.drawn == FIRST < BLOCK
    buffer.consumed_sum()  # draws nothing
    assert buffer.drawn == FIRST
    assert len(buffer.values) == FIRST - 10
    sizes = []
    for _ in range(3 * BLOCK):
        if not buffer.values:
            before = buffer.drawn
            buffer.refill()
            sizes.append(buffer.drawn - before)
        buffer.values.pop()
    assert sizes[:4] == [2 * FIRST, 4 * FIRST, 8 * FIRST, 16 * FIRST]
    assert max(sizes) == BLOCK


@pytest.mark.parametrize("seed", range(6))
def test_exact_sums_round_like_fsum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.concatenate(
        [rng.lognormal(3.0, 6.0, 4000), [0.0, 5e-300, 1e12], rng.exponential(1e-9, 90)]
    )
    rng.shuffle(values)
    total = exact_sum(values)
    assert rounded(total) == math.fsum(values.tolist())
    part = exact_sum(values[:1000])
    assert rounded(plus(total, part, -1)) == math.fsum(values[1000:].tolist())
    assert rounded(exact_sum(np.empty(0))) == 0.0


def test_streams_are_independent_and_reproducible() -> None:
    a = generator(1, 0, DURATIONS, stream_key("triage")).random(5)
    again = generator(1, 0, DURATIONS, stream_key("triage")).random(5)
    other_step = generator(1, 0, DURATIONS, stream_key("resolve")).random(5)
    other_run = generator(1, 1, DURATIONS, stream_key("triage")).random(5)
    other_seed = generator(2, 0, DURATIONS, stream_key("triage")).random(5)
    assert np.array_equal(a, again)
    for different in (other_step, other_run, other_seed):
        assert not np.array_equal(a, different)
    # run r is SeedSequence(seed).spawn(runs)[r]
    assert np.random.SeedSequence(1).spawn(3)[2].spawn_key == (2,)


def test_arrival_times_replay_and_locate() -> None:
    spec = DistSpec("exponential", (300.0,))
    arrivals = ArrivalTimes(4, 0, spec, 10_000)
    source = arrivals.source()
    times: list[float] = []
    while True:
        block = source()
        if block == [math.inf]:
            break
        times.extend(reversed([t for t in block if t != math.inf]))
    assert len(times) == 10_000
    assert times == sorted(times)
    assert arrivals.at(0, 4_999, 9_999) == [times[0], times[4_999], times[9_999]]
    assert times[-1] / 10_000 == pytest.approx(300.0, rel=0.03)


# -- histograms ------------------------------------------------------------------------


def test_histogram_quantiles_are_within_one_percent() -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([np.zeros(3_000), rng.lognormal(8.0, 1.5, 50_000)])
    histogram = Histogram()
    for chunk in np.array_split(values, 7):
        histogram.add(chunk)
    assert histogram.n == len(values)
    assert histogram.mean == pytest.approx(values.mean(), rel=1e-12)
    for q in (0.01, 0.05, 0.5, 0.9, 0.95, 0.99):
        assert histogram.quantile(q) == pytest.approx(np.quantile(values, q), rel=0.01, abs=1e-9)
    assert histogram.quantile(0.0) == 0.0
    assert histogram.quantile(1.0) == values.max()


def test_histograms_merge_exactly() -> None:
    rng = np.random.default_rng(6)
    a, b = rng.exponential(60.0, 1_000), rng.exponential(600.0, 1_000)
    first, second, both = Histogram(), Histogram(), Histogram()
    first.add(a)
    second.add(b)
    both.add(np.concatenate([a, b]))
    first.merge(second)
    assert np.array_equal(first.counts, both.counts)
    assert first.quantile(0.9) == both.quantile(0.9)
    assert math.isnan(Histogram().quantile(0.5))


# -- intervals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "value"),
    [(1, 12.7062), (2, 4.3027), (4, 2.7764), (9, 2.2622), (19, 2.0930), (100, 1.9840)],
)
def test_t_quantiles_match_the_tables(df: int, value: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(value, abs=1e-4)
    assert t_cdf(t_quantile(0.975, df), df) == pytest.approx(0.975, abs=1e-10)
    assert t_quantile(0.025, df) == pytest.approx(-value, abs=1e-4)


def test_estimates_and_paired_differences() -> None:
    found = estimate([1.0, 2.0, 3.0])
    assert found.mean == 2.0
    assert found.ci95 == pytest.approx((2.0 - 2.4841, 2.0 + 2.4841), abs=1e-4)
    assert estimate([5.0]).ci95 is None
    assert estimate([1.0, None]).mean is None
    diff = paired([10.0, 12.0, 11.0], [8.0, 10.5, 9.0])
    assert diff.difference == pytest.approx(-5.5 / 3)
    assert diff.significant is True
    same = paired([1.0, 2.0], [1.0, 2.0])
    assert (same.difference, same.ci95, same.significant) == (0.0, (0.0, 0.0), False)
    assert paired([1.0], [2.0]).significant is None


# -- edges of the options --------------------------------------------------------------------

TINY = """\
process: tiny
owners:
  clerk: {capacity: 1}
arrivals:
  rate: 6/h
start: work
steps:
  work:
    owner: clerk
    duration: exponential(5m)
    next: done
  done:
    end: true
goals:
  - id: unknown-step
    metric: step_time:nowhere
    stat: p90
    target: "<= 1h"
  - id: quick
    metric: wip
    target: "<= 5"
"""


def test_a_single_case_and_a_single_run() -> None:
    result = simulate(load_text(TINY, "tiny.yaml"), cases=1, runs=1, seed=2)
    assert result.warmup == 0
    assert result["cycle_time.mean"].mean == result["cycle_time.p90"].mean
    assert result["cycle_time.mean"].ci95 is None
    assert result["utilization:clerk"].mean == pytest.approx(1.0)  # busy all its window
    document = result.to_dict()
    assert document["kpis"]["cycle_time"]["ci95"] is None
    assert document["kpis"]["cost_per_case"] == {"mean": None, "ci95": None}


def test_a_goal_that_cannot_be_measured_is_not_a_failure() -> None:
    result = simulate(load_text(TINY, "tiny.yaml"), cases=500, runs=2, seed=2)
    goals = {goal.id: goal for goal in result.goals}
    assert goals["unknown-step"].met is None
    assert goals["unknown-step"].value is None
    assert goals["unknown-step"].reason == "there is no step 'nowhere'"
    assert goals["quick"].reason is None
    assert goals["quick"].met is True
    assert result.goals_met


def test_nonnegative_intervals_stop_at_zero() -> None:
    """A t interval from few runs can reach below 0: a KPI's is cut at 0, a difference's not."""
    waits = [0.0, 0.0, 40.0]
    assert estimate(waits).ci95 is not None
    assert estimate(waits).ci95[0] < 0  # type: ignore[index]
    kpi = estimate(waits, nonnegative=True)
    assert kpi.ci95 is not None
    assert kpi.ci95[0] == 0.0
    assert kpi.ci95[1] == estimate(waits).ci95[1]  # type: ignore[index]
    assert kpi.mean == pytest.approx(40 / 3)


FIXED = """\
process: fixed
owners:
  clerk: {capacity: 5}
  slow: {capacity: 1}
arrivals: {rate: 2/h}
start: a
steps:
  a:
    owner: clerk
    duration: 5m
    next: b
  b:
    owner: clerk
    duration: 10m
    next: done
  done: {end: true}
"""


def test_quantiles_of_fixed_durations_are_exact() -> None:
    """900 s of fixed durations, measured on a clock hours into the run, is 900 -- not
    900.0000000000009 (float noise of ``end - arrival``, kept by the interpolation)."""
    result = simulate(load_text(FIXED, "fixed.yaml"), cases=3_000, runs=2, seed=0)
    document = result.to_dict()["kpis"]["cycle_time"]
    assert [document[s] for s in ("mean", "p50", "p90", "p95", "p99")] == [900.0] * 5
    assert document["ci95_by_stat"]["p50"] == [900.0, 900.0]


def test_a_histogram_of_one_value_with_float_noise_gives_that_value() -> None:
    histogram = Histogram()
    histogram.add(np.array([899.9999999999127, 900.0000000000009, 900.0]))
    assert [histogram.quantile(q) for q in (0.5, 0.9, 0.99)] == [900.0] * 3
    histogram.add(np.array([1234.5678901234567]))
    interpolated = histogram.quantile(0.99)
    assert interpolated == pytest.approx(1234.5678901234567, rel=0.01)  # within its 1 % bin
    assert interpolated == float(f"{interpolated:.12g}")  # 12 significant digits, no more
    assert histogram.quantile(1.0) == 1234.5678901234567  # the observed maximum as it is


def test_a_utilization_interval_stops_at_100_percent() -> None:
    assert estimate([0.97, 1.0, 0.999], nonnegative=True).ci95[1] > 1.0  # type: ignore[index]
    kpi = estimate([0.97, 1.0, 0.999], nonnegative=True, most=1.0)
    assert kpi.ci95 is not None
    assert kpi.ci95[1] == 1.0
    process = load_text(
        FIXED.replace("owner: clerk\n    duration: 10m", "owner: slow\n    duration: 40m"), "x.yaml"
    )
    result = simulate(process, cases=400, runs=3, seed=1)
    _low, high = result["utilization:slow"].ci95  # type: ignore[misc]
    assert high <= 1.0
    assert result.to_dict()["owners"]["slow"]["ci95"][1] <= 1.0


def test_a_path_is_loaded_and_anything_else_is_a_type_error() -> None:
    by_path = simulate(str(CUSTOMER_SERVICE), cases=300, runs=1, seed=5)
    assert (
        by_path.to_json() == simulate(load(CUSTOMER_SERVICE), cases=300, runs=1, seed=5).to_json()
    )
    assert (
        compare(CUSTOMER_SERVICE, load(CUSTOMER_SERVICE), cases=200, runs=1).baseline.cases == 200
    )
    with pytest.raises(TypeError, match=r"simulate\(\) takes a Process \(procflow.load\(path\)\)"):
        simulate(42, cases=10, runs=1)  # type: ignore[arg-type]


def test_huge_durations_read_as_whole_days() -> None:
    from procflow.cli.simreport import interval, show, show_delta

    day = 86400.0
    assert show("cycle_time.mean", 1150 * day) == "1,150d"
    assert show("cycle_time.mean", 12345.4 * day) == "12,345d"
    assert show("cycle_time.mean", 999 * day) == "999d"
    assert show_delta("cycle_time.mean", -1150 * day) == "-1,150d"
    assert interval("wait_time", (1100 * day, 1200 * day)) == "1,100d … 1,200d"


def test_quantiles_that_fall_on_the_minimum_are_the_minimum() -> None:
    """98 of 100 interviews take exactly 2h: p50 and p90 are 2h, not 2h plus part of a bin."""
    rng = np.random.default_rng(3)
    exact = np.full(980, 7200.0) + rng.uniform(-1e-12, 1e-12, 980) * 7200.0  # clock noise
    late = 7200.0 + rng.uniform(10.0, 100.0, 20)
    first, second = Histogram(), Histogram()
    first.add(exact[:500])
    second.add(np.concatenate([exact[500:], late]))
    first.merge(second)
    assert first.at_low == 980
    assert first.quantile(0.5) == 7200.0
    assert first.quantile(0.9) == 7200.0
    sample = np.concatenate([exact, late])
    assert first.quantile(0.99) == pytest.approx(np.quantile(sample, 0.99), rel=0.01)
    assert first.quantile(0.99) > 7200.0


def test_a_fixed_step_meets_a_goal_at_exactly_its_duration() -> None:
    process = load_text(
        """
process: fixed2h
owners: {panel: {capacity: 2}}
arrivals: {rate: 0.1/h}
start: interview
steps:
  interview: {owner: panel, duration: 2h, next: done}
  done: {end: true}
goals:
  - {id: on-time, metric: "step_time:interview", stat: p90, target: "<= 2h", deadline: 2027-12-31}
  - {id: cycle, metric: cycle_time, stat: p50, target: "<= 2h", deadline: 2027-12-31}
""",
        "fixed2h.yaml",
    )
    result = simulate(process, cases=2000, runs=3, seed=1)
    assert [(g.id, g.value, g.met) for g in result.goals] == [
        ("on-time", 7200.0, True),
        ("cycle", 7200.0, True),
    ]
