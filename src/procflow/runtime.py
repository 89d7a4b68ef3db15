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
from datetime import UTC, datetime
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

    def __iter__(self) -> Iterator[Any]:
        """Unpacks as ``(step, owner, entered, left)`` (docs/api.md); ``trigger`` by name."""
        return iter((self.step, self.owner, self.entered, self.left))

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "owner": self.owner,
            "entered": self.entered.isoformat(),
            "left": self.left.isoformat() if self.left is not None else None,
            "trigger": self.trigger,
        }


class _Token:
    """The model object the machine drives; private to one :class:`Case`.

    transitions binds ``trigger`` and ``may_trigger`` (and a method per
    trigger and state) onto it; :class:`Case` only uses the first two.
    """


def _machine_config(process: Process, allowed: Callable[[str, str], bool]) -> dict[str, Any]:
    """transitions' declarative configuration of ``process``.

    ``allowed(step, trigger)`` is the condition of every bounded transition.
    """
    transitions: list[dict[str, Any]] = []
    for source, edge in process.edges():
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
        self._model = _Token()
        self._machine = Machine(
            model=self._model,
            initial=self._history[-1].step,
            **_machine_config(process, self._allowed),
        )

    # -- the machine's condition ---------------------------------------------

    def _allowed(self, step: str, trigger: str) -> bool:
        limit = self._limits.get((step, trigger))
        return limit is None or self._uses.get((step, trigger), 0) < limit

    def _model_call(self, method: str, trigger: str) -> bool:
        """Call one of the functions transitions bound onto our model."""
        return bool(getattr(self._model, method)(trigger))

    def _now(self) -> datetime:
        moment = self._clock()
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise CaseError(
                f"case {self.id!r}: the clock must return timezone-aware datetimes, got {moment!r}"
            )
        return moment

    # -- reading --------------------------------------------------------------

    @property
    def state(self) -> str:
        """The id of the step the case is at."""
        return str(getattr(self._model, _STATE_ATTRIBUTE))

    @property
    def owner(self) -> str | None:
        """The owner of the current step."""
        return self.process.steps[self.state].owner

    @property
    def done(self) -> bool:
        """Whether the case has reached an end step."""
        return self.process.steps[self.state].end

    @property
    def available_triggers(self) -> list[str]:
        """Triggers allowed now, in file order (used-up bounded transitions left out)."""
        if self.done:
            return []
        step = self.state
        return [
            t.trigger
            for t in self.process.steps[step].transitions
            if self._allowed(step, t.trigger) and self._model_call("may_trigger", t.trigger)
        ]

    @property
    def history(self) -> tuple[HistoryRecord, ...]:
        """Every visit so far, the current one last."""
        return tuple(self._history)

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

    def __repr__(self) -> str:
        return f"Case({self.process.id!r}, id={self.id!r}, state={self.state!r})"

    # -- driving --------------------------------------------------------------

    def trigger(self, name: str) -> str:
        """Take the transition ``name`` out of the current step; return the new step.

        Raises :class:`CaseError` when the case is done and
        :class:`InvalidTrigger` when ``name`` is not allowed here.
        """
        step = self.state
        if self.done:
            raise CaseError(
                f"case {self.id!r} is done (at end step {step!r}); it takes no more triggers"
            )
        allowed = self.available_triggers
        if name not in allowed:
            error = InvalidTrigger(step, name, allowed)
            limit = self._limits.get((step, name))
            if limit is not None:
                shown = ", ".join(repr(a) for a in allowed) or "none"
                error.args = (
                    f"trigger {name!r} is not allowed at step {step!r}: case {self.id!r} has "
                    f"used it {limit} time{'s' if limit != 1 else ''}, its max; allowed: {shown}",
                )
            raise error
        now = self._now()
        last = self._history[-1]
        if now < last.entered:
            raise CaseError(
                f"case {self.id!r}: the clock went back in time ({now.isoformat()} is before "
                f"{last.entered.isoformat()}, when {step!r} was entered), or the case was "
                "restored with a history in the future"
            )
        if not self._model_call("trigger", name):  # pragma: no cover - checked above
            raise InvalidTrigger(step, name, allowed)
        key = (step, name)
        self._uses[key] = self._uses.get(key, 0) + 1
        target = self.state
        self._history[-1] = HistoryRecord(last.step, last.owner, last.entered, now, name)
        self._history.append(HistoryRecord(target, self.process.steps[target].owner, now))
        return target

    # -- saving and restoring -------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "process": self.process.id,
            "case": self.id,
            "state": self.state,
            "history": [record.to_dict() for record in self._history],
            **({"attributes": dict(self._attributes)} if self._attributes else {}),
        }

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
        except OverflowError:  # 9999-12-31T23:00-05:00: no clock can ever be later
            raise CaseError(f"{where}: {key!r} is after the year 9999 in UTC: {value!r}") from None
        moments[key] = moment
    trigger = item.get("trigger")
    if trigger is not None and not isinstance(trigger, str):
        raise CaseError(f"{where}: 'trigger' must be a text")
    entered = moments["entered"]
    assert entered is not None
    return HistoryRecord(step, process.steps[step].owner, entered, moments["left"], trigger)


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

    One row per visit that has been left (start is when the step was
    entered, end when it was left) and, for a finished case, one
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
        for record in case.history:
            if record.left is not None:
                yield case.id, record.step, record.owner, record.entered, record.left
            elif case.process.steps[record.step].end:
                yield case.id, record.step, record.owner, record.entered, record.entered
