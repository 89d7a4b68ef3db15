"""Values as a process file writes them: ``exponential(6m)``, ``8/h``, ``"<= 24h"``.

A diff is read by the person who wrote the file, so each old and new value
is shown in the file's own notation. When the version was loaded from a
file, the value is taken from the document as written (the YAML data
before validation), so ``6m`` stays ``6m`` rather than becoming ``360``
seconds. A value the file does not write (a default, or a process built in
Python) is formatted from the model: distributions by their call text,
rates per hour, dates in ISO form.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel

from procflow.units import format_number, format_rate

MISSING: Any = object()
"""A path the document does not write."""

_PLAIN = re.compile(r"^[^\s,{}\[\]#:\"'&*!|>%@`][^,{}\[\]#\"]*$")
_RESERVED = frozenset({"true", "false", "null", "~", "yes", "no", "on", "off", ""})


def lookup(document: Any, path: Sequence[str | int]) -> Any:
    """The raw document value at ``path``, or :data:`MISSING`."""
    node = document
    for element in path:
        if isinstance(node, Mapping) and element in node:
            node = node[element]
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            node = node[element]
        else:
            return MISSING
    return node


def show_raw(value: Any, *, nested: bool = False) -> str:
    """A YAML value as a one-line flow: scalars as written, ``{k: v}``, ``[a, b]``.

    A top-level text is shown as it is; inside a flow mapping or list, text
    that YAML would misread is quoted.
    """
    if isinstance(value, Mapping):
        items = ", ".join(
            f"{show_raw(k, nested=True)}: {show_raw(v, nested=True)}" for k, v in value.items()
        )
        return "{" + items + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show_raw(v, nested=True) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if nested and (not _PLAIN.match(text) or text.lower() in _RESERVED or ": " in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return format_number(value)
    return repr(value)


def show_model(value: Any, *, rate: bool = False) -> str:
    """A validated model value in file notation (used when the file does not write it)."""
    if rate and isinstance(value, float):
        return format_rate(value)
    if isinstance(value, BaseModel) and "dist" in type(value).model_fields:
        return str(value)  # a distribution: its call text, e.g. exponential(6m)
    if isinstance(value, BaseModel):
        fields = {
            name: getattr(value, name)
            for name in type(value).model_fields
            if getattr(value, name)
            != type(value).model_fields[name].get_default(call_default_factory=True)
        }
        return "{" + ", ".join(f"{k}: {show_model(v)}" for k, v in fields.items()) + "}"
    if is_dataclass(value) and not isinstance(value, type):
        text = getattr(value, "text", None)  # a goal target keeps its text
        return str(text) if isinstance(text, str) else str(asdict(value))
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {show_model(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show_model(v) for v in value) + "]"
    return show_raw(value)
