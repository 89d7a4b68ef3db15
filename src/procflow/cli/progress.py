"""The progress bar of a command that simulates: made, shown and closed in one place.

``levers`` and ``optimize`` (like ``simulate`` and ``compare``) tell a person
at a terminal how far the simulation has got. The bar itself is
:class:`~procflow.cli.simulate.ProgressBar`: on stderr, only for text output
on a terminal, never with ``-q``, and only after a second. :func:`progress`
is the one way a command makes one, so every command closes its bar on the
way out -- an error or Ctrl-C included -- and never leaves a half-drawn bar
above its message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from procflow.cli.simulate import ProgressBar, progress_bar


@contextmanager
def progress(output_format: str, label: str) -> Iterator[ProgressBar]:
    """``with progress(output_format, label) as bar:`` -- ``bar(done, total)`` as work goes."""
    bar = progress_bar(output_format, label)
    try:
        yield bar
    finally:
        bar.close()


__all__ = ["ProgressBar", "progress", "progress_bar"]
