"""Write docs/rules.md from the rule catalog, so the reference cannot drift from the code.

Each rule's section is its registered code, name and default severity, its
docstring (what it does, why it is bad, an example, what to write instead)
and the finding procflow really prints for the rule's first "fire" fixture in
``tests/fixtures/rules/<code>/``. ``tests/test_docs.py`` fails when a rule has
no section; run this script after adding or changing a rule:

    .venv/bin/python scripts/docs_rules.py
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

from procflow.cli import main
from procflow.rules import all_rules
from procflow.rules.base import Rule

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path("tests/fixtures/rules")
TARGET = ROOT / "docs" / "rules.md"

HEAD = """\
# Lint rules

This page is generated from the rule catalog by `scripts/docs_rules.py`
(`tests/test_docs.py` fails when a registered rule has no section here).
`procflow rules` lists the same catalog and `procflow rule CODE` prints one
rule's text on the terminal.

A rule has a code that never changes meaning (`PF` and three digits; the
hundreds digit is the family), a kebab-case name, and a default severity.
Each finding names the file, line and column of the YAML node it is about:
the key of a step, owner, transition or goal (for a goal, its list item),
the value itself when a value is wrong, and line 1 (or the closest
top-level key) for findings about the whole file. How findings are printed
is on [commands.md](commands.md#lint); their JSON shape on
[json.md](json.md#lint).

| family | what it checks |
|---|---|
| PF0 | the file itself: YAML syntax, the schema, repeated keys |
| PF1 | structure: targets, the start step, reachability, end steps |
| PF2 | ownership: missing, unknown and unused owners, single points of failure, ping-pong |
| PF3 | loops: unmarked cycles, unbounded feedback, no feedback at all |
| PF4 | probabilities and durations |
| PF5 | capacity, from the analytic model: overload, bottlenecks, infeasible goals |
| PF6 | goals: SMART, known metrics, deadlines |

PF501, PF502 and PF503 use the analytic model (`procflow analyze`) and stay
silent when the process has no `arrivals` or a step has no `duration`.

## Configuration

procflow looks for its configuration from the current folder upwards: in
each folder `procflow.toml` (section `[lint]`) and then `pyproject.toml`
(section `[tool.procflow.lint]`); the first file that has the section wins.
`--config FILE` names the file instead, `--isolated` ignores them all, and
options given on the command line win over the file.

```toml
[tool.procflow.lint]
select = ["PF"]                  # codes, prefixes, names or "ALL" (default: every rule)
ignore = ["PF303", "ping-pong"]
fail-on = "warning"              # error (default) | warning | info
bottleneck-threshold = 0.8       # PF502 fires from this utilization (default 0.85)

[tool.procflow.lint.severity]    # code, prefix or name = error | warning | info
PF302 = "warning"
```

| key | type | default | meaning |
|---|---|---|---|
| `select` | list of selectors | every rule | rules to run |
| `ignore` | list of selectors | none | rules to skip |
| `severity` | table selector → level | none | change a rule's severity |
| `fail-on` | `error`, `warning` or `info` | `error` | lowest severity that makes `lint` exit 1 |
| `bottleneck-threshold` | number in (0, 1] | 0.85 | utilization from which PF502 fires |

A selector is a full code (`PF203`), a prefix (`PF2`, `PF`), a rule name
(`unused-owner`) or `ALL`. Within one layer (the file, then the command
line) the most specific selector wins: a code or a name beats a prefix, a
longer prefix beats a shorter one, and `ignore` wins a tie. A `--select` on
the command line starts again from nothing; an `--ignore` alone removes rules
from what the file selected. An unknown key, selector or level is a
configuration error (exit 2). PF001 and PF002 always run and are always
errors: no selection, severity or comment lets a broken file pass.

## Suppressions

A comment silences findings: `# procflow: ignore[PF203]` on the line a
finding points at silences that rule there; `# procflow: ignore` (no
brackets) silences every rule on that line; `# procflow: ignore-file[PF303]`
anywhere in the file silences the rule for the whole file, and a bare
`# procflow: ignore-file` silences every rule except PF001 and PF002. The
brackets take codes, prefixes and names, comma-separated. A comment in a
roster file applies to the findings that point into the roster.

```yaml
owners:
  night-shift: {capacity: 1}   # procflow: ignore[PF203]
  auditor: {}                  # procflow: ignore[unused-owner, PF204]
# procflow: ignore-file[PF303]
```

## The rules

"""


def anchor(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def fired(code: str) -> tuple[str, str]:
    """The first fire fixture of ``code`` and the lines ``procflow lint`` prints for it."""
    folder = ROOT / FIXTURES / code
    fixture = sorted(folder.glob("fire-*.yaml"))[0]
    relative = (FIXTURES / code / fixture.name).as_posix()
    out = io.StringIO()
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            main(["lint", "--isolated", "--select", code, relative])
    finally:
        os.chdir(here)
    lines = [line for line in out.getvalue().splitlines() if f" {code} " in line]
    return relative, "\n".join(lines)


def section(rule: Rule) -> str:
    """The Markdown section of one rule."""
    body = re.sub(r"^## ", "### ", rule.doc, flags=re.MULTILINE)
    summary, _, rest = body.partition("\n")
    fixture, output = fired(rule.code)
    family = rule.check.__module__.rsplit(".", 1)[-1]
    return (
        f"### {rule.code} {rule.name}\n\n"
        f"Default severity: **{rule.severity}** · family {rule.family} "
        f"(`procflow/rules/{family}.py`)\n\n"
        f"{summary}\n\n{rest.strip()}\n\n"
        f"#### What procflow prints\n\n"
        f"For [`{fixture}`](../{fixture}):\n\n"
        f"```console\n$ procflow lint --select {rule.code} {fixture}\n{output}\n```\n"
    )


def render() -> str:
    """The whole page."""
    catalog = all_rules()
    index = "\n".join(
        f"| [{r.code}](#{anchor(f'{r.code} {r.name}')}) | {r.name} | {r.severity} | {r.summary} |"
        for r in catalog
    )
    table = "| code | name | default | summary |\n|---|---|---|---|\n" + index + "\n\n"
    sections = "\n".join(section(r) for r in catalog)
    return HEAD + table + sections


if __name__ == "__main__":
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
