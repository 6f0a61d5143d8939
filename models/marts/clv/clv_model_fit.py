"""clv_model_fit: the CLV models' fit and how well they predict, as one tidy (long) table.

Two fits of customer360.clv on the same purchases as customer_clv (fct_orders rows with
is_purchase of identified customers, net_revenue_base, one purchase per customer and day):

* fit_name 'scoring': BG/NBD and Gamma-Gamma fitted on everything up to as_of (the fit
  behind customer_clv's predictions);
* fit_name 'calibration': BG/NBD fitted on the purchases up to as_of - clv_holdout_days,
  whose predictions for the holdout days (calibration end, as_of] are compared with what
  the calibration customers actually bought, by calibration frequency (0..7+) and overall.

record_type: parameter (r, alpha, a, b; p, q, gamma), statistic (log_likelihood,
n_customers, is_converged 1/0, iterations, Gamma-Gamma corr_frequency_monetary and
n_excluded_nonpositive), holdout_by_frequency (n_customers, actual_mean, predicted_mean,
error_mean per frequency_bucket), holdout_overall (actual_total, predicted_total,
relative_error_total, mae_per_customer, rmse_per_customer, n_customers) and setting (the
vars used).
"""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import pyarrow as pa

from customer360 import clv, frames, mart_inputs

SCHEMA = pa.schema(
    [
        ("fit_name", pa.string()),
        ("model", pa.string()),
        ("record_type", pa.string()),
        ("name", pa.string()),
        ("frequency_bucket", pa.int64()),
        ("value", pa.float64()),
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
    dbt = frames.portable(dbt, session)  # DuckDB relations or Spark DataFrames alike
    as_of = mart_inputs.as_of_day(
        dbt.config.get("clv_churn_as_of_date"), dbt.ref("fct_touchpoints"), "clv_model_fit"
    )
    horizon_months = int(float(dbt.config.get("clv_horizon_months")))
    discount_rate = float(dbt.config.get("clv_annual_discount_rate"))
    holdout_days = int(float(dbt.config.get("clv_holdout_days")))
    if holdout_days < 1:
        raise ValueError(f"var clv_holdout_days must be >= 1, got {holdout_days}")
    calibration_end = as_of - pd.Timedelta(days=holdout_days)

    tx = mart_inputs.purchases(dbt.ref("fct_orders"), as_of)

    # the scoring fit (same data and calls as customer_clv, so the same estimates)
    summary = clv.summarise_transactions(tx, as_of)
    scoring = [clv.fit_bgnbd(summary), clv.fit_gamma_gamma(summary, exclude_nonpositive=True)]
    rows = [
        {**row, "calibration_end_date": as_of, "observation_end_date": None}
        for fit in scoring
        for row in _fit_rows(fit, "scoring")
    ]

    # calibration fit and holdout check
    holdout = clv.summarise_calibration_holdout(tx, calibration_end, as_of)
    if len(holdout) == 0:
        raise ValueError(
            f"clv_model_fit: no customer bought on or before the calibration end "
            f"{calibration_end.date()} (as_of - var clv_holdout_days = {holdout_days})"
        )
    calibration = clv.fit_bgnbd(holdout)
    diagnostics = clv.holdout_diagnostics(calibration.params, holdout)
    dates = {"calibration_end_date": calibration_end, "observation_end_date": as_of}
    rows += [{**row, **dates} for row in _fit_rows(calibration, "calibration")]
    for bucket in diagnostics.by_frequency.to_dict("records"):
        for name in ("n_customers", "actual_mean", "predicted_mean", "error_mean"):
            rows.append(
                {
                    "fit_name": "calibration",
                    "model": "bgnbd",
                    "record_type": "holdout_by_frequency",
                    "name": name,
                    "frequency_bucket": int(bucket["frequency_bucket"]),
                    "value": float(bucket[name]),
                    **dates,
                }
            )
    rows += [
        {
            "fit_name": "calibration",
            "model": "bgnbd",
            "record_type": "holdout_overall",
            "name": name,
            "value": float(value),
            **dates,
        }
        for name, value in diagnostics.overall.items()
    ]

    settings = {
        "clv_horizon_months": horizon_months,
        "clv_annual_discount_rate": discount_rate,
        "clv_holdout_days": holdout_days,
    }
    rows += [
        {
            "fit_name": "scoring",
            "model": "clv",
            "record_type": "setting",
            "name": name,
            "value": float(value),
            "calibration_end_date": as_of,
            "observation_end_date": None,
        }
        for name, value in settings.items()
    ]

    out = pd.DataFrame(rows).reindex(columns=SCHEMA.names)
    out["frequency_bucket"] = out["frequency_bucket"].astype("Int64")
    for col in ("calibration_end_date", "observation_end_date"):
        out[col] = pd.to_datetime(out[col]).dt.date
    return frames.output(session, pa.Table.from_pandas(out, schema=SCHEMA, preserve_index=False))
