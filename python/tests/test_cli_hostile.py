"""Every CLI command, fed markup, quotes, braces and control characters (issue 14): no
traceback, text printed literally, a clear message and a non-zero exit where the input
is wrong. Runs against the shared demo warehouse (a real dbt build) and against paths
that do not exist, are folders or are not DuckDB files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import BuiltWarehouse
from typer.testing import CliRunner

from customer360.cli import app

HOSTILE = [
    "[red]boom[/red]",
    "[/]",
    "[bold",
    "back\\",
    "it's",
    'say "hi"',
    "{x}",
    "{{ env_var('HOME') }}",
    "%s%n",
    "\x1b[31mred\x1b[0m",
    "nul\x00byte",
    "rtl\u202eoverride",
    "line\nbreak",
    "CUST-00000001'; drop table marts.dim_customer; --",
]


def _env(settings_root: Path, warehouse: BuiltWarehouse | None) -> dict[str, str]:
    if warehouse is None:
        return {
            "C360_BUILD_DB": str(settings_root / "none" / "build.duckdb"),
            "C360_PUBLISHED_DB": str(settings_root / "none" / "published.duckdb"),
            "C360_DATA_DIR": str(settings_root / "none" / "data"),
            "C360_REPORTS_DIR": str(settings_root / "reports"),
            "C360_AUDIT_DIR": str(settings_root / "audit"),
            "COLUMNS": "200",
        }
    s = warehouse.settings
    return {
        "C360_BUILD_DB": str(s.build_db),
        "C360_PUBLISHED_DB": str(settings_root / "published.duckdb"),
        "C360_DATA_DIR": str(s.data_dir),
        "C360_RAW_PATH": str(s.raw_path),
        "C360_REPORTS_DIR": str(settings_root / "reports"),
        "COLUMNS": "200",
    }


def _calls(value: str, where: Path) -> list[list[str]]:
    odd = str(where / value.replace("\x00", "").replace("/", "_"))
    return [
        ["explain", value],
        ["explain", "CUST-00000001", "--from", value, "--to", value],
        ["explain", value, "--db", odd],
        ["evaluate", "--db", odd],
        ["summary", "--db", odd],
        ["check-raw", "--raw-path", odd],
        ["check-raw", "--format", value],
        ["validate", "--db", odd, "--docs-dir", odd],
        ["publish", "--include", value],
        ["report", "--db", odd, "--out", odd + ".html"],
        ["subject-access", value],
        ["subject-access", "--email", value],
        ["subject-access", "--phone", value],
        ["subject-access", value, "--db", odd],
        ["erase", value],
        ["erase", "--email", value],
        ["reset-ids"],
        ["generate", "--people", "0", "--out", odd],
        ["generate", "--format", value, "--out", odd],
        ["generate", "--end-date", value, "--out", odd],
    ]


def _run_all(
    env: dict[str, str], where: Path, values: list[str] = HOSTILE
) -> list[tuple[list[str], str]]:
    runner = CliRunner()
    problems = []
    for value in values:
        for args in _calls(value, where):
            result = runner.invoke(app, args, env=env)
            out = result.output
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                problems.append((args, f"{type(result.exception).__name__}: {result.exception}"))
            elif "Traceback" in out:
                problems.append((args, out[-500:]))
            elif "\x1b[31m" in out or "\u202e" in out:
                problems.append((args, "control characters reached the terminal: " + out[-300:]))
            elif value == "[red]boom[/red]" and out.count("boom") != out.count("[red]boom["):
                problems.append((args, "markup in the input was interpreted: " + out[-300:]))
    return problems


def test_no_traceback_without_a_warehouse(tmp_path: Path) -> None:
    assert _run_all(_env(tmp_path, None), tmp_path) == []


def test_no_traceback_on_a_built_warehouse(demo_warehouse: BuiltWarehouse, tmp_path: Path) -> None:
    # erase/reset-ids must not change the shared warehouse: work on a copy
    copy = tmp_path / "warehouse"
    shutil.copytree(demo_warehouse.settings.build_db.parent, copy)
    settings = demo_warehouse.settings
    env = _env(tmp_path, demo_warehouse)
    env["C360_BUILD_DB"] = str(copy / settings.build_db.name)
    # the commands reach the warehouse here: a few values of each kind keep it quick
    values = ["[red]boom[/red]", "back\\", "it's", "{x}", "\x1b[31mred\x1b[0m", "rtl\u202eoverride"]
    assert _run_all(env, tmp_path, values) == []


@pytest.mark.parametrize("value", ["not-an-email", "[red]x[/red]", "a@", "@b.de", "a b@c.de"])
def test_erase_refuses_a_non_email(value: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["erase", "--email", value], env=_env(tmp_path, None))
    assert result.exit_code == 2
    assert "is not an e-mail address" in result.output
    assert value in result.output  # shown literally


def test_markup_in_a_path_is_printed_literally(tmp_path: Path) -> None:
    raw = tmp_path / "[red]raw[/red]"
    result = CliRunner().invoke(app, ["check-raw", "--raw-path", str(raw)], env={"COLUMNS": "300"})
    assert result.exit_code == 1
    assert "[red]raw[/red]" in result.output
