"""The owner seam: when work can start on a staff owner's units, and when it ends.

The event loop (:mod:`procflow.sim.engine`) asks a staff owner's pool one
thing per visit -- :meth:`Pool.take`: *a case arrives at* ``t`` *with work
content* ``work``; *when does the work start, and when does it end?* The
answer is made of the two questions every owner answers in its own way:

* :meth:`Pool.next_free`: when the next unit is free for work arriving at
  ``t`` (``t`` itself when one is free);
* :meth:`Pool.finish`: when work started at ``start`` with work content
  ``work`` finishes.

:class:`Staff` is the staff owner (docs/simulation-engine.md): ``capacity`` units that are
always available, so work finishes at ``start + work``. Working time
(calendars: units that work office hours) is a pool that answers the two
questions differently -- ``next_free`` moves a start into the next shift,
``finish`` adds work over working hours -- and the loop does not change.

**FIFO without queues.** Events are handled in time order, so the cases
arriving at one owner are handled in arrival order; a pool keeps the times
its units become free in a heap, and a case arriving at ``t`` starts at
``max(t, earliest free time)`` on that unit. That is exactly
first-come-first-served with ``capacity`` units -- no queue, no
service-completion event.

**Memory does not follow capacity.** A unit that has never worked is free
at any time, so the heap needs only as many units as can be busy at once,
and never more than there are cases in the system. The loop announces each
block of arrivals (:meth:`Pool.reserve`) with a bound on the cases that can
be in the system until the next one, and the pool grows to that bound (at
most its capacity): a pool of a billion units costs what a pool of the
cases in flight costs, and is exactly a pool of a billion.

**The fast path.** A Python call per staff visit costs a quarter of the
event loop's time (``benchmarks/sim_bench.py``). A pool whose units are
always available therefore publishes its heap as :attr:`Pool.always`, and
the loop answers :meth:`take` for it the way :meth:`Staff.take` does, written
out (``tests/test_sim_pools.py`` checks both give the same run, to the
bit). Every other pool -- every pool with a clock -- is asked through
:meth:`take`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from heapq import heapify, heapreplace

from procflow.sim.plan import OwnerPlan


class Pool(ABC):
    """The units of one staff owner (see the module docstring): subclass and answer
    :meth:`next_free` and :meth:`finish`."""

    __slots__ = ("_free", "capacity")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a pool needs at least one unit")
        self.capacity = capacity
        self._free: list[float] = [0.0]
        """When each unit is free again (a heap); units beyond it have never worked."""

    def reserve(self, cases: int) -> None:
        """At most ``cases`` cases are in the system until the next call: hold enough units."""
        want = min(self.capacity, cases)
        free = self._free
        if len(free) < want:
            free.extend([0.0] * (want - len(free)))
            heapify(free)

    @property
    def always(self) -> list[float] | None:
        """The heap of free times, for the loop to answer :meth:`take` itself; only a pool
        whose :meth:`finish` is ``start + work`` and :meth:`next_free` ``max(t, earliest)``
        offers it (see the module docstring)."""
        return None

    def next_free(self, t: float) -> float:
        """When the next unit is free for work arriving at ``t`` (``t`` if one is free)."""
        first = self._free[0]
        return first if first > t else t

    @abstractmethod
    def finish(self, start: float, work: float) -> float:
        """When work started at ``start`` with work content ``work`` finishes."""

    def take(self, t: float, work: float) -> tuple[float, float]:
        """A case arriving at ``t`` takes the next free unit for ``work``: ``(start, end)``."""
        start = self.next_free(t)
        end = self.finish(start, work)
        heapreplace(self._free, end)  # the unit free first is the one next_free named
        return start, end

    def release(self, end: float, at: float) -> None:
        """Work that was to end at ``end`` is abandoned at ``at``: its unit is free from ``at``.

        The token engine (:mod:`procflow.sim.tokens`) calls it when ``join: first``
        withdraws a branch whose work is in progress (docs/parallel-work.md).
        """
        free = self._free
        free[free.index(end)] = at
        heapify(free)

    def units_in_memory(self) -> int:
        """Units the pool keeps a time for (see the module docstring)."""
        return len(self._free)

    def work_after(self, moment: float) -> float:
        """Work assigned to the units that is still to be done after ``moment``."""
        return math.fsum(f - moment for f in self._free if f > moment)


class Staff(Pool):
    """Units that are always available: work started at ``start`` ends at ``start + work``."""

    __slots__ = ()

    @classmethod
    def of(cls, owner: OwnerPlan) -> Pool:
        """The pool of a staff owner of a compiled plan."""
        return cls(owner.capacity)

    @property
    def always(self) -> list[float] | None:
        return self._free

    def finish(self, start: float, work: float) -> float:
        return start + work


__all__ = ["Pool", "Staff"]
