"""Raw-export contract check: runs before any dbt model and fails fast on schema drift.

Every file ``<raw_path>/<system>/<table>.<raw_format>`` is compared with the contract in
:mod:`customer360.contracts`:

Only the tables the project config declares are checked (:mod:`customer360.config`; the
default declares all 13): an absent system is not an error. A file with a header and no
rows is valid data (a warning says so); the shrink guard still fails a table that
suddenly emptied.

* missing file, empty file (0 bytes), unreadable file (corrupt/truncated
  Parquet, CSV that is not UTF-8 or cannot be parsed) -> **error**;
* a contract column missing -> **error** naming the file, table and column, with the
  expected contract and a "did you mean" hint when a similar column exists (a renamed
  column is reported as missing + extra). Optional columns may hold nulls but must be
  in the header: staging reads every contract column;
* an extra column -> **warning**; staging selects contract columns only, so it is ignored;
* a Parquet column whose type family differs from the contract (text in a numeric column)
  -> **warning**; staging casts with ``try_cast`` and quarantines the rows that do not cast.

CSV files are read the way staging reads them (``read_csv(..., header=true,
all_varchar=true)``): values stay text, a UTF-8 byte-order mark is skipped, quoted fields
may contain commas, doubled quotes and newlines (RFC 4180).

The same column check also runs inside plain ``dbt build`` through the ``on-run-start``
hook ``check_raw_exports()`` (``macros/quality/check_raw_exports.sql``).
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
from rich.console import Console
from rich.table import Table

from customer360.contracts import RAW_TABLES, RawTable
from customer360.settings import Settings

Severity = Literal["error", "warning"]

# DuckDB type -> coarse family; only a family change is worth a warning.
_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("text", ("VARCHAR", "CHAR", "TEXT", "STRING", "UUID")),
    ("number", ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                "UINTEGER", "UBIGINT", "UHUGEINT", "DECIMAL", "DOUBLE", "FLOAT", "REAL")),
    ("time", ("TIMESTAMP", "DATE", "TIME")),
    ("boolean", ("BOOLEAN",)),
)  # fmt: skip


def type_family(duckdb_type: str) -> str:
    """'text', 'number', 'time', 'boolean' or the type itself (lists, structs, ...)."""
    t = duckdb_type.upper().strip()
    for family, prefixes in _FAMILIES:
        if any(t.startswith(p) for p in prefixes):
            return family
    return t


@dataclass(frozen=True)
class RawFinding:
    """One problem with one raw file."""

    severity: Severity
    system: str
    table: str
    file: Path
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.system}.{self.table}"
        if self.column:
            where += f".{self.column}"
        return f"{self.severity.upper()} {where} ({self.file}): {self.message}"


@dataclass
class RawCheckReport:
    raw_path: Path
    raw_format: str
    findings: list[RawFinding] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # "system.table" -> rows in file

    @property
    def errors(self) -> list[RawFinding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[RawFinding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


class RawContractError(ValueError):
    """Raw exports break the contract; ``report`` holds every finding."""

    def __init__(self, report: RawCheckReport) -> None:
        self.report = report
        lines = [f"raw exports in {report.raw_path} break the contract:"]
        lines += [f"  - {f}" for f in report.errors]
        super().__init__("\n".join(lines))


def expected_contract(t: RawTable) -> str:
    """The contract of one table as one line: ``name TYPE, ...; optional: a, b``."""
    required = ", ".join(f"{c.name} {c.type}" for c in t.columns if c.required)
    optional = ", ".join(f"{c.name} {c.type}" for c in t.columns if not c.required)
    return f"required: {required}" + (f"; optional: {optional}" if optional else "")


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def reader_sql(path: Path, fmt: str) -> str:
    """The DuckDB table function staging uses to read one raw file."""
    if fmt == "csv":
        return f"read_csv({_sql_str(str(path))}, header=true, all_varchar=true)"
    return f"read_parquet({_sql_str(str(path))})"


def first_line(message: str) -> str:
    """The first meaningful line of a DuckDB error, without the 'X Error:' prefix."""
    for line in message.splitlines():
        line = line.strip()
        if line:
            return line.split("Error: ", 1)[-1]
    return message.strip()


def find_non_utf8(path: Path, chunk_size: int = 1 << 20) -> tuple[int, int, bytes] | None:
    """(line, byte offset, offending bytes) of the first invalid UTF-8 sequence, or None."""
    offset = 0  # absolute offset of data[0]
    line = 1
    carry = b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(chunk_size)
            data = carry + chunk
            if not data:
                return None
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                truncated = exc.reason == "unexpected end of data" and exc.end == len(data)
                if not (truncated and chunk):  # a real error (or the file ends mid-char)
                    bad = data[exc.start : exc.end]
                    return line + data[: exc.start].count(b"\n"), offset + exc.start, bad
                carry = data[exc.start :]  # a character split across chunks
                data = data[: exc.start]
            line += data.count(b"\n")
            offset += len(data)
            if not chunk:
                return None


def _similar(name: str, candidates: list[str]) -> str | None:
    """The extra column that most likely is ``name`` renamed: a close spelling, else the
    one extra column sharing a word with it (order_total -> total_amount)."""
    lowered = {c.lower().strip(): c for c in candidates}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    if match:
        return lowered[match[0]]
    words = {w for w in name.lower().split("_") if len(w) >= 3}
    sharing = [c for low, c in lowered.items() if words & set(low.replace(" ", "_").split("_"))]
    return sharing[0] if len(sharing) == 1 else None


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, 2)
        return fh.read(1) in (b"\n", b"\r")


def _csv_dialect_problem(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """Explain why a CSV could not be read as comma-separated with a header."""
    strict = (
        f"read_csv({_sql_str(str(path))}, header=true, all_varchar=true, delim=',', "
        "quote='\"', escape='\"', sniff_sample_rows=-1)"
    )
    detail = ""
    try:
        con.execute(f"select count(*) from {strict}").fetchall()
    except duckdb.Error as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        located = [ln for ln in lines if ln.startswith(("CSV Error on Line", "Original Line"))]
        detail = " DuckDB: " + "; ".join(located or lines[:1])
    return (
        "cannot be parsed as comma-separated text with a header row: rows have different "
        "numbers of fields (truncated file, unquoted comma or unbalanced quote?)." + detail
    )


def check_table(
    con: duckdb.DuckDBPyConnection, t: RawTable, raw_path: Path, fmt: str
) -> tuple[list[RawFinding], int | None]:
    """Findings for one raw table, and its row count when the file could be read."""
    path = Path(t.path(str(raw_path), fmt))
    contract = expected_contract(t)

    def finding(severity: Severity, message: str, column: str | None = None) -> RawFinding:
        return RawFinding(severity, t.system, t.name, path, column, message)

    if not path.is_file():
        others = sorted(p.name for p in path.parent.glob(f"{t.name}.*")) if path.parent else []
        hint = f" (found {', '.join(others)}: is C360_RAW_FORMAT right?)" if others else ""
        return [finding("error", f"file is missing{hint}; expected contract: {contract}")], None
    if path.stat().st_size == 0:
        return [finding("error", f"file is empty (0 bytes); expected contract: {contract}")], None
    if fmt == "csv":
        bad = find_non_utf8(path)
        if bad:
            line, pos, raw = bad
            return [
                finding(
                    "error",
                    f"file is not UTF-8: invalid byte(s) {raw.hex(' ')} at line {line}, "
                    f"byte offset {pos}. Re-export as UTF-8 (e.g. `iconv -f latin1 -t utf-8`).",
                )
            ], None
    try:
        described = con.execute(f"describe select * from {reader_sql(path, fmt)}").fetchall()
        columns = {str(r[0]): str(r[1]) for r in described}
        # read every value (not only the footer's row count): corrupt pages fail here
        counted = con.execute(
            f"select count(*), min(hash(columns(*))) from {reader_sql(path, fmt)}"
        ).fetchone()
        rows = int(counted[0]) if counted else 0
    except duckdb.Error as exc:
        kind = "Parquet file (truncated or corrupt?)" if fmt == "parquet" else "CSV file"
        return [finding("error", f"not a readable {kind}: {first_line(str(exc))}")], None

    if fmt == "csv" and len(columns) == 1 and "," in next(iter(columns)):
        # the sniffer gave up on the dialect and read whole lines as one column
        return [finding("error", _csv_dialect_problem(con, path))], None

    findings: list[RawFinding] = []
    by_lower = {name.lower(): name for name in columns}
    contract_names = {c.name.lower() for c in t.columns}
    extras = [name for name in columns if name.lower() not in contract_names]
    for c in t.columns:
        actual = by_lower.get(c.name.lower())
        if actual is None:
            guess = _similar(c.name, extras)
            hint = f" Did you mean {guess!r} (renamed?)" if guess else ""
            kind = "required" if c.required else "optional"
            note = "" if c.required else " (optional columns may be empty but must be present)"
            findings.append(
                finding(
                    "error",
                    f"{kind} column {c.name!r} ({c.type}) is missing{note}.{hint} "
                    f"Columns in file: {', '.join(columns)}. Expected contract: {contract}",
                    c.name,
                )
            )
        elif fmt == "parquet" and type_family(columns[actual]) != type_family(c.type):
            findings.append(
                finding(
                    "warning",
                    f"type is {columns[actual]}, contract says {c.type}: values are cast in "
                    "staging and rows that do not cast are quarantined",
                    c.name,
                )
            )
    for name in extras:
        findings.append(finding("warning", "extra column is not in the contract; ignored", name))
    if fmt == "csv" and not _ends_with_newline(path):
        findings.append(
            finding(
                "warning",
                "last line has no line break: the export may be truncated (check the last "
                "row; a cut value fails its cast and is quarantined)",
            )
        )
    if rows == 0:
        findings.append(
            finding(
                "warning",
                "file has a header but no rows: read as an empty table (marts that need it "
                "are empty)",
            )
        )
    return findings, rows


def check_raw(
    raw_path: Path, raw_format: str = "parquet", tables: Iterable[RawTable] = RAW_TABLES
) -> RawCheckReport:
    """Check every raw file against the contract; never raises for bad files."""
    if raw_format not in ("parquet", "csv"):
        raise ValueError(f"raw format must be 'parquet' or 'csv', not {raw_format!r}")
    report = RawCheckReport(Path(raw_path), raw_format)
    con = duckdb.connect()
    try:
        for t in tables:
            findings, rows = check_table(con, t, Path(raw_path), raw_format)
            report.findings.extend(findings)
            if rows is not None:
                report.rows[f"{t.system}.{t.name}"] = rows
    finally:
        con.close()
    return report


def print_report(report: RawCheckReport, console: Console) -> None:
    """A table of findings (or one green line when everything matches)."""
    if not report.findings:
        console.print(
            f"[green]raw exports match the contract[/green]: {len(report.rows)} files, "
            f"{sum(report.rows.values()):,} rows ({report.raw_format}, {report.raw_path})"
        )
        return
    grid = Table(title=f"raw export check: {report.raw_path} ({report.raw_format})")
    grid.add_column("severity")
    grid.add_column("table")
    grid.add_column("column")
    grid.add_column("problem", overflow="fold")
    for f in sorted(report.findings, key=lambda f: (f.severity != "error", f.system, f.table)):
        style = "red" if f.severity == "error" else "yellow"
        grid.add_row(
            f"[{style}]{f.severity}[/{style}]",
            f"{f.system}.{f.table}\n{f.file.name}",
            f.column or "",
            f.message,
        )
    console.print(grid)
    console.print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")


# ------------------------------------------------------------------ shrinking exports

DEFAULT_MAX_SHRINK = 0.5  # a table may lose at most half its rows between two builds


def raw_counts_path(settings: Settings) -> Path:
    """Row counts of the raw files of the last successful build, beside the build DB."""
    return settings.build_db.with_name(settings.build_db.stem + ".raw_counts.json")


def record_raw_counts(report: RawCheckReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.rows, indent=1, sort_keys=True))


def check_shrink(
    report: RawCheckReport, previous_path: Path, max_shrink: float = DEFAULT_MAX_SHRINK
) -> list[RawFinding]:
    """Errors for tables that lost more than ``max_shrink`` of the rows the last
    successful build read: a truncated export (e.g. a CSV cut at a line break) is
    readable and would otherwise silently shrink the warehouse."""
    try:
        previous: dict[str, int] = json.loads(previous_path.read_text())
    except (OSError, ValueError):
        return []
    findings = []
    for key, rows in sorted(report.rows.items()):
        before = previous.get(key)
        if not before or rows >= before * (1 - max_shrink):
            continue
        system, name = key.split(".", 1)
        findings.append(
            RawFinding(
                "error",
                system,
                name,
                report.raw_path / system / f"{name}.{report.raw_format}",
                None,
                f"has {rows:,} rows, the last successful build read {before:,} "
                f"({rows / before - 1:+.0%}): truncated export? If the drop is real, "
                "run once with C360_ALLOW_RAW_SHRINK=1",
            )
        )
    return findings


def ensure_raw_contract(
    raw_path: Path,
    raw_format: str,
    console: Console | None = None,
    previous_counts: Path | None = None,
    tables: Iterable[RawTable] = RAW_TABLES,
) -> RawCheckReport:
    """Check, print (if a console is given) and raise RawContractError on any error.
    With ``previous_counts`` (and unless ``C360_ALLOW_RAW_SHRINK=1``), a table that
    shrank by more than ``C360_MAX_RAW_SHRINK`` (default 0.5) is an error too."""
    report = check_raw(raw_path, raw_format, tables)
    if previous_counts is not None and os.environ.get("C360_ALLOW_RAW_SHRINK") != "1":
        max_shrink = float(os.environ.get("C360_MAX_RAW_SHRINK", DEFAULT_MAX_SHRINK))
        report.findings.extend(check_shrink(report, previous_counts, max_shrink))
    if console is not None:
        print_report(report, console)
    if not report.ok:
        raise RawContractError(report)
    return report
