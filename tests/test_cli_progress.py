"""The progress bar helper every simulating command uses (procflow.cli.progress)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

import procflow.cli.progress as module
from procflow.cli.console import set_quiet
from procflow.cli.progress import progress
from procflow.cli.simulate import ProgressBar


@dataclass
class _Made:
    """What the helper asked for, and how often a bar was closed."""

    asked: list[tuple[str, str]] = field(default_factory=list)
    closed: int = 0


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> _Made:
    record = _Made()

    class Recorded(ProgressBar):
        def close(self) -> None:
            record.closed += 1
            super().close()

    def make(output_format: str, label: str) -> ProgressBar:
        record.asked.append((output_format, label))
        return Recorded(False, label)

    monkeypatch.setattr(module, "progress_bar", make)
    return record


def test_the_bar_is_made_for_the_format_and_closed_after_the_work(made: _Made) -> None:
    with progress("json", "levers of desk") as bar:
        assert bar.label == "levers of desk"
        bar(10, 100)
        assert made.closed == 0
    assert made.asked == [("json", "levers of desk")]
    assert made.closed == 1


def test_the_bar_is_closed_when_the_work_fails(made: _Made) -> None:
    with pytest.raises(KeyboardInterrupt), progress("text", "optimizing desk"):
        raise KeyboardInterrupt
    assert made.closed == 1


def test_the_bar_is_enabled_only_for_text_on_a_terminal_without_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    with progress("text", "x") as bar:
        assert bar.enabled
    with progress("json", "x") as bar:
        assert not bar.enabled
    set_quiet(True)
    try:
        with progress("text", "x") as bar:
            assert not bar.enabled
    finally:
        set_quiet(False)
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    with progress("text", "x") as bar:
        assert not bar.enabled
