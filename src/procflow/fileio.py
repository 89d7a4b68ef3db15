"""Writing output files so that nothing is ever half-written or lost.

Every file procflow writes -- diagrams, calibrated processes, event logs,
reports -- goes through :func:`write_atomic` or :func:`open_atomic`: the
bytes go to a temporary file in the same folder, are flushed to disk, and
the temporary file is renamed over the target in one step. A crash or a full
disk leaves either the old file or the new one, never a torn one; inputs are
never opened for writing at all.

What can go wrong is said as ``PATH: cannot write: REASON`` (a
:class:`~procflow.errors.FileAccessError`, exit 2), never as a crash: a full
disk (``No space left on device``), a quota, a read-only file system, a
folder that cannot be made.

While a command runs (:func:`guarding_inputs`, entered by the command
line), every file a reader opens is noted (:func:`note_input`), and a
write whose target is one of them -- by any name: a symbolic or hard link
too -- is refused before anything is written (``simulate P --log P``,
``discover LOG -o LOG``, ``report P -o P``): an input is never replaced
by an output. The Python API does not guard: a script may mean to rewrite
a file it read.

A target that is a symbolic link is written *through*: the link stays and
the file it points to is replaced (as an editor saving the file would). A
link that points nowhere is followed as far as its folder exists; a link
whose folder does not exist is refused with both paths named.

Signals: Ctrl-C (``KeyboardInterrupt``) unwinds through the ``with`` block
and removes the temporary file. SIGTERM and SIGHUP would kill the process
without unwinding, so while a temporary file is open (in the main thread,
when no other handler is installed) a handler removes the temporary files
of this process and raises :class:`Terminated`, a ``SystemExit`` with the
shell's code for the signal (143 for SIGTERM): everything unwinds as for
Ctrl-C -- worker processes are ended, other temporary files removed -- and
the process exits with that code and no traceback. A process forked while
the handler was installed (a worker) dies of the signal at once, as it would
have, and never touches its parent's files.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO, Any

from procflow.errors import FileAccessError

WRITE_ERRNOS = frozenset(
    code
    for code in (
        errno.ENOSPC,
        getattr(errno, "EDQUOT", None),
        errno.EFBIG,
        errno.EROFS,
        errno.EIO,
    )
    if code is not None
)
"""``OSError`` codes that mean "this output cannot be written", wherever they are raised."""

_SIGNALS = tuple(
    number for name in ("SIGTERM", "SIGHUP") if (number := getattr(signal, name, None)) is not None
)


_inputs: set[tuple[int, int]] | None = None
"""(device, inode) of each file read since :func:`guarding_inputs` began; ``None``: not guarding."""


@contextlib.contextmanager
def guarding_inputs() -> Iterator[None]:
    """While the block runs, refuse to write over any file that :func:`note_input` saw."""
    global _inputs
    saved, _inputs = _inputs, set()
    try:
        yield
    finally:
        _inputs = saved


def _identity(path: str | os.PathLike[str] | int) -> tuple[int, int] | None:
    """The (device, inode) of ``path`` (or an open file descriptor); ``None`` when there
    is nothing there (the reader or the writer says what is wrong with it)."""
    try:
        info = os.fstat(path) if isinstance(path, int) else os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def note_input(path: str | os.PathLike[str] | int) -> None:
    """Remember that ``path`` (or an open file descriptor) is an input of the running command."""
    if _inputs is None:
        return
    found = _identity(path)
    if found is not None:
        _inputs.add(found)


def _refuse_input(shown: str, target: Path, inputs: set[tuple[int, int]] | None = None) -> None:
    """Refuse writing ``target`` when it is one of ``inputs`` (default: the files noted)."""
    inputs = _inputs if inputs is None else inputs
    if inputs and _identity(target) in inputs:
        raise FileAccessError(
            shown, "is an input of this command: refusing to overwrite it (choose another output)"
        )


def refuse_input_as_output(
    output: str | os.PathLike[str] | None, inputs: Iterable[str | os.PathLike[str]]
) -> None:
    """Refuse, before any work, an ``output`` that is one of ``inputs`` by any name.

    The write itself refuses it too (:func:`_refuse_input`), but a command that
    computes for minutes (``optimize``, ``report``, ``discover`` of a large log)
    should not find out only then: it asks this first. ``None`` and ``-``
    (standard output) are never inputs.
    """
    if output is None or os.fspath(output) == "-":
        return
    named = {
        found
        for path in inputs
        if os.fspath(path) != "-" and (found := _identity(path)) is not None
    }
    _refuse_input(os.fspath(output), resolve_target(output), named)


def write_atomic(
    path: str | os.PathLike[str], data: str | bytes, *, encoding: str = "utf-8"
) -> None:
    """Replace ``path`` with ``data`` atomically, creating parent folders as needed."""
    with open_atomic(path, "wb") as handle:
        handle.write(data.encode(encoding) if isinstance(data, str) else data)


def _cannot_write(path: Path | str, exc: OSError) -> FileAccessError:
    return FileAccessError(str(path), f"cannot write: {exc.strerror or exc}")


def resolve_target(path: str | os.PathLike[str]) -> Path:
    """The file to replace for ``path``: ``path`` itself, or what a symbolic link points to.

    Raises :class:`FileAccessError` for a folder, or for a link (or a folder
    on the way) that points to a folder which does not exist.
    """
    given = Path(path)
    try:  # a name too long for the file system fails the very lookup (ENAMETOOLONG)
        given.lstat()
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno in (errno.ENAMETOOLONG, errno.EACCES):
            raise _cannot_write(os.fspath(path), exc) from None
    target = given
    if given.is_symlink():
        target = Path(os.path.realpath(given))
        if not target.parent.is_dir():
            raise FileAccessError(
                str(given),
                f"is a symbolic link to {str(target)!r}, whose folder does not exist: "
                "create it or remove the link",
            )
    if target.is_dir():
        raise FileAccessError(str(given), "is a directory, not a file")
    _make_folder(target.parent)
    return target


def _make_folder(folder: Path) -> None:
    """Create ``folder`` and its parents, saying clearly what stands in the way."""
    if folder.is_dir():
        return
    for part in (folder, *folder.parents):
        if part.is_symlink() and not part.exists():
            raise FileAccessError(
                str(part),
                f"cannot create folder: it is a symbolic link to {os.readlink(part)!r}, "
                "which does not exist",
            )
        if part.exists() and not part.is_dir():
            raise FileAccessError(str(part), "cannot create folder: a file has that name")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileAccessError(str(folder), f"cannot create folder: {exc.strerror}") from None


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
    An ``OSError`` that means the output cannot be written (see
    :data:`WRITE_ERRNOS`, or any error of the handle itself) becomes a
    :class:`FileAccessError` naming ``path``.
    """
    shown = os.fspath(path)
    target = resolve_target(path)
    _refuse_input(shown, target)
    try:
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise _cannot_write(shown, exc) from None
    _pending.add(temp_name)
    try:
        handle: IO[Any]
        if "b" in mode:
            handle = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        try:
            with handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            if exc.errno in WRITE_ERRNOS or exc.filename is None:
                raise _cannot_write(shown, exc) from None
            raise
        with contextlib.suppress(OSError):
            os.chmod(temp_name, _default_mode())
        try:
            os.replace(temp_name, target)
        except OSError as exc:
            raise _cannot_write(shown, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    finally:
        _pending.discard(temp_name)


def _default_mode() -> int:
    """The permissions a normally created file would get (0o666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


# --------------------------------------------------------------------------
# SIGTERM / SIGHUP: remove the temporary files, then die of the signal


class Terminated(SystemExit):
    """SIGTERM or SIGHUP arrived while a file was being written: unwind, then exit 128 + signal."""

    def __init__(self, number: int) -> None:
        super().__init__(128 + number)
        self.signal = number


class _Pending:
    """The temporary files this process has open, and the signal handlers guarding them."""

    def __init__(self) -> None:
        self.names: dict[str, int] = {}  # temporary file -> the pid that made it
        self.previous: dict[int, Any] = {}
        self.owner = 0  # the pid that installed the handlers

    def add(self, name: str) -> None:
        if not self.names:
            self._install()
        self.names[name] = os.getpid()

    def discard(self, name: str) -> None:
        self.names.pop(name, None)
        if not self.names:
            self._restore()

    def _install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self.owner = os.getpid()
        for number in _SIGNALS:
            with contextlib.suppress(ValueError, OSError):
                if signal.getsignal(number) is signal.SIG_DFL:
                    self.previous[number] = signal.signal(number, _on_signal)

    def _restore(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for number, handler in self.previous.items():
            with contextlib.suppress(ValueError, OSError):
                if signal.getsignal(number) is _on_signal:
                    signal.signal(number, handler)
        self.previous.clear()

    def remove_own(self) -> None:
        """Delete the temporary files this process made (not those of a forked parent)."""
        me = os.getpid()
        for name, owner in list(self.names.items()):
            if owner == me:
                with contextlib.suppress(OSError):
                    os.unlink(name)
                self.names.pop(name, None)


_pending = _Pending()


def _on_signal(number: int, frame: FrameType | None) -> None:
    """Remove this process's temporary files, then unwind (:class:`Terminated`).

    In a process forked from the one that installed the handler (a worker),
    die of the signal at once, as without the handler.
    """
    if os.getpid() != _pending.owner:
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
        return
    _pending.remove_own()  # at once: unwinding may take a moment (ending workers)
    raise Terminated(number)
