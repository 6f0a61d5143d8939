"""Privacy: HMAC pseudonyms, the PII scan of the published warehouse, every column tagged,
consent (an opted-out customer leaves the audience), right of access, right to erasure
(zero rows left anywhere after erase + rebuild + publish) and the audit log.

Read-only checks use the shared demo warehouse (published to a private file). Consent and
erasure change raw exports and state, so they run on their own small build.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import shutil
import stat
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import BuiltWarehouse
from typer.testing import CliRunner

from customer360 import keys, privacy
from customer360.cli import app
from customer360.dbt import run_dbt
from customer360.publish import publish
from customer360.settings import Settings

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")
#: column names that must never reach analysts (their HMAC form `<name>_hmac` is fine)
FORBIDDEN_COLUMNS = {
    "email", "email_raw", "phone", "phone_raw", "first_name", "last_name",
    "first_name_normalized", "last_name_normalized", "birth_date", "street", "postal_code",
    "requester_email", "requester_phone", "cookie_id", "device_id", "login_id", "app_login_id",
    "loyalty_number", "shop_customer_id", "crm_contact_id", "subscriber_id", "identifier_value",
    "merge_identifier_value", "record_key", "record_id", "anonymous_key", "user_id",
}  # fmt: skip


# ------------------------------------------------------------------ helpers


def relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        """
        select schema_name, table_name from duckdb_tables() where not internal
        union all
        select schema_name, view_name from duckdb_views() where not internal
        order by 1, 2
        """
    ).fetchall()


def string_columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
            "and data_type = 'VARCHAR'",
            [schema, name],
        ).fetchall()
    ]


def find_values(db: Path, needles: set[str]) -> list[tuple[str, str, str, int]]:
    """(schema, table, column, rows) of every string column of every relation in ``db`` that
    contains any of ``needles`` (case-insensitive, as a whole token: not preceded or followed
    by a letter or digit, so ticket T-0000015 is found in 'support.tickets:T-0000015' but
    not inside CUST-00000157)."""
    alternatives = "|".join(re.escape(n) for n in sorted(needles) if n)
    pattern = f"(?i)(^|[^a-z0-9])({alternatives})([^a-z0-9]|$)"
    hits = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        for schema, name in relations(con):
            for col in string_columns(con, schema, name):
                n = con.execute(
                    f'select count(*) from "{schema}"."{name}" where regexp_matches("{col}", ?)',
                    [pattern],
                ).fetchone()[0]  # type: ignore[index]
                if n:
                    hits.append((schema, name, col, int(n)))
    finally:
        con.close()
    return hits


def raw_values(settings: Settings, system: str, table: str, column: str) -> set[str]:
    """Distinct non-blank values of a raw column; loyalty members exclude the generator's
    store cards (first name 'Store': a till's card, not a person)."""
    path = settings.raw_path / system / f"{table}.parquet"
    scenario = json.loads((settings.truth_path / "scenario.json").read_text())
    store_cards = scenario["junk_identifiers"]["store_loyalty_numbers"]
    where = ""
    if (system, table) == ("loyalty", "members"):
        where = "where regexp_replace(loyalty_number, '[^0-9]', '', 'g') not in (select unnest(?))"
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"select distinct cast({column} as varchar) from read_parquet(?) {where}",
            [str(path), store_cards] if where else [str(path)],
        ).fetchall()
    finally:
        con.close()
    return {str(v).strip() for (v,) in rows if v is not None and str(v).strip()}


# published_demo: conftest (the demo build published once per session)


# ------------------------------------------------------------------ key and HMAC


@pytest.mark.parametrize("key", [b"k", b"customer360-test", b"x" * 65, "schlüssel".encode()])
def test_sql_hmac_matches_python_hmac(key: bytes) -> None:
    values = ["anna@example.com", "+4917012345678", "ü-ß", "", "x" * 300]
    con = duckdb.connect()
    privacy.register_hmac(con, key)
    got = con.execute(
        f"select v, {privacy.hmac_sql('v')} from (select unnest(?::varchar[]) as v)", [values]
    ).fetchall()
    expected = {v: hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values}
    assert dict(got) == expected
    assert privacy.hmac_sha256("anna@example.com", key) == expected["anna@example.com"]


def test_missing_key_is_a_clear_error_and_demo_makes_a_private_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(privacy.HMAC_KEY_ENV, raising=False)
    monkeypatch.delenv(privacy.HMAC_KEY_FILE_ENV, raising=False)
    monkeypatch.setenv("C360_DEMO", "1")  # no variable switches demo keys on any more
    with pytest.raises(privacy.PrivacyKeyError, match="C360_HMAC_KEY"):
        privacy.load_hmac_key()
    monkeypatch.setenv(privacy.HMAC_KEY_FILE_ENV, str(tmp_path / "k" / "hmac.key"))
    with pytest.raises(privacy.PrivacyKeyError, match="cannot read"):
        privacy.load_hmac_key()  # a named key file that does not exist is not created
    assert not (tmp_path / "k" / "hmac.key").exists()
    monkeypatch.delenv(privacy.HMAC_KEY_FILE_ENV)
    used = keys.enable_demo_keys(tmp_path / "k")  # what `customer360 demo` calls
    path = used[privacy.HMAC_KEY_FILE_ENV]
    assert path == tmp_path / "k" / "hmac.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = privacy.load_hmac_key()
    assert len(key) == 64 and privacy.load_hmac_key() == key  # stable across calls
    strong = "from-env-" + "0123456789abcdef" * 2
    monkeypatch.setenv(privacy.HMAC_KEY_ENV, strong)
    assert privacy.load_hmac_key() == strong.encode()


@pytest.mark.parametrize(
    ("key", "why"),
    [("x", "1 characters"), ("a" * 40, "only 1 distinct"), ("ab12" * 10, "only 4 distinct")],
)
def test_weak_keys_are_refused(key: str, why: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(privacy.HMAC_KEY_ENV, key)
    with pytest.raises(privacy.PrivacyKeyError, match=why):
        privacy.load_hmac_key()


def test_a_key_file_others_can_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(privacy.HMAC_KEY_ENV, raising=False)
    path = tmp_path / "hmac.key"
    path.write_text("0123456789abcdef" * 4 + "\n")
    path.chmod(0o644)
    monkeypatch.setenv(privacy.HMAC_KEY_FILE_ENV, str(path))
    with pytest.raises(privacy.PrivacyKeyError, match="accessible to other users"):
        privacy.load_hmac_key()
    path.chmod(0o600)
    assert privacy.load_hmac_key() == b"0123456789abcdef" * 4


def test_build_without_key_fails_with_a_clear_error(
    demo_warehouse: BuiltWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The analyst models need the key: a dbt run without one stops with the message."""
    monkeypatch.delenv(privacy.HMAC_KEY_ENV, raising=False)
    monkeypatch.delenv(privacy.HMAC_KEY_FILE_ENV, raising=False)
    db = tmp_path / "build.duckdb"
    shutil.copyfile(demo_warehouse.db, db)
    settings = dataclasses.replace(
        demo_warehouse.settings,
        build_db=db,
        dbt_target_path=tmp_path / "target",
        dbt_log_path=tmp_path / "logs",
    )
    result = run_dbt(["run", "--select", "analyst__dim_customer"], settings, check=False)
    assert result.returncode != 0
    assert "no HMAC key" in result.stdout and "C360_HMAC_KEY" in result.stdout


# ------------------------------------------------------------------ PII separation


def test_published_warehouse_holds_only_the_pseudonymised_analyst_layer(
    published_demo: Settings,
) -> None:
    con = duckdb.connect(str(published_demo.published_db), read_only=True)
    try:
        schemas = {s for s, _ in relations(con)}
        assert schemas == {"analyst", "main"}
        names = {t for s, t in relations(con) if s == "analyst"}
        assert {"dim_customer", "customer_source_map", "audience_newsletter"} <= names
        cols = con.execute(
            "select table_name, column_name from duckdb_columns() where schema_name = 'analyst'"
        ).fetchall()
    finally:
        con.close()
    bad = [(t, c) for t, c in cols if c.lower() in FORBIDDEN_COLUMNS]
    assert not bad, f"raw personal columns published: {bad}"
    assert ("dim_customer", "email_hmac") in cols and ("dim_customer", "customer_id") in cols


def test_pii_scan_of_every_published_column(
    published_demo: Settings, demo_warehouse: BuiltWarehouse
) -> None:
    """No value of any published column looks like an e-mail or E.164 phone, or equals a
    name, e-mail, phone, cookie/device id, login, account/loyalty/subscriber id or birth
    date from the raw exports."""
    s = demo_warehouse.settings
    known: set[str] = set()
    for system, table, columns in (
        ("shop", "customers", ("customer_id", "email", "first_name", "last_name", "phone")),
        ("crm", "contacts", ("contact_id", "email", "phone", "first_name", "last_name", "street")),
        ("loyalty", "members", ("loyalty_number", "email", "phone", "first_name", "last_name")),
        ("newsletter", "subscribers", ("subscriber_id", "email")),
        ("app", "users", ("login_id", "email")),
        ("app", "devices", ("device_id",)),
        ("web", "events", ("cookie_id",)),
        ("support", "tickets", ("requester_email", "requester_phone")),
    ):
        for column in columns:
            known |= {v.lower() for v in raw_values(s, system, table, column) if len(v) >= 4}
    birth_dates = {v[:10] for v in raw_values(s, "crm", "contacts", "birth_date")}  # as yyyy-mm-dd
    assert len(known) > 1000 and birth_dates

    con = duckdb.connect(str(published_demo.published_db), read_only=True)
    try:
        findings = []
        checked = 0
        for schema, name in relations(con):
            if schema != "analyst":
                continue
            cur = con.execute(f'select * from "{schema}"."{name}" using sample 2000 rows')
            names = [d[0] for d in cur.description or ()]
            for row in cur.fetchall():
                for col, value in zip(names, row, strict=True):
                    checked += 1
                    if value is None:
                        continue
                    text = str(value)
                    is_pii_text = isinstance(value, str) and (
                        EMAIL_RE.search(text) or E164_RE.match(text) or text.lower() in known
                    )
                    is_birth_date = hasattr(value, "isoformat") and text[:10] in birth_dates
                    if is_pii_text or is_birth_date:
                        findings.append((name, col, text))
    finally:
        con.close()
    assert checked > 10_000
    assert not findings, f"raw PII in the published warehouse: {findings[:10]}"


def test_analyst_hmac_columns_are_hmac_of_the_normalised_mart_values(
    demo_warehouse: BuiltWarehouse,
) -> None:
    con = duckdb.connect(str(demo_warehouse.db), read_only=True)
    try:
        pairs = con.execute(
            """
            select m.email, a.email_hmac, m.phone, a.phone_hmac
            from marts.dim_customer as m
            inner join analyst.dim_customer as a using (customer_id)
            where m.email is not null and m.phone is not null
            limit 50
            """
        ).fetchall()
    finally:
        con.close()
    assert pairs
    key = privacy.load_hmac_key()
    for email, email_hmac, phone, phone_hmac in pairs:
        assert email_hmac == hmac.new(key, email.encode(), hashlib.sha256).hexdigest()
        assert phone_hmac == hmac.new(key, phone.encode(), hashlib.sha256).hexdigest()


def test_every_column_of_every_model_is_tagged(demo_warehouse: BuiltWarehouse) -> None:
    """Every column that exists in a built model has meta.pii in the model's YAML."""
    manifest = json.loads((demo_warehouse.settings.dbt_target_path / "manifest.json").read_text())
    levels = {"direct", "quasi", "pseudonymous", "none"}
    con = duckdb.connect(str(demo_warehouse.db), read_only=True)
    try:
        built = {
            (s, t, c.lower())
            for s, t, c in con.execute(
                "select schema_name, table_name, column_name from duckdb_columns()"
            ).fetchall()
        }
    finally:
        con.close()
    missing, wrong = [], []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] == "analyst":
            continue
        tags = {
            name.lower(): {**(c.get("meta") or {}), **((c.get("config") or {}).get("meta") or {})}
            for name, c in node["columns"].items()
        }
        relation = node.get("alias") or node["name"]
        for schema, table, column in built:
            if schema != node["schema"] or table != relation:
                continue
            level = tags.get(column, {}).get("pii")
            if level is None:
                missing.append(f"{schema}.{table}.{column}")
            elif level not in levels:
                wrong.append(f"{schema}.{table}.{column}={level}")
    assert not wrong, wrong
    assert not missing, f"{len(missing)} columns without meta.pii, e.g. {missing[:15]}"


def test_every_mart_has_a_pseudonymised_analyst_copy(demo_warehouse: BuiltWarehouse) -> None:
    """A new mart is invisible to analysts until models/analyst has its one-line copy (or
    its YAML declares it restricted: the probabilistic audit only)."""
    manifest = json.loads((demo_warehouse.settings.dbt_target_path / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    marts = {n["alias"] or n["name"] for n in models if n["schema"] == "marts"}
    analyst = {n["alias"] or n["name"] for n in models if n["schema"] == "analyst"}
    restricted = {  # declared so in their YAML (config.meta.analyst: restricted), with why
        n["alias"] or n["name"]
        for n in models
        if n["schema"] == "marts" and (n["config"].get("meta") or {}).get("analyst") == "restricted"
    }
    assert "dim_customer" in marts
    assert restricted == {"identity_probabilistic_links"}
    assert restricted.isdisjoint(analyst)
    missing = marts - analyst - restricted
    assert missing == set(), f"marts without an analyst copy: {sorted(missing)}"


# ------------------------------------------------------------------ access and audit


def test_subject_access_exports_every_record_with_its_system_and_is_audited(
    demo_warehouse: BuiltWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("C360_BUILD_DB", str(demo_warehouse.db))
    monkeypatch.setenv(privacy.AUDIT_LOG_ENV, str(tmp_path / "audit.jsonl"))
    con = duckdb.connect(str(demo_warehouse.db), read_only=True)
    try:
        cid, n_records, n_systems = con.execute(
            """
            select customer_id, count(*), count(distinct source_system)
            from marts.customer_source_map group by 1 order by 3 desc, 2 desc, 1 limit 1
            """
        ).fetchone()  # type: ignore[misc]
        email = con.execute(
            "select email from marts.dim_customer where customer_id = ?", [cid]
        ).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    runner = CliRunner()
    out = tmp_path / "access.json"
    result = runner.invoke(app, ["subject-access", cid, "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["customer_id"] == cid
    assert len(data["records"]) == n_records
    assert len({r["source_system"] for r in data["records"]}) == n_systems >= 3
    assert all(r["record_key"] and r["data"] for r in data["records"])
    assert data["marts"]["marts.dim_customer"][0]["customer_id"] == cid
    assert data["identity"]["identifiers"] and data["identity"]["source_map"]

    by_email = runner.invoke(app, ["subject-access", "--email", email.upper()])
    assert by_email.exit_code == 0, by_email.output
    assert json.loads(by_email.output)["customer_id"] == cid
    assert runner.invoke(app, ["explain", cid]).exit_code == 0
    unknown = runner.invoke(app, ["subject-access", "CUST-99999999"])
    assert unknown.exit_code == 2

    log = privacy.read_audit_log(Settings.from_env())
    assert [e["command"] for e in log] == [
        "subject-access",
        "subject-access",
        "explain",
        "subject-access",
    ]
    assert [e["outcome"] for e in log] == ["ok", "ok", "ok", "error"]
    assert all(e["os_user"] and e["at"] for e in log)
    assert log[0]["subject"] == cid and log[0]["customer_id"] == cid
    assert log[1]["subject_kind"] == "email"
    assert log[1]["subject"] == "hmac:" + privacy.hmac_sha256(email)
    assert email not in (tmp_path / "audit.jsonl").read_text()


# ------------------------------------------------------------------ consent and erasure


@dataclasses.dataclass
class ErasureScenario:
    settings: Settings
    erased_ids: list[str]
    needles: set[str]
    opted_out_customer: str
    result: privacy.ErasureResult


def _set_parquet(path: Path, transform) -> None:
    table = pq.read_table(path)
    pq.write_table(transform(table), path)


@pytest.fixture(scope="module")
def erased_build(tmp_path_factory: pytest.TempPathFactory) -> ErasureScenario:
    """Build 200 people; opt out one audience member in the raw newsletter export; erase
    the generator's planted erasure subject by e-mail; add a new ticket carrying their
    e-mail; rebuild with --full-refresh (the erasure request must survive it); publish."""
    from conftest import build_warehouse

    root = tmp_path_factory.mktemp("privacy-erase")
    built = build_warehouse(root, people=200, seed=11)
    s = built.settings
    scenario = json.loads((s.truth_path / "scenario.json").read_text())
    request = next(e for e in scenario["events"] if e["type"] == "erasure_request")

    con = duckdb.connect(str(s.build_db), read_only=True)
    try:
        erased_cid = con.execute(
            "select customer_id from marts.customer_source_map where record_id = ?",
            [f"shop.customers:{request['shop_customer_id']}"],
        ).fetchone()[0]  # type: ignore[index]
        needles = {erased_cid, request["email"], request["shop_customer_id"]}
        needles |= {
            v
            for (v,) in con.execute(
                """
                select distinct i.identifier_value
                from intermediate.int_identity__identifiers as i
                inner join marts.customer_source_map as m using (record_id)
                where m.customer_id = ?
                  and i.identifier_value not in (
                      select i2.identifier_value from intermediate.int_identity__identifiers i2
                      inner join marts.customer_source_map m2 using (record_id)
                      where m2.customer_id <> ?)
                """,
                [erased_cid, erased_cid],
            ).fetchall()
        }
        needles |= {
            k
            for (k,) in con.execute(
                "select record_key from marts.customer_source_map where customer_id = ?",
                [erased_cid],
            ).fetchall()
        }
        opted_out = con.execute(
            """
            select a.customer_id from marts.audience_newsletter as a
            where a.customer_id <> ?
            order by a.customer_id limit 1
            """,
            [erased_cid],
        ).fetchone()[0]  # type: ignore[index]
        subscriber_ids = [
            k
            for (k,) in con.execute(
                "select record_key from marts.customer_source_map "
                "where customer_id = ? and source_system = 'newsletter'",
                [opted_out],
            ).fetchall()
        ]
        opt_out_at = con.execute(
            """
            select max(greatest(opted_in_at, coalesce(confirmed_at, opted_in_at),
                                coalesce(opted_out_at, opted_in_at)))
            from staging.stg_newsletter__subscribers
            """
        ).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    assert erased_cid and opted_out and subscriber_ids

    def opt_out(table: pa.Table) -> pa.Table:
        ids = table.column("subscriber_id").to_pylist()
        hit = [i in subscriber_ids for i in ids]
        status = [
            "unsubscribed" if h else v
            for h, v in zip(hit, table.column("status").to_pylist(), strict=True)
        ]
        out = [
            opt_out_at if h else v
            for h, v in zip(hit, table.column("opted_out_at").to_pylist(), strict=True)
        ]
        t = table.set_column(table.schema.get_field_index("status"), "status", pa.array(status))
        i = t.schema.get_field_index("opted_out_at")
        return t.set_column(i, "opted_out_at", pa.array(out, t.schema.field(i).type))

    _set_parquet(s.raw_path / "newsletter" / "subscribers.parquet", opt_out)

    def new_ticket(table: pa.Table) -> pa.Table:
        row = {c: [table.column(c)[0].as_py()] for c in table.column_names}
        row["ticket_id"] = ["T-ERASED-NEW"]
        row["requester_email"] = [f"  {request['email'].upper()} "]
        row["requester_phone"] = [None]
        return pa.concat_tables([table, pa.table(row, schema=table.schema)])

    _set_parquet(s.raw_path / "support" / "tickets.parquet", new_ticket)
    needles.add("T-ERASED-NEW")

    result = privacy.erase(s, email=request["email"])
    # every model, then the data tests of the layers erasure touches (staging reconciliation,
    # identity, consent, privacy); other marts' model-quality tests are their own tests' job
    run_dbt(["run", "--full-refresh"], s)
    run_dbt(
        [
            "test",
            "--select",
            "path:models/staging path:models/audit path:models/marts/consent "
            "path:models/marts/identity path:models/identity_state path:tests/privacy",
        ],
        s,
    )
    publish(s)
    return ErasureScenario(s, list(result.customer_ids), needles, opted_out, result)


def test_opted_out_customer_leaves_the_newsletter_audience(erased_build: ErasureScenario) -> None:
    s, cid = erased_build.settings, erased_build.opted_out_customer
    con = duckdb.connect(str(s.build_db), read_only=True)
    try:
        assert not con.execute(
            "select count(*) from marts.audience_newsletter where customer_id = ?", [cid]
        ).fetchone()[0]  # type: ignore[index]
        current = con.execute(
            "select consent_status from marts.customer_consent "
            "where customer_id = ? and purpose = 'newsletter' and is_current",
            [cid],
        ).fetchall()
        assert current == [("withdrawn",)]
        events = con.execute(
            "select consent_event_type from marts.fct_consent_events where customer_id = ? "
            "order by event_sequence",
            [cid],
        ).fetchall()
        assert ("double_opt_in",) in events and events[-1] == ("opt_out",)
        assert con.execute("select count(*) from marts.audience_newsletter").fetchone()[0] > 0  # type: ignore[index]
    finally:
        con.close()
    pub = duckdb.connect(str(s.published_db), read_only=True)
    try:
        assert not pub.execute(
            "select count(*) from analyst.audience_newsletter where customer_id = ?", [cid]
        ).fetchone()[0]  # type: ignore[index]
    finally:
        pub.close()


def test_erased_person_leaves_zero_rows_in_build_db_and_published_file(
    erased_build: ErasureScenario,
) -> None:
    s = erased_build.settings
    [cid] = erased_build.erased_ids
    assert erased_build.result.n_records > 10
    key = privacy.load_hmac_key()
    hmacs = {privacy.hmac_sha256(v, key) for v in erased_build.needles}
    # the published file: neither the values nor their pseudonyms
    assert find_values(s.published_db, erased_build.needles | hmacs) == []
    # the build DB: nothing but the tombstone of the ID (registry, its event log and the
    # history views of it, status 'erased', no personal data), so that it is never reused
    hits = find_values(s.build_db, erased_build.needles)
    tombstone = {
        ("identity_state", "identity_registry", "customer_id"),
        ("identity_state", "identity_id_events", "customer_id"),
        # the copy the build wrote before committing it (customer360.build_state)
        ("identity_state_pending", "identity_registry", "customer_id"),
        ("identity_state_pending", "identity_id_events", "customer_id"),
        ("intermediate", "int_identity__registry_updated", "customer_id"),
        ("marts", "customer_id_history", "customer_id"),
    }
    assert [h for h in hits if h[:3] not in tombstone] == []
    con = duckdb.connect(str(s.build_db), read_only=True)
    try:
        for schema, table, _, _ in hits:
            row = (
                con.execute(
                    f"select * from {schema}.{table} where customer_id = ? and status = 'erased'",
                    [cid],
                ).fetchall()
                if table != "identity_id_events"
                else [("event",)]
            )
            assert row, (schema, table)
        assert not con.execute(
            "select count(*) from identity_state.identity_id_events "
            "where customer_id = ? and identifier_value is not null",
            [cid],
        ).fetchone()[0]  # type: ignore[index]
        row = con.execute(
            "select status, current_customer_id, merge_identifier_value "
            "from identity_state.identity_registry where customer_id = ?",
            [cid],
        ).fetchone()
        assert row == ("erased", None, None)
        # the request is stored as HMACs only and survived --full-refresh
        req = con.execute(
            "select subject_kind, subject_hmac, n_records from privacy.erasure_requests"
        ).fetchall()
        assert len(req) == 1 and req[0][0] == "email" and req[0][2] > 10
        # every raw row is accounted for: raw = staged + quarantined + erased
        erased = dict(
            con.execute(
                "select source_table, erased_rows from privacy.privacy_erased_rows"
            ).fetchall()
        )
        assert erased["shop.customers"] >= 1 and erased["support.tickets"] >= 1
        assert sum(erased.values()) >= erased_build.result.n_records
        summary = con.execute(
            "select source_table, raw_rows, staged_rows, quarantined_rows "
            "from quarantine.quarantine_summary"
        ).fetchall()
        for table, raw, staged, quarantined in summary:
            assert raw == staged + quarantined + erased.get(table, 0), table
        # no new ID was minted for the person's re-appearing records
        assert not con.execute(
            "select count(*) from marts.dim_customer d "
            "inner join marts.customer_source_map m using (customer_id) "
            "where m.record_key = 'T-ERASED-NEW'"
        ).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()


def test_erase_command_records_request_as_hmacs_tombstones_and_is_audited(
    demo_warehouse: BuiltWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "build.duckdb"
    shutil.copyfile(demo_warehouse.db, db)
    monkeypatch.setenv("C360_BUILD_DB", str(db))
    monkeypatch.setenv(privacy.AUDIT_LOG_ENV, str(tmp_path / "audit.jsonl"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        cid, email = con.execute(
            """
            select d.customer_id, d.email from marts.dim_customer as d
            where d.email is not null and d.n_records >= 3
              and not exists (
                  select 1 from intermediate.int_identity__identifiers as i
                  inner join marts.customer_source_map as m using (record_id)
                  where i.identifier_type = 'email' and i.identifier_value = d.email
                    and m.customer_id <> d.customer_id)
            order by d.customer_id limit 1
            """
        ).fetchone()  # type: ignore[misc]
        n_records = con.execute(
            "select count(*) from marts.customer_source_map where customer_id = ?", [cid]
        ).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    runner = CliRunner()
    result = runner.invoke(app, ["erase", cid])
    assert result.exit_code == 0, result.output
    assert "tombstoned" in result.output
    again = runner.invoke(app, ["erase", cid])
    assert again.exit_code == 2 and "already erased" in again.output

    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute(
            "select status, current_customer_id from identity_state.identity_registry "
            "where customer_id = ?",
            [cid],
        ).fetchone() == ("erased", None)
        request = con.execute(
            "select subject_kind, subject_hmac, n_records from privacy.erasure_requests"
        ).fetchone()
        assert request == ("customer_id", privacy.hmac_sha256(cid), n_records)
        kinds = dict(
            con.execute(
                "select suppression_kind, count(*) from privacy.erasure_suppressions group by 1"
            ).fetchall()
        )
        assert kinds["record"] == n_records and kinds["identifier"] >= 1
        stored = {
            v
            for (v,) in con.execute(
                "select value_hmac from privacy.erasure_suppressions"
            ).fetchall()
        }
        assert privacy.hmac_sha256(email) in stored  # identifiers as HMACs, never in clear
        assert all(hit[0] != "privacy" for hit in find_values(db, {email}))
        assert not con.execute(
            "select count(*) from identity_state.identity_record_assignments where customer_id = ?",
            [cid],
        ).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    log = privacy.read_audit_log(Settings.from_env())
    assert [(e["command"], e["outcome"]) for e in log] == [("erase", "ok"), ("erase", "error")]
    assert log[0]["subject"] == cid and log[0]["customer_id"] == cid
