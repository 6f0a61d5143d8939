"""The `customer360` command line: thin wrappers over library functions.

Each command calls a function that tests call directly; no logic lives here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from customer360.settings import Settings

app = typer.Typer(
    help="customer360: one persistent customer ID per person, on dbt + DuckDB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

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
    console.print(f"[red]{escape(str(exc))}[/red]")
    return typer.Exit(2)


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="Number of synthetic people.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
) -> None:
    """Generate the demo sources, build the warehouse, validate it and print a summary."""
    from customer360.pipeline import run_demo
    from customer360.privacy import audited

    settings = Settings.from_env()
    # run_demo is the only caller of keys.enable_demo_keys (local demo keys)
    with audited(settings, "demo", "all", "*"):
        ok = run_demo(settings, people=people, seed=seed, console=console)
    raise typer.Exit(0 if ok else 1)


@app.command()
def build(
    full_refresh: Annotated[bool, typer.Option(help="Rebuild tables (ID registry kept).")] = False,
) -> None:
    """Run `dbt build` on the current raw exports and print a summary."""
    from customer360.pipeline import run_build
    from customer360.privacy import PrivacyKeyError, audited

    settings = Settings.from_env()
    try:
        with audited(settings, "build", "all", "*") as log:
            ok = run_build(settings, console=console, full_refresh=full_refresh)
            log["customer_id"] = None
    except PrivacyKeyError as exc:
        raise _key_error(exc) from exc
    raise typer.Exit(0 if ok else 1)


@app.command()
def summary(
    db: Annotated[Path | None, typer.Option(help="DuckDB file (default: build DB).")] = None,
) -> None:
    """Print row counts per layer of a built warehouse."""
    from customer360.pipeline import print_summary
    from customer360.privacy import PrivacyError, audited

    settings = Settings.from_env()
    try:
        with audited(settings, "summary", "all", "*", db):
            print_summary(db or settings.build_db, console=console)
    except PrivacyError as exc:
        raise _key_error(exc) from exc


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
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    summary_table = Table(title=f"raw rows as of {result.as_of:%Y-%m-%d %H:%M} UTC (day {day})")
    summary_table.add_column("table")
    summary_table.add_column("rows", justify="right")
    for name, n in result.rows.items():
        summary_table.add_row(name, f"{n:,}")
    summary_table.add_row("[bold]total", f"[bold]{result.total_rows:,}")
    console.print(summary_table)
    console.print(f"wrote {data_dir}/raw ({fmt}) and {data_dir}/truth in {result.seconds:.1f} s")


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
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from exc
    print_explanation(result, console)


@app.command()
def evaluate(
    db: Annotated[Path | None, typer.Option(help="DuckDB file (default: build DB).")] = None,
) -> None:
    """Score the clustering against the generator's ground truth (pairwise precision/recall)."""
    from customer360.identity import IdentityError, print_evaluation
    from customer360.identity import evaluate as run_evaluate
    from customer360.privacy import audited

    settings = Settings.from_env()
    try:
        with audited(settings, "evaluate", "all", "*", db):
            result = run_evaluate(settings, db)
    except IdentityError as exc:
        console.print(f"[red]{exc}[/red]")
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
            f"[red]reset-ids forgets every customer ID in {settings.build_db}; "
            "IDs given to analysts or systems will no longer resolve. Re-run with --yes.[/red]"
        )
        raise typer.Exit(2)
    from customer360.privacy import PrivacyError, audited

    try:
        with audited(settings, "reset-ids", "all", "*"):
            dropped = reset_ids(settings)
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    console.print(f"dropped: {', '.join(dropped) if dropped else 'nothing (no registry)'}")


# --- quality commands (customer360.quality / customer360.validate) -----------------


@app.command("check-raw")
def check_raw_command(
    raw_path: Annotated[
        Path | None, typer.Option(help="Raw export folder (default: $C360_RAW_PATH).")
    ] = None,
    raw_format: Annotated[
        str | None, typer.Option("--format", help="parquet or csv (default: $C360_RAW_FORMAT).")
    ] = None,
) -> None:
    """Check the raw exports against the contract: missing files or required columns fail."""
    from customer360.quality import check_raw, print_report

    settings = Settings.from_env()
    report = check_raw(raw_path or settings.raw_path, raw_format or settings.raw_format)
    print_report(report, console)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def validate(
    db: Annotated[Path | None, typer.Option(help="DuckDB file (default: build DB).")] = None,
    docs_dir: Annotated[
        Path | None, typer.Option(help="Where GX data docs go (default: <reports>/gx).")
    ] = None,
) -> None:
    """Run the Great Expectations suite on dim_customer and customer_source_map."""
    from customer360.privacy import audited
    from customer360.validate import ValidationSetupError, print_validation, run_validation

    settings = Settings.from_env()
    try:
        with audited(settings, "validate", "all", "*", db):
            result = run_validation(
                db or settings.build_db, docs_dir or settings.reports_dir / "gx"
            )
    except ValidationSetupError as exc:
        console.print(f"[red]{exc}[/red]")
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
) -> None:
    """Publish the build DB's analyst schemas atomically to the published warehouse file."""
    from customer360.publish import PublishConfig, PublishError, print_publish_result
    from customer360.publish import publish as publish_warehouse

    settings = Settings.from_env()
    try:
        config = PublishConfig.from_env()
        if include:
            config = PublishConfig(
                include=tuple(p.strip() for p in include.split(",") if p.strip()),
                exclude=config.exclude,
            )
        from customer360.privacy import audited

        with audited(settings, "publish", "all", "*"):
            result = publish_warehouse(settings, config=config)
    except PublishError as exc:
        console.print(f"[red]{exc}[/red]")
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
) -> None:
    """Write a static, self-contained HTML report with plots of the warehouse."""
    from contextlib import nullcontext

    from customer360.privacy import audited
    from customer360.report import ReportError, default_report_db, print_report_result, write_report
    from customer360.restricted_db import is_encrypted

    settings = Settings.from_env()
    source = db or default_report_db(settings)
    restricted = source.resolve() != settings.published_db or is_encrypted(source)
    try:
        with audited(settings, "report", "all", "*", source) if restricted else nullcontext():
            result = write_report(settings, db=db, out=out)
    except ReportError as exc:
        console.print(f"[red]{exc}[/red]")
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
        raise _key_error(exc) from exc
    text = write_json(data, out)
    if out is None:
        typer.echo(text)
    else:
        console.print(
            f"wrote {len(data['records'])} source records, "
            f"{sum(len(v) for v in data['marts'].values())} mart rows of "
            f"{data['customer_id'] or 'no customer'} to {out}"
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
    try:
        with audited(settings, "erase", kind, subject) as log:
            result = run_erase(settings, customer_id=customer_id, email=email)
            log["customer_id"] = ",".join(result.customer_ids) or None
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    message = (
        f"erasure request {result.request_id}: {result.n_records} records and "
        f"{result.n_identifiers} identifiers suppressed"
    )
    if result.n_shared_identifiers_kept:
        message += f", {result.n_shared_identifiers_kept} identifiers shared with others kept"
    if result.customer_ids:
        message += f"; customer ID(s) {', '.join(result.customer_ids)} tombstoned"
    console.print(message)
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
            console.print(f"nothing to do: {escape(str(db))} is missing, encrypted, or "
                          "encryption is off")  # fmt: skip
            return
        with audited(settings, "encrypt-db", "all", "*"):
            rekey_database(db, None, key)
    except PrivacyError as exc:
        raise _key_error(exc) from exc
    console.print(f"encrypted {escape(str(db))}")


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
        console.print(f"[red]{escape(problem)}[/red]")
    if result.ok:
        console.print(f"[green]{escape(str(path))}: {result.entries} entries, chain intact[/green]")
    raise typer.Exit(0 if result.ok else 1)


def _privacy_subject(
    customer_id: str | None, email: str | None, phone: str | None
) -> tuple[str, str]:
    candidates = (("customer_id", customer_id), ("email", email), ("phone", phone))
    given = [(k, v) for k, v in candidates if v]
    if len(given) != 1:
        console.print("[red]give exactly one of a customer ID, --email or --phone[/red]")
        raise typer.Exit(2)
    return given[0]


if __name__ == "__main__":  # pragma: no cover
    app()
