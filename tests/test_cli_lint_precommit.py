"""The pre-commit hook definition: an entry that exists and a file filter that fits."""

from __future__ import annotations

import re
from pathlib import Path

import click
import yaml

from procflow.cli import cli

HOOKS = Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml"


def test_the_hook() -> None:
    [hook] = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert hook["id"] == "procflow-lint"
    assert hook["entry"] == "procflow lint"
    assert hook["language"] == "python"
    assert "lint" in cli.list_commands(click.Context(cli))
    files = re.compile(hook["files"])
    for path in ("processes/cs.yaml", "ops/processes/onboarding.yml", "processes/sub/x.yaml"):
        assert files.search(path), path
    for path in (".github/workflows/ci.yml", "docker-compose.yaml", "processes.yaml", "a.txt"):
        assert not files.search(path), path
