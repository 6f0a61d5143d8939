"""churn_model_metrics: how well the churn scores of customer_churn rank and calibrate, on
a time-based holdout (customer360.churn.churn_backtest), as one tidy (long) table.

Same inputs as customer_churn. With window w (var churn_window_days) and test cutoff c2
(var churn_cutoff_date, default as_of - w) the model is trained at c1 = c2 - w (features
on or before c1, labels from (c1, c2]) and evaluated on the customers who bought on or
before c2, with labels from (c2, c2 + w]: exactly how customer_churn's model is used one
window later. Nothing after c2 is used for training.

score_name: model (the trained classifier), clv (1 - P(at least one purchase in w) from
the BG/NBD model fitted up to c2) and, as a warning, one_minus_p_alive (BG/NBD 1 - P(alive),
constant 0 for every customer without a repeat purchase). metric: auc, brier,
top_decile_lift, n_customers, churn_rate (decile null) and calibration_n,
calibration_mean_predicted, calibration_observed_rate (decile 1..10, 1 = lowest scores).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from customer360 import churn, frames, mart_inputs

SCHEMA = pa.schema(
    [
        ("score_name", pa.string()),
        ("metric", pa.string()),
        ("decile", pa.int64()),
        ("value", pa.float64()),
        ("train_cutoff_date", pa.date32()),
        ("test_cutoff_date", pa.date32()),
        ("label_window_end_date", pa.date32()),
        ("churn_window_days", pa.int64()),
    ]
)


def model(dbt, session):
    dbt.config(materialized="table")
    dbt = frames.portable(dbt, session)  # DuckDB relations or Spark DataFrames alike
    as_of = mart_inputs.as_of_day(
        dbt.config.get("clv_churn_as_of_date"), dbt.ref("fct_touchpoints"), "churn_model_metrics"
    )
    window_days = int(float(dbt.config.get("churn_window_days")))
    window = pd.Timedelta(days=window_days)
    test_cutoff = mart_inputs.optional_day(
        dbt.config.get("churn_cutoff_date"), "var churn_cutoff_date"
    )
    if test_cutoff is None:
        test_cutoff = as_of - window
    train_cutoff = test_cutoff - window
    active_within = mart_inputs.optional_int(dbt.config.get("churn_active_within_days"))

    tx = mart_inputs.purchases(dbt.ref("fct_orders"), as_of)
    events = mart_inputs.buyer_engagement(dbt.ref("fct_touchpoints"), as_of, tx["customer_id"])

    backtest = churn.churn_backtest(
        tx,
        train_cutoff,
        test_cutoff,
        window_days,
        events,
        data_end=as_of,
        active_within_days=active_within,
    )
    predictions = backtest.predictions
    reference_metrics, reference_calibration = churn.evaluate_scores(
        predictions["churned"], {"one_minus_p_alive": 1.0 - predictions["p_alive"]}
    )
    metrics = pd.concat([backtest.metrics, reference_metrics], ignore_index=True)
    calibration = pd.concat([backtest.calibration, reference_calibration], ignore_index=True)

    rows = []
    renamed = {"n": "n_customers"}
    for record in metrics.to_dict("records"):
        for metric in ("auc", "brier", "top_decile_lift", "n", "churn_rate"):
            rows.append(
                {
                    "score_name": record["score"],
                    "metric": renamed.get(metric, metric),
                    "decile": None,
                    "value": float(record[metric]),
                }
            )
    for record in calibration.to_dict("records"):
        for column in ("n", "mean_predicted", "observed_rate"):
            rows.append(
                {
                    "score_name": record["score"],
                    "metric": f"calibration_{column}",
                    "decile": int(record["decile"]),
                    "value": float(record[column]),
                }
            )
    out = pd.DataFrame(rows)
    out["decile"] = out["decile"].astype("Int64")
    out["train_cutoff_date"] = train_cutoff.date()
    out["test_cutoff_date"] = test_cutoff.date()
    out["label_window_end_date"] = (test_cutoff + window).date()
    out["churn_window_days"] = window_days
    return frames.output(
        session, pa.Table.from_pandas(out[SCHEMA.names], schema=SCHEMA, preserve_index=False)
    )
