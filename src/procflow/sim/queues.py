"""The waiting line of one staff owner in the token engine: the queue discipline as a seam.

The fast engine (:mod:`procflow.sim.engine`) needs no queue at all: with
first-come-first-served and work that never leaves a line, the start of
every visit is known when it arrives. The token engine
(:mod:`procflow.sim.tokens`) keeps explicit queues, because work can leave
a line (``join: first`` withdraws the losing branches) and because the order
of service is meant to change (priorities, issue 14).

**The interface** (what the token engine calls, and all it calls):

* ``push(item)``: ``item`` arrives and waits. Items are the engine's
  waiting visits; the queue reads nothing of them but what :meth:`Queue.rank`
  reads, and sets nothing but their ``queued`` slot (their position stamp).
* ``pop() -> item``: the next item to serve (the queue must not be empty).
* ``remove(item)``: a waiting item is withdrawn (it leaves without service).
* ``len(queue)``: how many are waiting.
* ``rank(item) -> tuple``: the ordering key's first part. Items are served by
  ``(rank(item), arrival order)``: FIFO ranks every item ``()``, so arrival
  order alone decides. A priority queue (issue 14) overrides :meth:`rank`
  to return ``(priority class,)``: FIFO within a class.
* ``preempts(item, running_rank) -> bool``: whether an arriving item takes
  the unit from work in progress of rank ``running_rank``. FIFO and
  non-preemptive priorities answer False (the default); a preemptive
  discipline answers ``rank(item) < running_rank`` and the engine then puts
  the interrupted work back with :meth:`push` (its remaining work content
  kept on the item).

Arrival order is the order of :meth:`push` calls, which the engine makes in
event order (same instant: case order, then token order), so the queue
never compares items themselves.

Removal is lazy: a withdrawn item is marked and skipped when it reaches the
head, so ``remove`` costs O(1) and ``pop`` stays O(log n).
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any, Protocol

__all__ = ["Queue", "Waiting", "fifo"]


class Waiting(Protocol):
    """What a queue needs of an item: a slot for its position stamp (None: not waiting)."""

    queued: int | None


class Queue:
    """A FIFO line (see the module docstring): override :meth:`rank` for another order."""

    __slots__ = ("_heap", "_length", "_order")

    def __init__(self) -> None:
        self._heap: list[tuple[tuple[Any, ...], int, Any]] = []
        self._order = 0
        self._length = 0

    def rank(self, item: Any) -> tuple[Any, ...]:
        """The first part of the ordering key: every item ranks alike in FIFO."""
        return ()

    def preempts(self, item: Any, running_rank: tuple[Any, ...]) -> bool:
        """Whether ``item`` takes a unit from work of ``running_rank``: never in FIFO."""
        return False

    def push(self, item: Waiting) -> None:
        """``item`` waits, after everything already waiting of the same rank."""
        self._order += 1
        item.queued = self._order
        heappush(self._heap, (self.rank(item), self._order, item))
        self._length += 1

    def pop(self) -> Any:
        """The next item to serve (withdrawn items are skipped)."""
        heap = self._heap
        while True:
            _rank, order, item = heappop(heap)
            if item.queued == order:
                item.queued = None
                self._length -= 1
                return item

    def remove(self, item: Waiting) -> None:
        """A waiting ``item`` leaves without service."""
        if item.queued is not None:
            item.queued = None
            self._length -= 1

    def __len__(self) -> int:
        return self._length


def fifo(owner: object) -> Queue:
    """The default discipline: a first-come-first-served line for any ``owner``."""
    return Queue()
