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

Files are read the way staging reads them, with the reader options fixed once in
:mod:`customer360.raw_reader` (nothing sniffed; CSV values stay text, a UTF-8 byte-order
mark is skipped, quoted fields may contain commas, doubled quotes and newlines: RFC 4180),
and every file's rows are counted a second time by an independent reader (pyarrow): a
file the two read differently is an error. A read error names the file, the line and the
cause (ragged row, over-long row, unbalanced quote, mixed line endings); a folder, FIFO
or unreadable file where an export belongs is named as such.

The same column check also runs inside plain ``dbt build`` through the ``on-run-start``
hook ``check_raw_exports()`` (``macros/quality/check_raw_exports.sql``).
"""

from __future__ import annotations

import difflib
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
from rich.console import Console
from rich.table import Table

from customer360.console import cell, literal
from customer360.contracts import RAW_TABLES, RawTable
from customer360.raw_reader import count_rows, diagnose_csv, reader_sql
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


def is_nested(duckdb_type: str) -> bool:
    """A LIST, ARRAY, STRUCT, MAP or UNION type (cast to text, it would be stringified)."""
    t = duckdb_type.upper().strip()
    return t.endswith("]") or t.startswith(("STRUCT", "MAP", "UNION"))


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


def _glob_siblings(path: Path, pattern: str) -> list[Path]:
    try:
        return list(path.parent.glob(pattern))
    except OSError:
        return []


def file_problem(path: Path) -> str | None:
    """Why ``path`` is not a readable regular file ("missing" when it does not exist),
    or None. Never opens the path: a FIFO would block the reader."""
    try:
        st = path.stat()
    except FileNotFoundError:
        for parent in path.parents:
            try:
                if parent.exists() and not os.access(parent, os.R_OK | os.X_OK):
                    return f"folder {parent} cannot be read (permission denied)"
            except OSError:
                continue
        return "missing"
    except PermissionError:
        return f"folder {path.parent} cannot be read (permission denied)"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a file (an export unpacked into a directory?)"
    if stat.S_ISFIFO(st.st_mode):
        return "is a named pipe (FIFO), not a file: exports must be regular files"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file (a device or socket?)"
    if not os.access(path, os.R_OK):
        return f"cannot be read: permission denied (mode {stat.filemode(st.st_mode)})"
    return None


def _binary_columns(path: Path) -> list[str]:
    """Names of the binary columns of a Parquet file (from its schema)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError):
        return []
    return [
        f.name for f in schema if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)
    ]


def read_error(path: Path, fmt: str, message: str) -> str:
    """The real cause of a DuckDB read error: for CSV the line and what is wrong with it
    (found by Python's csv module with the same dialect), for Parquet the first line of
    DuckDB's message (and the column, for text that is not UTF-8)."""
    if fmt == "csv":
        problem = diagnose_csv(path)
        if problem is not None:
            return f"not a readable CSV file: {problem.message}"
        return f"not a readable CSV file: {first_line(message)}"
    if "not valid UTF8" in message or "Invalid string encoding" in message:
        return (
            f"binary column(s) {', '.join(_binary_columns(path)) or '?'} hold bytes that are "
            f"not UTF-8 text ({first_line(message)}); the contract expects text: re-export "
            "them as UTF-8 strings"
        )
    return f"not a readable Parquet file (truncated or corrupt?): {first_line(message)}"


def check_table(
    con: duckdb.DuckDBPyConnection, t: RawTable, raw_path: Path, fmt: str
) -> tuple[list[RawFinding], int | None]:
    """Findings for one raw table, and its row count when the file could be read."""
    path = Path(t.path(str(raw_path), fmt))
    contract = expected_contract(t)

    def finding(severity: Severity, message: str, column: str | None = None) -> RawFinding:
        return RawFinding(severity, t.system, t.name, path, column, message)

    problem = file_problem(path)
    if problem == "missing":
        others = sorted(p.name for p in _glob_siblings(path, f"{t.name}.*"))
        hint = f" (found {', '.join(others)}: is C360_RAW_FORMAT right?)" if others else ""
        return [finding("error", f"file is missing{hint}; expected contract: {contract}")], None
    if problem:
        return [finding("error", f"{problem}; expected contract: {contract}")], None
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
        return [finding("error", read_error(path, fmt, str(exc)))], None
    try:
        independent = count_rows(path, fmt)
    except ValueError as exc:
        detail = diagnose_csv(path) if fmt == "csv" else None
        reason = detail.message if detail else first_line(str(exc))
        return [finding("error", f"rows cannot be counted independently: {reason}")], None
    if independent != rows:
        return [
            finding(
                "error",
                f"DuckDB reads {rows:,} rows but an independent reader (pyarrow) counts "
                f"{independent:,}: some lines are read differently (a comment-like line, "
                "an odd quote?); nothing is staged until both agree",
            )
        ], None

    findings: list[RawFinding] = []
    by_lower = {name.lower(): name for name in columns}
    contract_names = {c.name.lower() for c in t.columns}
    extras = [name for name in columns if name.lower() not in contract_names]
    for c in t.columns:
        actual = by_lower.get(c.name.lower())
        if actual is None and c.omittable:
            findings.append(
                finding(
                    "warning",
                    f"optional column {c.name!r} ({c.type}) is not in the file: read as empty "
                    "(a column added to the contract later; it may be left out)",
                    c.name,
                )
            )
        elif actual is None:
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
        elif fmt == "parquet" and is_nested(columns[actual]):
            findings.append(
                finding(
                    "error",
                    f"type is {columns[actual]} (a nested list/struct/map), contract says "
                    f"{c.type}: nested values cannot be staged without turning them into "
                    "made-up text; re-export the column as a plain value",
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
            f"{sum(report.rows.values()):,} rows ({literal(report.raw_format)}, "
            f"{literal(report.raw_path)})"
        )
        return
    grid = Table(
        title=f"raw export check: {literal(report.raw_path)} ({literal(report.raw_format)})"
    )
    grid.add_column("severity")
    grid.add_column("table")
    grid.add_column("column")
    grid.add_column("problem", overflow="fold")
    for f in sorted(report.findings, key=lambda f: (f.severity != "error", f.system, f.table)):
        style = "red" if f.severity == "error" else "yellow"
        grid.add_row(
            f"[{style}]{f.severity}[/{style}]",
            cell(f"{f.system}.{f.table}\n{f.file.name}"),
            cell(f.column or ""),
            cell(f.message),
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
