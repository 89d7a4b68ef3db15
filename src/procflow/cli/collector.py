"""The command line's garbage-collector tuning: the library never switches the collector.

Linting a 10,000-step file or a thousand small ones makes hundreds of
thousands of small, acyclic objects (YAML nodes, marks, dicts, models) that
reference counting frees; CPython's cyclic collector would rescan them
again and again as they pile up, which costs more than parsing. A command
owns its process, so it may pause the collector around each file
(:func:`paused`); a library call cannot know what else its caller's
process is doing, so :mod:`procflow` itself never does.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (nested pauses are no-ops); resume after it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
