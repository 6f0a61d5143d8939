"""customer_churn: one row per customer with a purchase on or before as_of: RFM scores
and segment, the churn label of the last fully observed window, a churn-risk score from a
scikit-learn model trained here, and the model-free score from the BG/NBD model
(customer360.churn.churn_scores).

Purchases: fct_orders rows with is_purchase of identified customers (net_revenue_base),
one purchase per customer and day. Engagement events (model features): fct_touchpoints
rows of identified customers that are not orders (web, app, email, support).

Time split (no leakage): the label cutoff is var churn_cutoff_date, default
as_of - churn_window_days. The model is trained on features computed from data on or before
the cutoff with labels from (cutoff, cutoff + window]; it then scores every customer on
features as of as_of: the probability of no purchase in the next window.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from customer360 import churn, clv

SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("as_of_date", pa.date32()),
        ("recency_days", pa.int64()),
        ("purchase_days", pa.int64()),
        ("monetary_base", pa.float64()),
        ("r_score", pa.int64()),
        ("f_score", pa.int64()),
        ("m_score", pa.int64()),
        ("rfm_score", pa.string()),
        ("rfm_segment", pa.string()),
        ("churn_window_days", pa.int64()),
        ("label_cutoff_date", pa.date32()),
        ("churned_last_window", pa.bool_()),
        ("churn_score_model", pa.float64()),
        ("churn_score_clv", pa.float64()),
        ("p_purchase_next_window", pa.float64()),
        ("p_alive", pa.float64()),
    ]
)


def _is_set(value: object) -> bool:
    return value is not None and str(value).strip().lower() not in ("", "none", "null")


def _as_of(dbt, configured: object) -> pd.Timestamp:
    if _is_set(configured):
        return clv.as_day(str(configured), "var clv_churn_as_of_date")
    latest = dbt.ref("fct_touchpoints").aggregate("max(occurred_at)").fetchall()[0][0]
    if latest is None:
        raise ValueError("customer_churn: fct_touchpoints is empty, no data to score")
    return clv.as_day(latest, "max(fct_touchpoints.occurred_at)")


def _check(out: pd.DataFrame) -> None:
    """Fail the model (nothing written) if the result breaks what the mart promises."""
    problems = []
    if out["customer_id"].duplicated().any():
        problems.append(f"{int(out['customer_id'].duplicated().sum())} duplicate customer_id")
    for col in ("churn_score_model", "churn_score_clv", "p_purchase_next_window", "p_alive"):
        bad = ~out[col].between(0.0, 1.0)  # also catches NaN: every buyer gets every score
        if bad.any():
            problems.append(f"{col} missing or outside [0, 1] for {int(bad.sum())} customers")
    if problems:
        raise RuntimeError("customer_churn: " + "; ".join(problems))


def model(dbt, session):
    dbt.config(materialized="table")
    as_of = _as_of(dbt, dbt.config.get("clv_churn_as_of_date"))
    window_days = int(float(dbt.config.get("churn_window_days")))
    cutoff_var = dbt.config.get("churn_cutoff_date")
    cutoff = clv.as_day(str(cutoff_var), "var churn_cutoff_date") if _is_set(cutoff_var) else None
    if cutoff is None:
        cutoff = as_of - pd.Timedelta(days=window_days)
    active_var = dbt.config.get("churn_active_within_days")
    active_within = int(float(active_var)) if _is_set(active_var) else None
    day = f"date '{as_of:%Y-%m-%d}'"

    tx = (
        dbt.ref("fct_orders")
        .filter("customer_id is not null and is_purchase")
        .filter(f"cast(ordered_at as date) <= {day}")
        .project("customer_id, ordered_at as date, cast(net_revenue_base as double) as amount")
        .df()
    )
    events = (
        dbt.ref("fct_touchpoints")
        .filter("customer_id is not null and order_id is null")
        .filter(f"cast(occurred_at as date) <= {day}")
        .project("customer_id, occurred_at, channel")
        .df()
    )
    # engagement of people who never bought carries no information for a buyer model
    events = events[events["customer_id"].isin(tx["customer_id"])]

    scores = churn.churn_scores(
        tx, as_of, window_days, events, cutoff=cutoff, active_within_days=active_within
    )
    out = scores.reset_index().rename(
        columns={
            "frequency": "purchase_days",
            "monetary": "monetary_base",
            "p_purchase": "p_purchase_next_window",
        }
    )
    out["customer_id"] = out["customer_id"].astype("string")
    out["as_of_date"] = as_of.date()
    out["churn_window_days"] = window_days
    out["label_cutoff_date"] = cutoff.date()
    out["rfm_score"] = out["rfm_score"].astype("string")
    out["rfm_segment"] = out["rfm_segment"].astype("string")
    _check(out)
    return pa.Table.from_pandas(out[SCHEMA.names], schema=SCHEMA, preserve_index=False)
