"""A process file as it was at a git revision: ``git show REV:./PATH``.

``procflow diff --git REV PATH`` compares PATH at REV with the working tree;
``REV1..REV2`` compares two revisions, and ``REV1...REV2`` compares REV2
with the merge base of the two (what a pull request changes, as in
``git diff A...B``). An empty side of ``..`` is ``HEAD``, as in git.

The old version is written to a temporary directory (with the roster file
it names, also at REV) and loaded from there, so rosters resolve as they did
at REV; positions are then shown as ``REV:PATH:line:col``. Every failure
(git missing, not a repository, unknown revision, a path that did not
exist at REV) is a :class:`~procflow.errors.ConfigError` (exit 2) that says
which.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from procflow.errors import ConfigError, Problem, ProcessError
from procflow.loader import load
from procflow.model import Process


@dataclass(frozen=True)
class Revisions:
    """What ``--git`` names: the old revision, and the new one (``None``: the working tree)."""

    old: str
    new: str | None


def parse_revisions(text: str, folder: str) -> Revisions:
    """``REV``, ``A..B`` or ``A...B`` (old side at the merge base) as two revisions."""
    if not text.strip():
        raise ConfigError("--git needs a revision, e.g. --git HEAD or --git main...HEAD")
    if "..." in text:
        left, _, right = text.partition("...")
        left, right = left or "HEAD", right or "HEAD"
        base = _git(folder, "merge-base", _commit(folder, left), _commit(folder, right))
        return Revisions(base.strip(), right)
    if ".." in text:
        left, _, right = text.partition("..")
        return Revisions(left or "HEAD", right or "HEAD")
    return Revisions(text, None)


def show(revision: str, path: str) -> str:
    """The text of ``path`` at ``revision``; a ConfigError naming what is missing."""
    folder = os.path.dirname(os.path.abspath(path))
    _commit(folder, revision)
    name = os.path.basename(path)
    try:
        return _git(folder, "show", f"{revision}:./{name}")
    except ConfigError:
        raise ConfigError(f"{path} does not exist at revision {revision!r}") from None


@contextmanager
def checkout(revision: str, path: str) -> Iterator[tuple[Process, dict[str, str]]]:
    """``(process at revision, {temporary file name: 'REV:path'})``, files removed on exit."""
    text = show(revision, path)
    folder = tempfile.mkdtemp(prefix="procflow-diff-")
    try:
        copy = os.path.join(folder, os.path.basename(path))
        with open(copy, "w", encoding="utf-8") as handle:
            handle.write(text)
        names = {copy: f"{revision}:{path}"}
        roster = _roster_name(text)
        if roster is not None and not os.path.isabs(roster):
            roster_path = os.path.join(os.path.dirname(path), roster)
            roster_copy = os.path.join(folder, roster)
            os.makedirs(os.path.dirname(roster_copy), exist_ok=True)
            try:
                roster_text = show(revision, roster_path)
            except ConfigError:
                roster_text = None  # the loader reports the missing roster at its line
            if roster_text is not None:
                with open(roster_copy, "w", encoding="utf-8") as handle:
                    handle.write(roster_text)
                names[roster_copy] = f"{revision}:{os.path.normpath(roster_path)}"
        try:
            process = load(copy)
        except ProcessError as exc:
            raise ProcessError(
                _renamed(exc.problems, names), f"{names[copy]}: not a valid process"
            ) from None
        yield process, names
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _renamed(problems: tuple[Problem, ...], names: dict[str, str]) -> list[Problem]:
    return [
        replace(p, position=replace(p.position, file=names.get(p.position.file, p.position.file)))
        for p in problems
    ]


def _roster_name(text: str) -> str | None:
    """The ``roster:`` a process names, read without validating (None when there is none)."""
    from procflow.loader import parse_yaml

    try:
        data = parse_yaml(text, "<git>").data
    except ProcessError:
        return None
    roster = data.get("roster") if isinstance(data, dict) else None
    return roster if isinstance(roster, str) and roster.strip() else None


def _commit(folder: str, revision: str) -> str:
    try:
        return _git(folder, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").strip()
    except ConfigError as exc:
        if "git repository" in str(exc) or "git command" in str(exc):
            raise
        raise ConfigError(f"unknown git revision {revision!r}") from None


def _git(folder: str, *args: str) -> str:
    """Run git in ``folder``; a ConfigError with git's own message when it fails."""
    if shutil.which("git") is None:
        raise ConfigError("--git needs the git command, which is not installed (or not on PATH)")
    try:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(f"git could not run: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()
        detail = message[-1] if message else f"git {args[0]} failed"
        if "not a git repository" in detail.lower():
            raise ConfigError(f"{folder} is not in a git repository (--git needs one)")
        raise ConfigError(detail)
    return done.stdout
