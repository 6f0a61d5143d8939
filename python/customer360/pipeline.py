"""The main job: generate -> dbt build -> validate -> publish -> summary.

Each step is a function so that the CLI and the tests run the same code.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from customer360.build_state import (
    DEFER_COMMIT_ENV,
    BuildLock,
    BuildLockError,
    commit_identity_state,
    mark_building,
    mark_failed,
)
from customer360.console import cell, literal
from customer360.dbt import DbtError, run_dbt
from customer360.gx_validation import (
    ValidationSetupError,
    customer_id_regex,
    print_validation,
    run_validation,
)
from customer360.keys import PrivacyKeyError, enable_demo_keys, load_db_key, load_hmac_key
from customer360.permissions import restrict_umask, secure_outputs
from customer360.publish import (
    PublishError,
    PublishResult,
    new_build_id,
    print_publish_result,
    publish,
)
from customer360.raw_contract_check import (
    RawContractError,
    ensure_raw_contract,
    raw_counts_path,
    record_raw_counts,
)
from customer360.restricted_db import connect_build, is_encrypted
from customer360.settings import Settings

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
        console.rule(f"[bold]{literal(name)}")
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = time.perf_counter() - started


def run_dbt_build(settings: Settings, console: Console, full_refresh: bool = False) -> None:
    """`dbt build`, leaving the identity commit to :func:`run_build` (after freshness and
    validation: docs/identity.md). With vars of a user's config or command line, the
    project's own unit tests are left out: their fixed inputs and expectations assume the
    project's default vars (an ID prefix, a default country), they test the SQL, not the
    user's data, and they run in the project's test suite."""
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    if settings.config.vars or settings.cli_vars:
        args += ["--exclude", "test_type:unit"]
    run_dbt(args, settings, echo=True, extra_env={DEFER_COMMIT_ENV: "1"})


def run_build(
    settings: Settings,
    console: Console,
    full_refresh: bool = False,
    run: RunReport | None = None,
    source_freshness: bool = True,
) -> bool:
    """raw contract check -> dbt build -> source freshness -> validate -> identity commit
    -> publish -> summary, under the build lock of the build DB (a second build fails at
    once). The ID registry advances and the published file is replaced only when every
    step before succeeded; otherwise both stay as the last good build left them. Stale
    sources (beyond error_after, measured against the export date unless the config says
    otherwise: customer360.freshness) fail the run; warn_after only warns. Only the raw
    tables of the project config are checked and read (customer360.config); marts none of
    whose inputs is declared are listed as skipped. Everything it writes is closed to
    other users (customer360.permissions)."""
    restrict_umask()  # everything written from here on is closed (docs/privacy.md)
    try:
        with BuildLock(settings.build_db, "customer360 build"):
            return _run_build_locked(settings, console, full_refresh, run, source_freshness)
    except BuildLockError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        return False
    finally:
        secure_outputs(settings)


def _run_build_locked(
    settings: Settings,
    console: Console,
    full_refresh: bool,
    run: RunReport | None,
    source_freshness: bool,
) -> bool:
    run = run or RunReport()
    kept = f"[yellow]previous published warehouse kept: {literal(settings.published_db)}[/yellow]"
    secure_outputs(settings)  # close what an older run left open
    try:
        load_hmac_key()  # the analyst layer needs it (docs/privacy.md): fail before building
        db_key = load_db_key()  # the build DB is encrypted with it
    except PrivacyKeyError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        console.print(kept)
        return False
    if db_key is None:
        console.print(
            "[yellow]C360_DB_ENCRYPTION=off: the build DB is NOT encrypted (throwaway and "
            "test builds only, docs/privacy.md)[/yellow]"
        )
    elif settings.build_db.exists() and not is_encrypted(settings.build_db):
        console.print(
            f"[red]{literal(settings.build_db)} is not encrypted: run `customer360 "
            "encrypt-db` once to encrypt it with the database key[/red]"
        )
        console.print(kept)
        return False
    from customer360.config import ConfigError
    from customer360.coverage import (
        build_degraded_marts,
        print_skipped,
        print_systems,
        skipped_marts,
    )

    try:
        with run.step("raw contract check", console):
            print_systems(settings, console)
            raw_report = ensure_raw_contract(
                settings.raw_path,
                settings.raw_format,
                console,
                raw_counts_path(settings),
                tables=settings.config.present_tables(settings.project_dir),
            )
    except ConfigError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        console.print(kept)
        return False
    except RawContractError:
        console.print("[red]raw exports break the contract: nothing was built[/red]")
        console.print(kept)
        return False
    mark_building(settings.build_db, "customer360 build")
    try:
        with run.step("dbt build", console):
            run_dbt_build(settings, console, full_refresh=full_refresh)
    except DbtError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        print_skipped(skipped_marts(settings), console)
        console.print(kept)
        return False
    print_dbt_results(settings, console)
    print_skipped(skipped_marts(settings), console)
    print_skipped(
        build_degraded_marts(settings), console, "marts with null predictions: not enough data"
    )
    if source_freshness:
        from customer360.freshness import check_freshness, print_freshness_result

        with run.step("source freshness", console):
            freshness = check_freshness(settings)
            print_freshness_result(freshness, console)
        if not freshness.ok:
            mark_failed(settings.build_db, "source freshness failed")
            console.print(kept)
            return False
    try:
        with run.step("validate (Great Expectations)", console):
            validation = run_validation(
                settings.build_db,
                settings.reports_dir / "gx",
                id_regex=customer_id_regex(settings.project_dir, settings.dbt_vars()),
            )
            print_validation(validation, console)
    except ValidationSetupError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        validation = None
    if validation is None or not validation.success:
        mark_failed(settings.build_db, "validation (Great Expectations) failed")
        console.print(kept)
        console.print("[yellow]customer-ID registry not advanced (docs/identity.md)[/yellow]")
        return False
    with run.step("commit customer-ID registry", console):
        committed = commit_identity_state(settings.build_db)  # and marks the build passed
        console.print(
            "identity_state committed" if committed else "no identity state in this build"
        )
    record_raw_counts(raw_report, raw_counts_path(settings))  # baseline for the shrink check
    try:
        with run.step("publish", console):
            run.published = publish(settings, build_id=run.build_id)
    except PublishError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        console.print(kept)
        return False
    print_publish_result(run.published, console)
    from customer360.rotation import remove_expired_mappings

    for path in remove_expired_mappings(settings):  # a key rotation's mapping window ended
        console.print(f"removed expired pseudonym mapping {literal(path)}")
    print_run_summary(settings, run, console)
    return True


def run_demo(settings: Settings, people: int, seed: int, console: Console) -> bool:
    try:
        with BuildLock(settings.build_db, "customer360 demo"):
            return _run_demo_locked(settings, people, seed, console)
    except BuildLockError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        return False


def _run_demo_locked(settings: Settings, people: int, seed: int, console: Console) -> bool:
    from customer360.generate import generate

    run = RunReport()
    restrict_umask()
    # only the demo command uses local demo keys (for each key not configured)
    for env, path in enable_demo_keys().items():
        console.print(
            f"[yellow]demo: {env} = {literal(path)} (a local key generated once, mode "
            "0600, gitignored); real builds need C360_HMAC_KEY and C360_DB_KEY "
            "(docs/privacy.md)[/yellow]"
        )
    if settings.raw_path != settings.data_dir / "raw":  # the demo builds what it generates
        settings = dataclasses.replace(settings, raw_path=settings.data_dir / "raw")
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
        console.print(f"dbt docs: {literal(settings.dbt_target_path / 'index.html')}")
        with run.step("report", console):
            result = write_report(settings)
    except (DbtError, ReportError) as exc:
        console.print(f"[red]{literal(exc)}[/red]")
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
    table = Table(title=f"rows per layer in {literal(db.name)}")
    table.add_column("layer")
    table.add_column("relation")
    table.add_column("rows", justify="right")
    for schema, name, n in counts:
        table.add_row(cell(schema), cell(name), f"{n:,}")
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
    table = Table(title=f"raw exports in {literal(settings.raw_path)}")
    table.add_column("system")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for system, name, n in raw_file_counts(settings):
        table.add_row(cell(system), cell(name), f"{n:,}")
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
        console.print(f"dbt {literal(kind)}s: {literal(parts)}")
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
        table.add_row(cell(schema), str(relations), f"{rows:,}")
    if run.published is not None:
        table.add_row("published", str(len(run.published.tables)), f"{run.published.rows:,}")
    console.print(table)
    from customer360.coverage import print_skipped, print_systems, skipped_marts

    print_systems(settings, console)
    print_skipped(skipped_marts(settings), console)
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
