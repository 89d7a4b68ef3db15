"""Hostile and odd files: every one is a positioned finding, with bounded work, never a traceback.

"Bounded" is counted, not timed: each hostile file is refused with fewer Python
calls than the input has nodes, levels or characters (tests/complexity.py);
``benchmarks/robustness_bench.py`` times the same files in seconds.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from complexity import counting_calls
from helpers import CLEAN, write
from procflow._lint import lint_file, lint_paths
from procflow.cli import main
from procflow.errors import ProcessError
from procflow.loader import MAX_BYTES, MAX_DEPTH, load, load_text, parse_yaml, read_text


@contextlib.contextmanager
def bounded(calls: int) -> Iterator[None]:
    """The block makes fewer than ``calls`` Python calls (work, not seconds)."""
    with counting_calls() as counted:
        yield
    assert counted.count < calls, f"made {counted.count:,} calls"


def lint_cli(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["lint", "--isolated", str(path)])
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text
    return code, text


def only_finding(path: Path) -> tuple[str, int, int, str]:
    findings = lint_file(path)
    assert findings, "expected a finding"
    first = findings[0]
    assert first.file == str(path)
    return first.code, first.line, first.column, first.message


def billion_laughs(levels: int = 10) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        name, previous = chr(97 + level), chr(96 + level)
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    path = write(tmp_path, "hostile.yaml", billion_laughs())
    with bounded(10_000):  # expanded, the aliases make 10**9 nodes
        code, line, _column, message = only_finding(path)
    assert code == "PF001"
    assert "billion laughs" in message
    assert line > 1
    assert lint_cli(path)[0] == 1


def test_shared_aliases_below_the_limit_are_fine() -> None:
    text = CLEAN.replace(
        "  clerk: {capacity: 2}\n", "  clerk: &pool {capacity: 2}\n  twin: *pool\n"
    )
    process = load_text(text.replace("start: check", "owner: twin\nstart: check"))
    assert process.owners["twin"].capacity == 2


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(ProcessError, match=r"recursive"):
        load_text("process: &a [*a]\n")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "a: " + "{a: " * 100_000 + "1" + "}" * 100_000,
        "- " * 100_000 + "x",
    ],
    ids=["flow-lists", "flow-maps", "block-lists"],
)
def test_deep_nesting_is_refused(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "hostile.yaml", text)
    with bounded(20_000):  # 100,000 levels: refused long before it walks them
        code, line, _column, message = only_finding(path)
    assert code == "PF001"
    assert "nesting" in message or "depth" in message
    assert line >= 1


def test_nesting_beyond_the_process_limit_is_refused() -> None:
    deep = (
        "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * (MAX_DEPTH + 5) + "v"
    )
    with pytest.raises(ProcessError, match=f"deeper than {MAX_DEPTH}") as caught:
        load_text(deep, "deep.yaml")
    assert caught.value.problems[0].position.line == MAX_DEPTH + 1


def test_a_20_mb_file_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.write(b"process: big\nsteps:\n")
        chunk = b"  # padding padding padding padding padding padding padding padding\n" * 1000
        while handle.tell() < 20 * 1024 * 1024:
            handle.write(chunk)
    assert path.stat().st_size > MAX_BYTES
    with bounded(10_000):  # refused from its size: 300,000 lines never parsed
        code, line, column, message = only_finding(path)
    assert (code, line, column) == ("PF001", 1, 1)
    assert "MB" in message
    code, output = lint_cli(path)
    assert code == 1
    assert "big.yaml:1:1: PF001" in output


def test_a_file_larger_than_stat_said_is_read_to_the_limit_and_no_further() -> None:
    """A file that grew since ``stat``, or a pipe or ``/proc`` file that ``stat`` calls
    empty, is read on past the size ``stat`` gave -- but never past the limit."""
    from procflow.loader import _read_within

    body = b"process: p\n" * 50
    assert _read_within(io.BytesIO(body), len(body)) == body  # the size stat gave
    assert _read_within(io.BytesIO(body), 10) == body  # grew since stat
    assert _read_within(io.BytesIO(body), 0) == body  # a pipe: stat says 0
    endless = io.BytesIO(b"x" * (MAX_BYTES + 4096))
    assert len(_read_within(endless, 0)) == MAX_BYTES + 1  # one more: "too big"


def test_a_named_pipe_is_read_whole(tmp_path: Path) -> None:
    """``stat`` gives a pipe's size as 0: the loader reads on until the writer closes it."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    fifo = tmp_path / "piped.yaml"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(CLEAN.encode(),))
    writer.start()
    try:
        assert read_text(fifo) == CLEAN
    finally:
        writer.join(timeout=10)


def test_a_binary_file(tmp_path: Path) -> None:
    path = write(tmp_path, "hostile.yaml", bytes(range(256)) * 4)
    code, line, column, message = only_finding(path)
    assert (code, line, column) == ("PF001", 1, 1)
    assert "binary" in message


def test_a_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    path = write(tmp_path, "hostile.yaml", CLEAN.encode("utf-16"))
    code, _line, _column, message = only_finding(path)
    assert code == "PF001"
    assert "UTF-16" in message
    path = write(tmp_path, "nobom.yaml", CLEAN.encode("utf-16-le"))
    assert only_finding(path)[0] == "PF001"


def test_invalid_utf8_names_line_and_column(tmp_path: Path) -> None:
    path = write(
        tmp_path, "hostile.yaml", b"process: x\nsteps:\n  a:\n    title: caf\xe9 au lait\n"
    )
    assert only_finding(path) == (
        "PF001",
        4,
        15,
        "not UTF-8 text: byte 0xe9 cannot be decoded (save the file as UTF-8)",
    )


def test_a_utf8_bom_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "hostile.yaml", b"\xef\xbb\xbf" + CLEAN.encode("utf-8"))
    assert lint_file(path) == []


def test_control_characters_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "hostile.yaml", "process: tiny\ntitle: bell \x07 here\n")
    code, line, column, _message = only_finding(path)
    assert (code, line, column) == ("PF001", 2, 13)


@pytest.mark.parametrize(
    "text",
    [
        '!!python/object/apply:os.system ["touch {marker}"]\n',
        'process: !!python/object/apply:os.system ["touch {marker}"]\n',
        "process: !!python/name:os.system\n",
        "process: !!binary aGVsbG8=\n",
        "process: !custom thing\n",
        "? !!python/tuple [a, b]\n: c\n",
        "process: !!set {a, b}\n",
    ],
)
def test_tags_are_refused_and_run_nothing(tmp_path: Path, text: str) -> None:
    marker = tmp_path / "pwned"
    path = write(tmp_path, "hostile.yaml", text.replace("{marker}", str(marker)))
    code, _line, _column, message = only_finding(path)
    assert code == "PF001"
    assert "tag" in message or "key" in message
    assert not marker.exists()


def test_duplicate_keys_name_both_lines(tmp_path: Path) -> None:
    text = CLEAN.replace(
        "  done:\n    end: true\n", "  done:\n    end: true\n  check:\n    end: true\n"
    )
    path = write(tmp_path, "hostile.yaml", text)
    [finding] = [f for f in lint_file(path) if f.code == "PF003"]
    assert (finding.line, finding.column) == (14, 3)
    assert "duplicate key 'check' (first at line 6)" in finding.message


def test_yaml_11_booleans_are_strings() -> None:
    text = CLEAN.replace("ok: {to: done, p: 0.9}", "yes: {to: done, p: 0.9}").replace(
        "redo: {to: check", "no: {to: check"
    )
    process = load_text(text.replace("    on:\n", "    on:\n      on: {to: done, p: 0}\n"))
    assert process.steps["check"].triggers == ("on", "yes", "no")
    with pytest.raises(ProcessError, match="expected true or false, got 'yes'"):
        load_text(CLEAN.replace("end: true", "end: yes"))
    assert load_text(CLEAN.replace("process: tiny", "process: 'off'")).id == "off"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("", "this file is empty"),
        ("# only a comment\n", "this file is empty"),
        ("- a\n- b\n", "this file is a list"),
        ("just text\n", "this file is a single text value"),
        ("42\n", "this file is a int"),
    ],
)
def test_not_a_mapping(tmp_path: Path, data: str, expected: str) -> None:
    code, line, column, message = only_finding(write(tmp_path, "hostile.yaml", data))
    assert (code, line, column) == ("PF002", 1, 1)
    assert expected in message


def test_multiple_documents_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "hostile.yaml", CLEAN + "---\n" + CLEAN)
    code, line, _column, message = only_finding(path)
    assert (code, line) == ("PF001", 14)
    assert "another document" in message


def test_tabs_and_bad_indentation(tmp_path: Path) -> None:
    assert only_finding(write(tmp_path, "hostile.yaml", "process: x\nsteps:\n\ta: 1\n"))[:2] == (
        "PF001",
        3,
    )
    assert only_finding(write(tmp_path, "b.yaml", "process: x\n  start: a\n"))[:2] == ("PF001", 2)


def test_complex_keys_are_refused(tmp_path: Path) -> None:
    code, line, _column, message = only_finding(write(tmp_path, "hostile.yaml", "? [a, b]\n: c\n"))
    assert (code, line) == ("PF001", 1)
    assert "mapping key" in message


@pytest.mark.parametrize(
    "value",
    [".nan", ".inf", "-.inf", "1e400", "-3", "0", "1.5", "'2'", "true", "~", "[2]", "{a: 1}"],
)
def test_odd_capacities_are_schema_findings(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, "hostile.yaml", CLEAN.replace("{capacity: 2}", f"{{capacity: {value}}}"))
    findings = lint_file(path)
    assert [(f.code, f.line) for f in findings if f.code == "PF002"] == [("PF002", 3)]


def test_huge_numbers_do_not_hang_or_crash(tmp_path: Path) -> None:
    text = (
        CLEAN.replace("{capacity: 2}", "{capacity: 1000000000000000}")
        .replace("duration: 5m", "duration: exponential(1e-300s)")
        .replace("max: 2", "max: 100000000000000000000000000000")
        .replace("start: check", "arrivals: {rate: 1e300/s}\nstart: check")
    )
    path = write(tmp_path, "hostile.yaml", text)
    with bounded(100_000):  # no loop over 10**15 servers or 10**29 loop rounds
        code, output = lint_cli(path)
    assert code in (0, 1)
    assert "Traceback" not in output


@pytest.mark.parametrize("digits", [400, 5000])
def test_integers_beyond_floats_and_int_parsing_are_schema_findings(
    tmp_path: Path, digits: int
) -> None:
    """Over 4,300 digits Python's int() refuses; over 308 float() overflows: still PF002."""
    huge = "9" * digits
    capacity = write(tmp_path, "cap.yaml", CLEAN.replace("{capacity: 2}", f"{{capacity: {huge}}}"))
    assert only_finding(capacity)[:3] == ("PF002", 3, 21)
    duration = write(tmp_path, "dur.yaml", CLEAN.replace("duration: 5m", f"duration: {huge}"))
    code, line, _column, message = only_finding(duration)
    assert (code, line) == ("PF002", 8)
    assert "has no unit" in message
    assert len(message) < 200
    assert lint_cli(capacity)[0] == 1
    process = CLEAN.replace("{capacity: 2}", f"{{capacity: {huge}}}")
    with pytest.raises(ProcessError, match=r"at most 1000000000000000|whole number"):
        load_text(process.replace("start:", "arrivals: {rate: 1/h}\nstart:"), "cap.yaml")


def test_odd_unicode(tmp_path: Path) -> None:
    text = CLEAN.replace("process: tiny", "process: tiny\ntitle: \u202etxt.exe \U0001f600 \u00e9")
    assert lint_file(write(tmp_path, "hostile.yaml", text)) == []
    path = write(tmp_path, "b.yaml", CLEAN.replace("check", "chéck"))
    codes = {f.code for f in lint_file(path)}
    assert codes == {"PF002"}


def test_merge_keys_work() -> None:
    text = CLEAN.replace(
        "  check:\n    owner: clerk\n    duration: 5m\n",
        "  check:\n    <<: {owner: clerk, duration: 5m}\n",
    )
    process = load_text(text)
    assert process.steps["check"].owner == "clerk"


def test_a_very_long_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hostile.yaml",
        CLEAN.replace("process: tiny", "process: tiny\ntitle: " + "x" * 2_000_000),
    )
    with bounded(10_000):  # a 2,000,000-character line: no work per character
        assert lint_file(path) == []


def test_a_missing_roster_is_a_finding(tmp_path: Path) -> None:
    text = CLEAN.replace("owners:\n  clerk: {capacity: 2}\n", "roster: ../nowhere/team.yaml\n")
    path = write(tmp_path, "hostile.yaml", text)
    code, line, _column, message = only_finding(path)
    assert (code, line) == ("PF002", 2)
    assert "roster" in message


def test_one_bad_roster_entry_is_the_only_finding(tmp_path: Path) -> None:
    """No PF202 cascade: the roster's own error says why its owners are missing."""
    write(tmp_path, "teams/desk.yaml", "owners: {clerk: {capacity: 0}, lead: {capacity: 1}}\n")
    text = CLEAN.replace("owners:\n  clerk: {capacity: 2}\n", "roster: teams/desk.yaml\n")
    path = write(tmp_path, "desk.yaml", text)
    report = lint_paths([str(path)])
    assert [(f.code, Path(f.file).name, f.line) for f in report.findings] == [
        ("PF002", "desk.yaml", 1)
    ]
    assert report.findings[0].file.endswith("teams/desk.yaml")
    assert f"roster of {path}" in report.findings[0].message
    assert report.summary()["files"] == 2  # the process and the roster it read


def test_a_process_cannot_be_its_own_roster(tmp_path: Path) -> None:
    text = CLEAN.replace("owners:\n  clerk: {capacity: 2}\n", "roster: self.yaml\n")
    path = write(tmp_path, "self.yaml", text)
    assert only_finding(path)[:2] == ("PF002", 2)
    assert "its own roster" in only_finding(path)[3]
    assert len(lint_file(path)) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("process: [x]\nstart: a\nsteps: {a: {end: true}}\n", "process: expected text, got a list"),
        ("process: x\nstart: a\nsteps: {}\n", "steps: expected at least 1 entry, got 0"),
        ("process: x\nroster: 42\nstart: a\nsteps: {a: {end: true}}\n", "roster: expected text"),
    ],
)
def test_top_level_schema_messages_name_their_key(tmp_path: Path, text: str, message: str) -> None:
    schema = [f.message for f in lint_file(write(tmp_path, "top.yaml", text)) if f.code == "PF002"]
    assert len(schema) == 1
    assert schema[0].startswith(message)


def test_a_roster_that_is_hostile_too(tmp_path: Path) -> None:
    write(tmp_path, "team.yaml", billion_laughs())
    text = CLEAN.replace("owners:\n  clerk: {capacity: 2}\n", "roster: team.yaml\n")
    findings = lint_file(write(tmp_path, "hostile.yaml", text))
    assert [(Path(f.file).name, f.code) for f in findings if f.code == "PF001"] == [
        ("team.yaml", "PF001")
    ]


def test_load_raises_process_error_for_every_hostile_file(tmp_path: Path) -> None:
    for index, data in enumerate([b"\x00", b"[", billion_laughs().encode(), b"\xff"]):
        path = write(tmp_path, f"h{index}.yaml", data)
        with pytest.raises(ProcessError) as caught:
            load(path)
        assert caught.value.problems[0].position.file == str(path)
    assert parse_yaml("", "e.yaml").data is None


def test_a_named_pipe_in_a_folder_does_not_block_the_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    write(tmp_path, "ok.yaml", CLEAN)
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)  # no writer: opening it would block for ever
    opened: list[str] = []
    real_open = builtins.open

    def watching_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        if str(file) == str(pipe):  # fail rather than block the test for ever
            raise AssertionError(f"opened {file}")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watching_open)
    report = lint_paths([str(tmp_path)])
    monkeypatch.undo()
    assert str(pipe) not in opened  # never opened, so it could not block
    assert report.files == (str(tmp_path / "ok.yaml"),)


@pytest.mark.parametrize(
    ("roster", "reason"),
    [
        ("/etc/passwd", "not an absolute one"),
        ("/tmp/team.yaml", "not an absolute one"),
        ("C:\\\\teams\\\\team.yaml", "not an absolute one"),
        ("~/team.yaml", "'~' is not expanded"),
        ("../secret.txt", "a roster is a YAML file"),
    ],
)
def test_a_roster_path_that_is_refused(tmp_path: Path, roster: str, reason: str) -> None:
    write(tmp_path, "secret.txt", "root:x:0:0:root:/root:/bin/bash\n")
    write(tmp_path, "team.yaml", "owners: {clerk: {capacity: 2}}\n")
    text = CLEAN.replace("owners:\n  clerk: {capacity: 2}\n", f'roster: "{roster}"\n')
    path = write(tmp_path / "p", "p.yaml", text)
    findings = lint_file(path)
    assert [(f.code, f.file, f.line) for f in findings] == [("PF002", str(path), 2)]
    assert reason in findings[0].message
    assert "root:" not in findings[0].message


def test_a_yaml_file_that_is_not_a_roster_is_not_echoed(tmp_path: Path) -> None:
    write(tmp_path, "config.yaml", "password: hunter2\napi_token: abc123\n")
    text = CLEAN.replace("owners:\n  clerk: {capacity: 2}\n", "roster: ../config.yaml\n")
    path = write(tmp_path / "p", "p.yaml", text)
    findings = lint_file(path)
    assert [(f.code, f.file, f.line) for f in findings] == [("PF002", str(path), 2)]
    message = findings[0].message
    assert "not a roster file" in message
    for secret in ("password", "hunter2", "api_token", "abc123"):
        assert secret not in message


def test_a_roster_in_a_parent_folder_is_read(tmp_path: Path) -> None:
    write(tmp_path, "team.yaml", "owners: {clerk: {capacity: 2}}\n")
    text = CLEAN.replace("owners:\n  clerk: {capacity: 2}\n", "roster: ../team.yaml\n")
    assert lint_file(write(tmp_path / "p", "p.yaml", text)) == []
