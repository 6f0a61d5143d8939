"""`customer360 validate`: the Great Expectations suite on the resolved customer tables.

Passes on the real demo warehouse (built by dbt in the session fixture); fails, naming
the expectation, the column and sample rows, on tampered copies of it (the model
contracts refuse duplicates in dim_customer itself, so the copies are rebuilt without
constraints).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import BuiltWarehouse
from typer.testing import CliRunner

from customer360.gx_validation import (
    UUID_REGEX,
    ValidationSetupError,
    customer_id_regex,
    run_validation,
)


def tampered_copy(src: Path, dst: Path, *statements: str) -> Path:
    shutil.copy(src, dst)
    con = duckdb.connect(str(dst))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()
    return dst


def test_default_id_format_comes_from_dbt_vars() -> None:
    assert customer_id_regex() == r"^CUST\-[0-9]{8}$"
    assert UUID_REGEX.startswith("^[0-9a-f]{8}-")


def test_real_warehouse_passes(demo_warehouse: BuiltWarehouse, tmp_path: Path) -> None:
    summary = run_validation(demo_warehouse.db, tmp_path / "gx")
    assert summary.failed == []
    assert summary.success
    assert summary.evaluated >= 14
    con = duckdb.connect(str(demo_warehouse.db), read_only=True)
    try:
        customers = con.sql("select count(*) from marts.dim_customer").fetchall()[0][0]
    finally:
        con.close()
    assert summary.rows["dim_customer"] == customers > 0
    assert summary.docs_index == tmp_path / "gx" / "index.html"
    assert summary.docs_index.is_file()
    assert list((tmp_path / "gx" / "validations").rglob("*.html"))


def test_duplicate_and_malformed_ids_fail(demo_warehouse: BuiltWarehouse, tmp_path: Path) -> None:
    db = tampered_copy(
        demo_warehouse.db,
        tmp_path / "tampered.duckdb",
        # duplicate one customer (constraints are dropped by create-as-select)
        "create or replace table marts.dim_customer as "
        "select * from marts.dim_customer union all "
        "(select * from marts.dim_customer order by customer_id limit 1)",
        # point one source record at a malformed ID that does not exist
        "update marts.customer_source_map set customer_id = 'CUST-12AB' "
        "where (source_system, source_table, record_key) = "
        "(select (source_system, source_table, record_key) "
        " from marts.customer_source_map order by all limit 1)",
    )
    summary = run_validation(db, tmp_path / "gx")
    assert not summary.success
    failed = {(f.table, f.expectation, f.column) for f in summary.failed}
    assert failed >= {
        ("dim_customer", "expect_column_values_to_be_unique", "customer_id"),
        ("customer_source_map", "expect_column_values_to_match_regex", "customer_id"),
        ("customer_source_map", "expect_column_values_to_be_in_set", "gx_customer_exists"),
    }
    regex = next(f for f in summary.failed if f.expectation.endswith("match_regex"))
    assert regex.unexpected_count == 1
    assert regex.sample[0]["customer_id"] == "CUST-12AB"
    assert "record_key" in regex.sample[0]  # the user sees which record


def test_source_record_mapped_twice_fails(demo_warehouse: BuiltWarehouse, tmp_path: Path) -> None:
    db = tampered_copy(
        demo_warehouse.db,
        tmp_path / "twice.duckdb",
        "create or replace table marts.customer_source_map as "
        "select * from marts.customer_source_map union all "
        "(select * replace ((select max(customer_id) from marts.dim_customer) as customer_id) "
        " from marts.customer_source_map order by all limit 1)",
    )
    summary = run_validation(db, None)
    failed = {(f.table, f.expectation, f.column): f for f in summary.failed}
    compound = failed[
        (
            "customer_source_map",
            "expect_compound_columns_to_be_unique",
            "source_system, source_table, record_key",
        )
    ]
    assert compound.unexpected_count == 2
    # the copy also repeats record_id and changes the record counts of one customer
    assert {k[1:] for k in failed} <= {
        ("expect_compound_columns_to_be_unique", "source_system, source_table, record_key"),
        ("expect_column_values_to_be_unique", "record_id"),
        ("expect_column_pair_values_to_be_equal", "n_records, gx_source_records"),
    }
    assert summary.docs_index is None


def test_cli_validate_fails_readably(demo_warehouse: BuiltWarehouse, tmp_path: Path) -> None:
    from customer360.cli import app

    db = tampered_copy(
        demo_warehouse.db,
        tmp_path / "orphan.duckdb",
        "create or replace table marts.dim_customer as select * from marts.dim_customer "
        "union all select * replace ('CUST-99999999' as customer_id) "
        "from (select * from marts.dim_customer limit 1)",
    )
    runner = CliRunner()
    args = ["validate", "--db", str(db), "--docs-dir", str(tmp_path / "docs")]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "expect_column_values_to_be_between" in result.output
    assert "gx_source_records" in result.output
    assert "CUST-99999999" in result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "docs" / "index.html").is_file()

    missing = runner.invoke(app, ["validate", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2
    assert "no warehouse at" in missing.output and "Traceback" not in missing.output

    args = ["validate", "--db", str(demo_warehouse.db), "--docs-dir", str(tmp_path / "ok")]
    ok = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert ok.exit_code == 0, ok.output
    assert "expectations passed" in ok.output


def test_missing_tables_are_a_setup_error(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    with pytest.raises(ValidationSetupError, match="marts.dim_customer"):
        run_validation(db, None)
    with pytest.raises(ValidationSetupError, match="run `customer360 build` first"):
        run_validation(tmp_path / "nowhere.duckdb", None)
