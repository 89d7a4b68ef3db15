"""The reference documentation in docs/ against the code it describes.

Fails when a registered lint rule has no section in docs/rules.md (or the
section gives another default severity), when a command or an option of the
command line is missing from docs/commands.md, when a docs page links to a
file or an anchor that does not exist, or when an example of docs/api.md
does not run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
import pytest

from helpers import ROOT
from procflow.cli import cli
from procflow.rules import all_rules

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))

#: Pages the index links to that are written in other branches at the same time;
#: a link to one of them may dangle until it lands (then it is checked like any other).
PENDING = frozenset(
    {
        "architecture.md",
        "simulation-engine.md",
        "analysis-method.md",
        "metrics.md",
        "run-length-and-verdicts.md",
        "security.md",
        "ci-and-editors.md",
    }
)

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)


def prose(text: str) -> str:
    """Markdown without its fenced code blocks (a '# comment' in YAML is no heading)."""
    return _FENCE.sub("", text)


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor of a Markdown file, with GitHub's -1, -2 suffixes for repeats."""
    seen: dict[str, int] = {}
    found = set()
    for heading in _HEADING.findall(prose(path.read_text(encoding="utf-8"))):
        base = anchor(heading)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return found


def section(text: str, title: str, level: str = "##") -> str:
    """The text under the heading ``title`` down to the next heading of the same level."""
    match = re.search(rf"^{level} {re.escape(title)}\n(.*?)(?=^{level} |\Z)", text, re.M | re.S)
    assert match, f"no '{level} {title}' section"
    return match.group(1)


# --------------------------------------------------------------------------
# rules


def test_the_docs_exist() -> None:
    names = {page.name for page in PAGES}
    for page in ("index.md", "file-format.md", "rules.md", "commands.md", "json.md"):
        assert page in names
    for page in ("exit-codes.md", "api.md", "event-logs.md"):
        assert page in names


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_every_rule_has_a_section(rule: object) -> None:
    from procflow.rules.base import Rule

    assert isinstance(rule, Rule)
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    body = section(text, f"{rule.code} {rule.name}", "###")
    assert f"Default severity: **{rule.severity}**" in body
    assert rule.summary in body
    assert f"| [{rule.code}](#{anchor(f'{rule.code} {rule.name}')}) | {rule.name} |" in text


def test_no_section_for_a_rule_that_does_not_exist() -> None:
    text = prose((DOCS / "rules.md").read_text(encoding="utf-8"))
    documented = set(re.findall(r"^### (PF\d{3}) ", text, re.M))
    assert documented == {r.code for r in all_rules()}


# --------------------------------------------------------------------------
# commands


def commands() -> list[click.Command]:
    with click.Context(cli) as ctx:
        return [cli.get_command(ctx, name) for name in cli.list_commands(ctx)]  # type: ignore[misc]


@pytest.mark.parametrize("command", commands(), ids=lambda c: c.name)
def test_every_option_of_every_command_is_documented(command: click.Command) -> None:
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    assert command.name is not None
    body = section(text, command.name)
    assert f"procflow {command.name}" in body  # the usage line
    spans = re.findall(r"`([^`\n]+)`", prose(body))
    written = set(re.split(r"[\s/,=]+", " ".join(spans)))
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden or "--help" in param.opts:
            continue
        for flag in [*param.opts, *param.secondary_opts]:
            assert flag in written, f"{command.name}: option {flag} is not in docs/commands.md"
    assert "Exit" in body or command.name in ("rules",)


def test_the_global_options_are_documented() -> None:
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    for param in cli.params:
        for flag in getattr(param, "opts", []):
            assert f"`{flag}`" in text, flag


def test_the_option_check_catches_an_undocumented_option() -> None:
    """The check above is real: an option that no page mentions fails it."""
    fake = click.Command("lint", params=[click.Option(["--no-such-option"])])
    with pytest.raises(AssertionError, match="--no-such-option"):
        test_every_option_of_every_command_is_documented(fake)


# --------------------------------------------------------------------------
# links


def links(page: Path) -> list[str]:
    return [
        target
        for target in _LINK.findall(prose(page.read_text(encoding="utf-8")))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


def broken_links(page: Path, pending: frozenset[str] = PENDING) -> list[str]:
    """The links of ``page`` to a file or an anchor that does not exist, with the reason."""
    broken = []
    for target in links(page):
        file_part, _, fragment = target.partition("#")
        path = (page.parent / file_part).resolve() if file_part else page
        if file_part and not path.exists():
            if not (path.parent == DOCS and path.name in pending):
                broken.append(f"{target}: no such file")
            continue
        if file_part and not path.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
        elif fragment and path.suffix == ".md" and fragment not in anchors(path):
            broken.append(f"{target}: no heading with this anchor")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_point_at_files_and_anchors_that_exist(page: Path) -> None:
    assert broken_links(page) == []


def test_the_link_check_catches_broken_links(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n[ok](#title) [bad anchor](#nothing) [gone](missing.md)\n"
        "```\n[in code](ignored.md)\n```\n[web](https://example.org/x)\n",
        encoding="utf-8",
    )
    assert broken_links(page) == [
        "#nothing: no heading with this anchor",
        "missing.md: no such file",
    ]


def test_the_index_links_every_page() -> None:
    linked = {t.partition("#")[0] for t in links(DOCS / "index.md")}
    for page in PAGES:
        if page.name != "index.md":
            assert page.name in linked, page.name
    assert linked >= PENDING


def test_anchors_follow_github() -> None:
    assert anchor("PF105 no-way-out") == "pf105-no-way-out"
    assert anchor("`check_log`, `LogReport`") == "check_log-logreport"
    assert anchor("Reading the file") == "reading-the-file"


# --------------------------------------------------------------------------
# examples


def api_examples() -> list[str]:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)


@pytest.mark.parametrize("number", range(len(api_examples())))
def test_api_examples_run(number: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples name files from the repository root
    code = compile(api_examples()[number], f"docs/api.md example {number + 1}", "exec")
    exec(code, {"__name__": "docs_example"})


def test_every_public_name_is_in_the_api_page() -> None:
    import procflow

    text = (DOCS / "api.md").read_text(encoding="utf-8")
    headings = " ".join(_HEADING.findall(prose(text)))
    errors = section(text, "Errors")  # the exception tree, drawn once
    for name in procflow.__all__:
        documented = f"`{name}`" in headings or re.search(rf"\b{name}\b", errors)
        assert documented, f"procflow.{name} is not documented in docs/api.md"


def test_the_generated_rule_page_is_current() -> None:
    """docs/rules.md is what scripts/docs_rules.py writes today (run it after changing a rule)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_rules", ROOT / "scripts" / "docs_rules.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    here = os.getcwd()
    try:
        rendered = module.render()
    finally:
        os.chdir(here)
    assert (DOCS / "rules.md").read_text(encoding="utf-8") == rendered, (
        "docs/rules.md is out of date: run .venv/bin/python scripts/docs_rules.py"
    )
