"""Prosimos-style simulation parameters (JSON) beside a BPMN model, both ways.

The format is the one Prosimos (and Simod, which writes it) reads: resource
profiles with ``amount`` and ``cost_per_hour``, calendars, the arrival
distribution, a duration distribution per task and resource
(``task_resource_distribution``), per intermediate event
(``event_distribution``), and ``gateway_branching_probabilities`` per
gateway and outgoing flow (``path_id``). Distributions are named as
Prosimos names them; their parameters, in seconds, are:

=========  ===========================  =========================
name       ``distribution_params``      procflow
=========  ===========================  =========================
fix        value, 0, 1                  ``fixed(value)``
expon      mean, min, max               ``exponential(mean)``
uniform    min, max                     ``uniform(min, max)``
triang     c, min, max (c = mode's      ``triangular(min, mode, max)``
           share of the range)
norm       mean, sd, min, max           ``normal(mean, sd)``
lognorm    mean, variance, min, max     ``lognormal(mean, sd)``
gamma      mean, variance, min, max     ``gamma(mean, sd)``
=========  ===========================  =========================

``empirical`` has no Prosimos counterpart and is written as ``fix`` at its mean.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import PydanticCustomError

from procflow.bpmn.calendars import arrival_interval, read_calendars, write_calendars
from procflow.casedata import ByDuration, ByValue, Categorical, Numeric
from procflow.distributions import Distribution, parse_distribution
from procflow.errors import ProcflowError
from procflow.fileio import note_input
from procflow.model import MAX_CAPACITY, Process, Transition
from procflow.units import format_duration, format_number

MAX_BYTES = 16 << 20
FAR = 1_000_000_000.0
"""The upper cut Prosimos wants on unbounded distributions (about 32 years)."""
ALWAYS = [{"from": "MONDAY", "to": "SUNDAY", "beginTime": "00:00:00", "endTime": "23:59:59.999999"}]


class ParamsError(ProcflowError):
    """A simulation parameters file that cannot be read, naming the file and the entry."""


def to_prosimos(dist: Distribution) -> dict[str, Any]:
    """A procflow distribution as Prosimos's ``distribution_name``/``distribution_params``."""
    name = dist.dist
    if name == "exponential":
        values = [dist.mean, 0.0, FAR]
        kind = "expon"
    elif name == "uniform":
        values = [float(getattr(dist, "min")), float(getattr(dist, "max"))]  # noqa: B009
        kind = "uniform"
    elif name == "triangular":
        low, mode, high = dist.args()
        values = [(mode - low) / (high - low) if high > low else 0.5, low, high]
        kind = "triang"
    elif name == "normal":
        values = [*dist.args(), 0.0, FAR]
        kind = "norm"
    elif name in ("lognormal", "gamma"):
        mean, sd = dist.args()
        values = [mean, sd * sd, 0.0, FAR]
        kind = "lognorm" if name == "lognormal" else "gamma"
    else:  # fixed, empirical
        values = [dist.mean, 0.0, 1.0]
        kind = "fix"
    return {"distribution_name": kind, "distribution_params": [{"value": v} for v in values]}


def from_prosimos(entry: Any, where: str, *, numbers: bool = False, arrival: bool = False) -> str:
    """Prosimos's distribution entry as procflow distribution text (``exponential(6m)``).

    With ``numbers``, parameters are plain numbers (a numeric case attribute's).
    A distribution procflow refuses (a zero mean, ``min`` above ``max``; with
    ``arrival``, a zero mean between arrivals) is a :class:`ParamsError` naming the entry.
    """
    if not isinstance(entry, dict):
        raise ParamsError(f"{where}: a distribution must be an object")
    kind = entry.get("distribution_name")
    raw = entry.get("distribution_params")
    if not isinstance(raw, list):
        raise ParamsError(f"{where}: 'distribution_params' must be a list")
    values: list[float] = []
    for item in raw:
        value = item.get("value") if isinstance(item, dict) else None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ParamsError(f"{where}: every distribution parameter needs a finite 'value'")
        values.append(float(value))

    text = _text(kind, values, where, numbers)
    if not numbers:
        try:
            mean = parse_distribution(text).mean
        except PydanticCustomError as exc:
            raise ParamsError(f"{where}: {exc.message()}") from None
        if arrival and mean <= 0:
            raise ParamsError(f"{where}: the mean time between arrivals must be positive")
    return text


def _text(kind: Any, values: list[float], where: str, numbers: bool) -> str:
    """The distribution text of Prosimos's ``kind`` with parameters ``values``."""

    def need(count: int) -> None:
        if len(values) < count:
            raise ParamsError(f"{where}: {kind!r} needs {count} parameters, got {len(values)}")

    def d(seconds: float) -> str:
        if numbers:
            return format_number(max(seconds, 0.0), 12)
        return format_duration(max(seconds, 0.0), 9)

    if kind == "fix":
        need(1)
        return d(values[0])
    if kind == "expon":
        need(1)
        return f"exponential({d(values[0])})"
    if kind == "uniform":
        need(2)
        return f"uniform({d(values[0])}, {d(values[1])})"
    if kind == "triang":
        need(3)
        share, low, high = values[:3]
        return f"triangular({d(low)}, {d(low + share * (high - low))}, {d(high)})"
    if kind == "norm":
        need(2)
        return f"normal({d(values[0])}, {d(values[1])})"
    if kind in ("lognorm", "gamma"):
        need(2)
        name = "lognormal" if kind == "lognorm" else "gamma"
        return f"{name}({d(values[0])}, {d(math.sqrt(max(values[1], 0.0)))})"
    raise ParamsError(
        f"{where}: distribution {kind!r} is not one procflow reads "
        "(fix, expon, uniform, triang, norm, lognorm, gamma)"
    )


@dataclass
class Params:
    """What import uses of a parameters file, by BPMN element id."""

    branching: dict[str, dict[str, float]] = field(default_factory=dict)
    durations: dict[str, str] = field(default_factory=dict)
    resources: dict[str, tuple[int, float]] = field(default_factory=dict)
    profiles: dict[str, list[str]] = field(default_factory=dict)
    task_resources: dict[str, list[str]] = field(default_factory=dict)
    profile_of: dict[str, str] = field(default_factory=dict)
    """Resource id -> the name (else id) of the first profile that lists it."""
    arrivals: str | None = None
    arrival_mean: float | None = None
    calendars: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Calendar id -> the process file's calendar (``hours``, ``timezone``, ...)."""
    resource_calendar: dict[str, str] = field(default_factory=dict)
    """Resource id -> its calendar's id (calendars open around the clock left out)."""
    arrival_calendar: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    """Case attribute name -> ``{value: share}`` or a distribution of numbers (text)."""
    notes: list[str] = field(default_factory=list)
    """What was renamed to fit procflow's names (attributes, their values)."""


def representative(process: Process, duration: ByDuration) -> Distribution:
    """The distribution of a ``by:`` duration for its attribute's most common value."""
    attribute = process.attributes.get(duration.by)
    if isinstance(attribute, Categorical) and attribute.values:
        best = max(zip(attribute.shares, attribute.values, strict=True))[1]
        chosen = duration.for_value(best)
        if chosen is not None:
            return chosen
    return duration.options()[-1]


def read_params(path: str | os.PathLike[str]) -> Params:
    """Read a Prosimos-style JSON file; a :class:`ParamsError` names what is wrong."""
    name = os.fspath(path)
    try:
        if os.path.getsize(name) > MAX_BYTES:
            raise ParamsError(f"{name}: more than {MAX_BYTES:,} bytes")
        with open(name, "rb") as handle:
            note_input(handle.fileno())
            data = json.loads(handle.read().decode("utf-8-sig"))  # Notepad writes a BOM
    except OSError as exc:
        raise ParamsError(f"{name}: cannot be read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParamsError(f"{name}: not JSON: {exc}") from None
    except RecursionError:
        raise ParamsError(f"{name}: nested too deep") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{name}: the parameters must be a JSON object")
    params = Params()
    _gateways(data, name, params)
    _tasks(data, name, params)
    _resources(data, name, params)
    try:
        read_calendars(data, name, params)
    except ParamsError:
        raise
    except ProcflowError as exc:
        raise ParamsError(str(exc)) from None
    _attributes(data, name, params)
    arrival = data.get("arrival_time_distribution")
    if arrival is not None:
        params.arrivals = from_prosimos(arrival, f"{name}: arrival_time_distribution", arrival=True)
        if arrival.get("distribution_name") == "expon":
            params.arrival_mean = float(arrival["distribution_params"][0]["value"])
    for index, event in enumerate(_list(data, "event_distribution", name)):
        where = f"{name}: event_distribution[{index}]"
        if isinstance(event, dict) and isinstance(event.get("event_id"), str):
            params.durations[event["event_id"]] = from_prosimos(event, where)
    return params


def _list(data: dict[str, Any], key: str, name: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ParamsError(f"{name}: {key!r} must be a list")
    return value


def _gateways(data: dict[str, Any], name: str, params: Params) -> None:
    for index, gateway in enumerate(_list(data, "gateway_branching_probabilities", name)):
        where = f"{name}: gateway_branching_probabilities[{index}]"
        if not isinstance(gateway, dict) or not isinstance(gateway.get("gateway_id"), str):
            raise ParamsError(f"{where}: needs a 'gateway_id'")
        shares: dict[str, float] = {}
        items = gateway.get("probabilities") or []
        if not isinstance(items, list):
            raise ParamsError(f"{where}: 'probabilities' must be a list")
        for item in items:
            value = item.get("value") if isinstance(item, dict) else None
            path = item.get("path_id") if isinstance(item, dict) else None
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    value = None
            if (
                not isinstance(path, str)
                or not isinstance(value, int | float)
                or isinstance(value, bool)
                or not 0.0 <= value <= 1.0
            ):
                raise ParamsError(
                    f"{where}: each probability needs a 'path_id' and a 'value' in [0, 1]"
                )
            shares[path] = float(value)
        params.branching[gateway["gateway_id"]] = shares


def _tasks(data: dict[str, Any], name: str, params: Params) -> None:
    for index, task in enumerate(_list(data, "task_resource_distribution", name)):
        where = f"{name}: task_resource_distribution[{index}]"
        if not isinstance(task, dict) or not isinstance(task.get("task_id"), str):
            raise ParamsError(f"{where}: needs a 'task_id'")
        resources = task.get("resources") or []
        if not isinstance(resources, list) or not resources:
            continue
        params.durations[task["task_id"]] = from_prosimos(resources[0], f"{where}.resources[0]")
        params.task_resources[task["task_id"]] = [
            str(r.get("resource_id")) for r in resources if isinstance(r, dict)
        ]


def _resources(data: dict[str, Any], name: str, params: Params) -> None:
    for index, profile in enumerate(_list(data, "resource_profiles", name)):
        where = f"{name}: resource_profiles[{index}]"
        if not isinstance(profile, dict):
            raise ParamsError(f"{where}: must be an object")
        members: list[str] = []
        listed = profile.get("resource_list") or []
        if not isinstance(listed, list):
            raise ParamsError(f"{where}: 'resource_list' must be a list")
        for resource in listed:
            if not isinstance(resource, dict) or not isinstance(resource.get("id"), str):
                raise ParamsError(f"{where}: every resource needs an 'id'")
            amount = resource.get("amount", 1)
            cost = resource.get("cost_per_hour", 0)
            if (
                isinstance(amount, bool)
                or not isinstance(amount, int)
                or not 1 <= amount <= MAX_CAPACITY
            ):
                raise ParamsError(
                    f"{where}: resource {resource['id']!r}: 'amount' must be a whole number "
                    f"from 1 to {MAX_CAPACITY:,}"
                )
            if isinstance(cost, bool) or not isinstance(cost, int | float) or not cost >= 0:
                raise ParamsError(f"{where}: resource {resource['id']!r}: bad 'cost_per_hour'")
            params.resources[resource["id"]] = (amount, float(cost))
            members.append(resource["id"])
        for key in ("id", "name"):
            if isinstance(profile.get(key), str):
                params.profiles[profile[key]] = members
        label = profile.get("name") or profile.get("id")
        if isinstance(label, str):
            for member in members:
                params.profile_of.setdefault(member, label)


def average_p(process: Process, edge: Transition) -> float | None:
    """A transition's probability, a ``by:`` one as its share-weighted average."""
    p = edge.p
    if not isinstance(p, ByValue):
        return p
    attribute = process.attributes.get(p.by)
    values = getattr(attribute, "values", ())
    shares = getattr(attribute, "shares", ())
    total = 0.0
    for value, share in zip(values, shares, strict=True):
        chosen = p.for_value(value)
        total += share * float(chosen or 0.0)
    return total


def attribute_name(text: str, taken: Collection[str]) -> str:
    """A procflow attribute name for a Prosimos one: ``LoanGoal`` -> ``loan_goal``.

    >>> attribute_name("LoanGoal", ()), attribute_name("Requested Amount (EUR)", ())
    ('loan_goal', 'requested_amount_eur')
    """
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    plain = re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_") or "attribute"
    if not plain[0].isalpha():
        plain = f"a_{plain}"
    name, number = plain, 2
    while name in taken:
        name, number = f"{plain}_{number}", number + 1
    return name


def value_name(text: str, taken: Collection[str]) -> str:
    """A procflow category for a Prosimos value: ``Home improvement`` -> ``Home_improvement``."""
    plain = re.sub(r"[^A-Za-z0-9_.+-]+", "_", text).strip("_.+-") or "value"
    name, number = plain, 2
    while name in taken:
        name, number = f"{plain}_{number}", number + 1
    return name


def _attributes(data: dict[str, Any], name: str, params: Params) -> None:
    """Prosimos's ``case_attributes``: discrete ones with shares, continuous ones.

    Names and values procflow cannot write as they are (``LoanGoal``,
    ``Home improvement``) are renamed (``loan_goal``, ``Home_improvement``),
    each named in :attr:`Params.notes`.
    """
    for index, entry in enumerate(_list(data, "case_attributes", name)):
        where = f"{name}: case_attributes[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ParamsError(f"{where}: needs a 'name'")
        given = entry["name"]
        ident = attribute_name(given, params.attributes)
        if ident != given:
            params.notes.append(f"{where}: attribute {given!r} is imported as {ident!r}")
        values = entry.get("values")
        if entry.get("type") == "discrete" and isinstance(values, list):
            shares: dict[str, float] = {}
            for item in values:
                key = item.get("key") if isinstance(item, dict) else None
                share = item.get("value") if isinstance(item, dict) else None
                if not isinstance(key, str) or isinstance(share, bool):
                    raise ParamsError(f"{where}: each value needs a 'key' and a 'value'")
                try:
                    number = float(share)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    raise ParamsError(f"{where}: the share of {key!r} is not a number") from None
                category = value_name(key, shares)
                if category != key:
                    params.notes.append(
                        f"{where}: value {key!r} of {given!r} is imported as {category!r}"
                    )
                shares[category] = number
            params.attributes[ident] = shares
        elif entry.get("type") == "continuous":
            params.attributes[ident] = from_prosimos(values, where, numbers=True)
        else:
            raise ParamsError(f"{where}: 'type' must be 'discrete' (with a list) or 'continuous'")


def _case_attributes(process: Process) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for attr_name, attribute in process.attributes.items():
        if isinstance(attribute, Categorical):
            values: Any = [
                {"key": k, "value": v}
                for k, v in zip(attribute.values, attribute.shares, strict=True)
            ]
            out.append({"name": attr_name, "type": "discrete", "values": values})
        elif isinstance(attribute, Numeric):
            values = to_prosimos(attribute.distribution)
            out.append({"name": attr_name, "type": "continuous", "values": values})
    return out


def _resource_list(process: Process, owner_id: str) -> list[dict[str, Any]]:
    """One resource per group of units: the owner, or one per shift (``owner.2``...)."""
    owner = process.owners[owner_id]
    groups = [(c, 10_000 if owner.external else n) for c, n in owner.calendars]
    tasks = [s for s, st in process.steps.items() if st.owner == owner_id and not st.end]
    out = []
    for number, (calendar, amount) in enumerate(groups, 1):
        out.append(
            {
                "id": owner_id if number == 1 else f"{owner_id}.{number}",
                "name": owner.title or owner_id,
                "cost_per_hour": owner.cost_per_hour or 0,
                "amount": amount,
                "calendar": calendar or "always",
                "assignedTasks": tasks,
            }
        )
    return out


def write_params(process: Process) -> str:
    """Prosimos-style simulation parameters for the exported model."""
    profiles = []
    for owner_id, owner in process.owners.items():
        profiles.append(
            {
                "id": owner_id,
                "name": owner.title or owner_id,
                "resource_list": _resource_list(process, owner_id),
            }
        )
    tasks = []
    for step_id, step in process.steps.items():
        if step.end or step.duration is None:
            continue
        duration = step.duration
        if isinstance(duration, ByDuration):  # named by export_notes
            duration = representative(process, duration)
        resource = step.owner if step.owner in process.owners else None
        entry = {"resource_id": resource or "_no_owner", **to_prosimos(duration)}
        tasks.append({"task_id": step_id, "resources": [entry]})
    if any(not st.end and st.owner not in process.owners for st in process.steps.values()):
        profiles.append(
            {
                "id": "_no_owner",
                "name": "(no owner)",
                "resource_list": [
                    {
                        "id": "_no_owner",
                        "name": "(no owner)",
                        "cost_per_hour": 0,
                        "amount": 10_000,
                        "calendar": "always",
                    }
                ],
            }
        )
    gateways = []
    for step_id, step in process.steps.items():
        edges = step.transitions
        if len(edges) > 1 and all(e.when is None for e in edges):
            given = [average_p(process, e) for e in edges]
            shares = (
                [float(p) for p in given if p is not None]
                if all(p is not None for p in given)
                else [1.0 / len(edges)] * len(edges)
            )
            gateways.append(
                {
                    "gateway_id": f"Gateway_{step_id}",
                    "probabilities": [
                        {"path_id": f"Flow_{step_id}_{e.trigger}", "value": share}
                        for e, share in zip(edges, shares, strict=True)
                    ],
                }
            )
    data: dict[str, Any] = {
        "resource_profiles": profiles,
        **write_calendars(process, ALWAYS),
        "task_resource_distribution": tasks,
        "gateway_branching_probabilities": gateways,
    }
    if process.attributes:
        data["case_attributes"] = _case_attributes(process)
    if process.arrivals is not None:
        mean = arrival_interval(process)
        data["arrival_time_distribution"] = (
            to_prosimos(process.arrivals.every)
            if process.arrivals.every is not None
            else {
                "distribution_name": "expon",
                "distribution_params": [{"value": mean}, {"value": 0.0}, {"value": 1e9}],
            }
        )
    return json.dumps(data, indent=2) + "\n"
