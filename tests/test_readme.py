"""Every console example in the README runs and prints what the README says it prints.

A ```` ```console ```` block is a transcript: lines starting with ``$ `` are
commands (a trailing ``\\`` continues one on the next line), and the lines up
to the next command are what it prints, standard output and standard error
together, as on a terminal. Blocks without any ``$`` line (the ``make``
commands of *Set up*, lists of commands) are not transcripts.

Two markers keep the examples honest where a verbatim transcript cannot be:

* a line that is only ``...`` stands for any number of lines the README
  leaves out (a long table cut short);
* an HTML comment ``<!-- readme-test: skip REASON -->`` right before a block
  leaves the block out, for output that cannot be reproduced, such as a
  benchmark's timings; the reason is shown in the README source.

The commands run with the repository root as working folder, except that
files they write land in a scratch folder (it holds links to the repository's
folders), in README order within a block. ``procflow`` is this checkout's.

Run ``python tests/test_readme.py`` to print, for each example, the command's
real output: what to paste when a deliberate change alters one.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\b(.*?)-->", re.DOTALL)
ELISION = "..."


@dataclass
class Command:
    line: int
    argv: list[str]
    expected: list[str] = field(default_factory=list)


@dataclass
class Example:
    line: int
    commands: list[Command]
    skipped: str | None = None


def examples(text: str) -> list[Example]:
    """The console transcripts of ``text``, with the line each starts on."""
    found: list[Example] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```console":
            index += 1
            continue
        start = index
        end = next(i for i in range(start + 1, len(lines)) if lines[i].strip() == "```")
        before = "\n".join(lines[max(0, start - 3) : start])
        skip = SKIP.search(before)
        commands = _commands(lines[start + 1 : end], start + 2)
        if commands:
            reason = skip.group(1).strip(" ,:;") if skip else None
            found.append(Example(start + 1, commands, reason))
        index = end + 1
    return found


def _commands(body: list[str], first_line: int) -> list[Command]:
    commands: list[Command] = []
    index = 0
    while index < len(body):
        line = body[index]
        if line.startswith("$ "):
            text = line[2:]
            start = index
            while text.endswith("\\") and index + 1 < len(body):
                index += 1
                text = text[:-1] + " " + body[index].strip()
            commands.append(Command(first_line + start, shlex.split(text)))
        elif commands:
            commands[-1].expected.append(line)
        index += 1
    return commands


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected`` with each ``...`` line standing for any lines."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line.strip() == ELISION else re.escape(line.rstrip()) + r"\n"
        for line in expected
    )
    return re.fullmatch(pattern, "".join(line.rstrip() + "\n" for line in actual)) is not None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder that sees the repository's folders but keeps what commands write."""
    folder = tmp_path_factory.mktemp("readme")
    for name in ("processes", "changes", "examples", "diagrams", "benchmarks", "tests"):
        (folder / name).symlink_to(ROOT / name, target_is_directory=True)
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    return folder


def run(command: Command, cwd: Path) -> list[str]:
    """Run one README command like a user at a terminal would see it, but piped."""
    argv = list(command.argv)
    if argv[0] == "procflow":
        argv = [sys.executable, "-m", "procflow", *argv[1:]]
    elif argv[0] == "python":
        argv = [sys.executable, *argv[1:]]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["COLUMNS"] = "200"
    result = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )
    return result.stdout.splitlines()


ALL = examples(README.read_text(encoding="utf-8"))


def test_the_readme_has_transcripts_and_parses_them() -> None:
    assert len(ALL) >= 6
    assert all(command.argv for example in ALL for command in example.commands)
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "b"], ["a", "b"])
    assert not matches(["a", "...", "d"], ["a", "b", "c"])
    assert not matches(["a", "b"], ["a", "b", "c"])
    assert not matches(["a(.*)"], ["ab"])  # lines are literal


@pytest.mark.parametrize("example", ALL, ids=lambda e: f"README.md:{e.line}")
def test_readme_example(example: Example, scratch: Path) -> None:
    if example.skipped is not None:
        pytest.skip(f"README.md:{example.line}: {example.skipped}")
    for command in example.commands:
        actual = run(command, scratch)
        assert matches(command.expected, actual), (
            f"README.md:{command.line}: `{shlex.join(command.argv)}` printed:\n" + "\n".join(actual)
        )


REPOSITORY = "https://github.com/your-org/procflow"
LINK = re.compile(r"\]\(([^)\s]+)\)")
OURS = re.compile(
    r"^(?:https://github\.com/your-org/procflow/(?:blob|tree)/main/|"
    r"https://raw\.githubusercontent\.com/your-org/procflow/main/)([^#?]*)"
)


@pytest.mark.parametrize("page", ["README.md", "docs/ci-and-editors.md"])
def test_links_work_on_the_package_index_and_point_at_files_that_exist(page: str) -> None:
    """PyPI shows the README without the repository: links must be absolute, and real."""
    text = (ROOT / page).read_text(encoding="utf-8")
    targets = LINK.findall(text)
    assert targets
    for target in targets:
        assert target.startswith(("https://", "http://", "#")), f"{page}: relative link {target}"
        ours = OURS.match(target)
        if ours:
            assert (ROOT / ours.group(1)).exists(), f"{page}: {target} names a missing file"


def test_the_pre_commit_rev_exists() -> None:
    """``rev:`` in the README's pre-commit snippet names a ref the repository has."""
    text = README.read_text(encoding="utf-8")
    revs = re.findall(r"^\s+rev:\s*(\S+)", text, re.MULTILINE)
    assert revs == ["main"]
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    branch = subprocess.run(
        [git, "rev-parse", "--verify", "--quiet", "main"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert branch.returncode == 0, "the README's pre-commit snippet names branch main"
    tags = subprocess.run(
        [git, "tag", "--list"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    assert not any(tag.startswith("v0.1") for tag in tags) or revs != ["main"], (
        "a release is tagged now: pin it in the README's pre-commit snippet"
    )


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("processes", "changes", "examples", "diagrams", "benchmarks", "tests"):
            (folder / name).symlink_to(ROOT / name, target_is_directory=True)
        for example in ALL:
            if example.skipped is not None:
                continue
            for command in example.commands:
                print(f"README.md:{command.line}\n$ {shlex.join(command.argv)}")
                print("\n".join(run(command, folder)) + "\n")


def test_the_vs_code_modeline_resolves_from_the_process_folder() -> None:
    """The README's ``$schema`` path, read from ``processes/*.yaml``, is the file it writes."""
    text = README.read_text(encoding="utf-8")
    written = re.findall(r"procflow schema -o (\S+)", text)
    modelines = re.findall(r"# yaml-language-server: \$schema=(\S+)", text)
    assert written == ["process.schema.json"]
    assert modelines
    for target in modelines:
        assert os.path.normpath(os.path.join("processes", target)) == written[0]
    settings = re.search(r'"yaml\.schemas": \{"\./([^"]+)": \[([^\]]+)\]', text)
    assert settings is not None
    assert settings.group(1) == written[0]
    assert '"processes/*.yaml"' in settings.group(2)
