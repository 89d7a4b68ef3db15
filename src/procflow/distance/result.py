"""The typed result of :func:`procflow.fidelity` and its JSON shape (``"version": 1``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from procflow.sim.stats import Estimate

JSON_VERSION = 1


@dataclass(frozen=True)
class Measure:
    """One distance: its value per simulation run, their mean and interval, and the noise floor."""

    key: str
    title: str
    unit: str
    estimate: Estimate
    noise_floor: float | None

    @property
    def value(self) -> float | None:
        return self.estimate.mean

    @property
    def ratio(self) -> float | None:
        """Value over noise floor (``inf`` above a floor of 0; ``None`` when either is missing)."""
        if self.value is None or self.noise_floor is None:
            return None
        if self.noise_floor == 0:
            return 1.0 if self.value == 0 else math.inf
        return self.value / self.noise_floor

    @property
    def verdict(self) -> str:
        """``within noise``, ``3.2× the noise``, or ``no noise floor`` / ``not measured``."""
        if self.value is None:
            return "not measured"
        ratio = self.ratio
        if ratio is None:
            return "no noise floor"
        if ratio <= 1.0:
            return "within noise"
        if math.isinf(ratio):
            return "above a zero noise floor"
        return f"{ratio:.2f}× the noise" if ratio < 2 else f"{ratio:.1f}× the noise"

    def to_dict(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "id": self.key,
            "title": self.title,
            "unit": self.unit,
            "value": self.value,
            "ci95": list(self.estimate.ci95) if self.estimate.ci95 else None,
            "runs": list(self.estimate.runs),
            "noise_floor": self.noise_floor,
            "ratio": None if ratio is None or math.isinf(ratio) else ratio,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class ActivityRow:
    """Events of one activity per case, in the real log and simulated (all runs together)."""

    activity: str
    real_per_case: float
    simulated_per_case: float
    error: float | None
    """(simulated − real) / real; ``None`` for an activity the real log does not have."""


@dataclass(frozen=True)
class Summary:
    """Plain figures of one side, for reading the distances against."""

    cases: int
    events: float
    cycle_mean: float | None
    cycle_median: float | None
    weekend_share: float | None


@dataclass(frozen=True)
class Fidelity:
    """How far a simulated process is from a real log (:func:`procflow.fidelity`)."""

    process: str
    log: str
    runs: int
    seed: int
    start: float
    """The real log's first arrival (seconds since the epoch): simulated time 0."""
    end: float
    measures: tuple[Measure, ...]
    real: Summary
    simulated: Summary
    activities: tuple[ActivityRow, ...]
    halves: tuple[int, int]
    """Cases in each half of the real log (the noise floor's two samples)."""
    wip_origin: float
    wip_real: tuple[float, ...]
    """Mean open cases per day of the real log, from :attr:`wip_origin`."""
    wip_simulated: tuple[float, ...]
    """The same for the first simulated run."""
    notes: tuple[str, ...] = ()
    """What the reader must know to read the measures (a date-only log's hour measures)."""
    cycle_real: tuple[float, ...] = ()
    """The real log's cycle times at the percentiles 0, 1, ..., 100 (seconds): the report's
    distribution plot (docs/fidelity.md#plots)."""
    cycle_simulated: tuple[float, ...] = ()
    """The same for every simulated run's cases together."""
    circadian_real: tuple[tuple[int, ...], ...] = ()
    """Timestamps of the real log per weekday (7 rows, Monday first) and UTC hour (24)."""
    circadian_simulated: tuple[tuple[int, ...], ...] = ()
    """The same for every simulated run together."""

    def __getitem__(self, key: str) -> Measure:
        for measure in self.measures:
            if measure.key == key:
                return measure
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``procflow fidelity --format json``."""
        return {
            "version": JSON_VERSION,
            "process": self.process,
            "log": self.log,
            "runs": self.runs,
            "seed": self.seed,
            "period": {"start": _iso(self.start), "end": _iso(self.end)},
            "noise_floor": {
                "method": "random halves of the real log's cases (keyed hash of the case id)",
                "cases": list(self.halves),
            },
            "measures": [m.to_dict() for m in self.measures],
            "notes": list(self.notes),
            "real": _summary(self.real),
            "simulated": _summary(self.simulated),
            "activities": [
                {
                    "activity": row.activity,
                    "real_per_case": row.real_per_case,
                    "simulated_per_case": row.simulated_per_case,
                    "error": row.error,
                }
                for row in self.activities
            ],
            "wip_daily": {
                "start": _iso(self.wip_origin),
                "real": list(self.wip_real),
                "simulated": list(self.wip_simulated),
            },
            "cycle_time_percentiles_s": {
                "real": list(self.cycle_real),
                "simulated": list(self.cycle_simulated),
            },
            "week_utc": {
                "real": [list(row) for row in self.circadian_real],
                "simulated": [list(row) for row in self.circadian_simulated],
            },
        }


def _summary(summary: Summary) -> dict[str, Any]:
    return {
        "cases": summary.cases,
        "events": summary.events,
        "cycle_time_mean_s": summary.cycle_mean,
        "cycle_time_median_s": summary.cycle_median,
        "weekend_share": summary.weekend_share,
    }


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")
