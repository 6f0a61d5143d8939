"""clv_model_fit: the CLV models' fit, the purchase-model choice and how well the models
predict, as one tidy (long) table. customer_clv reads its parameters from here (the models
are fitted once per build).

Purchases as in customer_clv (fct_orders rows with is_purchase of identified customers,
net_revenue_base, one purchase per customer and day).

* fit_name 'calibration': BG/NBD, Pareto/NBD and MBG/NBD fitted on the purchases up to
  as_of - clv_holdout_days and scored on the holdout days (calibration end, as_of]: the
  model with the best holdout mean log predictive probability of each customer's holdout
  purchase count is chosen (record_type choice). Per model: parameters, statistics,
  holdout_by_frequency (0..7+) and holdout_overall (totals, relative error, MAE, RMSE,
  log_score, interval_coverage and pit_coverage of the clv_interval_level interval).
* fit_name 'scoring': the chosen purchase model and Gamma-Gamma fitted on everything up
  to as_of (the fit behind customer_clv's predictions).

record_type status (one row per part, 'purchase' and 'spend'): name ok or
not_enough_data, with the reason in detail. Too few repeat buyers, no purchases or a fit
that does not converge give not_enough_data (and null predictions in customer_clv)
instead of failing the build.
"""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import pyarrow as pa

from customer360 import clv, mart_inputs

SCHEMA = pa.schema(
    [
        ("fit_name", pa.string()),
        ("model", pa.string()),
        ("record_type", pa.string()),
        ("name", pa.string()),
        ("frequency_bucket", pa.int64()),
        ("value", pa.float64()),
        ("detail", pa.string()),
        ("calibration_end_date", pa.date32()),
        ("observation_end_date", pa.date32()),
    ]
)


def _fit_rows(fit: clv.FitResult, fit_name: str) -> list[dict]:
    rows = [
        {"model": fit.model, "record_type": "parameter", "name": name, "value": float(value)}
        for name, value in asdict(fit.params).items()
    ]
    statistics = {
        "log_likelihood": fit.log_likelihood,
        "n_customers": fit.n_customers,
        "is_converged": 1.0 if fit.converged else 0.0,
        "iterations": fit.iterations,
        **fit.extra,
    }
    rows += [
        {"model": fit.model, "record_type": "statistic", "name": name, "value": float(value)}
        for name, value in statistics.items()
    ]
    return [{"fit_name": fit_name, **row} for row in rows]


def model(dbt, session):
    dbt.config(materialized="table")
    as_of = mart_inputs.as_of_day(
        dbt.config.get("clv_churn_as_of_date"), dbt.ref("fct_touchpoints"), "clv_model_fit"
    )
    horizon_months = int(float(dbt.config.get("clv_horizon_months")))
    discount_rate = float(dbt.config.get("clv_annual_discount_rate"))
    holdout_days = int(float(dbt.config.get("clv_holdout_days")))
    min_repeat = int(float(dbt.config.get("clv_min_repeat_customers")))
    max_customers = mart_inputs.optional_int(dbt.config.get("clv_fit_max_customers"))
    level = float(dbt.config.get("clv_interval_level"))
    if holdout_days < 1:
        raise ValueError(f"var clv_holdout_days must be >= 1, got {holdout_days}")
    if not 0 < level < 1:
        raise ValueError(f"var clv_interval_level must be in (0, 1), got {level}")
    calibration_end = as_of - pd.Timedelta(days=holdout_days)

    tx = mart_inputs.purchases(dbt.ref("fct_orders"), as_of)
    result = mart_inputs.fit_clv_models(
        tx,
        as_of,
        holdout_days=holdout_days,
        min_repeat_customers=min_repeat,
        max_customers=max_customers,
        level=level,
        horizon_months=horizon_months,
        annual_discount_rate=discount_rate,
    )

    rows: list[dict] = []
    scoring_dates = {"calibration_end_date": as_of, "observation_end_date": None}
    for fit in (result.purchase, result.spend):
        if fit is not None:
            rows += [{**row, **scoring_dates} for row in _fit_rows(fit, "scoring")]
    holdout_dates = {"calibration_end_date": calibration_end, "observation_end_date": as_of}
    comparison = result.comparison
    if comparison is not None:
        scores = comparison.scores.set_index("model")
        for name, fit in comparison.fits.items():
            rows += [{**row, **holdout_dates} for row in _fit_rows(fit, "calibration")]
            diagnostics = comparison.diagnostics[name]
            for bucket in diagnostics.by_frequency.to_dict("records"):
                for metric in ("n_customers", "actual_mean", "predicted_mean", "error_mean"):
                    rows.append(
                        {
                            "fit_name": "calibration",
                            "model": name,
                            "record_type": "holdout_by_frequency",
                            "name": metric,
                            "frequency_bucket": int(bucket["frequency_bucket"]),
                            "value": float(bucket[metric]),
                            **holdout_dates,
                        }
                    )
            overall = {
                **diagnostics.overall,
                **{
                    metric: float(scores.loc[name, metric])
                    for metric in ("log_score", "interval_coverage", "pit_coverage")
                },
            }
            rows += [
                {
                    "fit_name": "calibration",
                    "model": name,
                    "record_type": "holdout_overall",
                    "name": metric,
                    "value": float(value),
                    **holdout_dates,
                }
                for metric, value in overall.items()
            ]
        for record in comparison.scores.to_dict("records"):
            if not record["usable"]:
                rows.append(
                    {
                        "fit_name": "calibration",
                        "model": record["model"],
                        "record_type": "status",
                        "name": "not_usable",
                        "value": 0.0,
                        "detail": record["detail"],
                        **holdout_dates,
                    }
                )
    if result.purchase is not None:
        rows.append(
            {
                "fit_name": "scoring",
                "model": result.purchase.model,
                "record_type": "choice",
                "name": "purchase_model",
                "value": 1.0,
                "detail": result.choice_reason,
                **scoring_dates,
            }
        )
    for part, (state, reason) in result.status.items():
        rows.append(
            {
                "fit_name": "scoring",
                "model": part,
                "record_type": "status",
                "name": state,
                "value": 1.0 if state == "ok" else 0.0,
                "detail": reason,
                **scoring_dates,
            }
        )
    settings = {
        "clv_horizon_months": horizon_months,
        "clv_annual_discount_rate": discount_rate,
        "clv_holdout_days": holdout_days,
        "clv_min_repeat_customers": min_repeat,
        "clv_interval_level": level,
    }
    if max_customers is not None:
        settings["clv_fit_max_customers"] = max_customers
    rows += [
        {
            "fit_name": "scoring",
            "model": "clv",
            "record_type": "setting",
            "name": name,
            "value": float(value),
            **scoring_dates,
        }
        for name, value in settings.items()
    ]

    out = pd.DataFrame(rows).reindex(columns=SCHEMA.names)
    out["frequency_bucket"] = out["frequency_bucket"].astype("Int64")
    out["detail"] = out["detail"].astype("string")
    for col in ("calibration_end_date", "observation_end_date"):
        out[col] = pd.to_datetime(out[col]).dt.date
    return pa.Table.from_pandas(out, schema=SCHEMA, preserve_index=False)
