"""``procflow.fidelity``: simulate a process over a real log's period and measure the distance.

The real log is read once into profiles of its cases and of two random
halves of them (:mod:`procflow.distance.halves`; the halves give each
measure's noise floor). Then each run simulates as many cases as the log
has, its event log streamed straight into a profile (nothing is written):
simulated time 0 is placed on the real log's first arrival, so absolute,
arrival and circadian measures compare the same calendar. Step ids name
the simulated activities and the real log's activities are matched to
steps as ``check-log`` matches them (``activity:``, then title, then id);
end steps and waits (steps of an external owner without an ``activity:``)
that the real log never records are left out of the simulated log.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from procflow.distance import measures as m
from procflow.distance.halves import RealProfiles, read_profiles
from procflow.distance.profile import DAY, NGRAM, LogProfile, Profile
from procflow.distance.result import ActivityRow, Fidelity, Measure, Summary
from procflow.distance.wip import Timeline, wip_curve, wip_distance, wip_error
from procflow.errors import ConfigError, EventLogError
from procflow.eventlog.matching import StepMatcher
from procflow.eventlog.reader import EventLog, read_log
from procflow.loader import load
from procflow.model import Process
from procflow.sim.stats import estimate

DEFAULT_RUNS = 5
DEFAULT_SEED = 1

Distance = Callable[[Profile, Profile], "float | None"]


class SimulatedProfile:
    """An event sink (``write_simulated``) that profiles a simulation's log as it runs."""

    def __init__(
        self, origin: float, skip: frozenset[str], n: int = NGRAM, *, ends_only: bool = False
    ) -> None:
        self.origin = origin
        self.skip = skip
        self.profile = LogProfile(n=n)
        self.ends_only = ends_only
        """Record completions only, as the real log does (docs/fidelity.md)."""

    def write_simulated(
        self, case: Hashable, step: str, owner: str | None, start: float, end: float
    ) -> None:
        if step not in self.skip:
            begin = None if self.ends_only else self.origin + start
            self.profile.add(case, step, begin, self.origin + end)


@dataclass(frozen=True)
class _Pair:
    """Two profiles to compare and, for WIP, their curves on a common timeline."""

    real: Profile
    other: Profile
    real_mean_cycle: float | None
    scale: tuple[float, float] = (1.0, 1.0)
    """Factors on each WIP curve (a half of the log has about half the open cases)."""

    def values(self) -> dict[str, float | None]:
        ct = m.cycle_time_distance(self.real, self.other)
        timeline = Timeline.spanning(self.real, self.other)
        a = wip_curve(self.real, timeline) * self.scale[0]
        b = wip_curve(self.other, timeline) * self.scale[1]
        mean = self.real_mean_cycle
        return {
            "ngram": m.ngram_distance(self.real, self.other),
            "cycle_time": None if ct is None else ct,
            "cycle_time_relative": None if ct is None or not mean else ct * 3600.0 / mean,
            "absolute_events": m.absolute_event_distance(self.real, self.other),
            "relative_events": m.relative_event_distance(self.real, self.other),
            "circadian": m.circadian_distance(self.real, self.other),
            "arrivals": m.arrival_distance(self.real, self.other),
            "activity_frequency": m.activity_frequency_distance(self.real, self.other),
            "wip": wip_distance(a, b),
            "wip_error": wip_error(a, b),
        }


#: key -> (title, unit), in report order.
MEASURES: dict[str, tuple[str, str]] = {
    "ngram": ("control flow (3-gram distance)", "0-1"),
    "cycle_time": ("cycle time EMD", "h"),
    "cycle_time_relative": ("cycle time EMD / real mean", "ratio"),
    "absolute_events": ("absolute event distribution EMD", "h"),
    "relative_events": ("relative event distribution EMD", "h"),
    "circadian": ("circadian event distribution EMD", "h"),
    "arrivals": ("case arrival EMD", "h"),
    "activity_frequency": ("activity frequency distance", "0-1"),
    "wip": ("work in progress EMD", "h"),
    "wip_error": ("work in progress mean abs. error", "cases"),
}


def fidelity(
    process: Process | str | os.PathLike[str],
    log: EventLog | str | os.PathLike[str],
    *,
    runs: int = DEFAULT_RUNS,
    seed: int = DEFAULT_SEED,
) -> Fidelity:
    """How far ``process``, simulated over ``log``'s period, is from ``log``.

    ``runs`` simulations (seeds ``seed``, ``seed + 1``, …) of as many cases
    as the log has; each measure's mean and 95 % interval over the runs,
    beside its noise floor (the distance between two random halves of the
    log, split with ``seed``). Raises :class:`~procflow.errors.EventLogError`
    for a log without events, :class:`~procflow.errors.SimulationError`
    for a process that cannot be simulated.

    >>> import procflow
    >>> f = procflow.fidelity("processes/receipt.yaml", "receipt.csv", runs=3)  # doctest: +SKIP
    >>> f["cycle_time_relative"].verdict  # doctest: +SKIP
    '4.1× the noise'
    """
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ConfigError(f"runs must be a whole number of at least 1, got {runs!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be a whole number, got {seed!r}")
    model = process if isinstance(process, Process) else load(process)
    events = log if not isinstance(log, str | os.PathLike) else read_log(log)
    matcher = StepMatcher(model)
    real = read_profiles(events, seed=seed, name=lambda a: matcher(a) or a)
    if real.whole.cases == 0:
        raise EventLogError(events.path, "the log has no events to compare with")
    simulated = [_simulate(model, real, seed + i) for i in range(runs)]
    return _assemble(model, events.path, real, simulated, runs, seed)


def _simulate(process: Process, real: RealProfiles, seed: int) -> Profile:
    from procflow.sim import simulate

    seen = set(real.whole.activities)
    external = {k for k, o in process.owners.items() if o.external}
    skip = frozenset(
        k
        for k, s in process.steps.items()
        if k not in seen and (s.end or (s.owner in external and s.activity is None))
    )
    origin = float(real.whole.starts.min())
    sink = SimulatedProfile(origin, skip, n=real.whole.n, ends_only=real.completion_only)
    # with calendars the simulated clock starts at the log's first arrival, so open hours,
    # weekdays and the arrival profile fall on the same calendar as the real events
    start = datetime.fromtimestamp(origin, tz=UTC) if _uses_calendars(process) else None
    simulate(
        process,
        cases=real.whole.cases,
        runs=1,
        seed=seed,
        warmup=0,
        jobs=1,
        log=sink,
        start=start,
    )
    return sink.profile.finish()


def _uses_calendars(process: Process) -> bool:
    return bool(getattr(process, "uses_calendars", False))


def _assemble(
    process: Process,
    path: str,
    real: RealProfiles,
    simulated: list[Profile],
    runs: int,
    seed: int,
) -> Fidelity:
    whole = real.whole
    mean = float(whole.cycle_times.mean())
    per_run = [_Pair(whole, sim, mean).values() for sim in simulated]
    halves = real.first, real.second
    scale = tuple(whole.cases / h.cases if h.cases else 1.0 for h in halves)
    floor = _Pair(real.first, real.second, mean, (scale[0], scale[1])).values()
    measures = tuple(
        Measure(
            key,
            title,
            unit,
            estimate([values[key] for values in per_run], nonnegative=True),
            floor[key],
        )
        for key, (title, unit) in MEASURES.items()
    )
    timeline = Timeline.spanning(whole, simulated[0])
    return Fidelity(
        process=process.id,
        log=path,
        runs=runs,
        seed=seed,
        start=float(whole.starts.min()),
        end=float(whole.ends.max()),
        measures=measures,
        real=_summary([whole]),
        simulated=_summary(simulated),
        activities=_activities(whole, simulated),
        halves=(real.first.cases, real.second.cases),
        wip_origin=timeline.origin,
        wip_real=_daily(wip_curve(whole, timeline)),
        wip_simulated=_daily(wip_curve(simulated[0], timeline)),
        notes=_notes(whole),
        cycle_real=_percentiles([whole]),
        cycle_simulated=_percentiles(simulated),
        circadian_real=_week(whole.circadian),
        circadian_simulated=_week(sum((p.circadian for p in simulated), np.zeros((7, 24)))),
    )


def _percentiles(profiles: list[Profile]) -> tuple[float, ...]:
    """Cycle times at the percentiles 0 ... 100 over the cases of ``profiles`` together."""
    cycles = [p.cycle_times for p in profiles if p.cases]
    if not cycles:
        return ()
    found = np.percentile(np.concatenate(cycles), np.arange(101))
    return tuple(float(v) for v in found)


def _week(counts: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """A weekday x hour count table as plain tuples (7 rows of 24)."""
    return tuple(tuple(int(v) for v in row) for row in counts)


DATE_SHARE = 0.95
"""Events in one hour of the day this often: dates only (discover uses the same share)."""


def _notes(real: Profile) -> tuple[str, ...]:
    """A log whose events all fall in one hour of the day has dates only: say what that means.

    Its circadian distribution is one spike (so its noise floor is 0 by
    construction) and its hours are no working hours: the circadian measure
    and anything below a day are not meaningful (docs/fidelity.md#date-only-logs).
    """
    by_hour = real.circadian.sum(axis=0)
    total = int(by_hour.sum())
    if total == 0 or by_hour.max() < DATE_SHARE * total:
        return ()
    share = float(by_hour.max()) / total
    return (
        f"the log's timestamps carry dates only ({share:.0%} of its events in one hour of the"
        " day): the circadian measure compares against one spike (noise floor 0 by"
        " construction) and is not meaningful; read the day-scale measures (cycle time,"
        " event distribution, work in progress) instead",
    )


def _summary(profiles: list[Profile]) -> Summary:
    """Figures averaged over the runs (one profile for the real log)."""
    cycles = [p.cycle_times for p in profiles if p.cases]
    stamps = sum(int(p.circadian.sum()) for p in profiles)
    weekend = sum(int(p.circadian[5:].sum()) for p in profiles)
    return Summary(
        cases=round(np.mean([p.cases for p in profiles])),
        events=float(np.mean([p.events for p in profiles])),
        cycle_mean=float(np.mean([c.mean() for c in cycles])) if cycles else None,
        cycle_median=float(np.mean([np.median(c) for c in cycles])) if cycles else None,
        weekend_share=weekend / stamps if stamps else None,
    )


def _activities(real: Profile, simulated: list[Profile]) -> tuple[ActivityRow, ...]:
    together = Profile(
        cases=sum(p.cases for p in simulated),
        events=sum(p.events for p in simulated),
        starts=np.empty(0),
        ends=np.empty(0),
        ngrams=Counter(),
        activities=sum((p.activities for p in simulated), Counter()),
        circadian=np.zeros((7, 24), dtype=np.int64),
        absolute=Counter(),
        relative=Counter(),
    )
    return tuple(ActivityRow(*row) for row in m.activity_errors(real, together))


def _daily(curve: np.ndarray) -> tuple[float, ...]:
    hours = int(DAY // 3600)
    days = len(curve) // hours
    return tuple(float(v) for v in curve[: days * hours].reshape(days, hours).mean(axis=1))
