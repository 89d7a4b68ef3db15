"""calibrate: fitting, text-preserving edits, the round trip and the command line."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import procflow
from helpers import CUSTOMER_SERVICE
from procflow._cases import Case, write_cases
from procflow.cli import main
from procflow.cli.calibrate import default_output
from procflow.distributions import Exponential, Gamma, Lognormal, Normal, Triangular, Uniform
from procflow.eventlog.calibrate import calibrate, distribution_text, rate_text, round_shares
from procflow.eventlog.fitting import digamma, fit_all, gamma_shape, trigamma
from procflow.eventlog.stats import RESERVOIR, Sample, wilson_interval

# -- summaries and fitting -----------------------------------------------------------------


def test_sample_moments_and_reservoir() -> None:
    rng = np.random.default_rng(3)
    data = rng.lognormal(3.0, 1.0, 50_000)
    sample = Sample(7)
    for value in data[:1000]:
        sample.add(float(value))
    sample.extend(data[1000:])
    assert sample.n == data.size
    assert sample.mean == pytest.approx(data.mean(), rel=1e-12)
    assert sample.sd == pytest.approx(data.std(ddof=1), rel=1e-9)
    assert sample.logs.mean == pytest.approx(np.log(data).mean(), rel=1e-12)
    assert (sample.minimum, sample.maximum) == (data.min(), data.max())
    assert sample.reservoir.size == RESERVOIR
    assert sample.quantile(0.5) == pytest.approx(np.median(data), rel=0.05)
    small = Sample()
    small.extend([3.0, 1.0, 2.0])
    assert small.quantile(0.5) == 2.0  # below the reservoir size, quantiles are exact
    assert small.summary()["p90"] == pytest.approx(2.8)


def test_wilson_interval() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(0, 38)
    assert low == 0.0
    assert high == pytest.approx(2.5758**2 / (38 + 2.5758**2), abs=1e-6)


def test_special_functions() -> None:
    assert digamma(1.0) == pytest.approx(-0.5772156649, abs=1e-9)
    assert digamma(0.5) == pytest.approx(-1.9635100260, abs=1e-9)
    assert trigamma(1.0) == pytest.approx(math.pi**2 / 6, abs=1e-9)
    for shape in (0.05, 0.7, 1.0, 4.0, 80.0):
        s = math.log(shape) - digamma(shape)
        assert gamma_shape(s) == pytest.approx(shape, rel=1e-8)


@pytest.mark.parametrize(
    ("family", "draw"),
    [
        ("exponential", lambda rng: rng.exponential(600, 5000)),
        ("lognormal", lambda rng: rng.lognormal(math.log(600), 0.5, 5000)),
        ("gamma", lambda rng: rng.gamma(4, 150, 5000)),
        ("uniform", lambda rng: rng.uniform(100, 700, 5000)),
        ("triangular", lambda rng: rng.triangular(100, 200, 900, 5000)),
        ("normal", lambda rng: rng.normal(600, 50, 5000)),
    ],
)
def test_the_right_family_wins_and_the_moments_are_kept(family: str, draw) -> None:  # type: ignore[no-untyped-def]
    data = draw(np.random.default_rng(1))
    sample = Sample()
    sample.extend(data)
    best = fit_all(sample)[0]
    assert best.family == family
    assert best.distribution.mean == pytest.approx(data.mean(), rel=0.01)
    if family not in ("exponential", "uniform", "triangular"):
        assert best.distribution.sd == pytest.approx(data.std(ddof=1), rel=0.01)


def test_fixed_when_every_observation_is_equal() -> None:
    sample = Sample()
    sample.extend(np.full(50, 90.0))
    (fit,) = fit_all(sample)
    assert fit.family == "fixed"
    assert distribution_text(fit.distribution) == "1.5m"


def test_mixed_real_world_durations_keep_mean_and_sd() -> None:
    rng = np.random.default_rng(2)
    data = np.concatenate([rng.uniform(10, 60, 900), rng.exponential(5 * 86400, 100)])
    sample = Sample()
    sample.extend(data)
    for fit in fit_all(sample):
        assert fit.distribution.mean == pytest.approx(data.mean(), rel=0.01), fit.family
    best = fit_all(sample)[0]
    assert best.distribution.sd == pytest.approx(data.std(ddof=1), rel=0.01)


@pytest.mark.parametrize(
    ("dist", "text"),
    [
        (Exponential(mean_=355.2), "exponential(5.92m)"),
        (Lognormal(mean_=240.0, sd_=118.8), "lognormal(4m, 1.98m)"),
        (Gamma(mean_=100000.0, sd_=533000.0), "gamma(1.16d, 6.17d)"),
        (Normal(mu=600.0, sigma=50.0), "normal(10m, 50s)"),
        (Uniform(min=100.0, max=700.0), "uniform(1.67m, 11.7m)"),
        (Triangular(min=1200.0, mode=1200.001, max=5400.0), "triangular(20m, 20m, 1.5h)"),
    ],
)
def test_distribution_text(dist: object, text: str) -> None:
    assert distribution_text(dist) == text  # type: ignore[arg-type]


def test_rate_text() -> None:
    assert rate_text(8 / 3600) == "8/h"
    assert rate_text(3 / 86400) == "3/d"
    assert rate_text(7.834 / 3600) == "7.83/h"


@given(
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=2, max_size=12), st.integers(2, 4)
)
def test_rounded_shares_sum_to_one_exactly(counts: list[int], digits: int) -> None:
    if sum(counts) == 0:
        counts = [*counts[:-1], 1]
    shares = round_shares(counts, digits)
    units = [round(float(s) * 10**digits) for s in shares]
    assert sum(units) == 10**digits
    total = sum(counts)
    for count, unit in zip(counts, units, strict=True):
        assert abs(unit - count * 10**digits / total) < 1.0
    assert math.isclose(sum(float(s) for s in shares), 1.0, abs_tol=1e-9)


# -- a log from live cases ------------------------------------------------------------------------


def sampled_log(process: procflow.Process, path: Path, cases: int, seed: int) -> None:
    """Run ``cases`` live cases with a seeded random walk and durations (no queueing)."""
    rng = np.random.default_rng(seed)
    arrival = datetime(2027, 1, 4, tzinfo=UTC)
    assert process.arrivals is not None
    done = []
    for number in range(cases):
        arrival += timedelta(seconds=float(rng.exponential(process.arrivals.mean_interarrival)))
        now = [arrival]
        case = Case(process, f"c{number}", lambda now=now: now[0])
        while not case.done:
            step = process.steps[case.state]
            assert step.duration is not None
            now[0] += timedelta(seconds=_draw(step.duration, rng))
            options = [t for t in step.transitions if t.trigger in case.available_triggers]
            weights = np.array([t.p if t.p is not None else 1.0 for t in options])
            choice = options[int(rng.choice(len(options), p=weights / weights.sum()))]
            case.trigger(choice.trigger)
        done.append(case)
    write_cases(path, done)


def _draw(dist: object, rng: np.random.Generator) -> float:
    name = dist.dist  # type: ignore[attr-defined]
    if name == "exponential":
        return float(rng.exponential(dist.mean))  # type: ignore[attr-defined]
    if name == "lognormal":
        return float(rng.lognormal(*dist.log_params))  # type: ignore[attr-defined]
    if name == "triangular":
        return float(rng.triangular(*dist.args()))  # type: ignore[attr-defined]
    if name == "gamma":
        return float(rng.gamma(*dist.shape_scale))  # type: ignore[attr-defined]
    if name == "uniform":
        return float(rng.uniform(*dist.args()))  # type: ignore[attr-defined]
    raise AssertionError(name)


def assert_recovered(
    declared: procflow.Process, report: procflow.LogReport, fitted: procflow.Process
) -> None:
    """Probabilities and mean durations within 4 standard errors of the declared ones.

    A probability's standard error is that of a share of the *free* departures (every
    bounded transition of the step still available): the ones calibrate counts.
    """
    m = report.measurements
    for step_id, step in declared.steps.items():
        if step.end:
            continue
        n = m.steps[step_id].service.n
        assert step.duration is not None
        new = fitted.steps[step_id].duration
        assert new is not None
        error = step.duration.sd / math.sqrt(n)
        assert abs(new.mean - step.duration.mean) < 4 * error + 0.005 * step.duration.mean, step_id
        departures = m.steps[step_id].free_departures
        for old, fit in zip(step.transitions, fitted.steps[step_id].transitions, strict=True):
            if old.p is None or len(step.transitions) < 2:
                continue
            assert fit.p is not None
            error = math.sqrt(old.p * (1 - old.p) / departures)
            assert abs(fit.p - old.p) < 4 * error + 0.001, (step_id, old.trigger)


def test_round_trip_through_live_cases(tmp_path: Path) -> None:
    text = """\
process: round-trip
owners:
  desk: {capacity: 3}
  expert: {capacity: 2}
arrivals:
  rate: 6/h
start: intake
steps:
  intake:
    owner: desk
    duration: exponential(5m)
    on:
      easy: {to: answer, p: 0.6}
      hard: {to: study, p: 0.4}
  study:
    owner: expert
    duration: gamma(30m, 10m)
    next: answer
  answer:
    owner: desk
    duration: triangular(2m, 4m, 12m)
    on:
      done: {to: closed, p: 0.8}
      rework: {to: intake, p: 0.2, feedback: true}
  closed:
    end: true
"""
    source = tmp_path / "round-trip.yaml"
    source.write_text(text)
    declared = procflow.load(source)
    log = tmp_path / "events.csv"
    sampled_log(declared, log, cases=1500, seed=11)
    result = calibrate(declared, procflow.read_log(log))
    assert result.report.conformance == 1.0
    assert_recovered(declared, result.report, result.process)
    families = {
        s: str(step.duration).split("(")[0]
        for s, step in result.process.steps.items()
        if step.duration
    }
    assert families == {"intake": "exponential", "study": "gamma", "answer": "triangular"}
    assert result.process.arrivals is not None
    assert result.process.arrivals.rate_per_hour == pytest.approx(6, rel=4 / math.sqrt(1500))


def test_round_trip_through_the_simulator(tmp_path: Path) -> None:
    simulate = getattr(procflow, "simulate", None)
    if simulate is None:  # pragma: no cover - the simulator is another module
        pytest.skip("procflow.simulate is not available")
    declared = procflow.load(CUSTOMER_SERVICE)
    log = tmp_path / "sim.csv"
    simulate(declared, cases=4000, runs=1, seed=5, log=log, jobs=1)
    assert (
        main(["calibrate", str(CUSTOMER_SERVICE), str(log), "-o", str(tmp_path / "cs.yaml")]) == 0
    )
    fitted = procflow.load(tmp_path / "cs.yaml")
    result = calibrate(declared, procflow.read_log(log))
    assert result.report.conformance == 1.0
    assert_recovered(declared, result.report, fitted)
    assert_recovered(declared, result.report, result.process)


BOUNDED_LOOP = """\
process: bounded-loop
owners:
  desk: {capacity: 3}
arrivals:
  rate: 4/h
start: prepare
steps:
  prepare:
    owner: desk
    duration: exponential(10m)
    next: review
  review:
    owner: desk
    duration: exponential(10m)
    on:
      ok: {to: done, p: 0.5}
      redo: {to: prepare, p: 0.3, feedback: true, max: 2}
      escalate: {to: expert, p: 0.2}
  expert:
    owner: desk
    duration: exponential(5m)
    on:
      back: {to: review, p: 0.5, max: 1}
      close: {to: done, p: 0.5}
  done:
    end: true
"""


def test_a_bounded_loop_calibrates_back_to_its_declared_p(tmp_path: Path) -> None:
    """SPEC 1.1: a used-up ``max`` edge is skipped and the other ``p`` renormalized.

    Departures made after that do not follow the declared ``p``; counting them pulled
    ``redo`` down (0.3 -> 0.27 here) and ``back`` down (0.5 -> 0.45). Calibrate counts
    only departures with every transition available, so a log the process itself
    generated gives back its own ``p``, within 3 standard errors.
    """
    source = tmp_path / "loop.yaml"
    source.write_text(BOUNDED_LOOP)
    declared = procflow.load(source)
    log = tmp_path / "loop.csv"
    simulate = ["simulate", str(source), "--cases", "4000", "--runs", "1", "--seed", "3"]
    assert main([*simulate, "--log", str(log)]) == 0
    out = tmp_path / "fitted.yaml"
    assert main(["calibrate", str(source), str(log), "-o", str(out)]) == 0
    fitted = procflow.load(out)
    result = calibrate(declared, procflow.read_log(log))
    assert result.report.conformance == 1.0
    m = result.report.measurements
    for step_id in ("review", "expert"):
        measure = m.steps[step_id]
        free = measure.free_departures
        assert 0 < free < measure.departures  # some departures came after a bound was used up
        for old, new in zip(
            declared.steps[step_id].transitions, fitted.steps[step_id].transitions, strict=True
        ):
            assert old.p is not None
            assert new.p is not None
            error = math.sqrt(old.p * (1 - old.p) / free)
            assert abs(new.p - old.p) < 3 * error + 0.0005, (step_id, old.trigger, new.p)
            # the share among all departures is far off: what the bug reported
            taken = m.edge_counts[
                next(e.index for e in m.index.out[step_id] if e.trigger == old.trigger)
            ]
            if old.max is not None:
                assert old.p - taken / measure.departures > 3 * error
    notes = {c.subject: c.note for c in result.changes + result.kept if c.kind == "p"}
    assert "departures with every transition available" in notes["review.redo"]


# -- editing the text ----------------------------------------------------------------


def test_comments_order_and_quoting_survive(tmp_path: Path) -> None:
    source = tmp_path / "cs.yaml"
    text = CUSTOMER_SERVICE.read_text()
    source.write_text(text)
    log = tmp_path / "sim.csv"
    sampled_log(procflow.load(source), log, cases=400, seed=1)
    result = calibrate(procflow.load(source), procflow.read_log(log))
    before, after = text.splitlines(), result.text.splitlines()
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    edited = {c.subject for c in result.changes}
    assert len(changed) <= len(edited)
    for old, new in changed:
        if "#" in old:  # a trailing comment stays in its column
            assert new.index("#") == old.index("#")
            assert new.split("#", 1)[1] == old.split("#", 1)[1]
    assert source.read_text() == text  # the input is untouched


def test_missing_values_are_inserted(tmp_path: Path) -> None:
    source = tmp_path / "bare.yaml"
    source.write_text(
        """\
# no arrivals, no durations, no probabilities
process: bare
owners: {clerk: {capacity: 2}}
start: a

steps:
  a:
    owner: clerk     # who
    on:
      left: b
      right:
        to: c
  b: {owner: clerk, next: done}
  c:
    owner: clerk
    duration: "5m"
    next: done
  done: {end: true}
"""
    )
    process = procflow.load(source)
    rows = []
    for i in range(100):
        t = i * 600.0
        rows.append(f"k{i},a,{t},{t + 60}")
        second = "b" if i % 4 else "c"
        rows.append(f"k{i},{second},{t + 100},{t + 100 + (30 if second == 'b' else 300)}")
    log = tmp_path / "log.csv"
    log.write_text("case,activity,start,end\n" + "\n".join(rows) + "\n")
    result = calibrate(process, procflow.read_log(log))
    text = result.text
    assert "    owner: clerk     # who\n    duration: 1m\n" in text
    assert "      left: {to: b, p: 0.75}\n" in text
    assert "      right:\n        to: c\n        p: 0.25\n" in text
    assert "  b: {owner: clerk, next: done, duration: 30s}\n" in text
    assert '    duration: "5m"\n' in text  # already right: untouched, quotes kept
    assert "arrivals:\n  rate: 6/h\n\nstart: a\n" in text
    assert text.startswith("# no arrivals, no durations, no probabilities\n")
    fitted = result.process
    assert fitted.steps["a"].transitions[0].p == 0.75
    assert [f.code for f in procflow.lint(fitted) if f.severity >= procflow.Severity.ERROR] == []
    kinds = sorted((c.kind, c.subject) for c in result.changes)
    assert kinds == [
        ("arrivals", "arrivals.rate"),
        ("duration", "a"),
        ("duration", "b"),
        ("p", "a.left"),
        ("p", "a.right"),
    ]


def test_every_arrivals_gets_a_fitted_distribution(tmp_path: Path) -> None:
    source = tmp_path / "every.yaml"
    source.write_text(
        "process: every\narrivals:\n  every: 'uniform(1m, 3m)'\nstart: a\n"
        "steps:\n  a: {duration: 1m, next: z}\n  z: {end: true}\n"
    )
    log = tmp_path / "log.csv"
    rng = np.random.default_rng(4)
    times = np.cumsum(rng.exponential(600, 200))
    log.write_text(
        "case,activity,timestamp\n" + "".join(f"c{i},a,{t}\n" for i, t in enumerate(times))
    )
    result = calibrate(procflow.load(source), procflow.read_log(log), durations=False)
    (change,) = result.changes
    assert change.subject == "arrivals.every"
    assert change.new.startswith("exponential(")
    assert "  every: 'exponential(" in result.text  # the quoting style is kept
    assert result.process.arrivals is not None
    assert result.process.arrivals.mean_interarrival == pytest.approx(
        np.diff(times).mean(), rel=0.01
    )


def test_too_little_data_keeps_the_declared_values(tmp_path: Path) -> None:
    log = tmp_path / "few.csv"
    log.write_text("case,activity,start,end\nc,intake,0,300\nc,triage,300,400\n")
    result = calibrate(procflow.load(CUSTOMER_SERVICE), procflow.read_log(log))
    assert result.changes == []
    assert result.text == CUSTOMER_SERVICE.read_text()
    reasons = {k.subject: k.note for k in result.kept}
    assert reasons["intake"] == "1 observation < 30"
    assert reasons["triage.simple"] == "0 departures < 30"


def test_a_process_without_a_file_cannot_be_calibrated(tmp_path: Path) -> None:
    changed = procflow.load(CUSTOMER_SERVICE).with_changes({"owners": {"tier2": {"capacity": 3}}})
    log = tmp_path / "l.csv"
    log.write_text("case,activity,timestamp\nc,intake,1\n")
    with pytest.raises(procflow.ConfigError, match="load the process from a file"):
        calibrate(changed, procflow.read_log(log))


# -- the command line ---------------------------------------------------------------


@pytest.fixture
def simulated(tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "cs.yaml"
    source.write_text(CUSTOMER_SERVICE.read_text())
    log = tmp_path / "sim.csv"
    sampled_log(procflow.load(source), log, cases=300, seed=2)
    return source, log


def test_cli_default_output_and_report(
    simulated: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, log = simulated
    original = source.read_text()
    assert main(["calibrate", str(source), str(log)]) == 0
    out = capsys.readouterr().out
    target = source.with_name("cs.calibrated.yaml")
    assert target.exists()
    assert f"wrote {target}" in out
    assert "Changed" in out
    assert "triage.simple" in out
    assert source.read_text() == original
    procflow.load(target)
    assert not list(source.parent.glob(".*.tmp"))  # atomic: no temporary file left


def test_cli_stdout_and_json(
    simulated: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, log = simulated
    assert main(["calibrate", str(source), str(log), "-o", "-", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert procflow.load_text(captured.out, "out.yaml").id == "customer-service"
    report = json.loads(captured.err)
    assert report["version"] == 1
    assert report["output"] == "-"
    assert {c["kind"] for c in report["changes"]} >= {"duration", "p"}
    assert report["fits"]["intake"][0]["aic"] <= report["fits"]["intake"][-1]["aic"]


def test_cli_refuses_to_overwrite_its_input(
    simulated: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, log = simulated
    original = source.read_text()
    assert main(["calibrate", str(source), str(log), "-o", str(source)]) == 2
    assert "refusing to overwrite the input" in capsys.readouterr().err
    assert source.read_text() == original


def test_cli_options_select_what_is_fitted(
    simulated: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    source, log = simulated
    out = source.with_name("only-p.yaml")
    args = ["calibrate", str(source), str(log), "-o", str(out), "--no-durations", "--no-arrivals"]
    assert main(args) == 0
    fitted, original = procflow.load(out), procflow.load(source)
    assert fitted.arrivals == original.arrivals
    assert all(fitted.steps[s].duration == original.steps[s].duration for s in original.steps)
    assert main([*args, "--min-observations", "100000"]) == 0
    assert out.read_text() == source.read_text()
    assert "Nothing changed." in capsys.readouterr().out


def test_cli_bad_log_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "bad.csv"
    log.write_text("case,activity,timestamp\nc,intake,never\n")
    assert main(["calibrate", str(CUSTOMER_SERVICE), str(log), "-o", str(tmp_path / "x.yaml")]) == 2
    assert f"{log}:2: column 'timestamp': cannot read timestamp 'never'" in capsys.readouterr().err
    assert not (tmp_path / "x.yaml").exists()


def test_default_output_names() -> None:
    assert default_output("processes/cs.yaml") == str(Path("processes/cs.calibrated.yaml"))
    assert default_output("p.yml") == "p.calibrated.yml"
    assert default_output("noext") == "noext.calibrated.yaml"
    assert default_output("-") == "-"


def test_a_calibration_that_cannot_run_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "unk.yaml"
    source.write_text(
        "process: unk\nstart: a\nsteps:\n  a: {on: {x: b, y: nowhere}}\n  b: {end: true}\n"
    )
    log = tmp_path / "l.csv"
    log.write_text("case,activity,timestamp\nc,a,1\n")
    target = tmp_path / "out.yaml"
    assert main(["calibrate", str(source), str(log), "-o", str(target)]) == 2
    assert "PF101" in capsys.readouterr().err
    assert not target.exists()
