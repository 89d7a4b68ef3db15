"""PF0xx: the file itself -- YAML syntax, the schema, duplicate keys.

These rules are found by the loader, not by a check: a file that is not
YAML, or not a valid process, has no model for a check to look at. The
lint engine turns the loader's problems into findings under these codes;
the checks here yield nothing and exist so the catalog, ``procflow rule``
and select/ignore know the codes like any other.
"""

from __future__ import annotations

from collections.abc import Iterable

from procflow.findings import Severity
from procflow.rules.base import LintContext, Violation, rule


@rule("PF001", "yaml-syntax", Severity.ERROR)
def yaml_syntax(ctx: LintContext) -> Iterable[Violation]:
    """The file is not valid YAML.

    ## What it does
    Reports a file that cannot be read as YAML 1.2: a syntax error (bad
    indentation, an unclosed quote or bracket, a tab used for indentation),
    text that is not UTF-8, binary content, a file over the size limit,
    aliases that expand beyond the node limit ("billion laughs"), nesting
    deeper than 64 levels, or a tag such as `!!python/object` that asks for
    anything but plain data. The finding points at the first place the
    reader could not get past.

    Always on: `--select`, `--ignore`, severity overrides and
    `# procflow: ignore` comments do not silence it (as ruff's syntax errors).

    ## Why is this bad?
    Nothing else can be checked in a file that cannot be read: no step,
    owner or goal in it exists for procflow. Other files are still linted.

    ## Example
    ```yaml
    steps:
      intake:
        owner: support-agent
         next: triage          # one space too many
    ```

    ## Use instead
    ```yaml
    steps:
      intake:
        owner: support-agent
        next: triage
    ```
    """
    return ()


@rule("PF002", "schema", Severity.ERROR)
def schema(ctx: LintContext) -> Iterable[Violation]:
    """A key is unknown, missing or of the wrong type, or a value does not parse.

    ## What it does
    Validates the file against the process schema (`procflow schema`
    prints it): required keys (`process`, `start`, `steps`), unknown keys
    (with a suggestion for a likely typo), types, ids
    (`^[a-z][a-z0-9_-]*$`), durations (`6m`, `1.5h` -- a number without a
    unit is refused), rates (`8/h`), distributions and their parameters
    (`uniform(10m, 2m)` has min above max), probabilities outside 0..1,
    `next` and `on` on the same step, goal targets that do not fit their
    metric. Every problem in the file is reported, each at the value or
    key it is about.

    Always on, like PF001: `--select`, `--ignore`, severity overrides and
    ignore comments do not silence it, because every other command would
    refuse the file.

    ## Why is this bad?
    A process that does not match the schema cannot be analyzed,
    simulated or run, and a typo such as `onwer:` would otherwise silently
    leave a step without its owner.

    ## Example
    ```yaml
    steps:
      triage:
        onwer: support-agent
        duration: 5            # minutes? hours?
        next: resolve
    ```

    ## Use instead
    ```yaml
    steps:
      triage:
        owner: support-agent
        duration: 5m
        next: resolve
    ```
    """
    return ()


@rule("PF003", "duplicate-key", Severity.ERROR)
def duplicate_key(ctx: LintContext) -> Iterable[Violation]:
    """A mapping repeats a key: YAML keeps only the last one.

    ## What it does
    Reports every key that appears twice in the same mapping -- two steps
    with the same id, two owners, two triggers of one step, a step key
    written twice. The finding points at the repeated key and names the
    line of the first one.

    ## Why is this bad?
    YAML loaders silently keep the last value, so the first step (or
    owner, or transition) simply disappears: the process you read in the
    file is not the process that is analyzed. This usually happens when a
    step is copied to make a new one and the id is not changed.

    ## Example
    ```yaml
    steps:
      review:
        owner: editor
        next: publish
      review:                  # copied from above, meant to be 'legal-review'
        owner: lawyer
        next: publish
    ```

    ## Use instead
    ```yaml
    steps:
      review:
        owner: editor
        next: legal-review
      legal-review:
        owner: lawyer
        next: publish
    ```
    """
    return ()
