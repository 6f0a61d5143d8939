"""Issue 13, deliverable 3: the CLV and churn marts degrade instead of failing when a
user's data cannot support them. Real `dbt build` on exports the generator did not write
as such: the generator's files with every engagement table (web and app events, e-mail
events, support tickets) emptied to 0 rows with their schema kept, i.e. a shop + CRM +
loyalty history with no engagement data (which today fails customer_churn with
"window shape cannot be larger than input array shape"); then the same warehouse rebuilt
with a repeat-buyer minimum no shop can meet, and with an impossible churn split."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from customer360.dbt import DbtError, run_dbt
from customer360.settings import Settings

pytestmark = pytest.mark.warehouse  # every test here builds a warehouse with dbt

PEOPLE = 800
SEED = 11
ENGAGEMENT_TABLES = (
    ("web", "events"),
    ("app", "events"),
    ("newsletter", "email_events"),
    ("support", "tickets"),
)
MARTS = ("customer_clv", "clv_model_fit", "customer_churn", "churn_model_metrics")


@pytest.fixture(scope="module")
def no_engagement(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from customer360.generate import generate

    root = tmp_path_factory.mktemp("no-engagement")
    settings = Settings.for_directory(root)
    generate(settings.data_dir, people=PEOPLE, seed=SEED)
    raw = settings.data_dir / "raw"
    for system, table in ENGAGEMENT_TABLES:
        path = raw / system / f"{table}.parquet"
        empty = pq.read_table(path).slice(0, 0)  # same columns and types, no rows
        pq.write_table(empty, path)
    run_dbt(["build"], settings)
    return settings


def _tables(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {name: con.sql(f"select * from marts.{name}").df() for name in MARTS}
        out["touchpoints"] = con.sql(
            "select count(*) filter (where order_id is null) as n from marts.fct_touchpoints"
        ).fetchall()[0][0]
    finally:
        con.close()
    return out


def test_marts_build_without_engagement_data(no_engagement: Settings) -> None:
    tables = _tables(no_engagement.build_db)
    assert tables["touchpoints"] == 0  # really no engagement event reached the marts
    churn = tables["customer_churn"]
    assert len(churn) > 100
    metrics = tables["churn_model_metrics"]
    status = metrics[metrics["metric"] == "status"]
    assert status["value"].tolist() == [1.0], status
    recommended = metrics[metrics["metric"] == "recommended"]["score_name"].item()
    assert (churn["churn_risk_source"] == recommended).all()
    source = f"churn_score_{recommended}"
    assert churn["churn_risk"].equals(churn[source].rename("churn_risk"))
    assert churn["churn_risk"].between(0, 1).all()
    clv = tables["customer_clv"]
    assert (clv.query("has_purchased")["prediction_status"] == "ok").all()


def _rebuild(settings: Settings, tmp_path: Path, vars_: str, select: str) -> Settings:
    copy = tmp_path / "build.duckdb"
    copy.write_bytes(settings.build_db.read_bytes())
    rebuilt = dataclasses.replace(
        settings,
        build_db=copy,
        dbt_target_path=tmp_path / "target",
        dbt_log_path=tmp_path / "logs",
    )
    run_dbt(["run", "--select", select, "--vars", vars_], rebuilt)
    return rebuilt


def test_too_few_repeat_buyers_give_not_enough_data(
    no_engagement: Settings, tmp_path: Path
) -> None:
    """A repeat-buyer minimum above the data: clv_model_fit holds the not_enough_data
    status rows with the reason, customer_clv null predictions, and the build succeeds."""
    rebuilt = _rebuild(
        no_engagement,
        tmp_path,
        "{clv_min_repeat_customers: 1000000}",
        "clv_model_fit customer_clv",
    )
    tables = _tables(rebuilt.build_db)
    fit = tables["clv_model_fit"]
    status = fit[fit["record_type"] == "status"].set_index("model")
    assert set(status.index) == {"purchase", "spend"}
    assert (status["name"] == "not_enough_data").all()
    assert status.loc["purchase", "detail"].endswith(
        "the models need at least 1000000 (var clv_min_repeat_customers)"
    )
    assert (fit["record_type"] != "parameter").all()
    clv = tables["customer_clv"]
    buyers = clv[clv["has_purchased"]]
    assert len(buyers) > 100
    assert (buyers["prediction_status"] == "not_enough_data").all()
    for column in ("p_alive", "expected_purchases_365d", "clv_base", "clv_upper_base"):
        assert buyers[column].isna().all(), column
    assert buyers["net_revenue_base"].sum() > 0  # the history is still there


def test_impossible_churn_split_names_dates_and_counts(
    no_engagement: Settings, tmp_path: Path
) -> None:
    """A training cutoff before any purchase, asked for by the vars, fails with the dates
    and the customer counts (not with 'only one class present')."""
    with pytest.raises(DbtError) as info:
        _rebuild(
            no_engagement,
            tmp_path,
            "{churn_train_cutoff_date: '1990-01-01'}",
            "churn_model_metrics",
        )
    text = " ".join(info.value.output.split())  # dbt may wrap long lines
    assert "no customer had bought by the train cutoff 1990-01-01" in text
    assert "0 at the train cutoff" in text
