"""Staging layer: every raw row is staged or quarantined with a reason, identifiers are
normalised, and CSV exports with bad values build.

Reads the session warehouse (`demo_warehouse`, Parquet) and builds one small CSV
warehouse of its own (staging models only) into which bad rows are injected.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from customer360.contracts import RAW_TABLES, RawTable
from customer360.dbt import run_dbt
from customer360.settings import Settings

STAGING_KEYS = {
    ("shop", "customers"): "shop_customer_id",
    ("shop", "orders"): "order_id",
    ("shop", "order_lines"): "order_line_id",
    ("crm", "contacts"): "crm_contact_id",
    ("support", "tickets"): "ticket_id",
    ("newsletter", "subscribers"): "subscriber_id",
    ("newsletter", "email_events"): "email_event_id",
    ("app", "users"): "app_login_id",
    ("app", "devices"): "device_id",
    ("app", "events"): "app_event_id",
    ("web", "events"): "web_event_id",
    ("loyalty", "members"): "loyalty_number",
    ("loyalty", "pos_transactions"): "pos_transaction_id",
}
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


def stg(t: RawTable) -> str:
    return f"staging.stg_{t.system}__{t.name}"


def quarantine(t: RawTable) -> str:
    return f"quarantine.quarantine_{t.system}__{t.name}"


def raw_count(con: duckdb.DuckDBPyConnection, settings: Settings, t: RawTable) -> int:
    path = t.path(str(settings.raw_path), settings.raw_format)
    reader = (
        f"read_csv('{path}', header=true, all_varchar=true)"
        if settings.raw_format == "csv"
        else f"read_parquet('{path}')"
    )
    return con.execute(f"select count(*) from {reader}").fetchall()[0][0]


def counts(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return con.execute(f"select count(*) from {relation}").fetchall()[0][0]


def assert_reconciles(settings: Settings) -> dict[str, tuple[int, int, int]]:
    """raw rows (read from the files, not through dbt) = staged + quarantined, per table."""
    con = duckdb.connect(str(settings.build_db), read_only=True)
    try:
        out = {}
        summary = {
            row[0]: row[1:]
            for row in con.execute(
                "select source_table, raw_rows, staged_rows, quarantined_rows "
                "from quarantine.quarantine_summary"
            ).fetchall()
        }
        for t in RAW_TABLES:
            raw = raw_count(con, settings, t)
            staged, quarantined = counts(con, stg(t)), counts(con, quarantine(t))
            assert raw == staged + quarantined, (
                f"{t.system}.{t.name}: {raw} raw rows but {staged} staged + "
                f"{quarantined} quarantined"
            )
            assert summary[f"{t.system}.{t.name}"] == (raw, staged, quarantined)
            out[f"{t.system}.{t.name}"] = (raw, staged, quarantined)
        return out
    finally:
        con.close()


def test_sources_yaml_is_generated_from_the_contract() -> None:
    """The sources YAML, the contract macro and docs/raw-contract.md never drift from
    contracts.py (re-run scripts/generate_sources_yaml.py after changing it)."""
    script = Settings.from_env().project_dir / "scripts" / "generate_sources_yaml.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ----------------------------------------------------------------- demo warehouse


def test_every_raw_row_is_staged_or_quarantined(demo_warehouse) -> None:
    result = assert_reconciles(demo_warehouse.settings)
    assert all(raw > 0 for raw, _, _ in result.values()), result


def test_staging_keys_are_unique_and_present(demo_warehouse) -> None:
    con = duckdb.connect(str(demo_warehouse.db), read_only=True)
    try:
        for t in RAW_TABLES:
            key = STAGING_KEYS[(t.system, t.name)]
            n, distinct, nulls = con.execute(
                f"select count(*), count(distinct {key}), count(*) - count({key}) from {stg(t)}"
            ).fetchall()[0]
            assert nulls == 0 and n == distinct, f"{stg(t)}.{key}: {n} rows, {distinct} keys"
    finally:
        con.close()


def test_generated_identifiers_are_normalised(demo_warehouse) -> None:
    con = duckdb.connect(str(demo_warehouse.db), read_only=True)
    try:
        for model in ("stg_shop__customers", "stg_crm__contacts", "stg_loyalty__members"):
            rows = con.execute(
                f"select email_raw, email, phone_raw, phone, last_name, last_name_normalized "
                f"from staging.{model}"
            ).fetchall()
            assert rows
            for email_raw, email, phone_raw, phone, last, last_norm in rows:
                if email is not None:
                    local, domain = email.split("@")
                    assert email == email.strip().lower() and "+" not in local, email
                    assert domain != "googlemail.com", email
                    if domain == "gmail.com":
                        assert "." not in local, email
                    if "googlemail" in email_raw.lower():
                        assert domain == "gmail.com", (email_raw, email)
                if phone is not None:
                    assert E164.match(phone), (phone_raw, phone)
                    assert phone_raw is not None
                if last is not None:
                    assert last_norm == last_norm.lower().strip(), last_norm
                    assert not set("äöüßÄÖÜ") & set(last_norm), (last, last_norm)
                    assert "  " not in last_norm
        # the same person's umlaut spellings meet: Müller and Mueller normalise alike
        pairs = con.execute(
            """
            select distinct last_name, last_name_normalized from staging.stg_crm__contacts
            where last_name similar to '.*[äöüß].*'
            """
        ).fetchall()
        for last, norm in pairs:
            expected = (
                last.lower()
                .replace("ä", "ae")
                .replace("ö", "oe")
                .replace("ü", "ue")
                .replace("ß", "ss")
            )
            assert norm == " ".join(expected.split()), (last, norm)
        loyalty = con.execute(
            "select loyalty_number from staging.stg_loyalty__members "
            "union all select loyalty_number from staging.stg_loyalty__pos_transactions "
            "where loyalty_number is not null"
        ).fetchall()
        assert loyalty and all(v.isdigit() for (v,) in loyalty)
    finally:
        con.close()


def test_junk_identifiers_never_survive_normalisation(demo_warehouse) -> None:
    scenario = json.loads((demo_warehouse.settings.truth_path / "scenario.json").read_text())
    junk = scenario["junk_identifiers"]
    con = duckdb.connect(str(demo_warehouse.db), read_only=True)
    try:
        emails = [e.strip().lower() for e in junk["emails"]]
        phones = list(junk["phones"])
        for model in ("stg_shop__customers", "stg_crm__contacts", "stg_loyalty__members"):
            e_marks, p_marks = ", ".join("?" * len(emails)), ", ".join("?" * len(phones))
            seen = con.execute(
                f"select count(*) filter (where lower(email_raw) in ({e_marks})),"
                f" count(*) filter (where lower(email_raw) in ({e_marks})"
                f"   and (email is not null or is_email_valid)),"
                f" count(*) filter (where phone_raw in ({p_marks})"
                f"   and (phone is not null or is_phone_valid))"
                f" from staging.{model}",
                [*emails, *emails, *phones],
            ).fetchall()[0]
            assert seen[1] == 0 and seen[2] == 0, (model, seen)
    finally:
        con.close()


def test_amounts_are_converted_to_the_base_currency(demo_warehouse) -> None:
    con = duckdb.connect(str(demo_warehouse.db), read_only=True)
    try:
        rows = con.execute(
            """
            select o.currency, o.order_total, o.order_total_base, r.rate_to_base
            from staging.stg_shop__orders as o
            join staging.stg_seeds__exchange_rates as r
              on r.currency_code = o.currency
             and r.rate_month = cast(date_trunc('month', o.ordered_at) as date)
            """
        ).fetchall()
        assert {c for c, *_ in rows} >= {"EUR", "USD"}
        for currency, total, base, rate in rows:
            assert abs(float(total) * float(rate) - float(base)) <= 0.006, (currency, total, base)
            if currency == "EUR":
                assert base == total
    finally:
        con.close()


# ----------------------------------------------------------------- CSV with bad rows

# (file, row) pairs appended to a generated CSV export; ids are what the tests look up
BAD_ORDERS = {
    "BAD-TS": {"ordered_at": "2024-13-45 10:00:00"},
    "BAD-FUTURE": {"ordered_at": "2999-01-01 00:00:00"},
    "BAD-OLD": {"ordered_at": "1970-01-01 00:00:00"},
    "BAD-NAN": {"order_total": "12,3x"},
    "BAD-NEG": {"order_total": "-10.00"},
    "BAD-ABSURD": {"order_total": "99999999.99"},
    "BAD-CUR": {"currency": "DM"},
    "BAD-DUP": {},  # written twice with different totals
    "OK-EXACT": {},  # written twice, identical
    "OK-LOWER": {"currency": " usd ", "email": "  Some.One+x@GoogleMail.com "},
}
EXPECTED_REASONS = {
    "BAD-TS": "ordered_at_unparseable",
    "BAD-FUTURE": "ordered_at_in_future",
    "BAD-OLD": "ordered_at_before_1990",
    "BAD-NAN": "order_total_not_a_number",
    "BAD-NEG": "order_total_negative",
    "BAD-ABSURD": "order_total_absurd",
    "BAD-CUR": "unknown_currency",
    "BAD-DUP": "conflicting_duplicate_key",
}


def _append_rows(path: Path, rows: list[dict[str, str | None]]) -> None:
    with path.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    with path.open("a", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        for row in rows:
            w.writerow({k: row.get(k) for k in header})


@pytest.fixture(scope="module")
def bad_csv_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from dataclasses import replace

    from customer360.generate import generate

    settings = replace(
        Settings.for_directory(tmp_path_factory.mktemp("staging_csv")), raw_format="csv"
    )
    generate(settings.data_dir, people=300, seed=11, fmt="csv")
    raw = settings.raw_path
    good = {
        "customer_id": None,
        "email": "bad.rows@example.org",
        "ordered_at": "2024-03-15 10:00:00",
        "currency": "EUR",
        "order_total": "10.00",
        "status": "completed",
        "order_channel": "web",
        "shipping_country": "DE",
    }
    orders = []
    for order_id, change in BAD_ORDERS.items():
        orders.append({**good, "order_id": order_id, **change})
    orders.append({**good, "order_id": "BAD-DUP", "order_total": "11.00"})
    orders.append({**good, "order_id": "OK-EXACT"})
    orders.append({**good, "order_id": "", "email": "blank.key@example.org"})
    _append_rows(raw / "shop" / "orders.csv", orders)
    _append_rows(
        raw / "support" / "tickets.csv",
        [
            {
                "ticket_id": "T-BAD-CSAT",
                "requester_email": "x@example.org",
                "channel": "email",
                "category": "payment",
                "opened_at": "2024-01-01 08:00:00",
                "satisfaction_score": "nine",
            },
            {
                "ticket_id": "T-BAD-RESOLVED",
                "requester_phone": "030 1234567",
                "channel": "phone",
                "category": "payment",
                "opened_at": "2024-01-01 08:00:00",
                "resolved_at": "yesterday",
            },
        ],
    )
    run_dbt(
        [
            "build",
            "--select",
            "path:models/staging",
            "path:seeds",
            "path:models/audit",  # the reconciliation and the erased rows it counts
            "--indirect-selection",
            "cautious",
            "--vars",
            "{quarantine_max_rate: 1.0}",
        ],
        settings,
    )
    return settings


def test_csv_export_builds_and_reconciles(bad_csv_warehouse: Settings) -> None:
    result = assert_reconciles(bad_csv_warehouse)
    raw, staged, quarantined = result["shop.orders"]
    # 13 injected order rows: 9 bad, 1 extra exact copy, 2 conflicting copies
    assert quarantined == len(EXPECTED_REASONS) + 1 + 1 + 1


def test_bad_rows_are_quarantined_with_their_reason(bad_csv_warehouse: Settings) -> None:
    con = duckdb.connect(str(bad_csv_warehouse.build_db), read_only=True)
    try:
        reasons = con.execute(
            "select order_id, quarantine_reasons from quarantine.quarantine_shop__orders"
        ).fetchall()
        by_id: dict[str | None, list[str]] = {}
        for order_id, reason in reasons:
            by_id.setdefault(order_id, []).append(reason)
        for order_id, reason in EXPECTED_REASONS.items():
            assert order_id in by_id, f"{order_id} was not quarantined"
            assert all(reason in r for r in by_id[order_id]), (order_id, by_id[order_id])
        assert by_id["BAD-DUP"] == ["conflicting_duplicate_key"] * 2
        assert by_id["OK-EXACT"] == ["exact_duplicate"]
        assert by_id[None] == ["missing_primary_key"]
        staged = dict(
            con.execute(
                "select order_id, currency || '|' || email from staging.stg_shop__orders "
                "where order_id in ('OK-EXACT', 'OK-LOWER')"
            ).fetchall()
        )
        assert staged == {
            "OK-EXACT": "EUR|bad.rows@example.org",
            "OK-LOWER": "USD|someone@gmail.com",
        }
        tickets = dict(
            con.execute(
                "select ticket_id, quarantine_reasons from quarantine.quarantine_support__tickets"
            ).fetchall()
        )
        assert tickets == {
            "T-BAD-CSAT": "satisfaction_score_not_a_number",
            "T-BAD-RESOLVED": "resolved_at_unparseable",
        }
    finally:
        con.close()


def test_quarantine_rate_threshold_fails_the_build(bad_csv_warehouse: Settings) -> None:
    result = run_dbt(
        [
            "test",
            "--select",
            "quarantine_summary",
            "--indirect-selection",
            "cautious",
            "--vars",
            "{quarantine_max_rate: 0.001}",
        ],
        bad_csv_warehouse,
        check=False,
    )
    assert result.returncode != 0
    assert "quarantine_rate_below_threshold" in result.stdout
