"""The command line's garbage-collector tuning: the library never switches the collector.

Linting a 10,000-step file or a thousand small ones makes hundreds of
thousands of small, acyclic objects (YAML nodes, marks, dicts, models) that
reference counting frees; CPython's cyclic collector would rescan them
again and again as they pile up, which costs more than parsing. A command
owns its process, so it may pause the collector around each file
(:func:`paused`); a library call cannot know what else its caller's
process is doing, so :mod:`procflow` itself never does.

When the process ends with the command (``procflow ...`` itself, not a test
that calls :func:`procflow.cli.main` with arguments: :func:`ending`), a
command's whole-run pause (``paused(last=True)``) freezes what the command
left instead of collecting it: a simulation of a 5,000-step process leaves
~300,000 objects in reference cycles (a process, its compiled form and the
analysis kept with it refer to each other), and the one collection that
finds them when the collector resumes costs 0.1 s just before the operating
system frees the memory anyway.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ending", "paused"]

_ENDING = False
"""Whether this process ends when its command does (:func:`ending`)."""


def ending() -> None:
    """Say that this process ends when its command does (the real command line)."""
    global _ENDING
    _ENDING = True


@contextmanager
def paused(*, last: bool = False) -> Iterator[None]:
    """Pause the cyclic collector for the block (nested pauses are no-ops); resume after it.

    ``last``: the block is a command's whole run; in a process that ends with it
    (:func:`ending`) what it leaves is frozen, not collected (:func:`gc.freeze`).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if last and _ENDING:
            gc.freeze()
        gc.enable()
