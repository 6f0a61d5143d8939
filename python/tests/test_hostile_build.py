"""Hostile exports, row level (issue 14): one real `dbt build` on a generated CSV export
with every case appended, then each outcome checked.

* numbers that a cast would round (a fractional quantity or rating, an amount with more
  decimals than its type) are quarantined, never staged as a plausible wrong value;
* a row whose key starts with '#' is a row (no comment character is sniffed);
* a look-alike e-mail (Kelvin sign, dotted capital I, Cyrillic letter) never makes a
  stranger equal an existing customer: not matchable, listed in identity_audit; a
  look-alike app login is quarantined;
* an order or web event that references an unknown shop account is flagged in
  identity_audit and attached by its other identifiers, never minted as a phantom
  customer, and it does not split the real customer whose e-mail it carries.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from fixtures import bad_input as bi

from customer360.dbt import run_dbt
from customer360.raw_contract_check import check_raw
from customer360.settings import Settings

pytestmark = pytest.mark.warehouse  # real dbt builds

PEOPLE = 600
SEED = 23
KELVIN = "\u212a"
CYRILLIC_A = "\u0430"
DOTTED_I = "\u0130"


def _rows(raw: Path, system: str, name: str) -> list[dict[str, str]]:
    with bi.raw_file(raw, system, name, "csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _append(raw: Path, system: str, name: str, rows: list[dict[str, str | None]]) -> None:
    path = bi.raw_file(raw, system, name, "csv")
    with path.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    with path.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row[c] for c in header])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from customer360.generate import generate

    root = tmp_path_factory.mktemp("hostile-build")
    settings = Settings.for_directory(root)
    settings = Settings(**{**settings.__dict__, "raw_format": "csv"})
    generate(settings.data_dir, people=PEOPLE, seed=SEED, fmt="csv")
    raw = settings.raw_path
    customers = _rows(raw, "shop", "customers")
    # victims: real customers whose e-mails hold a 'k', an 'i' and an 'a'
    k_victim = next(c for c in customers if "k" in c["email"].split("@")[0])
    i_victim = next(c for c in customers if "i" in c["email"].split("@")[0] and c is not k_victim)
    a_victim = next(c for c in customers if "a" in c["email"].split("@")[0]
                    and c not in (k_victim, i_victim))  # fmt: skip
    base = {"first_name": "Mallory", "last_name": "Attacker", "country_code": "DE",
            "created_at": "2024-05-01 10:00:00", "updated_at": "2024-06-01 10:00:00"}  # fmt: skip
    attackers = [
        {**base, "customer_id": "SCX0001", "phone": "+49 170 9990001",
         "email": k_victim["email"].replace("k", KELVIN, 1)},
        {**base, "customer_id": "SCX0002", "phone": "+49 170 9990002",
         "email": i_victim["email"].replace("i", DOTTED_I, 1)},
        {**base, "customer_id": "SCX0003", "phone": "+49 170 9990003",
         "email": a_victim["email"].replace("a", CYRILLIC_A, 1)},
    ]  # fmt: skip
    _append(raw, "shop", "customers", attackers)
    users = _rows(raw, "app", "users")
    login = next(u for u in users if "k" in u["login_id"])
    _append(raw, "app", "users", [
        {"login_id": login["login_id"].replace("k", KELVIN, 1), "email": "mallory@attack.example",
         "created_at": "2024-05-01 10:00:00"},
    ])  # fmt: skip
    # an order of a real customer that names an unknown shop account
    fk_victim = customers[5]
    order = _rows(raw, "shop", "orders")[0]
    _append(raw, "shop", "orders", [
        {**order, "order_id": "SOFK00001", "customer_id": "SC9999999", "email": fk_victim["email"]},
    ])  # fmt: skip
    event = _rows(raw, "web", "events")[0]
    _append(raw, "web", "events", [
        {**event, "event_id": "WEFK00001", "user_id": "SC9999998", "cookie_id": "ck-fk-0001"},
    ])  # fmt: skip
    line = _rows(raw, "shop", "order_lines")[0]
    _append(raw, "shop", "order_lines", [
        {**line, "order_line_id": "#HASH-0001"},
        {**line, "order_line_id": "OLR0001", "quantity": "2.5"},
        {**line, "order_line_id": "OLR0002", "unit_price": "9.999"},
    ])  # fmt: skip
    _append(raw, "shop", "orders", [{**order, "order_id": "SOR00001", "order_total": "12.345"}])
    ticket = _rows(raw, "support", "tickets")[0]
    _append(raw, "support", "tickets", [
        {**ticket, "ticket_id": "TR0000001", "satisfaction_score": "4.5"},
    ])  # fmt: skip
    assert check_raw(raw, "csv").errors == []
    proc = run_dbt(["build"], settings, check=False)
    if proc.returncode != 0:
        pytest.fail("dbt build failed:\n" + proc.stdout[-6000:])
    return {
        "db": settings.build_db,
        "victims": {"SCX0001": k_victim, "SCX0002": i_victim, "SCX0003": a_victim},
        "fk_victim": fk_victim,
        "login": login["login_id"],
    }


def _query(db: object, sql: str, params: list[object] | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _reasons(db: object, system: str, name: str, key_col: str, key: str) -> str | None:
    rows = _query(
        db,
        f"select quarantine_reasons from quarantine.quarantine_{system}__{name} "
        f"where {key_col} = ?",
        [key],
    )
    return rows[0][0] if rows else None


def test_rounding_casts_are_quarantined(hostile: dict[str, object]) -> None:
    db = hostile["db"]
    assert _reasons(db, "shop", "order_lines", "order_line_id", "OLR0001") == "quantity_rounded"
    assert _reasons(db, "shop", "order_lines", "order_line_id", "OLR0002") == "unit_price_rounded"
    assert _reasons(db, "shop", "orders", "order_id", "SOR00001") == "order_total_rounded"
    reason = _reasons(db, "support", "tickets", "ticket_id", "TR0000001")
    assert reason == "satisfaction_score_rounded"


def test_hash_key_row_is_staged(hostile: dict[str, object]) -> None:
    rows = _query(
        hostile["db"],
        "select count(*) from staging.stg_shop__order_lines where order_line_id = '#HASH-0001'",
    )
    assert rows == [(1,)]


@pytest.mark.parametrize("attacker", ["SCX0001", "SCX0002", "SCX0003"])
def test_look_alike_email_never_joins_the_real_customer(
    hostile: dict[str, object], attacker: str
) -> None:
    db = hostile["db"]
    victim = hostile["victims"][attacker]  # type: ignore[index]
    staged = _query(
        db,
        "select email, is_email_valid from staging.stg_shop__customers where shop_customer_id = ?",
        [attacker],
    )
    assert staged == [(None, False)]
    ids = dict(
        _query(
            db,
            "select record_key, customer_id from marts.customer_source_map "
            "where source_system = 'shop' and source_table = 'customers' and record_key in (?, ?)",
            [attacker, victim["customer_id"]],
        )
    )
    assert ids[attacker] != ids[victim["customer_id"]]
    # the attacker's phone is not attached to the real customer
    phones = _query(
        db,
        "select phone from marts.dim_customer where customer_id = ?",
        [ids[victim["customer_id"]]],
    )
    assert phones and (phones[0][0] or "").replace(" ", "")[-7:] != "9990001"
    audit = _query(
        db,
        "select reason from marts.identity_audit where audit_kind = 'rejected_identifier' "
        "and record_id = ?",
        [f"shop.customers:{attacker}"],
    )
    assert audit and audit[0][0].startswith("email_"), audit


def test_look_alike_login_is_quarantined(hostile: dict[str, object]) -> None:
    login = str(hostile["login"]).replace("k", KELVIN, 1)
    rows = _query(
        hostile["db"],
        "select quarantine_reasons from quarantine.quarantine_app__users where login_id = ?",
        [login],
    )
    assert rows == [("login_id_compatibility_characters",)]


def test_unknown_account_is_flagged_not_a_phantom(hostile: dict[str, object]) -> None:
    db = hostile["db"]
    victim = hostile["fk_victim"]
    got = dict(
        _query(
            db,
            "select record_key, customer_id from marts.customer_source_map "
            "where (source_table = 'orders' and record_key = 'SOFK00001') "
            "or (source_table = 'customers' and record_key = ?)",
            [victim["customer_id"]],  # type: ignore[index]
        )
    )
    # attached to the real customer by its e-mail, not a customer of its own
    assert got["SOFK00001"] == got[victim["customer_id"]]  # type: ignore[index]
    phantom = _query(
        db,
        "select count(*) from intermediate.int_identity__identifiers "
        "where identifier_type = 'shop_customer_id' "
        "and identifier_value in ('SC9999999', 'SC9999998')",
    )
    assert phantom == [(0,)]
    flagged = _query(
        db,
        "select record_id, identifier_value from marts.identity_audit "
        "where audit_kind = 'unknown_reference' order by 1",
    )
    assert flagged == [
        ("shop.orders:SOFK00001", "SC9999999"),
        ("web.events:WEFK00001", "SC9999998"),
    ]


def test_reconciliation_holds(hostile: dict[str, object]) -> None:
    rows = _query(
        hostile["db"],
        "select source_table from quarantine.quarantine_summary "
        "where unaccounted_rows <> 0 or raw_rows <> read_rows",
    )
    assert rows == []


def test_the_build_is_marked(hostile: dict[str, object]) -> None:
    """A passing plain `dbt build` is 'dbt_passed' (validated and published only by
    customer360 build/publish)."""
    rows = _query(hostile["db"], "select status from build_state.build_status")
    assert rows == [("dbt_passed",)]
