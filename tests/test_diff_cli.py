"""``procflow diff``: formats, escaping of values from the files, exit codes, ``--git``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from helpers import CUSTOMER_SERVICE_247, ROOT, run, write

# the example around the clock: positions and analytic figures of the file as it was
TEXT = CUSTOMER_SERVICE_247.read_text(encoding="utf-8")
HOSTILE = "a | b <script>alert(1)</script> @octocat *bold* [x](http://e.vil) `tick` %0A 100%"


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """OLD and NEW: tier2 down to 3, a hostile description, a new step."""
    old = write(tmp_path, "old.yaml", TEXT)
    new_text = TEXT.replace("capacity: 4", "capacity: 3").replace(
        "description: Inbound tickets from intake to a confirmed resolution.",
        f"description: {json.dumps(HOSTILE + chr(10) + '[bold red]markup[/]')}",
    )
    return old, write(tmp_path, "new.yaml", new_text)


def test_text_report_prints_values_literally(
    capsys: pytest.CaptureFixture[str], pair: tuple[Path, Path]
) -> None:
    code, out, err = run(capsys, "diff", *pair)
    assert (code, err) == (0, "")
    assert "2 structural changes (0 added, 0 removed, 2 changed)" in out
    assert "capacity of owner 'tier2'" in out
    assert "[bold red]markup[/]" in out  # rich markup in a value is shown, not applied
    assert "utilization of tier2" in out
    assert "58.8%" in out
    assert "78.4%" in out


def test_exit_code_option_says_whether_the_versions_differ(
    capsys: pytest.CaptureFixture[str], pair: tuple[Path, Path]
) -> None:
    old, new = pair
    assert run(capsys, "diff", old, new)[0] == 0
    assert run(capsys, "diff", old, new, "--exit-code")[0] == 1
    assert run(capsys, "diff", old, old, "--exit-code")[0] == 0


def test_json_document(capsys: pytest.CaptureFixture[str], pair: tuple[Path, Path]) -> None:
    code, out, _ = run(capsys, "diff", *pair, "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert document["version"] == 1
    assert document["differs"] is True
    assert document["summary"] == {"added": 0, "removed": 0, "changed": 2}
    description, capacity = document["changes"]
    assert capacity == {
        "kind": "changed",
        "path": ["owners", "tier2", "capacity"],
        "subject": "owner 'tier2'",
        "key": "capacity",
        "old": "4",
        "new": "3",
        "position": {"file": str(pair[1]), "line": 13, "column": 15},
        "new_position": {"file": str(pair[1]), "line": 13, "column": 15},
    }
    assert description["new"] == HOSTILE + "\n[bold red]markup[/]"
    tier2 = next(k for k in document["kpis"] if k["kpi"] == "utilization:tier2")
    assert tier2["unit"] == "fraction"
    assert tier2["difference"] == pytest.approx(tier2["new"] - tier2["old"])
    assert document["simulation"] is None


def tables(markdown: str) -> list[list[list[str]]]:
    """Every GFM table as rows of cell texts (header row first), parsed by markdown-it-py."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    found: list[list[list[str]]] = []
    row: list[str] | None = None
    for token in tokens:
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type == "tr_close" and row is not None:
            found[-1].append(row)
            row = None
    return found


def test_markdown_renders_as_tables_with_values_literal(
    capsys: pytest.CaptureFixture[str], pair: tuple[Path, Path]
) -> None:
    code, out, _ = run(capsys, "diff", *pair, "--format", "markdown")
    assert code == 0
    assert out.splitlines()[2].startswith(
        "**2 structural changes** (0 added, 0 removed, 2 changed)"
    )
    changes, kpis = tables(out)
    assert changes[0] == ["", "what", "old", "new", "where"]
    assert all(len(row) == 5 for row in changes)  # the pipe in the value did not split a cell
    assert len(changes) == 3
    assert changes[2][1:4] == ["capacity of `owner 'tier2'`", "`4`", "`3`"]
    assert kpis[0] == ["KPI", "old", "new", "difference"]
    assert ["**utilization of tier2**", "58.8%", "78.4%", "+19.6 pp"] in kpis
    html = MarkdownIt("commonmark").enable("table").render(out)
    assert "<script>" not in html  # in a code span: shown, not run
    assert "<strong>bold</strong>" not in html
    assert 'href="http://e.vil"' not in html
    assert "&lt;script&gt;" in html
    assert "a | b" in html  # the escaped pipe renders as a pipe


def test_github_annotations_are_escaped(
    capsys: pytest.CaptureFixture[str], pair: tuple[Path, Path]
) -> None:
    code, out, _ = run(capsys, "diff", *pair, "--format", "github")
    lines = out.splitlines()
    assert code == 0
    assert len(lines) == 3  # two changes and the summary: a newline in a value is %0A
    file = str(pair[1]).replace(":", "%3A").replace(",", "%2C")
    assert lines[1] == (
        f"::notice file={file},line=13,col=15,title=procflow diff%3A changed owner 'tier2'"
        "::changed capacity of owner 'tier2': 4 -> 3"
    )
    assert lines[0].endswith("`tick` %250A 100%25%0A[bold red]markup[/]")
    assert lines[2].startswith("::notice title=procflow diff::procflow diff: 2 structural changes")


def test_simulate_adds_a_paired_comparison(
    capsys: pytest.CaptureFixture[str], pair: tuple[Path, Path]
) -> None:
    args = ("--simulate", "--cases", "800", "--runs", "3", "--seed", "2", "--jobs", "1")
    code, out, _ = run(capsys, "diff", *pair, *args, "--format", "json")
    simulation = json.loads(out)["simulation"]
    assert code == 0
    assert (simulation["cases"], simulation["runs"], simulation["seed"]) == (800, 3, 2)
    tier2 = next(e for e in simulation["effects"] if e["kpi"] == "utilization:tier2")
    assert tier2["difference"] > 0
    assert tier2["significant"] is True
    code, out, _ = run(capsys, "diff", *pair, *args, "--format", "markdown")
    assert len(tables(out)) == 3
    code, out, _ = run(capsys, "diff", *pair, *args)
    assert "Simulated on common random numbers (3 runs of 800 cases, seed 2)" in out


def test_a_version_without_arrivals_still_shows_its_structure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old = write(tmp_path, "old.yaml", TEXT)
    kept = [x for x in TEXT.splitlines() if not x.startswith(("arrivals:", "  rate: 8/h"))]
    new = write(tmp_path, "new.yaml", "\n".join(kept) + "\n")
    code, out, _ = run(capsys, "diff", old, new, "--simulate", "--runs", "2", "--cases", "200")
    assert code == 0
    assert " -  arrivals  {rate: 8/h}  -" in out
    assert "the new version cannot be analyzed" in out
    assert "the simulation could not run" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give OLD and NEW"),
        (("a.yaml",), "give OLD and NEW"),
        (("--git", "HEAD"), "--git REV PATH takes one PATH"),
        (("--git", "HEAD", "a.yaml", "b.yaml"), "--git REV PATH takes one PATH"),
        (("a.yaml", "b.yaml", "--format", "html"), "'html' is not one of"),
    ],
)
def test_bad_usage_exits_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, "diff", *args)
    assert code == 2
    assert message in err


def test_an_invalid_file_exits_2_with_its_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = write(tmp_path, "bad.yaml", TEXT.replace("capacity: 4", "capacity: four"))
    code, out, err = run(capsys, "diff", CUSTOMER_SERVICE_247, bad)
    assert (code, out) == (2, "")
    assert f"{bad}:13:15" in err
    code, _, err = run(capsys, "diff", CUSTOMER_SERVICE_247, tmp_path / "missing.yaml")
    assert code == 2
    assert "missing.yaml" in err


# --------------------------------------------------------------------------
# --git

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with two commits of a process (tier2 4 -> 3) and a branch."""
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    git(folder, "checkout", "-q", "-b", "main")
    write(folder, "flows/cs.yaml", TEXT)
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "one")
    write(folder, "flows/cs.yaml", TEXT.replace("capacity: 4", "capacity: 3"))
    git(folder, "commit", "-q", "-am", "two")
    return folder


@needs_git
def test_git_compares_a_revision_with_the_working_tree(
    capsys: pytest.CaptureFixture[str], repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    write(repo, "flows/cs.yaml", TEXT.replace("capacity: 4", "capacity: 2"))
    code, out, _ = run(capsys, "diff", "--git", "HEAD", "flows/cs.yaml", "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert document["old"]["file"] == "HEAD:flows/cs.yaml"
    assert document["new"]["file"] == "flows/cs.yaml"
    assert [(c["old"], c["new"]) for c in document["changes"]] == [("3", "2")]
    code, out, _ = run(capsys, "diff", "--git", "HEAD~1", "flows/cs.yaml", "--format", "json")
    assert [(c["old"], c["new"]) for c in json.loads(out)["changes"]] == [("4", "2")]


@needs_git
def test_git_compares_two_revisions_and_a_merge_base(
    capsys: pytest.CaptureFixture[str], repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / "flows")  # paths are read relative to where procflow runs
    code, out, _ = run(capsys, "diff", "--git", "HEAD~1..HEAD", "cs.yaml", "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert [(c["old"], c["new"]) for c in document["changes"]] == [("4", "3")]
    assert document["new"]["file"] == "HEAD:cs.yaml"
    assert document["changes"][0]["position"]["file"] == "HEAD:cs.yaml"
    # a branch made at 'one', changed; main...branch compares with the merge base
    git(repo, "checkout", "-q", "-b", "feature", "HEAD~1")
    write(repo, "flows/cs.yaml", TEXT.replace("rate: 8/h", "rate: 9/h"))
    git(repo, "commit", "-q", "-am", "faster arrivals")
    code, out, _ = run(capsys, "diff", "--git", "main...feature", "cs.yaml", "--format", "json")
    assert [c["what"] if "what" in c else c["subject"] for c in json.loads(out)["changes"]] == [
        "arrivals"
    ]
    assert run(capsys, "diff", "--git", "main..feature", "cs.yaml", "--exit-code")[0] == 1


@needs_git
def test_git_reads_the_roster_at_the_revision(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    owners = "owners:\n  clerk: {capacity: 2}\n"
    process = (
        "process: tiny\nroster: shared/roster.yaml\narrivals: {rate: 2/h}\nstart: check\n"
        "steps:\n  check: {owner: clerk, duration: 5m, next: done}\n  done: {end: true}\n"
    )
    write(repo, "shared/roster.yaml", owners)
    write(repo, "p.yaml", process)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    write(repo, "shared/roster.yaml", owners.replace("2", "3"))
    monkeypatch.chdir(repo)
    code, out, _ = run(capsys, "diff", "--git", "HEAD", "p.yaml", "--format", "json")
    (change,) = json.loads(out)["changes"]
    assert code == 0
    assert (change["subject"], change["old"], change["new"]) == ("owner 'clerk'", "2", "3")
    assert change["position"]["file"] == "shared/roster.yaml"


@needs_git
def test_git_errors_exit_2_and_say_what_is_missing(
    capsys: pytest.CaptureFixture[str], repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    code, _, err = run(capsys, "diff", "--git", "no-such-rev", "flows/cs.yaml")
    assert (code, err.strip()) == (2, "error: unknown git revision 'no-such-rev'")
    write(repo, "flows/new.yaml", TEXT)
    code, _, err = run(capsys, "diff", "--git", "HEAD", "flows/new.yaml")
    assert (code, err.strip()) == (2, "error: flows/new.yaml does not exist at revision 'HEAD'")
    outside = write(tmp_path, "alone/cs.yaml", TEXT)
    code, _, err = run(capsys, "diff", "--git", "HEAD", outside)
    assert code == 2
    assert "is not in a git repository" in err


@needs_git
def test_git_missing_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setenv("PATH", str(ROOT / "no-such-folder"))
    code, _, err = run(capsys, "diff", "--git", "HEAD", "flows/cs.yaml")
    assert code == 2
    assert "--git needs the git command" in err


def test_simulate_honours_the_scheduler_option(
    capsys: pytest.CaptureFixture[str], pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    from procflow.sim import runner

    monkeypatch.setattr(runner, "DASK_TIMEOUT", "1s")
    args = ("--simulate", "--cases", "200", "--runs", "2", "--scheduler", "tcp://127.0.0.1:9")
    code, out, err = run(capsys, "diff", *pair, *args, "--format", "json")
    assert code == 2  # the options are wrong, not a version: no half-made PR comment
    assert out == ""
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err


def test_markdown_and_github_state_the_same_expected_cycle_time(
    capsys: pytest.CaptureFixture[str], pair: tuple[Path, Path]
) -> None:
    """One headline, two spellings: ``→`` and capitalised in markdown, ``->`` in the notice."""
    import procflow
    from procflow.analysis import analyze
    from procflow.diffing import diff
    from procflow.diffing.shown import expected_cycle_time
    from procflow.units import format_duration

    old, new = (procflow.load(path) for path in pair)
    before, after = (analyze(p).cycle_time.expected for p in (old, new))
    assert before is not None
    assert after is not None
    headline = expected_cycle_time(diff(old, new), "->")
    change = format_duration(after - before, 3)
    assert headline == (
        f"expected cycle time {format_duration(before, 3)} -> {format_duration(after, 3)} "
        f"(+{change})"
    )
    markdown = run(capsys, "diff", *pair, "--format", "markdown")[1]
    assert f" E{headline[1:].replace('->', '→')}." in markdown
    github = run(capsys, "diff", *pair, "--format", "github")[1]
    assert github.splitlines()[-1].endswith(f"; {headline}")
    # a change that leaves the expected cycle time alone has no headline
    assert expected_cycle_time(diff(old, old), "->") is None
    assert (
        "xpected cycle time" not in run(capsys, "diff", pair[0], pair[0], "--format", "github")[1]
    )
