"""Inputs shared by the CLV and churn marts (the dbt Python models under models/marts/clv
and models/marts/churn): config values, the as-of day, and the purchases and engagement
events they read from fct_orders and fct_touchpoints. One definition, so every one of
those marts scores exactly the same data.

The models pass in their `dbt.ref(...)` relations and `dbt.config.get(...)` values: dbt
finds a Python model's dependencies and config by reading the model file itself, so those
calls must stay there."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from customer360 import clv


def is_set(value: object) -> bool:
    """A dbt var passed through model config: unset, blank, 'none' and 'null' mean absent."""
    return value is not None and str(value).strip().lower() not in ("", "none", "null")


def optional_int(value: object) -> int | None:
    """An integer var that may be unset (vars arrive as strings or floats)."""
    return int(float(str(value))) if is_set(value) else None


def optional_day(value: object, what: str) -> pd.Timestamp | None:
    """A date var that may be unset, as a day (`what` names it in errors)."""
    return clv.as_day(str(value), what) if is_set(value) else None


def as_of_day(configured: object, touchpoints: Any, model_name: str) -> pd.Timestamp:
    """The day the marts look from: var clv_churn_as_of_date (`configured`), else the day
    of the latest touchpoint in fct_touchpoints (`touchpoints`, its relation), else (no
    touchpoints at all, e.g. a CRM-only export) today in UTC: there is nothing to score,
    and the marts record "not enough data" (`model_name` is kept for callers' messages)."""
    day = optional_day(configured, "var clv_churn_as_of_date")
    if day is not None:
        return day
    latest = touchpoints.aggregate("max(occurred_at)").fetchall()[0][0]
    if latest is None:
        return pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
    return clv.as_day(latest, "max(fct_touchpoints.occurred_at)")


def purchases(orders: Any, as_of: pd.Timestamp) -> pd.DataFrame:
    """customer_id, date, amount: rows of fct_orders (`orders`, its relation) with
    is_purchase (completed shop orders and POS sales) of identified customers up to the
    as-of day, net revenue in base currency."""
    return (
        orders.filter("customer_id is not null and is_purchase")
        .filter(f"cast(ordered_at as date) <= date '{as_of:%Y-%m-%d}'")
        .project("customer_id, ordered_at as date, cast(net_revenue_base as double) as amount")
        .df()
    )


def buyer_engagement(touchpoints: Any, as_of: pd.Timestamp, buyers: pd.Series) -> pd.DataFrame:
    """customer_id, occurred_at, channel: non-order touchpoints of fct_touchpoints
    (`touchpoints`, its relation) up to the as-of day, of the given buyers only (engagement
    of people who never bought carries no information for a buyer model)."""
    events = (
        touchpoints.filter("customer_id is not null and order_id is null")
        .filter(f"cast(occurred_at as date) <= date '{as_of:%Y-%m-%d}'")
        .project("customer_id, occurred_at, channel")
        .df()
    )
    if events.empty or len(buyers) == 0:
        return events.iloc[0:0]
    # pyarrow's is_in: pandas' isin on Arrow strings builds a Python list of the values
    ids = pa.array(events["customer_id"])
    wanted = pa.array(pd.unique(buyers)).cast(ids.type)
    return events[pc.is_in(ids, value_set=wanted).to_numpy(zero_copy_only=False)]


def fit_clv_models(tx: pd.DataFrame, as_of: pd.Timestamp, **kwargs: Any) -> clv.ClvFits:
    """clv_model_fit's fits (``customer360.clv.fit_clv_models``)."""
    return clv.fit_clv_models(tx, as_of, **kwargs)


def scoring_params(
    fit_table: pd.DataFrame, as_of: pd.Timestamp | None = None
) -> tuple[clv.PurchaseParams | None, clv.GammaGammaParams | None]:
    """The purchase-model and Gamma-Gamma parameters of clv_model_fit's 'scoring' fit
    (``fit_table`` its rows), or None for a part whose status is not ok. customer_clv
    scores with these, so the models are fitted once per build. With ``as_of``, a table
    fitted as of another day is an error naming both days."""
    scoring = fit_table[fit_table["fit_name"] == "scoring"]
    fitted_as_of = pd.to_datetime(scoring["calibration_end_date"]).dropna().unique()
    if as_of is not None and (len(fitted_as_of) != 1 or pd.Timestamp(fitted_as_of[0]) != as_of):
        raise ValueError(
            f"customer_clv: clv_model_fit was fitted as of "
            f"{', '.join(str(pd.Timestamp(d).date()) for d in fitted_as_of) or 'nothing'}, "
            f"customer_clv is built as of {as_of.date()}: build clv_model_fit with the same vars "
            f"(e.g. dbt run --select clv_model_fit customer_clv)"
        )
    status = scoring[scoring["record_type"] == "status"].set_index("model")["name"]
    params = scoring[scoring["record_type"] == "parameter"]
    purchase = spend = None
    if status.get("purchase") == "ok":
        chosen = scoring[scoring["record_type"] == "choice"]["model"].iloc[0]
        values = params[params["model"] == chosen].set_index("name")["value"]
        purchase = clv.params_from_mapping(chosen, values)
    if status.get("spend") == "ok":
        values = params[params["model"] == "gamma_gamma"].set_index("name")["value"]
        spend = clv.GammaGammaParams(values["p"], values["q"], values["gamma"])
    return purchase, spend


def churn_choice(metrics: pd.DataFrame) -> tuple[str | None, str]:
    """(recommended score, learner) from churn_model_metrics' rows; (None, 'hgb') when it
    recorded not_enough_data (customer_churn then publishes the first score it can
    compute, see ``customer360.churn.churn_scores``)."""
    status = metrics[metrics["metric"] == "status"]
    if status.empty or float(status["value"].iloc[0]) != 1.0:
        return None, "hgb"
    recommended = metrics[metrics["metric"] == "recommended"]["score_name"].iloc[0]
    learner = metrics[metrics["metric"] == "learner"]["detail"].iloc[0]
    return str(recommended), str(learner)
