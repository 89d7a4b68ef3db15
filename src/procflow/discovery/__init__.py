"""Discover a process from an event log alone: :func:`discover` -> :class:`Discovery`.

The log is read once into compact columns (:mod:`.table`); control flow
(:mod:`.flow`), roles and pools (:mod:`.roles`), working hours
(:mod:`.hours`), processing times and extraneous delays (:mod:`.timing`),
duration fits (:mod:`.fit`) are then whole-column numpy work, and
:mod:`.writer` turns the result into a process file. docs/discover.md
explains every estimate.
"""

from procflow.discovery.discover import Discovery, discover

__all__ = ["Discovery", "discover"]
