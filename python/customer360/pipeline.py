"""The main job: generate -> dbt build -> validate -> publish -> summary.

Each step is a function so that the CLI and the tests run the same code.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from customer360.dbt import DbtError, run_dbt
from customer360.settings import Settings

LAYERS = ("staging", "intermediate", "marts")


def run_dbt_build(settings: Settings, console: Console, full_refresh: bool = False) -> None:
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    console.rule("[bold]dbt build")
    run_dbt(args, settings, echo=True)


def run_build(settings: Settings, console: Console, full_refresh: bool = False) -> bool:
    started = time.perf_counter()
    try:
        run_dbt_build(settings, console, full_refresh=full_refresh)
    except DbtError as exc:
        console.print(f"[red]{exc}[/red]")
        return False
    print_summary(settings.build_db, console=console)
    console.print(f"build finished in {time.perf_counter() - started:.1f} s")
    return True


def run_demo(settings: Settings, people: int, seed: int, console: Console) -> bool:
    from customer360.generate import generate

    started = time.perf_counter()
    console.rule(f"[bold]generating {people:,} synthetic people (seed {seed})")
    generate(settings.data_dir, people=people, seed=seed, fmt=settings.raw_format)
    ok = run_build(settings, console)
    console.print(f"demo finished in {time.perf_counter() - started:.1f} s")
    return ok


def layer_counts(db: Path) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every table and view in the analyst-relevant schemas."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rels = con.execute(
            """
            select table_schema, table_name
            from information_schema.tables
            where table_schema in ('staging', 'intermediate', 'marts')
            order by 1, 2
            """
        ).fetchall()
        out = []
        for schema, name in rels:
            n = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
            out.append((schema, name, int(n[0]) if n else 0))
        return out
    finally:
        con.close()


def print_summary(db: Path, console: Console) -> None:
    counts = layer_counts(db)
    table = Table(title=f"rows per layer in {db.name}")
    table.add_column("layer")
    table.add_column("relation")
    table.add_column("rows", justify="right")
    for schema, name, n in counts:
        table.add_row(schema, name, f"{n:,}")
    console.print(table)
