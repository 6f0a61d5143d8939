"""customer_clv: one row per customer in dim_customer, with historical value (from
fct_orders) and predictive value (the purchase model chosen in clv_model_fit, BG/NBD,
Pareto/NBD or MBG/NBD, with Gamma-Gamma spend; customer360.clv), as of one day, each
prediction with its clv_interval_level interval. The parameters are read from
clv_model_fit (fitted once per build); when it records not_enough_data for a part, that
part's predictions are null.

As of: var clv_churn_as_of_date, default the day of the latest touchpoint in fct_touchpoints
(which holds every order too). Orders after that day are ignored. Purchases are the
fct_orders rows with is_purchase (completed shop orders and POS sales) of identified
customers, valued at net_revenue_base; several purchases on one day are one purchase day.
Customers without a purchase get 0 / null (documented in _clv__models.yml).

The result is checked before it is written (one row per customer, probabilities in
[0, 1], no negative expectations) so that a numerical failure fails the build instead of
publishing nonsense.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from customer360 import clv, mart_inputs

SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("as_of_date", pa.date32()),
        ("has_purchased", pa.bool_()),
        ("order_count", pa.int64()),
        ("gross_revenue_base", pa.float64()),
        ("refunded_revenue_base", pa.float64()),
        ("net_revenue_base", pa.float64()),
        ("average_order_value_base", pa.float64()),
        ("first_purchase_date", pa.date32()),
        ("last_purchase_date", pa.date32()),
        ("tenure_days", pa.int64()),
        ("days_since_last_purchase", pa.int64()),
        ("purchase_days", pa.int64()),
        ("repeat_purchase_days", pa.int64()),
        ("recency_weeks", pa.float64()),
        ("age_weeks", pa.float64()),
        ("mean_repeat_purchase_value_base", pa.float64()),
        ("p_alive", pa.float64()),
        ("expected_purchases_90d", pa.float64()),
        ("expected_purchases_365d", pa.float64()),
        ("p_purchase_90d", pa.float64()),
        ("p_purchase_365d", pa.float64()),
        ("purchases_365d_lower", pa.int64()),
        ("purchases_365d_upper", pa.int64()),
        ("expected_spend_per_purchase_base", pa.float64()),
        ("clv_base", pa.float64()),
        ("clv_lower_base", pa.float64()),
        ("clv_upper_base", pa.float64()),
        ("purchase_model", pa.string()),
        ("prediction_status", pa.string()),
    ]
)


def _check(out: pd.DataFrame) -> None:
    """Fail the model (nothing written) if the result breaks what the mart promises
    (clv_model_fit already refused fits that would, so this guards the code, not the data)."""
    problems = []
    if out["customer_id"].duplicated().any():
        problems.append(f"{int(out['customer_id'].duplicated().sum())} duplicate customer_id")
    scores = out.rename(
        columns={
            "expected_spend_per_purchase_base": "expected_spend",
            "clv_base": "clv",
            "clv_lower_base": "clv_lower",
            "clv_upper_base": "clv_upper",
            "repeat_purchase_days": "frequency",
        }
    )
    predicted = out["has_purchased"] & (out["prediction_status"] == "ok")
    problems += clv.score_problems(scores, predicted=predicted)
    if problems:
        raise RuntimeError("customer_clv: " + "; ".join(problems))


def model(dbt, session):
    dbt.config(materialized="table")
    as_of = mart_inputs.as_of_day(
        dbt.config.get("clv_churn_as_of_date"), dbt.ref("fct_touchpoints"), "customer_clv"
    )
    horizon_months = int(float(dbt.config.get("clv_horizon_months")))
    discount_rate = float(dbt.config.get("clv_annual_discount_rate"))

    customers = dbt.ref("dim_customer").project("customer_id").df()["customer_id"]
    orders = (
        dbt.ref("fct_orders")
        .filter("customer_id is not null")
        .filter(f"cast(ordered_at as date) <= date '{as_of:%Y-%m-%d}'")
        .project(
            "customer_id, ordered_at, coalesce(is_purchase, false) as is_purchase, "
            "cast(gross_revenue_base as double) as gross, "
            "cast(refunded_revenue_base as double) as refunded, "
            "cast(net_revenue_base as double) as net"
        )
        .df()
    )

    # historical value: every order row of the customer (refunds and POS returns net out)
    by_customer = orders.groupby("customer_id")
    history = pd.DataFrame(
        {
            "order_count": by_customer["is_purchase"].sum().astype("int64"),
            "gross_revenue_base": by_customer["gross"].sum(),
            "refunded_revenue_base": by_customer["refunded"].sum(),
            "net_revenue_base": by_customer["net"].sum(),
        }
    )

    # predictive value: purchases only, one purchase day per customer and day
    purchases = orders[orders["is_purchase"]]
    tx = pd.DataFrame(
        {
            "customer_id": purchases["customer_id"].to_numpy(),
            "date": purchases["ordered_at"].to_numpy(),
            "amount": purchases["net"].to_numpy(),
        }
    )
    summary = clv.summarise_transactions(tx, as_of)
    fit_table = dbt.ref("clv_model_fit").df()
    purchase_params, spend_params = mart_inputs.scoring_params(fit_table, as_of)
    settings = fit_table[fit_table["record_type"] == "setting"].set_index("name")["value"]
    scored = clv.score_customers(
        summary,
        purchase_params,
        spend_params,
        horizons_days=clv.MART_HORIZONS_DAYS,
        horizon_months=horizon_months,
        annual_discount_rate=discount_rate,
        level=float(settings["clv_interval_level"]),
    )
    if purchase_params is None:
        status = "not_enough_data"
    elif spend_params is None:
        status = "no_spend_model"
    else:
        status = "ok"

    out = pd.DataFrame({"customer_id": customers.astype("string").to_numpy()})
    out = out.join(history, on="customer_id").join(scored, on="customer_id")
    out["as_of_date"] = as_of
    out["has_purchased"] = out["first_purchase_date"].notna()
    chosen = clv.model_name(purchase_params) if purchase_params is not None else None
    out["purchase_model"] = pd.Series(chosen, index=out.index, dtype="string").where(
        out["has_purchased"]
    )
    out["prediction_status"] = pd.Series(status, index=out.index).where(out["has_purchased"])
    for col in ("purchases_365d_lower", "purchases_365d_upper"):
        out[col] = out[col].round().astype("Int64")
    for col in ("order_count", "gross_revenue_base", "refunded_revenue_base", "net_revenue_base"):
        out[col] = out[col].fillna(0)
    out["average_order_value_base"] = (out["net_revenue_base"] / out["order_count"]).where(
        out["order_count"] > 0
    )
    out["tenure_days"] = (as_of - out["first_purchase_date"]).dt.days.astype("Int64")
    out["days_since_last_purchase"] = (as_of - out["last_purchase_date"]).dt.days.astype("Int64")
    out["purchase_days"] = (out["frequency"] + 1).astype("Int64")
    out = out.rename(
        columns={
            "frequency": "repeat_purchase_days",
            "recency": "recency_weeks",
            "T": "age_weeks",
            "monetary_value": "mean_repeat_purchase_value_base",
            "expected_spend": "expected_spend_per_purchase_base",
            "clv": "clv_base",
            "clv_lower": "clv_lower_base",
            "clv_upper": "clv_upper_base",
        }
    )
    out["repeat_purchase_days"] = out["repeat_purchase_days"].astype("Int64")
    unknown = history.index.difference(pd.Index(out["customer_id"]))
    if len(unknown):
        raise RuntimeError(
            f"customer_clv: fct_orders has {len(unknown)} customer_id(s) missing from "
            f"dim_customer (e.g. {list(unknown[:5])}); their revenue would be lost"
        )
    _check(out)
    for col in ("as_of_date", "first_purchase_date", "last_purchase_date"):
        out[col] = pd.to_datetime(out[col]).dt.date
    return pa.Table.from_pandas(out[SCHEMA.names], schema=SCHEMA, preserve_index=False)
