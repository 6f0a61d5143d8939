"""`customer360 report`: a static, self-contained HTML report with plots of a built warehouse.

The report reads the **published** warehouse (or any build DB) read-only, so it never
blocks or is blocked by a running build. It uses the pseudonymised ``analyst`` schema when
the file has one (the published file has only that) and the ``marts`` schema otherwise;
both hold the same table names. A section whose tables are missing is shown as "not
built" instead of failing, so the report works on a partial build.

The package is split by what each module holds:

* :mod:`~customer360.report.queries`: the SQL (read-only access, one query per plot);
* :mod:`~customer360.report.figures`: the matplotlib drawings (Agg renderer, no display),
  as PNG bytes;
* :mod:`~customer360.report.sections`: the five sections, each plot with its caption;
* :mod:`~customer360.report.render` and ``templates/report.html.j2``: the page, one HTML
  file with the plots embedded as base64 PNG ``<img>`` tags and no external resource;
* this module: the entry points (:func:`build_report`, :func:`write_report`).

A small inline script in the template records, once the page has loaded, how many plot
images decoded (``document.body.dataset.plotsLoaded`` of ``plotsExpected``) and any
JavaScript or resource errors (``dataset.jsErrors``, a JSON list): what the
headless-browser test reads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from customer360.console import cell, literal
from customer360.publish import PublishError, connect_read_only
from customer360.report.queries import ReportSource, overview
from customer360.report.render import render_html
from customer360.report.sections import SECTIONS, Missing, Plot, Section
from customer360.settings import Settings

REPORT_FILE = "customer360_report.html"


class ReportError(RuntimeError):
    """The report could not be written (no readable warehouse, unwritable output)."""


@dataclass(frozen=True)
class ReportResult:
    path: Path
    source_db: Path
    schema: str | None  # schema the tables were read from; None when none was found
    sections: tuple[Section, ...]
    seconds: float

    @property
    def plots(self) -> list[Plot]:
        return [p for s in self.sections for p in s.plots]

    @property
    def missing(self) -> list[Missing]:
        return [m for s in self.sections for m in s.missing]


def default_report_db(settings: Settings) -> Path:
    """The published warehouse if there is one, else the build DB."""
    return settings.published_db if settings.published_db.exists() else settings.build_db


def build_report(db: Path, out: Path) -> ReportResult:
    """Read ``db`` read-only and write the HTML report to ``out`` (atomically)."""
    started = time.perf_counter()
    try:
        con = connect_read_only(db, timeout=60)
    except PublishError as exc:
        raise ReportError(str(exc)) from exc
    try:
        src = ReportSource(con)
        sections = tuple(make(src) for make in SECTIONS)
        rows = overview(src, str(db))
        schema = src.schema
    finally:
        con.close()
    page = render_html(sections, rows, datetime.now(UTC))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {out}: {exc}") from exc
    return ReportResult(out, db, schema, sections, time.perf_counter() - started)


def write_report(
    settings: Settings, db: Path | None = None, out: Path | None = None
) -> ReportResult:
    """The report of ``db`` (default: the published warehouse, else the build DB) at
    ``out`` (default: ``<reports_dir>/customer360_report.html``)."""
    return build_report(
        db or default_report_db(settings), out or settings.reports_dir / REPORT_FILE
    )


def print_report_result(result: ReportResult, console: Console) -> None:
    table = Table(
        title=f"report {literal(result.path.name)} from {literal(result.source_db.name)} "
        f"(schema {result.schema or '-'})"
    )
    table.add_column("section")
    table.add_column("plots", justify="right")
    table.add_column("not shown")
    for s in result.sections:
        table.add_row(
            cell(s.title),
            str(len(s.plots)),
            cell("; ".join(f"{m.title}: {m.reason}" for m in s.missing)),
        )
    console.print(table)
    console.print(
        f"wrote {literal(result.path)} ({result.path.stat().st_size / 1e6:.1f} MB, "
        f"{len(result.plots)} plots) in {result.seconds:.1f} s"
    )


__all__ = [
    "REPORT_FILE",
    "ReportError",
    "ReportResult",
    "build_report",
    "default_report_db",
    "print_report_result",
    "write_report",
]
