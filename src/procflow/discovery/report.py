"""What discovery inferred and how sure it is, as JSON-ready data (:func:`found_dict`).

Confidence is a plain word per estimate, from the evidence behind it:
``high`` from :data:`HIGH` observations, ``medium`` from :data:`MEDIUM`,
``low`` below that; a duration whose fit misses the data (Kolmogorov-
Smirnov distance above 0.1) is at most ``medium``. Branch shares carry a
99% Wilson interval. Seconds throughout, as every procflow JSON output.
"""

from __future__ import annotations

from typing import Any

from procflow.discovery.fit import GOOD_KS, DurationFit
from procflow.discovery.hours import describe
from procflow.discovery.model import Found, RoleFound
from procflow.discovery.regimes import ATTRIBUTE
from procflow.eventlog.calibrate import distribution_text
from procflow.eventlog.stats import wilson_interval

HIGH = 100
MEDIUM = 30


def confidence(n: int, ks: float = 0.0) -> str:
    """``high``/``medium``/``low`` for an estimate from ``n`` observations.

    >>> confidence(500), confidence(500, ks=0.3), confidence(12)
    ('high', 'medium', 'low')
    """
    word = "high" if n >= HIGH else "medium" if n >= MEDIUM else "low"
    if ks > GOOD_KS and word == "high":
        return "medium"
    return word


def fit_dict(fit: DurationFit | None) -> dict[str, Any] | None:
    if fit is None:
        return None
    return {
        "distribution": distribution_text(fit.distribution),
        "family": fit.family,
        "n": fit.n,
        "mean": fit.mean,
        "zero_share": fit.zero_share,
        "ks": fit.ks,
        "note": fit.note,
        "confidence": confidence(fit.n, fit.ks),
    }


def _hours(role: RoleFound) -> str:
    """Its regular hours in words, and how many rare ones its calendar adds."""
    if role.regular is None:
        return describe(role.hours)
    rare = int((role.hours & ~role.regular).sum())
    return f"{describe(role.regular)} (+{rare} rare {'hour' if rare == 1 else 'hours'})"


def found_dict(found: Found) -> dict[str, Any]:
    """The discovery report (docs/discover.md#json)."""
    steps = []
    for step in found.steps:
        total = sum(c for _t, _to, c, _f, _m in step.exits)
        exits = []
        for trigger, target, count, feedback, most in step.exits:
            low, high = wilson_interval(count, total)
            exits.append(
                {
                    "trigger": trigger,
                    "to": target,
                    "count": count,
                    "share": count / total if total else 0.0,
                    "interval": [low, high],
                    "feedback": feedback,
                    "max": most,
                    "confidence": confidence(total),
                }
            )
        steps.append(
            {
                "id": step.id,
                "activity": step.activity,
                "owner": step.owner,
                "events": step.events,
                "duration": fit_dict(step.duration),
                "delay": fit_dict(step.delay),
                "wait_mean": step.wait_mean,
                "contention_mean": step.contention_mean,
                "exits": exits,
                "parallel": step.parallel,
                "join": "all" if step.join else None,
            }
        )
    return {
        "version": 1,
        "process": found.process,
        "log": found.log,
        "events": found.events,
        "cases": found.cases,
        "timing": found.timing,
        "min_share": found.min_share,
        "calendars_written": found.calendars,
        "resolution": found.resolution,
        "start": found.start,
        "starts": [{"step": s, "cases": c} for s, c in found.starts],
        "steps": steps,
        "roles": [
            {
                "id": r.id,
                "activities": r.activities,
                "members": r.members,
                "capacity": r.capacity,
                "peak": r.peak,
                "raised_from": r.raised_from,
                "events": r.events,
                "hours": _hours(r),
                "confidence": confidence(r.events),
            }
            for r in found.roles
        ],
        "on_duty_total": found.on_duty_total,
        "regime": None
        if found.prompt_share is None
        else {
            "attribute": ATTRIBUTE,
            "prompt_share": found.prompt_share,
            "prompt_cases": found.prompt_cases,
            "classes": [
                {"value": name, "cases": cases, "share": cases / max(found.cases, 1)}
                for name, cases in found.regime_classes
            ],
            "confidence": confidence(min(found.prompt_cases, found.cases - found.prompt_cases)),
        },
        "arrivals": {
            "cases": found.arrivals,
            "rate_per_hour": found.arrival_rate * 3600.0,
            "profile_per_hour": [float(v) for v in found.arrival_profile],
        },
        "filtered": {
            "edges": found.dropped_edges,
            "pairs": found.dropped_pairs,
            "activities": found.dropped_activities,
        },
        "interleaving": [
            {"a": a, "b": b, "a_then_b": ab, "b_then_a": ba} for a, b, ab, ba in found.interleaving
        ],
        "parallel": [
            {
                "fork": b.fork,
                "join": b.join,
                "branches": b.branches,
                "runs": b.runs,
                "complete": b.clean,
                "confidence": confidence(b.runs, 0.0),
            }
            for b in found.blocks
        ],
        "parallel_notes": found.parallel_notes,
    }
