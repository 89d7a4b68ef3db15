"""Packaging metadata: the licence ships, the URLs agree with the README, dev tools stay out.

The archives themselves are checked by building them (``python -m build``,
then listing the wheel and sdist): this test pins what pyproject.toml must
say for that to come out right, without a build in every test run.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_licence_file_is_mit_and_declared(pyproject: dict[str, Any]) -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "procflow developers" in text
    project = pyproject["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert "/LICENSE" in pyproject["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def test_project_urls_use_the_readme_placeholder(pyproject: dict[str, Any]) -> None:
    urls = pyproject["project"]["urls"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    repos = set(re.findall(r"https://github\.com/[\w.-]+/procflow\b", readme))
    assert repos == {urls["Repository"]}, "README and project.urls name different repositories"
    assert all(url.startswith(urls["Repository"]) for url in urls.values())


def test_dev_tools_are_dependency_groups_not_extras(pyproject: dict[str, Any]) -> None:
    extras = pyproject["project"]["optional-dependencies"]
    assert set(extras) == {"dask", "report"}  # user features: --scheduler, procflow report
    groups = pyproject["dependency-groups"]
    dev = " ".join(groups["dev"])
    for tool in ("pytest", "ruff", "mypy", "jsonschema", "hypothesis"):
        assert tool in dev
    assert "simpy" in " ".join(groups["bench"])
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--group dev" in makefile
    assert "--group bench" in makefile
    assert "'pip>=25.1'" in makefile  # --group needs it


def test_classifiers_are_consistent(pyproject: dict[str, Any]) -> None:
    project = pyproject["project"]
    classifiers = project["classifiers"]
    assert "Typing :: Typed" in classifiers
    assert (ROOT / "src" / "procflow" / "py.typed").exists()
    minimum = project["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {minimum}" in classifiers
    assert not any(c.startswith("License ::") for c in classifiers)  # PEP 639: the expression
