"""Churn: RFM scores and segments, a leakage-free churn label, a trained churn-risk score,
a model-free score from the CLV model, and the metrics that compare them.

All functions take plain DataFrames so that the CLI, the tests and a dbt Python model can
call them:

* transactions: one row per purchase with a customer id, a date or timestamp and an
  amount (column names are arguments; defaults ``customer_id``, ``date``, ``amount``);
* engagement events (optional): one row per interaction with a customer id, a timestamp
  and optionally a channel (``web``, ``app``, ``email``, ``support`` ...).

Time is handled in calendar days. A **cutoff** is a day: everything on or before it is
the past (features), the ``window_days`` days after it are the future (label). Purchases on
one day collapse into one purchase day (as in ``customer360.clv``).

**Churn label**: a customer with at least one purchase on or before the cutoff is
*churned* if they make no purchase in ``(cutoff, cutoff + window_days]``. Features are
computed from data on or before the cutoff only (``features_as_of`` filters first, then
aggregates), so the label window cannot leak into them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from customer360 import clv
from customer360.clv import DateLike

# ----------------------------------------------------------------------------- RFM

#: Segment of each (recency score, frequency score) cell; rows are r = 5..1, columns f = 1..5.
#: A variant of the widely used RFM grid, with r = 1, f <= 2 split off as "lost".
RFM_SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    4: ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),
    1: ("lost", "lost", "at_risk", "at_risk", "cannot_lose"),
}

RFM_SEGMENTS: tuple[str, ...] = tuple(
    dict.fromkeys(s for row in RFM_SEGMENT_GRID.values() for s in row)
)


def quintile_score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Score 1-5: ``1 + floor(5 * share of customers with a strictly worse value)``.

    Ties always get the same score and the worst value always scores 1 (plain quintile
    cuts would split the many customers with one purchase across scores arbitrarily).
    """
    if len(values) == 0:
        return pd.Series([], dtype="int64", index=values.index)
    oriented = values if higher_is_better else -values
    worse = oriented.rank(method="min") - 1  # customers strictly worse than this one
    return (1 + np.floor(5 * worse / len(values))).clip(1, 5).astype("int64")


def rfm_segment(r_score: pd.Series, f_score: pd.Series) -> pd.Series:
    """Named segment from the recency and frequency scores (see ``RFM_SEGMENT_GRID``)."""
    names = [RFM_SEGMENT_GRID[int(r)][int(f) - 1] for r, f in zip(r_score, f_score, strict=True)]
    return pd.Series(names, index=r_score.index, dtype="string")


def rfm_table(
    tx: pd.DataFrame,
    as_of: DateLike,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """RFM values, scores and segment as of a day, from purchases on or before it.

    Columns (indexed by ``customer_id``): ``recency_days`` (days since the last purchase
    day), ``frequency`` (purchase days), ``monetary`` (total amount), ``r_score``,
    ``f_score``, ``m_score`` (1-5, see ``quintile_score``; recent is better), ``rfm_score``
    (e.g. "543") and ``rfm_segment``.
    """
    days = _days_until(tx, as_of, customer_col, date_col, amount_col)
    end = clv.as_day(as_of, "as_of")
    grouped = days.groupby("customer_id")
    out = pd.DataFrame(
        {
            "recency_days": (end - grouped["day"].max()).dt.days,
            "frequency": grouped["day"].size(),
            "monetary": grouped["amount"].sum(),
        }
    )
    out["r_score"] = quintile_score(out["recency_days"], higher_is_better=False)
    out["f_score"] = quintile_score(out["frequency"])
    out["m_score"] = quintile_score(out["monetary"])
    out["rfm_score"] = (
        out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    )
    out["rfm_segment"] = rfm_segment(out["r_score"], out["f_score"])
    out.index.name = "customer_id"
    return out


# ----------------------------------------------------------------------------- label


def churn_labels(
    tx: pd.DataFrame,
    cutoff: DateLike,
    window_days: int,
    *,
    data_end: DateLike | None = None,
    active_within_days: int | None = None,
    customer_col: str = "customer_id",
    date_col: str = "date",
) -> pd.Series:
    """``churned`` (bool) per customer with a purchase on or before ``cutoff``: True when
    there is no purchase in ``(cutoff, cutoff + window_days]``.

    ``active_within_days`` restricts the population to customers with a purchase in the
    last that many days up to the cutoff (long-lapsed customers are easy to call churned
    and inflate AUC); ``None`` keeps everybody who ever bought.

    ``data_end`` is the last day the transactions cover (default: the last purchase day in
    ``tx``). A window that ends after it cannot be observed and raises ``ValueError``
    rather than labelling everybody as churned.
    """
    if window_days < 1:
        raise ValueError(f"window_days must be >= 1, got {window_days}")
    days = clv.purchase_days(tx, customer_col=customer_col, date_col=date_col, amount_col=None)
    start = clv.as_day(cutoff, "cutoff")
    window_end = start + pd.Timedelta(days=window_days)
    last = clv.as_day(data_end, "data_end") if data_end is not None else days["day"].max()
    if window_end > last:
        raise ValueError(
            f"label window {start.date()} + {window_days} days ends {window_end.date()}, "
            f"after the end of the transactions ({last.date()}): the label is not observable"
        )
    past = days["day"] <= start
    if active_within_days is not None:
        past &= days["day"] > start - pd.Timedelta(days=active_within_days)
    population = days.loc[past, "customer_id"].unique()
    in_window = days[(days["day"] > start) & (days["day"] <= window_end)]
    bought = pd.Index(in_window["customer_id"].unique())
    labels = pd.Series(~pd.Index(population).isin(bought), index=population, name="churned")
    labels.index.name = "customer_id"
    return labels.sort_index()


# ----------------------------------------------------------------------------- features


def features_as_of(
    tx: pd.DataFrame,
    cutoff: DateLike,
    events: pd.DataFrame | None = None,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    event_customer_col: str = "customer_id",
    event_time_col: str = "occurred_at",
    event_channel_col: str | None = "channel",
) -> pd.DataFrame:
    """Per-customer features from data on or before ``cutoff`` only (no leakage).

    One row per customer with a purchase on or before the cutoff. Purchase features:
    ``recency_days``, ``frequency``, ``monetary`` (total), ``monetary_mean``,
    ``tenure_days`` (since the first purchase), ``purchases_30d``/``90d``/``365d``,
    ``spend_90d``, ``mean_gap_days`` (mean days between purchase days; NaN with one),
    ``recency_to_gap`` (recency_days / mean_gap_days), ``r_score``, ``f_score``,
    ``m_score``. Engagement features (when ``events`` is given): ``events_total``,
    ``events_30d``, ``events_90d``, ``days_since_event`` (NaN without any) and
    ``events_90d_<channel>`` per channel seen before the cutoff.
    """
    end = clv.as_day(cutoff, "cutoff")
    days = _days_until(tx, end, customer_col, date_col, amount_col)
    grouped = days.groupby("customer_id")
    first = grouped["day"].min()
    last = grouped["day"].max()
    n_days = grouped["day"].size()
    age = (end - days["day"]).dt.days
    out = pd.DataFrame(
        {
            "recency_days": (end - last).dt.days.astype(float),
            "frequency": n_days.astype(float),
            "monetary": grouped["amount"].sum(),
            "tenure_days": (end - first).dt.days.astype(float),
        }
    )
    out["monetary_mean"] = out["monetary"] / out["frequency"]
    for window in (30, 90, 365):
        recent = days[age < window].groupby("customer_id")["day"].size()
        out[f"purchases_{window}d"] = recent.reindex(out.index).fillna(0).astype(float)
    out["spend_90d"] = (
        days[age < 90].groupby("customer_id")["amount"].sum().reindex(out.index).fillna(0.0)
    )
    span = (last - first).dt.days.astype(float)
    out["mean_gap_days"] = (span / (n_days - 1)).where(n_days > 1)
    out["recency_to_gap"] = out["recency_days"] / out["mean_gap_days"]
    out["r_score"] = quintile_score(out["recency_days"], higher_is_better=False).astype(float)
    out["f_score"] = quintile_score(out["frequency"]).astype(float)
    out["m_score"] = quintile_score(out["monetary"]).astype(float)
    if events is not None:
        out = out.join(
            _engagement_features(
                events, end, out.index, event_customer_col, event_time_col, event_channel_col
            )
        )
    out.index.name = "customer_id"
    return out.sort_index()


def _days_until(
    tx: pd.DataFrame, end: DateLike, customer_col: str, date_col: str, amount_col: str
) -> pd.DataFrame:
    days = clv.purchase_days(
        tx, customer_col=customer_col, date_col=date_col, amount_col=amount_col
    )
    return days[days["day"] <= clv.as_day(end, "cutoff")]


def _engagement_features(
    events: pd.DataFrame,
    end: pd.Timestamp,
    customers: pd.Index,
    customer_col: str,
    time_col: str,
    channel_col: str | None,
) -> pd.DataFrame:
    needed = [customer_col, time_col] + ([channel_col] if channel_col else [])
    missing = [c for c in needed if c not in events.columns]
    if missing:
        raise ValueError(f"events: missing column(s) {missing}; has {list(events.columns)}")
    day = clv.to_day(events[time_col], f"events.{time_col}")
    frame = pd.DataFrame({"customer_id": events[customer_col].to_numpy(), "day": day.to_numpy()})
    if channel_col:
        frame["channel"] = events[channel_col].astype("string").fillna("unknown").to_numpy()
    frame = frame[frame["customer_id"].notna() & (frame["day"] <= end)]
    if len(frame) and len(customers) and not frame["customer_id"].isin(customers).any():
        raise ValueError(
            f"events: column {customer_col!r} shares no id with the transactions' customers "
            f"(dtypes {frame['customer_id'].dtype} vs {customers.dtype}): wrong key?"
        )
    age = (end - frame["day"]).dt.days
    by = frame.groupby("customer_id")
    out = pd.DataFrame(index=customers)
    out["events_total"] = by.size().reindex(customers).fillna(0).astype(float)
    for window in (30, 90):
        out[f"events_{window}d"] = (
            frame[age < window].groupby("customer_id").size().reindex(customers).fillna(0)
        ).astype(float)
    out["days_since_event"] = (end - by["day"].max()).dt.days.reindex(customers).astype(float)
    if channel_col:
        recent = frame[age < 90]
        for channel in sorted(frame["channel"].unique()):
            counts = recent[recent["channel"] == channel].groupby("customer_id").size()
            out[f"events_90d_{channel}"] = counts.reindex(customers).fillna(0).astype(float)
    return out


# ----------------------------------------------------------------------------- scores


@dataclass(frozen=True)
class ChurnModel:
    """A fitted classifier and the feature columns it was trained on (in order)."""

    estimator: HistGradientBoostingClassifier
    feature_names: tuple[str, ...]
    train_cutoff: pd.Timestamp
    window_days: int
    n_train: int
    train_churn_rate: float


def train_churn_model(
    features: pd.DataFrame,
    labels: pd.Series,
    *,
    train_cutoff: DateLike,
    window_days: int,
    random_state: int = 0,
) -> ChurnModel:
    """Fit a histogram gradient-boosting classifier (deterministic ``random_state``) of
    ``churned`` on the features; rows are matched by customer id."""
    data = features.join(labels.rename("churned"), how="inner")
    if len(data) != len(features) or len(data) != len(labels):
        raise ValueError(
            f"features ({len(features)} customers) and labels ({len(labels)}) "
            f"do not cover the same customers ({len(data)} in common)"
        )
    if data["churned"].nunique() < 2:
        raise ValueError("labels: only one class present; cannot train a churn model")
    names = tuple(features.columns)
    estimator = HistGradientBoostingClassifier(
        learning_rate=0.05,
        max_iter=300,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=True,
        validation_fraction=0.15,
        random_state=random_state,
    )
    # one OpenMP thread: small data, and no slow-down when other jobs share the cores
    with threadpool_limits(limits=1, user_api="openmp"):
        estimator.fit(data[list(names)].to_numpy(float), data["churned"].astype(int).to_numpy())
    return ChurnModel(
        estimator,
        names,
        clv.as_day(train_cutoff, "train_cutoff"),
        window_days,
        len(data),
        float(data["churned"].mean()),
    )


def predict_churn(model: ChurnModel, features: pd.DataFrame) -> pd.Series:
    """Churn probability per customer. Feature columns absent from ``features`` (e.g. a
    channel not seen before this cutoff) are 0; extra columns are ignored."""
    aligned = features.reindex(columns=list(model.feature_names), fill_value=0.0)
    with threadpool_limits(limits=1, user_api="openmp"):
        proba = model.estimator.predict_proba(aligned.to_numpy(float))[:, 1]
    return pd.Series(proba, index=features.index, name="churn_score_model")


def clv_churn_score(
    tx: pd.DataFrame,
    cutoff: DateLike,
    horizon_days: int,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """The model-free churn score from the BG/NBD model fitted on data up to ``cutoff``:
    ``churn_score_clv = 1 - P(at least one purchase in the next horizon_days)``.

    BG/NBD P(alive) is exactly 1 for every customer without a repeat purchase, so it is
    returned for reference (``p_alive``) but is not the score.
    """
    summary = clv.summarise_transactions(
        tx, cutoff, customer_col=customer_col, date_col=date_col, amount_col=amount_col
    )
    fit = clv.fit_bgnbd(summary)
    args = (summary["frequency"], summary["recency"], summary["T"])
    p_buy = clv.bgnbd_probability_purchase(fit.params, horizon_days / clv.DAYS_PER_WEEK, *args)
    out = pd.DataFrame(
        {
            "p_alive": clv.bgnbd_probability_alive(fit.params, *args),
            "p_purchase": p_buy,
            "churn_score_clv": 1.0 - p_buy,
        },
        index=summary.index,
    )
    out.index.name = "customer_id"
    return out


# ----------------------------------------------------------------------------- metrics


def roc_auc(labels: pd.Series | np.ndarray, scores: pd.Series | np.ndarray) -> float:
    """Area under the ROC curve (ties count one half)."""
    y = np.asarray(labels, dtype=int)
    if len(np.unique(y)) < 2:
        raise ValueError("AUC needs both classes among the labels")
    return float(roc_auc_score(y, np.asarray(scores, dtype=float)))


def brier_score(labels: pd.Series | np.ndarray, probabilities: pd.Series | np.ndarray) -> float:
    """Mean squared difference between predicted probability and outcome (0/1)."""
    y = np.asarray(labels, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if ((p < 0) | (p > 1)).any():
        raise ValueError("Brier score needs probabilities in [0, 1]")
    return float(np.mean((p - y) ** 2))


def top_decile_lift(
    labels: pd.Series | np.ndarray, scores: pd.Series | np.ndarray, fraction: float = 0.1
) -> float:
    """Churn rate among the ``fraction`` highest scores divided by the overall rate.

    The top group has ``ceil(fraction * n)`` customers; customers tied at the boundary
    score count with their mean label (the expectation under random tie-breaking), so a
    score that ties everyone has lift 1.
    """
    y = np.asarray(labels, dtype=float)
    s = np.asarray(scores, dtype=float)
    n_top = math.ceil(fraction * len(y))
    if n_top == 0 or y.mean() == 0:
        raise ValueError("top-decile lift needs customers and at least one positive label")
    threshold = np.sort(s)[::-1][n_top - 1]
    above = s > threshold
    tied = s == threshold
    positives = y[above].sum() + (n_top - above.sum()) * y[tied].mean()
    return float(positives / n_top / y.mean())


def calibration_table(
    labels: pd.Series | np.ndarray, probabilities: pd.Series | np.ndarray, bins: int = 10
) -> pd.DataFrame:
    """Equal-count bins of predicted probability (1 = lowest): ``n``, ``mean_predicted``,
    ``observed_rate``. Ties are split in input order to keep the bins equal in size."""
    p = pd.Series(np.asarray(probabilities, dtype=float))
    y = pd.Series(np.asarray(labels, dtype=float))
    order = p.rank(method="first")
    decile = np.ceil(order * bins / len(p)).astype(int).clip(1, bins)
    frame = pd.DataFrame({"decile": decile, "p": p, "y": y})
    table = (
        frame.groupby("decile")
        .agg(n=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
        .reset_index()
    )
    return table


def evaluate_scores(
    labels: pd.Series, scores: dict[str, pd.Series], bins: int = 10
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Metrics (one row per score: ``auc``, ``brier``, ``top_decile_lift``, ``n``,
    ``churn_rate``) and calibration tables (``score`` column) for probability scores
    aligned on the labels' customer ids."""
    metric_rows = []
    tables = []
    y = labels.astype(int)
    for name, score in scores.items():
        aligned = score.reindex(y.index)
        if aligned.isna().any():
            raise ValueError(f"score {name!r}: no value for {int(aligned.isna().sum())} customers")
        metric_rows.append(
            {
                "score": name,
                "auc": roc_auc(y, aligned),
                "brier": brier_score(y, aligned),
                "top_decile_lift": top_decile_lift(y, aligned),
                "n": len(y),
                "churn_rate": float(y.mean()),
            }
        )
        tables.append(calibration_table(y, aligned, bins).assign(score=name))
    return pd.DataFrame(metric_rows), pd.concat(tables, ignore_index=True)


# ----------------------------------------------------------------------------- backtest


@dataclass(frozen=True)
class ChurnBacktest:
    model: ChurnModel
    metrics: pd.DataFrame  # one row per score
    calibration: pd.DataFrame  # deciles per score
    predictions: pd.DataFrame  # test customers: churned, churn scores model/clv, p_alive


def churn_backtest(
    tx: pd.DataFrame,
    train_cutoff: DateLike,
    test_cutoff: DateLike,
    window_days: int,
    events: pd.DataFrame | None = None,
    *,
    data_end: DateLike | None = None,
    active_within_days: int | None = None,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    random_state: int = 0,
) -> ChurnBacktest:
    """Time-based holdout: train on features at ``train_cutoff`` with labels from the window
    after it, evaluate on ``test_cutoff`` (its window must be observable). The training
    window must end by ``test_cutoff`` so that nothing after the test cutoff is used.
    ``active_within_days`` restricts both populations (see ``churn_labels``)."""
    c1 = clv.as_day(train_cutoff, "train_cutoff")
    c2 = clv.as_day(test_cutoff, "test_cutoff")
    if c1 + pd.Timedelta(days=window_days) > c2:
        raise ValueError(
            f"train_cutoff {c1.date()} + {window_days} days overlaps test_cutoff {c2.date()}"
        )
    cols = {"customer_col": customer_col, "date_col": date_col}
    feature_args = {**cols, "amount_col": amount_col}
    active = {"active_within_days": active_within_days}
    y_train = churn_labels(tx, c1, window_days, data_end=c2, **active, **cols)
    x_train = features_as_of(tx, c1, events, **feature_args).loc[y_train.index]
    model = train_churn_model(
        x_train, y_train, train_cutoff=c1, window_days=window_days, random_state=random_state
    )
    y_test = churn_labels(tx, c2, window_days, data_end=data_end, **active, **cols)
    x_test = features_as_of(tx, c2, events, **feature_args).loc[y_test.index]
    model_free = clv_churn_score(tx, c2, window_days, **feature_args).reindex(y_test.index)
    predictions = pd.DataFrame(
        {
            "churned": y_test,
            "churn_score_model": predict_churn(model, x_test),
            "churn_score_clv": model_free["churn_score_clv"],
            "p_alive": model_free["p_alive"],  # for reference: 1 - p_alive is no score
        }
    )
    metrics, calibration = evaluate_scores(
        y_test,
        {
            "model": predictions["churn_score_model"],
            "clv": predictions["churn_score_clv"],
        },
    )
    return ChurnBacktest(model, metrics, calibration, predictions)


def churn_scores(
    tx: pd.DataFrame,
    as_of: DateLike,
    window_days: int,
    events: pd.DataFrame | None = None,
    *,
    cutoff: DateLike | None = None,
    active_within_days: int | None = None,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    random_state: int = 0,
) -> pd.DataFrame:
    """Current churn view per customer (what the ``customer_churn`` mart needs): RFM as of
    ``as_of``, the label of the last fully observed window (features at
    ``as_of - window_days``; null for customers who first bought after that), the model
    score (trained on that last observed window, applied to today's features) and the
    model-free CLV score for the next ``window_days``. ``active_within_days`` restricts the
    training population (see ``churn_labels``); every customer is scored.

    ``cutoff`` moves the label/training cutoff earlier than ``as_of - window_days`` (its
    window must end on or before ``as_of``, else ``ValueError``)."""
    end = clv.as_day(as_of, "as_of")
    past = end - pd.Timedelta(days=window_days)
    if cutoff is not None:
        chosen = clv.as_day(cutoff, "cutoff")
        if chosen > past:
            raise ValueError(
                f"cutoff {chosen.date()} + {window_days} days ends after as_of {end.date()}: "
                f"the label window is not observable (latest possible cutoff {past.date()})"
            )
        past = chosen
    cols = {"customer_col": customer_col, "date_col": date_col}
    feature_args = {**cols, "amount_col": amount_col}
    y_past = churn_labels(
        tx, past, window_days, data_end=end, active_within_days=active_within_days, **cols
    )
    model = train_churn_model(
        features_as_of(tx, past, events, **feature_args).loc[y_past.index],
        y_past,
        train_cutoff=past,
        window_days=window_days,
        random_state=random_state,
    )
    out = rfm_table(tx, end, **feature_args)
    everyone = churn_labels(tx, past, window_days, data_end=end, **cols)
    out["churned_last_window"] = everyone.reindex(out.index).astype("boolean")
    out["churn_score_model"] = predict_churn(model, features_as_of(tx, end, events, **feature_args))
    out = out.join(clv_churn_score(tx, end, window_days, **feature_args))
    return out
