"""Writing output files so that nothing is ever half-written or lost.

Every file procflow writes -- diagrams, calibrated processes, event logs,
reports -- goes through :func:`write_atomic`: the bytes go to a temporary
file in the same folder, are flushed to disk, and the temporary file is
renamed over the target in one step. A crash or a full disk leaves either
the old file or the new one, never a torn one; inputs are never opened for
writing at all.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from procflow.errors import FileAccessError


def write_atomic(
    path: str | os.PathLike[str], data: str | bytes, *, encoding: str = "utf-8"
) -> None:
    """Replace ``path`` with ``data`` atomically, creating parent folders as needed."""
    with open_atomic(path, "wb") as handle:
        handle.write(data.encode(encoding) if isinstance(data, str) else data)


@contextlib.contextmanager
def open_atomic(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """A file handle whose content replaces ``path`` only when the block ends without error.

    Use it to stream large outputs (event logs) without holding them in memory.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileAccessError(str(target.parent), f"cannot create folder: {exc.strerror}") from None
    if target.is_dir():
        raise FileAccessError(str(target), "is a directory, not a file")
    try:
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise FileAccessError(str(target), f"cannot write: {exc.strerror}") from None
    binary = "b" in mode
    try:
        handle: IO[Any]
        if binary:
            handle = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            os.chmod(temp_name, _default_mode())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def _default_mode() -> int:
    """The permissions a normally created file would get (0o666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
