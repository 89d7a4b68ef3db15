"""Terminal output: colour and alignment on a terminal, plain text when piped.

rich decides whether the stream is a terminal; ``NO_COLOR`` turns colour off
and ``FORCE_COLOR`` on, as in other tools. Every command gets its consoles
from here so they all behave the same way.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from rich.console import Console
from rich.theme import Theme

THEME = Theme(
    {
        "error": "bold red",
        "warning": "yellow",
        "info": "cyan",
        "ok": "green",
        "path": "bold",
        "code": "magenta",
        "dim": "dim",
        "bottleneck": "bold red",
    }
)


def make_console(stream: TextIO | None = None, *, stderr: bool = False) -> Console:
    """A rich console for ``stream`` (stdout by default) that is plain when not a terminal."""
    target = stream if stream is not None else (sys.stderr if stderr else sys.stdout)
    force = os.environ.get("FORCE_COLOR")
    no_color = "NO_COLOR" in os.environ
    is_terminal = target.isatty() if hasattr(target, "isatty") else False
    return Console(
        file=target,
        theme=THEME,
        force_terminal=True if force and not no_color else None,
        no_color=no_color,
        color_system="auto" if (is_terminal or force) and not no_color else None,
        highlight=False,
        soft_wrap=not is_terminal,
        width=None if is_terminal else 200,
    )
