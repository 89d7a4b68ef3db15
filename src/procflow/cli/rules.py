"""``procflow rules`` and ``procflow rule CODE|NAME``: the lint rule catalog and its documentation.

``procflow rules`` lists every rule -- code, name, default severity and
one-line summary -- as an aligned table (or JSON); ``procflow rule PF105``
(or ``procflow rule no-way-out``) prints one rule's documentation: rendered
Markdown on a terminal, the plain text when piped. An unknown code or name
exits 2 and suggests the closest ones.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.markdown import Markdown
from rich.table import Table

from procflow.cli.console import make_console, print_trimmed, safe, write_json
from procflow.cli.params import format_option
from procflow.rules import all_rules, get_rule
from procflow.rules.base import Rule

_SEVERITY_STYLE = {"error": "error", "warning": "warning", "info": "info"}


def rule_dict(rule: Rule, *, doc: bool = False) -> dict[str, Any]:
    """The JSON shape of a rule: code, name, severity, summary (and the full doc)."""
    data: dict[str, Any] = {
        "code": rule.code,
        "name": rule.name,
        "severity": str(rule.severity),
        "summary": rule.summary,
    }
    if doc:
        data["doc"] = rule.doc
    return data


@click.command("rules")
@format_option("A table, or JSON for scripts.")
def rules_command(output_format: str) -> int:
    """List every lint rule: code, name, default severity and summary."""
    catalog = all_rules()
    if output_format == "json":
        write_json({"version": 1, "rules": [rule_dict(r) for r in catalog]}, ensure_ascii=False)
        return 0
    console = make_console()
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("code", style="code", no_wrap=True)
    table.add_column("name", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("summary", overflow="fold")
    for rule in catalog:
        level = str(rule.severity)
        table.add_row(
            rule.code,
            rule.name,
            f"[{_SEVERITY_STYLE[level]}]{level}[/]",
            safe(rule.summary),
        )
    footer = (
        f"[dim]{len(catalog)} rules; `procflow rule CODE` shows what a rule checks, why, "
        "and what to write instead.[/dim]"
    )
    print_trimmed(console, table, footer)
    return 0


@click.command("rule")
@click.argument("rule_id", metavar="CODE|NAME")
@format_option("The documentation as text (Markdown), or JSON.")
def rule_command(rule_id: str, output_format: str) -> int:
    """Show what a rule checks, why, and what to write instead (`procflow rule PF105`)."""
    found = get_rule(rule_id)  # UnknownRuleError is a ConfigError: exit 2 with suggestions
    if output_format == "json":
        write_json({"version": 1, **rule_dict(found, doc=True)}, ensure_ascii=False)
        return 0
    console = make_console()
    level = str(found.severity)
    if console.is_terminal:
        console.print(
            f"[code]{found.code}[/code] [bold]{found.name}[/bold] "
            f"([{_SEVERITY_STYLE[level]}]{level}[/] by default)"
        )
        console.print()
        console.print(Markdown(found.doc))
    else:
        sys.stdout.write(f"{found.code} {found.name} ({level} by default)\n\n{found.doc}\n")
    return 0


commands = [rules_command, rule_command]
