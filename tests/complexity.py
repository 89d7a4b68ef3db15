"""Work counted, not timed: the Python function calls a piece of code makes.

A test that says "refused at once" or "does not blow up" asserts how much work
was done, not how many seconds it took: a count of calls is the same on a
loaded CI runner and on a laptop, so the test fails only when the code does
more work. The seconds themselves are measured in ``benchmarks/`` (see
``benchmarks/robustness_bench.py``), which times the same cases and prints them.

The count covers Python-level calls (each function call, and each resumption
of a generator); work inside one C call (a regex, a numpy kernel) counts once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any


@dataclass
class Calls:
    """How many Python function calls the block made (filled in as it runs)."""

    count: int = 0


@contextmanager
def counting_calls() -> Iterator[Calls]:
    """Count the Python calls made by this thread inside the ``with`` block."""
    calls = Calls()

    def profile(_frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call":
            calls.count += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(previous)
