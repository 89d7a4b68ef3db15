"""Write docs/rules.md, every lint rule's documentation on one page, from the rule catalog.

SARIF results link here (``helpUri``), so code scanning shows a "Learn more"
link that works on GitHub. ``tests/test_report_sarif.py`` checks that the
page is up to date; run ``python scripts/rules_doc.py`` after changing a rule.
"""

from __future__ import annotations

import sys
from pathlib import Path

from procflow.lint import available_rules

TARGET = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def _demoted(doc: str) -> str:
    """The rule's docstring with its ``##`` headings one level down (outside code fences)."""
    out, fenced = [], False
    for line in doc.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        out.append("#" + line if line.startswith("##") and not fenced else line)
    return "\n".join(out)


def markdown() -> str:
    """The whole page."""
    rules = sorted(available_rules(), key=lambda r: r.code)
    parts = [
        "# procflow lint rules",
        "",
        "<!-- Generated from the rules' docstrings by scripts/rules_doc.py: do not edit. -->",
        "",
        "Every rule of `procflow lint`, as `procflow rule CODE` shows it. Select and ignore "
        "them by code, prefix or name (see the README's *Configuration and suppressions*).",
        "",
        "| code | name | default severity | summary |",
        "|---|---|---|---|",
    ]
    parts += [
        f"| [{r.code}](#{r.code.lower()}-{r.name}) | {r.name} | {r.severity} | {r.summary} |"
        for r in rules
    ]
    for r in rules:
        body = r.doc.split("\n", 1)[1].strip() if "\n" in r.doc else ""
        parts += ["", f"## {r.code} {r.name}", "", f"*{r.summary}* Default severity: {r.severity}."]
        if body:
            parts += ["", _demoted(body)]
    return "\n".join(parts) + "\n"


def main() -> int:
    TARGET.write_text(markdown(), encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
