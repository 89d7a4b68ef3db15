"""Fit a process to an event log: :func:`calibrate` -> :class:`Calibration`.

One replay of the log (:mod:`~procflow.eventlog.replay`) gives, per step, the
observed durations and how often each transition was taken, and the times
cases arrived. From them:

* **durations** -- each non-end step with at least ``min_observations``
  durations gets the best-fitting distribution (docs/file-format.md#distributions;
  maximum likelihood per family, lowest AIC: :mod:`~procflow.eventlog.fitting`). Service times
  (``end - start``) are used when the log has start times; a complete-only
  log gives elapsed times (``end`` - the previous ``end`` in the case), which
  include waiting -- the report says so. The first step of a case has no
  elapsed time, so it keeps its declared duration in a complete-only log.
  For an owner with a calendar the service times are counted in its working
  hours (docs/working-time.md): a job from Friday 16:00 to Monday 10:00 at
  an office open 09-17 is 2 hours of work.
  With ``processing_time=True`` a complete-only log gives instead the
  processing times ``procflow discover`` estimates from resource
  availability (:mod:`procflow.discovery.timing`), fitted with a point
  mass at zero where there are zeros (:mod:`procflow.discovery.fit`): the
  owners' load is then right, but waiting no resource explains is in no
  step (discover writes it as delay steps).
* **overload** -- the calibrated process is analyzed; owners offered at
  least their capacity of work (PF501) are listed in ``overloaded``, so
  the command reports them (exit 1) instead of writing such a file
  silently.
* **probabilities** -- each step with several transitions and at least
  ``min_observations`` departures gets ``p`` = observed frequency, rounded
  to 2 decimals (3 from 400 departures, 4 from 40,000) by the largest
  remainder method so they still sum to exactly 1. A transition never
  taken gets ``p: 0.0``. At a step with a bounded transition (``max``) the
  frequencies come only from departures where every bounded transition was
  still available to the case: once a case has used one up, docs/file-format.md#transitions
  renormalizes the remaining ``p``, and counting those departures would
  shift ``p`` away from the bounded edge (a ``redo`` with ``p: 0.5, max: 1``
  would come out near 0.33). Those departures follow the declared ``p``
  exactly, so the log of a simulated process calibrates back to its own
  ``p`` (:mod:`~procflow.eventlog.replay` explains the estimate).
* **arrivals** -- the rate of case arrivals between the first and the last
  case start (``rate:``), or the fitted inter-arrival distribution when the
  process declares ``every:``; a process without ``arrivals`` gets a rate.

Anything with too few observations keeps its declared value and is listed
under ``kept``. The new file is the original text edited at the spans the
loader recorded (:mod:`~procflow.eventlog.yamledit`): comments, key order,
quoting and blank lines survive. The result is loaded again before it is
returned, so a calibration never produces a file procflow cannot read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from procflow.analysis.analyzer import analyze_or_none
from procflow.casedata import ByDuration, ByValue, Categorical, parse_attribute
from procflow.distributions import Fixed, _Dist, parse_distribution
from procflow.errors import ConfigError, ProcessError, ProcflowError
from procflow.eventlog.conformance import LogReport, check_log
from procflow.eventlog.events import Event
from procflow.eventlog.fitting import Fit, fit_all
from procflow.eventlog.reader import EventLog
from procflow.eventlog.replay import Measurements
from procflow.eventlog.rules import attribute_numbers, attribute_shares
from procflow.eventlog.stats import Sample
from procflow.eventlog.workhours import working_service
from procflow.eventlog.yamledit import EditError, TextEdits
from procflow.expressions import Value
from procflow.gate import ensure_runnable
from procflow.loader import load_text
from procflow.model import Process
from procflow.source import ProcessSource, SourceMap
from procflow.units import format_duration, format_number

MIN_OBSERVATIONS = 30


@dataclass(frozen=True)
class CalibrationChange:
    """One value calibration changed (or kept, with the reason in ``note``)."""

    kind: str  # "duration", "p", "arrivals"
    subject: str  # step id, "step.trigger", or "arrivals"
    old: str
    new: str
    observations: int
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "old": self.old,
            "new": self.new,
            "observations": self.observations,
            "note": self.note,
        }


@dataclass(frozen=True)
class Overload:
    """An owner the calibrated process offers more work than its capacity (PF501)."""

    owner: str
    capacity: int | None
    load: float
    utilization: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": "PF501",
            "owner": self.owner,
            "capacity": self.capacity,
            "load": self.load,
            "utilization": self.utilization,
        }

    def message(self) -> str:
        return (
            f"PF501 owner {self.owner!r} is overloaded in the calibrated process: offered load "
            f"{format_number(self.load, 3)} against capacity {self.capacity} "
            f"(utilization {self.utilization:.0%})"
        )


@dataclass
class Calibration:
    """The calibrated process text, what changed, what was kept and why."""

    text: str
    process: Process
    changes: list[CalibrationChange]
    kept: list[CalibrationChange]
    report: LogReport
    fits: dict[str, list[Fit]] = field(default_factory=dict)
    overloaded: list[Overload] = field(default_factory=list)
    """Owners the calibrated process overloads (PF501): reported, never written silently."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "process": self.process.id,
            "log": self.report.measurements.path,
            "timing": self.report.timing,
            "overloaded": [o.to_dict() for o in self.overloaded],
            "changes": [c.to_dict() for c in self.changes],
            "kept": [c.to_dict() for c in self.kept],
            "fits": {
                step: [
                    {
                        "family": f.family,
                        "distribution": distribution_text(f.distribution),
                        "log_likelihood": f.log_likelihood
                        if math.isfinite(f.log_likelihood)
                        else None,
                        "aic": f.aic if math.isfinite(f.aic) else None,
                    }
                    for f in fits
                ]
                for step, fits in self.fits.items()
            },
        }


# --------------------------------------------------------------------------
# formatting values the way a person writes them


def _duration(seconds: float, digits: int) -> str:
    return format_duration(max(seconds, 0.0), digits)


def distribution_text(dist: _Dist, digits: int = 3) -> str:
    """``gamma(4.12m, 2.2m)``: 3 significant digits, more when rounding would break it."""
    for places in range(digits, 10):
        match dist:
            case Fixed():  # written as a bare duration
                text = _duration(dist.value, places)
            case _:
                args = ", ".join(_duration(a, places) for a in dist.args())
                text = f"{dist.dist}({args})"
        try:
            parse_distribution(text)
        except Exception:  # a rounding that breaks a parameter check: one more digit
            continue
        return text
    return str(dist)


def rate_text(per_second: float) -> str:
    """Cases per hour when at least one an hour, else per day: ``3.5/h``, ``2.97/d``."""
    per_hour = per_second * 3600.0
    if per_hour >= 1.0:
        return f"{format_number(per_hour, 3)}/h"
    return f"{format_number(per_hour * 24.0, 3)}/d"


def round_shares(counts: list[int], digits: int) -> list[str]:
    """Shares of ``counts`` rounded to ``digits`` decimals that sum to exactly 1.

    Largest remainder: every share is floored, then the units left over go
    to the largest remainders (earlier transitions first on ties).

    >>> round_shares([1, 1, 1], 2)
    ['0.34', '0.33', '0.33']
    """
    total = sum(counts)
    units = 10**digits
    floors = [c * units // total for c in counts]
    remainders = [c * units % total for c in counts]
    left = units - sum(floors)
    order = sorted(range(len(counts)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [_decimal(f, digits) for f in floors]


def _decimal(units: int, digits: int) -> str:
    whole, frac = divmod(units, 10**digits)
    text = f"{whole}.{frac:0{digits}d}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _digits(departures: int) -> int:
    if departures >= 40_000:
        return 4
    if departures >= 400:
        return 3
    return 2


# --------------------------------------------------------------------------


def _written(edits: TextEdits, path: tuple[str, ...]) -> str | None:
    """A value as the file writes it (one line, quotes dropped), or None."""
    span = edits.source.span(path)
    if span is None:
        return None
    text = " ".join(edits.text[span[0] : span[1]].split())
    return text.strip("'\"") or None


def _source_map(process: Process) -> SourceMap:
    source: Any = process.source
    if isinstance(source, ProcessSource):
        source = source.main
    if not isinstance(source, SourceMap) or not source.text:
        raise ConfigError(
            "calibrate edits the process file's text: load the process from a file "
            "(procflow.load), not from a change or from Python objects"
        )
    return source


PROCESSING_BASIS = "processing times estimated from resource availability (no start times)"
WAITS_NOTE = "as discover measures them"
"""The end of the note of a refitted delay step (:func:`_calibrate_waits`)."""


def _duration_sample(
    m: Measurements, step_id: str, minimum: int, processing: dict[str, Sample]
) -> tuple[Sample, str]:
    measure = m.steps[step_id]
    if measure.service.n >= minimum:
        return measure.service, "service times"
    estimated = processing.get(step_id)
    if estimated is not None and estimated.n >= minimum:
        return estimated, PROCESSING_BASIS
    if measure.elapsed.n >= measure.service.n and measure.elapsed.n:
        return measure.elapsed, "elapsed times (waiting included: the log has no start times)"
    return measure.service, "service times"


def calibrate(
    process: Process,
    log: EventLog | list[Event],
    *,
    min_observations: int = MIN_OBSERVATIONS,
    durations: bool = True,
    probabilities: bool = True,
    arrivals: bool = True,
    processing_time: bool = False,
    attributes: Mapping[str, Mapping[str, Value]] | None = None,
) -> Calibration:
    """Fit ``process`` to ``log``; see the module docstring for the rules.

    ``processing_time``: in a log without start times, fit the processing
    time estimated from resource availability (as ``procflow discover``
    does) instead of the elapsed time between completions.

    ``attributes`` (``{case: {attribute: value}}``, from
    :func:`procflow.eventlog.rules.read_attributes`) fits the shares of the
    categorical attributes and the distribution of the numeric ones
    (docs/attributes.md).

    >>> result = calibrate(procflow.load("p.yaml"), read_log("events.csv"))  # doctest: +SKIP
    >>> print(result.text)                                                  # doctest: +SKIP
    """
    if min_observations < 1:
        raise ConfigError("min_observations must be at least 1")
    source = _source_map(process)
    report = check_log(process, log)
    m = report.measurements
    edits = TextEdits(source)
    changes: list[CalibrationChange] = []
    kept: list[CalibrationChange] = []
    fits: dict[str, list[Fit]] = {}
    if durations:
        working = working_service(process, log) if process.calendars else {}
        estimate = processing_time and report.timing == "complete-only"
        processing = _processing(process, log) if estimate else {}
        waits = _calibrate_waits(process, log, edits, changes, kept, min_observations)
        _calibrate_durations(
            process, m, edits, changes, kept, fits, min_observations, processing, working, waits
        )
    if probabilities:
        _calibrate_probabilities(process, m, edits, changes, kept, min_observations)
    if arrivals:
        _calibrate_arrivals(process, m, edits, changes, kept, min_observations)
    if attributes:
        _calibrate_attributes(process, attributes, edits, changes, kept, min_observations)
    text = edits.apply()
    try:
        calibrated = load_text(text, source.file)
    except ProcessError as exc:  # pragma: no cover - an editing bug, not bad input
        raise ProcflowError(
            f"calibration produced an invalid process (please report): {exc}"
        ) from exc
    ensure_runnable(calibrated)  # the same gate analyze and simulate apply
    return Calibration(text, calibrated, changes, kept, report, fits, _overloads(calibrated))


def _overloads(process: Process) -> list[Overload]:
    """The staffed owners the process offers at least their capacity of work (PF501)."""
    analysis = analyze_or_none(process)
    if analysis is None:
        return []
    return [
        Overload(o.id, o.capacity, o.load, o.utilization)
        for o in analysis.loads.values()
        if not o.external and not o.stable and o.utilization is not None
    ]


def _processing(process: Process, log: EventLog | list[Event]) -> dict[str, Sample]:
    """Per step, processing times estimated as ``procflow discover`` does (complete-only logs).

    The log is read a second time into columns (:mod:`procflow.discovery.table`);
    activities are matched to steps as the replay matches them.
    """
    from procflow.discovery.processing import processing_by_activity
    from procflow.eventlog.matching import StepMatcher

    matcher = StepMatcher(process)
    samples: dict[str, Sample] = {}
    for activity, values in processing_by_activity(log).items():
        step = matcher(activity)
        if step is None or values.size == 0:
            continue
        samples.setdefault(step, Sample()).extend(values)
    return samples


def _calibrate_durations(
    process: Process,
    m: Measurements,
    edits: TextEdits,
    changes: list[CalibrationChange],
    kept: list[CalibrationChange],
    fits: dict[str, list[Fit]],
    minimum: int,
    processing: dict[str, Sample],
    working: dict[str, Sample] | None = None,
    waits: frozenset[str] = frozenset(),
) -> None:
    for step_id, step in process.steps.items():
        if step.end or step_id in waits:
            continue
        old = _written(edits, ("steps", step_id, "duration")) or "(none)"
        sample, basis = _duration_sample(m, step_id, minimum, processing)
        measured = (working or {}).get(step_id)
        if step_id not in processing and measured is not None and measured.n >= minimum:
            sample, basis = measured, f"service times in {step.owner}'s working hours"
        if sample.n < minimum:
            why = (
                "no elapsed time for a case's first event in a complete-only log"
                if sample.n == 0 and step_id == process.start
                else f"{sample.n} observation{'s' if sample.n != 1 else ''} < {minimum}"
            )
            kept.append(CalibrationChange("duration", step_id, old, old, sample.n, why))
            continue
        candidates = fit_all(sample)
        fits[step_id] = candidates
        best = candidates[0]
        new = distribution_text(best.distribution)
        note = f"{basis}; {best.family} has the lowest AIC"
        if len(candidates) == 1 and best.family != "fixed":
            note = f"{basis}; {best.family}, the only family that fits these values"
        if best.family == "fixed":
            note = f"{basis}; every observation is the same"
        if isinstance(step.duration, ByDuration):  # one fit per class is future work
            kept.append(CalibrationChange("duration", step_id, old, old, sample.n, "by attribute"))
            continue
        if basis == PROCESSING_BASIS:
            new, note = _zero_aware(sample, basis)
        if step.duration is not None and new == distribution_text(step.duration):
            kept.append(CalibrationChange("duration", step_id, old, new, sample.n, "unchanged"))
            continue
        if step.duration is not None:
            edits.replace(("steps", step_id, "duration"), new)
        else:
            edits.insert(("steps", step_id), "duration", new, after="owner")
        changes.append(CalibrationChange("duration", step_id, old, new, sample.n, note))


def _calibrate_waits(
    process: Process,
    log: EventLog | list[Event],
    edits: TextEdits,
    changes: list[CalibrationChange],
    kept: list[CalibrationChange],
    minimum: int,
) -> frozenset[str]:
    """Discover's ``wait-<step>`` delay steps and ``pace`` regime, measured as discover does.

    A log never records a delay step, so the replay has nothing to fit it
    with; :mod:`procflow.discovery.refit` measures each event's extraneous
    wait and refits the declared classes. Returns the steps it handled.
    """
    from procflow.discovery.refit import refit_waits, wait_steps

    if not wait_steps(process):
        return frozenset()
    fits, regime = refit_waits(process, log, getattr(log, "path", ""))
    if regime is not None:
        _write_regime(process, regime.values, regime.shares, regime.cases, edits, changes, kept)
    for fit in fits:
        old_mean = process.steps[fit.step].duration
        old = "-" if old_mean is None else f"mean {format_duration(old_mean.mean, 3)}"
        if fit.n < minimum:
            why = f"{fit.n} waits < {minimum}"
            kept.append(CalibrationChange("duration", fit.step, old, old, fit.n, why))
            continue
        texts = ["0s" if f is None else distribution_text(f.distribution) for f in fit.fits]
        means = [0.0 if f is None else f.mean for f in fit.fits]
        if not fit.keys:
            edits.replace(("steps", fit.step, "duration"), texts[0])
            new, note = f"mean {format_duration(means[0], 3)}", "waits before"
        else:
            for key, text in zip(fit.keys, texts, strict=True):
                edits.replace(("steps", fit.step, "duration", key), text)
            new = ", ".join(
                f"{k}: {format_duration(v, 3)}" for k, v in zip(fit.keys, means, strict=True)
            )
            new, note = f"means {new}", "waits, per pace class, before"
        note = f"extraneous {note} {fit.activity_step} {WAITS_NOTE}"
        changes.append(CalibrationChange("duration", fit.step, old, new, fit.n, note))
    return frozenset(f.step for f in fits)


def _write_regime(
    process: Process,
    values: tuple[str, ...],
    shares: tuple[float, ...],
    cases: int,
    edits: TextEdits,
    changes: list[CalibrationChange],
    kept: list[CalibrationChange],
) -> None:
    """The pace attribute's shares, refitted (EM over the log's cases)."""
    from procflow.discovery.regimes import ATTRIBUTE

    old = str(process.attributes[ATTRIBUTE])
    written = round_shares([round(s * cases) for s in shares], _digits(cases))
    new = "{" + ", ".join(f"{v}: {s}" for v, s in zip(values, written, strict=True)) + "}"
    declared = process.attributes[ATTRIBUTE]
    assert isinstance(declared, Categorical)
    if all(
        math.isclose(float(s), share, abs_tol=1e-12)
        for s, share in zip(written, declared.shares, strict=True)
    ):
        kept.append(CalibrationChange("attribute", ATTRIBUTE, old, new, cases, "unchanged"))
        return
    edits.replace(("attributes", ATTRIBUTE), new, raw=True)
    note = f"{cases} cases; per-case regime of the extraneous waits (EM)"
    changes.append(CalibrationChange("attribute", ATTRIBUTE, old, new, cases, note))


def _zero_aware(sample: Sample, basis: str) -> tuple[str, str]:
    """Estimated processing times are often zero: fit them as ``procflow discover`` does."""
    from procflow.discovery.fit import fit_duration

    chosen = fit_duration(sample.reservoir)
    assert chosen is not None  # the sample has observations
    return distribution_text(chosen.distribution), f"{basis}; {chosen.note}"


def _calibrate_probabilities(
    process: Process,
    m: Measurements,
    edits: TextEdits,
    changes: list[CalibrationChange],
    kept: list[CalibrationChange],
    minimum: int,
) -> None:
    for step_id, edges in m.index.out.items():
        if len(edges) < 2 or m.index.compiled.fork[edges[0].source]:  # a fork takes every branch
            continue
        step = process.steps[step_id]
        if any(t.when is not None or isinstance(t.p, ByValue) for t in step.transitions):
            continue  # routed by rules or by attribute: no probability to fit (docs/attributes.md)
        bounded = any(e.max is not None for e in edges)
        counts = [m.free_counts[e.number] for e in edges]
        departures = sum(counts)
        basis = "departures with every transition available" if bounded else "departures"
        if departures < minimum:
            noun = basis if departures != 1 else basis.replace("departures", "departure")
            for edge in edges:
                old = format_number(edge.p) if edge.p is not None else "-"
                kept.append(
                    CalibrationChange(
                        "p",
                        f"{step_id}.{edge.trigger}",
                        old,
                        old,
                        departures,
                        f"{departures} {noun} < {minimum}",
                    )
                )
            continue
        shares = round_shares(counts, _digits(departures))
        for edge, share, count in zip(edges, shares, counts, strict=True):
            old = format_number(edge.p) if edge.p is not None else "-"
            subject = f"{step_id}.{edge.trigger}"
            if edge.p is not None and math.isclose(edge.p, float(share), abs_tol=1e-12):
                kept.append(CalibrationChange("p", subject, old, share, departures, "unchanged"))
                continue
            path = ("steps", step_id, "on", edge.trigger)
            _key, node, _depth = edits.source.nodes(path)
            if node is None or _depth != len(path):
                raise EditError(f"transition {subject} is not in the file")
            if node.id == "scalar":
                edits.replace(path, f"{{to: {edge.to}, p: {share}}}", raw=True)
            elif any(k.value == "p" for k, _v in node.value):
                edits.replace((*path, "p"), share)
            else:
                edits.insert(path, "p", share, after="to")
            note = f"{count} of {departures} {basis}"
            changes.append(CalibrationChange("p", subject, old, share, departures, note))


def _calibrate_attributes(
    process: Process,
    attributes: Mapping[str, Mapping[str, Value]],
    edits: TextEdits,
    changes: list[CalibrationChange],
    kept: list[CalibrationChange],
    minimum: int,
) -> None:
    """The shares of each categorical attribute, from the values of the log's cases."""
    for name, (cases, shares) in attribute_shares(process, attributes).items():
        declared = process.attributes[name]
        assert isinstance(declared, Categorical)
        old = str(declared)
        if cases < minimum:
            kept.append(
                CalibrationChange("attribute", name, old, old, cases, f"{cases} < {minimum}")
            )
            continue
        counts = [round(shares[v] * cases) for v in declared.values]
        written = round_shares(counts, _digits(cases))
        new = (
            "{"
            + ", ".join(f"{v}: {s}" for v, s in zip(declared.values, written, strict=True))
            + "}"
        )
        if all(
            math.isclose(float(s), share, abs_tol=1e-12)
            for s, share in zip(written, declared.shares, strict=True)
        ):
            kept.append(CalibrationChange("attribute", name, old, new, cases, "unchanged"))
            continue
        edits.replace(("attributes", name), new, raw=True)
        changes.append(CalibrationChange("attribute", name, old, new, cases, f"{cases} cases"))
    for name, values in attribute_numbers(process, attributes).items():
        old = str(process.attributes[name])
        _calibrate_numeric(name, old, values, edits, changes, kept, minimum)


def _calibrate_numeric(
    name: str,
    old: str,
    values: list[float],
    edits: TextEdits,
    changes: list[CalibrationChange],
    kept: list[CalibrationChange],
    minimum: int,
) -> None:
    """A numeric attribute's distribution fitted to the cases' values, as durations are
    (:func:`procflow.eventlog.fitting.fit_all`: moments matched, lowest AIC), written with
    plain numbers."""
    n = len(values)
    if n < minimum:
        kept.append(CalibrationChange("attribute", name, old, old, n, f"{n} < {minimum}"))
        return
    sample = Sample()
    sample.extend(values)
    for fit in fit_all(sample):
        new = numeric_text(fit.distribution)
        if new is None:  # not writable as an attribute (e.g. a negative parameter)
            continue
        note = f"{n} cases; {fit.family} has the lowest AIC"
        if fit.family == "fixed":
            note = f"{n} cases; every value is the same"
        if new == old:
            kept.append(CalibrationChange("attribute", name, old, new, n, "unchanged"))
            return
        edits.replace(("attributes", name), new)
        changes.append(CalibrationChange("attribute", name, old, new, n, note))
        return
    kept.append(CalibrationChange("attribute", name, old, old, n, "no family fits"))


def numeric_text(dist: _Dist, digits: int = 3) -> str | None:
    """``lognormal(2040, 3010)``: a numeric attribute's distribution with plain numbers, 3
    significant digits (more when rounding would break a parameter check); None when no
    rounding makes a valid attribute (docs/attributes.md)."""
    for places in range(digits, 10):
        if isinstance(dist, Fixed):
            text = _plain(dist.value, places)
        else:
            text = f"{dist.dist}({', '.join(_plain(a, places) for a in dist.args())})"
        try:
            parse_attribute(text)
        except Exception:  # a rounding that breaks a parameter check: one more digit
            continue
        return text
    return None


def _plain(value: float, places: int) -> str:
    """``value`` to ``places`` significant digits, without an exponent: ``2040``, ``0.0123``."""
    if value == 0 or not math.isfinite(value):
        return format_number(value)
    decimals = places - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, decimals)
    text = f"{rounded:.{max(decimals, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _calibrate_arrivals(
    process: Process,
    m: Measurements,
    edits: TextEdits,
    changes: list[CalibrationChange],
    kept: list[CalibrationChange],
    minimum: int,
) -> None:
    gaps = m.interarrival
    declared = process.arrivals
    if declared is not None and declared.profile is not None:
        kept.append(
            CalibrationChange(
                "arrivals",
                "arrivals.profile",
                "profile",
                "profile",
                m.case_starts,
                "a weekly arrival profile is kept as declared (docs/working-time.md)",
            )
        )
        return
    if declared is None:
        old = "(none)"
    elif declared.rate is not None:
        old = _written(edits, ("arrivals", "rate")) or rate_text(declared.rate)
    else:
        assert declared.every is not None
        old = _written(edits, ("arrivals", "every")) or distribution_text(declared.every)
    if gaps.n + 1 < minimum or gaps.mean <= 0:
        kept.append(
            CalibrationChange(
                "arrivals",
                "arrivals",
                old,
                old,
                m.case_starts,
                f"{m.case_starts} cases < {minimum}",
            )
        )
        return
    rate = 1.0 / gaps.mean
    note = f"{m.case_starts} case starts over {format_duration(gaps.total)}"
    calendar = (
        process.calendars.get(declared.calendar)
        if declared is not None and declared.calendar is not None
        else None
    )
    if calendar is not None:  # the rate counts open time: the span's open share of a week
        rate /= calendar.calendar.on_duty_share()
        note += f" ({calendar.calendar.describe()}: per open hour)"
    if declared is not None and declared.every is not None:
        best = fit_all(gaps)[0]
        new = distribution_text(best.distribution)
        if new != distribution_text(declared.every):
            edits.replace(("arrivals", "every"), new)
            changes.append(
                CalibrationChange(
                    "arrivals",
                    "arrivals.every",
                    old,
                    new,
                    gaps.n,
                    f"{note}; {best.family} has the lowest AIC",
                )
            )
        return
    new = rate_text(rate)
    if declared is not None and declared.rate is not None and new == rate_text(declared.rate):
        kept.append(
            CalibrationChange("arrivals", "arrivals.rate", old, new, m.case_starts, "unchanged")
        )
        return
    if declared is None:
        edits.insert_block("start", f"arrivals:\n  rate: {new}\n\n")
    else:
        edits.replace(("arrivals", "rate"), new)
    changes.append(CalibrationChange("arrivals", "arrivals.rate", old, new, m.case_starts, note))
