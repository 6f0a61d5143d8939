"""customer360 on exports its generator did not write (issue 13).

Three partial set-ups, each written by independent code (fixtures/own_exports.py: other
column order, value casing, Python's csv module and pyarrow with time zones, people of
twenty countries, a 1990s history), each built, validated and published from scratch by
the same pipeline `customer360 build` runs (one build per set-up):

* shop only (accounts and orders, Parquet, USD, 1997-1998, TIMESTAMP WITH TIME ZONE);
* CRM only (CSV, offsets and zone names, one unreadable zone);
* shop + newsletter + web (CSV, EUR and GBP, 2023-2024).

Each asserts that undeclared systems are not read, the build publishes, the summary and
the published file list the systems used and the marts skipped, and the values staged
are right (UTC instants, E.164 numbers as `phonenumbers` gives them, names and postal
codes unchanged). Fast tests without dbt cover the config, the raw check and freshness.
"""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from fixtures import own_exports as own
from rich.console import Console

from customer360.config import ConfigError, load_config, parse_vars
from customer360.freshness import check_freshness
from customer360.raw_contract_check import check_raw
from customer360.settings import Settings

# ------------------------------------------------------------------ helpers


def _settings(root: Path, config_text: str, fmt: str) -> Settings:
    settings = Settings.for_directory(root)
    config = load_config(own.write_config(root / "customer360.yml", config_text))
    return dataclasses.replace(settings, config=config, raw_format=fmt)


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@dataclasses.dataclass
class OwnBuild:
    settings: Settings
    expected: own.Expected
    ok: bool
    output: str
    failed: list[str]  # dbt nodes that errored


def _failed_nodes(settings: Settings) -> list[str]:
    try:
        results = json.loads((settings.dbt_target_path / "run_results.json").read_text())
    except (OSError, ValueError):
        return []
    return sorted(
        r["unique_id"].split(".")[-1]
        for r in results["results"]
        if r["status"] in ("error", "fail", "runtime error")
    )


def _build(root: Path, config_text: str, fmt: str, writer) -> OwnBuild:
    """One `customer360 build` (run_build) from scratch: build, validate, publish."""
    from customer360.pipeline import run_build

    settings = _settings(root, config_text, fmt)
    expected = writer(settings.raw_path)
    buffer = io.StringIO()
    ok = run_build(settings, Console(file=buffer, width=200, force_terminal=False))
    failed = [] if ok else _failed_nodes(settings)
    return OwnBuild(settings, expected, ok, buffer.getvalue(), failed)


def _build_cli(root: Path, config_text: str, fmt: str, writer, variables: str) -> OwnBuild:
    """The same through the command a user runs: `customer360 build --config ... --vars ...`
    (a subprocess; paths from the environment as a user would set them)."""
    import os
    import subprocess
    import sys

    settings = _settings(root, config_text, fmt)
    expected = writer(settings.raw_path)
    env = {
        **os.environ,
        "C360_DATA_DIR": str(settings.data_dir),
        "C360_BUILD_DB": str(settings.build_db),
        "C360_PUBLISHED_DB": str(settings.published_db),
        "C360_REPORTS_DIR": str(settings.reports_dir),
        "DBT_TARGET_PATH": str(settings.dbt_target_path),
        "DBT_LOG_PATH": str(settings.dbt_log_path),
        "COLUMNS": "200",
    }
    env.pop("C360_RAW_PATH", None)
    env.pop("C360_RAW_FORMAT", None)
    cli = Path(sys.executable).with_name("customer360")
    config = root / "customer360.yml"
    proc = subprocess.run(
        [str(cli), "build", "--config", str(config), "--vars", variables],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    settings = dataclasses.replace(settings, cli_vars=parse_vars(variables))
    failed = [] if proc.returncode == 0 else _failed_nodes(settings)
    return OwnBuild(settings, expected, proc.returncode == 0, proc.stdout + proc.stderr, failed)


SHOP_ONLY = """
systems:
  shop: [customers, orders]
vars:
  base_currency: USD
  default_country: US
"""
CRM_ONLY = """
systems: {crm: [contacts]}
raw_path: data/raw
raw_format: csv
vars: {default_country: DE}   # the command line's --vars say US
"""
SHOP_NEWSLETTER_WEB = """
systems:
  shop: all
  newsletter: all
  web: [events]
raw_format: csv
exchange_rates: rates.csv   # the user's own, daily, with JPY
"""


@pytest.fixture(scope="module")
def shop_only(tmp_path_factory: pytest.TempPathFactory) -> OwnBuild:
    return _build(tmp_path_factory.mktemp("shop_only"), SHOP_ONLY, "parquet", own.shop_only)


@pytest.fixture(scope="module")
def crm_only(tmp_path_factory: pytest.TempPathFactory) -> OwnBuild:
    return _build_cli(
        tmp_path_factory.mktemp("crm_only"),
        CRM_ONLY,
        "csv",
        own.crm_only,
        "{default_country: US, identity_id_prefix: 'P-'}",
    )


@pytest.fixture(scope="module")
def shop_newsletter_web(tmp_path_factory: pytest.TempPathFactory) -> OwnBuild:
    root = tmp_path_factory.mktemp("snw")
    own.write_user_rates(root / "rates.csv")
    return _build(root, SHOP_NEWSLETTER_WEB, "csv", own.shop_newsletter_web)


def _published(build: OwnBuild) -> Path:
    """The published file, checked by the caller; the whole run must have passed."""
    assert build.ok, (build.failed, build.output[-6000:])
    return build.settings.published_db


def _assert_build_ok(build: OwnBuild) -> None:
    """The whole run passed, and every CLV/churn model that had not enough data (a status
    row with value 0 in the build) is reported in the summary and in _publish_skipped."""
    assert build.ok, (build.failed, build.output[-6000:])
    db = build.settings.build_db
    degraded = _rows(
        db,
        "select 'customer_clv' from marts.clv_model_fit where record_type = 'status' "
        "and value = 0 union all select 'customer_churn' from marts.churn_model_metrics "
        "where metric = 'status' and value = 0",
    )
    published = _rows(
        build.settings.published_db,
        "select model_name from _publish_skipped where reason like 'not enough data%'",
    )
    assert sorted(r[0] for r in degraded) == sorted(r[0] for r in published)
    assert ("not enough data" in build.output) == bool(degraded)


# ------------------------------------------------------------------ config (no dbt)


def test_config_declares_systems_and_vars(tmp_path: Path) -> None:
    path = own.write_config(
        tmp_path / "c.yml",
        "systems: {shop: [orders, customers], crm: all}\nraw_path: exports\n"
        "vars: {base_currency: usd}\nfreshness: {reference: '1998-06-30'}\n",
    )
    config = load_config(path)
    assert config.systems == {"shop": ("customers", "orders"), "crm": ("contacts",)}
    assert config.raw_path == (tmp_path / "exports").resolve()
    assert config.has("shop", "orders") and not config.has("shop", "order_lines")
    assert config.freshness_reference == "1998-06-30"
    assert config.dbt_vars()["systems"] == {"shop": ["customers", "orders"], "crm": ["contacts"]}
    assert config.dbt_vars()["base_currency"] == "usd"
    assert [t.name for t in config.absent_tables()][:1] == ["order_lines"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("systems: {shop: [orderz]}", "systems.shop: unknown table(s) orderz"),
        ("systems: {pos2: all}", "list its tables explicitly"),
        ("sytems: {shop: all}", "unknown key(s) sytems"),
        ("raw_format: xlsx", "raw_format must be parquet or csv"),
        ("freshness: {reference: yesterday}", "freshness.reference must be"),
        ("freshness: {tables: {shop.orders: {error_after_hours: -1}}}", "positive number"),
        ("exchange_rates: nope.csv", "exchange_rates: file"),
        ("vars: {systems: {}}", "vars.systems"),
        ("systems: [shop]", "systems must map each system"),
    ],
)
def test_config_errors_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = own.write_config(tmp_path / "bad.yml", text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_vars_reach_every_dbt_call(tmp_path: Path) -> None:
    from customer360.dbt import with_project_vars

    settings = _settings(tmp_path, "systems: {crm: all}\nvars: {base_currency: CHF}", "csv")
    settings = dataclasses.replace(settings, cli_vars=parse_vars("{clv_horizon_months: 6}"))
    args = with_project_vars(["build", "--vars", "{base_currency: GBP}", "-s", "x"], settings)
    assert args[:3] == ["build", "-s", "x"] and args[3] == "--vars"
    passed = parse_vars(args[4])
    assert passed["base_currency"] == "GBP"  # the call's own --vars win
    assert passed["clv_horizon_months"] == 6 and passed["systems"] == {"crm": ["contacts"]}
    assert with_project_vars(["clean"], settings) == ["clean"]


def test_phone_plans_macro_is_generated_from_the_pinned_phonenumbers() -> None:
    """macros/normalize/phone_numbering_plans.sql is what scripts/generate_phone_metadata.py
    writes from the installed phonenumbers (no hand-written country rules)."""
    import subprocess
    import sys

    import phonenumbers

    script = Path(__file__).resolve().parents[2] / "scripts" / "generate_phone_metadata.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    macro = script.parents[1] / "macros" / "normalize" / "phone_numbering_plans.sql"
    text = macro.read_text()
    assert f"phonenumbers package\n    {phonenumbers.__version__}" in text
    assert len(phonenumbers.SUPPORTED_REGIONS) > 240 and "'JP': ['81', '0'," in text


def test_rates_seed_covers_1999_to_next_year() -> None:
    import csv as csv_module

    seed = Path(__file__).resolve().parents[2] / "seeds" / "exchange_rates.csv"
    with seed.open() as fh:
        rows = list(csv_module.DictReader(fh))
    months = sorted({r["rate_month"] for r in rows})
    assert months[0] == "1999-01-01" and months[-1] >= f"{datetime.now().year}-12-01"
    for month in ("1999-01-01", "2010-06-01", months[-1]):
        assert {r["currency_code"] for r in rows if r["rate_month"] == month} == {
            "EUR", "USD", "GBP", "CHF"
        }  # fmt: skip


# ------------------------------------------------------------------ raw check (no dbt)


def test_raw_check_reads_only_declared_tables(tmp_path: Path) -> None:
    settings = _settings(tmp_path, SHOP_ONLY, "parquet")
    own.shop_only(settings.raw_path)
    declared = check_raw(
        settings.raw_path, "parquet", settings.config.present_tables(settings.project_dir)
    )
    assert declared.ok, declared.errors
    assert set(declared.rows) == {"shop.customers", "shop.orders"}
    everything = check_raw(settings.raw_path, "parquet")  # the default: all 13 tables
    assert {f"{f.system}.{f.table}" for f in everything.errors} >= {"crm.contacts", "web.events"}


def test_a_file_with_no_rows_is_valid_but_a_table_that_emptied_is_caught(tmp_path: Path) -> None:
    from customer360.raw_contract_check import check_shrink

    settings = _settings(tmp_path, CRM_ONLY, "csv")
    path = settings.raw_path / "crm" / "contacts.csv"
    own.crm_only(settings.raw_path)
    full = check_raw(settings.raw_path, "csv", settings.config.present_tables(Path(".")))
    header = path.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(header + "\r\n", encoding="utf-8")
    empty = check_raw(settings.raw_path, "csv", settings.config.present_tables(Path(".")))
    assert empty.ok and empty.rows == {"crm.contacts": 0}
    assert any("no rows" in f.message for f in empty.warnings)
    counts = tmp_path / "counts.json"
    counts.write_text(json.dumps({"crm.contacts": full.rows["crm.contacts"]}))
    shrunk = check_shrink(empty, counts)
    assert len(shrunk) == 1
    assert "has 0 rows, the last successful build read 60 (-100%)" in shrunk[0].message


# ------------------------------------------------------------------ freshness (no dbt)


def test_historical_export_is_fresh_against_its_own_date(tmp_path: Path) -> None:
    settings = _settings(tmp_path, SHOP_ONLY, "parquet")
    own.shop_only(settings.raw_path)
    result = check_freshness(settings)
    assert result.ok and [t.source for t in result.tables] == ["shop.orders"]
    assert result.reference_at is not None and result.reference_at.year in (1998, 1999)
    against_now = dataclasses.replace(
        settings, config=dataclasses.replace(settings.config, freshness_reference="now")
    )
    stale = check_freshness(against_now)
    assert not stale.ok and stale.errors[0].age_hours > 24 * 365 * 20


def test_a_lagging_feed_is_stale_against_the_export_date(tmp_path: Path) -> None:
    own.write_user_rates(tmp_path / "rates.csv")
    settings = _settings(tmp_path, SHOP_NEWSLETTER_WEB, "csv")
    own.shop_newsletter_web(settings.raw_path)
    assert check_freshness(settings).ok
    # the web feed stopped a month before everything else
    web = settings.raw_path / "web" / "events.csv"
    lines = web.read_text(encoding="utf-8").splitlines()
    cut = max(row.split(",")[0] for row in lines[1:])[:7]  # the last month of web events
    web.write_text("\r\n".join([lines[0], *[r for r in lines[1:] if r[:7] < cut]]) + "\r\n")
    result = check_freshness(settings)
    assert [t.source for t in result.errors] == ["web.events"]
    limits = own.write_config(
        tmp_path / "loose.yml",  # beside rates.csv
        SHOP_NEWSLETTER_WEB
        + "freshness:\n  tables:\n"
        + "    web.events: {warn_after_hours: null, error_after_hours: null}\n",
    )
    loose = dataclasses.replace(settings, config=load_config(limits))
    assert check_freshness(loose).ok


# ------------------------------------------------------------------ set-up 1: shop only


@pytest.mark.warehouse
def test_shop_only_builds_validates_and_publishes(shop_only: OwnBuild) -> None:
    published = _published(shop_only)
    tables = {r[0] for r in _rows(published, "select table_name from information_schema.tables")}
    assert {"dim_customer", "fct_orders", "customer_source_map"} <= tables
    systems = _rows(published, "select system, table_name, status, row_count from _publish_systems")
    used = {(s, t, n) for s, t, status, n in systems if status == "used"}
    assert used == {
        ("shop", "customers", 60),
        ("shop", "orders", shop_only.expected.rows["shop.orders"]),
    }
    skipped = dict(_rows(published, "select model_name, reason from _publish_skipped"))
    assert {"fct_sessions", "customer_consent", "audience_newsletter"} <= set(skipped)
    assert "web.events" in skipped["fct_sessions"]
    assert "fct_orders" not in skipped and "dim_customer" not in skipped
    assert "systems used" in shop_only.output and "marts skipped" in shop_only.output
    _assert_build_ok(shop_only)


@pytest.mark.warehouse
def test_shop_only_times_are_utc_and_usd_needs_no_rate(shop_only: OwnBuild) -> None:
    db = shop_only.settings.build_db
    staged = dict(_rows(db, "select order_id, ordered_at from staging.stg_shop__orders"))
    assert staged == shop_only.expected.ordered_at_utc  # every order staged, at its UTC instant
    revenue = dict(_rows(db, "select order_id, gross_revenue_base from marts.fct_orders"))
    assert {k: float(v) for k, v in revenue.items()} == pytest.approx(
        shop_only.expected.order_totals
    )
    assert _rows(db, "select count(*) from quarantine.quarantine_shop__orders") == [(0,)]
    assert _rows(db, "select distinct currency from staging.stg_shop__orders") == [("USD",)]


@pytest.mark.warehouse
def test_shop_only_phones_of_every_country(shop_only: OwnBuild) -> None:
    db = shop_only.settings.build_db
    phones = dict(
        _rows(
            db,
            "select 'shop.customers:' || shop_customer_id, phone from staging.stg_shop__customers",
        )
    )
    assert phones == shop_only.expected.phones
    assert sum(v is not None for v in phones.values()) >= 55


# ------------------------------------------------------------------ set-up 2: CRM only


@pytest.mark.warehouse
def test_crm_only_builds_validates_and_publishes(crm_only: OwnBuild) -> None:
    published = _published(crm_only)
    used = _rows(published, "select system, table_name from _publish_systems where status = 'used'")
    assert used == [("crm", "contacts")]
    skipped = {r[0] for r in _rows(published, "select model_name from _publish_skipped")}
    assert {"fct_orders", "fct_sessions", "customer_consent"} <= skipped
    customers = _rows(published, "select count(*) from analyst.dim_customer")[0][0]
    assert 0 < customers <= 59
    # the command line's --vars reached dbt
    prefixes = _rows(published, "select distinct left(customer_id, 2) from analyst.dim_customer")
    assert prefixes == [("P-",)]
    assert "systems used" in crm_only.output and "crm" in crm_only.output
    _assert_build_ok(crm_only)
    report = crm_only.settings.reports_dir / "customer360_report.html"
    assert report.is_file() and "Systems used: crm" in report.read_text()


@pytest.mark.warehouse
def test_crm_only_zones_names_addresses_phones(crm_only: OwnBuild) -> None:
    db = crm_only.settings.build_db
    expected = crm_only.expected
    staged = {
        r[0]: r[1:]
        for r in _rows(
            db,
            "select crm_contact_id, created_at, first_name, last_name, postal_code, phone "
            "from staging.stg_crm__contacts",
        )
    }
    assert {k: v[0] for k, v in staged.items()} == expected.created_at_utc
    assert {k: (v[1], v[2]) for k, v in staged.items()} == {k: expected.names[k] for k in staged}
    assert {k: v[3] for k, v in staged.items()} == {k: expected.postal_codes[k] for k in staged}
    assert {k: v[4] for k, v in staged.items()} == {k: expected.phones[k] for k in staged}
    quarantined = _rows(
        db, "select contact_id, quarantine_reasons from quarantine.quarantine_crm__contacts"
    )
    assert quarantined == [
        ("crm-0007", "created_at_unreadable_time_zone, updated_at_unreadable_time_zone")
    ]


# ------------------------------------------------------------------ set-up 3: shop+newsletter+web


@pytest.mark.warehouse
def test_shop_newsletter_web_builds_validates_and_publishes(shop_newsletter_web: OwnBuild) -> None:
    published = _published(shop_newsletter_web)
    used = {
        f"{s}.{t}"
        for s, t in _rows(
            published, "select system, table_name from _publish_systems where status = 'used'"
        )
    }
    assert used == set(shop_newsletter_web.expected.rows)
    skipped = {r[0] for r in _rows(published, "select model_name from _publish_skipped")}
    assert "fct_sessions" not in skipped and "customer_consent" not in skipped
    sessions = _rows(published, "select count(*) from analyst.fct_sessions")[0][0]
    assert sessions > 0
    audience = _rows(published, "select count(*) from analyst.audience_newsletter")[0][0]
    assert audience > 0
    _assert_build_ok(shop_newsletter_web)


@pytest.mark.warehouse
def test_shop_newsletter_web_links_web_and_newsletter_to_shop(
    shop_newsletter_web: OwnBuild,
) -> None:
    db = shop_newsletter_web.settings.build_db
    # every subscriber shares an e-mail with a shop account: 25 subscribers, 50 customers
    assert _rows(db, "select count(*) from marts.dim_customer") == [(50,)]
    staged = dict(_rows(db, "select order_id, ordered_at from staging.stg_shop__orders"))
    assert staged == shop_newsletter_web.expected.ordered_at_utc
    # converted with the user's daily rates table (averaged per month), JPY included
    converted = _rows(
        db,
        "select currency, order_total, order_total_base from staging.stg_shop__orders",
    )
    by_currency = {c for c, _, _ in converted}
    assert by_currency == {"EUR", "GBP", "JPY"}
    for currency, total, base in converted:  # cents rounded half away from zero
        rate = Decimal(str(own.USER_RATES[currency]))
        assert base == (total * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert _rows(db, "select count(*) from quarantine.quarantine_shop__orders") == [(0,)]


# ------------------------------------------------------------------ an eighth system

#: what the guide's recipe ("An eighth system") has a user add: a POS vendor's receipts
POS2_SOURCES = """\
version: 2

sources:
  - name: pos2
    description: "A second point-of-sale vendor: receipts with the customer's e-mail."
    tables:
      - name: receipts
        config:
          external_location: "read_csv('{{ env_var('C360_RAW_PATH') }}/pos2/receipts.csv',
            header=true, all_varchar=true)"
        columns:
          - {name: receipt_id, data_type: varchar, config: {meta: {required: true}}}
          - {name: customer_email, data_type: varchar, config: {meta: {required: false}}}
          - {name: shop_code, data_type: varchar, config: {meta: {required: true}}}
          - {name: sold_at, data_type: timestamp, config: {meta: {required: true}}}
          - {name: currency, data_type: varchar, config: {meta: {required: true}}}
          - {name: total, data_type: "decimal(12,2)", config: {meta: {required: true}}}
"""

POS2_MODEL = """\
with

source as (
    select * from {{ source('pos2', 'receipts') }}
),

rates as (
    select * from {{ ref('stg_seeds__exchange_rates') }}
),

typed as (
    select
        {{ clean_text('receipt_id') }} as receipt_id,
        {{ normalize_email('customer_email') }} as email,
        {{ clean_text('shop_code') }} as store_id,
        {{ dbt.safe_cast('sold_at', 'timestamp') }} as sold_at,
        upper({{ clean_text('currency') }}) as currency,
        {{ dbt.safe_cast('total', 'decimal(12, 2)') }} as total
    from source
),

final as (
    select
        typed.receipt_id as order_id,
        typed.email,
        typed.sold_at as ordered_at,
        'store' as channel,
        typed.store_id,
        typed.currency,
        case when typed.total < 0 then 'returned' else 'completed' end as order_status,
        typed.total as gross_amount,
        greatest({{ to_base_currency('typed.total', 'rates.rate_to_base') }}, 0)
            as gross_revenue_base,
        greatest(-{{ to_base_currency('typed.total', 'rates.rate_to_base') }}, 0)
            as refunded_revenue_base,
        false as is_refunded,
        false as is_cancelled,
        typed.total < 0 as is_return
    from typed
    left join rates
        on typed.currency = rates.currency_code
        and cast({{ dbt.date_trunc('month', 'typed.sold_at') }} as date) = rates.rate_month
)

select * from final
"""

POS2_MODELS_YML = """\
version: 2

models:
  - name: stg_pos2__receipts
    description: "Receipts of the second POS vendor, in fct_orders' shape."
    config:
      meta:
        identity:
          key: order_id
          observed_at: ordered_at
          identifiers: {email: email}
        orders: {}
    columns:
      - {name: order_id, description: "Receipt id.", meta: {pii: pseudonymous}}
      - {name: email, description: "Customer e-mail, normalised.", meta: {pii: direct}}
      - {name: ordered_at, description: "Sale time (UTC).", meta: {pii: none}}
      - {name: channel, description: "Always store.", meta: {pii: none}}
      - {name: store_id, description: "Shop code.", meta: {pii: none}}
      - {name: currency, description: "ISO 4217.", meta: {pii: none}}
      - {name: order_status, description: "completed or returned.", meta: {pii: none}}
      - {name: gross_amount, description: "Receipt total.", meta: {pii: none}}
      - {name: gross_revenue_base, description: "Sale in the base currency.", meta: {pii: none}}
      - {name: refunded_revenue_base, description: "Return, base currency.", meta: {pii: none}}
      - {name: is_refunded, description: "Never.", meta: {pii: none}}
      - {name: is_cancelled, description: "Never.", meta: {pii: none}}
      - {name: is_return, description: "A negative total.", meta: {pii: none}}
"""


def _project_copy(dst: Path) -> Path:
    """The project's dbt files (what a clone has), to add a system to without touching
    the worktree."""
    import shutil

    src = Path(__file__).resolve().parents[2]
    dst.mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml", "customer360.yml"):
        shutil.copy2(src / name, dst / name)
    for folder in ("models", "macros", "seeds", "tests", "analyses"):
        if (src / folder).is_dir():
            shutil.copytree(src / folder, dst / folder)
    return dst


@pytest.mark.warehouse
def test_eighth_system_joins_identity_and_orders(tmp_path: Path) -> None:
    """The guide's recipe, followed literally: a POS vendor's receipts (an eighth system)
    are a sources YAML, one staging model and its YAML declaring config.meta.identity and
    config.meta.orders, plus one line in the user's config. No identity or mart SQL is
    edited; the receipts join the CRM customers by e-mail and land in fct_orders."""
    import csv

    from customer360.dbt import run_dbt
    from customer360.raw_contract_check import check_raw

    project = _project_copy(tmp_path / "project")
    staging = project / "models" / "staging" / "pos2"
    staging.mkdir()
    (staging / "_pos2__sources.yml").write_text(POS2_SOURCES)
    (staging / "stg_pos2__receipts.sql").write_text(POS2_MODEL)
    (staging / "_pos2__models.yml").write_text(POS2_MODELS_YML)
    before = {p.relative_to(project): p.read_bytes() for p in (project / "models").rglob("*")
              if p.is_file() and "pos2" not in p.parts}  # fmt: skip

    settings = dataclasses.replace(
        Settings.for_directory(tmp_path / "run", project_dir=project), raw_format="csv"
    )
    config = own.write_config(
        tmp_path / "run" / "customer360.yml",
        "systems: {crm: [contacts], pos2: [receipts]}\nraw_format: csv\n",
    )
    settings = dataclasses.replace(settings, config=load_config(config))
    expected = own.crm_only(settings.raw_path)
    with (settings.raw_path / "crm" / "contacts.csv").open(encoding="utf-8") as fh:
        contacts = [  # staged contacts with an ASCII e-mail (crm-0007 is quarantined)
            r
            for r in csv.DictReader(fh)
            if r["email"].isascii() and r["contact_id"] not in expected.quarantined
        ]
    receipts = settings.raw_path / "pos2" / "receipts.csv"
    receipts.parent.mkdir(parents=True)
    with receipts.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["total", "sold_at", "receipt_id", "currency", "shop_code", "customer_email"]
        )
        for n, contact in enumerate(contacts[:10]):
            writer.writerow([f"{10 + n}.50", f"2024-0{1 + n % 9}-15T12:00:00+01:00", f"R{n}",
                             "eur", "S1", contact["email"].upper()])  # fmt: skip
        writer.writerow(["-5.00", "2024-02-01 09:00:00 Europe/Berlin", "R-ret", "EUR", "S1", ""])

    tables = settings.config.present_tables(project)
    assert ("pos2", "receipts") in {(t.system, t.name) for t in tables}
    assert check_raw(settings.raw_path, "csv", tables).ok
    vars_ = settings.dbt_vars()
    assert vars_["identity_source_models"][-1] == "stg_pos2__receipts"
    assert vars_["order_source_models"] == ["stg_pos2__receipts"]

    proc = run_dbt(["build"], settings, check=False)
    failed = _failed_nodes(settings)
    assert proc.returncode == 0, (failed, proc.stdout[-5000:])
    db = settings.build_db
    linked = _rows(
        db,
        "select r.record_key, c.record_key from marts.customer_source_map as r "
        "join marts.customer_source_map as c on r.customer_id = c.customer_id "
        "and c.source_system = 'crm' where r.source_system = 'pos2'",
    )
    customers: dict[str, set[str]] = {}  # receipt -> CRM contacts of its customer
    for receipt, contact in linked:
        customers.setdefault(receipt, set()).add(contact)
    assert set(customers) == {f"R{n}" for n in range(10)}  # the return has no e-mail
    for n, contact in enumerate(contacts[:10]):  # each joined the person it was sold to
        assert contact["contact_id"] in customers[f"R{n}"]
    orders = _rows(
        db,
        "select order_id, customer_id is not null, channel, gross_revenue_base, "
        "refunded_revenue_base, ordered_at from marts.fct_orders where source_system = 'pos2' "
        "order by order_id",
    )
    assert len(orders) == 11 and sum(o[1] for o in orders) == 10
    assert orders[0] == ("R-ret", False, "store", 0, 5, datetime(2024, 2, 1, 8, 0))
    assert orders[1][3] == 10.5 and orders[1][5] == datetime(2024, 1, 15, 11, 0)
    assert expected.rows == {"crm.contacts": 60}
    # nothing of the project changed but the new folder
    after = {p.relative_to(project): p.read_bytes() for p in (project / "models").rglob("*")
             if p.is_file() and "pos2" not in p.parts}  # fmt: skip
    assert after == before
