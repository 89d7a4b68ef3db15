"""Live cases: a process run as a state machine, one case at a time.

:class:`Case` drives a :class:`transitions.Machine` built from the process
with transitions' declarative configuration -- one state per step, one
``{"trigger", "source", "dest"}`` entry per declared transition,
``auto_transitions=False`` so only declared moves exist -- on a small model
object that the case owns. Nothing is subclassed, mixed in or patched onto
user objects; this is the only module of procflow that imports
``transitions``::

    case = procflow.Case(process, case_id="T-1042")
    case.state                      # 'intake'
    case.trigger("next")            # -> 'triage'
    case.available_triggers         # ['simple', 'complex']
    case.trigger("complex")
    case.history[-1]                # HistoryRecord(step='escalate', owner='tier2', ...)

A case can be in several steps at once: after a step with ``parallel:``
it continues in every branch, and a step with ``join:`` brings the branches
together again (docs/parallel-work.md#live-cases). ``case.states`` lists
where it is, ``case.trigger(name, step=...)`` names the branch a trigger is
for, and every history record inside a fork names its ``branch``. Each
branch is one model of the same machine: transitions drives many models on
one machine (``add_model``/``remove_model``), and the case adds one per
branch at a fork and removes them at the join.

A trigger that is not allowed at the current step raises
:class:`~procflow.errors.InvalidTrigger` naming the step and the triggers
allowed there; ``max`` on a transition is a condition of the machine, so a
bounded edge used up is no longer allowed; a case at an end step is done
and any further trigger raises :class:`~procflow.errors.CaseError`.

Times come from an injectable ``clock`` (a callable returning aware
datetimes; UTC now by default), so tests and replays control them. A case
saves to JSON and restores from it (:meth:`Case.to_json`,
:meth:`Case.from_json`), and a list of cases becomes event-log rows
(:func:`visit_rows`) that :func:`procflow.write_cases` writes -- the CSV
that ``check-log`` reads.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from types import MappingProxyType
from typing import Any

from transitions import Machine

from procflow.casedata import check_values
from procflow.casestats import first_true
from procflow.errors import CaseError, InvalidTrigger
from procflow.expressions import Value, compile_condition
from procflow.gate import runnable
from procflow.model import Process

Clock = Callable[[], datetime]

JSON_VERSION = 1
_STATE_ATTRIBUTE = "_procflow_step"
"""Where transitions keeps the state on our model: no trigger id can collide with it."""


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class HistoryRecord:
    """One visit of a case to a step: who owned it, when it was entered and left, and how.

    ``left`` and ``trigger`` are ``None`` while the case is still at the step
    (and stay so at an end step).
    """

    step: str
    owner: str | None
    entered: datetime
    left: datetime | None = None
    trigger: str | None = None
    branch: str | None = None
    """Inside a fork, the branch of the visit: the id of the step the branch starts at
    (the innermost branch when forks nest); ``None`` outside every fork. A visit left
    without a ``trigger`` inside a fork was withdrawn by a ``join: first``."""

    def __iter__(self) -> Iterator[Any]:
        """Unpacks as ``(step, owner, entered, left)`` (docs/api.md); ``trigger`` by name."""
        return iter((self.step, self.owner, self.entered, self.left))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "step": self.step,
            "owner": self.owner,
            "entered": self.entered.isoformat(),
            "left": self.left.isoformat() if self.left is not None else None,
            "trigger": self.trigger,
        }
        if self.branch is not None:
            data["branch"] = self.branch
        return data


class _Token:
    """The model object the machine drives; private to one :class:`Case`.

    transitions binds ``trigger`` and ``may_trigger`` (and a method per
    trigger and state) onto it; :class:`Case` only uses the first two.
    A case has one token per branch it is in (one outside forks).
    """


FORK_TRIGGER = "next"
"""The trigger that finishes a fork step's work and starts its branches."""


def _alike(places: list[_Place], step_of: Callable[[_Place], str]) -> bool:
    """Whether ``places`` are tokens at one step of one branch (``parallel: [x, x]``)."""
    first = places[0]
    return all(step_of(p) == step_of(first) and p.branches == first.branches for p in places)


@dataclass(eq=False)
class _Place:
    """Where one token of the case is: its model, its branches and its current visit.

    ``branches`` are the forks the token is inside, outermost first, each as
    ``(fork number, fork step, branch start step)``; the fork number tells
    two passes through the same fork apart.
    """

    token: _Token
    branches: tuple[tuple[int, str, str], ...]
    record: int

    @property
    def branch(self) -> str | None:
        return self.branches[-1][2] if self.branches else None


def _machine_config(process: Process, allowed: Callable[[str, str], bool]) -> dict[str, Any]:
    """transitions' declarative configuration of ``process``.

    ``allowed(step, trigger)`` is the condition of every bounded transition.
    A fork step has no transitions in the machine: :class:`Case` starts its
    branches itself (one new model each).
    """
    transitions: list[dict[str, Any]] = []
    for source, edge in process.edges():
        if process.steps[source].parallel:
            continue
        entry: dict[str, Any] = {"trigger": edge.trigger, "source": source, "dest": edge.to}
        if edge.max is not None:
            entry["conditions"] = [
                lambda source=source, trigger=edge.trigger: allowed(source, trigger)
            ]
        transitions.append(entry)
    return {
        "states": list(process.steps),
        "transitions": transitions,
        "auto_transitions": False,
        "model_attribute": _STATE_ATTRIBUTE,
        "ignore_invalid_triggers": False,
        "send_event": False,
    }


def working_due(
    process: Process, owner_id: str | None, start: datetime, seconds: float
) -> datetime | None:
    """``seconds`` of work by ``owner_id`` from ``start``: in the working time of its
    calendar (the earliest of its shifts), else around the clock; ``None`` if no calendar
    of it ever opens again."""
    owner = process.owners.get(owner_id) if owner_id is not None else None
    calendars = [
        process.calendars[name].calendar
        for name, _ in (owner.calendars if owner is not None else ())
        if name is not None and name in process.calendars
    ]
    if not calendars:
        return start + timedelta(seconds=seconds)
    found = [c.add_working_time(start, seconds) for c in calendars]
    done = [moment for moment in found if moment is not None]
    return min(done) if done else None


class Case:
    """One live case of a process (see the module docstring)."""

    def __init__(
        self,
        process: Process,
        case_id: str | None = None,
        clock: Clock | None = None,
        *,
        attributes: Mapping[str, Value] | None = None,
        _history: list[HistoryRecord] | None = None,
    ) -> None:
        runnable(process)  # the gate: raises ProcessError with every blocking problem
        self.process = process
        if case_id is not None and not str(case_id).strip():
            raise CaseError("a case id must be non-empty text (or None for a generated one)")
        self.id = str(case_id) if case_id is not None else uuid.uuid4().hex[:12]
        try:
            self._attributes = check_values(process.attributes, dict(attributes or {}))
        except ValueError as exc:
            raise CaseError(f"case {self.id!r}: {exc}") from None
        self._clock = clock or utc_now
        self._uses: dict[tuple[str, str], int] = {}
        self._limits = {
            (source, edge.trigger): edge.max for source, edge in process.edges() if edge.max
        }
        self._forked = any(step.parallel for step in process.steps.values())
        self._forks = 0
        self._waiting: dict[int, list[_Place]] = {}
        self._order: list[int] = []
        if _history:
            self._history = list(_history)
            for record in self._history[:-1]:
                assert record.trigger is not None
                key = (record.step, record.trigger)
                self._uses[key] = self._uses.get(key, 0) + 1
        else:
            entered = self._now()
            start = process.start
            self._history = [HistoryRecord(start, process.steps[start].owner, entered)]
        first = _Token()
        self._places = [_Place(first, (), len(self._history) - 1)]
        self._machine = Machine(
            model=first,
            initial=self._history[-1].step,
            **_machine_config(process, self._allowed),
        )

    # -- the machine's condition ---------------------------------------------

    def _allowed(self, step: str, trigger: str) -> bool:
        limit = self._limits.get((step, trigger))
        return limit is None or self._uses.get((step, trigger), 0) < limit

    @staticmethod
    def _model_call(token: _Token, method: str, trigger: str) -> bool:
        """Call one of the functions transitions bound onto a model."""
        return bool(getattr(token, method)(trigger))

    def _now(self) -> datetime:
        moment = self._clock()
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise CaseError(
                f"case {self.id!r}: the clock must return timezone-aware datetimes, got {moment!r}"
            )
        return moment

    # -- reading --------------------------------------------------------------

    @staticmethod
    def _step_of(place: _Place) -> str:
        return str(getattr(place.token, _STATE_ATTRIBUTE))

    @property
    def states(self) -> tuple[str, ...]:
        """The steps the case is at, in declaration order (one outside a fork).

        A branch that has arrived at a ``join: all`` and waits for the others
        is not at a step: :attr:`branches` shows it waiting.
        """
        order = self.process.steps
        index = {step: i for i, step in enumerate(order)}
        return tuple(sorted((self._step_of(p) for p in self._places), key=index.__getitem__))

    @property
    def state(self) -> str:
        """The id of the step the case is at; inside a fork, a :class:`CaseError`.

        Inside a fork the case is in several steps at once: read :attr:`states`.
        """
        if self._inside_fork:
            shown = ", ".join(repr(s) for s in self.states) or "none"
            raise CaseError(
                f"case {self.id!r} is inside a fork, in several steps at once ({shown}): "
                "read case.states, and name the step with case.trigger(name, step=...)"
            )
        return self._step_of(self._places[0])

    @property
    def _inside_fork(self) -> bool:
        return len(self._places) != 1 or bool(self._waiting) or bool(self._places[0].branches)

    @property
    def branches(self) -> dict[str, str]:
        """Inside forks: each open branch (named by its first step) -> the step it is at.

        A branch that waits at a ``join: all`` for the others shows the join
        step. Empty outside every fork.
        """
        open_: list[tuple[str, str]] = []
        for place in self._places:
            if place.branch is not None:
                open_.append((place.branch, self._step_of(place)))
        for places in self._waiting.values():
            open_.extend((p.branch or "", self._step_of(p)) for p in places)
        index = {step: i for i, step in enumerate(self.process.steps)}
        return dict(sorted(open_, key=lambda item: index.get(item[0], -1)))

    @property
    def owner(self) -> str | None:
        """The owner of the current step (inside a fork: see :attr:`state`)."""
        return self.process.steps[self.state].owner

    @property
    def done(self) -> bool:
        """Whether the case has reached an end step."""
        return not self._waiting and all(
            self.process.steps[self._step_of(p)].end for p in self._places
        )

    def _triggers_at(self, place: _Place) -> list[str]:
        step = self._step_of(place)
        body = self.process.steps[step]
        if body.end:
            return []
        if body.parallel:
            return [FORK_TRIGGER]
        return [
            t.trigger
            for t in body.transitions
            if self._allowed(step, t.trigger)
            and self._model_call(place.token, "may_trigger", t.trigger)
        ]

    @property
    def available_triggers(self) -> list[str]:
        """Triggers allowed now, in file order (used-up bounded transitions left out).

        Inside a fork: the triggers of every step the case is at, each once,
        in the order of :attr:`states`.
        """
        found: list[str] = []
        for place in self._sorted_places():
            found.extend(t for t in self._triggers_at(place) if t not in found)
        return found

    def available_at(self, step: str) -> list[str]:
        """The triggers allowed now at ``step`` (empty when the case is not there)."""
        found: list[str] = []
        for place in self._places:
            if self._step_of(place) == step:
                found.extend(t for t in self._triggers_at(place) if t not in found)
        return found

    def _sorted_places(self) -> list[_Place]:
        index = {step: i for i, step in enumerate(self.process.steps)}
        return sorted(self._places, key=lambda p: index[self._step_of(p)])

    @property
    def history(self) -> tuple[HistoryRecord, ...]:
        """Every visit so far, in the order they began (each branch's visits carry ``branch``)."""
        return tuple(self._history)

    def branch_history(self, branch: str) -> tuple[HistoryRecord, ...]:
        """The visits of one branch (named by its first step), in order."""
        return tuple(record for record in self._history if record.branch == branch)

    @property
    def attributes(self) -> Mapping[str, Value]:
        """The case's attribute values (docs/attributes.md), as given when it was opened."""
        return MappingProxyType(self._attributes)

    @property
    def rule_choice(self) -> str | None:
        """The trigger the step's rules choose for this case now, or ``None``.

        First-true routing (docs/attributes.md): the first transition whose
        ``when`` holds for the case's attributes, else the default (no
        ``when``); used-up bounded transitions are skipped. ``None`` at an
        end step and at a step whose transitions have no rules.
        """
        if self.done:
            return None
        step = self.state
        transitions = self.process.steps[step].transitions
        if all(t.when is None for t in transitions):
            return None
        open_ = [t for t in transitions if self._allowed(step, t.trigger)]
        if not open_:
            return None
        conditions = [compile_condition(t.when) if t.when else None for t in open_]
        return open_[first_true(conditions, self._attributes)].trigger

    def advance(self) -> str:
        """Take the transition the process decides for this case; return the new step.

        That is the rule-chosen transition (:attr:`rule_choice`) at a step
        with ``when:`` rules, or the only transition of a step that has one.
        A step that branches by chance (``p``) or by a person's decision
        needs :meth:`trigger` with the trigger's name: :class:`CaseError`
        says so.
        """
        chosen = self.rule_choice
        if chosen is None and not self.done:
            allowed = self.available_triggers
            if len(allowed) == 1:
                chosen = allowed[0]
            else:
                shown = ", ".join(repr(a) for a in allowed) or "none"
                raise CaseError(
                    f"case {self.id!r}: step {self.state!r} has no rules to decide between "
                    f"{shown}: call trigger() with the one that happened"
                )
        return self.trigger(chosen if chosen is not None else "next")

    def uses(self, step: str, trigger: str) -> int:
        """How often this case has taken ``trigger`` out of ``step``."""
        return self._uses.get((step, trigger), 0)

    def due(
        self,
        step: str | None = None,
        *,
        work: float | timedelta | None = None,
        start: datetime | None = None,
    ) -> datetime | None:
        """When ``step`` (default: the current one) is due, in its owner's working time.

        ``work`` (seconds or a timedelta; default: the mean of the step's
        duration) counted from ``start`` (default: when the case entered the
        step, if it is the current one, else now) over the owner's calendar
        -- or its shifts, the earliest -- skipping closed hours, weekends and
        holidays; an owner without a calendar works around the clock
        (docs/working-time.md). ``None`` for an end step or a step without a
        duration when no ``work`` is given. For SLA tracking::

            if case.due() < now: escalate(case)
        """
        name = self.state if step is None else step
        if name not in self.process.steps:
            raise CaseError(f"case {self.id!r}: process {self.process.id!r} has no step {name!r}")
        spec = self.process.steps[name]
        if work is None:
            if spec.end or spec.duration is None:
                return None
            seconds = spec.duration.mean
        else:
            seconds = work.total_seconds() if isinstance(work, timedelta) else float(work)
        if start is None:
            start = self._history[-1].entered if name == self.state else self._now()
        return working_due(self.process, spec.owner, start, seconds)

    def __repr__(self) -> str:
        where = f"states={self.states!r}" if self._inside_fork else f"state={self.state!r}"
        return f"Case({self.process.id!r}, id={self.id!r}, {where})"

    # -- driving --------------------------------------------------------------

    def trigger(self, name: str, step: str | None = None) -> str:
        """Take the transition ``name`` out of the current step; return the new step.

        Inside a fork, ``step`` names the step (so the branch) the trigger is
        for; without it the trigger must be allowed at exactly one of the
        steps the case is at. At a fork step, ``next`` starts every branch and
        the first branch's step is returned (:attr:`states` lists them all).

        Raises :class:`CaseError` when the case is done or the trigger is
        ambiguous, and :class:`InvalidTrigger` when ``name`` is not allowed.
        """
        return self._move(self._place_for(name, step), name)

    def _move(self, place: _Place, name: str) -> str:
        """Take ``name`` out of the visit of ``place`` (allowed: checked by the caller)."""
        at = self._step_of(place)
        now = self._now()
        last = self._history[place.record]
        if now < last.entered:
            raise CaseError(
                f"case {self.id!r}: the clock went back in time ({now.isoformat()} is before "
                f"{last.entered.isoformat()}, when {at!r} was entered), or the case was "
                "restored with a history in the future"
            )
        self._order.append(place.record)
        if self.process.steps[at].parallel:
            return self._fork(place, now)
        if not self._model_call(place.token, "trigger", name):  # pragma: no cover - checked
            raise InvalidTrigger(at, name, self._triggers_at(place))
        key = (at, name)
        self._uses[key] = self._uses.get(key, 0) + 1
        target = self._step_of(place)
        self._close(place.record, now, name)
        if self.process.steps[target].join and place.branches:
            return self._arrive(place, target, now)
        place.record = self._enter(target, now, place.branch)
        return target

    def _place_for(self, name: str, step: str | None) -> _Place:
        """The token a trigger moves: the one at ``step``, or the only one that allows it."""
        if self.done:
            where = ", ".join(repr(self._step_of(p)) for p in self._places)
            raise CaseError(
                f"case {self.id!r} is done (at end step {where}); it takes no more triggers"
            )
        places = self._sorted_places()
        if step is not None:
            places = [p for p in places if self._step_of(p) == step]
            if not places:
                shown = ", ".join(repr(s) for s in self.states) or "none"
                raise CaseError(f"case {self.id!r} is not at step {step!r}; it is at {shown}")
        able = [p for p in places if name in self._triggers_at(p)]
        if len(able) == 1 or (able and _alike(able, self._step_of)):
            return able[0]  # tokens of a branch listed twice are interchangeable
        if len(able) > 1:
            shown = ", ".join(repr(self._step_of(p)) for p in able)
            raise CaseError(
                f"trigger {name!r} is allowed at several steps of case {self.id!r} ({shown}): "
                "name one with case.trigger(name, step=...)"
            )
        if len(places) == 1:
            only = places[0]
            at = self._step_of(only)
            allowed = self._triggers_at(only)
            error = InvalidTrigger(at, name, allowed)
            limit = self._limits.get((at, name))
            if limit is not None:
                shown = ", ".join(repr(a) for a in allowed) or "none"
                error.args = (
                    f"trigger {name!r} is not allowed at step {at!r}: case {self.id!r} has "
                    f"used it {limit} time{'s' if limit != 1 else ''}, its max; allowed: {shown}",
                )
            raise error
        per_step = "; ".join(
            f"at {self._step_of(p)!r}: "
            + (", ".join(repr(t) for t in self._triggers_at(p)) or "none")
            for p in places
        )
        raise CaseError(
            f"trigger {name!r} is not allowed at any step of case {self.id!r} ({per_step})"
        )

    def _close(self, index: int, now: datetime, trigger: str | None) -> None:
        record = self._history[index]
        self._history[index] = HistoryRecord(
            record.step, record.owner, record.entered, now, trigger, record.branch
        )

    def _enter(self, step: str, now: datetime, branch: str | None) -> int:
        owner = self.process.steps[step].owner
        self._history.append(HistoryRecord(step, owner, now, branch=branch))
        return len(self._history) - 1

    def _fork(self, place: _Place, now: datetime) -> str:
        """Finish a fork step: one new token per branch, each at its branch's first step."""
        at = self._step_of(place)
        branches = self.process.steps[at].parallel or []
        self._close(place.record, now, FORK_TRIGGER)
        self._machine.remove_model(place.token)
        self._places.remove(place)
        self._forks += 1
        empty: list[_Place] = []
        for branch in branches:
            token = _Token()
            self._machine.add_model(token, initial=branch)
            inner = (*place.branches, (self._forks, at, branch))
            if self.process.steps[branch].join:  # an empty branch: at the join at once
                empty.append(_Place(token, inner, place.record))
                continue
            self._places.append(_Place(token, inner, self._enter(branch, now, branch)))
        for k, arrived in enumerate(empty):  # after every branch has its token (a race)
            join = str(arrived.branch)
            if k and self.process.steps[join].join == "first":
                self._machine.remove_model(arrived.token)  # the race is already decided
                continue
            self._places.append(arrived)
            self._arrive(arrived, join, now)
        return branches[0]

    def _arrive(self, place: _Place, join: str, now: datetime) -> str:
        """A branch reaches the join step of its innermost fork."""
        number, fork, _branch = place.branches[-1]
        self._places.remove(place)
        if self.process.steps[join].join == "first":
            for other in [p for p in self._places if _within(p, number)]:
                self._withdraw(other, now)
            inner = [n for n, ps in self._waiting.items() if any(_within(p, number) for p in ps)]
            for key in inner:  # branches of a nested fork, waiting at its join: withdrawn too
                for waiting in self._waiting.pop(key):
                    self._machine.remove_model(waiting.token)
        else:
            arrived = self._waiting.setdefault(number, [])
            arrived.append(place)
            if len(arrived) < len(self.process.steps[fork].parallel or []):
                return join
            for other in self._waiting.pop(number)[:-1]:
                self._machine.remove_model(other.token)
        outer = place.branches[:-1]
        merged = _Place(place.token, outer, self._enter(join, now, outer[-1][2] if outer else None))
        self._places.append(merged)
        return join

    def _withdraw(self, place: _Place, now: datetime) -> None:
        """A branch that lost a ``join: first`` race: its visit ends without a trigger."""
        self._close(place.record, now, None)
        self._machine.remove_model(place.token)
        self._places.remove(place)

    # -- saving and restoring -------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": JSON_VERSION,
            "process": self.process.id,
            "case": self.id,
            **({"attributes": dict(self._attributes)} if self._attributes else {}),
        }
        if self._forked:
            data["state"] = None if self._inside_fork else self.state
            data["states"] = list(self.states)
            data["order"] = list(self._order)
        else:
            data["state"] = self.state
        data["history"] = [record.to_dict() for record in self._history]
        return data

    def to_json(self, indent: int | None = 2) -> str:
        """The case as JSON; :meth:`from_json` restores it on the same process."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, process: Process, text: str, clock: Clock | None = None) -> Case:
        """Restore a saved case; :class:`CaseError` says what is wrong with bad input."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CaseError(
                f"cannot restore case: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg})"
            ) from None
        except RecursionError:
            raise CaseError("cannot restore case: the JSON is nested too deeply") from None
        except ValueError as exc:  # an integer of more digits than Python converts
            raise CaseError(f"cannot restore case: not valid JSON ({exc})") from None
        return cls.from_dict(process, data, clock)

    @classmethod
    def from_dict(cls, process: Process, data: Any, clock: Clock | None = None) -> Case:
        """Restore a case from :meth:`to_dict` data, checking it belongs to ``process``."""
        if not isinstance(data, dict):
            raise CaseError("cannot restore case: expected a JSON object")
        version = data.get("version")
        if type(version) is not int or version != JSON_VERSION:
            raise CaseError(
                f"cannot restore case: unsupported version {_shown(version)} "
                f"(expected {JSON_VERSION})"
            )
        if data.get("process") != process.id:
            raise CaseError(
                f"cannot restore case: it belongs to process {_shown(data.get('process'))}, "
                f"not {process.id!r}"
            )
        case_id = data.get("case")
        if not isinstance(case_id, str) or not case_id:
            raise CaseError("cannot restore case: 'case' (the case id) must be a non-empty text")
        raw = data.get("history")
        if not isinstance(raw, list) or not raw:
            raise CaseError(f"cannot restore case {case_id!r}: 'history' must be a non-empty list")
        history = [_record(process, case_id, i, item) for i, item in enumerate(raw, start=1)]
        if any(step.parallel for step in process.steps.values()):
            return _replayed(cls, process, case_id, clock, history, data)
        _check_path(process, case_id, history)
        state = data.get("state", history[-1].step)
        if state != history[-1].step:
            raise CaseError(
                f"cannot restore case {case_id!r}: 'state' is {state!r} but its history "
                f"ends at {history[-1].step!r}"
            )
        attributes = data.get("attributes", {})
        if not isinstance(attributes, dict):
            raise CaseError(f"cannot restore case {case_id!r}: 'attributes' must be an object")
        return cls(process, case_id, clock, attributes=attributes, _history=history)


def _within(place: _Place, number: int) -> bool:
    """Whether ``place`` is inside the fork numbered ``number`` (at any depth)."""
    return any(fork == number for fork, _, _ in place.branches)


def _replayed(
    cls: type[Case],
    process: Process,
    case_id: str,
    clock: Clock | None,
    history: list[HistoryRecord],
    data: dict[str, Any],
) -> Case:
    """A saved case of a process with forks, restored by driving a new case through it.

    ``order`` lists the history entries in the order they were left; each is
    taken again, at its own time, and the history that results must be the
    saved one. So what the machine allows is checked by the machine itself.
    """
    where = f"cannot restore case {case_id!r}"
    if history[0].step != process.start:
        raise CaseError(
            f"{where}: its history begins at {history[0].step!r}, not at the start step "
            f"{process.start!r}"
        )
    order = data.get("order", [])
    if not isinstance(order, list) or not all(
        type(n) is int and 0 <= n < len(history) for n in order
    ):
        raise CaseError(f"{where}: 'order' must list history entries (numbered from 0)")
    moment = [history[0].entered]
    case = cls(process, case_id, lambda: moment[0])
    for number in order:
        record = history[number]
        place = next((p for p in case._places if p.record == number), None)
        if place is None or record.trigger is None or record.left is None:
            raise CaseError(
                f"{where}: history entry {number + 1} ({record.step!r}) is not a visit the "
                "case can leave at that point"
            )
        moment[0] = record.left
        try:
            if record.trigger not in case._triggers_at(place):
                raise InvalidTrigger(record.step, record.trigger, case._triggers_at(place))
            case._move(place, record.trigger)
        except CaseError as exc:
            raise CaseError(f"{where}: history entry {number + 1}: {exc}") from None
    for number, (saved, redone) in enumerate(zip(history, case._history, strict=False), 1):
        if saved != redone:
            raise CaseError(
                f"{where}: history entry {number} ({saved.step!r}) is not what the process "
                f"does after the entries before it (expected {redone.step!r}, entered "
                f"{redone.entered.isoformat()}, branch {redone.branch!r})"
            )
    if len(history) != len(case._history):
        raise CaseError(
            f"{where}: its history has {len(history)} entries, but taking its triggers "
            f"gives {len(case._history)}"
        )
    states = data.get("states", list(case.states))
    if states != list(case.states):
        raise CaseError(
            f"{where}: 'states' is {_shown(states)} but its history ends at {list(case.states)!r}"
        )
    case._clock = clock or utc_now
    return case


def _shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, shortened: restored data can be any size (an int of 5,000 digits)."""
    try:
        text = repr(value)
    except ValueError:  # more digits than Python converts to text
        return "a number too long to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _record(process: Process, case_id: str, number: int, item: Any) -> HistoryRecord:
    where = f"cannot restore case {case_id!r}: history entry {number}"
    if not isinstance(item, dict):
        raise CaseError(f"{where} must be an object")
    step = item.get("step")
    if not isinstance(step, str) or step not in process.steps:
        raise CaseError(f"{where}: {step!r} is not a step of process {process.id!r}")
    moments: dict[str, datetime | None] = {}
    for key in ("entered", "left"):
        value = item.get(key)
        if value is None and key == "left":
            moments[key] = None
            continue
        if not isinstance(value, str):
            raise CaseError(f"{where}: {key!r} must be an ISO 8601 timestamp")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise CaseError(f"{where}: {key!r} is not an ISO 8601 timestamp: {value!r}") from None
        if moment.tzinfo is None:
            raise CaseError(f"{where}: {key!r} has no UTC offset: {value!r}")
        try:
            moment.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:00-05:00 or 0001-01-01T00:00+05:00
            side = "after the year 9999" if moment.year > 1 else "before the year 1"
            raise CaseError(f"{where}: {key!r} is {side} in UTC: {value!r}") from None
        moments[key] = moment
    trigger = item.get("trigger")
    if trigger is not None and not isinstance(trigger, str):
        raise CaseError(f"{where}: 'trigger' must be a text")
    branch = item.get("branch")
    if branch is not None and not isinstance(branch, str):
        raise CaseError(f"{where}: 'branch' must be a text")
    entered = moments["entered"]
    assert entered is not None
    owner = process.steps[step].owner
    return HistoryRecord(step, owner, entered, moments["left"], trigger, branch)


def _check_path(process: Process, case_id: str, history: list[HistoryRecord]) -> None:
    """The history must be a walk the process allows, from ``start``, within ``max``."""
    where = f"cannot restore case {case_id!r}"
    if history[0].step != process.start:
        raise CaseError(
            f"{where}: its history begins at {history[0].step!r}, not at the start step "
            f"{process.start!r}"
        )
    uses: dict[tuple[str, str], int] = {}
    for number, (record, following) in enumerate(pairwise(history), 1):
        edge = next(
            (t for t in process.steps[record.step].transitions if t.trigger == record.trigger),
            None,
        )
        if edge is None or edge.to != following.step:
            raise CaseError(
                f"{where}: history entry {number} leaves {record.step!r} by "
                f"{record.trigger!r} to {following.step!r}, which the process does not declare"
            )
        key = (record.step, edge.trigger)
        uses[key] = uses.get(key, 0) + 1
        if edge.max is not None and uses[key] > edge.max:
            raise CaseError(
                f"{where}: history takes {record.step!r} -> {following.step!r} more than its "
                f"max of {edge.max}"
            )
        if record.left is None or record.left < record.entered:
            raise CaseError(f"{where}: history entry {number} has no valid 'left' time")
        if following.entered != record.left:
            raise CaseError(
                f"{where}: history entry {number + 1} is entered at {following.entered} but "
                f"entry {number} was left at {record.left}: a case is at one step at a time"
            )
    last = history[-1]
    if last.left is not None or last.trigger is not None:
        raise CaseError(f"{where}: the last history entry must not have 'left' or 'trigger'")


def visit_rows(cases: Iterable[Case]) -> Iterator[tuple[str, str, str | None, datetime, datetime]]:
    """The cases' completed step visits as event-log rows ``(case, step, owner, start, end)``.

    One row per visit that has been left by a trigger (start is when the
    step was entered, end when it was left; a visit withdrawn by a ``join:
    first`` did not finish its work and has none), in the order the visits
    ended, and, for a finished case, one
    zero-length row for its end step -- the layout of the simulator's
    ``--log``, which ``check-log`` and ``calibrate`` read. Writing them to a
    file is the caller's business (:func:`procflow.write_cases`).
    """
    seen: set[str] = set()
    for case in cases:
        if not isinstance(case, Case):
            raise TypeError(f"write_cases() takes Case objects, not {type(case).__name__}")
        if case.id in seen:
            raise CaseError(
                f"two cases share the id {case.id!r}: their events would merge in the log"
            )
        seen.add(case.id)
        rows: list[tuple[str, str, str | None, datetime, datetime]] = []
        for record in case.history:
            if record.left is not None and record.trigger is not None:
                rows.append((case.id, record.step, record.owner, record.entered, record.left))
            elif record.left is None and case.process.steps[record.step].end:
                rows.append((case.id, record.step, record.owner, record.entered, record.entered))
        # by completion (a log's order), stably: branches of a fork finish in any order
        yield from sorted(rows, key=lambda row: row[4])
