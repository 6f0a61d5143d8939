"""Bad-input catalogue, row-level cases and the dbt side: real `dbt build`s on corrupted
exports.

* One CSV export (generated, then every row-level case appended to it) is built once;
  each case is checked for its outcome: quarantined with its reason, or staged with the
  problem flagged (invalid e-mail/phone) or kept verbatim (quotes, newlines, SQL-looking
  text, long strings), and junk identifiers do not merge people. Raw = staged +
  quarantined for every table, and nothing but the injected rows is quarantined.
* Plain `dbt build` on an export missing a column fails in the on-run-start hook before
  any model runs.
* A shuffled export (every file) builds the same customers as the session demo
  warehouse; a truncated or corrupted one never reaches dbt and leaves the published
  warehouse as it was.
* `dbt source freshness` passes on fresh exports and fails on months-old ones.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import BuiltWarehouse
from fixtures import bad_input as bi
from rich.console import Console

from customer360.contracts import RAW_TABLES
from customer360.dbt import run_dbt
from customer360.freshness import run_source_freshness
from customer360.raw_contract_check import check_raw
from customer360.settings import Settings

ROW_PEOPLE = 600
LONG = "x" * 20_000
INJECTION = "Robert'); drop table staging.stg_shop__customers; --"
MULTILINE = 'Anne "Nan"\nMarie, Jr.'


@dataclass(frozen=True)
class RowCase:
    """One bad row appended to a raw table, and what must happen to it."""

    case: str
    system: str
    table: str
    values: dict[str, str | None]
    reason: str | None  # quarantine reason code, or None: the row must be staged


def _customer(key: str | None, **overrides: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "customer_id": key,
        "email": f"{(key or 'nokey').lower()}@quality-case.org",
        "first_name": "Quinn",
        "last_name": f"Case{key}",
        "phone": None,
        "country_code": "DE",
        "created_at": "2024-05-01 10:00:00",
        "updated_at": "2024-06-01 10:00:00",
    }
    row.update(overrides)
    return row


def _order(key: str, **overrides: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "order_id": key,
        "customer_id": None,
        "email": f"{key.lower()}@quality-case.org",
        "ordered_at": "2025-03-01 12:00:00",
        "currency": "EUR",
        "order_total": "19.99",
        "status": "completed",
        "order_channel": "web",
        "shipping_country": "DE",
    }
    row.update(overrides)
    return row


def _pos(key: str, **overrides: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "transaction_id": key,
        "loyalty_number": None,
        "store_id": "ST001",
        "transacted_at": "2025-03-01 12:00:00",
        "currency": "EUR",
        "amount": "10.00",
    }
    row.update(overrides)
    return row


CUS = ("shop", "customers")
ORD = ("shop", "orders")
POS = ("loyalty", "pos_transactions")
ROW_CASES: list[RowCase] = [
    RowCase("malformed e-mail", *CUS, _customer("SCQ01", email="anna.at.example"), None),
    RowCase("impossible phone number", *CUS, _customer("SCQ02", phone="12"), None),
    RowCase(
        "null primary key", *CUS, _customer(None, last_name="CaseNullKey"), "missing_primary_key"
    ),
    RowCase(
        "blank primary key", *CUS, _customer("   ", last_name="CaseBlank"), "missing_primary_key"
    ),
    RowCase(
        "duplicate key, other content",
        *CUS,
        _customer("SCQ04", first_name="Ann"),
        "conflicting_duplicate_key",
    ),
    RowCase(
        "duplicate key, other content",
        *CUS,
        _customer("SCQ04", first_name="Bob"),
        "conflicting_duplicate_key",
    ),
    RowCase("exact duplicate row (first copy)", *CUS, _customer("SCQ05"), None),
    RowCase("exact duplicate row", *CUS, _customer("SCQ05"), "exact_duplicate"),
    RowCase(
        "unparseable date",
        *CUS,
        _customer("SCQ06", created_at="yesterday"),
        "created_at_unparseable",
    ),
    RowCase(
        "timestamp before 1990",
        *CUS,
        _customer("SCQ07", created_at="1970-01-01 00:00:00"),
        "created_at_before_1990",
    ),
    RowCase(
        "timestamp in the future",
        *CUS,
        _customer("SCQ08", updated_at="2999-01-01 00:00:00"),
        "updated_at_in_future",
    ),
    RowCase("SQL-injection-looking text", *CUS, _customer("SCQ09", first_name=INJECTION), None),
    RowCase("very long string", *CUS, _customer("SCQ10", last_name=LONG), None),
    RowCase("embedded newline and quotes", *CUS, _customer("SCQ11", first_name=MULTILINE), None),
    RowCase(
        "junk identifier (identity blocklist)",
        *CUS,
        _customer("SCQ12", email="noreply@example.com", first_name="Uma", last_name="Junkone"),
        None,
    ),
    RowCase(
        "junk identifier (identity blocklist)",
        *CUS,
        _customer("SCQ13", email="noreply@example.com", first_name="Vic", last_name="Junktwo"),
        None,
    ),
    RowCase(
        "junk e-mail (staging junk list)",
        *CUS,
        _customer("SCQ14", email="test@test.com", first_name="Wes", last_name="Junkthree"),
        None,
    ),
    RowCase("negative amount", *ORD, _order("SOQ01", order_total="-5.00"), "order_total_negative"),
    RowCase(
        "absurd amount", *ORD, _order("SOQ02", order_total="99999999.99"), "order_total_absurd"
    ),
    RowCase(
        "text in a numeric column",
        *ORD,
        _order("SOQ03", order_total="twelve"),
        "order_total_not_a_number",
    ),
    RowCase("unknown currency code", *ORD, _order("SOQ04", currency="XYZ"), "unknown_currency"),
    RowCase(
        "timestamp in the future",
        *ORD,
        _order("SOQ05", ordered_at="2999-01-01 00:00:00"),
        "ordered_at_in_future",
    ),
    RowCase(
        "absurd negative amount", *POS, _pos("POSQ01", amount="-500000.00"), "amount_out_of_range"
    ),
]


def append_rows(raw_path: Path, system: str, name: str, rows: list[dict[str, str | None]]) -> None:
    """Append rows to a generated CSV export; None is written as an empty (null) field,
    values with quotes/commas/newlines are quoted per RFC 4180."""
    path = bi.raw_file(raw_path, system, name, "csv")
    with path.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    with path.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        for row in rows:
            writer.writerow(["" if row[c] is None else row[c] for c in header])


@pytest.fixture(scope="module")
def row_cases_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    from customer360.generate import generate

    root = tmp_path_factory.mktemp("row-cases")
    settings = Settings.for_directory(root)
    settings = Settings(**{**settings.__dict__, "raw_format": "csv"})
    generate(settings.data_dir, people=ROW_PEOPLE, seed=11, fmt="csv")
    for system, name in {(c.system, c.table) for c in ROW_CASES}:
        append_rows(
            settings.raw_path,
            system,
            name,
            [c.values for c in ROW_CASES if (c.system, c.table) == (system, name)],
        )
    bi.csv_add_bom(settings.raw_path, "support", "tickets")
    report = check_raw(settings.raw_path, "csv")
    assert report.findings == [], report.findings
    run_dbt(["build"], settings)
    return BuiltWarehouse(settings, ROW_PEOPLE, 11)


def _query(db: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_every_quarantine_case_lands_with_its_reason(row_cases_warehouse: BuiltWarehouse) -> None:
    db = row_cases_warehouse.db
    for c in ROW_CASES:
        if c.reason is None:
            continue
        key_col = RAW_TABLES_BY[(c.system, c.table)]
        q = f"quarantine.quarantine_{c.system}__{c.table}"
        if c.values[key_col] is None or not str(c.values[key_col]).strip():
            rows = _query(
                db,
                f"select quarantine_reasons from {q} where last_name = ?",
                [c.values["last_name"]],
            )
        else:
            rows = _query(
                db,
                f"select quarantine_reasons from {q} where {key_col} = ?",
                [c.values[key_col]],
            )
        assert rows, f"{c.case}: no row in {q}"
        assert any(c.reason in r[0] for r in rows), f"{c.case}: reasons {rows}"


RAW_TABLES_BY = {(t.system, t.name): t.primary_key for t in RAW_TABLES}


def test_nothing_else_is_quarantined_and_every_row_is_accounted_for(
    row_cases_warehouse: BuiltWarehouse,
) -> None:
    summary = {
        r[0]: r[1:]
        for r in _query(
            row_cases_warehouse.db,
            "select source_table, raw_rows, staged_rows, quarantined_rows, unaccounted_rows "
            "from quarantine.quarantine_summary",
        )
    }
    assert len(summary) == len(RAW_TABLES)
    expected = {f"{t.system}.{t.name}": 0 for t in RAW_TABLES}
    for c in ROW_CASES:
        if c.reason:
            expected[f"{c.system}.{c.table}"] += 1
    for source_table, (raw, staged, quarantined, unaccounted) in summary.items():
        assert raw == staged + quarantined, source_table
        assert unaccounted == 0, source_table
        assert quarantined == expected[source_table], source_table
    # the raw counts are the file counts: nothing was dropped while reading
    raw_counts = check_raw(row_cases_warehouse.settings.raw_path, "csv").rows
    assert {k: v[0] for k, v in summary.items()} == raw_counts


def test_flagged_and_verbatim_values_are_staged(row_cases_warehouse: BuiltWarehouse) -> None:
    db = row_cases_warehouse.db
    rows = {
        r[0]: r[1:]
        for r in _query(
            db,
            "select shop_customer_id, email, email_raw, is_email_valid, phone, phone_raw, "
            "is_phone_valid, first_name, last_name from staging.stg_shop__customers "
            "where shop_customer_id like 'SCQ%'",
        )
    }
    assert set(rows) == {
        *("SCQ01", "SCQ02", "SCQ05", "SCQ09", "SCQ10", "SCQ11", "SCQ12", "SCQ13", "SCQ14")
    }
    assert rows["SCQ01"][:3] == (None, "anna.at.example", False)
    assert rows["SCQ12"][:3] == ("noreply@example.com", "noreply@example.com", True)
    assert rows["SCQ14"][:3] == (None, "test@test.com", False)  # junk: no e-mail at all
    assert rows["SCQ02"][3:6] == (None, "12", False)
    assert rows["SCQ09"][6] == INJECTION
    assert rows["SCQ10"][7] == LONG
    assert rows["SCQ11"][6] == MULTILINE
    # the SQL-looking value was data, not code: the relation it names is still there
    assert _query(db, "select count(*) from staging.stg_shop__customers")[0][0] > 300


def test_bom_file_is_read_whole(row_cases_warehouse: BuiltWarehouse) -> None:
    raw = bi.raw_file(row_cases_warehouse.settings.raw_path, "support", "tickets", "csv")
    head = raw.read_bytes()[:20]
    assert head.startswith(b"\xef\xbb\xbf") and b"ticket_id" in head
    staged, keys = _query(
        row_cases_warehouse.db,
        "select count(*), count(ticket_id) from staging.stg_support__tickets",
    )[0]
    assert staged == keys == check_raw(raw.parents[1], "csv").rows["support.tickets"]


def test_junk_identifiers_do_not_merge_people(row_cases_warehouse: BuiltWarehouse) -> None:
    db = row_cases_warehouse.db
    guard = _query(
        db,
        "select is_usable, is_blocklisted, exclusion_reason "
        "from intermediate.int_identity__identifier_guards "
        "where identifier_type = 'email' and identifier_value = 'noreply@example.com'",
    )
    assert guard and guard[0][0] is False and guard[0][1] is True
    assert "blocklist" in guard[0][2]
    ids = _query(
        db,
        "select record_key, customer_id from marts.customer_source_map "
        "where source_system = 'shop' and source_table = 'customers' "
        "and record_key in ('SCQ12', 'SCQ13')",
    )
    assert len(ids) == 2
    assert ids[0][1] != ids[1][1]


def test_build_with_bad_rows_still_validates(
    row_cases_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    from customer360.gx_validation import run_validation

    summary = run_validation(row_cases_warehouse.db, None)
    assert summary.failed == [] and summary.success


def test_fresh_exports_pass_source_freshness(row_cases_warehouse: BuiltWarehouse) -> None:
    report = run_source_freshness(row_cases_warehouse.settings)
    assert report.ok, report.output[-2000:]
    assert report.errors == []
    assert {s.source for s in report.sources} >= {"shop.orders", "web.events", "app.events"}
    assert all(s.status in ("pass", "warn") for s in report.sources)


# ------------------------------------------------------------------ file-level, via dbt


@pytest.mark.warehouse
def test_plain_dbt_build_fails_fast_on_schema_drift(tmp_path: Path) -> None:
    settings = Settings.for_directory(tmp_path)
    bi.write_contract_dataset(settings.raw_path, "parquet", rows=3)
    bi.drop_column(settings.raw_path, "shop", "customers", "email", "parquet")
    bi.add_column(settings.raw_path, "crm", "contacts", "fax_number", "parquet")
    proc = run_dbt(["build"], settings, check=False)
    assert proc.returncode != 0
    out = proc.stdout
    assert "raw exports break the contract" in out
    assert "shop.customers: required column 'email' is missing" in out
    assert "customers.parquet" in out and "expected contract: required: customer_id" in out
    assert "crm.contacts: extra column 'fax_number'" in out  # a warning, listed too
    assert "Traceback" not in out
    # no model ran: the hook failed first
    assert "START sql" not in out
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        staged = con.sql(
            "select count(*) from information_schema.tables where table_schema = 'staging'"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert staged == 0


@pytest.mark.warehouse
def test_wrong_type_in_parquet_is_quarantined(tmp_path: Path) -> None:
    """Text in a Parquet INTEGER column: a contract warning, then the row that does not
    cast is quarantined (`quantity_not_a_number`) and every other row is staged."""
    from customer360.generate import generate

    settings = Settings.for_directory(tmp_path)
    generate(settings.data_dir, people=60, seed=3)
    bi.retype_column_to_text(settings.raw_path, "shop", "order_lines", "quantity")
    report = check_raw(settings.raw_path, "parquet")
    assert report.ok and [f.column for f in report.warnings] == ["quantity"]
    models = ["+stg_shop__order_lines", "+quarantine_shop__order_lines"]
    run_dbt(["run", "--select", *models], settings)
    db = settings.build_db
    quarantined = _query(
        db, "select quantity, quarantine_reasons from quarantine.quarantine_shop__order_lines"
    )
    assert quarantined == [("n/a", "quantity_not_a_number")]
    staged = _query(db, "select count(*) from staging.stg_shop__order_lines")[0][0]
    assert staged + 1 == report.rows["shop.order_lines"]


@pytest.mark.warehouse
def test_stale_exports_fail_source_freshness(tmp_path: Path) -> None:
    from customer360.generate import generate

    settings = Settings.for_directory(tmp_path)
    generate(
        settings.data_dir,
        people=60,
        seed=3,
        end_date=(datetime.now(UTC) - timedelta(days=120)).date(),
    )
    report = run_source_freshness(settings)
    assert not report.ok
    stale = {s.source for s in report.errors}
    assert {"shop.orders", "web.events"} <= stale
    assert all(s.age_hours and s.age_hours > 24 * 100 for s in report.errors)


# ------------------------------------------------------------------ broken exports


def _customer_partition(db: Path) -> tuple[int, set[frozenset[str]]]:
    """(customers, the set of record groups sharing one customer)."""
    n = _query(db, "select count(*) from marts.dim_customer")[0][0]
    groups = _query(
        db,
        "select list(record_id order by record_id) from marts.customer_source_map "
        "group by customer_id",
    )
    return int(n), {frozenset(g[0]) for g in groups}


def test_shuffled_export_builds_the_same_customers(
    demo_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    settings = Settings.for_directory(tmp_path)
    # the demo's exports (conftest: DEMO_PEOPLE, DEMO_SEED), copied rather than generated again
    shutil.copytree(demo_warehouse.settings.raw_path, settings.raw_path)
    customers = bi.raw_file(settings.raw_path, "shop", "customers", "parquet")
    keys = f"select customer_id from read_parquet('{customers}')"
    before = duckdb.sql(keys).fetchall()
    for t in RAW_TABLES:
        bi.shuffle_rows(settings.raw_path, t.system, t.name, "parquet", seed=5)
    after = duckdb.sql(keys).fetchall()
    assert sorted(after) == sorted(before) and after != before
    run_dbt(["build"], settings)
    assert _customer_partition(settings.build_db) == _customer_partition(demo_warehouse.db)
    ids = "select customer_id, count(*) from marts.customer_source_map group by all order by all"
    assert _query(settings.build_db, ids) == _query(demo_warehouse.db, ids)


@pytest.mark.parametrize("how", ["truncate", "corrupt", "delete"])
def test_broken_export_never_reaches_dbt(
    demo_warehouse: BuiltWarehouse, tmp_path: Path, how: str
) -> None:
    """A broken file fails the run at the raw contract check: no dbt, the published
    warehouse (here: a copy of the demo build) is left exactly as it was."""
    from customer360.pipeline import run_build

    settings = Settings.for_directory(tmp_path)
    shutil.copytree(demo_warehouse.settings.raw_path, settings.raw_path)
    settings.published_db.parent.mkdir(parents=True)
    shutil.copy(demo_warehouse.db, settings.published_db)
    before = settings.published_db.read_bytes()
    if how == "truncate":
        bi.truncate_file(settings.raw_path, "shop", "orders", "parquet")
    elif how == "corrupt":
        bi.corrupt_bytes(settings.raw_path, "shop", "orders", "parquet")
    else:
        bi.delete_file(settings.raw_path, "shop", "orders", "parquet")
    console = Console(record=True, width=200)
    assert run_build(settings, console) is False
    text = console.export_text()
    assert "shop.orders" in text and "nothing was built" in text
    assert not settings.build_db.exists()  # dbt never ran
    assert settings.published_db.read_bytes() == before
