"""The `customer360` command line: thin wrappers over library functions.

Each command calls a function that tests call directly; no logic lives here.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from customer360.console import cell, literal
from customer360.settings import Settings

app = typer.Typer(
    help="customer360: one persistent customer ID per person, on dbt + DuckDB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(emoji=False)  # ':name:' in file-derived text stays text

#: Every command, by whether it reads personal data (the restricted build DB, raw exports
#: or the audit log). Those that do need the restricted keys and append an entry to the
#: hash-chained audit log (docs/privacy.md); the test enumerates the app against this.
READS_PERSONAL_DATA: dict[str, bool] = {
    "demo": True,
    "build": True,
    "summary": True,
    "generate": False,  # writes synthetic data only
    "explain": True,
    "evaluate": True,
    "reset-ids": True,
    "retrain-matcher": True,  # trains on the person records of the build DB
    "matcher-preview": True,  # scores the person records of the build DB
    "check-raw": False,  # counts and column names of the exports, no values
    "validate": True,
    "publish": True,
    "report": True,  # the published file by default; audited when it reads the build DB
    "subject-access": True,
    "erase": True,
    "rotate-key": True,
    "encrypt-db": True,
    "audit verify": True,
}


@app.callback()
def _closed_by_default() -> None:
    """Every file a command writes is closed to other users, whatever the umask."""
    from customer360.permissions import restrict_umask

    restrict_umask()


def _key_error(exc: Exception) -> typer.Exit:
    console.print(f"[red]{literal(exc)}[/red]")
    return typer.Exit(2)


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Project config: which systems/tables you have, vars, freshness "
        "(default: $C360_CONFIG, else customer360.yml; docs/bring-your-own-data.md).",
    ),
]
VarsOption = Annotated[
    str | None,
    typer.Option(
        "--vars",
        help="dbt vars as YAML/JSON, over the config's: "
        "'{base_currency: USD, clv_churn_as_of_date: 1998-06-30}'.",
    ),
]


def _settings(config: Path | None = None, variables: str | None = None) -> Settings:
    """Settings from the environment with the project config and --vars; a bad config
    or --vars exits 2 with the message (file and key)."""
    from customer360.config import ConfigError, parse_vars

    try:
        settings = Settings.from_env(config)
        if variables:
            settings = dataclasses.replace(settings, cli_vars=parse_vars(variables))
    except ConfigError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    return settings


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="Number of synthetic people.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
    config: ConfigOption = None,
    variables: VarsOption = None,
) -> None:
    """Generate the demo sources, build the warehouse, validate it and print a summary."""
    from customer360.pipeline import run_demo
    from customer360.privacy import audited

    settings = _settings(config, variables)
    # run_demo is the only caller of keys.enable_demo_keys (local demo keys)
    with audited(settings, "demo", "all", "*"):
        ok = run_demo(settings, people=people, seed=seed, console=console)
    raise typer.Exit(0 if ok else 1)


@app.command()
def build(
    full_refresh: Annotated[bool, typer.Option(help="Rebuild tables (ID registry kept).")] = False,
    config: ConfigOption = None,
    variables: VarsOption = None,
    report: Annotated[
        bool, typer.Option(help="After publishing, write dbt docs and the HTML report.")
    ] = True,
) -> None:
    """Check the raw exports, `dbt build`, check freshness, validate, publish and print a
    summary (which systems were used, which marts were skipped), then the report."""
    from customer360.pipeline import RunReport, run_build, write_docs_and_report
    from customer360.privacy import PrivacyKeyError, audited

    settings = _settings(config, variables)
    run = RunReport()
    try:
        with audited(settings, "build", "all", "*"):
            ok = run_build(settings, console=console, full_refresh=full_refresh, run=run)
            if ok and report:
                ok = write_docs_and_report(settings, console, run)
    except PrivacyKeyError as exc:
        raise _key_error(exc) from exc
    raise typer.Exit(0 if ok else 1)


@app.command()
def summary(
    db: Annotated[Path | None, typer.Option(help="DuckDB file (default: build DB).")] = None,
) -> None:
    """Print row counts per layer of a built warehouse."""
    import duckdb

    from customer360.pipeline import print_summary
    from customer360.privacy import PrivacyError, audited

    settings = Settings.from_env()
    target = db or settings.build_db
    if not target.is_file():
        console.print(
            f"[red]no DuckDB file at {literal(target)}: run `customer360 build` first[/red]"
        )
        raise typer.Exit(2)
    try:
        with audited(settings, "summary", "all", "*", db):
            print_summary(target, console=console)
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    except duckdb.Error as exc:
        console.print(f"[red]cannot read {literal(target)}: {literal(exc)}[/red]")
        raise typer.Exit(2) from exc


# --- generator commands (customer360.generate) -------------------------------------


@app.command()
def generate(
    people: Annotated[int, typer.Option(help="Number of synthetic people.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 42,
    out: Annotated[
        Path | None,
        typer.Option("--out", "--data-dir", help="Data directory (default: C360_DATA_DIR)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    day: Annotated[int, typer.Option(help="Scenario day K: the exports as of end date + K.")] = 0,
    end_date: Annotated[
        str | None, typer.Option(help="Export date of day 0, YYYY-MM-DD (default: today UTC).")
    ] = None,
) -> None:
    """Write synthetic raw exports of the seven source systems plus ground truth."""
    from datetime import date

    from rich.table import Table

    from customer360.generate import generate as run_generate

    data_dir = out or Settings.from_env().data_dir
    try:
        end = date.fromisoformat(end_date) if end_date else None
        result = run_generate(data_dir, people=people, seed=seed, fmt=fmt, day=day, end_date=end)
    except ValueError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    summary_table = Table(title=f"raw rows as of {result.as_of:%Y-%m-%d %H:%M} UTC (day {day})")
    summary_table.add_column("table")
    summary_table.add_column("rows", justify="right")
    for name, n in result.rows.items():
        summary_table.add_row(cell(name), f"{n:,}")
    summary_table.add_row("[bold]total", f"[bold]{result.total_rows:,}")
    console.print(summary_table)
    console.print(
        f"wrote {literal(data_dir)}/raw ({literal(fmt)}) and {literal(data_dir)}/truth in "
        f"{result.seconds:.1f} s"
    )


# --- identity commands (customer360.identity) --------------------------------------


@app.command()
def explain(
    customer_id: Annotated[str, typer.Argument(help="Customer ID (an old, merged ID works too).")],
    from_record: Annotated[
        str | None, typer.Option("--from", help="Record id, e.g. shop.customers:SC0000059.")
    ] = None,
    to_record: Annotated[str | None, typer.Option("--to", help="Second record id.")] = None,
    db: Annotated[Path | None, typer.Option(help="DuckDB file (default: build DB).")] = None,
) -> None:
    """Show a customer's records and the identifiers that link them (and, with --from/--to,
    the shortest identifier path between two of its records)."""
    from customer360.identity import IdentityError, explain_customer, print_explanation
    from customer360.privacy import audited

    settings = Settings.from_env()
    try:
        with audited(settings, "explain", "customer_id", customer_id, db) as log:  # privacy audit
            result = explain_customer(db or settings.build_db, customer_id, from_record, to_record)
            log["customer_id"] = result.customer_id
    except IdentityError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    print_explanation(result, console)


@app.command()
def evaluate(
    db: Annotated[Path | None, typer.Option(help="DuckDB file (default: build DB).")] = None,
) -> None:
    """Score the clustering against the generator's ground truth (pairwise precision/recall)."""
    from customer360.identity import IdentityError, print_evaluation
    from customer360.identity import evaluate as run_evaluate
    from customer360.privacy import PrivacyError, audited

    settings = Settings.from_env()
    try:
        with audited(settings, "evaluate", "all", "*", db):
            result = run_evaluate(settings, db)
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    except IdentityError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    print_evaluation(result, console)


@app.command("reset-ids")
def reset_ids_command(
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: forget every customer ID ever minted.")
    ] = False,
) -> None:
    """Drop the persistent customer-ID registry (identity_state). Irreversible: the next
    build mints all IDs afresh. Needs --yes."""
    from customer360.identity import reset_ids

    settings = Settings.from_env()
    if not yes:
        console.print(
            f"[red]reset-ids forgets every customer ID in {literal(settings.build_db)}; "
            "IDs given to analysts or systems will no longer resolve. Re-run with --yes.[/red]"
        )
        raise typer.Exit(2)
    from customer360.build_state import BuildLock, BuildLockError
    from customer360.privacy import PrivacyError, audited

    try:
        with (
            BuildLock(settings.build_db, "customer360 reset-ids"),
            audited(settings, "reset-ids", "all", "*"),
        ):
            dropped = reset_ids(settings)
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    except BuildLockError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"dropped: {literal(', '.join(dropped)) if dropped else 'nothing (no registry)'}")


@app.command("retrain-matcher")
def retrain_matcher_command(
    db: Annotated[Path | None, typer.Option(help="DuckDB file (default: build DB).")] = None,
) -> None:
    """Train the probabilistic matcher again on the last build's person records and store
    it as a new version (identity_state.probabilistic_model); nothing is stored when the
    fit equals the current model. The next build scores with it."""
    from customer360.privacy import PrivacyError, audited
    from customer360.probabilistic import retrain

    settings = Settings.from_env()
    try:
        with audited(settings, "retrain-matcher", "all", "*", db):
            result = retrain(db or settings.build_db)
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    except (ValueError, duckdb_errors()) as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    if result.changed:
        console.print(
            f"stored model v{result.version} (was v{result.previous_version}; largest weight "
            f"change {result.max_weight_change:.4f}): the next build scores with it"
        )
    else:
        console.print(f"the fit equals the stored model v{result.version}: nothing changed")
    console.print(result.stats)


@app.command("matcher-preview")
def matcher_preview_command(
    threshold: Annotated[float, typer.Option(help="Match probability to preview (>= 0.5).")],
    db: Annotated[Path | None, typer.Option(help="DuckDB file (default: build DB).")] = None,
) -> None:
    """Show how many customers a new probabilistic-match threshold would merge or split,
    before it is applied (var identity_probabilistic.threshold)."""
    from customer360.privacy import PrivacyError, audited
    from customer360.probabilistic import preview_threshold

    settings = Settings.from_env()
    try:
        with audited(settings, "matcher-preview", "all", "*", db):
            p = preview_threshold(db or settings.build_db, threshold)
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    except (ValueError, duckdb_errors()) as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    console.print(
        f"threshold {p.current_threshold} -> {p.new_threshold}: links {p.links_now} -> "
        f"{p.links_after}; {p.customers_merged} customers would merge into others, "
        f"{p.customers_split_off} new customers would split off"
    )
    for a, b in p.merge_examples:
        console.print(f"  merge: {a} + {b}")
    for c in p.split_examples:
        console.print(f"  split: {c}")


def duckdb_errors() -> type[Exception]:
    import duckdb

    return duckdb.Error


# --- quality commands (customer360.raw_contract_check / customer360.gx_validation) ---


@app.command("check-raw")
def check_raw_command(
    raw_path: Annotated[
        Path | None, typer.Option(help="Raw export folder (default: $C360_RAW_PATH).")
    ] = None,
    raw_format: Annotated[
        str | None, typer.Option("--format", help="parquet or csv (default: $C360_RAW_FORMAT).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Check the raw exports of the systems the project config declares against the
    contract: missing files or required columns fail; undeclared systems are not read."""
    from customer360.config import ConfigError
    from customer360.coverage import print_systems
    from customer360.raw_contract_check import check_raw, print_report

    settings = _settings(config)
    fmt = raw_format or settings.raw_format
    if fmt not in ("parquet", "csv"):
        console.print(f"[red]--format must be parquet or csv, not {literal(repr(fmt))}[/red]")
        raise typer.Exit(2)
    try:
        tables = settings.config.present_tables(settings.project_dir)
    except ConfigError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    if raw_path:
        settings = dataclasses.replace(settings, raw_path=raw_path.resolve())
    print_systems(settings, console)
    report = check_raw(raw_path or settings.raw_path, fmt, tables)
    print_report(report, console)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def validate(
    db: Annotated[Path | None, typer.Option(help="DuckDB file (default: build DB).")] = None,
    docs_dir: Annotated[
        Path | None, typer.Option(help="Where GX data docs go (default: <reports>/gx).")
    ] = None,
    config: ConfigOption = None,
    variables: VarsOption = None,
) -> None:
    """Run the Great Expectations suite on dim_customer and customer_source_map."""
    from customer360.gx_validation import (
        ValidationSetupError,
        customer_id_regex,
        print_validation,
        run_validation,
    )
    from customer360.privacy import audited

    settings = _settings(config, variables)
    regex = customer_id_regex(settings.project_dir, settings.dbt_vars())  # the build's ID format
    try:
        with audited(settings, "validate", "all", "*", db):
            result = run_validation(
                db or settings.build_db, docs_dir or settings.reports_dir / "gx", regex
            )
    except ValidationSetupError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    print_validation(result, console)
    raise typer.Exit(0 if result.success else 1)


# --- serving commands (customer360.publish / customer360.report) -------------------


@app.command()
def publish(
    include: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated schemas or schema.table to publish (default: "
            "$C360_PUBLISH_INCLUDE or analyst)."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Publish the build DB's analyst schemas atomically to the published warehouse file.
    Only a build that passed (dbt, freshness, validation) is published; a plain `dbt
    build` is validated first."""
    from customer360.build_state import (
        BuildLock,
        BuildLockError,
        BuildNotPassedError,
        read_status,
        require_passed,
    )
    from customer360.privacy import PrivacyError, audited

    settings = _settings(config)
    try:
        with (
            BuildLock(settings.build_db, "customer360 publish"),
            audited(settings, "publish", "all", "*"),
        ):
            status = read_status(settings.build_db) or {}
            if status.get("status") == "dbt_passed":  # plain `dbt build`: validate first
                _validate_then_mark_passed(settings)
            require_passed(settings.build_db)
            _publish_locked(settings, include)
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    except (BuildLockError, BuildNotPassedError) as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(1) from exc


def _validate_then_mark_passed(settings: Settings) -> None:
    """A build that passed plain `dbt build`: run the Great Expectations suite; when it
    passes, commit the identity state and mark the build passed."""
    from customer360.build_state import (
        commit_identity_state,
        mark_failed,
        mark_passed,
        read_status,
    )
    from customer360.gx_validation import (
        ValidationSetupError,
        customer_id_regex,
        print_validation,
        run_validation,
    )

    console.print("the last build ran plain `dbt build`: validating it before publishing")
    regex = customer_id_regex(settings.project_dir, settings.dbt_vars())  # the build's ID format
    try:
        result = run_validation(settings.build_db, settings.reports_dir / "gx", regex)
    except ValidationSetupError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    print_validation(result, console)
    if not result.success:
        mark_failed(settings.build_db, "validation (Great Expectations) failed")
        return
    status = read_status(settings.build_db) or {}
    if status.get("detail") == "identity state not committed":  # dbt deferred the commit
        commit_identity_state(settings.build_db)
    else:  # dbt's on-run-end committed it: only the status changes
        mark_passed(settings.build_db, "validated by customer360 publish")


def _publish_locked(settings: Settings, include: str | None) -> None:
    from customer360.publish import PublishConfig, PublishError, print_publish_result
    from customer360.publish import publish as publish_warehouse

    try:
        config = PublishConfig.from_env()
        if include:
            config = PublishConfig(
                include=tuple(p.strip() for p in include.split(",") if p.strip()),
                exclude=config.exclude,
            )
        result = publish_warehouse(settings, config=config)
    except PublishError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(1) from exc
    print_publish_result(result, console)


@app.command()
def report(
    db: Annotated[
        Path | None,
        typer.Option(help="DuckDB file, read-only (default: published warehouse, else build DB)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="HTML file (default: <reports>/customer360_report.html)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write a static, self-contained HTML report with plots of the warehouse."""
    from contextlib import nullcontext

    from customer360.privacy import PrivacyError, audited
    from customer360.report import ReportError, default_report_db, print_report_result, write_report
    from customer360.restricted_db import is_encrypted

    settings = _settings(config)
    source = db or default_report_db(settings)
    restricted = source.resolve() != settings.published_db.resolve() or is_encrypted(source)
    try:
        with audited(settings, "report", "all", "*", source) if restricted else nullcontext():
            result = write_report(settings, db=db, out=out)
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    except ReportError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    print_report_result(result, console)


# --- privacy commands (customer360.privacy) ----------------------------------------


@app.command("subject-access")
def subject_access_command(
    customer_id: Annotated[
        str | None, typer.Argument(help="Customer ID (an old, merged ID works too).")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Find the person by e-mail.")] = None,
    phone: Annotated[str | None, typer.Option(help="Find the person by phone.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the JSON here (default: stdout).")
    ] = None,
    db: Annotated[Path | None, typer.Option(help="DuckDB file (default: build DB).")] = None,
) -> None:
    """Right of access: every record of a person across all source systems, the identity
    graph and the mart rows, as JSON. Logged in the privacy audit log."""
    from customer360.privacy import PrivacyError, audited, subject_access, write_json

    settings = Settings.from_env()
    kind, subject = _privacy_subject(customer_id, email, phone)
    try:
        with audited(settings, "subject-access", kind, subject, db) as log:
            data = subject_access(
                settings, customer_id=customer_id, email=email, phone=phone, db=db
            )
            log["customer_id"] = data["customer_id"]
    except PrivacyError as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    text = write_json(data, out)
    if out is None:
        typer.echo(text)
    else:
        console.print(
            f"wrote {len(data['records'])} source records, "
            f"{sum(len(v) for v in data['marts'].values())} mart rows of "
            f"{literal(data['customer_id'] or 'no customer')} to {literal(out)}"
        )


@app.command()
def erase(
    customer_id: Annotated[
        str | None, typer.Argument(help="Customer ID (an old, merged ID works too).")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Erase the person with this e-mail.")] = None,
) -> None:
    """Right to erasure: record an erasure request (stored as HMACs, survives
    --full-refresh) and tombstone the customer ID. The next build removes the person from
    staging, identity, marts and the published warehouse. Logged in the audit log."""
    from customer360.privacy import PrivacyError, audited
    from customer360.privacy import erase as run_erase

    settings = Settings.from_env()
    kind, subject = _privacy_subject(customer_id, email, None)
    if email is not None and not _looks_like_email(email):
        console.print(
            f"[red]{literal(repr(email))} is not an e-mail address (name@domain.tld): erasure "
            "by e-mail needs the address exactly as the person gave it[/red]"
        )
        raise typer.Exit(2)
    from customer360.build_state import BuildLock, BuildLockError

    try:
        with (
            BuildLock(settings.build_db, "customer360 erase"),
            audited(settings, "erase", kind, subject) as log,
        ):
            result = run_erase(settings, customer_id=customer_id, email=email)
            log["customer_id"] = ",".join(result.customer_ids) or None
    except (PrivacyError, BuildLockError) as exc:
        console.print(f"[red]{literal(exc)}[/red]")
        raise typer.Exit(2) from exc
    from customer360.build_state import mark_failed

    # the build on disk still holds the person: it must not be published (nor its
    # pending identity state committed over the tombstones) until the next build
    mark_failed(settings.build_db, "erasure requested after this build: rebuild")
    message = (
        f"erasure request {result.request_id}: {result.n_records} records and "
        f"{result.n_identifiers} identifiers suppressed"
    )
    if result.n_shared_identifiers_kept:
        message += f", {result.n_shared_identifiers_kept} identifiers shared with others kept"
    if result.customer_ids:
        message += f"; customer ID(s) {', '.join(result.customer_ids)} tombstoned"
    console.print(cell(message))
    console.print("run `customer360 build` to remove the person from every layer and publish")


@app.command("rotate-key")
def rotate_key_command(
    new_key_file: Annotated[
        Path | None,
        typer.Option(help="File with the new HMAC key (default: $C360_HMAC_KEY_NEW)."),
    ] = None,
    new_db_key_file: Annotated[
        Path | None,
        typer.Option(help="Also re-encrypt the build DB with this key (or $C360_DB_KEY_NEW)."),
    ] = None,
    mapping_days: Annotated[
        int | None,
        typer.Option(
            help="Publish old->new pseudonyms for N days (default: "
            "$C360_ROTATION_MAPPING_DAYS or 0 = none)."
        ),  # fmt: skip
    ] = None,
) -> None:
    """Rotate the HMAC key (old key: C360_HMAC_KEY): re-key the erasure suppressions,
    rebuild, republish, and prove every erased person is still absent and every customer
    ID unchanged. Then store the new key where C360_HMAC_KEY comes from."""
    import os

    from customer360.privacy import PrivacyError, audited
    from customer360.rotation import rotate_key, summary

    settings = Settings.from_env()
    new_key = new_key_file.read_text().strip() if new_key_file else ""
    new_key = new_key or os.environ.get("C360_HMAC_KEY_NEW", "").strip()
    new_db = new_db_key_file.read_text().strip() if new_db_key_file else ""
    new_db = new_db or os.environ.get("C360_DB_KEY_NEW", "").strip() or None
    if not new_key:
        console.print("[red]no new key: give --new-key-file or set C360_HMAC_KEY_NEW[/red]")
        raise typer.Exit(2)
    try:
        with audited(settings, "rotate-key", "all", "*"):
            result = rotate_key(
                settings, new_key, console, new_db_key=new_db, mapping_days=mapping_days
            )
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    console.print_json(data=summary(result))
    console.print(
        "[green]rotated: every erased person still absent, every customer ID unchanged. "
        "Now replace C360_HMAC_KEY (and C360_DB_KEY) with the new key(s).[/green]"
    )


@app.command("encrypt-db")
def encrypt_db_command() -> None:
    """Encrypt an existing plaintext build DB with the database key (C360_DB_KEY), once."""
    from customer360.keys import ROLE_OPERATOR, load_db_key
    from customer360.privacy import PrivacyError, audited
    from customer360.restricted_db import is_encrypted, rekey_database

    settings = Settings.from_env()
    db = settings.build_db
    try:
        key = load_db_key(ROLE_OPERATOR)
        if key is None or not db.exists() or is_encrypted(db):
            console.print(f"nothing to do: {literal(db)} is missing, encrypted, or "
                          "encryption is off")  # fmt: skip
            return
        with audited(settings, "encrypt-db", "all", "*"):
            rekey_database(db, None, key)
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    console.print(f"encrypted {literal(db)}")


audit_app = typer.Typer(help="The tamper-evident privacy audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify_command(
    log: Annotated[Path | None, typer.Option(help="Audit log (default: $C360_AUDIT_LOG).")] = None,
) -> None:
    """Check the audit log's hash chain: a removed, changed, inserted or reordered entry,
    or entries cut off the end, fail (exit 1)."""
    from customer360 import audit_log
    from customer360.privacy import PrivacyError, audit_log_path

    settings = Settings.from_env()
    path = log or audit_log_path(settings)
    try:
        result = audit_log.verify(path)
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    for problem in result.problems:
        console.print(f"[red]{literal(problem)}[/red]")
    if result.ok:
        console.print(f"[green]{literal(path)}: {result.entries} entries, chain intact[/green]")
    raise typer.Exit(0 if result.ok else 1)


_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _looks_like_email(value: str) -> bool:
    """One @, no spaces or control characters, a dotted domain."""
    text = value.strip()
    return text.isprintable() and _EMAIL.fullmatch(text) is not None


def _privacy_subject(
    customer_id: str | None, email: str | None, phone: str | None
) -> tuple[str, str]:
    candidates = (("customer_id", customer_id), ("email", email), ("phone", phone))
    given = [(k, v) for k, v in candidates if v]
    if len(given) != 1:
        console.print("[red]give exactly one of a customer ID, --email or --phone[/red]")
        raise typer.Exit(2)
    return given[0]


def main() -> None:
    """Entry point (``customer360``): the commands handle the errors they expect; any
    other exception is printed as one line (literally) with exit code 3 instead of a
    traceback. ``C360_DEBUG=1`` shows the traceback."""
    import os
    import sys

    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("C360_DEBUG") == "1":
            raise
        console.print(
            f"[red]customer360 failed: {literal(type(exc).__name__)}: {literal(exc)}[/red] "
            "(an unexpected error: please report it; C360_DEBUG=1 shows the traceback)"
        )
        sys.exit(3)


if __name__ == "__main__":  # pragma: no cover
    main()
