"""Bad-input catalogue, file-level cases: the raw contract check before any model runs.

Each case corrupts one file of a tiny export written straight from the contract and
asserts the check's outcome (error or warning, naming file, table and column). No dbt
here: these are fast. Row-level cases and the dbt hook are in test_quality_build.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from fixtures import bad_input as bi
from typer.testing import CliRunner

from customer360.contracts import table
from customer360.raw_contract_check import (
    RawContractError,
    RawFinding,
    check_raw,
    ensure_raw_contract,
    expected_contract,
    find_non_utf8,
    record_raw_counts,
)


@pytest.fixture(scope="module")
def clean_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("contract")
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


def only(findings: list[RawFinding], system: str, name: str) -> list[RawFinding]:
    return [f for f in findings if (f.system, f.table) == (system, name)]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_clean_export_passes(clean_exports: dict[str, Path], fmt: str) -> None:
    report = check_raw(clean_exports[fmt], fmt)
    assert report.findings == []
    assert report.ok
    assert report.rows["shop.customers"] == 20
    assert len(report.rows) == 13


@dataclass(frozen=True)
class FileCase:
    id: str
    corrupt: Callable[[Path, str], None]
    system: str
    name: str
    severity: str
    column: str | None
    message: str  # a substring the user sees


FILE_CASES = [
    FileCase(
        "required_column_missing",
        lambda r, f: bi.drop_column(r, "shop", "customers", "email", f),
        "shop", "customers", "error", "email", "required column 'email' (VARCHAR) is missing",
    ),
    FileCase(
        "renamed_column",
        lambda r, f: bi.rename_column(r, "shop", "orders", "order_total", "total_amount", f),
        "shop", "orders", "error", "order_total", "Did you mean 'total_amount' (renamed?)",
    ),
    FileCase(
        "omittable_column_left_out",
        # a column added to the contract later (issue 15's id number): old exports still pass
        lambda r, f: bi.drop_column(r, "crm", "contacts", "id_number", f),
        "crm", "contacts", "warning", "id_number", "is not in the file: read as empty",
    ),
    FileCase(
        "extra_column",
        lambda r, f: bi.add_column(r, "crm", "contacts", "fax_number", f),
        "crm", "contacts", "warning", "fax_number", "extra column is not in the contract",
    ),
    FileCase(
        "empty_file",
        lambda r, f: bi.empty_file(r, "app", "users", f),
        "app", "users", "error", None, "file is empty (0 bytes)",
    ),
    FileCase(
        "header_only_file",
        lambda r, f: bi.header_only(r, "app", "devices", f),
        # valid data (issue 13): the table is empty this time; a warning says so
        "app", "devices", "warning", None, "header but no rows: read as an empty table",
    ),
    FileCase(
        "missing_file",
        lambda r, f: bi.delete_file(r, "web", "events", f),
        "web", "events", "error", None, "file is missing",
    ),
]  # fmt: skip


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.id)
def test_file_case(exports: Callable[[str], Path], case: FileCase, fmt: str) -> None:
    raw = exports(fmt)
    case.corrupt(raw, fmt)
    report = check_raw(raw, fmt)
    hits = only(report.findings, case.system, case.name)
    assert hits, f"no finding for {case.system}.{case.name}"
    hit = next(h for h in hits if h.column == case.column)
    assert hit.severity == case.severity
    assert case.message in hit.message
    assert hit.file == bi.raw_file(raw, case.system, case.name, fmt)
    if case.severity == "error":
        assert not report.ok
        # the user gets the expected contract with every error about columns/content
        if "missing" in case.message or "empty" in case.message or "rows" in case.message:
            assert expected_contract(table(case.system, case.name)) in hit.message
    else:
        assert report.ok
    # nothing else in the export is flagged
    assert all((f.system, f.table) == (case.system, case.name) for f in report.findings)


def test_missing_file_hints_at_other_format(exports: Callable[[str], Path]) -> None:
    raw = exports("csv")
    report = check_raw(raw, "parquet")
    assert len(report.errors) == 13
    assert "found customers.csv: is C360_RAW_FORMAT right?" in report.errors[0].message


def test_wrong_type_in_parquet_warns_and_build_goes_on(exports: Callable[[str], Path]) -> None:
    raw = exports("parquet")
    bi.retype_column_to_text(raw, "shop", "order_lines", "quantity")
    report = check_raw(raw, "parquet")
    assert report.ok
    (hit,) = report.findings
    assert (hit.severity, hit.table, hit.column) == ("warning", "order_lines", "quantity")
    assert "type is VARCHAR, contract says INTEGER" in hit.message
    assert "quarantined" in hit.message


@pytest.mark.parametrize("how", ["truncate", "corrupt"])
def test_broken_parquet_is_an_error(exports: Callable[[str], Path], how: str) -> None:
    raw = exports("parquet")
    if how == "truncate":
        bi.truncate_file(raw, "loyalty", "members", "parquet")
    else:
        bi.corrupt_bytes(raw, "loyalty", "members", "parquet")
    report = check_raw(raw, "parquet")
    (hit,) = report.errors
    assert (hit.system, hit.table) == ("loyalty", "members")
    assert "not a readable Parquet file" in hit.message


def test_truncated_csv_mid_row(exports: Callable[[str], Path]) -> None:
    """A CSV cut in the middle of a row: the rows before the cut are read, the cut row's
    last value is partial (it fails its cast in staging) and the check warns."""
    raw = exports("csv")
    bi.truncate_file(raw, "loyalty", "members", "csv", keep=0.5)
    report = check_raw(raw, "csv")
    hits = only(report.findings, "loyalty", "members")
    assert any("may be truncated" in h.message for h in hits), hits
    assert report.rows["loyalty.members"] < 20


def test_csv_with_ragged_rows_is_a_clear_error(exports: Callable[[str], Path]) -> None:
    raw = exports("csv")
    path = bi.raw_file(raw, "shop", "customers", "csv")
    lines = path.read_text().splitlines()
    lines[2] = lines[2] + ",unexpected,fields"
    path.write_text("\n".join(lines) + "\n")
    (hit,) = check_raw(raw, "csv").errors
    assert hit.table == "customers"
    assert "line 3 has 10 fields, the header has 8" in hit.message


def test_non_utf8_csv_names_line_and_byte(exports: Callable[[str], Path]) -> None:
    raw = exports("csv")
    bi.csv_to_latin1(raw, "loyalty", "pos_transactions", text="Jürgen")
    (hit,) = check_raw(raw, "csv").errors
    assert (hit.system, hit.table) == ("loyalty", "pos_transactions")
    assert "file is not UTF-8: invalid byte(s) fc at line 2" in hit.message
    assert "iconv" in hit.message


def test_find_non_utf8_across_chunk_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    good = "a,b\n" + "é" * 10 + "\n"  # two-byte characters straddle every chunk boundary
    path.write_bytes(good.encode() * 5)
    assert find_non_utf8(path, chunk_size=3) is None
    path.write_bytes(good.encode() * 2 + b"x\xff\n")
    assert find_non_utf8(path, chunk_size=3) == (5, 2 * len(good.encode()) + 1, b"\xff")
    path.write_bytes(b"a,b\n\xc3")  # ends in the middle of a character
    assert find_non_utf8(path, chunk_size=2) == (2, 4, b"\xc3")


def test_bom_embedded_newlines_and_quotes_are_read_intact(exports: Callable[[str], Path]) -> None:
    raw = exports("csv")
    value = 'footer, "new"\nsecond line\r\nthird'
    bi.csv_embedded_newlines_and_quotes(raw, "newsletter", "subscribers", "signup_source", value)
    bi.csv_add_bom(raw, "newsletter", "subscribers")
    report = check_raw(raw, "csv")
    assert report.findings == []
    assert report.rows["newsletter.subscribers"] == 20
    path = bi.raw_file(raw, "newsletter", "subscribers", "csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfsubscriber_id")
    got = duckdb.sql(
        f"select subscriber_id, signup_source from read_csv('{path}', header=true, "
        "all_varchar=true) order by subscriber_id limit 1"
    ).fetchall()[0]
    assert got == ("subscriber_id-0", value)


def test_ensure_raw_contract_raises_with_every_error(exports: Callable[[str], Path]) -> None:
    raw = exports("parquet")
    bi.drop_column(raw, "shop", "customers", "email", "parquet")
    bi.delete_file(raw, "app", "users", "parquet")
    with pytest.raises(RawContractError) as err:
        ensure_raw_contract(raw, "parquet")
    text = str(err.value)
    assert "shop.customers.email" in text and "customers.parquet" in text
    assert "app.users" in text and "file is missing" in text
    assert len(err.value.report.errors) == 2


def test_cli_check_raw(exports: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from customer360.cli import app

    raw = exports("parquet")
    monkeypatch.setenv("C360_RAW_PATH", str(raw))
    monkeypatch.setenv("C360_RAW_FORMAT", "parquet")
    runner = CliRunner()
    ok = runner.invoke(app, ["check-raw"], env={"COLUMNS": "200"})
    assert ok.exit_code == 0, ok.output
    assert "raw exports match the contract" in ok.output

    bi.rename_column(raw, "shop", "orders", "order_total", "total", "parquet")
    bad = runner.invoke(app, ["check-raw"], env={"COLUMNS": "200"})
    assert bad.exit_code == 1
    assert "order_total" in bad.output and "Did you mean 'total'" in bad.output
    assert "Traceback" not in bad.output


def test_export_cut_at_a_line_break_is_caught_by_the_shrink_check(
    exports: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV cut exactly at a line break is a valid, shorter file: only the comparison
    with the row counts of the last successful build can tell."""
    raw = exports("csv")
    baseline = tmp_path / "build.raw_counts.json"
    record_raw_counts(check_raw(raw, "csv"), baseline)

    bi.truncate_at_line_break(raw, "shop", "orders", keep_lines=12)  # 20 -> 12 rows: -40%
    report = ensure_raw_contract(raw, "csv", previous_counts=baseline)
    assert report.ok and report.rows["shop.orders"] == 12

    bi.truncate_at_line_break(raw, "shop", "orders", keep_lines=5)  # 20 -> 5 rows: -75%
    assert check_raw(raw, "csv").ok  # the file itself is fine
    with pytest.raises(RawContractError) as err:
        ensure_raw_contract(raw, "csv", previous_counts=baseline)
    (hit,) = err.value.report.errors
    assert (hit.system, hit.table) == ("shop", "orders")
    assert "has 5 rows, the last successful build read 20 (-75%)" in hit.message
    assert "C360_ALLOW_RAW_SHRINK=1" in hit.message

    monkeypatch.setenv("C360_ALLOW_RAW_SHRINK", "1")
    assert ensure_raw_contract(raw, "csv", previous_counts=baseline).ok
    monkeypatch.delenv("C360_ALLOW_RAW_SHRINK")
    monkeypatch.setenv("C360_MAX_RAW_SHRINK", "0.8")
    assert ensure_raw_contract(raw, "csv", previous_counts=baseline).ok
