"""The main job: generate -> dbt build -> validate -> publish -> summary.

Each step is a function so that the CLI and the tests run the same code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from customer360.dbt import DbtError, run_dbt
from customer360.keys import PrivacyKeyError, enable_demo_keys, load_db_key, load_hmac_key
from customer360.permissions import restrict_umask, secure_outputs
from customer360.publish import (
    PublishError,
    PublishResult,
    new_build_id,
    print_publish_result,
    publish,
)
from customer360.quality import (
    RawContractError,
    ensure_raw_contract,
    print_freshness,
    raw_counts_path,
    record_raw_counts,
    run_source_freshness,
)
from customer360.restricted_db import connect_build, is_encrypted
from customer360.settings import Settings
from customer360.validate import ValidationSetupError, print_validation, run_validation

LAYERS = ("staging", "intermediate", "marts")
SUMMARY_SCHEMAS = (*LAYERS, "analyst", "quarantine")


@dataclass
class RunReport:
    """One pipeline run: its build id, seconds per step, what was published."""

    build_id: str = field(default_factory=new_build_id)
    timings: dict[str, float] = field(default_factory=dict)
    published: PublishResult | None = None

    @contextmanager
    def step(self, name: str, console: Console) -> Iterator[None]:
        """Print a header for the step and record its duration (also when it fails)."""
        console.rule(f"[bold]{name}")
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = time.perf_counter() - started


def run_dbt_build(settings: Settings, console: Console, full_refresh: bool = False) -> None:
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    run_dbt(args, settings, echo=True)


def run_build(
    settings: Settings,
    console: Console,
    full_refresh: bool = False,
    run: RunReport | None = None,
    source_freshness: bool = True,
) -> bool:
    """raw contract check -> dbt build -> source freshness -> validate -> publish ->
    summary. The published file is replaced only when every step before publish
    succeeded; otherwise the previous one stays. Stale sources (beyond error_after) fail
    the run; warn_after only warns."""
    restrict_umask()  # everything written from here on is closed (docs/privacy.md)
    try:
        return _run_build(settings, console, full_refresh, run, source_freshness)
    finally:
        secure_outputs(settings)


def _run_build(
    settings: Settings,
    console: Console,
    full_refresh: bool,
    run: RunReport | None,
    source_freshness: bool,
) -> bool:
    run = run or RunReport()
    kept = f"[yellow]previous published warehouse kept: {settings.published_db}[/yellow]"
    secure_outputs(settings)  # close what an older run left open
    try:
        load_hmac_key()  # the analyst layer needs it (docs/privacy.md): fail before building
        db_key = load_db_key()  # the build DB is encrypted with it
    except PrivacyKeyError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        console.print(kept)
        return False
    if db_key is None:
        console.print(
            "[yellow]C360_DB_ENCRYPTION=off: the build DB is NOT encrypted (throwaway and "
            "test builds only, docs/privacy.md)[/yellow]"
        )
    elif settings.build_db.exists() and not is_encrypted(settings.build_db):
        console.print(
            f"[red]{escape(str(settings.build_db))} is not encrypted: run `customer360 "
            "encrypt-db` once to encrypt it with the database key[/red]"
        )
        console.print(kept)
        return False
    try:
        with run.step("raw contract check", console):
            raw_report = ensure_raw_contract(
                settings.raw_path, settings.raw_format, console, raw_counts_path(settings)
            )
    except RawContractError:
        console.print("[red]raw exports break the contract: nothing was built[/red]")
        console.print(kept)
        return False
    try:
        with run.step("dbt build", console):
            run_dbt_build(settings, console, full_refresh=full_refresh)
    except DbtError as exc:
        console.print(f"[red]{exc}[/red]")
        console.print(kept)
        return False
    print_dbt_results(settings, console)
    if source_freshness:
        with run.step("source freshness", console):
            freshness = run_source_freshness(settings)
            print_freshness(freshness, console)
        if not freshness.ok:
            console.print(kept)
            return False
    try:
        with run.step("validate (Great Expectations)", console):
            validation = run_validation(settings.build_db, settings.reports_dir / "gx")
            print_validation(validation, console)
    except ValidationSetupError as exc:
        console.print(f"[red]{exc}[/red]")
        validation = None
    if validation is None or not validation.success:
        console.print(kept)
        return False
    record_raw_counts(raw_report, raw_counts_path(settings))  # baseline for the shrink check
    try:
        with run.step("publish", console):
            run.published = publish(settings, build_id=run.build_id)
    except PublishError as exc:
        console.print(f"[red]{exc}[/red]")
        console.print(kept)
        return False
    print_publish_result(run.published, console)
    from customer360.rotation import remove_expired_mappings

    for path in remove_expired_mappings(settings):  # a key rotation's mapping window ended
        console.print(f"removed expired pseudonym mapping {escape(str(path))}")
    print_run_summary(settings, run, console)
    return True


def run_demo(settings: Settings, people: int, seed: int, console: Console) -> bool:
    from customer360.generate import generate

    run = RunReport()
    restrict_umask()
    # only the demo command uses local demo keys (for each key not configured)
    for env, path in enable_demo_keys().items():
        console.print(
            f"[yellow]demo: {env} = {escape(str(path))} (a local key generated once, mode "
            "0600, gitignored); real builds need C360_HMAC_KEY and C360_DB_KEY "
            "(docs/privacy.md)[/yellow]"
        )
    with run.step(f"generate {people:,} synthetic people (seed {seed})", console):
        generate(settings.data_dir, people=people, seed=seed, fmt=settings.raw_format)
    raw_counts_path(settings).unlink(missing_ok=True)  # new exports: no shrink baseline
    print_raw_files(settings, console)
    if not run_build(settings, console, run=run):
        return False
    return write_docs_and_report(settings, console, run)


def write_docs_and_report(settings: Settings, console: Console, run: RunReport) -> bool:
    """After a published build: `dbt docs generate` into the build's target path, then the
    HTML report of the published warehouse (customer360.report). The warehouse is already
    published; a failure here is reported and fails the run, but changes nothing there."""
    from customer360.report import ReportError, print_report_result, write_report

    try:
        with run.step("dbt docs generate", console):
            run_dbt(["docs", "generate"], settings, echo=True)
        console.print(f"dbt docs: {settings.dbt_target_path / 'index.html'}")
        with run.step("report", console):
            result = write_report(settings)
    except (DbtError, ReportError) as exc:
        console.print(f"[red]{exc}[/red]")
        return False
    print_report_result(result, console)
    return True


def layer_counts(
    db: Path, schemas: tuple[str, ...] = SUMMARY_SCHEMAS
) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every table and view in ``schemas``."""
    con = connect_build(db)
    try:
        rels = con.execute(
            """
            select table_schema, table_name
            from information_schema.tables
            where table_schema in (select unnest($schemas::varchar[]))
            order by 1, 2
            """,
            {"schemas": list(schemas)},
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


# ------------------------------------------------------------------ progress and summary


def raw_file_counts(settings: Settings) -> list[tuple[str, str, int]]:
    """(system, table, rows) of every raw export file of the contract that exists."""
    from customer360.publish import source_row_counts

    con = duckdb.connect()
    try:
        return [(sys_, tbl, n) for sys_, tbl, _, n in source_row_counts(con, settings)]
    finally:
        con.close()


def print_raw_files(settings: Settings, console: Console) -> None:
    table = Table(title=f"raw exports in {settings.raw_path}")
    table.add_column("system")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for system, name, n in raw_file_counts(settings):
        table.add_row(system, name, f"{n:,}")
    console.print(table)


def print_dbt_results(settings: Settings, console: Console) -> None:
    """One line per resource type from dbt's run_results.json: how many passed, warned,
    failed; and the slowest nodes."""
    path = settings.dbt_target_path / "run_results.json"
    try:
        results = json.loads(path.read_text())["results"]
    except (OSError, ValueError, KeyError):
        return
    by_type: dict[str, dict[str, int]] = {}
    for r in results:
        kind = r["unique_id"].split(".")[0]
        status = str(r["status"])
        by_type.setdefault(kind, {}).setdefault(status, 0)
        by_type[kind][status] += 1
    for kind, statuses in sorted(by_type.items()):
        parts = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        console.print(f"dbt {kind}s: {parts}")
    slowest = sorted(results, key=lambda r: r.get("execution_time") or 0, reverse=True)[:3]
    if slowest:
        console.print(
            "slowest: "
            + ", ".join(
                f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f} s" for r in slowest
            )
        )


def print_run_summary(settings: Settings, run: RunReport, console: Console) -> None:
    """The final summary: rows per layer, customers, quarantine rate, seconds per step."""
    raw_rows = sum(n for _, _, n in raw_file_counts(settings))
    per_layer: dict[str, tuple[int, int]] = {}
    for schema, name, n in layer_counts(settings.build_db):
        if schema == "quarantine" and name.endswith("summary"):
            continue  # quarantine_summary counts the other quarantine tables again
        relations, rows = per_layer.get(schema, (0, 0))
        per_layer[schema] = (relations + 1, rows + n)
    table = Table(title=f"customer360 build {run.build_id}")
    table.add_column("layer")
    table.add_column("relations", justify="right")
    table.add_column("rows", justify="right")
    table.add_row("raw exports", "", f"{raw_rows:,}")
    for schema in SUMMARY_SCHEMAS:
        relations, rows = per_layer.get(schema, (0, 0))
        table.add_row(schema, str(relations), f"{rows:,}")
    if run.published is not None:
        table.add_row("published", str(len(run.published.tables)), f"{run.published.rows:,}")
    console.print(table)
    customers = _count_if_exists(settings.build_db, "marts", "dim_customer")
    if customers is not None:
        console.print(f"customers (marts.dim_customer): {customers:,}")
    quarantined = per_layer.get("quarantine", (0, 0))[1]
    if raw_rows:
        console.print(
            f"quarantined rows: {quarantined:,} of {raw_rows:,} raw rows "
            f"({quarantined / raw_rows:.2%})"
        )
    steps = ", ".join(f"{name} {secs:.1f} s" for name, secs in run.timings.items())
    console.print(f"time per step: {steps}; total {sum(run.timings.values()):.1f} s")


def _count_if_exists(db: Path, schema: str, name: str) -> int | None:
    con = connect_build(db)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()
        if not exists or not exists[0]:
            return None
        n = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
        return int(n[0]) if n else 0
    finally:
        con.close()
