"""Which files a folder walk leaves out: ``exclude`` patterns and ``.gitignore`` files.

``procflow lint processes/`` should not lint what the repository itself
ignores (generated files, vendored copies, scratch folders), and a team can
exclude more with ``exclude`` in ``[tool.procflow.lint]`` or ``--exclude``.
Both use git's own pattern language, through :mod:`pathspec` (the library
black, mypy and many others use for it) rather than a home-made matcher.

* ``exclude`` patterns are matched against the path relative to the folder
  of the configuration file that gives them (the working folder for
  ``--exclude`` and for Python callers), the way a ``.gitignore`` there would.
* ``.gitignore`` files are read as git reads them when the walked folder is
  inside a git repository (a folder above it holds ``.git``): every
  ``.gitignore`` from the repository root down to the file, the deeper one
  deciding, plus ``.git/info/exclude``. A file inside an ignored folder is
  ignored. (git's global ``core.excludesFile`` is a user's setting, not the
  project's, and is not read.)

Files named on the command line are always linted: a filter only applies
to what a folder walk or a glob finds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec


def _compile(lines: Sequence[str]) -> GitIgnoreSpec:
    """Patterns as git reads them. pathspec is imported here, when there are patterns:
    ~10 ms of start-up that ``procflow lint`` of a folder without them does not pay."""
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(list(lines))


def _read_spec(path: str) -> GitIgnoreSpec | None:
    """The patterns of one ignore file (``None`` when it does not exist or cannot be read)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return _compile(handle.read().splitlines())
    except OSError:
        return None


def _decide(spec: GitIgnoreSpec | None, base: str, path: str, is_dir: bool) -> bool | None:
    """``True`` ignored, ``False`` re-included (``!pattern``), ``None`` no pattern matched."""
    if spec is None:
        return None
    relative = os.path.relpath(path, base)
    if relative == "." or relative.startswith(".." + os.sep) or relative == "..":
        return None
    relative = relative.replace(os.sep, "/") + ("/" if is_dir else "")
    return spec.check_file(relative).include


class PathFilter:
    """Decides, for a path a walk finds, whether to leave it out.

    ``exclude`` is a list of (base folder, patterns); ``gitignore`` turns
    reading ``.gitignore`` files on. Decisions about folders are cached, so
    a walk pays for each folder once.
    """

    def __init__(
        self, exclude: Sequence[tuple[str, Sequence[str]]] = (), *, gitignore: bool = True
    ) -> None:
        self.exclude = [
            (os.path.abspath(base), _compile(patterns)) for base, patterns in exclude if patterns
        ]
        self.gitignore = gitignore
        self._folders: dict[str, bool] = {}
        self._roots: dict[str, str | None] = {}
        self._specs: dict[str, GitIgnoreSpec | None] = {}

    def _spec_of(self, path: str) -> GitIgnoreSpec | None:
        if path not in self._specs:
            self._specs[path] = _read_spec(path)
        return self._specs[path]

    def __call__(self, path: str, is_dir: bool) -> bool:
        """:meth:`skips`, as the ``skip`` callback of :func:`procflow.loader.iter_yaml_files`."""
        return self.skips(path, is_dir=is_dir)

    def __bool__(self) -> bool:
        return bool(self.exclude) or self.gitignore

    def skips(self, path: str, *, is_dir: bool = False) -> bool:
        """Whether ``path`` (a file, or a folder with ``is_dir``) is excluded or git-ignored."""
        full = os.path.abspath(path)
        parent = os.path.dirname(full)
        if parent != full and self._skips_folder(parent):
            return True
        return self._own_decision(full, is_dir)

    def _skips_folder(self, folder: str) -> bool:
        cached = self._folders.get(folder)
        if cached is None:
            parent = os.path.dirname(folder)
            cached = (parent != folder and self._skips_folder(parent)) or self._own_decision(
                folder, True
            )
            self._folders[folder] = cached
        return cached

    def _own_decision(self, path: str, is_dir: bool) -> bool:
        for base, spec in self.exclude:
            if _decide(spec, base, path, is_dir):
                return True
        if not self.gitignore:
            return False
        root = self._repository(os.path.dirname(path))
        if root is None:
            return False
        info = self._spec_of(os.path.join(root, ".git", "info", "exclude"))
        ignored = _decide(info, root, path, is_dir)
        folder = root
        relative = os.path.relpath(os.path.dirname(path), root)
        parts = [] if relative == "." else relative.split(os.sep)
        for part in ["", *parts]:
            folder = os.path.join(folder, part) if part else folder
            patterns = self._spec_of(os.path.join(folder, ".gitignore"))
            decision = _decide(patterns, folder, path, is_dir)
            if decision is not None:
                ignored = decision
        return bool(ignored)

    def _repository(self, folder: str) -> str | None:
        """The nearest folder at or above ``folder`` holding ``.git``, or ``None``."""
        if folder in self._roots:
            return self._roots[folder]
        parent = os.path.dirname(folder)
        if os.path.exists(os.path.join(folder, ".git")):
            root: str | None = folder
        elif parent == folder:
            root = None
        else:
            root = self._repository(parent)
        self._roots[folder] = root
        return root
