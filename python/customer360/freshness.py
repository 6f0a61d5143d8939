"""Source freshness relative to the export date: a historical export builds by default.

For each declared event table (:data:`customer360.contracts.FRESHNESS`) the newest
record in the raw file (timestamps with offsets or zone names read as UTC, as staging
reads them) is compared with a *reference* time from the project config
(``freshness.reference``):

* ``export`` (default): the export date, i.e. the newest record of any declared event
  table. A feed that stopped while the others went on is stale; a complete export of
  1997 is not.
* ``now``: the build time (a daily production pipeline: exports must be recent).
* ``YYYY-MM-DD``: a fixed export date (end of that day, UTC).

Limits come from the contract (``warn_after`` / ``error_after`` hours) unless the config
sets them per table (``freshness.tables.<system>.<table>``). An error fails the run
before publishing; a warning is printed. Tables with no rows are skipped (nothing to
date).

``run_source_freshness`` below runs ``dbt source freshness`` (limits in the sources YAML,
measured against the current time) for users who call dbt directly; ``customer360 build``
uses :func:`check_freshness`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from customer360.console import cell, literal
from customer360.contracts import FRESHNESS
from customer360.raw_contract_check import first_line
from customer360.settings import Settings


@dataclass(frozen=True)
class TableFreshness:
    source: str  # "system.table"
    status: str  # pass, warn, error, empty
    max_loaded_at: datetime | None
    age_hours: float | None
    warn_after_hours: float | None
    error_after_hours: float | None


@dataclass
class FreshnessResult:
    reference: str  # export | now | a date
    reference_at: datetime | None
    tables: list[TableFreshness] = field(default_factory=list)

    @property
    def errors(self) -> list[TableFreshness]:
        return [t for t in self.tables if t.status == "error"]

    @property
    def warnings(self) -> list[TableFreshness]:
        return [t for t in self.tables if t.status == "warn"]

    @property
    def ok(self) -> bool:
        return not self.errors


def _reader(path: Path, fmt: str) -> str:
    quoted = "'" + str(path).replace("'", "''") + "'"
    if fmt == "csv":
        return f"read_csv({quoted}, header=true, all_varchar=true)"
    return f"read_parquet({quoted})"


def newest_records(settings: Settings) -> dict[str, datetime | None]:
    """``system.table`` -> newest record (UTC) of every declared event table."""
    out: dict[str, datetime | None] = {}
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        for (system, name), (column, _, _) in sorted(FRESHNESS.items()):
            if not settings.config.has(system, name):
                continue
            path = settings.raw_path / system / f"{name}.{settings.raw_format}"
            if not path.is_file():
                continue  # the raw-contract check reports it
            value = con.execute(
                f"select max(timezone('UTC', try_cast(cast({column} as varchar) as timestamptz))) "
                f"from {_reader(path, settings.raw_format)}"
            ).fetchone()
            out[f"{system}.{name}"] = value[0] if value else None
    finally:
        con.close()
    return out


def check_freshness(settings: Settings, now: datetime | None = None) -> FreshnessResult:
    """Ages of the declared event tables against the configured reference."""
    config = settings.config
    newest = newest_records(settings)
    reference = config.freshness_reference
    if reference == "now":
        reference_at: datetime | None = (now or datetime.now(UTC)).replace(tzinfo=None)
    elif reference == "export":
        dated = [v for v in newest.values() if v is not None]
        reference_at = max(dated) if dated else None
    else:
        reference_at = datetime.combine(date.fromisoformat(reference), time(23, 59, 59))
    result = FreshnessResult(reference, reference_at)
    for source, latest in newest.items():
        system, name = source.split(".", 1)
        _, warn_h, error_h = FRESHNESS[(system, name)]
        limits = config.freshness_tables.get(source)
        warn: float | None = float(warn_h)
        error: float | None = float(error_h)
        if limits is not None:
            warn, error = limits.warn_after_hours, limits.error_after_hours
        if latest is None or reference_at is None:
            result.tables.append(TableFreshness(source, "empty", None, None, warn, error))
            continue
        age = (reference_at - latest).total_seconds() / 3600
        status = "pass"
        if error is not None and age > error:
            status = "error"
        elif warn is not None and age > warn:
            status = "warn"
        result.tables.append(TableFreshness(source, status, latest, age, warn, error))
    return result


def print_freshness_result(result: FreshnessResult, console: Console) -> None:
    at = f"{result.reference_at:%Y-%m-%d %H:%M}" if result.reference_at else "no records"
    grid = Table(title=f"source freshness against {result.reference} ({at} UTC)")
    grid.add_column("source")
    grid.add_column("status")
    grid.add_column("newest record (UTC)")
    grid.add_column("age", justify="right")
    grid.add_column("warn / error after", justify="right")
    styles = {"pass": "green", "warn": "yellow", "empty": "dim"}

    def hours(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f} h"

    for t in result.tables:
        style = styles.get(t.status, "red")
        grid.add_row(
            t.source,
            f"[{style}]{t.status}[/{style}]",
            "" if t.max_loaded_at is None else f"{t.max_loaded_at:%Y-%m-%d %H:%M}",
            "" if t.age_hours is None else f"{t.age_hours:,.1f} h",
            f"{hours(t.warn_after_hours)} / {hours(t.error_after_hours)}",
        )
    if result.tables:
        console.print(grid)
    else:
        console.print("source freshness: no event tables declared, nothing to check")
    if result.errors:
        console.print(
            f"[red]{len(result.errors)} source(s) are stale: their newest record is older "
            f"than error_after before the reference ({result.reference}). Re-export them, or "
            "set freshness limits per table in the project config "
            "(docs/bring-your-own-data.md, 'Freshness')[/red]"
        )


# ------------------------------------------------------------------ dbt source freshness


@dataclass(frozen=True)
class SourceFreshness:
    source: str  # "system.table"
    status: str  # pass, warn, error, runtime error
    max_loaded_at: str | None
    age_hours: float | None
    message: str = ""


@dataclass
class FreshnessReport:
    sources: list[SourceFreshness] = field(default_factory=list)
    returncode: int = 0
    output: str = ""

    @property
    def errors(self) -> list[SourceFreshness]:
        return [s for s in self.sources if s.status in ("error", "runtime error")]

    @property
    def warnings(self) -> list[SourceFreshness]:
        return [s for s in self.sources if s.status == "warn"]

    @property
    def ok(self) -> bool:
        """Warnings pass; an error (stale source) or a failed dbt run does not."""
        return not self.errors and (self.returncode == 0 or bool(self.sources))


def run_source_freshness(settings: Settings) -> FreshnessReport:
    """`dbt source freshness` for the event sources (thresholds in the sources YAML),
    read back from ``target/sources.json``."""
    from customer360.dbt import run_dbt

    results_path = settings.dbt_target_path / "sources.json"
    results_path.unlink(missing_ok=True)
    proc = run_dbt(["source", "freshness"], settings, check=False)
    report = FreshnessReport(returncode=proc.returncode, output=proc.stdout)
    try:
        results = json.loads(results_path.read_text())["results"]
    except (OSError, ValueError, KeyError):
        return report
    for r in results:
        source = ".".join(r["unique_id"].split(".")[-2:])
        age = r.get("max_loaded_at_time_ago_in_s")
        report.sources.append(
            SourceFreshness(
                source=source,
                status=str(r.get("status")),
                max_loaded_at=r.get("max_loaded_at"),
                age_hours=None if age is None else float(age) / 3600,
                message=first_line(r.get("error") or "") if r.get("error") else "",
            )
        )
    report.sources.sort(key=lambda s: s.source)
    return report


def print_freshness(report: FreshnessReport, console: Console) -> None:
    if not report.sources:
        console.print("[red]dbt source freshness produced no results[/red]")
        console.print(literal(report.output[-3000:]))
        return
    grid = Table(title="source freshness (dbt source freshness)")
    grid.add_column("source")
    grid.add_column("status")
    grid.add_column("latest record")
    grid.add_column("age", justify="right")
    styles = {"pass": "green", "warn": "yellow"}
    for s in report.sources:
        style = styles.get(s.status, "red")
        age = "" if s.age_hours is None else f"{s.age_hours:,.1f} h"
        latest = s.max_loaded_at or s.message
        grid.add_row(cell(s.source), f"[{style}]{literal(s.status)}[/{style}]", cell(latest), age)
    console.print(grid)
    if report.errors:
        console.print(
            f"[red]{len(report.errors)} source(s) are stale beyond error_after: the exports "
            "look old (see the freshness thresholds in models/staging/*/_*__sources.yml)[/red]"
        )
