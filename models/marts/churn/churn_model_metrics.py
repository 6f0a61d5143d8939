"""churn_model_metrics: how well every churn score predicts on a time-based holdout
(customer360.churn.churn_backtest), which learner the time-based cross-validation chose,
and which score customer_churn publishes as churn_risk, as one tidy (long) table.

Same inputs as customer_churn. The split (customer360.churn.make_split): test cutoff c2
(var churn_cutoff_date, default as_of - horizon), horizon h (var churn_horizon_days,
default churn_window_days), training cutoff c1 (var churn_train_cutoff_date, default
c2 - w with w = churn_window_days), training labels from (c1, c1 + w], which must end by
c2; nothing after c2 is used for training. An impossible split that the vars ask for fails
the build with a message naming the dates and customer counts; with the default split, or
with a single label class, the mart holds one status row not_enough_data with the reason.

score_name: model (the chosen learner), clv (1 - BG/NBD P(purchase in h)), pnbd (the same
under Pareto/NBD), recency (churn rate by recency, learnt at c1) and, as a warning,
one_minus_p_alive. metric: auc, brier, log_loss, top_decile_lift, n_customers,
churn_rate (decile null); calibration_n, calibration_mean_predicted,
calibration_observed_rate, gains_share_of_churners, gains_lift per decile. Rows
score_name cv_<learner>: mean validation log loss and AUC of each candidate; recommended
(score_name = the published score, detail = why); learner (detail = the chosen learner);
status (ok or not_enough_data, detail = the reason).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from customer360 import churn, mart_inputs

SCHEMA = pa.schema(
    [
        ("score_name", pa.string()),
        ("metric", pa.string()),
        ("decile", pa.int64()),
        ("value", pa.float64()),
        ("detail", pa.string()),
        ("train_cutoff_date", pa.date32()),
        ("test_cutoff_date", pa.date32()),
        ("label_window_end_date", pa.date32()),
        ("churn_window_days", pa.int64()),
        ("horizon_days", pa.int64()),
    ]
)


def _rows(result: churn.ChurnBacktest) -> list[dict]:
    predictions = result.predictions
    metrics, calibration = result.metrics, result.calibration
    if "p_alive" in predictions:
        warning_metrics, warning_calibration = churn.evaluate_scores(
            predictions["churned"], {"one_minus_p_alive": 1.0 - predictions["p_alive"]}
        )
        metrics = pd.concat([metrics, warning_metrics], ignore_index=True)
        calibration = pd.concat([calibration, warning_calibration], ignore_index=True)
    rows = []
    renamed = {"n": "n_customers"}
    for record in metrics.to_dict("records"):
        for metric in ("auc", "brier", "log_loss", "top_decile_lift", "n", "churn_rate"):
            rows.append(
                {
                    "score_name": record["score"],
                    "metric": renamed.get(metric, metric),
                    "value": float(record[metric]),
                }
            )
    columns = {
        "n": "calibration_n",
        "mean_predicted": "calibration_mean_predicted",
        "observed_rate": "calibration_observed_rate",
        "share_of_churners": "gains_share_of_churners",
        "lift": "gains_lift",
    }
    for record in calibration.to_dict("records"):
        for column, metric in columns.items():
            rows.append(
                {
                    "score_name": record["score"],
                    "metric": metric,
                    "decile": int(record["decile"]),
                    "value": float(record[column]),
                }
            )
    if not result.cv.empty:
        means = result.cv.groupby("learner")[["log_loss", "auc"]].mean()
        folds = result.cv.groupby("learner")["validation_cutoff"].agg(
            lambda days: ", ".join(str(d.date()) for d in sorted(days))
        )
        for learner, record in means.iterrows():
            for metric in ("log_loss", "auc"):
                rows.append(
                    {
                        "score_name": f"cv_{learner}",
                        "metric": f"cv_{metric}",
                        "value": float(record[metric]),
                        "detail": f"validation cutoffs {folds[learner]}",
                    }
                )
    rows.append(
        {"score_name": "model", "metric": "learner", "value": 1.0, "detail": result.learner}
    )
    rows.append(
        {
            "score_name": result.recommended,
            "metric": "recommended",
            "value": 1.0,
            "detail": result.reason,
        }
    )
    rows.append(
        {
            "score_name": "all",
            "metric": "status",
            "value": 1.0,
            "detail": "ok" + ("; " + "; ".join(result.notes) if result.notes else ""),
        }
    )
    return rows


def model(dbt, session):
    dbt.config(materialized="table")
    as_of = mart_inputs.as_of_day(
        dbt.config.get("clv_churn_as_of_date"), dbt.ref("fct_touchpoints"), "churn_model_metrics"
    )
    window_days = int(float(dbt.config.get("churn_window_days")))
    horizon_days = mart_inputs.optional_int(dbt.config.get("churn_horizon_days"))
    test_cutoff = mart_inputs.optional_day(
        dbt.config.get("churn_cutoff_date"), "var churn_cutoff_date"
    )
    train_cutoff = mart_inputs.optional_day(
        dbt.config.get("churn_train_cutoff_date"), "var churn_train_cutoff_date"
    )
    folds = mart_inputs.optional_int(dbt.config.get("churn_cv_folds")) or 2
    active_within = mart_inputs.optional_int(dbt.config.get("churn_active_within_days"))

    tx = mart_inputs.purchases(dbt.ref("fct_orders"), as_of)
    events = mart_inputs.buyer_engagement(dbt.ref("fct_touchpoints"), as_of, tx["customer_id"])
    configured = test_cutoff is not None or train_cutoff is not None
    dates = {"churn_window_days": window_days, "horizon_days": horizon_days or window_days}
    try:
        result = churn.churn_backtest(
            tx,
            train_cutoff,
            test_cutoff,
            window_days,
            events if len(events) else None,
            data_end=as_of,
            horizon_days=horizon_days,
            active_within_days=active_within,
            n_cv_folds=folds,
        )
    except churn.ImpossibleSplitError as exc:
        if configured:  # the user asked for dates the data cannot support
            raise
        rows = [{"score_name": "all", "metric": "status", "value": 0.0, "detail": str(exc)}]
    except churn.NotEnoughDataError as exc:
        rows = [{"score_name": "all", "metric": "status", "value": 0.0, "detail": str(exc)}]
    else:
        split = result.split
        rows = _rows(result)
        dates = {
            "train_cutoff_date": split.train_cutoff.date(),
            "test_cutoff_date": split.test_cutoff.date(),
            "label_window_end_date": (
                split.test_cutoff + pd.Timedelta(days=split.horizon_days)
            ).date(),
            "churn_window_days": split.window_days,
            "horizon_days": split.horizon_days,
        }
    if rows[0]["metric"] == "status" and rows[0]["value"] == 0.0:
        rows[0]["detail"] = "not_enough_data: " + rows[0]["detail"]
    out = pd.DataFrame(rows).reindex(columns=SCHEMA.names)
    for column, value in dates.items():
        out[column] = value
    out["decile"] = out["decile"].astype("Int64")
    out["detail"] = out["detail"].astype("string")
    for column in ("train_cutoff_date", "test_cutoff_date", "label_window_end_date"):
        out[column] = pd.to_datetime(out[column]).dt.date
    return pa.Table.from_pandas(out[SCHEMA.names], schema=SCHEMA, preserve_index=False)
