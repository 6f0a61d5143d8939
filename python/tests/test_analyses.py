"""The analyst questions in analyses/: compiled by a real `dbt compile` and executed on the
demo warehouse (build DB) and on its published copy, each checked against a property that
is recomputed independently from the marts.

dbt compiles against a copy of the demo build DB with its own target path, so the shared
fixture's files are never touched.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from conftest import BuiltWarehouse

from customer360.dbt import run_dbt
from customer360.publish import publish
from customer360.settings import PROJECT_DIR

ANALYSES = (
    "cohort_retention",
    "clv_by_acquisition_channel",
    "churn_by_segment",
    "attribution_by_campaign",
    "identity_quality_cluster_sizes",
    "identity_quality_records_per_source",
    "identity_quality_links_per_identifier_type",
    "identity_quality_excluded_identifiers",
)
ATTRIBUTION_MODELS = {
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "position_based",
    "time_decay",
}


@pytest.fixture(scope="module")
def compiled(
    demo_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """analysis name -> compiled SQL, from `dbt compile --select <the analyses>`."""
    root = tmp_path_factory.mktemp("analyses")
    copy = root / demo_warehouse.db.name  # same file name: same database name in the SQL
    shutil.copyfile(demo_warehouse.db, copy)
    settings = dataclasses.replace(
        demo_warehouse.settings,
        build_db=copy,
        dbt_target_path=root / "target",
        dbt_log_path=root / "logs",
    )
    run_dbt(["compile", "--quiet", "--select", *ANALYSES], settings)
    folder = settings.dbt_target_path / "compiled" / "customer360" / "analyses"
    return {name: (folder / f"{name}.sql").read_text() for name in ANALYSES}


@pytest.fixture(scope="module")
def con(demo_warehouse: BuiltWarehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(demo_warehouse.db), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def results(compiled: dict[str, str], con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    return {name: con.execute(sql).df() for name, sql in compiled.items()}


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    row = con.execute(sql).fetchone()
    assert row is not None
    return float(row[0])


def test_every_analysis_compiles_to_sql_on_the_analyst_layer(compiled: dict[str, str]) -> None:
    for name, sql in compiled.items():
        assert "{{" not in sql and "{%" not in sql, name
        assert '"analyst".' in sql, f"{name} should read the published (analyst) layer"
        assert '"marts".' not in sql, f"{name} reads marts, which analysts never get"


def test_every_analysis_returns_rows(results: dict[str, pd.DataFrame]) -> None:
    for name, df in results.items():
        assert not df.empty, f"analysis {name} returned no rows on the demo warehouse"


def test_cohort_retention(results: dict[str, pd.DataFrame], con: duckdb.DuckDBPyConnection):
    df = results["cohort_retention"]
    month0 = df[df["months_since_first_purchase"] == 0]
    # every cohort has its month 0, and retention there is 100% by definition
    assert set(month0["cohort_month"]) == set(df["cohort_month"])
    assert (month0["retention_rate"] == 1.0).all()
    assert (month0["active_customers"] == month0["cohort_customers"]).all()
    assert (df["months_since_first_purchase"] >= 0).all()
    assert df["retention_rate"].between(0, 1, inclusive="right").all()
    assert (df[df["months_since_first_purchase"] > 0]["retention_rate"] < 1).any()
    buyers = scalar(
        con,
        "select count(distinct customer_id) from marts.fct_orders "
        "where is_purchase and customer_id is not null",
    )
    assert month0["cohort_customers"].sum() == buyers
    # cohort month = month of the first purchase, recomputed from the marts
    first = con.execute(
        "select date_trunc('month', first_at) as m, count(*) as n from ("
        "select customer_id, min(ordered_at) as first_at from marts.fct_orders "
        "where is_purchase and customer_id is not null group by 1) group by 1"
    ).df()
    expected = dict(zip(pd.to_datetime(first["m"]), first["n"], strict=True))
    got = dict(zip(pd.to_datetime(month0["cohort_month"]), month0["cohort_customers"], strict=True))
    assert got == expected


def test_clv_by_acquisition_channel(
    results: dict[str, pd.DataFrame], con: duckdb.DuckDBPyConnection
) -> None:
    df = results["clv_by_acquisition_channel"]
    assert df["acquisition_channel"].is_unique
    assert df["customers"].sum() == scalar(con, "select count(*) from marts.dim_customer")
    assert df["buying_customers"].sum() == scalar(
        con, "select count(*) from marts.customer_clv where has_purchased"
    )
    total = scalar(con, "select sum(clv_base) from marts.customer_clv")
    assert df["total_clv_base"].sum() == pytest.approx(total, rel=1e-9)
    assert df["share_of_total_clv"].sum() == pytest.approx(1.0)
    assert (df["buying_customers"] <= df["customers"]).all()


def test_churn_by_segment(results: dict[str, pd.DataFrame], con: duckdb.DuckDBPyConnection):
    df = results["churn_by_segment"]
    assert df["rfm_segment"].is_unique
    assert df["customers"].sum() == scalar(con, "select count(*) from marts.customer_churn")
    assert (df["churned_customers"] <= df["labelled_customers"]).all()
    assert (df["labelled_customers"] <= df["customers"]).all()
    rates = df["observed_churn_rate"].dropna()
    assert rates.between(0, 1).all() and not rates.empty
    assert df["predicted_churn_rate_model"].between(0, 1).all()
    assert df["share_of_customers"].sum() == pytest.approx(1.0)
    # champions (recent, frequent) must churn less than lost customers in the last window
    by_segment = df.set_index("rfm_segment")["observed_churn_rate"]
    if {"champions", "lost"} <= set(by_segment.index):
        assert by_segment["champions"] < by_segment["lost"]


def test_attribution_by_campaign(
    results: dict[str, pd.DataFrame], con: duckdb.DuckDBPyConnection
) -> None:
    df = results["attribution_by_campaign"]
    assert set(df["attribution_model"]) == ATTRIBUTION_MODELS
    # every order's revenue is credited in full under every model: the totals per model
    # equal the revenue of the attributed orders, recounted from fct_orders
    revenue = scalar(
        con,
        "select sum(net_revenue_base) from marts.fct_orders where order_id in "
        "(select order_id from marts.fct_order_attribution)",
    )
    totals = df.groupby("attribution_model")["attributed_revenue_base"].sum().astype(float)
    for model, total in totals.items():
        assert total == pytest.approx(revenue, abs=0.005), model
    shares = df.groupby("attribution_model")["share_of_revenue"].sum()
    assert shares.to_numpy() == pytest.approx([1.0] * len(shares))
    orders = scalar(con, "select count(distinct order_id) from marts.fct_order_attribution")
    conversions = df.groupby("attribution_model")["credited_conversions"].sum()
    assert conversions.to_numpy() == pytest.approx([orders] * len(conversions))


def test_identity_quality_cluster_sizes(
    results: dict[str, pd.DataFrame], con: duckdb.DuckDBPyConnection
) -> None:
    df = results["identity_quality_cluster_sizes"]
    assert df["customers"].sum() == scalar(con, "select count(*) from marts.dim_customer")
    assert df["records"].sum() == scalar(con, "select count(*) from marts.customer_source_map")
    assert df["share_of_customers"].sum() == pytest.approx(1.0)
    assert list(df["cluster_size_from"]) == sorted(df["cluster_size_from"])
    largest = scalar(con, "select max(n_records) from marts.dim_customer")
    assert df["largest_cluster"].max() == largest


def test_identity_quality_records_per_source(
    results: dict[str, pd.DataFrame], con: duckdb.DuckDBPyConnection
) -> None:
    df = results["identity_quality_records_per_source"]
    assert df["mapped_records"].sum() == scalar(
        con, "select count(*) from marts.customer_source_map"
    )
    assert df["anonymous_records"].sum() == scalar(
        con, "select count(*) from marts.identity_anonymous_records"
    )
    assert (df["records"] == df["mapped_records"] + df["anonymous_records"]).all()
    assert df["mapped_share"].between(0, 1).all()
    assert {"shop", "crm", "support", "newsletter", "app", "web", "loyalty"} <= set(
        df["source_system"]
    )
    # a person-level table: every shop account is a customer of its own
    shop = df[(df["source_system"] == "shop") & (df["source_table"] == "customers")].iloc[0]
    assert shop["customers"] == shop["mapped_records"]


def test_identity_quality_links_per_identifier_type(
    results: dict[str, pd.DataFrame], con: duckdb.DuckDBPyConnection
) -> None:
    df = results["identity_quality_links_per_identifier_type"]
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    declared = set(project["vars"]["identity_identifier_types"])
    assert set(df["identifier_type"]) == declared
    # recount the links from the marts in pandas
    lists = con.execute("select linked_by_identifier_types from marts.customer_source_map").df()[
        "linked_by_identifier_types"
    ]
    recount = lists.dropna().str.split(",").explode().value_counts()
    got = df.set_index("identifier_type")["linked_records"]
    for identifier_type in declared:
        assert got[identifier_type] == recount.get(identifier_type, 0), identifier_type
    assert got["email"] > 0 and got["shop_customer_id"] > 0
    assert df["lone_records"].iloc[0] == lists.isna().sum()


def test_identity_quality_excluded_identifiers(
    results: dict[str, pd.DataFrame], con: duckdb.DuckDBPyConnection
) -> None:
    df = results["identity_quality_excluded_identifiers"]
    assert df["audit_rows"].sum() == scalar(con, "select count(*) from marts.identity_audit")
    distinct = scalar(
        con,
        "select count(*) from (select distinct audit_kind, identifier_type, reason, "
        "identifier_value from marts.identity_audit)",
    )
    assert df["identifiers"].sum() == distinct
    # the generator plants junk identifiers (test@test.com and the like): blocklisted
    assert df["reason"].str.contains("blocklist").any()
    assert set(df["audit_kind"]) <= {"excluded_identifier", "cut_link"}


def test_analyses_run_on_the_published_warehouse(
    demo_warehouse: BuiltWarehouse,
    compiled: dict[str, str],
    results: dict[str, pd.DataFrame],
    tmp_path: Path,
) -> None:
    """What analysts do: run the compiled SQL against the published file (read-only),
    attached under the build DB's database name; same answers as on the build DB."""
    settings = dataclasses.replace(
        demo_warehouse.settings, published_db=tmp_path / "customer360.duckdb"
    )
    publish(settings)
    con = duckdb.connect()
    try:
        con.execute(f"attach '{settings.published_db}' as \"{demo_warehouse.db.stem}\" (read_only)")
        for name, sql in compiled.items():
            published = con.execute(sql).df()
            pd.testing.assert_frame_equal(
                published.reset_index(drop=True),
                results[name].reset_index(drop=True),
                check_dtype=False,
                obj=name,
            )
    finally:
        con.close()
