"""Configuration: discovery, the two file formats, validation with file and key, precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from procflow.config import (
    LintConfig,
    discover_config,
    find_config_file,
    load_config,
    parse_config,
    split_selectors,
)
from procflow.errors import ConfigError
from procflow.findings import Severity


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    config = LintConfig()
    assert config.select is None
    assert config.ignore == ()
    assert config.fail_on is Severity.ERROR
    assert config.bottleneck_threshold == 0.85


def test_pyproject_section(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        "[project]\nname = 'x'\n\n"
        "[tool.procflow.lint]\n"
        "select = ['PF1', 'PF2']\n"
        "ignore = ['PF203']\n"
        "fail-on = 'warning'\n"
        "bottleneck-threshold = 0.9\n"
        "[tool.procflow.lint.severity]\n"
        "PF302 = 'warning'\n"
        "unused-owner = 'error'\n",
    )
    config = load_config(path)
    assert config.select == ("PF1", "PF2")
    assert config.ignore == ("PF203",)
    assert config.fail_on is Severity.WARNING
    assert config.bottleneck_threshold == 0.9
    assert config.severity == {"PF302": Severity.WARNING, "unused-owner": Severity.ERROR}
    assert config.path == str(path)


def test_procflow_toml_uses_the_lint_table(tmp_path: Path) -> None:
    path = write(tmp_path / "procflow.toml", "[lint]\nignore = ['pf3', 'no-way-out']\n")
    config = load_config(path)
    assert config.ignore == ("PF3", "no-way-out")
    assert config.select is None


def test_a_file_without_a_lint_table_is_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.procflow]\n")
    assert load_config(path).select is None


def test_discovery_walks_up_and_skips_pyproject_without_procflow(tmp_path: Path) -> None:
    write(tmp_path / "procflow.toml", "[lint]\nignore = ['PF303']\n")
    write(tmp_path / "a" / "pyproject.toml", "[tool.ruff]\nline-length = 90\n")
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_config_file(deep) == tmp_path / "procflow.toml"
    assert discover_config(deep).ignore == ("PF303",)


def test_the_nearest_file_with_a_procflow_section_wins(tmp_path: Path) -> None:
    write(tmp_path / "procflow.toml", "[lint]\nignore = ['PF303']\n")
    write(tmp_path / "a" / "pyproject.toml", "[tool.procflow.lint]\nignore = ['PF302']\n")
    assert find_config_file(tmp_path / "a") == tmp_path / "a" / "pyproject.toml"
    assert discover_config(tmp_path / "a").ignore == ("PF302",)


def test_procflow_toml_is_preferred_in_the_same_folder(tmp_path: Path) -> None:
    write(tmp_path / "procflow.toml", "[lint]\nignore = ['PF303']\n")
    write(tmp_path / "pyproject.toml", "[tool.procflow.lint]\nignore = ['PF302']\n")
    assert find_config_file(tmp_path) == tmp_path / "procflow.toml"


def test_no_file_means_defaults(tmp_path: Path) -> None:
    assert find_config_file(tmp_path) is None or not str(find_config_file(tmp_path)).startswith(
        str(tmp_path)
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("selct = ['PF1']", "unknown key 'selct' (did you mean 'select'?)"),
        ("colour = 'red'", "unknown key 'colour'; known keys: select"),
        ("select = 'PF1'\nignore = 3", "ignore: expected a list"),
        ("select = [1, 2]", "select: expected a list"),
        ("fail-on = 'fatal'", "fail-on: expected one of error, warning, info; got 'fatal'"),
        ("fail-on = 2", "fail-on: expected one of error, warning, info"),
        ("bottleneck-threshold = 'high'", "bottleneck-threshold: expected a number"),
        ("bottleneck-threshold = 1.5", "bottleneck-threshold must be a utilization in (0, 1]"),
        ("bottleneck-threshold = 0", "bottleneck-threshold must be"),
        ("bottleneck-threshold = true", "bottleneck-threshold: expected a number"),
        ("severity = 'high'", "severity: expected a table"),
        ("severity = {PF203 = 'fatal'}", "severity.PF203: expected one of error, warning, info"),
    ],
)
def test_bad_configuration_names_file_and_key(tmp_path: Path, table: str, message: str) -> None:
    path = write(tmp_path / "pyproject.toml", f"[tool.procflow.lint]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: [tool.procflow.lint]")
    assert message in text
    assert caught.value.exit_code == 2


def test_invalid_toml_is_a_config_error_with_the_position(tmp_path: Path) -> None:
    path = write(tmp_path / "procflow.toml", "[lint]\nselect = [PF1\n")
    with pytest.raises(ConfigError, match=r"procflow\.toml: invalid TOML: .*line 2"):
        load_config(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="directory"):
        load_config(tmp_path)


def test_lint_must_be_a_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[lint\] must be a table"):
        load_config(write(tmp_path / "procflow.toml", "lint = 3\n"))
    with pytest.raises(ConfigError, match=r"\[tool.procflow\] must be a table"):
        load_config(write(tmp_path / "pyproject.toml", "[tool]\nprocflow = 3\n"))


def test_split_selectors() -> None:
    assert split_selectors(["PF1,pf2", " PF301 ", "", "unused-owner,"]) == (
        "PF1",
        "PF2",
        "PF301",
        "unused-owner",
    )


def test_override_keeps_the_file_and_puts_the_command_line_on_top() -> None:
    file = parse_config({"select": ["PF1"], "fail-on": "warning"}, "procflow.toml: [lint]")
    config = file.override(
        ignore=["PF105"],
        severity={"PF101": Severity.WARNING},
        bottleneck_threshold=0.7,
        fail_on=Severity.INFO,
    )
    assert [layer.select for layer in config.selections] == [("PF1",), None]
    assert [layer.ignore for layer in config.selections] == [(), ("PF105",)]
    assert config.fail_on is Severity.INFO
    assert config.bottleneck_threshold == 0.7
    assert config.severity == {"PF101": Severity.WARNING}
    assert file.override() == file
    with pytest.raises(ConfigError, match="bottleneck-threshold"):
        file.override(bottleneck_threshold=2.0)


def test_python_callers_may_pass_lists_and_strings() -> None:
    config = LintConfig(select=["PF1"], ignore="PF105", fail_on="warning")  # type: ignore[arg-type]
    assert config.select == ("PF1",)
    assert config.ignore == ("PF105",)
    assert config.fail_on is Severity.WARNING


def test_a_procflow_toml_without_a_lint_table_does_not_shadow_pyproject(tmp_path: Path) -> None:
    """SPEC 2: the first file that *has a procflow section* wins."""
    write(tmp_path / "pyproject.toml", "[tool.procflow.lint]\nignore = ['PF302']\n")
    write(tmp_path / "a" / "procflow.toml", "[other]\nx = 1\n")
    assert find_config_file(tmp_path / "a") == tmp_path / "pyproject.toml"
    assert discover_config(tmp_path / "a").ignore == ("PF302",)


def test_a_broken_procflow_toml_is_still_found_and_reported(tmp_path: Path) -> None:
    write(tmp_path / "procflow.toml", "[lint\n")
    assert find_config_file(tmp_path) == tmp_path / "procflow.toml"
    with pytest.raises(ConfigError, match="invalid TOML"):
        discover_config(tmp_path)


def test_config_file_may_hold_a_copy_of_the_pyproject_section(tmp_path: Path) -> None:
    path = write(tmp_path / "custom.toml", "[tool.procflow.lint]\nignore = ['PF203']\n")
    assert load_config(path).ignore == ("PF203",)


@pytest.mark.parametrize(
    ("name", "text"), [("custom.toml", "[other]\nx = 1\n"), ("pyproject.toml", "[tool.ruff]\n")]
)
def test_a_config_file_without_a_procflow_section_is_an_error(
    tmp_path: Path, name: str, text: str
) -> None:
    """``--config FILE`` that procflow would silently ignore is a mistake worth saying."""
    with pytest.raises(ConfigError, match="no procflow section"):
        load_config(write(tmp_path / name, text))
