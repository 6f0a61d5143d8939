"""Source freshness: `dbt source freshness` for the event sources, read back and printed.

The thresholds (``warn_after``/``error_after``) live in the sources YAML
(``models/staging/*/_*__sources.yml``); ``customer360 build``/``demo`` run this after the
build and stop before publishing when a source is stale beyond ``error_after``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from customer360.console import cell, literal
from customer360.raw_contract_check import first_line
from customer360.settings import Settings


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
