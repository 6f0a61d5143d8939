"""The report's prediction section: how good the churn scores and CLV models are.

Queries and figures for ``customer360 report`` (issue 17): cumulative gains and
calibration curves of every churn score on the time-based holdout (churn_model_metrics),
the CLV purchase models' holdout fit by calibration frequency bucket (clv_model_fit) and
the per-customer intervals of customer_clv. ``sections.prediction_section`` builds the
report section from them.

Each ``*_figure`` function takes plain DataFrames (what the ``*_QUERY`` strings return)
and returns ``(png bytes, caption)`` or a string saying why there is nothing to draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

CHURN_DECILES_QUERY = """
select score_name, metric, decile, value
from {churn_model_metrics}
where decile is not null and score_name <> 'one_minus_p_alive'
order by score_name, decile
"""

CHURN_SUMMARY_QUERY = """
select score_name, metric, value, detail
from {churn_model_metrics}
where decile is null
"""

CLV_BUCKETS_QUERY = """
select model, name, frequency_bucket, value
from {clv_model_fit}
where fit_name = 'calibration' and record_type = 'holdout_by_frequency'
order by model, frequency_bucket
"""

CLV_OVERALL_QUERY = """
select fit_name, model, record_type, name, value, detail
from {clv_model_fit}
where record_type in ('holdout_overall', 'choice', 'status')
"""

CLV_INTERVALS_QUERY = """
select expected_purchases_365d, purchases_365d_lower, purchases_365d_upper,
       clv_base, clv_lower_base, clv_upper_base
from {customer_clv}
where expected_purchases_365d is not null
"""

SCORE_LABELS = {
    "model": "trained model",
    "clv": "model-free (BG/NBD)",
    "pnbd": "Pareto/NBD",
    "recency": "recency alone",
}


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)


def _status(summary: pd.DataFrame) -> str | None:
    status = summary[summary["metric"] == "status"]
    if status.empty:
        return None
    if float(status["value"].iloc[0]) != 1.0:
        return str(status["detail"].iloc[0])
    return None


def churn_gains_figure(
    deciles: pd.DataFrame, summary: pd.DataFrame, new_figure: Any, png: Any
) -> tuple[bytes, str] | str:
    """Cumulative gains (share of churners reached by targeting the top k deciles) and
    lift per decile for each churn score."""
    reason = _status(summary)
    if reason:
        return reason
    gains = deciles[deciles["metric"] == "gains_share_of_churners"]
    lift = deciles[deciles["metric"] == "gains_lift"]
    if gains.empty:
        return "no churn score evaluated in churn_model_metrics"
    fig = new_figure(height=3.8)
    left, right = fig.subplots(1, 2)
    left.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="random")
    for score, rows in gains.groupby("score_name"):
        share = np.r_[0.0, rows["decile"].to_numpy(float) / 10]
        left.plot(
            share, np.r_[0.0, rows["value"]], marker="o", ms=3, label=SCORE_LABELS.get(score, score)
        )
    left.set_xlabel("share of customers targeted (highest scores first)")
    left.set_ylabel("share of churners reached")
    left.legend(fontsize=7)
    for score, rows in lift.groupby("score_name"):
        right.plot(
            rows["decile"], rows["value"], marker="o", ms=3, label=SCORE_LABELS.get(score, score)
        )
    right.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    right.set_xlabel("top k deciles")
    right.set_ylabel("cumulative lift")
    for ax in (left, right):
        _style(ax)
    recommended = summary[summary["metric"] == "recommended"]
    auc = summary[summary["metric"] == "auc"].set_index("score_name")["value"]
    aucs = ", ".join(
        f"{SCORE_LABELS.get(k, k)} {v:.3f}" for k, v in auc.items() if k in SCORE_LABELS
    )
    caption = f"Holdout AUC: {aucs}."
    if not recommended.empty:
        caption += (
            f" Published as churn_risk: {recommended['score_name'].iloc[0]} "
            f"({recommended['detail'].iloc[0]})."
        )
    return png(fig), caption


def churn_calibration_figure(
    deciles: pd.DataFrame, summary: pd.DataFrame, new_figure: Any, png: Any
) -> tuple[bytes, str] | str:
    """Mean predicted against observed churn rate per score decile, for each score."""
    reason = _status(summary)
    if reason:
        return reason
    table = deciles[
        deciles["metric"].isin(["calibration_mean_predicted", "calibration_observed_rate"])
    ]
    if table.empty:
        return "no churn score evaluated in churn_model_metrics"
    wide = table.pivot_table(index=["score_name", "decile"], columns="metric", values="value")
    fig = new_figure(width=5.5, height=4.2)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfect")
    for score, rows in wide.groupby(level=0):
        ax.plot(
            rows["calibration_mean_predicted"],
            rows["calibration_observed_rate"],
            marker="o",
            ms=3,
            label=SCORE_LABELS.get(score, score),
        )
    ax.set_xlabel("mean predicted churn probability (decile)")
    ax.set_ylabel("observed churn rate")
    ax.legend(fontsize=7)
    _style(ax)
    brier = summary[summary["metric"] == "brier"].set_index("score_name")["value"]
    text = ", ".join(
        f"{SCORE_LABELS.get(k, k)} {v:.4f}" for k, v in brier.items() if k in SCORE_LABELS
    )
    return png(
        fig
    ), f"Calibration on the holdout, ten equal-count deciles per score. Brier: {text}."


def clv_holdout_figure(
    buckets: pd.DataFrame, overall: pd.DataFrame, new_figure: Any, png: Any
) -> tuple[bytes, str] | str:
    """Actual and predicted mean holdout purchases per calibration frequency bucket,
    one line per purchase model, with the aggregate errors in the caption."""
    status = overall[(overall["record_type"] == "status") & (overall["fit_name"] == "scoring")]
    bad = status[status["value"] != 1.0]
    if not bad.empty and bad["model"].eq("purchase").any():
        return "not enough data: " + str(bad[bad["model"] == "purchase"]["detail"].iloc[0])
    if buckets.empty:
        return "no holdout check in clv_model_fit (too little history before the holdout)"
    wide = buckets.pivot_table(index=["model", "frequency_bucket"], columns="name", values="value")
    fig = new_figure(height=3.8)
    ax = fig.subplots()
    first = wide.xs(wide.index.get_level_values(0)[0], level=0)
    ax.plot(first.index, first["actual_mean"], color="black", marker="s", ms=4, label="actual")
    for model, rows in wide.groupby(level=0):
        rows = rows.droplevel(0)
        ax.plot(rows.index, rows["predicted_mean"], marker="o", ms=3, linestyle="--", label=model)
    top = int(first.index.max())
    ax.set_xticks(list(first.index), labels=[str(b) if b < top else f"{b}+" for b in first.index])
    ax.set_xlabel("repeat purchase days in the calibration period")
    ax.set_ylabel("mean purchase days in the holdout")
    ax.legend(fontsize=7)
    _style(ax)
    ov = overall[overall["record_type"] == "holdout_overall"].pivot_table(
        index="model", columns="name", values="value"
    )
    parts = [
        f"{m}: total error {r['relative_error_total']:+.1%}, interval coverage "
        f"{r.get('interval_coverage', np.nan):.0%} (PIT {r.get('pit_coverage', np.nan):.0%})"
        for m, r in ov.iterrows()
    ]
    choice = overall[overall["record_type"] == "choice"]
    chosen = (
        f" Chosen: {choice['model'].iloc[0]} ({choice['detail'].iloc[0]})." if len(choice) else ""
    )
    return png(fig), "; ".join(parts) + "." + chosen


def clv_intervals_figure(
    customers: pd.DataFrame, new_figure: Any, png: Any
) -> tuple[bytes, str] | str:
    """Expected purchases in the next 365 days with their interval, for 40 customers
    spread over the range of expectations (every 2.5th percentile)."""
    if customers.empty:
        return "no customer with a prediction in customer_clv"
    ranked = customers.sort_values(
        ["expected_purchases_365d", "purchases_365d_lower", "purchases_365d_upper"], kind="stable"
    ).reset_index(drop=True)
    picks = np.unique(np.linspace(0, len(ranked) - 1, 40).round().astype(int))
    shown = ranked.iloc[picks]
    fig = new_figure(height=3.6)
    ax = fig.subplots()
    x = np.arange(len(shown))
    ax.vlines(
        x,
        shown["purchases_365d_lower"],
        shown["purchases_365d_upper"],
        color="#9467bd",
        linewidth=3,
        alpha=0.6,
        label="80% interval",
    )
    ax.plot(x, shown["expected_purchases_365d"], "o", color="black", ms=3, label="expected")
    ax.set_xticks([])
    ax.set_xlabel("customers, ordered by expected purchases (40 quantiles)")
    ax.set_ylabel("purchase days, next 365 days")
    ax.legend(fontsize=7)
    _style(ax)
    zero = float((customers["purchases_365d_upper"] == 0).mean())
    width = customers["purchases_365d_upper"] - customers["purchases_365d_lower"]
    caption = (
        f"{len(customers):,} buyers; median interval width {width.median():.0f} purchase days, "
        f"{zero:.0%} with the interval [0, 0] (most likely no purchase). The interval is the "
        "10%-90% quantile range of the purchase model's posterior predictive distribution "
        "and need not contain the expectation of a skewed count."
    )
    return png(fig), caption
