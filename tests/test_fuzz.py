"""Property tests: random and mutated YAML never crashes the loader or ``procflow lint``.

Whatever bytes a file holds, lint must answer with findings (exit 1) or a
clean bill (exit 0, only possible for a mutation that is still a sound
process), name the file and never show a traceback (how long it takes is
measured in benchmarks/robustness_bench.py, not asserted here);
the loader must raise :class:`ProcessError` with positioned problems or
return data.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpers import PROCESSES
from procflow.cli import main
from procflow.errors import ProcessError
from procflow.loader import parse_process, parse_yaml

EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted((PROCESSES).glob("*.yaml"))]

#: More examples for a deliberate bug hunt: PROCFLOW_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py
EXAMPLES_PER_TEST = int(os.environ.get("PROCFLOW_FUZZ_EXAMPLES", "40"))

FUZZ = settings(
    max_examples=EXAMPLES_PER_TEST,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Values that break things: odd scalars, YAML syntax, tags, aliases, unicode.
NASTY = [
    "",
    "~",
    "null",
    "yes",
    "no",
    "on",
    "off",
    "true",
    "-1",
    "0",
    "1e999",
    "-1e999",
    ".nan",
    ".inf",
    "99999999999999999999999999999999999999",
    "0x7fffffffffffffff",
    "0o777",
    "1.5",
    "[",
    "]",
    "{",
    "}",
    "{a: 1}",
    "[1, 2]",
    "*nothing",
    "&anchor",
    "&a [*a]",
    "!!python/object/apply:os.system ['true']",
    "!!binary aGk=",
    "!custom x",
    "'unterminated",
    '"\\u0000"',
    '"\\x07"',
    "|",
    ">-",
    "- a",
    "? x",
    ": x",
    "%TAG ! tag:x,2000:",
    "---",
    "...",
    "<<: *x",
    "exponential(-1m)",
    "uniform(10m, 1m)",
    "triangular(1m, 9m, 5m)",
    "lognormal(0m, 1m)",
    "gamma(1m, 0m)",
    "empirical()",
    "5",
    "5 minutes",
    "12/h",
    "0/h",
    "1e308d",
    "<= 24h",
    ">= 200%",
    "2027-02-30",
    "\u202e\U0001f600é",
    "\t",
    "step_time:nowhere",
    "utilization:",
]


def lint_text(data: bytes, name: str = "fuzzed.yaml") -> tuple[int, str]:
    """Lint ``data`` as a file through the command line; return (exit code, all output)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["lint", "--isolated", str(path)])
    output = out.getvalue() + err.getvalue()
    assert "Traceback" not in output
    assert "internal error" not in output  # a rule crashed: a bug, even though it is contained
    if code != 0:
        assert name in output
    return code, output


def check_loader(text: str) -> None:
    """The loader returns data or raises ProcessError with positioned problems, nothing else."""
    try:
        document = parse_yaml(text, "fuzzed.yaml")
        process, problems = parse_process(document)
    except ProcessError as exc:
        problems = list(exc.problems)
        assert problems
        process = None
    for problem in problems:
        assert problem.code in ("PF001", "PF002", "PF003")
        assert problem.position.line >= 1
        assert problem.position.column >= 1
        assert problem.message
    if process is None and not problems:  # pragma: no cover - would be a bug
        raise AssertionError("no process and no problem")


@st.composite
def mutated_example(draw: st.DrawFn) -> str:
    """An example process with a few lines deleted, duplicated, swapped or given odd values."""
    lines = draw(st.sampled_from(EXAMPLES)).splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not lines:
            break
        index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = draw(
            st.sampled_from(
                ["delete", "duplicate", "swap", "value", "indent", "insert", "truncate", "nest"]
            )
        )
        line = lines[index]
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, line)
        elif action == "swap":
            other = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[index], lines[other] = lines[other], line
        elif action == "value":
            key, colon, _value = line.partition(":")
            value = draw(st.sampled_from(NASTY) | st.text(max_size=20))
            lines[index] = f"{key}: {value}" if colon else value
        elif action == "indent":
            lines[index] = " " * draw(st.integers(min_value=0, max_value=9)) + line.lstrip()
        elif action == "insert":
            lines.insert(index, draw(st.sampled_from(NASTY) | st.text(max_size=30)))
        elif action == "truncate":
            lines[index] = line[: draw(st.integers(min_value=0, max_value=max(len(line), 0)))]
        else:
            depth = draw(st.integers(min_value=1, max_value=200))
            lines[index] = line + " " + "[" * depth + "]" * draw(st.integers(0, depth))
    return "\n".join(lines) + "\n"


@FUZZ
@given(st.text(max_size=400))
def test_random_text_through_the_loader(text: str) -> None:
    check_loader(text)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_through_lint(data: bytes) -> None:
    code, _output = lint_text(data)
    assert code == 1


@FUZZ
@given(st.lists(st.sampled_from(NASTY) | st.text(max_size=12), min_size=1, max_size=20))
def test_nasty_fragments_through_lint(fragments: list[str]) -> None:
    text = "\n".join(fragments)
    code, _output = lint_text(text.encode("utf-8", "surrogatepass"))
    assert code == 1


@settings(FUZZ, max_examples=EXAMPLES_PER_TEST * 3)
@given(mutated_example())
def test_mutated_examples_through_lint(text: str) -> None:
    code, _output = lint_text(text.encode("utf-8", "surrogatepass"))
    assert code in (0, 1)
    check_loader(text)


@FUZZ
@given(mutated_example(), st.binary(min_size=1, max_size=8), st.integers(min_value=0))
def test_examples_with_random_bytes_spliced_in(text: str, noise: bytes, where: int) -> None:
    data = text.encode("utf-8", "surrogatepass")
    cut = where % (len(data) + 1)
    code, _output = lint_text(data[:cut] + noise + data[cut:])
    assert code in (0, 1)


@FUZZ
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_random_structures_as_json_flow_yaml(value: object) -> None:
    import json

    try:
        text = json.dumps({"process": "x", "steps": value})
    except ValueError:  # an integer past Python's 4,300-digit str() limit: not a YAML case
        text = None
    assume(text is not None)
    assert text is not None
    check_loader(text)
    code, _output = lint_text(text.encode())
    assert code == 1


@st.composite
def semantic_mutation(draw: st.DrawFn) -> str:
    """A valid-YAML example whose structure is rewired: targets, ends, p, max, owners, goals."""
    import yaml

    from procflow.loader import parse_yaml

    data = parse_yaml(draw(st.sampled_from(EXAMPLES)), "x.yaml").data
    steps = data["steps"]
    names = list(steps)
    owners = list(data.get("owners") or {})
    pick_step = st.sampled_from([*names, "nowhere"])
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        name = draw(st.sampled_from(names))
        step = steps[name]
        action = draw(
            st.sampled_from(["target", "end", "unend", "p", "max", "owner", "start", "goal", "cap"])
        )
        if action == "target":
            step.pop("on", None)
            step.pop("end", None)
            triggers = draw(st.lists(st.sampled_from(["a", "b", "c", "next"]), unique=True))
            step["on"] = {
                t: {
                    "to": draw(pick_step),
                    **({"p": draw(st.floats(0, 1))} if draw(st.booleans()) else {}),
                    **({"feedback": True} if draw(st.booleans()) else {}),
                    **({"max": draw(st.integers(1, 5))} if draw(st.booleans()) else {}),
                }
                for t in triggers
            } or None
            if step["on"] is None:
                del step["on"]
        elif action == "end":
            step["end"] = True
        elif action == "unend":
            step.pop("end", None)
        elif action == "p" and isinstance(step.get("on"), dict):
            for edge in step["on"].values():
                if isinstance(edge, dict):
                    edge["p"] = draw(st.floats(0, 1))
        elif action == "max" and isinstance(step.get("on"), dict):
            for edge in step["on"].values():
                if isinstance(edge, dict):
                    edge["feedback"] = True
                    edge["max"] = draw(st.integers(1, 3))
        elif action == "owner":
            step["owner"] = draw(st.sampled_from([*owners, "ghost"]))
        elif action == "start":
            data["start"] = draw(pick_step)
        elif action == "goal":
            metric = draw(
                st.sampled_from(
                    ["cycle_time", "throughput", "wip", "step_time:nowhere", "utilization:x"]
                )
            )
            data.setdefault("goals", []).append(
                {"id": "fuzzed", "metric": metric, "target": "<= 1h"}
            )
        elif action == "cap" and owners:
            owner = data["owners"][draw(st.sampled_from(owners))]
            owner["capacity"] = draw(st.integers(1, 3))
    return yaml.safe_dump(data, sort_keys=False)


@FUZZ
@given(semantic_mutation())
def test_rewired_examples_through_lint(text: str) -> None:
    code, _output = lint_text(text.encode("utf-8"))
    assert code in (0, 1)
