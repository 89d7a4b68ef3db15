"""The process file of a discovery: :func:`process_text`.

Written as text, not through a YAML library, so that the file reads like
one a person wrote: one step after the other in the order a case meets
them, transitions in flow style with their evidence as comments, owners
with who they are. Texts from the log (activity and resource names) are
written as JSON strings, which YAML 1.2 reads as double-quoted scalars.
"""

from __future__ import annotations

import json

import numpy as np

from procflow.discovery.hours import DAYS, hours_text
from procflow.discovery.model import Found, RoleFound, StepFound
from procflow.discovery.regimes import ATTRIBUTE, DELAYED, PROMPT, PROMPT_WAIT, SLOW
from procflow.eventlog.calibrate import distribution_text, round_shares
from procflow.units import format_duration
from procflow.wording import plural

WAITING = "waiting"
"""The external owner of delay steps (and of the routing start step)."""
END_STEP = "done"
BEGIN_STEP = "begin"


def quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    """``text`` (a file name) in a ``#`` comment: a line break in it would end the comment."""
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def _digits(total: int) -> int:
    return 4 if total >= 40_000 else 3 if total >= 400 else 2


def process_text(found: Found) -> str:
    """The process file (YAML) for ``found``."""
    lines = [
        f"# Discovered by `procflow discover` from {_comment(found.log)}:",
        f"# {found.cases:,} cases, {found.events:,} events; durations from {found.timing};",
        f"# directly-follows edges below {found.min_share:.0%} of a step's departures left out.",
        f"process: {found.process}",
        f"title: {quoted('Discovered from ' + found.log)}",
        "",
        "owners:",
    ]
    for role in found.roles:
        lines += _owner(role, found.calendars)
    uses_waiting = any(
        s.owner == WAITING or (s.delay is not None and s.delay_owner == WAITING)
        for s in found.steps
    )
    if uses_waiting or len(found.starts) > 1:
        lines += [
            f"  {WAITING}:",
            "    title: Waiting no resource explains, and work no resource does",
            "    external: true",
        ]
    lines += _delay_owners(found)
    if found.calendars:
        lines += ["", "calendars:"]
        for role in found.roles:
            lines += _calendar(role.id, role.hours)
            if role.regular is not None:
                lines += _calendar(f"{role.id}-regular", role.regular)
    lines += _attributes(found)
    lines += ["", *_arrivals(found), "", f"start: {_start(found)}", "", "steps:"]
    if len(found.starts) > 1:
        lines += _begin(found)
    for step in found.steps:
        lines += _step(step)
    lines += [f"  {END_STEP}:", "    title: Case completed", "    end: true", ""]
    return "\n".join(lines)


def _calendar(name: str, mask: np.ndarray) -> list[str]:
    lines = [f"  {name}:", "    timezone: UTC", "    hours:"]
    return lines + [f"      {days}: {quoted(hours)}" for days, hours in hours_text(mask).items()]


def _delay_owners(found: Found) -> list[str]:
    """An external owner per role whose steps wait: the waits end in the role's regular hours."""
    lines: list[str] = []
    regular = {r.id: r.id if r.regular is None else f"{r.id}-regular" for r in found.roles}
    for owner in dict.fromkeys(s.delay_owner for s in found.steps if s.delay is not None):
        if owner == WAITING:
            continue
        role = owner.removeprefix(f"{WAITING}-")
        lines += [
            f"  {owner}:",
            f"    title: {quoted('Waiting no resource explains, ended in ' + role + ' hours')}",
            "    external: true",
            f"    calendar: {regular[role]}",
        ]
    return lines


def _owner(role: RoleFound, calendars: bool) -> list[str]:
    shown = ", ".join(role.activities[:4]) + (" ..." if len(role.activities) > 4 else "")
    lines = [
        f"  {role.id}:",
        f"    title: {quoted('does ' + shown)}",
        f"    capacity: {role.capacity}"
        + (
            f"  # on duty at once (95th percentile of hours; peak {role.peak})"
            if role.raised_from is None
            else f"  # raised from {role.raised_from} on duty to carry the log's work"
        ),
    ]
    if role.members:
        names = ", ".join(role.members[:8]) + (
            f" and {len(role.members) - 8} more" if len(role.members) > 8 else ""
        )
        who = f"{len(role.members)} {plural(len(role.members), 'resource')}: {names}"
        lines.append(f"    description: {quoted(who)}")
    if calendars:
        lines.append(f"    calendar: {role.id}")
    return lines


def _attributes(found: Found) -> list[str]:
    """The per-case delay regime (discovery/regimes.py) as a categorical attribute."""
    if found.prompt_share is None:
        return []
    classes = found.regime_classes or [
        (PROMPT, found.prompt_cases),
        (DELAYED, found.cases - found.prompt_cases),
    ]
    shares = round_shares([c for _n, c in classes], _digits(found.cases))
    named = zip(classes, shares, strict=True)
    values = ", ".join(f"{name}: {share}" for (name, _c), share in named)
    return [
        "",
        "attributes:",
        f"  {ATTRIBUTE}: {{{values}}}"
        f"  # {PROMPT}: {found.prompt_cases:,} cases without an extraneous wait"
        f" of {format_duration(PROMPT_WAIT)}",
    ]


def _class_keys(found_classes: int) -> list[str]:
    """The ``by:`` keys of the regime's classes: each name, the last one ``else``."""
    names = [PROMPT, DELAYED, SLOW][: max(found_classes, 2)]
    return [*names[:-1], "else"]


def _delay_duration(step: StepFound) -> list[str]:
    """A delay step's ``duration:``, one distribution or one per regime."""
    assert step.delay is not None
    mean = f"  # mean {format_duration(step.delay.mean, 3)} of {step.delay.n:,}"
    if step.delay_by is None:
        return [f"    duration: {distribution_text(step.delay.distribution)}{mean}"]
    lines = [f"    duration:{mean}", f"      by: {ATTRIBUTE}"]
    for key, fit in zip(_class_keys(len(step.delay_by)), step.delay_by, strict=True):
        if fit is None:
            lines.append(f"      {key}: 0s  # no wait observed")
        else:
            lines.append(
                f"      {key}: {distribution_text(fit.distribution)}"
                f"  # mean {format_duration(fit.mean, 3)} of {fit.n:,}"
            )
    return lines


def _arrivals(found: Found) -> list[str]:
    if found.calendars and found.arrival_profile.any():
        return ["arrivals:", "  profile:", *(f"    {k}: {v}" for k, v in _profile(found))]
    return ["arrivals:", f"  rate: {_rate(found.arrival_rate)}"]


def _rate(per_second: float) -> str:
    per_hour = per_second * 3600.0
    if per_hour >= 1.0:
        return f"{per_hour:.3g}/h"
    return f"{per_hour * 24.0:.3g}/d"


def _profile(found: Found) -> list[tuple[str, str]]:
    """The weekly arrival profile as ``mon-fri 08:00-12:00: 1.2/h`` entries."""
    rates = np.array([float(f"{r:.2g}") for r in found.arrival_profile])
    by_day: dict[tuple[tuple[int, int, float], ...], list[int]] = {}
    for day in range(7):
        runs: list[tuple[int, int, float]] = []
        hour = 0
        while hour < 24:
            rate = rates[day * 24 + hour]
            stop = hour + 1
            while stop < 24 and rates[day * 24 + stop] == rate:
                stop += 1
            if rate > 0:
                runs.append((hour, stop, float(rate)))
            hour = stop
        if runs:
            by_day.setdefault(tuple(runs), []).append(day)
    entries = []
    for pattern, days in by_day.items():
        named = (
            f"{DAYS[days[0]]}-{DAYS[days[-1]]}"
            if len(days) > 1 and days == list(range(days[0], days[-1] + 1))
            else ",".join(DAYS[d] for d in days)
        )
        for begin, stop, rate in pattern:
            entries.append((f'"{named} {begin:02d}:00-{stop:02d}:00"', f"{rate:g}/h"))
    return entries


def _start(found: Found) -> str:
    return BEGIN_STEP if len(found.starts) > 1 else found.start


def _begin(found: Found) -> list[str]:
    shares = round_shares([c for _s, c in found.starts], _digits(found.cases))
    lines = [
        f"  {BEGIN_STEP}:",
        "    title: Where cases start",
        f"    owner: {WAITING}",
        "    duration: 0s",
        '    "on":',
    ]
    for (step, count), share in zip(found.starts, shares, strict=True):
        lines.append(f"      {step}: {{to: {step}, p: {share}}}  # {count:,} cases")
    return lines


def _gateway(step: StepFound) -> list[str]:
    """A fork or join that does no work: event logs need not record it (docs/parallel-work.md)."""
    lines = [f"  {step.id}:", f"    title: {quoted(step.activity)}"]
    if step.join:
        lines.append("    join: all")
    lines += [f"    owner: {WAITING}", "    duration: 0s"]
    if step.parallel is not None:
        return [*lines, f"    parallel: [{', '.join(step.parallel)}]", ""]
    return [*lines, *_exits(step)]


def _step(step: StepFound) -> list[str]:
    if step.parallel is not None or step.join:
        return _gateway(step)
    lines: list[str] = []
    if step.delay is not None:
        lines += [
            f"  wait-{step.id}:",
            f"    title: {quoted('Waiting before ' + step.activity)}",
            f"    owner: {step.delay_owner}",
            *_delay_duration(step),
            f"    next: {step.id}",
        ]
    lines += [f"  {step.id}:", f"    activity: {quoted(step.activity)}", f"    owner: {step.owner}"]
    if step.duration is not None:
        lines.append(
            f"    duration: {distribution_text(step.duration.distribution)}"
            f"  # {step.duration.note}; mean {format_duration(step.duration.mean, 3)}"
        )
    else:
        lines.append("    duration: 0s  # no processing time could be estimated")
    return [*lines, *_exits(step)]


def _exits(step: StepFound) -> list[str]:
    lines: list[str] = []
    total = sum(c for _t, _to, c, _f, _m in step.exits)
    shares = round_shares([c for _t, _to, c, _f, _m in step.exits], _digits(total))
    texts = [str(share) for share in shares]
    if step.exits_by is not None:
        keys = _class_keys(len(step.exits_by[0]))
        classes = [
            round_shares([round(by[k] * 1000) for by in step.exits_by], _digits(total))
            for k in range(len(keys))
        ]
        texts = [
            "{"
            + ", ".join([f"by: {ATTRIBUTE}", *(f"{k}: {v}" for k, v in zip(keys, p, strict=True))])
            + "}"
            for p in zip(*classes, strict=True)
        ]
    lines.append('    "on":')
    for (trigger, target, count, feedback, most), share in zip(step.exits, texts, strict=True):
        extra = ", feedback: true" if feedback else ""
        extra += f", max: {most}" if most is not None else ""
        lines.append(f"      {trigger}: {{to: {target}, p: {share}{extra}}}  # {count:,} times")
    lines.append("")
    return lines
