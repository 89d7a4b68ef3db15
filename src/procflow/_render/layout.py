"""Running Graphviz's ``dot``: DOT text in, SVG/PNG/PDF bytes out.

This is the only module that starts a process, and the only user of the
``graphviz`` package (``graphviz.pipe`` finds ``dot`` on ``PATH``, feeds it
the source on stdin and reports a missing binary and a failed layout as
distinct exceptions). Both failures become procflow errors with a message a
user can act on: :class:`~procflow.errors.GraphvizNotFound` says how to
install Graphviz, :class:`~procflow.errors.RenderError` quotes ``dot``.

The binary is a seam: anything that takes ``(dot_source, format)`` and
returns bytes can stand in for :func:`run_dot` (a :data:`DotRunner`), and
since ``dot`` is looked up on ``PATH``, a test can also hide it by
emptying ``PATH`` or put a fake ``dot`` in front.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import graphviz

from procflow.errors import GraphvizNotFound, RenderError

#: Output formats that need the ``dot`` binary.
IMAGE_FORMATS: tuple[str, ...] = ("svg", "png", "pdf")

DotRunner = Callable[[str, str], bytes]
"""``runner(dot_source, format) -> bytes``: what turns DOT text into an image."""

INSTALL_HINT = (
    "Graphviz's `dot` program is needed to draw svg, png and pdf diagrams, and it is not "
    "installed (or not on PATH). Install Graphviz, then run the command again:\n"
    "  Debian/Ubuntu:  sudo apt-get install graphviz\n"
    "  Fedora/RHEL:    sudo dnf install graphviz\n"
    "  macOS:          brew install graphviz\n"
    "  Windows:        winget install graphviz\n"
    "(-f dot and -f mermaid work without it.)"
)


def dot_available() -> bool:
    """Whether a ``dot`` program is on ``PATH`` (what :func:`run_dot` will run)."""
    return shutil.which("dot") is not None


def require_dot() -> None:
    """Raise :class:`GraphvizNotFound` with install instructions when ``dot`` is missing."""
    if not dot_available():
        raise GraphvizNotFound(INSTALL_HINT)


def run_dot(source: str, fmt: str) -> bytes:
    """Lay out ``source`` with ``dot`` and return the ``fmt`` (svg, png, pdf) bytes."""
    if fmt not in IMAGE_FORMATS:
        raise RenderError(f"dot cannot write format {fmt!r}: use one of {', '.join(IMAGE_FORMATS)}")
    try:
        return bytes(graphviz.pipe("dot", fmt, source.encode("utf-8"), quiet=True))
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFound(INSTALL_HINT) from None
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"dot could not lay out the diagram: {_stderr(exc)}") from None
    except OSError as exc:  # e.g. dot exists but is not executable
        raise RenderError(f"cannot run dot: {exc.strerror or exc}") from None


def _stderr(exc: graphviz.CalledProcessError) -> str:
    raw = exc.stderr
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines) or f"dot exited with status {exc.returncode}"


def run_dot_plain(source: str) -> str:
    """Lay out ``source`` with ``dot`` and return its ``-Tplain`` text (coordinates in inches).

    For callers that place shapes themselves (the BPMN export's BPMNDI) rather
    than draw the picture ``dot`` would draw.
    """
    try:
        raw = graphviz.pipe("dot", "plain", source.encode("utf-8"), quiet=True)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFound(INSTALL_HINT) from None
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"dot could not lay out the diagram: {_stderr(exc)}") from None
    except OSError as exc:
        raise RenderError(f"cannot run dot: {exc.strerror or exc}") from None
    return bytes(raw).decode("utf-8", "replace")
