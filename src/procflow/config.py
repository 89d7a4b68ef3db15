"""Lint configuration: ``[tool.procflow.lint]`` in pyproject.toml or ``[lint]`` in procflow.toml.

A :class:`LintConfig` is plain data -- which rules run, at which severity,
with which parameters, and from which severity on lint fails -- so the
engine stays a function of (rules, configuration, documents). This module
only *reads* configuration; matching selectors against the rule catalog is
the engine's business (:func:`procflow._lint.enabled_rules`), because only
the engine knows which rules exist.

Discovery walks up from the current directory; in each folder
``procflow.toml`` is looked at before ``pyproject.toml``, and the first file
that has a procflow section wins (``[lint]`` in procflow.toml,
``[tool.procflow]`` in pyproject.toml; a file without one is skipped).
``--config FILE`` names the file instead, and must have such a section.

Rule selection follows ruff: selectors are codes (``PF203``), code
prefixes (``PF2``, ``PF``), rule names (``unused-owner``) or ``ALL``. Within
one layer (the file, then the command line) the most specific selector
that matches a rule decides -- a name or a full code beats a prefix, a
longer prefix beats a shorter one, and ``ignore`` wins a tie. A layer that
gives ``select`` starts from nothing; a layer that only gives ``ignore``
adjusts what the layer before it enabled.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from procflow.errors import ConfigError, did_you_mean
from procflow.findings import Severity

#: Files looked for in each folder, in this order.
CONFIG_FILES: tuple[str, ...] = ("procflow.toml", "pyproject.toml")
#: The keys ``[tool.procflow.lint]`` / ``[lint]`` may hold.
KEYS: tuple[str, ...] = (
    "select",
    "ignore",
    "severity",
    "bottleneck-threshold",
    "fail-on",
    "exclude",
    "respect-gitignore",
)
DEFAULT_BOTTLENECK_THRESHOLD = 0.85
#: The origin of the selection layer that command-line options make.
CLI_ORIGIN = "the command line"


@dataclass(frozen=True)
class Selection:
    """One layer of rule selection (the config file, or the command line).

    ``select`` of ``None`` means "not given": the layer keeps what the
    previous one enabled. ``origin`` says where the layer came from, for
    error messages (``pyproject.toml``, ``--select``).
    """

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    origin: str = ""


@dataclass(frozen=True)
class LintConfig:
    """How lint runs: which rules, severity overrides, parameters, failure level.

    >>> LintConfig(select=("PF1", "PF2"), ignore=("PF203",)).fail_on
    <Severity.ERROR: 3>

    ``select``/``ignore`` are the top layer of selection; :meth:`override`
    pushes a new layer (the command line) on top of them.
    """

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    bottleneck_threshold: float = DEFAULT_BOTTLENECK_THRESHOLD
    fail_on: Severity = Severity.ERROR
    today: date | None = None
    #: The file this configuration was read from, if any.
    path: str | None = None
    #: Earlier selection layers, applied before ``select``/``ignore``.
    layers: tuple[Selection, ...] = ()
    origin: str = ""
    #: gitignore-style patterns of paths a folder walk leaves out, relative to
    #: ``exclude_base`` (the configuration file's folder; ``None``: the working folder).
    exclude: tuple[str, ...] = ()
    exclude_base: str | None = None
    #: Earlier (base, patterns) layers of ``exclude``: the file's, under the command line's.
    exclude_layers: tuple[tuple[str | None, tuple[str, ...]], ...] = ()
    #: Leave out what ``.gitignore`` files ignore when walking folders inside a git repository.
    respect_gitignore: bool = True

    def __post_init__(self) -> None:
        # accept lists and plain strings from Python callers
        if isinstance(self.select, str):
            object.__setattr__(self, "select", (self.select,))
        elif self.select is not None and not isinstance(self.select, tuple):
            object.__setattr__(self, "select", tuple(self.select))
        if isinstance(self.ignore, str):
            object.__setattr__(self, "ignore", (self.ignore,))
        elif not isinstance(self.ignore, tuple):
            object.__setattr__(self, "ignore", tuple(self.ignore))
        if isinstance(self.exclude, str):
            object.__setattr__(self, "exclude", (self.exclude,))
        elif not isinstance(self.exclude, tuple):
            object.__setattr__(self, "exclude", tuple(self.exclude))
        if isinstance(self.fail_on, str):
            object.__setattr__(self, "fail_on", Severity.parse(self.fail_on))
        if any(isinstance(v, str) for v in self.severity.values()):
            object.__setattr__(
                self,
                "severity",
                {
                    k: (Severity.parse(v) if isinstance(v, str) else v)
                    for k, v in self.severity.items()
                },
            )

    def exclusions(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Every (base folder, patterns) layer of ``exclude``, bases resolved against the cwd."""
        layers = (*self.exclude_layers, (self.exclude_base, self.exclude))
        return tuple((base or os.getcwd(), patterns) for base, patterns in layers if patterns)

    @property
    def selections(self) -> tuple[Selection, ...]:
        """Every selection layer, oldest first."""
        return (*self.layers, Selection(self.select, self.ignore, self.origin or "configuration"))

    def override(
        self,
        *,
        select: Sequence[str] | None = None,
        ignore: Sequence[str] | None = None,
        severity: Mapping[str, Severity] | None = None,
        bottleneck_threshold: float | None = None,
        fail_on: Severity | None = None,
        today: date | None = None,
        origin: str = CLI_ORIGIN,
        exclude: Sequence[str] = (),
        respect_gitignore: bool | None = None,
    ) -> LintConfig:
        """A copy with command-line options on top: they win over the file.

        ``exclude`` adds patterns (relative to the working folder) to the file's.
        """
        config = self
        if exclude:
            config = replace(
                config,
                exclude_layers=(
                    *config.exclude_layers,
                    (config.exclude_base, config.exclude),
                ),
                exclude=tuple(exclude),
                exclude_base=None,
            )
        if respect_gitignore is not None:
            config = replace(config, respect_gitignore=respect_gitignore)
        if select is not None or ignore:
            config = replace(
                config,
                layers=config.selections,
                select=tuple(select) if select is not None else None,
                ignore=tuple(ignore or ()),
                origin=origin,
            )
        if severity:
            config = replace(config, severity={**config.severity, **severity})
        if bottleneck_threshold is not None:
            check_threshold(bottleneck_threshold, origin)
            config = replace(config, bottleneck_threshold=bottleneck_threshold)
        if fail_on is not None:
            config = replace(config, fail_on=fail_on)
        if today is not None:
            config = replace(config, today=today)
        return config


def check_threshold(value: float, where: str) -> float:
    """A bottleneck threshold is a utilization above 0 and at most 1."""
    if not 0.0 < value <= 1.0:
        raise ConfigError(
            f"{where}: bottleneck-threshold must be a utilization in (0, 1], such as 0.85; "
            f"got {value!r}"
        )
    return value


# --------------------------------------------------------------------------
# reading files


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a configuration file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _section(path: Path, data: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, str]:
    """The lint table of a file (``None`` when it has no procflow section), and its name.

    ``pyproject.toml`` is read at ``[tool.procflow.lint]``, any other file at
    ``[lint]``, or at ``[tool.procflow.lint]`` when that is what it holds (a
    copy of a pyproject section passed with ``--config``).
    """
    tool = data.get("tool")
    procflow = tool.get("procflow") if isinstance(tool, Mapping) else None
    if path.name == "pyproject.toml" or ("lint" not in data and procflow is not None):
        name = "[tool.procflow.lint]"
        if procflow is None:
            return None, name
        if not isinstance(procflow, Mapping):
            raise ConfigError(f"{path}: [tool.procflow] must be a table")
        lint = procflow.get("lint", {})
    else:
        name = "[lint]"
        if "lint" not in data:
            return None, name
        lint = data["lint"]
    if not isinstance(lint, Mapping):
        raise ConfigError(f"{path}: {name} must be a table")
    return lint, name


def find_config_file(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The first ``procflow.toml`` or ``pyproject.toml`` with a procflow section, walking up."""
    folder = Path(start if start is not None else Path.cwd()).resolve()
    for candidate_folder in (folder, *folder.parents):
        for name in CONFIG_FILES:
            candidate = candidate_folder / name
            if not candidate.is_file():
                continue
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8-sig"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                # a broken procflow.toml is ours; an unrelated broken pyproject.toml is
                # not ours to judge, unless it names us: load_config reports either
                try:
                    text = candidate.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                if name == "procflow.toml" or "procflow" in text:
                    return candidate
                continue
            try:
                table, _name = _section(candidate, data)
            except ConfigError:
                return candidate  # a malformed section is ours: load_config says what is wrong
            if table is not None:
                return candidate
    return None


def load_config(path: str | os.PathLike[str]) -> LintConfig:
    """Read the lint configuration of one file (pyproject.toml or procflow.toml format).

    A file named ``pyproject.toml`` is read at ``[tool.procflow.lint]``; any
    other name at ``[lint]``. Raises :class:`ConfigError` naming the file and
    key for anything unknown or malformed.
    """
    file = Path(path)
    data = _read_toml(file)
    table, name = _section(file, data)
    if table is None:
        raise ConfigError(
            f"{file}: no procflow section: write the settings under {name}"
            + ("" if name == "[tool.procflow.lint]" else " (or [tool.procflow.lint])")
        )
    return parse_config(table, f"{file}: {name}", path=str(file))


def discover_config(start: str | os.PathLike[str] | None = None) -> LintConfig:
    """The configuration found by walking up from ``start`` (the current folder), or defaults."""
    found = find_config_file(start)
    return load_config(found) if found is not None else LintConfig()


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of rule codes, prefixes or names")
    return split_selectors(value)


def split_selectors(values: Sequence[str]) -> tuple[str, ...]:
    """``["PF1,PF2", " PF301 "]`` -> ``("PF1", "PF2", "PF301")``; codes upper-cased."""
    result: list[str] = []
    for value in values:
        for piece in value.split(","):
            piece = piece.strip()
            if not piece:
                continue
            result.append(piece.upper() if piece[:2].upper() == "PF" else piece)
    return tuple(result)


def parse_level(value: Any, where: str) -> Severity:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected one of error, warning, info; got {value!r}")
    try:
        return Severity.parse(value)
    except ValueError:
        raise ConfigError(f"{where}: expected one of error, warning, info; got {value!r}") from None


def parse_config(table: Mapping[str, Any], where: str, path: str | None = None) -> LintConfig:
    """Validate a lint table (already read from TOML) into a :class:`LintConfig`."""
    unknown = [key for key in table if key not in KEYS]
    if unknown:
        hint = did_you_mean(unknown[0], KEYS) or f"; known keys: {', '.join(KEYS)}"
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}{hint}")
    select = _strings(table["select"], f"{where} select") if "select" in table else None
    ignore = _strings(table.get("ignore", []), f"{where} ignore")
    severity: dict[str, Severity] = {}
    raw_severity = table.get("severity", {})
    if not isinstance(raw_severity, Mapping):
        raise ConfigError(f"{where} severity: expected a table of rule = level")
    for key, level in raw_severity.items():
        selector = split_selectors([key])
        if len(selector) != 1:
            raise ConfigError(f"{where} severity: {key!r} is not a rule code or name")
        severity[selector[0]] = parse_level(level, f"{where} severity.{key}")
    threshold = table.get("bottleneck-threshold", DEFAULT_BOTTLENECK_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ConfigError(f"{where} bottleneck-threshold: expected a number such as 0.85")
    check_threshold(float(threshold), f"{where} bottleneck-threshold")
    fail_on = parse_level(table.get("fail-on", "error"), f"{where} fail-on")
    exclude = table.get("exclude", [])
    if isinstance(exclude, str):
        exclude = [exclude]
    if not isinstance(exclude, list) or not all(isinstance(v, str) for v in exclude):
        raise ConfigError(
            f'{where} exclude: expected a list of gitignore-style patterns such as "archive/"'
        )
    gitignore = table.get("respect-gitignore", True)
    if not isinstance(gitignore, bool):
        raise ConfigError(f"{where} respect-gitignore: expected true or false")
    return LintConfig(
        exclude=tuple(exclude),
        exclude_base=str(Path(path).resolve().parent) if path else None,
        respect_gitignore=gitignore,
        select=select,
        ignore=ignore,
        severity=severity,
        bottleneck_threshold=float(threshold),
        fail_on=fail_on,
        path=path,
        origin=where,
    )
