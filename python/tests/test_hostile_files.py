"""Hostile exports, file level (issue 14): the reader never guesses, and every file it
cannot read gets a message naming the file, the line and the real cause.

No dbt here (seconds); the dbt side of the same reader options is in
test_hostile_build.py and the property tests in test_properties.py.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures import bad_input as bi

from customer360.raw_contract_check import check_raw
from customer360.raw_reader import CSV_OPTIONS, count_rows, diagnose_csv, reader_sql

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def clean_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile")
    out = {}
    for fmt in ("parquet", "csv"):
        bi.write_contract_dataset(root / fmt, fmt, rows=20)
        out[fmt] = root / fmt
    return out


@pytest.fixture
def exports(clean_exports: dict[str, Path], tmp_path: Path) -> Callable[[str], Path]:
    def copy(fmt: str) -> Path:
        dst = tmp_path / fmt
        shutil.copytree(clean_exports[fmt], dst)
        return dst

    return copy


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _write(path: Path, lines: list[str], ending: str = "\n") -> None:
    path.write_bytes((ending.join(lines) + ending).encode())


def test_every_reader_uses_the_one_set_of_options() -> None:
    """The dbt sources, the on-run-start hook's macro and check-raw render the same
    options (generated from customer360.raw_reader); nothing is left to the sniffer."""
    options = ", ".join(f"{k}={v}" for k, v in CSV_OPTIONS)
    for name in ("comment=''", "quote='\"'", "escape='\"'", "delim=','", "header=true"):
        assert name in options
    macro = (PROJECT / "macros" / "quality" / "raw_reader.sql").read_text()
    assert options in macro
    sources = sorted((PROJECT / "models" / "staging").glob("*/_*__sources.yml"))
    assert len(sources) == 7
    for path in sources:
        assert options.replace('"', '\\"') in path.read_text(), path
    assert options in reader_sql("x.csv", "csv")


def test_a_line_starting_with_hash_is_a_row(exports: Callable[[str], Path]) -> None:
    """DuckDB's sniffer takes '#' for a comment when the first column is numeric and drops
    the line from every sniffing reader (both sides of the reconciliation): here it is a
    row for DuckDB and for the independent reader alike."""
    raw = exports("csv")
    path = bi.raw_file(raw, "shop", "order_lines", "csv")
    lines = _lines(path)
    header, rows = lines[0], lines[1:]
    numeric = [f"{i}," + r.split(",", 1)[1] for i, r in enumerate(rows)]
    numeric[5] = "#5," + rows[5].split(",", 1)[1]
    _write(path, [header, *numeric])
    sniffed = duckdb.sql(f"select count(*) from read_csv('{path}', header=true)").fetchall()[0]
    assert sniffed == (19,)  # what the old reader saw: one row silently gone
    report = check_raw(raw, "csv")
    assert report.errors == []
    assert report.rows["shop.order_lines"] == 20
    assert count_rows(path, "csv") == 20


def test_ragged_row_names_the_line_and_field_counts(exports: Callable[[str], Path]) -> None:
    raw = exports("csv")
    path = bi.raw_file(raw, "shop", "customers", "csv")
    lines = _lines(path)
    lines[3] += ",unexpected,fields"
    _write(path, lines)
    (hit,) = check_raw(raw, "csv").errors
    assert (hit.system, hit.table) == ("shop", "customers")
    assert "line 4 has 10 fields, the header has 8" in hit.message
    assert "sniff" not in hit.message  # not an option DuckDB 2 removed


def test_over_long_row_names_its_line(exports: Callable[[str], Path]) -> None:
    raw = exports("csv")
    path = bi.raw_file(raw, "crm", "contacts", "csv")
    lines = _lines(path)
    fields = lines[7].split(",")
    fields[6] = "x" * 2_200_000  # street
    lines[7] = ",".join(fields)
    _write(path, lines)
    (hit,) = check_raw(raw, "csv").errors
    assert "line 8 is 2,2" in hit.message and "bytes long" in hit.message
    assert "Line: 1" not in hit.message


def test_unbalanced_quote_names_its_line(exports: Callable[[str], Path]) -> None:
    raw = exports("csv")
    path = bi.raw_file(raw, "app", "users", "csv")
    lines = _lines(path)
    lines[2] = lines[2].replace(",", ',"', 1)
    _write(path, lines)
    (hit,) = check_raw(raw, "csv").errors
    assert (hit.system, hit.table) == ("app", "users")
    assert "line 3" in hit.message


def test_mixed_line_endings_are_named(exports: Callable[[str], Path]) -> None:
    raw = exports("csv")
    path = bi.raw_file(raw, "app", "devices", "csv")
    lines = _lines(path)
    data = ("\n".join(lines[:6]) + "\n" + "\r\n".join(lines[6:]) + "\r\n").encode()
    path.write_bytes(data)
    (hit,) = check_raw(raw, "csv").errors
    assert "mixed line endings: line 1 ends with LF, line 7 with CRLF" in hit.message


def test_crlf_file_is_read_whole(exports: Callable[[str], Path]) -> None:
    raw = exports("csv")
    path = bi.raw_file(raw, "app", "devices", "csv")
    _write(path, _lines(path), "\r\n")
    report = check_raw(raw, "csv")
    assert report.errors == [] and report.rows["app.devices"] == 20


def test_diagnose_finds_nothing_in_a_good_file(clean_exports: dict[str, Path]) -> None:
    assert diagnose_csv(bi.raw_file(clean_exports["csv"], "web", "events", "csv")) is None


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_folder_where_a_file_belongs(exports: Callable[[str], Path], fmt: str) -> None:
    raw = exports(fmt)
    path = bi.raw_file(raw, "support", "tickets", fmt)
    path.unlink()
    path.mkdir()
    (hit,) = check_raw(raw, fmt).errors
    assert hit.table == "tickets" and "is a folder, not a file" in hit.message


def test_fifo_where_a_file_belongs_does_not_hang(exports: Callable[[str], Path]) -> None:
    raw = exports("csv")
    path = bi.raw_file(raw, "support", "tickets", "csv")
    path.unlink()
    os.mkfifo(path)
    (hit,) = check_raw(raw, "csv").errors
    assert "named pipe (FIFO)" in hit.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_and_folder(exports: Callable[[str], Path]) -> None:
    raw = exports("csv")
    path = bi.raw_file(raw, "support", "tickets", "csv")
    path.chmod(0)
    folder = raw / "loyalty"
    folder.chmod(0)
    try:
        errors = {(f.system, f.table): f.message for f in check_raw(raw, "csv").errors}
    finally:
        path.chmod(0o644)
        folder.chmod(0o755)
    assert "permission denied" in errors[("support", "tickets")]
    assert "folder" in errors[("loyalty", "members")]
    assert "permission denied" in errors[("loyalty", "members")]


def _replace_parquet_column(
    raw: Path, system: str, name: str, column: str, values: pa.Array
) -> None:
    path = bi.raw_file(raw, system, name, "parquet")
    t = pq.read_table(path)
    i = t.schema.get_field_index(column)
    pq.write_table(t.set_column(i, column, values), path)


def test_nested_column_where_text_is_expected_is_an_error(exports: Callable[[str], Path]) -> None:
    raw = exports("parquet")
    values = pa.array([[f"a{i}", "b"] for i in range(20)])
    _replace_parquet_column(raw, "shop", "customers", "first_name", values)
    (hit,) = check_raw(raw, "parquet").errors
    assert hit.column == "first_name" and "nested" in hit.message


def test_binary_text_column_decodes_as_utf8(exports: Callable[[str], Path]) -> None:
    raw = exports("parquet")
    values = pa.array([f"Jürgen{i}".encode() for i in range(20)], pa.binary())
    _replace_parquet_column(raw, "shop", "customers", "first_name", values)
    report = check_raw(raw, "parquet")
    assert report.errors == []
    path = bi.raw_file(raw, "shop", "customers", "parquet")
    got = duckdb.sql(f"select first_name from {reader_sql(path, 'parquet')} limit 1").fetchall()[0]
    assert got == ("Jürgen0",)  # text, not '\xC3\xBC' escapes


def test_binary_column_that_is_not_utf8_is_an_error(exports: Callable[[str], Path]) -> None:
    raw = exports("parquet")
    values = pa.array([b"\xff\xfe" + bytes([i]) for i in range(20)], pa.binary())
    _replace_parquet_column(raw, "shop", "customers", "last_name", values)
    (hit,) = check_raw(raw, "parquet").errors
    assert "last_name" in hit.message and "not UTF-8" in hit.message


def test_paths_with_quotes_braces_and_brackets_are_read(
    clean_exports: dict[str, Path], tmp_path: Path
) -> None:
    raw = tmp_path / "it's [a] {b}" / "raw"
    shutil.copytree(clean_exports["csv"], raw)
    report = check_raw(raw, "csv")
    assert report.errors == [] and len(report.rows) == 13
