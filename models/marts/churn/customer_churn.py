"""customer_churn: one row per customer with a purchase on or before as_of: RFM scores
and segment, the churn label of the last fully observed window, a churn-risk score from a
scikit-learn model trained here (the learner chosen by cross-validation in
churn_model_metrics), the baselines (model-free BG/NBD, Pareto/NBD, recency) and
churn_risk: the score churn_model_metrics recommends (the trained model only where it beat
recency and the model-free score on the holdout; otherwise the best baseline, named in
churn_risk_source). customer360.churn.churn_scores.

Not enough data (one label class, a model fit that fails) leaves that score null; absent
systems (no engagement events) leave their features out.

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

from customer360 import churn, mart_inputs

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
        ("churn_score_pnbd", pa.float64()),
        ("churn_score_recency", pa.float64()),
        ("churn_risk", pa.float64()),
        ("churn_risk_source", pa.string()),
        ("p_purchase_next_window", pa.float64()),
        ("p_alive", pa.float64()),
    ]
)


def _check(out: pd.DataFrame) -> None:
    """Fail the model (nothing written) if the result breaks what the mart promises."""
    problems = []
    if out["customer_id"].duplicated().any():
        problems.append(f"{int(out['customer_id'].duplicated().sum())} duplicate customer_id")
    scores = (
        "churn_score_model",
        "churn_score_clv",
        "churn_score_pnbd",
        "churn_score_recency",
        "churn_risk",
        "p_purchase_next_window",
        "p_alive",
    )
    for col in scores:
        # a score is computed for every buyer or (not enough data) for none
        present = out[col].notna()
        if present.any() and not present.all():
            problems.append(f"{col} missing for {int((~present).sum())} customers")
        bad = present & ~out[col].between(0.0, 1.0)
        if bad.any():
            problems.append(f"{col} outside [0, 1] for {int(bad.sum())} customers")
    if problems:
        raise RuntimeError("customer_churn: " + "; ".join(problems))


def model(dbt, session):
    dbt.config(materialized="table")
    as_of = mart_inputs.as_of_day(
        dbt.config.get("clv_churn_as_of_date"), dbt.ref("fct_touchpoints"), "customer_churn"
    )
    window_days = int(float(dbt.config.get("churn_window_days")))
    cutoff = mart_inputs.optional_day(dbt.config.get("churn_cutoff_date"), "var churn_cutoff_date")
    if cutoff is None:
        cutoff = as_of - pd.Timedelta(days=window_days)
    active_within = mart_inputs.optional_int(dbt.config.get("churn_active_within_days"))

    tx = mart_inputs.purchases(dbt.ref("fct_orders"), as_of)
    events = mart_inputs.buyer_engagement(dbt.ref("fct_touchpoints"), as_of, tx["customer_id"])

    metrics = dbt.ref("churn_model_metrics").df()
    recommended, learner = mart_inputs.churn_choice(metrics)
    scores = churn.churn_scores(
        tx,
        as_of,
        window_days,
        events if len(events) else None,
        cutoff=cutoff,
        active_within_days=active_within,
        learner=learner,
        recommended=recommended,
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
