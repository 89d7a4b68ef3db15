"""Opening an event-log file: ``.gz`` read transparently, every failure a FileAccessError.

The format sniffing of :mod:`~procflow.eventlog.reader` and the CSV and XES
readers all open logs through here, so they agree on compression and on
how a missing or unreadable file is reported.
"""

from __future__ import annotations

import gzip
import io
import os
from typing import IO

from procflow.errors import FileAccessError
from procflow.fileio import note_input


def open_binary(path: str) -> IO[bytes]:
    """Open a log for reading bytes (``.gz`` decompressed on the fly)."""
    if os.path.isdir(path):
        raise FileAccessError(path, "is a directory, not a file")
    try:
        note_input(path)
        if path.endswith(".gz"):
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return open(path, "rb")
    except FileNotFoundError:
        raise FileAccessError(path, "no such file") from None
    except OSError as exc:
        raise FileAccessError(path, exc.strerror or "cannot be read") from None


def open_text(path: str) -> IO[str]:
    """Open a log for reading UTF-8 text (a BOM skipped, line ends kept for the csv module)."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", newline="")
