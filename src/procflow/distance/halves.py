"""Read a real log into profiles of two random halves of its cases (the noise floor).

A fidelity distance means little alone: two samples of the *same* process
are not at distance 0 either. The noise floor is each distance between two
halves of the real log. The cases are split at random, not by period: both
halves then cover the same period, so the time-based distances (absolute
events, arrivals, work in progress) compare like with like, where a first
half and a second half would be months apart by construction.

The split is a keyed hash of the case id (:func:`half_of`), so a case's half
is known the moment the case is first seen and the log is read once,
streaming. It is seeded: the same seed splits the same way. The halves hold
about half the cases each (not exactly: each case is a coin flip), so their
distances carry the sampling noise of half-size logs -- somewhat *more*
than two full-size logs would show, which makes "within noise" a lenient
verdict rather than a strict one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from procflow.distance.profile import NGRAM, LogProfile, Profile, merge
from procflow.eventlog.events import Event


def half_of(case: str, key: bytes) -> int:
    """0 or 1: the half a case falls in, from a keyed BLAKE2 hash of its id."""
    return (
        hashlib.blake2b(case.encode("utf-8", "surrogatepass"), key=key, digest_size=1).digest()[0]
        & 1
    )


def split_key(seed: int) -> bytes:
    """The hash key for ``seed`` (any integer, negative included)."""
    return seed.to_bytes(16, "little", signed=True)


@dataclass(frozen=True)
class RealProfiles:
    """The whole real log and its two halves."""

    whole: Profile
    first: Profile
    second: Profile
    completion_only: bool = False
    """No event of the log has a start time (each time then counts as start and end)."""


def read_profiles(
    events: Iterable[Event],
    *,
    seed: int,
    name: Callable[[str], str] = str,
    n: int = NGRAM,
) -> RealProfiles:
    """Profile a log and its two seeded halves in one pass; ``name`` maps activities to labels."""
    key = split_key(seed)
    halves = (LogProfile(n=n), LogProfile(n=n))
    placed: dict[str, LogProfile] = {}
    started = False
    for event in events:
        profile = placed.get(event.case)
        if profile is None:
            profile = placed[event.case] = halves[half_of(event.case, key)]
        profile.add(event.case, name(event.activity), event.start, event.end)
        started = started or event.start is not None
    first, second = halves[0].finish(), halves[1].finish()
    return RealProfiles(merge(first, second), first, second, completion_only=not started)
