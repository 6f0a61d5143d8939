"""The report's prediction figures (customer360.report.prediction) on the tables the marts
write, computed here by the same library calls on a small synthetic world (no build): each
figure decodes as a PNG, the captions carry the numbers, and a not-enough-data status is
said instead of drawn. The full report over a real build is tested in test_report.py."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from test_churn import synthetic_transactions

from customer360 import churn, clv
from customer360.report import figures
from customer360.report import prediction as report_prediction


@pytest.fixture(scope="module")
def backtest() -> churn.ChurnBacktest:
    tx, ev = synthetic_transactions(n=800, seed=2)
    return churn.churn_backtest(tx, window_days=90, events=ev, data_end="2024-12-31")


def _metric_tables(result: churn.ChurnBacktest) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The decile and summary rows of churn_model_metrics, as the mart writes them."""
    deciles = []
    for record in result.calibration.to_dict("records"):
        for column, metric in (
            ("mean_predicted", "calibration_mean_predicted"),
            ("observed_rate", "calibration_observed_rate"),
            ("share_of_churners", "gains_share_of_churners"),
            ("lift", "gains_lift"),
        ):
            deciles.append(
                {
                    "score_name": record["score"],
                    "metric": metric,
                    "decile": record["decile"],
                    "value": record[column],
                }
            )
    summary = [
        {"score_name": r["score"], "metric": m, "value": r[m], "detail": None}
        for r in result.metrics.to_dict("records")
        for m in ("auc", "brier")
    ]
    summary += [
        {
            "score_name": result.recommended,
            "metric": "recommended",
            "value": 1.0,
            "detail": result.reason,
        },
        {"score_name": "all", "metric": "status", "value": 1.0, "detail": "ok"},
    ]
    return pd.DataFrame(deciles), pd.DataFrame(summary)


def _decodes(png: bytes) -> None:
    image = imread(io.BytesIO(png), format="png")
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0.01  # not blank


def test_churn_figures(backtest: churn.ChurnBacktest) -> None:
    deciles, summary = _metric_tables(backtest)
    out = report_prediction.churn_gains_figure(deciles, summary, figures.new_figure, figures.png)
    assert not isinstance(out, str)
    png, caption = out
    _decodes(png)
    assert f"Published as churn_risk: {backtest.recommended}" in caption
    auc = backtest.metrics.set_index("score").loc["model", "auc"]
    assert f"trained model {auc:.3f}" in caption
    out = report_prediction.churn_calibration_figure(
        deciles, summary, figures.new_figure, figures.png
    )
    assert not isinstance(out, str)
    _decodes(out[0])
    assert "Brier" in out[1]
    failed = pd.DataFrame(
        [{"score_name": "all", "metric": "status", "value": 0.0, "detail": "not_enough_data: x"}]
    )
    assert (
        report_prediction.churn_gains_figure(
            deciles.iloc[:0], failed, figures.new_figure, figures.png
        )
        == "not_enough_data: x"
    )


def test_clv_figures() -> None:
    tx, _ = synthetic_transactions(n=800, seed=4)
    fits = clv.fit_clv_models(tx, "2024-12-31", holdout_days=120)
    assert fits.comparison is not None
    buckets, overall = [], []
    for model, diag in fits.comparison.diagnostics.items():
        for record in diag.by_frequency.to_dict("records"):
            for name in ("actual_mean", "predicted_mean"):
                buckets.append(
                    {
                        "model": model,
                        "name": name,
                        "frequency_bucket": record["frequency_bucket"],
                        "value": record[name],
                    }
                )
        scores = fits.comparison.scores.set_index("model")
        for name, value in {
            **diag.overall,
            "interval_coverage": scores.loc[model, "interval_coverage"],
            "pit_coverage": scores.loc[model, "pit_coverage"],
        }.items():
            overall.append(
                {
                    "fit_name": "calibration",
                    "model": model,
                    "record_type": "holdout_overall",
                    "name": name,
                    "value": value,
                    "detail": None,
                }
            )
    overall.append(
        {
            "fit_name": "scoring",
            "model": fits.purchase.model,
            "record_type": "choice",
            "name": "purchase_model",
            "value": 1.0,
            "detail": fits.choice_reason,
        }
    )
    out = report_prediction.clv_holdout_figure(
        pd.DataFrame(buckets), pd.DataFrame(overall), figures.new_figure, figures.png
    )
    assert not isinstance(out, str)
    _decodes(out[0])
    assert f"Chosen: {fits.purchase.model}" in out[1]
    scored = clv.score_customers(
        clv.summarise_transactions(tx, "2024-12-31"),
        fits.purchase.params,
        fits.spend.params if fits.spend is not None else None,  # the figure needs purchases only
    ).rename(
        columns={"clv": "clv_base", "clv_lower": "clv_lower_base", "clv_upper": "clv_upper_base"}
    )
    out = report_prediction.clv_intervals_figure(scored, figures.new_figure, figures.png)
    assert not isinstance(out, str)
    _decodes(out[0])
    assert f"{len(scored):,} buyers" in out[1]
    assert np.isfinite(scored["purchases_365d_upper"]).all()
